/*
 * remote_job - a remote job in and its result out (remote_proto.h).
 *
 * The queue manager is trusted more than a remote server, but its frame
 * is still checked against the schema, every address is parsed again,
 * the recipient count is bounded, and the content must be a sealed memfd
 * of exactly the announced size (memfd.h), mapped read-only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "attr.h"
#include "memfd.h"
#include "remote.h"


/* copy - a value that the schema already bounded */
static void copy(char *dst, size_t len, const struct attr *a)
{
	snprintf(dst, len, "%.*s", (int)a->len, a->value);
}

/* take_flags - "8bit,smtputf8" */
static const char *take_flags(struct rjob *j, const char *s)
{
	char buf[72], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",",
	    &save)) {
		if (strcmp(tok, "8bit") == 0)
			j->flags |= RJOB_8BIT;
		else if (strcmp(tok, "smtputf8") == 0)
			j->flags |= RJOB_SMTPUTF8;
		else
			return "an unknown flag";
	}
	return NULL;
}

/* take_rcpt - one recipient group from attribute *pos on */
static const char *take_rcpt(struct rjob *j, const struct attr_list *al,
    size_t *pos)
{
	struct rrcpt *r = &j->rcpts[j->n++];
	struct address a;
	const char *why;
	uint64_t idx;

	memset(r, 0, sizeof(*r));
	if (attr_u64(&al->v[*pos], &idx) < 0 || idx > UINT32_MAX)
		return "a bad recipient index";
	r->idx = (uint32_t)idx;
	for ((*pos)++; *pos < al->n && strcmp(al->v[*pos].name, "rcpt") != 0;
	    (*pos)++) {
		const struct attr *v = &al->v[*pos];

		if (strcmp(v->name, "addr") == 0) {
			/* (options 0: a bare local part is refused) */
			if (address_parse(v->value, v->len, 0, &a, &why) < 0)
				return "a bad recipient address";
			snprintf(r->addr, sizeof(r->addr), "%s", a.text);
		} else if (strcmp(v->name, "orcpt") == 0)
			copy(r->orcpt, sizeof(r->orcpt), v);
		else if (strcmp(v->name, "notify") == 0)
			copy(r->notify, sizeof(r->notify), v);
		else
			return "a message attribute inside a recipient group";
	}
	if (r->addr[0] == '\0')
		return "a recipient without an address";
	r->state = RS_PENDING;
	return NULL;
}

/* map_content - check and map the memfd */
static const char *map_content(struct rjob *j)
{
	const char *p;
	size_t len;
	uint64_t i, lines = 0;

	if (memfd_map(j->fd, j->size, j->size, &p, &len) < 0)
		return "the content is not a sealed memfd of the given size";
	for (i = 0; i < len; i++)
		lines += p[i] == '\n';
	j->content = p;
	/* SIZE= counts the wire form: a CR before each LF, and the final
	   ".CRLF" */
	j->wire_size = len == 0 ? 0 : j->size + lines + 3;
	return NULL;
}

