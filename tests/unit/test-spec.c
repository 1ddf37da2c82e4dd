/* `ferry spec` against runc's own output, and the features document.
 * runc_spec and runc_spec_rootless are what runc 1.1.5 (the runc installed
 * on the development machine) writes for `runc spec` and `runc spec
 * --rootless` as root. ferry follows current runc, whose example differs in
 * four known ways, applied to the text below before comparing byte for byte:
 * ociVersion, no ambient capability set, /sys/devices/virtual/tpm masked, and
 * a cgroup namespace on cgroup2 hosts.
 * (TAP_OK evaluates its condition twice: no side effects inside it.) */
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <yajl/yajl_tree.h>

#include "oci/config.h"
#include "oci/spec.h"
#include "tap.h"
#include "util.h"

/* `runc spec` of runc 1.1.5, as root. */
static const char runc_spec[] =
	"{\n"
	"\t\"ociVersion\": \"1.0.2-dev\",\n"
	"\t\"process\": {\n"
	"\t\t\"terminal\": true,\n"
	"\t\t\"user\": {\n"
	"\t\t\t\"uid\": 0,\n"
	"\t\t\t\"gid\": 0\n"
	"\t\t},\n"
	"\t\t\"args\": [\n"
	"\t\t\t\"sh\"\n"
	"\t\t],\n"
	"\t\t\"env\": [\n"
	"\t\t\t\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
	"\t\t\t\"TERM=xterm\"\n"
	"\t\t],\n"
	"\t\t\"cwd\": \"/\",\n"
	"\t\t\"capabilities\": {\n"
	"\t\t\t\"bounding\": [\n"
	"\t\t\t\t\"CAP_AUDIT_WRITE\",\n"
	"\t\t\t\t\"CAP_KILL\",\n"
	"\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n"
	"\t\t\t],\n"
	"\t\t\t\"effective\": [\n"
	"\t\t\t\t\"CAP_AUDIT_WRITE\",\n"
	"\t\t\t\t\"CAP_KILL\",\n"
	"\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n"
	"\t\t\t],\n"
	"\t\t\t\"permitted\": [\n"
	"\t\t\t\t\"CAP_AUDIT_WRITE\",\n"
	"\t\t\t\t\"CAP_KILL\",\n"
	"\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n"
	"\t\t\t],\n"
	"\t\t\t\"ambient\": [\n"
	"\t\t\t\t\"CAP_AUDIT_WRITE\",\n"
	"\t\t\t\t\"CAP_KILL\",\n"
	"\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n"
	"\t\t\t]\n"
	"\t\t},\n"
	"\t\t\"rlimits\": [\n"
	"\t\t\t{\n"
	"\t\t\t\t\"type\": \"RLIMIT_NOFILE\",\n"
	"\t\t\t\t\"hard\": 1024,\n"
	"\t\t\t\t\"soft\": 1024\n"
	"\t\t\t}\n"
	"\t\t],\n"
	"\t\t\"noNewPrivileges\": true\n"
	"\t},\n"
	"\t\"root\": {\n"
	"\t\t\"path\": \"rootfs\",\n"
	"\t\t\"readonly\": true\n"
	"\t},\n"
	"\t\"hostname\": \"runc\",\n"
	"\t\"mounts\": [\n"
	"\t\t{\n"
	"\t\t\t\"destination\": \"/proc\",\n"
	"\t\t\t\"type\": \"proc\",\n"
	"\t\t\t\"source\": \"proc\"\n"
	"\t\t},\n"
	"\t\t{\n"
	"\t\t\t\"destination\": \"/dev\",\n"
	"\t\t\t\"type\": \"tmpfs\",\n"
	"\t\t\t\"source\": \"tmpfs\",\n"
	"\t\t\t\"options\": [\n"
	"\t\t\t\t\"nosuid\",\n"
	"\t\t\t\t\"strictatime\",\n"
	"\t\t\t\t\"mode=755\",\n"
	"\t\t\t\t\"size=65536k\"\n"
	"\t\t\t]\n"
	"\t\t},\n"
	"\t\t{\n"
	"\t\t\t\"destination\": \"/dev/pts\",\n"
	"\t\t\t\"type\": \"devpts\",\n"
	"\t\t\t\"source\": \"devpts\",\n"
	"\t\t\t\"options\": [\n"
	"\t\t\t\t\"nosuid\",\n"
	"\t\t\t\t\"noexec\",\n"
	"\t\t\t\t\"newinstance\",\n"
	"\t\t\t\t\"ptmxmode=0666\",\n"
	"\t\t\t\t\"mode=0620\",\n"
	"\t\t\t\t\"gid=5\"\n"
	"\t\t\t]\n"
	"\t\t},\n"
	"\t\t{\n"
	"\t\t\t\"destination\": \"/dev/shm\",\n"
	"\t\t\t\"type\": \"tmpfs\",\n"
	"\t\t\t\"source\": \"shm\",\n"
	"\t\t\t\"options\": [\n"
	"\t\t\t\t\"nosuid\",\n"
	"\t\t\t\t\"noexec\",\n"
	"\t\t\t\t\"nodev\",\n"
	"\t\t\t\t\"mode=1777\",\n"
	"\t\t\t\t\"size=65536k\"\n"
	"\t\t\t]\n"
	"\t\t},\n"
	"\t\t{\n"
	"\t\t\t\"destination\": \"/dev/mqueue\",\n"
	"\t\t\t\"type\": \"mqueue\",\n"
	"\t\t\t\"source\": \"mqueue\",\n"
	"\t\t\t\"options\": [\n"
	"\t\t\t\t\"nosuid\",\n"
	"\t\t\t\t\"noexec\",\n"
	"\t\t\t\t\"nodev\"\n"
	"\t\t\t]\n"
	"\t\t},\n"
	"\t\t{\n"
	"\t\t\t\"destination\": \"/sys\",\n"
	"\t\t\t\"type\": \"sysfs\",\n"
	"\t\t\t\"source\": \"sysfs\",\n"
	"\t\t\t\"options\": [\n"
	"\t\t\t\t\"nosuid\",\n"
	"\t\t\t\t\"noexec\",\n"
	"\t\t\t\t\"nodev\",\n"
	"\t\t\t\t\"ro\"\n"
	"\t\t\t]\n"
	"\t\t},\n"
	"\t\t{\n"
	"\t\t\t\"destination\": \"/sys/fs/cgroup\",\n"
	"\t\t\t\"type\": \"cgroup\",\n"
	"\t\t\t\"source\": \"cgroup\",\n"
	"\t\t\t\"options\": [\n"
	"\t\t\t\t\"nosuid\",\n"
	"\t\t\t\t\"noexec\",\n"
	"\t\t\t\t\"nodev\",\n"
	"\t\t\t\t\"relatime\",\n"
	"\t\t\t\t\"ro\"\n"
	"\t\t\t]\n"
	"\t\t}\n"
	"\t],\n"
	"\t\"linux\": {\n"
	"\t\t\"resources\": {\n"
	"\t\t\t\"devices\": [\n"
	"\t\t\t\t{\n"
	"\t\t\t\t\t\"allow\": false,\n"
	"\t\t\t\t\t\"access\": \"rwm\"\n"
	"\t\t\t\t}\n"
	"\t\t\t]\n"
	"\t\t},\n"
	"\t\t\"namespaces\": [\n"
	"\t\t\t{\n"
	"\t\t\t\t\"type\": \"pid\"\n"
	"\t\t\t},\n"
	"\t\t\t{\n"
	"\t\t\t\t\"type\": \"network\"\n"
	"\t\t\t},\n"
	"\t\t\t{\n"
	"\t\t\t\t\"type\": \"ipc\"\n"
	"\t\t\t},\n"
	"\t\t\t{\n"
	"\t\t\t\t\"type\": \"uts\"\n"
	"\t\t\t},\n"
	"\t\t\t{\n"
	"\t\t\t\t\"type\": \"mount\"\n"
	"\t\t\t}\n"
	"\t\t],\n"
	"\t\t\"maskedPaths\": [\n"
	"\t\t\t\"/proc/acpi\",\n"
	"\t\t\t\"/proc/asound\",\n"
	"\t\t\t\"/proc/kcore\",\n"
	"\t\t\t\"/proc/keys\",\n"
	"\t\t\t\"/proc/latency_stats\",\n"
	"\t\t\t\"/proc/timer_list\",\n"
	"\t\t\t\"/proc/timer_stats\",\n"
	"\t\t\t\"/proc/sched_debug\",\n"
	"\t\t\t\"/sys/firmware\",\n"
	"\t\t\t\"/proc/scsi\"\n"
	"\t\t],\n"
	"\t\t\"readonlyPaths\": [\n"
	"\t\t\t\"/proc/bus\",\n"
	"\t\t\t\"/proc/fs\",\n"
	"\t\t\t\"/proc/irq\",\n"
	"\t\t\t\"/proc/sys\",\n"
	"\t\t\t\"/proc/sysrq-trigger\"\n"
	"\t\t]\n"
	"\t}\n"
	"}";

