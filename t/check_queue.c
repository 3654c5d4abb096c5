/*
 * check_queue - unit tests of the queue store (common/queue*.c).
 *
 * Each test gets a fresh directory from mkdtemp and a queue created in
 * it; Check runs each test in its own process, so faults armed with
 * fsio_fault_set stay inside the test. Where a test must see or damage
 * what is stored, it closes the queue and opens the environment with
 * raw LMDB calls (never while the queue has it open: one environment per
 * process).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

#include "attr.h"
#include "fsio.h"
#include "queue.h"
#include "strbuf.h"

#define MAP (64u << 20)
#define T0 INT64_C(1700000000000000)	/* a time in microseconds */

static char dir[64];
static struct queue *q;
static char err[512];

/* rm_dir - remove the test directory and the files LMDB made in it */
static void rm_dir(const char *d)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/data.mdb", d);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", d);
	unlink(p);
	rmdir(d);
}

static void setup(void)
{
	fsio_fault_clear();
	snprintf(dir, sizeof(dir), "/tmp/check_queue.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(queue_open(&q, dir, MAP, QUEUE_CREATE, err,
	    sizeof(err)), QUEUE_OK);
}

static void teardown(void)
{
	queue_close(&q);
	rm_dir(dir);
}

/* reopen - close and open again with flags and mapsize */
static int reopen(unsigned flags, uint64_t mapsize)
{
	queue_close(&q);
	return queue_open(&q, dir, mapsize, flags, err, sizeof(err));
}

/* fill - deterministic bytes, NULs and high bytes included */
static void fill(unsigned char *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		p[i] = (unsigned char)seed;
	}
}

/* add - one message with nrcpt recipients r0@x.test... and content */
static uint64_t add(struct queue_txn *t, int64_t arrival, unsigned nrcpt,
    const void *content, size_t len, const char *drop)
{
	struct queue_new_msg m = { "sender@x.test", arrival, 0, 1000,
	    "ENV1", "From Me", "Hello", "<id@x.test>", drop };
	struct queue_add *a;
	uint64_t id = 0;
	char addr[32];
	unsigned i;

	ck_assert_int_eq(queue_add_begin(t, &m, &a), QUEUE_OK);
	for (i = 0; i < nrcpt; i++) {
		struct queue_new_rcpt r = { addr, NULL, NULL, 0,
		    QUEUE_NO_PARENT };

		snprintf(addr, sizeof(addr), "r%u@x.test", i);
		ck_assert_int_eq(queue_add_rcpt(a, &r), QUEUE_OK);
	}
	if (len)
		ck_assert_int_eq(queue_add_content(a, content, len), QUEUE_OK);
	ck_assert_int_eq(queue_add_end(&a, &id), QUEUE_OK);
	ck_assert_ptr_null(a);
	return id;
}

/* add1 - add in a transaction of its own */
static uint64_t add1(int64_t arrival, unsigned nrcpt, const char *drop)
{
	struct queue_txn *t;
	uint64_t id;

	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	id = add(t, arrival, nrcpt, "x\n", 2, drop);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	return id;
}

/* due_list - the whole due index, up to upto; how many entries */
static size_t due_list(int64_t upto, struct queue_due *d, size_t max)
{
	struct queue_txn *t;
	size_t n = 0;
	int st;

	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	for (st = queue_due_next(t, upto, NULL, &d[0]); st == QUEUE_OK;
	    st = queue_due_next(t, upto, &d[n - 1], &d[n])) {
		ck_assert_uint_lt(n, max);
		n++;
	}
	ck_assert_int_eq(st, QUEUE_NOTFOUND);
	queue_abort(&t);
	return n;
}

