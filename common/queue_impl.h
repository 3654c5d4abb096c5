/*
 * queue_impl - the queue store's private parts, shared by its files:
 *
 *   queue.c         the environment, transactions, errors, LMDB calls
 *   queue_read.c    reading records, content, the due index, names
 *   queue_store.c   adding, changing and deleting
 *   queue_record.c  keys, record encoding and strict decoding, ids
 *
 * Nothing outside common/queue*.c includes this header; everyone else
 * uses queue.h. Decoding trusts nothing: every field is checked against
 * its type, its buffer and its meaning, and a record that fails is
 * reported with a reason, never repaired.
 */
#ifndef POSTERN_QUEUE_IMPL_H
#define POSTERN_QUEUE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "attr.h"
#include "queue.h"
#include "strbuf.h"

/* --- queue_record.c: keys and records --- */

#define QREC_MAX 16384		/* longest msg or rcpt record */
#define QREC_ATTRS 16		/* most attributes in a record */
#define QREC_WHY 128		/* room for a reason */

/* Keys: big-endian, so that byte order is numeric order. */
#define QKEY_ID 8		/* msg, dropped value */
#define QKEY_ID_IDX 12		/* body, rcpt, xscript */
#define QKEY_DUE 20		/* due */

void qkey_id(unsigned char k[QKEY_ID], uint64_t id);
void qkey_id_idx(unsigned char k[QKEY_ID_IDX], uint64_t id, uint32_t idx);
void qkey_due(unsigned char k[QKEY_DUE], int64_t when, uint64_t id,
    uint32_t idx);
uint64_t qkey_get64(const unsigned char *p);
uint32_t qkey_get32(const unsigned char *p);
/* qkey_due_parse - a due key back into d; -1 when it is not one */
int qkey_due_parse(const void *p, size_t n, struct queue_due *d);

/* A message record: the public fields and the maildrop name it came
   from ("" if none), which queue_delete needs to forget. */
struct qrec_msg {
	struct queue_msg m;
	char drop[QUEUE_DROPNAME_MAX + 1];
};

/* qrec_msg_encode - r as a record in out (reset first); 0, or -1 with a
   reason in why when a field is out of bounds */
int qrec_msg_encode(struct strbuf *out, const struct qrec_msg *r,
    char why[QREC_WHY]);
/* qrec_msg_decode - len bytes at buf (decoded in place) into r; r->m.id
   is left to the caller. 0, or -1 with a reason in why. */
int qrec_msg_decode(char *buf, size_t len, struct attr_list *list,
    struct qrec_msg *r, char why[QREC_WHY]);
/* qrec_rcpt_encode, qrec_rcpt_decode - the same for recipients; decode
   needs r->idx set (a parent must come before its child) */
int qrec_rcpt_encode(struct strbuf *out, const struct queue_rcpt *r,
    char why[QREC_WHY]);
int qrec_rcpt_decode(char *buf, size_t len, struct attr_list *list,
    struct queue_rcpt *r, char why[QREC_WHY]);
/* qrec_due_wanted - the recipient must have a due entry */
int qrec_due_wanted(const struct queue_rcpt *r);

/* qrec_transcript_cap - p[0..n) as stored: whole when it fits in
   QUEUE_TRANSCRIPT_MAX, else head, an omission line and tail */
int qrec_transcript_cap(struct strbuf *out, const char *p, size_t n);

/* qrec_decimal - a strict decimal (digits, no leading zero) of n bytes */
int qrec_decimal(const void *p, size_t n, uint64_t *v_r);

/* --- queue.c: the handle, transactions and LMDB plumbing --- */

enum qdb {
	DB_META, DB_MSG, DB_BODY, DB_RCPT, DB_XSCRIPT, DB_DUE, DB_DROPPED,
	DB_N
};

struct queue {
	MDB_env *env;
	MDB_dbi dbi[DB_N];
	int rdonly;
	int busy;			/* a transaction is open */
	char err[512];			/* what the last failure was about */
	struct strbuf enc;		/* a value being built */
	struct attr_list attrs;		/* a record being decoded */
	char *copy;			/* a record copied out of the map */
};

