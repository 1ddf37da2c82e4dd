/* How often cr_dump walks the frozen tree (seize.c, stats "tree_walks"):
 * until two walks agree, i.e. twice for a tree that does not change,
 * unless the cgroup counts its tasks (cgroup.tasks.events, ferry's kernel
 * patch 1) and the counters stood still from the freeze until the first
 * walk's tasks were seized: then once.
 *
 * The decision is tested on any kernel with a look-alike counter file and a
 * freezer that freezes nothing (the tree is idle). As root with a cgroup2
 * hierarchy, a real cgroup is frozen too: one walk where the kernel has the
 * file (make kernel-test runs this in its guest), two as before where it
 * does not; and a fork into the cgroup while the seize has it thawed (as it
 * must to collect the stops under a v1-like freezer) costs the second
 * walk. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "coordinator/coordinator.h"
#include "tap.h"
#include "util.h"

static void test_same(void)
{
	const struct cr_tasks_events base = { 5, 3, 1, 1 };
	struct cr_tasks_events moved[4];
	for (size_t i = 0; i < ARRAY_SIZE(moved); i++)
		moved[i] = base;
	moved[0].fork++;
	moved[1].exit++;
	moved[2].migrate_in++;
	moved[3].migrate_out++;
	struct cr_tasks_events copy = base;
	TAP_OK(cr_tasks_events_same(&base, &copy), "equal counters: the walk is complete");
	TAP_OK(!cr_tasks_events_same(&base, &moved[0]) && !cr_tasks_events_same(&base, &moved[1]),
	       "a fork or an exit: walk again");
	TAP_OK(!cr_tasks_events_same(&base, &moved[2]) && !cr_tasks_events_same(&base, &moved[3]),
	       "a migration in or out: walk again");
}

static int write_file(const char *path, const char *text, int flags)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | flags, 0644);
	return fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
}

/* A root and its child, both idle; the root first moves itself into
 * cgroup_dir when one is given. */
struct tree {
	pid_t root, child;
};

