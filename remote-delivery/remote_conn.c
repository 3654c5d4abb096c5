/*
 * remote_conn - one SMTP connection: TCP with deadlines, TLS, replies.
 *
 * The socket is non-blocking and every wait is a poll(2) against a
 * deadline, so a server that stalls, trickles a byte a minute or never
 * finishes a reply costs at most the configured timeout (RFC 5321
 * section 4.5.3.2), never a hung worker. Replies go through the strict
 * reader (remote_reply.c), which bounds lines, line length and text.
 *
 * STARTTLS: bytes the server sent after its 220 and before the handshake
 * cannot have been meant for the TLS session; if any are there the
 * session is ended (CVE-2011-0411 class), and the reader is emptied in
 * any case, so nothing read in plaintext is ever taken as a reply inside
 * TLS. TLS 1.2 is the minimum (set on the context, remote_main.c).
 *
 * Everything sent and received is written to the transcript: ">>> " for
 * commands, "<<< " for reply lines, plain notes for the rest.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "remote.h"
#include "timeutil.h"

void conn_init(struct conn *c, struct xscript *xs)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->xs = xs;
	reply_reader_init(&c->rr);
}

/* deadline - monotonic µs timeout seconds from now */
static int64_t deadline(int64_t timeout)
{
	return timeutil_monotonic() + timeout * 1000000;
}

/* wait_fd - 1 ready, 0 timed out, -1 error */
static int wait_fd(int fd, short events, int64_t until)
{
	struct pollfd p = { fd, events, 0 };
	int64_t left;
	int n;

	for (;;) {
		left = until - timeutil_monotonic();
		if (left <= 0)
			return 0;
		n = poll(&p, 1, (int)(left / 1000 > 60000 ? 60000 :
		    left / 1000 + 1));
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* ssl_wait - wait for what the TLS call that returned ret wants (read
   or write); as wait_fd, or -2 when it wants nothing of the kind (an
   error) */
static int ssl_wait(struct conn *c, int ret, int64_t until, int *e_r)
{
	int e = SSL_get_error(c->ssl, ret);

	if (e_r != NULL)
		*e_r = e;
	if (e == SSL_ERROR_WANT_READ)
		return wait_fd(c->fd, POLLIN, until);
	if (e == SSL_ERROR_WANT_WRITE)
		return wait_fd(c->fd, POLLOUT, until);
	return -2;
}

/* fail - the connection is finished; why goes to err and the transcript */
static int fail(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->broken = 1;
	xs_note(c->xs, "%s", c->err);
	return -1;
}

/* ssl_why - the first OpenSSL error in words */
static const char *ssl_why(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "TLS failure";
	ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

int conn_open(struct conn *c, const struct target *t, int64_t timeout)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int64_t until = deadline(timeout);
	int err = 0, r;
	socklen_t el = sizeof(err);

	memset(&ss, 0, sizeof(ss));
	snprintf(c->host, sizeof(c->host), "%s", t->host);
	addr_text(&t->addr, c->ip, sizeof(c->ip));
	c->port = t->port;
	snprintf(c->relay, sizeof(c->relay), "%s[%s]:%u", t->host, c->ip,
	    t->port);
	c->broken = 0;
	c->tls[0] = '\0';
	if (t->addr.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)t->port);
		memcpy(&s4->sin_addr, t->addr.addr, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)t->port);
		memcpy(&s6->sin6_addr, t->addr.addr, 16);
		sl = sizeof(*s6);
	}
	xs_note(c->xs, "connecting to %s", c->relay);
	c->fd = socket(t->addr.family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return fail(c, "connect to %s: %s", c->relay, strerror(errno));
	r = connect(c->fd, (struct sockaddr *)&ss, sl);
	if (r < 0 && errno != EINPROGRESS)
		return fail(c, "connect to %s: %s", c->relay, strerror(errno));
	if (r < 0) {
		r = wait_fd(c->fd, POLLOUT, until);
		if (r == 0)
			return fail(c, "connect to %s: timed out after %llds",
			    c->relay, (long long)timeout);
		if (r < 0 || getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err,
		    &el) < 0 || err != 0)
			return fail(c, "connect to %s: %s", c->relay,
			    strerror(err ? err : errno));
	}
	r = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &r, sizeof(r));
	xs_note(c->xs, "connected to %s", c->relay);
	return 0;
}

