/*
 * ipc - framed attribute records with descriptor passing (see ipc.h).
 *
 * Callers: every process that talks to another over a Unix stream
 * socket: the queue manager, the spawner, the delivery workers, the
 * control socket and posternctl.
 *
 * Trust: nothing that arrives. A frame's length is checked against the
 * reader's limit from the header alone, before anything is allocated;
 * the input buffer never grows past one maximal frame; a payload must
 * decode as a strict attribute list. Descriptors arrive out of band, so
 * each is kept with the stream bytes its recvmsg returned and handed
 * only to a frame that claims one and whose header lies in those bytes;
 * any other descriptor is a protocol error and is closed, never leaked
 * and never given to a frame it did not come with. Once a reader has
 * seen a protocol error it reports the same error forever.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ipc.h"

#define IPC_READ_MIN 4096		/* least bytes asked of a recvmsg */

/* ipc_put_header - the 4-byte big-endian frame header */
static void ipc_put_header(unsigned char h[IPC_HEADER_LEN], uint32_t v)
{
	h[0] = (unsigned char)(v >> 24);
	h[1] = (unsigned char)(v >> 16);
	h[2] = (unsigned char)(v >> 8);
	h[3] = (unsigned char)v;
}

/* ipc_get_header - decode a frame header */
static uint32_t ipc_get_header(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
	    (uint32_t)u[2] << 8 | (uint32_t)u[3];
}

/* ipc_iov_from - the part of header + payload not yet sent */
static int ipc_iov_from(struct iovec iov[2], unsigned char *hdr,
    const struct strbuf *payload, size_t sent)
{
	int n = 0;

	if (sent < IPC_HEADER_LEN) {
		iov[n].iov_base = hdr + sent;
		iov[n++].iov_len = IPC_HEADER_LEN - sent;
		sent = 0;
	} else
		sent -= IPC_HEADER_LEN;
	if (payload->len > sent) {
		iov[n].iov_base = payload->s + sent;
		iov[n++].iov_len = payload->len - sent;
	}
	return n;
}

/* ipc_send - send one frame, with pass_fd on its first chunk */
int ipc_send(int fd, const struct strbuf *payload, int pass_fd)
{
	unsigned char hdr[IPC_HEADER_LEN];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg;
	struct cmsghdr *c;
	struct iovec iov[2];
	size_t sent = 0, total = IPC_HEADER_LEN + payload->len;
	ssize_t n;

	if (payload->len > IPC_FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	ipc_put_header(hdr, (uint32_t)payload->len |
	    (pass_fd >= 0 ? IPC_FD_FLAG : 0));
	while (sent < total) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)ipc_iov_from(iov, hdr, payload, sent);
		/* The descriptor rides with the header's first byte; once any
		   byte has gone, it has gone with it. */
		if (pass_fd >= 0 && sent == 0) {
			memset(&ctl, 0, sizeof(ctl));
			msg.msg_control = ctl.buf;
			msg.msg_controllen = sizeof(ctl.buf);
			c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
		}
		if ((n = sendmsg(fd, &msg, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		sent += (size_t)n;
	}
	return 0;
}

/* ipc_msg_release - free a received record */
void ipc_msg_release(struct ipc_msg *m)
{
	attr_list_release(&m->attrs);
	free(m->payload);
	m->payload = NULL;
	m->len = 0;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

/* ipc_reader_init - a reader on fd with a frame limit */
void ipc_reader_init(struct ipc_reader *r, int fd, size_t max_frame)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->max = max_frame < IPC_FRAME_MAX ? max_frame : IPC_FRAME_MAX;
	strbuf_init(&r->in, r->max + IPC_HEADER_LEN);
	r->error = NULL;
}

/* ipc_close_pending - close every unclaimed descriptor */
static void ipc_close_pending(struct ipc_reader *r)
{
	size_t i;

	for (i = 0; i < r->nfds; i++)
		close(r->fds[i]);
	r->nfds = 0;
}

/* ipc_reader_release - free the buffer, close unclaimed descriptors */
void ipc_reader_release(struct ipc_reader *r)
{
	strbuf_release(&r->in);
	ipc_close_pending(r);
}

/* ipc_fail - record a protocol error; the connection is finished */
static int ipc_fail(struct ipc_reader *r, const char *why,
    const char **reason_r)
{
	if (r->error == NULL)
		r->error = why;
	ipc_close_pending(r);
	*reason_r = r->error;
	return -1;
}

/* ipc_queue_fd - keep one arrived descriptor with the stream bytes
   [from, to) its recvmsg returned, or close it and record why */
static void ipc_queue_fd(struct ipc_reader *r, int fd, uint64_t from,
    uint64_t to, int truncated)
{
	const char *why = NULL;

	if (truncated)
		why = "descriptors truncated in transit";
	else if (from == to)
		why = "unexpected descriptor";
	else if (r->nfds == IPC_FDS_PENDING)
		why = "too many descriptors pending";
	if (why) {
		close(fd);
		if (r->error == NULL)
			r->error = why;
		return;
	}
	r->fd_from[r->nfds] = from;
	r->fd_to[r->nfds] = to;
	r->fds[r->nfds++] = fd;
}

/* ipc_take_fds - queue every descriptor of one recvmsg; -1 when the
   control data was truncated (all of them are then closed) */
static int ipc_take_fds(struct ipc_reader *r, struct msghdr *msg,
    uint64_t from, uint64_t to)
{
	int truncated = (msg->msg_flags & MSG_CTRUNC) != 0;
	struct cmsghdr *c;
	size_t i, k;
	int fd;

	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			ipc_queue_fd(r, fd, from, to, truncated);
		}
	}
	return truncated ? -1 : 0;
}

