/*
 * config - postern.conf: reading, expansion and typed values (config.h).
 *
 * Every program calls config_load() once at start (the queue manager again
 * on reload) with the directory config_dir_choose() picked; everything
 * else reads values through the typed accessors, which abort() when a key
 * is read as the wrong type: that is a programming error, not a
 * configuration one.
 *
 * A load runs three passes. Reading turns the file into raw values and
 * catches syntax errors, unknown keys and repeated keys. Expansion
 * replaces $name, ${name} and $$ in every value, defaults included; each
 * key is expanded once, a key met again while it is being expanded is a
 * loop, and a chain of references deeper than EXPAND_DEPTH_MAX is refused.
 * Parsing then checks each value against its type. The first error stops
 * the load; it reads "FILE:LINE: message" and names the key (a value left
 * at its default has no line: "FILE: message").
 *
 * The value parsers of each type are in config_value.c; config_impl.h
 * holds what the two files share.
 *
 * SECURITY: nothing in the file is trusted. Lines and values are bounded,
 * NUL bytes are refused, expansion is bounded in depth and in length,
 * numbers are checked for overflow, and text quoted in an error message is
 * escaped and cut. The file never chooses which directory is read.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_impl.h"
#include "strbuf.h"

#define EXPAND_DEPTH_MAX 10	/* longest chain of $name references */
#define LINE_MAX_BYTES (CONFIG_VALUE_MAX + 1024)	/* key, '=', value */
#define SHOWN_MAX 64		/* bytes of a value quoted in a message */
#define SHOWN_SIZE (4 * SHOWN_MAX + 4)	/* escaped, and "..." */
#define CONFIG_DIR_NAME "config_directory"

static const struct key_desc {
	const char *name;
	enum config_type type;
	const char *def;
	const char *meaning;
} key_table[CK_COUNT] = {
#define CONFIG_KEY(name, type, def, meaning) { #name, type, def, meaning },
#include "config_keys.h"
#undef CONFIG_KEY
};

struct config {
	char *dir;		/* as given, without trailing slashes */
	char *file;		/* DIR/postern.conf, for messages */
	struct config_item item[CK_COUNT];
};

/* The state of one load: where the first error message goes. */
struct loader {
	struct config *cfg;
	char *err;
	size_t errlen;
};

static const char *const empty_list[] = { NULL };
static const int64_t empty_durations[1];

/* fail - put "FILE:LINE: message" (no LINE when line is 0) into the
   loader's error buffer; returns -1 so that callers can return fail() */
