/*
 * queue_store - changing the queue store: adding messages, appending and
 * changing recipients, holding, deleting, transcripts, forgetting
 * maildrop names (queue.h says what each call promises; queue_impl.h
 * shows how the files divide).
 *
 * Callers: through queue.h, the queue manager (the only writer).
 *
 * Trust: arguments are checked before anything is written, so a refused
 * call (QUEUE_ERROR) leaves the transaction as it was; a call that must
 * read records first reads them all before it writes, so QUEUE_CORRUPT
 * changes nothing either. The due index is kept by one function,
 * rcpt_store, so that the invariant "one due entry iff pending,
 * deferred or owed a notice" has one place to be right. Removal does not
 * trust what it removes: a corrupt recipient's due entries are found by a
 * scan, so a broken message can still be deleted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue_impl.h"

#define META_LAST_ID "last_id"
#define KEY_MAX 512		/* LMDB's longest key is 511 bytes */

/* A predicate for scan_delete. */
typedef int scan_match(const MDB_val *key, const MDB_val *val,
    uint64_t id, uint32_t idx);

struct queue_add {
	struct queue_txn *t;		/* NULL once detached */
	struct queue_add *next;		/* t's open adds */
	struct qrec_msg rec;
	char *buf;			/* the chunk being filled */
	size_t len;
	uint32_t chunk;			/* number of the next chunk */
};

/* copy_str - src (NULL: "") into a field of size bytes, never cut */
static int copy_str(struct queue *q, char *dst, size_t size,
    const char *src, const char *what)
{
	if (strlcpy(dst, src ? src : "", size) >= size) {
		qdb_seterr(q, "%s is longer than %zu bytes", what, size - 1);
		return -1;
	}
	return 0;
}

/* msg_store - write a message record */
static int msg_store(struct queue_txn *t, const struct qrec_msg *r)
{
	struct queue *q = t->q;
	unsigned char k[QKEY_ID];
	char why[QREC_WHY], idt[QUEUE_ID_TEXT + 1];

	if (qrec_msg_encode(&q->enc, r, why) < 0) {
		queue_id_format(r->m.id, idt);
		qdb_seterr(q, "message %s: %s", idt, why);
		return QUEUE_ERROR;
	}
	qkey_id(k, r->m.id);
	return qdb_put(t, DB_MSG, k, sizeof(k), strbuf_str(&q->enc),
	    q->enc.len, r->m.id);
}

/* scan_delete - delete every entry of db that match() picks; a full
   scan, for repairs only */
static int scan_delete(struct queue_txn *t, enum qdb db, scan_match *match,
    uint64_t id, uint32_t idx)
{
	unsigned char kb[KEY_MAX];
	MDB_val key, val;
	size_t kn;
	int st = qdb_seek(t, db, NULL, 0, MDB_FIRST, &key, &val);

	while (st == QUEUE_OK) {
		if (!match(&key, &val, id, idx)) {
			st = qdb_seek(t, db, NULL, 0, MDB_NEXT, &key, &val);
			continue;
		}
		kn = key.mv_size < sizeof(kb) ? key.mv_size : sizeof(kb);
		memcpy(kb, key.mv_data, kn);
		if ((st = qdb_cursor_del(t, db, id)) == QUEUE_OK)
			st = qdb_seek(t, db, kb, kn, MDB_SET_RANGE, &key, &val);
	}
	return st == QUEUE_NOTFOUND ? QUEUE_OK : st;
}

/* due_match - a due entry of id/idx (QUEUE_NO_PARENT: any idx) */
static int due_match(const MDB_val *key, const MDB_val *val, uint64_t id,
    uint32_t idx)
{
	struct queue_due d;

	(void)val;
	return qkey_due_parse(key->mv_data, key->mv_size, &d) == 0 &&
	    d.id == id && (idx == QUEUE_NO_PARENT || d.idx == idx);
}

/* drop_match - a dropped name that points at id */
static int drop_match(const MDB_val *key, const MDB_val *val, uint64_t id,
    uint32_t idx)
{
	(void)key;
	(void)idx;
	return val->mv_size == QKEY_ID && qkey_get64(val->mv_data) == id;
}

