/*
 * local_pipe - delivery to a command: "|command" in ~/.forward, or an
 * alias's |command (action pipe).
 *
 * Called by local_forward.c and local_deliver.c. The command runs with
 * /bin/sh -c as the worker's user (the worker already is that user), in
 * its own process group, from the user's home directory (or "/"), with a
 * clean environment: SENDER, RECIPIENT, ORIGINAL_RECIPIENT, LOCAL,
 * DOMAIN, EXTENSION, USER, LOGNAME, HOME, SHELL and PATH=/usr/bin:/bin.
 * Its standard input is the copy (Return-Path, Delivered-To, content);
 * its standard output and error are read together, the first
 * LOCAL_OUTPUT_MAX bytes kept so that the first line can explain a
 * failure. The worker writes and reads with poll, so a command that
 * prints a lot while reading never deadlocks it.
 *
 * Outcome: exit 0 is delivered (a command that stops reading early and
 * exits 0 has accepted the message, as with Postfix); other exit codes
 * follow Postfix's sys_exits table (75 and 71 defer, the rest fail); a
 * signal defers; passing the time limit kills the process group and
 * defers.
 *
 * Trust: the command is the user's (or the administrator's, for an
 * alias) and runs with exactly the user's rights; its output is hostile
 * text, bounded and escaped before it goes anywhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "address.h"
#include "exitcodes.h"
#include "local.h"
#include "log.h"
#include "timeutil.h"

#define ENV_MAX 12

struct run {
	pid_t pid;
	int in, out;			/* our ends, -1 once closed */
	struct local_copy copy;
	const char *chunk;
	size_t left;
	int write_err;			/* errno of a failed write, 0 */
	int read_err;			/* errno reading the message, 0 */
	char output[LOCAL_OUTPUT_MAX];
	size_t nout;
	int status, reaped;
	int64_t deadline;		/* monotonic microseconds */
};

/* The job and the command, for messages. */
struct job_cmd {
	const struct local_job *job;
	const char *cmd;
};

/* env_add - one NAME=value entry */
static void env_add(struct strbuf *sb, const char *name, const char *value)
{
	strbuf_appendf(sb, "%s=%s", name, value ? value : "");
	strbuf_appendc(sb, '\0');
}

/* pipe_env - the command's environment, built before fork */
static int pipe_env(const struct local_job *job, const struct local_rcpt *r,
    struct strbuf *sb, char *envp[ENV_MAX + 1])
{
	const char *at = strrchr(r->addr, '@'), *p;
	size_t i = 0;

	env_add(sb, "SENDER", job->sender);
	env_add(sb, "RECIPIENT", r->addr);
	env_add(sb, "ORIGINAL_RECIPIENT", r->orig ? r->orig : r->addr);
	strbuf_appendf(sb, "LOCAL=%.*s", at ? (int)(at - r->addr) :
	    (int)strlen(r->addr), r->addr);
	strbuf_appendc(sb, '\0');
	env_add(sb, "DOMAIN", at ? at + 1 : "");
	env_add(sb, "EXTENSION", r->ext);
	env_add(sb, "USER", job->pw.name);
	env_add(sb, "LOGNAME", job->pw.name);
	env_add(sb, "HOME", job->pw.home);
	env_add(sb, "SHELL", job->pw.shell);
	env_add(sb, "PATH", "/usr/bin:/bin");
	if (!strbuf_ok(sb))
		return -1;
	for (p = strbuf_str(sb); p < sb->s + sb->len && i < ENV_MAX;
	    p += strlen(p) + 1)
		envp[i++] = (char *)p;
	envp[i] = NULL;
	return 0;
}

/* pipe_child - in the child: become the command (never returns) */
static void __attribute__((noreturn)) pipe_child(int in, int out,
    const char *home, const char *cmd, char *const envp[])
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	static const char msg[] = "postern-local: cannot execute /bin/sh\n";
	sigset_t none;
	int fd;

	setpgid(0, 0);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(EX_OSERR);
	if (close_range(3, ~0U, 0) < 0)
		for (fd = 3; fd < 1024; fd++)
			close(fd);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir(home) < 0 && chdir("/") < 0)
		_exit(EX_OSERR);
	execve("/bin/sh", argv, envp);
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(EX_OSERR);
	_exit(EX_OSERR);
}

