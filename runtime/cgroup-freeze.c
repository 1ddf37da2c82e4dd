/* Freezing and signalling the whole container. The cgroup2 freezer
 * (cgroup.freeze) is preferred whenever the container has a unified cgroup,
 * hybrid hosts included: it reports frozen tasks to ptrace, which the
 * checkpoint coordinator needs (see KERNEL-NOTES.md). v1's freezer.state is
 * the fallback. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "util.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The unified directory when its freezer can be used. */
static const char *unified_freezer(const struct rt_cgroup *cg)
{
	const char *dir = rt_cg_unified_path(cg);
	return dir && rt_cg_exists(dir, "cgroup.freeze") ? dir : NULL;
}

static int events_frozen(int fd, const char *path, int *frozen,
			 struct rt_err **err)
{
	char buf[256];
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);
	if (r < 0)
		return rt_err_set(err, errno, "read '%s'", path);
	buf[r] = '\0';
	uint64_t v = 0;
	if (!rt_cg_keyed(buf, "frozen", &v))
		return rt_err_set(err, 0, "'%s' has no \"frozen\" key", path);
	*frozen = v != 0;
	return 0;
}

/* Write cgroup.freeze, then wait for cgroup.events to agree. The kernel
 * signals changes of cgroup.events with POLLPRI, but at most one per 10 ms
 * (CGROUP_FILE_NOTIFY_MIN_INTV): right after another event (the container
 * just started, or a task just entered the cgroup) the notice of an idle
 * container's freeze, done in well under a millisecond, comes up to 10 ms
 * late. So the file is read again after 50 us, then at doubling
 * intervals, until the notice is due anyway. */