/* io_write - some of buf; > 0 bytes written, -1 with c->err */
static long io_write(struct conn *c, const char *buf, size_t len,
    int64_t until)
{
	char why[256];
	long n;
	int w;

	for (;;) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			n = SSL_write(c->ssl, buf, len > (1u << 30) ?
			    (int)(1u << 30) : (int)len);
			if (n > 0)
				return n;
			if ((w = ssl_wait(c, (int)n, until, NULL)) == -2)
				return fail(c, "lost connection with %s while "
				    "sending: %s", c->relay, ssl_why(why,
				    sizeof(why)));
		} else {
			n = send(c->fd, buf, len, MSG_NOSIGNAL);
			if (n > 0)
				return n;
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return fail(c, "lost connection with %s while "
				    "sending: %s", c->relay, strerror(errno));
			w = wait_fd(c->fd, POLLOUT, until);
		}
		if (w == 0)
			return fail(c, "timed out while sending to %s",
			    c->relay);
		if (w < 0)
			return fail(c, "poll: %s", strerror(errno));
	}
}

/* io_read - > 0 bytes read, 0 end of file, -1 error or time-out */
static long io_read(struct conn *c, char *buf, size_t len, int64_t until,
    int *timedout)
{
	char why[256];
	long n;
	int w, e;

	*timedout = 0;
	for (;;) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			n = SSL_read(c->ssl, buf, (int)len);
			if (n > 0)
				return n;
			w = ssl_wait(c, (int)n, until, &e);
			if (e == SSL_ERROR_ZERO_RETURN || (e ==
			    SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
				return 0;
			if (w == -2) {
				snprintf(c->err, sizeof(c->err), "TLS read "
				    "error from %s: %s", c->relay,
				    ssl_why(why, sizeof(why)));
				return -1;
			}
		} else {
			n = recv(c->fd, buf, len, 0);
			if (n >= 0)
				return n;
			if (errno != EAGAIN && errno != EINTR) {
				snprintf(c->err, sizeof(c->err), "read error "
				    "from %s: %s", c->relay, strerror(errno));
				return -1;
			}
			w = wait_fd(c->fd, POLLIN, until);
		}
		if (w <= 0) {
			*timedout = w == 0;
			snprintf(c->err, sizeof(c->err), "%s",
			    w == 0 ? "timeout" : strerror(errno));
			return -1;
		}
	}
}

