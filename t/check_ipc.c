/*
 * check_ipc - unit tests for common/ipc.c, frames with fd passing.
 *
 * Everything runs over socketpair(AF_UNIX, SOCK_STREAM). Hostile peers
 * (reliability.md 4.1.7) are played by raw write/sendmsg calls: huge
 * and truncated frames, end of file inside a frame, a frame claiming a
 * descriptor that never came, descriptors nobody claimed, too many
 * descriptors, garbage payloads. Stray descriptors are ends of a pipe,
 * so a test can see that the reader closed them (the read end sees end
 * of file only once every copy of the write end is closed).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attr.h"
#include "ipc.h"
#include "memfd.h"
#include "strbuf.h"

/* sockpair - a connected stream pair */
static void sockpair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

/* nonblock - make fd non-blocking */
static void nonblock(int fd)
{
	ck_assert_int_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
}

/* raw_send - one sendmsg of n bytes with nfds descriptors attached */
static void raw_send(int fd, const void *p, size_t n, const int *fds,
    size_t nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 16)];
	} ctl;
	struct iovec iov = { (void *)p, n };
	struct msghdr msg;
	struct cmsghdr *c;

	ck_assert_uint_le(nfds, 16);
	memset(&msg, 0, sizeof(msg));
	memset(&ctl, 0, sizeof(ctl));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds) {
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	ck_assert_int_eq(sendmsg(fd, &msg, MSG_NOSIGNAL), (ssize_t)n);
}

/* frame - header (length | flag) and payload bytes into out */
static void frame(struct strbuf *out, const void *payload, size_t n,
    uint32_t header)
{
	unsigned char h[4];

	h[0] = (unsigned char)(header >> 24);
	h[1] = (unsigned char)(header >> 16);
	h[2] = (unsigned char)(header >> 8);
	h[3] = (unsigned char)header;
	ck_assert_int_eq(strbuf_append(out, h, 4), 0);
	ck_assert_int_eq(strbuf_append(out, payload, n), 0);
}

/* writers_gone - every write end of the pipe read by rfd is closed */
static int writers_gone(int rfd)
{
	char c;

	nonblock(rfd);
	return read(rfd, &c, 1) == 0;
}

/* memfd_text - the whole content of a memfd, checked sealed */
static void memfd_expect(int fd, const char *want)
{
	char buf[256];
	off_t size;
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(memfd_check(fd, &size), 0);
	ck_assert_int_eq(size, (off_t)strlen(want));
	n = pread(fd, buf, sizeof(buf), 0);
	ck_assert_int_eq(n, (ssize_t)strlen(want));
	ck_assert(memcmp(buf, want, (size_t)n) == 0);
}

START_TEST(test_round_trip)
{
	struct strbuf p = STRBUF_INIT(1024);
	struct ipc_reader r;
	struct ipc_msg m;
	const char *why = NULL;
	int sv[2];

	sockpair(sv);
	attr_put_str(&p, "cmd", "deliver");
	attr_put(&p, "bin", "a\0\r\n", 4);
	ck_assert_int_eq(ipc_send(sv[0], &p, -1), 0);
	ipc_reader_init(&r, sv[1], 1024);
	ck_assert_int_eq(ipc_recv(&r, &m, &why), 1);
	ck_assert_int_eq(m.fd, -1);
	ck_assert_uint_eq(m.len, p.len);
	ck_assert_uint_eq(m.attrs.n, 2);
	ck_assert_str_eq(attr_find(&m.attrs, "cmd")->value, "deliver");
	ck_assert(memcmp(attr_find(&m.attrs, "bin")->value, "a\0\r\n", 4) == 0);
	ipc_msg_release(&m);
	close(sv[0]);
	ck_assert_int_eq(ipc_recv(&r, &m, &why), 0);	/* clean EOF */
	ipc_reader_release(&r);
	close(sv[1]);
	strbuf_release(&p);
}
END_TEST