/* `runc spec --rootless` of runc 1.1.5, as root. */
static const char runc_spec_rootless[] =
	"{\n"
	"\t\"ociVersion\": \"1.0.2-dev\",\n"
	"\t\"process\": {\n"
	"\t\t\"terminal\": true,\n"
	"\t\t\"user\": {\n"
	"\t\t\t\"uid\": 0,\n"
	"\t\t\t\"gid\": 0\n"
	"\t\t},\n"
	"\t\t\"args\": [\n"
	"\t\t\t\"sh\"\n"
	"\t\t],\n"
	"\t\t\"env\": [\n"
	"\t\t\t\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
	"\t\t\t\"TERM=xterm\"\n"
	"\t\t],\n"
	"\t\t\"cwd\": \"/\",\n"
	"\t\t\"capabilities\": {\n"
	"\t\t\t\"bounding\": [\n"
	"\t\t\t\t\"CAP_AUDIT_WRITE\",\n"
	"\t\t\t\t\"CAP_KILL\",\n"
	"\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n"
	"\t\t\t],\n"
	"\t\t\t\"effective\": [\n"
	"\t\t\t\t\"CAP_AUDIT_WRITE\",\n"
	"\t\t\t\t\"CAP_KILL\",\n"
	"\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n"
	"\t\t\t],\n"
	"\t\t\t\"permitted\": [\n"
	"\t\t\t\t\"CAP_AUDIT_WRITE\",\n"
	"\t\t\t\t\"CAP_KILL\",\n"
	"\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n"
	"\t\t\t],\n"
	"\t\t\t\"ambient\": [\n"
	"\t\t\t\t\"CAP_AUDIT_WRITE\",\n"
	"\t\t\t\t\"CAP_KILL\",\n"
	"\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n"
	"\t\t\t]\n"
	"\t\t},\n"
	"\t\t\"rlimits\": [\n"
	"\t\t\t{\n"
	"\t\t\t\t\"type\": \"RLIMIT_NOFILE\",\n"
	"\t\t\t\t\"hard\": 1024,\n"
	"\t\t\t\t\"soft\": 1024\n"
	"\t\t\t}\n"
	"\t\t],\n"
	"\t\t\"noNewPrivileges\": true\n"
	"\t},\n"
	"\t\"root\": {\n"
	"\t\t\"path\": \"rootfs\",\n"
	"\t\t\"readonly\": true\n"
	"\t},\n"
	"\t\"hostname\": \"runc\",\n"
	"\t\"mounts\": [\n"
	"\t\t{\n"
	"\t\t\t\"destination\": \"/proc\",\n"
	"\t\t\t\"type\": \"proc\",\n"
	"\t\t\t\"source\": \"proc\"\n"
	"\t\t},\n"
	"\t\t{\n"
	"\t\t\t\"destination\": \"/dev\",\n"
	"\t\t\t\"type\": \"tmpfs\",\n"
	"\t\t\t\"source\": \"tmpfs\",\n"
	"\t\t\t\"options\": [\n"
	"\t\t\t\t\"nosuid\",\n"
	"\t\t\t\t\"strictatime\",\n"
	"\t\t\t\t\"mode=755\",\n"
	"\t\t\t\t\"size=65536k\"\n"
	"\t\t\t]\n"
	"\t\t},\n"
	"\t\t{\n"
	"\t\t\t\"destination\": \"/dev/pts\",\n"
	"\t\t\t\"type\": \"devpts\",\n"
	"\t\t\t\"source\": \"devpts\",\n"
	"\t\t\t\"options\": [\n"
	"\t\t\t\t\"nosuid\",\n"
	"\t\t\t\t\"noexec\",\n"
	"\t\t\t\t\"newinstance\",\n"
	"\t\t\t\t\"ptmxmode=0666\",\n"
	"\t\t\t\t\"mode=0620\"\n"
	"\t\t\t]\n"
	"\t\t},\n"
	"\t\t{\n"
	"\t\t\t\"destination\": \"/dev/shm\",\n"
	"\t\t\t\"type\": \"tmpfs\",\n"
	"\t\t\t\"source\": \"shm\",\n"
	"\t\t\t\"options\": [\n"
	"\t\t\t\t\"nosuid\",\n"
	"\t\t\t\t\"noexec\",\n"
	"\t\t\t\t\"nodev\",\n"
	"\t\t\t\t\"mode=1777\",\n"
	"\t\t\t\t\"size=65536k\"\n"
	"\t\t\t]\n"
	"\t\t},\n"
	"\t\t{\n"
	"\t\t\t\"destination\": \"/dev/mqueue\",\n"
	"\t\t\t\"type\": \"mqueue\",\n"
	"\t\t\t\"source\": \"mqueue\",\n"
	"\t\t\t\"options\": [\n"
	"\t\t\t\t\"nosuid\",\n"
	"\t\t\t\t\"noexec\",\n"
	"\t\t\t\t\"nodev\"\n"
	"\t\t\t]\n"
	"\t\t},\n"
	"\t\t{\n"
	"\t\t\t\"destination\": \"/sys\",\n"
	"\t\t\t\"type\": \"none\",\n"
	"\t\t\t\"source\": \"/sys\",\n"
	"\t\t\t\"options\": [\n"
	"\t\t\t\t\"rbind\",\n"
	"\t\t\t\t\"nosuid\",\n"
	"\t\t\t\t\"noexec\",\n"
	"\t\t\t\t\"nodev\",\n"
	"\t\t\t\t\"ro\"\n"
	"\t\t\t]\n"
	"\t\t},\n"
	"\t\t{\n"
	"\t\t\t\"destination\": \"/sys/fs/cgroup\",\n"
	"\t\t\t\"type\": \"cgroup\",\n"
	"\t\t\t\"source\": \"cgroup\",\n"
	"\t\t\t\"options\": [\n"
	"\t\t\t\t\"nosuid\",\n"
	"\t\t\t\t\"noexec\",\n"
	"\t\t\t\t\"nodev\",\n"
	"\t\t\t\t\"relatime\",\n"
	"\t\t\t\t\"ro\"\n"
	"\t\t\t]\n"
	"\t\t}\n"
	"\t],\n"
	"\t\"linux\": {\n"
	"\t\t\"uidMappings\": [\n"
	"\t\t\t{\n"
	"\t\t\t\t\"containerID\": 0,\n"
	"\t\t\t\t\"hostID\": 0,\n"
	"\t\t\t\t\"size\": 1\n"
	"\t\t\t}\n"
	"\t\t],\n"
	"\t\t\"gidMappings\": [\n"
	"\t\t\t{\n"
	"\t\t\t\t\"containerID\": 0,\n"
	"\t\t\t\t\"hostID\": 0,\n"
	"\t\t\t\t\"size\": 1\n"
	"\t\t\t}\n"
	"\t\t],\n"
	"\t\t\"namespaces\": [\n"
	"\t\t\t{\n"
	"\t\t\t\t\"type\": \"pid\"\n"
	"\t\t\t},\n"
	"\t\t\t{\n"
	"\t\t\t\t\"type\": \"ipc\"\n"
	"\t\t\t},\n"
	"\t\t\t{\n"
	"\t\t\t\t\"type\": \"uts\"\n"
	"\t\t\t},\n"
	"\t\t\t{\n"
	"\t\t\t\t\"type\": \"mount\"\n"
	"\t\t\t},\n"
	"\t\t\t{\n"
	"\t\t\t\t\"type\": \"user\"\n"
	"\t\t\t}\n"
	"\t\t],\n"
	"\t\t\"maskedPaths\": [\n"
	"\t\t\t\"/proc/acpi\",\n"
	"\t\t\t\"/proc/asound\",\n"
	"\t\t\t\"/proc/kcore\",\n"
	"\t\t\t\"/proc/keys\",\n"
	"\t\t\t\"/proc/latency_stats\",\n"
	"\t\t\t\"/proc/timer_list\",\n"
	"\t\t\t\"/proc/timer_stats\",\n"
	"\t\t\t\"/proc/sched_debug\",\n"
	"\t\t\t\"/sys/firmware\",\n"
	"\t\t\t\"/proc/scsi\"\n"
	"\t\t],\n"
	"\t\t\"readonlyPaths\": [\n"
	"\t\t\t\"/proc/bus\",\n"
	"\t\t\t\"/proc/fs\",\n"
	"\t\t\t\"/proc/irq\",\n"
	"\t\t\t\"/proc/sys\",\n"
	"\t\t\t\"/proc/sysrq-trigger\"\n"
	"\t\t]\n"
	"\t}\n"
	"}";

