/*
 * maps - small "key  value" files held in memory (see maps.h).
 *
 * Callers: the queue manager, for the virtual mailbox file, the routes
 * file and the TLS policy file; it reloads a map when map_changed() says
 * the file was replaced. Loading reads the file line by line into a
 * growable array, sorts it by key (then by line, so that a repeated key
 * is named with both of its lines) and refuses repeats; lookups are a
 * bsearch. Each entry is one allocation holding "key\0value\0".
 *
 * Trust: the files are written by root, and read strictly anyway: every
 * line is bounded and checked, and an error names the file and line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsio.h"
#include "maps.h"

#define is_blank(c) ((c) == ' ' || (c) == '\t')
#define is_ctl(c) (((c) < 0x20 && (c) != '\t') || (c) == 0x7f)

struct map_entry {
	char *key;		/* "key\0value\0", one allocation */
	const char *value;
	unsigned line;
};

struct map {
	struct map_entry *v;
	size_t n, cap;
	unsigned flags;
	char *path;		/* NULL: no file at all */
	int exists;		/* the file existed when loaded */
	struct stat st;		/* and was this one */
};

struct loader {
	struct map *m;
	char *err;
	size_t errlen;
};

struct query {
	const char *key;
	int lower;
};

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* fail - "PATH:LINE: reason" (line 0: "PATH: reason"); returns -1 */
static int fail(struct loader *ld, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct loader *ld, unsigned line, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (ld->errlen == 0)
		return -1;
	if (line)
		snprintf(ld->err, ld->errlen, "%s:%u: %s", ld->m->path, line,
		    reason);
	else
		snprintf(ld->err, ld->errlen, "%s: %s", ld->m->path, reason);
	return -1;
}

/* add - keep the entry key (klen bytes) = value (vlen bytes) */
static int add(struct loader *ld, const char *key, size_t klen,
    const char *value, size_t vlen, unsigned line)
{
	struct map *m = ld->m;
	struct map_entry *e;
	size_t i;

	if (m->n == MAP_ENTRIES_MAX)
		return fail(ld, line, "more than %d entries", MAP_ENTRIES_MAX);
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;

		if ((e = reallocarray(m->v, cap, sizeof(*e))) == NULL)
			return fail(ld, line, "out of memory");
		m->v = e;
		m->cap = cap;
	}
	e = &m->v[m->n];
	if ((e->key = malloc(klen + vlen + 2)) == NULL)
		return fail(ld, line, "out of memory");
	for (i = 0; i < klen; i++)
		e->key[i] = (char)(m->flags & MAP_LOWER_KEYS ?
		    lower((unsigned char)key[i]) : key[i]);
	e->key[klen] = '\0';
	memcpy(e->key + klen + 1, value, vlen);
	e->key[klen + 1 + vlen] = '\0';
	e->value = e->key + klen + 1;
	e->line = line;
	m->n++;
	return 0;
}

/* parse_line - one line (n bytes at s, the line-th of the file) */
static int parse_line(struct loader *ld, const char *s, size_t n,
    unsigned line)
{
	size_t k, v;

	for (k = 0; k < n; k++)
		if (is_ctl((unsigned char)s[k]))
			return fail(ld, line, "control character 0x%02x in "
			    "line", (unsigned char)s[k]);
	while (n > 0 && is_blank((unsigned char)s[0])) {
		s++;
		n--;
	}
	while (n > 0 && is_blank((unsigned char)s[n - 1]))
		n--;
	if (n == 0 || s[0] == '#')
		return 0;
	for (k = 0; k < n && !is_blank((unsigned char)s[k]); k++)
		;
	for (v = k; v < n && is_blank((unsigned char)s[v]); v++)
		;
	if (v == n)
		return fail(ld, line, "key '%.*s' has no value", (int)k, s);
	return add(ld, s, k, s + v, n - v, line);
}

/* read_map - every line of fp */
static int read_map(struct loader *ld, FILE *fp)
{
	char buf[MAP_LINE_MAX + 1];	/* a full line and a CR */
	unsigned line = 0;
	size_t n;
	int c = 0;

	while (c != EOF) {
		line++;
		for (n = 0; (c = getc_unlocked(fp)) != EOF && c != '\n'; )
			if (n == sizeof(buf))
				return fail(ld, line, "line longer than %d "
				    "bytes", MAP_LINE_MAX);
			else
				buf[n++] = (char)c;
		if (ferror(fp))
			return fail(ld, 0, "read error: %s", strerror(errno));
		if (n > 0 && buf[n - 1] == '\r')
			n--;
		if (n > MAP_LINE_MAX)
			return fail(ld, line, "line longer than %d bytes",
			    MAP_LINE_MAX);
		if (parse_line(ld, buf, n, line) < 0)
			return -1;
	}
	return 0;
}

