/* config.json as typed structs: parsed with yajl, validated once, every error
 * naming the JSON path (e.g. "linux.namespaces[2].type: unknown namespace
 * 'foo'"). Optional scalars carry a has_ flag; absent objects are NULL;
 * arrays are (pointer, count) pairs; string lists are NULL-terminated. */
#ifndef FERRY_OCI_CONFIG_H
#define FERRY_OCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct oci_user {
	uid_t uid;
	gid_t gid;
	bool has_umask;
	mode_t umask;
	gid_t *additional_gids;
	size_t n_additional_gids;
};

/* Capability sets as bitmasks of CAP_* numbers (1ULL << CAP_X). */
struct oci_caps {
	uint64_t bounding, effective, inheritable, permitted, ambient;
	/* Names not known to ferry (e.g. from a newer kernel): not granted;
	 * the runtime warns about them, as runc does. */
	char **unknown;
};

struct oci_rlimit {
	int resource; /* RLIMIT_*, parsed from "RLIMIT_NOFILE" */
	uint64_t soft, hard;
};

struct oci_process {
	bool terminal;
	bool has_console_size;
	unsigned console_height, console_width;
	struct oci_user user;
	char **args; /* at least one element */
	char **env;  /* may be NULL */
	char *cwd;   /* absolute */
	bool has_caps; /* "capabilities" present: apply exactly these sets */
	struct oci_caps caps;
	struct oci_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
	/* apparmorProfile, selinuxLabel, ioPriority, scheduler, execCPUAffinity:
	 * a non-empty value is refused by the parser (ferry cannot apply them
	 * and they change security or placement). */
};

struct oci_root {
	char *path; /* as written; relative to the bundle when not absolute */
	bool readonly;
};

/* A mount with its options already split into what mount(2) takes. */
struct oci_mount {
	char *destination;
	char *type;   /* may be NULL for bind mounts */
	char *source; /* may be NULL */
	char **options; /* raw, for display and state */
	unsigned long flags;       /* MS_* to set (MS_RDONLY, MS_NOSUID, ...) */
	unsigned long clear_flags; /* MS_* explicitly cleared ("rw", "suid") */
	unsigned long propagation; /* MS_PRIVATE|MS_SHARED|... with MS_REC */
	bool bind;                 /* "bind" or "rbind" (type may also be "bind") */
	bool recursive;            /* "rbind" */
	char *data;                /* unknown options joined by ',' (fs data) */
};

struct oci_hook {
	char *path;
	char **args; /* may be NULL: then argv = { path } */
	char **env;
	bool has_timeout;
	int timeout; /* seconds, > 0 */
};

enum oci_hook_kind {
	OCI_HOOK_PRESTART,
	OCI_HOOK_CREATE_RUNTIME,
	OCI_HOOK_CREATE_CONTAINER,
	OCI_HOOK_START_CONTAINER,
	OCI_HOOK_POSTSTART,
	OCI_HOOK_POSTSTOP,
	OCI_HOOK_KINDS
};

struct oci_hook_list {
	struct oci_hook *hooks;
	size_t n;
};

struct oci_namespace {
	int type;   /* CLONE_NEWPID, CLONE_NEWNS, ..., CLONE_NEWTIME */
	char *path; /* NULL: create a new one; else join this one */
};

struct oci_idmap {
	uint32_t container_id, host_id, size;
};

struct oci_device {
	char type; /* 'c', 'b', 'u' or 'p' */
	char *path;
	int64_t major, minor;
	bool has_file_mode;
	mode_t file_mode;
	bool has_uid, has_gid;
	uid_t uid;
	gid_t gid;
};

struct oci_device_rule {
	bool allow;
	char type;      /* 'a', 'c' or 'b' ('a' when absent) */
	int64_t major;  /* -1 = any */
	int64_t minor;  /* -1 = any */
	char access[4]; /* subset of "rwm"; "rwm" when absent */
};

struct oci_resources {
	struct oci_device_rule *devices;
	size_t n_devices;

	bool has_memory_limit, has_memory_reservation, has_memory_swap,
		has_memory_swappiness;
	int64_t memory_limit, memory_reservation, memory_swap; /* -1 = max */
	uint64_t memory_swappiness;
	bool disable_oom_killer;

	bool has_cpu_shares, has_cpu_quota, has_cpu_period;
	uint64_t cpu_shares;
	int64_t cpu_quota; /* -1 = max */
	uint64_t cpu_period;
	char *cpuset_cpus, *cpuset_mems; /* NULL when absent */

	bool has_pids_limit;
	int64_t pids_limit; /* <= 0 = max */

	bool has_blkio_weight;
	uint16_t blkio_weight;

	/* "unified": cgroup v2 file name -> value. */
	char **unified_keys, **unified_values;
	size_t n_unified;