/* rcpt_store - write r, moving its due entry from old's (old NULL: it
   had none; scan: old is unknown, search the index) to the one r's
   state wants. The one place that keeps the due invariant. */
static int rcpt_store(struct queue_txn *t, const struct queue_rcpt *r,
    const struct queue_rcpt *old, int scan)
{
	struct queue *q = t->q;
	unsigned char k[QKEY_ID_IDX], dk[QKEY_DUE];
	char why[QREC_WHY], idt[QUEUE_ID_TEXT + 1];
	int st = QUEUE_OK;

	if (qrec_rcpt_encode(&q->enc, r, why) < 0) {
		queue_id_format(r->id, idt);
		qdb_seterr(q, "recipient %" PRIu32 " of %s: %s", r->idx, idt,
		    why);
		return QUEUE_ERROR;
	}
	if (scan) {
		st = scan_delete(t, DB_DUE, due_match, r->id, r->idx);
	} else if (old != NULL && qrec_due_wanted(old)) {
		qkey_due(dk, old->next, r->id, r->idx);
		st = qdb_del(t, DB_DUE, dk, sizeof(dk), r->id);
	}
	qkey_id_idx(k, r->id, r->idx);
	if (st == QUEUE_OK)
		st = qdb_put(t, DB_RCPT, k, sizeof(k), strbuf_str(&q->enc),
		    q->enc.len, r->id);
	if (st == QUEUE_OK && qrec_due_wanted(r)) {
		qkey_due(dk, r->next, r->id, r->idx);
		st = qdb_put(t, DB_DUE, dk, sizeof(dk), "", 0, r->id);
	}
	return st;
}

/* rcpt_new - a new recipient of the message in rec, due at due (held
   instead when the message is held); rec->m.nrcpt counts it */
static int rcpt_new(struct queue_txn *t, struct qrec_msg *rec,
    const struct queue_new_rcpt *nr, int64_t due)
{
	struct queue *q = t->q;
	struct queue_rcpt r;
	int st;

	memset(&r, 0, sizeof(r));
	if (rec->m.nrcpt >= QUEUE_NO_PARENT) {
		qdb_seterr(q, "too many recipients");
		return QUEUE_ERROR;
	}
	if (copy_str(q, r.addr, sizeof(r.addr), nr->addr, "address") < 0 ||
	    copy_str(q, r.orig, sizeof(r.orig), nr->orig, "original "
	    "address") < 0 ||
	    copy_str(q, r.orcpt, sizeof(r.orcpt), nr->orcpt, "ORCPT") < 0)
		return QUEUE_ERROR;
	r.id = rec->m.id;
	r.idx = rec->m.nrcpt;
	r.flags = nr->flags;
	r.parent = nr->parent;
	r.state = (rec->m.flags & QUEUE_MSG_HELD) ? QS_HELD : QS_PENDING;
	r.next = due;
	if ((st = rcpt_store(t, &r, NULL, 0)) == QUEUE_OK)
		rec->m.nrcpt++;
	return st;
}

/* seek_prefix - the first entry of db whose key starts with id */
static int seek_prefix(struct queue_txn *t, enum qdb db, uint64_t id,
    MDB_val *key, MDB_val *val)
{
	unsigned char k[QKEY_ID];
	int st;

	qkey_id(k, id);
	st = qdb_seek(t, db, k, sizeof(k), MDB_SET_RANGE, key, val);
	if (st == QUEUE_OK && (key->mv_size < QKEY_ID ||
	    memcmp(key->mv_data, k, QKEY_ID) != 0))
		st = QUEUE_NOTFOUND;
	return st;
}

/* purge_prefix - delete every entry of db under id */
static int purge_prefix(struct queue_txn *t, enum qdb db, uint64_t id)
{
	MDB_val key, val;
	int st;

	while ((st = seek_prefix(t, db, id, &key, &val)) == QUEUE_OK)
		if ((st = qdb_cursor_del(t, db, id)) != QUEUE_OK)
			return st;
	return st == QUEUE_NOTFOUND ? QUEUE_OK : st;
}