/* Raw LMDB access to the closed queue. */
static void raw_begin(MDB_env **env, MDB_txn **txn, int write)
{
	ck_assert_int_eq(mdb_env_create(env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(*env, 8), 0);
	ck_assert_int_eq(mdb_env_set_mapsize(*env, MAP), 0);
	ck_assert_int_eq(mdb_env_open(*env, dir, 0, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(*env, NULL, write ? 0 : MDB_RDONLY,
	    txn), 0);
}

static void raw_end(MDB_env *env, MDB_txn *txn)
{
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* raw_put - store key -> val in db of the closed queue */
static void raw_put(const char *db, const void *k, size_t kn,
    const void *v, size_t vn)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val key = { kn, (void *)k }, val = { vn, (void *)v };

	raw_begin(&env, &txn, 1);
	ck_assert_int_eq(mdb_dbi_open(txn, db, 0, &dbi), 0);
	ck_assert_int_eq(mdb_put(txn, dbi, &key, &val, 0), 0);
	raw_end(env, txn);
}

/* raw_count - entries in db of the closed queue */
static size_t raw_count(const char *db)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_stat ms;

	raw_begin(&env, &txn, 0);
	ck_assert_int_eq(mdb_dbi_open(txn, db, 0, &dbi), 0);
	ck_assert_int_eq(mdb_stat(txn, dbi, &ms), 0);
	raw_end(env, txn);
	return ms.ms_entries;
}

static void be64(unsigned char *k, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		k[i] = (unsigned char)v;
}

START_TEST(test_open_create_reopen)
{
	char p[128];
	struct stat st;
	struct queue *q2;

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	add1(T0, 1, NULL);
	ck_assert_int_eq(reopen(0, MAP), QUEUE_OK);
	ck_assert_int_eq(reopen(QUEUE_CREATE, MAP), QUEUE_OK);
	ck_assert_int_eq(reopen(0, 0), QUEUE_OK);
	add1(T0, 1, NULL);
	/* An environment without the tables is not a queue. */
	queue_close(&q);
	rm_dir(dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(queue_open(&q2, dir, MAP, 0, err, sizeof(err)),
	    QUEUE_ERROR);
	ck_assert_ptr_null(q2);
	ck_assert_ptr_nonnull(strstr(err, "not a postern queue"));
	ck_assert_int_eq(queue_open(&q2, "/nonexistent/dir", MAP,
	    QUEUE_CREATE, err, sizeof(err)), QUEUE_ERROR);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/dir"));
	ck_assert_int_eq(queue_open(&q2, dir, MAP, QUEUE_CREATE |
	    QUEUE_RDONLY, err, sizeof(err)), QUEUE_ERROR);
	ck_assert_int_eq(reopen(QUEUE_CREATE, MAP), QUEUE_OK);
}
END_TEST

START_TEST(test_schema_mismatch)
{
	static const char *bad[] = { "2", "01", "", "1x" };
	struct queue *q2;
	size_t i;

	queue_close(&q);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		raw_put("meta", "schema", 6, bad[i], strlen(bad[i]));
		ck_assert_int_eq(queue_open(&q2, dir, MAP, QUEUE_CREATE, err,
		    sizeof(err)), QUEUE_ERROR);
		ck_assert_ptr_nonnull(strstr(err, "schema"));
	}
	raw_put("meta", "schema", 6, "2", 1);
	ck_assert_int_eq(queue_open(&q2, dir, MAP, 0, err, sizeof(err)),
	    QUEUE_ERROR);
	ck_assert_ptr_nonnull(strstr(err, "schema 2"));
	raw_put("meta", "schema", 6, "1", 1);
	ck_assert_int_eq(reopen(0, MAP), QUEUE_OK);
}
END_TEST

START_TEST(test_id_text)
{
	static const struct { uint64_t id; const char *text; } good[] = {
		{ 1, "00000000001" }, { 31, "0000000000Z" },
		{ 32, "00000000010" }, { 10, "0000000000A" },
		{ 18, "0000000000J" }, { 27, "0000000000V" },
		{ QUEUE_ID_MAX, "ZZZZZZZZZZZ" },
		{ UINT64_C(1700000000000000), "1GA4GC1WG00" },
	};
	static const char *bad[] = {
		"", "0000000001", "000000000001", "00000000000",
		"0000000000I", "0000000000L", "0000000000O", "0000000000U",
		"0000000000a", "0000000000z", " 0000000001", "0000000001 ",
		"+0000000001", "-0000000001", "0000000000\n", "xxxxxxxxxxx",
		"ZZZZZZZZZZZZ",
	};
	char buf[QUEUE_ID_TEXT + 1], prev[QUEUE_ID_TEXT + 1];
	uint64_t id, v = 1;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		queue_id_format(good[i].id, buf);
		ck_assert_str_eq(buf, good[i].text);
		ck_assert_int_eq(queue_id_parse(good[i].text, &id), 0);
		ck_assert_uint_eq(id, good[i].id);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(queue_id_parse(bad[i], &id) == -1, "%s", bad[i]);
	queue_id_format(QUEUE_ID_MAX + 1, buf);
	ck_assert_str_eq(buf, "xxxxxxxxxxx");
	/* Fixed width, round trip, and text order is numeric order. */
	queue_id_format(0, prev);
	for (i = 0; i < 2000; i++) {
		v = v + 1 + (v >> 3) + (uint64_t)i * 7919;
		if (v > QUEUE_ID_MAX)
			break;
		queue_id_format(v, buf);
		ck_assert_uint_eq(strlen(buf), QUEUE_ID_TEXT);
		ck_assert_int_eq(queue_id_parse(buf, &id), 0);
		ck_assert_uint_eq(id, v);
		ck_assert_int_lt(strcmp(prev, buf), 0);
		memcpy(prev, buf, sizeof(buf));
	}
	ck_assert_uint_gt(i, 100);
}
END_TEST

START_TEST(test_state_names)
{
	int s;

	for (s = QS_PENDING; s <= QS_EXPANDED; s++)
		ck_assert_int_eq(queue_state_lookup(queue_state_name(s)), s);
	ck_assert_str_eq(queue_state_name(QS_DEFERRED), "deferred");
	ck_assert_int_eq(queue_state_lookup("Pending"), -1);
	ck_assert_int_eq(queue_state_lookup(""), -1);
	ck_assert_int_eq(queue_state_lookup("in flight"), -1);
}
END_TEST

START_TEST(test_add_content)
{
	static const size_t pieces[] = { 1, 7, 4093, 65537, 3, 65535, 65536,
	    131, 1 };
	enum { LEN = 200 * 1024 };
	unsigned char *in = malloc(LEN), *out = malloc(LEN);
	struct queue_new_msg m = { "s@x.test", T0, QUEUE_MSG_8BIT, 42,
	    "E", "F", "S", "<m@x>", NULL };
	struct queue_new_rcpt r = { "a@x.test", "A@X.test", "rfc822;a@x.test",
	    QUEUE_NOTIFY_FAILURE, QUEUE_NO_PARENT };
	struct queue_txn *t;
	struct queue_add *a;
	struct queue_msg msg;
	struct queue_rcpt rc;
	const void *p;
	size_t off = 0, i = 0, len;
	uint64_t id;
	char tmp[] = "/tmp/check_queue_content.XXXXXX";
	int fd;
	uint32_t n;

	fill(in, LEN, 7);
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_add_begin(t, &m, &a), QUEUE_OK);
	ck_assert_int_eq(queue_add_rcpt(a, &r), QUEUE_OK);
	r.addr = "b@x.test";
	r.orig = NULL;
	r.orcpt = NULL;
	ck_assert_int_eq(queue_add_rcpt(a, &r), QUEUE_OK);
	r.addr = "c@x.test";
	r.parent = 1;
	r.flags = QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_DELAY;
	ck_assert_int_eq(queue_add_rcpt(a, &r), QUEUE_OK);
	while (off < LEN) {
		size_t k = pieces[i++ % (sizeof(pieces) / sizeof(pieces[0]))];

		k = k < LEN - off ? k : LEN - off;
		ck_assert_int_eq(queue_add_content(a, in + off, k), QUEUE_OK);
		off += k;
	}
	ck_assert_int_eq(queue_add_end(&a, &id), QUEUE_OK);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);

	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_msg(t, id, &msg), QUEUE_OK);
	ck_assert_uint_eq(msg.id, id);
	ck_assert_str_eq(msg.sender, "s@x.test");
	ck_assert_int_eq(msg.arrival, T0);
	ck_assert_uint_eq(msg.size, LEN);
	ck_assert_uint_eq(msg.flags, QUEUE_MSG_8BIT);
	ck_assert_uint_eq(msg.nrcpt, 3);
	ck_assert_uint_eq(msg.uid, 42);
	ck_assert_str_eq(msg.envid, "E");
	ck_assert_str_eq(msg.from, "F");
	ck_assert_str_eq(msg.subject, "S");
	ck_assert_str_eq(msg.msgid, "<m@x>");
	for (off = 0, n = 0; queue_content_chunk(t, id, n, &p, &len) ==
	    QUEUE_OK; n++) {
		ck_assert_uint_le(len, QUEUE_CHUNK);
		ck_assert_uint_le(off + len, LEN);
		memcpy(out + off, p, len);
		off += len;
	}
	ck_assert_uint_eq(n, (LEN + QUEUE_CHUNK - 1) / QUEUE_CHUNK);
	ck_assert_uint_eq(off, LEN);
	ck_assert_mem_eq(in, out, LEN);
	ck_assert_int_ge(fd = mkstemp(tmp), 0);
	unlink(tmp);
	ck_assert_int_eq(queue_content_write(t, id, fd), QUEUE_OK);
	ck_assert_int_eq(pread(fd, out, LEN, 0), LEN);
	ck_assert_int_eq(pread(fd, out, 1, LEN), 0);
	ck_assert_mem_eq(in, out, LEN);
	close(fd);

	ck_assert_int_eq(queue_get_rcpt(t, id, 0, &rc), QUEUE_OK);
	ck_assert_uint_eq(rc.id, id);
	ck_assert_uint_eq(rc.idx, 0);
	ck_assert_str_eq(rc.addr, "a@x.test");
	ck_assert_str_eq(rc.orig, "A@X.test");
	ck_assert_str_eq(rc.orcpt, "rfc822;a@x.test");
	ck_assert_int_eq(rc.state, QS_PENDING);
	ck_assert_uint_eq(rc.flags, QUEUE_NOTIFY_FAILURE);
	ck_assert_uint_eq(rc.attempts, 0);
	ck_assert_int_eq(rc.next, T0);
	ck_assert_int_eq(rc.first, 0);
	ck_assert_int_eq(rc.last, 0);
	ck_assert_uint_eq(rc.parent, QUEUE_NO_PARENT);
	ck_assert_str_eq(rc.status, "");
	ck_assert_str_eq(rc.diag, "");
	ck_assert_str_eq(rc.relay, "");
	ck_assert_int_eq(queue_get_rcpt(t, id, 2, &rc), QUEUE_OK);
	ck_assert_str_eq(rc.addr, "c@x.test");
	ck_assert_str_eq(rc.orig, "");
	ck_assert_uint_eq(rc.parent, 1);
	ck_assert_uint_eq(rc.flags, QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_DELAY);
	ck_assert_int_eq(queue_get_rcpt(t, id, 3, &rc), QUEUE_NOTFOUND);
	queue_abort(&t);
	free(in);
	free(out);
}
END_TEST

START_TEST(test_empty_content)
{
	struct queue_txn *t;
	const void *p;
	size_t len;
	uint64_t id;
	struct queue_msg m;

	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	id = add(t, T0, 1, NULL, 0, NULL);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_msg(t, id, &m), QUEUE_OK);
	ck_assert_uint_eq(m.size, 0);
	ck_assert_int_eq(queue_content_chunk(t, id, 0, &p, &len),
	    QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_content_write(t, id, -1), QUEUE_OK);
	queue_abort(&t);
}
END_TEST

START_TEST(test_many_in_one_txn)
{
	struct queue_txn *t;
	struct queue_msg m;
	uint64_t ids[500];
	char body[64];
	int i;

	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	for (i = 0; i < 500; i++) {
		snprintf(body, sizeof(body), "message %d\n", i);
		ids[i] = add(t, T0, 1 + i % 3, body, strlen(body), NULL);
		if (i > 0)
			ck_assert_uint_eq(ids[i], ids[i - 1] + 1);
	}
	ck_assert_uint_eq(ids[0], (uint64_t)T0);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	for (i = 0; i < 500; i++) {
		const void *p;
		size_t len;

		snprintf(body, sizeof(body), "message %d\n", i);
		ck_assert_int_eq(queue_get_msg(t, ids[i], &m), QUEUE_OK);
		ck_assert_uint_eq(m.nrcpt, 1 + i % 3);
		ck_assert_int_eq(queue_content_chunk(t, ids[i], 0, &p, &len),
		    QUEUE_OK);
		ck_assert_uint_eq(len, strlen(body));
		ck_assert_mem_eq(p, body, len);
	}
	queue_abort(&t);
}
END_TEST

START_TEST(test_id_allocation)
{
	struct queue_txn *t;

	ck_assert_uint_eq(add1(1000, 1, NULL), 1000);
	ck_assert_uint_eq(add1(5, 1, NULL), 1001);
	ck_assert_uint_eq(add1(0, 1, NULL), 1002);
	ck_assert_uint_eq(add1(5000, 1, NULL), 5000);
	/* An aborted add gives its id back; a committed one never. */
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_uint_eq(add(t, 0, 1, "x", 1, NULL), 5001);
	queue_abort(&t);
	ck_assert_uint_eq(add1(0, 1, NULL), 5001);
	ck_assert_int_eq(reopen(0, MAP), QUEUE_OK);
	ck_assert_uint_eq(add1(0, 1, NULL), 5002);
}
END_TEST

