/*
 * postern-local - the local delivery worker: start-up.
 *
 * Started by the spawner as the recipient's user with its socket on
 * descriptors 0 and 1 (spawn_proto.h), or by a test the same way. Reads
 * the configuration (-c DIR, else $POSTERN_CONFIG, else /etc/postern),
 * starts logging, and runs one job (local_job.c). It never changes user:
 * the spawner already made it the right one, and local_job.c checks that.
 *
 * Trust: its arguments and environment come from the spawner, which
 * gives it a clean environment; fault and crash settings are honoured
 * only as fsio.h allows.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "die.h"
#include "exitcodes.h"
#include "fsio.h"
#include "local.h"
#include "log.h"

/* usage - the command line is wrong */
static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: postern-local [-c DIR]\n");
	exit(EX_USAGE);
}

/* setup - signals and the file creation mask for a delivery agent:
   a broken pipe or a file size limit is an error to report, not death */
static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	umask(077);
	fsio_init();
}

/* main - parse -c, read the configuration, run one job */
int main(int argc, char **argv)
{
	struct config *cfg;
	const char *arg = NULL;
	char err[512];
	int c, rc;

	while ((c = getopt(argc, argv, "c:")) != -1)
		if (c == 'c')
			arg = optarg;
		else
			usage();
	if (optind != argc)
		usage();
	setup();
	if (config_open(arg, &cfg, err, sizeof(err)) < 0)
		die_perm(EX_CONFIG, "%s", err);
	log_open("local", cfg, 0);
	rc = local_job_run(cfg, 0, 1);
	config_free(&cfg);
	log_close();
	return rc;
}
