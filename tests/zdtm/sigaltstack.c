// zdtm-desc: alternate signal stacks (main thread and a second thread) are kept and used
// zdtm-disturb: gdb_do 'set $s = (long *)malloc(24)' 'set $s[0] = 0' 'set $s[1] = 2' 'set $s[2] = 0' 'call (int)sigaltstack($s, 0)'
#include "lib.h"

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SZ (64 * 1024)

static char main_stack[SZ], thread_stack[SZ];
static __thread volatile uintptr_t handler_sp; /* the handler's stack pointer */
static int go, ready;
static char thread_err[200];

static void on_usr1(int sig)
{
	(void)sig;
	uintptr_t sp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	handler_sp = sp;
}

/* The alternate stack is still set, and a SA_ONSTACK handler runs on it. */
static const char *check(const char *stack)
{
	stack_t ss;
	if (sigaltstack(NULL, &ss) < 0)
		return "sigaltstack failed";
	if (ss.ss_sp != stack || ss.ss_size != SZ || ss.ss_flags != 0)
		return "the alternate stack changed";
	handler_sp = 0;
	pthread_kill(pthread_self(), SIGUSR1);
	if (!(handler_sp >= (uintptr_t)stack && handler_sp < (uintptr_t)stack + SZ))
		return "the handler did not run on the alternate stack";
	return NULL;
}

static void set_stack(char *stack)
{
	stack_t ss = { .ss_sp = stack, .ss_size = SZ };
	SYS(sigaltstack(&ss, NULL));
}

static void *worker(void *arg)
{
	(void)arg;
	set_stack(thread_stack);
	__atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&go, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &go, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	const char *err = check(thread_stack);
	if (err)
		snprintf(thread_err, sizeof(thread_err), "second thread: %s", err);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;
	test_init(argc, argv);
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_ONSTACK };
	SYS(sigaction(SIGUSR1, &sa, NULL));
	set_stack(main_stack);
	CHECK(!pthread_create(&th, NULL, worker, NULL), "pthread_create");
	while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST))
		usleep(1000);
	test_ready();
	test_waitsig();

	const char *err = check(main_stack);
	CHECK(!err, "main thread: %s", err);
	__atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &go, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	CHECK(!pthread_join(th, NULL), "pthread_join");
	CHECK(!thread_err[0], "%s", thread_err);
	pass();
}
