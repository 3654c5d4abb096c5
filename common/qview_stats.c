/*
 * qview_stats - the counts behind posternctl stats (qview.h): messages,
 * held messages, bytes, the oldest arrival, recipients by state, and the
 * domains with the most deferred recipients, gathered a step at a time
 * as a view walks the queue, then written as text or JSON.
 *
 * The queue manager adds what only it knows (the outcomes of the last
 * minute and hour, jobs in flight); a direct reader, with the queue
 * manager down, leaves those out.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "qview.h"
#include "strbuf.h"
#include "timeutil.h"

#define DOMAINS_MAX 4096		/* distinct deferred domains counted */
#define TOP_DOMAINS 20
#define SLOTS (2 * DOMAINS_MAX)		/* the hash table of domains */

struct qstats {
	uint64_t msgs, held, bytes;
	uint64_t state[QS_EXPANDED + 1];
	int64_t oldest;			/* arrival, or 0 */
	struct dcount { char name[256]; uint64_t n; } dom[DOMAINS_MAX];
	size_t ndom;
	uint32_t slot[SLOTS];		/* hash: dom index + 1, or 0 */
	uint64_t dom_other;		/* past DOMAINS_MAX */
};

static const char *const state_names[] = { "pending", "deferred", "held",
    "delivered", "failed", "expanded" };

struct qstats *qstats_new(void)
{
	return calloc(1, sizeof(struct qstats));
}

void qstats_free(struct qstats **k)
{
	free(*k);
	*k = NULL;
}

/* count_domain - one more deferred recipient at domain d (a hash table:
   stats reads every recipient of the queue) */
static void count_domain(struct qstats *k, const char *d)
{
	char low[256];
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; d[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)d[i]);
	low[i] = '\0';
	for (i = 0; low[i]; i++)
		h = (h ^ (unsigned char)low[i]) * 16777619u;
	for (i = h % SLOTS; k->slot[i] != 0; i = (i + 1) % SLOTS)
		if (strcmp(k->dom[k->slot[i] - 1].name, low) == 0) {
			k->dom[k->slot[i] - 1].n++;
			return;
		}
	if (k->ndom == DOMAINS_MAX) {
		k->dom_other++;
		return;
	}
	snprintf(k->dom[k->ndom].name, sizeof(k->dom[0].name), "%s", low);
	k->dom[k->ndom].n = 1;
	k->slot[i] = (uint32_t)++k->ndom;
}

void qstats_add(struct qstats *k, struct queue_txn *t,
    const struct queue_msg *m)
{
	struct queue_rcpt r;
	const char *at;
	uint32_t i;

	k->msgs++;
	k->bytes += m->size;
	k->held += (m->flags & QUEUE_MSG_HELD) != 0;
	if (k->oldest == 0 || m->arrival < k->oldest)
		k->oldest = m->arrival;
	for (i = 0; i < m->nrcpt; i++) {
		if (queue_get_rcpt(t, m->id, i, &r) != QUEUE_OK ||
		    (unsigned)r.state > QS_EXPANDED)
			continue;
		k->state[r.state]++;
		if (r.state == QS_DEFERRED && (at = strrchr(r.addr, '@')))
			count_domain(k, at + 1);
	}
}

static int by_count(const void *a, const void *b)
{
	const struct dcount *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->name, y->name);
}

/* as_json - the counts as one JSON object */
static void as_json(const struct qstats *k, int64_t age,
    const struct qview_recent *rc, struct strbuf *t)
{
	size_t i;

	strbuf_appendf(t, "{\"messages\":%llu,\"held_messages\":%llu,"
	    "\"bytes\":%llu,\"oldest_age\":%lld,\"recipients\":{",
	    (unsigned long long)k->msgs, (unsigned long long)k->held,
	    (unsigned long long)k->bytes, (long long)age);
	for (i = 0; i <= QS_EXPANDED; i++)
		strbuf_appendf(t, "%s\"%s\":%llu", i ? "," : "",
		    state_names[i], (unsigned long long)k->state[i]);
	strbuf_appends(t, "},\"deferred_domains\":[");
	for (i = 0; i < k->ndom && i < TOP_DOMAINS; i++) {
		strbuf_appends(t, i ? ",{" : "{");
		json_key_string(t, "domain", k->dom[i].name);
		strbuf_appendf(t, ",\"deferred\":%llu}",
		    (unsigned long long)k->dom[i].n);
	}
	strbuf_appendc(t, ']');
	if (rc->known)
		strbuf_appendf(t, ",\"last_minute\":{\"sent\":%u,\"bounced\":%u,"
		    "\"deferred\":%u},\"last_hour\":{\"sent\":%u,\"bounced\":%u,"
		    "\"deferred\":%u},\"jobs\":%zu", rc->minute[0],
		    rc->minute[1], rc->minute[2], rc->hour[0], rc->hour[1],
		    rc->hour[2], rc->jobs);
	else
		strbuf_appends(t, ",\"last_minute\":null,\"last_hour\":null,"
		    "\"jobs\":null");
	strbuf_appends(t, "}\n");
}

/* as_text - the counts for people */
static void as_text(const struct qstats *k, int64_t age,
    const struct qview_recent *rc, struct strbuf *t)
{
	size_t i;

	strbuf_appendf(t, "messages: %llu (%llu held), %llu bytes\n"
	    "oldest: %lldh %02lldm old\nrecipients:",
	    (unsigned long long)k->msgs, (unsigned long long)k->held,
	    (unsigned long long)k->bytes, (long long)(age / 3600),
	    (long long)(age / 60 % 60));
	for (i = 0; i <= QS_EXPANDED; i++)
		strbuf_appendf(t, "%s %llu %s", i ? "," : "",
		    (unsigned long long)k->state[i], state_names[i]);
	if (rc->known)
		strbuf_appendf(t, "\nlast minute: %u sent, %u bounced, %u "
		    "deferred\nlast hour: %u sent, %u bounced, %u deferred\n"
		    "jobs in flight: %zu\n", rc->minute[0], rc->minute[1],
		    rc->minute[2], rc->hour[0], rc->hour[1], rc->hour[2],
		    rc->jobs);
	else
		strbuf_appends(t, "\n(the queue manager is not running: no "
		    "recent outcomes, no jobs)\n");
	if (k->ndom > 0)
		strbuf_appends(t, "deferred by domain:\n");
	for (i = 0; i < k->ndom && i < TOP_DOMAINS; i++) {
		strbuf_appendf(t, "%10llu  ", (unsigned long long)k->dom[i].n);
		strbuf_append_printable(t, k->dom[i].name,
		    strlen(k->dom[i].name), 1);
		strbuf_appendc(t, '\n');
	}
}

void qstats_write(struct qstats *k, const struct qview_recent *rc,
    int json, struct strbuf *out)
{
	int64_t now = timeutil_now();
	int64_t age = k->oldest ? (now - k->oldest) / 1000000 : 0;

	qsort(k->dom, k->ndom, sizeof(k->dom[0]), by_count);
	(json ? as_json : as_text)(k, age, rc, out);
}
