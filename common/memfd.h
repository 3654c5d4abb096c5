/*
 * memfd - sealed memory files that carry message content between
 * processes (the content never travels inside a record).
 *
 * The queue manager fills a memfd with a message and seals it (no write,
 * grow or shrink, and no more seals), then passes it with SCM_RIGHTS. A
 * receiver calls memfd_check before trusting it: only a sealed memfd
 * cannot change under the reader's feet after checks were made.
 */
#ifndef POSTERN_MEMFD_H
#define POSTERN_MEMFD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* memfd_new - a new, empty, sealable memfd (close-on-exec); -1 with errno */
int memfd_new(const char *name);
/* memfd_seal - forbid writes, growth, shrinking and further seals */
int memfd_seal(int fd);
/* memfd_check - fd is a memfd carrying all the seals of memfd_seal; its
   size in *size_r. 0, or -1 with errno (EPERM when not sealed) */
int memfd_check(int fd, off_t *size_r);
/* memfd_map - check fd (memfd_check) and that its size is within min and
   max, then map it read-only: *p_r and *len_r (an empty memfd maps to
   "", nothing to unmap). 0, or -1 with errno (EPERM not sealed, EFBIG a
   size out of bounds, or mmap's). */
int memfd_map(int fd, uint64_t min, uint64_t max, const char **p_r,
    size_t *len_r);
/* memfd_from_buffer - a sealed memfd holding n bytes at p */
int memfd_from_buffer(const char *name, const void *p, size_t n);

#endif