/* entry_cmp - by key, then by line */
static int entry_cmp(const void *a, const void *b)
{
	const struct map_entry *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	if (r == 0 && x->line != y->line)
		r = x->line < y->line ? -1 : 1;
	return r;
}

/* sort_check - sort; refuse the key repeated earliest in the file */
static int sort_check(struct loader *ld)
{
	struct map *m = ld->m;
	const struct map_entry *dup = NULL, *first = NULL, *run = m->v;
	size_t i;

	if (m->n > 1)
		qsort(m->v, m->n, sizeof(m->v[0]), entry_cmp);
	for (i = 1; i < m->n; i++) {
		if (strcmp(m->v[i].key, run->key) != 0)
			run = &m->v[i];
		else if (dup == NULL || m->v[i].line < dup->line) {
			dup = &m->v[i];
			first = run;
		}
	}
	if (dup == NULL)
		return 0;
	return fail(ld, dup->line, "key '%s' repeated (first on line %u)",
	    dup->key, first->line);
}

/* load_file - the file at m->path into m; a missing one may be empty */
static int load_file(struct loader *ld)
{
	struct map *m = ld->m;
	FILE *fp;
	int r;

	if ((fp = fopen(m->path, "re")) == NULL) {
		if (errno == ENOENT && (m->flags & MAP_MISSING_OK))
			return 0;
		return fail(ld, 0, "cannot open: %s", strerror(errno));
	}
	if (fstat(fileno(fp), &m->st) < 0)
		r = fail(ld, 0, "%s", strerror(errno));
	else if ((r = read_map(ld, fp)) == 0)
		r = sort_check(ld);
	m->exists = 1;
	fclose(fp);
	return r;
}

/* map_load - path into a new map */
int map_load(struct map **m_r, const char *path, unsigned flags,
    char *err, size_t errlen)
{
	struct loader ld = { NULL, err, errlen };

	*m_r = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if ((ld.m = calloc(1, sizeof(*ld.m))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path ? path : "");
		return -1;
	}
	ld.m->flags = flags;
	if (path != NULL && *path != '\0' &&
	    ((ld.m->path = strdup(path)) == NULL || load_file(&ld) < 0)) {
		if (ld.m->path == NULL)
			snprintf(err, errlen, "%s: out of memory", path);
		map_free(&ld.m);
		return -1;
	}
	*m_r = ld.m;
	return 0;
}

/* query_cmp - bsearch comparison of a query with an entry */
static int query_cmp(const void *a, const void *b)
{
	const struct query *q = a;
	const struct map_entry *e = b;
	const unsigned char *s = (const unsigned char *)q->key;
	const unsigned char *k = (const unsigned char *)e->key;
	int c;

	for (;; s++, k++) {
		c = q->lower ? lower(*s) : *s;
		if (c != *k)
			return c - *k;
		if (c == '\0')
			return 0;
	}
}

/* map_lookup - the value of key, or NULL */
const char *map_lookup(const struct map *m, const char *key)
{
	struct query q = { key, (m->flags & MAP_LOWER_KEYS) != 0 };
	const struct map_entry *e;

	if (m->n == 0)
		return NULL;
	e = bsearch(&q, m->v, m->n, sizeof(m->v[0]), query_cmp);
	return e ? e->value : NULL;
}

/* map_changed - the file at the path is not the one loaded */
int map_changed(const struct map *m)
{
	struct stat st;

	if (m->path == NULL)
		return 0;
	if (stat(m->path, &st) < 0)
		return errno == ENOENT ? m->exists : 1;
	if (!m->exists)
		return 1;
	return fsio_stat_changed(&m->st, &st);
}

/* map_count - the number of entries */
size_t map_count(const struct map *m)
{
	return m->n;
}

/* map_free - free the map */
void map_free(struct map **m)
{
	size_t i;

	if (*m == NULL)
		return;
	for (i = 0; i < (*m)->n; i++)
		free((*m)->v[i].key);
	free((*m)->v);
	free((*m)->path);
	free(*m);
	*m = NULL;
}
