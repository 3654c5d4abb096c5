/*
 * maildrop - the file format of a message in the maildrop directory, the
 * one hand-over from an (untrusted) injector to the queue manager.
 *
 * Written by postern-inject (as the calling user), read by the queue
 * manager's pickup, which trusts nothing in it: every field is checked
 * again on reading, and anything malformed sends the file to corrupt/.
 *
 * A maildrop file is, in this order:
 *
 *   "POSTERN-DROP 1\n"          magic and format version
 *   N ":" ENVELOPE "," "\n"     a netstring holding an attribute list
 *   CONTENT                     the message, LF line ends, ends with LF
 *   "\nEND " HHHHHHHHHHHHHHHH "\n"
 *                               trailer: the content length as 16 lower-
 *                               case hex digits (22 bytes in all)
 *
 * The content length must equal the file size minus the magic, the
 * envelope and the trailer, so a truncated file is always detected.
 *
 * ENVELOPE attributes (attr.h), in any order except that recipient
 * details follow the "rcpt" they belong to:
 *
 *   sender    required, once   address or "" (null sender), <= 254
 *   arrival   required, once   microseconds since the epoch
 *   uid       required, once   the injecting uid (informational; pickup
 *                              uses the file's owner)
 *   rcpt      required, 1..MAILDROP_RCPT_MAX     address, <= 254
 *   orig      optional, after a rcpt: the recipient as given, <= 254
 *   orcpt     optional, after a rcpt: DSN ORCPT "rfc822;addr", <= 500
 *   notify    optional, after a rcpt: "never" or a comma list of
 *             success, failure, delay
 *   ret       optional, once   "full" or "hdrs"
 *   envid     optional, once   DSN ENVID, printable ASCII, <= 100
 *   from, subject, msgid
 *             optional, once   header summary for listings, <= 256
 *   Unknown names are refused (a newer injector with an older queue
 *   manager is a configuration error worth seeing).
 *
 * File names: "<arrival µs, 16 hex>.<pid>.<8 hex random>"; while being
 * written the file is called "t." plus that name, and pickup ignores it.
 */
#ifndef POSTERN_MAILDROP_H
#define POSTERN_MAILDROP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attr.h"

struct strbuf;

#define MAILDROP_MAGIC "POSTERN-DROP 1\n"
#define MAILDROP_TRAILER_LEN 22
#define MAILDROP_ENVELOPE_MAX (8u << 20)
#define MAILDROP_TEMP_PREFIX "t."
#define MAILDROP_NAME_MAX 64
#define MAILDROP_RCPT_MAX (1u << 20)	/* the format's own bound */

struct maildrop_rcpt {
	const char *addr;
	const char *orig;	/* NULL when not given */
	const char *orcpt;	/* NULL when not given */
	unsigned notify;	/* QUEUE_NOTIFY_* bits */
};

struct maildrop {
	char *envbuf;			/* the envelope bytes (owned) */
	struct attr_list attrs;		/* decoded from envbuf */
	const char *sender;
	int64_t arrival;
	uint64_t uid;
	const char *envid, *from, *subject, *msgid;
	unsigned ret;			/* QUEUE_MSG_RET_* or 0 */
	struct maildrop_rcpt *rcpts;
	size_t nrcpt;
	off_t content_off;		/* where the content starts */
	uint64_t content_len;
};

/* maildrop_header - the magic and the envelope netstring for envelope
   (an attribute list), to be written before the content */
int maildrop_header(struct strbuf *out, const struct strbuf *envelope);
/* maildrop_trailer - the 22-byte trailer for content_len */
void maildrop_trailer(char buf[MAILDROP_TRAILER_LEN + 1],
    uint64_t content_len);
/* maildrop_name - a fresh file name (without the "t." prefix) */
int maildrop_name(char buf[MAILDROP_NAME_MAX], int64_t arrival);
/* maildrop_parse_notify - "never" or a list of success,failure,delay
   (any case) into QUEUE_NOTIFY_* bits; -1 when malformed */
int maildrop_parse_notify(const char *s, unsigned *bits_r);

/* maildrop_read - read and check the magic, envelope and trailer of the
   open file fd (size bytes). Checks structure and bounds; address syntax
   is checked by the caller. 0, or -1 with *reason_r (static text). */
int maildrop_read(int fd, off_t size, size_t max_rcpt, struct maildrop *md,
    const char **reason_r);
void maildrop_release(struct maildrop *md);

#endif
