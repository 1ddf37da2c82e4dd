/* linux.resources -> cgroup files, for create and update. Each controller
 * is written in the v1 hierarchy that holds it, else in the cgroup2
 * hierarchy; only the fields present in the config are written, so the same
 * code serves `ferry update`. Every error names the config.json path. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "util.h"

enum mode { MODE_NONE, MODE_V1, MODE_V2 };

/* Where controller lives: its v1 hierarchy (name v1name), else the cgroup2
 * hierarchy when the controller is available there (name v2name). On pure
 * v2 the unified path is always chosen so that a disabled controller shows
 * up as a missing file in the error. */
static enum mode where(const struct rt_cgroup *cg, const char *v1name,
		       const char *v2name, const char **dir)
{
	const char *p = rt_cg_v1_path(cg, v1name);
	if (p) {
		*dir = p;
		return MODE_V1;
	}
	p = rt_cg_unified_path(cg);
	if (p && (cg->layout == RT_CGROUP_V2 || rt_cg_v2_root_has(p, v2name))) {
		*dir = p;
		return MODE_V2;
	}
	return MODE_NONE;
}

static int no_controller(const char *json, const char *ctrl, struct rt_err **err)
{
	return rt_err_set(err, 0, "%s: no mounted cgroup hierarchy has the '%s' "
				  "controller", json, ctrl);
}

/* Write value to dir/file; a missing file is reported as such. */
static int set(const char *json, const char *dir, const char *file,
	       const char *value, struct rt_err **err)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return rt_err_set(err, 0, "%s: %s missing in '%s'", json, file, dir);
	if (fd < 0)
		return rt_err_set(err, errno, "%s: open '%s'", json, path);
	if (write(fd, value, strlen(value)) < 0)
		return rt_err_set(err, errno, "%s: write '%s' to '%s'", json,
				  value, path);
	return 0;
}

/* cgroup2 only: enable ctrl down to dir first. */
static int set2(const char *json, const char *dir, const char *ctrl,
		const char *file, const char *value, struct rt_err **err)
{
	if (rt_cg_v2_enable(dir, ctrl, err) < 0)
		return rt_err_wrap(err, "%s", json);
	return set(json, dir, file, value, err);
}

/* Give a locally caught error to the caller. */
static int hand_on(struct rt_err **err, struct rt_err *e)
{
	if (err && *err == NULL)
		*err = e;
	else
		rt_err_free(e);
	return -1;
}

static const char *num(char buf[32], int64_t v)
{
	snprintf(buf, 32, "%" PRId64, v);
	return buf;
}

/* v1 takes -1 for "no limit", v2 takes "max". */
static const char *limit1(char buf[32], int64_t v)
{
	return num(buf, v < 0 ? -1 : v);
}

static const char *limit2(char buf[32], int64_t v)
{
	return v < 0 ? "max" : num(buf, v);
}

/* ---- memory ---- */

#define J_MEM "linux.resources.memory"
#define MEMSW "memory.memsw.limit_in_bytes"

