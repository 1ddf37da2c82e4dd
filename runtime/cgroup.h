/* The container's cgroups on cgroup v1, v2 and the hybrid layout (v1
 * controllers plus a controller-less unified hierarchy that still has
 * cgroup.freeze / cgroup.kill / cgroup.events). */
#ifndef FERRY_CGROUP_H
#define FERRY_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "oci/config.h"

enum rt_cgroup_layout {
	RT_CGROUP_V1,     /* only v1 hierarchies */
	RT_CGROUP_V2,     /* /sys/fs/cgroup is cgroup2 */
	RT_CGROUP_HYBRID, /* v1 hierarchies + cgroup2 at /sys/fs/cgroup/unified */
};

/* Where the container lives in every mounted hierarchy. */
struct rt_cgroup {
	enum rt_cgroup_layout layout;
	size_t n;
	char **names; /* hierarchy: "memory", "cpu,cpuacct", "name=systemd", "unified" */
	char **paths; /* absolute directory, e.g. /sys/fs/cgroup/memory/ferry/ID */
	char *rel;    /* path relative to the hierarchy roots, e.g. "/ferry/ID";
		       * for a relative cgroupsPath when ferry's own cgroup
		       * differs between hierarchies: that relative path, with
		       * no leading '/' */
};

int rt_cgroup_detect(enum rt_cgroup_layout *out, struct rt_err **err);
const char *rt_cgroup_layout_name(enum rt_cgroup_layout l);

/* Resolve config.json's cgroupsPath (NULL: "/ferry/<id>"; absolute: from each
 * hierarchy's root; relative: below ferry's own cgroup) into a handle without
 * touching the filesystem. */
int rt_cgroup_resolve(const char *cgroups_path, const char *id,
		      struct rt_cgroup **out, struct rt_err **err);

/* mkdir in every hierarchy (cpuset: inherit cpus/mems from the parent), then
 * apply res (may be NULL). On failure removes what it created. A resource the
 * host cannot apply (no such controller or file) is an error naming the
 * config.json path, e.g. "linux.resources.memory.swap: memory.memsw.* missing
 * (swap accounting disabled)". */
int rt_cgroup_create(struct rt_cgroup *cg, const struct oci_resources *res,
		     struct rt_err **err);

/* Move pid (a process, all its threads) into every hierarchy. */
int rt_cgroup_enter(const struct rt_cgroup *cg, pid_t pid, struct rt_err **err);

/* Apply a resources update to an existing cgroup (ferry update). */
int rt_cgroup_update(const struct rt_cgroup *cg, const struct oci_resources *res,
		     struct rt_err **err);

/* Freeze (unified cgroup.freeze when present, else v1 freezer.state) and wait
 * until the kernel reports the cgroup frozen / thawed. */
int rt_cgroup_freeze(const struct rt_cgroup *cg, bool frozen,
		     struct rt_err **err);
int rt_cgroup_is_frozen(const struct rt_cgroup *cg, bool *frozen,
			struct rt_err **err);

/* Every pid in the cgroup (including descendants' cgroups), ascending. */
int rt_cgroup_pids(const struct rt_cgroup *cg, pid_t **pids, size_t *n,
		   struct rt_err **err);

/* Signal every process: SIGKILL uses cgroup.kill when present; other signals
 * freeze, signal each pid, thaw (so no fork escapes). */
int rt_cgroup_signal_all(const struct rt_cgroup *cg, int sig,
			 struct rt_err **err);

/* Kill anything left, then rmdir every directory (children first). Missing
 * directories are fine. Also removes the default "/ferry" parent if empty. */
int rt_cgroup_destroy(const struct rt_cgroup *cg, struct rt_err **err);

/* Figures for `ferry events`; a field the host does not expose stays 0. */
struct rt_cgroup_stats {
	uint64_t cpu_total_ns, cpu_user_ns, cpu_kernel_ns;
	uint64_t *cpu_percpu_ns;
	size_t n_cpus;
	uint64_t cpu_throttled_periods, cpu_total_periods, cpu_throttled_ns;
	uint64_t mem_usage, mem_max_usage, mem_limit, mem_failcnt;
	uint64_t swap_usage, swap_limit;
	uint64_t mem_cache, mem_rss;
	uint64_t pids_current, pids_limit; /* limit 0 = max */
	uint64_t oom_kills;                /* memory.events oom_kill / oom_control */
};
int rt_cgroup_stats(const struct rt_cgroup *cg, struct rt_cgroup_stats *st,
		    struct rt_err **err);
void rt_cgroup_stats_free(struct rt_cgroup_stats *st);

/* An fd that becomes readable (POLLIN) on an OOM event in the container's
 * memory cgroup. v1: an eventfd registered on memory.oom_control; read 8
 * bytes to reset it; it also fires once when the cgroup is removed. v2: an
 * inotify fd (non-blocking) watching memory.events; drain it, then re-read
 * the oom / oom_kill counts (rt_cgroup_stats) to see whether an OOM really
 * happened, since any change of memory.events wakes it. */
int rt_cgroup_oom_fd(const struct rt_cgroup *cg, struct rt_err **err);
/* The unified cgroup.events file, opened read-only, or -1 with *err set when
 * there is no cgroup2 hierarchy. Such a file always polls readable: the
 * kernel reports each change with POLLPRI (plus POLLERR). The caller reads
 * it once right away (pread at offset 0; the cgroup may already be empty),
 * then polls for POLLPRI and re-reads "populated N" after every wake-up;
 * "populated 0" means the cgroup and its descendants are empty. */
int rt_cgroup_empty_fd(const struct rt_cgroup *cg, struct rt_err **err);
/* The unified cgroup's cgroup.tasks.events (ferry's kernel patch 1), or -1
 * with errno: ENOENT on kernels without it, ENOTSUP without a cgroup2
 * hierarchy. It polls POLLPRI on each fork, exit and migration; read it
 * with cr_tasks_events_read (which re-arms it). */
int rt_cgroup_tasks_events_fd(const struct rt_cgroup *cg);
/* The directory that file would be in (the unified cgroup), or NULL without
 * a cgroup2 hierarchy: the checkpoint coordinator opens it itself. */
const char *rt_cgroup_tasks_events_dir(const struct rt_cgroup *cg);

/* Rebuild a handle from what state.json stored (names/paths/rel). */
struct rt_cgroup *rt_cgroup_from_parts(enum rt_cgroup_layout layout, size_t n,
				       char *const *names, char *const *paths,
				       const char *rel);
void rt_cgroup_free(struct rt_cgroup *cg);
void rt_cgroup_freep(struct rt_cgroup **cg);
#define cleanup_cgroup __attribute__((cleanup(rt_cgroup_freep)))

#endif
