/*
 * queue_read - reading the queue store: messages, recipients, content,
 * transcripts, the due index and the maildrop names (queue.h says what
 * each call promises; queue_impl.h shows how the files divide).
 *
 * Callers: through queue.h, the queue manager and posternctl; the
 * record loaders (qdb_msg_load and friends) also serve queue_store.c.
 *
 * Trust: every value is copied out of the read-only map before it is
 * decoded (attr_decode writes in place), and decoded strictly: a record
 * that fails is QUEUE_CORRUPT with a message naming its queue id. Keys
 * are checked for their size before a number is taken out of them.
 * Content chunks are handed out in place (they are bytes, not records)
 * but their sizes are checked against QUEUE_CHUNK and the message size.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsio.h"
#include "queue_impl.h"

/* qdb_msg_decode - the stored value v of message id into r */
int qdb_msg_decode(struct queue_txn *t, uint64_t id, const MDB_val *v,
    struct qrec_msg *r)
{
	struct queue *q = t->q;
	char why[QREC_WHY];

	if (v->mv_size > QREC_MAX)
		return qdb_corrupt(q, id, "message", "record too long");
	memcpy(q->copy, v->mv_data, v->mv_size);
	if (qrec_msg_decode(q->copy, v->mv_size, &q->attrs, r, why) < 0)
		return qdb_corrupt(q, id, "message", why);
	r->m.id = id;
	return QUEUE_OK;
}

/* qdb_msg_load - message id's record */
int qdb_msg_load(struct queue_txn *t, uint64_t id, struct qrec_msg *r)
{
	unsigned char k[QKEY_ID];
	MDB_val v;
	int st;

	qkey_id(k, id);
	st = qdb_get(t, DB_MSG, k, sizeof(k), &v, id);
	if (st == QUEUE_NOTFOUND)
		return qdb_notfound(t->q, "message", id);
	return st != QUEUE_OK ? st : qdb_msg_decode(t, id, &v, r);
}

/* qdb_rcpt_decode - the stored value v of recipient id/idx into r */
int qdb_rcpt_decode(struct queue_txn *t, uint64_t id, uint32_t idx,
    const MDB_val *v, struct queue_rcpt *r)
{
	struct queue *q = t->q;
	char why[QREC_WHY], what[48];

	r->id = id;
	r->idx = idx;
	if (v->mv_size <= QREC_MAX) {
		memcpy(q->copy, v->mv_data, v->mv_size);
		if (qrec_rcpt_decode(q->copy, v->mv_size, &q->attrs, r,
		    why) == 0)
			return QUEUE_OK;
	} else {
		snprintf(why, sizeof(why), "record too long");
	}
	snprintf(what, sizeof(what), "recipient %" PRIu32 " of", idx);
	return qdb_corrupt(q, id, what, why);
}

/* qdb_rcpt_load - recipient id/idx */
int qdb_rcpt_load(struct queue_txn *t, uint64_t id, uint32_t idx,
    struct queue_rcpt *r)
{
	unsigned char k[QKEY_ID_IDX];
	MDB_val v;
	int st;

	MDB_val key;

	qkey_id_idx(k, id, idx);
	/* A listing reads recipients in key order: the one wanted is most
	   often the next under the cursor, which costs far less than a
	   lookup from the root. */
	if (t->rcpt_at_ok && qdb_cursor_get(t, DB_RCPT, &key, &v, MDB_NEXT) ==
	    QUEUE_OK && key.mv_size == sizeof(k) &&
	    memcmp(key.mv_data, k, sizeof(k)) == 0)
		return qdb_rcpt_decode(t, id, idx, &v, r);
	t->rcpt_at_ok = 0;
	key.mv_size = sizeof(k);
	key.mv_data = k;
	st = qdb_cursor_get(t, DB_RCPT, &key, &v, MDB_SET_KEY);
	if (st == QUEUE_NOTFOUND)
		return qdb_notfound(t->q, "such recipient of message", id);
	if (st != QUEUE_OK)
		return st;
	t->rcpt_at_ok = 1;
	return qdb_rcpt_decode(t, id, idx, &v, r);
}