static int memory_v1(const char *dir, const struct oci_resources *r,
		     struct rt_err **err)
{
	char b1[32], b2[32];
	bool has_swap = r->has_memory_swap && r->memory_swap != 0;
	int64_t swap = r->memory_swap;
	/* "limit: -1" alone means memory and swap unlimited, as runc does. */
	if (!has_swap && r->has_memory_limit && r->memory_limit < 0 &&
	    rt_cg_exists(dir, MEMSW)) {
		has_swap = true;
		swap = -1;
	}
	if (has_swap && !rt_cg_exists(dir, MEMSW))
		return rt_err_set(err, 0, J_MEM ".swap: " MEMSW " missing in '%s' "
					  "(swap accounting disabled)", dir);
	if (r->has_memory_limit && has_swap) {
		/* memsw must never be below the memory limit: raise first what
		 * has to be raised. */
		uint64_t cur = 0;
		if (rt_cg_read_u64(dir, "memory.limit_in_bytes", &cur, err) < 0)
			return rt_err_wrap(err, J_MEM ".limit");
		bool swap_first = swap < 0 || cur < (uint64_t)swap;
		if (swap_first && set(J_MEM ".swap", dir, MEMSW, limit1(b1, swap), err) < 0)
			return -1;
		if (set(J_MEM ".limit", dir, "memory.limit_in_bytes",
			limit1(b2, r->memory_limit), err) < 0)
			return -1;
		if (!swap_first && set(J_MEM ".swap", dir, MEMSW, limit1(b1, swap), err) < 0)
			return -1;
	} else if (r->has_memory_limit) {
		if (set(J_MEM ".limit", dir, "memory.limit_in_bytes",
			limit1(b1, r->memory_limit), err) < 0)
			return -1;
	} else if (has_swap) {
		if (set(J_MEM ".swap", dir, MEMSW, limit1(b1, swap), err) < 0)
			return -1;
	}
	if (r->has_memory_reservation &&
	    set(J_MEM ".reservation", dir, "memory.soft_limit_in_bytes",
		limit1(b1, r->memory_reservation), err) < 0)
		return -1;
	if (r->has_memory_swappiness &&
	    set(J_MEM ".swappiness", dir, "memory.swappiness",
		num(b1, (int64_t)r->memory_swappiness), err) < 0)
		return -1;
	if (r->disable_oom_killer &&
	    set(J_MEM ".disableOOMKiller", dir, "memory.oom_control", "1", err) < 0)
		return -1;
	return 0;
}

/* OCI's swap is memory+swap; cgroup2's memory.swap.max is swap alone. */
static int swap_v2(const struct oci_resources *r, char buf[32], const char **out,
		   struct rt_err **err)
{
	*out = NULL;
	if (!r->has_memory_swap || r->memory_swap == 0) {
		if (r->has_memory_limit && r->memory_limit < 0)
			*out = "max"; /* both unlimited, as on v1 */
		return 0;
	}
	if (r->memory_swap < 0) {
		*out = "max";
		return 0;
	}
	if (!r->has_memory_limit || r->memory_limit <= 0)
		return rt_err_set(err, 0, J_MEM ".swap: a swap limit needs "
					  J_MEM ".limit on cgroup v2");
	if (r->memory_swap < r->memory_limit)
		return rt_err_set(err, 0, J_MEM ".swap (%" PRId64 ") is below "
					  J_MEM ".limit (%" PRId64 ")",
				  r->memory_swap, r->memory_limit);
	*out = num(buf, r->memory_swap - r->memory_limit);
	return 0;
}

static int memory_v2(const char *dir, const struct oci_resources *r,
		     struct rt_err **err)
{
	char b1[32], b2[32];
	if (r->has_memory_swappiness)
		return rt_err_set(err, 0, J_MEM ".swappiness: not supported on cgroup v2");
	if (r->disable_oom_killer)
		return rt_err_set(err, 0, J_MEM ".disableOOMKiller: not supported "
					  "on cgroup v2");
	const char *swap = NULL;
	if (swap_v2(r, b1, &swap, err) < 0)
		return -1;
	if (rt_cg_v2_enable(dir, "memory", err) < 0)
		return rt_err_wrap(err, J_MEM);
	if (swap && !rt_cg_exists(dir, "memory.swap.max")) {
		if (r->has_memory_swap) /* implicit "max" is skipped */
			return rt_err_set(err, 0, J_MEM ".swap: memory.swap.max missing "
						  "in '%s' (swap accounting disabled)", dir);
		swap = NULL;
	}
	if (swap && set(J_MEM ".swap", dir, "memory.swap.max", swap, err) < 0)
		return -1;
	if (r->has_memory_limit &&
	    set(J_MEM ".limit", dir, "memory.max", limit2(b2, r->memory_limit), err) < 0)
		return -1;
	if (r->has_memory_reservation &&
	    set(J_MEM ".reservation", dir, "memory.low",
		limit2(b2, r->memory_reservation), err) < 0)
		return -1;
	return 0;
}

