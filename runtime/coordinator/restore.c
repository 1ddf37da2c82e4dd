/* Restore orchestration: check the machine -> build the task tree with the
 * dumped pids through the agents -> per task, every resource's prepare ->
 * morph every task by injection -> release all at once. Any failure kills
 * every task of the restore.
 *
 * The tree may live in another pid namespace than ours (a container's): the
 * images name tasks by vpid, we act on them by hpid (pidns.c). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coordinator/internal.h"
#include "util.h"

#define RSEQ_FLAG_UNREGISTER 1

/* prepare in this order (files first: it places the agent's socket);
 * morph in this order (threads before signals: per-thread queues; timers
 * after signals; misc drops privileges; seccomp last, its filters could
 * refuse what the others inject). */
static const struct cr_resource *const restore_table[] = {
	&cr_res_files, &cr_res_mm, &cr_res_threads, &cr_res_signals, &cr_res_timers,
	/* seccomp before misc: installing a filter needs CAP_SYS_ADMIN or
	 * no_new_privs, and before misc restores the identity the task is still
	 * the runtime's fully privileged init (a container started without
	 * no_new_privs, Podman's default, has neither afterwards). The filters
	 * stay suspended for the tracee, so they never see what misc injects. */
	&cr_res_seccomp, &cr_res_misc, &cr_res_locks,
};

struct cr_rtask *cr_rtask_find(struct cr_restore_ctx *c, pid_t vpid)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->tasks[i].vpid == vpid)
			return &c->tasks[i];
	return NULL;
}

static int get_task(struct cr_rd *r, struct cr_rtask *t, struct rt_err **err)
{
	uint32_t v[4], code, n;
	uint8_t z;
	if (cr_get_u32(r, "pid", &v[0], err) < 0 || cr_get_u32(r, "ppid", &v[1], err) < 0 ||
	    cr_get_u32(r, "pgid", &v[2], err) < 0 || cr_get_u32(r, "sid", &v[3], err) < 0 ||
	    cr_get_u8(r, "zombie", &z, err) < 0 || cr_get_u32(r, "exit", &code, err) < 0 ||
	    cr_get_u32(r, "threads", &n, err) < 0)
		return -1;
	if (n == 0 || n > 65536 || v[0] == 0)
		return rt_err_set(err, 0, "pstree.img: record %zu: bad task", r->index);
	*t = (struct cr_rtask){ .vpid = (pid_t)v[0], .ppid = (pid_t)v[1],
				.pgid = (pid_t)v[2], .sid = (pid_t)v[3], .zombie = z,
				.exit_code = (int)code, .n_thr = n, .sock = -1,
				.pidfd = -1 };
	t->thr = xcalloc(n, sizeof(*t->thr));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t tid;
		if (cr_get_u32(r, "tid", &tid, err) < 0)
			return -1;
		t->thr[i].vtid = (pid_t)tid;
	}
	if (t->thr[0].vtid != t->vpid)
		return rt_err_set(err, 0, "pstree.img: pid %d: leader first", t->vpid);
	return cr_rd_done(r, err);
}

int cr_load_pstree(struct cr_restore_ctx *c, struct rt_err **err)
{
	cleanup_img struct cr_img *img = NULL;
	if (cr_img_open(c->o->images_dirfd, "pstree.img", CR_IMG_PSTREE, &img, err) < 0)
		return -1;
	for (;;) {
		struct cr_rd r;
		int k = cr_img_next(img, &r, err);
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		if (r.type != CR_R_TASK)
			return rt_err_set(err, 0, "pstree.img: unexpected record %zu", r.index);
		c->tasks = xrealloc(c->tasks, (c->n + 1) * sizeof(*c->tasks));
		memset(&c->tasks[c->n], 0, sizeof(c->tasks[0]));
		c->tasks[c->n].sock = -1;
		c->tasks[c->n].pidfd = -1;
		if (get_task(&r, &c->tasks[c->n++], err) < 0)
			return -1;
		struct cr_rtask *t = &c->tasks[c->n - 1];
		if (cr_rtask_find(c, t->vpid) != t)
			return rt_err_set(err, 0, "pstree.img: pid %d twice", t->vpid);
		if (c->n > 1 && (!cr_rtask_find(c, t->ppid) || cr_rtask_find(c, t->ppid) == t))
			return rt_err_set(err, 0, "pstree.img: pid %d before its parent",
					  t->vpid);
	}
	if (c->n == 0)
		return rt_err_set(err, 0, "pstree.img: no task");
	return 0;
}

