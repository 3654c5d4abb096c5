/*
 * qmgr_pickup - importing the maildrop into the queue.
 *
 * Maildrop files are untrusted input (written by any local user through
 * the injector): each is opened without following symlinks, must be a
 * regular file with one link, and is parsed strictly (maildrop.h); every
 * address is checked again. A file that fails goes to corrupt/ with a
 * log line and the rest go on. Many files are imported per write
 * transaction (group commit); files are unlinked only after the commit.
 * The file name is stored with the message ("dropped"), so a crash
 * between commit and unlink imports nothing twice: the next run finds the
 * name and only unlinks the file. Names are forgotten once the unlinks
 * are durable (the maildrop directory fsynced). A temporary failure of
 * the queue (full, I/O) leaves every file in place for a later run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "config.h"
#include "fsio.h"
#include "log.h"
#include "maildrop.h"
#include "qmgr.h"
#include "queue.h"
#include "timeutil.h"

#define BATCH_FILES 256			/* files per transaction */
#define BATCH_BYTES (64u << 20)		/* content bytes per transaction */
#define SCAN_MAX 100000			/* names read per run */
#define TEMP_MAX_AGE (48 * 3600)	/* an injector this old is dead */
#define FULL_BACKOFF (10 * 1000000LL)	/* wait after the queue refused */

struct names {
	char **v;
	size_t n, cap;
};

struct done {				/* one imported message, for the log */
	uint64_t id;
	char name[MAILDROP_NAME_MAX];
	long uid;
	uint64_t size;
	size_t nrcpt;
	char sender[ADDRESS_BUF];
};

struct pickup {
	struct qmgr *q;
	int dirfd;			/* maildrop/ */
	int corruptfd;			/* corrupt/ */
	struct names forget;		/* unlinked for sure: forget them */
	struct done *done;		/* this batch's imports */
	size_t ndone;
	struct names unlink;		/* this batch's files to remove */
};

/* names_add - remember a copy of name */
static int names_add(struct names *s, const char *name)
{
	char *copy;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **v = reallocarray(s->v, cap, sizeof(*v));

		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	if ((copy = strdup(name)) == NULL)
		return -1;
	s->v[s->n++] = copy;
	return 0;
}

/* names_clear - forget every name */
static void names_clear(struct names *s)
{
	while (s->n > 0)
		free(s->v[--s->n]);
}

