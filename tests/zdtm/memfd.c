// zdtm-desc: a memfd keeps its contents, size, seals and its sharing between fd and mapping
// zdtm-disturb: printf 'XX' | dd of=/proc/$PID/fd/10 bs=1 seek=100 conv=notrunc 2>/dev/null
#include "lib.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEN (8 * 4096 + 100)

int main(int argc, char **argv)
{
	static char buf[LEN];
	test_init(argc, argv);
	int fd = (int)SYS(memfd_create("zdtm-memfd", MFD_ALLOW_SEALING));
	fd_move(fd, 10);
	fd = 10;
	datagen(buf, LEN, 11);
	xwrite(fd, buf, LEN);
	SYS(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	char *m = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED, "mmap: %m");
	off_t pos = lseek(fd, 1234, SEEK_SET);
	test_ready();
	test_waitsig();

	struct stat st;
	SYS(fstat(fd, &st));
	CHECK(st.st_size == LEN, "size %lld, not %d", (long long)st.st_size, LEN);
	CHECK(fcntl(fd, F_GET_SEALS) == F_SEAL_SHRINK, "seals are 0x%x", fcntl(fd, F_GET_SEALS));
	CHECK(lseek(fd, 0, SEEK_CUR) == pos, "offset moved");
	CHECK(datachk(m, LEN, 11) < 0, "the mapping's contents differ");
	static char now[LEN];
	CHECK(pread(fd, now, LEN, 0) == LEN, "pread: %m");
	CHECK(datachk(now, LEN, 11) < 0, "the memfd's contents differ");
	/* Same object: a write through the fd shows in the mapping. */
	CHECK(pwrite(fd, "zdtm", 4, 4096) == 4, "pwrite: %m");
	CHECK(!memcmp(m + 4096, "zdtm", 4), "the mapping is no longer the memfd's");
	char link[64];
	ssize_t n = readlink("/proc/self/fd/10", link, sizeof(link) - 1);
	CHECK(n > 0, "readlink: %m");
	link[n] = 0;
	CHECK(strstr(link, "memfd:zdtm-memfd"), "fd 10 is '%s'", link);
	pass();
}