/* The root is the agent we were given: it must already have the root's
 * vpid in its pid namespace (1 in a new one). */
static int adopt_root(struct cr_restore_ctx *c, pid_t image_root, struct rt_err **err)
{
	struct cr_rtask *t = &c->tasks[0];
	struct cr_ns_ids ids;
	if (image_root != t->vpid)
		return rt_err_set(err, 0, "inventory.img names root pid %d, pstree.img %d",
				  image_root, t->vpid);
	if (cr_ns_ids(c->o->agent_pid, c->o->agent_pid, &ids, err) < 0)
		return rt_err_wrap(err, "the restore agent");
	if (ids.pid != t->vpid)
		return rt_err_set(err, EINVAL, "the image's root is pid %d in its pid "
				  "namespace, the restore agent (pid %d here) is pid %d in "
				  "its own: the root must be restored as that pid (pid 1: "
				  "in a new pid namespace)", t->vpid, c->o->agent_pid, ids.pid);
	t->hpid = t->thr[0].htid = c->o->agent_pid;
	t->sock = c->o->agent_fd;
	return 0;
}

/* A child of an already created task, through its parent's agent. */
static int create_task(struct cr_restore_ctx *c, struct cr_rtask *t,
		       struct rt_err **err)
{
	struct cr_rtask *p = cr_rtask_find(c, t->ppid);
	if (cr_agent_clone(p->sock, p->vpid, t->vpid, &t->sock, &t->pidfd, err) < 0 ||
	    cr_pidfd_pid(t->pidfd, &t->hpid, err) < 0)
		return rt_err_wrap(err, "create pid %d", t->vpid);
	t->thr[0].htid = t->hpid;
	return 0;
}

