/*
 * queue - the queue store on LMDB (see queue.h: layout, states, errors).
 *
 * Callers: the queue manager (the only writer) and posternctl (read
 * only). The queue store is the one module that calls LMDB; this file
 * opens the environment, runs transactions, maps LMDB's errors to queue
 * statuses and wraps the few LMDB calls the other files use
 * (queue_read.c, queue_store.c; queue_record.c encodes the records).
 *
 * Trust: arguments are checked for bounds (a string that does not fit
 * its field is refused, never cut). The database's bytes are trusted for
 * nothing: each value is copied out of the read-only map and decoded
 * strictly, so a bad record is QUEUE_CORRUPT naming its queue id, never a
 * crash. LMDB is trusted to be atomic and durable because the environment
 * is opened without MDB_WRITEMAP, MDB_NOSYNC, MDB_NOMETASYNC and
 * MDB_MAPASYNC, and only on a local file system (checked here). Every
 * LMDB failure inside a transaction dooms it: it can only be aborted.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fsio.h"
#include "queue_impl.h"

static const char *const db_names[DB_N] = {
	"meta", "msg", "body", "rcpt", "xscript", "due", "dropped",
};

static const struct { unsigned long magic; const char *name; } net_fs[] = {
	{ 0x6969, "NFS" }, { 0x517B, "SMB" }, { 0xFF534D42, "CIFS" },
	{ 0xFE534D42, "SMB2" }, { 0x65735546, "FUSE" },
};

#define META_SCHEMA "schema"
#define NAME_LEN(s) (sizeof(s) - 1)

/* qdb_seterr - remember what went wrong (a cut message is still useful) */
void qdb_seterr(struct queue *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->err, sizeof(q->err), fmt, ap);
	va_end(ap);
}

/* id_text - " ID" for messages, "" for id 0 */
static const char *id_text(uint64_t id, char buf[QUEUE_ID_TEXT + 2])
{
	buf[0] = '\0';
	if (id != 0) {
		buf[0] = ' ';
		queue_id_format(id, buf + 1);
	}
	return buf;
}

/* lmdb_status - the queue status for LMDB (or errno) result rc */
static int lmdb_status(struct queue *q, int rc, const char *what,
    uint64_t id)
{
	char idt[QUEUE_ID_TEXT + 2];
	const char *hint;
	int st = QUEUE_TEMP;

	switch (rc) {
	case MDB_MAP_FULL:
		hint = "queue database is full (queue_map_size)";
		break;
	case MDB_READERS_FULL:
		hint = "queue database has no free reader slot";
		break;
	case MDB_TXN_FULL:
		hint = "queue transaction is too large";
		break;
	case ENOSPC:
	case EDQUOT:
		hint = "no space left for the queue database";
		break;
	case EIO:
		hint = "I/O error on the queue database (reopen it)";
		break;
	case ENOMEM:
		hint = "out of memory";
		break;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		hint = "queue database is corrupted";
		st = QUEUE_CORRUPT;
		break;
	default:
		hint = "queue database error";
		st = QUEUE_ERROR;
	}
	qdb_seterr(q, "%s: %s%s: %s", hint, what, id_text(id, idt),
	    mdb_strerror(rc));
	return st;
}

/* qdb_fail - an LMDB call failed in t, which can only be aborted now */
int qdb_fail(struct queue_txn *t, int rc, const char *what,
    uint64_t id)
{
	int st = lmdb_status(t->q, rc, what, id);

	if (t->failed == 0)
		t->failed = st;
	return st;
}

/* qdb_corrupt - a stored record did not decode */
int qdb_corrupt(struct queue *q, uint64_t id, const char *what,
    const char *why)
{
	char idt[QUEUE_ID_TEXT + 2];

	qdb_seterr(q, "queue record %s%s is corrupt: %s", what,
	    id_text(id, idt), why);
	return QUEUE_CORRUPT;
}

/* qdb_notfound - say which record is missing */
int qdb_notfound(struct queue *q, const char *what, uint64_t id)
{
	char idt[QUEUE_ID_TEXT + 2];

	qdb_seterr(q, "no %s%s in the queue", what, id_text(id, idt));
	return QUEUE_NOTFOUND;
}

/* qdb_usable - t may be used (for writing, when write is set) */
int qdb_usable(struct queue_txn *t, int write)
{
	if (t == NULL)
		return QUEUE_ERROR;
	if (t->failed)
		return t->failed;	/* q->err still says why */
	if (write && !t->write) {
		qdb_seterr(t->q, "write to the queue in a read transaction");
		return QUEUE_ERROR;
	}
	return QUEUE_OK;
}

