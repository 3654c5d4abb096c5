/*
 * aliases_impl - the aliases module's private parts, shared by aliases.c
 * (the source parser, the compiled map) and aliases_split.c (splitting
 * values into targets). Nothing outside common/aliases*.c includes this
 * header; everyone else uses aliases.h.
 */
#ifndef POSTERN_ALIASES_IMPL_H
#define POSTERN_ALIASES_IMPL_H

#include <stddef.h>

#define is_blank(c) ((c) == ' ' || (c) == '\t')
#define is_ctl(c) (((c) < 0x20 && (c) != '\t') || (c) == 0x7f)

/* --- aliases_split.c --- */

const char *aliases_trim(const char *s, size_t *n);
int aliases_ctl_char(const char *s, size_t n);

#endif
