// zdtm-desc: capability sets (effective, permitted, inheritable, bounding, ambient) and securebits are kept
// zdtm: caps=CAP_SETPCAP,CAP_NET_RAW
// zdtm-disturb: gdb_call '(int)prctl(24, 5)'
#include "lib.h"

#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BIT(c) (1u << (c))

static void status_caps(char *out, size_t size)
{
	char status[4096];
	read_text("/proc/self/status", status, sizeof(status));
	out[0] = 0;
	for (char *l = strtok(status, "\n"); l; l = strtok(NULL, "\n"))
		if (!strncmp(l, "Cap", 3))
			snprintf(out + strlen(out), size - strlen(out), "%s\n", l);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	SYS(syscall(SYS_capget, &h, d));
	uint32_t need = BIT(CAP_SETPCAP) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_NET_RAW);
	CHECK((d[0].effective & need) == need, "needs CAP_SETPCAP, CAP_KILL, CAP_NET_BIND_SERVICE and "
	      "CAP_NET_RAW; has %#x", d[0].effective);
	SYS(prctl(PR_CAPBSET_DROP, CAP_NET_RAW));
	memset(d, 0, sizeof(d));
	d[0].permitted = need;
	d[0].effective = BIT(CAP_SETPCAP) | BIT(CAP_KILL);
	d[0].inheritable = BIT(CAP_NET_BIND_SERVICE);
	SYS(syscall(SYS_capset, &h, d));
	SYS(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
	SYS(prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP));
	char before[512], after[512];
	status_caps(before, sizeof(before));
	test_ready();
	test_waitsig();

	status_caps(after, sizeof(after));
	CHECK(!strcmp(before, after), "capabilities are now\n%swere\n%s", after, before);
	int sb = (int)SYS(prctl(PR_GET_SECUREBITS));
	CHECK(sb == SECBIT_NO_SETUID_FIXUP, "securebits are %#x", sb);
	pass();
}
