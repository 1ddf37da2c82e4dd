/* runtime/cgroup*.c against the real kernel. Every cgroup lives below
 * /ferry-test-PID (plus /ferry/ferry-test-PID for the default path); a
 * reaper process forked first removes all of them, killing what is inside,
 * when this process exits for any reason. Children die with us
 * (PR_SET_PDEATHSIG). Not root: everything is skipped. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cgroup.h"
#include "tap.h"
#include "util.h"

#define UNIFIED_ROOT "/sys/fs/cgroup/unified"

static char test_root[64]; /* "/ferry-test-PID" */
static char default_id[64];
static int reaper_fd = -1;
static bool hugetlb_was_on;

/* ---- helpers ---- */

static char *slurp(const char *dir, const char *file)
{
	char *s = NULL;
	struct rt_err *e = NULL;
	if (rt_cg_read(dir, file, &s, &e) < 0) {
		printf("#   %s\n", e->msg);
		rt_err_free(e);
		return xstrdup("(unreadable)");
	}
	return s;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static bool gone(const struct rt_cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		if (access(cg->paths[i], F_OK) == 0) {
			printf("#   still there: %s\n", cg->paths[i]);
			return false;
		}
	return true;
}

static const char *path_of(const struct rt_cgroup *cg, const char *name)
{
	for (size_t i = 0; i < cg->n; i++)
		if (strcmp(cg->names[i], name) == 0)
			return cg->paths[i];
	return NULL;
}

static void err_note(struct rt_err **e)
{
	if (*e)
		printf("#   %s\n", (*e)->msg);
	rt_err_free(*e);
	*e = NULL;
}

static bool err_has(struct rt_err *e, const char *what)
{
	return e && strstr(e->msg, what);
}

enum child_kind { SLEEPER, SPINNER, HOG, PROBE };

/* A child waits for a byte on *go (after being moved into a cgroup), then
 * sleeps, spins (after touching 1 MiB), eats memory or probes /dev/null and /dev/zero (exit code:
 * bit 0 null failed, bit 1 zero opened, bit 2 zero failed other than EPERM). */
static pid_t spawn(enum child_kind kind, int *go)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid != 0) {
		close(p[0]);
		*go = p[1];
		return pid;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(reaper_fd);
	close(p[1]);
	char c;
	if (read(p[0], &c, 1) != 1)
		_exit(100);
	switch (kind) {
	case SLEEPER:
		for (;;)
			pause();
	case SPINNER: { /* touch fresh memory: charged to the new cgroup */
		volatile char *m = malloc(1 << 20);
		for (size_t i = 0; m && i < 1 << 20; i += 4096)
			m[i] = 1;
		for (volatile unsigned long i = 0;; i++)
			;
	}
	case HOG:
		for (int i = 0; i < 1024; i++) {
			volatile char *m = malloc(1 << 20);
			for (size_t j = 0; m && j < 1 << 20; j += 4096)
				m[j] = (char)i;
		}
		_exit(0);
	case PROBE: {
		int rc = 0;
		int fd = open("/dev/null", O_RDWR);
		if (fd < 0)
			rc |= 1;
		fd = open("/dev/zero", O_RDONLY);
		if (fd >= 0)
			rc |= 2;
		else if (errno != EPERM)
			rc |= 4;
		_exit(rc);
	}
	}
	_exit(101);
}

static void go(int *fd)
{
	if (*fd >= 0 && write(*fd, "g", 1) != 1)
		printf("#   cannot release child\n");
	close(*fd);
	*fd = -1;
}

