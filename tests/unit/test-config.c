/* oci/config*.c: every field of a full config lands in the right struct
 * member, the `runc spec` default parses, and each class of bad input is
 * refused with the JSON path of the offending value. */
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <unistd.h>

#include "oci/config.h"
#include "tap.h"
#include "util.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* JSON in C literals is written with ' for ", then translated. */
static char *dq(const char *s)
{
	char *r = xstrdup(s);
	for (char *p = r; *p; p++)
		if (*p == '\'')
			*p = '"';
	return r;
}

static struct oci_config *parse_ok(const char *name, const char *sq)
{
	cleanup_free char *json = dq(sq);
	struct oci_config *c = NULL;
	cleanup_err struct rt_err *err = NULL;
	int r = oci_config_parse(json, strlen(json), &c, &err);
	TAP_OK(r == 0 && c != NULL, "%s parses", name);
	if (r < 0)
		printf("#   error: %s\n", err ? err->msg : "(none)");
	return c;
}

/* Parse must fail with exactly `want` (or a message starting with it when
 * `prefix`) and leave the output pointer untouched. */
static void check_err(const char *sq, const char *want, bool prefix)
{
	cleanup_free char *json = dq(sq);
	struct oci_config *sentinel = (struct oci_config *)&json;
	struct oci_config *c = sentinel;
	cleanup_err struct rt_err *err = NULL;
	int r = oci_config_parse(json, strlen(json), &c, &err);
	const char *got = err ? err->msg : "(no error)";
	bool match = prefix ? strncmp(got, want, strlen(want)) == 0
			    : strcmp(got, want) == 0;
	TAP_OK(r < 0 && c == sentinel && match, "refused: %s", want);
	if (!match)
		printf("#   got:      '%s'\n#   expected: '%s'%s\n", got, want,
		       prefix ? " (prefix)" : "");
	if (r == 0 && c != sentinel)
		oci_config_free(c);
}

#define BASE_HEAD                                                              \
	"{'ociVersion':'1.0.2','root':{'path':'rootfs'},"
#define PROC "'process':{'args':['sh'],'cwd':'/'}"
#define NS3 "'namespaces':[{'type':'pid'},{'type':'mount'},{'type':'uts'}]"

/* A minimal valid config with one section replaced. */
#define WITH_PROCESS(p) BASE_HEAD "'process':" p ",'linux':{" NS3 "}}"
#define WITH_LINUX(l) BASE_HEAD PROC ",'linux':{" l "}}"
#define WITH_TOP(t) BASE_HEAD PROC ",'linux':{" NS3 "}," t "}"
#define WITH_RES(r) WITH_LINUX(NS3 ",'resources':" r)
#define WITH_SECCOMP(s) WITH_LINUX(NS3 ",'seccomp':" s)

static const char full_config[] =
	"{"
	"'ociVersion':'1.2.0',"
	"'root':{'path':'/srv/rootfs','readonly':true},"
	"'hostname':'box','domainname':'example.org',"
	"'process':{"
	" 'terminal':true,'consoleSize':{'height':25,'width':80},"
	" 'user':{'uid':1000,'gid':1001,'umask':18,'additionalGids':[5,4294967294]},"
	" 'args':['/bin/sh','-c','echo hi'],"
	" 'env':['PATH=/bin','EMPTY='],"
	" 'cwd':'/home',"
	" 'capabilities':{'bounding':['CAP_SYS_ADMIN','CAP_CHECKPOINT_RESTORE'],"
	"  'effective':['CAP_CHOWN'],'inheritable':[],"
	"  'permitted':['CAP_CHOWN','CAP_KILL'],'ambient':['CAP_KILL']},"
	" 'rlimits':[{'type':'RLIMIT_NOFILE','soft':1024,'hard':4096},"
	"  {'type':'RLIMIT_CORE','soft':0,'hard':18446744073709551615}],"
	" 'noNewPrivileges':true,'oomScoreAdj':-500,"
	" 'apparmorProfile':'','selinuxLabel':'','commandLine':'ignored'"
	"},"
	"'mounts':["
	" {'destination':'/proc','type':'proc','source':'proc'},"
	" {'destination':'/data','type':'bind','source':'/srv/data',"
	"  'options':['rbind','ro','nosuid','nodev','noexec','rslave']},"
	" {'destination':'/tmp','type':'tmpfs','source':'tmpfs',"
	"  'options':['rw','suid','mode=1777','size=10m','strictatime','nosymfollow']},"
	" {'destination':'/mnt','source':'/srv/mnt',"
	"  'options':['bind','private','ro','rw'],'uidMappings':[]},"
	" {'destination':'/x','type':'ext4','source':'/dev/sda1',"
	"  'options':['defaults','sync','async','dirsync','remount','mand','nomand',"
	"   'atime','noatime','diratime','nodiratime','relatime','norelatime',"
	"   'nostrictatime','lazytime','nolazytime','silent','loud','iversion',"
	"   'noiversion','dev','exec','symfollow','shared','rshared','slave',"
	"   'unbindable','runbindable','rprivate','errors=remount-ro']}"
	"],"
	"'hooks':{"
	" 'prestart':[{'path':'/usr/bin/pre','args':['pre','x'],'env':['A=1'],'timeout':5}],"
	" 'createRuntime':[{'path':'/cr'}],'createContainer':[{'path':'/cc'}],"
	" 'startContainer':[{'path':'/sc'}],'poststart':[{'path':'/ps'}],"
	" 'poststop':[{'path':'/p1'},{'path':'/p2','timeout':30}]"
	"},"
	"'annotations':{'org.example.a':'1','b':''},"
	"'linux':{"
	" 'namespaces':[{'type':'pid'},{'type':'network','path':'/var/run/netns/x'},"
	"  {'type':'mount'},{'type':'ipc','path':''},{'type':'uts'},{'type':'user'},"
	"  {'type':'cgroup'},{'type':'time'}],"
	" 'uidMappings':[{'containerID':0,'hostID':100000,'size':65536}],"
	" 'gidMappings':[{'containerID':0,'hostID':200000,'size':65536},"
	"  {'containerID':65536,'hostID':5,'size':1}],"
	" 'devices':[{'type':'c','path':'/dev/fuse','major':10,'minor':229,"
	"  'fileMode':438,'uid':0,'gid':5},{'type':'p','path':'/dev/fifo'}],"
	" 'cgroupsPath':'/ferry/box',"
	" 'resources':{"
	"  'devices':[{'allow':false,'access':'rwm'},"
	"   {'allow':true,'type':'c','major':10,'minor':229,'access':'mrw'},"
	"   {'allow':true,'type':'b','major':8,'access':'r'}],"
	"  'memory':{'limit':536870912,'reservation':268435456,'swap':-1,"
	"   'swappiness':60,'disableOOMKiller':true,'kernel':1,'kernelTCP':2,"
	"   'useHierarchy':true,'checkBeforeUpdate':true},"
	"  'cpu':{'shares':1024,'quota':50000,'period':100000,'cpus':'0-1',"
	"   'mems':'0','realtimeRuntime':0,'realtimePeriod':1000,'idle':1},"
	"  'pids':{'limit':100},"
	"  'blockIO':{'weight':500,'weightDevice':[],"
	"   'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':1}]},"
	"  'hugepageLimits':[{'pageSize':'2MB','limit':0}],"
	"  'network':{'classID':1},"
	"  'rdma':{'mlx5_1':{'hcaHandles':3}},"
	"  'unified':{'memory.high':'1G','io.weight':'100'}"
	" },"
	" 'rootfsPropagation':'rslave',"
	" 'maskedPaths':['/proc/kcore'],'readonlyPaths':['/proc/sys','/proc/bus'],"
	" 'sysctl':{'net.ipv4.ip_forward':'1','kernel.msgmax':'8192'},"
	" 'seccomp':{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':1,"
	"  'architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_X86'],"
	"  'flags':['SECCOMP_FILTER_FLAG_LOG'],'listenerPath':'',"
	"  'syscalls':[{'names':['read','write'],'action':'SCMP_ACT_ALLOW'},"
	"   {'names':['personality'],'action':'SCMP_ACT_ALLOW','args':["
	"    {'index':0,'value':8,'op':'SCMP_CMP_EQ'},"
	"    {'index':5,'value':18446744073709551615,'valueTwo':255,'op':'SCMP_CMP_MASKED_EQ'}]},"
	"   {'names':['ptrace'],'action':'SCMP_ACT_ERRNO','errnoRet':38},"
	"   {'names':['kill'],'action':'SCMP_ACT_KILL_THREAD'},"
	"   {'names':['exit'],'action':'SCMP_ACT_KILL_PROCESS'},"
	"   {'names':['a'],'action':'SCMP_ACT_TRAP'},"
	"   {'names':['b'],'action':'SCMP_ACT_TRACE','errnoRet':2},"
	"   {'names':['c'],'action':'SCMP_ACT_LOG'},"
	"   {'names':['d'],'action':'SCMP_ACT_KILL','args':["
	"    {'index':1,'value':1,'op':'SCMP_CMP_NE'},{'index':1,'value':1,'op':'SCMP_CMP_LT'},"
	"    {'index':1,'value':1,'op':'SCMP_CMP_LE'},{'index':1,'value':1,'op':'SCMP_CMP_GE'},"
	"    {'index':1,'value':1,'op':'SCMP_CMP_GT'}]}]},"
	" 'personality':{'domain':'LINUX32','flags':[]},"
	" 'timeOffsets':{'monotonic':{'secs':-100,'nanosecs':5},"
	"  'boottime':{'secs':9223372036854775807,'nanosecs':999999999}},"
	" 'mountLabel':'','intelRdt':null,'netDevices':{}"
	"},"
	"'windows':{'layerFolders':['C:\\\\x']},'solaris':{'milestone':'x'},"
	"'vm':{'kernel':{'path':'/k'}},'x-unknown':{'deep':[1,{'a':null}]}"
	"}";