/* `runc features` of runc 1.1.5, compacted. */
static const char runc_features[] =
	"{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.0.2-dev\",\"hooks\":[\"pre"
	"start\",\"createRuntime\",\"createContainer\",\"startContainer\",\"poststa"
	"rt\",\"poststop\"],\"mountOptions\":[\"acl\",\"async\",\"atime\",\"bind\",\"defa"
	"ults\",\"dev\",\"diratime\",\"dirsync\",\"exec\",\"iversion\",\"lazytime\",\"lou"
	"d\",\"mand\",\"noacl\",\"noatime\",\"nodev\",\"nodiratime\",\"noexec\",\"noivers"
	"ion\",\"nolazytime\",\"nomand\",\"norelatime\",\"nostrictatime\",\"nosuid\",\""
	"nosymfollow\",\"private\",\"ratime\",\"rbind\",\"rdev\",\"rdiratime\",\"relati"
	"me\",\"remount\",\"rexec\",\"rnoatime\",\"rnodev\",\"rnodiratime\",\"rnoexec\","
	"\"rnorelatime\",\"rnostrictatime\",\"rnosuid\",\"rnosymfollow\",\"ro\",\"rpri"
	"vate\",\"rrelatime\",\"rro\",\"rrw\",\"rshared\",\"rslave\",\"rstrictatime\",\"r"
	"suid\",\"rsymfollow\",\"runbindable\",\"rw\",\"shared\",\"silent\",\"slave\",\"s"
	"trictatime\",\"suid\",\"symfollow\",\"sync\",\"tmpcopyup\",\"unbindable\"],\"l"
	"inux\":{\"namespaces\":[\"cgroup\",\"ipc\",\"mount\",\"network\",\"pid\",\"user\""
	",\"uts\"],\"capabilities\":[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_DAC_RE"
	"AD_SEARCH\",\"CAP_FOWNER\",\"CAP_FSETID\",\"CAP_KILL\",\"CAP_SETGID\",\"CAP_"
	"SETUID\",\"CAP_SETPCAP\",\"CAP_LINUX_IMMUTABLE\",\"CAP_NET_BIND_SERVICE\""
	",\"CAP_NET_BROADCAST\",\"CAP_NET_ADMIN\",\"CAP_NET_RAW\",\"CAP_IPC_LOCK\","
	"\"CAP_IPC_OWNER\",\"CAP_SYS_MODULE\",\"CAP_SYS_RAWIO\",\"CAP_SYS_CHROOT\","
	"\"CAP_SYS_PTRACE\",\"CAP_SYS_PACCT\",\"CAP_SYS_ADMIN\",\"CAP_SYS_BOOT\",\"C"
	"AP_SYS_NICE\",\"CAP_SYS_RESOURCE\",\"CAP_SYS_TIME\",\"CAP_SYS_TTY_CONFIG"
	"\",\"CAP_MKNOD\",\"CAP_LEASE\",\"CAP_AUDIT_WRITE\",\"CAP_AUDIT_CONTROL\",\"C"
	"AP_SETFCAP\",\"CAP_MAC_OVERRIDE\",\"CAP_MAC_ADMIN\",\"CAP_SYSLOG\",\"CAP_W"
	"AKE_ALARM\",\"CAP_BLOCK_SUSPEND\",\"CAP_AUDIT_READ\",\"CAP_PERFMON\",\"CAP"
	"_BPF\",\"CAP_CHECKPOINT_RESTORE\"],\"cgroup\":{\"v1\":true,\"v2\":true,\"sys"
	"temd\":true,\"systemdUser\":true},\"seccomp\":{\"enabled\":true,\"actions\""
	":[\"SCMP_ACT_ALLOW\",\"SCMP_ACT_ERRNO\",\"SCMP_ACT_KILL\",\"SCMP_ACT_KILL"
	"_PROCESS\",\"SCMP_ACT_KILL_THREAD\",\"SCMP_ACT_LOG\",\"SCMP_ACT_NOTIFY\","
	"\"SCMP_ACT_TRACE\",\"SCMP_ACT_TRAP\"],\"operators\":[\"SCMP_CMP_EQ\",\"SCMP"
	"_CMP_GE\",\"SCMP_CMP_GT\",\"SCMP_CMP_LE\",\"SCMP_CMP_LT\",\"SCMP_CMP_MASKE"
	"D_EQ\",\"SCMP_CMP_NE\"],\"archs\":[\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_ARM\","
	"\"SCMP_ARCH_MIPS\",\"SCMP_ARCH_MIPS64\",\"SCMP_ARCH_MIPS64N32\",\"SCMP_AR"
	"CH_MIPSEL\",\"SCMP_ARCH_MIPSEL64\",\"SCMP_ARCH_MIPSEL64N32\",\"SCMP_ARCH"
	"_PPC\",\"SCMP_ARCH_PPC64\",\"SCMP_ARCH_PPC64LE\",\"SCMP_ARCH_S390\",\"SCMP"
	"_ARCH_S390X\",\"SCMP_ARCH_X32\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X86_64\"]},"
	"\"apparmor\":{\"enabled\":true},\"selinux\":{\"enabled\":true}},\"annotatio"
	"ns\":{\"io.github.seccomp.libseccomp.version\":\"2.5.4\",\"org.openconta"
	"iners.runc.checkpoint.enabled\":\"true\",\"org.opencontainers.runc.com"
	"mit\":\"1.1.5+ds1-1+deb12u1\",\"org.opencontainers.runc.version\":\"1.1."
	"5+ds1\"}}";

