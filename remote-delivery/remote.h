/*
 * remote.h - the parts of postern-remote, the SMTP delivery worker.
 *
 * remote_main.c starts the worker (reads what it needs, chroots, drops
 * to remote_user) and runs its loop: take a job, deliver it, answer,
 * keep the session for the next job. remote_job.c decodes jobs and
 * encodes results. remote_dest.c turns a job's destination into the
 * list of addresses to try (MX, A/AAAA, routes). remote_conn.c is the
 * connection: TCP with deadlines, TLS, reply reading. remote_smtp.c is
 * the SMTP dialogue. remote_xscript.c keeps the transcript.
 */
#ifndef POSTERN_REMOTE_H
#define POSTERN_REMOTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "address.h"
#include "config.h"
#include "dns.h"
#include "remote_proto.h"
#include "remote_reply.h"
#include "strbuf.h"

struct config;
struct map;

/* --- the transcript (remote_xscript.c) --- */

/* The beginning is kept whole up to XS_HEAD bytes; after that only the
   last XS_TAIL bytes are, and the cut is marked. */
#define XS_HEAD (QUEUE_XS_MAX / 2)
#define XS_TAIL (QUEUE_XS_MAX / 2 - 512)
#define QUEUE_XS_MAX (60 * 1024)

struct xscript {
	struct strbuf head;
	struct strbuf tail;	/* grows to 2 * XS_TAIL, then sheds half */
	uint64_t cut;		/* bytes dropped between head and tail */
	int in_tail;
};