/* ipc_reader_fill - one recvmsg into the reader */
long ipc_reader_fill(struct ipc_reader *r)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * IPC_FDS_PENDING)];
	} ctl;
	struct msghdr msg;
	struct iovec iov;
	size_t room = r->in.max - r->in.len;
	size_t want = IPC_READ_MIN;
	uint64_t at = r->base + r->in.len;
	ssize_t n;

	if (room == 0) {
		errno = ENOBUFS;
		return -1;
	}
	/* Read into the space already allocated, at least IPC_READ_MIN:
	   the buffer then grows by doubling only as a frame needs it. */
	if (r->in.cap > r->in.len + 1 + IPC_READ_MIN)
		want = r->in.cap - r->in.len - 1;
	if (want < room)
		room = want;
	if (strbuf_reserve(&r->in, room) < 0) {
		errno = ENOMEM;
		return -1;
	}
	iov.iov_base = r->in.s + r->in.len;
	iov.iov_len = room;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	do
		n = recvmsg(r->fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	r->in.len += (size_t)n;
	r->in.s[r->in.len] = '\0';
	if (ipc_take_fds(r, &msg, at, at + (uint64_t)n) < 0) {
		errno = EPROTO;
		return -1;
	}
	return (long)n;
}

/* ipc_claim_fd - the descriptor for the frame of total bytes at
   r->base, which claims one when flagged: 0 (*fd_r set, -1 when
   unflagged), or -1 with *why_r */
static int ipc_claim_fd(struct ipc_reader *r, int flagged, size_t total,
    int *fd_r, const char **why_r)
{
	*fd_r = -1;
	if (!flagged) {
		/* A descriptor whose bytes end inside this frame cannot
		   belong to any later frame. */
		if (r->nfds > 0 && r->fd_to[0] <= r->base + total) {
			*why_r = "unexpected descriptor";
			return -1;
		}
		return 0;
	}
	if (r->nfds == 0 || r->fd_from[0] > r->base) {
		*why_r = "frame claims a descriptor that did not arrive";
		return -1;
	}
	*fd_r = r->fds[0];
	r->nfds--;
	memmove(r->fds, r->fds + 1, r->nfds * sizeof(r->fds[0]));
	memmove(r->fd_from, r->fd_from + 1, r->nfds * sizeof(r->fd_from[0]));
	memmove(r->fd_to, r->fd_to + 1, r->nfds * sizeof(r->fd_to[0]));
	return 0;
}

/* ipc_consume - drop the first total bytes of the input */
static void ipc_consume(struct ipc_reader *r, size_t total)
{
	memmove(r->in.s, r->in.s + total, r->in.len - total);
	strbuf_truncate(&r->in, r->in.len - total);
	r->base += total;
}

/* ipc_reader_next - take one complete frame, if there is one */
int ipc_reader_next(struct ipc_reader *r, struct ipc_msg *m,
    const char **reason_r)
{
	uint32_t h;
	size_t len, total;
	const char *why;
	int fd;

	if (r->error)
		return ipc_fail(r, r->error, reason_r);
	/* A descriptor that came only with bytes of frames already taken
	   was claimed by none of them. */
	if (r->nfds > 0 && r->fd_to[0] <= r->base)
		return ipc_fail(r, "unexpected descriptor", reason_r);
	if (r->in.len < IPC_HEADER_LEN)
		return 0;
	h = ipc_get_header(r->in.s);
	len = h & ~IPC_FD_FLAG;
	if (len > r->max)
		return ipc_fail(r, "frame too large", reason_r);
	total = IPC_HEADER_LEN + len;
	if (r->in.len < total)
		return 0;
	if (ipc_claim_fd(r, (h & IPC_FD_FLAG) != 0, total, &fd, &why) < 0)
		return ipc_fail(r, why, reason_r);
	memset(m, 0, sizeof(*m));
	m->fd = fd;
	if ((m->payload = malloc(len + 1)) == NULL) {
		ipc_msg_release(m);
		return ipc_fail(r, "out of memory", reason_r);
	}
	memcpy(m->payload, r->in.s + IPC_HEADER_LEN, len);
	m->payload[len] = '\0';
	m->len = len;
	ipc_consume(r, total);
	if (attr_decode(m->payload, len, &m->attrs, IPC_ATTRS_MAX, &why) < 0) {
		ipc_msg_release(m);
		return ipc_fail(r, why, reason_r);
	}
	return 1;
}

/* ipc_recv - read until one frame is complete (blocking descriptor) */
int ipc_recv(struct ipc_reader *r, struct ipc_msg *m, const char **reason_r)
{
	long n;
	int rc;

	for (;;) {
		if ((rc = ipc_reader_next(r, m, reason_r)) != 0)
			return rc;
		if ((n = ipc_reader_fill(r)) > 0)
			continue;
		if (n < 0) {
			*reason_r = r->error ? r->error : "receive failed";
			return -1;
		}
		if (r->in.len == 0 && r->error == NULL)
			return 0;
		*reason_r = r->error ? r->error :
		    "connection closed inside a frame";
		return -1;
	}
}
