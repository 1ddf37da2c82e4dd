/* The "tasks" records of `ferry events` (runtime/events.c, events.h): a
 * watch of a cgroup's cgroup.tasks.events (ferry's kernel patch 1) prints
 * {"type":"tasks","id":ID,"data":{"fork":N,"exit":N}} when fork or exit
 * moved, and nothing without the file.
 *
 * On any kernel: the decision with counters fed in, the record's exact
 * text, and the watch driven on a file that only looks like the kernel's.
 * As root with a cgroup2 hierarchy whose cgroups have the file (make
 * kernel-test runs this in its guest): the watch on a scratch cgroup, polled
 * as `ferry events` polls it, prints a record for a task forked into it and
 * another for its exit, none for a fork in another cgroup, and none for a
 * task moved in (only its exit). Where the kernel lacks the file that part
 * is skipped, after checking that the watch then has nothing to poll. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "coordinator/coordinator.h"
#include "events.h"
#include "tap.h"
#include "util.h"

#define ID "test-events"

static int write_file(const char *path, const char *text, int flags)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | flags, 0644);
	return fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* A watch whose records go to memory. */
struct watcher {
	struct rt_tasks_watch w;
	FILE *out;
	char *buf;
	size_t len;
	size_t seen; /* how much of buf was already taken */
};

static int watcher_start(struct watcher *t, int fd)
{
	*t = (struct watcher){ .w.fd = -1 };
	t->out = open_memstream(&t->buf, &t->len);
	if (t->out == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rt_tasks_watch_start(&t->w, fd, ID, t->out);
	return 0;
}

static void watcher_stop(struct watcher *t)
{
	rt_tasks_watch_stop(&t->w);
	if (t->out)
		fclose(t->out);
	free(t->buf);
	*t = (struct watcher){ .w.fd = -1 };
}

/* What the watch printed since the last call (records are flushed one by
 * one, so buf is current). */
static const char *watcher_new(struct watcher *t, char *copy, size_t size)
{
	size_t n = t->len - t->seen;
	snprintf(copy, size, "%.*s", (int)n, t->buf + t->seen);
	t->seen = t->len;
	return copy;
}

/* A record of the watch below, as `ferry events` prints it. */
#define RECORD_FMT "{\"type\":\"tasks\",\"id\":\"" ID "\",\"data\":{\"fork\":%llu,\"exit\":%llu}}\n"

/* The counters of one record line, which must be exactly the record. */
static bool parse_record(const char *text, struct cr_tasks_events *c)
{
	unsigned long long f, e;
	char again[256];
	if (sscanf(text, RECORD_FMT, &f, &e) != 2)
		return false;
	snprintf(again, sizeof(again), RECORD_FMT, f, e);
	if (strcmp(again, text) != 0)
		return false;
	*c = (struct cr_tasks_events){ .fork = f, .exit = e };
	return true;
}

/* ---- any kernel ---- */

static void test_moved(void)
{
	struct rt_tasks_watch w = { .fd = -1, .last = { 5, 3, 1, 1 } };
	struct cr_tasks_events now = w.last;
	TAP_OK(!rt_tasks_watch_moved(&w, &now), "counters unchanged: no record");
	now.migrate_in++;
	now.migrate_out++;
	TAP_OK(!rt_tasks_watch_moved(&w, &now) && w.last.migrate_in == 1,
	       "only migrations moved: no record, nothing taken as reported");
	now.fork++;
	TAP_OK(rt_tasks_watch_moved(&w, &now) && w.last.fork == 6 && w.last.migrate_in == 2,
	       "fork moved: a record, its counters now the last reported");
	TAP_OK(!rt_tasks_watch_moved(&w, &now), "the same counters again: no second record");
	now.exit++;
	TAP_OK(rt_tasks_watch_moved(&w, &now) && w.last.exit == 4, "exit moved: a record");
}

static void test_record_text(void)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (out == NULL) {
		TAP_OK(0, "open_memstream: %s", strerror(errno));
		return;
	}
	const struct cr_tasks_events c = { .fork = 12, .exit = 10, .migrate_in = 1 };
	rt_tasks_record_print(out, "c1", &c);
	fclose(out);
	TAP_STREQ(buf, "{\"type\":\"tasks\",\"id\":\"c1\",\"data\":{\"fork\":12,\"exit\":10}}\n",
		  "a record is one JSON line with fork and exit");
}

