/*
 * bounce_job - one job of postern-bounce in: the frame's attributes
 * checked and sorted into a struct bjob, the original message mapped
 * (bounce_proto.h is the protocol).
 *
 * Called by bounce_main.c for each frame. The attribute list is checked
 * against bounce_job_spec (names, counts, lengths, numbers, no control
 * characters), then field by field: the version, the queue id, the kind,
 * addresses (to, sender, each addr), job fields only before the first
 * "rcpt" and recipient fields only after one, each recipient field at
 * most once per group and the required ones present, unique indexes,
 * actions, status codes whose class fits the action, relays of a known
 * form, and a same_as that names an earlier group holding a transcript.
 * The original must be a sealed memfd of exactly the announced size; it
 * is mapped read-only.
 *
 * Trust: the queue manager is trusted more than a message, but nothing in
 * its frame is guessed at: a job that fails a check is refused whole. The
 * subject, the Message-ID and the diagnostics come from messages and
 * servers; they are only bounded here, and cleaned where they are written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "address.h"
#include "attr.h"
#include "bounce.h"
#include "exitcodes.h"
#include "bounce_proto.h"
#include "memfd.h"
#include "queue.h"


typedef const char *(*job_take_fn)(struct bjob *, const struct attr *);
typedef const char *(*rcpt_take_fn)(struct brcpt *, const struct attr *);

/* time_value - a microsecond time that fits int64_t */
static const char *time_value(const struct attr *a, int64_t *v_r)
{
	uint64_t v;

	if (attr_u64(a, &v) < 0 || v > INT64_MAX)
		return "a time out of range";
	*v_r = (int64_t)v;
	return NULL;
}

/* ---- job attributes ---- */

static const char *j_v(struct bjob *j, const struct attr *a)
{
	(void)j;
	return strcmp(a->value, BOUNCE_VERSION) ? "unknown version" : NULL;
}

static const char *j_id(struct bjob *j, const struct attr *a)
{
	uint64_t id;

	j->id = a->value;
	return queue_id_parse(a->value, &id) < 0 ? "bad queue id" : NULL;
}

static const char *j_kind(struct bjob *j, const struct attr *a)
{
	if (strcmp(a->value, "failure") == 0)
		j->kind = BK_FAILURE;
	else if (strcmp(a->value, "delay") == 0)
		j->kind = BK_DELAY;
	else if (strcmp(a->value, "success") == 0)
		j->kind = BK_SUCCESS;
	else
		return "unknown kind";
	return NULL;
}

/* j_to - an address, or a bare local name (postmaster_address is
   "postmaster" by default); the composer qualifies a bare one */
static const char *j_to(struct bjob *j, const struct attr *a)
{
	struct address ad;
	const char *why;

	j->to = a->value;
	if (address_parse(a->value, a->len, ADDRESS_ALLOW_BARE, &ad,
	    &why) < 0)
		return "bad notice recipient (to)";
	return NULL;
}

static const char *j_sender(struct bjob *j, const struct attr *a)
{
	struct address ad;
	const char *why;

	j->sender = a->value;
	if (a->len > 0 && address_parse(a->value, a->len, 0, &ad, &why) < 0)
		return "bad sender address";
	return NULL;
}

static const char *j_double(struct bjob *j, const struct attr *a)
{
	if (strcmp(a->value, "0") && strcmp(a->value, "1"))
		return "double is neither 0 nor 1";
	j->dbl = a->value[0] == '1';
	return NULL;
}

static const char *j_arrival(struct bjob *j, const struct attr *a)
{
	return time_value(a, &j->arrival);
}

static const char *j_size(struct bjob *j, const struct attr *a)
{
	return attr_u64(a, &j->size) < 0 ? "bad size" : NULL;
}

/* j_flags - "8bit,smtputf8", each at most once */
static const char *j_flags(struct bjob *j, const struct attr *a)
{
	const char *p = a->value, *e;
	size_t n;

	while (*p) {
		e = strchr(p, ',');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n == 4 && memcmp(p, "8bit", 4) == 0 && !j->f8bit)
			j->f8bit = 1;
		else if (n == 8 && memcmp(p, "smtputf8", 8) == 0 &&
		    !j->fsmtputf8)
			j->fsmtputf8 = 1;
		else
			return "unknown or repeated flag";
		p += n + (e != NULL);
		if (e && *p == '\0')
			return "empty flag";
	}
	return NULL;
}

static const char *j_ret(struct bjob *j, const struct attr *a)
{
	if (strcmp(a->value, "hdrs") == 0)
		j->ret_hdrs = 1;
	else if (strcmp(a->value, "full") != 0)
		return "ret is neither full nor hdrs";
	return NULL;
}

