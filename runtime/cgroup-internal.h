/* Shared between cgroup.c (handle, hierarchy walk), cgroup-res.c
 * (linux.resources), cgroup-freeze.c (freezer, signals), cgroup-stats.c
 * (stats and event fds) and cgroup-bpf.c (cgroup2 device filter). Not part
 * of the runtime's interface: include runtime/cgroup.h instead. */
#ifndef FERRY_CGROUP_INTERNAL_H
#define FERRY_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup.h"

/* The name the handle gives the cgroup2 hierarchy in every layout. */
#define RT_CG_UNIFIED "unified"

/* Bounds for waiting on the kernel (freezing, emptying, rmdir). */
#define RT_CG_FREEZE_TIMEOUT_MS 5000
#define RT_CG_EMPTY_TIMEOUT_MS 5000

/* Directory of the container in the cgroup2 hierarchy, or NULL. */
const char *rt_cg_unified_path(const struct rt_cgroup *cg);
/* Directory in the v1 hierarchy that holds controller ctrl, or NULL. */
const char *rt_cg_v1_path(const struct rt_cgroup *cg, const char *ctrl);
/* Is ctrl one of the comma-separated controllers of a v1 hierarchy name? */
bool rt_cg_name_has(const char *name, const char *ctrl);

/* dir/file I/O; errors name the full path. rt_cg_read strips one trailing
 * newline. */
int rt_cg_read(const char *dir, const char *file, char **out,
	       struct rt_err **err);
int rt_cg_write(const char *dir, const char *file, const char *value,
		struct rt_err **err);
bool rt_cg_exists(const char *dir, const char *file);
/* "max" reads as UINT64_MAX. */
int rt_cg_read_u64(const char *dir, const char *file, uint64_t *out,
		   struct rt_err **err);
/* Value of "key N" in a flat-keyed file's text (memory.stat, cpu.stat,
 * cgroup.events, ...). */
bool rt_cg_keyed(const char *text, const char *key, uint64_t *out);

/* The directories above dir in its hierarchy, from the hierarchy's mount
 * root down to dir's parent (the walk stops where the filesystem changes). */
int rt_cg_ancestors(const char *dir, char ***out, struct rt_err **err);

/* cgroup2: make ctrl available in dir by adding it to cgroup.subtree_control
 * of every ancestor, top-down. */
int rt_cg_v2_enable(const char *dir, const char *ctrl, struct rt_err **err);
/* Is ctrl listed in the cgroup.controllers of dir's hierarchy root? */
bool rt_cg_v2_root_has(const char *dir, const char *ctrl);

/* Write every linux.resources field present in res (cgroup-res.c). */
int rt_cg_apply(const struct rt_cgroup *cg, const struct oci_resources *res,
		struct rt_err **err);

/* cpu.shares [2, 262144] -> cpu.weight [1, 10000], the mapping runc and
 * crun use: 1 + ((shares - 2) * 9999) / 262142. */
uint64_t rt_cg_shares_to_weight(uint64_t shares);

/* Replace the cgroup2 device filter of dir by one built from rules: the last
 * matching rule decides; an access no rule matches is denied. Programs
 * attached earlier by ferry (or anyone) to dir are detached once the new one
 * is in place. */
int rt_cg_bpf_set_devices(const char *dir, const struct oci_device_rule *rules,
			  size_t n, struct rt_err **err);

#endif