	/* Present but not applied by ferry's cgroup code: hugepageLimits,
	 * network, rdma, blockIO device rules. The parser records which, so the
	 * runtime can refuse them with the JSON path when it cannot apply them. */
	char **unsupported; /* JSON paths, e.g. "linux.resources.rdma" */
};

enum oci_seccomp_action {
	OCI_SCMP_KILL,         /* SCMP_ACT_KILL / SCMP_ACT_KILL_THREAD */
	OCI_SCMP_KILL_PROCESS, /* SCMP_ACT_KILL_PROCESS */
	OCI_SCMP_TRAP,
	OCI_SCMP_ERRNO,
	OCI_SCMP_TRACE,
	OCI_SCMP_ALLOW,
	OCI_SCMP_LOG,
	OCI_SCMP_NOTIFY,
};

enum oci_seccomp_op {
	OCI_SCMP_CMP_NE,
	OCI_SCMP_CMP_LT,
	OCI_SCMP_CMP_LE,
	OCI_SCMP_CMP_EQ,
	OCI_SCMP_CMP_GE,
	OCI_SCMP_CMP_GT,
	OCI_SCMP_CMP_MASKED_EQ,
};

struct oci_seccomp_arg {
	unsigned index;
	uint64_t value, value_two;
	enum oci_seccomp_op op;
};

struct oci_seccomp_rule {
	char **names; /* syscall names, resolved by the runtime (unknown: skipped) */
	enum oci_seccomp_action action;
	bool has_errno_ret;
	unsigned errno_ret;
	struct oci_seccomp_arg *args;
	size_t n_args;
};

struct oci_seccomp {
	enum oci_seccomp_action default_action;
	bool has_default_errno_ret;
	unsigned default_errno_ret;
	char **architectures; /* "SCMP_ARCH_X86_64", ... as written */
	char **flags;         /* "SECCOMP_FILTER_FLAG_LOG", ... as written */
	struct oci_seccomp_rule *rules;
	size_t n_rules;
};

struct oci_linux {
	struct oci_namespace *namespaces;
	size_t n_namespaces;
	struct oci_idmap *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	struct oci_device *devices;
	size_t n_devices;
	char *cgroups_path; /* NULL when absent */
	struct oci_resources *resources; /* NULL when absent */
	unsigned long rootfs_propagation; /* 0 when absent, else MS_* | MS_REC */
	char **masked_paths;
	char **readonly_paths;
	char **sysctl_keys, **sysctl_values;
	size_t n_sysctl;
	struct oci_seccomp *seccomp; /* NULL when absent */
	bool has_personality;
	unsigned long personality; /* PER_LINUX or PER_LINUX32 */
	bool has_time_offsets;
	int64_t monotonic_secs, boottime_secs;
	uint32_t monotonic_nsecs, boottime_nsecs;
	char *mount_label; /* refused when non-empty */
};

struct oci_config {
	char *oci_version;
	struct oci_root root;
	char *hostname;   /* NULL when absent */
	char *domainname; /* NULL when absent */
	struct oci_mount *mounts;
	size_t n_mounts;
	struct oci_process *process; /* NULL when absent */
	struct oci_hook_list hooks[OCI_HOOK_KINDS];
	char **annotation_keys, **annotation_values;
	size_t n_annotations;
	struct oci_linux linux_; /* "linux" is a predefined macro in GNU C */
};

/* Parse config.json text / a file. Errors name the JSON path. */
int oci_config_parse(const char *json, size_t len, struct oci_config **out,
		     struct rt_err **err);
int oci_config_load(const char *path, struct oci_config **out,
		    struct rt_err **err);
void oci_config_free(struct oci_config *c);
void oci_config_freep(struct oci_config **c);
#define cleanup_config __attribute__((cleanup(oci_config_freep)))

/* A lone "process" object (exec --process FILE). */
int oci_process_parse(const char *json, size_t len, struct oci_process **out,
		      struct rt_err **err);
void oci_process_free(struct oci_process *p);

/* A lone "linux.resources" object (update -r FILE). */
int oci_resources_parse(const char *json, size_t len,
			struct oci_resources **out, struct rt_err **err);
void oci_resources_free(struct oci_resources *r);

/* Capability name <-> number ("CAP_SYS_ADMIN" <-> 21). -1 when unknown. */
int oci_cap_from_name(const char *name);
const char *oci_cap_name(int cap);
/* Highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap). */
int oci_cap_last(void);

/* Namespace type <-> config.json name ("pid" <-> CLONE_NEWPID). */
int oci_ns_from_name(const char *name);
const char *oci_ns_name(int type);
/* Name under /proc/PID/ns/ ("pid", "mnt", "net", "ipc", "uts", "user",
 * "cgroup", "time"). */
const char *oci_ns_proc_name(int type);

/* The hook kind's config.json key ("createRuntime"). */
const char *oci_hook_kind_name(enum oci_hook_kind k);

#endif