/* longstr - a string of n 'a's (n < 4096) */
static const char *longstr(size_t n)
{
	static char big[4096];

	memset(big, 'a', n);
	big[n] = '\0';
	return big;
}

START_TEST(test_bounds_refused)
{
	struct queue_new_msg m = { "s@x.test", T0, 0, 0, NULL, NULL, NULL,
	    NULL, NULL };
	struct queue_new_rcpt r = { "a@x.test", NULL, NULL, 0,
	    QUEUE_NO_PARENT };
	struct queue_txn *t;
	struct queue_add *a;
	struct queue_msg msg;
	uint64_t id;

	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	m.envid = longstr(QUEUE_ENVID_MAX + 1);
	ck_assert_int_eq(queue_add_begin(t, &m, &a), QUEUE_ERROR);
	ck_assert_ptr_nonnull(strstr(queue_error(q), "ENVID"));
	m.envid = longstr(QUEUE_ENVID_MAX);
	ck_assert_int_eq(queue_add_begin(t, &m, &a), QUEUE_OK);
	/* Refused recipients: too long, empty, parent not before. */
	r.addr = longstr(ADDRESS_MAX + 1);
	ck_assert_int_eq(queue_add_rcpt(a, &r), QUEUE_ERROR);
	ck_assert_ptr_nonnull(strstr(queue_error(q), "longer than 254"));
	r.addr = "";
	ck_assert_int_eq(queue_add_rcpt(a, &r), QUEUE_ERROR);
	r.addr = "a@x.test";
	r.parent = 0;
	ck_assert_int_eq(queue_add_rcpt(a, &r), QUEUE_ERROR);
	r.parent = QUEUE_NO_PARENT;
	r.orcpt = longstr(QUEUE_ORCPT_MAX + 1);
	ck_assert_int_eq(queue_add_rcpt(a, &r), QUEUE_ERROR);
	r.orcpt = NULL;
	ck_assert_int_eq(queue_add_rcpt(a, &r), QUEUE_OK);
	ck_assert_int_eq(queue_add_end(&a, &id), QUEUE_OK);
	m.envid = NULL;
	m.flags = 0x1000;
	ck_assert_int_eq(queue_add_begin(t, &m, &a), QUEUE_ERROR);
	m.flags = 0;
	m.arrival = -1;
	ck_assert_int_eq(queue_add_begin(t, &m, &a), QUEUE_ERROR);
	m.arrival = T0;
	m.sender = longstr(ADDRESS_BUF);
	ck_assert_int_eq(queue_add_begin(t, &m, &a), QUEUE_ERROR);
	m.sender = "s@x.test";
	m.drop_name = longstr(QUEUE_DROPNAME_MAX + 1);
	ck_assert_int_eq(queue_add_begin(t, &m, &a), QUEUE_ERROR);
	m.drop_name = "";
	ck_assert_int_eq(queue_add_begin(t, &m, &a), QUEUE_ERROR);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_msg(t, id, &msg), QUEUE_OK);
	ck_assert_uint_eq(msg.nrcpt, 1);
	ck_assert_uint_eq(strlen(msg.envid), QUEUE_ENVID_MAX);
	ck_assert_int_eq(queue_next_msg(t, id, &msg), QUEUE_NOTFOUND);
	queue_abort(&t);
}
END_TEST

START_TEST(test_rcpt_all_fields)
{
	static struct queue_rcpt r, back;
	struct queue_txn *t;
	uint64_t id = add1(T0, 2, NULL);

	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_rcpt(t, id, 1, &r), QUEUE_OK);
	memset(r.addr, 'a', ADDRESS_MAX);
	memset(r.orig, 'o', ADDRESS_MAX);
	memset(r.orcpt, 'c', QUEUE_ORCPT_MAX);
	memset(r.diag, 'd', QUEUE_DIAG_MAX);
	memset(r.relay, 'r', QUEUE_RELAY_MAX);
	memcpy(r.status, "4.4.1", 6);
	r.diag[7] = '\n';
	r.diag[9] = '\t';
	r.state = QS_DEFERRED;
	r.flags = QUEUE_NOTIFY_DELAY | QUEUE_RCPT_WARNED;
	r.attempts = 4000000000u;
	r.next = T0 + 3600000000;
	r.first = T0 + 1;
	r.last = T0 + 2;
	r.parent = 0;
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_OK);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_rcpt(t, id, 1, &back), QUEUE_OK);
	ck_assert_mem_eq(&r, &back, offsetof(struct queue_rcpt, relay) +
	    sizeof(r.relay));
	queue_abort(&t);
	/* Unterminated strings and bad values are refused. */
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	memset(r.status, '5', sizeof(r.status));
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_ERROR);
	r.status[0] = '\0';
	r.state = (enum queue_state)17;
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_ERROR);
	r.state = QS_PENDING;
	r.next = -5;
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_ERROR);
	r.next = 0;
	r.flags = 0x400;
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_ERROR);
	r.flags = 0;
	r.idx = 7;
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_rcpt(t, id, 1, &r), QUEUE_OK);
	ck_assert_mem_eq(&r, &back, sizeof(r));
	queue_abort(&t);
}
END_TEST

START_TEST(test_put_rcpt_due)
{
	struct queue_due d[16];
	struct queue_txn *t;
	struct queue_rcpt r;
	uint64_t id = add1(100, 3, NULL);

	ck_assert_uint_eq(due_list(INT64_MAX, d, 16), 3);
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_rcpt(t, id, 0, &r), QUEUE_OK);
	r.state = QS_DEFERRED;
	r.next = 500;
	r.attempts = 1;
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_OK);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_uint_eq(due_list(INT64_MAX, d, 16), 3);
	ck_assert_int_eq(d[0].when, 100);
	ck_assert_uint_eq(d[0].idx, 1);
	ck_assert_int_eq(d[1].when, 100);
	ck_assert_uint_eq(d[1].idx, 2);
	ck_assert_int_eq(d[2].when, 500);
	ck_assert_uint_eq(d[2].idx, 0);
	ck_assert_uint_eq(d[2].id, id);

	/* A later deferral moves the entry; final states remove it. */
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	r.next = 900;
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_OK);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_uint_eq(due_list(INT64_MAX, d, 16), 3);
	ck_assert_int_eq(d[2].when, 900);
	ck_assert_uint_eq(due_list(899, d, 16), 2);

	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	r.state = QS_DELIVERED;
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_OK);
	ck_assert_int_eq(queue_get_rcpt(t, id, 1, &r), QUEUE_OK);
	r.state = QS_FAILED;
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_OK);
	ck_assert_int_eq(queue_get_rcpt(t, id, 2, &r), QUEUE_OK);
	r.state = QS_EXPANDED;
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_OK);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_uint_eq(due_list(INT64_MAX, d, 16), 0);

	/* Back to pending: due again (a recipient state written as is). */
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	r.state = QS_PENDING;
	r.next = 50;
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_OK);
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_OK);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_uint_eq(due_list(INT64_MAX, d, 16), 1);
	ck_assert_int_eq(d[0].when, 50);
	ck_assert_uint_eq(d[0].idx, 2);
}
END_TEST

START_TEST(test_due_order)
{
	struct queue_due d[16], after;
	struct queue_txn *t;
	uint64_t a, b, c;
	int64_t when;
	size_t i;

	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_due_first(t, &when), QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_due_next(t, INT64_MAX, NULL, &d[0]),
	    QUEUE_NOTFOUND);
	queue_abort(&t);
	a = add1(300, 2, NULL);
	b = add1(100, 2, NULL);
	c = add1(200, 2, NULL);
	ck_assert_uint_eq(due_list(INT64_MAX, d, 16), 6);
	for (i = 0; i < 6; i++) {
		ck_assert_uint_eq(d[i].id, i < 2 ? b : i < 4 ? c : a);
		ck_assert_int_eq(d[i].when, i < 2 ? 100 : i < 4 ? 200 : 300);
		ck_assert_uint_eq(d[i].idx, i % 2);
	}
	ck_assert_uint_eq(due_list(99, d, 16), 0);
	ck_assert_uint_eq(due_list(100, d, 16), 2);
	ck_assert_uint_eq(due_list(250, d, 16), 4);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_due_first(t, &when), QUEUE_OK);
	ck_assert_int_eq(when, 100);
	/* after need not be an entry that exists */
	after.when = 150;
	after.id = 0;
	after.idx = 0;
	ck_assert_int_eq(queue_due_next(t, INT64_MAX, &after, &d[0]),
	    QUEUE_OK);
	ck_assert_uint_eq(d[0].id, c);
	ck_assert_uint_eq(d[0].idx, 0);
	ck_assert_int_eq(queue_due_next(t, 199, &after, &d[0]),
	    QUEUE_NOTFOUND);
	after.when = 300;
	after.id = a;
	after.idx = 1;
	ck_assert_int_eq(queue_due_next(t, INT64_MAX, &after, &d[0]),
	    QUEUE_NOTFOUND);
	after.idx = 0;
	ck_assert_int_eq(queue_due_next(t, INT64_MAX, &after, &d[0]),
	    QUEUE_OK);
	ck_assert_uint_eq(d[0].idx, 1);
	queue_abort(&t);
}
END_TEST