START_TEST(test_empty_frame)
{
	struct strbuf p = STRBUF_INIT(16);
	struct ipc_reader r;
	struct ipc_msg m;
	const char *why;
	int sv[2];

	sockpair(sv);
	ck_assert_int_eq(ipc_send(sv[0], &p, -1), 0);
	ipc_reader_init(&r, sv[1], 16);
	ck_assert_int_eq(ipc_recv(&r, &m, &why), 1);
	ck_assert_uint_eq(m.len, 0);
	ck_assert_uint_eq(m.attrs.n, 0);
	ipc_msg_release(&m);
	ipc_reader_release(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_pass_memfd)
{
	struct strbuf p = STRBUF_INIT(1024);
	struct ipc_reader r;
	struct ipc_msg m;
	const char *why;
	int sv[2], mfd, fd;

	sockpair(sv);
	mfd = memfd_from_buffer("msg", "Subject: hi\r\n\r\nbody\r\n", 21);
	ck_assert_int_ge(mfd, 0);
	attr_put_str(&p, "job", "1");
	ck_assert_int_eq(ipc_send(sv[0], &p, mfd), 0);
	close(mfd);
	ipc_reader_init(&r, sv[1], 1024);
	ck_assert_int_eq(ipc_recv(&r, &m, &why), 1);
	ck_assert_int_ge(m.fd, 0);
	ck_assert(fcntl(m.fd, F_GETFD) & FD_CLOEXEC);
	memfd_expect(m.fd, "Subject: hi\r\n\r\nbody\r\n");
	/* The caller takes the descriptor by setting fd to -1. */
	fd = m.fd;
	m.fd = -1;
	ipc_msg_release(&m);
	ck_assert_int_ge(fcntl(fd, F_GETFD), 0);
	close(fd);
	ipc_reader_release(&r);
	close(sv[0]);
	close(sv[1]);
	strbuf_release(&p);
}
END_TEST

/* An untaken descriptor is closed by ipc_msg_release. */
START_TEST(test_release_closes_fd)
{
	struct strbuf p = STRBUF_INIT(64);
	struct ipc_reader r;
	struct ipc_msg m;
	const char *why;
	int sv[2], pp[2];

	sockpair(sv);
	ck_assert_int_eq(pipe(pp), 0);
	attr_put_str(&p, "a", "b");
	ck_assert_int_eq(ipc_send(sv[0], &p, pp[1]), 0);
	close(pp[1]);
	ipc_reader_init(&r, sv[1], 64);
	ck_assert_int_eq(ipc_recv(&r, &m, &why), 1);
	ck_assert(!writers_gone(pp[0]));
	ipc_msg_release(&m);
	ck_assert_int_eq(m.fd, -1);
	ck_assert(writers_gone(pp[0]));
	ipc_reader_release(&r);
	close(pp[0]);
	close(sv[0]);
	close(sv[1]);
	strbuf_release(&p);
}
END_TEST

/* Frames without descriptors sent before a frame with one: a stream
   recvmsg returns them together with the descriptor, which must still
   go to the frame that claims it. The pattern says which frames carry
   one. */
static const char *const glue[] = { "nf", "nnnf", "fnf", "nfnnfn", "ff",
    "fnnnnnnnnnnf" };

START_TEST(test_glued_frames)
{
	const char *pat = glue[_i];
	struct strbuf p = STRBUF_INIT(64);
	struct ipc_reader r;
	struct ipc_msg m;
	const char *why;
	char want[32];
	size_t i;
	int sv[2], fd;

	sockpair(sv);
	for (i = 0; pat[i]; i++) {
		strbuf_reset(&p);
		attr_put_u64(&p, "seq", i);
		snprintf(want, sizeof(want), "content %zu", i);
		fd = pat[i] == 'f' ? memfd_from_buffer("m", want,
		    strlen(want)) : -1;
		ck_assert_int_eq(ipc_send(sv[0], &p, fd), 0);
		if (fd >= 0)
			close(fd);
	}
	close(sv[0]);
	ipc_reader_init(&r, sv[1], 64);
	for (i = 0; pat[i]; i++) {
		ck_assert_msg(ipc_recv(&r, &m, &why) == 1, "frame %zu: %s", i,
		    why);
		snprintf(want, sizeof(want), "%zu", i);
		ck_assert_str_eq(attr_find(&m.attrs, "seq")->value, want);
		snprintf(want, sizeof(want), "content %zu", i);
		if (pat[i] == 'f')
			memfd_expect(m.fd, want);
		else
			ck_assert_int_eq(m.fd, -1);
		ipc_msg_release(&m);
	}
	ck_assert_int_eq(ipc_recv(&r, &m, &why), 0);
	ipc_reader_release(&r);
	close(sv[1]);
	strbuf_release(&p);
}
END_TEST

/* send_many - the writer of test_many: n frames, every 7th with a memfd */
static void send_many(int fd, int n)
{
	struct strbuf p = STRBUF_INIT(256);
	char text[32];
	int i, mfd;

	for (i = 0; i < n; i++) {
		strbuf_reset(&p);
		attr_put_u64(&p, "seq", (uint64_t)i);
		attr_put_str(&p, "pad", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		snprintf(text, sizeof(text), "message %d", i);
		mfd = i % 7 == 0 ? memfd_from_buffer("m", text, strlen(text))
		    : -1;
		if (ipc_send(fd, &p, mfd) < 0)
			_exit(1);
		if (mfd >= 0)
			close(mfd);
	}
	strbuf_release(&p);
	_exit(0);
}

START_TEST(test_many)
{
	struct ipc_reader r;
	struct ipc_msg m;
	const char *why;
	char text[32];
	uint64_t seq;
	int sv[2], i, st;
	pid_t pid;

	sockpair(sv);
	if ((pid = fork()) == 0) {
		close(sv[1]);
		send_many(sv[0], 1000);
	}
	ck_assert_int_gt(pid, 0);
	close(sv[0]);
	ipc_reader_init(&r, sv[1], 256);
	for (i = 0; i < 1000; i++) {
		ck_assert_msg(ipc_recv(&r, &m, &why) == 1, "frame %d: %s", i,
		    why);
		ck_assert_int_eq(attr_u64(attr_find(&m.attrs, "seq"), &seq), 0);
		ck_assert_uint_eq(seq, (uint64_t)i);
		snprintf(text, sizeof(text), "message %d", i);
		if (i % 7 == 0)
			memfd_expect(m.fd, text);
		else
			ck_assert_int_eq(m.fd, -1);
		ipc_msg_release(&m);
	}
	ck_assert_int_eq(ipc_recv(&r, &m, &why), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ipc_reader_release(&r);
	close(sv[1]);
}
END_TEST

/* A frame far larger than the socket buffer, read in many fills. */
START_TEST(test_large_frame)
{
	struct strbuf p = STRBUF_INIT(2u << 20);
	struct ipc_reader r;
	struct ipc_msg m;
	const char *why;
	const struct attr *a;
	char *big = malloc(1u << 20);
	int sv[2], st;
	pid_t pid;

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 1u << 20);
	big[12345] = '\0';
	ck_assert_int_eq(attr_put(&p, "body", big, 1u << 20), 0);
	sockpair(sv);
	if ((pid = fork()) == 0)
		_exit(ipc_send(sv[0], &p, -1) < 0);
	close(sv[0]);
	ipc_reader_init(&r, sv[1], p.len);
	ck_assert_int_eq(ipc_recv(&r, &m, &why), 1);
	a = attr_find(&m.attrs, "body");
	ck_assert_uint_eq(a->len, 1u << 20);
	ck_assert(memcmp(a->value, big, 1u << 20) == 0);
	ipc_msg_release(&m);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ipc_reader_release(&r);
	close(sv[1]);
	free(big);
	strbuf_release(&p);
}
END_TEST

/* A non-blocking reader fed one byte at a time, two frames; _i says
   whether the frames carry a descriptor (sent with their first byte). */
START_TEST(test_byte_at_a_time)
{
	struct strbuf p = STRBUF_INIT(256), raw = STRBUF_INIT(1024);
	struct ipc_reader r;
	struct ipc_msg m;
	const char *why;
	size_t i, n1;
	int sv[2], mfd = -1, got = 0, rc;

	attr_put_str(&p, "first", "one");
	attr_put(&p, "bin", "\0,:=", 4);
	frame(&raw, p.s, p.len, (uint32_t)p.len | (_i ? IPC_FD_FLAG : 0));
	n1 = raw.len;
	frame(&raw, p.s, p.len, (uint32_t)p.len | (_i ? IPC_FD_FLAG : 0));
	if (_i)
		mfd = memfd_from_buffer("m", "abc", 3);
	sockpair(sv);
	nonblock(sv[1]);
	ipc_reader_init(&r, sv[1], 256);
	errno = 0;
	ck_assert_int_eq(ipc_reader_fill(&r), -1);
	ck_assert_int_eq(errno, EAGAIN);
	for (i = 0; i < raw.len; i++) {
		raw_send(sv[0], raw.s + i, 1, &mfd,
		    _i && (i == 0 || i == n1));
		ck_assert_int_eq(ipc_reader_fill(&r), 1);
		errno = 0;
		ck_assert_int_eq(ipc_reader_fill(&r), -1);
		ck_assert_int_eq(errno, EAGAIN);
		rc = ipc_reader_next(&r, &m, &why);
		ck_assert_int_eq(rc, i == n1 - 1 || i == raw.len - 1);
		if (rc == 1) {
			got++;
			ck_assert_uint_eq(m.attrs.n, 2);
			ck_assert_str_eq(m.attrs.v[0].value, "one");
			ck_assert(memcmp(m.attrs.v[1].value, "\0,:=", 4) == 0);
			if (_i)
				memfd_expect(m.fd, "abc");
			else
				ck_assert_int_eq(m.fd, -1);
			ipc_msg_release(&m);
			ck_assert_int_eq(ipc_reader_next(&r, &m, &why), 0);
		}
	}
	ck_assert_int_eq(got, 2);
	close(sv[0]);
	ck_assert_int_eq(ipc_reader_fill(&r), 0);
	ipc_reader_release(&r);
	close(sv[1]);
	if (mfd >= 0)
		close(mfd);
	strbuf_release(&p);
	strbuf_release(&raw);
}
END_TEST

/* Oversized frames: refused from the header alone, before allocation. */
static const struct {
	size_t max;
	uint32_t header;
} huge[] = {
	{ 100, 101 },
	{ 100, 101 | IPC_FD_FLAG },
	{ 100, 0x7fffffffu },
	{ 100, 0xffffffffu },
	{ 0, 1 },
	{ IPC_FRAME_MAX, IPC_FRAME_MAX + 1 },
	{ IPC_FRAME_MAX + 1000, IPC_FRAME_MAX + 1 },	/* clamped */
	{ IPC_FRAME_MAX, 0x7fffffffu },
};

START_TEST(test_too_large)
{
	struct strbuf raw = STRBUF_INIT(16);
	struct ipc_reader r;
	struct ipc_msg m;
	const char *why = NULL;
	int sv[2];

	sockpair(sv);
	frame(&raw, "", 0, huge[_i].header);
	raw_send(sv[0], raw.s, raw.len, NULL, 0);
	ipc_reader_init(&r, sv[1], huge[_i].max);
	ck_assert_uint_le(r.max, IPC_FRAME_MAX);
	ck_assert_int_eq(ipc_recv(&r, &m, &why), -1);
	ck_assert_str_eq(why, "frame too large");
	ck_assert_uint_le(r.in.cap, 65536);
	/* The error sticks: the connection is unusable. */
	ck_assert_int_eq(ipc_reader_next(&r, &m, &why), -1);
	ck_assert_str_eq(why, "frame too large");
	ipc_reader_release(&r);
	close(sv[0]);
	close(sv[1]);
	strbuf_release(&raw);
}
END_TEST

/* A frame of exactly the limit passes; one byte more does not. */
START_TEST(test_exact_limit)
{
	struct strbuf p = STRBUF_INIT(100);
	struct ipc_reader r;
	struct ipc_msg m;
	const char *why;
	int sv[2];

	sockpair(sv);
	attr_put(&p, "v", "0123456789012345678901234567890123456789", 40);
	ck_assert_int_eq(ipc_send(sv[0], &p, -1), 0);
	strbuf_appendc(&p, 'x');
	ck_assert_int_eq(ipc_send(sv[0], &p, -1), 0);
	ipc_reader_init(&r, sv[1], p.len - 1);
	ck_assert_int_eq(ipc_recv(&r, &m, &why), 1);
	ipc_msg_release(&m);
	ck_assert_int_eq(ipc_recv(&r, &m, &why), -1);
	ck_assert_str_eq(why, "frame too large");
	ipc_reader_release(&r);
	close(sv[0]);
	close(sv[1]);
	strbuf_release(&p);
}
END_TEST

/* End of file at every point inside a two-frame stream. */
START_TEST(test_eof_inside)
{
	struct strbuf p = STRBUF_INIT(64), raw = STRBUF_INIT(256);
	struct ipc_reader r;
	struct ipc_msg m;
	const char *why = NULL;
	size_t cut, n1;
	int sv[2], rc;

	attr_put_str(&p, "a", "hello");
	frame(&raw, p.s, p.len, (uint32_t)p.len);
	n1 = raw.len;
	frame(&raw, p.s, p.len, (uint32_t)p.len);
	for (cut = 0; cut <= raw.len; cut++) {
		sockpair(sv);
		if (cut)
			raw_send(sv[0], raw.s, cut, NULL, 0);
		close(sv[0]);
		ipc_reader_init(&r, sv[1], 64);
		while ((rc = ipc_recv(&r, &m, &why)) == 1)
			ipc_msg_release(&m);
		if (cut == 0 || cut == n1 || cut == raw.len) {
			ck_assert_int_eq(rc, 0);
		} else {
			ck_assert_int_eq(rc, -1);
			ck_assert_str_eq(why, "connection closed inside a frame");
		}
		ipc_reader_release(&r);
		close(sv[1]);
	}
	strbuf_release(&p);
	strbuf_release(&raw);
}
END_TEST

/* A frame claims a descriptor but none came with its header: none at
   all (_i 0), or one sent with a later part of the frame (_i 1) after
   the reader had taken the header. */
START_TEST(test_claim_without_fd)
{
	struct strbuf p = STRBUF_INIT(64), raw = STRBUF_INIT(256);
	struct ipc_reader r;
	struct ipc_msg m;
	const char *why = NULL;
	int sv[2], pp[2];

	sockpair(sv);
	ck_assert_int_eq(pipe(pp), 0);
	attr_put_str(&p, "a", "b");
	frame(&raw, p.s, p.len, (uint32_t)p.len | IPC_FD_FLAG);
	ipc_reader_init(&r, sv[1], 64);
	if (_i == 0)
		raw_send(sv[0], raw.s, raw.len, NULL, 0);
	else {
		raw_send(sv[0], raw.s, 5, NULL, 0);
		ck_assert_int_eq(ipc_reader_fill(&r), 5);
		raw_send(sv[0], raw.s + 5, raw.len - 5, &pp[1], 1);
	}
	close(pp[1]);
	ck_assert_int_eq(ipc_recv(&r, &m, &why), -1);
	ck_assert_str_eq(why, "frame claims a descriptor that did not arrive");
	ck_assert(writers_gone(pp[0]));
	ipc_reader_release(&r);
	close(pp[0]);
	close(sv[0]);
	close(sv[1]);
	strbuf_release(&p);
	strbuf_release(&raw);
}
END_TEST

/* Descriptors nobody claims: sent with a frame without the flag (_i 0),
   sent twice with a frame that claims one (_i 1), sent with the second
   half of a frame without the flag (_i 2). Each is closed. */
START_TEST(test_stray_fd)
{
	struct strbuf p = STRBUF_INIT(64), raw = STRBUF_INIT(256);
	struct ipc_reader r;
	struct ipc_msg m;
	const char *why = NULL;
	int sv[2], pp[2], fds[2], rc;

	sockpair(sv);
	ck_assert_int_eq(pipe(pp), 0);
	fds[0] = fds[1] = pp[1];
	attr_put_str(&p, "a", "b");
	frame(&raw, p.s, p.len, (uint32_t)p.len | (_i == 1 ? IPC_FD_FLAG : 0));
	if (_i == 2) {
		raw_send(sv[0], raw.s, 5, NULL, 0);
		raw_send(sv[0], raw.s + 5, raw.len - 5, fds, 1);
	} else
		raw_send(sv[0], raw.s, raw.len, fds, (size_t)_i + 1);
	close(pp[1]);
	ipc_reader_init(&r, sv[1], 64);
	if (_i == 1) {
		ck_assert_int_eq(ipc_recv(&r, &m, &why), 1);
		ck_assert_int_ge(m.fd, 0);
		ipc_msg_release(&m);
	}
	rc = ipc_recv(&r, &m, &why);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(why, "unexpected descriptor");
	ck_assert(writers_gone(pp[0]));
	ipc_reader_release(&r);
	close(pp[0]);
	close(sv[0]);
	close(sv[1]);
	strbuf_release(&p);
	strbuf_release(&raw);
}
END_TEST

/* More descriptors in one message than the control buffer holds: the
   control data is truncated and whatever arrived is closed. */
START_TEST(test_fd_flood_one_message)
{
	struct strbuf raw = STRBUF_INIT(64);
	struct ipc_reader r;
	struct ipc_msg m;
	const char *why = NULL;
	int sv[2], pp[2], fds[12], i;

	sockpair(sv);
	ck_assert_int_eq(pipe(pp), 0);
	for (i = 0; i < 12; i++)
		fds[i] = pp[1];
	frame(&raw, "3:a=b,", 6, 6 | IPC_FD_FLAG);
	raw_send(sv[0], raw.s, raw.len, fds, 12);
	close(pp[1]);
	ipc_reader_init(&r, sv[1], 64);
	errno = 0;
	ck_assert_int_eq(ipc_reader_fill(&r), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert(writers_gone(pp[0]));
	ck_assert_int_eq(ipc_reader_next(&r, &m, &why), -1);
	ipc_reader_release(&r);
	close(pp[0]);
	close(sv[0]);
	close(sv[1]);
	strbuf_release(&raw);
}
END_TEST

/* Nine descriptors, each on one byte of a frame still incomplete: the
   ninth has no room and the reader reports a protocol error. */
START_TEST(test_fd_flood_pending)
{
	struct strbuf raw = STRBUF_INIT(64);
	struct ipc_reader r;
	struct ipc_msg m;
	const char *why = NULL;
	int sv[2], pp[2], i;

	sockpair(sv);
	ck_assert_int_eq(pipe(pp), 0);
	frame(&raw, "30:a=xxxxxxxxxxxxxxxxxxxxxxxxxxx,", 33, 33 | IPC_FD_FLAG);
	for (i = 0; i < 9; i++)
		raw_send(sv[0], raw.s + i, 1, &pp[1], 1);
	close(pp[1]);
	ipc_reader_init(&r, sv[1], 64);
	for (i = 0; i < 9; i++)
		ck_assert_int_eq(ipc_reader_fill(&r), 1);
	ck_assert_int_eq(ipc_reader_next(&r, &m, &why), -1);
	ck_assert_str_eq(why, "too many descriptors pending");
	ck_assert(writers_gone(pp[0]));
	ipc_reader_release(&r);
	close(pp[0]);
	close(sv[0]);
	close(sv[1]);
	strbuf_release(&raw);
}
END_TEST

/* Payloads that are not attribute lists; _i odd sends a descriptor too,
   which must be closed. */
static const char *const garbage[] = {
	"garbage", "3:a=b", "03:a=b,", "3:a=b,x", "5:A=b,", "\xff\xff\xff\xff",
	"1:=,", "999999999:a=b,",
};

START_TEST(test_garbage)
{
	const char *g = garbage[_i / 2];
	struct strbuf raw = STRBUF_INIT(64);
	struct ipc_reader r;
	struct ipc_msg m;
	const char *why = NULL;
	int sv[2], pp[2];

	sockpair(sv);
	ck_assert_int_eq(pipe(pp), 0);
	frame(&raw, g, strlen(g), (uint32_t)strlen(g) |
	    (_i % 2 ? IPC_FD_FLAG : 0));
	raw_send(sv[0], raw.s, raw.len, &pp[1], (size_t)(_i % 2));
	close(pp[1]);
	ipc_reader_init(&r, sv[1], 64);
	ck_assert_int_eq(ipc_recv(&r, &m, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert(writers_gone(pp[0]));
	ck_assert_int_eq(ipc_recv(&r, &m, &why), -1);
	ipc_reader_release(&r);
	close(pp[0]);
	close(sv[0]);
	close(sv[1]);
	strbuf_release(&raw);
}
END_TEST

/* Unclaimed descriptors still queued are closed by reader release. */
START_TEST(test_release_closes_pending)
{
	struct strbuf raw = STRBUF_INIT(64);
	struct ipc_reader r;
	int sv[2], pp[2];

	sockpair(sv);
	ck_assert_int_eq(pipe(pp), 0);
	frame(&raw, "3:a=b,", 6, 6 | IPC_FD_FLAG);
	raw_send(sv[0], raw.s, 2, &pp[1], 1);
	close(pp[1]);
	ipc_reader_init(&r, sv[1], 64);
	ck_assert_int_eq(ipc_reader_fill(&r), 2);
	ck_assert(!writers_gone(pp[0]));
	ipc_reader_release(&r);
	ck_assert(writers_gone(pp[0]));
	close(pp[0]);
	close(sv[0]);
	close(sv[1]);
	strbuf_release(&raw);
}
END_TEST

START_TEST(test_send_errors)
{
	struct strbuf p = STRBUF_INIT(64);
	struct strbuf fake = STRBUF_INIT(0);
	int sv[2];

	sockpair(sv);
	close(sv[1]);
	attr_put_str(&p, "a", "b");
	/* MSG_NOSIGNAL: EPIPE, and this process is still here. */
	signal(SIGPIPE, SIG_DFL);
	errno = 0;
	ck_assert_int_eq(ipc_send(sv[0], &p, -1), -1);
	ck_assert_int_eq(errno, EPIPE);
	fake.len = (size_t)IPC_FRAME_MAX + 1;
	errno = 0;
	ck_assert_int_eq(ipc_send(sv[0], &fake, -1), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	close(sv[0]);
	strbuf_release(&p);
}
END_TEST

/* ipc_suite - the tests, grouped */
static Suite *ipc_suite(void)
{
	Suite *s = suite_create("ipc");
	TCase *tc = tcase_create("frames");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_empty_frame);
	tcase_add_test(tc, test_pass_memfd);
	tcase_add_test(tc, test_release_closes_fd);
	tcase_add_loop_test(tc, test_glued_frames, 0,
	    sizeof(glue) / sizeof(glue[0]));
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_large_frame);
	tcase_add_loop_test(tc, test_byte_at_a_time, 0, 2);
	tcase_add_test(tc, test_send_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_loop_test(tc, test_too_large, 0, sizeof(huge) / sizeof(huge[0]));
	tcase_add_test(tc, test_exact_limit);
	tcase_add_test(tc, test_eof_inside);
	tcase_add_loop_test(tc, test_claim_without_fd, 0, 2);
	tcase_add_loop_test(tc, test_stray_fd, 0, 3);
	tcase_add_test(tc, test_fd_flood_one_message);
	tcase_add_test(tc, test_fd_flood_pending);
	tcase_add_loop_test(tc, test_garbage, 0,
	    2 * sizeof(garbage) / sizeof(garbage[0]));
	tcase_add_test(tc, test_release_closes_pending);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ipc_suite());
	int number_failed;

	srunner_run_all(sr, CK_NORMAL);
	number_failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return number_failed != 0;
}