void xs_init(struct xscript *x);
void xs_release(struct xscript *x);
void xs_reset(struct xscript *x);
/* xs_note - a timestamped line "HH:MM:SS.mmm WHAT" (made printable) */
void xs_note(struct xscript *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* xs_lines - each line of text (split at '\n') as a timestamped line
   "HH:MM:SS.mmm PREFIX line" */
void xs_lines(struct xscript *x, const char *prefix, const char *text,
    size_t len);
/* xs_finish - the whole transcript into out (reset first) */
void xs_finish(const struct xscript *x, struct strbuf *out);

/* --- the job (remote_job.c) --- */

enum rcpt_state { RS_PENDING, RS_OK, RS_DEFER, RS_FAIL, RS_ACCEPTED,
    RS_RETRY };

struct rrcpt {
	uint32_t idx;
	char addr[ADDRESS_BUF];
	char orcpt[512];
	char notify[40];
	enum rcpt_state state;
	char status[16];
	char text[REMOTE_TEXT_MAX];
	char relay[REMOTE_RELAY_MAX];
};

#define RJOB_8BIT	0x01
#define RJOB_SMTPUTF8	0x02

struct rjob {
	char id[16];
	char sender[ADDRESS_BUF];
	uint64_t size;
	uint64_t wire_size;	/* size plus one CR per line: for SIZE= */
	unsigned flags;
	char ret[8];
	char envid[128];
	char domain[256];
	char nexthop[304];
	char tls[12];
	char dest[REMOTE_DEST_MAX + 1];
	struct rrcpt *rcpts;
	size_t n;
	unsigned conn_use;	/* the connection's use count at this job's
				   first transaction (1: a new connection) */
	char conn_tls[128];	/* that connection's TLS, or "" */
	int fd;			/* the content memfd */
	const char *content;	/* mapped, size bytes */
};

/* job_decode - the frame's attributes and memfd into j (j->fd taken from
   *fd); NULL, or why the job is refused */
const char *rjob_decode(struct rjob *j, const struct attr_list *al, int *fd);
void rjob_release(struct rjob *j);
/* rjob_result - the RESULT record */
void rjob_result(const struct rjob *j, const struct strbuf *xscript,
    int session_open, struct strbuf *out);
/* rcpt_set - a recipient's outcome */
void rcpt_set(struct rrcpt *r, enum rcpt_state st, const char *status,
    const char *relay, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* rjob_pending - recipients not yet final */
size_t rjob_pending(const struct rjob *j);
/* rjob_settle - every pending recipient gets st/status/text */
void rjob_settle(struct rjob *j, enum rcpt_state st, const char *status,
    const char *relay, const char *text);

/* --- destinations (remote_dest.c) --- */

#define DEST_MAX 24		/* addresses tried for one job */

struct target {
	char host[DNS_HOST_MAX + 3];	/* the MX or relay name (for SNI,
					   verify and relay=) */
	struct dns_addr addr;
	unsigned port;
	int literal;			/* host is an address: no SNI */
};

struct destlist {
	struct target v[DEST_MAX];
	size_t n;
	int status;		/* DEST_OK, DEST_TEMP or DEST_PERM */
	char enh[16];		/* for TEMP and PERM */
	char text[REMOTE_TEXT_MAX];
};

enum { DEST_OK, DEST_TEMP, DEST_PERM };

/* dest_build - the addresses for job j, in the order to try them */
void dest_build(struct dns *dns, const struct config *cfg,
    const struct rjob *j, struct destlist *dl, struct xscript *xs);
/* addr_text - an address as text (buf of at least 64 bytes) */
const char *addr_text(const struct dns_addr *a, char *buf, size_t len);

/* --- the connection (remote_conn.c) --- */

struct conn {
	int fd;
	SSL *ssl;
	struct reply_reader rr;
	struct xscript *xs;
	char host[DNS_HOST_MAX + 3];
	char ip[64];
	unsigned port;
	char relay[REMOTE_RELAY_MAX];	/* host[ip]:port */
	char tls[128];			/* "VERSION CIPHER" once up */
	char err[1024];			/* the last failure, in words */
	int broken;			/* no more commands on it */
};

void conn_init(struct conn *c, struct xscript *xs);
/* conn_open - TCP connect within timeout seconds; 0 or -1 (c->err) */
int conn_open(struct conn *c, const struct target *t, int64_t timeout);
/* conn_send - write all of buf; 0 or -1 (c->err, c->broken) */
int conn_send(struct conn *c, const void *buf, size_t len, int64_t timeout);
/* conn_cmd - send one command line (CRLF added), logged in the
   transcript as shown (NULL: as sent) */
int conn_cmd(struct conn *c, const char *line, const char *shown,
    int64_t timeout);
/* conn_reply - the next reply, logged; 0 or -1 (c->err, c->broken) */
int conn_reply(struct conn *c, struct smtp_reply *r, int64_t timeout);
/* conn_starttls - the TLS handshake (after 220 to STARTTLS); verify_host
   non-NULL: the certificate must be valid for it */
int conn_starttls(struct conn *c, SSL_CTX *ctx, const char *sni,
    const char *verify_host, int64_t timeout);
/* conn_readable - the server sent something (or hung up) while idle */
int conn_readable(const struct conn *c);
void conn_close(struct conn *c);

/* --- the SMTP session (remote_smtp.c) --- */

#define EXT_PIPELINING	0x01
#define EXT_8BITMIME	0x02
#define EXT_SMTPUTF8	0x04
#define EXT_DSN		0x08
#define EXT_STARTTLS	0x10
#define EXT_SIZE	0x20
#define EXT_AUTH_PLAIN	0x40
#define EXT_AUTH_LOGIN	0x80
#define EXT_ESMTP	0x100

/* What the worker keeps between jobs. */
struct remote {
	const struct config *cfg;
	struct dns *dns;
	SSL_CTX *tls_ctx;
	struct map *creds;		/* nexthop -> "user:password" */
	struct xscript xs;
	/* the cached session */
	struct conn conn;
	int open;
	unsigned ext;
	uint64_t size_limit;
	unsigned uses;			/* transactions on this connection */
	char dest[REMOTE_DEST_MAX + 1];
	int64_t idle_until;		/* monotonic µs */
};

/* smtp_deliver - deliver job j: reuse the cached session when it goes to
   j's destination, else try the destination's addresses in order; every
   recipient ends final (ok, defer or fail) */
void smtp_deliver(struct remote *r, struct rjob *j);
/* smtp_quit - QUIT and close the cached session */
void smtp_quit(struct remote *r);

/* remote_session.c: session set-up and shared helpers */
enum { S_OK, S_NEXT, S_TLS_FALLBACK };	/* smtp_session's outcomes */
/* The last failure of a job's attempt, reported when no address is left */
struct lastfail {
	char status[16];
	char text[REMOTE_TEXT_MAX];
	char relay[REMOTE_RELAY_MAX];
};
/* smtp_session - connect to tg and set the session up for j (plain: no
   STARTTLS, after a failed handshake at level may) */
int smtp_session(struct remote *r, const struct target *tg,
    const struct rjob *j, int plain, struct lastfail *lf);
/* tmo - a timeout key's seconds, at least 1 */
int64_t tmo(const struct remote *r, enum config_key k);
/* reply_status - the enhanced code for a reply (its own or derived) */
void reply_status(const struct smtp_reply *rp, char *out, size_t len);
/* words - the reply as one line: "550 5.1.1 text; more text" */
void words(const struct smtp_reply *rp, char *out, size_t len);
/* defer_status - a reply's status made temporary */
void defer_status(const struct smtp_reply *rp, char *st, size_t len);
/* fail_last - remember why this address did not work */
void fail_last(struct lastfail *lf, const char *status, const struct conn *c,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
