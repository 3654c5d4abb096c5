/*
 * aliases - /etc/aliases: parsing, the compiled LMDB map and target lists
 * (aliases.h has the syntax and the map's layout).
 *
 * Callers: postern-newaliases compiles a source into its map; the queue
 * manager opens the map read-only, looks local names up, splits the
 * values it finds with aliases_split() and the contents of :include:
 * files with aliases_split_file(), and reopens the map when
 * aliases_changed() says a new one was installed.
 *
 * Trust: the source file is written by root; it is still read strictly
 * (every bound checked, any doubt an error naming the line, never a
 * guess). The map is read by the queue manager as user postern: values
 * are length-checked and copied out before the read transaction ends.
 * :include: files may be written by users: this file handles only their
 * syntax; the caller checks who owns them and what their targets may do.
 *
 * Compiling parses the whole source into memory first, sorts it and
 * refuses repeated names; only then is the temporary map written (with
 * MDB_APPEND on the sorted keys, so pages are full and the map size
 * estimate holds), committed durably (no MDB_NOSYNC), fsynced, renamed
 * over the old map, and the directory fsynced. Those calls go through
 * fsio, so tests can fail each of them.
 *
 * Splitting values into targets is in aliases_split.c; aliases_impl.h
 * holds what the two files share.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "aliases.h"
#include "aliases_impl.h"
#include "fsio.h"
#include "strbuf.h"

#define INCLUDE_PREFIX ":include:"
#define INCLUDE_LEN (sizeof(INCLUDE_PREFIX) - 1)
#define MIB (UINT64_C(1) << 20)

struct entry {
	char *text;		/* the key, then the value; no terminator */
	size_t klen, vlen;
	unsigned line;		/* where the entry starts */
};

struct parse {
	const char *src;
	char *err;
	size_t errlen;
	struct entry *v;	/* the entries read so far */
	size_t n, cap;
	uint64_t bytes;		/* key and value bytes of all entries */
	char name[ALIASES_NAME_MAX];	/* of the entry being read */
	size_t nlen;
	struct strbuf value;	/* of the entry being read */
	unsigned start;		/* its first line; 0: none */
	mode_t mode;		/* the source's permission bits */
};

struct aliases {
	MDB_env *env;
	MDB_dbi dbi;
	char *path;
	struct stat st;		/* of the file that was opened */
	char err[512];
};

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* seterr - format a message into err (a cut message is still useful) */
static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* perr - "SRC:LINE: reason" (line 0: "SRC: reason"); returns status */
static int perr(struct parse *p, unsigned line, int status,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int perr(struct parse *p, unsigned line, int status,
    const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (line)
		seterr(p->err, p->errlen, "%s:%u: %s", p->src, line, reason);
	else
		seterr(p->err, p->errlen, "%s: %s", p->src, reason);
	return status;
}

/*
 * Parsing the source.
 */

/* count_target - aliases_split callback counting targets */
static int count_target(void *ctx, enum alias_target kind, const char *text,
    size_t len)
{
	(void)kind;
	(void)text;
	(void)len;
	(*(size_t *)ctx)++;
	return 0;
}

/* finish_entry - check the entry being read and keep it */
static int finish_entry(struct parse *p)
{
	const char *v = strbuf_str(&p->value), *why;
	size_t vlen = p->value.len, targets = 0;
	struct entry *e;

	if (aliases_split(v, vlen, count_target, &targets, &why) < 0)
		return perr(p, p->start, ALIASES_SYNTAX, "alias '%.*s': %s",
		    (int)p->nlen, p->name, why);
	if (targets == 0)
		return perr(p, p->start, ALIASES_SYNTAX,
		    "alias '%.*s' has no targets", (int)p->nlen, p->name);
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;

		if ((e = reallocarray(p->v, cap, sizeof(*e))) == NULL)
			return perr(p, 0, ALIASES_NOMEM, "out of memory");
		p->v = e;
		p->cap = cap;
	}
	e = &p->v[p->n];
	if ((e->text = malloc(p->nlen + vlen)) == NULL)
		return perr(p, 0, ALIASES_NOMEM, "out of memory");
	memcpy(e->text, p->name, p->nlen);
	memcpy(e->text + p->nlen, v, vlen);
	e->klen = p->nlen;
	e->vlen = vlen;
	e->line = p->start;
	p->n++;
	p->bytes += p->nlen + vlen;
	p->start = 0;
	return 0;
}