int conn_send(struct conn *c, const void *buf, size_t len, int64_t timeout)
{
	int64_t until = deadline(timeout);
	const char *p = buf;
	long n;

	if (c->broken || c->fd < 0)
		return -1;
	while (len > 0) {
		if ((n = io_write(c, p, len, until)) < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int conn_cmd(struct conn *c, const char *line, const char *shown,
    int64_t timeout)
{
	char buf[2048];
	int n = snprintf(buf, sizeof(buf), "%s\r\n", line);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return fail(c, "command too long");
	xs_lines(c->xs, ">>> ", shown ? shown : line, strlen(shown ? shown :
	    line));
	return conn_send(c, buf, (size_t)n, timeout);
}

/* log_reply - the reply's lines as the server sent them */
static void log_reply(struct conn *c, const struct smtp_reply *r)
{
	const char *p = r->text.s ? r->text.s : "", *nl;
	char pre[16];
	size_t i;

	for (i = 0; i < r->nlines; i++) {
		nl = strchr(p, '\n');
		snprintf(pre, sizeof(pre), "<<< %d%c", r->code,
		    i + 1 == r->nlines ? ' ' : '-');
		xs_lines(c->xs, pre, p, nl ? (size_t)(nl - p) : strlen(p));
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

int conn_reply(struct conn *c, struct smtp_reply *r, int64_t timeout)
{
	int64_t until = deadline(timeout);
	const char *why;
	char buf[4096];
	size_t room;
	long n;
	int st, timedout;

	if (c->fd < 0)
		return -1;
	for (;;) {
		st = reply_next(&c->rr, r, &why);
		if (st == 1) {
			log_reply(c, r);
			return 0;
		}
		if (st < 0)
			return fail(c, "malformed reply from %s: %s", c->relay,
			    why);
		room = reply_room(&c->rr);
		if (room == 0)
			return fail(c, "reply from %s too long", c->relay);
		n = io_read(c, buf, room < sizeof(buf) ? room : sizeof(buf),
		    until, &timedout);
		if (n == 0)
			return fail(c, "lost connection with %s: the server "
			    "closed the connection", c->relay);
		if (n < 0 && timedout)
			return fail(c, "timed out after %llds waiting for a "
			    "reply from %s", (long long)timeout, c->relay);
		if (n < 0) {
			char e[sizeof(c->err)];

			snprintf(e, sizeof(e), "%s", c->err);
			return fail(c, "lost connection with %s: %s", c->relay,
			    e);
		}
		if (reply_feed(&c->rr, buf, (size_t)n) < 0)
			return fail(c, "reply from %s too long", c->relay);
	}
}

/* note_peer - the TLS parameters and the certificate in the transcript */
static void note_peer(struct conn *c, int verified)
{
	X509 *cert = SSL_get1_peer_certificate(c->ssl);
	char subj[512] = "(none)", iss[512] = "(none)";
	long vr = SSL_get_verify_result(c->ssl);

	snprintf(c->tls, sizeof(c->tls), "%s %s", SSL_get_version(c->ssl),
	    SSL_get_cipher_name(c->ssl));
	if (cert != NULL) {
		X509_NAME_oneline(X509_get_subject_name(cert), subj,
		    sizeof(subj));
		X509_NAME_oneline(X509_get_issuer_name(cert), iss, sizeof(iss));
		X509_free(cert);
	}
	xs_note(c->xs, "TLS established with %s: %s, cipher %s", c->relay,
	    SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
	xs_note(c->xs, "TLS peer certificate: subject %s, issuer %s", subj,
	    iss);
	xs_note(c->xs, "TLS certificate check: %s%s", vr == X509_V_OK ?
	    "valid" : X509_verify_cert_error_string(vr), verified ?
	    " (required: verify)" : " (not required)");
}

int conn_starttls(struct conn *c, SSL_CTX *ctx, const char *sni,
    const char *verify_host, int64_t timeout)
{
	int64_t until = deadline(timeout);
	char why[256];
	int r, w;
	long vr;

	if (reply_unread(&c->rr) != 0)
		return fail(c, "%s sent data after its reply to STARTTLS (a "
		    "command injection attempt?); not starting TLS", c->relay);
	reply_discard(&c->rr);
	if (ctx == NULL)
		return fail(c, "TLS is not available in this worker");
	if ((c->ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1)
		return fail(c, "TLS set-up failed: %s", ssl_why(why,
		    sizeof(why)));
	if (sni != NULL && sni[0] != '\0')
		SSL_set_tlsext_host_name(c->ssl, sni);
	if (verify_host != NULL) {
		SSL_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
		SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (SSL_set1_host(c->ssl, verify_host) != 1)
			return fail(c, "TLS set-up failed for %s", verify_host);
	}
	for (;;) {
		ERR_clear_error();
		r = SSL_connect(c->ssl);
		if (r == 1)
			break;
		if ((w = ssl_wait(c, r, until, NULL)) == -2) {
			vr = SSL_get_verify_result(c->ssl);
			if (verify_host != NULL && vr != X509_V_OK)
				return fail(c, "TLS handshake with %s failed: "
				    "certificate not valid for %s: %s",
				    c->relay, verify_host,
				    X509_verify_cert_error_string(vr));
			return fail(c, "TLS handshake with %s failed: %s",
			    c->relay, ssl_why(why, sizeof(why)));
		}
		if (w == 0)
			return fail(c, "TLS handshake with %s timed out",
			    c->relay);
		if (w < 0)
			return fail(c, "poll: %s", strerror(errno));
	}
	note_peer(c, verify_host != NULL);
	return 0;
}

int conn_readable(const struct conn *c)
{
	struct pollfd p = { c->fd, POLLIN, 0 };

	if (c->fd < 0)
		return 1;
	if (c->ssl != NULL && SSL_pending(c->ssl) > 0)
		return 1;
	return poll(&p, 1, 0) > 0;
}

void conn_close(struct conn *c)
{
	if (c->ssl != NULL) {
		SSL_set_quiet_shutdown(c->ssl, 1);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->broken = 1;
	reply_reader_release(&c->rr);
	reply_reader_init(&c->rr);
}
