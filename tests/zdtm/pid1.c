// zdtm-desc: the test is pid 1 of its pid namespace; its children keep their pids and it reaps orphans
// zdtm-standalone: unshare --pid --fork --mount-proc
// zdtm-disturb: kill -9 $(child_of $PID)
#include "lib.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define NCHILD 3

static int child(void *arg)
{
	(void)arg;
	pid_t me = getpid();
	test_waitsig();
	return getpid() == me && getppid() == 1 ? 0 : 1;
}

/* Forks a grandchild and exits, so the grandchild is an orphan of pid 1. */
static int orphaner(void *arg)
{
	(void)arg;
	test_fork(child, NULL);
	return 0;
}

/* Our child that we did not fork: the orphan we inherited. */
static pid_t find_orphan(const pid_t *kids)
{
	char buf[256];
	read_text("/proc/1/task/1/children", buf, sizeof(buf));
	for (char *p = strtok(buf, " \n"); p; p = strtok(NULL, " \n")) {
		pid_t pid = atoi(p);
		bool ours = false;
		for (int i = 0; i < NCHILD; i++)
			ours |= pid == kids[i];
		if (!ours)
			return pid;
	}
	fail("the orphan did not become our child");
}

int main(int argc, char **argv)
{
	pid_t kids[NCHILD];
	test_init(argc, argv);
	CHECK(getpid() == 1, "the test is pid %d, not 1 (run it in a pid namespace)", getpid());
	for (int i = 0; i < NCHILD; i++)
		kids[i] = test_fork(child, NULL);
	test_wait_ok(test_fork(orphaner, NULL));
	pid_t orphan = find_orphan(kids);
	test_ready();
	test_waitsig();

	CHECK(getpid() == 1, "the test is pid %d after restore", getpid());
	for (int i = 0; i < NCHILD; i++)
		SYS(kill(kids[i], SIGUSR2));
	for (int i = 0; i < NCHILD; i++)
		test_wait_ok(kids[i]);
	int st;
	SYS(kill(orphan, SIGUSR2));
	CHECK(waitpid(-1, &st, 0) == orphan, "waitpid for the orphan %d: %m", orphan);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "orphan ended with status 0x%x", st);
	CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "an unexpected child is left");
	pass();
}