struct queue_txn {
	struct queue *q;
	MDB_txn *txn;
	int write;
	int failed;			/* the status that doomed it, or 0 */
	struct queue_add *adds;		/* begun, not yet ended or abandoned */
	MDB_cursor *cur[DB_N];		/* opened on first use */
	uint64_t msg_at;		/* id under cur[DB_MSG] ... */
	int msg_at_ok;			/* ... if nothing was written since */
	int rcpt_at_ok;			/* cur[DB_RCPT] is on the recipient
					   qdb_rcpt_load read last */
};

/* qdb_seterr - remember what went wrong, for queue_error() */
void qdb_seterr(struct queue *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* qdb_fail - an LMDB call failed in t (rc: LMDB or errno): t is doomed */
int qdb_fail(struct queue_txn *t, int rc, const char *what, uint64_t id);
/* qdb_corrupt - a stored record of message id (0: none) did not decode */
int qdb_corrupt(struct queue *q, uint64_t id, const char *what,
    const char *why);
/* qdb_notfound - QUEUE_NOTFOUND, saying what is missing */
int qdb_notfound(struct queue *q, const char *what, uint64_t id);
/* qdb_usable - t may be used (for writing, when write is set) */
int qdb_usable(struct queue_txn *t, int write);

/* The LMDB calls, mapped to queue statuses (QUEUE_NOTFOUND for a
   missing key, except that qdb_del ignores one). qdb_seek positions
   t's own cursor on db: at the first key >= k when k is given, else by
   op; key and val are what it lands on. */
int qdb_get(struct queue_txn *t, enum qdb db, const void *k, size_t kn,
    MDB_val *v, uint64_t id);
int qdb_put(struct queue_txn *t, enum qdb db, const void *k, size_t kn,
    const void *v, size_t vn, uint64_t id);
int qdb_del(struct queue_txn *t, enum qdb db, const void *k, size_t kn,
    uint64_t id);
int qdb_seek(struct queue_txn *t, enum qdb db, const void *k, size_t kn,
    MDB_cursor_op op, MDB_val *key, MDB_val *val);
/* qdb_cursor_get - any op on t's own cursor on db (key and val as
   mdb_cursor_get takes them); it does not clear rcpt_at_ok, which the
   caller keeps */
int qdb_cursor_get(struct queue_txn *t, enum qdb db, MDB_val *key,
    MDB_val *val, MDB_cursor_op op);
/* qdb_cursor_del - delete the entry under t's cursor on db */
int qdb_cursor_del(struct queue_txn *t, enum qdb db, uint64_t id);


/* --- queue_store.c --- */

/* qdb_adds_detach - the transaction ends: its open adds no longer
   belong to it (calls on them fail; abandoning still frees them) */
void qdb_adds_detach(struct queue_txn *t);

/* --- queue_read.c: records in and out of the map --- */

/* qdb_msg_decode - the stored value v of message id into r */
int qdb_msg_decode(struct queue_txn *t, uint64_t id, const MDB_val *v,
    struct qrec_msg *r);
/* qdb_msg_load - message id's record (QUEUE_NOTFOUND if none) */
int qdb_msg_load(struct queue_txn *t, uint64_t id, struct qrec_msg *r);
/* qdb_rcpt_decode, qdb_rcpt_load - the same for recipient id/idx */
int qdb_rcpt_decode(struct queue_txn *t, uint64_t id, uint32_t idx,
    const MDB_val *v, struct queue_rcpt *r);
int qdb_rcpt_load(struct queue_txn *t, uint64_t id, uint32_t idx,
    struct queue_rcpt *r);
/* qdb_drop_name_ok - a maildrop name fit to be a key (QUEUE_ERROR if not) */
int qdb_drop_name_ok(struct queue *q, const char *name);
/* qdb_drop_value - the queue id stored under a maildrop name */
int qdb_drop_value(struct queue *q, const MDB_val *v, uint64_t *id_r);

#endif