START_TEST(test_hold_release)
{
	struct queue_new_rcpt nr = { "x@x.test", NULL, NULL, 0, 0 };
	struct queue_due d[16];
	struct queue_txn *t;
	struct queue_rcpt r;
	struct queue_msg m;
	uint64_t id = add1(100, 3, NULL), other = add1(100, 1, NULL);
	uint32_t idx;

	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_rcpt(t, id, 1, &r), QUEUE_OK);
	r.state = QS_DELIVERED;
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_OK);
	ck_assert_int_eq(queue_get_rcpt(t, id, 2, &r), QUEUE_OK);
	r.state = QS_DEFERRED;
	r.next = 400;
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_OK);
	ck_assert_int_eq(queue_set_held(t, id, 1, 0), QUEUE_OK);
	ck_assert_int_eq(queue_append_rcpt(t, id, &nr, 123, &idx), QUEUE_OK);
	ck_assert_uint_eq(idx, 3);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_uint_eq(due_list(INT64_MAX, d, 16), 1);
	ck_assert_uint_eq(d[0].id, other);

	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_msg(t, id, &m), QUEUE_OK);
	ck_assert_uint_eq(m.flags & QUEUE_MSG_HELD, QUEUE_MSG_HELD);
	ck_assert_uint_eq(m.nrcpt, 4);
	ck_assert_int_eq(queue_get_rcpt(t, id, 0, &r), QUEUE_OK);
	ck_assert_int_eq(r.state, QS_HELD);
	ck_assert_int_eq(queue_get_rcpt(t, id, 1, &r), QUEUE_OK);
	ck_assert_int_eq(r.state, QS_DELIVERED);
	ck_assert_int_eq(queue_get_rcpt(t, id, 3, &r), QUEUE_OK);
	ck_assert_int_eq(r.state, QS_HELD);
	queue_abort(&t);

	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_set_held(t, id, 0, -1), QUEUE_ERROR);
	ck_assert_int_eq(queue_set_held(t, id, 0, 777), QUEUE_OK);
	ck_assert_int_eq(queue_set_held(t, id + 99, 0, 777), QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_uint_eq(due_list(INT64_MAX, d, 16), 4);
	ck_assert_uint_eq(d[0].id, other);
	ck_assert_int_eq(d[1].when, 777);
	ck_assert_uint_eq(d[1].idx, 0);
	ck_assert_uint_eq(d[2].idx, 2);
	ck_assert_uint_eq(d[3].idx, 3);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_msg(t, id, &m), QUEUE_OK);
	ck_assert_uint_eq(m.flags & QUEUE_MSG_HELD, 0);
	ck_assert_int_eq(queue_get_rcpt(t, id, 2, &r), QUEUE_OK);
	ck_assert_int_eq(r.state, QS_PENDING);
	ck_assert_int_eq(r.next, 777);
	ck_assert_int_eq(queue_get_rcpt(t, id, 3, &r), QUEUE_OK);
	ck_assert_uint_eq(r.parent, 0);
	queue_abort(&t);
}
END_TEST

START_TEST(test_add_held)
{
	struct queue_due d[4];
	struct queue_new_msg m = { "", T0, QUEUE_MSG_HELD | QUEUE_MSG_NOTICE,
	    0, NULL, NULL, NULL, NULL, NULL };
	struct queue_new_rcpt nr = { "a@x.test", NULL, NULL, 0,
	    QUEUE_NO_PARENT };
	struct queue_txn *t;
	struct queue_add *a;
	struct queue_rcpt r;
	uint64_t id;

	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_add_begin(t, &m, &a), QUEUE_OK);
	ck_assert_int_eq(queue_add_rcpt(a, &nr), QUEUE_OK);
	ck_assert_int_eq(queue_add_end(&a, &id), QUEUE_OK);
	ck_assert_int_eq(queue_get_rcpt(t, id, 0, &r), QUEUE_OK);
	ck_assert_int_eq(r.state, QS_HELD);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_uint_eq(due_list(INT64_MAX, d, 4), 0);
}
END_TEST

START_TEST(test_append_rcpt)
{
	struct queue_new_rcpt nr = { "alias@x.test", "orig@x.test", NULL,
	    QUEUE_NOTIFY_NEVER, 1 };
	struct queue_due d[8];
	struct queue_txn *t;
	struct queue_rcpt r;
	struct queue_msg m;
	uint64_t id = add1(100, 2, NULL);
	uint32_t idx;

	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_append_rcpt(t, id, &nr, 250, &idx), QUEUE_OK);
	ck_assert_uint_eq(idx, 2);
	nr.parent = 5;
	ck_assert_int_eq(queue_append_rcpt(t, id, &nr, 250, &idx),
	    QUEUE_ERROR);
	ck_assert_int_eq(queue_append_rcpt(t, id + 1, &nr, 250, &idx),
	    QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_msg(t, id, &m), QUEUE_OK);
	ck_assert_uint_eq(m.nrcpt, 3);
	ck_assert_int_eq(queue_get_rcpt(t, id, 2, &r), QUEUE_OK);
	ck_assert_str_eq(r.addr, "alias@x.test");
	ck_assert_str_eq(r.orig, "orig@x.test");
	ck_assert_uint_eq(r.parent, 1);
	ck_assert_uint_eq(r.flags, QUEUE_NOTIFY_NEVER);
	ck_assert_int_eq(r.state, QS_PENDING);
	ck_assert_int_eq(r.next, 250);
	queue_abort(&t);
	ck_assert_uint_eq(due_list(INT64_MAX, d, 8), 3);
	ck_assert_int_eq(d[2].when, 250);
	ck_assert_uint_eq(d[2].idx, 2);
}
END_TEST

/* all_empty - nothing left in any table but meta */
static void all_empty(size_t meta)
{
	static const char *dbs[] = { "msg", "body", "rcpt", "xscript", "due",
	    "dropped" };
	size_t i;

	queue_close(&q);
	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++)
		ck_assert_msg(raw_count(dbs[i]) == 0, "%s not empty", dbs[i]);
	/* schema, and last_id unless nothing was ever committed */
	ck_assert_uint_eq(raw_count("meta"), meta);
	ck_assert_int_eq(reopen(0, MAP), QUEUE_OK);
}

START_TEST(test_delete)
{
	static unsigned char body[150000];
	struct strbuf sb = STRBUF_INIT(QUEUE_TRANSCRIPT_MAX);
	struct queue_txn *t;
	struct queue_rcpt r;
	struct queue_msg m;
	const void *p;
	size_t len;
	uint64_t id, keep, got;

	fill(body, sizeof(body), 3);
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	keep = add(t, 50, 1, "keep\n", 5, "keep.1");
	id = add(t, 100, 3, body, sizeof(body), "drop.1");
	ck_assert_int_eq(queue_get_rcpt(t, id, 1, &r), QUEUE_OK);
	r.state = QS_DEFERRED;
	r.next = 999;
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_OK);
	ck_assert_int_eq(queue_put_transcript(t, id, 1, "EHLO\n", 5),
	    QUEUE_OK);
	ck_assert_int_eq(queue_put_transcript(t, id, 2, "", 0), QUEUE_OK);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);

	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_delete(t, id), QUEUE_OK);
	ck_assert_int_eq(queue_delete(t, id), QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_msg(t, id, &m), QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_get_rcpt(t, id, 0, &r), QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_content_chunk(t, id, 0, &p, &len),
	    QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_get_transcript(t, id, 1, &sb), QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_dropped_lookup(t, "drop.1", &got),
	    QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_dropped_lookup(t, "keep.1", &got), QUEUE_OK);
	ck_assert_uint_eq(got, keep);
	ck_assert_int_eq(queue_next_msg(t, 0, &m), QUEUE_OK);
	ck_assert_uint_eq(m.id, keep);
	ck_assert_int_eq(queue_next_msg(t, keep, &m), QUEUE_NOTFOUND);
	queue_abort(&t);
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_delete(t, keep), QUEUE_OK);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	all_empty(2);
	strbuf_release(&sb);
}
END_TEST

