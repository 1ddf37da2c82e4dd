/* `ferry spec` and `ferry features`. The spec is runc's example config.json
 * (libcontainer/specconv Example() and ToRootless()), with the keys in the
 * order runtime-spec's Go structs marshal them and tab indentation, so the
 * file is the one `runc spec` writes. The features document is built from
 * the tables the config parser and the seccomp code use, so it claims only
 * what this build accepts. */
#include "oci/spec.h"

#include <ctype.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <yajl/yajl_gen.h>

#include "oci/config.h"
#include "oci/json-gen.h"
#include "util.h"

#ifndef FERRY_VERSION
#define FERRY_VERSION "0.1.0-dev"
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* The newest runtime-spec whose config.json ferry understands. */
#define OCI_VERSION_MAX "1.2.0"

/* ---- generation helpers --------------------------------------------------- */

static void gen_key_strv(yajl_gen g, const char *key, const char *const *v)
{
	gen_str(g, key);
	yajl_gen_array_open(g);
	for (size_t i = 0; v[i]; i++)
		gen_str(g, v[i]);
	yajl_gen_array_close(g);
}

/* key: { "enabled": val } */
static void gen_key_enabled(yajl_gen g, const char *key, bool val)
{
	gen_str(g, key);
	yajl_gen_map_open(g);
	gen_key_bool(g, "enabled", val);
	yajl_gen_map_close(g);
}

static yajl_gen gen_new(const char *indent)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (g == NULL)
		abort();
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, indent);
	return g;
}

/* The document without the newline yajl ends it with; frees g. */
static char *gen_take(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	char *out = xmalloc(len + 1);
	memcpy(out, buf, len);
	out[len] = '\0';
	yajl_gen_free(g);
	return out;
}

/* ---- the default config.json --------------------------------------------- */

static const char *const default_caps[] = {
	"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL,
};

static void gen_process(yajl_gen g)
{
	static const char *const args[] = { "sh", NULL };
	static const char *const env[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"TERM=xterm", NULL,
	};
	gen_str(g, "process");
	yajl_gen_map_open(g);
	gen_key_bool(g, "terminal", true);
	gen_str(g, "user");
	yajl_gen_map_open(g);
	gen_key_int(g, "uid", 0);
	gen_key_int(g, "gid", 0);
	yajl_gen_map_close(g);
	gen_key_strv(g, "args", args);
	gen_key_strv(g, "env", env);
	gen_key_str(g, "cwd", "/");
	/* runc dropped inheritable (and with it ambient) from its example. */
	gen_str(g, "capabilities");
	yajl_gen_map_open(g);
	gen_key_strv(g, "bounding", default_caps);
	gen_key_strv(g, "effective", default_caps);
	gen_key_strv(g, "permitted", default_caps);
	yajl_gen_map_close(g);
	gen_str(g, "rlimits");
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	gen_key_str(g, "type", "RLIMIT_NOFILE");
	gen_key_int(g, "hard", 1024);
	gen_key_int(g, "soft", 1024);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
	gen_key_bool(g, "noNewPrivileges", true);
	yajl_gen_map_close(g);
}

struct spec_mount {
	const char *destination, *type, *source;
	const char *const options[8]; /* NULL-terminated */
};

static const struct spec_mount default_mounts[] = {
	{ "/proc", "proc", "proc", { NULL } },
	{ "/dev", "tmpfs", "tmpfs",
	  { "nosuid", "strictatime", "mode=755", "size=65536k", NULL } },
	{ "/dev/pts", "devpts", "devpts",
	  { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
	    "gid=5", NULL } },
	{ "/dev/shm", "tmpfs", "shm",
	  { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL } },
	{ "/dev/mqueue", "mqueue", "mqueue",
	  { "nosuid", "noexec", "nodev", NULL } },
	{ "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro", NULL } },
	{ "/sys/fs/cgroup", "cgroup", "cgroup",
	  { "nosuid", "noexec", "nodev", "relatime", "ro", NULL } },
};

