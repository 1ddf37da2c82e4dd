/* Freezing and seizing the tree for a dump, and letting it go again.
 *
 * The caller's freezer stops the cgroup; we walk the tree, PTRACE_SEIZE and
 * INTERRUPT every thread, and walk again until two walks agree. Where the
 * cgroup counts its tasks (cgroup.tasks.events, ferry's kernel patch 1) the
 * second walk is spared: counters read right after the freeze and again
 * after the seize that did not move prove that no task was created, exited
 * or moved meanwhile, so the walk saw the whole tree. With the v2 freezer
 * the stops are reported while frozen; with v1 we thaw to collect them
 * (KERNEL-NOTES), which is when a fork could race. Once every thread sits in
 * a ptrace stop the cgroup is thawed: nothing runs unless we resume it, and
 * injection needs that. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coordinator/internal.h"
#include "util.h"

#define SEIZE_OPTS CR_DUMP_PTRACE_OPTS

static bool seized_has(const struct cr_dump_ctx *c, pid_t tid)
{
	for (size_t i = 0; i < c->n_seized; i++)
		if (c->seized[i] == tid)
			return true;
	return false;
}

static int proc_state(pid_t pid, char *state, struct rt_err **err)
{
	cleanup_free char *stat = NULL;
	if (cr_proc_read(pid, "stat", &stat, err) < 0)
		return -1;
	const char *p = strrchr(stat, ')');
	if (p == NULL || p[1] != ' ')
		return rt_err_set(err, 0, "pid %d: unreadable /proc/%d/stat", pid, pid);
	*state = p[2];
	return 0;
}

/* Someone else's tracee, or a task outside the frozen cgroup, is refused. */
static int check_seizable(struct cr_dump_ctx *c, pid_t pid, pid_t tid,
			  struct rt_err **err)
{
	char file[64];
	snprintf(file, sizeof(file), "task/%d/status", tid);
	cleanup_free char *status = NULL;
	if (cr_proc_read(pid, file, &status, err) < 0)
		return -1;
	const char *tp = cr_status_field(status, "TracerPid");
	long tracer = tp ? strtol(tp, NULL, 10) : 0;
	if (tracer != 0 && tracer != getpid())
		return rt_err_set(err, EBUSY, "pid %d (thread %d) is traced by pid %ld",
				  pid, tid, tracer);
	if (c->o->freezer == NULL || pid == c->o->root)
		return 0;
	cleanup_free char *cg = NULL, *root_cg = NULL;
	if (cr_proc_read(pid, "cgroup", &cg, err) < 0 ||
	    cr_proc_read(c->o->root, "cgroup", &root_cg, err) < 0)
		return -1;
	if (strcmp(cg, root_cg) != 0)
		return rt_err_set(err, EBUSY, "pid %d is not frozen: it is not in "
				  "the container's cgroup", pid);
	return 0;
}

static int seize_one(struct cr_dump_ctx *c, pid_t pid, pid_t tid,
		     struct rt_err **err)
{
	if (check_seizable(c, pid, tid, err) < 0)
		return -1;
	if (cr_seize(tid, SEIZE_OPTS, err) < 0)
		return -1;
	c->seized = xrealloc(c->seized, (c->n_seized + 1) * sizeof(pid_t));
	c->seized[c->n_seized++] = tid;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
		return rt_err_set(err, errno, "pid %d: PTRACE_INTERRUPT thread %d", pid, tid);
	return 0;
}

/* Seize what this walk found that the last did not; wait for the stops. */
static int seize_new(struct cr_dump_ctx *c, const struct cr_pstree *t,
		     struct rt_err **err)
{
	size_t first = c->n_seized;
	for (size_t i = 0; i < t->n; i++) {
		char state = 0;
		if (proc_state(t->tasks[i].pid, &state, err) < 0)
			return -1;
		if (state == 'Z' || state == 'X')
			continue; /* a zombie cannot be traced: dumped from /proc */
		for (size_t k = 0; k < t->tasks[i].n_tids; k++)
			if (!seized_has(c, t->tasks[i].tids[k]) &&
			    seize_one(c, t->tasks[i].pid, t->tasks[i].tids[k], err) < 0)
				return -1;
	}
	const struct cr_freezer *f = c->o->freezer;
	if (f && !f->reports_stops && c->n_seized > first &&
	    f->freeze(f->arg, false, err) < 0)
		return -1;
	for (size_t i = first; i < c->n_seized; i++) {
		int st;
		if (cr_wait_stop(c->seized[i], &st, err) < 0)
			return -1;
	}
	if (f && !f->reports_stops && c->n_seized > first &&
	    f->freeze(f->arg, true, err) < 0)
		return -1;
	return 0;
}

/* The tasks' cgroup.tasks.events, or -1. Any failure to open it (no
 * freezer or cgroup2 directory, ENOENT on kernels without the patch) means
 * walking until two walks agree, which is always right. */
static int open_tasks_events(const struct cr_freezer *f)
{
	if (f == NULL || f->tasks_events_dir == NULL)
		return -1;
	return cr_tasks_events_open(f->tasks_events_dir);
}

/* Did the counters stand still since *last? *last takes the new values. */
static int counters_still(int fd, struct cr_tasks_events *last, bool *still,
			  struct rt_err **err)
{
	struct cr_tasks_events now;
	if (cr_tasks_events_read(fd, &now, err) < 0)
		return -1;
	*still = cr_tasks_events_same(last, &now);
	*last = now;
	return 0;
}

