/* Checkpoint orchestration: freeze -> seize the tree -> per task, every
 * resource of the table -> inventory -> kill or release. Any error releases
 * every task exactly as it was.
 *
 * We walk and act by host pids; the images get the pids the tasks have in
 * their own pid namespace (pidns.c), which must be the root's: a nested
 * pid namespace inside the tree is refused. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "coordinator/mem.h"
#include "util.h"

/* Order matters only for reading: mm last, it reads the final layout;
 * seccomp first, it suspends the task's filters for our injections. */
static const struct cr_resource *const dump_table[] = {
	&cr_res_seccomp, &cr_res_threads, &cr_res_signals, &cr_res_misc, &cr_res_timers,
	&cr_res_files, &cr_res_locks, &cr_res_mm,
};

/* Zombie or not, and a zombie's exit code. */
static int parse_stat(struct cr_dtask *t, struct rt_err **err)
{
	const char *stat = cr_task_stat(t, err);
	if (stat == NULL)
		return -1;
	const char *p = strrchr(stat, ')');
	char state;
	if (p == NULL || sscanf(p + 2, "%c", &state) != 1)
		return rt_err_set(err, 0, "pid %d: unreadable /proc/%d/stat", t->hpid, t->hpid);
	t->zombie = state == 'Z';
	if (t->zombie) {
		/* field 52, the 50th after the state */
		const char *f = p + 2;
		for (int i = 0; i < 49 && f; i++)
			f = strchr(f + 1, ' ');
		t->exit_code = f ? atoi(f + 1) : 0;
	}
	return 0;
}

const char *cr_task_status(struct cr_dtask *t, struct rt_err **err)
{
	if (t->status == NULL && cr_proc_read(t->hpid, "status", &t->status, err) < 0)
		return NULL;
	return t->status;
}

const char *cr_task_stat(struct cr_dtask *t, struct rt_err **err)
{
	if (t->stat == NULL && cr_proc_read(t->hpid, "stat", &t->stat, err) < 0)
		return NULL;
	return t->stat;
}

const char *cr_task_root(struct cr_dtask *t, struct rt_err **err)
{
	if (t->root == NULL && cr_proc_link(t->hpid, "root", &t->root, err) < 0)
		return NULL;
	return t->root;
}

const char *cr_task_auxv(struct cr_dtask *t, size_t *len, struct rt_err **err)
{
	if (t->auxv == NULL) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/auxv", t->hpid);
		if (rt_read_file(path, &t->auxv, &t->auxv_len, err) < 0)
			return NULL;
	}
	*len = t->auxv_len;
	return t->auxv;
}

int cr_dump_inj(struct cr_dtask *t, size_t i, struct cr_inj *j,
		struct rt_err **err)
{
	if (i == 0) {
		*j = t->inj;
		return 0;
	}
	t->thr[i].injected = true;
	return cr_inj_init(j, t->thr[i].htid, t->gadget, err);
}

/* Registers and mask of every thread; block all signals so injected
 * syscalls deliver none; map our scratch page. */
