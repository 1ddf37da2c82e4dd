// zdtm-desc: a FIFO opened for reading and writing keeps its data and stays the named FIFO
// zdtm-disturb: echo junk > $DIR/zdtm-fifo-fifo
#include "lib.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEN 3000

int main(int argc, char **argv)
{
	static char buf[LEN], now[LEN + 16];
	test_init(argc, argv);
	const char *path = test_path("fifo");
	SYS(mkfifo(path, 0666));
	fd_move((int)SYS(open(path, O_RDONLY | O_NONBLOCK)), 10);
	fd_move((int)SYS(open(path, O_WRONLY)), 11);
	datagen(buf, LEN, 5);
	xwrite(11, buf, LEN);
	struct stat named;
	SYS(stat(path, &named));
	test_ready();
	test_waitsig();

	struct stat st;
	SYS(fstat(10, &st));
	CHECK(S_ISFIFO(st.st_mode) && st.st_ino == named.st_ino, "fd 10 is no longer the FIFO");
	SYS(fstat(11, &st));
	CHECK(S_ISFIFO(st.st_mode) && st.st_ino == named.st_ino, "fd 11 is no longer the FIFO");
	ssize_t n = read(10, now, sizeof(now));
	CHECK(n == LEN && datachk(now, LEN, 5) < 0, "read %zd bytes, not the %d written", n, LEN);
	/* Both ends still connected through the name. */
	int w = (int)SYS(open(path, O_WRONLY | O_NONBLOCK));
	xwrite(w, "ping", 4);
	close(w);
	CHECK(read(10, now, 16) == 4 && !memcmp(now, "ping", 4), "the name leads to another FIFO");
	unlink(path);
	pass();
}