/* pipe_start - fork the command with its two pipes */
static int pipe_start(struct run *rn, const struct local_job *job,
    const char *cmd, char *const envp[])
{
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	if ((rn->pid = fork()) == 0)
		pipe_child(in[0], out[1], job->pw.home, cmd, envp);
	close(in[0]);
	close(out[1]);
	rn->in = in[1];
	rn->out = out[0];
	if (rn->pid < 0)
		return -1;
	setpgid(rn->pid, rn->pid);	/* either of us may win the race */
	fcntl(rn->in, F_SETFL, O_NONBLOCK);
	fcntl(rn->out, F_SETFL, O_NONBLOCK);
	return 0;
}

/* pipe_close - close one of our ends */
static void pipe_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* pipe_feed - write what the command will take of the copy */
static void pipe_feed(struct run *rn)
{
	ssize_t w;
	int rc;

	while (rn->in >= 0) {
		if (rn->left == 0) {
			rc = local_copy_next(&rn->copy, &rn->chunk, &rn->left);
			if (rc <= 0) {
				if (rc < 0)
					rn->read_err = errno;
				pipe_close(&rn->in);
				return;
			}
		}
		if ((w = write(rn->in, rn->chunk, rn->left)) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			rn->write_err = errno;
			pipe_close(&rn->in);
			return;
		}
		rn->chunk += w;
		rn->left -= (size_t)w;
	}
}

/* pipe_drain - read what the command printed; keep the beginning */
static void pipe_drain(struct run *rn)
{
	char buf[4096];
	ssize_t r;
	size_t keep;

	while (rn->out >= 0) {
		if ((r = read(rn->out, buf, sizeof(buf))) < 0) {
			if (errno != EAGAIN && errno != EINTR)
				pipe_close(&rn->out);
			return;
		}
		if (r == 0) {
			pipe_close(&rn->out);
			return;
		}
		keep = sizeof(rn->output) - rn->nout;
		if (keep > (size_t)r)
			keep = (size_t)r;
		memcpy(rn->output + rn->nout, buf, keep);
		rn->nout += keep;
	}
}

/* pipe_wait - one round: poll the pipes, then look for the exit */
static void pipe_wait(struct run *rn)
{
	struct pollfd pfd[2];
	int64_t left = rn->deadline - timeutil_monotonic();
	int n = 0, ms;

	/* Without pipes to watch, the exit is near: look again soon. A
	   command that exits but leaves its output open to a daemon is
	   noticed within 100 ms. */
	ms = rn->in < 0 && rn->out < 0 ? 10 : 100;
	if (left / 1000 < ms)
		ms = left > 0 ? (int)(left / 1000) + 1 : 0;
	if (rn->in >= 0)
		pfd[n++] = (struct pollfd){ rn->in, POLLOUT, 0 };
	if (rn->out >= 0)
		pfd[n++] = (struct pollfd){ rn->out, POLLIN, 0 };
	if (poll(pfd, (nfds_t)n, ms) > 0) {
		pipe_feed(rn);
		pipe_drain(rn);
	}
	if (waitpid(rn->pid, &rn->status, WNOHANG) == rn->pid)
		rn->reaped = 1;
}

/* pipe_kill - end the command's whole process group */
static void pipe_kill(struct run *rn)
{
	kill(-rn->pid, SIGKILL);
	kill(rn->pid, SIGKILL);
	while (waitpid(rn->pid, &rn->status, 0) < 0 && errno == EINTR)
		;
	rn->reaped = 1;
}

/* pipe_first_line - the first line of the output, without its end */
static void pipe_first_line(const struct run *rn, char *buf, size_t len)
{
	const char *nl = memchr(rn->output, '\n', rn->nout);
	size_t n = nl ? (size_t)(nl - rn->output) : rn->nout;

	if (n > 0 && rn->output[n - 1] == '\r')
		n--;
	snprintf(buf, len, "%.*s", (int)n, rn->output);
}

/* pipe_exit_status - a failed command's outcome, from Postfix's
   sys_exits table: EX_OSERR and EX_TEMPFAIL defer, the rest fail */
