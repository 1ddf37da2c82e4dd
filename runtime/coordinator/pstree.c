/* Task tree: depth-first from the root through /proc/PID/task/TID/children
 * (one file per thread: a child belongs to the thread that forked it), or,
 * on kernels without CONFIG_PROC_CHILDREN (or when forced), from one pass
 * over /proc reading every process's PPid, which costs a read per process
 * on the host instead of a read per thread in the tree. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coordinator/coordinator.h"
#include "util.h"

struct pidv {
	pid_t *v;
	size_t n, cap;
};

static void pidv_push(struct pidv *p, pid_t x)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n++] = x;
}

static void pidv_freep(struct pidv *p)
{
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
}
#define cleanup_pidv __attribute__((cleanup(pidv_freep)))

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

static void pidv_sort_uniq(struct pidv *p)
{
	if (p->n == 0)
		return;
	qsort(p->v, p->n, sizeof(*p->v), cmp_pid);
	size_t w = 1;
	for (size_t r = 1; r < p->n; r++)
		if (p->v[r] != p->v[w - 1])
			p->v[w++] = p->v[r];
	p->n = w;
}

static bool vanished(int e)
{
	return e == ENOENT || e == ESRCH;
}

/* Positive decimal name of a /proc entry, or 0. */
static pid_t proc_entry_pid(const char *name)
{
	long long v;
	if (name[0] < '1' || name[0] > '9' || rt_parse_int64(name, &v) < 0 ||
	    v > INT32_MAX)
		return 0;
	return (pid_t)v;
}

/* Threads of pid, ascending. Returns 1 when the process is gone. */
static int read_tids(pid_t pid, struct pidv *out, struct rt_err **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	cleanup_closedir DIR *d = opendir(path);
	if (d == NULL) {
		if (vanished(errno))
			return 1;
		return rt_err_set(err, errno, "open '%s'", path);
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		pid_t tid = proc_entry_pid(de->d_name);
		if (tid > 0)
			pidv_push(out, tid);
	}
	pidv_sort_uniq(out);
	return out->n == 0 ? 1 : 0; /* a zombie's task dir is empty once reaped */
}

/* Append the pids listed in a children file ("12 34 "). Returns 1 when the
 * thread is gone. */
static int read_children_file(pid_t pid, pid_t tid, struct pidv *out,
			      struct rt_err **err)
{
	char path[96];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, tid);
	cleanup_free char *text = NULL;
	cleanup_err struct rt_err *e = NULL;
	if (rt_read_file(path, &text, NULL, &e) < 0) {
		if (vanished(e->code))
			return 1;
		return rt_err_set(err, e->code, "read '%s'", path);
	}
	char *save = NULL;
	for (char *t = strtok_r(text, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
		pid_t child = proc_entry_pid(t);
		if (child <= 0)
			return rt_err_set(err, 0, "'%s': unexpected entry '%s'", path, t);
		pidv_push(out, child);
	}
	return 0;
}

static struct cr_task *tree_add(struct cr_pstree *t, pid_t pid, pid_t ppid,
				struct pidv *tids)
{
	t->tasks = xrealloc(t->tasks, (t->n + 1) * sizeof(*t->tasks));
	struct cr_task *task = &t->tasks[t->n++];
	*task = (struct cr_task){ .pid = pid, .ppid = ppid, .n_tids = tids->n,
				  .tids = steal_pointer(&tids->v) };
	tids->n = tids->cap = 0;
	return task;
}

/* Field 4 of /proc/PID/stat, after the parenthesised command name (which may
 * itself contain ')' or spaces). Returns 1 when the process is gone. */
static int read_ppid(pid_t pid, pid_t *ppid, struct rt_err **err)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vanished(errno) ? 1 : rt_err_set(err, errno, "open '%s'", path);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return vanished(errno) ? 1 : rt_err_set(err, errno, "read '%s'", path);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	int v;
	if (p == NULL || sscanf(p + 1, " %*c %d", &v) != 1)
		return rt_err_set(err, 0, "'%s': cannot parse \"%s\"", path, buf);
	*ppid = v;
	return 0;
}

