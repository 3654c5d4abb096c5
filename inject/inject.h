/*
 * inject.h - the parts of postern-inject (sendmail, mailq): options,
 * reading and checking the message, and writing it into the maildrop.
 *
 * postern-inject runs as the calling user, setgid drop_group. It trusts
 * its own configuration (chosen only by root, see config_dir_choose) and
 * nothing its caller gives it: arguments, environment and input are all
 * checked, and it never executes anything while it holds drop_group.
 */
#ifndef POSTERN_INJECT_H
#define POSTERN_INJECT_H

#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "strbuf.h"

struct config;

enum inject_mode { INJECT_DELIVER, INJECT_LIST };

struct inject_opts {
	enum inject_mode mode;
	const char *config_dir;		/* -C / -c, or NULL */
	const char *sender;		/* -f / -r, or NULL */
	const char *fullname;		/* -F, or NULL */
	const char *envid;		/* -V, or NULL */
	unsigned notify;		/* -N as QUEUE_NOTIFY_* bits, or 0 */
	unsigned ret;			/* -R as QUEUE_MSG_RET_*, or 0 */
	int extract;			/* -t */
	int ignore_dots;		/* -i, -oi */
	char **rcpts;			/* recipient arguments */
	int nrcpts;
};

/* A recipient: canonical address and the text it was given as. */
struct inject_rcpt {
	struct address addr;
	char orig[ADDRESS_BUF];		/* "" when the same */
};

/* Everything known about the message before its body is copied. */
struct inject_msg {
	struct address sender;
	struct inject_rcpt *rcpts;
	size_t nrcpt, cap;
	size_t rcpt_limit;
	struct strbuf headers;		/* header section to write, ends with
					   the empty line */
	char from[257], subject[257], msgid[257];	/* summaries */
	uint64_t size;			/* content bytes so far */
	uint64_t size_limit;
};

/* Failures carry an exit code (sysexits) and one line of text. */
struct inject_error {
	int code;
	char text[512];
};

/* inject_args.c */
int inject_args(int argc, char **argv, struct inject_opts *o,
    struct inject_error *e);

/* inject_input.c: the caller's message, line by line */
struct inject_input;
struct inject_input *inject_input_new(int fd);
void inject_input_free(struct inject_input **in);
/* inject_input_line - the next line, CRLF turned into LF, in *line (a
   piece of at most INJECT_PIECE bytes when a line is longer: then the
   result is 2). 1: a whole line; 2: a piece; 0: end of input; -1: read
   error (errno). */
#define INJECT_PIECE 65536
int inject_input_line(struct inject_input *in, struct strbuf *line);

/* inject_message.c */
int inject_envelope(struct inject_msg *m, const struct inject_opts *o,
    const struct config *cfg, struct inject_error *e);
int inject_add_rcpt_text(struct inject_msg *m, const char *text,
    size_t len, const char *myhostname, struct inject_error *e);
/* inject_headers - read the header section; *body_first holds the first
   body line when a non-header line ended the header section; returns 0,
   1 when input ended inside the headers (no body), or -1 */
int inject_headers(struct inject_msg *m, struct inject_input *in,
    const struct inject_opts *o, const struct config *cfg,
    struct strbuf *body_first, struct inject_error *e);

/* inject_drop.c */
/* inject_drop - write the message durably into the maildrop; ended: the
   input already ended inside the header section */
int inject_drop(struct inject_msg *m, struct inject_input *in,
    struct strbuf *body_first, const struct inject_opts *o,
    const struct config *cfg, struct inject_error *e, int ended);

void inject_error_set(struct inject_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
