// zdtm-desc: ITIMER_REAL (periodic) and ITIMER_VIRTUAL/PROF settings are kept; ITIMER_REAL keeps firing
// zdtm-disturb: gdb_do 'set $t = (long *)malloc(32)' 'set $t[0] = 0' 'set $t[1] = 0' 'set $t[2] = 0' 'set $t[3] = 0' 'call (int)setitimer(0, $t, 0)'
#include "lib.h"

#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

static volatile int alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static long usec(const struct timeval *tv)
{
	return tv->tv_sec * 1000000L + tv->tv_usec;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	SYS(sigaction(SIGALRM, &sa, NULL));
	/* The idle test never uses CPU time, so the virtual and profiling
	 * timers keep exactly their values. */
	struct itimerval real = { { 0, 100000 }, { 0, 100000 } };
	struct itimerval virt = { { 5, 0 }, { 30, 0 } }, prof = { { 7, 0 }, { 40, 0 } };
	SYS(setitimer(ITIMER_REAL, &real, NULL));
	SYS(setitimer(ITIMER_VIRTUAL, &virt, NULL));
	SYS(setitimer(ITIMER_PROF, &prof, NULL));
	test_ready();
	test_waitsig();

	struct itimerval now;
	SYS(getitimer(ITIMER_REAL, &now));
	CHECK(usec(&now.it_interval) == 100000, "ITIMER_REAL interval is %ld us", usec(&now.it_interval));
	CHECK(usec(&now.it_value) > 0 && usec(&now.it_value) <= 100000,
	      "ITIMER_REAL value is %ld us", usec(&now.it_value));
	SYS(getitimer(ITIMER_VIRTUAL, &now));
	CHECK(usec(&now.it_interval) == 5000000 && usec(&now.it_value) > 29000000,
	      "ITIMER_VIRTUAL is %ld/%ld us", usec(&now.it_interval), usec(&now.it_value));
	SYS(getitimer(ITIMER_PROF, &now));
	CHECK(usec(&now.it_interval) == 7000000 && usec(&now.it_value) > 39000000,
	      "ITIMER_PROF is %ld/%ld us", usec(&now.it_interval), usec(&now.it_value));
	int before = alarms;
	for (int i = 0; i < 10 && alarms - before < 3; i++)
		usleep(100000);
	CHECK(alarms - before >= 3, "ITIMER_REAL fired %d times in a second", alarms - before);
	pass();
}
