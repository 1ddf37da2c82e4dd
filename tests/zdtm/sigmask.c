// zdtm-desc: blocked-signal masks of the main thread and of another thread are kept
// zdtm-disturb: gdb_do 'set $p = (long *)malloc(16)' 'set *$p = 0x200' 'call (int)sigprocmask(1, $p, 0)'
#include "lib.h"

#include <pthread.h>
#include <signal.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

static sigset_t main_set, thread_set, thread_now;
static int go, ready;

static void *worker(void *arg)
{
	(void)arg;
	SYS(pthread_sigmask(SIG_SETMASK, &thread_set, NULL));
	__atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&go, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &go, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	pthread_sigmask(SIG_SETMASK, NULL, &thread_now);
	return NULL;
}

static void describe_diff(const sigset_t *a, const sigset_t *b, const char *who)
{
	for (int s = 1; s < NSIG; s++)
		CHECK(sigismember(a, s) == sigismember(b, s), "%s: signal %d is %sblocked", who, s,
		      sigismember(a, s) ? "" : "not ");
}

int main(int argc, char **argv)
{
	pthread_t th;
	test_init(argc, argv);
	sigemptyset(&main_set);
	sigaddset(&main_set, SIGUSR1);
	sigaddset(&main_set, SIGHUP);
	sigaddset(&main_set, SIGRTMIN + 3);
	sigaddset(&main_set, SIGRTMAX);
	sigemptyset(&thread_set);
	sigaddset(&thread_set, SIGPIPE);
	sigaddset(&thread_set, SIGALRM);
	sigaddset(&thread_set, SIGRTMIN + 10);
	SYS(sigprocmask(SIG_SETMASK, &main_set, NULL));
	CHECK(!pthread_create(&th, NULL, worker, NULL), "pthread_create");
	while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST))
		usleep(1000);
	test_ready();
	test_waitsig();

	sigset_t now;
	SYS(sigprocmask(SIG_SETMASK, NULL, &now));
	describe_diff(&now, &main_set, "main thread");
	__atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &go, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	CHECK(!pthread_join(th, NULL), "pthread_join");
	describe_diff(&thread_now, &thread_set, "second thread");
	pass();
}
