/*
 * maps - small "key  value" files held in memory.
 *
 * For the virtual mailbox file ("address  path/"), the routes file
 * ("domain  [host]:port") and the TLS policy file ("domain  level"). Each
 * line is a key, one or more blanks, and a value that runs to the end of
 * the line (trailing blanks trimmed; blanks inside are kept). Leading
 * blanks are ignored; blank lines and lines whose first non-blank byte is
 * '#' are skipped; there are no continuation lines and no comments after
 * a value. A CRLF line end reads as LF. A line of more than MAP_LINE_MAX
 * bytes, a control character (other than TAB), a key without a value, a
 * repeated key and more than MAP_ENTRIES_MAX entries are errors, reported
 * as "FILE:LINE: reason".
 *
 * The map is a sorted array searched with bsearch (O(log n)); it is
 * loaded whole and never changes, so lookups need no locking. Callers
 * poll map_changed() and load a new map when it says so. The file is
 * trusted for nothing but its syntax: what a value means is the caller's
 * to check.
 */
#ifndef POSTERN_MAPS_H
#define POSTERN_MAPS_H

#include <stddef.h>

struct map;

#define MAP_LINE_MAX	4096	/* bytes in a line, not counting '\n' */
#define MAP_ENTRIES_MAX	1000000	/* entries in one file */

#define MAP_MISSING_OK	0x01	/* a missing file is an empty map */
#define MAP_LOWER_KEYS	0x02	/* keys (and lookups) are lower-cased,
				   ASCII only */

/* map_load - read path into a new map. 0 and *m_r set, or -1 with err
   set ("FILE:LINE: reason", or "FILE: reason"). A NULL or empty path is
   an empty map that never changes. */
int map_load(struct map **m_r, const char *path, unsigned flags,
    char *err, size_t errlen);
/* map_lookup - the value of key, or NULL; valid until map_free */
const char *map_lookup(const struct map *m, const char *key);
/* map_changed - 1 when the file at the map's path is no longer the one
   loaded (replaced, touched, created or removed), else 0 */
int map_changed(const struct map *m);
/* map_count - how many entries the map holds */
size_t map_count(const struct map *m);
/* map_free - free and set *m to NULL (NULL is fine) */
void map_free(struct map **m);

#endif
