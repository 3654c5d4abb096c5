/*
 * qfill - fill a postern queue with N deferred messages, for bench/queue.sh.
 *
 *   qfill DBDIR N [DOMAINS]
 *
 * The queue inspection benchmark needs a queue of a million messages that
 * looks like a real backlog: every recipient tried once and deferred with
 * a connection failure, due again in one to two hours. Injecting that many
 * through sendmail and letting the queue manager fail each one would take
 * hours, so this program writes them straight into the LMDB queue, through
 * the queue store's public API only (queue.h), so the records are exactly
 * what the queue manager would have stored: the same encoding, the same
 * due index, ids allocated as max(last_id + 1, arrival).
 *
 * Each message: sender bench@bench.example, one recipient uI@dK.example
 * (K cycling over DOMAINS, 50 by default), a body of about 1 KiB with
 * From, Subject and Message-ID headers, arrival spread evenly over the
 * last three hours so that arrival grows with the id.
 *
 * Run it with the queue manager stopped, as the queue's owner (the
 * directory is the db/ the queue manager's layout created), so that the
 * lock file LMDB leaves behind belongs to the queue manager's user. It
 * trusts its arguments: this is a benchmark tool, not a program that
 * takes input from anyone else.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue.h"
#include "strbuf.h"
#include "timeutil.h"

#define MAP_SIZE (UINT64_C(16) << 30)	/* room for well over 1M messages */
#define TXN_MSGS 5000			/* messages per write transaction */
#define SPAN (INT64_C(3) * 3600 * 1000000)	/* arrivals: the last 3 h */
#define HOUR (INT64_C(3600) * 1000000)
#define PROGRESS 100000			/* a line on stderr this often */

/* The fixed part of every body: 14 lines of 72 characters plus the
   headers make about 1 KiB, the size of a short notification mail. */
static const char body_line[] =
    "The quick brown fox jumps over the lazy dog; pack my box with five.\n";
#define BODY_LINES 14

struct fill {
	struct queue *q;
	uint64_t n;			/* messages to add */
	unsigned domains;
	int64_t now, first;		/* now, and the first arrival */
	struct strbuf content;
};

/* die - say why and stop; the transaction in flight is simply lost,
   which LMDB guarantees leaves the queue as it was at the last commit */
static void die(const char *what, const char *why)
{
	fprintf(stderr, "qfill: %s: %s\n", what, why);
	exit(1);
}

/* spread - a fixed pseudo-random number in [0, range) for message i, so
   that next attempts are not all in id order (as in a real queue, where
   retries depend on when each attempt failed) */
static int64_t spread(uint64_t i, int64_t range)
{
	uint64_t x = i * UINT64_C(0x9E3779B97F4A7C15);

	x ^= x >> 31;
	return (int64_t)(x % (uint64_t)range);
}

/* make_content - message i's content into f->content */
static void make_content(struct fill *f, uint64_t i, int64_t arrival)
{
	char date[TIMEUTIL_BUF];
	int k;

	timeutil_rfc5322(arrival, date);
	strbuf_reset(&f->content);
	strbuf_appendf(&f->content, "From: Bench Sender <bench@bench.example>\n"
	    "Subject: Benchmark message %" PRIu64 "\n"
	    "Message-ID: <%" PRIu64 ".qfill@bench.example>\n"
	    "Date: %s\n\n", i, i, date);
	for (k = 0; k < BODY_LINES; k++)
		strbuf_append(&f->content, body_line, sizeof(body_line) - 1);
	if (!strbuf_ok(&f->content))
		die("building a message", "out of memory");
}

/* defer - recipient idx 0 of id as after one failed connection: the
   state a backlog to unreachable hosts is in */
