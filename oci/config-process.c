/* config.json "process" (also a lone document for `exec --process FILE`):
 * user, args, env, cwd, capabilities, rlimits; and the capability table. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "oci/config-internal.h"
#include "util.h"

/* Our own table: ferry must know every capability by name even when built
 * against older headers, and CAP_LAST_CAP differs between kernels. */
static const char *const cap_names[] = {
	"CAP_CHOWN",		  "CAP_DAC_OVERRIDE",
	"CAP_DAC_READ_SEARCH",	  "CAP_FOWNER",
	"CAP_FSETID",		  "CAP_KILL",
	"CAP_SETGID",		  "CAP_SETUID",
	"CAP_SETPCAP",		  "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE",	  "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",	  "CAP_NET_RAW",
	"CAP_IPC_LOCK",		  "CAP_IPC_OWNER",
	"CAP_SYS_MODULE",	  "CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT",	  "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",	  "CAP_SYS_ADMIN",
	"CAP_SYS_BOOT",		  "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",	  "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG",	  "CAP_MKNOD",
	"CAP_LEASE",		  "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL",	  "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",	  "CAP_MAC_ADMIN",
	"CAP_SYSLOG",		  "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",	  "CAP_AUDIT_READ",
	"CAP_PERFMON",		  "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

int oci_cap_from_name(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(cap_names); i++)
		if (strcmp(cap_names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *oci_cap_name(int cap)
{
	if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
		return NULL;
	return cap_names[cap];
}

int oci_cap_last(void)
{
	char buf[16] = "";
	cleanup_close int fd =
		open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && rt_read_all(fd, buf, sizeof(buf) - 1) > 0) {
		char *end;
		long v = strtol(buf, &end, 10);
		if (end != buf && v >= 0 && v < 64)
			return (int)v;
	}
	/* No /proc: ask the bounding set, which knows exactly the kernel's
	 * capabilities. */
	int last = 0;
	while (last < 63 && prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
		last++;
	return last;
}

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{"RLIMIT_CPU", RLIMIT_CPU},
	{"RLIMIT_FSIZE", RLIMIT_FSIZE},
	{"RLIMIT_DATA", RLIMIT_DATA},
	{"RLIMIT_STACK", RLIMIT_STACK},
	{"RLIMIT_CORE", RLIMIT_CORE},
	{"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_NPROC", RLIMIT_NPROC},
	{"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
	{"RLIMIT_AS", RLIMIT_AS},
	{"RLIMIT_LOCKS", RLIMIT_LOCKS},
	{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
	{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
	{"RLIMIT_NICE", RLIMIT_NICE},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
	{"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

static int rlimit_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
		if (strcmp(rlimit_names[i].name, name) == 0)
			return rlimit_names[i].resource;
	return -1;
}

static int parse_user(const struct jpath *p, yajl_val v, struct oci_user *u,
		      struct rt_err **err)
{
	uint64_t x = 0;
	if (oci_jobj(p, v, err) < 0)
		return -1;
	if (oci_jf_uint(p, v, "uid", OCI_ID_MAX, NULL, &x, err) < 0)
		return -1;
	u->uid = (uid_t)x;
	x = 0;
	if (oci_jf_uint(p, v, "gid", OCI_ID_MAX, NULL, &x, err) < 0)
		return -1;
	u->gid = (gid_t)x;
	if (oci_jf_uint(p, v, "umask", 0777, &u->has_umask, &x, err) < 0)
		return -1;
	if (u->has_umask)
		u->umask = (mode_t)x;

	yajl_val g = oci_jget(v, "additionalGids");
	const struct jpath *gp = JP_KEY(p, "additionalGids");
	size_t n = 0;
	if (g == NULL)
		return 0;
	if (oci_jarr(gp, g, &n, err) < 0)
		return -1;
	u->additional_gids = xcalloc(n, sizeof(gid_t));
	u->n_additional_gids = n;
	for (size_t i = 0; i < n; i++) {
		if (oci_juint(JP_IDX(gp, i), g->u.array.values[i], OCI_ID_MAX,
			      &x, err) < 0)
			return -1;
		u->additional_gids[i] = (gid_t)x;
	}
	return 0;
}

/* Names this build does not know are not granted and are kept for the
 * runtime to warn about, as runc does: a profile written for a newer
 * kernel still runs, with fewer privileges, never more. */
static int parse_cap_set(const struct jpath *p, yajl_val v, uint64_t *set,
			 char ***unknown, struct rt_err **err)
{
	size_t n;
	if (oci_jarr(p, v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = v->u.array.values[i];
		if (!YAJL_IS_STRING(e))
			return oci_jp_err(err, JP_IDX(p, i), "must be a string");
		int cap = oci_cap_from_name(e->u.string);
		if (cap < 0)
			rt_strv_push(unknown, e->u.string);
		else
			*set |= 1ULL << cap;
	}
	return 0;
}

static int parse_caps(const struct jpath *p, yajl_val v, struct oci_caps *c,
		      struct rt_err **err)
{
	const struct {
		const char *key;
		uint64_t *set;
	} sets[] = {
		{"bounding", &c->bounding},	  {"effective", &c->effective},
		{"inheritable", &c->inheritable}, {"permitted", &c->permitted},
		{"ambient", &c->ambient},
	};
	if (oci_jobj(p, v, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
		yajl_val s = oci_jget(v, sets[i].key);
		if (s && parse_cap_set(JP_KEY(p, sets[i].key), s, sets[i].set,
				       &c->unknown, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_rlimit(const struct jpath *p, yajl_val v,
			struct oci_rlimit *r, struct rt_err **err)
{
	yajl_val t, soft, hard;
	if (oci_jobj(p, v, err) < 0 || oci_jf_req(p, v, "type", &t, err) < 0)
		return -1;
	if (!YAJL_IS_STRING(t))
		return oci_jp_err(err, JP_KEY(p, "type"), "must be a string");
	r->resource = rlimit_from_name(t->u.string);
	if (r->resource < 0)
		return oci_jp_err(err, JP_KEY(p, "type"),
				  "unknown rlimit \"%s\"", t->u.string);
	if (oci_jf_req(p, v, "soft", &soft, err) < 0 ||
	    oci_juint(JP_KEY(p, "soft"), soft, UINT64_MAX, &r->soft, err) < 0)
		return -1;
	if (oci_jf_req(p, v, "hard", &hard, err) < 0 ||
	    oci_juint(JP_KEY(p, "hard"), hard, UINT64_MAX, &r->hard, err) < 0)
		return -1;
	if (r->soft > r->hard)
		return oci_jp_err(err, JP_KEY(p, "soft"),
				  "%s is above the hard limit %s",
				  soft->u.number.r, hard->u.number.r);
	return 0;
}

static int parse_rlimits(const struct jpath *p, yajl_val v,
			 struct oci_process *proc, struct rt_err **err)
{
	size_t n;
	if (oci_jarr(p, v, &n, err) < 0)
		return -1;
	proc->rlimits = xcalloc(n, sizeof(struct oci_rlimit));
	proc->n_rlimits = n;
	for (size_t i = 0; i < n; i++) {
		const struct jpath *ip = JP_IDX(p, i);
		if (parse_rlimit(ip, v->u.array.values[i], &proc->rlimits[i],
				 err) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (proc->rlimits[j].resource == proc->rlimits[i].resource)
				return oci_jp_err(err, JP_KEY(ip, "type"),
						  "duplicate rlimit \"%s\" (also in [%zu])",
						  oci_jget(v->u.array.values[i], "type")->u.string,
						  j);
	}
	return 0;
}

int oci_parse_env(const struct jpath *p, yajl_val v, char ***env,
		  struct rt_err **err)
{
	if (oci_jstrv(p, v, env, err) < 0)
		return -1;
	for (size_t i = 0; *env && (*env)[i]; i++)
		if (strchr((*env)[i], '=') == NULL || (*env)[i][0] == '=')
			return oci_jp_err(err, JP_IDX(p, i),
					  "must be \"NAME=value\", not \"%s\"",
					  (*env)[i]);
	return 0;
}

static int parse_console_size(const struct jpath *p, yajl_val v,
			      struct oci_process *proc, struct rt_err **err)
{
	yajl_val h, w;
	uint64_t x;
	if (oci_jobj(p, v, err) < 0)
		return -1;
	/* struct winsize holds unsigned shorts. */
	if (oci_jf_req(p, v, "height", &h, err) < 0 ||
	    oci_juint(JP_KEY(p, "height"), h, UINT16_MAX, &x, err) < 0)
		return -1;
	proc->console_height = (unsigned)x;
	if (oci_jf_req(p, v, "width", &w, err) < 0 ||
	    oci_juint(JP_KEY(p, "width"), w, UINT16_MAX, &x, err) < 0)
		return -1;
	proc->console_width = (unsigned)x;
	proc->has_console_size = true;
	return 0;
}

static const struct oci_refused process_refused[] = {
	{"apparmorProfile", "AppArmor profiles"},
	{"selinuxLabel", "SELinux labels"},
	{"ioPriority", "I/O priorities"},
	{"scheduler", "scheduler settings"},
	{"execCPUAffinity", "exec CPU affinities"},
};

static int parse_args_cwd(const struct jpath *p, yajl_val v,
			  struct oci_process *proc, struct rt_err **err)
{
	yajl_val a = oci_jget(v, "args"), cwd;
	if (a == NULL || !YAJL_IS_ARRAY(a) || a->u.array.len == 0)
		return oci_jp_err(err, JP_KEY(p, "args"),
				  "must be a non-empty array of strings");
	if (oci_jstrv(JP_KEY(p, "args"), a, &proc->args, err) < 0)
		return -1;
	if (oci_jf_req(p, v, "cwd", &cwd, err) < 0 ||
	    oci_jabs(JP_KEY(p, "cwd"), cwd, &proc->cwd, err) < 0)
		return -1;
	return 0;
}

static int parse_process_fields(const struct jpath *p, yajl_val v,
				struct oci_process *proc, struct rt_err **err)
{
	yajl_val x;
	int64_t adj;
	if (oci_jobj(p, v, err) < 0 ||
	    oci_jrefuse(p, v, process_refused, ARRAY_SIZE(process_refused),
			err) < 0)
		return -1;
	if (oci_jf_bool(p, v, "terminal", &proc->terminal, err) < 0 ||
	    oci_jf_bool(p, v, "noNewPrivileges", &proc->no_new_privileges,
			err) < 0)
		return -1;
	if ((x = oci_jget(v, "consoleSize")) &&
	    parse_console_size(JP_KEY(p, "consoleSize"), x, proc, err) < 0)
		return -1;
	if ((x = oci_jget(v, "user")) &&
	    parse_user(JP_KEY(p, "user"), x, &proc->user, err) < 0)
		return -1;
	if (parse_args_cwd(p, v, proc, err) < 0)
		return -1;
	if ((x = oci_jget(v, "env")) &&
	    oci_parse_env(JP_KEY(p, "env"), x, &proc->env, err) < 0)
		return -1;
	if ((x = oci_jget(v, "capabilities"))) {
		if (parse_caps(JP_KEY(p, "capabilities"), x, &proc->caps, err) < 0)
			return -1;
		proc->has_caps = true;
	}
	if ((x = oci_jget(v, "rlimits")) &&
	    parse_rlimits(JP_KEY(p, "rlimits"), x, proc, err) < 0)
		return -1;
	if (oci_jf_int(p, v, "oomScoreAdj", -1000, 1000,
		       &proc->has_oom_score_adj, &adj, err) < 0)
		return -1;
	if (proc->has_oom_score_adj)
		proc->oom_score_adj = (int)adj;
	return 0;
}

int oci_parse_process(const struct jpath *p, yajl_val v,
		      struct oci_process **out, struct rt_err **err)
{
	struct oci_process *proc = xcalloc(1, sizeof(*proc));
	if (parse_process_fields(p, v, proc, err) < 0) {
		oci_process_free(proc);
		return -1;
	}
	*out = proc;
	return 0;
}

void oci_process_free(struct oci_process *p)
{
	if (p == NULL)
		return;
	free(p->user.additional_gids);
	rt_strv_free(p->args);
	rt_strv_free(p->env);
	free(p->cwd);
	rt_strv_free(p->caps.unknown);
	free(p->rlimits);
	free(p);
}

int oci_process_parse(const char *json, size_t len, struct oci_process **out,
		      struct rt_err **err)
{
	yajl_val root;
	if (oci_json_parse(json, len, &root, err) < 0)
		return -1;
	int r = oci_parse_process(NULL, root, out, err);
	yajl_tree_free(root);
	return r;
}
