/* Figures for `ferry events` and the fds that report OOM kills and an
 * emptied cgroup. Each controller is read where it lives: its v1 hierarchy,
 * else the cgroup2 directory. A file the host does not have leaves its
 * figure at 0. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "coordinator/coordinator.h"
#include "util.h"

/* Read dir/file; a missing file gives *text == NULL and no error. */
static int read_opt(const char *dir, const char *file, char **text,
		    struct rt_err **err)
{
	*text = NULL;
	if (dir == NULL || !rt_cg_exists(dir, file))
		return 0;
	return rt_cg_read(dir, file, text, err);
}

static int u64_opt(const char *dir, const char *file, uint64_t *out,
		   struct rt_err **err)
{
	if (dir == NULL || !rt_cg_exists(dir, file))
		return 0;
	return rt_cg_read_u64(dir, file, out, err);
}

static int keyed_opt(const char *dir, const char *file, const char *key,
		     uint64_t *out, struct rt_err **err)
{
	cleanup_free char *text = NULL;
	if (read_opt(dir, file, &text, err) < 0)
		return -1;
	if (text)
		rt_cg_keyed(text, key, out);
	return 0;
}

/* ---- cpu ---- */

static void percpu(const char *text, struct rt_cgroup_stats *st)
{
	for (const char *p = text; *p;) {
		char *end = NULL;
		uint64_t v = strtoull(p, &end, 10);
		if (end == p)
			break;
		st->cpu_percpu_ns = xrealloc(st->cpu_percpu_ns,
					     (st->n_cpus + 1) * sizeof(uint64_t));
		st->cpu_percpu_ns[st->n_cpus++] = v;
		p = end;
	}
}

static int cpu_v1(const char *acct, const char *cpu, struct rt_cgroup_stats *st,
		  struct rt_err **err)
{
	cleanup_free char *pc = NULL, *stat = NULL;
	if (u64_opt(acct, "cpuacct.usage", &st->cpu_total_ns, err) < 0 ||
	    read_opt(acct, "cpuacct.usage_percpu", &pc, err) < 0 ||
	    read_opt(acct, "cpuacct.stat", &stat, err) < 0)
		return -1;
	if (pc)
		percpu(pc, st);
	if (stat) { /* user and system in USER_HZ ticks */
		long hz = sysconf(_SC_CLK_TCK);
		uint64_t ns_per_tick = 1000000000ULL / (uint64_t)(hz > 0 ? hz : 100);
		uint64_t user = 0, sys = 0;
		rt_cg_keyed(stat, "user", &user);
		rt_cg_keyed(stat, "system", &sys);
		st->cpu_user_ns = user * ns_per_tick;
		st->cpu_kernel_ns = sys * ns_per_tick;
	}
	if (keyed_opt(cpu, "cpu.stat", "nr_periods", &st->cpu_total_periods, err) < 0 ||
	    keyed_opt(cpu, "cpu.stat", "nr_throttled", &st->cpu_throttled_periods, err) < 0 ||
	    keyed_opt(cpu, "cpu.stat", "throttled_time", &st->cpu_throttled_ns, err) < 0)
		return -1;
	return 0;
}

/* cgroup2's cpu.stat has usage even without the cpu controller. */
static int cpu_v2(const char *dir, struct rt_cgroup_stats *st, struct rt_err **err)
{
	cleanup_free char *text = NULL;
	if (read_opt(dir, "cpu.stat", &text, err) < 0)
		return -1;
	if (text == NULL)
		return 0;
	uint64_t usec = 0;
	if (rt_cg_keyed(text, "usage_usec", &usec))
		st->cpu_total_ns = usec * 1000;
	if (rt_cg_keyed(text, "user_usec", &usec))
		st->cpu_user_ns = usec * 1000;
	if (rt_cg_keyed(text, "system_usec", &usec))
		st->cpu_kernel_ns = usec * 1000;
	if (rt_cg_keyed(text, "throttled_usec", &usec))
		st->cpu_throttled_ns = usec * 1000;
	rt_cg_keyed(text, "nr_periods", &st->cpu_total_periods);
	rt_cg_keyed(text, "nr_throttled", &st->cpu_throttled_periods);
	return 0;
}

/* ---- memory ---- */

/* v1 "swap" is memsw: memory plus swap, as runc reports it. */
static int memory_v1(const char *dir, struct rt_cgroup_stats *st,
		     struct rt_err **err)
{
	if (u64_opt(dir, "memory.usage_in_bytes", &st->mem_usage, err) < 0 ||
	    u64_opt(dir, "memory.max_usage_in_bytes", &st->mem_max_usage, err) < 0 ||
	    u64_opt(dir, "memory.limit_in_bytes", &st->mem_limit, err) < 0 ||
	    u64_opt(dir, "memory.failcnt", &st->mem_failcnt, err) < 0 ||
	    u64_opt(dir, "memory.memsw.usage_in_bytes", &st->swap_usage, err) < 0 ||
	    u64_opt(dir, "memory.memsw.limit_in_bytes", &st->swap_limit, err) < 0 ||
	    keyed_opt(dir, "memory.stat", "cache", &st->mem_cache, err) < 0 ||
	    keyed_opt(dir, "memory.stat", "rss", &st->mem_rss, err) < 0 ||
	    keyed_opt(dir, "memory.oom_control", "oom_kill", &st->oom_kills, err) < 0)
		return -1;
	return 0;
}

