/*
 * maildrop - maildrop file format: writing helpers for the injector and
 * the strict reader used by pickup (see maildrop.h).
 *
 * The reader treats the file as hostile: sizes are checked against the
 * file size before anything is allocated, every attribute is checked by
 * a schema table, and no field is used before it is checked.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "address.h"
#include "fsio.h"
#include "maildrop.h"
#include "queue.h"
#include "strbuf.h"

#define MAGIC_LEN (sizeof(MAILDROP_MAGIC) - 1)

static const struct attr_spec envelope_spec[] = {
	{ "sender", ATTR_REQUIRED | ATTR_TEXT, ADDRESS_MAX },
	{ "arrival", ATTR_REQUIRED | ATTR_NUMBER, 20 },
	{ "uid", ATTR_REQUIRED | ATTR_NUMBER, 10 },
	{ "rcpt", ATTR_REQUIRED | ATTR_REPEAT | ATTR_TEXT, ADDRESS_MAX },
	{ "orig", ATTR_REPEAT | ATTR_TEXT, ADDRESS_MAX },
	{ "orcpt", ATTR_REPEAT | ATTR_TEXT, QUEUE_ORCPT_MAX },
	{ "notify", ATTR_REPEAT | ATTR_TEXT, 32 },
	{ "ret", ATTR_TEXT, 4 },
	{ "envid", ATTR_TEXT, QUEUE_ENVID_MAX },
	{ "from", ATTR_TEXT, QUEUE_SUMMARY_MAX },
	{ "subject", ATTR_TEXT, QUEUE_SUMMARY_MAX },
	{ "msgid", ATTR_TEXT, QUEUE_SUMMARY_MAX },
};

/* maildrop_header - magic plus the envelope netstring */
int maildrop_header(struct strbuf *out, const struct strbuf *envelope)
{
	strbuf_append(out, MAILDROP_MAGIC, MAGIC_LEN);
	strbuf_appendf(out, "%zu:", envelope->len);
	strbuf_append(out, envelope->s ? envelope->s : "", envelope->len);
	return strbuf_append(out, ",\n", 2);
}

/* maildrop_trailer - the fixed-size trailer */
void maildrop_trailer(char buf[MAILDROP_TRAILER_LEN + 1], uint64_t len)
{
	snprintf(buf, MAILDROP_TRAILER_LEN + 1, "\nEND %016" PRIx64 "\n", len);
}

/* maildrop_name - time-ordered, unique file name */
int maildrop_name(char buf[MAILDROP_NAME_MAX], int64_t arrival)
{
	uint32_t rnd;
	int n;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -1;
	n = snprintf(buf, MAILDROP_NAME_MAX, "%016" PRIx64 ".%ld.%08" PRIx32,
	    (uint64_t)arrival, (long)getpid(), rnd);
	return n < 0 || n >= MAILDROP_NAME_MAX ? -1 : 0;
}

/* maildrop_parse_notify - DSN NOTIFY keywords into bits */
int maildrop_parse_notify(const char *s, unsigned *bits_r)
{
	static const struct { const char *word; unsigned bit; } words[] = {
		{ "never", QUEUE_NOTIFY_NEVER },
		{ "success", QUEUE_NOTIFY_SUCCESS },
		{ "failure", QUEUE_NOTIFY_FAILURE },
		{ "delay", QUEUE_NOTIFY_DELAY },
	};
	unsigned bits = 0;
	size_t i, len;

	while (*s != '\0') {
		len = strcspn(s, ",");
		for (i = 0; i < 4; i++)
			if (strlen(words[i].word) == len &&
			    strncasecmp(s, words[i].word, len) == 0)
				break;
		if (i == 4 || (bits & words[i].bit))
			return -1;
		bits |= words[i].bit;
		s += len;
		if (*s == ',' && *++s == '\0')
			return -1;
	}
	/* NEVER excludes the others (RFC 3461 section 4.1). */
	if (bits == 0 || ((bits & QUEUE_NOTIFY_NEVER) && bits != QUEUE_NOTIFY_NEVER))
		return -1;
	*bits_r = bits;
	return 0;
}

/* read_envelope_length - parse "N:" after the magic; bytes used or -1 */
static int read_envelope_length(int fd, off_t size, uint64_t *len_r)
{
	char buf[MAGIC_LEN + 12];
	size_t i;
	uint64_t len = 0;

	if (size < (off_t)(MAGIC_LEN + 3 + MAILDROP_TRAILER_LEN) ||
	    pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
	    memcmp(buf, MAILDROP_MAGIC, MAGIC_LEN) != 0)
		return -1;
	for (i = MAGIC_LEN; i < sizeof(buf) && buf[i] >= '0' && buf[i] <= '9';
	    i++)
		len = len * 10 + (uint64_t)(buf[i] - '0');
	if (i == MAGIC_LEN || i - MAGIC_LEN > 8 || i == sizeof(buf) ||
	    buf[i] != ':' || (buf[MAGIC_LEN] == '0' && i - MAGIC_LEN > 1))
		return -1;
	*len_r = len;
	return (int)(i + 1);
}

/* read_trailer - check the trailer; content length into *len_r */
static int read_trailer(int fd, off_t size, uint64_t *len_r)
{
	char buf[MAILDROP_TRAILER_LEN + 1], *end;
	uint64_t len;

	if (pread(fd, buf, MAILDROP_TRAILER_LEN, size - MAILDROP_TRAILER_LEN)
	    != MAILDROP_TRAILER_LEN)
		return -1;
	buf[MAILDROP_TRAILER_LEN] = '\0';
	if (memcmp(buf, "\nEND ", 5) != 0 || buf[21] != '\n')
		return -1;
	buf[21] = '\0';
	if (strspn(buf + 5, "0123456789abcdef") != 16)
		return -1;
	len = strtoull(buf + 5, &end, 16);
	*len_r = len;
	return 0;
}

