/*
 * posternctl - inspect and administer the postern queue.
 *
 *   posternctl [-c DIR] queue [ID...] [selectors] [--count] [--json]
 *   posternctl [-c DIR] show ID [--json] [--transcript] [--content]
 *   posternctl [-c DIR] mailq [ID...] [selectors]
 *   posternctl [-c DIR] config [--check] [--json]
 *   posternctl [-c DIR] status | stats [--json]
 *   posternctl [-c DIR] reload
 *   posternctl [-c DIR] route ADDRESS [--json]
 *   posternctl [-c DIR] hold|release|delete|retry|bounce [ID...] [--all]
 *       [selectors] [--dry-run] [--json]
 *
 * where the selectors are --sender A, --recipient A, --domain D,
 * --state S, --older-than DURATION and --error TEXT. config is read
 * here; everything else goes through the queue manager's control socket
 * (posternctl_control.c), or, for queue, mailq and show when the queue
 * manager is down, straight from the queue (posternctl_queue.c).
 *
 * Exit codes: 0 done, 64 usage, 67 no such message, 70 a damaged record,
 * 74 output error, 75 the queue manager or the queue is not available
 * now, 77 not allowed, 78 configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "die.h"
#include "exitcodes.h"
#include "log.h"
#include "posternctl.h"

void ctl_usage(void)
{
	fprintf(stderr, "usage: posternctl [-c DIR] queue [ID...] [selectors] "
	    "[--count] [--json]\n"
	    "       posternctl [-c DIR] show ID [--json] [--transcript] "
	    "[--content]\n"
	    "       posternctl [-c DIR] mailq [ID...] [selectors]\n"
	    "       posternctl [-c DIR] config [--check] [--json]\n"
	    "       posternctl [-c DIR] status | stats [--json]\n"
	    "       posternctl [-c DIR] reload\n"
	    "       posternctl [-c DIR] route ADDRESS [--json]\n"
	    "       posternctl [-c DIR] hold|release|delete|retry|bounce "
	    "[ID...] [--all]\n"
	    "           [selectors] [--dry-run] [--json]\n"
	    "selectors: --sender A  --recipient A  --domain D  --state S\n"
	    "           --older-than DURATION  --error TEXT\n"
	    "states: pending deferred held active failed delivered "
	    "expanded\n");
	exit(EX_USAGE);
}

/* Which options each verb takes: a letter per flag in the string. */
static const struct { const char *verb, *opts; } verbs[] = {
	{ "queue", "Sjc" },		/* S: the selectors */
	{ "mailq", "S" },
	{ "show", "jtn" },
	{ "status", "j" },
	{ "reload", "" },
	{ "stats", "j" },
	{ "route", "j" },
	{ "config", "jk" },
	{ "hold", "Sadj" },
	{ "release", "Sadj" },
	{ "delete", "Sadj" },
	{ "retry", "Sadj" },
	{ "bounce", "Sadj" },
};

/* flag - a flag option: its letter and where it goes */
static int *flag(struct ctl_args *a, const char *opt, char *letter)
{
	static const struct { const char *opt; char letter; } map[] = {
		{ "--json", 'j' }, { "--count", 'c' }, { "--transcript", 't' },
		{ "--content", 'n' }, { "--all", 'a' }, { "--dry-run", 'd' },
		{ "--check", 'k' },
	};
	int *where[] = { &a->json, &a->count, &a->transcript, &a->content,
	    &a->all, &a->dry_run, &a->count };
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(opt, map[i].opt) == 0) {
			*letter = map[i].letter;
			return where[i];
		}
	return NULL;
}

/* selector - "--name VALUE": where VALUE goes, or NULL */
static const char **selector(struct ctl_args *a, const char *opt)
{
	if (strcmp(opt, "--sender") == 0)
		return &a->sender;
	if (strcmp(opt, "--recipient") == 0)
		return &a->recipient;
	if (strcmp(opt, "--domain") == 0)
		return &a->domain;
	if (strcmp(opt, "--state") == 0)
		return &a->state;
	if (strcmp(opt, "--error") == 0)
		return &a->error;
	return NULL;
}

/* parse - the verb's arguments into a (config's --check lands in count) */
static void parse(const char *opts, int argc, char **argv,
    struct ctl_args *a)
{
	const char **sv;
	char letter;
	int *fv, i;

	a->ids = argv;
	a->older_than = -1;
	for (i = 0; i < argc; i++) {
		if ((fv = flag(a, argv[i], &letter)) != NULL) {
			if (strchr(opts, letter) == NULL)
				ctl_usage();
			*fv = 1;
		} else if (strchr(opts, 'S') && (sv = selector(a, argv[i])) !=
		    NULL) {
			if (i + 1 == argc)
				die_perm(EX_USAGE, "%s needs a value", argv[i]);
			*sv = argv[++i];
		} else if (strchr(opts, 'S') && strcmp(argv[i],
		    "--older-than") == 0) {
			if (i + 1 == argc || config_parse_duration(argv[i + 1],
			    &a->older_than) < 0)
				die_perm(EX_USAGE, "--older-than needs a duration "
				    "(e.g. 2h, 30m, 3d)");
			i++;
		} else if (argv[i][0] == '-') {
			die_perm(EX_USAGE, "unknown option %s for %s", argv[i],
			    a->verb);
		} else {
			/* operands: ids, or route's address */
			a->ids[a->nids++] = argv[i];
		}
	}
	if (strcmp(a->verb, "route") == 0) {
		if (a->nids != 1)
			die_perm(EX_USAGE, "usage: posternctl route ADDRESS");
		a->address = a->ids[0];
		a->nids = 0;
	} else if (strcmp(a->verb, "show") == 0) {
		if (a->nids != 1)
			ctl_usage();
	} else if (a->nids > 0 && !strchr(opts, 'S')) {
		ctl_usage();
	}
}

int main(int argc, char **argv)
{
	struct ctl c;
	const char *dir = NULL, *why;
	char err[512];
	size_t i;
	int ch;

	memset(&c, 0, sizeof(c));
	log_open("posternctl", NULL, 0);
	while ((ch = getopt(argc, argv, "+c:")) != -1) {
		if (ch != 'c')
			ctl_usage();
		dir = optarg;
	}
	if (optind >= argc)
		ctl_usage();
	argv += optind;
	argc -= optind;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]) &&
	    strcmp(argv[0], verbs[i].verb) != 0; i++)
		;
	if (i == sizeof(verbs) / sizeof(verbs[0]))
		ctl_usage();
	c.a.verb = verbs[i].verb;
	/* the operands are gathered in place, over argv's own slots */
	parse(verbs[i].opts, argc - 1, argv + 1, &c.a);
	if ((dir = config_dir_choose(dir, 1, &why)) == NULL)
		die_perm(EX_USAGE, "%s", why);
	if (config_load(&c.cfg, dir, err, sizeof(err)) < 0)
		die_perm(EX_CONFIG, "%s", err);
	if (strcmp(c.a.verb, "config") == 0)
		ch = ctl_config(&c, c.a.count);
	else
		ch = ctl_control(&c);
	config_free(&c.cfg);
	return ch;
}
