/*
 * qsel - which messages a verb is about (qview.h): the selectors of the
 * listings and of the changing verbs, and the rule by which an ordinary
 * user owns a message (its envelope sender is their login at myhostname
 * or a local domain).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attr.h"
#include "config.h"
#include "qview.h"
#include "timeutil.h"

void qsel_init(struct qsel *s)
{
	memset(s, 0, sizeof(*s));
	s->state = -1;
}

int qsel_state(const char *name)
{
	if (strcmp(name, "active") == 0)
		return QSEL_ACTIVE;
	return queue_state_lookup(name);
}

int qsel_filters(const struct qsel *s)
{
	return s->sender || s->recipient || s->domain || s->error ||
	    s->state >= 0 || s->older || s->owner;
}

int qsel_owned(const struct config *cfg, const char *login,
    const char *sender)
{
	const char *at = strrchr(sender, '@');
	const char *const *v;
	size_t n, i;

	if (at == NULL || (size_t)(at - sender) != strlen(login) ||
	    strncasecmp(sender, login, strlen(login)) != 0)
		return 0;
	if (strcasecmp(at + 1, config_str(cfg, CK_myhostname)) == 0)
		return 1;
	v = config_list(cfg, CK_local_domains, &n);
	for (i = 0; i < n; i++)
		if (strcasecmp(v[i], at + 1) == 0)
			return 1;
	return 0;
}

const char *qsel_parse(const struct attr_list *al, size_t max_ids,
    struct qsel *s, uint64_t **ids_r, int *nsel_r)
{
	size_t i, nids = 0, want = attr_count(al, "id");
	uint64_t v;

	qsel_init(s);
	*nsel_r = 0;
	*ids_r = NULL;
	if (want > max_ids)
		return "too many ids";
	if ((*ids_r = calloc(want + 1, sizeof(**ids_r))) == NULL)
		return "out of memory";
	for (i = 0; i < al->n; i++) {
		const struct attr *a = &al->v[i];

		if (strcmp(a->name, "id") == 0) {
			if (queue_id_parse(a->value, &(*ids_r)[nids]) < 0)
				return "not a queue id";
			nids++;
		} else if (strcmp(a->name, "sender") == 0 && ++*nsel_r)
			s->sender = a->value;
		else if (strcmp(a->name, "recipient") == 0 && ++*nsel_r)
			s->recipient = a->value;
		else if (strcmp(a->name, "domain") == 0 && ++*nsel_r)
			s->domain = a->value;
		else if (strcmp(a->name, "error") == 0 && ++*nsel_r)
			s->error = a->value;
		else if (strcmp(a->name, "state") == 0 && ++*nsel_r) {
			if ((s->state = qsel_state(a->value)) < 0)
				return "unknown state";
		} else if (strcmp(a->name, "older_than") == 0 && ++*nsel_r) {
			if (attr_u64(a, &v) < 0 || v > 100LL * 365 * 86400)
				return "bad older_than";
			s->older = timeutil_now() - (int64_t)v * 1000000;
		}
	}
	if (nids > 0) {
		s->ids = *ids_r;
		s->nids = nids;
	}
	return NULL;
}

int qsel_has_id(const uint64_t *v, size_t n, uint64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] == id)
			return 1;
		if (v[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* rcpt_matches - the recipient selectors hold for r */
static int rcpt_matches(const struct qsel *s, const struct queue_rcpt *r)
{
	const char *at = strrchr(r->addr, '@');

	if (s->recipient && strcasecmp(r->addr, s->recipient) != 0)
		return 0;
	if (s->domain && (at == NULL || strcasecmp(at + 1, s->domain) != 0))
		return 0;
	if (s->state >= 0 && s->state != QSEL_ACTIVE &&
	    (int)r->state != s->state)
		return 0;
	if (s->error && strcasestr(r->diag, s->error) == NULL)
		return 0;
	return 1;
}

int qsel_match(const struct qsel *s, const struct config *cfg,
    struct queue_txn *t, const struct queue_msg *m, int active)
{
	struct queue_rcpt r;
	uint32_t i;

	if (s->owner && !qsel_owned(cfg, s->owner, m->sender))
		return 0;
	if (s->sender && (strcmp(s->sender, "<>") == 0 ? m->sender[0] !=
	    '\0' : strcasecmp(m->sender, s->sender) != 0))
		return 0;
	if (s->older && m->arrival > s->older)
		return 0;
	if (s->state == QSEL_ACTIVE && !active)
		return 0;
	if (!s->recipient && !s->domain && !s->error &&
	    (s->state < 0 || s->state == QSEL_ACTIVE))
		return 1;
	for (i = 0; i < m->nrcpt; i++)
		if (queue_get_rcpt(t, m->id, i, &r) == QUEUE_OK &&
		    rcpt_matches(s, &r))
			return 1;
	return 0;
}
