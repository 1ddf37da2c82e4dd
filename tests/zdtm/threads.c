// zdtm-desc: three threads keep their tids and thread-local values
// zdtm-disturb: gdb_do 'set *(long *)(((long *)&tls_addr)[1]) = 7'
#include "lib.h"

#include <dirent.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NTHREADS 3

static __thread uint64_t tls_val;
/* Where each thread's tls_val lives (global, so a debugger can reach it). */
uint64_t *tls_addr[NTHREADS];
static pid_t tids[NTHREADS];
static int go, started;
static char errs[NTHREADS][160];

static void *worker(void *arg)
{
	int i = (int)(long)arg;
	tids[i] = gettid();
	tls_val = 0xabcd0000 + (uint64_t)i;
	tls_addr[i] = &tls_val;
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&go, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &go, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	if (gettid() != tids[i])
		snprintf(errs[i], sizeof(errs[i]), "thread %d: tid %d, was %d", i, gettid(), tids[i]);
	else if (tls_val != 0xabcd0000 + (uint64_t)i || tls_addr[i] != &tls_val)
		snprintf(errs[i], sizeof(errs[i]), "thread %d: TLS value 0x%llx at %p", i,
			 (unsigned long long)tls_val, (void *)&tls_val);
	return NULL;
}

static int count_tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	CHECK(d, "opendir /proc/self/task: %m");
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		pid_t t = atoi(e->d_name);
		bool known = t == getpid();
		for (int i = 0; i < NTHREADS; i++)
			known |= t == tids[i];
		CHECK(!t || known, "unknown thread %d in /proc/self/task", t);
		n += t != 0;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	pthread_t th[NTHREADS];
	test_init(argc, argv);
	tls_val = 42;
	for (int i = 0; i < NTHREADS; i++)
		CHECK(!pthread_create(&th[i], NULL, worker, (void *)(long)i), "pthread_create");
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < NTHREADS)
		usleep(1000);
	test_ready();
	test_waitsig();

	CHECK(count_tasks() == NTHREADS + 1, "wrong number of threads");
	__atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &go, FUTEX_WAKE_PRIVATE, NTHREADS, NULL, NULL, 0);
	for (int i = 0; i < NTHREADS; i++) {
		CHECK(!pthread_join(th[i], NULL), "pthread_join");
		CHECK(!errs[i][0], "%s", errs[i]);
	}
	CHECK(tls_val == 42, "main thread's TLS value is %llu", (unsigned long long)tls_val);
	pass();
}