static int freeze_v2(const char *dir, bool frozen, struct rt_err **err)
{
	if (rt_cg_write(dir, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
		return -1;
	cleanup_free char *path = xasprintf("%s/cgroup.events", dir);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_err_set(err, errno, "open '%s'", path);
	int64_t deadline = now_ms() + RT_CG_FREEZE_TIMEOUT_MS;
	long nap_us = 50;
	for (;;) {
		int state = -1;
		if (events_frozen(fd, path, &state, err) < 0)
			return -1;
		if (state == (int)frozen)
			return 0;
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return rt_err_set(err, ETIMEDOUT, "%s '%s': cgroup.events "
							  "still says frozen %d after %d ms",
					  frozen ? "freeze" : "thaw", dir, state,
					  RT_CG_FREEZE_TIMEOUT_MS);
		struct pollfd pfd = { .fd = fd, .events = POLLPRI };
		long wait_us = nap_us < 10000 ? nap_us : (left < 100 ? left : 100) * 1000;
		struct timespec ts = { wait_us / 1000000, (wait_us % 1000000) * 1000 };
		if (ppoll(&pfd, 1, &ts, NULL) < 0 && errno != EINTR)
			return rt_err_set(err, errno, "poll '%s'", path);
		if (nap_us < 10000)
			nap_us *= 2;
	}
}

static int v1_state(const char *dir, char **state, struct rt_err **err)
{
	return rt_cg_read(dir, "freezer.state", state, err);
}

/* freezer.state goes FREEZING -> FROZEN once every task stopped; a task in
 * an uninterruptible sleep can hold it in FREEZING, so the request is
 * repeated now and then. On timeout the cgroup is thawed again. */
static int freeze_v1(const char *dir, bool frozen, struct rt_err **err)
{
	const char *want = frozen ? "FROZEN" : "THAWED";
	int64_t start = now_ms(), last_write = -1000;
	for (;;) {
		int64_t t = now_ms();
		if (t - last_write >= 100) {
			if (rt_cg_write(dir, "freezer.state", want, err) < 0)
				return -1;
			last_write = t;
		}
		cleanup_free char *state = NULL;
		if (v1_state(dir, &state, err) < 0)
			return -1;
		if (strcmp(state, want) == 0)
			return 0;
		if (t - start > RT_CG_FREEZE_TIMEOUT_MS) {
			if (frozen)
				rt_cg_write(dir, "freezer.state", "THAWED", NULL);
			return rt_err_set(err, ETIMEDOUT, "%s '%s': freezer.state "
							  "still %s after %d ms",
					  frozen ? "freeze" : "thaw", dir, state,
					  RT_CG_FREEZE_TIMEOUT_MS);
		}
		sleep_ms(t - start < 50 ? 1 : 10);
	}
}

static bool v1_is_thawed(const char *dir)
{
	cleanup_free char *state = NULL;
	if (rt_cg_read(dir, "freezer.state", &state, NULL) < 0)
		return true;
	return strcmp(state, "THAWED") == 0;
}

int rt_cgroup_freeze(const struct rt_cgroup *cg, bool frozen,
		     struct rt_err **err)
{
	const char *v2 = unified_freezer(cg);
	const char *v1 = rt_cg_v1_path(cg, "freezer");
	if (v2 == NULL && v1 == NULL)
		return rt_err_set(err, ENOTSUP, "%s cgroup '%s': no freezer",
				  frozen ? "freeze" : "thaw", cg->rel);
	if (v2 && freeze_v2(v2, frozen, err) < 0)
		return -1;
	/* On hybrid hosts v1's freezer may hold the tasks too (frozen by an
	 * older tool): thawing has to release both. */
	if (v1 && (v2 == NULL || (!frozen && !v1_is_thawed(v1))) &&
	    freeze_v1(v1, frozen, err) < 0)
		return -1;
	return 0;
}

int rt_cgroup_is_frozen(const struct rt_cgroup *cg, bool *frozen,
			struct rt_err **err)
{
	*frozen = false;
	const char *v2 = unified_freezer(cg);
	const char *v1 = rt_cg_v1_path(cg, "freezer");
	if (v2) {
		cleanup_free char *path = xasprintf("%s/cgroup.events", v2);
		cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return rt_err_set(err, errno, "open '%s'", path);
		int state = 0;
		if (events_frozen(fd, path, &state, err) < 0)
			return -1;
		*frozen = state;
	}
	if (!*frozen && v1) {
		cleanup_free char *state = NULL;
		if (v1_state(v1, &state, err) < 0)
			return -1;
		*frozen = strcmp(state, "FROZEN") == 0;
	}
	if (v2 == NULL && v1 == NULL)
		return rt_err_set(err, ENOTSUP, "cgroup '%s': no freezer", cg->rel);
	return 0;
}

static int kill_each(const struct rt_cgroup *cg, int sig, struct rt_err **err)
{
	cleanup_free pid_t *pids = NULL;
	size_t n = 0;
	if (rt_cgroup_pids(cg, &pids, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			return rt_err_set(err, errno, "kill %d with signal %d",
					  (int)pids[i], sig);
	return 0;
}

int rt_cgroup_signal_all(const struct rt_cgroup *cg, int sig,
			 struct rt_err **err)
{
	const char *v2 = rt_cg_unified_path(cg);
	if (sig == SIGKILL && v2 && rt_cg_exists(v2, "cgroup.kill"))
		return rt_cg_write(v2, "cgroup.kill", "1", err);
	/* Frozen, nothing can fork between listing and signalling. */
	bool was_frozen = false, can_freeze = unified_freezer(cg) ||
					      rt_cg_v1_path(cg, "freezer");
	if (can_freeze) {
		if (rt_cgroup_is_frozen(cg, &was_frozen, err) < 0)
			return rt_err_wrap(err, "signal cgroup '%s'", cg->rel);
		if (!was_frozen && rt_cgroup_freeze(cg, true, err) < 0)
			return rt_err_wrap(err, "signal cgroup '%s'", cg->rel);
	}
	int r = kill_each(cg, sig, err);
	if (can_freeze && !was_frozen && rt_cgroup_freeze(cg, false, err) < 0)
		r = -1;
	return r < 0 ? rt_err_wrap(err, "signal cgroup '%s'", cg->rel) : 0;
}
