/*
 * postern-inject, also called sendmail and mailq: the front door.
 *
 * Reads a message from its caller, checks it, and writes it durably into
 * the maildrop; exit 0 means the message is on disk and will be delivered
 * or returned. Installed setgid drop_group, it trusts nothing its caller
 * controls (see inject.h); only root may choose another configuration.
 * Exit codes are sysexits(3), each failure one line on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "config.h"
#include "exitcodes.h"
#include "fsio.h"
#include "inject.h"
#include "log.h"

static const char *progname = "sendmail";

#ifdef __SANITIZE_ADDRESS__
/* In sanitizer builds: LeakSanitizer cannot inspect a setgid process (it
   is not dumpable) and dies trying; the injector is short-lived and exits
   holding its memory on purpose. Its modules are leak-checked by the unit
   tests. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

/* fail - print the error as one line (whatever bytes the caller put in
   an address), log it, exit with its code */
static void __attribute__((noreturn)) fail(const struct inject_error *e)
{
	struct strbuf line = STRBUF_INIT(4 * sizeof(e->text));

	strbuf_append_printable(&line, e->text, strlen(e->text), 1);
	fprintf(stderr, "%s: %s\n", progname, strbuf_str(&line));
	if (e->code != EX_USAGE)
		log_warn("uid=%ld: %s", (long)getuid(), strbuf_str(&line));
	exit(e->code);
}

/* standard_fds - make sure 0, 1 and 2 are open, so that no file we open
   later becomes someone's stdout */
static void standard_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

/* list_queue - -bp and mailq: run posternctl mailq without our group */
static void __attribute__((noreturn)) list_queue(const struct inject_opts *o)
{
	char self[PATH_MAX], path[PATH_MAX + 16], *slash;
	char *argv[5], *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	ssize_t n;
	int i = 0;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0 || setresgid(getgid(), getgid(), getgid()) < 0) {
		fprintf(stderr, "%s: cannot run posternctl: %s\n", progname,
		    strerror(errno));
		exit(EX_OSERR);
	}
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/posternctl", self);
	argv[i++] = "posternctl";
	argv[i++] = "-c";
	argv[i++] = (char *)o->config_dir;
	argv[i++] = "mailq";
	argv[i] = NULL;
	execve(path, argv, envp);
	fprintf(stderr, "%s: cannot run %s: %s\n", progname, path,
	    strerror(errno));
	exit(EX_OSERR);
}

/* load_config - the configuration this caller is allowed to use; the
   directory chosen goes back into o for -bp */
static struct config *load_config(struct inject_opts *o)
{
	int trusted = !getauxval(AT_SECURE) || getuid() == 0;
	struct inject_error e = { EX_CONFIG, "" };
	struct config *cfg;
	const char *dir, *why;

	if ((dir = config_dir_choose(o->config_dir, trusted, &why)) == NULL) {
		inject_error_set(&e, EX_USAGE, "%s", why);
		fail(&e);
	}
	if (config_load(&cfg, dir, e.text, sizeof(e.text)) < 0)
		fail(&e);
	o->config_dir = dir;
	return cfg;
}

int main(int argc, char **argv)
{
	struct inject_msg m;
	struct inject_opts o;
	struct inject_error e = { 0, "" };
	struct inject_input *in;
	struct strbuf first = STRBUF_INIT(INJECT_PIECE + 1);
	struct config *cfg;
	int ended;

	standard_fds();
	if ((progname = strrchr(argv[0], '/')) != NULL)
		progname++;
	else
		progname = argv[0];
	fsio_init();
	log_open("sendmail", NULL, 0);
	if (inject_args(argc, argv, &o, &e) < 0)
		fail(&e);
	if (strcmp(progname, "mailq") == 0)
		o.mode = INJECT_LIST;
	/* The injector logs to syslog only: as the calling user it must not
	   create or append to log_file. */
	cfg = load_config(&o);
	if (o.mode == INJECT_LIST)
		list_queue(&o);
	memset(&m, 0, sizeof(m));
	inject_error_set(&e, EX_OSERR, "out of memory");
	if ((in = inject_input_new(0)) == NULL ||
	    inject_envelope(&m, &o, cfg, &e) < 0 ||
	    (ended = inject_headers(&m, in, &o, cfg, &first, &e)) < 0)
		fail(&e);
	if (m.nrcpt == 0) {
		inject_error_set(&e, o.extract ? EX_DATAERR : EX_USAGE,
		    o.extract ? "no recipient addresses found in the message "
		    "header" : "no recipients given");
		fail(&e);
	}
	if (inject_drop(&m, in, &first, &o, cfg, &e, ended) < 0)
		fail(&e);
	return EX_OK;
}
