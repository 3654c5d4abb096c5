/*
 * attr - the attribute list: postern's one record encoding.
 *
 * A record is a sequence of attributes "name=value", each written as a
 * netstring: the decimal length of "name=value" (no leading zeros, at
 * most 9 digits), ':', the bytes, ','. Example: "12:sender=a@b.c,".
 * Names are 1-32 bytes of [a-z0-9_]; values are any bytes (lengths, not
 * terminators, delimit them). The same encoding is used on every pipe
 * (inside ipc frames), in maildrop files and in LMDB queue records, so
 * there is one parser to make strict, test and fuzz.
 *
 * attr_decode is strict: a short or overlong netstring, a bad length, a
 * missing ':', '=' or ',', a bad name, or more than max attributes is an
 * error, never a guess. It decodes in place: the '=' and ',' of each
 * attribute are overwritten with NUL, so names and values become C
 * strings pointing into the caller's buffer (a value may still contain
 * NUL bytes; len is its true length, and attr_cstr refuses those).
 */
#ifndef POSTERN_ATTR_H
#define POSTERN_ATTR_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

#define ATTR_NAME_MAX 32

struct attr {
	const char *name;	/* NUL-terminated */
	const char *value;	/* NUL-terminated after decode; may hold NULs */
	size_t len;		/* value length */
};

struct attr_list {
	struct attr *v;
	size_t n, cap;
};

/* Encoding: append one attribute to out; 0, or -1 (out's limit). */
int attr_put(struct strbuf *out, const char *name, const void *value,
    size_t len);
int attr_put_str(struct strbuf *out, const char *name, const char *value);
int attr_put_u64(struct strbuf *out, const char *name, uint64_t v);
int attr_put_i64(struct strbuf *out, const char *name, int64_t v);

/* attr_decode - decode len bytes at buf into list (which is reset first),
   at most max attributes. 0, or -1 with *reason_r set. */
int attr_decode(char *buf, size_t len, struct attr_list *list, size_t max,
    const char **reason_r);
/* attr_list_release - free the list's array (not the buffer) */
void attr_list_release(struct attr_list *list);

/* attr_find - the first attribute called name, or NULL */
const struct attr *attr_find(const struct attr_list *list, const char *name);
/* attr_count - how many attributes are called name */
size_t attr_count(const struct attr_list *list, const char *name);
/* attr_u64 - the value as a strict decimal (digits only, no sign, no
   leading zeros except "0", no overflow); 0 or -1 */
int attr_u64(const struct attr *a, uint64_t *v_r);
/* attr_i64 - an optional '-' then as attr_u64, within int64_t */
int attr_i64(const struct attr *a, int64_t *v_r);
/* attr_cstr - the value, if it holds no NUL byte and is at most max
   bytes; else NULL */
const char *attr_cstr(const struct attr *a, size_t max);

/* Schema checks: a protocol header declares its record as a table. */
#define ATTR_REQUIRED	0x01	/* must appear */
#define ATTR_REPEAT	0x02	/* may appear more than once */
#define ATTR_NUMBER	0x04	/* value is a strict decimal (attr_u64) */
#define ATTR_TEXT	0x08	/* value has no NUL and no control chars other
				   than TAB (CR, LF allowed only with
				   ATTR_LINES) */
#define ATTR_LINES	0x10	/* with ATTR_TEXT: CR and LF allowed */

struct attr_spec {
	const char *name;
	unsigned flags;
	size_t maxlen;		/* longest value */
};
/* NSPEC - the entries of a spec table, for attr_check */
#define NSPEC(s) (sizeof(s) / sizeof((s)[0]))

/* attr_check - list conforms to spec (nspec entries): required ones are
   present, non-repeatable ones appear once, lengths and kinds hold, and,
   unless unknown_ok, no other names appear. 0 or -1 with *reason_r (a
   static string; the offending name is in *name_r when not NULL). */
int attr_check(const struct attr_list *list, const struct attr_spec *spec,
    size_t nspec, int unknown_ok, const char **reason_r,
    const char **name_r);

#endif
