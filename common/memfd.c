/*
 * memfd - sealed memory files for message content (see memfd.h).
 *
 * Callers: the queue manager fills and seals one per job; the delivery
 * and bounce workers check the one they are handed before reading it.
 *
 * Trust: memfd_check trusts nothing about a received descriptor: it
 * must report all four seals (a file that is not a memfd cannot report
 * seals at all), so its size and bytes cannot change after the check.
 */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memfd.h"

#define MEMFD_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

/* memfd_new - an empty, sealable, close-on-exec memfd */
int memfd_new(const char *name)
{
	return memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

/* memfd_seal - no more writes, growth, shrinking or seals */
int memfd_seal(int fd)
{
	return fcntl(fd, F_ADD_SEALS, MEMFD_SEALS) < 0 ? -1 : 0;
}

/* memfd_check - fd is a fully sealed memfd; its size in *size_r */
int memfd_check(int fd, off_t *size_r)
{
	struct stat st;
	int seals;

	if ((seals = fcntl(fd, F_GET_SEALS)) < 0)
		return -1;
	if ((seals & MEMFD_SEALS) != MEMFD_SEALS) {
		errno = EPERM;
		return -1;
	}
	if (fstat(fd, &st) < 0)
		return -1;
	*size_r = st.st_size;
	return 0;
}

int memfd_map(int fd, uint64_t min, uint64_t max, const char **p_r,
    size_t *len_r)
{
	off_t size;
	void *p;

	if (memfd_check(fd, &size) < 0)
		return -1;
	if (size < 0 || (uint64_t)size < min || (uint64_t)size > max ||
	    (uint64_t)size > SIZE_MAX) {
		errno = EFBIG;
		return -1;
	}
	*len_r = (size_t)size;
	if (size == 0) {
		*p_r = "";
		return 0;
	}
	if ((p = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0)) ==
	    MAP_FAILED)
		return -1;
	*p_r = p;
	return 0;
}

/* memfd_write_all - write n bytes at p, through short writes */
static int memfd_write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* memfd_from_buffer - a sealed memfd holding a copy of n bytes at p;
   -1 with errno */
int memfd_from_buffer(const char *name, const void *p, size_t n)
{
	int fd, saved;

	if ((fd = memfd_new(name)) < 0)
		return -1;
	if (memfd_write_all(fd, p, n) < 0 || memfd_seal(fd) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}
