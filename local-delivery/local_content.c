/*
 * local_content - the message as postern-local reads and writes it.
 *
 * The content is a sealed memfd from the queue manager (checked by
 * local_job.c, so its size cannot change). It is read with pread in
 * chunks of LOCAL_CHUNK bytes, never whole: a 50 MB message costs the
 * worker two buffers, not 50 MB.
 *
 * local_content_scan reads the header section once and remembers every
 * Delivered-To value (unfolded, trimmed, bounded), so that each recipient
 * can be checked for a mail loop. local_copy hands out a delivery's copy
 * chunk by chunk: Return-Path and Delivered-To, then the content; for an
 * mbox, the From_ line first, ">From " quoting (mboxrd: a line matching
 * ^>*From  gets one more '>') and an empty line at the end.
 *
 * Trust: the content is the sender's, so every header line is bounded
 * and nothing in it is interpreted beyond the Delivered-To comparison.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "fsio.h"
#include "local.h"
#include "rfc822.h"

#define HEADER_LINE_MAX 1024	/* longer header lines are not compared */

/* Header scanning state. */
struct scan {
	struct local_job *job;
	char line[HEADER_LINE_MAX];
	size_t len;
	int overlong;		/* the line did not fit in line[] */
	int in_dt;		/* the current field is Delivered-To */
	struct strbuf field;	/* its unfolded value */
	int done;
};

/* content_read - pread n bytes at off (short only at the end) */
static ssize_t content_read(const struct local_job *job, void *buf,
    size_t n, off_t off)
{
	ssize_t r;

	if (off >= job->size)
		return 0;
	if ((off_t)n > job->size - off)
		n = (size_t)(job->size - off);
	do
		r = pread(job->fd, buf, n, off);
	while (r < 0 && errno == EINTR);
	if (r == 0 && n > 0) {
		errno = EIO;	/* a sealed memfd cannot shrink */
		return -1;
	}
	return r;
}

/* scan_finish - the current field is complete */
static void scan_finish(struct scan *s)
{
	const char *v = strbuf_str(&s->field);
	size_t n = s->field.len;

	if (s->in_dt && strbuf_ok(&s->field)) {
		while (n > 0 && (*v == ' ' || *v == '\t'))
			v++, n--;
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' ||
		    v[n - 1] == '\r'))
			n--;
		/* A value longer than any address cannot match one. */
		if (n <= ADDRESS_MAX && memchr(v, '\0', n) == NULL &&
		    s->job->dt.len < LOCAL_DT_MAX * (ADDRESS_MAX + 1)) {
			strbuf_append(&s->job->dt, v, n);
			strbuf_appendc(&s->job->dt, '\0');
		}
	}
	s->in_dt = 0;
	strbuf_reset(&s->field);
}

/* scan_line - one complete physical header line */
static void scan_line(struct scan *s)
{
	size_t namelen;

	if (s->len == 0 && !s->overlong) {
		scan_finish(s);
		s->done = 1;
	} else if (rfc822_is_continuation(s->line, s->len)) {
		if (s->in_dt && (s->overlong ||
		    strbuf_append(&s->field, s->line, s->len) < 0))
			s->field.failed = 1;
	} else if ((namelen = rfc822_field_name_len(s->line, s->len)) > 0) {
		scan_finish(s);
		s->in_dt = rfc822_name_is(s->line, namelen, "Delivered-To");
		if (s->in_dt && (s->overlong || strbuf_append(&s->field,
		    s->line + namelen + 1, s->len - namelen - 1) < 0))
			s->field.failed = 1;
	} else {
		scan_finish(s);
		s->done = 1;	/* not a header line: the body starts */
	}
	s->len = 0;
	s->overlong = 0;
}

/* scan_bytes - feed n bytes of the message */
static void scan_bytes(struct scan *s, const char *p, size_t n)
{
	const char *nl;
	size_t take;

	while (n > 0 && !s->done) {
		nl = memchr(p, '\n', n);
		take = nl ? (size_t)(nl - p) : n;
		if (take > sizeof(s->line) - s->len) {
			memcpy(s->line + s->len, p, sizeof(s->line) - s->len);
			s->len = sizeof(s->line);
			s->overlong = 1;
		} else {
			memcpy(s->line + s->len, p, take);
			s->len += take;
		}
		if (nl == NULL)
			return;
		scan_line(s);
		p += take + 1;
		n -= take + 1;
	}
}

/* local_content_scan - remember the Delivered-To values */
int local_content_scan(struct local_job *job)
{
	struct scan s;
	char *buf = malloc(LOCAL_CHUNK);
	off_t off = 0;
	ssize_t r = 0;

	if (buf == NULL)
		return -1;
	memset(&s, 0, sizeof(s));
	s.job = job;
	strbuf_init(&s.field, HEADER_LINE_MAX);
	while (!s.done && (r = content_read(job, buf, LOCAL_CHUNK, off)) > 0) {
		scan_bytes(&s, buf, (size_t)r);
		off += r;
	}
	if (!s.done)
		scan_finish(&s);
	strbuf_release(&s.field);
	free(buf);
	return r < 0 ? -1 : 0;
}

/* local_content_loops - addr is already among the Delivered-To values */
int local_content_loops(const struct local_job *job, const char *addr)
{
	const char *p = strbuf_str(&job->dt), *end = p + job->dt.len;

	for (; p < end; p += strlen(p) + 1)
		if (strcasecmp(p, addr) == 0)
			return 1;
	return 0;
}