/* qdb_drop_name_ok - a maildrop name that can be a key */
int qdb_drop_name_ok(struct queue *q, const char *name)
{
	size_t n = name ? strnlen(name, QUEUE_DROPNAME_MAX + 1) : 0;

	if (n == 0 || n > QUEUE_DROPNAME_MAX) {
		qdb_seterr(q, "maildrop file name is empty or longer than %d "
		    "bytes", QUEUE_DROPNAME_MAX);
		return QUEUE_ERROR;
	}
	return QUEUE_OK;
}

/* qdb_drop_value - the id a dropped entry points at */
int qdb_drop_value(struct queue *q, const MDB_val *v, uint64_t *id_r)
{
	uint64_t id;

	if (v->mv_size != QKEY_ID || (id = qkey_get64(v->mv_data)) == 0 ||
	    id > QUEUE_ID_MAX)
		return qdb_corrupt(q, 0, "dropped", "value is not a queue id");
	*id_r = id;
	return QUEUE_OK;
}

/* queue_get_msg - message id */
int queue_get_msg(struct queue_txn *t, uint64_t id, struct queue_msg *m)
{
	struct qrec_msg rec;
	int st;

	if ((st = qdb_usable(t, 0)) != QUEUE_OK)
		return st;
	if ((st = qdb_msg_load(t, id, &rec)) == QUEUE_OK)
		*m = rec.m;
	return st;
}

/* queue_next_msg - the message after id after, in id order */
int queue_next_msg(struct queue_txn *t, uint64_t after, struct queue_msg *m)
{
	unsigned char k[QKEY_ID];
	struct qrec_msg rec;
	MDB_val key, val;
	int st;

	if ((st = qdb_usable(t, 0)) != QUEUE_OK)
		return st;
	if (t->msg_at_ok && t->msg_at == after) {
		st = qdb_seek(t, DB_MSG, NULL, 0, MDB_NEXT, &key, &val);
	} else if (after >= QUEUE_ID_MAX) {
		st = QUEUE_NOTFOUND;
	} else {
		qkey_id(k, after + 1);
		st = qdb_seek(t, DB_MSG, k, sizeof(k), MDB_SET_RANGE, &key,
		    &val);
	}
	t->msg_at_ok = 0;
	if (st != QUEUE_OK)
		return st;
	if (key.mv_size != QKEY_ID)
		return qdb_corrupt(t->q, 0, "message", "key of a bad size");
	t->msg_at = qkey_get64(key.mv_data);
	t->msg_at_ok = 1;
	if ((st = qdb_msg_decode(t, t->msg_at, &val, &rec)) == QUEUE_OK)
		*m = rec.m;
	else
		m->id = t->msg_at;
	return st;
}

/* queue_count_msgs - the messages in the queue, from LMDB's own count
   (no record is read) */
int queue_count_msgs(struct queue_txn *t, uint64_t *n_r)
{
	MDB_stat ms;
	int st = qdb_usable(t, 0), rc;

	if (st != QUEUE_OK)
		return st;
	if ((rc = mdb_stat(t->txn, t->q->dbi[DB_MSG], &ms)) != 0)
		return qdb_fail(t, rc, "counting messages", 0);
	*n_r = ms.ms_entries;
	return QUEUE_OK;
}

/* queue_count_ids - message keys in (after, upto], at most max, without
   reading a record */
int queue_count_ids(struct queue_txn *t, uint64_t after, uint64_t upto,
    uint64_t max, uint64_t *n_r, uint64_t *last_r)
{
	unsigned char k[QKEY_ID];
	MDB_val key, val;
	uint64_t id;
	int st;

	*n_r = 0;
	*last_r = after;
	if ((st = qdb_usable(t, 0)) != QUEUE_OK)
		return st;
	t->msg_at_ok = 0;
	if (after >= upto || after >= QUEUE_ID_MAX)
		return QUEUE_OK;
	qkey_id(k, after + 1);
	for (st = qdb_seek(t, DB_MSG, k, sizeof(k), MDB_SET_RANGE, &key,
	    &val); st == QUEUE_OK && *n_r < max; st = qdb_seek(t, DB_MSG,
	    NULL, 0, MDB_NEXT, &key, &val)) {
		if (key.mv_size != QKEY_ID)
			return qdb_corrupt(t->q, 0, "message", "key of a bad size");
		if ((id = qkey_get64(key.mv_data)) > upto)
			break;
		*last_r = id;
		(*n_r)++;
	}
	return st == QUEUE_NOTFOUND ? QUEUE_OK : st;
}