static int fail(struct loader *ld, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct loader *ld, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ld->errlen == 0)
		return -1;
	if (line)
		n = snprintf(ld->err, ld->errlen, "%s:%u: ", ld->cfg->file,
		    line);
	else
		n = snprintf(ld->err, ld->errlen, "%s: ", ld->cfg->file);
	/* A message cut to fit the caller's buffer is still worth having. */
	if (n < 0 || (size_t)n >= ld->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* show - n bytes of s, cut at SHOWN_MAX and escaped, for quoting in a
   message */
static const char *show(const char *s, size_t n, char buf[SHOWN_SIZE])
{
	struct strbuf sb = STRBUF_INIT(4 * SHOWN_MAX);
	int r;

	strbuf_append_printable(&sb, s, n > SHOWN_MAX ? SHOWN_MAX : n, 1);
	r = snprintf(buf, SHOWN_SIZE, "%s%s", strbuf_str(&sb),
	    n > SHOWN_MAX ? "..." : "");
	/* SHOWN_SIZE has room for SHOWN_MAX bytes escaped and "...". */
	if (r < 0 || r >= SHOWN_SIZE)
		buf[0] = '\0';
	strbuf_release(&sb);
	return buf;
}

/* trimmed_len - length of s (n bytes) without trailing blanks */
static size_t trimmed_len(const char *s, size_t n)
{
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	return n;
}

static const char *skip_space(const char *s)
{
	while (is_space((unsigned char)*s))
		s++;
	return s;
}

/* key_lookup_n - key whose name is the n bytes at s, or -1 */
static int key_lookup_n(const char *s, size_t n)
{
	int k;

	for (k = 0; k < CK_COUNT; k++)
		if (strlen(key_table[k].name) == n &&
		    memcmp(key_table[k].name, s, n) == 0)
			return k;
	return -1;
}

/*
 * Reading.
 */

/* set_key - store one logical line "key = value" that starts on line */
static int set_key(struct loader *ld, const char *s, size_t len,
    unsigned line)
{
	const char *eq = memchr(s, '=', len), *v;
	char shown[SHOWN_SIZE];
	struct config_item *it;
	size_t klen, vlen;
	int k;

	if (eq == NULL)
		return fail(ld, line, "missing '=' in '%s'",
		    show(s, len, shown));
	if ((klen = trimmed_len(s, (size_t)(eq - s))) == 0)
		return fail(ld, line, "missing key before '='");
	if ((k = key_lookup_n(s, klen)) < 0)
		return fail(ld, line, "unknown key '%s'",
		    show(s, klen, shown));
	it = &ld->cfg->item[k];
	if (it->line)
		return fail(ld, line, "key '%s' set twice (first on line %u)",
		    key_table[k].name, it->line);
	v = skip_space(eq + 1);
	vlen = trimmed_len(v, len - (size_t)(v - s));
	if (vlen > CONFIG_VALUE_MAX)
		return fail(ld, line, "value of '%s' is longer than %d bytes",
		    key_table[k].name, CONFIG_VALUE_MAX);
	free(it->raw);
	if ((it->raw = strndup(v, vlen)) == NULL)
		return fail(ld, line, "out of memory");
	it->line = line;
	return 0;
}

/* read_line - one physical line into sb without its newline: 1, or 0 at
   the end of the file, or -1 */
static int read_line(struct loader *ld, FILE *fp, struct strbuf *sb,
    unsigned lineno)
{
	int c;

	strbuf_reset(sb);
	while ((c = getc(fp)) != EOF && c != '\n') {
		if (c == '\0')
			return fail(ld, lineno, "NUL byte in line");
		if (strbuf_appendc(sb, c) < 0)
			return fail(ld, lineno, "line longer than %d bytes",
			    LINE_MAX_BYTES);
	}
	if (ferror(fp))
		return fail(ld, 0, "read error: %s", strerror(errno));
	return c == EOF && sb->len == 0 ? 0 : 1;
}

/* take_line - add one physical line to the logical line that started on
   *start (0: none yet), storing the logical line when a new one starts */
static int take_line(struct loader *ld, const struct strbuf *phys,
    struct strbuf *logical, unsigned *start, unsigned lineno)
{
	const char *s = strbuf_str(phys), *p = skip_space(s);
	size_t n = trimmed_len(p, phys->len - (size_t)(p - s));

	/* Blank and comment lines neither end nor continue a value. */
	if (n == 0 || *p == '#')
		return 0;
	if (p != s) {
		if (*start == 0)
			return fail(ld, lineno,
			    "continuation line with nothing to continue");
		if (strbuf_appendc(logical, ' ') < 0 ||
		    strbuf_append(logical, p, n) < 0)
			return fail(ld, *start, "line longer than %d bytes",
			    LINE_MAX_BYTES);
		return 0;
	}
	if (*start && set_key(ld, strbuf_str(logical), logical->len,
	    *start) < 0)
		return -1;
	strbuf_reset(logical);
	*start = lineno;
	if (strbuf_append(logical, p, n) < 0)
		return fail(ld, lineno, "out of memory");
	return 0;
}

/* read_file - pass one: the file into raw values */
static int read_file(struct loader *ld, FILE *fp)
{
	struct strbuf phys = STRBUF_INIT(LINE_MAX_BYTES);
	struct strbuf logical = STRBUF_INIT(LINE_MAX_BYTES);
	unsigned lineno = 0, start = 0;
	int r;

	while ((r = read_line(ld, fp, &phys, lineno + 1)) > 0) {
		lineno++;
		if ((r = take_line(ld, &phys, &logical, &start, lineno)) < 0)
			break;
	}
	if (r == 0 && start)
		r = set_key(ld, strbuf_str(&logical), logical.len, start);
	strbuf_release(&phys);
	strbuf_release(&logical);
	return r;
}

/*
 * Expansion.
 */

static int expand_key(struct loader *ld, int k);

/* system_hostname - gethostname() for an empty myhostname */
static int system_hostname(struct loader *ld, unsigned line,
    struct strbuf *out)
{
	char name[256];

	if (gethostname(name, sizeof(name)) < 0)
		return fail(ld, line, "'myhostname' is empty and "
		    "gethostname() failed: %s", strerror(errno));
	name[sizeof(name) - 1] = '\0';
	strbuf_appends(out, name);
	return 0;
}

/* expand_ref - append the value of the reference at the n bytes of name,
   met in key k; *height_r grows to cover it. A value that grows too long
   is not an error here: expand_key() checks the buffer once at the end. */
static int expand_ref(struct loader *ld, int k, const char *name, size_t n,
    struct strbuf *out, int *height_r)
{
	struct config_item *it = &ld->cfg->item[k], *ref;
	char shown[SHOWN_SIZE];
	int r;

	if (n == strlen(CONFIG_DIR_NAME) && memcmp(name, CONFIG_DIR_NAME,
	    n) == 0) {
		if (*height_r < 1)
			*height_r = 1;
		strbuf_appends(out, ld->cfg->dir);
		return 0;
	}
	if ((r = key_lookup_n(name, n)) < 0)
		return fail(ld, it->line, "unknown parameter '$%s' in '%s'",
		    show(name, n, shown), key_table[k].name);
	ref = &ld->cfg->item[r];
	if (ref->state == EXP_BUSY)
		return fail(ld, it->line, "expansion loop: '%s' uses itself "
		    "through '$%s' in '%s'", key_table[r].name,
		    key_table[r].name, key_table[k].name);
	if (expand_key(ld, r) < 0)
		return -1;
	if (*height_r < ref->height + 1)
		*height_r = ref->height + 1;
	strbuf_appends(out, ref->text);
	return 0;
}

/* expand_dollar - handle the '$' at s[*i] of key k's value */
static int expand_dollar(struct loader *ld, int k, const char *s, size_t *i,
    struct strbuf *out, int *height_r)
{
	unsigned line = ld->cfg->item[k].line;
	const char *name = s + *i + 1, *end;
	size_t n;

	if (*name == '$') {
		*i += 2;
		strbuf_appendc(out, '$');
		return 0;
	}
	if (*name == '{') {
		name++;
		if ((end = strchr(name, '}')) == NULL)
			return fail(ld, line, "missing '}' after '${' in '%s'",
			    key_table[k].name);
		n = (size_t)(end - name);
		*i = (size_t)(end + 1 - s);
	} else {
		for (n = 0; is_name_char((unsigned char)name[n]); n++)
			;
		*i += n + 1;
	}
	if (n == 0)
		return fail(ld, line, "'$' without a name in '%s' "
		    "(write $$ for a '$')", key_table[k].name);
	return expand_ref(ld, k, name, n, out, height_r);
}

/* expand_text - expand key k's raw value into out */
static int expand_text(struct loader *ld, int k, struct strbuf *out,
    int *height_r)
{
	const char *s = ld->cfg->item[k].raw, *d;
	size_t i = 0;

	while (s[i] != '\0') {
		if ((d = strchr(s + i, '$')) == NULL) {
			strbuf_appends(out, s + i);
			break;
		}
		strbuf_append(out, s + i, (size_t)(d - (s + i)));
		i = (size_t)(d - s);
		if (expand_dollar(ld, k, s, &i, out, height_r) < 0)
			return -1;
	}
	return 0;
}

/* expand_key - pass two for key k (and, first, every key it uses) */
static int expand_key(struct loader *ld, int k)
{
	struct config_item *it = &ld->cfg->item[k];
	struct strbuf out = STRBUF_INIT(CONFIG_VALUE_MAX);
	int height = 0;

	if (it->state == EXP_DONE)
		return 0;
	it->state = EXP_BUSY;
	if (expand_text(ld, k, &out, &height) < 0)
		goto bad;
	if (k == CK_myhostname && out.len == 0 &&
	    system_hostname(ld, it->line, &out) < 0)
		goto bad;
	if (!strbuf_ok(&out)) {
		fail(ld, it->line, "value of '%s' is longer than %d bytes "
		    "after expansion", key_table[k].name, CONFIG_VALUE_MAX);
		goto bad;
	}
	if (height > EXPAND_DEPTH_MAX) {
		fail(ld, it->line, "expansion of '%s' nests deeper than %d "
		    "levels", key_table[k].name, EXPAND_DEPTH_MAX);
		goto bad;
	}
	it->text = strbuf_steal(&out, NULL);
	it->height = height;
	it->state = EXP_DONE;
	return it->text ? 0 : fail(ld, it->line, "out of memory");
bad:
	strbuf_release(&out);
	return -1;
}

/* parse_value - pass three for key k */
static int parse_value(struct loader *ld, enum config_key k)
{
	struct config_item *it = &ld->cfg->item[k];
	char shown[SHOWN_SIZE];
	const char *why;

	why = config_value_parsers[key_table[k].type] ?
	    config_value_parsers[key_table[k].type](it) : NULL;
	if (why == NULL)
		why = config_value_check_key(k, it->text);
	if (why == NULL)
		return 0;
	return fail(ld, it->line, "bad %s for '%s': '%s' %s",
	    it->line ? "value" : "default value", key_table[k].name,
	    show(it->text, strlen(it->text), shown), why);
}

/*
 * Loading.
 */

/* config_new - an empty configuration for dir, all keys at defaults */
static int config_new(struct loader *ld, const char *dir)
{
	struct config *cfg;
	struct strbuf sb = STRBUF_INIT(4096);
	size_t n = strlen(dir);
	int k;

	if ((ld->cfg = cfg = calloc(1, sizeof(*cfg))) == NULL)
		return -1;
	while (n > 1 && dir[n - 1] == '/')
		n--;
	cfg->dir = strndup(dir, n);
	strbuf_append(&sb, dir, n);
	strbuf_appendf(&sb, "%s%s", dir[n - 1] == '/' ? "" : "/",
	    CONFIG_FILE_NAME);
	cfg->file = strbuf_ok(&sb) ? strbuf_steal(&sb, NULL) : NULL;
	strbuf_release(&sb);
	if (cfg->dir == NULL || cfg->file == NULL)
		return -1;
	for (k = 0; k < CK_COUNT; k++)
		if ((cfg->item[k].raw = strdup(key_table[k].def)) == NULL)
			return -1;
	return 0;
}

/* config_finish - passes two and three */
static int config_finish(struct loader *ld)
{
	int k;

	for (k = 0; k < CK_COUNT; k++)
		if (expand_key(ld, k) < 0)
			return -1;
	for (k = 0; k < CK_COUNT; k++)
		if (parse_value(ld, (enum config_key)k) < 0)
			return -1;
	return 0;
}

/* config_start - common start of config_load and config_defaults */
static int config_start(struct loader *ld, const char *dir, char *err,
    size_t errlen)
{
	ld->err = err;
	ld->errlen = errlen;
	if (errlen)
		err[0] = '\0';
	if (dir == NULL || *dir == '\0') {
		if (errlen)
			snprintf(err, errlen, "no configuration directory");
		ld->cfg = NULL;
		return -1;
	}
	if (config_new(ld, dir) < 0) {
		if (errlen)
			snprintf(err, errlen, "%s: directory name too long "
			    "or out of memory", dir);
		return -1;
	}
	return 0;
}

/* config_end - hand over the configuration, or free it after an error */
static int config_end(struct loader *ld, int r, struct config **cfg_r)
{
	if (r < 0) {
		config_free(&ld->cfg);
		*cfg_r = NULL;
		return -1;
	}
	*cfg_r = ld->cfg;
	return 0;
}

/* config_load - read, expand and check DIR/postern.conf */
int config_load(struct config **cfg_r, const char *dir, char *err,
    size_t errlen)
{
	struct loader ld;
	FILE *fp;
	int r;

	if (config_start(&ld, dir, err, errlen) < 0)
		return config_end(&ld, -1, cfg_r);
	if ((fp = fopen(ld.cfg->file, "re")) == NULL) {
		if (errlen)
			snprintf(err, errlen, "cannot open %s: %s",
			    ld.cfg->file, strerror(errno));
		return config_end(&ld, -1, cfg_r);
	}
	r = read_file(&ld, fp);
	fclose(fp);
	if (r == 0)
		r = config_finish(&ld);
	return config_end(&ld, r, cfg_r);
}

/* config_defaults - the defaults, expanded and checked, without a file */
int config_defaults(struct config **cfg_r, const char *dir, char *err,
    size_t errlen)
{
	struct loader ld;

	if (config_start(&ld, dir, err, errlen) < 0)
		return config_end(&ld, -1, cfg_r);
	return config_end(&ld, config_finish(&ld), cfg_r);
}

/* config_free - free everything and set *cfg to NULL */
void config_free(struct config **cfg)
{
	int k;

	if (cfg == NULL || *cfg == NULL)
		return;
	for (k = 0; k < CK_COUNT; k++) {
		free((*cfg)->item[k].raw);
		free((*cfg)->item[k].text);
		free((*cfg)->item[k].items);
		free((*cfg)->item[k].words);
		free((*cfg)->item[k].secs_list);
	}
	free((*cfg)->dir);
	free((*cfg)->file);
	free(*cfg);
	*cfg = NULL;
}

/* config_dir_choose - -c argument, then $POSTERN_CONFIG, then the default;
   an untrusted caller gets the default and may not override it */
const char *config_dir_choose(const char *arg, int trusted,
    const char **error_r)
{
	const char *env;

	if (!trusted) {
		if (arg == NULL)
			return CONFIG_DEFAULT_DIR;
		if (error_r)
			*error_r = "-c/-C is allowed only for root";
		return NULL;
	}
	if (arg != NULL)
		return arg;
	if ((env = getenv("POSTERN_CONFIG")) != NULL && *env != '\0')
		return env;
	return CONFIG_DEFAULT_DIR;
}

/* config_open - a worker's configuration: the directory chosen from its
   -c argument (trusted: the spawner runs it), then loaded */
int config_open(const char *arg, struct config **cfg_r, char *err,
    size_t errlen)
{
	const char *dir, *why = NULL;

	if ((dir = config_dir_choose(arg, 1, &why)) == NULL) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	return config_load(cfg_r, dir, err, errlen);
}

/*
 * Access.
 */

/* desc - the table entry of key; an unknown key is a bug, so it aborts */
static const struct key_desc *desc(enum config_key key, const char *func)
{
	if ((unsigned)key >= CK_COUNT) {
		fprintf(stderr, "%s: no key %d\n", func, (int)key);
		abort();
	}
	return &key_table[key];
}

/* item - key's item after checking that key is one of the types in mask;
   a mismatch is a bug in the caller (func), so it aborts */
static const struct config_item *item(const struct config *cfg,
    enum config_key key, unsigned mask, const char *func)
{
	const struct key_desc *d = desc(key, func);

	if (cfg == NULL || !(mask & (1u << d->type))) {
		fprintf(stderr, "%s: %s for key '%s'\n", func,
		    cfg ? "wrong type" : "no configuration", d->name);
		abort();
	}
	return &cfg->item[key];
}

#define T(t) (1u << (t))

/* config_str - text of a string, host name or path key */
const char *config_str(const struct config *cfg, enum config_key key)
{
	return item(cfg, key, T(CT_STR) | T(CT_HOSTNAME) | T(CT_PATH) |
	    T(CT_OPTPATH), __func__)->text;
}

/* config_size - bytes of a size key */
uint64_t config_size(const struct config *cfg, enum config_key key)
{
	return item(cfg, key, T(CT_SIZE), __func__)->u.size;
}

/* config_duration - seconds of a duration key */
int64_t config_duration(const struct config *cfg, enum config_key key)
{
	return item(cfg, key, T(CT_DURATION), __func__)->u.secs;
}

/* config_count - value of a count or port key */
long config_count(const struct config *cfg, enum config_key key)
{
	return item(cfg, key, T(CT_COUNT) | T(CT_PORT), __func__)->u.count;
}

/* config_list - items of a list key (NULL-terminated as well) */
const char *const *config_list(const struct config *cfg,
    enum config_key key, size_t *n_r)
{
	const struct config_item *it = item(cfg, key, T(CT_LIST), __func__);

	*n_r = it->n;
	return it->items ? (const char *const *)it->items : empty_list;
}

/* config_list_join - the items of a list key joined by single spaces */
void config_list_join(const struct config *cfg, enum config_key key,
    char *buf, size_t len)
{
	size_t n, i, o = 0;
	const char *const *v = config_list(cfg, key, &n);

	buf[0] = '\0';
	for (i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " " : "",
		    v[i]);
}

/* config_durations - seconds of each item of a duration list key */
const int64_t *config_durations(const struct config *cfg,
    enum config_key key, size_t *n_r)
{
	const struct config_item *it = item(cfg, key, T(CT_DURATIONS),
	    __func__);

	*n_r = it->n;
	return it->secs_list ? it->secs_list : empty_durations;
}

/* config_tls_level - level of a TLS level key */
enum config_tls_level config_tls_level(const struct config *cfg,
    enum config_key key)
{
	return item(cfg, key, T(CT_TLSLEVEL), __func__)->u.tls;
}

/* config_dir - the directory the configuration came from */
const char *config_dir(const struct config *cfg)
{
	return cfg->dir;
}

/* config_is_set - the file set the key */
int config_is_set(const struct config *cfg, enum config_key key)
{
	return item(cfg, key, ~0u, __func__)->line != 0;
}

/* config_line - line of the file that set the key; 0: default */
unsigned config_line(const struct config *cfg, enum config_key key)
{
	return item(cfg, key, ~0u, __func__)->line;
}

/* config_key_name - the key's name in postern.conf */
const char *config_key_name(enum config_key key)
{
	return desc(key, __func__)->name;
}

/* config_key_type - the key's type */
enum config_type config_key_type(enum config_key key)
{
	return desc(key, __func__)->type;
}

/* config_key_default - the key's default, before expansion */
const char *config_key_default(enum config_key key)
{
	return desc(key, __func__)->def;
}

/* config_key_meaning - one line saying what the key does */
const char *config_key_meaning(enum config_key key)
{
	return desc(key, __func__)->meaning;
}

/* config_key_lookup - key by name, or -1 */
int config_key_lookup(const char *name)
{
	return name ? key_lookup_n(name, strlen(name)) : -1;
}