/* purge_rcpts - delete id's recipients and their due entries */
static int purge_rcpts(struct queue_txn *t, uint64_t id)
{
	unsigned char kb[KEY_MAX];
	struct queue_rcpt r;
	MDB_val key, val;
	uint32_t idx;
	size_t kn;
	int st;

	while ((st = seek_prefix(t, DB_RCPT, id, &key, &val)) == QUEUE_OK) {
		kn = key.mv_size < sizeof(kb) ? key.mv_size : sizeof(kb);
		memcpy(kb, key.mv_data, kn);
		idx = kn == QKEY_ID_IDX ? qkey_get32(kb + QKEY_ID) :
		    QUEUE_NO_PARENT;
		if (idx != QUEUE_NO_PARENT &&
		    qdb_rcpt_decode(t, id, idx, &val, &r) == QUEUE_OK) {
			if (qrec_due_wanted(&r)) {
				unsigned char dk[QKEY_DUE];

				qkey_due(dk, r.next, id, idx);
				st = qdb_del(t, DB_DUE, dk, sizeof(dk), id);
			}
		} else {
			/* Unreadable: its due entry can only be searched. */
			st = scan_delete(t, DB_DUE, due_match, id, idx);
		}
		if (st != QUEUE_OK ||
		    (st = qdb_del(t, DB_RCPT, kb, kn, id)) != QUEUE_OK)
			return st;
	}
	return st == QUEUE_NOTFOUND ? QUEUE_OK : st;
}

/* drop_forget_if - forget name if it still points at id */
static int drop_forget_if(struct queue_txn *t, const char *name,
    uint64_t id)
{
	MDB_val v;
	int st = qdb_get(t, DB_DROPPED, name, strlen(name), &v, id);

	if (st == QUEUE_NOTFOUND)
		return QUEUE_OK;
	if (st == QUEUE_OK && v.mv_size == QKEY_ID &&
	    qkey_get64(v.mv_data) == id)
		st = qdb_del(t, DB_DROPPED, name, strlen(name), id);
	return st;
}

/* purge - remove everything stored under id; drop is its maildrop name,
   "" for none, NULL when unknown (then the names are searched) */
static int purge(struct queue_txn *t, uint64_t id, const char *drop)
{
	unsigned char k[QKEY_ID];
	int st;

	qkey_id(k, id);
	if ((st = purge_rcpts(t, id)) != QUEUE_OK ||
	    (st = purge_prefix(t, DB_BODY, id)) != QUEUE_OK ||
	    (st = purge_prefix(t, DB_XSCRIPT, id)) != QUEUE_OK ||
	    (st = qdb_del(t, DB_MSG, k, sizeof(k), id)) != QUEUE_OK)
		return st;
	if (drop == NULL)
		return scan_delete(t, DB_DROPPED, drop_match, id, 0);
	return drop[0] ? drop_forget_if(t, drop, id) : QUEUE_OK;
}

/* id_next - allocate a queue id: max(last_id + 1, arrival) */
static int id_next(struct queue_txn *t, int64_t arrival, uint64_t *id_r)
{
	MDB_val v;
	uint64_t last = 0, id;
	char num[24];
	int n, st;

	st = qdb_get(t, DB_META, META_LAST_ID, sizeof(META_LAST_ID) - 1, &v,
	    0);
	if (st == QUEUE_OK && qrec_decimal(v.mv_data, v.mv_size, &last) < 0)
		return qdb_corrupt(t->q, 0, "last_id", "not a number");
	if (st != QUEUE_OK && st != QUEUE_NOTFOUND)
		return st;
	if (last >= QUEUE_ID_MAX || (uint64_t)arrival > QUEUE_ID_MAX) {
		qdb_seterr(t->q, "queue ids are exhausted");
		return QUEUE_ERROR;
	}
	id = last + 1 > (uint64_t)arrival ? last + 1 : (uint64_t)arrival;
	n = snprintf(num, sizeof(num), "%" PRIu64, id);
	st = qdb_put(t, DB_META, META_LAST_ID, sizeof(META_LAST_ID) - 1, num,
	    (size_t)n, id);
	if (st == QUEUE_OK)
		*id_r = id;
	return st;
}

/* add_fill - the new message's record, every field checked */
static int add_fill(struct queue_txn *t, const struct queue_new_msg *m,
    struct qrec_msg *r)
{
	struct queue *q = t->q;
	char why[QREC_WHY];

