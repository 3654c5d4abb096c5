/*
 * check_memfd - unit tests for common/memfd.c, sealed message content.
 *
 * A sealed memfd must refuse every way of changing it (write, pwrite,
 * truncate either way, a writable shared mapping, more seals), and
 * memfd_check must refuse anything that is not fully sealed: an
 * unsealed or partly sealed memfd (EPERM), a regular file or a pipe
 * (EINVAL: they cannot carry seals at all).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memfd.h"

/* Sizes of content to seal. */
static const size_t sizes[] = { 0, 1, 4096, 4097, 1u << 20 };

START_TEST(test_content_and_size)
{
	size_t n = sizes[_i], i;
	char *buf = malloc(n + 1), *back = malloc(n + 1);
	off_t size = -1;
	int fd;

	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(back);
	for (i = 0; i < n; i++)
		buf[i] = (char)(i * 7 + 3);
	fd = memfd_from_buffer("content", buf, n);
	ck_assert_int_ge(fd, 0);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ck_assert_int_eq(memfd_check(fd, &size), 0);
	ck_assert_int_eq(size, (off_t)n);
	ck_assert_int_eq(pread(fd, back, n + 1, 0), (ssize_t)n);
	ck_assert(n == 0 || memcmp(buf, back, n) == 0);
	close(fd);
	free(buf);
	free(back);
}
END_TEST

/* Every attempt to change a sealed memfd fails with EPERM. */
START_TEST(test_sealed_is_immutable)
{
	off_t size;
	void *p;
	int fd = memfd_from_buffer("sealed", "hello", 5);

	ck_assert_int_ge(fd, 0);
	errno = 0;
	ck_assert_int_eq(write(fd, "x", 1), -1);
	ck_assert_int_eq(errno, EPERM);
	errno = 0;
	ck_assert_int_eq(pwrite(fd, "x", 1, 0), -1);
	ck_assert_int_eq(errno, EPERM);
	errno = 0;
	ck_assert_int_eq(ftruncate(fd, 2), -1);
	ck_assert_int_eq(errno, EPERM);
	errno = 0;
	ck_assert_int_eq(ftruncate(fd, 100), -1);
	ck_assert_int_eq(errno, EPERM);
	errno = 0;
	ck_assert_int_eq(ftruncate(fd, 0), -1);
	ck_assert_int_eq(errno, EPERM);
	errno = 0;
	p = mmap(NULL, 5, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert(p == MAP_FAILED);
	ck_assert_int_eq(errno, EPERM);
	errno = 0;
	ck_assert_int_eq(memfd_seal(fd), -1);	/* F_SEAL_SEAL */
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(memfd_check(fd, &size), 0);
	ck_assert_int_eq(size, 5);
	close(fd);
}
END_TEST

START_TEST(test_unsealed_refused)
{
	off_t size = 77;
	int fd = memfd_new("open");

	ck_assert_int_ge(fd, 0);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	errno = 0;
	ck_assert_int_eq(memfd_check(fd, &size), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(size, 77);
	/* Sealing in place makes the same memfd acceptable. */
	ck_assert_int_eq(memfd_seal(fd), 0);
	ck_assert_int_eq(memfd_check(fd, &size), 0);
	ck_assert_int_eq(size, 3);
	close(fd);
}
END_TEST

/* Any one seal missing is not enough. */
static const int partial[] = {
	F_SEAL_WRITE,
	F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE,
	F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL,
	F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL,
	F_SEAL_SHRINK | F_SEAL_WRITE | F_SEAL_SEAL,
};

START_TEST(test_partly_sealed_refused)
{
	off_t size;
	int fd = memfd_new("partial");

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, partial[_i]), 0);
	errno = 0;
	ck_assert_int_eq(memfd_check(fd, &size), -1);
	ck_assert_int_eq(errno, EPERM);
	close(fd);
}
END_TEST

START_TEST(test_not_a_memfd)
{
	char path[] = "/tmp/check_memfd.XXXXXX";
	off_t size;
	int fd = mkstemp(path), pp[2];

	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	errno = 0;
	ck_assert_int_eq(memfd_check(fd, &size), -1);
	ck_assert_int_eq(errno, EINVAL);
	close(fd);
	ck_assert_int_eq(pipe(pp), 0);
	errno = 0;
	ck_assert_int_eq(memfd_check(pp[0], &size), -1);
	ck_assert_int_eq(errno, EINVAL);
	close(pp[0]);
	close(pp[1]);
	errno = 0;
	ck_assert_int_eq(memfd_check(-1, &size), -1);
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

/* memfd_suite - the tests */
static Suite *memfd_suite(void)
{
	Suite *s = suite_create("memfd");
	TCase *tc = tcase_create("seals");

	tcase_add_loop_test(tc, test_content_and_size, 0,
	    sizeof(sizes) / sizeof(sizes[0]));
	tcase_add_test(tc, test_sealed_is_immutable);
	tcase_add_test(tc, test_unsealed_refused);
	tcase_add_loop_test(tc, test_partly_sealed_refused, 0,
	    sizeof(partial) / sizeof(partial[0]));
	tcase_add_test(tc, test_not_a_memfd);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(memfd_suite());
	int number_failed;

	srunner_run_all(sr, CK_NORMAL);
	number_failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return number_failed != 0;
}
