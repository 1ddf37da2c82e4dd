/* runtime/coordinator/pstree.c against the running kernel: fork a small
 * tree with threads, walk it through the children files and through the
 * forced PPid scan, and compare both with what the tree reported about
 * itself.
 *
 *   R (2 threads: main, t1)
 *   +- A (3 threads), forked by R's main thread
 *   |  +- B
 *   +- C, forked by thread t1 (listed only in /proc/R/task/t1/children)
 *
 * Every process reports {pid, ppid, threads} on a pipe once its own threads
 * and children exist, then blocks until the test closes the release pipe.
 * Children die with the test (PR_SET_PDEATHSIG). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coordinator/coordinator.h"
#include "tap.h"
#include "util.h"

struct report {
	pid_t pid, ppid;
	int threads;
};

static int report_w = -1, release_r = -1, release_w = -1;

static void block_until_released(void)
{
	char c;
	while (read(release_r, &c, 1) < 0 && errno == EINTR)
		;
}

static void *thread_block(void *arg)
{
	(void)arg;
	block_until_released();
	return NULL;
}

static void start_threads(int n)
{
	for (int i = 0; i < n; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, thread_block, NULL) != 0)
			_exit(90);
		pthread_detach(t);
	}
}

static void say(int threads)
{
	struct report r = { getpid(), getppid(), threads };
	if (write(report_w, &r, sizeof(r)) != sizeof(r))
		_exit(91);
}

/* Run body in a child that dies with its parent. */
static pid_t spawn(void (*body)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (release_w >= 0)
			close(release_w); /* only the test may release the tree */
		release_w = -1;
		body();
		_exit(0);
	}
	return pid;
}

static void reap_all(void)
{
	while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
		;
}

static void body_leaf(void)
{
	say(1);
	block_until_released();
}

static void body_a(void)
{
	start_threads(2);
	spawn(body_leaf);
	say(3);
	block_until_released();
	reap_all();
}

static pid_t c_pid;

static void *thread_forks_c(void *arg)
{
	(void)arg;
	c_pid = spawn(body_leaf);
	block_until_released();
	return NULL;
}

static void body_r(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, thread_forks_c, NULL) != 0)
		_exit(92);
	while (__atomic_load_n(&c_pid, __ATOMIC_SEQ_CST) == 0)
		usleep(1000);
	spawn(body_a);
	say(2);
	block_until_released();
	pthread_join(t, NULL);
	reap_all();
}

static bool parents_first(const struct cr_pstree *t)
{
	for (size_t i = 1; i < t->n; i++) {
		bool found = false;
		for (size_t j = 0; j < i; j++)
			found |= t->tasks[j].pid == t->tasks[i].ppid;
		if (!found)
			return false;
	}
	return true;
}

static void check_tree(const char *how, const struct cr_pstree *t, pid_t root,
		       const struct report *rep, size_t n_rep)
{
	TAP_OK(t->n == n_rep, "%s: %zu processes (expected %zu)", how, t->n, n_rep);
	TAP_OK(t->n > 0 && t->tasks[0].pid == root, "%s: the root comes first", how);
	TAP_OK(parents_first(t), "%s: every parent precedes its children", how);
	bool all = true;
	for (size_t i = 0; i < n_rep; i++) {
		const struct cr_task *task = cr_pstree_find(t, rep[i].pid);
		bool ok = task && task->ppid == rep[i].ppid &&
			  task->n_tids == (size_t)rep[i].threads &&
			  task->tids[0] == rep[i].pid;
		if (!ok)
			printf("#   %s: pid %d ppid %d threads %d: %s\n", how, rep[i].pid,
			       rep[i].ppid, rep[i].threads,
			       task ? "wrong parent or threads" : "missing");
		all &= ok;
	}
	TAP_OK(all, "%s: every process with its parent and all its threads", how);
}

