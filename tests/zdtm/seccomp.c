// zdtm-desc: two seccomp filters the test installed itself keep filtering (getppid, getpgrp fail with set errnos)
// zdtm-disturb: gdb_do 'set $f = (long *)malloc(8)' 'set $f[0] = 0x7fff000000000006' 'set $g = (long *)malloc(16)' 'set $g[0] = 1' 'set $g[1] = (long)$f' 'call (int)prctl(22, 2, $g)'
#include "lib.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Fail syscall nr with errno err; allow everything else. */
static void install(int nr, int err)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	SYS(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog));
}

static long status_field(const char *name)
{
	char status[4096];
	read_text("/proc/self/status", status, sizeof(status));
	char *p = strstr(status, name);
	CHECK(p, "no %s in /proc/self/status", name);
	return strtol(p + strlen(name), NULL, 10);
}

static void check_filtering(void)
{
	errno = 0;
	CHECK(syscall(SYS_getppid) == -1 && errno == 42, "getppid was not filtered (errno %d)", errno);
	errno = 0;
	CHECK(syscall(SYS_getpgrp) == -1 && errno == 43, "getpgrp was not filtered (errno %d)", errno);
	CHECK(syscall(SYS_getpid) == getpid(), "getpid is broken");
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	SYS(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	install(SYS_getppid, 42);
	install(SYS_getpgrp, 43);
	check_filtering();
	test_ready();
	test_waitsig();

	CHECK(status_field("Seccomp:") == SECCOMP_MODE_FILTER, "seccomp mode is %ld",
	      status_field("Seccomp:"));
	CHECK(status_field("Seccomp_filters:") == 2, "%ld seccomp filters, not 2",
	      status_field("Seccomp_filters:"));
	check_filtering();
	pass();
}