struct names {
	char seen[8][QUEUE_DROPNAME_MAX + 1];
	int n, stop_at;
	struct queue_txn *forget_in;
};

static int name_cb(void *ctx, const char *name)
{
	struct names *nm = ctx;

	ck_assert_int_lt(nm->n, 8);
	snprintf(nm->seen[nm->n++], sizeof(nm->seen[0]), "%s", name);
	if (nm->forget_in != NULL)
		ck_assert_int_eq(queue_dropped_forget(nm->forget_in, name),
		    QUEUE_OK);
	return nm->n == nm->stop_at;
}

START_TEST(test_dropped)
{
	static char longname[QUEUE_DROPNAME_MAX + 2];
	struct queue_new_msg m = { "s@x.test", T0, 0, 0, NULL, NULL, NULL,
	    NULL, "b" };
	struct names nm;
	struct queue_txn *t;
	struct queue_add *a;
	uint64_t ia, ib, ic, id;

	ib = add1(T0, 1, "b");
	ia = add1(T0, 1, "a");
	memset(longname, 'n', QUEUE_DROPNAME_MAX);
	ic = add1(T0, 1, longname);
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_add_begin(t, &m, &a), QUEUE_ERROR);
	ck_assert_ptr_nonnull(strstr(queue_error(q), "already queued"));
	ck_assert_int_eq(queue_dropped_lookup(t, "a", &id), QUEUE_OK);
	ck_assert_uint_eq(id, ia);
	ck_assert_int_eq(queue_dropped_lookup(t, "b", &id), QUEUE_OK);
	ck_assert_uint_eq(id, ib);
	ck_assert_int_eq(queue_dropped_lookup(t, longname, &id), QUEUE_OK);
	ck_assert_uint_eq(id, ic);
	ck_assert_int_eq(queue_dropped_lookup(t, "c", &id), QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_dropped_lookup(t, "", &id), QUEUE_ERROR);
	longname[QUEUE_DROPNAME_MAX] = 'n';
	ck_assert_int_eq(queue_dropped_lookup(t, longname, &id), QUEUE_ERROR);
	longname[QUEUE_DROPNAME_MAX] = '\0';

	memset(&nm, 0, sizeof(nm));
	ck_assert_int_eq(queue_dropped_list(t, name_cb, &nm), QUEUE_OK);
	ck_assert_int_eq(nm.n, 3);
	ck_assert_str_eq(nm.seen[0], "a");
	ck_assert_str_eq(nm.seen[1], "b");
	ck_assert_str_eq(nm.seen[2], longname);
	memset(&nm, 0, sizeof(nm));
	nm.stop_at = 2;
	ck_assert_int_eq(queue_dropped_list(t, name_cb, &nm), QUEUE_OK);
	ck_assert_int_eq(nm.n, 2);

	ck_assert_int_eq(queue_dropped_forget(t, "b"), QUEUE_OK);
	ck_assert_int_eq(queue_dropped_forget(t, "b"), QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_dropped_lookup(t, "b", &id), QUEUE_NOTFOUND);
	/* The name is free again. */
	ck_assert_int_eq(queue_add_begin(t, &m, &a), QUEUE_OK);
	queue_add_abandon(&a);
	ck_assert_ptr_null(a);
	/* Forgetting every name while listing them. */
	memset(&nm, 0, sizeof(nm));
	nm.forget_in = t;
	ck_assert_int_eq(queue_dropped_list(t, name_cb, &nm), QUEUE_OK);
	ck_assert_int_eq(nm.n, 2);
	memset(&nm, 0, sizeof(nm));
	ck_assert_int_eq(queue_dropped_list(t, name_cb, &nm), QUEUE_OK);
	ck_assert_int_eq(nm.n, 0);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
}
END_TEST

START_TEST(test_next_msg_10000)
{
	enum { N = 10000 };
	uint64_t *ids = malloc(N * sizeof(*ids)), after = 0;
	struct queue_txn *t;
	struct queue_msg m;
	int i, st;

	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	for (i = 0; i < N; i++)
		ids[i] = add(t, T0 + (i % 7) * 1000000, 1, "b\n", 2, NULL);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	for (i = 0; (st = queue_next_msg(t, after, &m)) == QUEUE_OK; i++) {
		ck_assert_int_lt(i, N);
		ck_assert_uint_eq(m.id, ids[i]);
		ck_assert_uint_gt(m.id, after);
		after = m.id;
	}
	ck_assert_int_eq(st, QUEUE_NOTFOUND);
	ck_assert_int_eq(i, N);
	/* Seeking, not stepping: after need not be a stored id. */
	ck_assert_int_eq(queue_next_msg(t, ids[5000] - 1, &m), QUEUE_OK);
	ck_assert_uint_eq(m.id, ids[5000]);
	ck_assert_int_eq(queue_next_msg(t, ids[17], &m), QUEUE_OK);
	ck_assert_uint_eq(m.id, ids[18]);
	ck_assert_int_eq(queue_next_msg(t, ids[18], &m), QUEUE_OK);
	ck_assert_uint_eq(m.id, ids[19]);
	ck_assert_int_eq(queue_next_msg(t, UINT64_MAX, &m), QUEUE_NOTFOUND);
	queue_abort(&t);
	free(ids);
}
END_TEST

/* The counts a listing uses, and recipients read in any order (the
   kept cursor must never hand back the wrong record). */
START_TEST(test_counts_and_rcpt_cursor)
{
	enum { N = 1000 };
	uint64_t ids[N], n, last;
	struct queue_txn *t;
	struct queue_rcpt r;
	char want[32];
	int i, k;
	static const int order[] = { 0, 1, 2, 2, 1, 0, 2, 0 };

	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	for (i = 0; i < N; i++)
		ids[i] = add(t, T0 + i, 3, "b\n", 2, NULL);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_count_msgs(t, &n), QUEUE_OK);
	ck_assert_uint_eq(n, N);
	ck_assert_int_eq(queue_last_id(t, &last), QUEUE_OK);
	ck_assert_uint_eq(last, ids[N - 1]);
	ck_assert_int_eq(queue_count_ids(t, 0, ids[499], UINT64_MAX, &n,
	    &last), QUEUE_OK);
	ck_assert_uint_eq(n, 500);
	ck_assert_uint_eq(last, ids[499]);
	ck_assert_int_eq(queue_count_ids(t, 0, ids[499], 100, &n, &last),
	    QUEUE_OK);
	ck_assert_uint_eq(n, 100);
	ck_assert_uint_eq(last, ids[99]);
	ck_assert_int_eq(queue_count_ids(t, ids[99], ids[499], UINT64_MAX, &n,
	    &last), QUEUE_OK);
	ck_assert_uint_eq(n, 400);
	ck_assert_int_eq(queue_count_ids(t, ids[N - 1], UINT64_MAX, 10, &n,
	    &last), QUEUE_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(last, ids[N - 1]);
	/* in order, backwards, and jumping between messages */
	for (i = 0; i < N; i += 97)
		for (k = 0; k < (int)(sizeof(order) / sizeof(order[0])); k++) {
			ck_assert_int_eq(queue_get_rcpt(t, ids[i], (uint32_t)
			    order[k], &r), QUEUE_OK);
			snprintf(want, sizeof(want), "r%d@x.test", order[k]);
			ck_assert_uint_eq(r.id, ids[i]);
			ck_assert_uint_eq(r.idx, (uint32_t)order[k]);
			ck_assert_str_eq(r.addr, want);
		}
	ck_assert_int_eq(queue_get_rcpt(t, ids[5], 2, &r), QUEUE_OK);
	ck_assert_int_eq(queue_get_rcpt(t, ids[5], 3, &r), QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_get_rcpt(t, ids[6], 0, &r), QUEUE_OK);
	ck_assert_uint_eq(r.id, ids[6]);
	queue_abort(&t);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_count_ids(t, 0, UINT64_MAX, UINT64_MAX, &n,
	    &last), QUEUE_OK);
	ck_assert_uint_eq(n, N);
	queue_abort(&t);
}
END_TEST

/* A recipient read after a write in the same transaction is the one
   asked for, not the one the cursor was on. */
