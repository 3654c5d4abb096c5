/*
 * qsel - which messages a verb is about (qview.h): the selectors of the
 * listings and of the changing verbs, and the rule by which an ordinary
 * user owns a message (its envelope sender is their login at myhostname
 * or a local domain).
 */
#include <string.h>
#include <strings.h>

#include "config.h"
#include "qview.h"

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

/* contains - needle in hay, ignoring ASCII case */
static int contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return n == 0;
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
	if (s->error && !contains(r->diag, s->error))
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