/* add_rcpt - start a recipient entry */
static int add_rcpt(struct maildrop *md, const char *addr, size_t max)
{
	if (md->nrcpt >= max)
		return -1;
	md->rcpts[md->nrcpt].addr = addr;
	md->rcpts[md->nrcpt].orig = NULL;
	md->rcpts[md->nrcpt].orcpt = NULL;
	md->rcpts[md->nrcpt].notify = 0;
	md->nrcpt++;
	return 0;
}

/* take_field - store one checked attribute in md */
static int take_field(struct maildrop *md, const struct attr *a,
    size_t max_rcpt, const char **reason_r)
{
	struct maildrop_rcpt *last = md->nrcpt ? &md->rcpts[md->nrcpt - 1] : NULL;
	uint64_t v;

	if (strcmp(a->name, "rcpt") == 0) {
		if (add_rcpt(md, a->value, max_rcpt) < 0)
			return *reason_r = "too many recipients", -1;
	} else if (strcmp(a->name, "orig") == 0) {
		if (last == NULL)
			return *reason_r = "orig before any rcpt", -1;
		last->orig = a->value;
	} else if (strcmp(a->name, "orcpt") == 0) {
		if (last == NULL)
			return *reason_r = "orcpt before any rcpt", -1;
		last->orcpt = a->value;
	} else if (strcmp(a->name, "notify") == 0) {
		if (last == NULL ||
		    maildrop_parse_notify(a->value, &last->notify) < 0)
			return *reason_r = "bad or misplaced notify", -1;
	} else if (strcmp(a->name, "sender") == 0) {
		md->sender = a->value;
	} else if (strcmp(a->name, "arrival") == 0) {
		if (attr_u64(a, &v) < 0 || v > INT64_MAX)
			return *reason_r = "bad arrival time", -1;
		md->arrival = (int64_t)v;
	} else if (strcmp(a->name, "uid") == 0) {
		if (attr_u64(a, &md->uid) < 0)
			return *reason_r = "bad uid", -1;
	} else if (strcmp(a->name, "ret") == 0) {
		if (strcmp(a->value, "full") == 0)
			md->ret = QUEUE_MSG_RET_FULL;
		else if (strcmp(a->value, "hdrs") == 0)
			md->ret = QUEUE_MSG_RET_HDRS;
		else
			return *reason_r = "bad ret value", -1;
	} else if (strcmp(a->name, "envid") == 0) {
		md->envid = a->value;
	} else if (strcmp(a->name, "from") == 0) {
		md->from = a->value;
	} else if (strcmp(a->name, "subject") == 0) {
		md->subject = a->value;
	} else {
		md->msgid = a->value;
	}
	return 0;
}

/* decode_envelope - decode and check the envelope attributes */
static int decode_envelope(struct maildrop *md, size_t len, size_t max_rcpt,
    const char **reason_r)
{
	size_t i, n;

	if (attr_decode(md->envbuf, len, &md->attrs, max_rcpt * 4 + 16,
	    reason_r) < 0)
		return -1;
	if (attr_check(&md->attrs, envelope_spec,
	    sizeof(envelope_spec) / sizeof(envelope_spec[0]), 0, reason_r,
	    NULL) < 0)
		return -1;
	n = attr_count(&md->attrs, "rcpt");
	if (n > max_rcpt)
		return *reason_r = "too many recipients", -1;
	if ((md->rcpts = calloc(n, sizeof(*md->rcpts))) == NULL)
		return *reason_r = "out of memory", -1;
	for (i = 0; i < md->attrs.n; i++)
		if (take_field(md, &md->attrs.v[i], n, reason_r) < 0)
			return -1;
	return 0;
}

/* maildrop_read - check a maildrop file and decode its envelope */
int maildrop_read(int fd, off_t size, size_t max_rcpt, struct maildrop *md,
    const char **reason_r)
{
	uint64_t envlen, clen;
	int hdr;
	char tail[2];

	memset(md, 0, sizeof(*md));
	*reason_r = "not a maildrop file (bad magic or envelope length)";
	if ((hdr = read_envelope_length(fd, size, &envlen)) < 0)
		return -1;
	if (envlen > MAILDROP_ENVELOPE_MAX ||
	    (uint64_t)size < hdr + envlen + 2 + MAILDROP_TRAILER_LEN)
		return *reason_r = "envelope longer than the file", -1;
	*reason_r = "bad trailer (file truncated?)";
	if (read_trailer(fd, size, &clen) < 0)
		return -1;
	md->content_off = hdr + (off_t)envlen + 2;
	md->content_len = (uint64_t)size - (uint64_t)md->content_off -
	    MAILDROP_TRAILER_LEN;
	if (clen != md->content_len)
		return *reason_r = "content length does not match the file", -1;
	if (pread(fd, tail, 2, hdr + (off_t)envlen) != 2 ||
	    memcmp(tail, ",\n", 2) != 0)
		return *reason_r = "envelope not terminated", -1;
	if ((md->envbuf = malloc(envlen + 1)) == NULL)
		return *reason_r = "out of memory", -1;
	if (pread(fd, md->envbuf, envlen, hdr) != (ssize_t)envlen)
		return *reason_r = "cannot read envelope", -1;
	md->envbuf[envlen] = '\0';
	return decode_envelope(md, envlen, max_rcpt, reason_r);
}

/* maildrop_release - free what maildrop_read allocated */
void maildrop_release(struct maildrop *md)
{
	free(md->envbuf);
	free(md->rcpts);
	attr_list_release(&md->attrs);
	memset(md, 0, sizeof(*md));
}