/* s with the first occurrence of from replaced by to; NULL if absent. */
static char *replace(char *s, const char *from, const char *to)
{
	char *at = s ? strstr(s, from) : NULL;
	if (at == NULL) {
		free(s);
		return NULL;
	}
	char *r = xasprintf("%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	free(s);
	return r;
}

static bool cgroup2_host(void)
{
	struct statfs st;
	return statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == 0x63677270;
}

/* runc 1.1.5's text turned into what current runc writes. */
static char *modernize(const char *runc)
{
	char *s = xstrdup(runc);
	s = replace(s, "\"1.0.2-dev\"", "\"1.2.0\"");
	s = replace(s,
		    ",\n\t\t\t\"ambient\": [\n\t\t\t\t\"CAP_AUDIT_WRITE\",\n"
		    "\t\t\t\t\"CAP_KILL\",\n\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n\t\t\t]",
		    "");
	s = replace(s, "\"/proc/scsi\"\n",
		    "\"/proc/scsi\",\n\t\t\t\"/sys/devices/virtual/tpm\"\n");
	if (cgroup2_host())
		s = replace(s, "\"type\": \"mount\"\n\t\t\t}",
			    "\"type\": \"mount\"\n\t\t\t},\n\t\t\t{\n"
			    "\t\t\t\t\"type\": \"cgroup\"\n\t\t\t}");
	return s;
}

static void yajl_freep(yajl_val *v) { yajl_tree_free(*v); }
#define cleanup_yajl __attribute__((cleanup(yajl_freep)))

static yajl_val parse(const char *json)
{
	char eb[256] = "";
	yajl_val v = yajl_tree_parse(json, eb, sizeof(eb));
	if (v == NULL)
		printf("#   parse error: %s\n", eb);
	return v;
}

/* Every key path in document order, arrays folded ("mounts[].options"),
 * each once; annotation keys are left out. */
static void key_paths(yajl_val v, const char *prefix, char ***out)
{
	if (YAJL_IS_ARRAY(v)) {
		cleanup_free char *p = xasprintf("%s[]", prefix);
		for (size_t i = 0; i < v->u.array.len; i++)
			key_paths(v->u.array.values[i], p, out);
		return;
	}
	if (!YAJL_IS_OBJECT(v) || strcmp(prefix, "annotations") == 0)
		return;
	for (size_t i = 0; i < v->u.object.len; i++) {
		cleanup_free char *p =
			prefix[0] ? xasprintf("%s.%s", prefix, v->u.object.keys[i]) :
				    xstrdup(v->u.object.keys[i]);
		bool seen = false;
		for (size_t j = 0; *out && (*out)[j]; j++)
			seen = seen || strcmp((*out)[j], p) == 0;
		if (!seen)
			rt_strv_push(out, p);
		key_paths(v->u.object.values[i], p, out);
	}
}

/* The key paths joined by ' ', minus those in drop (NULL-terminated). */
static char *key_list(yajl_val v, const char *const *drop)
{
	cleanup_strv char **paths = NULL;
	key_paths(v, "", &paths);
	char *s = xstrdup("");
	for (size_t i = 0; paths && paths[i]; i++) {
		bool skip = false;
		for (size_t j = 0; drop && drop[j]; j++)
			skip = skip || strcmp(paths[i], drop[j]) == 0;
		if (skip)
			continue;
		char *n = xasprintf("%s%s ", s, paths[i]);
		free(s);
		s = n;
	}
	return s;
}

static yajl_val get(yajl_val v, const char *a, const char *b, const char *c,
		    const char *d)
{
	const char *path[] = { a, b, c, d, NULL };
	return yajl_tree_get(v, path, yajl_t_any);
}

/* An array of strings as "a b c". */
static char *joined(yajl_val arr)
{
	char *s = xstrdup("");
	for (size_t i = 0; YAJL_IS_ARRAY(arr) && i < arr->u.array.len; i++) {
		const char *e = YAJL_GET_STRING(arr->u.array.values[i]);
		char *n = xasprintf("%s%s%s", s, i ? " " : "", e ? e : "(non-string)");
		free(s);
		s = n;
	}
	return s;
}

static bool contains(yajl_val arr, const char *want)
{
	for (size_t i = 0; YAJL_IS_ARRAY(arr) && i < arr->u.array.len; i++) {
		const char *e = YAJL_GET_STRING(arr->u.array.values[i]);
		if (e && strcmp(e, want) == 0)
			return true;
	}
	return false;
}

static bool sorted(yajl_val arr)
{
	for (size_t i = 1; YAJL_IS_ARRAY(arr) && i < arr->u.array.len; i++) {
		const char *a = YAJL_GET_STRING(arr->u.array.values[i - 1]);
		const char *b = YAJL_GET_STRING(arr->u.array.values[i]);
		if (!a || !b || strcmp(a, b) >= 0)
			return false;
	}
	return YAJL_IS_ARRAY(arr);
}

static void test_spec(bool rootless, const char *runc)
{
	const char *what = rootless ? "rootless spec" : "spec";
	cleanup_free char *mine = oci_spec_default(rootless, 0, 0);
	cleanup_free char *want = modernize(runc);
	TAP_OK(want != NULL, "%s: runc's text has the expected shape", what);
	TAP_STREQ(mine, want, "%s: byte for byte what current runc writes", what);

	cleanup_yajl yajl_val m = parse(mine);
	cleanup_yajl yajl_val r = parse(runc);
	TAP_OK(YAJL_IS_OBJECT(m) && YAJL_IS_OBJECT(r), "%s: parses as JSON", what);
	static const char *const runc_only[] = { "process.capabilities.ambient",
						 NULL };
	cleanup_free char *mk = key_list(m, NULL);
	cleanup_free char *rk = key_list(r, runc_only);
	TAP_STREQ(mk, rk, "%s: runc's keys in runc's order", what);

	TAP_OK(YAJL_IS_TRUE(get(m, "process", "terminal", NULL, NULL)),
	       "%s: process.terminal is true", what);
	cleanup_free char *args = joined(get(m, "process", "args", NULL, NULL));
	TAP_STREQ(args, "sh", "%s: args", what);
	cleanup_free char *caps =
		joined(get(m, "process", "capabilities", "bounding", NULL));
	TAP_STREQ(caps, "CAP_AUDIT_WRITE CAP_KILL CAP_NET_BIND_SERVICE",
		  "%s: bounding capabilities", what);
	yajl_val ns = get(m, "linux", "namespaces", NULL, NULL);
	bool has_net = false, has_user = false;
	for (size_t i = 0; YAJL_IS_ARRAY(ns) && i < ns->u.array.len; i++) {
		const char *t = YAJL_GET_STRING(
			get(ns->u.array.values[i], "type", NULL, NULL, NULL));
		has_net = has_net || (t && strcmp(t, "network") == 0);
		has_user = has_user || (t && strcmp(t, "user") == 0);
	}
	TAP_OK(has_net == !rootless && has_user == rootless,
	       "%s: network namespace %s, user namespace %s", what,
	       rootless ? "dropped" : "kept", rootless ? "added" : "absent");

	struct rt_err *err = NULL;
	struct oci_config *c = NULL;
	int rc = oci_config_parse(mine, strlen(mine), &c, &err);
	TAP_OK(rc == 0, "%s: ferry's own config parser accepts it%s%s", what,
	       err ? ": " : "", err ? err->msg : "");
	rt_err_free(err);
	oci_config_free(c);
}

static void test_rootless_ids(void)
{
	cleanup_free char *s = oci_spec_default(true, 1234, 5678);
	cleanup_yajl yajl_val v = parse(s);
	yajl_val u = get(v, "linux", "uidMappings", NULL, NULL);
	yajl_val g = get(v, "linux", "gidMappings", NULL, NULL);
	bool ok = YAJL_IS_ARRAY(u) && u->u.array.len == 1 && YAJL_IS_ARRAY(g) &&
		  g->u.array.len == 1;
	yajl_val uh = ok ? get(u->u.array.values[0], "hostID", NULL, NULL, NULL) : NULL;
	yajl_val uc = ok ? get(u->u.array.values[0], "containerID", NULL, NULL, NULL) : NULL;
	yajl_val gh = ok ? get(g->u.array.values[0], "hostID", NULL, NULL, NULL) : NULL;
	yajl_val sz = ok ? get(g->u.array.values[0], "size", NULL, NULL, NULL) : NULL;
	TAP_OK(YAJL_IS_INTEGER(uh) && uh->u.number.i == 1234 &&
		       YAJL_IS_INTEGER(uc) && uc->u.number.i == 0 &&
		       YAJL_IS_INTEGER(gh) && gh->u.number.i == 5678 &&
		       YAJL_IS_INTEGER(sz) && sz->u.number.i == 1,
	       "rootless: uid 1234 and gid 5678 map to 0, size 1");
	TAP_OK(get(v, "linux", "resources", NULL, NULL) == NULL,
	       "rootless: no cgroup resources");
	TAP_OK(strstr(s, "gid=5") == NULL, "rootless: no gid=5 on devpts");
}

/* Whether config.json with this one mount option parses into mount(2)
 * flags, propagation or a bind, leaving no filesystem data. */
static bool option_understood(const char *opt)
{
	cleanup_free char *json = xasprintf(
		"{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
		"\"mounts\":[{\"destination\":\"/x\",\"type\":\"tmpfs\","
		"\"source\":\"tmpfs\",\"options\":[\"%s\"]}]}", opt);
	struct rt_err *err = NULL;
	struct oci_config *c = NULL;
	bool ok = oci_config_parse(json, strlen(json), &c, &err) == 0 &&
		  c->n_mounts == 1 && c->mounts[0].data == NULL;
	if (!ok)
		printf("#   option %s: %s\n", opt, err ? err->msg : "left as data");
	rt_err_free(err);
	oci_config_free(c);
	return ok;
}

static void test_features_values(yajl_val f)
{
	TAP_STREQ(YAJL_GET_STRING(get(f, "ociVersionMin", NULL, NULL, NULL)), "1.0.0",
		  "features: ociVersionMin");
	TAP_STREQ(YAJL_GET_STRING(get(f, "ociVersionMax", NULL, NULL, NULL)), "1.2.0",
		  "features: ociVersionMax");
	cleanup_free char *hooks = joined(get(f, "hooks", NULL, NULL, NULL));
	TAP_STREQ(hooks, "prestart createRuntime createContainer startContainer "
			 "poststart poststop", "features: hooks");

	yajl_val mo = get(f, "mountOptions", NULL, NULL, NULL);
	bool all = sorted(mo) && mo->u.array.len > 30;
	for (size_t i = 0; all && i < mo->u.array.len; i++)
		all = option_understood(YAJL_GET_STRING(mo->u.array.values[i]));
	TAP_OK(all, "features: every mount option listed is parsed as one");
	TAP_OK(!contains(mo, "rro") && !contains(mo, "tmpcopyup") &&
		       !contains(mo, "idmap") && contains(mo, "rbind"),
	       "features: refused options are not listed");

	yajl_val ns = get(f, "linux", "namespaces", NULL, NULL);
	bool ns_ok = sorted(ns) && contains(ns, "user") && contains(ns, "network");
	for (size_t i = 0; ns_ok && i < ns->u.array.len; i++)
		ns_ok = oci_ns_from_name(YAJL_GET_STRING(ns->u.array.values[i])) > 0;
	TAP_OK(ns_ok, "features: namespaces sorted and known to the parser");

	yajl_val caps = get(f, "linux", "capabilities", NULL, NULL);
	size_t n = YAJL_IS_ARRAY(caps) ? caps->u.array.len : 0;
	const char *first = n ? YAJL_GET_STRING(caps->u.array.values[0]) : NULL;
	const char *last = n ? YAJL_GET_STRING(caps->u.array.values[n - 1]) : NULL;
	TAP_OK(n == 41 && first && strcmp(first, "CAP_CHOWN") == 0 && last &&
		       strcmp(last, "CAP_CHECKPOINT_RESTORE") == 0,
	       "features: 41 capabilities, CAP_CHOWN .. CAP_CHECKPOINT_RESTORE (%zu)", n);
}

static void test_features_linux(yajl_val f)
{
	TAP_OK(YAJL_IS_TRUE(get(f, "linux", "cgroup", "v1", NULL)) &&
		       YAJL_IS_TRUE(get(f, "linux", "cgroup", "v2", NULL)) &&
		       YAJL_IS_FALSE(get(f, "linux", "cgroup", "systemd", NULL)) &&
		       YAJL_IS_FALSE(get(f, "linux", "cgroup", "systemdUser", NULL)),
	       "features: cgroup v1 and v2, no systemd");
	yajl_val sc = get(f, "linux", "seccomp", NULL, NULL);
	yajl_val actions = get(sc, "actions", NULL, NULL, NULL);
	TAP_OK(YAJL_IS_TRUE(get(sc, "enabled", NULL, NULL, NULL)) && sorted(actions) &&
		       contains(actions, "SCMP_ACT_ERRNO") &&
		       !contains(actions, "SCMP_ACT_NOTIFY"),
	       "features: seccomp enabled, actions without NOTIFY");
	cleanup_free char *ops = joined(get(sc, "operators", NULL, NULL, NULL));
	TAP_STREQ(ops, "SCMP_CMP_EQ SCMP_CMP_GE SCMP_CMP_GT SCMP_CMP_LE SCMP_CMP_LT "
		       "SCMP_CMP_MASKED_EQ SCMP_CMP_NE", "features: seccomp operators");
	yajl_val archs = get(sc, "archs", NULL, NULL, NULL);
	TAP_OK(sorted(archs) && contains(archs, "SCMP_ARCH_X86_64") &&
		       contains(archs, "SCMP_ARCH_AARCH64"),
	       "features: seccomp archs from libseccomp");
	yajl_val known = get(sc, "knownFlags", NULL, NULL, NULL);
	yajl_val sup = get(sc, "supportedFlags", NULL, NULL, NULL);
	bool subset = YAJL_IS_ARRAY(sup);
	for (size_t i = 0; subset && i < sup->u.array.len; i++)
		subset = contains(known, YAJL_GET_STRING(sup->u.array.values[i]));
	cleanup_free char *kn = joined(known);
	TAP_STREQ(kn, "SECCOMP_FILTER_FLAG_TSYNC SECCOMP_FILTER_FLAG_SPEC_ALLOW "
		      "SECCOMP_FILTER_FLAG_LOG", "features: seccomp knownFlags");
	TAP_OK(subset, "features: supportedFlags within knownFlags");
	TAP_OK(YAJL_IS_FALSE(get(f, "linux", "apparmor", "enabled", NULL)) &&
		       YAJL_IS_FALSE(get(f, "linux", "selinux", "enabled", NULL)) &&
		       YAJL_IS_FALSE(get(f, "linux", "intelRdt", "enabled", NULL)) &&
		       YAJL_IS_FALSE(get(f, "linux", "mountExtensions", "idmap",
					 "enabled")),
	       "features: no AppArmor, SELinux, Intel RDT or idmap mounts");
	const char *ver = YAJL_GET_STRING(
		get(f, "annotations", "io.github.seccomp.libseccomp.version", NULL, NULL));
	unsigned a, b, c;
	TAP_OK(ver && sscanf(ver, "%u.%u.%u", &a, &b, &c) == 3,
	       "features: libseccomp version annotation (%s)", ver ? ver : "none");
	TAP_OK(YAJL_IS_STRING(get(f, "annotations", "io.github.ferry.version", NULL, NULL)),
	       "features: ferry version annotation");
}

static void test_features(const char *runc_features)
{
	cleanup_free char *text = oci_features_json();
	cleanup_yajl yajl_val f = parse(text);
	TAP_OK(YAJL_IS_OBJECT(f), "features: parses as JSON");
	if (!YAJL_IS_OBJECT(f))
		return;
	size_t len = strlen(text);
	TAP_OK(len > 0 && text[len - 1] == '}' &&
		       strncmp(text, "{\n    \"ociVersionMin\"", 21) == 0,
	       "features: indented by four spaces like runc, no final newline");

	/* runc's keys, less what runc 1.1.5 alone has, in runc's order. */
	cleanup_yajl yajl_val r = parse(runc_features);
	cleanup_free char *rk = key_list(r, NULL);
	static const char *const ferry_only[] = {
		"linux.cgroup.rdma", "linux.seccomp.knownFlags",
		"linux.seccomp.supportedFlags", "linux.intelRdt",
		"linux.intelRdt.enabled", "linux.mountExtensions",
		"linux.mountExtensions.idmap", "linux.mountExtensions.idmap.enabled",
		NULL,
	};
	cleanup_free char *fk = key_list(f, ferry_only);
	TAP_STREQ(fk, rk, "features: runc's keys in runc's order (plus 1.2 ones)");
	test_features_values(f);
	test_features_linux(f);
}

int main(void)
{
	test_spec(false, runc_spec);
	test_spec(true, runc_spec_rootless);
	test_rootless_ids();
	test_features(runc_features);
	return tap_done();
}