	memset(r, 0, sizeof(*r));
	if (copy_str(q, r->m.sender, sizeof(r->m.sender), m->sender,
	    "sender") < 0 ||
	    copy_str(q, r->m.envid, sizeof(r->m.envid), m->envid, "ENVID") < 0 ||
	    copy_str(q, r->m.from, sizeof(r->m.from), m->from, "From") < 0 ||
	    copy_str(q, r->m.subject, sizeof(r->m.subject), m->subject,
	    "Subject") < 0 ||
	    copy_str(q, r->m.msgid, sizeof(r->m.msgid), m->msgid,
	    "Message-ID") < 0 ||
	    (m->drop_name && qdb_drop_name_ok(q, m->drop_name) != QUEUE_OK) ||
	    copy_str(q, r->drop, sizeof(r->drop), m->drop_name, "drop") < 0)
		return QUEUE_ERROR;
	r->m.arrival = m->arrival;
	r->m.flags = m->flags;
	r->m.uid = m->uid;
	if (qrec_msg_encode(&q->enc, r, why) < 0) {
		qdb_seterr(q, "new message: %s", why);
		return QUEUE_ERROR;
	}
	return QUEUE_OK;
}

/* add_drop_check - a maildrop name is queued once only */
static int add_drop_check(struct queue_txn *t, const char *name)
{
	char idt[QUEUE_ID_TEXT + 1];
	uint64_t old;
	MDB_val v;
	int st = qdb_get(t, DB_DROPPED, name, strlen(name), &v, 0);

	if (st == QUEUE_NOTFOUND)
		return QUEUE_OK;
	if (st != QUEUE_OK || (st = qdb_drop_value(t->q, &v, &old)) != QUEUE_OK)
		return st;
	queue_id_format(old, idt);
	qdb_seterr(t->q, "maildrop file %s was already queued as %s", name,
	    idt);
	return QUEUE_ERROR;
}

/* queue_add_begin - start adding a message; allocates its id */
int queue_add_begin(struct queue_txn *t, const struct queue_new_msg *m,
    struct queue_add **a_r)
{
	struct queue_add *a;
	unsigned char k[QKEY_ID];
	int st;

	*a_r = NULL;
	if ((st = qdb_usable(t, 1)) != QUEUE_OK)
		return st;
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->buf = malloc(QUEUE_CHUNK)) == NULL) {
		free(a);
		return qdb_fail(t, ENOMEM, "adding a message", 0);
	}
	a->t = t;
	st = add_fill(t, m, &a->rec);
	if (st == QUEUE_OK && a->rec.drop[0])
		st = add_drop_check(t, a->rec.drop);
	if (st == QUEUE_OK)
		st = id_next(t, a->rec.m.arrival, &a->rec.m.id);
	if (st == QUEUE_OK && a->rec.drop[0]) {
		qkey_id(k, a->rec.m.id);
		st = qdb_put(t, DB_DROPPED, a->rec.drop, strlen(a->rec.drop),
		    k, sizeof(k), a->rec.m.id);
	}
	if (st != QUEUE_OK) {
		free(a->buf);
		free(a);
		return st;
	}
	a->next = t->adds;
	t->adds = a;
	*a_r = a;
	return QUEUE_OK;
}

/* add_chunk - store the next chunk of the content */
static int add_chunk(struct queue_add *a, const void *p, size_t n)
{
	unsigned char k[QKEY_ID_IDX];
	int st;

	if (a->chunk == UINT32_MAX) {
		qdb_seterr(a->t->q, "message content is too large");
		return QUEUE_ERROR;
	}
	qkey_id_idx(k, a->rec.m.id, a->chunk);
	st = qdb_put(a->t, DB_BODY, k, sizeof(k), p, n, a->rec.m.id);
	if (st == QUEUE_OK)
		a->chunk++;
	return st;
}