START_TEST(test_rcpt_cursor_after_write)
{
	struct queue_txn *t;
	struct queue_rcpt r;
	uint64_t a = add1(T0, 2, NULL), b = add1(T0, 2, NULL);

	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_rcpt(t, a, 1, &r), QUEUE_OK);
	ck_assert_int_eq(queue_delete(t, b), QUEUE_OK);
	ck_assert_int_eq(queue_get_rcpt(t, b, 0, &r), QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_get_rcpt(t, a, 0, &r), QUEUE_OK);
	r.attempts = 7;
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_OK);
	ck_assert_int_eq(queue_get_rcpt(t, a, 1, &r), QUEUE_OK);
	ck_assert_uint_eq(r.idx, 1);
	ck_assert_uint_eq(r.attempts, 0);
	ck_assert_int_eq(queue_get_rcpt(t, a, 0, &r), QUEUE_OK);
	ck_assert_uint_eq(r.attempts, 7);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
}
END_TEST

START_TEST(test_next_msg_in_write_txn)
{
	struct queue_txn *t;
	struct queue_msg m;
	uint64_t a = add1(T0, 1, NULL), b = add1(T0, 1, NULL),
	    c = add1(T0, 1, NULL);

	/* Deleting while listing does not confuse the kept cursor. */
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_next_msg(t, 0, &m), QUEUE_OK);
	ck_assert_uint_eq(m.id, a);
	ck_assert_int_eq(queue_delete(t, a), QUEUE_OK);
	ck_assert_int_eq(queue_delete(t, b), QUEUE_OK);
	ck_assert_int_eq(queue_next_msg(t, a, &m), QUEUE_OK);
	ck_assert_uint_eq(m.id, c);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
}
END_TEST

START_TEST(test_abort_leaves_nothing)
{
	struct queue_txn *t;
	struct queue_msg m;
	uint64_t id;
	int64_t when;

	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	add(t, T0, 2, "abc", 3, "file.1");
	queue_abort(&t);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_next_msg(t, 0, &m), QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_dropped_lookup(t, "file.1", &id),
	    QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_due_first(t, &when), QUEUE_NOTFOUND);
	queue_abort(&t);
	all_empty(1);
}
END_TEST

START_TEST(test_abandon_in_batch)
{
	static unsigned char body[100000];
	struct queue_new_msg m = { "s@x.test", 10, 0, 0, NULL, NULL, NULL,
	    NULL, "gone.1" };
	struct queue_new_rcpt nr = { "a@x.test", NULL, NULL, 0,
	    QUEUE_NO_PARENT };
	struct queue_due d[8];
	struct queue_txn *t;
	struct queue_add *a;
	struct queue_msg msg;
	uint64_t first, second, id;

	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	first = add(t, 10, 1, "1", 1, "keep.1");
	ck_assert_int_eq(queue_add_begin(t, &m, &a), QUEUE_OK);
	ck_assert_int_eq(queue_add_rcpt(a, &nr), QUEUE_OK);
	ck_assert_int_eq(queue_add_rcpt(a, &nr), QUEUE_OK);
	ck_assert_int_eq(queue_add_content(a, body, sizeof(body)), QUEUE_OK);
	/* a bad recipient: refused, the add goes on or is abandoned */
	nr.addr = "";
	ck_assert_int_eq(queue_add_rcpt(a, &nr), QUEUE_ERROR);
	queue_add_abandon(&a);
	/* half an add is never committed */
	ck_assert_int_eq(queue_add_begin(t, &m, &a), QUEUE_OK);
	second = add(t, 10, 1, "2", 1, NULL);
	queue_add_abandon(&a);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_uint_eq(due_list(INT64_MAX, d, 8), 2);
	ck_assert_uint_eq(d[0].id, first);
	ck_assert_uint_eq(d[1].id, second);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_dropped_lookup(t, "gone.1", &id),
	    QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_next_msg(t, 0, &msg), QUEUE_OK);
	ck_assert_uint_eq(msg.id, first);
	ck_assert_int_eq(queue_next_msg(t, first, &msg), QUEUE_OK);
	ck_assert_uint_eq(msg.id, second);
	ck_assert_int_eq(queue_next_msg(t, second, &msg), QUEUE_NOTFOUND);
	queue_abort(&t);
	/* commit with an add still open: aborted */
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_add_begin(t, &m, &a), QUEUE_OK);
	ck_assert_int_eq(queue_commit(&t), QUEUE_ERROR);
	ck_assert_int_eq(queue_add_content(a, "x", 1), QUEUE_ERROR);
	queue_add_abandon(&a);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_dropped_lookup(t, "gone.1", &id),
	    QUEUE_NOTFOUND);
	queue_abort(&t);
}
END_TEST

START_TEST(test_commit_fault)
{
	struct queue_due d[8];
	struct queue_txn *t;
	struct queue_msg m;
	uint64_t id, old = add1(T0, 1, "old.1");

	fsio_fault_set(FSIO_COMMIT, 1, EIO, 0);
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	add(t, T0, 2, "abc", 3, "new.1");
	ck_assert_int_eq(queue_delete(t, old), QUEUE_OK);
	ck_assert_int_eq(queue_commit(&t), QUEUE_TEMP);
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(strstr(queue_error(q), "I/O error"));
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_next_msg(t, 0, &m), QUEUE_OK);
	ck_assert_uint_eq(m.id, old);
	ck_assert_int_eq(queue_next_msg(t, old, &m), QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_dropped_lookup(t, "new.1", &id),
	    QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_dropped_lookup(t, "old.1", &id), QUEUE_OK);
	queue_abort(&t);
	ck_assert_uint_eq(due_list(INT64_MAX, d, 8), 1);
	/* The fault was for one commit: the next one works. */
	ck_assert_uint_eq(add1(T0, 1, "new.1"), old + 1);
}
END_TEST

/* try_add - add a message, reporting instead of asserting */
static int try_add(struct queue_txn *t, const void *body, size_t len,
    uint64_t *id_r)
{
	struct queue_new_msg m = { "s@x.test", T0, 0, 0, NULL, NULL, NULL,
	    NULL, NULL };
	struct queue_new_rcpt r = { "a@x.test", NULL, NULL, 0,
	    QUEUE_NO_PARENT };
	struct queue_add *a;
	int st;

	if ((st = queue_add_begin(t, &m, &a)) != QUEUE_OK)
		return st;
	if ((st = queue_add_rcpt(a, &r)) != QUEUE_OK ||
	    (st = queue_add_content(a, body, len)) != QUEUE_OK) {
		queue_add_abandon(&a);
		return st;
	}
	return queue_add_end(&a, id_r);
}

