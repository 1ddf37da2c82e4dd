/* Small helpers the fd kinds share (fdkind.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "coordinator/fdkind.h"
#include "util.h"

int cr_fdinfo(pid_t pid, int fd, char **out, struct rt_err **err)
{
	char file[64];
	snprintf(file, sizeof(file), "fdinfo/%d", fd);
	return cr_proc_read(pid, file, out, err);
}

int cr_read_all(int fd, uint64_t size, uint64_t max, void **out, struct rt_err **err)
{
	if (size > max)
		return rt_err_set(err, EFBIG, "%llu bytes, more than the %llu an image "
				  "holds", (unsigned long long)size, (unsigned long long)max);
	cleanup_free char *buf = xmalloc(size ? size : 1);
	for (uint64_t off = 0; off < size;) {
		ssize_t n = pread(fd, buf + off, size - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rt_err_set(err, errno, "read");
		if (n == 0)
			return rt_err_set(err, EIO, "the file shrank while we read it");
		off += (uint64_t)n;
	}
	*out = steal_pointer(&buf);
	return 0;
}

int cr_write_all(int fd, const void *p, size_t n)
{
	const char *b = p;
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}