static void test_full_process(const struct oci_process *p)
{
	TAP_OK(p != NULL, "process present");
	if (p == NULL)
		return;
	TAP_OK(p->terminal && p->has_console_size && p->console_height == 25 &&
		       p->console_width == 80,
	       "terminal and consoleSize");
	TAP_OK(p->user.uid == 1000 && p->user.gid == 1001 &&
		       p->user.has_umask && p->user.umask == 022,
	       "user uid/gid/umask");
	TAP_OK(p->user.n_additional_gids == 2 &&
		       p->user.additional_gids[0] == 5 &&
		       p->user.additional_gids[1] == 4294967294u,
	       "additionalGids");
	TAP_OK(rt_strv_len(p->args) == 3, "args count");
	TAP_STREQ(p->args[2], "echo hi", "args[2]");
	TAP_OK(rt_strv_len(p->env) == 2, "env count");
	TAP_STREQ(p->env[1], "EMPTY=", "env[1]");
	TAP_STREQ(p->cwd, "/home", "cwd");
	TAP_OK(p->has_caps, "has_caps");
	TAP_OK(p->caps.bounding == ((1ULL << CAP_SYS_ADMIN) | (1ULL << 40)),
	       "bounding set");
	TAP_OK(p->caps.effective == (1ULL << CAP_CHOWN), "effective set");
	TAP_OK(p->caps.inheritable == 0, "inheritable set empty");
	TAP_OK(p->caps.permitted == ((1ULL << CAP_CHOWN) | (1ULL << CAP_KILL)),
	       "permitted set");
	TAP_OK(p->caps.ambient == (1ULL << CAP_KILL), "ambient set");
	TAP_OK(p->n_rlimits == 2 && p->rlimits[0].resource == RLIMIT_NOFILE &&
		       p->rlimits[0].soft == 1024 && p->rlimits[0].hard == 4096,
	       "rlimit NOFILE");
	TAP_OK(p->rlimits[1].resource == RLIMIT_CORE &&
		       p->rlimits[1].soft == 0 &&
		       p->rlimits[1].hard == UINT64_MAX,
	       "rlimit CORE hard = UINT64_MAX");
	TAP_OK(p->no_new_privileges, "noNewPrivileges");
	TAP_OK(p->has_oom_score_adj && p->oom_score_adj == -500, "oomScoreAdj");
}

static void test_full_mounts(const struct oci_config *c)
{
	TAP_OK(c->n_mounts == 5, "5 mounts");
	if (c->n_mounts != 5)
		return;
	const struct oci_mount *m = c->mounts;
	TAP_OK(m[0].flags == 0 && m[0].clear_flags == 0 && !m[0].bind &&
		       m[0].data == NULL && m[0].options == NULL,
	       "proc mount has no options");
	TAP_STREQ(m[0].type, "proc", "mounts[0].type");
	TAP_STREQ(m[1].source, "/srv/data", "mounts[1].source");
	TAP_OK(m[1].bind && m[1].recursive, "rbind is a recursive bind");
	TAP_OK(m[1].flags == (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC),
	       "rbind flags: %#lx", m[1].flags);
	TAP_OK(m[1].propagation == (MS_SLAVE | MS_REC), "rslave propagation");
	TAP_OK(m[1].data == NULL, "no data for a bind mount");
	TAP_OK(m[2].flags == (MS_STRICTATIME | MS_NOSYMFOLLOW) &&
		       m[2].clear_flags == (MS_RDONLY | MS_NOSUID),
	       "tmpfs flags %#lx clear %#lx", m[2].flags, m[2].clear_flags);
	TAP_STREQ(m[2].data, "mode=1777,size=10m", "tmpfs data");
	TAP_OK(m[2].options && rt_strv_len(m[2].options) == 6,
	       "raw options kept");
	TAP_OK(m[3].type == NULL && m[3].bind && !m[3].recursive,
	       "untyped bind");
	TAP_OK(m[3].flags == 0 && m[3].clear_flags == MS_RDONLY,
	       "ro then rw: rw wins");
	TAP_OK(m[3].propagation == MS_PRIVATE, "private propagation");
	unsigned long set = MS_DIRSYNC | MS_REMOUNT | MS_NOATIME |
			    MS_NODIRATIME;
	unsigned long clear = MS_SYNCHRONOUS | MS_MANDLOCK | MS_RELATIME |
			      MS_STRICTATIME | MS_LAZYTIME | MS_SILENT |
			      MS_I_VERSION | MS_NODEV | MS_NOEXEC |
			      MS_NOSYMFOLLOW;
	TAP_OK(m[4].flags == set && m[4].clear_flags == clear,
	       "each flag and its opposite: flags %#lx clear %#lx",
	       m[4].flags, m[4].clear_flags);
	TAP_OK(m[4].propagation == (MS_PRIVATE | MS_REC),
	       "last propagation wins");
	TAP_STREQ(m[4].data, "errors=remount-ro", "ext4 data");
}

static void test_full_hooks(const struct oci_config *c)
{
	const struct oci_hook_list *h = c->hooks;
	TAP_OK(h[OCI_HOOK_PRESTART].n == 1, "one prestart hook");
	const struct oci_hook *pre = h[OCI_HOOK_PRESTART].hooks;
	TAP_STREQ(pre->path, "/usr/bin/pre", "prestart path");
	TAP_OK(rt_strv_len(pre->args) == 2 && rt_strv_len(pre->env) == 1 &&
		       pre->has_timeout && pre->timeout == 5,
	       "prestart args/env/timeout");
	TAP_STREQ(h[OCI_HOOK_CREATE_RUNTIME].hooks[0].path, "/cr",
		  "createRuntime");
	TAP_STREQ(h[OCI_HOOK_CREATE_CONTAINER].hooks[0].path, "/cc",
		  "createContainer");
	TAP_STREQ(h[OCI_HOOK_START_CONTAINER].hooks[0].path, "/sc",
		  "startContainer");
	TAP_STREQ(h[OCI_HOOK_POSTSTART].hooks[0].path, "/ps", "poststart");
	TAP_OK(h[OCI_HOOK_POSTSTOP].n == 2 &&
		       !h[OCI_HOOK_POSTSTOP].hooks[0].has_timeout &&
		       h[OCI_HOOK_POSTSTOP].hooks[0].args == NULL &&
		       h[OCI_HOOK_POSTSTOP].hooks[1].timeout == 30,
	       "poststop hooks");
}