/* queue_last_id - the highest message id in the queue */
int queue_last_id(struct queue_txn *t, uint64_t *id_r)
{
	MDB_val key, val;
	int st;

	if ((st = qdb_usable(t, 0)) != QUEUE_OK)
		return st;
	t->msg_at_ok = 0;
	if ((st = qdb_seek(t, DB_MSG, NULL, 0, MDB_LAST, &key, &val)) !=
	    QUEUE_OK)
		return st;
	if (key.mv_size != QKEY_ID)
		return qdb_corrupt(t->q, 0, "message", "key of a bad size");
	*id_r = qkey_get64(key.mv_data);
	return QUEUE_OK;
}

/* queue_get_rcpt - recipient idx of message id */
int queue_get_rcpt(struct queue_txn *t, uint64_t id, uint32_t idx,
    struct queue_rcpt *r)
{
	int st = qdb_usable(t, 0);

	return st != QUEUE_OK ? st : qdb_rcpt_load(t, id, idx, r);
}

/* queue_content_chunk - chunk n of message id's content, in the map */
int queue_content_chunk(struct queue_txn *t, uint64_t id, uint32_t n,
    const void **p_r, size_t *len_r)
{
	unsigned char k[QKEY_ID_IDX];
	MDB_val v;
	int st;

	if ((st = qdb_usable(t, 0)) != QUEUE_OK)
		return st;
	qkey_id_idx(k, id, n);
	if ((st = qdb_get(t, DB_BODY, k, sizeof(k), &v, id)) != QUEUE_OK)
		return st;
	if (v.mv_size == 0 || v.mv_size > QUEUE_CHUNK)
		return qdb_corrupt(t->q, id, "content of", "chunk of a bad "
		    "size");
	*p_r = v.mv_data;
	*len_r = v.mv_size;
	return QUEUE_OK;
}

/* write_failed - the caller's fd refused the content */
static int write_failed(struct queue *q, uint64_t id, int err)
{
	char idt[QUEUE_ID_TEXT + 1];

	queue_id_format(id, idt);
	qdb_seterr(q, "writing the content of %s: %s", idt, strerror(err));
	return err == EIO || err == ENOSPC || err == EDQUOT ? QUEUE_TEMP :
	    QUEUE_ERROR;
}

/* queue_content_write - all of message id's content to fd */
int queue_content_write(struct queue_txn *t, uint64_t id, int fd)
{
	struct qrec_msg rec;
	uint64_t total = 0;
	const void *p;
	size_t len;
	uint32_t n;
	int st;

	if ((st = qdb_usable(t, 0)) != QUEUE_OK ||
	    (st = qdb_msg_load(t, id, &rec)) != QUEUE_OK)
		return st;
	for (n = 0; (st = queue_content_chunk(t, id, n, &p, &len)) ==
	    QUEUE_OK; n++) {
		if (fsio_write(fd, p, len) < 0)
			return write_failed(t->q, id, errno);
		total += len;
	}
	if (st != QUEUE_NOTFOUND)
		return st;
	if (total != rec.m.size)
		return qdb_corrupt(t->q, id, "content of", "chunks do not "
		    "add up to the message size");
	return QUEUE_OK;
}

/* queue_get_transcript - a recipient's last transcript into out */
int queue_get_transcript(struct queue_txn *t, uint64_t id, uint32_t idx,
    struct strbuf *out)
{
	unsigned char k[QKEY_ID_IDX];
	MDB_val v;
	int st;

	if ((st = qdb_usable(t, 0)) != QUEUE_OK)
		return st;
	qkey_id_idx(k, id, idx);
	if ((st = qdb_get(t, DB_XSCRIPT, k, sizeof(k), &v, id)) != QUEUE_OK)
		return st;
	if (v.mv_size > QUEUE_TRANSCRIPT_MAX)
		return qdb_corrupt(t->q, id, "transcript of", "too long");
	strbuf_reset(out);
	if (strbuf_append(out, v.mv_data, v.mv_size) < 0) {
		qdb_seterr(t->q, "transcript does not fit the buffer");
		return QUEUE_ERROR;
	}
	return QUEUE_OK;
}

