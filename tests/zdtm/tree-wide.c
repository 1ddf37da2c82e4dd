// zdtm-desc: a parent with 10 children: pids, parent links and per-child memory are kept
// zdtm-disturb: kill -9 $(child_of $PID)
#include "lib.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define NCHILD 10

static pid_t parent;
static uint64_t secret;

static int child(void *arg)
{
	int i = (int)(long)arg;
	secret = 0x5eed0000 + (uint64_t)i;
	test_waitsig();
	CHECK(getppid() == parent, "child %d: parent is %d, was %d", i, getppid(), parent);
	CHECK(secret == 0x5eed0000 + (uint64_t)i, "child %d: memory changed", i);
	return 10 + i;
}

int main(int argc, char **argv)
{
	pid_t pids[NCHILD];
	test_init(argc, argv);
	parent = getpid();
	for (int i = 0; i < NCHILD; i++)
		pids[i] = test_fork(child, (void *)(long)i);
	test_ready();
	test_waitsig();

	for (int i = 0; i < NCHILD; i++) {
		char path[64], stat[512];
		snprintf(path, sizeof(path), "/proc/%d/stat", pids[i]);
		read_text(path, stat, sizeof(stat));
		char state;
		int ppid;
		CHECK(sscanf(strrchr(stat, ')') + 1, " %c %d", &state, &ppid) == 2,
		      "bad %s", path);
		CHECK(ppid == parent && state != 'Z', "child %d: state %c ppid %d", pids[i], state, ppid);
	}
	for (int i = 0; i < NCHILD; i++)
		SYS(kill(pids[i], SIGUSR2));
	for (int i = 0; i < NCHILD; i++) {
		int st;
		CHECK(waitpid(pids[i], &st, 0) == pids[i], "waitpid %d: %m", pids[i]);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 10 + i,
		      "child %d (pid %d) ended with status 0x%x", i, pids[i], st);
	}
	CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "an unexpected child is left");
	pass();
}
