// zdtm-desc: file locks are kept: flock, POSIX (fcntl) read and write ranges, and an OFD lock
// zdtm: flags=--file-locks
// zdtm-disturb: gdb_call '(int)flock(10, 8)'
#include "lib.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

static const char *a, *b, *c;
static pid_t owner;

static void posix_lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	SYS(fcntl(fd, cmd, &fl));
}

/* What F_GETLK (or F_OFD_GETLK) says about a write lock on [start, start+len). */
static struct flock probe(int fd, int cmd, off_t start, off_t len)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	SYS(fcntl(fd, cmd, &fl));
	return fl;
}

/* In another process: every lock must conflict as before. */
static int checker(void *arg)
{
	(void)arg;
	int fa = (int)SYS(open(a, O_RDWR)), fb = (int)SYS(open(b, O_RDWR));
	int fc = (int)SYS(open(c, O_RDWR));
	CHECK(flock(fa, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK, "the flock is gone");
	struct flock l = probe(fb, F_GETLK, 0, 1000);
	CHECK(l.l_type == F_WRLCK && l.l_start == 100 && l.l_len == 100 && l.l_pid == owner,
	      "the write lock: type %d at %lld+%lld pid %d", l.l_type, (long long)l.l_start,
	      (long long)l.l_len, l.l_pid);
	l = probe(fb, F_GETLK, 300, 1);
	CHECK(l.l_type == F_RDLCK && l.l_start == 300 && l.l_len == 100 && l.l_pid == owner,
	      "the read lock: type %d at %lld+%lld pid %d", l.l_type, (long long)l.l_start,
	      (long long)l.l_len, l.l_pid);
	l = probe(fb, F_GETLK, 200, 100);
	CHECK(l.l_type == F_UNLCK, "a lock appeared between the two ranges");
	l = probe(fc, F_OFD_GETLK, 0, 0);
	CHECK(l.l_type == F_WRLCK && l.l_pid == -1, "the OFD lock: type %d pid %d", l.l_type, l.l_pid);
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	owner = getpid();
	a = test_path("flock"), b = test_path("posix"), c = test_path("ofd");
	fd_move((int)SYS(open(a, O_RDWR | O_CREAT, 0644)), 10);
	fd_move((int)SYS(open(b, O_RDWR | O_CREAT, 0644)), 11);
	fd_move((int)SYS(open(c, O_RDWR | O_CREAT, 0644)), 12);
	SYS(flock(10, LOCK_EX));
	posix_lock(11, F_SETLK, F_WRLCK, 100, 100);
	posix_lock(11, F_SETLK, F_RDLCK, 300, 100);
	posix_lock(12, F_OFD_SETLK, F_WRLCK, 0, 0);
	test_wait_ok(test_fork(checker, NULL));
	test_ready();
	test_waitsig();

	test_wait_ok(test_fork(checker, NULL));
	unlink(a), unlink(b), unlink(c);
	pass();
}
