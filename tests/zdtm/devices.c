// zdtm-desc: fds on /dev/null, /dev/zero (and a mapping of it) and /dev/urandom are kept and work
// zdtm-disturb: gdb_call '(int)dup2(11, 10)'
#include "lib.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const struct {
	int fd;
	const char *path;
	unsigned minor;
} devs[] = { { 10, "/dev/null", 3 }, { 11, "/dev/zero", 5 }, { 12, "/dev/urandom", 9 } };

int main(int argc, char **argv)
{
	test_init(argc, argv);
	for (int i = 0; i < 3; i++)
		fd_move((int)SYS(open(devs[i].path, O_RDWR)), devs[i].fd);
	char *z = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, 11, 0);
	CHECK(z != MAP_FAILED, "mmap /dev/zero: %m");
	z[100] = 42;
	test_ready();
	test_waitsig();

	for (int i = 0; i < 3; i++) {
		struct stat st;
		SYS(fstat(devs[i].fd, &st));
		CHECK(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == devs[i].minor,
		      "fd %d is no longer %s", devs[i].fd, devs[i].path);
	}
	char buf[64];
	CHECK(read(10, buf, sizeof(buf)) == 0, "/dev/null gave data");
	CHECK(write(10, buf, sizeof(buf)) == sizeof(buf), "/dev/null refused data");
	memset(buf, 1, sizeof(buf));
	CHECK(read(11, buf, sizeof(buf)) == sizeof(buf), "/dev/zero: %m");
	for (size_t i = 0; i < sizeof(buf); i++)
		CHECK(!buf[i], "/dev/zero gave a non-zero byte");
	char r1[32], r2[32];
	CHECK(read(12, r1, 32) == 32 && read(12, r2, 32) == 32 && memcmp(r1, r2, 32),
	      "/dev/urandom gave the same bytes twice");
	CHECK(z[100] == 42 && !z[101] && !z[5000], "the /dev/zero mapping changed");
	pass();
}