/* A stack of (pid, ppid) still to visit. */
struct visit {
	pid_t pid, ppid;
};

struct visits {
	struct visit *v;
	size_t n;
};

static void visits_push(struct visits *s, pid_t pid, pid_t ppid)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = (struct visit){ pid, ppid };
}

static void visits_freep(struct visits *s)
{
	free(s->v);
}
#define cleanup_visits __attribute__((cleanup(visits_freep)))

/* The children of every thread of pid, ascending. Returns 1 when gone. */
static int children_of(pid_t pid, const struct pidv *tids, struct pidv *out,
		       struct rt_err **err)
{
	bool any = false;
	for (size_t i = 0; i < tids->n; i++) {
		int r = read_children_file(pid, tids->v[i], out, err);
		if (r < 0)
			return -1;
		any |= r == 0;
	}
	pidv_sort_uniq(out);
	return any ? 0 : 1;
}

static int walk_children(pid_t root, pid_t root_ppid, struct cr_pstree *t,
			 struct rt_err **err)
{
	cleanup_visits struct visits todo = { 0 };
	visits_push(&todo, root, root_ppid);
	while (todo.n > 0) {
		struct visit cur = todo.v[--todo.n];
		if (cr_pstree_find(t, cur.pid))
			continue; /* pid reused while we walked */
		cleanup_pidv struct pidv tids = { 0 }, kids = { 0 };
		int r = read_tids(cur.pid, &tids, err);
		if (r == 0)
			r = children_of(cur.pid, &tids, &kids, err);
		if (r < 0)
			return -1;
		if (r > 0) {
			if (cur.pid == root)
				return rt_err_set(err, ESRCH, "process %d", root);
			continue;
		}
		tree_add(t, cur.pid, cur.ppid, &tids);
		for (size_t i = kids.n; i-- > 0;)
			visits_push(&todo, kids.v[i], cur.pid);
	}
	return 0;
}

/* Every process of /proc as (pid, ppid), sorted by ppid then pid. */
static int scan_proc(struct visits *all, struct rt_err **err)
{
	cleanup_closedir DIR *d = opendir("/proc");
	if (d == NULL)
		return rt_err_set(err, errno, "open '/proc'");
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		pid_t pid = proc_entry_pid(de->d_name), ppid;
		if (pid <= 0)
			continue;
		int r = read_ppid(pid, &ppid, err);
		if (r < 0)
			return -1;
		if (r == 0)
			visits_push(all, pid, ppid);
	}
	return 0;
}