/* copy_prefix - From_ line (mbox), Return-Path and Delivered-To */
static int copy_prefix(struct local_copy *c)
{
	const char *sender = c->job->sender;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	if (c->mbox) {
		localtime_r(&now, &tm);
		/* asctime's layout; the C locale's English names */
		strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
		strbuf_appendf(&c->out, "From %s %s\n",
		    *sender ? sender : "MAILER-DAEMON", date);
	}
	strbuf_appendf(&c->out, "Return-Path: <%s>\nDelivered-To: %s\n",
	    sender, c->addr);
	return strbuf_ok(&c->out) ? 0 : -1;
}

/* from_line_at - the content line starting at off matches ^>*From  */
static int from_line_at(const struct local_copy *c, off_t off)
{
	char buf[512];
	ssize_t r, i;

	for (;;) {
		if ((r = content_read(c->job, buf, sizeof(buf), off)) <= 0)
			return (int)r;
		for (i = 0; i < r && buf[i] == '>'; i++)
			;
		if (i < r)
			break;
		off += r;
	}
	if ((r = content_read(c->job, buf, 5, off + i)) < 0)
		return -1;
	return r == 5 && memcmp(buf, "From ", 5) == 0;
}

/* from_line - the line at p (n bytes available, content offset off)
   needs quoting: 1, 0, or -1 with errno */
static int from_line(const struct local_copy *c, const char *p, size_t n,
    off_t off)
{
	size_t i = 0;

	while (i < n && p[i] == '>')
		i++;
	if (n - i >= 5)
		return memcmp(p + i, "From ", 5) == 0;
	if (memcmp(p + i, "From ", n - i) != 0)
		return 0;
	/* The chunk ends inside the pattern: look further in the file. */
	return from_line_at(c, off);
}

/* copy_quote - n content bytes at p, with mboxrd quoting, into out */
static int copy_quote(struct local_copy *c, const char *p, size_t n)
{
	const char *nl;
	size_t i = 0, start;
	int m;

	while (i < n) {
		if (c->bol) {
			if ((m = from_line(c, p + i, n - i, c->off + (off_t)i))
			    < 0)
				return -1;
			if (m)
				strbuf_appendc(&c->out, '>');
		}
		start = i;
		nl = memchr(p + i, '\n', n - i);
		i = nl ? (size_t)(nl - p) + 1 : n;
		strbuf_append(&c->out, p + start, i - start);
		c->bol = nl != NULL;
	}
	return 0;
}

/* local_copy_init - start a copy of the message for addr */
int local_copy_init(struct local_copy *c, const struct local_job *job,
    const char *addr, int mbox)
{
	memset(c, 0, sizeof(*c));
	c->job = job;
	c->addr = addr;
	c->mbox = mbox;
	c->bol = c->last_nl = 1;
	strbuf_init(&c->out, 2 * LOCAL_CHUNK + 2 * ADDRESS_MAX + 256);
	if ((c->raw = malloc(LOCAL_CHUNK)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* copy_content - the next content chunk: 1, 0 at its end, -1 */
static int copy_content(struct local_copy *c, const char **p, size_t *n)
{
	ssize_t r = content_read(c->job, c->raw, LOCAL_CHUNK, c->off);

	if (r <= 0)
		return (int)r;
	c->last_nl = c->raw[r - 1] == '\n';
	if (!c->mbox) {
		*p = c->raw;
		*n = (size_t)r;
	} else {
		if (copy_quote(c, c->raw, (size_t)r) < 0)
			return -1;
		*p = strbuf_str(&c->out);
		*n = c->out.len;
	}
	c->off += r;
	return 1;
}

/* local_copy_next - hand out the next chunk of the copy */
int local_copy_next(struct local_copy *c, const char **p, size_t *n)
{
	int rc;

	strbuf_reset(&c->out);
	for (;;) {
		switch (c->stage) {
		case 0:
			c->stage = 1;
			if (copy_prefix(c) < 0) {
				errno = ENOMEM;
				return -1;
			}
			*p = strbuf_str(&c->out);
			*n = c->out.len;
			return 1;
		case 1:
			if ((rc = copy_content(c, p, n)) != 0)
				return rc;
			c->stage = c->mbox ? 2 : 3;
			break;
		case 2:
			c->stage = 3;
			strbuf_appends(&c->out, c->last_nl ? "\n" : "\n\n");
			*p = strbuf_str(&c->out);
			*n = c->out.len;
			return 1;
		default:
			return 0;
		}
	}
}

/* local_copy_release - free the buffers */
void local_copy_release(struct local_copy *c)
{
	strbuf_release(&c->out);
	free(c->raw);
	c->raw = NULL;
}

/* local_copy_to_fd - write a whole copy with fsio_write */
int local_copy_to_fd(const struct local_job *job, const char *addr,
    int mbox, int fd)
{
	struct local_copy c;
	const char *p;
	size_t n;
	int rc, saved;

	if (local_copy_init(&c, job, addr, mbox) < 0)
		return -1;
	while ((rc = local_copy_next(&c, &p, &n)) > 0)
		if (fsio_write(fd, p, n) < 0) {
			rc = -1;
			break;
		}
	saved = errno;
	local_copy_release(&c);
	errno = saved;
	return rc;
}
