/*
 * json - writing JSON for machine-readable output (posternctl --json).
 *
 * Strings from the queue may hold anything a sender or a remote server
 * wrote: every control character is escaped, and bytes that are not
 * valid UTF-8 become U+FFFD, so the output always parses.
 */
#ifndef POSTERN_JSON_H
#define POSTERN_JSON_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

/* json_string - append len bytes as a quoted JSON string; 0, or -1 when
   the buffer refused part of it (it is then marked failed) */
int json_string(struct strbuf *out, const char *s, size_t len);
/* json_key_string - append "key":"value" (value a C string) */
int json_key_string(struct strbuf *out, const char *key, const char *value);
/* json_key_int - append "key":number */
int json_key_int(struct strbuf *out, const char *key, int64_t v);

#endif