static int prepare_task(struct cr_dump_ctx *c, struct cr_dtask *t,
			struct rt_err **err)
{
	for (size_t i = 0; i < t->n_thr; i++) {
		struct cr_dthread *th = &t->thr[i];
		th->xstate = xmalloc(CR_XSTATE_MAX);
		if (cr_getregs(th->htid, &th->regs, err) < 0 ||
		    cr_get_xstate(th->htid, th->xstate, &th->xlen, err) < 0 ||
		    cr_get_sigmask(th->htid, &th->sigmask, err) < 0)
			return -1;
		if (cr_set_sigmask(th->htid, ~0ull, err) < 0)
			return -1;
		th->mask_blocked = true;
	}
	uint8_t insn[2];
	size_t auxv_len;
	const char *auxv = cr_task_auxv(t, &auxv_len, err);
	if (auxv == NULL)
		return -1;
	unsigned long vdso = cr_auxv_vdso(auxv, auxv_len);
	if (vdso == 0)
		return rt_err_set(err, 0, "pid %d has no vDSO: cannot inject syscalls", t->hpid);
	t->gadget = vdso + c->vdso.gadget_off;
	if (cr_mem_read(t->hpid, t->gadget, insn, 2, err) < 0)
		return -1;
	if (insn[0] != 0x0f || insn[1] != 0x05)
		return rt_err_set(err, 0, "pid %d: its vDSO differs from ours", t->hpid);
	if (cr_inj_init(&t->inj, t->hpid, t->gadget, err) < 0)
		return -1;
	t->thr[0].injected = true;
	long addr;
	/* executable for query.c's batches, where the task allows it
	 * (PR_SET_MDWE refuses write+exec) */
	if (cr_inj_call(&t->inj, SYS_mmap, 0, CR_SCRATCH_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0, &addr, err) < 0)
		return -1;
	t->scratch_exec = addr >= 0 || addr < -4095;
	if (!t->scratch_exec &&
	    cr_inj_ok(&t->inj, "map a scratch page", SYS_mmap, 0, CR_SCRATCH_SIZE,
		      PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0, &addr, err) < 0)
		return -1;
	t->scratch = (unsigned long)addr;
	return 0;
}

/* Thread i's vpid, at the root's namespace level. */
static int vpid_of(struct cr_dtask *t, size_t i, int level, struct cr_ns_ids *ids,
		   struct rt_err **err)
{
	pid_t hpid = t->hpid, htid = t->thr[i].htid;
	const char *status = i == 0 ? cr_task_status(t, err) : NULL;
	if (i == 0 && (status == NULL || cr_ns_ids_parse(status, hpid, htid, ids, err) < 0))
		return -1;
	if (i > 0 && cr_ns_ids(hpid, htid, ids, err) < 0)
		return -1;
	if (ids->level != level)
		return rt_err_set(err, EOPNOTSUPP, "pid %d (thread %d) is in a nested pid "
				  "namespace: not supported yet", hpid, htid);
	return 0;
}

/* What the root's getppid() returns: its parent's vpid when the parent
 * shares its pid namespace, else 0. */
static pid_t root_ppid(pid_t ppid, int level)
{
	struct cr_ns_ids ids;
	cleanup_err struct rt_err *e = NULL;
	if (ppid <= 0 || cr_ns_ids(ppid, ppid, &ids, &e) < 0 || ids.level != level)
		return 0;
	return ids.pid;
}

/* The vpid of the task with that hpid among the first n, or 0. */
static pid_t vpid_among(const struct cr_dump_ctx *c, size_t n, pid_t hpid)
{
	for (size_t i = 0; i < n; i++)
		if (c->tasks[i].hpid == hpid)
			return c->tasks[i].vpid;
	return 0;
}

/* The vpids of every task and thread, its parent, group and session. */
static int translate_pids(struct cr_dump_ctx *c, const struct cr_pstree *tree,
			  struct rt_err **err)
{
	struct cr_ns_ids root;
	const char *status = cr_task_status(&c->tasks[0], err);
	if (status == NULL ||
	    cr_ns_ids_parse(status, c->tasks[0].hpid, c->tasks[0].hpid, &root, err) < 0)
		return -1;
	for (size_t i = 0; i < c->n; i++) {
		struct cr_dtask *t = &c->tasks[i];
		struct cr_ns_ids ids;
		for (size_t k = 0; k < t->n_thr; k++) {
			if (vpid_of(t, k, root.level, &ids, err) < 0)
				return -1;
			t->thr[k].vtid = ids.pid;
			if (k == 0) {
				t->vpid = ids.pid;
				t->pgid = ids.pgid;
				t->sid = ids.sid;
			}
		}
		/* parents come first (depth-first order) */
		t->ppid = i == 0 ? root_ppid(tree->tasks[0].ppid, root.level)
				 : vpid_among(c, i, tree->tasks[i].ppid);
	}
	return 0;
}

