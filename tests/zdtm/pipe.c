// zdtm-desc: pipes keep data in flight (partial and full), their size and flags, and a child's end
// zdtm-disturb: dd if=/proc/$PID/fd/10 of=/dev/null bs=10 count=1 2>/dev/null
#include "lib.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#define PART 10000
#define BIG (128 * 1024)

static int child(void *arg)
{
	(void)arg;
	test_waitsig();
	xwrite(13, "from the child", 14);
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[BIG], now[BIG];
	int p[2], q[2];
	test_init(argc, argv);
	/* 10/11: partly filled; 12/13: resized to 128 KiB and full, both ends
	 * non-blocking; the child holds 13 too. */
	SYS(pipe(p));
	SYS(pipe2(q, O_NONBLOCK));
	fd_move(p[0], 10), fd_move(p[1], 11), fd_move(q[0], 12), fd_move(q[1], 13);
	datagen(buf, PART, 1);
	xwrite(11, buf, PART);
	CHECK(fcntl(13, F_SETPIPE_SZ, BIG) == BIG, "F_SETPIPE_SZ: %m");
	datagen(buf, BIG, 2);
	xwrite(13, buf, BIG);
	CHECK(write(13, "x", 1) < 0 && errno == EAGAIN, "the big pipe is not full");
	pid_t pid = test_fork(child, NULL);
	test_ready();
	test_waitsig();

	CHECK(fcntl(13, F_GETPIPE_SZ) == BIG, "pipe size is %d", fcntl(13, F_GETPIPE_SZ));
	CHECK(fcntl(12, F_GETFL) & O_NONBLOCK, "fd 12 lost O_NONBLOCK");
	CHECK(!(fcntl(10, F_GETFL) & O_NONBLOCK), "fd 10 gained O_NONBLOCK");
	CHECK(write(13, "x", 1) < 0 && errno == EAGAIN, "the full pipe took more data");
	/* Never block on a pipe that lost data. */
	SYS(fcntl(10, F_SETFL, O_NONBLOCK));
	ssize_t n = read(10, now, BIG);
	CHECK(n == PART && datachk(now, PART, 1) < 0, "the partial pipe gave %zd bytes, not its %d",
	      n, PART);
	CHECK(read(12, now, BIG) == BIG && datachk(now, BIG, 2) < 0, "the full pipe's data changed");
	CHECK(read(12, now, 1) < 0 && errno == EAGAIN, "extra data in the full pipe");
	SYS(kill(pid, SIGUSR2));
	test_wait_ok(pid);
	CHECK(read(12, now, 64) == 14 && !memcmp(now, "from the child", 14),
	      "the child's end is not the same pipe");
	pass();
}