/* Every task with its pid, session and group (leaders before members). */
static int build_tree(struct cr_restore_ctx *c, struct rt_err **err)
{
	for (size_t i = 0; i < c->n; i++) {
		struct cr_rtask *t = &c->tasks[i];
		if (i > 0 && create_task(c, t, err) < 0)
			return -1;
		if (t->sid == t->vpid && cr_agent_call(t->sock, t->vpid, "setsid",
						       CR_AG_SETSID, -1, 0, 0, NULL, NULL,
						       err) < 0)
			return -1;
		if (t->pgid == t->vpid && t->sid != t->vpid &&
		    cr_agent_call(t->sock, t->vpid, "setpgid", CR_AG_SETPGID, -1, 0, 0, NULL,
				  NULL, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < c->n; i++) {
		struct cr_rtask *t = &c->tasks[i];
		if (t->pgid != t->vpid && cr_rtask_find(c, t->pgid) &&
		    cr_agent_call(t->sock, t->vpid, "join its process group", CR_AG_SETPGID,
				  -1, t->pgid, 0, NULL, NULL, err) < 0)
			return -1;
	}
	return 0;
}

static int prepare_all(struct cr_restore_ctx *c, struct rt_err **err)
{
	if (cr_files_restore_load(c, err) < 0)
		return -1;
	for (size_t i = 0; i < c->n; i++) {
		struct cr_rtask *t = &c->tasks[i];
		if (t->zombie) {
			if (cr_agent_call(t->sock, t->vpid, "become a zombie", CR_AG_EXIT, -1,
					  t->exit_code, 0, NULL, NULL, err) == 0)
				continue;
			/* It died as asked: the call's EOF is expected. */
			rt_err_free(*err);
			*err = NULL;
			continue;
		}
		for (size_t k = 0; k < ARRAY_SIZE(restore_table); k++)
			if (restore_table[k]->prepare &&
			    restore_table[k]->prepare(c, t, err) < 0)
				return rt_err_wrap(err, "restore %s of pid %d",
						   restore_table[k]->name, t->vpid);
		if (cr_agent_call(t->sock, t->vpid, "close other fds", CR_AG_CLOSE_OTHERS, -1,
				  0, 0, NULL, NULL, err) < 0)
			return -1;
	}
	return 0;
}

/* A helper area free in the agent's layout and in the dumped one. */
static int pick_helper(struct cr_rtask *t, unsigned long *addr, struct rt_err **err)
{
	cleanup_free char *maps = NULL;
	if (cr_proc_read(t->hpid, "maps", &maps, err) < 0)
		return -1;
	for (unsigned long a = 0x100000000ul; a < 0x7f0000000000ul; a += 0x40000000ul) {
		bool busy = !cr_mm_range_free(t, a, CR_SCRATCH_SIZE);
		for (const char *l = maps; !busy && l && *l;
		     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			unsigned long s, e;
			busy = sscanf(l, "%lx-%lx", &s, &e) == 2 && a < e &&
			       s < a + CR_SCRATCH_SIZE;
		}
		if (!busy) {
			*addr = a;
			return 0;
		}
	}
	return rt_err_set(err, 0, "pid %d: no free address for the restore helper", t->vpid);
}

/* KERNEL-NOTES steps 2-3: stop the agent, block signals, drop glibc's
 * rseq, map the helper. */
static int begin_morph(struct cr_restore_ctx *c, struct cr_rtask *t,
		       struct rt_err **err)
{
	unsigned long vdso, helper = 0;
	uint8_t *xs = NULL;
	size_t xlen;
	struct __ptrace_rseq_configuration rc = { 0 };
	if (cr_seize(t->hpid, CR_RESTORE_PTRACE_OPTS, err) < 0)
		return -1;
	t->seized = true;
	t->thr[0].attached = true;
	if (cr_interrupt_wait(t->hpid, err) < 0 || cr_set_sigmask(t->hpid, ~0ull, err) < 0 ||
	    cr_task_vdso(t->hpid, &vdso, err) < 0 ||
	    cr_inj_init(&t->inj, t->hpid, vdso + c->vdso.gadget_off, err) < 0)
		return -1;
	xs = xmalloc(CR_XSTATE_MAX);
	int ret = cr_get_xstate(t->hpid, xs, &xlen, err);
	free(xs);
	if (ret == 0 && xlen != t->thr[0].xlen)
		return rt_err_set(err, 0, "pid %d: the image's xstate has %zu bytes, this "
				  "CPU's %zu", t->vpid, t->thr[0].xlen, xlen);
	if (ret < 0 || ptrace(PTRACE_GET_RSEQ_CONFIGURATION, t->hpid, sizeof(rc), &rc) < 0)
		return ret < 0 ? -1 : rt_err_set(err, errno, "pid %d: read rseq", t->vpid);
	if (rc.rseq_abi_pointer &&
	    cr_inj_ok(&t->inj, "unregister rseq", SYS_rseq, (long)rc.rseq_abi_pointer,
		      rc.rseq_abi_size, RSEQ_FLAG_UNREGISTER, rc.signature, 0, 0, NULL, err) < 0)
		return -1;
	if (pick_helper(t, &helper, err) < 0 ||
	    cr_inj_ok(&t->inj, "map the helper", SYS_mmap, (long)helper, CR_SCRATCH_SIZE,
		      PROT_READ | PROT_WRITE | PROT_EXEC, /* exec: cr_batch_run's loop */
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0, NULL, err) < 0)
		return -1;
	t->helper = helper;
	return 0;
}

/* KERNEL-NOTES step 11: drop the agent's socket, temporary fds and the
 * helper; every thread gets its final registers and mask. */
static int finish_morph(struct cr_rtask *t, struct rt_err **err)
{
	if (cr_inj_ok(&t->inj, "close the agent's fds", SYS_close_range, t->agent_sock_fd,
		      ~0u, 0, 0, 0, 0, NULL, err) < 0 ||
	    cr_inj_ok(&t->inj, "unmap the helper", SYS_munmap, (long)t->helper,
		      CR_SCRATCH_SIZE, 0, 0, 0, 0, NULL, err) < 0)
		return -1;
	for (size_t i = 0; i < t->n_thr; i++) {
		struct cr_rthread *th = &t->thr[i];
		if (cr_setregs(th->htid, &th->regs, err) < 0 ||
		    cr_set_xstate(th->htid, th->xstate, th->xlen, err) < 0 ||
		    cr_set_sigmask(th->htid, th->sigmask, err) < 0)
			return -1;
	}
	return 0;
}

/* One task from the agent it was to the task it was dumped as. */
static int morph_task(struct cr_restore_ctx *c, struct cr_rtask *t, struct rt_err **err)
{
	if (begin_morph(c, t, err) < 0)
		return rt_err_wrap(err, "restore pid %d", t->vpid);
	for (size_t k = 0; k < ARRAY_SIZE(restore_table); k++)
		if (restore_table[k]->morph && restore_table[k]->morph(c, t, err) < 0)
			return rt_err_wrap(err, "restore %s of pid %d", restore_table[k]->name,
					   t->vpid);
	if (finish_morph(t, err) < 0)
		return rt_err_wrap(err, "restore pid %d", t->vpid);
	return 0;
}

/* Detach the threads this morpher traces (a tracee answers only to the
 * thread that seized it). */
static int detach_own(struct cr_restore_ctx *c, int who, struct rt_err **err)
{
	for (size_t i = 0; i < c->n; i++)
		for (size_t k = 0; k < c->tasks[i].n_thr && c->tasks[i].morpher == who; k++)
			if (c->tasks[i].thr[k].attached &&
			    ptrace(PTRACE_DETACH, c->tasks[i].thr[k].htid, 0, 0) < 0)
				return rt_err_set(err, errno, "detach thread %d",
						  c->tasks[i].thr[k].vtid);
	return 0;
}

/* Morphing is ptrace round trips, each a pair of context switches: a
 * second tracer thread keeps a second task busy (2 CPUs on this machine
 * kind). Both take the next task from a shared counter; the tree is
 * released only when both are done. The helper thread must outlive its
 * tracees' release or death: its exit would detach them (or, with
 * PTRACE_O_EXITKILL, kill them) early. */
#define MORPHERS 2
#define MORPH_ALONE 8 /* below this many tasks a thread costs more than it saves */

struct morph_team {
	struct cr_restore_ctx *c;
	size_t next;            /* the next task to take (atomic) */
	bool failed;            /* someone failed: take no more (atomic) */
	pthread_barrier_t done, decided, released;
	bool release;           /* decided: release (else the tree was killed) */
	struct rt_err *err[MORPHERS];
};

static void morph_share(struct morph_team *m, int who)
{
	struct cr_restore_ctx *c = m->c;
	for (;;) {
		size_t i = __atomic_fetch_add(&m->next, 1, __ATOMIC_RELAXED);
		if (i >= c->n || __atomic_load_n(&m->failed, __ATOMIC_RELAXED))
			return;
		struct cr_rtask *t = &c->tasks[i];
		t->morpher = who;
		if (!t->zombie && morph_task(c, t, &m->err[who]) < 0) {
			__atomic_store_n(&m->failed, true, __ATOMIC_RELAXED);
			return;
		}
	}
}

static void *morpher_main(void *arg)
{
	struct morph_team *m = arg;
	morph_share(m, 1);
	pthread_barrier_wait(&m->done);
	pthread_barrier_wait(&m->decided);
	if (m->release)
		detach_own(m->c, 1, &m->err[1]);
	pthread_barrier_wait(&m->released);
	return NULL;
}

static void kill_all(struct cr_restore_ctx *c);

static void team_barriers(struct morph_team *m, unsigned parties, bool init)
{
	pthread_barrier_t *b[3] = { &m->done, &m->decided, &m->released };
	for (int i = 0; i < 3; i++)
		if (init)
			pthread_barrier_init(b[i], NULL, parties);
		else
			pthread_barrier_destroy(b[i]);
}

/* Every task morphed, then released at once (the sync point) while the
 * cgroup is frozen; on failure every task is killed before the helper
 * thread lets go of its tracees. */
static int morph_and_release(struct cr_restore_ctx *c, struct rt_err **err)
{
	const struct cr_freezer *f = c->o->freezer;
	struct morph_team m = { .c = c };
	pthread_t th;
	bool helper = c->n >= MORPH_ALONE;
	team_barriers(&m, helper ? 2 : 1, true);
	if (helper && rt_thread_start(&th, morpher_main, &m) != 0) {
		helper = false;
		team_barriers(&m, 0, false);
		team_barriers(&m, 1, true);
	}
	morph_share(&m, 0);
	pthread_barrier_wait(&m.done);
	int ret = m.failed ? -1 : 0;
	if (ret == 0 && f && f->freeze(f->arg, true, &m.err[0]) < 0)
		ret = -1;
	m.release = ret == 0;
	if (ret < 0) {
		kill_all(c);
		c->killed = true;
	}
	pthread_barrier_wait(&m.decided);
	if (m.release && detach_own(c, 0, &m.err[0]) < 0)
		ret = -1;
	pthread_barrier_wait(&m.released);
	if (helper)
		pthread_join(th, NULL);
	team_barriers(&m, 0, false);
	if (m.err[1])
		ret = -1;
	if (ret == 0 && f && !c->o->paused && f->freeze(f->arg, false, &m.err[0]) < 0)
		ret = -1;
	/* the first morpher's error, else the helper's */
	struct rt_err *e = m.err[0] ? m.err[0] : m.err[1];
	if (e == m.err[0])
		rt_err_free(m.err[1]);
	else
		rt_err_free(m.err[0]);
	if (ret < 0 && err && *err == NULL)
		*err = e;
	else
		rt_err_free(e);
	return ret;
}

/* By pidfd: a task we could not learn the hpid of dies too. (In a new pid
 * namespace the root's death alone would take every task with it.) */
static void kill_all(struct cr_restore_ctx *c)
{
	kill(c->o->agent_pid, SIGKILL);
	for (size_t i = 1; i < c->n; i++)
		if (c->tasks[i].pidfd >= 0)
			pidfd_send_signal(c->tasks[i].pidfd, SIGKILL, NULL, 0);
	const struct cr_freezer *f = c->o->freezer;
	cleanup_err struct rt_err *e = NULL;
	if (f)
		f->freeze(f->arg, false, &e);
	/* Reap our tracees so their parents can (after the thaw: a task
	 * frozen by the v1 freezer cannot die). */
	size_t n = 0, all = 1;
	for (size_t i = 0; i < c->n; i++)
		all += c->tasks[i].n_thr;
	pid_t *tids = xcalloc(all, sizeof(*tids));
	for (size_t i = 0; i < c->n; i++)
		for (size_t k = 0; k < c->tasks[i].n_thr; k++)
			if (c->tasks[i].thr[k].attached)
				tids[n++] = c->tasks[i].thr[k].htid;
	cr_reap_tracees(tids, n, 10000);
	free(tids);
}

static void free_ctx(struct cr_restore_ctx *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct cr_rtask *t = &c->tasks[i];
		for (size_t k = 0; k < ARRAY_SIZE(restore_table); k++)
			if (restore_table[k]->release)
				restore_table[k]->release(t);
		if (i > 0 && t->sock >= 0)
			close(t->sock);
		if (t->pidfd >= 0)
			close(t->pidfd);
		free(t->thr);
	}
	free(c->tasks);
	cr_files_restore_free(c);
	cr_shmem_free(c);
	cr_layers_close(c);
}

static int restore_all(struct cr_restore_ctx *c, struct rt_err **err)
{
	pid_t root;
	size_t xlen;
	if (cr_vdso_self(&c->vdso, err) < 0 || cr_inventory_check(c, &root, &xlen, err) < 0 ||
	    cr_load_pstree(c, err) < 0)
		return -1;
	if (adopt_root(c, root, err) < 0 || build_tree(c, err) < 0 || prepare_all(c, err) < 0)
		return -1;
	return morph_and_release(c, err);
}

int cr_restore(const struct cr_restore_opts *o, struct cr_stats *st,
	       struct rt_err **err)
{
	struct cr_stats dummy;
	struct cr_restore_ctx c = { .o = o, .st = st ? st : &dummy };
	memset(c.st, 0, sizeof(*c.st));
	uint64_t t0 = cr_now_us();
	int ret = restore_all(&c, err);
	if (ret < 0 && !c.killed)
		kill_all(&c);
	free_ctx(&c);
	c.st->restore_time_us = cr_now_us() - t0;
	if (ret < 0)
		return rt_err_wrap(err, "restore");
	return 0;
}
