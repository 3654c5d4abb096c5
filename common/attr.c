/*
 * attr - the attribute list codec (see attr.h for the encoding).
 *
 * Callers: every reader and writer of a record: ipc frames, maildrop
 * files, the LMDB queue store, the protocol headers' schema tables.
 *
 * Trust: the encoder trusts its caller (a bad name is a programming
 * error: nothing is appended and the buffer is marked failed). The
 * decoder trusts nothing in the bytes it is given: it never reads past
 * len, accepts exactly one spelling of each length, and refuses rather
 * than repairs. Numbers are parsed by hand, never with strtoul, so that
 * signs, spaces, leading zeros and overflow are all refused.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "strbuf.h"

#define ATTR_LEN_DIGITS 9		/* at most 999999999 bytes */
#define ATTR_LEN_MAX 999999999u

/* attr_name_ok - 1..ATTR_NAME_MAX bytes of [a-z0-9_] */
static int attr_name_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > ATTR_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_'))
			return 0;
	}
	return 1;
}

/* attr_put - append "LEN:name=value," as one unit */
int attr_put(struct strbuf *out, const char *name, const void *value,
    size_t len)
{
	size_t nlen = strlen(name), body;
	char head[16];
	int h;

	if (!attr_name_ok(name, nlen) || len > ATTR_LEN_MAX - nlen - 1) {
		out->failed = 1;
		return -1;
	}
	body = nlen + 1 + len;
	h = snprintf(head, sizeof(head), "%zu:", body);
	if (h < 0 || (size_t)h >= sizeof(head)) {
		out->failed = 1;
		return -1;
	}
	/* Reserving the whole attribute first makes the appends below
	   unable to fail, so the output never holds half an attribute. */
	if (strbuf_reserve(out, (size_t)h + body + 1) < 0)
		return -1;
	strbuf_append(out, head, (size_t)h);
	strbuf_append(out, name, nlen);
	strbuf_appendc(out, '=');
	strbuf_append(out, value, len);
	return strbuf_appendc(out, ',');
}

/* attr_put_str - append a C string value */
int attr_put_str(struct strbuf *out, const char *name, const char *value)
{
	return attr_put(out, name, value, strlen(value));
}

/* attr_put_u64 - append an unsigned decimal value */
int attr_put_u64(struct strbuf *out, const char *name, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRIu64, v);

	return attr_put(out, name, num, (size_t)n);
}

/* attr_put_i64 - append a signed decimal value */
int attr_put_i64(struct strbuf *out, const char *name, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);

	return attr_put(out, name, num, (size_t)n);
}

/* attr_list_add - room for one more entry, at most max in all */
static struct attr *attr_list_add(struct attr_list *list, size_t max,
    const char **reason_r)
{
	struct attr *v;
	size_t cap;

	if (list->n >= max) {
		*reason_r = "too many attributes";
		return NULL;
	}
	if (list->n == list->cap) {
		cap = list->cap ? list->cap * 2 : 8;
		if (cap > max)
			cap = max;
		if (cap > SIZE_MAX / sizeof(*v) ||
		    (v = realloc(list->v, cap * sizeof(*v))) == NULL) {
			*reason_r = "out of memory";
			return NULL;
		}
		list->v = v;
		list->cap = cap;
	}
	return &list->v[list->n++];
}

/* attr_parse_len - the netstring length at buf[*pos..len), through the
   ':'; advances *pos past the ':'. 0 or -1 with *reason_r. */
static int attr_parse_len(const char *buf, size_t len, size_t *pos,
    size_t *n_r, const char **reason_r)
{
	size_t p = *pos, n = 0, digits = 0;

	while (p < len && buf[p] >= '0' && buf[p] <= '9') {
		if (++digits > ATTR_LEN_DIGITS) {
			*reason_r = "netstring length has too many digits";
			return -1;
		}
		n = n * 10 + (size_t)(buf[p] - '0');
		p++;
	}
	if (digits == 0) {
		*reason_r = "netstring length missing";
		return -1;
	}
	if (digits > 1 && buf[*pos] == '0') {
		*reason_r = "netstring length has a leading zero";
		return -1;
	}
	if (p >= len || buf[p] != ':') {
		*reason_r = "netstring length not followed by ':'";
		return -1;
	}
	*pos = p + 1;
	*n_r = n;
	return 0;
}

/* attr_decode_one - one netstring at buf[*pos..len) into a */
static int attr_decode_one(char *buf, size_t len, size_t *pos,
    struct attr *a, const char **reason_r)
{
	size_t n;
	char *body, *eq;

	if (attr_parse_len(buf, len, pos, &n, reason_r) < 0)
		return -1;
	/* The body and its ',' must both lie inside len. */
	if (n >= len - *pos) {
		*reason_r = "netstring runs past the end of the record";
		return -1;
	}
	body = buf + *pos;
	if (body[n] != ',') {
		*reason_r = "netstring not terminated by ','";
		return -1;
	}
	if ((eq = memchr(body, '=', n)) == NULL) {
		*reason_r = "attribute without '='";
		return -1;
	}
	if (!attr_name_ok(body, (size_t)(eq - body))) {
		*reason_r = "bad attribute name";
		return -1;
	}
	*eq = '\0';
	body[n] = '\0';
	a->name = body;
	a->value = eq + 1;
	a->len = n - (size_t)(eq - body) - 1;
	*pos += n + 1;
	return 0;
}

