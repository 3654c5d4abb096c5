/*
 * retry - the retry schedule (retry.h).
 */
#include "retry.h"

#include "config.h"
#include "queue.h"

/* lifetime - how long after arrival postern stops trying, in µs */
static int64_t lifetime(const struct config *cfg, const struct queue_msg *m)
{
	return config_duration(cfg, m->flags & QUEUE_MSG_NOTICE ?
	    CK_bounce_queue_lifetime : CK_max_queue_lifetime) * 1000000;
}

int retry_gives_up(const struct config *cfg, const struct queue_msg *m,
    const struct queue_rcpt *r, int64_t now)
{
	size_t n;

	config_durations(cfg, CK_retry_schedule, &n);
	return r->attempts > n || now - m->arrival >= lifetime(cfg, m);
}

size_t retry_timeline(const struct config *cfg, const struct queue_msg *m,
    const struct queue_rcpt *r, int64_t *v, size_t max)
{
	size_t n, k = 0;
	const int64_t *sched = config_durations(cfg, CK_retry_schedule, &n);
	int64_t end = m->arrival + lifetime(cfg, m), t = r->next;
	uint64_t made = r->attempts;	/* attempts before v[k] */

	if (r->state != QS_PENDING && r->state != QS_DEFERRED)
		return 0;
	while (k < max) {
		v[k++] = t;
		/* would the attempt at t, failing, be the last? */
		if (made + 1 > n || t >= end)
			break;
		t += sched[made] * 1000000;
		made++;
	}
	return k;
}
