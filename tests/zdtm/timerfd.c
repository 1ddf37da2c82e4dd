// zdtm-desc: timerfds (periodic, still firing; one-shot an hour away) keep their settings
// zdtm-disturb: gdb_do 'set $t = (long *)malloc(32)' 'set $t[0] = 0' 'set $t[1] = 0' 'set $t[2] = 0' 'set $t[3] = 0' 'call (int)timerfd_settime(10, 0, $t, 0)'
#include "lib.h"

#include <poll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

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
	fd_move((int)SYS(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)), 10);
	fd_move((int)SYS(timerfd_create(CLOCK_REALTIME, 0)), 11);
	struct itimerspec p = { { 0, 100000000 }, { 0, 100000000 } }, o = { { 0, 0 }, { 3600, 0 } };
	SYS(timerfd_settime(10, 0, &p, NULL));
	SYS(timerfd_settime(11, 0, &o, NULL));
	double start = now();
	test_ready();
	test_waitsig();

	struct itimerspec cur;
	SYS(timerfd_gettime(10, &cur));
	CHECK(cur.it_interval.tv_sec == 0 && cur.it_interval.tv_nsec == 100000000,
	      "the periodic interval is %.3f s", secs(&cur.it_interval));
	SYS(timerfd_gettime(11, &cur));
	double elapsed = now() - start, left = secs(&cur.it_value);
	/* Checkpointed time may count or not; the timer must not gain time. */
	CHECK(left <= 3600 && left >= 3600 - elapsed - 10,
	      "the one-shot timer has %.3f s left after %.3f s", left, elapsed);
	/* It keeps firing: twice in a row, an expiration comes within 2 s. */
	for (int i = 0; i < 2; i++) {
		uint64_t n = 0;
		struct pollfd pfd = { .fd = 10, .events = POLLIN };
		CHECK(poll(&pfd, 1, 2000) == 1, "the periodic timer stopped firing");
		CHECK(read(10, &n, 8) == 8 && n >= 1, "reading the timerfd: %m");
	}
	pass();
}