/* attr_decode - decode a whole record in place */
int attr_decode(char *buf, size_t len, struct attr_list *list, size_t max,
    const char **reason_r)
{
	size_t pos = 0;
	struct attr a;
	struct attr *slot;

	list->n = 0;
	while (pos < len) {
		if (attr_decode_one(buf, len, &pos, &a, reason_r) < 0 ||
		    (slot = attr_list_add(list, max, reason_r)) == NULL) {
			list->n = 0;
			return -1;
		}
		*slot = a;
	}
	return 0;
}

/* attr_list_release - free the array */
void attr_list_release(struct attr_list *list)
{
	free(list->v);
	list->v = NULL;
	list->n = list->cap = 0;
}

/* attr_find - first attribute called name */
const struct attr *attr_find(const struct attr_list *list, const char *name)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		if (strcmp(list->v[i].name, name) == 0)
			return &list->v[i];
	return NULL;
}

/* attr_count - attributes called name */
size_t attr_count(const struct attr_list *list, const char *name)
{
	size_t i, c = 0;

	for (i = 0; i < list->n; i++)
		if (strcmp(list->v[i].name, name) == 0)
			c++;
	return c;
}

/* attr_parse_u64 - strict decimal at p[0..n) */
static int attr_parse_u64(const char *p, size_t n, uint64_t *v_r)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || (n > 1 && p[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned char)p[i] - (unsigned)'0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*v_r = v;
	return 0;
}

/* attr_u64 - the value as a strict unsigned decimal */
int attr_u64(const struct attr *a, uint64_t *v_r)
{
	return attr_parse_u64(a->value, a->len, v_r);
}

/* attr_i64 - the value as a strict signed decimal */
int attr_i64(const struct attr *a, int64_t *v_r)
{
	uint64_t m;

	if (a->len > 0 && a->value[0] == '-') {
		if (attr_parse_u64(a->value + 1, a->len - 1, &m) < 0 ||
		    m == 0 || m > (uint64_t)INT64_MAX + 1)
			return -1;
		/* -(m - 1) - 1 reaches INT64_MIN without overflowing. */
		*v_r = -(int64_t)(m - 1) - 1;
		return 0;
	}
	if (attr_parse_u64(a->value, a->len, &m) < 0 || m > INT64_MAX)
		return -1;
	*v_r = (int64_t)m;
	return 0;
}

/* attr_cstr - the value as a C string, if it is one and fits */
const char *attr_cstr(const struct attr *a, size_t max)
{
	if (a->len > max || memchr(a->value, '\0', a->len) != NULL)
		return NULL;
	return a->value;
}

/* attr_text_ok - no NUL, no controls but TAB (and CR, LF with lines) */
static int attr_text_ok(const struct attr *a, int lines)
{
	size_t i;

	for (i = 0; i < a->len; i++) {
		unsigned char c = (unsigned char)a->value[i];

		if (c == '\t' || (lines && (c == '\r' || c == '\n')))
			continue;
		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

/* attr_spec_find - the spec entry for name, or NULL */
static const struct attr_spec *attr_spec_find(const struct attr_spec *spec,
    size_t nspec, const char *name)
{
	size_t i;

	for (i = 0; i < nspec; i++)
		if (strcmp(spec[i].name, name) == 0)
			return &spec[i];
	return NULL;
}

/* attr_check_value - one attribute against its spec entry */
static const char *attr_check_value(const struct attr *a,
    const struct attr_spec *s)
{
	uint64_t v;

	if (a->len > s->maxlen)
		return "attribute value too long";
	if ((s->flags & ATTR_NUMBER) && attr_u64(a, &v) < 0)
		return "attribute value is not a number";
	if ((s->flags & ATTR_TEXT) &&
	    !attr_text_ok(a, (s->flags & ATTR_LINES) != 0))
		return "attribute value holds control characters";
	return NULL;
}

/* attr_check_counts - required ones present, single ones single */
static const char *attr_check_counts(const struct attr_list *list,
    const struct attr_spec *spec, size_t nspec, const char **name_r)
{
	size_t i, c;

	for (i = 0; i < nspec; i++) {
		c = attr_count(list, spec[i].name);
		*name_r = spec[i].name;
		if (c == 0 && (spec[i].flags & ATTR_REQUIRED))
			return "required attribute missing";
		if (c > 1 && !(spec[i].flags & ATTR_REPEAT))
			return "attribute repeated";
	}
	return NULL;
}

/* attr_check - list conforms to the schema table spec */
int attr_check(const struct attr_list *list, const struct attr_spec *spec,
    size_t nspec, int unknown_ok, const char **reason_r,
    const char **name_r)
{
	const struct attr_spec *s;
	const char *why, *name = NULL;
	size_t i;

	if ((why = attr_check_counts(list, spec, nspec, &name)) != NULL)
		goto bad;
	for (i = 0; i < list->n; i++) {
		name = list->v[i].name;
		s = attr_spec_find(spec, nspec, name);
		if (s == NULL && !unknown_ok) {
			why = "unknown attribute";
			goto bad;
		}
		if (s != NULL && (why = attr_check_value(&list->v[i], s)))
			goto bad;
	}
	return 0;
bad:
	*reason_r = why;
	if (name_r)
		*name_r = name;
	return -1;
}
