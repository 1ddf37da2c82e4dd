// zdtm-desc: a thread blocked in waitpid() gets its child's real exit status after restore
// zdtm-disturb: kill -9 $(child_of $PID)
#include "lib.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child;
static int status = -1;
static volatile int released;
static int early;

static void *waiter(void *arg)
{
	(void)arg;
	if (waitpid(child, &status, 0) != child)
		status = -2;
	early = !released;
	return NULL;
}

static int child_main(void *arg)
{
	(void)arg;
	test_waitsig();
	return 7;
}

int main(int argc, char **argv)
{
	pthread_t th;
	test_init(argc, argv);
	child = test_fork(child_main, NULL);
	CHECK(!pthread_create(&th, NULL, waiter, NULL), "pthread_create");
	usleep(100 * 1000);
	test_ready();
	test_waitsig();

	CHECK(!early && status == -1, "waitpid returned before the child was told to exit");
	released = 1;
	SYS(kill(child, SIGUSR2));
	CHECK(!pthread_join(th, NULL), "pthread_join");
	CHECK(!early, "waitpid returned too early");
	CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 7,
	      "the child's status is 0x%x, not exit 7", status);
	pass();
}
