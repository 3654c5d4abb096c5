/*
 * config_impl - the configuration's private parts, shared by config.c
 * (loading, expansion, accessors) and config_value.c (the parsers of each
 * type). Nothing outside common/config*.c includes this header; everyone
 * else uses config.h.
 */
#ifndef POSTERN_CONFIG_IMPL_H
#define POSTERN_CONFIG_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum expand_state { EXP_NONE, EXP_BUSY, EXP_DONE };

struct config_item {
	char *raw;		/* value as written, or the default */
	char *text;		/* value after expansion */
	unsigned line;		/* line that set it; 0: the default */
	enum expand_state state;
	int height;		/* longest chain of references below it */
	union {
		uint64_t size;
		int64_t secs;
		long count;
		enum config_tls_level tls;
	} u;
	char **items;		/* CT_LIST: n items and a NULL */
	char *words;		/* CT_LIST: storage of the items */
	int64_t *secs_list;	/* CT_DURATIONS: n durations */
	size_t n;
};

/* Character classes of the C locale, whatever the process's locale. */
#define is_space(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || \
	(c) == '\f' || (c) == '\v')
#define is_digit(c) ((c) >= '0' && (c) <= '9')
#define is_alnum(c) (is_digit(c) || ((c) >= 'a' && (c) <= 'z') || \
	((c) >= 'A' && (c) <= 'Z'))
#define is_name_char(c) (is_alnum(c) || (c) == '_')

/* --- config_value.c: the parsers of each type --- */

/* The parser of each type, indexed by enum config_type; NULL (CT_STR)
   takes any text. A parser returns NULL or the reason the value is bad. */
extern const char *(*const config_value_parsers[])(struct config_item *);

const char *config_value_check_key(enum config_key k, const char *text);

#endif
