/*
 * inject_args - the sendmail command line.
 *
 * Accepted, as cron, mail(1), mutt, PHP's mail() and git send-email use
 * them: recipients as arguments (after "--" too), -t, -i, -oi, -f/-r
 * sender, -F name, -N dsn, -R ret, -V envid, -bm, -bp, -C/-c DIR.
 * Accepted and ignored (documented in sendmail(1)): -B type, -h N, -L tag,
 * -n, -U, -v, and -o with one of em ep eq ew ee m o db di dq dd df.
 * Everything else, including -X (log file: a known attack vector),
 * -O, -d, -bd, -bs, -bi, -bv and -q, is a usage error.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "exitcodes.h"
#include "inject.h"
#include "maildrop.h"
#include "queue.h"

/* inject_error_set - record a failure */
void inject_error_set(struct inject_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
}

/* ignored_o - the -o options that mean nothing to postern */
static int ignored_o(const char *arg)
{
	static const char *const ok[] = {
		"em", "ep", "eq", "ew", "ee", "m", "o", "db", "di", "dq",
		"dd", "df",
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(arg, ok[i]) == 0)
			return 1;
	return 0;
}

/* mode_option - -b with its argument */
static int mode_option(const char *arg, struct inject_opts *o,
    struct inject_error *e)
{
	if (strcmp(arg, "m") == 0)
		o->mode = INJECT_DELIVER;
	else if (strcmp(arg, "p") == 0)
		o->mode = INJECT_LIST;
	else
		return inject_error_set(e, EX_USAGE, "-b%s is not supported "
		    "(only -bm and -bp)", arg), -1;
	return 0;
}

/* ret_option - -R hdrs|full */
static int ret_option(const char *arg, struct inject_opts *o,
    struct inject_error *e)
{
	if (strcasecmp(arg, "hdrs") == 0)
		o->ret = QUEUE_MSG_RET_HDRS;
	else if (strcasecmp(arg, "full") == 0)
		o->ret = QUEUE_MSG_RET_FULL;
	else
		return inject_error_set(e, EX_USAGE, "-R takes hdrs or full, "
		    "not '%s'", arg), -1;
	return 0;
}

/* one_option - handle one option letter */
static int one_option(int c, const char *arg, struct inject_opts *o,
    struct inject_error *e)
{
	switch (c) {
	case 'b':
		return mode_option(arg, o, e);
	case 'C':
	case 'c':
		o->config_dir = arg;
		return 0;
	case 'f':
	case 'r':
		o->sender = arg;
		return 0;
	case 'F':
		o->fullname = arg;
		return 0;
	case 'i':
		o->ignore_dots = 1;
		return 0;
	case 't':
		o->extract = 1;
		return 0;
	case 'N':
		if (maildrop_parse_notify(arg, &o->notify) < 0)
			return inject_error_set(e, EX_USAGE, "-N takes never "
			    "or a list of success,failure,delay"), -1;
		return 0;
	case 'R':
		return ret_option(arg, o, e);
	case 'V':
		o->envid = arg;
		return 0;
	case 'o':
		if (strcmp(arg, "i") == 0)
			o->ignore_dots = 1;
		else if (!ignored_o(arg))
			return inject_error_set(e, EX_USAGE, "-o%s is not "
			    "supported", arg), -1;
		return 0;
	case 'B': case 'h': case 'L': case 'n': case 'U': case 'v':
		return 0;
	default:
		return inject_error_set(e, EX_USAGE, "unknown or unsupported "
		    "option (usage: sendmail [-t] [-i] [-f sender] [-F name] "
		    "[-N dsn] [-R ret] [-V envid] [--] recipient...)"), -1;
	}
}

/* inject_args - parse the command line into o */
int inject_args(int argc, char **argv, struct inject_opts *o,
    struct inject_error *e)
{
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	/* "+" stops at the first recipient: an argument after it that
	   starts with '-' is a usage error, never an option in disguise. */
	while ((c = getopt(argc, argv, "+B:b:C:c:F:f:h:iL:N:no:R:r:tUV:v"))
	    != -1)
		if (one_option(c, optarg, o, e) < 0)
			return -1;
	o->rcpts = argv + optind;
	o->nrcpts = argc - optind;
	for (c = 0; c < o->nrcpts; c++)
		if (o->rcpts[c][0] == '-')
			return inject_error_set(e, EX_USAGE, "options must "
			    "come before recipients ('%s')", o->rcpts[c]), -1;
	return 0;
}