/* Without a network namespace of its own, a rootless container cannot mount
 * sysfs: it gets the host's, read-only. */
static const struct spec_mount rootless_sys = {
	"/sys", "none", "/sys",
	{ "rbind", "nosuid", "noexec", "nodev", "ro", NULL },
};

static void gen_mount(yajl_gen g, const struct spec_mount *m, bool rootless)
{
	yajl_gen_map_open(g);
	gen_key_str(g, "destination", m->destination);
	gen_key_str(g, "type", m->type);
	gen_key_str(g, "source", m->source);
	if (m->options[0]) {
		gen_str(g, "options");
		yajl_gen_array_open(g);
		for (size_t i = 0; m->options[i]; i++) {
			/* No gid 5 ("tty") exists in a one-id user namespace. */
			if (rootless && (rt_has_prefix(m->options[i], "gid=") ||
					 rt_has_prefix(m->options[i], "uid=")))
				continue;
			gen_str(g, m->options[i]);
		}
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
}

static void gen_mounts(yajl_gen g, bool rootless)
{
	gen_str(g, "mounts");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < ARRAY_SIZE(default_mounts); i++) {
		const struct spec_mount *m = &default_mounts[i];
		if (rootless && strcmp(m->destination, "/sys") == 0)
			m = &rootless_sys;
		gen_mount(g, m, rootless);
	}
	yajl_gen_array_close(g);
}

static void gen_idmap(yajl_gen g, const char *key, unsigned long host_id)
{
	gen_str(g, key);
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	gen_key_int(g, "containerID", 0);
	gen_key_int(g, "hostID", (long long)host_id);
	gen_key_int(g, "size", 1);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
}

/* runc adds a cgroup namespace only where /sys/fs/cgroup is cgroup2. */
static bool cgroup2_unified(void)
{
	struct statfs st;
	return statfs("/sys/fs/cgroup", &st) == 0 &&
	       (unsigned long)st.f_type == CGROUP2_SUPER_MAGIC;
}

