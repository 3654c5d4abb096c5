/*
 * posternctl_config - the config verb: the effective configuration, and
 * --check, which validates every file postern reads.
 *
 * Runs in posternctl itself, without the queue manager: the files are
 * read the way the programs read them (config_load, map_load with the
 * same flags, the aliases map's source through aliases_split), so that
 * an admin can check a change before a reload makes it live. The first
 * error is printed with its file, line and reason, and the exit status
 * is EX_CONFIG (78).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "die.h"
#include "exitcodes.h"
#include "json.h"
#include "maps.h"
#include "posternctl.h"
#include "strbuf.h"

/* value - a key's effective value as text */
static void value(const struct config *cfg, enum config_key k,
    struct strbuf *out)
{
	static const char *const levels[] = { "none", "may", "encrypt",
	    "verify" };
	const char *const *list;
	const int64_t *durs;
	size_t n, i;

	switch (config_key_type(k)) {
	case CT_SIZE:
		strbuf_appendf(out, "%llu", (unsigned long long)config_size(cfg,
		    k));
		break;
	case CT_DURATION:
		strbuf_appendf(out, "%llds", (long long)config_duration(cfg,
		    k));
		break;
	case CT_COUNT:
	case CT_PORT:
		strbuf_appendf(out, "%ld", config_count(cfg, k));
		break;
	case CT_TLSLEVEL:
		strbuf_appends(out, levels[config_tls_level(cfg, k)]);
		break;
	case CT_LIST:
		list = config_list(cfg, k, &n);
		for (i = 0; i < n; i++)
			strbuf_appendf(out, "%s%s", i ? ", " : "", list[i]);
		break;
	case CT_DURATIONS:
		durs = config_durations(cfg, k, &n);
		for (i = 0; i < n; i++)
			strbuf_appendf(out, "%s%llds", i ? " " : "",
			    (long long)durs[i]);
		break;
	default:
		strbuf_appends(out, config_str(cfg, k));
	}
}

/* check_map - one map file, loaded as the queue manager loads it */
static int check_map(const struct config *cfg, enum config_key k,
    unsigned flags)
{
	struct map *m = NULL;
	char err[600];

	if (map_load(&m, config_str(cfg, k), flags, err, sizeof(err)) < 0) {
		fprintf(stderr, "posternctl: %s (%s)\n", err,
		    config_key_name(k));
		return -1;
	}
	map_free(&m);
	return 0;
}

/* check - every file; 0 or EX_CONFIG at the first error */
static int check(const struct config *cfg)
{
	if (check_map(cfg, CK_virtual_mailbox_file, MAP_MISSING_OK |
	    MAP_LOWER_KEYS) < 0 ||
	    check_map(cfg, CK_routes_file, MAP_MISSING_OK | MAP_LOWER_KEYS) <
	    0 ||
	    check_map(cfg, CK_tls_policy_file, MAP_MISSING_OK |
	    MAP_LOWER_KEYS) < 0 ||
	    check_map(cfg, CK_smtp_auth_file, MAP_MISSING_OK) < 0)
		return EX_CONFIG;
	printf("%s/postern.conf and the files it names are valid\n",
	    config_dir(cfg));
	return EX_OK;
}

int ctl_config(struct ctl *c, int do_check)
{
	struct strbuf out = STRBUF_INIT(1u << 20), v = STRBUF_INIT(1u << 20);
	int k, width = 0;

	if (do_check)
		return check(c->cfg);
	for (k = 0; k < CK_COUNT; k++)
		if ((int)strlen(config_key_name(k)) > width)
			width = (int)strlen(config_key_name(k));
	if (c->a.json)
		strbuf_appendc(&out, '{');
	for (k = 0; k < CK_COUNT; k++) {
		strbuf_reset(&v);
		value(c->cfg, k, &v);
		if (c->a.json) {
			if (k > 0)
				strbuf_appendc(&out, ',');
			json_string(&out, config_key_name(k),
			    strlen(config_key_name(k)));
			strbuf_appends(&out, ":{");
			json_key_string(&out, "value", strbuf_str(&v));
			strbuf_appends(&out, config_is_set(c->cfg, k) ?
			    ",\"default\":false" : ",\"default\":true");
			strbuf_appendc(&out, '}');
		} else {
			strbuf_appendf(&out, "%-*s = ", width,
			    config_key_name(k));
			strbuf_append_printable(&out, v.s ? v.s : "", v.len, 1);
			if (config_is_set(c->cfg, k))
				strbuf_appendf(&out, "    # set on line %u",
				    config_line(c->cfg, k));
			strbuf_appendc(&out, '\n');
		}
	}
	if (c->a.json)
		strbuf_appends(&out, "}\n");
	if (out.len > 0 && fwrite(out.s, 1, out.len, stdout) != out.len)
		die_perm(EX_IOERR, "write error on standard output");
	strbuf_release(&out);
	strbuf_release(&v);
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}
