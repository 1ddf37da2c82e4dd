/* config.json "linux": namespaces, id mappings, devices, paths, sysctl,
 * personality and time offsets, plus the checks between them.
 * linux.resources and linux.seccomp have files of their own. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>

#include "oci/config-internal.h"
#include "util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* The kernel accepts at most this many lines in uid_map / gid_map. */
#define MAX_ID_MAPPINGS 340

static const struct {
	const char *name, *proc;
	int type;
} ns_names[] = {
	{"pid", "pid", CLONE_NEWPID},
	{"network", "net", CLONE_NEWNET},
	{"mount", "mnt", CLONE_NEWNS},
	{"ipc", "ipc", CLONE_NEWIPC},
	{"uts", "uts", CLONE_NEWUTS},
	{"user", "user", CLONE_NEWUSER},
	{"cgroup", "cgroup", CLONE_NEWCGROUP},
	{"time", "time", CLONE_NEWTIME},
};

int oci_ns_from_name(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(ns_names); i++)
		if (strcmp(ns_names[i].name, name) == 0)
			return ns_names[i].type;
	return -1;
}

const char *oci_ns_name(int type)
{
	for (size_t i = 0; i < ARRAY_SIZE(ns_names); i++)
		if (ns_names[i].type == type)
			return ns_names[i].name;
	return NULL;
}

const char *oci_ns_proc_name(int type)
{
	for (size_t i = 0; i < ARRAY_SIZE(ns_names); i++)
		if (ns_names[i].type == type)
			return ns_names[i].proc;
	return NULL;
}

static int parse_namespace(const struct jpath *p, yajl_val v,
			   struct oci_namespace *ns, struct rt_err **err)
{
	yajl_val t, path;
	if (oci_jobj(p, v, err) < 0 || oci_jf_req(p, v, "type", &t, err) < 0)
		return -1;
	if (!YAJL_IS_STRING(t))
		return oci_jp_err(err, JP_KEY(p, "type"), "must be a string");
	ns->type = oci_ns_from_name(t->u.string);
	if (ns->type < 0)
		return oci_jp_err(err, JP_KEY(p, "type"),
				  "unknown namespace \"%s\"", t->u.string);
	/* "path": "" is what Go writes for "create a new one". */
	path = oci_jget(v, "path");
	if (path && !oci_jempty(path) &&
	    oci_jabs(JP_KEY(p, "path"), path, &ns->path, err) < 0)
		return -1;
	if (path && !YAJL_IS_STRING(path))
		return oci_jp_err(err, JP_KEY(p, "path"), "must be a string");
	return 0;
}

