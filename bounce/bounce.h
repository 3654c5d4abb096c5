/*
 * bounce.h - the parts of postern-bounce, the delivery status notice
 * writer.
 *
 * postern-bounce is started by the spawner as bounce_user with its socket
 * on descriptors 0 and 1 (spawn_proto.h). It reads JOB frames
 * (bounce_proto.h), each carrying the original message as a sealed
 * memfd, and answers each with one RESULT frame carrying the notice, a
 * whole RFC 3464 multipart/report message, as a new sealed memfd. It
 * never touches the queue and sends no mail: the queue manager stores the
 * notice as a message from the null sender.
 *
 *   bounce_main.c     arguments, configuration, the job loop, results
 *   bounce_job.c      decoding and checking a job, mapping the original
 *   bounce_compose.c  the notice: header, MIME structure, the
 *                     delivery-status part, the returned original
 *   bounce_text.c     the plain-language part: what happened to each
 *                     recipient and what the sender can do; line
 *                     wrapping and cleaning shared with the composer
 *
 * Trust: the queue manager is trusted more than the message, but a job is
 * still checked strictly; a malformed job is logged and the worker exits
 * EX_PROTOCOL without an answer. Everything that came from the message or
 * a remote server (the original, the subject, diagnostics, transcripts)
 * is data: it is length bounded, cleaned of control characters before it
 * goes into the text, and never decides the notice's structure (the MIME
 * boundary is random and checked against all of it).
 */
#ifndef POSTERN_BOUNCE_H
#define POSTERN_BOUNCE_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct strbuf;
struct attr_list;

#define BOUNCE_LINE_MAX 998		/* octets in one line, without LF */
#define BOUNCE_WIDTH 78			/* prose and header folding column */

enum bkind { BK_FAILURE, BK_DELAY, BK_SUCCESS };
enum baction { BA_FAILED, BA_DELAYED, BA_DELIVERED, BA_RELAYED };

/* One recipient group of a job. Strings point into the job frame. */
struct brcpt {
	uint64_t index;			/* "rcpt" */
	const char *addr;		/* final recipient, parsed */
	const char *orig;		/* original recipient, or NULL */
	enum baction action;
	const char *status;		/* X.Y.Z, class fits the action */
	const char *diag;		/* may be "" */
	const char *relay;		/* "host[addr]:port", "local", "none" */
	uint64_t attempts;
	int64_t first, last, until;	/* microseconds; 0 when not given */
	const char *xs;			/* transcript, or NULL */
	size_t xs_len;
	int has_same_as;		/* shares the transcript of ... */
	uint64_t same_as;		/* ... the group with this index */
};

/* A decoded job. The original's bytes are mapped read-only. */
struct bjob {
	const char *id, *to, *sender;	/* sender "" is the null sender */
	const char *envid, *msgid, *subject;	/* NULL when absent */
	enum bkind kind;
	int dbl;			/* a double bounce, for the postmaster */
	int ret_hdrs;			/* RET=HDRS */
	int f8bit, fsmtputf8;		/* flags */
	int64_t arrival;
	uint64_t size;
	struct brcpt *rcpts;
	size_t n;
	const char *content;		/* the original, size bytes */
	int fd;				/* its memfd, or -1 */
};

/* What the third part holds, and why. */
enum battach {
	BATT_FULL,			/* message/rfc822, the whole original */
	BATT_HDRS_RET,			/* headers: the sender asked RET=HDRS */
	BATT_HDRS_SIZE,			/* headers: over bounce_size_limit */
	BATT_HDRS_LINES,		/* headers: a line over 998 octets */
	BATT_HDRS_KIND			/* headers: a delay or success report */
};

/* bounce_job.c */
/* bjob_decode - check the job's attributes and take its memfd (*fd is
   set to -1 once taken): NULL, or why the job is malformed (a static
   string or one in a static buffer). j must be released either way. */
const char *bjob_decode(struct bjob *j, const struct attr_list *al,
    int *fd);
/* bjob_release - unmap the original and close its memfd */
void bjob_release(struct bjob *j);

/* bounce_compose.c */
/* bounce_compose - the whole notice for j into out (LF line ends, no line
   over BOUNCE_LINE_MAX octets). 0, or -1 with *why_r (out's limit, no
   random bytes). */
int bounce_compose(const struct bjob *j, const struct config *cfg,
    struct strbuf *out, const char **why_r);
/* bounce_attach - what the third part will hold for j */
enum battach bounce_attach(const struct bjob *j, const struct config *cfg);
/* bounce_smtp_reply - the server's reply inside a diagnostic written by
   postern-remote ("host H[A]:P said: 550 5.1.1 text (in reply to RCPT TO
   command)" gives "550 5.1.1 text"), or a diagnostic that is a reply
   itself ("250 2.0.0 ok"): 1 with *p_r, *n_r set, else 0 */
int bounce_smtp_reply(const char *diag, const char **p_r, size_t *n_r);
/* bounce_remote_host - the host part of a "host[addr]:port" relay into
   buf: 1, or 0 for "local", "none" and anything else */
int bounce_remote_host(const char *relay, char *buf, size_t len);
/* bounce_is_command - the diagnostic of a local delivery is about a
   |command (the texts local-delivery/local_pipe.c writes) */
int bounce_is_command(const struct brcpt *r);
/* bounce_xs_owner - the group whose transcript recipient i shares (i
   itself when it has one), or j->n when none */
size_t bounce_xs_owner(const struct bjob *j, size_t i);

/* bounce_text.c */
/* The explanation a recipient gets, chosen from status, relay and diag. */
enum bclass {
	BC_LOCAL_USER, BC_REMOTE_USER, BC_SENDER, BC_NO_DOMAIN, BC_NULL_MX,
	BC_EXPIRED, BC_TOO_LARGE, BC_FULL, BC_LOOP, BC_TLS, BC_PROGRAM,
	BC_GENERIC, BC_GENERIC_LOCAL, BC_DELAYED, BC_DELIVERED, BC_RELAYED
};
/* bounce_class - the explanation for recipient r */
enum bclass bounce_class(const struct brcpt *r);
/* bounce_text - the text/plain part for j (attach: what part three
   holds); bytes >= 0x80 only as valid UTF-8. 0, or -1 (out's limit). */
int bounce_text(const struct bjob *j, const struct config *cfg,
    enum battach attach, struct strbuf *out);
/* btext_clean - append n bytes with control characters (but TAB and LF;
   a CR before an LF is dropped) and, unless utf8, every byte >= 0x80,
   and invalid UTF-8 always, written as \xHH */
int btext_clean(struct strbuf *out, const char *s, size_t n, int utf8);
/* btext_wrap - append s (one paragraph, n bytes, already clean) wrapped
   at width columns where a space allows: the first line starts with
   first, the others with indent; a word too long for one line is cut at
   BOUNCE_LINE_MAX octets. Ends with LF. Used for prose and, with indent
   " ", to fold header fields. */
int btext_wrap(struct strbuf *out, const char *first, const char *indent,
    const char *s, size_t n, size_t width);
/* btext_lines - append the LF-separated lines of s verbatim, each after
   indent; a line that would pass BOUNCE_LINE_MAX octets is cut and goes
   on after indent + cont. Returns the number of cuts, or -1 (out's
   limit). */
long btext_lines(struct strbuf *out, const char *s, size_t n,
    const char *indent, const char *cont);
/* btext_has8 - any byte >= 0x80 in n bytes at s */
int btext_has8(const char *s, size_t n);

#endif
