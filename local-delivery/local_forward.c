/*
 * local_forward - the user's ~/.forward.
 *
 * Called by local_deliver.c for action "mailbox" unless the job says
 * noforward. The file is read as the user from the home directory in
 * passwd, only when it is safe: a regular file with one link, owned by
 * the user or root, not group- or world-writable, no larger than
 * LOCAL_FORWARD_SIZE_MAX, in a home directory that others cannot write.
 * Anything else defers with 4.7.0 and an "unsafe .forward" log line for
 * the administrator (qmail and Postfix refuse the same files).
 *
 * Syntax: one or more entries per line, separated by commas; blank lines
 * and lines (or the rest of a line) starting with '#' are comments; an
 * entry may be put in double quotes to hold commas. Entries:
 *   |command   run with /bin/sh -c (unquoted, it takes the rest of the
 *              line, commas and all)
 *   /path      append to this mbox file; /path/ is a Maildir
 *   \user      the user's own name: deliver to the own mailbox without
 *              forwarding again (another name is an address)
 *   address    forwarded: returned to the queue manager as fwd=; a bare
 *              local part gets the recipient's domain; the recipient's
 *              own address counts as \user
 * :include: is not supported and defers. The whole file is parsed before
 * anything is delivered, so a typo defers without a partial delivery.
 *
 * Trust: the file is the user's and hostile: bounded, no NUL bytes, every
 * address parsed strictly, nothing of it logged unescaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address.h"
#include "fsio.h"
#include "local.h"
#include "log.h"

enum fwd_kind { FWD_ADDR, FWD_PIPE, FWD_FILE, FWD_SELF };

struct fwd_entry {
	enum fwd_kind kind;
	char *value;		/* into the text, or owned (addresses) */
};

struct forward {
	char *text;		/* the file, NUL-terminated */
	size_t len;
	struct fwd_entry *v;
	size_t n;
	char path[PATH_MAX];
};

/* forward_unsafe - refuse the file: log, defer 4.7.0 */
static int forward_unsafe(struct forward *fw, const char *why,
    struct local_status *st)
{
	log_warn("unsafe .forward %s: %s: delivery deferred", fw->path, why);
	local_status_set(st, LOCAL_DEFER, "4.7.0", "unsafe .forward file: %s",
	    why);
	return -1;
}

/* forward_check - the open file is one the user alone controls */
static int forward_check(struct forward *fw, int fd, struct local_status *st)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0) {
		local_status_errno(st, errno, "cannot stat %s", fw->path);
		return -1;
	}
	if (!S_ISREG(sb.st_mode))
		return forward_unsafe(fw, "not a regular file", st);
	if (sb.st_uid != getuid() && sb.st_uid != 0)
		return forward_unsafe(fw, "owned by another user", st);
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		return forward_unsafe(fw, "group- or world-writable", st);
	if (sb.st_nlink != 1)
		return forward_unsafe(fw, "more than one hard link", st);
	if (sb.st_size > LOCAL_FORWARD_SIZE_MAX)
		return forward_unsafe(fw, "larger than 64 KB", st);
	return 0;
}

/* forward_slurp - read the whole (small, checked) file */
static int forward_slurp(struct forward *fw, int fd, struct local_status *st)
{
	ssize_t r;

	if ((fw->text = malloc(LOCAL_FORWARD_SIZE_MAX + 2)) == NULL) {
		local_status_set(st, LOCAL_DEFER, "4.3.0", "out of memory");
		return -1;
	}
	while ((r = fsio_read(fd, fw->text + fw->len,
	    LOCAL_FORWARD_SIZE_MAX + 1 - fw->len)) > 0)
		fw->len += (size_t)r;
	if (r < 0) {
		local_status_errno(st, errno, "cannot read %s", fw->path);
		return -1;
	}
	fw->text[fw->len] = '\0';
	if (fw->len > LOCAL_FORWARD_SIZE_MAX)
		return forward_unsafe(fw, "larger than 64 KB", st);
	if (memchr(fw->text, '\0', fw->len) != NULL)
		return forward_unsafe(fw, "holds NUL bytes", st);
	return 0;
}

/* forward_open - the .forward descriptor: fd, -2 when there is none,
   -1 when refused (st set) */
static int forward_open(struct forward *fw, int home,
    struct local_status *st)
{
	struct stat sb;
	int fd;