static int build_tasks(struct cr_dump_ctx *c, const struct cr_pstree *tree,
		       struct rt_err **err)
{
	c->tasks = xcalloc(tree->n, sizeof(*c->tasks));
	c->n = tree->n;
	for (size_t i = 0; i < tree->n; i++) {
		struct cr_dtask *t = &c->tasks[i];
		const struct cr_task *k = &tree->tasks[i];
		t->index = i;
		t->hpid = k->pid;
		t->n_thr = k->n_tids;
		t->thr = xcalloc(k->n_tids, sizeof(*t->thr));
		/* leader first */
		t->thr[0].htid = k->pid;
		for (size_t j = 0, w = 1; j < k->n_tids; j++)
			if (k->tids[j] != k->pid && w < k->n_tids)
				t->thr[w++].htid = k->tids[j];
	}
	if (translate_pids(c, tree, err) < 0)
		return -1;
	for (size_t i = 0; i < c->n; i++) {
		struct cr_dtask *t = &c->tasks[i];
		if (parse_stat(t, err) < 0 || (!t->zombie && prepare_task(c, t, err) < 0))
			return -1;
	}
	return 0;
}

static int write_pstree(struct cr_dump_ctx *c, struct rt_err **err)
{
	struct cr_img *img = NULL;
	if (cr_img_create(c->o->images_dirfd, "pstree.img", CR_IMG_PSTREE, &img, err) < 0)
		return -1;
	for (size_t i = 0; i < c->n; i++) {
		const struct cr_dtask *t = &c->tasks[i];
		struct cr_rec r;
		cr_rec_init(&r, CR_R_TASK);
		cr_put_u32(&r, (uint32_t)t->vpid);
		cr_put_u32(&r, (uint32_t)t->ppid);
		cr_put_u32(&r, (uint32_t)t->pgid);
		cr_put_u32(&r, (uint32_t)t->sid);
		cr_put_u8(&r, t->zombie);
		cr_put_u32(&r, (uint32_t)t->exit_code);
		cr_put_u32(&r, (uint32_t)t->n_thr);
		for (size_t k = 0; k < t->n_thr; k++)
			cr_put_u32(&r, (uint32_t)t->thr[k].vtid);
		int ret = cr_img_write(img, &r, err);
		cr_rec_free(&r);
		if (ret < 0) {
			cr_img_abort(img);
			return -1;
		}
	}
	return cr_img_close(img, err);
}

/* The memory of small tasks is dumped on a second thread while this one
 * goes on with the next task's other resources (a tree of small
 * processes spends a third of its dump there). Memory dumps still run one
 * at a time and in tree order (a shared page belongs to the first task
 * that has it): a task whose memory needs its tracer (pipes, tracking) is
 * dumped here once the second thread is idle. Memory dumps touch only the
 * task's own images, the dump's memory tables and its memory stats. */
struct mm_worker {
	struct cr_dump_ctx *c;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool running, stop, busy;
	bool abandon;		   /* the dump failed here: do no more */
	size_t *queue, head, tail; /* task indices */
	struct rt_err *err;	   /* the first failure; then nothing more is done */
};