/* A directory without the file: the watch of a kernel without patch 1. */
static void test_absent(const char *dir)
{
	char got[512];
	struct watcher t;
	int fd = cr_tasks_events_open(dir);
	int open_errno = errno;
	if (watcher_start(&t, fd) < 0) {
		TAP_OK(0, "open_memstream: %s", strerror(errno));
		return;
	}
	int r = rt_tasks_watch_handle(&t.w, POLLPRI);
	TAP_OK(fd < 0 && open_errno == ENOENT && t.w.fd < 0 && rt_tasks_watch_pollfd(&t.w).fd < 0 &&
		       r == 0 && !*watcher_new(&t, got, sizeof(got)),
	       "no " CR_TASKS_EVENTS_FILE " (ENOENT): nothing to poll, no record");
	watcher_stop(&t);
}

/* The watch on a file that only looks like the kernel's: a regular file
 * never polls POLLPRI, so the wake-ups are handed in. */
static void test_lookalike_file(const char *dir, const char *path)
{
	char got[512];
	struct watcher t;
	write_file(path, "fork 2\nexit 0\nmigrate_in 1\nmigrate_out 0\n", O_CREAT | O_TRUNC);
	if (watcher_start(&t, cr_tasks_events_open(dir)) < 0) {
		TAP_OK(0, "open_memstream: %s", strerror(errno));
		return;
	}
	struct pollfd p = rt_tasks_watch_pollfd(&t.w);
	TAP_OK(t.w.fd >= 0 && p.fd == t.w.fd && p.events == POLLPRI && t.w.last.fork == 2 &&
		       t.w.last.migrate_in == 1 && !*watcher_new(&t, got, sizeof(got)),
	       "the watch starts from the file's counters, polls POLLPRI, prints nothing");
	write_file(path, "fork 3\nexit 0\nmigrate_in 1\nmigrate_out 0\n", O_TRUNC);
	int r = rt_tasks_watch_handle(&t.w, POLLIN);
	TAP_OK(r == 0 && !*watcher_new(&t, got, sizeof(got)), "no POLLPRI: the file is not read");
	r = rt_tasks_watch_handle(&t.w, POLLPRI | POLLERR);
	TAP_STREQ(r == 1 ? watcher_new(&t, got, sizeof(got)) : "(none)",
		  "{\"type\":\"tasks\",\"id\":\"" ID "\",\"data\":{\"fork\":3,\"exit\":0}}\n",
		  "POLLPRI after a fork: one record");
	write_file(path, "fork 3\nexit 0\nmigrate_in 2\nmigrate_out 0\n", O_TRUNC);
	r = rt_tasks_watch_handle(&t.w, POLLPRI);
	TAP_OK(r == 0 && !*watcher_new(&t, got, sizeof(got)), "POLLPRI after a migration: none");
	write_file(path, "fork 3\nexit 1\nmigrate_in 2\nmigrate_out 0\n", O_TRUNC);
	r = rt_tasks_watch_handle(&t.w, POLLPRI);
	TAP_STREQ(r == 1 ? watcher_new(&t, got, sizeof(got)) : "(none)",
		  "{\"type\":\"tasks\",\"id\":\"" ID "\",\"data\":{\"fork\":3,\"exit\":1}}\n",
		  "POLLPRI after an exit: one record");
	write_file(path, "fork x\n", O_TRUNC);
	r = rt_tasks_watch_handle(&t.w, POLLPRI);
	int again = rt_tasks_watch_handle(&t.w, POLLPRI);
	TAP_OK(r == -1 && t.w.fd < 0 && again == 0 && !*watcher_new(&t, got, sizeof(got)),
	       "a file that no longer reads stops the watch (%d, then %d)", r, again);
	watcher_stop(&t);
}

