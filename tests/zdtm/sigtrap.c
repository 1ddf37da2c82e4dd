// zdtm-desc: SIGTRAP's own disposition and a pending SIGTRAP survive the dump (whose batched queries end in a trap of their own)
// zdtm-disturb: gdb_do 'set var traps = 7'
#include "lib.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t traps;

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code == SI_USER || si->si_code == SI_TKILL)
		traps++;
}

static void catch_trap(void)
{
	struct sigaction sa = { .sa_sigaction = on_trap, .sa_flags = SA_SIGINFO | SA_RESTART };
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR1);
	SYS(sigaction(SIGTRAP, &sa, NULL));
}

/* The handler with its flags and mask, as installed. */
static const char *trap_action_changed(void)
{
	struct sigaction sa;
	SYS(sigaction(SIGTRAP, NULL, &sa));
	if (!(sa.sa_flags & SA_SIGINFO) || sa.sa_sigaction != on_trap)
		return "the handler is gone";
	if (!(sa.sa_flags & SA_RESTART))
		return "SA_RESTART is gone";
	if (!sigismember(&sa.sa_mask, SIGUSR1))
		return "the mask lost SIGUSR1";
	return NULL;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	catch_trap();
	/* A child with SIGTRAP blocked and one pending. */
	int ready[2], go[2];
	SYS(pipe(ready));
	SYS(pipe(go));
	pid_t c = fork();
	CHECK(c >= 0, "fork: %m");
	if (c == 0) {
		sigset_t trap;
		sigemptyset(&trap);
		sigaddset(&trap, SIGTRAP);
		SYS(sigprocmask(SIG_BLOCK, &trap, NULL));
		SYS(kill(getpid(), SIGTRAP));
		char b = 'r';
		SYS(write(ready[1], &b, 1));
		while (read(go[0], &b, 1) < 0 && errno == EINTR)
			;
		sigset_t pend;
		sigpending(&pend);
		if (!sigismember(&pend, SIGTRAP))
			fail("child: the pending SIGTRAP is gone");
		if (trap_action_changed())
			fail("child: %s", trap_action_changed());
		SYS(sigprocmask(SIG_UNBLOCK, &trap, NULL));
		if (traps != 1)
			fail("child: the pending SIGTRAP ran the handler %d times", (int)traps);
		pass();
	}
	char b;
	CHECK(read(ready[0], &b, 1) == 1, "child not ready");
	test_ready();
	test_waitsig();

	const char *why = trap_action_changed();
	CHECK(!why, "%s", why);
	CHECK(raise(SIGTRAP) == 0 && traps == 1, "raise(SIGTRAP) ran the handler %d times",
	      (int)traps);
	b = 'g';
	SYS(write(go[1], &b, 1));
	int st;
	CHECK(waitpid(c, &st, 0) == c, "waitpid: %m");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child failed (status %#x)", st);
	pass();
}