/* j_envid - RFC 3461 allows printable ASCII only */
static const char *j_envid(struct bjob *j, const struct attr *a)
{
	size_t i;

	for (i = 0; i < a->len; i++)
		if ((unsigned char)a->value[i] < 0x20 ||
		    (unsigned char)a->value[i] > 0x7e)
			return "envid is not printable ASCII";
	j->envid = a->value;
	return NULL;
}

static const char *j_msgid(struct bjob *j, const struct attr *a)
{
	j->msgid = a->value;
	return NULL;
}

static const char *j_subject(struct bjob *j, const struct attr *a)
{
	j->subject = a->value;
	return NULL;
}

static const struct { const char *name; job_take_fn take; } job_fields[] = {
	{ "v", j_v }, { "id", j_id }, { "kind", j_kind }, { "to", j_to },
	{ "sender", j_sender }, { "double", j_double },
	{ "arrival", j_arrival }, { "size", j_size }, { "flags", j_flags },
	{ "ret", j_ret }, { "envid", j_envid }, { "msgid", j_msgid },
	{ "subject", j_subject },
};

/* ---- recipient attributes ---- */

static const char *r_addr(struct brcpt *r, const struct attr *a)
{
	struct address ad;
	const char *why;

	r->addr = a->value;
	return address_parse(a->value, a->len, 0, &ad, &why) < 0 ?
	    "bad recipient address" : NULL;
}

static const char *r_orig(struct brcpt *r, const struct attr *a)
{
	r->orig = a->value;
	return a->len == 0 ? "empty original recipient" : NULL;
}

static const char *r_action(struct brcpt *r, const struct attr *a)
{
	static const char *const names[] = {
		"failed", "delayed", "delivered", "relayed" };
	size_t i;

	for (i = 0; i < NSPEC(names); i++)
		if (strcmp(a->value, names[i]) == 0) {
			r->action = (enum baction)i;
			return NULL;
		}
	return "unknown action";
}

static const char *r_status(struct brcpt *r, const struct attr *a)
{
	int class;

	r->status = a->value;
	return status_code_ok(a->value, &class) ? NULL : "bad status code";
}

static const char *r_diag(struct brcpt *r, const struct attr *a)
{
	r->diag = a->value;
	return NULL;
}

/* r_relay - "local", "none" or "host[address]:port" */
static const char *r_relay(struct brcpt *r, const struct attr *a)
{
	char host[256];

	r->relay = a->value;
	if (strcmp(a->value, "local") == 0 || strcmp(a->value, "none") == 0)
		return NULL;
	return bounce_remote_host(a->value, host, sizeof(host)) ? NULL :
	    "bad relay";
}

static const char *r_attempts(struct brcpt *r, const struct attr *a)
{
	return attr_u64(a, &r->attempts) < 0 ? "bad attempts" : NULL;
}

static const char *r_first(struct brcpt *r, const struct attr *a)
{
	return time_value(a, &r->first);
}

static const char *r_last(struct brcpt *r, const struct attr *a)
{
	return time_value(a, &r->last);
}

static const char *r_until(struct brcpt *r, const struct attr *a)
{
	return time_value(a, &r->until);
}

static const char *r_transcript(struct brcpt *r, const struct attr *a)
{
	r->xs = a->value;
	r->xs_len = a->len;
	return NULL;
}

static const char *r_same_as(struct brcpt *r, const struct attr *a)
{
	r->has_same_as = 1;
	return attr_u64(a, &r->same_as) < 0 ? "bad same_as" : NULL;
}

/* The order gives each field its bit in a group's "seen" mask; the first
   six are required. */
static const struct { const char *name; rcpt_take_fn take; } rcpt_fields[] = {
	{ "addr", r_addr }, { "action", r_action }, { "status", r_status },
	{ "diag", r_diag }, { "relay", r_relay }, { "attempts", r_attempts },
	{ "orig", r_orig }, { "first", r_first }, { "last", r_last },
	{ "until", r_until }, { "transcript", r_transcript },
	{ "same_as", r_same_as },
};
#define RCPT_REQUIRED 0x3fu

/* ---- the walk ---- */

/* job_field - one attribute before the first rcpt */
static const char *job_field(struct bjob *j, const struct attr *a)
{
	size_t i;

	for (i = 0; i < NSPEC(job_fields); i++)
		if (strcmp(a->name, job_fields[i].name) == 0)
			return job_fields[i].take(j, a);
	return "recipient attribute before the first rcpt";
}