static void test_tree(void)
{
	int rep_p[2], rel_p[2];
	if (pipe(rep_p) < 0 || pipe(rel_p) < 0) {
		TAP_OK(0, "pipes");
		return;
	}
	report_w = rep_p[1];
	release_r = rel_p[0];
	release_w = rel_p[1];
	pid_t root = spawn(body_r);
	close(rep_p[1]);
	close(rel_p[0]);
	struct report rep[4];
	size_t n = 0;
	while (n < ARRAY_SIZE(rep) && read(rep_p[0], &rep[n], sizeof(rep[n])) == sizeof(rep[n]))
		n++;
	TAP_OK(n == 4, "the tree reported 4 processes (%zu)", n);

	cleanup_err struct rt_err *err = NULL;
	cleanup_pstree struct cr_pstree *by_children = NULL, *by_ppid = NULL;
	if (cr_children_file_available()) {
		TAP_OK(cr_pstree_collect(root, false, &by_children, &err) == 0,
		       "walk through the children files%s%s", err ? ": " : "",
		       err ? err->msg : "");
		if (by_children) {
			TAP_OK(by_children->walk == CR_WALK_CHILDREN, "children walk used");
			check_tree("children", by_children, root, rep, n);
		}
	} else {
		TAP_SKIP("no /proc/PID/task/TID/children on this kernel", "children walk");
	}
	TAP_OK(cr_pstree_collect(root, true, &by_ppid, &err) == 0,
	       "forced PPid walk%s%s", err ? ": " : "", err ? err->msg : "");
	if (by_ppid) {
		TAP_OK(by_ppid->walk == CR_WALK_PPID, "PPid walk used when forced");
		check_tree("ppid", by_ppid, root, rep, n);
		TAP_OK(cr_pstree_nr_threads(by_ppid) == 7, "7 threads in all (%zu)",
		       cr_pstree_nr_threads(by_ppid));
	}
	if (by_children && by_ppid) {
		TAP_OK(cr_pstree_equal(by_children, by_ppid), "both walks agree");
		by_ppid->tasks[by_ppid->n - 1].ppid++;
		TAP_OK(!cr_pstree_equal(by_children, by_ppid),
		       "a different parent makes the trees differ");
	}

	/* A subtree: from A, only A and B. */
	pid_t a = 0;
	for (size_t i = 0; i < n; i++)
		if (rep[i].threads == 3)
			a = rep[i].pid;
	cleanup_pstree struct cr_pstree *sub = NULL;
	TAP_OK(a > 0 && cr_pstree_collect(a, true, &sub, &err) == 0 && sub->n == 2,
	       "a subtree holds only the descendants of its root");

	close(rel_p[1]);
	close(rep_p[0]);
	int status = -1;
	waitpid(root, &status, 0);
	TAP_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "the tree exited cleanly (status 0x%x)", status);
}

static void test_errors(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	for (int force = 0; force <= 1; force++) {
		cleanup_err struct rt_err *err = NULL;
		cleanup_pstree struct cr_pstree *t = NULL;
		int r = cr_pstree_collect(pid, force, &t, &err);
		TAP_OK(r < 0 && err && err->code == ESRCH && t == NULL,
		       "%s walk of a reaped pid fails with ESRCH (%s)",
		       force ? "PPid" : "default", err ? err->msg : "no error");
	}
}

static void test_self(void)
{
	cleanup_err struct rt_err *err = NULL;
	cleanup_pstree struct cr_pstree *t = NULL;
	TAP_OK(cr_pstree_collect(getpid(), false, &t, &err) == 0 && t->n == 1 &&
		       t->tasks[0].ppid == getppid(),
	       "a process without children is a tree of one");
}

/* cgroup.tasks.events parsing, on a look-alike file (the real one exists
 * only on a kernel with ferry's patch 1: make kernel-test). */
static void test_tasks_events(void)
{
	char dir[] = "/tmp/ferry-test-pstree.XXXXXX";
	if (mkdtemp(dir) == NULL) {
		TAP_OK(0, "mkdtemp");
		return;
	}
	errno = 0;
	TAP_OK(cr_tasks_events_open(dir) < 0 && errno == ENOENT,
	       "no " CR_TASKS_EVENTS_FILE ": ENOENT (a kernel without patch 1)");
	cleanup_free char *path = xasprintf("%s/" CR_TASKS_EVENTS_FILE, dir);
	cleanup_err struct rt_err *err = NULL;
	rt_write_file_atomic(path, "fork 12\nexit 10\nmigrate_in 1\nmigrate_out 2\n", 43, 0644,
			     &err);
	int fd = cr_tasks_events_open(dir);
	struct cr_tasks_events ev = { 0 };
	TAP_OK(fd >= 0 && cr_tasks_events_read(fd, &ev, &err) == 0 && ev.fork == 12 &&
		       ev.exit == 10 && ev.migrate_in == 1 && ev.migrate_out == 2,
	       "the four counters are read");
	if (fd >= 0)
		close(fd);
	rt_write_file_atomic(path, "fork 12\nexit 10\n", 16, 0644, &err);
	fd = cr_tasks_events_open(dir);
	TAP_OK(fd >= 0 && cr_tasks_events_read(fd, &ev, &err) < 0 && err &&
		       strstr(err->msg, "missing"),
	       "a missing counter is an error");
	if (fd >= 0)
		close(fd);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_tasks_events();
	test_self();
	test_tree();
	test_errors();
	return tap_done();
}