/* queue_dropped_lookup - the id a maildrop name was queued as */
int queue_dropped_lookup(struct queue_txn *t, const char *name,
    uint64_t *id_r)
{
	MDB_val v;
	int st;

	if ((st = qdb_usable(t, 0)) != QUEUE_OK ||
	    (st = qdb_drop_name_ok(t->q, name)) != QUEUE_OK ||
	    (st = qdb_get(t, DB_DROPPED, name, strlen(name), &v, 0)) !=
	    QUEUE_OK)
		return st;
	return qdb_drop_value(t->q, &v, id_r);
}

/* queue_dropped_list - every remembered maildrop name, in byte order */
int queue_dropped_list(struct queue_txn *t,
    int (*cb)(void *ctx, const char *name), void *ctx)
{
	char name[QUEUE_DROPNAME_MAX + 1];
	MDB_val key, val;
	size_t n;
	int st;

	if ((st = qdb_usable(t, 0)) != QUEUE_OK)
		return st;
	st = qdb_seek(t, DB_DROPPED, NULL, 0, MDB_FIRST, &key, &val);
	while (st == QUEUE_OK) {
		n = key.mv_size;
		if (n == 0 || n > QUEUE_DROPNAME_MAX ||
		    memchr(key.mv_data, '\0', n) != NULL)
			return qdb_corrupt(t->q, 0, "dropped", "bad name");
		memcpy(name, key.mv_data, n);
		name[n] = '\0';
		if (cb(ctx, name) != 0)
			return QUEUE_OK;
		/* cb may have changed the names: find the place again. */
		st = qdb_seek(t, DB_DROPPED, name, n, MDB_SET_RANGE, &key,
		    &val);
		if (st == QUEUE_OK && key.mv_size == n &&
		    memcmp(key.mv_data, name, n) == 0)
			st = qdb_seek(t, DB_DROPPED, NULL, 0, MDB_NEXT, &key,
			    &val);
	}
	return st == QUEUE_NOTFOUND ? QUEUE_OK : st;
}

/* due_entry - the due entry under key, if its time is <= upto */
static int due_entry(struct queue_txn *t, const MDB_val *key,
    const MDB_val *val, int64_t upto, struct queue_due *d)
{
	if (qkey_due_parse(key->mv_data, key->mv_size, d) < 0 ||
	    val->mv_size != 0)
		return qdb_corrupt(t->q, 0, "due", "bad entry");
	return d->when > upto ? QUEUE_NOTFOUND : QUEUE_OK;
}

/* queue_due_next - the next due entry after *after, up to upto */
int queue_due_next(struct queue_txn *t, int64_t upto,
    const struct queue_due *after, struct queue_due *d_r)
{
	unsigned char k[QKEY_DUE];
	MDB_val key, val;
	int st;

	if ((st = qdb_usable(t, 0)) != QUEUE_OK)
		return st;
	if (after == NULL || after->when < 0) {
		st = qdb_seek(t, DB_DUE, NULL, 0, MDB_FIRST, &key, &val);
	} else {
		qkey_due(k, after->when, after->id, after->idx);
		st = qdb_seek(t, DB_DUE, k, sizeof(k), MDB_SET_RANGE, &key,
		    &val);
		if (st == QUEUE_OK && key.mv_size == sizeof(k) &&
		    memcmp(key.mv_data, k, sizeof(k)) == 0)
			st = qdb_seek(t, DB_DUE, NULL, 0, MDB_NEXT, &key, &val);
	}
	return st != QUEUE_OK ? st : due_entry(t, &key, &val, upto, d_r);
}

/* queue_due_first - the earliest due time */
int queue_due_first(struct queue_txn *t, int64_t *when_r)
{
	struct queue_due d;
	MDB_val key, val;
	int st;

	if ((st = qdb_usable(t, 0)) != QUEUE_OK ||
	    (st = qdb_seek(t, DB_DUE, NULL, 0, MDB_FIRST, &key, &val)) !=
	    QUEUE_OK ||
	    (st = due_entry(t, &key, &val, INT64_MAX, &d)) != QUEUE_OK)
		return st;
	*when_r = d.when;
	return QUEUE_OK;
}