const char *rjob_decode(struct rjob *j, const struct attr_list *al, int *fd)
{
	const char *why = NULL, *name = NULL;
	struct address a;
	const struct attr *v;
	size_t pos, nr = attr_count(al, "rcpt");
	uint64_t size;

	memset(j, 0, sizeof(*j));
	j->fd = -1;
	if (attr_check(al, remote_job_spec, NSPEC(remote_job_spec), 0, &why,
	    &name) < 0)
		return why;
	if (strcmp(al->v[0].name, "v") != 0 ||
	    strcmp(al->v[0].value, REMOTE_VERSION) != 0)
		return "not a version 1 job";
	if (*fd < 0)
		return "a job without its content";
	j->fd = *fd;
	*fd = -1;
	if (nr == 0 || nr > REMOTE_RCPT_MAX)
		return "too many or no recipients";
	if ((j->rcpts = calloc(nr, sizeof(*j->rcpts))) == NULL)
		return "out of memory";
	for (pos = 1; pos < al->n; pos++) {
		v = &al->v[pos];
		if (strcmp(v->name, "rcpt") == 0)
			break;
		if (strcmp(v->name, "id") == 0)
			copy(j->id, sizeof(j->id), v);
		else if (strcmp(v->name, "sender") == 0) {
			if (v->len > 0 && address_parse(v->value, v->len, 0,
			    &a, &why) < 0)
				return "a bad sender address";
			copy(j->sender, sizeof(j->sender), v);
		} else if (strcmp(v->name, "size") == 0) {
			if (attr_u64(v, &size) < 0)
				return "a bad size";
			j->size = size;
		} else if (strcmp(v->name, "flags") == 0) {
			if ((why = take_flags(j, v->value)) != NULL)
				return why;
		} else if (strcmp(v->name, "ret") == 0) {
			if (strcmp(v->value, "full") != 0 &&
			    strcmp(v->value, "hdrs") != 0)
				return "ret is neither full nor hdrs";
			copy(j->ret, sizeof(j->ret), v);
		}
		else if (strcmp(v->name, "envid") == 0)
			copy(j->envid, sizeof(j->envid), v);
		else if (strcmp(v->name, "domain") == 0)
			copy(j->domain, sizeof(j->domain), v);
		else if (strcmp(v->name, "nexthop") == 0)
			copy(j->nexthop, sizeof(j->nexthop), v);
		else if (strcmp(v->name, "tls") == 0)
			copy(j->tls, sizeof(j->tls), v);
		else if (strcmp(v->name, "dest") == 0)
			copy(j->dest, sizeof(j->dest), v);
		else
			return "a recipient attribute before the first rcpt";
	}
	if (strcmp(j->tls, "none") != 0 && strcmp(j->tls, "may") != 0 &&
	    strcmp(j->tls, "encrypt") != 0 && strcmp(j->tls, "verify") != 0)
		return "an unknown TLS level";
	while (pos < al->n)
		if ((why = take_rcpt(j, al, &pos)) != NULL)
			return why;
	return map_content(j);
}

void rjob_release(struct rjob *j)
{
	if (j->content != NULL && j->size > 0)
		munmap((void *)j->content, j->size);
	if (j->fd >= 0)
		close(j->fd);
	free(j->rcpts);
	memset(j, 0, sizeof(*j));
	j->fd = -1;
}

void rcpt_set(struct rrcpt *r, enum rcpt_state st, const char *status,
    const char *relay, const char *fmt, ...)
{
	va_list ap;

	r->state = st;
	snprintf(r->status, sizeof(r->status), "%s", status);
	snprintf(r->relay, sizeof(r->relay), "%s", relay && relay[0] ? relay :
	    "none");
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
}

/* open_rcpt - the recipient has no outcome yet */
static int open_rcpt(const struct rrcpt *r)
{
	return r->state != RS_OK && r->state != RS_DEFER &&
	    r->state != RS_FAIL;
}

size_t rjob_pending(const struct rjob *j)
{
	size_t i, n = 0;

	for (i = 0; i < j->n; i++)
		n += open_rcpt(&j->rcpts[i]);
	return n;
}

void rjob_settle(struct rjob *j, enum rcpt_state st, const char *status,
    const char *relay, const char *text)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		if (open_rcpt(&j->rcpts[i]))
			rcpt_set(&j->rcpts[i], st, status, relay, "%s", text);
}

void rjob_result(const struct rjob *j, const struct strbuf *xscript,
    int session_open, struct strbuf *out)
{
	size_t i;

	strbuf_reset(out);
	attr_put_str(out, "v", REMOTE_VERSION);
	if (xscript != NULL && xscript->len > 0)
		attr_put(out, "transcript", xscript->s, xscript->len);
	attr_put_str(out, "session", session_open ? "open" : "closed");
	if (j->conn_tls[0])
		attr_put_str(out, "tls", j->conn_tls);
	if (j->conn_use > 0)
		attr_put_u64(out, "conn_use", j->conn_use);
	for (i = 0; i < j->n; i++) {
		const struct rrcpt *r = &j->rcpts[i];

		attr_put_u64(out, "rcpt", r->idx);
		attr_put_str(out, "result", r->state == RS_OK ? "ok" :
		    r->state == RS_FAIL ? "fail" : "defer");
		attr_put_str(out, "status", r->status[0] ? r->status :
		    "4.3.0");
		attr_put_str(out, "text", r->text[0] ? r->text :
		    "no result (internal error)");
		attr_put_str(out, "relay", r->relay[0] ? r->relay : "none");
	}
}
