// zdtm-desc: threads in relative and absolute clock_nanosleep keep the time they have left
// zdtm-disturb: kill -USR1 $PID
#include "lib.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define LONG_SLEEP 3600

static struct timespec rem, abs_deadline;
static int rel_ret = -1, abs_ret = -1;
static volatile int woken_on_purpose;
static int early;

static double now_mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* Sleeps an hour; the main thread ends it with SIGUSR1 after restore. */
static void *rel_sleeper(void *arg)
{
	(void)arg;
	struct timespec req = { LONG_SLEEP, 0 };
	rel_ret = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem);
	early = !woken_on_purpose;
	return NULL;
}

static void *abs_sleeper(void *arg)
{
	(void)arg;
	abs_ret = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs_deadline, NULL);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t rel, abs;
	test_init(argc, argv);
	struct sigaction sa = { .sa_handler = on_usr1 };
	SYS(sigaction(SIGUSR1, &sa, NULL));
	/* SIGUSR1 must interrupt the sleeper, not the main thread. */
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	double start = now_mono();
	clock_gettime(CLOCK_MONOTONIC, &abs_deadline);
	abs_deadline.tv_sec += 2;
	CHECK(!pthread_create(&rel, NULL, rel_sleeper, NULL), "pthread_create");
	CHECK(!pthread_create(&abs, NULL, abs_sleeper, NULL), "pthread_create");
	SYS(sigprocmask(SIG_BLOCK, &usr1, NULL));
	usleep(100 * 1000);
	test_ready();
	test_waitsig();

	CHECK(!early && rel_ret == -1, "the relative sleep ended without a signal (it returned %s: "
	      "was the restart of the interrupted syscall lost?)", strerror(rel_ret));
	woken_on_purpose = 1;
	double slept = now_mono() - start;
	CHECK(!pthread_kill(rel, SIGUSR1), "pthread_kill");
	CHECK(!pthread_join(rel, NULL), "pthread_join");
	CHECK(rel_ret == EINTR, "the relative sleep returned %d, not EINTR", rel_ret);
	/* The time the container spent checkpointed may or may not count (the
	 * kernel counts it; restarting with the remaining time does not), but
	 * the sleep must neither grow nor lose the time we saw pass. */
	double left = (double)rem.tv_sec + (double)rem.tv_nsec / 1e9;
	CHECK(left <= LONG_SLEEP && left >= LONG_SLEEP - slept - 10,
	      "%.3f s left after %.3f s of an %d s sleep", left, slept, LONG_SLEEP);
	/* The absolute sleep ends at its deadline, not before, not much after. */
	CHECK(!pthread_join(abs, NULL), "pthread_join");
	double end = now_mono();
	double deadline = (double)abs_deadline.tv_sec + (double)abs_deadline.tv_nsec / 1e9;
	CHECK(abs_ret == 0, "the absolute sleep returned %d", abs_ret);
	CHECK(end >= deadline, "the absolute sleep ended %.3f s early", deadline - end);
	pass();
}
