// zdtm-desc: signal dispositions (handlers, flags, masks, SIG_IGN) are kept and handlers still run
// zdtm-disturb: gdb_do 'set $a = (long *)malloc(32)' 'set $a[0] = 1' 'set $a[1] = 0' 'set $a[2] = 0' 'set $a[3] = 0' 'call (long)syscall(13, 10, $a, 0, 8)'
#include "lib.h"

#include <signal.h>

static volatile sig_atomic_t hits[NSIG];
static volatile int info_code;

static void handler(int sig)
{
	hits[sig]++;
}

static void info_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	hits[sig]++;
	info_code = si->si_code;
}

static void set(int sig, void *fn, int flags, int masked)
{
	struct sigaction sa = { .sa_flags = flags };
	if (flags & SA_SIGINFO)
		sa.sa_sigaction = fn;
	else
		sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	if (masked)
		sigaddset(&sa.sa_mask, masked);
	SYS(sigaction(sig, &sa, NULL));
}

int main(int argc, char **argv)
{
	static struct sigaction before[NSIG];
	test_init(argc, argv);
	set(SIGUSR1, handler, SA_RESTART, SIGHUP);
	set(SIGHUP, info_handler, SA_SIGINFO | SA_NODEFER, SIGRTMIN + 5);
	set(SIGTERM, handler, SA_RESETHAND, 0);
	set(SIGINT, SIG_IGN, 0, 0);
	set(SIGRTMIN + 3, info_handler, SA_SIGINFO | SA_RESTART, SIGUSR1);
	for (int s = 1; s < NSIG; s++)
		sigaction(s, NULL, &before[s]);
	test_ready();
	test_waitsig();

	for (int s = 1; s < NSIG; s++) {
		struct sigaction now;
		if (sigaction(s, NULL, &now) < 0)
			continue;
		CHECK(now.sa_handler == before[s].sa_handler, "signal %d: handler %p, was %p", s,
		      (void *)now.sa_handler, (void *)before[s].sa_handler);
		CHECK(now.sa_flags == before[s].sa_flags, "signal %d: flags %#x, were %#x", s,
		      now.sa_flags, before[s].sa_flags);
		/* Compare signal by signal: glibc fills sa_mask beyond the
		 * kernel's 64 bits with whatever was on its stack. */
		for (int m = 1; m < NSIG; m++)
			CHECK(sigismember(&now.sa_mask, m) == sigismember(&before[s].sa_mask, m),
			      "signal %d: signal %d's place in sa_mask changed", s, m);
	}
	SYS(raise(SIGUSR1));
	SYS(raise(SIGHUP));
	SYS(raise(SIGTERM));
	SYS(raise(SIGINT));
	union sigval v = { .sival_int = 5 };
	SYS(sigqueue(getpid(), SIGRTMIN + 3, v));
	CHECK(hits[SIGUSR1] == 1 && hits[SIGHUP] == 1 && hits[SIGTERM] == 1 &&
		      hits[SIGRTMIN + 3] == 1,
	      "handlers ran %d %d %d %d times", hits[SIGUSR1], hits[SIGHUP], hits[SIGTERM],
	      hits[SIGRTMIN + 3]);
	CHECK(info_code == SI_QUEUE, "the SA_SIGINFO handler saw si_code %d", info_code);
	struct sigaction term;
	sigaction(SIGTERM, NULL, &term);
	CHECK(term.sa_handler == SIG_DFL, "SA_RESETHAND did not reset SIGTERM");
	pass();
}
