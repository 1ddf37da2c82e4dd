// zdtm-desc: a session keeps its pty as controlling terminal, its foreground group, and a /dev/tty fd
// zdtm-disturb: PID=$(child_of $PID) gdb_call '(int)ioctl(12, 0x5422, 0)'
#include "lib.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* The tree: test (holds the master, fd 10) -> A (setsid; the slave is its
 * controlling terminal; fd 12 is /dev/tty) -> B (its own group, in front).
 * After restore the test reads the session and the group through the
 * master, and A writes through /dev/tty and opens it anew. */
static int up[2], down[2];
static char slave_path[64];

static int proc_b(void *arg)
{
	(void)arg;
	SYS(setpgid(0, 0));
	for (;;)
		pause();
	return 0;
}

static int proc_a(void *arg)
{
	(void)arg;
	char c;
	SYS(setsid());
	/* a session leader without a terminal gets the first tty it opens */
	int s = (int)SYS(open(slave_path, O_RDWR));
	pid_t b = test_fork(proc_b, NULL);
	setpgid(b, b); /* whichever of us runs first */
	SYS(tcsetpgrp(s, b));
	fd_move((int)SYS(open("/dev/tty", O_RDWR | O_NOCTTY)), 12);
	xwrite(up[1], "x", 1);
	xread(down[0], &c, 1);
	xwrite(12, "via-dev-tty", 11);
	int again = open("/dev/tty", O_RDWR | O_NOCTTY);
	xwrite(up[1], again >= 0 ? "ok" : "no", 2);
	return 0;
}

int main(int argc, char **argv)
{
	char buf[32];
	test_init(argc, argv);
	fd_move((int)SYS(posix_openpt(O_RDWR | O_NOCTTY)), 10);
	SYS(grantpt(10));
	SYS(unlockpt(10));
	snprintf(slave_path, sizeof(slave_path), "%s", ptsname(10));
	struct termios t;
	SYS(tcgetattr(10, &t));
	t.c_oflag &= ~(tcflag_t)OPOST;
	SYS(tcsetattr(10, TCSANOW, &t));
	SYS(pipe(up));
	SYS(pipe(down));
	pid_t a = test_fork(proc_a, NULL);
	xread(up[0], buf, 1);
	pid_t b = (pid_t)SYS(tcgetpgrp(10));
	CHECK(tcgetsid(10) == a && b != a && getpgid(b) == b, "the session was not built as planned");
	test_ready();
	test_waitsig();

	pid_t sid = tcgetsid(10), fg = tcgetpgrp(10);
	CHECK(sid == a, "the pty is the terminal of session %d, not %d (%m)", sid, a);
	CHECK(fg == b, "the pty's foreground group is %d, not %d (%m)", fg, b);
	xwrite(down[1], "c", 1);
	xread(up[0], buf, 2);
	CHECK(!memcmp(buf, "ok", 2), "A cannot open /dev/tty any more");
	ssize_t n = read(10, buf, sizeof(buf));
	CHECK(n == 11 && !memcmp(buf, "via-dev-tty", 11), "read %zd bytes from the master (%m)", n);
	kill(b, SIGKILL);
	test_wait_ok(a);
	pass();
}