static int apply_memory(const struct rt_cgroup *cg, const struct oci_resources *r,
			struct rt_err **err)
{
	if (!r->has_memory_limit && !r->has_memory_reservation &&
	    !r->has_memory_swap && !r->has_memory_swappiness && !r->disable_oom_killer)
		return 0;
	const char *dir = NULL;
	switch (where(cg, "memory", "memory", &dir)) {
	case MODE_V1:
		return memory_v1(dir, r, err);
	case MODE_V2:
		return memory_v2(dir, r, err);
	default:
		return no_controller(J_MEM, "memory", err);
	}
}

/* ---- cpu ---- */

#define J_CPU "linux.resources.cpu"

static int cpu_v1(const char *dir, const struct oci_resources *r,
		  struct rt_err **err)
{
	char b[32];
	if (r->has_cpu_shares &&
	    set(J_CPU ".shares", dir, "cpu.shares", num(b, (int64_t)r->cpu_shares), err) < 0)
		return -1;
	bool period_left = false;
	bool has_quota = r->has_cpu_quota && r->cpu_quota != 0;
	if (r->has_cpu_period) {
		/* A smaller period can be refused while the old quota would
		 * exceed the parent's; retry it after the quota. */
		struct rt_err *e = NULL;
		if (set(J_CPU ".period", dir, "cpu.cfs_period_us",
			num(b, (int64_t)r->cpu_period), &e) < 0) {
			if (!has_quota || e->code != EINVAL)
				return hand_on(err, e);
			rt_err_free(e);
			period_left = true;
		}
	}
	if (has_quota && set(J_CPU ".quota", dir, "cpu.cfs_quota_us",
			     limit1(b, r->cpu_quota), err) < 0)
		return -1;
	if (period_left && set(J_CPU ".period", dir, "cpu.cfs_period_us",
			       num(b, (int64_t)r->cpu_period), err) < 0)
		return -1;
	return 0;
}