static void defer(struct fill *f, struct queue_txn *t, uint64_t id,
    uint64_t i, int64_t arrival)
{
	struct queue_rcpt r;
	unsigned d = (unsigned)(i % f->domains);

	if (queue_get_rcpt(t, id, 0, &r) != QUEUE_OK)
		die("reading a recipient back", queue_error(f->q));
	r.state = QS_DEFERRED;
	r.attempts = 1;
	r.first = r.last = arrival;
	r.next = f->now + HOUR + spread(i, HOUR);
	snprintf(r.status, sizeof(r.status), "4.4.1");
	snprintf(r.diag, sizeof(r.diag), "connect to mx.d%u.example"
	    "[192.0.2.1]:25: Connection refused", d);
	snprintf(r.relay, sizeof(r.relay), "mx.d%u.example[192.0.2.1]:25", d);
	if (queue_put_rcpt(t, &r) != QUEUE_OK)
		die("deferring a recipient", queue_error(f->q));
}

/* add_one - message i, with its recipient deferred, into t */
static void add_one(struct fill *f, struct queue_txn *t, uint64_t i)
{
	char addr[64], subject[64], msgid[64];
	struct queue_new_msg m;
	struct queue_new_rcpt r = { addr, NULL, NULL, 0, QUEUE_NO_PARENT };
	struct queue_add *a;
	int64_t arrival = f->first + (int64_t)((uint64_t)SPAN * i / f->n);
	uint64_t id;

	snprintf(addr, sizeof(addr), "u%" PRIu64 "@d%u.example", i,
	    (unsigned)(i % f->domains));
	snprintf(subject, sizeof(subject), "Benchmark message %" PRIu64, i);
	snprintf(msgid, sizeof(msgid), "<%" PRIu64 ".qfill@bench.example>", i);
	memset(&m, 0, sizeof(m));
	m.sender = "bench@bench.example";
	m.arrival = arrival;
	m.uid = (uint32_t)getuid();
	m.from = "Bench Sender <bench@bench.example>";
	m.subject = subject;
	m.msgid = msgid;
	make_content(f, i, arrival);
	if (queue_add_begin(t, &m, &a) != QUEUE_OK ||
	    queue_add_rcpt(a, &r) != QUEUE_OK ||
	    queue_add_content(a, f->content.s, f->content.len) != QUEUE_OK ||
	    queue_add_end(&a, &id) != QUEUE_OK) {
		queue_add_abandon(&a);
		die("adding a message", queue_error(f->q));
	}
	defer(f, t, id, i, arrival);
}

/* fill - every message, TXN_MSGS per committed transaction */
static void fill(struct fill *f)
{
	struct queue_txn *t;
	uint64_t i = 0, next_note = PROGRESS;
	int64_t t0 = timeutil_monotonic();

	while (i < f->n) {
		uint64_t end = f->n - i < TXN_MSGS ? f->n : i + TXN_MSGS;

		if (queue_begin(f->q, 1, &t) != QUEUE_OK)
			die("beginning a transaction", queue_error(f->q));
		for (; i < end; i++)
			add_one(f, t, i);
		if (queue_commit(&t) != QUEUE_OK)
			die("committing", queue_error(f->q));
		if (i >= next_note || i == f->n) {
			fprintf(stderr, "qfill: %" PRIu64 "/%" PRIu64
			    " messages, %.1f s\n", i, f->n,
			    (double)(timeutil_monotonic() - t0) / 1e6);
			next_note = i + PROGRESS;
		}
	}
}

int main(int argc, char **argv)
{
	struct fill f;
	char err[512];
	int64_t t0;

	memset(&f, 0, sizeof(f));
	if (argc < 3 || argc > 4)
		die("usage", "qfill DBDIR N [DOMAINS]");
	f.n = strtoull(argv[2], NULL, 10);
	f.domains = argc == 4 ? (unsigned)strtoul(argv[3], NULL, 10) : 50;
	if (f.n == 0 || f.domains == 0)
		die("usage", "N and DOMAINS must be positive numbers");
	strbuf_init(&f.content, 64 * 1024);
	if (queue_open(&f.q, argv[1], MAP_SIZE, QUEUE_CREATE, err,
	    sizeof(err)) != QUEUE_OK)
		die(argv[1], err);
	f.now = timeutil_now();
	f.first = f.now - SPAN;
	t0 = timeutil_monotonic();
	fill(&f);
	fprintf(stderr, "qfill: %" PRIu64 " messages in %.2f s\n", f.n,
	    (double)(timeutil_monotonic() - t0) / 1e6);
	queue_close(&f.q);
	strbuf_release(&f.content);
	return 0;
}