/* The tree is known and seized: hand it out and thaw (the tasks stay in
 * their ptrace stops). */
static int tree_known(struct cr_dump_ctx *c, struct cr_pstree **tree,
		      struct cr_pstree **out, struct rt_err **err)
{
	const struct cr_freezer *f = c->o->freezer;
	*out = steal_pointer(tree);
	if (f && f->freeze(f->arg, false, err) < 0)
		return -1;
	c->frozen = false;
	return 0;
}

int cr_seize_tree(struct cr_dump_ctx *c, struct cr_pstree **out,
		  struct rt_err **err)
{
	const struct cr_freezer *f = c->o->freezer;
	uint64_t t0 = cr_now_us();
	if (f && f->freeze(f->arg, true, err) < 0)
		return rt_err_wrap(err, "freeze");
	c->frozen_at = cr_now_us();
	c->st->freezing_time_us = c->frozen_at - t0;
	c->frozen = f != NULL;
	cleanup_close int events = open_tasks_events(f);
	struct cr_tasks_events counts;
	if (events >= 0 && cr_tasks_events_read(events, &counts, err) < 0)
		return -1;
	cleanup_pstree struct cr_pstree *prev = NULL;
	for (int round = 0; round < 64; round++) {
		struct cr_pstree *t = NULL;
		if (cr_pstree_collect(c->o->root, c->o->force_ppid_walk, &t, err) < 0)
			return -1;
		c->st->tree_walks++;
		bool agree = prev && cr_pstree_equal(prev, t);
		cr_pstree_free(prev);
		prev = t;
		if (agree)
			return tree_known(c, &prev, out, err);
		bool still = false;
		if (seize_new(c, t, err) < 0 ||
		    (events >= 0 && counters_still(events, &counts, &still, err) < 0))
			return -1;
		if (still)
			return tree_known(c, &prev, out, err);
	}
	return rt_err_set(err, EBUSY, "the tree of pid %d keeps changing", c->o->root);
}

/* Undo our changes to one task's threads (registers, mask). */
static void restore_threads(struct cr_dtask *t)
{
	cleanup_err struct rt_err *e = NULL;
	for (size_t i = 0; i < t->n_thr; i++) {
		struct cr_dthread *th = &t->thr[i];
		struct user_regs_struct r = th->regs;
		if (th->injected) {
			cr_regs_for_resume(&r);
			cr_setregs(th->htid, &r, &e);
		} else if (th->xstate && cr_regs_reissue_sleep(&r)) {
			/* left alone, the kernel would continue the sleep
			 * through restart_syscall, which a later dump cannot
			 * carry over */
			cr_setregs(th->htid, &r, &e);
		}
		if (th->mask_blocked)
			cr_set_sigmask(th->htid, th->sigmask, &e);
	}
}

/* Undo our changes to one task (registers, mask, scratch page). */
static void restore_task(struct cr_dtask *t)
{
	cleanup_err struct rt_err *e = NULL;
	if (t->scratch) {
		long r;
		cr_inj_call(&t->inj, SYS_munmap, (long)t->scratch, CR_SCRATCH_SIZE,
			    0, 0, 0, 0, &r, &e);
		t->scratch = 0;
	}
	restore_threads(t);
}

/* Leave every task as it was: detach while frozen, then thaw; or kill the
 * tree. Errors here cannot be reported better than by trying the rest.
 *
 * With a freezer, a tree to kill is detached first, while frozen (it runs
 * nothing of its own before the SIGKILL; its registers are put back all
 * the same), and dies on its own: its parents reap it, and the dump does
 * not wait for the kernel to free its memory (~70 ms for 1 GiB). Without
 * one, or when it fails to freeze, the tree is killed while we trace it
 * and reaped here. */
void cr_release_tree(struct cr_dump_ctx *c, bool kill_tree)
{
	cleanup_err struct rt_err *e = NULL;
	const struct cr_freezer *f = c->o->freezer;
	for (size_t i = 0; i < c->n; i++) {
		if (!kill_tree)
			restore_task(&c->tasks[i]);
		else if (f)
			restore_threads(&c->tasks[i]);
	}
	bool frozen = c->frozen;
	if (f && !c->frozen)
		frozen = f->freeze(f->arg, true, &e) == 0;
	bool detach_first = kill_tree && f && frozen;
	for (size_t i = 0; i < c->n_seized && (!kill_tree || detach_first); i++)
		ptrace(PTRACE_DETACH, c->seized[i], 0, 0);
	for (size_t i = 0; i < c->n && kill_tree; i++)
		kill(c->tasks[i].hpid, SIGKILL);
	if (f && (kill_tree || !f->keep_frozen))
		f->freeze(f->arg, false, &e);
	c->frozen = false;
	/* frozen until thawed: a killed tree is gone from here on, however
	 * long the kernel takes to free its memory */
	if (c->frozen_at)
		c->st->frozen_time_us = cr_now_us() - c->frozen_at;
	/* Reap our tracees so their parents see them exit; after the thaw,
	 * as a task frozen by the v1 freezer cannot die. */
	if (kill_tree && !detach_first)
		cr_reap_tracees(c->seized, c->n_seized, 10000);
	free(c->seized);
	c->seized = NULL;
	c->n_seized = 0;
}