START_TEST(test_map_full)
{
	static unsigned char body[20000];
	uint64_t ids[256], id = 0;
	struct queue_txn *t;
	struct queue_msg m;
	const void *p;
	size_t len;
	int n = 0, i, st = QUEUE_OK;

	fill(body, sizeof(body), 11);
	queue_close(&q);
	rm_dir(dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(queue_open(&q, dir, 256 * 1024, QUEUE_CREATE, err,
	    sizeof(err)), QUEUE_OK);
	while (n < 256) {
		ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
		if ((st = try_add(t, body, sizeof(body), &id)) == QUEUE_OK) {
			st = queue_commit(&t);
		} else {
			/* The transaction is doomed: it says so again. */
			ck_assert_int_eq(st, QUEUE_TEMP);
			ck_assert_int_eq(queue_get_msg(t, T0, &m), QUEUE_TEMP);
			ck_assert_int_eq(queue_commit(&t), QUEUE_TEMP);
		}
		if (st != QUEUE_OK)
			break;
		ids[n++] = id;
	}
	ck_assert_int_eq(st, QUEUE_TEMP);
	ck_assert_int_gt(n, 1);
	ck_assert_ptr_nonnull(strstr(queue_error(q), "queue database is full "
	    "(queue_map_size)"));
	/* What was committed is intact, and nothing else is there. */
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	for (i = 0, id = 0; queue_next_msg(t, id, &m) == QUEUE_OK; i++) {
		ck_assert_int_lt(i, n);
		ck_assert_uint_eq(m.id, ids[i]);
		ck_assert_uint_eq(m.size, sizeof(body));
		ck_assert_int_eq(queue_content_chunk(t, m.id, 0, &p, &len),
		    QUEUE_OK);
		ck_assert_uint_eq(len, sizeof(body));
		ck_assert_mem_eq(p, body, len);
		id = m.id;
	}
	ck_assert_int_eq(i, n);
	queue_abort(&t);
	/* A larger map takes more. */
	ck_assert_int_eq(reopen(0, 4u << 20), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(try_add(t, body, sizeof(body), &id), QUEUE_OK);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_uint_eq(id, ids[n - 1] + 1);
}
END_TEST

START_TEST(test_map_resized)
{
	static unsigned char body[3 << 20];
	struct queue_txn *t;
	struct queue_msg m;
	const void *p;
	size_t len;
	uint64_t small, id;
	int status;
	pid_t pid;

	fill(body, sizeof(body), 5);
	queue_close(&q);
	rm_dir(dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(queue_open(&q, dir, 1u << 20, QUEUE_CREATE, err,
	    sizeof(err)), QUEUE_OK);
	small = add1(T0, 1, NULL);
	/* Another process (with its own environment) grows the map. */
	if ((pid = fork()) == 0) {
		struct queue *qc;
		struct queue_txn *tc;

		if (queue_open(&qc, dir, 16u << 20, 0, err, sizeof(err)) ||
		    queue_begin(qc, 1, &tc) ||
		    try_add(tc, body, sizeof(body), &id) ||
		    queue_commit(&tc))
			_exit(1);
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	/* This one adopts the new size in queue_begin and sees it all. */
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_next_msg(t, small, &m), QUEUE_OK);
	ck_assert_uint_eq(m.size, sizeof(body));
	ck_assert_int_eq(queue_content_chunk(t, m.id, 47, &p, &len),
	    QUEUE_OK);
	ck_assert_mem_eq(p, body + 47 * QUEUE_CHUNK, QUEUE_CHUNK);
	queue_abort(&t);
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(try_add(t, body, sizeof(body), &id), QUEUE_OK);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
}
END_TEST

/* cloexec - fd is close-on-exec */
static int cloexec(const char *name)
{
	char link[64], target[256];
	ssize_t n;
	int fd;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		if ((n = readlink(link, target, sizeof(target) - 1)) < 0)
			continue;
		target[n] = '\0';
		if (strstr(target, dir) && strstr(target, name))
			return (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
	}
	return -1;
}

START_TEST(test_fds_cloexec)
{
	add1(T0, 1, NULL);
	ck_assert_int_eq(cloexec("data.mdb"), 1);
	ck_assert_int_eq(cloexec("lock.mdb"), 1);
}
END_TEST

/* msg_rec - a message record by hand: the good fields but skip, then
   name=value (len bytes) if name is given */
static void msg_rec(struct strbuf *sb, const char *skip, const char *name,
    const char *value, size_t len)
{
	static const char *f[][2] = {
		{ "sender", "s@x" }, { "arrival", "5" }, { "size", "2" },
		{ "flags", "0" }, { "nrcpt", "1" }, { "uid", "0" },
		{ "envid", "" }, { "from", "" }, { "subject", "" },
		{ "msgid", "" },
	};
	size_t i;

	strbuf_reset(sb);
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (skip == NULL || strcmp(skip, f[i][0]) != 0)
			attr_put_str(sb, f[i][0], f[i][1]);
	if (name != NULL)
		attr_put(sb, name, value, len);
	ck_assert(strbuf_ok(sb));
}

#define S(x) x, sizeof(x) - 1
static const struct {
	const char *raw;		/* used as is when not NULL */
	const char *skip, *name, *value;
	size_t len;
} bad_msgs[] = {
	{ "garbage", NULL, NULL, NULL, 0 },
	{ "", NULL, NULL, NULL, 0 },
	{ "10:sender=a", NULL, NULL, NULL, 0 },
	{ NULL, "nrcpt", NULL, NULL, 0 },
	{ NULL, NULL, "flags", S("0") },
	{ NULL, NULL, "zzz", S("1") },
	{ NULL, "flags", "flags", S("-1") },
	{ NULL, "flags", "flags", S("01") },
	{ NULL, "flags", "flags", S("128") },
	{ NULL, "flags", "flags", S(" 1") },
	{ NULL, "arrival", "arrival", S("-5") },
	{ NULL, "nrcpt", "nrcpt", S("4294967296") },
	{ NULL, "size", "size", S("18446744073709551616") },
	{ NULL, "sender", "sender", S("a\0b") },
	{ NULL, "envid", "envid", S("01234567890123456789012345678901234567"
	    "8901234567890123456789012345678901234567890123456789012345678901"
	    "23") },
};

START_TEST(test_corrupt_msg)
{
	struct strbuf sb = STRBUF_INIT(4096);
	char idt[QUEUE_ID_TEXT + 1];
	unsigned char k[8];
	struct queue_txn *t;
	struct queue_msg m;
	uint64_t id = add1(T0, 1, "c.1");

	be64(k, id);
	queue_id_format(id, idt);
	queue_close(&q);
	/* The hand-made good record reads back: the table is right. */
	msg_rec(&sb, NULL, NULL, NULL, 0);
	raw_put("msg", k, 8, sb.s, sb.len);
	ck_assert_int_eq(reopen(0, MAP), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_msg(t, id, &m), QUEUE_OK);
	ck_assert_str_eq(m.sender, "s@x");
	queue_abort(&t);
	queue_close(&q);
	if (bad_msgs[_i].raw != NULL)
		raw_put("msg", k, 8, bad_msgs[_i].raw, strlen(bad_msgs[_i].raw));
	else {
		msg_rec(&sb, bad_msgs[_i].skip, bad_msgs[_i].name,
		    bad_msgs[_i].value, bad_msgs[_i].len);
		raw_put("msg", k, 8, sb.s, sb.len);
	}
	ck_assert_int_eq(reopen(0, MAP), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_msg(t, id, &m), QUEUE_CORRUPT);
	ck_assert_ptr_nonnull(strstr(queue_error(q), idt));
	ck_assert_ptr_nonnull(strstr(queue_error(q), "corrupt"));
	memset(&m, 0, sizeof(m));
	ck_assert_int_eq(queue_next_msg(t, 0, &m), QUEUE_CORRUPT);
	ck_assert_uint_eq(m.id, id);
	ck_assert_int_eq(queue_next_msg(t, id, &m), QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_set_held(t, id, 1, 0), QUEUE_CORRUPT);
	/* A corrupt message can still be deleted, names and all. */
	ck_assert_int_eq(queue_delete(t, id), QUEUE_OK);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	all_empty(2);
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_corrupt_other)
{
	unsigned char k[20];
	struct queue_due d[4];
	struct queue_txn *t;
	struct queue_rcpt r;
	struct queue_msg m;
	char idt[QUEUE_ID_TEXT + 1];
	const void *p;
	size_t len;
	uint64_t id = add1(T0, 2, NULL), got;
	int fd;

	queue_id_format(id, idt);
	queue_close(&q);
	be64(k, id);
	memset(k + 8, 0, 4);
	raw_put("rcpt", k, 12, "7:addr=a,", 9);
	ck_assert_int_eq(reopen(0, MAP), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_rcpt(t, id, 0, &r), QUEUE_CORRUPT);
	ck_assert_ptr_nonnull(strstr(queue_error(q), "recipient 0 of"));
	ck_assert_ptr_nonnull(strstr(queue_error(q), idt));
	/* A corrupt recipient is replaced, its due entry found by a scan. */
	ck_assert_int_eq(queue_get_rcpt(t, id, 1, &r), QUEUE_OK);
	r.idx = 0;
	r.state = QS_DELIVERED;
	ck_assert_int_eq(queue_put_rcpt(t, &r), QUEUE_OK);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_uint_eq(due_list(INT64_MAX, d, 4), 1);
	ck_assert_uint_eq(d[0].idx, 1);

	queue_close(&q);
	raw_put("dropped", "bad.1", 5, "1234", 4);
	memset(k + 8, 0, 4);
	k[11] = 5;
	raw_put("body", k, 12, "", 0);
	be64(k, T0);
	be64(k + 8, id);
	memset(k + 16, 0, 4);
	raw_put("due", k, 20, "x", 1);
	raw_put("meta", "last_id", 7, "12x", 3);
	ck_assert_int_eq(reopen(0, MAP), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_dropped_lookup(t, "bad.1", &got),
	    QUEUE_CORRUPT);
	ck_assert_int_eq(queue_content_chunk(t, id, 5, &p, &len),
	    QUEUE_CORRUPT);
	ck_assert_int_eq(queue_content_write(t, id, -1), QUEUE_ERROR);
	ck_assert_int_eq(queue_due_next(t, INT64_MAX, NULL, &d[0]),
	    QUEUE_CORRUPT);
	ck_assert_int_eq(try_add(t, "x", 1, &got), QUEUE_CORRUPT);
	ck_assert_int_eq(queue_get_msg(t, id, &m), QUEUE_OK);
	queue_abort(&t);
	/* Content that does not add up to the size is corrupt. */
	queue_close(&q);
	be64(k, id);
	memset(k + 8, 0, 4);
	raw_put("body", k, 12, "xyz", 3);
	raw_put("meta", "last_id", 7, "1", 1);
	ck_assert_int_eq(reopen(0, MAP), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_ge(fd = open("/dev/null", O_WRONLY), 0);
	ck_assert_int_eq(queue_content_write(t, id, fd), QUEUE_CORRUPT);
	close(fd);
	queue_abort(&t);
}
END_TEST

START_TEST(test_rdonly)
{
	struct queue_due d[4];
	struct queue_txn *t;
	struct queue_msg m;
	struct queue *q2;
	uint64_t id = add1(T0, 2, "r.1"), got;
	char p[128];

	ck_assert_int_eq(reopen(QUEUE_RDONLY, 0), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_ERROR);
	ck_assert_ptr_nonnull(strstr(queue_error(q), "read-only"));
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_msg(t, id, &m), QUEUE_OK);
	ck_assert_uint_eq(m.nrcpt, 2);
	ck_assert_int_eq(queue_dropped_lookup(t, "r.1", &got), QUEUE_OK);
	ck_assert_uint_eq(got, id);
	ck_assert_int_eq(queue_put_transcript(t, id, 0, "x", 1), QUEUE_ERROR);
	queue_abort(&t);
	ck_assert_uint_eq(due_list(INT64_MAX, d, 4), 2);
	/* Another user than the owner must not leave a lock.mdb behind. */
	if (geteuid() == 0) {
		queue_close(&q);
		snprintf(p, sizeof(p), "%s/lock.mdb", dir);
		ck_assert_int_eq(unlink(p), 0);
		ck_assert_int_eq(chown(dir, 4242, (gid_t)-1), 0);
		ck_assert_int_eq(queue_open(&q2, dir, 0, QUEUE_RDONLY, err,
		    sizeof(err)), QUEUE_ERROR);
		ck_assert_ptr_nonnull(strstr(err, "owner"));
		ck_assert_int_eq(access(p, F_OK), -1);
		ck_assert_int_eq(chown(dir, 0, (gid_t)-1), 0);
	}
	ck_assert_int_eq(reopen(0, MAP), QUEUE_OK);
}
END_TEST

START_TEST(test_transcript)
{
	enum { BIG = 200000, HALF = (QUEUE_TRANSCRIPT_MAX - 64) / 2 };
	struct strbuf sb = STRBUF_INIT(QUEUE_TRANSCRIPT_MAX), small =
	    STRBUF_INIT(4);
	char *big = malloc(BIG + 16), marker[64];
	struct queue_txn *t;
	uint64_t id = add1(T0, 2, NULL);
	size_t i;

	for (i = 0; i < BIG; i += 12)
		snprintf(big + i, 13, "line %06zu\n", i / 12);
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_put_transcript(t, id, 0, "220 hi\n", 7),
	    QUEUE_OK);
	ck_assert_int_eq(queue_get_transcript(t, id, 0, &sb), QUEUE_OK);
	ck_assert_uint_eq(sb.len, 7);
	ck_assert_mem_eq(sb.s, "220 hi\n", 7);
	ck_assert_int_eq(queue_get_transcript(t, id, 0, &small), QUEUE_ERROR);
	ck_assert_int_eq(queue_get_transcript(t, id, 1, &sb), QUEUE_NOTFOUND);
	ck_assert_int_eq(queue_put_transcript(t, id, 2, "x", 1),
	    QUEUE_NOTFOUND);
	/* Exactly the cap: kept whole. */
	ck_assert_int_eq(queue_put_transcript(t, id, 1, big,
	    QUEUE_TRANSCRIPT_MAX), QUEUE_OK);
	ck_assert_int_eq(queue_get_transcript(t, id, 1, &sb), QUEUE_OK);
	ck_assert_uint_eq(sb.len, QUEUE_TRANSCRIPT_MAX);
	ck_assert_mem_eq(sb.s, big, QUEUE_TRANSCRIPT_MAX);
	/* Over it: head, a line saying what is left out, tail. */
	ck_assert_int_eq(queue_put_transcript(t, id, 1, big, BIG), QUEUE_OK);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_get_transcript(t, id, 1, &sb), QUEUE_OK);
	queue_abort(&t);
	ck_assert_uint_le(sb.len, QUEUE_TRANSCRIPT_MAX);
	ck_assert_mem_eq(sb.s, big, HALF);
	ck_assert_mem_eq(sb.s + sb.len - HALF, big + BIG - HALF, HALF);
	snprintf(marker, sizeof(marker), "\n[... %d bytes omitted ...]\n",
	    BIG - 2 * HALF);
	ck_assert_ptr_nonnull(strstr(sb.s, marker));
	/* The head ended a line, so the marker line needed no newline. */
	ck_assert_int_eq(big[HALF - 1], '\n');
	ck_assert_uint_eq(sb.len, 2 * HALF + strlen(marker) - 1);
	/* Cut in mid-line: the marker still stands on a line of its own. */
	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_put_transcript(t, id, 1, big + 1, BIG - 1),
	    QUEUE_OK);
	ck_assert_int_eq(queue_get_transcript(t, id, 1, &sb), QUEUE_OK);
	queue_abort(&t);
	snprintf(marker, sizeof(marker), "\n[... %d bytes omitted ...]\n",
	    BIG - 1 - 2 * HALF);
	ck_assert_ptr_nonnull(strstr(sb.s, marker));
	ck_assert_uint_eq(sb.len, 2 * HALF + strlen(marker));
	ck_assert_mem_eq(sb.s, big + 1, HALF);
	ck_assert_mem_eq(sb.s + sb.len - HALF, big + BIG - HALF, HALF);
	strbuf_release(&sb);
	strbuf_release(&small);
	free(big);
}
END_TEST

