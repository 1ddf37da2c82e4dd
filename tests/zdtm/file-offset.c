// zdtm-desc: regular-file fds keep offsets, open flags (O_APPEND, O_NONBLOCK...), FD_CLOEXEC and dup sharing
// zdtm-disturb: gdb_call '(long)lseek(10, 0, 0)'
#include "lib.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEN 10000
#define FLAGS_MASK (O_ACCMODE | O_APPEND | O_NONBLOCK | O_SYNC | O_NOATIME)

static const struct {
	int fd, flags, cloexec;
	off_t off;
} fds[] = {
	{ 10, O_RDWR, 0, 1234 },
	{ 11, O_WRONLY | O_APPEND, FD_CLOEXEC, 0 },
	{ 12, O_RDONLY | O_NONBLOCK | O_NOATIME, 0, 9999 },
	{ 13, O_RDWR | O_SYNC, FD_CLOEXEC, 5000 },
};
#define NFD (sizeof(fds) / sizeof(fds[0]))

int main(int argc, char **argv)
{
	static char buf[LEN];
	off_t want[NFD];
	test_init(argc, argv);
	const char *path = test_path("data");
	int fd = (int)SYS(open(path, O_RDWR | O_CREAT | O_TRUNC, 0644));
	datagen(buf, LEN, 3);
	xwrite(fd, buf, LEN);
	close(fd);
	for (size_t i = 0; i < NFD; i++) {
		fd = (int)SYS(open(path, fds[i].flags | (fds[i].cloexec ? O_CLOEXEC : 0)));
		fd_move(fd, fds[i].fd);
		SYS(fcntl(fds[i].fd, F_SETFD, fds[i].cloexec));
		want[i] = SYS(lseek(fds[i].fd, fds[i].off, SEEK_SET));
	}
	SYS(dup2(10, 14)); /* 14 shares 10's file description, so its offset */
	test_ready();
	test_waitsig();

	for (size_t i = 0; i < NFD; i++) {
		int f = fds[i].fd;
		off_t off = lseek(f, 0, SEEK_CUR);
		int fl = (int)SYS(fcntl(f, F_GETFL)) & FLAGS_MASK;
		int fdfl = (int)SYS(fcntl(f, F_GETFD));
		CHECK(off == want[i], "fd %d: offset %lld, was %lld", f, (long long)off, (long long)want[i]);
		CHECK(fl == fds[i].flags, "fd %d: flags %#x, were %#x", f, fl, fds[i].flags);
		CHECK(fdfl == fds[i].cloexec, "fd %d: fd flags %#x, were %#x", f, fdfl, fds[i].cloexec);
	}
	char c;
	xread(12, &c, 1);
	CHECK(c == buf[9999], "fd 12 read the wrong byte");
	/* O_APPEND: the write lands at the end whatever fd 11's offset. */
	xwrite(11, "END", 3);
	struct stat st;
	SYS(fstat(11, &st));
	CHECK(st.st_size == LEN + 3, "file size %lld after an O_APPEND write", (long long)st.st_size);
	/* fd 14 moves with fd 10. */
	SYS(lseek(10, 77, SEEK_SET));
	CHECK(lseek(14, 0, SEEK_CUR) == 77, "fds 10 and 14 no longer share an offset");
	unlink(path);
	pass();
}
