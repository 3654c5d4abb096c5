/*
 * qview - the queue as people read it: the listings (posternctl queue,
 * queue --count, mailq) and one message (show, show --content).
 *
 * One renderer for both places that show the queue: the queue manager's
 * control socket, which streams each step to its client as it is made,
 * and posternctl when it reads the queue directly because the queue
 * manager is down. A view is rendered in steps. Each step is one short
 * read transaction that renders at most QVIEW_STEP_MSGS messages, or
 * about the caller's budget of bytes, and ends; the view keeps its
 * cursor (the last id listed) for the next step. So no transaction stays
 * open while a slow client reads, and memory does not grow with the
 * queue. Everything a sender or a remote server wrote is escaped before
 * it reaches a terminal (control characters) or JSON (json.h).
 *
 * A selection (struct qsel) filters messages: the same selectors as the
 * bulk verbs, plus an owner: an ordinary user sees only messages whose
 * envelope sender is their login at myhostname or a local domain.
 */
#ifndef POSTERN_QVIEW_H
#define POSTERN_QVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "queue.h"

struct config;
struct strbuf;

#define QVIEW_STEP_MSGS 2048
#define QVIEW_STEP_BYTES (1u << 20)	/* the budget callers give a step */
#define QVIEW_COUNT_KEYS 65536	/* keys counted in one step */
/* The most one step may render: a step ends at its budget, but one
   message is rendered whole, and a message may have recipient_limit
   recipients, each with a diagnostic (and with show --transcript, a
   transcript), JSON-escaped. Memory is taken only as it is used. */
#define VIEW_TEXT_MAX (256u << 20)
#define QSEL_ACTIVE 64		/* state "active": a job is in flight */

/* A selection. Selectors all apply (AND); the recipient selectors
   (recipient, domain, state, error) hold when one recipient matches
   them all. */
struct qsel {
	const uint64_t *ids;	/* only these (in this order), or NULL */
	size_t nids;
	const char *sender;	/* "<>" for the null sender */
	const char *recipient, *domain;
	const char *error;	/* in the last diagnostic, any case */
	int state;		/* enum queue_state, QSEL_ACTIVE, or -1 */
	int64_t older;		/* arrived at or before this (µs), or 0 */
	const char *owner;	/* an ordinary user's login, or NULL */
};

/* qsel_init - select everything */
void qsel_init(struct qsel *s);
/* qsel_state - a state name (pending, deferred, held, failed,
   delivered, expanded, active): its code, or -1 */
int qsel_state(const char *name);
/* qsel_filters - the selection filters anything (beyond ids) */
int qsel_filters(const struct qsel *s);
/* qsel_parse - the selection in a request (control_proto.h: id,
   sender, recipient, domain, state, older_than, error; other names are
   left to the caller), at most max_ids ids, into s; *ids_r (always set:
   free it) holds the ids s points to, *nsel_r counts the selectors.
   NULL, or why the request is bad. */
struct attr_list;
const char *qsel_parse(const struct attr_list *al, size_t max_ids,
    struct qsel *s, uint64_t **ids_r, int *nsel_r);
/* qsel_has_id - id is in v (n ids, sorted), as in a snapshot of the
   messages in flight */
int qsel_has_id(const uint64_t *v, size_t n, uint64_t id);
/* qsel_owned - the sender is login at myhostname or a local domain */
int qsel_owned(const struct config *cfg, const char *login,
    const char *sender);
/* qsel_match - message m, read in t, is selected; active: a job for it
   is in flight */
int qsel_match(const struct qsel *s, const struct config *cfg,
    struct queue_txn *t, const struct queue_msg *m, int active);

enum qview_kind {
	QV_QUEUE,		/* one line (or JSON object) per message */
	QV_MAILQ,		/* Postfix's mailq layout */
	QV_COUNT,		/* how many messages match */
	QV_SHOW,		/* one message, every recipient */
	QV_CONTENT,		/* one message's content, as stored */
	QV_STATS,		/* counts by state, domains (qview_stats.c) */
};

/* What only the queue manager knows, for stats: the outcomes of the last
   minute and hour (sent, bounced, deferred) and the jobs in flight. A
   direct reader leaves known at 0. */
struct qview_recent {
	int known;
	unsigned minute[3], hour[3];
	size_t jobs;
};

/* qview_step results, besides queue statuses (negative) */
#define QV_DONE 0
#define QV_MORE 1
#define QV_NOMSG 2		/* show: no such message */
#define QV_DENIED 3		/* show: not the owner's message */

struct qview {
	enum qview_kind kind;
	int json;
	int transcript;		/* show: each recipient's last transcript */
	struct qsel sel;
	uint64_t id;		/* show, content: the message */
	const struct config *cfg;
	/* Messages with a job in flight, sorted; the caller refreshes them
	   before each step (the queue manager knows; a direct reader has
	   none, as nothing runs). */
	const uint64_t *active;
	size_t nactive;
	struct qview_recent recent;	/* stats: set before each step */
	struct qstats *stats;		/* stats: the counts so far */
	/* progress */
	int started;
	uint64_t after;		/* the last message looked at */
	uint64_t upto;		/* the last id when the listing began:
				   later arrivals are not chased */
	size_t next;		/* next index in sel.ids */
	uint32_t rcpt;		/* show: next recipient */
	uint32_t chunk;		/* content: next chunk */
	uint64_t sent;		/* content: bytes so far */
	uint64_t count, bytes;	/* messages listed, their size */
	uint64_t damaged;	/* records that did not decode, skipped */
	char reason[QUEUE_DIAG_MAX + 1];	/* mailq: the last one shown */
};

/* qview_init - a view of kind over the whole queue (set sel, id, json
   and transcript after) */
void qview_init(struct qview *v, enum qview_kind kind,
    const struct config *cfg);
/* qview_step - render the next part into out (appended): QV_MORE, or
   QV_DONE once the trailer is written, QV_NOMSG, QV_DENIED, or a queue
   status (negative) when the queue could not be read */
int qview_step(struct qview *v, struct queue *q, struct strbuf *out,
    size_t budget);

/* qview_release - free what the view holds (not the view) */
void qview_release(struct qview *v);

/* qview_stats.c: the counts of a stats view */
struct qstats;
struct qstats *qstats_new(void);
void qstats_free(struct qstats **k);
/* qstats_add - count message m (read in t) */
void qstats_add(struct qstats *k, struct queue_txn *t,
    const struct queue_msg *m);
/* qstats_write - the counts (the top domains sorted) as text or JSON */
void qstats_write(struct qstats *k, const struct qview_recent *rc,
    int json, struct strbuf *out);


#endif