static void test_full_linux(const struct oci_linux *l)
{
	static const int want_ns[] = {CLONE_NEWPID,  CLONE_NEWNET,
				      CLONE_NEWNS,   CLONE_NEWIPC,
				      CLONE_NEWUTS,  CLONE_NEWUSER,
				      CLONE_NEWCGROUP, CLONE_NEWTIME};
	bool ns_ok = l->n_namespaces == 8;
	for (size_t i = 0; ns_ok && i < 8; i++)
		ns_ok = l->namespaces[i].type == want_ns[i];
	TAP_OK(ns_ok, "namespace types in order");
	TAP_STREQ(l->namespaces[1].path, "/var/run/netns/x", "netns path");
	TAP_OK(l->namespaces[0].path == NULL && l->namespaces[3].path == NULL,
	       "absent and empty path mean a new namespace");
	TAP_OK(l->n_uid_mappings == 1 && l->uid_mappings[0].container_id == 0 &&
		       l->uid_mappings[0].host_id == 100000 &&
		       l->uid_mappings[0].size == 65536,
	       "uidMappings");
	TAP_OK(l->n_gid_mappings == 2 && l->gid_mappings[1].container_id == 65536 &&
		       l->gid_mappings[1].host_id == 5 &&
		       l->gid_mappings[1].size == 1,
	       "gidMappings");
	TAP_OK(l->n_devices == 2 && l->devices[0].type == 'c' &&
		       l->devices[0].major == 10 && l->devices[0].minor == 229 &&
		       l->devices[0].has_file_mode &&
		       l->devices[0].file_mode == 0666 && l->devices[0].has_uid &&
		       l->devices[0].uid == 0 && l->devices[0].has_gid &&
		       l->devices[0].gid == 5,
	       "char device");
	TAP_STREQ(l->devices[0].path, "/dev/fuse", "device path");
	TAP_OK(l->devices[1].type == 'p' && !l->devices[1].has_file_mode &&
		       !l->devices[1].has_uid,
	       "fifo without ids");
	TAP_STREQ(l->cgroups_path, "/ferry/box", "cgroupsPath");
	TAP_OK(l->rootfs_propagation == (MS_SLAVE | MS_REC), "rootfsPropagation");
	TAP_OK(rt_strv_len(l->masked_paths) == 1 &&
		       rt_strv_len(l->readonly_paths) == 2,
	       "masked and readonly paths");
	TAP_STREQ(l->readonly_paths[1], "/proc/bus", "readonlyPaths[1]");
	TAP_OK(l->n_sysctl == 2, "two sysctls");
	TAP_STREQ(l->sysctl_keys[0], "net.ipv4.ip_forward", "sysctl key");
	TAP_STREQ(l->sysctl_values[1], "8192", "sysctl value");
	TAP_OK(l->has_personality && l->personality == PER_LINUX32,
	       "personality LINUX32");
	TAP_OK(l->has_time_offsets && l->monotonic_secs == -100 &&
		       l->monotonic_nsecs == 5 &&
		       l->boottime_secs == INT64_MAX &&
		       l->boottime_nsecs == 999999999,
	       "timeOffsets");
	TAP_OK(l->mount_label == NULL, "empty mountLabel accepted");
}

static void test_full_resources(const struct oci_resources *r)
{
	TAP_OK(r != NULL, "resources present");
	if (r == NULL)
		return;
	TAP_OK(r->n_devices == 3 && !r->devices[0].allow &&
		       r->devices[0].type == 'a' && r->devices[0].major == -1 &&
		       r->devices[0].minor == -1,
	       "deny-all device rule");
	TAP_STREQ(r->devices[0].access, "rwm", "deny-all access");
	TAP_OK(r->devices[1].allow && r->devices[1].type == 'c' &&
		       r->devices[1].major == 10 && r->devices[1].minor == 229,
	       "char rule");
	TAP_STREQ(r->devices[1].access, "rwm", "access normalised");
	TAP_OK(r->devices[2].type == 'b' && r->devices[2].major == 8 &&
		       r->devices[2].minor == -1,
	       "absent minor is a wildcard");
	TAP_STREQ(r->devices[2].access, "r", "read-only rule");
	TAP_OK(r->has_memory_limit && r->memory_limit == 536870912 &&
		       r->has_memory_reservation &&
		       r->memory_reservation == 268435456 &&
		       r->has_memory_swap && r->memory_swap == -1,
	       "memory limits");
	TAP_OK(r->has_memory_swappiness && r->memory_swappiness == 60 &&
		       r->disable_oom_killer,
	       "swappiness and OOM killer");
	TAP_OK(r->has_cpu_shares && r->cpu_shares == 1024 && r->has_cpu_quota &&
		       r->cpu_quota == 50000 && r->has_cpu_period &&
		       r->cpu_period == 100000,
	       "cpu");
	TAP_STREQ(r->cpuset_cpus, "0-1", "cpuset cpus");
	TAP_STREQ(r->cpuset_mems, "0", "cpuset mems");
	TAP_OK(r->has_pids_limit && r->pids_limit == 100, "pids");
	TAP_OK(r->has_blkio_weight && r->blkio_weight == 500, "blkio weight");
	TAP_OK(r->n_unified == 2, "unified");
	TAP_STREQ(r->unified_keys[1], "io.weight", "unified key");
	TAP_STREQ(r->unified_values[0], "1G", "unified value");
	static const char *const want[] = {
		"linux.resources.cpu.realtimePeriod",
		"linux.resources.cpu.idle",
		"linux.resources.blockIO.throttleReadBpsDevice",
		"linux.resources.hugepageLimits",
		"linux.resources.network",
		"linux.resources.rdma",
	};
	TAP_OK(rt_strv_len(r->unsupported) == ARRAY_SIZE(want),
	       "%zu unsupported entries", rt_strv_len(r->unsupported));
	for (size_t i = 0; i < ARRAY_SIZE(want) && i < rt_strv_len(r->unsupported); i++)
		TAP_STREQ(r->unsupported[i], want[i], "unsupported[%zu]", i);
}

static void test_full_seccomp(const struct oci_seccomp *s)
{
	TAP_OK(s != NULL, "seccomp present");
	if (s == NULL)
		return;
	TAP_OK(s->default_action == OCI_SCMP_ERRNO &&
		       s->has_default_errno_ret && s->default_errno_ret == 1,
	       "default action");
	TAP_OK(rt_strv_len(s->architectures) == 2 && rt_strv_len(s->flags) == 1,
	       "architectures and flags");
	TAP_STREQ(s->architectures[1], "SCMP_ARCH_X86", "architecture");
	TAP_OK(s->n_rules == 9, "9 rules");
	if (s->n_rules != 9)
		return;
	const struct oci_seccomp_rule *r = s->rules;
	TAP_OK(rt_strv_len(r[0].names) == 2 && r[0].action == OCI_SCMP_ALLOW &&
		       !r[0].has_errno_ret && r[0].n_args == 0,
	       "allow rule");
	TAP_OK(r[1].n_args == 2 && r[1].args[0].index == 0 &&
		       r[1].args[0].value == 8 &&
		       r[1].args[0].op == OCI_SCMP_CMP_EQ,
	       "EQ argument");
	TAP_OK(r[1].args[1].index == 5 && r[1].args[1].value == UINT64_MAX &&
		       r[1].args[1].value_two == 255 &&
		       r[1].args[1].op == OCI_SCMP_CMP_MASKED_EQ,
	       "MASKED_EQ argument with full uint64 value");
	TAP_OK(r[2].action == OCI_SCMP_ERRNO && r[2].has_errno_ret &&
		       r[2].errno_ret == 38,
	       "errno rule");
	TAP_OK(r[3].action == OCI_SCMP_KILL &&
		       r[4].action == OCI_SCMP_KILL_PROCESS &&
		       r[5].action == OCI_SCMP_TRAP &&
		       r[6].action == OCI_SCMP_TRACE && r[6].errno_ret == 2 &&
		       r[7].action == OCI_SCMP_LOG && r[8].action == OCI_SCMP_KILL,
	       "every action");
	TAP_OK(r[8].n_args == 5 && r[8].args[0].op == OCI_SCMP_CMP_NE &&
		       r[8].args[1].op == OCI_SCMP_CMP_LT &&
		       r[8].args[2].op == OCI_SCMP_CMP_LE &&
		       r[8].args[3].op == OCI_SCMP_CMP_GE &&
		       r[8].args[4].op == OCI_SCMP_CMP_GT,
	       "every operator");
}

static void test_full(void)
{
	cleanup_config struct oci_config *c = parse_ok("full config", full_config);
	if (c == NULL)
		return;
	TAP_STREQ(c->oci_version, "1.2.0", "ociVersion");
	TAP_STREQ(c->root.path, "/srv/rootfs", "root.path");
	TAP_OK(c->root.readonly, "root.readonly");
	TAP_STREQ(c->hostname, "box", "hostname");
	TAP_STREQ(c->domainname, "example.org", "domainname");
	TAP_OK(c->n_annotations == 2, "annotations");
	TAP_STREQ(c->annotation_keys[0], "org.example.a", "annotation key");
	TAP_STREQ(c->annotation_values[1], "", "empty annotation value");
	test_full_process(c->process);
	test_full_mounts(c);
	test_full_hooks(c);
	test_full_linux(&c->linux_);
	test_full_resources(c->linux_.resources);
	test_full_seccomp(c->linux_.seccomp);
}