uint64_t rt_cg_shares_to_weight(uint64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

static int cpu_v2(const char *dir, const struct oci_resources *r,
		  struct rt_err **err)
{
	char b[32];
	if (rt_cg_v2_enable(dir, "cpu", err) < 0)
		return rt_err_wrap(err, J_CPU);
	if (r->has_cpu_shares && r->cpu_shares != 0 &&
	    set(J_CPU ".shares", dir, "cpu.weight",
		num(b, (int64_t)rt_cg_shares_to_weight(r->cpu_shares)), err) < 0)
		return -1;
	if (!r->has_cpu_quota && !r->has_cpu_period)
		return 0;
	/* cpu.max is "QUOTA [PERIOD]": keep the current quota when only the
	 * period changes. */
	cleanup_free char *quota = NULL;
	if (r->has_cpu_quota) {
		quota = r->cpu_quota <= 0 ? xstrdup("max")
					  : xasprintf("%" PRId64, r->cpu_quota);
	} else {
		struct rt_err *e = NULL;
		if (rt_cg_read(dir, "cpu.max", &quota, &e) < 0) {
			rt_err_free(e);
			quota = xstrdup("max");
		}
		quota[strcspn(quota, " ")] = '\0';
	}
	cleanup_free char *value =
		r->has_cpu_period ? xasprintf("%s %" PRIu64, quota, r->cpu_period)
				  : xstrdup(quota);
	return set(r->has_cpu_quota ? J_CPU ".quota" : J_CPU ".period", dir,
		   "cpu.max", value, err);
}

static int apply_cpu(const struct rt_cgroup *cg, const struct oci_resources *r,
		     struct rt_err **err)
{
	if (!r->has_cpu_shares && !r->has_cpu_quota && !r->has_cpu_period)
		return 0;
	const char *dir = NULL;
	switch (where(cg, "cpu", "cpu", &dir)) {
	case MODE_V1:
		return cpu_v1(dir, r, err);
	case MODE_V2:
		return cpu_v2(dir, r, err);
	default:
		return no_controller(J_CPU, "cpu", err);
	}
}

static int apply_cpuset(const struct rt_cgroup *cg, const struct oci_resources *r,
			struct rt_err **err)
{
	if (r->cpuset_cpus == NULL && r->cpuset_mems == NULL)
		return 0;
	const char *dir = NULL;
	enum mode m = where(cg, "cpuset", "cpuset", &dir);
	if (m == MODE_NONE)
		return no_controller(J_CPU ".cpus", "cpuset", err);
	if (m == MODE_V2 && rt_cg_v2_enable(dir, "cpuset", err) < 0)
		return rt_err_wrap(err, J_CPU ".cpus");
	if (r->cpuset_cpus &&
	    set(J_CPU ".cpus", dir, "cpuset.cpus", r->cpuset_cpus, err) < 0)
		return -1;
	if (r->cpuset_mems &&
	    set(J_CPU ".mems", dir, "cpuset.mems", r->cpuset_mems, err) < 0)
		return -1;
	return 0;
}

/* ---- pids, block I/O ---- */

static int apply_pids(const struct rt_cgroup *cg, const struct oci_resources *r,
		      struct rt_err **err)
{
	if (!r->has_pids_limit)
		return 0;
	const char *dir = NULL, *json = "linux.resources.pids.limit";
	char b[32];
	const char *v = r->pids_limit <= 0 ? "max" : num(b, r->pids_limit);
	switch (where(cg, "pids", "pids", &dir)) {
	case MODE_V1:
		return set(json, dir, "pids.max", v, err);
	case MODE_V2:
		return set2(json, dir, "pids", "pids.max", v, err);
	default:
		return no_controller(json, "pids", err);
	}
}

static int apply_blkio(const struct rt_cgroup *cg, const struct oci_resources *r,
		       struct rt_err **err)
{
	if (!r->has_blkio_weight || r->blkio_weight == 0)
		return 0;
	const char *dir = NULL, *json = "linux.resources.blockIO.weight";
	char b[32];
	switch (where(cg, "blkio", "io", &dir)) {
	case MODE_V1:
		/* CFQ's blkio.weight is gone with CFQ; BFQ has its own. */
		return set(json, dir,
			   rt_cg_exists(dir, "blkio.weight") ? "blkio.weight"
							     : "blkio.bfq.weight",
			   num(b, r->blkio_weight), err);
	case MODE_V2:
		if (rt_cg_v2_enable(dir, "io", err) < 0)
			return rt_err_wrap(err, "%s", json);
		if (rt_cg_exists(dir, "io.bfq.weight"))
			return set(json, dir, "io.bfq.weight", num(b, r->blkio_weight), err);
		/* blkio [10, 1000] -> io.weight [1, 10000], as runc does */
		return set(json, dir, "io.weight",
			   num(b, 1 + ((int64_t)r->blkio_weight - 10) * 9999 / 990), err);
	default:
		return no_controller(json, "blkio", err);
	}
}

/* ---- devices ---- */

static void rule_v1(const struct oci_device_rule *d, char *buf, size_t len)
{
	if (d->type == 'a') {
		snprintf(buf, len, "a");
		return;
	}
	char maj[24] = "*", min[24] = "*";
	if (d->major >= 0)
		snprintf(maj, sizeof(maj), "%" PRId64, d->major);
	if (d->minor >= 0)
		snprintf(min, sizeof(min), "%" PRId64, d->minor);
	snprintf(buf, len, "%c %s:%s %s", d->type, maj, min, d->access);
}

/* Rules in order; a leading deny-all writes "a" to devices.deny, which
 * drops every inherited exception, as runc does. */
static int devices_v1(const char *dir, const struct oci_resources *r,
		      struct rt_err **err)
{
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct oci_device_rule *d = &r->devices[i];
		char rule[80], json[64];
		rule_v1(d, rule, sizeof(rule));
		snprintf(json, sizeof(json), "linux.resources.devices[%zu]", i);
		if (set(json, dir, d->allow ? "devices.allow" : "devices.deny",
			rule, err) < 0)
			return -1;
	}
	return 0;
}

static int apply_devices(const struct rt_cgroup *cg, const struct oci_resources *r,
			 struct rt_err **err)
{
	if (r->n_devices == 0)
		return 0;
	const char *dir = rt_cg_v1_path(cg, "devices");
	if (dir)
		return devices_v1(dir, r, err);
	dir = rt_cg_unified_path(cg);
	if (dir == NULL)
		return no_controller("linux.resources.devices", "devices", err);
	if (rt_cg_bpf_set_devices(dir, r->devices, r->n_devices, err) < 0)
		return rt_err_wrap(err, "linux.resources.devices");
	return 0;
}