/* add_value - append the n bytes at s to the value being read */
static int add_value(struct parse *p, const char *s, size_t n)
{
	size_t len = p->value.len;

	s = aliases_trim(s, &n);
	if (n == 0)
		return 0;
	if (len + (len > 0) + n > ALIASES_VALUE_MAX)
		return perr(p, p->start, ALIASES_SYNTAX, "value of '%.*s' is "
		    "longer than %d bytes", (int)p->nlen, p->name,
		    ALIASES_VALUE_MAX);
	if ((len > 0 && strbuf_appendc(&p->value, ' ') < 0) ||
	    strbuf_append(&p->value, s, n) < 0)
		return perr(p, 0, ALIASES_NOMEM, "out of memory");
	return 0;
}

/* parse_name - the name that starts line s (n bytes), lower-cased, into
   p->name; *vpos_r: where the value starts, after the ':' */
static int parse_name(struct parse *p, const char *s, size_t n,
    unsigned line, size_t *vpos_r)
{
	int quoted = s[0] == '"';
	size_t i = quoted;

	for (p->nlen = 0; i < n; i++) {
		if (quoted ? s[i] == '"' : s[i] == ':' ||
		    is_blank((unsigned char)s[i]))
			break;
		if (!quoted && s[i] == '"')
			return perr(p, line, ALIASES_SYNTAX,
			    "double quote inside an unquoted name");
		if (quoted && s[i] == '\\' && i + 1 < n)
			i++;
		if (p->nlen == ALIASES_NAME_MAX)
			return perr(p, line, ALIASES_SYNTAX,
			    "name longer than %d bytes", ALIASES_NAME_MAX);
		p->name[p->nlen++] = (char)lower((unsigned char)s[i]);
	}
	if (quoted && i++ == n)
		return perr(p, line, ALIASES_SYNTAX,
		    "unbalanced double quote in the name");
	if (p->nlen == 0)
		return perr(p, line, ALIASES_SYNTAX, "empty name");
	while (i < n && is_blank((unsigned char)s[i]))
		i++;
	if (i == n || s[i] != ':')
		return perr(p, line, ALIASES_SYNTAX, "missing ':' after "
		    "the name '%.*s'", (int)p->nlen, p->name);
	*vpos_r = i + 1;
	return 0;
}

/* take_line - one physical line (n bytes at s, the line-th) */
static int take_line(struct parse *p, const char *s, size_t n, unsigned line)
{
	const char *t;
	size_t m = n, vpos = 0;
	int r;

	t = aliases_trim(s, &m);
	if (m == 0 || t[0] == '#')
		return 0;
	if (t != s) {
		if (p->start == 0)
			return perr(p, line, ALIASES_SYNTAX,
			    "continuation line with nothing to continue");
		return add_value(p, t, m);
	}
	if (p->start && (r = finish_entry(p)) < 0)
		return r;
	if (p->n == ALIASES_ENTRIES_MAX)
		return perr(p, line, ALIASES_SYNTAX, "more than %d aliases",
		    ALIASES_ENTRIES_MAX);
	if ((r = parse_name(p, t, m, line, &vpos)) < 0)
		return r;
	p->start = line;
	strbuf_reset(&p->value);
	return add_value(p, t + vpos, m - vpos);
}

/* read_line - one physical line into sb (whose limit leaves room for the
   CR of a CRLF), without its newline or CR: 1, 0 at the end of the file,
   or a status */
