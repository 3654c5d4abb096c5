/*
 * aliases - the /etc/aliases format and its compiled LMDB map.
 *
 * Source syntax (aliases(5), as sendmail and Postfix read it):
 *
 *     # comment
 *     postmaster: root
 *     "a b":      alice, bob@example.org,
 *                 "|/usr/bin/foo -x", /var/log/a.mbox, :include:/etc/x
 *
 * A line whose first non-blank byte is '#' is a comment; blank lines are
 * ignored; neither ends an entry. A line that starts with a blank
 * continues the entry above. The name comes before the ':', may be
 * double-quoted (backslash escapes the next byte inside quotes), is
 * lower-cased (ASCII) and must not be empty. The value is a list of
 * targets separated by commas outside double quotes (see aliases_split).
 * A CRLF line end reads as LF; any control character other than TAB is
 * refused.
 *
 * Bounds: a physical line of ALIASES_LINE_MAX bytes, a value (after
 * joining continuation lines) of ALIASES_VALUE_MAX, a name of
 * ALIASES_NAME_MAX, at most ALIASES_ENTRIES_MAX entries. A repeated name
 * is an error (Postfix warns and keeps the first; postern refuses). Every
 * error reads "FILE:LINE: reason".
 *
 * The map is a single-file LMDB environment FILE.lmdb, without a lock
 * file: key = the lower-cased name, value = the value text normalised
 * (continuation lines joined with one space, outer blanks trimmed). It is
 * only ever replaced whole, by rename(2), so readers open it read-only
 * with MDB_NOLOCK and notice a new map with aliases_changed().
 */
#ifndef POSTERN_ALIASES_H
#define POSTERN_ALIASES_H

#include <stddef.h>

struct strbuf;
struct aliases;

#define ALIASES_LINE_MAX	65536	/* one physical line */
#define ALIASES_VALUE_MAX	65536	/* a value (lines joined) */
#define ALIASES_NAME_MAX	255	/* one name, unquoted */
#define ALIASES_ENTRIES_MAX	1000000	/* entries in one file */
#define ALIASES_MAP_SUFFIX	".lmdb"	/* FILE -> FILE.lmdb */

/* aliases_compile's failures, each with the exit code postern-newaliases
   gives it */
enum aliases_status {
	ALIASES_SYNTAX = -1,	/* source malformed: EX_DATAERR */
	ALIASES_NOINPUT = -2,	/* source cannot be opened: EX_NOINPUT */
	ALIASES_READ = -3,	/* reading the source failed: EX_IOERR */
	ALIASES_CREATE = -4,	/* map cannot be created: EX_CANTCREAT */
	ALIASES_WRITE = -5,	/* writing, installing it failed: EX_IOERR */
	ALIASES_NOMEM = -6	/* out of memory: EX_OSERR */
};

enum alias_target { ALIAS_ADDRESS, ALIAS_PIPE, ALIAS_FILE, ALIAS_INCLUDE };

/* aliases_split callback: kind and the target's text (len bytes, not
   NUL-terminated, valid only during the call). 0 goes on; any other
   value stops the split, which returns it. */
typedef int (*aliases_target_fn)(void *ctx, enum alias_target kind,
    const char *text, size_t textlen);

/* aliases_compile - parse src whole, then write it as the map `map`
   (through map.tmp.PID, renamed over map, all fsynced); the map's mode
   is the source's. Returns the number of entries (>= 0), or an
   enum aliases_status with err set ("FILE:LINE: reason" for syntax).
   On failure the old map is untouched and no temporary file is left. */
int aliases_compile(const char *src, const char *map, char *err,
    size_t errlen);

/* aliases_open - open the map read-only. 0 and *a_r set, or -1 with err
   set (errno is ENOENT when the map does not exist). */
int aliases_open(struct aliases **a_r, const char *map, char *err,
    size_t errlen);
/* aliases_close - close and set *a to NULL (NULL is fine) */
void aliases_close(struct aliases **a);
/* aliases_lookup - the value stored for name (lower-cased here) replaces
   value's contents: 1 found, 0 not found, -1 error (aliases_error) */
int aliases_lookup(struct aliases *a, const char *name,
    struct strbuf *value);
/* aliases_error - the message of the last failed aliases_lookup */
const char *aliases_error(const struct aliases *a);
/* aliases_changed - 1 when the file at the map's path is no longer the
   one open (replaced, touched or removed), else 0 */
int aliases_changed(const struct aliases *a);

/* aliases_split - split a value (len bytes) into targets, calling cb for
   each: commas outside double quotes separate; each target is trimmed;
   a target that is one quoted string is unquoted ('\' escapes);
   "|cmd" is ALIAS_PIPE (text without the '|'), "/path" ALIAS_FILE,
   ":include:/path" ALIAS_INCLUDE (prefix any case, removed), anything
   else ALIAS_ADDRESS (as written, quotes kept). Empty targets are
   skipped. Returns 0; -1 with *reason_r (static text) on unbalanced
   quotes, a blank outside quotes, a control character, an empty quoted
   target, "|" alone or ":include:" without an absolute path; or the
   callback's non-zero result. */
int aliases_split(const char *value, size_t len, aliases_target_fn cb,
    void *ctx, const char **reason_r);
/* aliases_split_file - aliases_split for the contents of an :include:
   file: each line is a list of targets; blank lines and lines whose
   first non-blank byte is '#' are skipped. Results as aliases_split. */
int aliases_split_file(const char *buf, size_t len, aliases_target_fn cb,
    void *ctx, const char **reason_r);

#endif
