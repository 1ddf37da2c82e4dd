// zdtm-desc: an ITIMER_REAL that expired while SIGALRM is blocked (value 0, its interval kept, SIGALRM pending) fires again at its interval once the signal is taken
// zdtm-disturb: gdb_do 'call (int)setitimer(0, (void *)&off, 0)'
#include "lib.h"

#include <signal.h>
#include <sys/time.h>
#include <time.h>

#define INTERVAL_MS 50

static volatile sig_atomic_t alarms;
struct itimerval off; /* zeros, for the disturbance */

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static int interval_ms(void)
{
	struct itimerval v;
	SYS(getitimer(ITIMER_REAL, &v));
	return (int)(v.it_interval.tv_sec * 1000 + v.it_interval.tv_usec / 1000);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	struct sigaction sa = { .sa_handler = on_alarm };
	sigemptyset(&sa.sa_mask);
	SYS(sigaction(SIGALRM, &sa, NULL));
	sigset_t alrm;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	SYS(sigprocmask(SIG_BLOCK, &alrm, NULL));
	struct itimerval it = { .it_interval = { 0, INTERVAL_MS * 1000 }, .it_value = { 0, 10000 } };
	SYS(setitimer(ITIMER_REAL, &it, NULL));
	/* It expires; with SIGALRM blocked it stays expired until the signal
	 * is taken: value 0, interval kept. */
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	nanosleep(&pause, NULL);
	struct itimerval now;
	SYS(getitimer(ITIMER_REAL, &now));
	CHECK(!now.it_value.tv_sec && !now.it_value.tv_usec && interval_ms() == INTERVAL_MS,
	      "the expired timer does not look expired (value %ld us, interval %d ms)",
	      (long)now.it_value.tv_usec, interval_ms());
	test_ready();
	test_waitsig();

	CHECK(interval_ms() == INTERVAL_MS, "the interval is %d ms, not %d", interval_ms(),
	      INTERVAL_MS);
	sigset_t pend;
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGALRM), "SIGALRM is no longer pending");
	SYS(sigprocmask(SIG_UNBLOCK, &alrm, NULL));
	CHECK(alarms == 1, "the pending SIGALRM ran the handler %d times", (int)alarms);
	/* taking it re-armed the timer from its interval */
	for (int i = 0; i < 100 && alarms < 3; i++) {
		struct timespec ms10 = { 0, 10 * 1000 * 1000 };
		nanosleep(&ms10, NULL);
	}
	CHECK(alarms >= 3, "the timer did not fire again at its interval (%d alarms in 1 s)",
	      (int)alarms);
	pass();
}
