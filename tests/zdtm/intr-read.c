// zdtm-desc: a thread blocked in read() on a pipe stays blocked and then gets exactly the data
// zdtm-disturb: echo early > /proc/$PID/fd/11
#include "lib.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static int p[2];
static pid_t reader_tid;
static volatile int written; /* set just before the main thread writes */
static char got[64];
static ssize_t got_n = -2; /* -2: read() has not returned */
static int early;

static void *reader(void *arg)
{
	(void)arg;
	reader_tid = gettid();
	got_n = read(p[0], got, sizeof(got) - 1);
	early = !written;
	return NULL;
}

/* The syscall number /proc says tid is blocked in, or -1. */
static long blocked_in(pid_t tid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	read_text(path, buf, sizeof(buf));
	return buf[0] >= '0' && buf[0] <= '9' ? atol(buf) : -1;
}

int main(int argc, char **argv)
{
	pthread_t th;
	test_init(argc, argv);
	SYS(pipe(p));
	fd_move(p[0], 10);
	fd_move(p[1], 11);
	p[0] = 10;
	p[1] = 11;
	CHECK(!pthread_create(&th, NULL, reader, NULL), "pthread_create");
	while (!reader_tid || blocked_in(reader_tid) != SYS_read)
		usleep(1000);
	test_ready();
	test_waitsig();

	CHECK(got_n == -2, "read() returned %zd before anything was written", got_n);
	CHECK(blocked_in(reader_tid) == SYS_read, "the reader is no longer blocked in read()");
	written = 1;
	xwrite(p[1], "after restore", 13);
	CHECK(!pthread_join(th, NULL), "pthread_join");
	CHECK(!early, "read() returned before anything was written");
	CHECK(got_n == 13 && !memcmp(got, "after restore", 13), "read() returned %zd bytes '%.*s'",
	      got_n, (int)(got_n > 0 ? got_n : 0), got);
	pass();
}
