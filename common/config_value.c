/*
 * config_value - the value parsers and validators of postern.conf, one per
 * type: durations, sizes, counts, ports, host names, paths, lists and TLS
 * levels (config.h lists the types).
 *
 * Called by config.c, whose third pass (parse_value) runs the parser of a
 * key's type through config_value_parsers[] and then
 * config_value_check_key(); config_parse_duration() and
 * config_parse_size() are exported for programs that parse such values
 * themselves (command-line options, control requests).
 *
 * SECURITY: the text comes from the file and is not trusted. Numbers are
 * checked for overflow, lists are bounded by CONFIG_LIST_MAX, and a parser
 * only reports why a value is bad; it never repairs it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"

#define COUNT_MAX 2147483647	/* largest CT_COUNT, so that it fits an int */
#define STR(x) STR2(x)		/* a number macro as a string literal */
#define STR2(x) #x

static const char *const tls_names[] = { "none", "may", "encrypt", "verify" };

/*
 * Parsing by type. Each parser returns NULL or the reason the value is
 * bad ("is not a size"); parse_value() in config.c turns that into the
 * message.
 */

/* parse_number - decimal digits at *s, at most max; advances *s */
static int parse_number(const char **s, uint64_t max, uint64_t *v_r)
{
	const char *p = *s;
	uint64_t v = 0;

	if (!is_digit((unsigned char)*p))
		return -1;
	for (; is_digit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*s = p;
	*v_r = v;
	return 0;
}

/* parse_scaled - a number with an optional one-letter unit from units
   (letters) and mult (their factors); at most max */
static int parse_scaled(const char *s, const char *units,
    const uint64_t *mult, uint64_t max, uint64_t *v_r)
{
	const char *u;
	uint64_t n, m = 1;

	if (parse_number(&s, max, &n) < 0)
		return -1;
	if (*s != '\0') {
		if (s[1] != '\0' || (u = strchr(units, *s)) == NULL)
			return -1;
		m = mult[u - units];
	}
	if (n > max / m)
		return -1;
	*v_r = n * m;
	return 0;
}

/* config_parse_duration - "30s", "5m", "2h", "1d", "1w", "90" (seconds) */
int config_parse_duration(const char *s, int64_t *v_r)
{
	static const uint64_t mult[] = { 1, 60, 3600, 86400, 604800 };
	uint64_t v;

	if (parse_scaled(s, "smhdw", mult, INT64_MAX, &v) < 0)
		return -1;
	*v_r = (int64_t)v;
	return 0;
}

/* config_parse_size - "100k", "50M", "1G" (powers of 1024), "512" bytes;
   at most INT64_MAX so that it compares with an off_t */
int config_parse_size(const char *s, uint64_t *v_r)
{
	static const uint64_t mult[] = { 1024, 1024, 1048576, 1048576,
	    1073741824, 1073741824 };

	return parse_scaled(s, "kKmMgG", mult, INT64_MAX, v_r);
}

/* valid_hostname - letters, digits and hyphens in dot-separated labels of
   1-63 bytes that neither start nor end with a hyphen; 255 at most */
static int valid_hostname(const char *s)
{
	size_t label = 0, len = strlen(s), i;

	if (len == 0 || len > 255)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if (is_alnum((unsigned char)s[i]) ||
		    (s[i] == '-' && label > 0)) {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0 && s[len - 1] != '-';
}

static const char *parse_hostname(struct config_item *it)
{
	return valid_hostname(it->text) ? NULL : "is not a host name";
}

static const char *parse_path(struct config_item *it)
{
	return it->text[0] == '/' ? NULL : "is not an absolute path";
}

static const char *parse_optpath(struct config_item *it)
{
	return it->text[0] == '\0' ? NULL : parse_path(it);
}

/* split_list - the items of it->text into it->items */
static const char *split_list(struct config_item *it)
{
	size_t n = 0;
	char *p, *save = NULL;

	if ((it->words = strdup(it->text)) == NULL)
		return "cannot be stored: out of memory";
	for (p = it->words; *p; ) {
		p += strspn(p, ", \t");
		if (*p != '\0')
			n++;
		p += strcspn(p, ", \t");
	}
	if (n > CONFIG_LIST_MAX)
		return "has more than " STR(CONFIG_LIST_MAX) " items";
	if ((it->items = calloc(n + 1, sizeof(*it->items))) == NULL)
		return "cannot be stored: out of memory";
	n = 0;
	for (p = strtok_r(it->words, ", \t", &save); p != NULL;
	    p = strtok_r(NULL, ", \t", &save))
		it->items[n++] = p;
	it->n = n;
	return NULL;
}

static const char *parse_duration(struct config_item *it)
{
	return config_parse_duration(it->text, &it->u.secs) == 0 ? NULL :
	    "is not a duration (a number with s, m, h, d or w)";
}

static const char *parse_durations(struct config_item *it)
{
	const char *why;
	size_t i;

	if ((why = split_list(it)) != NULL)
		return why;
	if (it->n && (it->secs_list = calloc(it->n,
	    sizeof(*it->secs_list))) == NULL)
		return "cannot be stored: out of memory";
	for (i = 0; i < it->n; i++)
		if (config_parse_duration(it->items[i], &it->secs_list[i]) < 0
		    || it->secs_list[i] == 0)
			return "has an item that is not a duration above 0";
	return NULL;
}

static const char *parse_size(struct config_item *it)
{
	return config_parse_size(it->text, &it->u.size) == 0 ? NULL :
	    "is not a size (a number with k, M or G)";
}

static const char *parse_count(struct config_item *it)
{
	const char *s = it->text;
	uint64_t v;

	if (parse_number(&s, COUNT_MAX, &v) < 0 || *s != '\0')
		return "is not a count (0 to " STR(COUNT_MAX) ")";
	it->u.count = (long)v;
	return NULL;
}

static const char *parse_port(struct config_item *it)
{
	const char *s = it->text;
	uint64_t v;

	if (parse_number(&s, 65535, &v) < 0 || *s != '\0' || v == 0)
		return "is not a port (1 to 65535)";
	it->u.count = (long)v;
	return NULL;
}

static const char *parse_tlslevel(struct config_item *it)
{
	size_t i;

	for (i = 0; i < sizeof(tls_names) / sizeof(tls_names[0]); i++) {
		if (strcmp(it->text, tls_names[i]) == 0) {
			it->u.tls = (enum config_tls_level)i;
			return NULL;
		}
	}
	return "is not a TLS level (none, may, encrypt or verify)";
}

/* The parser of each type; CT_STR takes any text. */
const char *(*const config_value_parsers[])(struct config_item *) = {
	[CT_STR] = NULL, [CT_HOSTNAME] = parse_hostname,
	[CT_PATH] = parse_path, [CT_OPTPATH] = parse_optpath,
	[CT_LIST] = split_list, [CT_DURATION] = parse_duration,
	[CT_DURATIONS] = parse_durations, [CT_SIZE] = parse_size,
	[CT_COUNT] = parse_count, [CT_PORT] = parse_port,
	[CT_TLSLEVEL] = parse_tlslevel,
};

/* config_value_check_key - rules of single keys beyond their type */
const char *config_value_check_key(enum config_key k, const char *text)
{
	const char *p;

	if (k == CK_recipient_delimiter) {
		for (p = text; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == '@' ||
			    *p == 0x7f)
				return "may not hold blanks, control "
				    "characters or '@'";
	}
	return NULL;
}