/* rcpt_group - the group starting at al->v[*pos] (an "rcpt") */
static const char *rcpt_group(struct bjob *j, const struct attr_list *al,
    size_t *pos)
{
	struct brcpt *r = &j->rcpts[j->n++];
	unsigned seen = 0;
	const char *why;
	size_t i;

	if (attr_u64(&al->v[*pos], &r->index) < 0)
		return "bad recipient index";
	for ((*pos)++; *pos < al->n && strcmp(al->v[*pos].name, "rcpt");
	    (*pos)++) {
		for (i = 0; i < NSPEC(rcpt_fields); i++)
			if (strcmp(al->v[*pos].name, rcpt_fields[i].name) == 0)
				break;
		if (i == NSPEC(rcpt_fields))
			return "job attribute inside a recipient group";
		if (seen & (1u << i))
			return "recipient attribute repeated in one group";
		seen |= 1u << i;
		if ((why = rcpt_fields[i].take(r, &al->v[*pos])) != NULL)
			return why;
	}
	if ((seen & RCPT_REQUIRED) != RCPT_REQUIRED)
		return "recipient group without addr, action, status, diag, "
		    "relay or attempts";
	return NULL;
}

/* action_fits - the status class suits the action: a failed recipient
   may keep the 4.x.x of the deferral that ran out of time */
static int action_fits(const struct brcpt *r)
{
	int class = 0;

	status_code_ok(r->status, &class);
	switch (r->action) {
	case BA_FAILED:
		return class == 5 || class == 4;
	case BA_DELAYED:
		return class == 4;
	default:
		return class == 2;
	}
}

/* rcpt_check - recipient k against the ones before it */
static const char *rcpt_check(const struct bjob *j, size_t k)
{
	const struct brcpt *r = &j->rcpts[k];
	size_t i;

	if (!action_fits(r))
		return "status class does not fit the action";
	if (r->xs != NULL && r->has_same_as)
		return "both transcript and same_as";
	for (i = 0; i < k; i++)
		if (j->rcpts[i].index == r->index)
			return "recipient index repeated";
	if (!r->has_same_as)
		return NULL;
	for (i = 0; i < k; i++)
		if (j->rcpts[i].index == r->same_as)
			return j->rcpts[i].xs ? NULL :
			    "same_as names a group without a transcript";
	return "same_as does not name an earlier group";
}

/* map_original - check and map the memfd */
static const char *map_original(struct bjob *j)
{
	size_t len;

	if (memfd_map(j->fd, j->size, j->size, &j->content, &len) < 0)
		return "the original is not a sealed memfd of the given size";
	return NULL;
}


/* bjob_walk - the attributes in order into j */
static const char *bjob_walk(struct bjob *j, const struct attr_list *al)
{
	const char *why;
	size_t pos = 0, k;

	for (; pos < al->n && strcmp(al->v[pos].name, "rcpt"); pos++)
		if ((why = job_field(j, &al->v[pos])) != NULL)
			return why;
	while (pos < al->n)
		if ((why = rcpt_group(j, al, &pos)) != NULL)
			return why;
	if (*j->to == '\0')
		return "empty notice recipient (to)";
	for (k = 0; k < j->n; k++)
		if ((why = rcpt_check(j, k)) != NULL)
			return why;
	return NULL;
}

/* bjob_decode - the whole frame into j */
const char *bjob_decode(struct bjob *j, const struct attr_list *al,
    int *fd)
{
	static char buf[128];
	const char *why, *name = "?";
	size_t nr = attr_count(al, "rcpt");

	memset(j, 0, sizeof(*j));
	j->fd = *fd;
	*fd = -1;
	if (attr_check(al, bounce_job_spec, NSPEC(bounce_job_spec), 0, &why,
	    &name) < 0) {
		snprintf(buf, sizeof(buf), "%s: %s", name ? name : "?", why);
		return buf;
	}
	if (j->fd < 0)
		return "a job without the original";
	if (nr == 0 || nr > BOUNCE_RCPT_MAX)
		return "no recipients, or too many";
	if ((j->rcpts = calloc(nr, sizeof(*j->rcpts))) == NULL)
		return "out of memory";
	if ((why = bjob_walk(j, al)) != NULL)
		return why;
	return map_original(j);
}

/* bjob_release - unmap, close, free */
void bjob_release(struct bjob *j)
{
	if (j->content != NULL && j->size > 0)
		munmap((void *)j->content, (size_t)j->size);
	if (j->fd >= 0)
		close(j->fd);
	free(j->rcpts);
	memset(j, 0, sizeof(*j));
	j->fd = -1;
}
