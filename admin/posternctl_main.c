/*
 * posternctl - inspect and administer the postern queue.
 *
 *   posternctl [-c DIR] queue [--json]
 *   posternctl [-c DIR] show ID [--json] [--content] [--transcript]
 *   posternctl [-c DIR] mailq
 *   posternctl [-c DIR] config [--check] [--json]
 *   posternctl [-c DIR] status | reload | stats [--json]
 *   posternctl [-c DIR] route ADDRESS
 *   posternctl [-c DIR] hold|release|delete|retry|bounce [ID...] [--all]
 *       [--sender A] [--recipient A] [--domain D] [--state S]
 *       [--older-than DURATION] [--error TEXT] [--dry-run]
 *
 * queue, show and mailq read the queue directly; the others go through
 * the queue manager's control socket (posternctl_control.c).
 *
 * Exit codes: 0 done, 64 usage, 67 no such message, 70 a damaged record,
 * 74 output error, 75 the queue cannot be read now, 77 not allowed to
 * read the queue, 78 configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "die.h"
#include "exitcodes.h"
#include "layout.h"
#include "log.h"
#include "posternctl.h"
#include "privs.h"
#include "queue.h"

/* usage - the command line is wrong */
static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: posternctl [-c DIR] queue [--json]\n"
	    "       posternctl [-c DIR] show ID [--json] [--content] "
	    "[--transcript]\n"
	    "       posternctl [-c DIR] mailq\n"
	    "       posternctl [-c DIR] config [--check] [--json]\n"
	    "       posternctl [-c DIR] status | reload | stats [--json]\n"
	    "       posternctl [-c DIR] route ADDRESS\n"
	    "       posternctl [-c DIR] hold|release|delete|retry|bounce "
	    "[ID...] [--all]\n"
	    "           [--sender A] [--recipient A] [--domain D] "
	    "[--state S]\n"
	    "           [--older-than DURATION] [--error TEXT] "
	    "[--dry-run]\n");
	exit(EX_USAGE);
}

/* open_queue - become the queue's owner if root, then open it read-only */
static void open_queue(struct ctl *c)
{
	struct layout l;
	char err[512];
	const char *why;
	uid_t uid;
	gid_t gid;

	if (layout_paths(c->cfg, &l) < 0)
		die_perm(EX_CONFIG, "queue_directory is too long");
	if (geteuid() == 0) {
		if (privs_user(config_str(c->cfg, CK_mail_owner), &uid, &gid,
		    &why) < 0 || privs_drop(uid, gid, &why) < 0)
			die_perm(EX_CONFIG, "cannot become mail_owner '%s': %s",
			    config_str(c->cfg, CK_mail_owner), why);
	}
	if (access(l.db, R_OK | X_OK) < 0 && errno == EACCES)
		die_perm(EX_NOPERM, "permission denied: only root and the "
		    "queue's owner may read the queue in %s", l.queue);
	if (queue_open(&c->queue, l.db, 0, QUEUE_RDONLY, err, sizeof(err)) !=
	    QUEUE_OK)
		die_perm(EX_TEMPFAIL, "cannot open the queue in %s: %s", l.db,
		    err);
}

/* options - the --json and --content flags after the verb */
static void options(struct ctl *c, int argc, char **argv, int *ipos)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			c->json = 1;
		else if (strcmp(argv[i], "--content") == 0)
			c->content = 1;
		else if (strcmp(argv[i], "--transcript") == 0)
			c->transcript = 1;
		else if (argv[i][0] == '-' || ipos == NULL || *ipos >= 0)
			usage();
		else
			*ipos = i;
	}
}

/* The verbs that go to the queue manager (posternctl_control.c) */
static const char *const control_verbs[] = { "status", "reload", "stats",
    "route", "hold", "release", "delete", "retry", "bounce", NULL };

int main(int argc, char **argv)
{
	struct ctl c = { NULL, NULL, 0, 0, 0 };
	const char *dir = NULL, *why;
	char err[512];
	int ch, idpos = -1;

	log_open("posternctl", NULL, 0);
	while ((ch = getopt(argc, argv, "+c:")) != -1) {
		if (ch != 'c')
			usage();
		dir = optarg;
	}
	if (optind >= argc)
		usage();
	if ((dir = config_dir_choose(dir, 1, &why)) == NULL)
		die_perm(EX_USAGE, "%s", why);
	if (config_load(&c.cfg, dir, err, sizeof(err)) < 0)
		die_perm(EX_CONFIG, "%s", err);
	argv += optind;
	argc -= optind;
	for (ch = 0; control_verbs[ch] != NULL; ch++)
		if (strcmp(argv[0], control_verbs[ch]) == 0)
			return ctl_control(&c, argv[0], argc - 1, argv + 1);
	if (strcmp(argv[0], "config") == 0) {
		for (ch = 1; ch < argc; ch++)
			if (strcmp(argv[ch], "--check") == 0)
				idpos = 1;
			else if (strcmp(argv[ch], "--json") == 0)
				c.json = 1;
			else
				usage();
		return ctl_config(&c, idpos == 1);
	}
	options(&c, argc - 1, argv + 1, strcmp(argv[0], "show") == 0 ?
	    &idpos : NULL);
	if (strcmp(argv[0], "queue") == 0 && !c.content) {
		open_queue(&c);
		return ctl_queue(&c);
	}
	if (strcmp(argv[0], "show") == 0 && idpos >= 0) {
		open_queue(&c);
		return ctl_show(&c, argv[idpos + 1]);
	}
	if (strcmp(argv[0], "mailq") == 0 && !c.json && !c.content) {
		open_queue(&c);
		return ctl_mailq(&c);
	}
	usage();
}
