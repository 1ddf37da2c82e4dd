// zdtm-desc: SIGTRAP caught, ignored and pending survives the dump, whose batched queries and vmsplices end in a trap of their own (each process has 24 MiB of its own pages, enough for the pipes)
// zdtm-disturb: gdb_do 'set var traps = 7'
#include "lib.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define OWN_MB 24

static volatile sig_atomic_t traps;

/* Pages of this process's own (written after the fork, so not shared
 * copy-on-write with another). */
static void *own_pages(uint64_t seed)
{
	void *p = mmap(NULL, OWN_MB << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	CHECK(p != MAP_FAILED, "mmap %d MiB: %m", OWN_MB);
	datagen(p, OWN_MB << 20, seed);
	return p;
}

static void check_pages(const char *who, const void *p, uint64_t seed)
{
	ssize_t bad = datachk(p, OWN_MB << 20, seed);
	CHECK(bad < 0, "%s: its pages differ at byte %zd", who, bad);
}

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
		void *own = own_pages(2);
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
		check_pages("child", own, 2);
		pass();
	}
	/* A second child that ignores SIGTRAP. */
	pid_t ign = fork();
	CHECK(ign >= 0, "fork: %m");
	if (ign == 0) {
		void *own = own_pages(3);
		SYS(signal(SIGTRAP, SIG_IGN) == SIG_ERR ? -1 : 0);
		char b = 'r';
		SYS(write(ready[1], &b, 1));
		while (read(go[0], &b, 1) < 0 && errno == EINTR)
			;
		struct sigaction sa;
		SYS(sigaction(SIGTRAP, NULL, &sa));
		if (sa.sa_handler != SIG_IGN)
			fail("ignoring child: SIGTRAP is no longer ignored");
		SYS(raise(SIGTRAP));
		check_pages("ignoring child", own, 3);
		pass();
	}
	void *own = own_pages(1);
	char b;
	CHECK(read(ready[0], &b, 1) == 1 && read(ready[0], &b, 1) == 1, "children not ready");
	test_ready();
	test_waitsig();

	const char *why = trap_action_changed();
	CHECK(!why, "%s", why);
	CHECK(raise(SIGTRAP) == 0 && traps == 1, "raise(SIGTRAP) ran the handler %d times",
	      (int)traps);
	check_pages("parent", own, 1);
	b = 'g';
	SYS(write(go[1], &b, 1));
	SYS(write(go[1], &b, 1));
	pid_t kids[2] = { c, ign };
	for (int i = 0; i < 2; i++) {
		int st;
		CHECK(waitpid(kids[i], &st, 0) == kids[i], "waitpid: %m");
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d failed (status %#x)", kids[i],
		      st);
	}
	pass();
}