static int reap(pid_t pid)
{
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

static pid_t spawn_in(const struct rt_cgroup *cg, enum child_kind kind)
{
	int fd = -1;
	pid_t pid = spawn(kind, &fd);
	struct rt_err *e = NULL;
	if (pid < 0 || rt_cgroup_enter(cg, pid, &e) < 0) {
		err_note(&e);
		if (pid > 0) {
			kill(pid, SIGKILL);
			close(fd);
			reap(pid);
		}
		return -1;
	}
	go(&fd);
	return pid;
}

/* State letter and utime+stime from /proc/PID/stat. */
static char proc_state(pid_t pid, unsigned long long *ticks)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (p == NULL)
		return '?';
	char state = p[2];
	unsigned long long ut = 0, st = 0;
	/* after ") S": ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (sscanf(p + 4, "%*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		   &ut, &st) != 2)
		return '?';
	*ticks = ut + st;
	return state;
}

static struct rt_cgroup *resolve(const char *sub)
{
	cleanup_free char *p = xasprintf("%s%s", test_root, sub);
	struct rt_cgroup *cg = NULL;
	struct rt_err *e = NULL;
	if (rt_cgroup_resolve(p, "x", &cg, &e) < 0)
		err_note(&e);
	return cg;
}

/* A handle without the unified hierarchy: exercises v1's freezer and kill. */
static struct rt_cgroup *v1_only(const struct rt_cgroup *cg)
{
	char *names[32], *paths[32];
	size_t n = 0;
	for (size_t i = 0; i < cg->n && n < 32; i++)
		if (strcmp(cg->names[i], RT_CG_UNIFIED) != 0) {
			names[n] = cg->names[i];
			paths[n++] = cg->paths[i];
		}
	return rt_cgroup_from_parts(RT_CGROUP_V1, n, names, paths, cg->rel);
}

/* ---- the reaper ---- */

static bool unified_has(const char *file, const char *word)
{
	cleanup_free char *s = NULL;
	if (rt_cg_read(UNIFIED_ROOT, file, &s, NULL) < 0)
		return false;
	return strstr(s, word) != NULL;
}

static void cleanup_everything(void)
{
	const char *roots[2] = { test_root, NULL };
	cleanup_free char *def = xasprintf("/ferry/%s", default_id);
	roots[1] = def;
	for (size_t i = 0; i < 2; i++) {
		struct rt_cgroup *cg = NULL;
		struct rt_err *e = NULL;
		if (rt_cgroup_resolve(roots[i], "x", &cg, &e) == 0 &&
		    rt_cgroup_destroy(cg, &e) < 0)
			fprintf(stderr, "reaper: %s\n", e->msg);
		rt_err_free(e);
		rt_cgroup_free(cg);
	}
	if (!hugetlb_was_on && unified_has("cgroup.subtree_control", "hugetlb"))
		rt_cg_write(UNIFIED_ROOT, "cgroup.subtree_control", "-hugetlb", NULL);
}

static pid_t start_reaper(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	hugetlb_was_on = unified_has("cgroup.subtree_control", "hugetlb");
	pid_t pid = fork();
	if (pid == 0) {
		close(p[1]);
		char c;
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		cleanup_everything();
		_exit(0);
	}
	close(p[0]);
	reaper_fd = p[1];
	return pid;
}

/* ---- detection and resolving ---- */

static enum rt_cgroup_layout expected_layout(void)
{
	struct statfs s;
	if (statfs("/sys/fs/cgroup", &s) == 0 && s.f_type == 0x63677270)
		return RT_CGROUP_V2;
	if (statfs(UNIFIED_ROOT, &s) == 0 && s.f_type == 0x63677270)
		return RT_CGROUP_HYBRID;
	return RT_CGROUP_V1;
}

static void test_detect(void)
{
	enum rt_cgroup_layout l = RT_CGROUP_V1;
	struct rt_err *e = NULL;
	int r = rt_cgroup_detect(&l, &e);
	err_note(&e);
	TAP_OK(r == 0 && l == expected_layout(), "detect: layout is %s",
	       rt_cgroup_layout_name(l));
}

/* ferry's own cgroup in hierarchy ctrl, from /proc/self/cgroup. */
static char *own_cgroup(const char *ctrl)
{
	cleanup_free char *text = NULL;
	if (rt_read_file("/proc/self/cgroup", &text, NULL, NULL) < 0)
		return NULL;
	cleanup_free char *needle = xasprintf(":%s:", ctrl);
	char *p = strstr(text, needle);
	if (p == NULL)
		return NULL;
	p += strlen(needle);
	return xasprintf("%.*s", (int)strcspn(p, "\n"), p);
}

static void test_resolve(void)
{
	struct rt_err *e = NULL;
	cleanup_cgroup struct rt_cgroup *def = NULL, *abs = NULL, *rel = NULL;
	int r = rt_cgroup_resolve(NULL, "c1", &def, &e);
	err_note(&e);
	TAP_OK(r == 0 && strcmp(def->rel, "/ferry/c1") == 0,
	       "resolve default: rel /ferry/c1");
	const char *mem = def ? path_of(def, "memory") : NULL;
	TAP_STREQ(mem, "/sys/fs/cgroup/memory/ferry/c1", "resolve default: memory path");
	bool every = def && def->n > 0;
	for (size_t i = 0; def && i < def->n; i++)
		every = every && strstr(def->paths[i], "/ferry/c1") != NULL;
	TAP_OK(every && path_of(def, "name=systemd") &&
		       (expected_layout() != RT_CGROUP_HYBRID || path_of(def, "unified")),
	       "resolve default: every hierarchy (%zu), name=systemd and unified included",
	       def ? def->n : 0);

	r = rt_cgroup_resolve("/a//b/./c/", "c1", &abs, &e);
	err_note(&e);
	TAP_OK(r == 0 && strcmp(abs->rel, "/a/b/c") == 0, "resolve absolute: normalized");
	TAP_STREQ(abs ? path_of(abs, "unified") : NULL, UNIFIED_ROOT "/a/b/c",
		  "resolve absolute: unified path");

	r = rt_cgroup_resolve("sub/x", "c1", &rel, &e);
	err_note(&e);
	cleanup_free char *own = own_cgroup("memory");
	cleanup_free char *want = own ? xasprintf("/sys/fs/cgroup/memory%s/sub/x",
						  strcmp(own, "/") == 0 ? "" : own)
				     : NULL;
	TAP_STREQ(r == 0 ? path_of(rel, "memory") : NULL, want,
		  "resolve relative: below ferry's own memory cgroup");

	cleanup_cgroup struct rt_cgroup *bad1 = NULL, *bad2 = NULL;
	r = rt_cgroup_resolve("system.slice:ferry:c1", "c1", &bad1, &e);
	TAP_OK(r < 0 && err_has(e, "systemd") && err_has(e, "cgroupfs"),
	       "resolve slice:prefix:name: systemd driver refused");
	err_note(&e);
	r = rt_cgroup_resolve("/a/../../etc", "c1", &bad2, &e);
	TAP_OK(r < 0 && err_has(e, "'..'"), "resolve: '..' refused");
	err_note(&e);
}

static void test_shares(void)
{
	TAP_OK(rt_cg_shares_to_weight(2) == 1 && rt_cg_shares_to_weight(262144) == 10000 &&
		       rt_cg_shares_to_weight(1024) == 39,
	       "cpu.shares -> cpu.weight: 2->1, 1024->39, 262144->10000");
}

/* ---- the main container cgroup ---- */

static struct oci_device_rule dev_rules[] = {
	{ .allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm" },
	{ .allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm" },
	{ .allow = true, .type = 'c', .major = 1, .minor = 5, .access = "m" },
};

static void main_resources(struct oci_resources *r)
{
	memset(r, 0, sizeof(*r));
	r->has_memory_limit = r->has_memory_reservation = r->has_memory_swap = true;
	r->memory_limit = r->memory_swap = 64 << 20;
	r->memory_reservation = 32 << 20;
	r->has_memory_swappiness = true;
	r->memory_swappiness = 10;
	r->disable_oom_killer = true;
	r->has_cpu_shares = r->has_cpu_quota = r->has_cpu_period = true;
	r->cpu_shares = 512;
	r->cpu_quota = 20000;
	r->cpu_period = 100000;
	r->cpuset_cpus = "0";
	r->cpuset_mems = "0";
	r->has_pids_limit = true;
	r->pids_limit = 100;
	r->has_blkio_weight = true;
	r->blkio_weight = 500;
	r->devices = dev_rules;
	r->n_devices = ARRAY_SIZE(dev_rules);
}

static void check_file(const struct rt_cgroup *cg, const char *ctrl,
		       const char *file, const char *want)
{
	const char *dir = rt_cg_v1_path(cg, ctrl);
	if (dir == NULL)
		dir = rt_cg_unified_path(cg);
	cleanup_free char *got = dir ? slurp(dir, file) : NULL;
	if (got && want[0] == '~') { /* "~text": contains text */
		TAP_OK(strstr(got, want + 1) != NULL, "create: %s contains '%s'", file,
		       want + 1);
		return;
	}
	TAP_STREQ(got, want, "create: %s", file);
}

static struct rt_cgroup *test_create(void)
{
	struct rt_cgroup *cg = resolve("/main");
	struct oci_resources res;
	main_resources(&res);
	struct rt_err *e = NULL;
	int r = cg ? rt_cgroup_create(cg, &res, &e) : -1;
	err_note(&e);
	TAP_OK(r == 0, "create %s/main with memory, cpu, cpuset, pids, blkio, devices",
	       test_root);
	if (r < 0) {
		rt_cgroup_free(cg);
		return NULL;
	}
	check_file(cg, "memory", "memory.limit_in_bytes", "67108864");
	check_file(cg, "memory", "memory.soft_limit_in_bytes", "33554432");
	check_file(cg, "memory", "memory.memsw.limit_in_bytes", "67108864");
	check_file(cg, "memory", "memory.swappiness", "10");
	check_file(cg, "memory", "memory.oom_control", "~oom_kill_disable 1");
	check_file(cg, "cpu", "cpu.shares", "512");
	check_file(cg, "cpu", "cpu.cfs_quota_us", "20000");
	check_file(cg, "cpu", "cpu.cfs_period_us", "100000");
	check_file(cg, "cpuset", "cpuset.cpus", "0");
	check_file(cg, "cpuset", "cpuset.mems", "0");
	check_file(cg, "pids", "pids.max", "100");
	check_file(cg, "blkio", rt_cg_exists(rt_cg_v1_path(cg, "blkio"), "blkio.weight")
				       ? "blkio.weight" : "blkio.bfq.weight", "~500");
	check_file(cg, "devices", "devices.list", "c 1:3 rwm\nc 1:5 m");
	return cg;
}

static void test_devices_v1(const struct rt_cgroup *cg)
{
	pid_t pid = spawn_in(cg, PROBE);
	int st = pid > 0 ? reap(pid) : -1;
	TAP_OK(pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "devices (v1): /dev/null opens, /dev/zero gives EPERM (status %#x)", st);
}

static void test_enter_pids(const struct rt_cgroup *cg, pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	cleanup_free char *text = NULL;
	rt_read_file(path, &text, NULL, NULL);
	cleanup_free char *mem = xasprintf(":memory:%s/main\n", test_root);
	cleanup_free char *uni = xasprintf("0::%s/main\n", test_root);
	TAP_OK(text && strstr(text, mem) && strstr(text, uni),
	       "enter: child is in %s/main (memory and unified)", test_root);
	cleanup_free pid_t *pids = NULL;
	size_t n = 0;
	struct rt_err *e = NULL;
	int r = rt_cgroup_pids(cg, &pids, &n, &e);
	err_note(&e);
	TAP_OK(r == 0 && n == 1 && pids[0] == pid, "pids: exactly the child (%zu pids)", n);
}

/* Frozen: the spinner is not running and its cpu time stands still. */
static void check_frozen(const struct rt_cgroup *cg, pid_t pid, bool frozen,
			 const char *how)
{
	bool f = !frozen;
	struct rt_err *e = NULL;
	int r = rt_cgroup_is_frozen(cg, &f, &e);
	err_note(&e);
	TAP_OK(r == 0 && f == frozen, "%s: is_frozen says %d", how, f);
	unsigned long long t1 = 0, t2 = 0;
	char s1 = proc_state(pid, &t1);
	sleep_ms(300);
	char s2 = proc_state(pid, &t2);
	if (frozen)
		TAP_OK(s1 != 'R' && s2 != 'R' && t1 == t2,
		       "%s: child not running (state %c, cpu ticks %llu -> %llu)", how,
		       s2, t1, t2);
	else
		TAP_OK(t2 > t1, "%s: child runs again (cpu ticks %llu -> %llu)", how,
		       t1, t2);
}

static void test_freeze(const struct rt_cgroup *cg, pid_t pid)
{
	struct rt_err *e = NULL;
	int r = rt_cgroup_freeze(cg, true, &e);
	err_note(&e);
	const char *uni = rt_cg_unified_path(cg);
	cleanup_free char *ev = uni ? slurp(uni, "cgroup.events") : xstrdup("");
	TAP_OK(r == 0 && strstr(ev, "frozen 1"), "freeze (cgroup.freeze): cgroup.events says frozen 1");
	check_frozen(cg, pid, true, "freeze (cgroup.freeze)");
	r = rt_cgroup_freeze(cg, false, &e);
	err_note(&e);
	TAP_OK(r == 0, "thaw (cgroup.freeze)");
	check_frozen(cg, pid, false, "thaw (cgroup.freeze)");

	cleanup_cgroup struct rt_cgroup *v1 = v1_only(cg);
	r = rt_cgroup_freeze(v1, true, &e);
	err_note(&e);
	const char *fz = rt_cg_v1_path(cg, "freezer");
	cleanup_free char *state = fz ? slurp(fz, "freezer.state") : NULL;
	TAP_OK(r == 0 && state && strcmp(state, "FROZEN") == 0,
	       "freeze (v1 handle): freezer.state FROZEN");
	check_frozen(v1, pid, true, "freeze (freezer.state)");
	r = rt_cgroup_freeze(v1, false, &e);
	err_note(&e);
	free(state);
	state = fz ? slurp(fz, "freezer.state") : NULL;
	TAP_OK(r == 0 && state && strcmp(state, "THAWED") == 0,
	       "thaw (v1 handle): freezer.state THAWED");
	check_frozen(v1, pid, false, "thaw (freezer.state)");
}

static void test_stats(const struct rt_cgroup *cg)
{
	struct rt_cgroup_stats st;
	struct rt_err *e = NULL;
	int r = rt_cgroup_stats(cg, &st, &e);
	err_note(&e);
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	TAP_OK(r == 0 && st.cpu_total_ns > 0 && st.cpu_user_ns + st.cpu_kernel_ns > 0,
	       "stats: cpu total %llu ns, user %llu ns, kernel %llu ns",
	       (unsigned long long)st.cpu_total_ns, (unsigned long long)st.cpu_user_ns,
	       (unsigned long long)st.cpu_kernel_ns);
	TAP_OK(r == 0 && st.n_cpus == (size_t)ncpu && st.cpu_percpu_ns[0] > 0,
	       "stats: per-cpu usage for %zu cpus", st.n_cpus);
	TAP_OK(r == 0 && st.cpu_total_periods > 0 && st.cpu_throttled_periods > 0 &&
		       st.cpu_throttled_ns > 0,
	       "stats: throttled %llu of %llu periods",
	       (unsigned long long)st.cpu_throttled_periods,
	       (unsigned long long)st.cpu_total_periods);
	TAP_OK(r == 0 && st.mem_usage > 0 && st.mem_max_usage >= st.mem_usage &&
		       st.mem_limit == 64 << 20 && st.swap_limit == 64 << 20,
	       "stats: memory usage %llu, limit %llu",
	       (unsigned long long)st.mem_usage, (unsigned long long)st.mem_limit);
	TAP_OK(r == 0 && st.pids_current == 1 && st.pids_limit == 100,
	       "stats: pids %llu of %llu", (unsigned long long)st.pids_current,
	       (unsigned long long)st.pids_limit);
	rt_cgroup_stats_free(&st);
}

static void test_update(const struct rt_cgroup *cg)
{
	struct oci_resources res;
	memset(&res, 0, sizeof(res));
	res.has_pids_limit = true;
	res.pids_limit = 50;
	struct rt_err *e = NULL;
	int r = rt_cgroup_update(cg, &res, &e);
	err_note(&e);
	cleanup_free char *v = slurp(rt_cg_v1_path(cg, "pids"), "pids.max");
	cleanup_free char *q = slurp(rt_cg_v1_path(cg, "cpu"), "cpu.cfs_quota_us");
	TAP_OK(r == 0 && strcmp(v, "50") == 0 && strcmp(q, "20000") == 0,
	       "update: pids.max %s, other fields untouched (quota %s)", v, q);
}

static void test_signal(const struct rt_cgroup *cg, pid_t spinner)
{
	struct rt_err *e = NULL;
	int r = rt_cgroup_signal_all(cg, SIGTERM, &e);
	err_note(&e);
	int st = reap(spinner);
	TAP_OK(r == 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
	       "signal_all SIGTERM (freeze, kill, thaw): child died of SIGTERM");
	bool frozen = true;
	rt_cgroup_is_frozen(cg, &frozen, &e);
	err_note(&e);
	TAP_OK(!frozen, "signal_all SIGTERM: cgroup left thawed");

	pid_t a = spawn_in(cg, SLEEPER), b = spawn_in(cg, SPINNER);
	r = rt_cgroup_signal_all(cg, SIGKILL, &e);
	err_note(&e);
	int sa = a > 0 ? reap(a) : 0, sb = b > 0 ? reap(b) : 0;
	TAP_OK(r == 0 && WIFSIGNALED(sa) && WTERMSIG(sa) == SIGKILL &&
		       WIFSIGNALED(sb) && WTERMSIG(sb) == SIGKILL,
	       "signal_all SIGKILL (cgroup.kill): both children killed");

	cleanup_cgroup struct rt_cgroup *v1 = v1_only(cg);
	a = spawn_in(v1, SPINNER);
	r = rt_cgroup_signal_all(v1, SIGKILL, &e);
	err_note(&e);
	sa = a > 0 ? reap(a) : 0;
	TAP_OK(r == 0 && WIFSIGNALED(sa) && WTERMSIG(sa) == SIGKILL,
	       "signal_all SIGKILL (v1 handle: freezer.state, kill, thaw)");
}

static void test_empty_fd(const struct rt_cgroup *cg)
{
	struct rt_err *e = NULL;
	pid_t pid = spawn_in(cg, SLEEPER);
	int fd = rt_cgroup_empty_fd(cg, &e);
	err_note(&e);
	char buf[256] = "";
	ssize_t n = fd >= 0 ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;
	TAP_OK(pid > 0 && n > 0 && strstr(buf, "populated 1"),
	       "empty_fd: populated 1 while the child lives");
	if (pid > 0) {
		kill(pid, SIGKILL);
		reap(pid);
	}
	struct pollfd p = { .fd = fd, .events = POLLPRI };
	int pr = fd >= 0 ? poll(&p, 1, 5000) : -1;
	memset(buf, 0, sizeof(buf));
	n = fd >= 0 ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;
	TAP_OK(pr == 1 && (p.revents & POLLPRI) && strstr(buf, "populated 0"),
	       "empty_fd: POLLPRI, then populated 0 once it died");
	if (fd >= 0)
		close(fd);
}

static void test_destroy(struct rt_cgroup *cg)
{
	pid_t pid = spawn_in(cg, SLEEPER);
	struct rt_err *e = NULL;
	int r = rt_cgroup_destroy(cg, &e);
	err_note(&e);
	int st = pid > 0 ? reap(pid) : 0;
	TAP_OK(r == 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	       "destroy: leftover child killed");
	TAP_OK(gone(cg), "destroy: no directory left in any of %zu hierarchies", cg->n);
	r = rt_cgroup_destroy(cg, &e);
	err_note(&e);
	TAP_OK(r == 0, "destroy again: missing directories are fine");
}

static void test_container(void)
{
	struct rt_cgroup *cg = test_create();
	if (cg == NULL) {
		TAP_OK(false, "container tests need the cgroup");
		return;
	}
	test_devices_v1(cg);
	pid_t spinner = spawn_in(cg, SPINNER);
	if (spinner > 0) {
		test_enter_pids(cg, spinner);
		sleep_ms(500); /* build up cpu time and throttling */
		test_freeze(cg, spinner);
		test_stats(cg);
		test_update(cg);
		test_signal(cg, spinner);
	} else {
		TAP_OK(false, "spawn a child in the cgroup");
	}
	test_empty_fd(cg);
	test_destroy(cg);
	rt_cgroup_free(cg);
}

/* ---- OOM ---- */

static void test_oom(void)
{
	cleanup_cgroup struct rt_cgroup *cg = resolve("/oom");
	struct oci_resources res;
	memset(&res, 0, sizeof(res));
	res.has_memory_limit = res.has_memory_swap = true;
	res.memory_limit = res.memory_swap = 16 << 20;
	struct rt_err *e = NULL;
	int r = cg ? rt_cgroup_create(cg, &res, &e) : -1;
	err_note(&e);
	int fd = r == 0 ? rt_cgroup_oom_fd(cg, &e) : -1;
	err_note(&e);
	TAP_OK(fd >= 0, "oom_fd: registered on a 16 MiB cgroup");
	pid_t pid = fd >= 0 ? spawn_in(cg, HOG) : -1;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int pr = pid > 0 ? poll(&p, 1, 20000) : -1;
	int st = pid > 0 ? reap(pid) : 0;
	TAP_OK(pr == 1 && (p.revents & POLLIN) && WIFSIGNALED(st) &&
		       WTERMSIG(st) == SIGKILL,
	       "oom_fd: readable when the hog is OOM-killed (status %#x)", st);
	struct rt_cgroup_stats s = { 0 };
	r = cg ? rt_cgroup_stats(cg, &s, &e) : -1;
	err_note(&e);
	/* memory.failcnt may stay 0: with memsw == limit the memsw counter
	 * is the one that fails the charge. */
	TAP_OK(r == 0 && s.oom_kills >= 1 && s.mem_usage <= 16 << 20,
	       "stats: oom_kills %llu (failcnt %llu)", (unsigned long long)s.oom_kills,
	       (unsigned long long)s.mem_failcnt);
	rt_cgroup_stats_free(&s);
	if (fd >= 0)
		close(fd);
	r = cg ? rt_cgroup_destroy(cg, &e) : -1;
	err_note(&e);
	TAP_OK(r == 0 && gone(cg), "oom cgroup destroyed");
}

/* ---- failures leave nothing behind ---- */

static void expect_refusal(const char *sub, const struct oci_resources *res,
			   const char *json, const char *what)
{
	cleanup_cgroup struct rt_cgroup *cg = resolve(sub);
	struct rt_err *e = NULL;
	int r = cg ? rt_cgroup_create(cg, res, &e) : 0;
	TAP_OK(r < 0 && err_has(e, json), "%s: error names %s", what, json);
	err_note(&e);
	TAP_OK(cg && gone(cg), "%s: no directory left", what);
}

static void test_refusals(void)
{
	struct oci_resources res;
	memset(&res, 0, sizeof(res));
	char *unsup[] = { "linux.resources.rdma", NULL };
	res.unsupported = unsup;
	expect_refusal("/unsupported", &res, "linux.resources.rdma", "unsupported resource");

	memset(&res, 0, sizeof(res));
	res.cpuset_cpus = "4095";
	expect_refusal("/badcpus", &res, "linux.resources.cpu.cpus", "invalid cpuset");

	memset(&res, 0, sizeof(res));
	char *keys[] = { "cgroup.no_such_file" }, *vals[] = { "1" };
	res.unified_keys = keys;
	res.unified_values = vals;
	res.n_unified = 1;
	expect_refusal("/missing", &res, "linux.resources.unified[\"cgroup.no_such_file\"]",
		       "missing file");

	memset(&res, 0, sizeof(res));
	char *mkeys[] = { "memory.high" }, *mvals[] = { "1000000" };
	res.unified_keys = mkeys;
	res.unified_values = mvals;
	res.n_unified = 1;
	if (expected_layout() == RT_CGROUP_HYBRID)
		expect_refusal("/v2memory", &res, "linux.resources.unified[\"memory.high\"]",
			       "unified memory.high on hybrid (memory held by v1)");

	/* the same on a host without cgroup2 */
	cleanup_cgroup struct rt_cgroup *cg = resolve("/v1unified");
	cleanup_cgroup struct rt_cgroup *v1 = cg ? v1_only(cg) : NULL;
	struct rt_err *e = NULL;
	int r = v1 ? rt_cgroup_create(v1, &res, &e) : 0;
	TAP_OK(r < 0 && err_has(e, "linux.resources.unified: needs cgroup v2"),
	       "unified on a v1-only handle: error names linux.resources.unified");
	err_note(&e);
	TAP_OK(v1 && gone(v1), "unified on a v1-only handle: no directory left");
}

static void test_default_path(void)
{
	bool had_parent = access("/sys/fs/cgroup/memory/ferry", F_OK) == 0;
	cleanup_cgroup struct rt_cgroup *cg = NULL;
	struct rt_err *e = NULL;
	int r = rt_cgroup_resolve(NULL, default_id, &cg, &e);
	if (r == 0)
		r = rt_cgroup_create(cg, NULL, &e);
	err_note(&e);
	TAP_OK(r == 0 && access(path_of(cg, "memory"), F_OK) == 0,
	       "default path: /ferry/%s created", default_id);
	r = cg ? rt_cgroup_destroy(cg, &e) : -1;
	err_note(&e);
	TAP_OK(r == 0 && gone(cg) &&
		       (had_parent || access("/sys/fs/cgroup/memory/ferry", F_OK) < 0),
	       "default path: destroyed, empty /ferry parent removed");
}

/* ---- cgroup2 alone: a handle with only the unified hierarchy ---- */

static uint32_t attached_filters(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	uint32_t ids[16];
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)fd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = 16;
	long r = syscall(__NR_bpf, BPF_PROG_QUERY, &a, sizeof(a));
	close(fd);
	return r < 0 ? 999 : a.query.prog_cnt;
}

static int probe(const struct rt_cgroup *cg)
{
	pid_t pid = spawn_in(cg, PROBE);
	int st = pid > 0 ? reap(pid) : -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Create with device rules (and a unified hugetlb limit when the hybrid
 * host has hugetlb on cgroup2), then replace the filter with update. */
static void test_v2_devices(const struct rt_cgroup *cg, const char *uni)
{
	struct oci_resources res;
	memset(&res, 0, sizeof(res));
	struct oci_device_rule rules[] = {
		{ .allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm" },
		{ .allow = true, .type = 'c', .major = 1, .minor = -1, .access = "rwm" },
		{ .allow = false, .type = 'c', .major = 1, .minor = 5, .access = "rwm" },
	};
	res.devices = rules;
	res.n_devices = ARRAY_SIZE(rules);
	bool huge = rt_cg_v2_root_has(UNIFIED_ROOT, "hugetlb") &&
		    access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK) == 0;
	char *keys[] = { "hugetlb.2MB.max" }, *vals[] = { "4194304" };
	if (huge) {
		res.unified_keys = keys;
		res.unified_values = vals;
		res.n_unified = 1;
	}
	struct rt_err *e = NULL;
	int r = rt_cgroup_create((struct rt_cgroup *)cg, &res, &e);
	err_note(&e);
	TAP_OK(r == 0 && attached_filters(uni) == 1,
	       "cgroup2 handle: create with device rules attaches one eBPF filter");
	TAP_OK(probe(cg) == 0, "eBPF filter: /dev/null opens, /dev/zero gives EPERM");
	if (huge) {
		cleanup_free char *v = slurp(uni, "hugetlb.2MB.max");
		TAP_STREQ(v, "4194304", "cgroup2 handle: unified hugetlb.2MB.max written, "
					"controller enabled in the parents");
	} else {
		TAP_SKIP("no hugetlb controller on cgroup2", "unified map with controller enabling");
	}

	rules[2] = (struct oci_device_rule){ .allow = true, .type = 'c', .major = 1,
					     .minor = 5, .access = "r" };
	memset(&res, 0, sizeof(res));
	res.devices = rules;
	res.n_devices = ARRAY_SIZE(rules);
	r = rt_cgroup_update(cg, &res, &e);
	err_note(&e);
	TAP_OK(r == 0 && attached_filters(uni) == 1 && probe(cg) == 2,
	       "eBPF filter update: replaced (one filter), /dev/zero now opens");
}

static void test_v2_freeze_kill(const struct rt_cgroup *cg)
{
	struct rt_err *e = NULL;
	pid_t pid = spawn_in(cg, SPINNER);
	sleep_ms(300); /* let it build up cpu time */
	int r = rt_cgroup_freeze(cg, true, &e);
	err_note(&e);
	unsigned long long t1 = 0, t2 = 0;
	proc_state(pid, &t1);
	sleep_ms(200);
	char s = proc_state(pid, &t2);
	TAP_OK(r == 0 && s != 'R' && t1 == t2, "cgroup2 handle: freeze (state %c)", s);
	struct rt_cgroup_stats st;
	r = rt_cgroup_stats(cg, &st, &e);
	err_note(&e);
	TAP_OK(r == 0 && st.cpu_total_ns > 0 && st.cpu_user_ns > 0,
	       "cgroup2 handle: stats from cpu.stat (%llu ns)",
	       (unsigned long long)st.cpu_total_ns);
	rt_cgroup_stats_free(&st);
	r = rt_cgroup_signal_all(cg, SIGKILL, &e);
	err_note(&e);
	int ws = pid > 0 ? reap(pid) : 0;
	TAP_OK(r == 0 && WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL,
	       "cgroup2 handle: frozen child killed by cgroup.kill");
	rt_cgroup_freeze(cg, false, &e);
	err_note(&e);
}

static void expect_update_refused(const struct rt_cgroup *cg,
				  const struct oci_resources *res,
				  const char *json, const char *what)
{
	struct rt_err *e = NULL;
	int r = rt_cgroup_update(cg, res, &e);
	TAP_OK(r < 0 && err_has(e, json), "%s: error names %s", what, json);
	err_note(&e);
}

static void test_v2_refusals(const struct rt_cgroup *cg)
{
	struct oci_resources res;
	memset(&res, 0, sizeof(res));
	res.has_memory_swappiness = true;
	expect_update_refused(cg, &res, "linux.resources.memory.swappiness",
			      "cgroup2 handle: swappiness refused");
	memset(&res, 0, sizeof(res));
	res.has_memory_swap = true;
	res.memory_swap = 1 << 20;
	expect_update_refused(cg, &res, "linux.resources.memory.swap",
			      "cgroup2 handle: swap without limit refused");
	memset(&res, 0, sizeof(res));
	res.has_pids_limit = true;
	res.pids_limit = 10;
	expect_update_refused(cg, &res, "linux.resources.pids.limit",
			      "cgroup2 handle: pids controller not available");
}

/* A handle holding only the unified hierarchy, marked pure v2: device
 * rules go through eBPF, controllers are enabled in the parents. */
static void test_v2_handle(void)
{
	cleanup_cgroup struct rt_cgroup *full = resolve("/v2");
	const char *uni = full ? path_of(full, "unified") : NULL;
	if (uni == NULL) {
		TAP_SKIP("no cgroup2 hierarchy", "cgroup2-only handle");
		return;
	}
	char *names[] = { RT_CG_UNIFIED }, *paths[] = { (char *)uni };
	cleanup_cgroup struct rt_cgroup *cg =
		rt_cgroup_from_parts(RT_CGROUP_V2, 1, names, paths, full->rel);
	test_v2_devices(cg, uni);
	test_v2_freeze_kill(cg);
	test_v2_refusals(cg);
	struct rt_err *e = NULL;
	int r = rt_cgroup_destroy(cg, &e);
	err_note(&e);
	TAP_OK(r == 0 && gone(cg), "cgroup2 handle: destroyed");
}

/* ---- main ---- */

static const char *const root_tests[] = {
	"create and read back", "devices (v1)", "enter", "pids", "freeze/thaw",
	"stats", "update", "signal_all", "empty_fd", "destroy", "oom_fd",
	"refusals leave nothing", "default path", "cgroup2 handle and eBPF filter",
};

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(test_root, sizeof(test_root), "/ferry-test-%d", (int)getpid());
	snprintf(default_id, sizeof(default_id), "ferry-test-%d", (int)getpid());
	test_detect();
	test_resolve();
	test_shares();
	if (geteuid() != 0) {
		for (size_t i = 0; i < ARRAY_SIZE(root_tests); i++)
			TAP_SKIP("needs root", "%s", root_tests[i]);
		return tap_done();
	}
	pid_t reaper = start_reaper();
	TAP_OK(reaper > 0, "reaper started");
	test_container();
	test_oom();
	test_refusals();
	test_default_path();
	test_v2_handle();
	close(reaper_fd);
	int st = reap(reaper);
	cleanup_cgroup struct rt_cgroup *all = resolve("");
	TAP_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && all && gone(all),
	       "cleanup: %s removed from every hierarchy", test_root);
	TAP_OK(hugetlb_was_on || !unified_has("cgroup.subtree_control", "hugetlb"),
	       "cleanup: cgroup2 root subtree_control restored");
	return tap_done();
}