/* Exactly what `runc spec` writes (runc 1.x), byte for byte. */
static const char runc_spec[] =
	"{\n\t\"ociVersion\": \"1.0.2-dev\",\n\t\"process\": {\n"
	"\t\t\"terminal\": true,\n\t\t\"user\": {\n\t\t\t\"uid\": 0,\n"
	"\t\t\t\"gid\": 0\n\t\t},\n\t\t\"args\": [\n\t\t\t\"sh\"\n\t\t],\n"
	"\t\t\"env\": [\n"
	"\t\t\t\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
	"\t\t\t\"TERM=xterm\"\n\t\t],\n\t\t\"cwd\": \"/\",\n"
	"\t\t\"capabilities\": {\n\t\t\t\"bounding\": [\n"
	"\t\t\t\t\"CAP_AUDIT_WRITE\",\n\t\t\t\t\"CAP_KILL\",\n"
	"\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n\t\t\t],\n\t\t\t\"effective\": [\n"
	"\t\t\t\t\"CAP_AUDIT_WRITE\",\n\t\t\t\t\"CAP_KILL\",\n"
	"\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n\t\t\t],\n\t\t\t\"permitted\": [\n"
	"\t\t\t\t\"CAP_AUDIT_WRITE\",\n\t\t\t\t\"CAP_KILL\",\n"
	"\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n\t\t\t],\n\t\t\t\"ambient\": [\n"
	"\t\t\t\t\"CAP_AUDIT_WRITE\",\n\t\t\t\t\"CAP_KILL\",\n"
	"\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n\t\t\t]\n\t\t},\n"
	"\t\t\"rlimits\": [\n\t\t\t{\n\t\t\t\t\"type\": \"RLIMIT_NOFILE\",\n"
	"\t\t\t\t\"hard\": 1024,\n\t\t\t\t\"soft\": 1024\n\t\t\t}\n\t\t],\n"
	"\t\t\"noNewPrivileges\": true\n\t},\n\t\"root\": {\n"
	"\t\t\"path\": \"rootfs\",\n\t\t\"readonly\": true\n\t},\n"
	"\t\"hostname\": \"runc\",\n\t\"mounts\": [\n\t\t{\n"
	"\t\t\t\"destination\": \"/proc\",\n\t\t\t\"type\": \"proc\",\n"
	"\t\t\t\"source\": \"proc\"\n\t\t},\n\t\t{\n"
	"\t\t\t\"destination\": \"/dev\",\n\t\t\t\"type\": \"tmpfs\",\n"
	"\t\t\t\"source\": \"tmpfs\",\n\t\t\t\"options\": [\n"
	"\t\t\t\t\"nosuid\",\n\t\t\t\t\"strictatime\",\n"
	"\t\t\t\t\"mode=755\",\n\t\t\t\t\"size=65536k\"\n\t\t\t]\n\t\t},\n"
	"\t\t{\n\t\t\t\"destination\": \"/dev/pts\",\n"
	"\t\t\t\"type\": \"devpts\",\n\t\t\t\"source\": \"devpts\",\n"
	"\t\t\t\"options\": [\n\t\t\t\t\"nosuid\",\n\t\t\t\t\"noexec\",\n"
	"\t\t\t\t\"newinstance\",\n\t\t\t\t\"ptmxmode=0666\",\n"
	"\t\t\t\t\"mode=0620\",\n\t\t\t\t\"gid=5\"\n\t\t\t]\n\t\t},\n\t\t{\n"
	"\t\t\t\"destination\": \"/dev/shm\",\n\t\t\t\"type\": \"tmpfs\",\n"
	"\t\t\t\"source\": \"shm\",\n\t\t\t\"options\": [\n"
	"\t\t\t\t\"nosuid\",\n\t\t\t\t\"noexec\",\n\t\t\t\t\"nodev\",\n"
	"\t\t\t\t\"mode=1777\",\n\t\t\t\t\"size=65536k\"\n\t\t\t]\n\t\t},\n"
	"\t\t{\n\t\t\t\"destination\": \"/dev/mqueue\",\n"
	"\t\t\t\"type\": \"mqueue\",\n\t\t\t\"source\": \"mqueue\",\n"
	"\t\t\t\"options\": [\n\t\t\t\t\"nosuid\",\n\t\t\t\t\"noexec\",\n"
	"\t\t\t\t\"nodev\"\n\t\t\t]\n\t\t},\n\t\t{\n"
	"\t\t\t\"destination\": \"/sys\",\n\t\t\t\"type\": \"sysfs\",\n"
	"\t\t\t\"source\": \"sysfs\",\n\t\t\t\"options\": [\n"
	"\t\t\t\t\"nosuid\",\n\t\t\t\t\"noexec\",\n\t\t\t\t\"nodev\",\n"
	"\t\t\t\t\"ro\"\n\t\t\t]\n\t\t},\n\t\t{\n"
	"\t\t\t\"destination\": \"/sys/fs/cgroup\",\n"
	"\t\t\t\"type\": \"cgroup\",\n\t\t\t\"source\": \"cgroup\",\n"
	"\t\t\t\"options\": [\n\t\t\t\t\"nosuid\",\n\t\t\t\t\"noexec\",\n"
	"\t\t\t\t\"nodev\",\n\t\t\t\t\"relatime\",\n\t\t\t\t\"ro\"\n\t\t\t]\n"
	"\t\t}\n\t],\n\t\"linux\": {\n\t\t\"resources\": {\n"
	"\t\t\t\"devices\": [\n\t\t\t\t{\n\t\t\t\t\t\"allow\": false,\n"
	"\t\t\t\t\t\"access\": \"rwm\"\n\t\t\t\t}\n\t\t\t]\n\t\t},\n"
	"\t\t\"namespaces\": [\n\t\t\t{\n\t\t\t\t\"type\": \"pid\"\n"
	"\t\t\t},\n\t\t\t{\n\t\t\t\t\"type\": \"network\"\n\t\t\t},\n"
	"\t\t\t{\n\t\t\t\t\"type\": \"ipc\"\n\t\t\t},\n\t\t\t{\n"
	"\t\t\t\t\"type\": \"uts\"\n\t\t\t},\n\t\t\t{\n"
	"\t\t\t\t\"type\": \"mount\"\n\t\t\t}\n\t\t],\n"
	"\t\t\"maskedPaths\": [\n\t\t\t\"/proc/acpi\",\n"
	"\t\t\t\"/proc/asound\",\n\t\t\t\"/proc/kcore\",\n"
	"\t\t\t\"/proc/keys\",\n\t\t\t\"/proc/latency_stats\",\n"
	"\t\t\t\"/proc/timer_list\",\n\t\t\t\"/proc/timer_stats\",\n"
	"\t\t\t\"/proc/sched_debug\",\n\t\t\t\"/sys/firmware\",\n"
	"\t\t\t\"/proc/scsi\"\n\t\t],\n\t\t\"readonlyPaths\": [\n"
	"\t\t\t\"/proc/bus\",\n\t\t\t\"/proc/fs\",\n\t\t\t\"/proc/irq\",\n"
	"\t\t\t\"/proc/sys\",\n\t\t\t\"/proc/sysrq-trigger\"\n\t\t]\n\t}\n}"
	;

static void test_runc_spec(void)
{
	struct oci_config *c = NULL;
	cleanup_err struct rt_err *err = NULL;
	int r = oci_config_parse(runc_spec, strlen(runc_spec), &c, &err);
	TAP_OK(r == 0, "`runc spec` default config parses");
	if (r < 0) {
		printf("#   error: %s\n", err->msg);
		return;
	}
	const struct oci_process *p = c->process;
	TAP_STREQ(c->oci_version, "1.0.2-dev", "runc: ociVersion");
	TAP_OK(p->terminal && p->user.uid == 0 && p->user.gid == 0 &&
		       !p->user.has_umask && p->no_new_privileges,
	       "runc: process basics");
	uint64_t caps = (1ULL << CAP_AUDIT_WRITE) | (1ULL << CAP_KILL) |
			(1ULL << CAP_NET_BIND_SERVICE);
	TAP_OK(p->has_caps && p->caps.bounding == caps &&
		       p->caps.effective == caps && p->caps.permitted == caps &&
		       p->caps.ambient == caps && p->caps.inheritable == 0,
	       "runc: capability sets");
	TAP_OK(p->n_rlimits == 1 && p->rlimits[0].resource == RLIMIT_NOFILE &&
		       p->rlimits[0].soft == 1024 && p->rlimits[0].hard == 1024,
	       "runc: rlimits");
	TAP_STREQ(c->root.path, "rootfs", "runc: root.path");
	TAP_OK(c->root.readonly, "runc: root readonly");
	TAP_STREQ(c->hostname, "runc", "runc: hostname");
	TAP_OK(c->n_mounts == 7, "runc: 7 mounts");
	if (c->n_mounts == 7) {
		const struct oci_mount *m = c->mounts;
		TAP_OK(m[1].flags == (MS_NOSUID | MS_STRICTATIME),
		       "runc: /dev flags");
		TAP_STREQ(m[1].data, "mode=755,size=65536k", "runc: /dev data");
		TAP_OK(m[2].flags == (MS_NOSUID | MS_NOEXEC), "runc: /dev/pts flags");
		TAP_STREQ(m[2].data, "newinstance,ptmxmode=0666,mode=0620,gid=5",
			  "runc: /dev/pts data");
		TAP_OK(m[5].flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY) &&
			       m[5].data == NULL,
		       "runc: /sys flags");
		TAP_OK(m[6].flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV |
				      MS_RELATIME | MS_RDONLY),
		       "runc: /sys/fs/cgroup flags");
	}
	const struct oci_linux *l = &c->linux_;
	TAP_OK(l->resources && l->resources->n_devices == 1 &&
		       !l->resources->devices[0].allow &&
		       l->resources->devices[0].type == 'a' &&
		       l->resources->devices[0].major == -1 &&
		       l->resources->devices[0].minor == -1 &&
		       strcmp(l->resources->devices[0].access, "rwm") == 0 &&
		       l->resources->unsupported == NULL,
	       "runc: deny-all device rule");
	TAP_OK(l->n_namespaces == 5 && l->namespaces[1].type == CLONE_NEWNET &&
		       l->namespaces[4].type == CLONE_NEWNS,
	       "runc: namespaces");
	TAP_OK(rt_strv_len(l->masked_paths) == 10 &&
		       rt_strv_len(l->readonly_paths) == 5,
	       "runc: masked and readonly paths");
	TAP_OK(l->seccomp == NULL && l->rootfs_propagation == 0 &&
		       !l->has_personality && l->cgroups_path == NULL,
	       "runc: absent linux fields");
	oci_config_free(c);
}

