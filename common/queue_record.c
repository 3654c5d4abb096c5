/*
 * queue_record - keys, records, ids and state names of the queue store
 * (see queue.h for the layout and queue_record.h for the interface).
 *
 * Callers: queue.c, and through queue.h anyone who prints or parses a
 * queue id. A record is an attribute list (attr.h) described by a table
 * of fields, so the encoder and the strict decoder cannot disagree.
 *
 * Trust: the decoder trusts nothing in a stored record: unknown,
 * repeated or missing fields, numbers that are not strict decimals or do
 * not fit, strings that hold NUL or do not fit their buffer, unknown
 * state names and flag bits, and values that break the record's rules
 * (a negative time, a parent that does not precede its child) are all
 * refused with a reason. The encoder refuses the same things, so that
 * nothing is ever written that could not be read back.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "attr.h"
#include "queue_impl.h"
#include "strbuf.h"

#define QREC_MSG_FLAGS 0x7Fu	/* QUEUE_MSG_* */
#define QREC_RCPT_FLAGS 0x7Fu	/* QUEUE_NOTIFY_*, QUEUE_RCPT_* */
#define QREC_OMIT_ROOM 64	/* room kept for the omission line */

static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static const char *const state_names[] = {
	"pending", "deferred", "held", "delivered", "failed", "expanded",
};
#define NSTATES (sizeof(state_names) / sizeof(state_names[0]))

/* queue_id_format - 11 characters of Crockford base 32, fixed width; an
   id above QUEUE_ID_MAX (never issued) comes out as "xxxxxxxxxxx" */
void queue_id_format(uint64_t id, char buf[QUEUE_ID_TEXT + 1])
{
	size_t i;

	if (id > QUEUE_ID_MAX) {
		memset(buf, 'x', QUEUE_ID_TEXT);
	} else {
		for (i = QUEUE_ID_TEXT; i-- > 0; id >>= 5)
			buf[i] = b32[id & 31];
	}
	buf[QUEUE_ID_TEXT] = '\0';
}

/* queue_id_parse - exactly 11 upper-case base 32 digits, not all zero */
int queue_id_parse(const char *s, uint64_t *id_r)
{
	const char *d;
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < QUEUE_ID_TEXT; i++) {
		if (s[i] == '\0' ||
		    (d = memchr(b32, s[i], sizeof(b32) - 1)) == NULL)
			return -1;
		v = v << 5 | (uint64_t)(d - b32);
	}
	if (s[QUEUE_ID_TEXT] != '\0' || v == 0)
		return -1;
	*id_r = v;
	return 0;
}

/* queue_state_name - the stored and printed name of a state */
const char *queue_state_name(enum queue_state s)
{
	return (unsigned)s < NSTATES ? state_names[s] : "unknown";
}

/* queue_state_lookup - a state by name, or -1 */
int queue_state_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < NSTATES; i++)
		if (strcmp(name, state_names[i]) == 0)
			return (int)i;
	return -1;
}

/* qrec_due_wanted - pending and deferred recipients have a due entry,
   and so do final ones that are owed a notice */
int qrec_due_wanted(const struct queue_rcpt *r)
{
	return r->state == QS_PENDING || r->state == QS_DEFERRED ||
	    ((r->state == QS_FAILED || r->state == QS_DELIVERED) &&
	    (r->flags & QUEUE_RCPT_REPORT));
}

