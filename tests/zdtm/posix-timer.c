// zdtm-desc: POSIX timers (periodic, signalling with a value; one-shot an hour away) are kept
// zdtm-disturb: gdb_call '(long)syscall(226, *(int *)&periodic_id)'
#include "lib.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#define SIG (SIGRTMIN + 1)

static volatile int fired, bad_value;
static timer_t periodic, oneshot;
int periodic_id; /* the kernel's timer id, for the disturbance */

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	if (si->si_code != SI_TIMER || si->si_value.sival_int != 4242)
		bad_value++;
	fired++;
}

static double secs(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return secs(&t);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	struct sigaction sa = { .sa_sigaction = on_timer, .sa_flags = SA_SIGINFO | SA_RESTART };
	SYS(sigaction(SIG, &sa, NULL));
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIG,
			       .sigev_value.sival_int = 4242 };
	SYS(timer_create(CLOCK_MONOTONIC, &ev, &periodic));
	struct sigevent none = { .sigev_notify = SIGEV_NONE };
	SYS(timer_create(CLOCK_REALTIME, &none, &oneshot));
	periodic_id = (int)(long)periodic;
	struct itimerspec p = { { 0, 50000000 }, { 0, 50000000 } }, o = { { 0, 0 }, { 3600, 0 } };
	SYS(timer_settime(periodic, 0, &p, NULL));
	SYS(timer_settime(oneshot, 0, &o, NULL));
	double start = now();
	test_ready();
	test_waitsig();

	struct itimerspec cur;
	SYS(timer_gettime(periodic, &cur));
	CHECK(cur.it_interval.tv_nsec == 50000000 && cur.it_interval.tv_sec == 0,
	      "the periodic timer's interval is %.3f s", secs(&cur.it_interval));
	SYS(timer_gettime(oneshot, &cur));
	double elapsed = now() - start, left = secs(&cur.it_value);
	/* Checkpointed time may count or not; the timer must not gain time. */
	CHECK(left <= 3600 && left >= 3600 - elapsed - 10,
	      "the one-shot timer has %.3f s left after %.3f s", left, elapsed);
	int before = fired;
	for (int i = 0; i < 20 && fired - before < 5; i++)
		usleep(50000);
	CHECK(fired - before >= 5, "the periodic timer fired %d times in a second", fired - before);
	CHECK(!bad_value, "%d timer signals carried the wrong siginfo", bad_value);
	pass();
}
