// zdtm-desc: pending blocked signals, shared and per thread, standard and queued real-time, are kept
// zdtm-disturb: kill -s $((34 + 4)) $PID
#include "lib.h"

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define RT (SIGRTMIN + 4)

static int go, ready;
static pid_t worker_tid;
static char worker_err[200];

static void handler(int sig)
{
	(void)sig;
}

/* Take one pending signal without waiting; its number and value. */
static int take(const sigset_t *set, int *value)
{
	siginfo_t si;
	struct timespec zero = { 0, 0 };
	int s = sigtimedwait(set, &si, &zero);
	*value = s > 0 ? si.si_value.sival_int : 0;
	return s;
}

static void *worker(void *arg)
{
	sigset_t *set = arg;
	int v;
	worker_tid = gettid();
	__atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&go, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &go, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	/* Its private SIGUSR1 first (thread-directed signals come first). */
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (take(&usr1, &v) != SIGUSR1)
		snprintf(worker_err, sizeof(worker_err), "the thread's own SIGUSR1 is gone");
	else if (take(&usr1, &v) == SIGUSR1)
		snprintf(worker_err, sizeof(worker_err), "a second SIGUSR1 is pending");
	(void)set;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;
	test_init(argc, argv);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, RT);
	sigaddset(&set, SIGRTMIN + 6);
	struct sigaction sa = { .sa_handler = handler };
	for (int s = 1; s < NSIG; s++)
		if (sigismember(&set, s))
			SYS(sigaction(s, &sa, NULL));
	SYS(sigprocmask(SIG_BLOCK, &set, NULL)); /* the thread inherits it */
	CHECK(!pthread_create(&th, NULL, worker, &set), "pthread_create");
	while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST))
		usleep(1000);
	/* Shared: SIGHUP and three queued RT signals with values; per thread:
	 * SIGUSR1 to the worker and RT+2 to the main thread. */
	SYS(kill(getpid(), SIGHUP));
	for (int i = 1; i <= 3; i++)
		SYS(sigqueue(getpid(), RT, (union sigval){ .sival_int = 100 + i }));
	SYS(syscall(SYS_tgkill, getpid(), worker_tid, SIGUSR1));
	SYS(syscall(SYS_tgkill, getpid(), getpid(), SIGRTMIN + 6));
	test_ready();
	test_waitsig();

	int v, s;
	sigset_t rt6;
	sigemptyset(&rt6);
	sigaddset(&rt6, SIGRTMIN + 6);
	CHECK(take(&rt6, &v) == SIGRTMIN + 6, "the main thread's own signal is gone");
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	CHECK(take(&usr1, &v) < 0, "SIGUSR1 is pending for the main thread too");
	CHECK(take(&set, &v) == SIGHUP, "the shared SIGHUP is gone");
	for (int i = 1; i <= 3; i++) {
		s = take(&set, &v);
		CHECK(s == RT && v == 100 + i, "queued RT signal %d: got signal %d value %d", i, s, v);
	}
	s = take(&set, &v);
	CHECK(s < 0, "an extra signal %d (value %d) is pending", s, v);
	__atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &go, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	CHECK(!pthread_join(th, NULL), "pthread_join");
	CHECK(!worker_err[0], "%s", worker_err);
	pass();
}