static void *mm_worker_main(void *arg)
{
	struct mm_worker *m = arg;
	pthread_mutex_lock(&m->mu);
	for (;;) {
		while (m->head == m->tail && !m->stop)
			pthread_cond_wait(&m->cv, &m->mu);
		if (m->head == m->tail)
			break;
		struct cr_dtask *t = &m->c->tasks[m->queue[m->head]];
		bool skip = m->err != NULL || m->abandon;
		m->busy = true;
		pthread_mutex_unlock(&m->mu);
		struct rt_err *e = NULL;
		if (!skip && cr_dump_mm(m->c, t, &e) < 0)
			rt_err_wrap(&e, "dump %s of pid %d", cr_res_mm.name, t->hpid);
		pthread_mutex_lock(&m->mu);
		if (e && m->err == NULL)
			m->err = steal_pointer(&e);
		rt_err_free(e);
		m->head++;
		m->busy = false;
		pthread_cond_broadcast(&m->cv);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

static void mm_worker_start(struct mm_worker *m, struct cr_dump_ctx *c)
{
	*m = (struct mm_worker){ .c = c, .queue = xcalloc(c->n, sizeof(size_t)) };
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	m->running = c->n > 1 && rt_thread_start(&m->thread, mm_worker_main, m) == 0;
}

/* Wait until every queued memory dump is done; its first error, if any. */
static int mm_worker_drain(struct mm_worker *m, struct rt_err **err)
{
	pthread_mutex_lock(&m->mu);
	while (m->head != m->tail || m->busy)
		pthread_cond_wait(&m->cv, &m->mu);
	struct rt_err *e = steal_pointer(&m->err);
	pthread_mutex_unlock(&m->mu);
	return rt_err_pass(err, e);
}

/* Done with the worker: after a failure (failed) what is queued is
 * dropped; else it is waited for, and its error returned. */
static int mm_worker_stop(struct mm_worker *m, bool failed, struct rt_err **err)
{
	if (m->running && failed) {
		pthread_mutex_lock(&m->mu);
		m->abandon = true;
		pthread_mutex_unlock(&m->mu);
	}
	int ret = m->running ? mm_worker_drain(m, failed ? NULL : err) : 0;
	if (m->running) {
		pthread_mutex_lock(&m->mu);
		m->stop = true;
		pthread_cond_broadcast(&m->cv);
		pthread_mutex_unlock(&m->mu);
		pthread_join(m->thread, NULL);
	}
	rt_err_free(m->err);
	free(m->queue);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	return ret;
}

/* t's memory: queued for the worker when it can be done there, else here
 * once the worker is idle. */
static int dump_mm_of(struct mm_worker *m, struct cr_dump_ctx *c, struct cr_dtask *t,
		      struct rt_err **err)
{
	int there = m->running ? cr_mm_elsewhere(c, t, err) : 0;
	if (there < 0)
		return -1;
	if (there) {
		pthread_mutex_lock(&m->mu);
		m->queue[m->tail++] = t->index;
		pthread_cond_broadcast(&m->cv);
		pthread_mutex_unlock(&m->mu);
		return 0;
	}
	if (m->running && mm_worker_drain(m, err) < 0)
		return -1;
	return cr_dump_mm(c, t, err) < 0
		       ? rt_err_wrap(err, "dump %s of pid %d", cr_res_mm.name, t->hpid)
		       : 0;
}

static int dump_tasks_with(struct mm_worker *m, struct cr_dump_ctx *c, struct rt_err **err)
{
	for (size_t i = 0; i < c->n; i++) {
		struct cr_dtask *t = &c->tasks[i];
		if (t->zombie)
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(dump_table); k++)
			if ((!c->o->pre_dump || dump_table[k] == &cr_res_mm) && dump_table[k]->want)
				dump_table[k]->want(c, t);
		if (cr_query_prefetch(t, err) < 0)
			return rt_err_wrap(err, "dump pid %d", t->hpid);
		for (size_t k = 0; k < ARRAY_SIZE(dump_table); k++) {
			if (c->o->pre_dump && dump_table[k] != &cr_res_mm)
				continue;
			if (dump_table[k] == &cr_res_mm) {
				if (dump_mm_of(m, c, t, err) < 0)
					return -1;
			} else if (dump_table[k]->dump(c, t, err) < 0) {
				return rt_err_wrap(err, "dump %s of pid %d",
						   dump_table[k]->name, t->hpid);
			}
		}
	}
	return 0;
}

static int dump_tasks(struct cr_dump_ctx *c, struct rt_err **err)
{
	struct mm_worker m;
	mm_worker_start(&m, c);
	int ret = dump_tasks_with(&m, c, err);
	if (mm_worker_stop(&m, ret < 0, err) < 0)
		ret = -1;
	return ret;
}

static void free_ctx(struct cr_dump_ctx *c)
{
	cr_prefetch_stop(c);
	for (size_t i = 0; i < c->n; i++) {
		for (size_t k = 0; k < c->tasks[i].n_thr; k++)
			free(c->tasks[i].thr[k].xstate);
		free(c->tasks[i].thr);
		cr_queries_free(&c->tasks[i]);
		free(c->tasks[i].status);
		free(c->tasks[i].stat);
		free(c->tasks[i].root);
		free(c->tasks[i].auxv);
		free(c->tasks[i].locked_fds);
	}
	free(c->tasks);
	cr_files_dump_free(c);
	cr_sk_dump_free(c);
	cr_mm_dump_free(c);
	cr_track_free(c);
	free(c->seized);
}

/* This dump's id; the parent's, and whether the tracking vouches for it:
 * before the freeze, it costs no frozen time. */
static int lineage_begin(struct cr_dump_ctx *c, struct rt_err **err)
{
	if (getrandom(c->id, sizeof(c->id), 0) != (ssize_t)sizeof(c->id))
		return rt_err_set(err, errno, "getrandom");
	if (cr_track_begin(c, err) < 0)
		return -1;
	if (c->o->parent_path == NULL)
		return 0;
	struct cr_lineage l;
	cleanup_close int fd = openat(c->o->images_dirfd, c->o->parent_path,
				      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return rt_err_set(err, errno, "parent dump '%s'", c->o->parent_path);
	if (cr_lineage_read(fd, &l, err) < 0)
		return rt_err_wrap(err, "parent dump '%s'", c->o->parent_path);
	memcpy(c->parent_id, l.id, sizeof(l.id));
	c->parent_ok = cr_track_knows(c, l.id);
	c->st->parent_used = c->parent_ok;
	return 0;
}

static int dump_all(struct cr_dump_ctx *c, struct rt_err **err)
{
	cleanup_pstree struct cr_pstree *tree = NULL;
	if (lineage_begin(c, err) < 0 || cr_vdso_self(&c->vdso, err) < 0 ||
	    cr_seize_tree(c, &tree, err) < 0 || build_tasks(c, tree, err) < 0)
		return -1;
	cr_prefetch_start(c);
	if (write_pstree(c, err) < 0)
		return -1;
	/* a pre-dump is the memory alone */
	if (!c->o->pre_dump && cr_files_dump_begin(c, err) < 0)
		return -1;
	if (dump_tasks(c, err) < 0 || (!c->o->pre_dump && cr_files_dump_end(c, err) < 0))
		return -1;
	if (c->parent_ok && symlinkat(c->o->parent_path, c->o->images_dirfd, "parent") < 0)
		return rt_err_set(err, errno, "link the parent dump '%s'", c->o->parent_path);
	if (cr_inventory_write(c, err) < 0)
		return -1;
	return cr_track_commit(c, c->id, err);
}

int cr_dump(const struct cr_dump_opts *o, struct cr_stats *st, struct rt_err **err)
{
	struct cr_stats dummy = { 0 };
	struct cr_dump_ctx c = { .o = o, .st = st ? st : &dummy };
	memset(c.st, 0, sizeof(*c.st));
	if (o->pre_dump && !o->leave_running)
		return rt_err_set(err, EINVAL, "a pre-dump leaves the tree running");
	cr_mem_keep(true);
	int ret = dump_all(&c, err);
	cr_mem_keep(false);
	cr_release_tree(&c, ret == 0 && !o->leave_running);
	free_ctx(&c);
	if (ret < 0)
		return rt_err_wrap(err, "checkpoint pid %d", o->root);
	return 0;
}