/* qdb_get - the value under k */
int qdb_get(struct queue_txn *t, enum qdb db, const void *k,
    size_t kn, MDB_val *v, uint64_t id)
{
	MDB_val key = { kn, (void *)k };
	int rc = mdb_get(t->txn, t->q->dbi[db], &key, v);

	if (rc == MDB_NOTFOUND)
		return QUEUE_NOTFOUND;
	return rc ? qdb_fail(t, rc, "reading", id) : QUEUE_OK;
}

/* qdb_put - store v under k */
int qdb_put(struct queue_txn *t, enum qdb db, const void *k,
    size_t kn, const void *v, size_t vn, uint64_t id)
{
	MDB_val key = { kn, (void *)k }, val = { vn, (void *)v };
	int rc;

	t->msg_at_ok = 0;
	t->rcpt_at_ok = 0;
	rc = mdb_put(t->txn, t->q->dbi[db], &key, &val, 0);
	return rc ? qdb_fail(t, rc, "writing", id) : QUEUE_OK;
}

/* qdb_del - delete k; a missing key is fine */
int qdb_del(struct queue_txn *t, enum qdb db, const void *k,
    size_t kn, uint64_t id)
{
	MDB_val key = { kn, (void *)k };
	int rc;

	t->msg_at_ok = 0;
	t->rcpt_at_ok = 0;
	rc = mdb_del(t->txn, t->q->dbi[db], &key, NULL);
	if (rc == MDB_NOTFOUND)
		return QUEUE_OK;
	return rc ? qdb_fail(t, rc, "deleting", id) : QUEUE_OK;
}

/* qdb_seek - position t's cursor on db (MDB_SET_RANGE when k is given,
   else op); QUEUE_NOTFOUND at the end */
int qdb_seek(struct queue_txn *t, enum qdb db, const void *k,
    size_t kn, MDB_cursor_op op, MDB_val *key, MDB_val *val)
{
	int rc;

	if (t->cur[db] == NULL &&
	    (rc = mdb_cursor_open(t->txn, t->q->dbi[db], &t->cur[db])) != 0)
		return qdb_fail(t, rc, "opening a cursor on", 0);
	if (db == DB_RCPT)
		t->rcpt_at_ok = 0;
	if (k != NULL) {
		key->mv_size = kn;
		key->mv_data = (void *)k;
		op = MDB_SET_RANGE;
	}
	rc = mdb_cursor_get(t->cur[db], key, val, op);
	if (rc == MDB_NOTFOUND)
		return QUEUE_NOTFOUND;
	return rc ? qdb_fail(t, rc, "reading", 0) : QUEUE_OK;
}

/* qdb_cursor_get - op on t's own cursor on db, opened on first use */
int qdb_cursor_get(struct queue_txn *t, enum qdb db, MDB_val *key,
    MDB_val *val, MDB_cursor_op op)
{
	int rc;

	if (t->cur[db] == NULL &&
	    (rc = mdb_cursor_open(t->txn, t->q->dbi[db], &t->cur[db])) != 0)
		return qdb_fail(t, rc, "opening a cursor on", 0);
	rc = mdb_cursor_get(t->cur[db], key, val, op);
	if (rc == MDB_NOTFOUND)
		return QUEUE_NOTFOUND;
	return rc ? qdb_fail(t, rc, "reading", 0) : QUEUE_OK;
}

/* qdb_cursor_del - delete the entry under t's cursor on db */
int qdb_cursor_del(struct queue_txn *t, enum qdb db, uint64_t id)
{
	int rc;

	t->msg_at_ok = 0;
	t->rcpt_at_ok = 0;
	rc = mdb_cursor_del(t->cur[db], 0);
	return rc ? qdb_fail(t, rc, "deleting", id) : QUEUE_OK;
}

/* close_cursors - before the transaction ends */
static void close_cursors(struct queue_txn *t)
{
	size_t i;

	for (i = 0; i < DB_N; i++)
		if (t->cur[i] != NULL) {
			mdb_cursor_close(t->cur[i]);
			t->cur[i] = NULL;
		}
}

/* env_commit - commit txn through the fault seam */
static int env_commit(struct queue *q, MDB_txn *txn, int write)
{
	int rc;

	if (write && fsio_fault_check(FSIO_COMMIT) < 0) {
		rc = errno;
		mdb_txn_abort(txn);
	} else {
		rc = mdb_txn_commit(txn);
	}
	return rc ? lmdb_status(q, rc, "committing", 0) : QUEUE_OK;
}

/* check_fs - refuse a network file system (LMDB needs local locking) */
static int check_fs(struct queue *q, const char *dbdir)
{
	struct statfs sf;
	size_t i;

	if (statfs(dbdir, &sf) < 0) {
		qdb_seterr(q, "queue directory %s: %s", dbdir, strerror(errno));
		return QUEUE_ERROR;
	}
	for (i = 0; i < sizeof(net_fs) / sizeof(net_fs[0]); i++)
		if ((uint32_t)sf.f_type == net_fs[i].magic) {
			qdb_seterr(q, "queue directory %s is on a network file "
			    "system (%s); LMDB needs a local one", dbdir,
			    net_fs[i].name);
			return QUEUE_ERROR;
		}
	return QUEUE_OK;
}