static int memory_v2(const char *dir, struct rt_cgroup_stats *st,
		     struct rt_err **err)
{
	if (u64_opt(dir, "memory.current", &st->mem_usage, err) < 0 ||
	    u64_opt(dir, "memory.peak", &st->mem_max_usage, err) < 0 ||
	    u64_opt(dir, "memory.max", &st->mem_limit, err) < 0 ||
	    u64_opt(dir, "memory.swap.current", &st->swap_usage, err) < 0 ||
	    u64_opt(dir, "memory.swap.max", &st->swap_limit, err) < 0 ||
	    keyed_opt(dir, "memory.events", "max", &st->mem_failcnt, err) < 0 ||
	    keyed_opt(dir, "memory.events", "oom_kill", &st->oom_kills, err) < 0 ||
	    keyed_opt(dir, "memory.stat", "file", &st->mem_cache, err) < 0 ||
	    keyed_opt(dir, "memory.stat", "anon", &st->mem_rss, err) < 0)
		return -1;
	return 0;
}

static int pids_stats(const char *dir, struct rt_cgroup_stats *st,
		      struct rt_err **err)
{
	if (u64_opt(dir, "pids.current", &st->pids_current, err) < 0 ||
	    u64_opt(dir, "pids.max", &st->pids_limit, err) < 0)
		return -1;
	if (st->pids_limit == UINT64_MAX)
		st->pids_limit = 0;
	return 0;
}

int rt_cgroup_stats(const struct rt_cgroup *cg, struct rt_cgroup_stats *st,
		    struct rt_err **err)
{
	memset(st, 0, sizeof(*st));
	const char *v2 = rt_cg_unified_path(cg);
	const char *acct = rt_cg_v1_path(cg, "cpuacct");
	const char *cpu = rt_cg_v1_path(cg, "cpu");
	const char *mem = rt_cg_v1_path(cg, "memory");
	const char *pids = rt_cg_v1_path(cg, "pids");
	int r;
	if (acct || cpu)
		r = cpu_v1(acct, cpu, st, err);
	else
		r = v2 ? cpu_v2(v2, st, err) : 0;
	if (r == 0 && mem)
		r = memory_v1(mem, st, err);
	else if (r == 0 && v2)
		r = memory_v2(v2, st, err);
	if (r == 0 && (pids || v2))
		r = pids_stats(pids ? pids : v2, st, err);
	if (r < 0) {
		rt_cgroup_stats_free(st);
		return rt_err_wrap(err, "statistics of cgroup '%s'", cg->rel);
	}
	return 0;
}

void rt_cgroup_stats_free(struct rt_cgroup_stats *st)
{
	free(st->cpu_percpu_ns);
	st->cpu_percpu_ns = NULL;
	st->n_cpus = 0;
}

/* ---- event fds ---- */

/* v1: an eventfd the memory controller signals on every OOM, registered
 * through cgroup.event_control. The kernel keeps its own reference to
 * memory.oom_control, so only the eventfd is handed out. */
static int oom_fd_v1(const char *dir, struct rt_err **err)
{
	cleanup_free char *path = xasprintf("%s/memory.oom_control", dir);
	cleanup_close int ofd = open(path, O_RDONLY | O_CLOEXEC);
	if (ofd < 0)
		return rt_err_set(err, errno, "open '%s'", path);
	cleanup_close int efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		return rt_err_set(err, errno, "eventfd");
	char buf[32];
	snprintf(buf, sizeof(buf), "%d %d", efd, ofd);
	if (rt_cg_write(dir, "cgroup.event_control", buf, err) < 0)
		return -1;
	return steal_fd(&efd);
}

/* v2: inotify reports every change of memory.events. */
static int oom_fd_v2(const char *dir, struct rt_err **err)
{
	cleanup_free char *path = xasprintf("%s/memory.events", dir);
	cleanup_close int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd < 0)
		return rt_err_set(err, errno, "inotify_init1");
	if (inotify_add_watch(fd, path, IN_MODIFY) < 0)
		return rt_err_set(err, errno, "watch '%s'", path);
	return steal_fd(&fd);
}

int rt_cgroup_oom_fd(const struct rt_cgroup *cg, struct rt_err **err)
{
	const char *dir = rt_cg_v1_path(cg, "memory");
	if (dir)
		return oom_fd_v1(dir, err);
	dir = rt_cg_unified_path(cg);
	if (dir && rt_cg_exists(dir, "memory.events"))
		return oom_fd_v2(dir, err);
	return rt_err_set(err, ENOTSUP, "OOM events of cgroup '%s': no memory "
					"controller", cg->rel);
}

int rt_cgroup_empty_fd(const struct rt_cgroup *cg, struct rt_err **err)
{
	const char *dir = rt_cg_unified_path(cg);
	if (dir == NULL)
		return rt_err_set(err, ENOTSUP, "emptiness of cgroup '%s': needs a "
						"cgroup2 hierarchy", cg->rel);
	cleanup_free char *path = xasprintf("%s/cgroup.events", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_err_set(err, errno, "open '%s'", path);
	return fd;
}

const char *rt_cgroup_tasks_events_dir(const struct rt_cgroup *cg)
{
	return rt_cg_unified_path(cg);
}

int rt_cgroup_tasks_events_fd(const struct rt_cgroup *cg)
{
	const char *dir = rt_cgroup_tasks_events_dir(cg);
	if (dir == NULL) {
		errno = ENOTSUP;
		return -1;
	}
	return cr_tasks_events_open(dir);
}
