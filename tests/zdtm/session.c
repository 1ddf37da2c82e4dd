// zdtm-desc: sessions and process groups (setsid, setpgid) keep their structure
// zdtm-disturb: PID=$(child_of $(child_of $(child_of $PID))) gdb_call '(int)setpgid(0, 0)'
#include "lib.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* The tree: test -> A (setsid) -> B (setpgid(0,0): own group in A's session)
 *   -> C (stays in B's group) and D (joins A's group). */
static int up[2];

static int sleeper(void)
{
	xwrite(up[1], "x", 1);
	close(up[1]);
	for (;;)
		pause();
	return 0;
}

static int proc_d(void *arg)
{
	SYS(setpgid(0, *(pid_t *)arg));
	return sleeper();
}

static int proc_c(void *arg)
{
	(void)arg;
	return sleeper();
}

static int proc_b(void *arg)
{
	pid_t a = getppid();
	SYS(setpgid(0, 0));
	test_fork(proc_c, NULL);
	test_fork(proc_d, &a);
	(void)arg;
	return sleeper();
}

static int proc_a(void *arg)
{
	(void)arg;
	close(up[0]);
	SYS(setsid());
	test_fork(proc_b, NULL);
	return sleeper();
}

static pid_t child_of(pid_t pid, int nth)
{
	char path[96], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	read_text(path, buf, sizeof(buf));
	char *p = buf;
	for (int i = 0; i < nth && p; i++)
		p = strchr(p, ' '), p = p ? p + 1 : NULL;
	return p ? atoi(p) : 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	SYS(pipe(up));
	pid_t pid[4], pgid[4], sid[4];
	pid[0] = test_fork(proc_a, NULL);
	char buf[4];
	close(up[1]);
	xread(up[0], buf, 4);
	close(up[0]);
	pid[1] = child_of(pid[0], 0);
	pid[2] = child_of(pid[1], 0);
	pid[3] = child_of(pid[1], 1);
	for (int i = 0; i < 4; i++) {
		CHECK(pid[i] > 0, "process %c not found", 'A' + i);
		pgid[i] = (pid_t)SYS(getpgid(pid[i]));
		sid[i] = (pid_t)SYS(getsid(pid[i]));
	}
	CHECK(sid[0] == pid[0] && pgid[1] == pid[1] && pgid[2] == pid[1] && pgid[3] == pid[0] &&
		      sid[3] == pid[0],
	      "the tree was not built as planned");
	pid_t my_pgid = getpgrp(), my_sid = getsid(0);
	test_ready();
	test_waitsig();

	CHECK(getpgrp() == my_pgid && getsid(0) == my_sid, "the test's own pgid/sid changed");
	for (int i = 0; i < 4; i++) {
		pid_t g = getpgid(pid[i]), s = getsid(pid[i]);
		CHECK(g == pgid[i] && s == sid[i], "process %c (%d): pgid %d sid %d, were %d %d",
		      'A' + i, pid[i], g, s, pgid[i], sid[i]);
	}
	for (int i = 3; i >= 0; i--)
		kill(pid[i], SIGKILL);
	waitpid(pid[0], NULL, 0);
	pass();
}