static int read_line(struct parse *p, FILE *fp, struct strbuf *sb,
    unsigned line)
{
	int c, ctl;

	strbuf_reset(sb);
	while ((c = getc_unlocked(fp)) != EOF && c != '\n') {
		/* ALIASES_LINE_MAX + 1 bytes may be a full line and a CR. */
		if (sb->len > ALIASES_LINE_MAX)
			return perr(p, line, ALIASES_SYNTAX,
			    "line longer than %d bytes", ALIASES_LINE_MAX);
		if (strbuf_appendc(sb, c) < 0)
			return perr(p, 0, ALIASES_NOMEM, "out of memory");
	}
	if (ferror(fp))
		return perr(p, 0, ALIASES_READ, "read error: %s",
		    strerror(errno));
	if (sb->len > 0 && sb->s[sb->len - 1] == '\r')
		strbuf_truncate(sb, sb->len - 1);
	if (sb->len > ALIASES_LINE_MAX)
		return perr(p, line, ALIASES_SYNTAX,
		    "line longer than %d bytes", ALIASES_LINE_MAX);
	if ((ctl = aliases_ctl_char(strbuf_str(sb), sb->len)) >= 0)
		return perr(p, line, ALIASES_SYNTAX,
		    "control character 0x%02x in line", ctl);
	return c == EOF && sb->len == 0 ? 0 : 1;
}

/* parse_file - read the whole source into p */
static int parse_file(struct parse *p)
{
	struct strbuf phys = STRBUF_INIT(ALIASES_LINE_MAX + 1);
	struct stat st;
	unsigned line = 0;
	FILE *fp;
	int r;

	if ((fp = fopen(p->src, "re")) == NULL)
		return perr(p, 0, ALIASES_NOINPUT, "cannot open: %s",
		    strerror(errno));
	if (fstat(fileno(fp), &st) < 0) {
		r = perr(p, 0, ALIASES_READ, "%s", strerror(errno));
		fclose(fp);
		return r;
	}
	p->mode = st.st_mode & 0777;
	while ((r = read_line(p, fp, &phys, line + 1)) > 0)
		if ((r = take_line(p, strbuf_str(&phys), phys.len,
		    ++line)) < 0)
			break;
	if (r == 0 && p->start)
		r = finish_entry(p);
	strbuf_release(&phys);
	fclose(fp);
	return r;
}

/* entry_cmp - LMDB's default key order (memcmp, then length), then line */
static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int r = memcmp(x->text, y->text, n);

	if (r == 0 && x->klen != y->klen)
		r = x->klen < y->klen ? -1 : 1;
	if (r == 0 && x->line != y->line)
		r = x->line < y->line ? -1 : 1;
	return r;
}

/* check_repeats - sort, then refuse a repeated name (the one repeated
   earliest in the file is named) */
static int check_repeats(struct parse *p)
{
	const struct entry *dup = NULL, *first = NULL, *run = p->v;
	size_t i;

	if (p->n > 1)
		qsort(p->v, p->n, sizeof(p->v[0]), entry_cmp);
	for (i = 1; i < p->n; i++) {
		const struct entry *e = &p->v[i];

		if (e->klen != run->klen || memcmp(e->text, run->text,
		    e->klen) != 0)
			run = e;
		else if (dup == NULL || e->line < dup->line) {
			dup = e;
			first = run;
		}
	}
	if (dup == NULL)
		return 0;
	return perr(p, dup->line, ALIASES_SYNTAX, "alias '%.*s' repeated "
	    "(first on line %u)", (int)dup->klen, dup->text, first->line);
}

/*
 * Writing the map.
 */

/* map_size - an LMDB map size sure to hold the entries: appended keys fill
   their pages, a value too large for a page wastes less than a page, and
   LMDB extends the file only as far as it writes, so room is cheap */
static size_t map_size(const struct parse *p)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t size;

	if (pg < 4096)
		pg = 4096;
	size = 3 * (p->bytes + 64 * (uint64_t)p->n) + 4 * (uint64_t)pg + MIB;
	size = (size + MIB - 1) / MIB * MIB;
	return size > SIZE_MAX ? SIZE_MAX : (size_t)size;
}