static int parse_namespaces(const struct jpath *p, yajl_val v,
			    struct oci_linux *l, struct rt_err **err)
{
	size_t n;
	if (oci_jarr(p, v, &n, err) < 0)
		return -1;
	l->namespaces = xcalloc(n, sizeof(struct oci_namespace));
	l->n_namespaces = n;
	for (size_t i = 0; i < n; i++) {
		const struct jpath *ip = JP_IDX(p, i);
		if (parse_namespace(ip, v->u.array.values[i], &l->namespaces[i],
				    err) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (l->namespaces[j].type == l->namespaces[i].type)
				return oci_jp_err(err, JP_KEY(ip, "type"),
						  "duplicate namespace \"%s\" (also in [%zu])",
						  oci_ns_name(l->namespaces[i].type),
						  j);
	}
	return 0;
}

static int parse_idmap(const struct jpath *p, yajl_val v, struct oci_idmap *m,
		       struct rt_err **err)
{
	static const char *const keys[] = {"containerID", "hostID", "size"};
	uint64_t x[3];
	yajl_val f;
	if (oci_jobj(p, v, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (oci_jf_req(p, v, keys[i], &f, err) < 0 ||
		    oci_juint(JP_KEY(p, keys[i]), f, UINT32_MAX, &x[i], err) < 0)
			return -1;
	if (x[2] == 0)
		return oci_jp_err(err, JP_KEY(p, "size"), "must not be 0");
	if (x[0] + x[2] > (uint64_t)UINT32_MAX + 1 ||
	    x[1] + x[2] > (uint64_t)UINT32_MAX + 1)
		return oci_jp_err(err, JP_KEY(p, "size"),
				  "the range goes past id 4294967295");
	*m = (struct oci_idmap){(uint32_t)x[0], (uint32_t)x[1], (uint32_t)x[2]};
	return 0;
}

static int parse_idmaps(const struct jpath *p, yajl_val v,
			struct oci_idmap **out, size_t *count,
			struct rt_err **err)
{
	size_t n;
	if (oci_jarr(p, v, &n, err) < 0)
		return -1;
	if (n > MAX_ID_MAPPINGS)
		return oci_jp_err(err, p, "at most %d mappings are allowed",
				  MAX_ID_MAPPINGS);
	*out = xcalloc(n, sizeof(struct oci_idmap));
	*count = n;
	for (size_t i = 0; i < n; i++)
		if (parse_idmap(JP_IDX(p, i), v->u.array.values[i], &(*out)[i],
				err) < 0)
			return -1;
	return 0;
}

static int parse_device_ids(const struct jpath *p, yajl_val v,
			    struct oci_device *d, struct rt_err **err)
{
	yajl_val f;
	uint64_t x;
	bool need = d->type != 'p';
	if (oci_jf_int(p, v, "major", 0, UINT32_MAX, NULL, &d->major, err) < 0 ||
	    oci_jf_int(p, v, "minor", 0, UINT32_MAX, NULL, &d->minor, err) < 0)
		return -1;
	if (need && (oci_jf_req(p, v, "major", &f, err) < 0 ||
		     oci_jf_req(p, v, "minor", &f, err) < 0))
		return -1;
	if (oci_jf_uint(p, v, "fileMode", 07777, &d->has_file_mode, &x,
			err) < 0)
		return -1;
	d->file_mode = d->has_file_mode ? (mode_t)x : 0;
	if (oci_jf_uint(p, v, "uid", OCI_ID_MAX, &d->has_uid, &x, err) < 0)
		return -1;
	d->uid = d->has_uid ? (uid_t)x : 0;
	if (oci_jf_uint(p, v, "gid", OCI_ID_MAX, &d->has_gid, &x, err) < 0)
		return -1;
	d->gid = d->has_gid ? (gid_t)x : 0;
	return 0;
}

static int parse_device(const struct jpath *p, yajl_val v,
			struct oci_device *d, struct rt_err **err)
{
	yajl_val t, path;
	if (oci_jobj(p, v, err) < 0 || oci_jf_req(p, v, "type", &t, err) < 0)
		return -1;
	if (!YAJL_IS_STRING(t))
		return oci_jp_err(err, JP_KEY(p, "type"), "must be a string");
	if (strlen(t->u.string) != 1 || !strchr("cbup", t->u.string[0]))
		return oci_jp_err(err, JP_KEY(p, "type"),
				  "unknown device type \"%s\" (expected c, b, u or p)",
				  t->u.string);
	d->type = t->u.string[0];
	if (oci_jf_req(p, v, "path", &path, err) < 0 ||
	    oci_jabs(JP_KEY(p, "path"), path, &d->path, err) < 0)
		return -1;
	return parse_device_ids(p, v, d, err);
}

static int parse_devices(const struct jpath *p, yajl_val v,
			 struct oci_linux *l, struct rt_err **err)
{
	size_t n;
	if (oci_jarr(p, v, &n, err) < 0)
		return -1;
	l->devices = xcalloc(n, sizeof(struct oci_device));
	l->n_devices = n;
	for (size_t i = 0; i < n; i++)
		if (parse_device(JP_IDX(p, i), v->u.array.values[i],
				 &l->devices[i], err) < 0)
			return -1;
	return 0;
}

static int parse_abs_paths(const struct jpath *p, yajl_val obj,
			   const char *key, char ***out, struct rt_err **err)
{
	const struct jpath *kp = JP_KEY(p, key);
	if (oci_jf_strv(p, obj, key, out, err) < 0)
		return -1;
	for (size_t i = 0; *out && (*out)[i]; i++)
		if ((*out)[i][0] != '/')
			return oci_jp_err(err, JP_IDX(kp, i),
					  "must be an absolute path, not \"%s\"",
					  (*out)[i]);
	return 0;
}

static int parse_propagation(const struct jpath *p, yajl_val obj,
			     struct oci_linux *l, struct rt_err **err)
{
	cleanup_free char *s = NULL;
	if (oci_jf_str(p, obj, "rootfsPropagation", &s, err) < 0)
		return -1;
	if (s == NULL || s[0] == '\0')
		return 0;
	l->rootfs_propagation = oci_propagation_from_name(s);
	if (l->rootfs_propagation == 0)
		return oci_jp_err(err, JP_KEY(p, "rootfsPropagation"),
				  "unknown propagation \"%s\"", s);
	return 0;
}

static int parse_personality(const struct jpath *p, yajl_val v,
			     struct oci_linux *l, struct rt_err **err)
{
	yajl_val d;
	static const struct oci_refused refused[] = {
		{"flags", "personality flags"},
	};
	if (oci_jobj(p, v, err) < 0 ||
	    oci_jrefuse(p, v, refused, ARRAY_SIZE(refused), err) < 0 ||
	    oci_jf_req(p, v, "domain", &d, err) < 0)
		return -1;
	if (!YAJL_IS_STRING(d))
		return oci_jp_err(err, JP_KEY(p, "domain"), "must be a string");
	if (strcmp(d->u.string, "LINUX") == 0)
		l->personality = PER_LINUX;
	else if (strcmp(d->u.string, "LINUX32") == 0)
		l->personality = PER_LINUX32;
	else
		return oci_jp_err(err, JP_KEY(p, "domain"),
				  "unknown personality domain \"%s\" (expected LINUX or LINUX32)",
				  d->u.string);
	l->has_personality = true;
	return 0;
}

static int parse_time_offset(const struct jpath *p, yajl_val v,
			     int64_t *secs, uint32_t *nsecs,
			     struct rt_err **err)
{
	uint64_t ns = 0;
	if (oci_jobj(p, v, err) < 0 ||
	    oci_jf_int(p, v, "secs", INT64_MIN, INT64_MAX, NULL, secs, err) < 0 ||
	    oci_jf_uint(p, v, "nanosecs", 999999999, NULL, &ns, err) < 0)
		return -1;
	*nsecs = (uint32_t)ns;
	return 0;
}

static int parse_time_offsets(const struct jpath *p, yajl_val v,
			      struct oci_linux *l, struct rt_err **err)
{
	if (oci_jobj(p, v, err) < 0)
		return -1;
	for (size_t i = 0; i < v->u.object.len; i++) {
		const char *clock = v->u.object.keys[i];
		yajl_val o = oci_jget(v, clock);
		int r;
		if (o == NULL)
			continue;
		if (strcmp(clock, "monotonic") == 0)
			r = parse_time_offset(JP_KEY(p, clock), o,
					      &l->monotonic_secs,
					      &l->monotonic_nsecs, err);
		else if (strcmp(clock, "boottime") == 0)
			r = parse_time_offset(JP_KEY(p, clock), o,
					      &l->boottime_secs,
					      &l->boottime_nsecs, err);
		else
			r = oci_jp_err(err, JP_MAP(p, clock),
				       "unknown clock (expected \"monotonic\" or \"boottime\")");
		if (r < 0)
			return -1;
		l->has_time_offsets = true;
	}
	return 0;
}

static const struct oci_namespace *find_ns(const struct oci_linux *l,
					   int type, size_t *index)
{
	for (size_t i = 0; i < l->n_namespaces; i++)
		if (l->namespaces[i].type == type) {
			*index = i;
			return &l->namespaces[i];
		}
	return NULL;
}

/* What runc checks between sections, so a bad combination fails here with
 * a path rather than halfway through creating the container. */
static int check_linux(const struct jpath *p, const struct oci_linux *l,
		       struct rt_err **err)
{
	size_t i = 0;
	const struct oci_namespace *user = find_ns(l, CLONE_NEWUSER, &i);
	if (user == NULL && l->n_uid_mappings + l->n_gid_mappings > 0)
		return oci_jp_err(err,
				  JP_KEY(p, l->n_uid_mappings ? "uidMappings"
							      : "gidMappings"),
				  "id mappings need a \"user\" namespace in linux.namespaces");
	if (user && user->path == NULL &&
	    (l->n_uid_mappings == 0 || l->n_gid_mappings == 0))
		return oci_jp_err(err, JP_IDX(JP_KEY(p, "namespaces"), i),
				  "a new user namespace needs linux.uidMappings and linux.gidMappings");
	const struct oci_namespace *time = find_ns(l, CLONE_NEWTIME, &i);
	if (l->has_time_offsets && (time == NULL || time->path != NULL))
		return oci_jp_err(err, JP_KEY(p, "timeOffsets"),
				  "time offsets need a new \"time\" namespace in linux.namespaces");
	return 0;
}

static const struct oci_refused linux_refused[] = {
	{"mountLabel", "SELinux mount labels"},
	{"intelRdt", "Intel RDT settings"},
	{"memoryPolicy", "NUMA memory policies"},
	{"netDevices", "network device moves"},
};

static int parse_linux_lists(const struct jpath *p, yajl_val v,
			     struct oci_linux *l, struct rt_err **err)
{
	yajl_val x;
	if ((x = oci_jget(v, "namespaces")) &&
	    parse_namespaces(JP_KEY(p, "namespaces"), x, l, err) < 0)
		return -1;
	if ((x = oci_jget(v, "uidMappings")) &&
	    parse_idmaps(JP_KEY(p, "uidMappings"), x, &l->uid_mappings,
			 &l->n_uid_mappings, err) < 0)
		return -1;
	if ((x = oci_jget(v, "gidMappings")) &&
	    parse_idmaps(JP_KEY(p, "gidMappings"), x, &l->gid_mappings,
			 &l->n_gid_mappings, err) < 0)
		return -1;
	if ((x = oci_jget(v, "devices")) &&
	    parse_devices(JP_KEY(p, "devices"), x, l, err) < 0)
		return -1;
	if (parse_abs_paths(p, v, "maskedPaths", &l->masked_paths, err) < 0 ||
	    parse_abs_paths(p, v, "readonlyPaths", &l->readonly_paths, err) < 0)
		return -1;
	if ((x = oci_jget(v, "sysctl")) &&
	    oci_jmap(JP_KEY(p, "sysctl"), x, &l->sysctl_keys,
		     &l->sysctl_values, &l->n_sysctl, err) < 0)
		return -1;
	return 0;
}

int oci_parse_linux(const struct jpath *p, yajl_val v, struct oci_linux *l,
		    struct rt_err **err)
{
	yajl_val x;
	if (oci_jobj(p, v, err) < 0 ||
	    oci_jrefuse(p, v, linux_refused, ARRAY_SIZE(linux_refused), err) < 0)
		return -1;
	if (parse_linux_lists(p, v, l, err) < 0)
		return -1;
	if (oci_jf_str(p, v, "cgroupsPath", &l->cgroups_path, err) < 0 ||
	    parse_propagation(p, v, l, err) < 0)
		return -1;
	if ((x = oci_jget(v, "resources")) &&
	    oci_parse_resources(JP_KEY(p, "resources"), x, &l->resources,
				err) < 0)
		return -1;
	if ((x = oci_jget(v, "seccomp")) &&
	    oci_parse_seccomp(JP_KEY(p, "seccomp"), x, &l->seccomp, err) < 0)
		return -1;
	if ((x = oci_jget(v, "personality")) &&
	    parse_personality(JP_KEY(p, "personality"), x, l, err) < 0)
		return -1;
	if ((x = oci_jget(v, "timeOffsets")) &&
	    parse_time_offsets(JP_KEY(p, "timeOffsets"), x, l, err) < 0)
		return -1;
	return check_linux(p, l, err);
}

void oci_linux_clear(struct oci_linux *l)
{
	for (size_t i = 0; i < l->n_namespaces; i++)
		free(l->namespaces[i].path);
	free(l->namespaces);
	free(l->uid_mappings);
	free(l->gid_mappings);
	for (size_t i = 0; i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	free(l->cgroups_path);
	oci_resources_free(l->resources);
	rt_strv_free(l->masked_paths);
	rt_strv_free(l->readonly_paths);
	rt_strv_free(l->sysctl_keys);
	rt_strv_free(l->sysctl_values);
	oci_seccomp_free(l->seccomp);
	free(l->mount_label);
	memset(l, 0, sizeof(*l));
}
