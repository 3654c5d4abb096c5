/*
 * ipc - framed records between postern's processes, with fd passing.
 *
 * Frame: a 4-byte big-endian header, then the payload, an attribute list
 * (attr.h). The header's low 31 bits are the payload length; the top bit
 * says that the frame carries one file descriptor, sent with SCM_RIGHTS
 * alongside the header's bytes. Each reader has a hard frame limit (never
 * more than IPC_FRAME_MAX): a longer frame is an error, detected from the
 * header before anything is allocated. A descriptor that arrives without
 * a frame that claims it, or a claiming frame without one, is an error;
 * stray descriptors are closed.
 *
 * Each protocol (spawner, local jobs, remote jobs, bounce jobs, control
 * socket) has its own header in common/ documenting its records; this
 * module only moves frames. Readers work on blocking and non-blocking
 * descriptors alike.
 */
#ifndef POSTERN_IPC_H
#define POSTERN_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "strbuf.h"

#define IPC_FRAME_MAX (16u << 20)	/* hard ceiling for any protocol */
#define IPC_HEADER_LEN 4
#define IPC_FD_FLAG 0x80000000u
#define IPC_ATTRS_MAX 65536		/* attributes in one record */

/* ipc_send - send payload as one frame on a blocking descriptor, with
   pass_fd attached when >= 0. 0, or -1 with errno. MSG_NOSIGNAL: a closed
   peer is EPIPE, not a signal. */
int ipc_send(int fd, const struct strbuf *payload, int pass_fd);

/* A received record: the payload (owned), its decoded attributes, and the
   descriptor it carried (-1 if none; the caller may take it by setting
   fd to -1). */
struct ipc_msg {
	char *payload;
	size_t len;
	struct attr_list attrs;
	int fd;
};

/* ipc_msg_release - free the payload and close an untaken descriptor */
void ipc_msg_release(struct ipc_msg *m);

/* Incremental reader for one connection.
   A stream recvmsg may return the tail of earlier frames together with
   the segment that carries a descriptor, so each pending descriptor
   remembers the stream bytes [fd_from, fd_to) of the recvmsg that
   brought it: it can only belong to a frame whose header starts there. */
#define IPC_FDS_PENDING 8
struct ipc_reader {
	int fd;
	size_t max;		/* frame limit for this connection */
	struct strbuf in;	/* bytes received, not yet framed */
	int fds[IPC_FDS_PENDING]; /* descriptors received, not yet claimed */
	size_t nfds;
	uint64_t fd_from[IPC_FDS_PENDING], fd_to[IPC_FDS_PENDING];
	uint64_t base;		/* stream offset of in's first byte */
	const char *error;	/* protocol error; sticky once set */
};

void ipc_reader_init(struct ipc_reader *r, int fd, size_t max_frame);
/* ipc_reader_release - free buffers and close unclaimed descriptors (not
   r->fd, which the caller owns) */
void ipc_reader_release(struct ipc_reader *r);
/* ipc_reader_fill - one recvmsg into the reader: bytes read (> 0), 0 at
   end of file, -1 with errno (EAGAIN on a non-blocking descriptor with
   nothing to read; EPROTO for a truncated control message) */
long ipc_reader_fill(struct ipc_reader *r);
/* ipc_reader_next - take one complete frame: 1 (m filled), 0 (need more
   bytes), -1 (protocol error, *reason_r set; the connection is unusable) */
int ipc_reader_next(struct ipc_reader *r, struct ipc_msg *m,
    const char **reason_r);
/* ipc_recv - blocking convenience: fill until one frame is complete.
   1 (m filled), 0 (clean end of file before any byte of a frame), -1
   (error or end of file inside a frame; *reason_r set) */
int ipc_recv(struct ipc_reader *r, struct ipc_msg *m, const char **reason_r);

#endif