static void pipe_exit_status(int code, const char *output,
    struct local_status *st)
{
	static const struct { int code; const char *dsn, *words; } tab[] = {
		{ EX_USAGE, "5.3.0", "command line usage error" },
		{ EX_DATAERR, "5.6.0", "data format error" },
		{ EX_NOINPUT, "5.3.0", "cannot open input" },
		{ EX_NOUSER, "5.1.1", "user unknown" },
		{ EX_NOHOST, "5.1.2", "host name unknown" },
		{ EX_UNAVAILABLE, "5.3.0", "service unavailable" },
		{ EX_SOFTWARE, "5.3.0", "internal software error" },
		{ EX_OSERR, "4.3.0", "system resource problem" },
		{ EX_OSFILE, "5.3.0", "critical OS file missing" },
		{ EX_CANTCREAT, "5.2.0", "cannot create output file" },
		{ EX_IOERR, "5.3.0", "input/output error" },
		{ EX_TEMPFAIL, "4.3.0", "temporary failure" },
		{ EX_PROTOCOL, "5.5.0", "remote error in protocol" },
		{ EX_NOPERM, "5.7.0", "permission denied" },
		{ EX_CONFIG, "5.3.5", "local configuration error" },
	};
	const char *dsn = "5.3.0", *words = "unknown error";
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].code == code) {
			dsn = tab[i].dsn;
			words = tab[i].words;
		}
	local_status_set(st, dsn[0] == '4' ? LOCAL_DEFER : LOCAL_FAIL, dsn,
	    "command exited with status %d (%s)%s%s", code, words,
	    *output ? ": " : "", output);
}

/* pipe_outcome - the status of a finished command */
static void pipe_outcome(const struct job_cmd *jc, struct run *rn,
    struct local_status *st)
{
	char line[LOCAL_OUTPUT_MAX + 1];

	pipe_first_line(rn, line, sizeof(line));
	if (rn->read_err)
		local_status_errno(st, rn->read_err, "cannot read the message");
	else if (WIFSIGNALED(rn->status))
		local_status_set(st, LOCAL_DEFER, "4.3.0", "command was killed "
		    "by signal %d%s%s", WTERMSIG(rn->status), *line ? ": " : "",
		    line);
	else if (WEXITSTATUS(rn->status) != 0)
		pipe_exit_status(WEXITSTATUS(rn->status), line, st);
	else if (rn->write_err && rn->write_err != EPIPE)
		local_status_errno(st, rn->write_err,
		    "error writing to command");
	else
		local_status_set(st, LOCAL_OK, "2.0.0",
		    "delivered to command: %.200s", jc->cmd);
}

/* pipe_run - start, feed, wait for and judge the command */
static void pipe_run(struct run *rn, const struct job_cmd *jc,
    char *const envp[], struct local_status *st)
{
	const struct local_job *job = jc->job;

	if (pipe_start(rn, job, jc->cmd, envp) < 0) {
		local_status_errno(st, errno, "cannot run command");
		return;
	}
	rn->deadline = timeutil_monotonic() +
	    (int64_t)job->command_limit * 1000000;
	while (!rn->reaped && timeutil_monotonic() < rn->deadline &&
	    !rn->read_err)
		pipe_wait(rn);
	if (!rn->reaped) {
		pipe_kill(rn);
		if (!rn->read_err) {
			log_warn("command \"%s\" for %s ran for longer than %d "
			    "seconds: killed", jc->cmd, job->pw.name,
			    job->command_limit);
			local_status_set(st, LOCAL_DEFER, "4.3.0", "command "
			    "time limit of %d seconds exceeded",
			    job->command_limit);
			return;
		}
	}
	pipe_drain(rn);
	pipe_outcome(jc, rn, st);
}

/* local_pipe_run - deliver one copy to a command */
void local_pipe_run(struct local_job *job, const struct local_rcpt *r,
    const char *cmd, struct local_status *st)
{
	struct strbuf env = STRBUF_INIT(4 * PATH_MAX + 8 * ADDRESS_BUF);
	char *envp[ENV_MAX + 1];
	struct job_cmd jc = { job, cmd };
	struct run rn;

	memset(&rn, 0, sizeof(rn));
	rn.in = rn.out = -1;
	if (pipe_env(job, r, &env, envp) < 0 ||
	    local_copy_init(&rn.copy, job, r->addr, 0) < 0) {
		local_status_set(st, LOCAL_DEFER, "4.3.0", "out of memory");
	} else {
		pipe_run(&rn, &jc, envp, st);
	}
	pipe_close(&rn.in);
	pipe_close(&rn.out);
	local_copy_release(&rn.copy);
	strbuf_release(&env);
}