static int spawn_tree(const char *cgroup_dir, struct tree *t)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	t->child = -1;
	t->root = fork();
	if (t->root == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		cleanup_free char *procs = cgroup_dir ? xasprintf("%s/cgroup.procs", cgroup_dir)
						      : NULL;
		if (procs && write_file(procs, "0", 0) < 0)
			_exit(1);
		pid_t child = fork();
		if (child == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		if (write(p[1], &child, sizeof(child)) != sizeof(child))
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	bool ok = t->root > 0 && read(p[0], &t->child, sizeof(t->child)) == sizeof(t->child) &&
		  t->child > 0;
	close(p[0]);
	return ok ? 0 : -1;
}

/* We are a subreaper: the child is ours to reap once the root is gone. */
static void kill_tree(const struct tree *t)
{
	pid_t pids[] = { t->root, t->child };
	for (size_t i = 0; i < ARRAY_SIZE(pids); i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	for (size_t i = 0; i < ARRAY_SIZE(pids); i++)
		if (pids[i] > 0)
			waitpid(pids[i], NULL, 0);
}

/* The dump's freezer: a real cgroup's (cg) or none, plus a race run on its
 * first thaw, which with reports_stops false is the seize's, before the
 * counters are read again. */
struct test_freezer {
	struct cr_freezer f;
	struct rt_cgroup *cg;
	void (*race)(const char *arg);
	const char *race_arg;
	bool raced;
};

static int test_freeze(void *arg, bool frozen, struct rt_err **err)
{
	struct test_freezer *t = arg;
	if (t->cg && rt_cgroup_freeze(t->cg, frozen, err) < 0)
		return -1;
	if (!frozen && t->race && !t->raced) {
		t->raced = true;
		t->race(t->race_arg);
	}
	return 0;
}

static void freezer_init(struct test_freezer *t, struct rt_cgroup *cg)
{
	*t = (struct test_freezer){
		.f = { .arg = t, .freeze = test_freeze, .reports_stops = true },
		.cg = cg,
	};
}

/* What a fork and its exit do to the look-alike file. */
static void race_bump(const char *path)
{
	write_file(path, "fork 3\nexit 1\nmigrate_in 1\nmigrate_out 0\n", O_TRUNC);
}

/* A task forked straight into the cgroup, which exits at once. */
static void race_fork(const char *cgroup_dir)
{
	cleanup_close int dfd = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct clone_args ca = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
				 .cgroup = (uint64_t)dfd };
	long pid = dfd >= 0 ? syscall(SYS_clone3, &ca, sizeof(ca)) : -1;
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
}

/* cr_dump of the tree (left running) into a fresh directory: its tree
 * walks, or -1 with the error in msg. */
static int dump_walks(pid_t root, struct test_freezer *fz, char *msg, size_t size)
{
	char dir[] = "/tmp/ferry-test-seize-img-XXXXXX";
	snprintf(msg, size, "ok");
	if (mkdtemp(dir) == NULL) {
		snprintf(msg, size, "mkdtemp: %s", strerror(errno));
		return -1;
	}
	cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct cr_dump_opts o = { .root = root, .images_dirfd = dirfd, .freezer = &fz->f,
				  .leave_running = true };
	struct cr_stats st = { 0 };
	struct rt_err *e = NULL;
	int r = dirfd >= 0 ? cr_dump(&o, &st, &e) : -1;
	if (e)
		snprintf(msg, size, "%s", e->msg);
	rt_err_free(e);
	e = NULL;
	rt_rm_rf(dir, &e);
	rt_err_free(e);
	return r < 0 ? -1 : (int)st.tree_walks;
}

/* Any kernel: the decision, on a file that only looks like the kernel's. */
static void test_lookalike(void)
{
	char dir[] = "/tmp/ferry-test-seize-XXXXXX", msg[256];
	struct tree t = { -1, -1 };
	if (mkdtemp(dir) == NULL || spawn_tree(NULL, &t) < 0) {
		TAP_OK(0, "a tree to dump: %s", strerror(errno));
		kill_tree(&t);
		return;
	}
	cleanup_free char *path = xasprintf("%s/" CR_TASKS_EVENTS_FILE, dir);
	struct test_freezer fz;
	freezer_init(&fz, NULL);
	int w = dump_walks(t.root, &fz, msg, sizeof(msg));
	TAP_OK(w == 2, "no counter directory: two walks, as before (%d walks; %s)", w, msg);
	fz.f.tasks_events_dir = dir;
	w = dump_walks(t.root, &fz, msg, sizeof(msg));
	TAP_OK(w == 2, "a directory without " CR_TASKS_EVENTS_FILE ": two walks (%d; %s)", w,
	       msg);
	write_file(path, "fork 2\nexit 0\nmigrate_in 1\nmigrate_out 0\n", O_CREAT | O_TRUNC);
	w = dump_walks(t.root, &fz, msg, sizeof(msg));
	TAP_OK(w == 1, "counters standing still: one walk (%d; %s)", w, msg);
	fz.f.reports_stops = false;
	fz.race = race_bump;
	fz.race_arg = path;
	w = dump_walks(t.root, &fz, msg, sizeof(msg));
	TAP_OK(fz.raced && w == 2,
	       "counters moving while the seize had the tree thawed: two walks (%d; %s)", w, msg);
	kill_tree(&t);
	unlink(path);
	rmdir(dir);
}

static bool read_counts(const char *dir, struct cr_tasks_events *ev)
{
	cleanup_close int fd = cr_tasks_events_open(dir);
	cleanup_err struct rt_err *e = NULL;
	return fd >= 0 && cr_tasks_events_read(fd, ev, &e) == 0;
}

/* A fork into the frozen tree's cgroup while the seize has it thawed. */
static void test_racing_fork(pid_t root, struct test_freezer *fz, const char *dir)
{
	const char *what = "a racing fork into the cgroup costs a second walk";
	struct cr_tasks_events before = { 0 }, after = { 0 };
	char msg[256];
	fz->f.reports_stops = false;
	fz->race = race_fork;
	fz->race_arg = dir;
	bool read = read_counts(dir, &before);
	int w = dump_walks(root, fz, msg, sizeof(msg));
	read = read && read_counts(dir, &after);
	TAP_OK(read && fz->raced && w == 2 && after.fork == before.fork + 1,
	       "%s (%d walks; fork %llu -> %llu; %s)", what, w, (unsigned long long)before.fork,
	       (unsigned long long)after.fork, msg);
}

/* Root, cgroup2: the real freezer and, where the kernel has it, the file. */
static void test_cgroup(void)
{
	const char *what = "a frozen tree in a cgroup";
	char name[64], msg[256];
	snprintf(name, sizeof(name), "/ferry-test-seize-%d", getpid());
	cleanup_cgroup struct rt_cgroup *cg = NULL;
	cleanup_err struct rt_err *e = NULL;
	const char *dir = NULL;
	if (rt_cgroup_resolve(name, "test-seize", &cg, &e) < 0 ||
	    (dir = rt_cgroup_tasks_events_dir(cg)) == NULL || mkdir(dir, 0755) < 0) {
		TAP_SKIP("no cgroup2 hierarchy to make a cgroup in", "%s", what);
		return;
	}
	cleanup_free char *path = xasprintf("%s/" CR_TASKS_EVENTS_FILE, dir);
	bool counted = access(path, F_OK) == 0;
	struct tree t = { -1, -1 };
	struct test_freezer fz;
	freezer_init(&fz, cg);
	fz.f.tasks_events_dir = dir;
	int w = spawn_tree(dir, &t) < 0 ? -1 : dump_walks(t.root, &fz, msg, sizeof(msg));
	if (counted)
		TAP_OK(w == 1, "%s with " CR_TASKS_EVENTS_FILE " is dumped after one walk (%d; %s)",
		       what, w, msg);
	else
		TAP_OK(w == 2, "%s without " CR_TASKS_EVENTS_FILE " is dumped after two walks, as "
			       "before (%d; %s)", what, w, msg);
	if (counted && w > 0)
		test_racing_fork(t.root, &fz, dir);
	else
		TAP_SKIP(counted ? "no tree" : "no " CR_TASKS_EVENTS_FILE " (kernel without "
					       "ferry's patch 1)",
			 "a racing fork into the cgroup costs a second walk");
	kill_tree(&t);
	if (rt_cgroup_destroy(cg, &e) < 0)
		TAP_OK(0, "remove %s: %s", dir, e->msg);
}

int main(void)
{
	test_same();
	if (geteuid() != 0) {
		TAP_SKIP("needs root (ptrace)", "cr_dump's tree walks");
		return tap_done();
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	test_lookalike();
	test_cgroup();
	return tap_done();
}