static int cmp_by_ppid(const void *a, const void *b)
{
	const struct visit *x = a, *y = b;
	if (x->ppid != y->ppid)
		return (x->ppid > y->ppid) - (x->ppid < y->ppid);
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* First index in all (sorted by ppid) whose ppid is >= ppid. */
static size_t lower_bound(const struct visits *all, pid_t ppid)
{
	size_t lo = 0, hi = all->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (all->v[mid].ppid < ppid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int walk_ppid(pid_t root, pid_t root_ppid, struct cr_pstree *t,
		     struct rt_err **err)
{
	cleanup_visits struct visits all = { 0 }, todo = { 0 };
	if (scan_proc(&all, err) < 0)
		return -1;
	qsort(all.v, all.n, sizeof(*all.v), cmp_by_ppid);
	visits_push(&todo, root, root_ppid);
	while (todo.n > 0) {
		struct visit cur = todo.v[--todo.n];
		if (cr_pstree_find(t, cur.pid))
			continue;
		cleanup_pidv struct pidv tids = { 0 };
		int r = read_tids(cur.pid, &tids, err);
		if (r < 0)
			return -1;
		if (r > 0) {
			if (cur.pid == root)
				return rt_err_set(err, ESRCH, "process %d", root);
			continue; /* exited during the walk: so has its subtree's link */
		}
		tree_add(t, cur.pid, cur.ppid, &tids);
		size_t first = lower_bound(&all, cur.pid), end = first;
		while (end < all.n && all.v[end].ppid == cur.pid)
			end++;
		for (size_t i = end; i-- > first;)
			visits_push(&todo, all.v[i].pid, cur.pid);
	}
	return 0;
}

bool cr_children_file_available(void)
{
	return access("/proc/thread-self/children", R_OK) == 0;
}

const char *cr_pstree_walk_name(enum cr_pstree_walk w)
{
	return w == CR_WALK_CHILDREN ? "children files" : "PPid scan of /proc";
}

int cr_pstree_collect(pid_t root, bool force_ppid_walk, struct cr_pstree **out,
		      struct rt_err **err)
{
	pid_t root_ppid;
	int r = read_ppid(root, &root_ppid, err);
	if (r != 0)
		return r < 0 ? -1 : rt_err_set(err, ESRCH, "process %d", root);
	cleanup_pstree struct cr_pstree *t = xcalloc(1, sizeof(*t));
	t->walk = !force_ppid_walk && cr_children_file_available() ? CR_WALK_CHILDREN
								  : CR_WALK_PPID;
	r = t->walk == CR_WALK_CHILDREN ? walk_children(root, root_ppid, t, err)
					: walk_ppid(root, root_ppid, t, err);
	if (r < 0)
		return rt_err_wrap(err, "walk the process tree of %d (%s)", root,
				   cr_pstree_walk_name(t->walk));
	*out = steal_pointer(&t);
	return 0;
}

const struct cr_task *cr_pstree_find(const struct cr_pstree *t, pid_t pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->tasks[i].pid == pid)
			return &t->tasks[i];
	return NULL;
}

bool cr_pstree_equal(const struct cr_pstree *a, const struct cr_pstree *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct cr_task *x = &a->tasks[i];
		const struct cr_task *y = cr_pstree_find(b, x->pid);
		if (y == NULL || y->ppid != x->ppid || y->n_tids != x->n_tids ||
		    memcmp(y->tids, x->tids, x->n_tids * sizeof(*x->tids)) != 0)
			return false;
	}
	return true;
}

size_t cr_pstree_nr_threads(const struct cr_pstree *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		n += t->tasks[i].n_tids;
	return n;
}

int cr_tasks_events_open(const char *cgroup_dir)
{
	cleanup_free char *path = xasprintf("%s/" CR_TASKS_EVENTS_FILE, cgroup_dir);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* "fork N\nexit N\nmigrate_in N\nmigrate_out N\n", re-read from offset 0
 * (which also re-arms poll). */
int cr_tasks_events_read(int fd, struct cr_tasks_events *out, struct rt_err **err)
{
	char buf[512];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return rt_err_set(err, errno, "read " CR_TASKS_EVENTS_FILE);
	buf[n] = '\0';
	static const char *const keys[] = { "fork", "exit", "migrate_in", "migrate_out" };
	uint64_t *vals[] = { &out->fork, &out->exit, &out->migrate_in, &out->migrate_out };
	unsigned found = 0;
	char *save = NULL;
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char key[32];
		unsigned long long v;
		if (sscanf(l, "%31s %llu", key, &v) != 2)
			return rt_err_set(err, 0, CR_TASKS_EVENTS_FILE ": bad line \"%s\"", l);
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			if (strcmp(key, keys[i]) == 0) {
				*vals[i] = v;
				found |= 1u << i;
			}
	}
	if (found != (1u << ARRAY_SIZE(keys)) - 1)
		return rt_err_set(err, 0, CR_TASKS_EVENTS_FILE ": a counter is missing");
	return 0;
}

bool cr_tasks_events_same(const struct cr_tasks_events *a, const struct cr_tasks_events *b)
{
	return a->fork == b->fork && a->exit == b->exit && a->migrate_in == b->migrate_in &&
	       a->migrate_out == b->migrate_out;
}

void cr_pstree_free(struct cr_pstree *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->tasks[i].tids);
	free(t->tasks);
	free(t);
}

void cr_pstree_freep(struct cr_pstree **t)
{
	cr_pstree_free(*t);
}