static void test_lookalike(void)
{
	char dir[] = "/tmp/ferry-test-events-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		TAP_OK(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	cleanup_free char *path = xasprintf("%s/" CR_TASKS_EVENTS_FILE, dir);
	test_absent(dir);
	test_lookalike_file(dir, path);
	unlink(path);
	rmdir(dir);
}

/* ---- a kernel with cgroup.tasks.events ---- */

/* A child forked straight into the cgroup dir (clone3 CLONE_INTO_CGROUP):
 * it exits at once, or with hold (a pipe) when hold[1] is closed. */
static pid_t spawn_into(const char *dir, const int hold[2])
{
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct clone_args ca = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
				 .cgroup = (uint64_t)dfd };
	long pid = dfd >= 0 ? syscall(SYS_clone3, &ca, sizeof(ca)) : -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (hold) {
			char c;
			close(hold[1]);
			while (read(hold[0], &c, 1) > 0 || errno == EINTR)
				;
		}
		_exit(0);
	}
	return (pid_t)pid;
}

/* Wait for a child, after sending it sig unless 0. */
static void reap(pid_t *pid, int sig)
{
	if (*pid > 0) {
		if (sig)
			kill(*pid, sig);
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	*pid = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Poll the watch as `ferry events` does, handing every wake-up to it, for
 * up to ms or until it prints a record. Returns 1 with the record's
 * counters in c, 0 without a record, -1 when the watch stopped or printed
 * something that is not a record (in what). */
static int watch_for(struct watcher *t, int ms, unsigned *woken, struct cr_tasks_events *c,
		     char *what, size_t size)
{
	long long end = now_ms() + ms;
	*woken = 0;
	snprintf(what, size, "no record");
	for (long long left = ms; left > 0; left = end - now_ms()) {
		struct pollfd p = rt_tasks_watch_pollfd(&t->w);
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR) {
			snprintf(what, size, "poll: %s", strerror(errno));
			return -1;
		}
		if (p.revents & POLLPRI)
			(*woken)++;
		int r = rt_tasks_watch_handle(&t->w, p.revents);
		if (r < 0) {
			snprintf(what, size, "the watch stopped");
			return -1;
		}
		if (r == 1) {
			char line[512];
			watcher_new(t, line, sizeof(line));
			snprintf(what, size, "%.*s", (int)strcspn(line, "\n"), line);
			return parse_record(line, c) ? 1 : -1;
		}
	}
	return 0;
}

static bool read_counts(const char *dir, struct cr_tasks_events *c)
{
	cleanup_close int fd = cr_tasks_events_open(dir);
	cleanup_err struct rt_err *e = NULL;
	return fd >= 0 && cr_tasks_events_read(fd, c, &e) == 0;
}

/* The scratch cgroups and what runs in them, all removed at the end. */
struct scratch {
	const char *watched, *other; /* cgroup2 directories */
	struct watcher t;
	pid_t pid;
	int hold[2];
};

#define KERNEL_CASE "the watch on a real cgroup: "

/* A fork and its exit in another cgroup: that cgroup counts them, the
 * watched one prints nothing. */
static void case_other_cgroup(struct scratch *s)
{
	struct cr_tasks_events before = { 0 }, after = { 0 }, c;
	unsigned woken;
	char what[256];
	bool read = read_counts(s->other, &before);
	s->pid = spawn_into(s->other, NULL);
	reap(&s->pid, 0);
	int r = watch_for(&s->t, 300, &woken, &c, what, sizeof(what));
	/* As if woken anyway: a re-read finds fork and exit where they were. */
	int reread = r == 0 ? rt_tasks_watch_handle(&s->t.w, POLLPRI) : r;
	read = read && read_counts(s->other, &after);
	TAP_OK(read && after.fork == before.fork + 1 && after.exit == before.exit + 1 && r == 0 &&
		       reread == 0,
	       KERNEL_CASE "a fork and exit in another cgroup print no record (there fork %llu -> "
			   "%llu, exit %llu -> %llu; here %s in 300 ms, %u wake-ups, %d on a "
			   "re-read)",
	       (unsigned long long)before.fork, (unsigned long long)after.fork,
	       (unsigned long long)before.exit, (unsigned long long)after.exit, what, woken,
	       reread);
}

/* A task forked into the watched cgroup, then its exit: a record each. */
static void case_fork_exit(struct scratch *s)
{
	const struct cr_tasks_events b = s->t.w.last;
	struct cr_tasks_events c = { 0 };
	unsigned woken;
	char what[256];
	s->pid = pipe2(s->hold, O_CLOEXEC) < 0 ? -1 : spawn_into(s->watched, s->hold);
	int r = s->pid > 0 ? watch_for(&s->t, 5000, &woken, &c, what, sizeof(what)) : -1;
	if (s->pid <= 0)
		snprintf(what, sizeof(what), "pipe or clone3 into the cgroup: %s", strerror(errno));
	TAP_OK(r == 1 && c.fork == b.fork + 1 && c.exit == b.exit,
	       KERNEL_CASE "a fork into it prints a tasks record, fork %llu -> %llu (%s)",
	       (unsigned long long)b.fork, (unsigned long long)b.fork + 1, what);
	close_fd(&s->hold[1]);
	r = s->pid > 0 ? watch_for(&s->t, 5000, &woken, &c, what, sizeof(what)) : -1;
	TAP_OK(r == 1 && c.fork == b.fork + 1 && c.exit == b.exit + 1,
	       KERNEL_CASE "that task's exit prints a tasks record, exit %llu -> %llu (%s)",
	       (unsigned long long)b.exit, (unsigned long long)b.exit + 1, what);
	reap(&s->pid, SIGKILL); /* gone already, unless a record did not come */
	close_fd(&s->hold[0]);
}

/* A task moved in through cgroup.procs wakes the watch (migrate_in) but is
 * no fork: no record; its exit is one. */
static void case_moved_in(struct scratch *s)
{
	const struct cr_tasks_events b = s->t.w.last;
	struct cr_tasks_events c = { 0 };
	unsigned woken = 0;
	char what[256] = "", pid[32];
	cleanup_free char *procs = xasprintf("%s/cgroup.procs", s->watched);
	s->pid = pipe2(s->hold, O_CLOEXEC) < 0 ? -1 : spawn_into(s->other, s->hold);
	snprintf(pid, sizeof(pid), "%d", (int)s->pid);
	int moved = s->pid > 0 ? write_file(procs, pid, 0) : -1;
	int r = moved == 0 ? watch_for(&s->t, 300, &woken, &c, what, sizeof(what)) : -1;
	TAP_OK(moved == 0 && r == 0 && woken > 0,
	       KERNEL_CASE "a task moved in wakes it but prints no record (%u wake-ups, %s)",
	       woken, moved == 0 ? what : "the move failed");
	close_fd(&s->hold[1]);
	r = moved == 0 ? watch_for(&s->t, 5000, &woken, &c, what, sizeof(what)) : -1;
	TAP_OK(r == 1 && c.fork == b.fork && c.exit == b.exit + 1,
	       KERNEL_CASE "the moved task's exit prints a tasks record, exit %llu -> %llu (%s)",
	       (unsigned long long)b.exit, (unsigned long long)b.exit + 1, what);
	reap(&s->pid, SIGKILL); /* gone already, unless a record did not come */
	close_fd(&s->hold[0]);
}

static void run_cases(struct scratch *s)
{
	if (watcher_start(&s->t, cr_tasks_events_open(s->watched)) < 0 || s->t.w.fd < 0) {
		TAP_OK(0, KERNEL_CASE "%s/" CR_TASKS_EVENTS_FILE " did not open and read",
		       s->watched);
		return;
	}
	char got[256];
	struct cr_tasks_events zero = { 0 };
	TAP_OK(cr_tasks_events_same(&s->t.w.last, &zero) && !*watcher_new(&s->t, got, sizeof(got)),
	       KERNEL_CASE "a new cgroup starts at 0 0 0 0, nothing printed");
	case_other_cgroup(s);
	case_fork_exit(s);
	case_moved_in(s);
}

/* mkdir a scratch cgroup2 cgroup: 0, or -1 when none was made. */
static int make_cgroup(const char *name, struct rt_cgroup **cg, const char **dir)
{
	cleanup_err struct rt_err *e = NULL;
	if (rt_cgroup_resolve(name, ID, cg, &e) < 0 ||
	    (*dir = rt_cgroup_tasks_events_dir(*cg)) == NULL)
		return -1;
	return mkdir(*dir, 0755);
}

static void remove_cgroup(struct rt_cgroup *cg, const char *dir)
{
	cleanup_err struct rt_err *e = NULL;
	if (rt_cgroup_destroy(cg, &e) < 0)
		TAP_OK(0, "remove %s: %s", dir, e->msg);
}

/* In the watched cgroup, which has no file: what a stock kernel gives. */
static void test_without_file(int err, const char *what)
{
	TAP_OK(err == ENOENT, "without " CR_TASKS_EVENTS_FILE " in a cgroup2 cgroup there is "
			      "nothing to watch (%s)", strerror(err));
	TAP_SKIP("no " CR_TASKS_EVENTS_FILE " (kernel without ferry's patch 1)", "%s", what);
}

/* Root, cgroup2: two scratch cgroups, watched and other. */
static void test_kernel(void)
{
	const char *what = KERNEL_CASE "fork, exit, another cgroup's fork, a task moved in";
	char watched[64], other[64];
	snprintf(watched, sizeof(watched), "/ferry-test-events-%d", getpid());
	snprintf(other, sizeof(other), "/ferry-test-events-%d-other", getpid());
	cleanup_cgroup struct rt_cgroup *cw = NULL, *co = NULL;
	struct scratch s = { .pid = -1, .hold = { -1, -1 }, .t.w.fd = -1 };
	if (make_cgroup(watched, &cw, &s.watched) < 0) {
		char why[128] = "no cgroup2 hierarchy to make a cgroup in";
		if (s.watched)
			snprintf(why, sizeof(why), "cannot make a cgroup: mkdir %s: %s", s.watched,
				 strerror(errno));
		TAP_SKIP(why, "%s", what);
		return;
	}
	int fd = cr_tasks_events_open(s.watched);
	if (fd < 0) {
		test_without_file(errno, what);
		remove_cgroup(cw, s.watched);
		return;
	}
	close(fd);
	if (make_cgroup(other, &co, &s.other) == 0) {
		run_cases(&s);
		reap(&s.pid, SIGKILL);
		close_fd(&s.hold[0]);
		close_fd(&s.hold[1]);
		watcher_stop(&s.t);
		remove_cgroup(co, s.other);
	} else {
		TAP_OK(0, "mkdir %s: %s", s.other ? s.other : other, strerror(errno));
	}
	remove_cgroup(cw, s.watched);
}

int main(void)
{
	test_moved();
	test_record_text();
	test_lookalike();
	if (geteuid() != 0)
		TAP_SKIP("needs root (scratch cgroups)", KERNEL_CASE "fork, exit, another cgroup");
	else
		test_kernel();
	return tap_done();
}
