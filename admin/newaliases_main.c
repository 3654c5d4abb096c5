/*
 * postern-newaliases - compile the aliases file into its LMDB map.
 *
 *   postern-newaliases [-v] [-c DIR] [FILE]
 *   newaliases [-v] [-c DIR] [FILE]
 *
 * FILE, or when it is omitted alias_file from DIR/postern.conf (the only
 * case in which the configuration is read), is compiled into FILE.lmdb,
 * which replaces the old map atomically (common/aliases.c). The queue
 * manager notices a new map by itself, so nothing is poked. An empty
 * alias_file means "no aliases": there is nothing to do, and that is not
 * an error.
 *
 * Run by root, as newaliases always is. It trusts its caller as far as
 * the caller's own rights go: it reads FILE and writes only FILE.lmdb and
 * FILE.lmdb.tmp.PID, as the caller, with FILE's mode.
 *
 * Output: nothing on success (with -v, "FILE: N aliases" on stdout);
 * errors on stderr as "PROGRAM: FILE:LINE: reason", PROGRAM being the
 * name it was called by. Exit codes: 0 done, 64 usage, 65 a syntax error
 * in FILE, 66 FILE cannot be opened (missing or unreadable), 71 out of
 * memory, 73 the map cannot be created, 74 a read or write error, 78 a
 * bad configuration.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aliases.h"
#include "config.h"
#include "exitcodes.h"
#include "fsio.h"
#include "log.h"
#include "strbuf.h"

static const char *progname = "postern-newaliases";

/* fail - "PROGRAM: message" on stderr, the message to syslog, exit code */
static void __attribute__((noreturn, format(printf, 2, 3)))
fail(int code, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT(8192);
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s", msg);
	strbuf_appendf(&sb, "%s: ", progname);
	strbuf_append_printable(&sb, msg, strlen(msg), 1);
	strbuf_appendc(&sb, '\n');
	fputs(strbuf_str(&sb), stderr);
	exit(code);
}

/* usage - the command line is wrong */
static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: %s [-v] [-c DIR] [FILE]\n", progname);
	exit(EX_USAGE);
}

/* exit_code - the exit code for an aliases_compile() failure */
static int exit_code(int status)
{
	switch (status) {
	case ALIASES_SYNTAX:
		return EX_DATAERR;
	case ALIASES_NOINPUT:
		return EX_NOINPUT;
	case ALIASES_CREATE:
		return EX_CANTCREAT;
	case ALIASES_NOMEM:
		return EX_OSERR;
	default:
		return EX_IOERR;
	}
}

/* configured_file - alias_file from the configuration in dir (may be "") */
static const char *configured_file(const char *dir, struct config **cfg)
{
	const char *why;
	char err[512];

	if ((dir = config_dir_choose(dir, 1, &why)) == NULL)
		fail(EX_USAGE, "%s", why);
	if (config_load(cfg, dir, err, sizeof(err)) < 0)
		fail(EX_CONFIG, "%s", err);
	log_open("newaliases", *cfg, 0);
	return config_str(*cfg, CK_alias_file);
}

/* compile - FILE into FILE.lmdb; the number of aliases */
static int compile(const char *file)
{
	struct strbuf map = STRBUF_INIT(PATH_MAX - 1);
	char err[1024];
	int n;

	if (strbuf_appendf(&map, "%s%s", file, ALIASES_MAP_SUFFIX) < 0)
		fail(EX_CANTCREAT, "%s: name too long", file);
	if ((n = aliases_compile(file, strbuf_str(&map), err,
	    sizeof(err))) < 0)
		fail(exit_code(n), "%s", err);
	log_info("%s: %d aliases", strbuf_str(&map), n);
	strbuf_release(&map);
	return n;
}

int main(int argc, char **argv)
{
	struct config *cfg = NULL;
	const char *dir = NULL, *file;
	int ch, verbose = 0, n;

	if ((progname = strrchr(argv[0], '/')) != NULL)
		progname++;
	else
		progname = argv[0];
	fsio_init();
	log_open("newaliases", NULL, 0);
	while ((ch = getopt(argc, argv, "c:v")) != -1) {
		if (ch == 'c')
			dir = optarg;
		else if (ch == 'v')
			verbose = 1;
		else
			usage();
	}
	if (argc - optind > 1)
		usage();
	file = optind < argc ? argv[optind] : configured_file(dir, &cfg);
	if (*file == '\0')
		return EX_OK;
	n = compile(file);
	if (verbose && (printf("%s: %d aliases\n", file, n) < 0 ||
	    fflush(stdout) == EOF))
		fail(EX_IOERR, "standard output: write error");
	config_free(&cfg);
	return EX_OK;
}
