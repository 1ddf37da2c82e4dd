/* config.json "linux.resources" (also a lone document for `update -r FILE`):
 * the cgroup settings ferry applies, and the JSON paths of those it does
 * not, so the runtime can refuse them by name. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "oci/config-internal.h"
#include "util.h"

static void unsupported(const struct jpath *p, struct oci_resources *r)
{
	cleanup_free char *path = oci_jp_str(p);
	rt_strv_push(&r->unsupported, path);
}

static int parse_access(const struct jpath *p, yajl_val v, char access[4],
			struct rt_err **err)
{
	bool seen[3] = {false, false, false};
	static const char rwm[] = "rwm";
	if (!YAJL_IS_STRING(v))
		return oci_jp_err(err, p, "must be a string");
	const char *s = v->u.string;
	if (s[0] == '\0')
		return oci_jp_err(err, p, "must be a non-empty subset of \"rwm\"");
	for (; *s; s++) {
		const char *c = strchr(rwm, *s);
		if (c == NULL)
			return oci_jp_err(err, p,
					  "\"%s\" is not a subset of \"rwm\"",
					  v->u.string);
		seen[c - rwm] = true;
	}
	size_t n = 0;
	for (size_t i = 0; i < 3; i++)
		if (seen[i])
			access[n++] = rwm[i];
	access[n] = '\0';
	return 0;
}

static int parse_device_rule(const struct jpath *p, yajl_val v,
			     struct oci_device_rule *d, struct rt_err **err)
{
	yajl_val allow, t, access;
	if (oci_jobj(p, v, err) < 0 ||
	    oci_jf_req(p, v, "allow", &allow, err) < 0 ||
	    oci_jbool(JP_KEY(p, "allow"), allow, &d->allow, err) < 0)
		return -1;
	d->type = 'a';
	if ((t = oci_jget(v, "type"))) {
		if (!YAJL_IS_STRING(t))
			return oci_jp_err(err, JP_KEY(p, "type"),
					  "must be a string");
		if (strlen(t->u.string) != 1 || !strchr("acb", t->u.string[0]))
			return oci_jp_err(err, JP_KEY(p, "type"),
					  "unknown device type \"%s\" (expected a, c or b)",
					  t->u.string);
		d->type = t->u.string[0];
	}
	d->major = d->minor = -1;
	if (oci_jf_int(p, v, "major", -1, UINT32_MAX, NULL, &d->major, err) < 0 ||
	    oci_jf_int(p, v, "minor", -1, UINT32_MAX, NULL, &d->minor, err) < 0)
		return -1;
	strcpy(d->access, "rwm");
	if ((access = oci_jget(v, "access")) &&
	    parse_access(JP_KEY(p, "access"), access, d->access, err) < 0)
		return -1;
	return 0;
}

static int parse_device_rules(const struct jpath *p, yajl_val v,
			      struct oci_resources *r, struct rt_err **err)
{
	size_t n;
	if (oci_jarr(p, v, &n, err) < 0)
		return -1;
	r->devices = xcalloc(n, sizeof(struct oci_device_rule));
	r->n_devices = n;
	for (size_t i = 0; i < n; i++)
		if (parse_device_rule(JP_IDX(p, i), v->u.array.values[i],
				      &r->devices[i], err) < 0)
			return -1;
	return 0;
}

/* kernel, kernelTCP, useHierarchy and checkBeforeUpdate are deprecated and
 * ignored, as cgroup v2 has no equivalent. */
static int parse_memory(const struct jpath *p, yajl_val v,
			struct oci_resources *r, struct rt_err **err)
{
	if (oci_jobj(p, v, err) < 0)
		return -1;
	if (oci_jf_int(p, v, "limit", -1, INT64_MAX, &r->has_memory_limit,
		       &r->memory_limit, err) < 0 ||
	    oci_jf_int(p, v, "reservation", -1, INT64_MAX,
		       &r->has_memory_reservation, &r->memory_reservation,
		       err) < 0 ||
	    oci_jf_int(p, v, "swap", -1, INT64_MAX, &r->has_memory_swap,
		       &r->memory_swap, err) < 0)
		return -1;
	if (oci_jf_uint(p, v, "swappiness", 100, &r->has_memory_swappiness,
			&r->memory_swappiness, err) < 0)
		return -1;
	return oci_jf_bool(p, v, "disableOOMKiller", &r->disable_oom_killer,
			   err);
}

/* Real-time bandwidth, burst and SCHED_IDLE groups: recorded when set. */
static int cpu_unsupported(const struct jpath *p, yajl_val v,
			   struct oci_resources *r, struct rt_err **err)
{
	static const struct {
		const char *key;
		bool is_signed;
	} fields[] = {
		{"realtimeRuntime", true},
		{"realtimePeriod", false},
		{"idle", true},
		{"burst", false},
	};
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		bool has;
		int64_t s = 0;
		uint64_t u = 0;
		int rc = fields[i].is_signed
				 ? oci_jf_int(p, v, fields[i].key, INT64_MIN,
					      INT64_MAX, &has, &s, err)
				 : oci_jf_uint(p, v, fields[i].key, UINT64_MAX,
					       &has, &u, err);
		if (rc < 0)
			return -1;
		if (has && (s != 0 || u != 0))
			unsupported(JP_KEY(p, fields[i].key), r);
	}
	return 0;
}