	if (fstat(home, &sb) < 0) {
		local_status_errno(st, errno, "cannot stat the home directory");
		return -1;
	}
	fd = fsio_openat(home, ".forward", O_RDONLY | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0 && errno == ENOENT)
		return -2;
	if (fd < 0 && errno == ELOOP)
		return forward_unsafe(fw, "a symbolic link", st);
	if (fd < 0) {
		local_status_errno(st, errno, "cannot open %s", fw->path);
		return -1;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		close(fd);
		return forward_unsafe(fw, "the home directory is writable by "
		    "others", st);
	}
	return fd;
}

/* forward_read - 1 (text read), 0 (no .forward), -1 (refused, st) */
static int forward_read(struct local_job *job, struct forward *fw,
    struct local_status *st)
{
	int home, fd, rc = -1;

	if (snprintf(fw->path, sizeof(fw->path), "%s/.forward",
	    job->pw.home) >= (int)sizeof(fw->path))
		return 0;	/* no such file can exist */
	home = fsio_openat(AT_FDCWD, job->pw.home, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC, 0);
	if (home < 0 && (errno == ENOENT || errno == ENOTDIR))
		return 0;
	if (home < 0) {
		local_status_errno(st, errno, "cannot open the home directory "
		    "%s", job->pw.home);
		return -1;
	}
	fd = forward_open(fw, home, st);
	close(home);
	if (fd == -2)
		return 0;
	if (fd < 0)
		return -1;
	if (forward_check(fw, fd, st) == 0 && forward_slurp(fw, fd, st) == 0)
		rc = 1;
	close(fd);
	return rc;
}

/* forward_bad - a malformed file defers until the user fixes it */
static int forward_bad(struct forward *fw, int lineno, const char *why,
    struct local_status *st)
{
	log_warn("%s line %d: %s: delivery deferred", fw->path, lineno, why);
	local_status_set(st, LOCAL_DEFER, "4.7.0",
	    "malformed .forward file, line %d: %s", lineno, why);
	return -1;
}

/* forward_address - parse an address entry; it may turn out to be the
   recipient itself */
static int forward_address(const struct local_rcpt *r, const char *tok,
    struct fwd_entry *e, const char **why_r)
{
	const char *at = strrchr(r->addr, '@');
	struct address a;

	if (address_parse_qualified(tok, strlen(tok), ADDRESS_ALLOW_ANGLE,
	    at ? at + 1 : "localhost", &a, why_r) < 0)
		return -1;
	if (strcasecmp(a.text, r->addr) == 0 ||
	    (r->orig && strcasecmp(a.text, r->orig) == 0)) {
		e->kind = FWD_SELF;
		return 0;
	}
	e->kind = FWD_ADDR;
	if ((e->value = strdup(a.text)) == NULL) {
		*why_r = "out of memory";
		return -1;
	}
	return 0;
}

/* forward_classify - what one entry is */
static int forward_classify(const struct local_job *job,
    const struct local_rcpt *r, char *tok, struct fwd_entry *e,
    const char **why_r)
{
	e->value = tok;
	if (*tok == '|') {
		e->kind = FWD_PIPE;
		e->value = tok + 1 + strspn(tok + 1, " \t");
		*why_r = "empty command";
		return *e->value ? 0 : -1;
	}
	if (*tok == '/') {
		e->kind = FWD_FILE;
		return 0;
	}
	if (*tok == '\\' && strcmp(tok + 1, job->pw.name) == 0) {
		e->kind = FWD_SELF;
		return 0;
	}
	if (strncasecmp(tok, ":include:", 9) == 0) {
		*why_r = ":include: is not supported in .forward";
		return -1;
	}
	return forward_address(r, *tok == '\\' ? tok + 1 : tok, e, why_r);
}

/* forward_entry - add one entry */
static int forward_entry(struct forward *fw, const struct local_job *job,
    const struct local_rcpt *r, char *tok, int lineno,
    struct local_status *st)
{
	const char *why;
	size_t n = strlen(tok);

	while (n > 0 && (tok[n - 1] == ' ' || tok[n - 1] == '\t' ||
	    tok[n - 1] == '\r'))
		tok[--n] = '\0';
	if (n == 0)
		return 0;
	if (fw->n == LOCAL_FORWARD_ENTRIES)
		return forward_bad(fw, lineno, "too many entries", st);
	if (fw->v == NULL &&
	    (fw->v = calloc(LOCAL_FORWARD_ENTRIES, sizeof(*fw->v))) == NULL)
		return forward_bad(fw, lineno, "out of memory", st);
	if (forward_classify(job, r, tok, &fw->v[fw->n], &why) < 0)
		return forward_bad(fw, lineno, why, st);
	fw->n++;
	return 0;
}

