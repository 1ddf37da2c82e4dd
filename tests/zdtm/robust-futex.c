// zdtm-desc: robust futex lists are kept: a child dying with a robust mutex held makes it EOWNERDEAD
// zdtm-disturb: PID=$(child_of $PID) gdb_call '(long)syscall(273, 0, 24)'
#include "lib.h"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct robust {
	void *head;
	size_t len;
};

static struct robust robust_list(pid_t pid)
{
	struct robust r;
	SYS(syscall(SYS_get_robust_list, pid, &r.head, &r.len));
	return r;
}

static pthread_mutex_t *mx;
static int up[2];

/* Takes the mutex and dies holding it once told to. */
static int child(void *arg)
{
	(void)arg;
	CHECK(!pthread_mutex_lock(mx), "child: lock");
	xwrite(up[1], "x", 1);
	close(up[0]), close(up[1]);
	test_waitsig();
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	mx = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(mx != MAP_FAILED, "mmap: %m");
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	CHECK(!pthread_mutex_init(mx, &a), "pthread_mutex_init");
	SYS(pipe(up));
	pid_t pid = test_fork(child, NULL);
	char c;
	xread(up[0], &c, 1);
	close(up[0]), close(up[1]);
	struct robust mine = robust_list(0), its = robust_list(pid);
	CHECK(mine.head && its.head, "no robust list registered");
	test_ready();
	test_waitsig();

	struct robust now = robust_list(0);
	CHECK(now.head == mine.head && now.len == mine.len, "our robust list is %p/%zu, was %p/%zu",
	      now.head, now.len, mine.head, mine.len);
	now = robust_list(pid);
	CHECK(now.head == its.head && now.len == its.len, "the child's robust list is %p/%zu, was %p/%zu",
	      now.head, now.len, its.head, its.len);
	SYS(kill(pid, SIGUSR2));
	test_wait_ok(pid);
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	int r = pthread_mutex_timedlock(mx, &deadline);
	CHECK(r == EOWNERDEAD, "locking the dead child's mutex gave %s, not EOWNERDEAD", strerror(r));
	pass();
}
