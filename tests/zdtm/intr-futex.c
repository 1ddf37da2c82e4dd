// zdtm-desc: threads in FUTEX_WAIT (with and without a timeout) are woken only by FUTEX_WAKE
// zdtm-disturb: gdb_do 'set *(int *)&word = 1'
#include "lib.h"

#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int word; /* 0 until the main thread wakes the waiters */
static int bogus[2], done[2];
static pid_t tids[2];

/* Waits on word == 0; a return with word still 0 that is not EINTR/EAGAIN
 * (or the timeout of an hour) is a bogus wake-up. */
static void *waiter(void *arg)
{
	int i = (int)(long)arg;
	struct timespec hour = { 3600, 0 };
	tids[i] = gettid();
	while (!__atomic_load_n(&word, __ATOMIC_SEQ_CST)) {
		long r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, i ? &hour : NULL, NULL, 0);
		if (!__atomic_load_n(&word, __ATOMIC_SEQ_CST) &&
		    !(r < 0 && (errno == EINTR || errno == EAGAIN)))
			bogus[i]++;
	}
	done[i] = 1;
	return NULL;
}

static long blocked_in(pid_t tid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	read_text(path, buf, sizeof(buf));
	return buf[0] >= '0' && buf[0] <= '9' ? atol(buf) : -1;
}

int main(int argc, char **argv)
{
	pthread_t th[2];
	test_init(argc, argv);
	for (long i = 0; i < 2; i++)
		CHECK(!pthread_create(&th[i], NULL, waiter, (void *)i), "pthread_create");
	while (!tids[0] || !tids[1] || blocked_in(tids[0]) != SYS_futex ||
	       blocked_in(tids[1]) != SYS_futex)
		usleep(1000);
	test_ready();
	test_waitsig();

	for (int i = 0; i < 2; i++)
		CHECK(!bogus[i] && !done[i], "waiter %d woke up without a FUTEX_WAKE", i);
	__atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
	long n = SYS(syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 2, NULL, NULL, 0));
	for (int i = 0; i < 2; i++)
		CHECK(!pthread_join(th[i], NULL), "pthread_join");
	CHECK(n == 2, "FUTEX_WAKE woke %ld waiters, not 2", n);
	pass();
}