/* ---- unified ---- */

static int apply_unified(const struct rt_cgroup *cg, const struct oci_resources *r,
			 struct rt_err **err)
{
	if (r->n_unified == 0)
		return 0;
	const char *dir = rt_cg_unified_path(cg);
	if (dir == NULL)
		return rt_err_set(err, 0, "linux.resources.unified: needs cgroup v2, "
					  "this host has only cgroup v1");
	for (size_t i = 0; i < r->n_unified; i++) {
		const char *key = r->unified_keys[i];
		cleanup_free char *json =
			xasprintf("linux.resources.unified[\"%s\"]", key);
		const char *dot = strchr(key, '.');
		if (dot == NULL || dot == key || strchr(key, '/'))
			return rt_err_set(err, 0, "%s: not a cgroup v2 file name", json);
		cleanup_free char *ctrl = xasprintf("%.*s", (int)(dot - key), key);
		if (strcmp(ctrl, "cgroup") != 0 && rt_cg_v2_enable(dir, ctrl, err) < 0)
			return rt_err_wrap(err, "%s", json);
		if (set(json, dir, key, r->unified_values[i], err) < 0)
			return -1;
	}
	return 0;
}

int rt_cg_apply(const struct rt_cgroup *cg, const struct oci_resources *res,
		struct rt_err **err)
{
	if (res->unsupported && res->unsupported[0])
		return rt_err_set(err, 0, "%s: not supported by ferry's cgroup "
					  "code", res->unsupported[0]);
	/* runc's order; unified last so it can override what came before */
	static int (*const steps[])(const struct rt_cgroup *,
				    const struct oci_resources *, struct rt_err **) = {
		apply_cpuset, apply_memory, apply_cpu,	   apply_pids,
		apply_blkio,  apply_devices, apply_unified,
	};
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
		if (steps[i](cg, res, err) < 0)
			return -1;
	return 0;
}

/* ---- cgroup2 controller enabling ---- */

static bool word_in(const char *list, const char *word)
{
	size_t len = strlen(word);
	for (const char *p = list; p && *p;) {
		p += strspn(p, " \n");
		size_t n = strcspn(p, " \n");
		if (n == len && strncmp(p, word, len) == 0)
			return true;
		p += n;
	}
	return false;
}

static bool file_has_word(const char *dir, const char *file, const char *word)
{
	cleanup_free char *text = NULL;
	struct rt_err *e = NULL;
	if (rt_cg_read(dir, file, &text, &e) < 0) {
		rt_err_free(e);
		return false;
	}
	return word_in(text, word);
}

bool rt_cg_v2_root_has(const char *dir, const char *ctrl)
{
	cleanup_strv char **up = NULL;
	struct rt_err *e = NULL;
	if (rt_cg_ancestors(dir, &up, &e) < 0) {
		rt_err_free(e);
		return false;
	}
	return file_has_word(up[0] ? up[0] : dir, "cgroup.controllers", ctrl);
}

int rt_cg_v2_enable(const char *dir, const char *ctrl, struct rt_err **err)
{
	if (file_has_word(dir, "cgroup.controllers", ctrl))
		return 0;
	cleanup_strv char **up = NULL;
	if (rt_cg_ancestors(dir, &up, err) < 0)
		return -1;
	for (size_t i = 0; up[i]; i++) {
		if (!file_has_word(up[i], "cgroup.controllers", ctrl))
			return rt_err_set(err, 0, "cgroup controller '%s' is not "
						  "available in '%s'", ctrl, up[i]);
		if (file_has_word(up[i], "cgroup.subtree_control", ctrl))
			continue;
		cleanup_free char *plus = xasprintf("+%s", ctrl);
		if (rt_cg_write(up[i], "cgroup.subtree_control", plus, err) < 0)
			return rt_err_wrap(err, "enable cgroup controller '%s'", ctrl);
	}
	return 0;
}
