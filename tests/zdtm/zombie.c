// zdtm-desc: unreaped zombies (one exited, one killed) stay zombies with their status
// zdtm-disturb: gdb_call '(int)waitpid(-1, 0, 0)'
#include "lib.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	read_text(path, buf, sizeof(buf));
	return strrchr(buf, ')')[2];
}

/* Wait until pid is a zombie, without reaping it. */
static void wait_zombie(pid_t pid)
{
	siginfo_t si = { 0 };
	SYS(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT));
}

static int exits(void *arg)
{
	(void)arg;
	return 42;
}

static int sleeps(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	pid_t exited = test_fork(exits, NULL);
	pid_t killed = test_fork(sleeps, NULL);
	SYS(kill(killed, SIGKILL));
	wait_zombie(exited);
	wait_zombie(killed);
	test_ready();
	test_waitsig();

	CHECK(proc_state(exited) == 'Z', "%d is no zombie (state %c)", exited, proc_state(exited));
	CHECK(proc_state(killed) == 'Z', "%d is no zombie (state %c)", killed, proc_state(killed));
	int st;
	CHECK(waitpid(exited, &st, 0) == exited, "waitpid %d: %m", exited);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42, "%d: status 0x%x, not exit 42", exited, st);
	CHECK(waitpid(killed, &st, 0) == killed, "waitpid %d: %m", killed);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "%d: status 0x%x, not SIGKILL", killed, st);
	pass();
}