/* fill - put every entry and commit, through the fault seam */
static int fill(struct parse *p, MDB_env *env)
{
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, v;
	size_t i;
	int rc;

	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		return rc;
	if ((rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0)
		goto abort;
	for (i = 0; i < p->n; i++) {
		k.mv_size = p->v[i].klen;
		k.mv_data = p->v[i].text;
		v.mv_size = p->v[i].vlen;
		v.mv_data = p->v[i].text + p->v[i].klen;
		if ((rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND)) != 0)
			goto abort;
	}
	if (fsio_fault_check(FSIO_COMMIT) < 0) {
		rc = errno;
		goto abort;
	}
	return mdb_txn_commit(txn);
abort:
	mdb_txn_abort(txn);
	return rc;
}

/* open_tmp - a new, empty environment in the file tmp, with p's mode */
static int open_tmp(struct parse *p, const char *tmp, MDB_env *env, int *fd_r)
{
	int rc;

	if ((rc = mdb_env_set_mapsize(env, map_size(p))) != 0 ||
	    (rc = mdb_env_open(env, tmp, MDB_NOSUBDIR | MDB_NOLOCK,
	    0600)) != 0 || (rc = mdb_env_get_fd(env, fd_r)) != 0)
		return rc;
	/* The map is as readable as its source: 0644 lets the queue
	   manager (user postern) read what root compiled. */
	return fchmod(*fd_r, p->mode) < 0 ? errno : 0;
}

/* write_tmp - the map as the new file tmp, durable */
static int write_tmp(struct parse *p, const char *tmp)
{
	MDB_env *env;
	int rc, fd;

	if (unlink(tmp) < 0 && errno != ENOENT)
		return perr(p, 0, ALIASES_CREATE, "cannot remove %s: %s", tmp,
		    strerror(errno));
	if ((rc = mdb_env_create(&env)) != 0)
		return perr(p, 0, ALIASES_NOMEM, "%s", mdb_strerror(rc));
	if ((rc = open_tmp(p, tmp, env, &fd)) != 0) {
		mdb_env_close(env);
		return perr(p, 0, ALIASES_CREATE, "cannot create %s: %s", tmp,
		    mdb_strerror(rc));
	}
	if ((rc = fill(p, env)) == 0 && fsio_fsync(fd) < 0)
		rc = errno;
	mdb_env_close(env);
	if (rc != 0)
		return perr(p, 0, ALIASES_WRITE, "cannot write %s: %s", tmp,
		    mdb_strerror(rc));
	return 0;
}

/* install - rename tmp over map and make that durable */
static int install(struct parse *p, const char *tmp, const char *map)
{
	const char *slash = strrchr(map, '/');
	char dir[PATH_MAX];

	if (fsio_renameat(AT_FDCWD, tmp, AT_FDCWD, map) < 0)
		return perr(p, 0, ALIASES_WRITE, "cannot rename %s to %s: %s",
		    tmp, map, strerror(errno));
	if (slash == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == map ? 1 :
		    (int)(slash - map), map);
	if (fsio_fsync_path(AT_FDCWD, dir) < 0)
		return perr(p, 0, ALIASES_WRITE, "%s is installed but the "
		    "directory %s could not be synced: %s", map, dir,
		    strerror(errno));
	return 0;
}

/* write_map - write tmp, install it; no temporary file is left behind */
static int write_map(struct parse *p, const char *map)
{
	struct strbuf tmp = STRBUF_INIT(PATH_MAX - 1);
	int r;

	if (strbuf_appendf(&tmp, "%s.tmp.%ld", map, (long)getpid()) < 0) {
		strbuf_release(&tmp);
		return perr(p, 0, ALIASES_CREATE, "map name %s is too long",
		    map);
	}
	if ((r = write_tmp(p, strbuf_str(&tmp))) == 0)
		r = install(p, strbuf_str(&tmp), map);
	if (r < 0)
		(void)unlink(strbuf_str(&tmp));
	strbuf_release(&tmp);
	return r;
}

