/*
 * check_qview - unit tests for the retry timeline (common/retry.c) and
 * the ownership rule of the listings (qsel_owned in common/qview.c).
 *
 * What posternctl show promises: the planned attempts follow the
 * retry_schedule from the next attempt on, stop at the attempt after
 * which postern gives up (the schedule used up, or max_queue_lifetime
 * passed), and agree with retry_gives_up, which the queue manager
 * applies. What an ordinary user may see: only messages whose envelope
 * sender is exactly their login at myhostname or a local domain.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "queue.h"
#include "qview.h"
#include "retry.h"

#define ARRIVAL 1795000000000000LL	/* 2026-11-17, µs */
#define MIN 60000000LL
#define HOUR 3600000000LL

static struct config *cfg;

/* load - a configuration from text */
static void load(const char *text)
{
	char dir[64], path[128], err[512];
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/check_qview.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/postern.conf", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	ck_assert_msg(config_load(&cfg, dir, err, sizeof(err)) == 0, "%s",
	    err);
	unlink(path);
	rmdir(dir);
}

static void teardown(void) { config_free(&cfg); }

static void msg_rcpt(struct queue_msg *m, struct queue_rcpt *r,
    enum queue_state state, uint32_t attempts, int64_t next)
{
	memset(m, 0, sizeof(*m));
	memset(r, 0, sizeof(*r));
	m->arrival = ARRIVAL;
	r->state = state;
	r->attempts = attempts;
	r->next = next;
}

START_TEST(test_timeline_schedule)
{
	struct queue_msg m;
	struct queue_rcpt r;
	int64_t v[16];
	size_t n;

	load("myhostname = test.example\nretry_schedule = 10m 1h 2h\n"
	    "max_queue_lifetime = 5d\n");
	/* never tried: attempts 1 to 4 ahead, the last one is final */
	msg_rcpt(&m, &r, QS_PENDING, 0, ARRIVAL);
	n = retry_timeline(cfg, &m, &r, v, 16);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(v[0], ARRIVAL);
	ck_assert_int_eq(v[1], ARRIVAL + 10 * MIN);
	ck_assert_int_eq(v[2], ARRIVAL + 70 * MIN);
	ck_assert_int_eq(v[3], ARRIVAL + 190 * MIN);
	/* two made: attempts 3 and 4 ahead, 2h apart */
	msg_rcpt(&m, &r, QS_DEFERRED, 2, ARRIVAL + 80 * MIN);
	n = retry_timeline(cfg, &m, &r, v, 16);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(v[1] - v[0], 2 * HOUR);
	/* the queue manager agrees: the 4th failure gives up, not the 3rd */
	r.attempts = 3;
	ck_assert(!retry_gives_up(cfg, &m, &r, v[0]));
	r.attempts = 4;
	ck_assert(retry_gives_up(cfg, &m, &r, v[1]));
	/* the room given is respected */
	msg_rcpt(&m, &r, QS_PENDING, 0, ARRIVAL);
	ck_assert_uint_eq(retry_timeline(cfg, &m, &r, v, 2), 2);
}
END_TEST

START_TEST(test_timeline_lifetime)
{
	struct queue_msg m;
	struct queue_rcpt r;
	int64_t v[16];
	size_t n;

	load("myhostname = test.example\nretry_schedule = 1h 1h 1h 1h 1h\n"
	    "max_queue_lifetime = 150m\nbounce_queue_lifetime = 30m\n");
	/* the first attempt at or after arrival + 150m is the last */
	msg_rcpt(&m, &r, QS_DEFERRED, 1, ARRIVAL + HOUR);
	n = retry_timeline(cfg, &m, &r, v, 16);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(v[1], ARRIVAL + 2 * HOUR);
	ck_assert_int_eq(v[2], ARRIVAL + 3 * HOUR);
	r.attempts = 3;
	ck_assert(!retry_gives_up(cfg, &m, &r, v[1]));
	r.attempts = 4;
	ck_assert(retry_gives_up(cfg, &m, &r, v[2]));
	/* a notice lives bounce_queue_lifetime */
	msg_rcpt(&m, &r, QS_DEFERRED, 1, ARRIVAL + 40 * MIN);
	m.flags = QUEUE_MSG_NOTICE;
	ck_assert_uint_eq(retry_timeline(cfg, &m, &r, v, 16), 1);
	/* nothing ahead for final or held recipients */
	msg_rcpt(&m, &r, QS_DELIVERED, 1, 0);
	ck_assert_uint_eq(retry_timeline(cfg, &m, &r, v, 16), 0);
	msg_rcpt(&m, &r, QS_HELD, 1, 0);
	ck_assert_uint_eq(retry_timeline(cfg, &m, &r, v, 16), 0);
}
END_TEST

START_TEST(test_owned)
{
	load("myhostname = test.example\n"
	    "local_domains = $myhostname, localhost, Mail.Example\n");
	ck_assert(qsel_owned(cfg, "alice", "alice@test.example"));
	ck_assert(qsel_owned(cfg, "alice", "Alice@TEST.example"));
	ck_assert(qsel_owned(cfg, "alice", "alice@localhost"));
	ck_assert(qsel_owned(cfg, "alice", "alice@mail.example"));
	ck_assert(!qsel_owned(cfg, "alice", "alice@other.example"));
	ck_assert(!qsel_owned(cfg, "alice", "alice2@test.example"));
	ck_assert(!qsel_owned(cfg, "alice", "alic@test.example"));
	ck_assert(!qsel_owned(cfg, "alice", "bob+alice@test.example"));
	ck_assert(!qsel_owned(cfg, "alice", ""));
	ck_assert(!qsel_owned(cfg, "alice", "alice"));
	ck_assert(!qsel_owned(cfg, "alice", "alice@test.example.evil"));
}
END_TEST

START_TEST(test_states)
{
	ck_assert_int_eq(qsel_state("active"), QSEL_ACTIVE);
	ck_assert_int_eq(qsel_state("deferred"), QS_DEFERRED);
	ck_assert_int_eq(qsel_state("held"), QS_HELD);
	ck_assert_int_eq(qsel_state("failed"), QS_FAILED);
	ck_assert_int_eq(qsel_state("Deferred"), -1);
	ck_assert_int_eq(qsel_state(""), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("qview");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_timeline_schedule);
	tcase_add_test(tc, test_timeline_lifetime);
	tcase_add_test(tc, test_owned);
	tcase_add_test(tc, test_states);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