static void gen_namespaces(yajl_gen g, bool rootless)
{
	const char *names[8];
	size_t n = 0;
	names[n++] = "pid";
	if (!rootless)
		names[n++] = "network";
	names[n++] = "ipc";
	names[n++] = "uts";
	names[n++] = "mount";
	if (cgroup2_unified())
		names[n++] = "cgroup";
	if (rootless)
		names[n++] = "user";
	gen_str(g, "namespaces");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		yajl_gen_map_open(g);
		gen_key_str(g, "type", names[i]);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

static void gen_linux(yajl_gen g, bool rootless, uid_t uid, gid_t gid)
{
	static const char *const masked[] = {
		"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
		"/proc/sched_debug", "/sys/firmware", "/proc/scsi",
		"/sys/devices/virtual/tpm", NULL,
	};
	static const char *const readonly[] = {
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
		"/proc/sysrq-trigger", NULL,
	};
	gen_str(g, "linux");
	yajl_gen_map_open(g);
	if (rootless) {
		gen_idmap(g, "uidMappings", uid);
		gen_idmap(g, "gidMappings", gid);
	} else {
		gen_str(g, "resources");
		yajl_gen_map_open(g);
		gen_str(g, "devices");
		yajl_gen_array_open(g);
		yajl_gen_map_open(g);
		gen_key_bool(g, "allow", false);
		gen_key_str(g, "access", "rwm");
		yajl_gen_map_close(g);
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	gen_namespaces(g, rootless);
	gen_key_strv(g, "maskedPaths", masked);
	gen_key_strv(g, "readonlyPaths", readonly);
	yajl_gen_map_close(g);
}

char *oci_spec_default(bool rootless, uid_t uid, gid_t gid)
{
	yajl_gen g = gen_new("\t");
	yajl_gen_map_open(g);
	gen_key_str(g, "ociVersion", OCI_VERSION_MAX);
	gen_process(g);
	gen_str(g, "root");
	yajl_gen_map_open(g);
	gen_key_str(g, "path", "rootfs");
	gen_key_bool(g, "readonly", true);
	yajl_gen_map_close(g);
	gen_key_str(g, "hostname", "runc");
	gen_mounts(g, rootless);
	gen_linux(g, rootless, uid, gid);
	yajl_gen_map_close(g);
	/* runc writes config.json without a final newline. */
	return gen_take(g);
}

/* ---- the features document ------------------------------------------------ */

/* The options config-mounts.c turns into mount(2) flags, propagation or a
 * bind; anything else is passed to the filesystem as data (or refused), so
 * it is not listed (runtime-spec: no filesystem-specific options here). */
static const char *const mount_options[] = {
	"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync",
	"exec", "iversion", "lazytime", "loud", "mand", "noatime", "nodev",
	"nodiratime", "noexec", "noiversion", "nolazytime", "nomand",
	"norelatime", "nostrictatime", "nosuid", "nosymfollow", "private",
	"rbind", "relatime", "remount", "ro", "rprivate", "rshared",
	"rslave", "runbindable", "rw", "shared", "silent", "slave",
	"strictatime", "suid", "symfollow", "sync", "unbindable", NULL,
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void gen_hook_names(yajl_gen g)
{
	gen_str(g, "hooks");
	yajl_gen_array_open(g);
	for (int k = 0; k < OCI_HOOK_KINDS; k++)
		gen_str(g, oci_hook_kind_name((enum oci_hook_kind)k));
	yajl_gen_array_close(g);
}

static void gen_namespace_names(yajl_gen g)
{
	static const int types[] = {
		CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNS, CLONE_NEWNET,
		CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER, CLONE_NEWUTS,
	};
	const char *names[ARRAY_SIZE(types)] = { NULL };
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (oci_ns_name(types[i]))
			names[n++] = oci_ns_name(types[i]);
	qsort(names, n, sizeof(names[0]), cmp_str);
	gen_str(g, "namespaces");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++)
		gen_str(g, names[i]);
	yajl_gen_array_close(g);
}

/* In capability-number order, as runc lists them. */
static void gen_cap_names(yajl_gen g)
{
	gen_str(g, "capabilities");
	yajl_gen_array_open(g);
	for (int c = 0; c < 64; c++)
		if (oci_cap_name(c))
			gen_str(g, oci_cap_name(c));
	yajl_gen_array_close(g);
}

/* Every architecture name the libseccomp we run with resolves, spelled as
 * config.json writes them ("SCMP_ARCH_X86_64"). */
static void gen_seccomp_archs(yajl_gen g)
{
	static const char *const candidates[] = {
		"aarch64", "arm", "loongarch64", "m68k", "mips", "mips64",
		"mips64n32", "mipsel", "mipsel64", "mipsel64n32", "parisc",
		"parisc64", "ppc", "ppc64", "ppc64le", "riscv64", "s390",
		"s390x", "sh", "sheb", "x32", "x86", "x86_64",
	};
	char *names[ARRAY_SIZE(candidates)] = { NULL };
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(candidates); i++) {
		if (seccomp_arch_resolve_name(candidates[i]) == 0)
			continue;
		char *s = xasprintf("SCMP_ARCH_%s", candidates[i]);
		for (char *p = s; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		names[n++] = s;
	}
	qsort(names, n, sizeof(names[0]), cmp_str);
	gen_str(g, "archs");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		gen_str(g, names[i]);
		free(names[i]);
	}
	yajl_gen_array_close(g);
}

/* The filter flags runtime/seccomp.c maps to libseccomp attributes; a flag is
 * supported when libseccomp (which asks the kernel) accepts it. */
static void gen_seccomp_flags(yajl_gen g)
{
	static const struct {
		const char *name;
		enum scmp_filter_attr attr;
	} flags[] = {
		{ "SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC },
		{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB },
		{ "SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG },
	};
	gen_str(g, "knownFlags");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		gen_str(g, flags[i].name);
	yajl_gen_array_close(g);

	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	gen_str(g, "supportedFlags");
	yajl_gen_array_open(g);
	for (size_t i = 0; ctx && i < ARRAY_SIZE(flags); i++)
		if (seccomp_attr_set(ctx, flags[i].attr, 1) == 0)
			gen_str(g, flags[i].name);
	yajl_gen_array_close(g);
	seccomp_release(ctx);
}

static void gen_seccomp(yajl_gen g)
{
	/* SCMP_ACT_NOTIFY is refused by the config parser: ferry has no
	 * listenerPath support. */
	static const char *const actions[] = {
		"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
		"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
		"SCMP_ACT_TRACE", "SCMP_ACT_TRAP", NULL,
	};
	static const char *const operators[] = {
		"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
		"SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL,
	};
	gen_str(g, "seccomp");
	yajl_gen_map_open(g);
	gen_key_bool(g, "enabled", true);
	gen_key_strv(g, "actions", actions);
	gen_key_strv(g, "operators", operators);
	gen_seccomp_archs(g);
	gen_seccomp_flags(g);
	yajl_gen_map_close(g);
}

static void gen_features_linux(yajl_gen g)
{
	gen_str(g, "linux");
	yajl_gen_map_open(g);
	gen_namespace_names(g);
	gen_cap_names(g);
	gen_str(g, "cgroup");
	yajl_gen_map_open(g);
	gen_key_bool(g, "v1", true);
	gen_key_bool(g, "v2", true);
	gen_key_bool(g, "systemd", false);
	gen_key_bool(g, "systemdUser", false);
	gen_key_bool(g, "rdma", false);
	yajl_gen_map_close(g);
	gen_seccomp(g);
	gen_key_enabled(g, "apparmor", false);
	gen_key_enabled(g, "selinux", false);
	gen_key_enabled(g, "intelRdt", false);
	gen_str(g, "mountExtensions");
	yajl_gen_map_open(g);
	gen_key_enabled(g, "idmap", false);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
}

static int cmp_pair(const void *a, const void *b)
{
	return strcmp(((char *const *)a)[0], ((char *const *)b)[0]);
}

/* Keys sorted, as Go marshals a map. extra: more key, value pairs. */
static void gen_features_annotations(yajl_gen g, char *const *extra)
{
	const struct scmp_version *v = seccomp_version();
	cleanup_free char *libseccomp =
		xasprintf("%u.%u.%u", v->major, v->minor, v->micro);
	size_t n_extra = rt_strv_len(extra) / 2, n = 2 + n_extra;
	cleanup_free char **kv = xcalloc(2 * n, sizeof(char *));
	kv[0] = "io.github.ferry.version";
	kv[1] = FERRY_VERSION;
	kv[2] = "io.github.seccomp.libseccomp.version";
	kv[3] = libseccomp;
	for (size_t i = 0; i < 2 * n_extra; i++)
		kv[4 + i] = extra[i];
	qsort(kv, n, 2 * sizeof(char *), cmp_pair);
	gen_str(g, "annotations");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < n; i++)
		gen_key_str(g, kv[2 * i], kv[2 * i + 1]);
	yajl_gen_map_close(g);
}

char *oci_features_json(void)
{
	return oci_features_json_annotated(NULL);
}

/* Indented by four spaces as `runc features` prints it (runc also adds a
 * newline, which is the caller's to print). */
char *oci_features_json_annotated(char *const *extra)
{
	yajl_gen g = gen_new("    ");
	yajl_gen_map_open(g);
	gen_key_str(g, "ociVersionMin", "1.0.0");
	gen_key_str(g, "ociVersionMax", OCI_VERSION_MAX);
	gen_hook_names(g);
	gen_key_strv(g, "mountOptions", mount_options);
	gen_features_linux(g);
	gen_features_annotations(g, extra);
	yajl_gen_map_close(g);
	return gen_take(g);
}