static const struct {
	const char *json; /* ' for " */
	const char *want;
	bool prefix;
} errors[] = {
	/* JSON itself */
	{"{", "invalid JSON: parse error: premature EOF", true},
	{"", "invalid JSON: parse error: premature EOF", true},
	{"{'a':1,}", "invalid JSON: parse error: invalid object key (must be a string)", true},
	{"{'a' 1}", "invalid JSON: parse error: object key and value must be separated by a colon", true},
	{"{} x", "invalid JSON: parse error: trailing garbage (near '{} x')", false},
	{"{'a':'\xff'}", "invalid JSON: lexical error: invalid bytes in UTF8 string", true},
	{"{'ociVersion':'1\\u0000x'}", "invalid JSON: \\u0000 in a string at offset 16", false},
	{"/* hi */ {}", "invalid JSON: comments are not allowed (offset 0)", false},
	{"[]", "the JSON document must be an object", false},
	{"'x'", "the JSON document must be an object", false},
	/* top level */
	{"{'root':{'path':'r'}}", "ociVersion: is required", false},
	{"{'ociVersion':1}", "ociVersion: must be a string", false},
	{"{'ociVersion':'1'}", "root: is required", false},
	{"{'ociVersion':'1','root':null}", "root: is required", false},
	{"{'ociVersion':'1','root':'r'}", "root: must be an object", false},
	{"{'ociVersion':'1','root':{'path':5}}", "root.path: must be a string", false},
	{"{'ociVersion':'1','root':{'path':''}}", "root.path: must not be empty", false},
	{"{'ociVersion':'1','root':{'path':'r','readonly':'true'}}", "root.readonly: must be a boolean", false},
	{WITH_TOP("'hostname':5"), "hostname: must be a string", false},
	{BASE_HEAD PROC ",'hostname':'h'}", "hostname: setting the hostname needs a \"uts\" namespace in linux.namespaces", false},
	{BASE_HEAD PROC ",'domainname':'d','linux':{}}", "domainname: setting the domainname needs a \"uts\" namespace in linux.namespaces", false},
	/* process */
	{WITH_PROCESS("'x'"), "process: must be an object", false},
	{WITH_PROCESS("{'cwd':'/'}"), "process.args: must be a non-empty array of strings", false},
	{WITH_PROCESS("{'args':[],'cwd':'/'}"), "process.args: must be a non-empty array of strings", false},
	{WITH_PROCESS("{'args':'sh','cwd':'/'}"), "process.args: must be a non-empty array of strings", false},
	{WITH_PROCESS("{'args':['sh',1],'cwd':'/'}"), "process.args[1]: must be a string", false},
	{WITH_PROCESS("{'args':['sh']}"), "process.cwd: is required", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'tmp'}"), "process.cwd: must be an absolute path, not \"tmp\"", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','env':['A=1','FOO']}"), "process.env[1]: must be \"NAME=value\", not \"FOO\"", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','env':['=x']}"), "process.env[0]: must be \"NAME=value\", not \"=x\"", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','env':'A=1'}"), "process.env: must be an array of strings", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','terminal':'yes'}"), "process.terminal: must be a boolean", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','user':'root'}"), "process.user: must be an object", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','user':{'uid':-1}}"), "process.user.uid: -1 is out of range (0..4294967294)", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','user':{'uid':1.5}}"), "process.user.uid: must be an integer, not 1.5", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','user':{'uid':1e3}}"), "process.user.uid: must be an integer, not 1e3", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','user':{'uid':'0'}}"), "process.user.uid: must be an integer", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','user':{'gid':true}}"), "process.user.gid: must be an integer", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','user':{'additionalGids':[1,4294967295]}}"), "process.user.additionalGids[1]: 4294967295 is out of range (0..4294967294)", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','user':{'umask':512}}"), "process.user.umask: 512 is out of range (0..511)", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','oomScoreAdj':1001}"), "process.oomScoreAdj: 1001 is out of range (-1000..1000)", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','oomScoreAdj':-99999999999999999999}"), "process.oomScoreAdj: -99999999999999999999 is out of range (-1000..1000)", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','consoleSize':{'height':70000,'width':1}}"), "process.consoleSize.height: 70000 is out of range (0..65535)", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','consoleSize':{'height':7}}"), "process.consoleSize.width: is required", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','rlimits':[{'type':'RLIMIT_FOO','soft':1,'hard':1}]}"), "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','rlimits':[{'type':'RLIMIT_NOFILE','soft':1,'hard':1},{'type':'RLIMIT_NOFILE','soft':2,'hard':2}]}"), "process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\" (also in [0])", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','rlimits':[{'type':'RLIMIT_NOFILE','soft':2048,'hard':1024}]}"), "process.rlimits[0].soft: 2048 is above the hard limit 1024", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','rlimits':[{'type':'RLIMIT_NOFILE','soft':1}]}"), "process.rlimits[0].hard: is required", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','rlimits':[{'type':'RLIMIT_AS','soft':1,'hard':18446744073709551616}]}"), "process.rlimits[0].hard: 18446744073709551616 is out of range (0..18446744073709551615)", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','rlimits':{}}"), "process.rlimits: must be an array", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','capabilities':{'effective':'CAP_KILL'}}"), "process.capabilities.effective: must be an array", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','capabilities':{'permitted':[21]}}"), "process.capabilities.permitted[0]: must be a string", false},
	/* refused process settings */
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','apparmorProfile':'docker-default'}"), "process.apparmorProfile: AppArmor profiles are not supported by ferry", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','selinuxLabel':'system_u:system_r:container_t:s0'}"), "process.selinuxLabel: SELinux labels are not supported by ferry", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','ioPriority':{'class':'IOPRIO_CLASS_RT','priority':1}}"), "process.ioPriority: I/O priorities are not supported by ferry", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','scheduler':{'policy':'SCHED_FIFO','priority':1}}"), "process.scheduler: scheduler settings are not supported by ferry", false},
	{WITH_PROCESS("{'args':['sh'],'cwd':'/','execCPUAffinity':{'initial':'0'}}"), "process.execCPUAffinity: exec CPU affinities are not supported by ferry", false},
	/* mounts */
	{WITH_TOP("'mounts':{}"), "mounts: must be an array", false},
	{WITH_TOP("'mounts':[{'destination':'/a'},{'destination':'/b'},{'destination':'/c'},{'destination':'proc'}]"), "mounts[3].destination: must be an absolute path, not \"proc\"", false},
	{WITH_TOP("'mounts':[{'type':'tmpfs'}]"), "mounts[0].destination: is required", false},
	{WITH_TOP("'mounts':[{'destination':'/a','type':1}]"), "mounts[0].type: must be a string", false},
	{WITH_TOP("'mounts':[{'destination':'/a','options':['bind','idmap']}]"), "mounts[0].options[1]: id-mapped mounts (\"idmap\") are not supported by ferry", false},
	{WITH_TOP("'mounts':[{'destination':'/a','options':['ridmap']}]"), "mounts[0].options[0]: id-mapped mounts (\"ridmap\") are not supported by ferry", false},
	{WITH_TOP("'mounts':[{'destination':'/a','uidMappings':[{'containerID':0,'hostID':1,'size':1}]}]"), "mounts[0].uidMappings: id-mapped mounts are not supported by ferry", false},
	{WITH_TOP("'mounts':[{'destination':'/a','gidMappings':[{'containerID':0,'hostID':1,'size':1}]}]"), "mounts[0].gidMappings: id-mapped mounts are not supported by ferry", false},
	{WITH_TOP("'mounts':[{'destination':'/a','options':['rbind','rro']}]"), "mounts[0].options[1]: recursive mount attribute \"rro\" is not supported by ferry", false},
	{WITH_TOP("'mounts':[{'destination':'/a','options':['tmpcopyup']}]"), "mounts[0].options[0]: \"tmpcopyup\" is not supported by ferry", false},
	{WITH_TOP("'mounts':[{'destination':'/a','options':[1]}]"), "mounts[0].options[0]: must be a string", false},
	{WITH_TOP("'mounts':[{'destination':'/a','options':['']}]"), "mounts[0].options[0]: must not be empty", false},
	/* hooks */
	{WITH_TOP("'hooks':[]"), "hooks: must be an object", false},
	{WITH_TOP("'hooks':{'prestart':[{'path':'hook'}]}"), "hooks.prestart[0].path: must be an absolute path, not \"hook\"", false},
	{WITH_TOP("'hooks':{'poststop':[{'path':'/a'},{'path':'/b','timeout':0}]}"), "hooks.poststop[1].timeout: 0 is out of range (1..2147483647)", false},
	{WITH_TOP("'hooks':{'createRuntime':{}}"), "hooks.createRuntime: must be an array", false},
	{WITH_TOP("'hooks':{'startContainer':[{'args':['x']}]}"), "hooks.startContainer[0].path: is required", false},
	{WITH_TOP("'hooks':{'poststart':[{'path':'/a','env':['X']}]}"), "hooks.poststart[0].env[0]: must be \"NAME=value\", not \"X\"", false},
	{WITH_TOP("'hooks':{'createContainer':[{'path':'/a','args':'x'}]}"), "hooks.createContainer[0].args: must be an array of strings", false},
	/* annotations */
	{WITH_TOP("'annotations':{'a.b':5}"), "annotations[\"a.b\"]: must be a string", false},
	{WITH_TOP("'annotations':{'':'x'}"), "annotations: keys must not be empty", false},
	{WITH_TOP("'annotations':['x']"), "annotations: must be an object of strings", false},
	/* linux */
	{BASE_HEAD PROC ",'linux':[]}", "linux: must be an object", false},
	{WITH_LINUX("'namespaces':[{'type':'pid'},{'type':'mount'},{'type':'foo'}]"), "linux.namespaces[2].type: unknown namespace \"foo\"", false},
	{WITH_LINUX("'namespaces':[{'type':'pid'},{'type':'mount'},{'type':'uts'},{'type':'pid'}]"), "linux.namespaces[3].type: duplicate namespace \"pid\" (also in [0])", false},
	{WITH_LINUX("'namespaces':[{'type':'pid','path':'ns/pid'}]"), "linux.namespaces[0].path: must be an absolute path, not \"ns/pid\"", false},
	{WITH_LINUX("'namespaces':[{'type':'pid','path':7}]"), "linux.namespaces[0].path: must be a string", false},
	{WITH_LINUX("'namespaces':[{'path':'/x'}]"), "linux.namespaces[0].type: is required", false},
	{WITH_LINUX("'namespaces':{}"), "linux.namespaces: must be an array", false},
	{WITH_LINUX(NS3 ",'uidMappings':[{'containerID':0,'hostID':1000,'size':1}]"), "linux.uidMappings: id mappings need a \"user\" namespace in linux.namespaces", false},
	{WITH_LINUX("'namespaces':[{'type':'pid'},{'type':'mount'},{'type':'uts'},{'type':'user'}]"), "linux.namespaces[3]: a new user namespace needs linux.uidMappings and linux.gidMappings", false},
	{WITH_LINUX("'namespaces':[{'type':'user'},{'type':'uts'}],'gidMappings':[{'containerID':0,'hostID':1,'size':1}],'uidMappings':[{'containerID':0,'hostID':1,'size':0}]"), "linux.uidMappings[0].size: must not be 0", false},
	{WITH_LINUX("'namespaces':[{'type':'user'},{'type':'uts'}],'uidMappings':[{'containerID':0,'hostID':-1,'size':1}]"), "linux.uidMappings[0].hostID: -1 is out of range (0..4294967295)", false},
	{WITH_LINUX("'namespaces':[{'type':'user'},{'type':'uts'}],'gidMappings':[{'containerID':4294967295,'hostID':0,'size':2}]"), "linux.gidMappings[0].size: the range goes past id 4294967295", false},
	{WITH_LINUX(NS3 ",'gidMappings':[{'hostID':0,'size':2}]"), "linux.gidMappings[0].containerID: is required", false},
	{WITH_LINUX(NS3 ",'devices':[{'type':'x','path':'/dev/x'}]"), "linux.devices[0].type: unknown device type \"x\" (expected c, b, u or p)", false},
	{WITH_LINUX(NS3 ",'devices':[{'type':'c','path':'/dev/x','minor':1}]"), "linux.devices[0].major: is required", false},
	{WITH_LINUX(NS3 ",'devices':[{'type':'b','path':'dev/null','major':1,'minor':3}]"), "linux.devices[0].path: must be an absolute path, not \"dev/null\"", false},
	{WITH_LINUX(NS3 ",'devices':[{'type':'c','path':'/dev/null','major':1,'minor':3,'fileMode':4096}]"), "linux.devices[0].fileMode: 4096 is out of range (0..4095)", false},
	{WITH_LINUX(NS3 ",'devices':[{'type':'c','path':'/dev/null','major':-1,'minor':3}]"), "linux.devices[0].major: -1 is out of range (0..4294967295)", false},
	{WITH_LINUX(NS3 ",'rootfsPropagation':'bogus'"), "linux.rootfsPropagation: unknown propagation \"bogus\"", false},
	{WITH_LINUX(NS3 ",'maskedPaths':['/proc/acpi','proc/kcore']"), "linux.maskedPaths[1]: must be an absolute path, not \"proc/kcore\"", false},
	{WITH_LINUX(NS3 ",'readonlyPaths':'/proc'"), "linux.readonlyPaths: must be an array of strings", false},
	{WITH_LINUX(NS3 ",'sysctl':{'net.ipv4.ip_forward':1}"), "linux.sysctl[\"net.ipv4.ip_forward\"]: must be a string", false},
	{WITH_LINUX(NS3 ",'cgroupsPath':['x']"), "linux.cgroupsPath: must be a string", false},
	{WITH_LINUX(NS3 ",'personality':{'domain':'LINUX64'}"), "linux.personality.domain: unknown personality domain \"LINUX64\" (expected LINUX or LINUX32)", false},
	{WITH_LINUX(NS3 ",'personality':{'domain':'LINUX','flags':['x']}"), "linux.personality.flags: personality flags are not supported by ferry", false},
	{WITH_LINUX(NS3 ",'personality':{}"), "linux.personality.domain: is required", false},
	{WITH_LINUX(NS3 ",'timeOffsets':{'monotonic':{'secs':1}}"), "linux.timeOffsets: time offsets need a new \"time\" namespace in linux.namespaces", false},
	{WITH_LINUX("'namespaces':[{'type':'uts'},{'type':'time','path':'/proc/1/ns/time'}],'timeOffsets':{'boottime':{'secs':1}}"), "linux.timeOffsets: time offsets need a new \"time\" namespace in linux.namespaces", false},
	{WITH_LINUX("'namespaces':[{'type':'uts'},{'type':'time'}],'timeOffsets':{'monotonic':{'nanosecs':1000000000}}"), "linux.timeOffsets.monotonic.nanosecs: 1000000000 is out of range (0..999999999)", false},
	{WITH_LINUX("'namespaces':[{'type':'uts'},{'type':'time'}],'timeOffsets':{'realtime':{'secs':1}}"), "linux.timeOffsets[\"realtime\"]: unknown clock (expected \"monotonic\" or \"boottime\")", false},
	{WITH_LINUX(NS3 ",'mountLabel':'system_u:object_r:container_file_t:s0'"), "linux.mountLabel: SELinux mount labels are not supported by ferry", false},
	{WITH_LINUX(NS3 ",'intelRdt':{'closID':'x'}"), "linux.intelRdt: Intel RDT settings are not supported by ferry", false},
	{WITH_LINUX(NS3 ",'memoryPolicy':{'mode':'MPOL_BIND','nodes':'0'}"), "linux.memoryPolicy: NUMA memory policies are not supported by ferry", false},
	{WITH_LINUX(NS3 ",'netDevices':{'eth0':{}}"), "linux.netDevices: network device moves are not supported by ferry", false},
	/* linux.resources */
	{WITH_RES("5"), "linux.resources: must be an object", false},
	{WITH_RES("{'devices':[{'access':'rwm'}]}"), "linux.resources.devices[0].allow: is required", false},
	{WITH_RES("{'devices':[{'allow':true,'access':'rwx'}]}"), "linux.resources.devices[0].access: \"rwx\" is not a subset of \"rwm\"", false},
	{WITH_RES("{'devices':[{'allow':true,'access':''}]}"), "linux.resources.devices[0].access: must be a non-empty subset of \"rwm\"", false},
	{WITH_RES("{'devices':[{'allow':true,'type':'u'}]}"), "linux.resources.devices[0].type: unknown device type \"u\" (expected a, c or b)", false},
	{WITH_RES("{'devices':[{'allow':true,'major':-2}]}"), "linux.resources.devices[0].major: -2 is out of range (-1..4294967295)", false},
	{WITH_RES("{'memory':{'swappiness':101}}"), "linux.resources.memory.swappiness: 101 is out of range (0..100)", false},
	{WITH_RES("{'memory':{'limit':-2}}"), "linux.resources.memory.limit: -2 is out of range (-1..9223372036854775807)", false},
	{WITH_RES("{'memory':{'disableOOMKiller':1}}"), "linux.resources.memory.disableOOMKiller: must be a boolean", false},
	{WITH_RES("{'cpu':{'quota':'x'}}"), "linux.resources.cpu.quota: must be an integer", false},
	{WITH_RES("{'cpu':{'shares':-1}}"), "linux.resources.cpu.shares: -1 is out of range (0..18446744073709551615)", false},
	{WITH_RES("{'cpu':{'realtimeRuntime':'x'}}"), "linux.resources.cpu.realtimeRuntime: must be an integer", false},
	{WITH_RES("{'cpu':{'cpus':0}}"), "linux.resources.cpu.cpus: must be a string", false},
	{WITH_RES("{'blockIO':{'weight':5}}"), "linux.resources.blockIO.weight: 5 is out of range (10..1000)", false},
	{WITH_RES("{'blockIO':{'weight':1001}}"), "linux.resources.blockIO.weight: 1001 is out of range (10..1000)", false},
	{WITH_RES("{'pids':{'limit':'x'}}"), "linux.resources.pids.limit: must be an integer", false},
	{WITH_RES("{'pids':5}"), "linux.resources.pids: must be an object", false},
	{WITH_RES("{'unified':{'memory.max':1}}"), "linux.resources.unified[\"memory.max\"]: must be a string", false},
	/* linux.seccomp */
	{WITH_SECCOMP("{}"), "linux.seccomp.defaultAction: is required", false},
	{WITH_SECCOMP("{'defaultAction':'SCMP_ACT_FOO'}"), "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_FOO\"", false},
	{WITH_SECCOMP("{'defaultAction':'SCMP_ACT_NOTIFY'}"), "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY is not supported by ferry (no seccomp notify listener)", false},
	{WITH_SECCOMP("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['mount'],'action':'SCMP_ACT_NOTIFY'}]}"), "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY is not supported by ferry (no seccomp notify listener)", false},
	{WITH_SECCOMP("{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'/run/agent.sock'}"), "linux.seccomp.listenerPath: seccomp notify listeners are not supported by ferry", false},
	{WITH_SECCOMP("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['kill'],'action':'SCMP_ACT_ERRNO','args':[{'index':0,'value':1,'op':'SCMP_CMP_FOO'}]}]}"), "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_FOO\"", false},
	{WITH_SECCOMP("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['kill'],'action':'SCMP_ACT_ERRNO','args':[{'index':6,'value':1,'op':'SCMP_CMP_EQ'}]}]}"), "linux.seccomp.syscalls[0].args[0].index: 6 is out of range (0..5)", false},
	{WITH_SECCOMP("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['kill'],'action':'SCMP_ACT_ERRNO','args':[{'index':1,'op':'SCMP_CMP_EQ'}]}]}"), "linux.seccomp.syscalls[0].args[0].value: is required", false},
	{WITH_SECCOMP("{'defaultAction':'SCMP_ACT_ALLOW','architectures':['SCMP_ARCH_VAX']}"), "linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_VAX\"", false},
	{WITH_SECCOMP("{'defaultAction':'SCMP_ACT_ALLOW','flags':['SECCOMP_FILTER_FLAG_FOO']}"), "linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_FOO\"", false},
	{WITH_SECCOMP("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['kill'],'action':'SCMP_ACT_ALLOW','errnoRet':1}]}"), "linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno return", false},
	{WITH_SECCOMP("{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':65536}"), "linux.seccomp.defaultErrnoRet: 65536 is out of range (0..65535)", false},
	{WITH_SECCOMP("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':[],'action':'SCMP_ACT_ALLOW'}]}"), "linux.seccomp.syscalls[0].names: must be a non-empty array of strings", false},
	{WITH_SECCOMP("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':[''],'action':'SCMP_ACT_ALLOW'}]}"), "linux.seccomp.syscalls[0].names[0]: must not be empty", false},
	{WITH_SECCOMP("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['x']}]}"), "linux.seccomp.syscalls[0].action: is required", false},
};