/* queue_add_content - n more bytes of content, stored chunk by chunk */
int queue_add_content(struct queue_add *a, const void *p, size_t n)
{
	const char *s = p;
	size_t take, i;
	int st;

	if ((st = qdb_usable(a->t, 1)) != QUEUE_OK)
		return st;
	if (n > UINT64_MAX - a->rec.m.size) {
		qdb_seterr(a->t->q, "message content is too large");
		return QUEUE_ERROR;
	}
	/* Every byte passes here, so here is where 8-bit content is seen. */
	for (i = 0; i < n && !(a->rec.m.flags & QUEUE_MSG_8BIT); i++)
		if ((unsigned char)s[i] >= 0x80)
			a->rec.m.flags |= QUEUE_MSG_8BIT;
	while (n > 0) {
		if (a->len == 0 && n >= QUEUE_CHUNK) {
			/* A whole chunk in the caller's buffer: no copy. */
			take = QUEUE_CHUNK;
			st = add_chunk(a, s, take);
		} else {
			take = QUEUE_CHUNK - a->len < n ? QUEUE_CHUNK - a->len : n;
			memcpy(a->buf + a->len, s, take);
			a->len += take;
			if (a->len == QUEUE_CHUNK &&
			    (st = add_chunk(a, a->buf, a->len)) == QUEUE_OK)
				a->len = 0;
		}
		if (st != QUEUE_OK)
			return st;
		s += take;
		n -= take;
		a->rec.m.size += take;
	}
	return QUEUE_OK;
}

/* queue_add_rcpt - the next recipient of the message, due at arrival */
int queue_add_rcpt(struct queue_add *a, const struct queue_new_rcpt *r)
{
	int st = qdb_usable(a->t, 1);

	return st != QUEUE_OK ? st : rcpt_new(a->t, &a->rec, r,
	    a->rec.m.arrival);
}

/* add_free - end an add; undo removes what it wrote */
static void add_free(struct queue_add *a, int undo)
{
	struct queue_txn *t = a->t;
	struct queue_add **pp;

	if (t != NULL) {
		if (undo && t->failed == 0 && purge(t, a->rec.m.id,
		    a->rec.drop) != QUEUE_OK && t->failed == 0)
			t->failed = QUEUE_ERROR;
		for (pp = &t->adds; *pp != a; pp = &(*pp)->next)
			;
		*pp = a->next;
	}
	free(a->buf);
	free(a);
}

/* qdb_adds_detach - cut t's open adds loose as t ends */
void qdb_adds_detach(struct queue_txn *t)
{
	struct queue_add *a;

	while ((a = t->adds) != NULL) {
		t->adds = a->next;
		a->t = NULL;
	}
}

/* queue_add_end - store the last chunk and the message record */
int queue_add_end(struct queue_add **ap, uint64_t *id_r)
{
	struct queue_add *a = *ap;
	int st;

	if (a == NULL)
		return QUEUE_ERROR;
	*ap = NULL;
	st = qdb_usable(a->t, 1);
	if (st == QUEUE_OK && a->len > 0)
		st = add_chunk(a, a->buf, a->len);
	if (st == QUEUE_OK)
		st = msg_store(a->t, &a->rec);
	if (st == QUEUE_OK && id_r != NULL)
		*id_r = a->rec.m.id;
	add_free(a, st != QUEUE_OK);
	return st;
}

/* queue_add_abandon - give up a message being added, removing it */
void queue_add_abandon(struct queue_add **ap)
{
	if (*ap != NULL)
		add_free(*ap, 1);
	*ap = NULL;
}

/* queue_append_rcpt - a new recipient of a stored message */
int queue_append_rcpt(struct queue_txn *t, uint64_t id,
    const struct queue_new_rcpt *r, int64_t due, uint32_t *idx_r)
{
	struct qrec_msg rec;
	int st;

	if ((st = qdb_usable(t, 1)) != QUEUE_OK ||
	    (st = qdb_msg_load(t, id, &rec)) != QUEUE_OK ||
	    (st = rcpt_new(t, &rec, r, due)) != QUEUE_OK)
		return st;
	if ((st = msg_store(t, &rec)) == QUEUE_OK && idx_r != NULL)
		*idx_r = rec.m.nrcpt - 1;
	return st;
}

/* queue_put_rcpt - store a changed recipient and move its due entry */
int queue_put_rcpt(struct queue_txn *t, const struct queue_rcpt *r)
{
	struct queue_rcpt old;
	int st;

	if ((st = qdb_usable(t, 1)) != QUEUE_OK)
		return st;
	st = qdb_rcpt_load(t, r->id, r->idx, &old);
	if (st == QUEUE_CORRUPT)
		return rcpt_store(t, r, NULL, 1);
	return st != QUEUE_OK ? st : rcpt_store(t, r, &old, 0);
}