/* aliases_compile - parse src whole, then replace map */
int aliases_compile(const char *src, const char *map, char *err,
    size_t errlen)
{
	struct parse p;
	size_t i;
	int r;

	memset(&p, 0, sizeof(p));
	p.src = src;
	p.err = err;
	p.errlen = errlen;
	strbuf_init(&p.value, ALIASES_VALUE_MAX);
	seterr(err, errlen, "%s", "");
	if ((r = parse_file(&p)) == 0 && (r = check_repeats(&p)) == 0 &&
	    (r = write_map(&p, map)) == 0)
		r = (int)p.n;
	for (i = 0; i < p.n; i++)
		free(p.v[i].text);
	free(p.v);
	strbuf_release(&p.value);
	return r;
}

/*
 * Reading the map.
 */

/* aliases_open - the map, read-only, without a lock file */
int aliases_open(struct aliases **a_r, const char *map, char *err,
    size_t errlen)
{
	struct aliases *a;
	MDB_txn *txn;
	int rc, fd;

	*a_r = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->path = strdup(map)) == NULL ||
	    (rc = mdb_env_create(&a->env)) != 0) {
		rc = ENOMEM;
		goto fail;
	}
	if ((rc = mdb_env_open(a->env, map, MDB_RDONLY | MDB_NOSUBDIR |
	    MDB_NOLOCK, 0)) != 0 || (rc = mdb_env_get_fd(a->env, &fd)) != 0)
		goto fail;
	/* A worker the queue manager starts must not inherit the map. */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fstat(fd, &a->st) < 0) {
		rc = errno;
		goto fail;
	}
	if ((rc = mdb_txn_begin(a->env, NULL, MDB_RDONLY, &txn)) != 0)
		goto fail;
	rc = mdb_dbi_open(txn, NULL, 0, &a->dbi);
	mdb_txn_abort(txn);
	if (rc == 0) {
		*a_r = a;
		return 0;
	}
fail:
	seterr(err, errlen, "%s: cannot open the aliases map: %s", map,
	    mdb_strerror(rc));
	aliases_close(&a);
	errno = rc > 0 ? rc : EINVAL;
	return -1;
}

/* aliases_close - close the map */
void aliases_close(struct aliases **a)
{
	if (*a == NULL)
		return;
	if ((*a)->env)
		mdb_env_close((*a)->env);
	free((*a)->path);
	free(*a);
	*a = NULL;
}

/* aliases_error - the last lookup's error */
const char *aliases_error(const struct aliases *a)
{
	return a->err;
}

/* aliases_lookup - the value of name, copied into value */
int aliases_lookup(struct aliases *a, const char *name,
    struct strbuf *value)
{
	char key[ALIASES_NAME_MAX];
	size_t i, n = strlen(name);
	MDB_val k = { 0, key }, v;
	MDB_txn *txn;
	int rc, r = 1;

	if (n == 0 || n > ALIASES_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		key[i] = (char)lower((unsigned char)name[i]);
	k.mv_size = n;
	if ((rc = mdb_txn_begin(a->env, NULL, MDB_RDONLY, &txn)) != 0) {
		seterr(a->err, sizeof(a->err), "%s: %s", a->path,
		    mdb_strerror(rc));
		return -1;
	}
	if ((rc = mdb_get(txn, a->dbi, &k, &v)) == MDB_NOTFOUND) {
		r = 0;
	} else if (rc != 0) {
		seterr(a->err, sizeof(a->err), "%s: looking up '%.*s': %s",
		    a->path, (int)n, key, mdb_strerror(rc));
		r = -1;
	} else if (v.mv_size > ALIASES_VALUE_MAX) {
		seterr(a->err, sizeof(a->err), "%s: damaged map: the value of "
		    "'%.*s' is too long", a->path, (int)n, key);
		r = -1;
	} else {
		strbuf_reset(value);
		if (strbuf_append(value, v.mv_data, v.mv_size) < 0) {
			seterr(a->err, sizeof(a->err), "%s: the value of "
			    "'%.*s' does not fit", a->path, (int)n, key);
			r = -1;
		}
	}
	mdb_txn_abort(txn);
	return r;
}

/* aliases_changed - the path names another file than the one open */
int aliases_changed(const struct aliases *a)
{
	struct stat st;

	if (stat(a->path, &st) < 0)
		return 1;
	return fsio_stat_changed(&a->st, &st);
}