/* forward_line - split one line into entries */
static int forward_line(struct forward *fw, const struct local_job *job,
    const struct local_rcpt *r, char *p, int lineno, struct local_status *st)
{
	char *tok;

	for (;;) {
		p += strspn(p, " \t\r,");
		if (*p == '\0' || *p == '#')
			return 0;
		tok = p;
		if (*p == '"') {
			tok = ++p;
			if ((p = strchr(p, '"')) == NULL)
				return forward_bad(fw, lineno,
				    "unbalanced quote", st);
			*p++ = '\0';
		} else if (*p == '|') {
			p += strlen(p);
		} else {
			p += strcspn(p, ",");
			if (*p != '\0')
				*p++ = '\0';
		}
		if (forward_entry(fw, job, r, tok, lineno, st) < 0)
			return -1;
	}
}

/* forward_parse - every line of the file */
static int forward_parse(struct forward *fw, const struct local_job *job,
    const struct local_rcpt *r, struct local_status *st)
{
	char *line = fw->text, *end = fw->text + fw->len, *nl;
	int lineno = 0;

	while (line < end) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) != NULL)
			*nl = '\0';
		if (forward_line(fw, job, r, line, ++lineno, st) < 0)
			return -1;
		line = nl ? nl + 1 : end;
	}
	return 0;
}

/* forward_seen - entry i repeats an earlier one */
static int forward_seen(const struct forward *fw, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (fw->v[j].kind == fw->v[i].kind && (fw->v[i].kind ==
		    FWD_SELF || strcmp(fw->v[j].value, fw->v[i].value) == 0))
			return 1;
	return 0;
}

/* forward_add - one more address for the queue manager */
static void forward_add(struct local_job *job, struct local_rcpt *r,
    const char *addr, struct local_status *st)
{
	const char *p = strbuf_str(&r->fwd), *end = p + r->fwd.len;

	for (; p < end; p += strlen(p) + 1)
		if (strcasecmp(p, addr) == 0)
			return;
	if (job->nfwd >= LOCAL_FWD_MAX || strbuf_appends(&r->fwd, addr) < 0 ||
	    strbuf_appendc(&r->fwd, '\0') < 0) {
		local_status_set(st, LOCAL_DEFER, "4.3.0",
		    "too many forwarding addresses");
		return;
	}
	r->nfwd++;
	job->nfwd++;
}

/* forward_run - do every entry; st ends with the worst outcome */
static void forward_run(struct local_job *job, struct local_rcpt *r,
    const struct forward *fw, struct local_status *st)
{
	struct local_status one;
	size_t i;

	local_status_set(st, LOCAL_OK, "2.0.0", "%s", "");
	for (i = 0; i < fw->n; i++) {
		if (forward_seen(fw, i))
			continue;
		local_status_set(&one, LOCAL_OK, "2.0.0", "%s", "");
		switch (fw->v[i].kind) {
		case FWD_ADDR:
			forward_add(job, r, fw->v[i].value, &one);
			break;
		case FWD_SELF:
			local_deliver_own(job, r, &one);
			break;
		case FWD_FILE:
			local_deliver_path(job, r, fw->v[i].value, NULL, &one);
			break;
		case FWD_PIPE:
			local_pipe_run(job, r, fw->v[i].value, &one);
			break;
		}
		local_status_merge(st, &one);
	}
}

/* local_forward - deliver through ~/.forward when there is one */
int local_forward(struct local_job *job, struct local_rcpt *r,
    struct local_status *st)
{
	struct forward fw;
	int rc;
	size_t i;

	memset(&fw, 0, sizeof(fw));
	if ((rc = forward_read(job, &fw, st)) > 0) {
		if (forward_parse(&fw, job, r, st) < 0)
			rc = 1;		/* refused: st says why */
		else if (fw.n == 0)
			rc = 0;		/* empty: as if there were none */
		else
			forward_run(job, r, &fw, st);
	} else if (rc < 0) {
		rc = 1;
	}
	for (i = 0; i < fw.n; i++)
		if (fw.v[i].kind == FWD_ADDR)
			free(fw.v[i].value);
	free(fw.v);
	free(fw.text);
	return rc;
}