/* held_change - r as queue_set_held leaves it; 0 if unchanged */
static int held_change(struct queue_rcpt *r, int held, int64_t now)
{
	if (held && (r->state == QS_PENDING || r->state == QS_DEFERRED)) {
		r->state = QS_HELD;
		return 1;
	}
	if (!held && r->state == QS_HELD) {
		r->state = QS_PENDING;
		r->next = now;
		return 1;
	}
	return 0;
}

/* queue_set_held - hold or release a message. Every recipient is read
   before any is written, so a corrupt one changes nothing. */
int queue_set_held(struct queue_txn *t, uint64_t id, int held, int64_t now)
{
	struct qrec_msg rec;
	struct queue_rcpt old, r;
	uint32_t i;
	int st, pass;

	if ((st = qdb_usable(t, 1)) != QUEUE_OK ||
	    (st = qdb_msg_load(t, id, &rec)) != QUEUE_OK)
		return st;
	if (!held && now < 0) {
		qdb_seterr(t->q, "release time is negative");
		return QUEUE_ERROR;
	}
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < rec.m.nrcpt; i++) {
			if ((st = qdb_rcpt_load(t, id, i, &old)) != QUEUE_OK)
				return st == QUEUE_NOTFOUND ? qdb_corrupt(t->q,
				    id, "message", "a recipient is missing") :
				    st;
			r = old;
			if (pass == 1 && held_change(&r, held, now) &&
			    (st = rcpt_store(t, &r, &old, 0)) != QUEUE_OK)
				return st;
		}
	if (held)
		rec.m.flags |= QUEUE_MSG_HELD;
	else
		rec.m.flags &= ~(unsigned)QUEUE_MSG_HELD;
	return msg_store(t, &rec);
}

/* queue_delete - remove a message and all that belongs to it */
int queue_delete(struct queue_txn *t, uint64_t id)
{
	unsigned char k[QKEY_ID];
	struct qrec_msg rec;
	MDB_val v;
	int st;

	if ((st = qdb_usable(t, 1)) != QUEUE_OK)
		return st;
	qkey_id(k, id);
	st = qdb_get(t, DB_MSG, k, sizeof(k), &v, id);
	if (st == QUEUE_NOTFOUND)
		return qdb_notfound(t->q, "message", id);
	if (st != QUEUE_OK)
		return st;
	if (qdb_msg_decode(t, id, &v, &rec) != QUEUE_OK)
		return purge(t, id, NULL);
	return purge(t, id, rec.drop);
}

/* queue_put_transcript - a recipient's last transcript, capped */
int queue_put_transcript(struct queue_txn *t, uint64_t id, uint32_t idx,
    const char *p, size_t n)
{
	struct queue *q;
	unsigned char k[QKEY_ID_IDX];
	MDB_val v;
	int st;

	if ((st = qdb_usable(t, 1)) != QUEUE_OK)
		return st;
	q = t->q;
	qkey_id_idx(k, id, idx);
	st = qdb_get(t, DB_RCPT, k, sizeof(k), &v, id);
	if (st == QUEUE_NOTFOUND)
		return qdb_notfound(q, "such recipient of message", id);
	if (st != QUEUE_OK)
		return st;
	if (qrec_transcript_cap(&q->enc, p, n) < 0)
		return qdb_fail(t, ENOMEM, "storing a transcript of", id);
	return qdb_put(t, DB_XSCRIPT, k, sizeof(k), strbuf_str(&q->enc),
	    q->enc.len, id);
}

/* queue_dropped_forget - forget a maildrop name */
int queue_dropped_forget(struct queue_txn *t, const char *name)
{
	MDB_val v;
	int st;

	if ((st = qdb_usable(t, 1)) != QUEUE_OK ||
	    (st = qdb_drop_name_ok(t->q, name)) != QUEUE_OK ||
	    (st = qdb_get(t, DB_DROPPED, name, strlen(name), &v, 0)) !=
	    QUEUE_OK)
		return st;
	return qdb_del(t, DB_DROPPED, name, strlen(name), 0);
}
