// zdtm-desc: a chain of 10 processes, each the parent of the next, keeps its links
// zdtm-disturb: kill -9 $(child_of $(child_of $(child_of $PID)))
#include "lib.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEPTH 10

static int up[2]; /* every level writes a byte here once it exists */

/* Level d forks level d+1, waits for the signal, passes it down, then checks
 * its parent and its child's exit status (100 + the child's depth). */
static int level(int d)
{
	pid_t parent = getppid(), child = 0;
	if (d < DEPTH) {
		child = fork();
		if (child < 0)
			fail("fork at depth %d: %m", d);
		if (child == 0)
			_exit(level(d + 1));
	}
	xwrite(up[1], "x", 1);
	close(up[1]);
	test_waitsig();
	CHECK(getppid() == parent, "depth %d: parent is %d, was %d", d, getppid(),
	      parent);
	if (child) {
		int st;
		SYS(kill(child, SIGUSR2));
		CHECK(waitpid(child, &st, 0) == child, "depth %d: waitpid: %m", d);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 100 + d + 1,
		      "depth %d: child %d ended with status 0x%x", d, child, st);
	}
	return 100 + d;
}

static void on_ready(void)
{
	char buf[DEPTH];
	close(up[1]);
	xread(up[0], buf, DEPTH);
	close(up[0]);
	test_ready();
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	SYS(pipe(up));
	pid_t child = fork();
	if (child < 0)
		fail("fork: %m");
	if (child == 0) {
		close(up[0]);
		_exit(level(1));
	}
	on_ready();
	test_waitsig();
	int st;
	SYS(kill(child, SIGUSR2));
	CHECK(waitpid(child, &st, 0) == child, "waitpid: %m");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 101, "child %d ended with status 0x%x", child, st);
	pass();
}