static void test_errors(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(errors); i++)
		check_err(errors[i].json, errors[i].want, errors[i].prefix);
}

static void test_json_edges(void)
{
	cleanup_err struct rt_err *err = NULL;
	struct oci_config *c = NULL;
	static const char nul[] = "{\"ociVersion\":\"1\"}\0garbage";
	int r = oci_config_parse(nul, sizeof(nul) - 1, &c, &err);
	TAP_OK(r < 0 && err &&
		       strcmp(err->msg, "invalid JSON: NUL byte at offset 18") == 0,
	       "a NUL byte inside the given length is refused");

	size_t depth = 1000;
	cleanup_free char *deep = xmalloc(2 * depth + 1);
	memset(deep, '[', depth);
	memset(deep + depth, ']', depth);
	deep[2 * depth] = '\0';
	rt_err_free(err);
	err = NULL;
	r = oci_config_parse(deep, 2 * depth, &c, &err);
	TAP_OK(r < 0 && err &&
		       strcmp(err->msg, "invalid JSON: nested deeper than 128 levels") == 0,
	       "deep nesting is refused before yajl builds a tree");

	/* "\\u0000" is a backslash followed by text, not a NUL. */
	cleanup_config struct oci_config *ok = parse_ok(
		"escaped backslash before u0000",
		WITH_TOP("'annotations':{'k':'a\\\\u0000'}"));
	if (ok)
		TAP_STREQ(ok->annotation_values[0], "a\\u0000",
			  "escaped backslash kept");
}