START_TEST(test_txn_rules)
{
	struct queue_new_msg m = { "s@x.test", T0, 0, 0, NULL, NULL, NULL,
	    NULL, NULL };
	struct queue_txn *t, *t2;
	struct queue_add *a;
	uint64_t id = add1(T0, 1, NULL);

	ck_assert_int_eq(queue_begin(q, 1, &t), QUEUE_OK);
	ck_assert_int_eq(queue_begin(q, 0, &t2), QUEUE_ERROR);
	ck_assert_ptr_null(t2);
	ck_assert_int_eq(queue_begin(q, 1, &t2), QUEUE_ERROR);
	queue_abort(&t);
	ck_assert_int_eq(queue_begin(q, 0, &t), QUEUE_OK);
	ck_assert_int_eq(queue_add_begin(t, &m, &a), QUEUE_ERROR);
	ck_assert_int_eq(queue_delete(t, id), QUEUE_ERROR);
	ck_assert_int_eq(queue_set_held(t, id, 1, 0), QUEUE_ERROR);
	ck_assert_int_eq(queue_dropped_forget(t, "x"), QUEUE_ERROR);
	ck_assert_int_eq(queue_commit(&t), QUEUE_OK);
	ck_assert_int_eq(queue_commit(&t), QUEUE_ERROR);
	queue_abort(&t);
	ck_assert_int_ge(queue_reader_check(q), 0);
}
END_TEST

static Suite *queue_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_open_create_reopen);
	tcase_add_test(tc, test_schema_mismatch);
	tcase_add_test(tc, test_id_text);
	tcase_add_test(tc, test_state_names);
	tcase_add_test(tc, test_add_content);
	tcase_add_test(tc, test_empty_content);
	tcase_add_test(tc, test_many_in_one_txn);
	tcase_add_test(tc, test_id_allocation);
	tcase_add_test(tc, test_bounds_refused);
	tcase_add_test(tc, test_rcpt_all_fields);
	tcase_add_test(tc, test_put_rcpt_due);
	tcase_add_test(tc, test_due_order);
	tcase_add_test(tc, test_hold_release);
	tcase_add_test(tc, test_add_held);
	tcase_add_test(tc, test_append_rcpt);
	tcase_add_test(tc, test_delete);
	tcase_add_test(tc, test_dropped);
	tcase_add_test(tc, test_next_msg_10000);
	tcase_add_test(tc, test_counts_and_rcpt_cursor);
	tcase_add_test(tc, test_rcpt_cursor_after_write);
	tcase_add_test(tc, test_next_msg_in_write_txn);
	tcase_add_test(tc, test_abort_leaves_nothing);
	tcase_add_test(tc, test_abandon_in_batch);
	tcase_add_test(tc, test_commit_fault);
	tcase_add_test(tc, test_map_full);
	tcase_add_test(tc, test_map_resized);
	tcase_add_test(tc, test_fds_cloexec);
	tcase_add_loop_test(tc, test_corrupt_msg, 0,
	    sizeof(bad_msgs) / sizeof(bad_msgs[0]));
	tcase_add_test(tc, test_corrupt_other);
	tcase_add_test(tc, test_rdonly);
	tcase_add_test(tc, test_transcript);
	tcase_add_test(tc, test_txn_rules);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(queue_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
