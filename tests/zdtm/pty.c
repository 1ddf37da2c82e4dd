// zdtm-desc: a pty pair the test opened keeps its number, termios, window size and queued data both ways
// zdtm-disturb: gdb_call '(int)ioctl(11, 0x540b, 2)'
#include "lib.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static void expect(int fd, const char *want, const char *what)
{
	char buf[64];
	ssize_t n = read(fd, buf, sizeof(buf));
	CHECK(n == (ssize_t)strlen(want) && !memcmp(buf, want, (size_t)n), "%s: read %zd bytes (%m)",
	      what, n);
}

static bool same_termios(const struct termios *a, const struct termios *b)
{
	return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_cflag == b->c_cflag &&
	       a->c_lflag == b->c_lflag && !memcmp(a->c_cc, b->c_cc, sizeof(a->c_cc)) &&
	       cfgetospeed(a) == cfgetospeed(b);
}

int main(int argc, char **argv)
{
	char name[64];
	test_init(argc, argv);
	fd_move((int)SYS(posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK)), 10);
	SYS(grantpt(10));
	SYS(unlockpt(10));
	snprintf(name, sizeof(name), "%s", ptsname(10));
	fd_move((int)SYS(open(name, O_RDWR | O_NOCTTY | O_NONBLOCK)), 11);
	struct termios t;
	SYS(tcgetattr(11, &t));
	t.c_lflag &= ~(tcflag_t)(ECHO | ICANON);
	t.c_oflag &= ~(tcflag_t)OPOST;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 7;
	t.c_cc[VINTR] = 'x' & 0x1f;
	cfsetspeed(&t, B38400);
	SYS(tcsetattr(11, TCSANOW, &t));
	SYS(tcgetattr(11, &t));
	struct winsize ws = { .ws_row = 33, .ws_col = 99 };
	SYS(ioctl(11, TIOCSWINSZ, &ws));
	xwrite(10, "to the slave", 12);
	xwrite(11, "to the master", 13);
	usleep(100 * 1000); /* let the tty layer move the data to the read queues */
	test_ready();
	test_waitsig();

	CHECK(!strcmp(ptsname(10), name), "the master is now for %s, was %s", ptsname(10), name);
	struct termios now;
	SYS(tcgetattr(11, &now));
	CHECK(same_termios(&now, &t), "the termios settings changed");
	struct winsize w;
	SYS(ioctl(10, TIOCGWINSZ, &w));
	CHECK(w.ws_row == 33 && w.ws_col == 99, "the window is %dx%d", w.ws_row, w.ws_col);
	expect(11, "to the slave", "master to slave");
	expect(10, "to the master", "slave to master");
	xwrite(10, "again", 5);
	usleep(100 * 1000);
	expect(11, "again", "master to slave after restore");
	pass();
}