static int parse_cpu(const struct jpath *p, yajl_val v,
		     struct oci_resources *r, struct rt_err **err)
{
	if (oci_jobj(p, v, err) < 0)
		return -1;
	if (oci_jf_uint(p, v, "shares", UINT64_MAX, &r->has_cpu_shares,
			&r->cpu_shares, err) < 0 ||
	    oci_jf_int(p, v, "quota", -1, INT64_MAX, &r->has_cpu_quota,
		       &r->cpu_quota, err) < 0 ||
	    oci_jf_uint(p, v, "period", UINT64_MAX, &r->has_cpu_period,
			&r->cpu_period, err) < 0)
		return -1;
	if (oci_jf_str(p, v, "cpus", &r->cpuset_cpus, err) < 0 ||
	    oci_jf_str(p, v, "mems", &r->cpuset_mems, err) < 0)
		return -1;
	/* "" is Go's "not set". */
	if (r->cpuset_cpus && r->cpuset_cpus[0] == '\0') {
		free(r->cpuset_cpus);
		r->cpuset_cpus = NULL;
	}
	if (r->cpuset_mems && r->cpuset_mems[0] == '\0') {
		free(r->cpuset_mems);
		r->cpuset_mems = NULL;
	}
	return cpu_unsupported(p, v, r, err);
}

static int parse_blkio(const struct jpath *p, yajl_val v,
		       struct oci_resources *r, struct rt_err **err)
{
	static const char *const others[] = {
		"leafWeight",		 "weightDevice",
		"throttleReadBpsDevice", "throttleWriteBpsDevice",
		"throttleReadIOPSDevice", "throttleWriteIOPSDevice",
	};
	bool has;
	uint64_t w;
	if (oci_jobj(p, v, err) < 0 ||
	    oci_jf_uint(p, v, "weight", UINT16_MAX, &has, &w, err) < 0)
		return -1;
	/* 0 is "not set" to runc; the kernel takes 10..1000. */
	if (has && w != 0 && (w < 10 || w > 1000))
		return oci_jp_err(err, JP_KEY(p, "weight"),
				  "%" PRIu64 " is out of range (10..1000)", w);
	if (has && w != 0) {
		r->has_blkio_weight = true;
		r->blkio_weight = (uint16_t)w;
	}
	for (size_t i = 0; i < ARRAY_SIZE(others); i++)
		if (!oci_jempty(oci_jget(v, others[i])))
			unsupported(JP_KEY(p, others[i]), r);
	return 0;
}

static int parse_resource_fields(const struct jpath *p, yajl_val v,
				 struct oci_resources *r, struct rt_err **err)
{
	static const char *const others[] = {"hugepageLimits", "network",
					     "rdma"};
	yajl_val x;
	if (oci_jobj(p, v, err) < 0)
		return -1;
	if ((x = oci_jget(v, "devices")) &&
	    parse_device_rules(JP_KEY(p, "devices"), x, r, err) < 0)
		return -1;
	if ((x = oci_jget(v, "memory")) &&
	    parse_memory(JP_KEY(p, "memory"), x, r, err) < 0)
		return -1;
	if ((x = oci_jget(v, "cpu")) && parse_cpu(JP_KEY(p, "cpu"), x, r, err) < 0)
		return -1;
	if ((x = oci_jget(v, "pids")) &&
	    (oci_jobj(JP_KEY(p, "pids"), x, err) < 0 ||
	     oci_jf_int(JP_KEY(p, "pids"), x, "limit", INT64_MIN, INT64_MAX,
			&r->has_pids_limit, &r->pids_limit, err) < 0))
		return -1;
	if ((x = oci_jget(v, "blockIO")) &&
	    parse_blkio(JP_KEY(p, "blockIO"), x, r, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(others); i++)
		if (!oci_jempty(oci_jget(v, others[i])))
			unsupported(JP_KEY(p, others[i]), r);
	if ((x = oci_jget(v, "unified")) &&
	    oci_jmap(JP_KEY(p, "unified"), x, &r->unified_keys,
		     &r->unified_values, &r->n_unified, err) < 0)
		return -1;
	return 0;
}

int oci_parse_resources(const struct jpath *p, yajl_val v,
			struct oci_resources **out, struct rt_err **err)
{
	struct oci_resources *r = xcalloc(1, sizeof(*r));
	if (parse_resource_fields(p, v, r, err) < 0) {
		oci_resources_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

void oci_resources_free(struct oci_resources *r)
{
	if (r == NULL)
		return;
	free(r->devices);
	free(r->cpuset_cpus);
	free(r->cpuset_mems);
	rt_strv_free(r->unified_keys);
	rt_strv_free(r->unified_values);
	rt_strv_free(r->unsupported);
	free(r);
}

int oci_resources_parse(const char *json, size_t len,
			struct oci_resources **out, struct rt_err **err)
{
	yajl_val root;
	if (oci_json_parse(json, len, &root, err) < 0)
		return -1;
	int r = oci_parse_resources(NULL, root, out, err);
	yajl_tree_free(root);
	return r;
}
