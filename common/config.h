/*
 * config - postern.conf: loading, validation and typed access.
 *
 * File syntax: "key = value" lines; a line whose first non-blank byte is
 * '#' is a comment; a line starting with blanks continues the previous
 * value (as in Postfix's main.cf); "$name" or "${name}" expands another key,
 * "$$" is a literal '$'. Keys and their types, defaults and meanings are
 * the table in config_keys.h, the only place keys are listed. An unknown
 * key, a repeated key, a bad value or a bad expansion is an error naming
 * the file, the line and the key.
 *
 * Types: CT_STR any text; CT_HOSTNAME a host name (empty allowed only for
 * myhostname, which then becomes gethostname()); CT_PATH an absolute path;
 * CT_OPTPATH an absolute path or empty; CT_LIST words separated by commas
 * and/or blanks; CT_DURATION a count with an optional unit s, m, h, d or w
 * (no unit: seconds); CT_DURATIONS a list of durations; CT_SIZE a count
 * with an optional unit k, M or G (powers of 1024; no unit: bytes);
 * CT_COUNT a decimal integer >= 0; CT_PORT 1-65535; CT_TLSLEVEL one of
 * none, may, encrypt, verify.
 *
 * The library trusts nothing in the file. It does not decide which
 * directory to read: callers use config_dir_choose(), which refuses
 * overrides for a caller the program does not trust (setgid injector).
 */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

enum config_type {
	CT_STR, CT_HOSTNAME, CT_PATH, CT_OPTPATH, CT_LIST, CT_DURATION,
	CT_DURATIONS, CT_SIZE, CT_COUNT, CT_PORT, CT_TLSLEVEL
};

enum config_key {
#define CONFIG_KEY(name, type, def, meaning) CK_##name,
#include "config_keys.h"
#undef CONFIG_KEY
	CK_COUNT
};

enum config_tls_level { TLS_NONE, TLS_MAY, TLS_ENCRYPT, TLS_VERIFY };

#define CONFIG_DEFAULT_DIR "/etc/postern"
#define CONFIG_FILE_NAME "postern.conf"
#define CONFIG_LIST_MAX 1024	/* most items in one list value */
#define CONFIG_VALUE_MAX 65536	/* longest value after expansion */

struct config;

/* config_dir_choose - the configuration directory for this process: the
   -c argument if given, else $POSTERN_CONFIG, else /etc/postern. When
   trusted is 0 (an unprivileged caller of a setgid program) any override
   is refused: returns NULL and sets *error_r. */
const char *config_dir_choose(const char *arg, int trusted,
    const char **error_r);

/* config_open - config_dir_choose (trusted) and config_load in one, for
   the workers; 0, or -1 with the reason in err */
int config_open(const char *arg, struct config **cfg_r, char *err,
    size_t errlen);
/* config_load - read DIR/postern.conf. 0 and *cfg_r set, or -1 and a
   message "FILE:LINE: ..." in err (errlen bytes). A missing or unreadable
   file is an error. */
int config_load(struct config **cfg_r, const char *dir, char *err,
    size_t errlen);
/* config_defaults - a configuration of defaults only (tests, tools) */
int config_defaults(struct config **cfg_r, const char *dir, char *err,
    size_t errlen);
/* config_free - free and set *cfg to NULL */
void config_free(struct config **cfg);

/* Typed access. Each aborts when the key does not have that type (a
   programming error); values are valid until config_free. */
const char *config_str(const struct config *cfg, enum config_key key);
uint64_t config_size(const struct config *cfg, enum config_key key);
/* config_duration - seconds */
int64_t config_duration(const struct config *cfg, enum config_key key);
long config_count(const struct config *cfg, enum config_key key);
/* config_list_join - the items of a list key, joined by single spaces
   into buf (cut at len; dns_open takes dns_servers so) */
void config_list_join(const struct config *cfg, enum config_key key,
    char *buf, size_t len);
/* config_list - the items of a list; *n_r items */
const char *const *config_list(const struct config *cfg,
    enum config_key key, size_t *n_r);
/* config_durations - the seconds of a duration list; *n_r items */
const int64_t *config_durations(const struct config *cfg,
    enum config_key key, size_t *n_r);
enum config_tls_level config_tls_level(const struct config *cfg,
    enum config_key key);

/* config_dir - the directory the configuration was read from */
const char *config_dir(const struct config *cfg);
/* config_is_set - the key was set in the file (not left at its default) */
int config_is_set(const struct config *cfg, enum config_key key);
/* config_line - the file line that set the key, 0 for a default */
unsigned config_line(const struct config *cfg, enum config_key key);

/* Describing keys (posternctl config, the man page check). */
const char *config_key_name(enum config_key key);
enum config_type config_key_type(enum config_key key);
const char *config_key_default(enum config_key key);
const char *config_key_meaning(enum config_key key);
/* config_key_lookup - key by name, or -1 */
int config_key_lookup(const char *name);

/* Value parsers, exported for other files that use the same syntax
   (routes, TLS policy) and for tests. 0 on success, -1 when malformed. */
int config_parse_duration(const char *s, int64_t *v_r);
int config_parse_size(const char *s, uint64_t *v_r);

#endif
