// zdtm-desc: fs_base (glibc's TLS) and a user-set gs_base keep pointing at the same memory
// zdtm-disturb: gdb_do 'set $gs_base = 0'
#include "lib.h"

#include <asm/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static __thread uint64_t tls_word = 0x7e57;
static uint64_t gs_area[2] = { 0x6565656565656565ULL, 0 };

static unsigned long get_base(int code)
{
	unsigned long v = 0;
	SYS(syscall(SYS_arch_prctl, code, &v));
	return v;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	unsigned long fs = get_base(ARCH_GET_FS);
	SYS(syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)gs_area));
	tls_word = 0x1234;
	uint64_t *tls_addr = &tls_word;
	test_ready();
	test_waitsig();

	unsigned long fs_now = get_base(ARCH_GET_FS), gs_now = get_base(ARCH_GET_GS);
	CHECK(fs_now == fs, "fs_base is %#lx, was %#lx", fs_now, fs);
	CHECK(gs_now == (unsigned long)gs_area, "gs_base is %#lx, was %p", gs_now, (void *)gs_area);
	/* What the CPU uses, not only what the kernel reports. */
	unsigned long self, gsword;
	__asm__ volatile("mov %%fs:0, %0" : "=r"(self));
	__asm__ volatile("mov %%gs:0, %0" : "=r"(gsword));
	CHECK(self == fs, "%%fs:0 (the TCB's self pointer) is %#lx", self);
	CHECK(gsword == gs_area[0], "%%gs:0 reads %#lx", gsword);
	CHECK(&tls_word == tls_addr && tls_word == 0x1234, "the TLS variable moved or changed");
	pass();
}
