/*
 * qmgr_import - checking one maildrop file and adding it to the queue.
 *
 * The file is hostile input: opened with O_NOFOLLOW and O_NONBLOCK (a
 * FIFO planted in the maildrop cannot block the queue manager), it must
 * be a regular file with one link; the envelope is parsed strictly and
 * every address checked again; the content is copied in 64 KiB pieces
 * (never read whole into memory) and scanned for 8-bit bytes. The
 * message's owner is the file's owner, whatever the envelope claims.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address.h"
#include "maildrop.h"
#include "qmgr.h"
#include "queue.h"

#define PIECE 65536

/* check_text - printable ASCII only (ENVID, ORCPT) */
static int check_text(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (*s < 0x21 || *s > 0x7e)
			return -1;
	return 0;
}

/* check_envelope - every address and field of the envelope; the smtputf8
   flag into *flags */
static const char *check_envelope(const struct maildrop *md,
    struct address *sender, unsigned *flags)
{
	struct address a;
	const char *why;
	size_t i;

	if (address_parse(md->sender, strlen(md->sender), ADDRESS_ALLOW_NULL,
	    sender, &why) < 0)
		return "bad sender address";
	if (sender->flags & ADDRESS_UTF8)
		*flags |= QUEUE_MSG_SMTPUTF8;
	for (i = 0; i < md->nrcpt; i++) {
		if (address_parse(md->rcpts[i].addr, strlen(md->rcpts[i].addr),
		    0, &a, &why) < 0 || strcmp(a.text, md->rcpts[i].addr) != 0)
			return "bad recipient address";
		if (a.flags & ADDRESS_UTF8)
			*flags |= QUEUE_MSG_SMTPUTF8;
		if (check_text(md->rcpts[i].orcpt) < 0)
			return "bad ORCPT";
	}
	if (check_text(md->envid) < 0)
		return "bad ENVID";
	return NULL;
}

/* add_rcpts - the recipients of md */
static int add_rcpts(struct queue_add *a, const struct maildrop *md)
{
	struct queue_new_rcpt r;
	size_t i;
	int st;

	for (i = 0; i < md->nrcpt; i++) {
		memset(&r, 0, sizeof(r));
		r.addr = md->rcpts[i].addr;
		r.orig = md->rcpts[i].orig;
		r.orcpt = md->rcpts[i].orcpt;
		r.flags = md->rcpts[i].notify;
		r.parent = QUEUE_NO_PARENT;
		if ((st = queue_add_rcpt(a, &r)) != QUEUE_OK)
			return st;
	}
	return QUEUE_OK;
}

/* add_content - copy the content (the store notes 8-bit bytes) */
static int add_content(struct queue_add *a, int fd, const struct maildrop *md,
    const char **why)
{
	static char buf[PIECE];
	uint64_t left = md->content_len;
	off_t off = md->content_off;
	ssize_t n;
	int st;

	while (left > 0) {
		n = pread(fd, buf, left < PIECE ? (size_t)left : PIECE, off);
		if (n <= 0)
			return *why = "cannot read the content", QUEUE_ERROR;
		if ((st = queue_add_content(a, buf, (size_t)n)) != QUEUE_OK)
			return st;
		off += n;
		left -= (uint64_t)n;
	}
	return QUEUE_OK;
}

/* store - add the checked message to the transaction */
static enum import_status store(struct queue_txn *t, int fd, const char *name,
    const struct maildrop *md, const struct stat *st,
    struct import_result *r)
{
	struct queue_new_msg m;
	struct queue_add *a;
	unsigned flags = md->ret;
	struct address sender;
	int s;

	if ((r->why = check_envelope(md, &sender, &flags)) != NULL)
		return IMPORT_BAD;
	memset(&m, 0, sizeof(m));
	m.sender = sender.text;
	m.arrival = md->arrival;
	m.flags = flags;
	m.uid = (uint32_t)st->st_uid;
	m.envid = md->envid;
	m.from = md->from;
	m.subject = md->subject;
	m.msgid = md->msgid;
	m.drop_name = name;
	if ((s = queue_add_begin(t, &m, &a)) == QUEUE_OK &&
	    (s = add_rcpts(a, md)) == QUEUE_OK &&
	    (s = add_content(a, fd, md, &r->why)) == QUEUE_OK)
		s = queue_add_end(&a, &r->id);
	else
		queue_add_abandon(&a);
	if (s == QUEUE_TEMP)
		return IMPORT_TEMP;
	if (s != QUEUE_OK)
		return r->why ? IMPORT_BAD : (r->why = "refused by the queue",
		    IMPORT_BAD);
	r->uid = (long)st->st_uid;
	r->size = md->content_len;
	r->nrcpt = md->nrcpt;
	memcpy(r->sender, sender.text, sizeof(r->sender));
	return IMPORT_OK;
}

/* open_file - open and check a maildrop file; fd or -1 with r->why
   (NULL when the file is simply gone) */
static int open_file(int dirfd, const char *name, struct stat *st,
    struct import_result *r)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);

	r->why = NULL;
	if (fd < 0) {
		if (errno != ENOENT)
			r->why = errno == ELOOP ? "is a symbolic link" :
			    "cannot be opened";
		return -1;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode))
		r->why = "not a regular file";
	else if (st->st_nlink != 1)
		r->why = "has more than one link";
	if (r->why != NULL) {
		close(fd);
		return -1;
	}
	return fd;
}

/* import_file - one maildrop file into the transaction */
enum import_status import_file(struct queue_txn *t, int dirfd,
    const char *name, struct import_result *r)
{
	struct maildrop md;
	struct stat st;
	enum import_status s;
	uint64_t id;
	int fd, q;

	memset(r, 0, sizeof(*r));
	if (strlen(name) >= MAILDROP_NAME_MAX)
		return r->why = "file name too long", IMPORT_BAD;
	if ((q = queue_dropped_lookup(t, name, &id)) == QUEUE_OK)
		return IMPORT_SEEN;
	if (q != QUEUE_NOTFOUND)
		return IMPORT_TEMP;
	if ((fd = open_file(dirfd, name, &st, r)) < 0)
		return r->why ? IMPORT_BAD : IMPORT_GONE;
	/* The injector applied message_size_limit and recipient_limit when
	   it accepted the message; a file accepted under an older, larger
	   limit is still accepted mail. Here only the format's own bounds
	   apply. */
	if (maildrop_read(fd, st.st_size, MAILDROP_RCPT_MAX, &md, &r->why) < 0)
		s = IMPORT_BAD;
	else
		s = store(t, fd, name, &md, &st, r);
	maildrop_release(&md);
	close(fd);
	return s;
}