/* pickup_new - a pickup for q's maildrop */
struct pickup *pickup_new(struct qmgr *q)
{
	struct pickup *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->q = q;
	p->done = calloc(BATCH_FILES, sizeof(*p->done));
	p->dirfd = open(q->layout.maildrop, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	p->corruptfd = open(q->layout.corrupt, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (p->done == NULL || p->dirfd < 0 || p->corruptfd < 0) {
		log_error("cannot open %s or %s: %s", q->layout.maildrop,
		    q->layout.corrupt, strerror(errno));
		pickup_free(&p);
	}
	return p;
}

/* pickup_free - free and clear */
void pickup_free(struct pickup **pp)
{
	struct pickup *p = *pp;

	if (p == NULL)
		return;
	if (p->dirfd >= 0)
		close(p->dirfd);
	if (p->corruptfd >= 0)
		close(p->corruptfd);
	names_clear(&p->forget);
	names_clear(&p->unlink);
	free(p->forget.v);
	free(p->unlink.v);
	free(p->done);
	free(p);
	*pp = NULL;
}

/* sweep_one - at start: a remembered name whose file is still there was
   imported before a crash (unlink it); one that is gone can be forgotten */
static int sweep_one(void *ctx, const char *name)
{
	struct pickup *p = ctx;
	struct stat st;

	if (fstatat(p->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		fsio_unlinkat(p->dirfd, name, 0);
	return names_add(&p->forget, name) < 0 ? -1 : 0;
}

/* pickup_start - recover after a restart */
int pickup_start(struct pickup *p)
{
	struct queue_txn *t;

	if (queue_begin(p->q->queue, 0, &t) != QUEUE_OK)
		return -1;
	queue_dropped_list(t, sweep_one, p);
	queue_abort(&t);
	/* The unlinks, ours and those of before the restart, must be on
	   disk before the names are forgotten in the next commit. */
	if (fsync(p->dirfd) < 0) {
		names_clear(&p->forget);
		log_warn("cannot fsync %s: %s", p->q->layout.maildrop,
		    strerror(errno));
	}
	return 0;
}

/* move_aside - a file pickup refuses goes to corrupt/ */
static void move_aside(struct pickup *p, const char *name, const char *why)
{
	if (renameat(p->dirfd, name, p->corruptfd, name) < 0) {
		log_error("maildrop file %s: %s; cannot move it to %s: %s",
		    name, why, p->q->layout.corrupt, strerror(errno));
		return;
	}
	log_warn("maildrop file %s: %s; moved to %s", name, why,
	    p->q->layout.corrupt);
}

/* cmp_names - qsort order: by name, which is by arrival */
static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* old_temp - a temporary file whose injector must be dead */
static void old_temp(struct pickup *p, const char *name)
{
	struct stat st;

	if (fstatat(p->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_mtime < time(NULL) - TEMP_MAX_AGE &&
	    fsio_unlinkat(p->dirfd, name, 0) == 0)
		log_info("removed %s, left by an injector that did not finish",
		    name);
}

/* scan - the names in the maildrop, sorted */
static int scan(struct pickup *p, struct names *s)
{
	struct dirent *de;
	DIR *d;
	int fd = dup(p->dirfd);

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL && s->n < SCAN_MAX) {
		if (de->d_name[0] == '.')
			continue;
		if (strncmp(de->d_name, MAILDROP_TEMP_PREFIX,
		    strlen(MAILDROP_TEMP_PREFIX)) == 0)
			old_temp(p, de->d_name);
		else if (names_add(s, de->d_name) < 0)
			break;
	}
	closedir(d);
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_names);
	return 0;
}


/* forget_names - drop remembered names whose files are gone for certain */
static int forget_names(struct pickup *p, struct queue_txn *t)
{
	size_t i;

	for (i = 0; i < p->forget.n; i++)
		if (queue_dropped_forget(t, p->forget.v[i]) == QUEUE_TEMP)
			return -1;
	return 0;
}

/* take - import one file into the batch; -1 when the queue refused */
static int take(struct pickup *p, struct queue_txn *t, const char *name,
    uint64_t *bytes)
{
	struct import_result r;
	struct done *d;

	switch (import_file(t, p->dirfd, name, &r)) {
	case IMPORT_OK:
		d = &p->done[p->ndone++];
		d->id = r.id;
		d->uid = r.uid;
		d->size = r.size;
		d->nrcpt = r.nrcpt;
		memcpy(d->sender, r.sender, sizeof(d->sender));
		*bytes += r.size;
		return names_add(&p->unlink, name);
	case IMPORT_SEEN:
		return names_add(&p->unlink, name);
	case IMPORT_BAD:
		move_aside(p, name, r.why);
		return 0;
	case IMPORT_GONE:
		return 0;
	default:
		return -1;
	}
}

/* finish - after the commit: log, unlink, and make the unlinks durable so
   that the next commit may forget the names */
static void finish(struct pickup *p)
{
	char id[QUEUE_ID_TEXT + 1];
	size_t i;

	for (i = 0; i < p->ndone; i++) {
		queue_id_format(p->done[i].id, id);
		log_info("%s: uid=%ld from=<%s> size=%llu nrcpt=%zu (queued)",
		    id, p->done[i].uid, p->done[i].sender,
		    (unsigned long long)p->done[i].size, p->done[i].nrcpt);
	}
	fsio_crashpoint("pickup.after_commit");
	names_clear(&p->forget);
	for (i = 0; i < p->unlink.n; i++)
		if (fsio_unlinkat(p->dirfd, p->unlink.v[i], 0) < 0 &&
		    errno != ENOENT)
			log_warn("cannot remove maildrop file %s: %s",
			    p->unlink.v[i], strerror(errno));
	if (fsio_fsync(p->dirfd) == 0) {
		struct names tmp = p->forget;

		p->forget = p->unlink;
		p->unlink = tmp;
	}
	names_clear(&p->unlink);
}

/* batch - one transaction over names[from..]; how many names it used, or
   -1 when the queue refused */
static long batch(struct pickup *p, struct names *s, size_t from)
{
	struct queue_txn *t;
	uint64_t bytes = 0;
	size_t i;
	int st;

	p->ndone = 0;
	names_clear(&p->unlink);
	if (queue_begin(p->q->queue, 1, &t) != QUEUE_OK) {
		log_error("cannot begin a queue transaction: %s",
		    queue_error(p->q->queue));
		return -1;
	}
	if (forget_names(p, t) < 0)
		goto refused;
	for (i = from; i < s->n && p->ndone < BATCH_FILES &&
	    p->unlink.n < BATCH_FILES && bytes < BATCH_BYTES; i++)
		if (take(p, t, s->v[i], &bytes) < 0)
			goto refused;
	fsio_crashpoint("pickup.before_commit");
	if ((st = queue_commit(&t)) != QUEUE_OK) {
		log_error("cannot commit to the queue: %s; the maildrop files "
		    "stay for a later try", queue_error(p->q->queue));
		return -1;
	}
	finish(p);
	return (long)(i - from);
refused:
	log_error("the queue refused new messages: %s; %zu maildrop files "
	    "stay for a later try", queue_error(p->q->queue), s->n - from);
	queue_abort(&t);
	return -1;
}

/* pickup_run - import what is in the maildrop */
int pickup_run(struct pickup *p, int64_t *retry_r)
{
	struct names s = { NULL, 0, 0 };
	size_t from = 0;
	long used;
	int r = 0;

	*retry_r = 0;
	if (scan(p, &s) < 0) {
		log_error("cannot read %s: %s", p->q->layout.maildrop,
		    strerror(errno));
		return -1;
	}
	while (from < s.n || (from == 0 && p->forget.n > 0)) {
		if ((used = batch(p, &s, from)) < 0) {
			*retry_r = timeutil_monotonic() + FULL_BACKOFF;
			r = -1;
			break;
		}
		if (used == 0)
			break;
		from += (size_t)used;
	}
	names_clear(&s);
	free(s.v);
	return r;
}