/* check_lock - a read-only open by another user than the directory's
   owner must not create lock.mdb (the owner could not use it after) */
static int check_lock(struct queue *q, const char *dbdir)
{
	struct stat st;
	int fd;

	if ((fd = open(dbdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0) {
		qdb_seterr(q, "queue directory %s: %s", dbdir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return QUEUE_ERROR;
	}
	if (st.st_uid != geteuid() &&
	    faccessat(fd, "lock.mdb", F_OK, 0) < 0) {
		close(fd);
		qdb_seterr(q, "queue directory %s has no lock.mdb; open it as its "
		    "owner (uid %lu)", dbdir, (unsigned long)st.st_uid);
		return QUEUE_ERROR;
	}
	close(fd);
	return QUEUE_OK;
}

/* open_env - the environment, as queue.h promises */
static int open_env(struct queue *q, const char *dbdir, uint64_t mapsize)
{
	int rc, dead, st, fd;

	if ((st = check_fs(q, dbdir)) != QUEUE_OK ||
	    (q->rdonly && (st = check_lock(q, dbdir)) != QUEUE_OK))
		return st;
	if (mapsize > SIZE_MAX) {
		qdb_seterr(q, "queue_map_size is too large for this machine");
		return QUEUE_ERROR;
	}
	if ((rc = mdb_env_create(&q->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(q->env, 8)) != 0 ||
	    (mapsize && (rc = mdb_env_set_mapsize(q->env, mapsize)) != 0))
		return lmdb_status(q, rc, "setting up", 0);
	rc = mdb_env_open(q->env, dbdir, q->rdonly ? MDB_RDONLY : 0, 0600);
	if (rc != 0)
		return lmdb_status(q, rc, "opening", 0);
	/* LMDB 0.9.24 marks its other descriptors close-on-exec, not this
	   one; a worker the queue manager starts must not inherit it. */
	if ((rc = mdb_env_get_fd(q->env, &fd)) != 0 ||
	    fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC) < 0)
		return lmdb_status(q, rc ? rc : errno, "opening", 0);
	if ((rc = mdb_reader_check(q->env, &dead)) != 0)
		return lmdb_status(q, rc, "clearing stale readers", 0);
	return QUEUE_OK;
}

/* check_schema - meta says schema 1 (written now in a new queue) */
static int check_schema(struct queue *q, MDB_txn *txn, int create)
{
	MDB_val k = { NAME_LEN(META_SCHEMA), META_SCHEMA }, v;
	MDB_stat ms;
	uint64_t s;
	int rc;

	rc = mdb_get(txn, q->dbi[DB_META], &k, &v);
	if (rc == MDB_NOTFOUND && create &&
	    mdb_stat(txn, q->dbi[DB_META], &ms) == 0 && ms.ms_entries == 0) {
		v.mv_data = "1";
		v.mv_size = 1;
		rc = mdb_put(txn, q->dbi[DB_META], &k, &v, 0);
		return rc ? lmdb_status(q, rc, "creating", 0) : QUEUE_OK;
	}
	if (rc == MDB_NOTFOUND) {
		qdb_seterr(q, "queue database has no schema version: "
		    "not a postern queue");
		return QUEUE_ERROR;
	}
	if (rc != 0)
		return lmdb_status(q, rc, "reading the schema", 0);
	if (qrec_decimal(v.mv_data, v.mv_size, &s) < 0) {
		qdb_seterr(q, "queue database has an unreadable schema "
		    "version; this postern reads schema %d", QUEUE_SCHEMA);
		return QUEUE_ERROR;
	}
	if (s != QUEUE_SCHEMA) {
		qdb_seterr(q, "queue database has schema %" PRIu64 "; this "
		    "postern reads schema %d only", s, QUEUE_SCHEMA);
		return QUEUE_ERROR;
	}
	return QUEUE_OK;
}

/* open_dbs - the named databases and the schema check */
static int open_dbs(struct queue *q, int create)
{
	MDB_txn *txn;
	size_t i;
	int rc, st = QUEUE_OK;

	rc = mdb_txn_begin(q->env, NULL, create ? 0 : MDB_RDONLY, &txn);
	if (rc != 0)
		return lmdb_status(q, rc, "opening the databases", 0);
	for (i = 0; i < DB_N && st == QUEUE_OK; i++) {
		rc = mdb_dbi_open(txn, db_names[i], create ? MDB_CREATE : 0,
		    &q->dbi[i]);
		if (rc == MDB_NOTFOUND) {
			qdb_seterr(q, "queue database has no \"%s\" table: not "
			    "a postern queue", db_names[i]);
			st = QUEUE_ERROR;
		} else if (rc != 0) {
			st = lmdb_status(q, rc, "opening the databases", 0);
		}
	}
	if (st == QUEUE_OK)
		st = check_schema(q, txn, create);
	if (st != QUEUE_OK) {
		mdb_txn_abort(txn);
		return st;
	}
	return env_commit(q, txn, create);
}

/* queue_open - open (or create) the queue in dbdir */
int queue_open(struct queue **q_r, const char *dbdir, uint64_t mapsize,
    unsigned flags, char *err, size_t errlen)
{
	struct queue *q;
	int st;

	*q_r = NULL;
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->copy = malloc(QREC_MAX)) == NULL) {
		free(q);
		snprintf(err, errlen, "queue: out of memory");
		return QUEUE_TEMP;
	}
	strbuf_init(&q->enc, QUEUE_TRANSCRIPT_MAX);
	q->rdonly = (flags & QUEUE_RDONLY) != 0;
	if (q->rdonly && (flags & QUEUE_CREATE)) {
		qdb_seterr(q, "queue: cannot create a queue read-only");
		st = QUEUE_ERROR;
	} else if ((st = open_env(q, dbdir, mapsize)) == QUEUE_OK) {
		st = open_dbs(q, (flags & QUEUE_CREATE) != 0);
	}
	if (st != QUEUE_OK) {
		snprintf(err, errlen, "%s", q->err);
		queue_close(&q);
		return st;
	}
	*q_r = q;
	return QUEUE_OK;
}

/* queue_close - close the environment and free q */
void queue_close(struct queue **qp)
{
	struct queue *q = *qp;

	if (q == NULL)
		return;
	if (q->env != NULL)
		mdb_env_close(q->env);
	strbuf_release(&q->enc);
	attr_list_release(&q->attrs);
	free(q->copy);
	free(q);
	*qp = NULL;
}

/* queue_error - what the last failing call on q was about */
const char *queue_error(const struct queue *q)
{
	return q == NULL ? "no queue" : q->err[0] ? q->err : "no error";
}

/* queue_reader_check - clear dead readers' slots; how many, or < 0 */
int queue_reader_check(struct queue *q)
{
	int dead = 0, rc;

	if ((rc = mdb_reader_check(q->env, &dead)) != 0)
		return lmdb_status(q, rc, "clearing stale readers", 0);
	return dead;
}

/* queue_begin - start a transaction (write: the one writer) */
int queue_begin(struct queue *q, int write, struct queue_txn **t_r)
{
	struct queue_txn *t;
	unsigned fl = write ? 0 : MDB_RDONLY;
	int rc;

	*t_r = NULL;
	if (write && q->rdonly) {
		qdb_seterr(q, "queue opened read-only");
		return QUEUE_ERROR;
	}
	if (q->busy) {
		qdb_seterr(q, "a transaction is already open on this queue");
		return QUEUE_ERROR;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return lmdb_status(q, ENOMEM, "starting a transaction", 0);
	rc = mdb_txn_begin(q->env, NULL, fl, &t->txn);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size, once. */
		if ((rc = mdb_env_set_mapsize(q->env, 0)) == 0)
			rc = mdb_txn_begin(q->env, NULL, fl, &t->txn);
	}
	if (rc != 0) {
		free(t);
		return lmdb_status(q, rc, "starting a transaction", 0);
	}
	t->q = q;
	t->write = write;
	q->busy = 1;
	*t_r = t;
	return QUEUE_OK;
}

/* txn_free - after the LMDB transaction ended */
static void txn_free(struct queue_txn *t)
{
	qdb_adds_detach(t);
	t->q->busy = 0;
	free(t);
}

/* queue_commit - commit *t (abort it if it failed); ends it always */
int queue_commit(struct queue_txn **tp)
{
	struct queue_txn *t = *tp;
	int st;

	if (t == NULL)
		return QUEUE_ERROR;
	*tp = NULL;
	close_cursors(t);
	if (t->adds != NULL && t->failed == 0) {
		qdb_seterr(t->q, "commit with a message half added: aborted");
		t->failed = QUEUE_ERROR;
	}
	if (t->failed != 0) {
		mdb_txn_abort(t->txn);
		st = t->failed;
	} else {
		st = env_commit(t->q, t->txn, t->write);
	}
	txn_free(t);
	return st;
}

/* queue_abort - abandon *t */
void queue_abort(struct queue_txn **tp)
{
	struct queue_txn *t = *tp;

	if (t == NULL)
		return;
	*tp = NULL;
	close_cursors(t);
	mdb_txn_abort(t->txn);
	txn_free(t);
}