static void test_lenient(void)
{
	/* Unknown members at every level, JSON null as absent, Go's
	 * last-one-wins for repeated keys. */
	cleanup_config struct oci_config *c = parse_ok(
		"unknown fields, nulls and repeated keys",
		"{'ociVersion':'1','future':{'x':[1,2]},'root':{'path':'r','zz':1},"
		"'hostname':'a','hostname':'b','domainname':null,"
		"'process':{'args':['sh'],'cwd':'/','newThing':true,'user':{'uid':1,'username':'x'},"
		"  'capabilities':{'bounding':null},'oomScoreAdj':null},"
		"'mounts':[{'destination':'/a','extra':{}}],"
		"'hooks':{'prestart':null,'preStartV2':[{'path':'rel'}]},"
		"'annotations':{'k':'1','k':'2','j':'3'},"
		"'linux':{'namespaces':[{'type':'uts','z':1}],'newLinux':{},"
		"  'resources':{'memory':{'kernel':5,'kernelTCP':-7,'useHierarchy':1},'newRes':1},"
		"  'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','listenerMetadata':'m','syscalls':[{'names':['a'],'action':'SCMP_ACT_LOG','comment':'x'}]}},"
		"'windows':{'layerFolders':5},'solaris':[],'vm':'x','zos':{}}");
	if (c == NULL)
		return;
	TAP_STREQ(c->hostname, "b", "last repeated key wins");
	TAP_OK(c->domainname == NULL, "null is absent");
	cleanup_config struct oci_config *e = parse_ok(
		"empty hostname without a uts namespace",
		BASE_HEAD PROC ",'hostname':'','domainname':''}");
	TAP_OK(e && e->hostname == NULL && e->domainname == NULL,
	       "empty names are absent");
	TAP_OK(c->process->has_caps && c->process->caps.bounding == 0 &&
		       !c->process->has_oom_score_adj,
	       "null members inside process are absent");
	TAP_OK(c->hooks[OCI_HOOK_PRESTART].n == 0, "null hook list");
	TAP_OK(c->n_annotations == 2, "repeated map key kept once");
	TAP_STREQ(c->annotation_keys[0], "k", "map keeps first position");
	TAP_STREQ(c->annotation_values[0], "2", "map keeps last value");
	TAP_OK(c->linux_.resources && !c->linux_.resources->has_memory_limit &&
		       c->linux_.resources->unsupported == NULL,
	       "deprecated memory fields ignored");
}

