/*
 * rfc822 - reading message headers (RFC 5322) as the injector and the
 * bounce composer need: where the header section ends, field names,
 * unfolded values, and the addresses in an address-list field.
 *
 * A header field starts with a name of printable US-ASCII other than ':'
 * followed by ':'; a line starting with a blank continues the previous
 * field. Input is a byte string with LF line ends (the injector has
 * already normalised CRLF). Nothing here allocates without a bound.
 */
#ifndef POSTERN_RFC822_H
#define POSTERN_RFC822_H

#include <stddef.h>

struct strbuf;

/* rfc822_field_name_len - length of the field name when line (len bytes,
   one physical line without its LF) starts a header field ("Name:"), else
   0 */
size_t rfc822_field_name_len(const char *line, size_t len);
/* rfc822_is_continuation - line starts with SP or HTAB */
int rfc822_is_continuation(const char *line, size_t len);
/* rfc822_name_is - the field name equals name, ignoring ASCII case */
int rfc822_name_is(const char *line, size_t namelen, const char *name);

/* rfc822_addrlist_cb - called for each address found: the addr-spec as
   written (local@domain, quotes kept, no comments), and the display name
   if any (unquoted, may be empty). Return 0 to go on, -1 to stop. */
typedef int (*rfc822_addrlist_cb)(void *ctx, const char *addr,
    size_t addrlen, const char *name, size_t namelen);
/* rfc822_addrlist - walk the address-list of a field value (folding
   allowed: CR/LF followed by a blank counts as a blank): mailboxes,
   "Name <addr>", groups "name: a, b;", comments (nested) and quoted
   strings. Returns the number of addresses passed to cb, or -1 when the
   value is malformed (unbalanced <>, quotes or parentheses) or cb
   stopped; *reason_r then says why. */
int rfc822_addrlist(const char *value, size_t len, rfc822_addrlist_cb cb,
    void *ctx, const char **reason_r);

#endif