/* put_be - v as n big-endian bytes */
static void put_be(unsigned char *p, uint64_t v, size_t n)
{
	while (n-- > 0) {
		p[n] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

/* get_be - n big-endian bytes as a number */
static uint64_t get_be(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* qkey_id - the key of a message */
void qkey_id(unsigned char k[QKEY_ID], uint64_t id)
{
	put_be(k, id, 8);
}

/* qkey_id_idx - the key of a body chunk, recipient or transcript */
void qkey_id_idx(unsigned char k[QKEY_ID_IDX], uint64_t id, uint32_t idx)
{
	put_be(k, id, 8);
	put_be(k + 8, idx, 4);
}

/* qkey_due - the key of a due entry (when is never negative here) */
void qkey_due(unsigned char k[QKEY_DUE], int64_t when, uint64_t id,
    uint32_t idx)
{
	put_be(k, (uint64_t)when, 8);
	put_be(k + 8, id, 8);
	put_be(k + 16, idx, 4);
}

/* qkey_get64 - a big-endian id out of a key */
uint64_t qkey_get64(const unsigned char *p)
{
	return get_be(p, 8);
}

/* qkey_get32 - a big-endian index out of a key */
uint32_t qkey_get32(const unsigned char *p)
{
	return (uint32_t)get_be(p, 4);
}

/* qkey_due_parse - a due key into d */
int qkey_due_parse(const void *p, size_t n, struct queue_due *d)
{
	const unsigned char *u = p;
	uint64_t when;

	if (n != QKEY_DUE || (when = get_be(u, 8)) > INT64_MAX)
		return -1;
	d->when = (int64_t)when;
	d->id = get_be(u + 8, 8);
	d->idx = (uint32_t)get_be(u + 16, 4);
	return d->id == 0 || d->id > QUEUE_ID_MAX ? -1 : 0;
}

/* qrec_decimal - strict decimal: digits only, no leading zero */
int qrec_decimal(const void *p, size_t n, uint64_t *v_r)
{
	struct attr a = { "", p, n };

	return attr_u64(&a, v_r);
}

/* The record tables. */
enum fkind { F_STR, F_U64, F_U32, F_UINT, F_I64, F_STATE };

struct field {
	const char *name;
	enum fkind kind;
	size_t off, size;	/* where in the struct, and its size */
	int optional;		/* F_STR only: may be absent, then "" */
};

#define FLD(type, name, kind, member, opt) \
	{ name, kind, offsetof(type, member), \
	  sizeof(((type *)0)->member), opt }
#define MFLD(name, kind, member) FLD(struct qrec_msg, name, kind, member, 0)
#define RFLD(name, kind, member) FLD(struct queue_rcpt, name, kind, member, 0)

static const struct field msg_fields[] = {
	MFLD("sender", F_STR, m.sender),
	MFLD("arrival", F_I64, m.arrival),
	MFLD("size", F_U64, m.size),
	MFLD("flags", F_UINT, m.flags),
	MFLD("nrcpt", F_U32, m.nrcpt),
	MFLD("uid", F_U32, m.uid),
	MFLD("envid", F_STR, m.envid),
	MFLD("from", F_STR, m.from),
	MFLD("subject", F_STR, m.subject),
	MFLD("msgid", F_STR, m.msgid),
	FLD(struct qrec_msg, "drop", F_STR, drop, 1),
};

static const struct field rcpt_fields[] = {
	RFLD("addr", F_STR, addr),
	RFLD("orig", F_STR, orig),
	RFLD("orcpt", F_STR, orcpt),
	RFLD("state", F_STATE, state),
	RFLD("flags", F_UINT, flags),
	RFLD("attempts", F_U32, attempts),
	RFLD("next", F_I64, next),
	RFLD("first", F_I64, first),
	RFLD("last", F_I64, last),
	RFLD("parent", F_U32, parent),
	RFLD("status", F_STR, status),
	RFLD("diag", F_STR, diag),
	RFLD("relay", F_STR, relay),
};

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

/* put_field - append one field of the struct at base; -1 with why set
   when the field is out of bounds, -1 with why empty when out is full */
static int put_field(struct strbuf *out, const struct field *f,
    const char *base, char why[QREC_WHY])
{
	const char *p = base + f->off;
	uint64_t u;
	int64_t i;
	uint32_t u32;
	unsigned ui;
	enum queue_state st;

	switch (f->kind) {
	case F_STR:
		if (strnlen(p, f->size) >= f->size) {
			snprintf(why, QREC_WHY, "%s is longer than %zu bytes",
			    f->name, f->size - 1);
			return -1;
		}
		return f->optional && *p == '\0' ? 0 :
		    attr_put_str(out, f->name, p);
	case F_I64:
		memcpy(&i, p, sizeof(i));
		return attr_put_i64(out, f->name, i);
	case F_STATE:
		memcpy(&st, p, sizeof(st));
		return attr_put_str(out, f->name, queue_state_name(st));
	case F_U64:
		memcpy(&u, p, sizeof(u));
		return attr_put_u64(out, f->name, u);
	case F_U32:
		memcpy(&u32, p, sizeof(u32));
		return attr_put_u64(out, f->name, u32);
	case F_UINT:
		memcpy(&ui, p, sizeof(ui));
		return attr_put_u64(out, f->name, ui);
	}
	return -1;
}

/* encode - the struct at base as a record in out */
static int encode(struct strbuf *out, const struct field *fs, size_t nf,
    const char *base, char why[QREC_WHY])
{
	size_t i;

	strbuf_reset(out);
	for (i = 0; i < nf; i++)
		if (put_field(out, &fs[i], base, why) < 0)
			break;
	if (why[0] != '\0')
		return -1;
	if (i < nf || out->len > QREC_MAX) {
		snprintf(why, QREC_WHY, "record longer than %d bytes",
		    QREC_MAX);
		return -1;
	}
	return 0;
}

/* get_number - a strict decimal no larger than max */
static int get_number(const struct attr *a, uint64_t max, uint64_t *v_r)
{
	return attr_u64(a, v_r) < 0 || *v_r > max ? -1 : 0;
}

/* get_field - one attribute into its field of the struct at base */
static int get_field(const struct attr *a, const struct field *f,
    char *base)
{
	char *p = base + f->off;
	const char *s;
	uint64_t u;
	int64_t i;
	uint32_t u32;
	unsigned ui;
	int st;
	enum queue_state es;

	switch (f->kind) {
	case F_STR:
		if ((s = attr_cstr(a, f->size - 1)) == NULL)
			return -1;
		memcpy(p, s, a->len + 1);
		return 0;
	case F_I64:
		if (attr_i64(a, &i) < 0)
			return -1;
		memcpy(p, &i, sizeof(i));
		return 0;
	case F_STATE:
		if ((s = attr_cstr(a, 16)) == NULL ||
		    (st = queue_state_lookup(s)) < 0)
			return -1;
		es = (enum queue_state)st;
		memcpy(p, &es, sizeof(es));
		return 0;
	case F_U64:
		if (attr_u64(a, &u) < 0)
			return -1;
		memcpy(p, &u, sizeof(u));
		return 0;
	case F_U32:
		if (get_number(a, UINT32_MAX, &u) < 0)
			return -1;
		u32 = (uint32_t)u;
		memcpy(p, &u32, sizeof(u32));
		return 0;
	case F_UINT:
		if (get_number(a, UINT_MAX, &u) < 0)
			return -1;
		ui = (unsigned)u;
		memcpy(p, &ui, sizeof(ui));
		return 0;
	}
	return -1;
}

/* find_field - the table entry called name. Records are written in
   table order (optional fields may be missing), so the search starts at
   entry at, just after the last field found, and wraps around. */
static const struct field *find_field(const struct field *fs, size_t nf,
    const char *name, size_t at)
{
	size_t i, k;

	for (i = 0; i < nf; i++) {
		k = (at + i) % nf;
		if (strcmp(fs[k].name, name) == 0)
			return &fs[k];
	}
	return NULL;
}

/* decode - a record into the struct at base, every field exactly once */
static int decode(char *buf, size_t len, struct attr_list *list,
    const struct field *fs, size_t nf, char *base, char why[QREC_WHY])
{
	const struct field *f;
	const char *reason;
	uint32_t seen = 0, bit;
	size_t i, next = 0;

	if (len > QREC_MAX || attr_decode(buf, len, list, QREC_ATTRS,
	    &reason) < 0) {
		snprintf(why, QREC_WHY, "%s", len > QREC_MAX ?
		    "record too long" : reason);
		return -1;
	}
	for (i = 0; i < list->n; i++) {
		const char *name = list->v[i].name;

		if ((f = find_field(fs, nf, name, next)) == NULL) {
			snprintf(why, QREC_WHY, "unknown field %s", name);
			return -1;
		}
		bit = UINT32_C(1) << (f - fs);
		if ((seen & bit) || get_field(&list->v[i], f, base) < 0) {
			snprintf(why, QREC_WHY, "field %s %s", name,
			    (seen & bit) ? "repeated" : "has a bad value");
			return -1;
		}
		seen |= bit;
		next = (size_t)(f - fs) + 1;
	}
	for (i = 0; i < nf; i++)
		if (!fs[i].optional && !(seen & (UINT32_C(1) << i))) {
			snprintf(why, QREC_WHY, "field %s missing", fs[i].name);
			return -1;
		}
	return 0;
}

/* msg_check - the rules of a message record beyond its fields' types */
static int msg_check(const struct qrec_msg *r, char why[QREC_WHY])
{
	const char *bad = NULL;

	if (r->m.flags & ~QREC_MSG_FLAGS)
		bad = "unknown message flags";
	else if (r->m.arrival < 0)
		bad = "negative arrival time";
	if (bad)
		snprintf(why, QREC_WHY, "%s", bad);
	return bad ? -1 : 0;
}

/* rcpt_check - the rules of a recipient record */
static int rcpt_check(const struct queue_rcpt *r, char why[QREC_WHY])
{
	const char *bad = NULL;

	if (r->addr[0] == '\0')
		bad = "empty recipient address";
	else if (r->flags & ~QREC_RCPT_FLAGS)
		bad = "unknown recipient flags";
	else if ((unsigned)r->state >= NSTATES)
		bad = "unknown recipient state";
	else if (qrec_due_wanted(r) && r->next < 0)
		bad = "negative next attempt time";
	else if (r->idx == QUEUE_NO_PARENT)
		bad = "recipient index out of range";
	else if (r->parent != QUEUE_NO_PARENT && r->parent >= r->idx)
		bad = "parent recipient does not precede its child";
	if (bad)
		snprintf(why, QREC_WHY, "%s", bad);
	return bad ? -1 : 0;
}

/* qrec_msg_encode - a message record */
int qrec_msg_encode(struct strbuf *out, const struct qrec_msg *r,
    char why[QREC_WHY])
{
	why[0] = '\0';
	if (msg_check(r, why) < 0)
		return -1;
	return encode(out, msg_fields, NFIELDS(msg_fields),
	    (const char *)r, why);
}

/* qrec_msg_decode - a message record, strictly */
int qrec_msg_decode(char *buf, size_t len, struct attr_list *list,
    struct qrec_msg *r, char why[QREC_WHY])
{
	memset(r, 0, sizeof(*r));
	if (decode(buf, len, list, msg_fields, NFIELDS(msg_fields),
	    (char *)r, why) < 0)
		return -1;
	return msg_check(r, why);
}

/* qrec_rcpt_encode - a recipient record */
int qrec_rcpt_encode(struct strbuf *out, const struct queue_rcpt *r,
    char why[QREC_WHY])
{
	why[0] = '\0';
	if (rcpt_check(r, why) < 0)
		return -1;
	return encode(out, rcpt_fields, NFIELDS(rcpt_fields),
	    (const char *)r, why);
}

/* qrec_rcpt_decode - a recipient record, strictly; keeps r->id, r->idx */
int qrec_rcpt_decode(char *buf, size_t len, struct attr_list *list,
    struct queue_rcpt *r, char why[QREC_WHY])
{
	uint64_t id = r->id;
	uint32_t idx = r->idx;

	memset(r, 0, sizeof(*r));
	r->id = id;
	r->idx = idx;
	if (decode(buf, len, list, rcpt_fields, NFIELDS(rcpt_fields),
	    (char *)r, why) < 0)
		return -1;
	return rcpt_check(r, why);
}

/* qrec_transcript_cap - a transcript as stored: over QUEUE_TRANSCRIPT_MAX
   bytes, the first and last (QUEUE_TRANSCRIPT_MAX - 64) / 2 bytes are
   kept with a line "[... N bytes omitted ...]" between them */
int qrec_transcript_cap(struct strbuf *out, const char *p, size_t n)
{
	size_t head = (QUEUE_TRANSCRIPT_MAX - QREC_OMIT_ROOM) / 2;
	size_t tail = QUEUE_TRANSCRIPT_MAX - QREC_OMIT_ROOM - head;

	strbuf_reset(out);
	if (n <= QUEUE_TRANSCRIPT_MAX)
		return strbuf_append(out, p, n);
	strbuf_append(out, p, head);
	strbuf_appendf(out, "%s[... %zu bytes omitted ...]\n",
	    p[head - 1] == '\n' ? "" : "\n", n - head - tail);
	strbuf_append(out, p + n - tail, tail);
	return strbuf_ok(out) ? 0 : -1;
}