static void test_lone_process(void)
{
	cleanup_free char *ok = dq("{'args':['ls','-l'],'cwd':'/tmp','env':['A=b'],"
				   "'user':{'uid':7,'gid':8},'terminal':true,"
				   "'capabilities':{'bounding':['CAP_KILL']}}");
	struct oci_process *p = NULL;
	cleanup_err struct rt_err *err = NULL;
	int rc = oci_process_parse(ok, strlen(ok), &p, &err);
	TAP_OK(rc == 0, "lone process parses");
	if (p) {
		TAP_OK(p->user.uid == 7 && p->user.gid == 8 && p->terminal &&
			       rt_strv_len(p->args) == 2 &&
			       p->caps.bounding == (1ULL << CAP_KILL),
		       "lone process fields");
		TAP_STREQ(p->cwd, "/tmp", "lone process cwd");
		oci_process_free(p);
	}
	static const struct {
		const char *json, *want;
	} bad[] = {
		{"{'cwd':'/'}", "args: must be a non-empty array of strings"},
		{"{'args':['ls']}", "cwd: is required"},
		{"{'args':['ls'],'cwd':'/','user':{'uid':-5}}",
		 "user.uid: -5 is out of range (0..4294967294)"},
		{"{'args':['ls'],'cwd':'/','apparmorProfile':'x'}",
		 "apparmorProfile: AppArmor profiles are not supported by ferry"},
		{"['ls']", "the JSON document must be an object"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cleanup_free char *j = dq(bad[i].json);
		cleanup_err struct rt_err *e = NULL;
		struct oci_process *q = NULL;
		int r = oci_process_parse(j, strlen(j), &q, &e);
		TAP_OK(r < 0 && q == NULL, "lone process refused: %s", bad[i].want);
		TAP_STREQ(e ? e->msg : NULL, bad[i].want, "lone process message");
	}
}

static void test_lone_resources(void)
{
	cleanup_free char *ok = dq("{'memory':{'limit':100},'rdma':{'x':{}},"
				   "'blockIO':{'leafWeight':10,'weight':0}}");
	struct oci_resources *r = NULL;
	cleanup_err struct rt_err *err = NULL;
	int rc = oci_resources_parse(ok, strlen(ok), &r, &err);
	TAP_OK(rc == 0, "lone resources parse");
	if (r) {
		TAP_OK(r->has_memory_limit && r->memory_limit == 100 &&
			       !r->has_blkio_weight,
		       "lone resources fields (weight 0 is unset)");
		TAP_OK(rt_strv_len(r->unsupported) == 2, "two unsupported");
		if (rt_strv_len(r->unsupported) == 2) {
			TAP_STREQ(r->unsupported[0], "blockIO.leafWeight",
				  "paths are relative to the document");
			TAP_STREQ(r->unsupported[1], "rdma", "rdma unsupported");
		}
		oci_resources_free(r);
	}
	cleanup_free char *bad = dq("{'memory':{'swappiness':200}}");
	cleanup_err struct rt_err *e = NULL;
	r = NULL;
	rc = oci_resources_parse(bad, strlen(bad), &r, &e);
	TAP_OK(rc < 0 && r == NULL, "lone resources refused");
	TAP_STREQ(e ? e->msg : NULL, "memory.swappiness: 200 is out of range (0..100)",
		  "lone resources message");
}

static void test_names(void)
{
	{
		cleanup_free char *j = dq("{'args':['ls'],'cwd':'/','capabilities':"
					  "{'bounding':['CAP_KILL','CAP_X'],'ambient':['cap_kill']}}");
		cleanup_err struct rt_err *e = NULL;
		struct oci_process *q = NULL;
		int r = oci_process_parse(j, strlen(j), &q, &e);
		TAP_OK(r == 0 && q && q->caps.bounding == (1ULL << CAP_KILL) &&
			       q->caps.ambient == 0,
		       "unknown capabilities are not granted");
		TAP_OK(q && rt_strv_len(q->caps.unknown) == 2 &&
			       strcmp(q->caps.unknown[0], "CAP_X") == 0 &&
			       strcmp(q->caps.unknown[1], "cap_kill") == 0,
		       "unknown capability names are kept for the warning");
		oci_process_free(q);
	}
	bool ok = true;
	for (int i = 0; i <= 40; i++)
		ok = ok && oci_cap_name(i) &&
		     oci_cap_from_name(oci_cap_name(i)) == i;
	TAP_OK(ok, "41 capabilities round-trip");
	TAP_OK(oci_cap_name(41) == NULL && oci_cap_name(-1) == NULL &&
		       oci_cap_from_name("CAP_FOO") == -1 &&
		       oci_cap_from_name(NULL) == -1,
	       "unknown capabilities");
	TAP_OK(oci_cap_from_name("CAP_CHOWN") == CAP_CHOWN &&
		       oci_cap_from_name("CAP_SYS_ADMIN") == CAP_SYS_ADMIN &&
		       oci_cap_from_name("CAP_AUDIT_READ") == CAP_AUDIT_READ &&
		       oci_cap_from_name("CAP_SYSLOG") == CAP_SYSLOG,
	       "capability numbers match <linux/capability.h>");
#ifdef CAP_CHECKPOINT_RESTORE
	TAP_OK(oci_cap_from_name("CAP_CHECKPOINT_RESTORE") ==
		       CAP_CHECKPOINT_RESTORE &&
		       oci_cap_from_name("CAP_BPF") == CAP_BPF &&
		       oci_cap_from_name("CAP_PERFMON") == CAP_PERFMON,
	       "newest capabilities match the header");
#endif
	int last = oci_cap_last();
	char *text = NULL;
	if (rt_read_file("/proc/sys/kernel/cap_last_cap", &text, NULL, NULL) == 0)
		TAP_OK(last == atoi(text), "cap_last = %d", last);
	else
		TAP_OK(last >= 30 && last < 64, "cap_last = %d", last);
	free(text);

	static const struct {
		const char *name, *proc;
		int type;
	} ns[] = {
		{"pid", "pid", CLONE_NEWPID},	{"network", "net", CLONE_NEWNET},
		{"mount", "mnt", CLONE_NEWNS},	{"ipc", "ipc", CLONE_NEWIPC},
		{"uts", "uts", CLONE_NEWUTS},	{"user", "user", CLONE_NEWUSER},
		{"cgroup", "cgroup", CLONE_NEWCGROUP},
		{"time", "time", CLONE_NEWTIME},
	};
	ok = true;
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
		ok = ok && oci_ns_from_name(ns[i].name) == ns[i].type &&
		     strcmp(oci_ns_name(ns[i].type), ns[i].name) == 0 &&
		     strcmp(oci_ns_proc_name(ns[i].type), ns[i].proc) == 0;
	TAP_OK(ok, "namespace names");
	TAP_OK(oci_ns_from_name("net") == -1 && oci_ns_name(0) == NULL &&
		       oci_ns_proc_name(CLONE_VM) == NULL,
	       "unknown namespaces");

	static const char *const hooks[] = {"prestart", "createRuntime",
					    "createContainer", "startContainer",
					    "poststart", "poststop"};
	ok = true;
	for (int k = 0; k < OCI_HOOK_KINDS; k++)
		ok = ok && strcmp(oci_hook_kind_name(k), hooks[k]) == 0;
	TAP_OK(ok && oci_hook_kind_name(OCI_HOOK_KINDS) == NULL, "hook kind names");
}

static void test_load(void)
{
	char dir[] = "/tmp/ferry-test-config-XXXXXX";
	bool made = mkdtemp(dir) != NULL;
	TAP_OK(made, "temp dir");
	cleanup_free char *good = xasprintf("%s/config.json", dir);
	cleanup_free char *bad = xasprintf("%s/bad.json", dir);
	cleanup_free char *missing = xasprintf("%s/missing.json", dir);
	cleanup_free char *full = dq(full_config);
	cleanup_free char *badtext = dq(WITH_PROCESS("{'cwd':'/'}"));
	int w1 = rt_write_file_atomic(good, full, strlen(full), 0644, NULL);
	int w2 = rt_write_file_atomic(bad, badtext, strlen(badtext), 0644, NULL);
	TAP_OK(w1 == 0 && w2 == 0, "wrote test files");

	struct oci_config *c = NULL;
	cleanup_err struct rt_err *e1 = NULL, *e2 = NULL, *e3 = NULL;
	int rc = oci_config_load(good, &c, &e1);
	TAP_OK(rc == 0 && c && c->n_mounts == 5, "oci_config_load reads a file");
	oci_config_free(c);
	c = NULL;
	cleanup_free char *want = xasprintf(
		"%s: process.args: must be a non-empty array of strings", bad);
	rc = oci_config_load(bad, &c, &e2);
	TAP_OK(rc < 0 && c == NULL, "bad file refused");
	TAP_STREQ(e2 ? e2->msg : NULL, want, "error names the file and path");
	rc = oci_config_load(missing, &c, &e3);
	TAP_OK(rc < 0 && e3 &&
		       e3->code == ENOENT && strstr(e3->msg, missing),
	       "missing file: %s", e3 ? e3->msg : "");
	unlink(good);
	unlink(bad);
	rmdir(dir);
}

int main(void)
{
	test_full();
	test_runc_spec();
	test_errors();
	test_json_edges();
	test_lenient();
	test_lone_process();
	test_lone_resources();
	test_names();
	test_load();
	return tap_done();
}
