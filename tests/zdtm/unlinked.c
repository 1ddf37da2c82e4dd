// zdtm-desc: an open file that was unlinked keeps its contents, offset and "(deleted)" state
// zdtm-disturb: printf 'XX' | dd of=/proc/$PID/fd/10 bs=1 seek=10 conv=notrunc 2>/dev/null
#include "lib.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEN 50000

int main(int argc, char **argv)
{
	static char buf[LEN];
	test_init(argc, argv);
	const char *path = test_path("gone");
	int fd = (int)SYS(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	fd_move(fd, 10);
	datagen(buf, LEN, 9);
	xwrite(10, buf, LEN);
	SYS(lseek(10, 4321, SEEK_SET));
	SYS(unlink(path));
	/* A file of the same name that must not be confused with it. */
	write_text(path, "an impostor\n");
	struct stat before;
	SYS(fstat(10, &before));
	test_ready();
	test_waitsig();

	struct stat st;
	SYS(fstat(10, &st));
	CHECK(st.st_nlink == 0, "the file has %ld links", (long)st.st_nlink);
	CHECK(st.st_size == LEN && (st.st_mode & 07777) == 0600, "size %lld mode %o",
	      (long long)st.st_size, st.st_mode);
	CHECK(lseek(10, 0, SEEK_CUR) == 4321, "offset moved");
	static char now[LEN];
	CHECK(pread(10, now, LEN, 0) == LEN, "pread: %m");
	CHECK(datachk(now, LEN, 9) < 0, "the contents changed");
	char link[4096];
	ssize_t n = readlink("/proc/self/fd/10", link, sizeof(link) - 1);
	CHECK(n > 0, "readlink: %m");
	link[n] = 0;
	CHECK(strstr(link, " (deleted)"), "fd 10 is '%s'", link);
	xwrite(10, "more", 4);
	CHECK(pread(10, now, 4, 4321) == 4 && !memcmp(now, "more", 4), "writing after restore");
	unlink(path);
	pass();
}
