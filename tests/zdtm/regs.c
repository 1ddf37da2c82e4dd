// zdtm-desc: general registers r12-r15 and ymm0 keep their values in a busy loop
// zdtm-disturb: gdb_do 'set $r13 = 0'
/* The loop never enters the kernel on its own: the checkpoint catches it
 * between two user-space instructions, with these values live in registers. */
#include "lib.h"

#include <cpuid.h>

static const uint64_t want[4] = { 0x1111222233334444ULL, 0x5555666677778888ULL,
				  0x99990000aaaabbbbULL, 0xccccddddeeeeffffULL };
static const uint64_t want_ymm[4] __attribute__((aligned(32))) = {
	0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0x0f1e2d3c4b5a6978ULL, 0x8796a5b4c3d2e1f0ULL
};
static uint64_t got[8] __attribute__((aligned(32)));

static bool have_avx(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_AVX) || !(c & bit_OSXSAVE))
		return false;
	unsigned lo, hi;
	__asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6; /* the OS saves SSE and AVX state */
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (!have_avx())
		skip("no AVX on this CPU");
	test_ready();
	int bad;
	__asm__ volatile("mov 0(%[v]), %%r12\n\t"
			 "mov 8(%[v]), %%r13\n\t"
			 "mov 16(%[v]), %%r14\n\t"
			 "mov 24(%[v]), %%r15\n\t"
			 "vmovdqa (%[y]), %%ymm0\n"
			 "1:\n\t"
			 "mov $1, %[bad]\n\t"
			 "cmp 0(%[v]), %%r12\n\tjne 2f\n\t"
			 "cmp 8(%[v]), %%r13\n\tjne 2f\n\t"
			 "cmp 16(%[v]), %%r14\n\tjne 2f\n\t"
			 "cmp 24(%[v]), %%r15\n\tjne 2f\n\t"
			 "mov $2, %[bad]\n\t"
			 "vxorps (%[y]), %%ymm0, %%ymm1\n\t"
			 "vptest %%ymm1, %%ymm1\n\tjnz 2f\n\t"
			 "pause\n\t"
			 "cmpl $0, (%[f])\n\tje 1b\n\t"
			 "mov $0, %[bad]\n"
			 "2:\n\t"
			 "mov %%r12, 0(%[o])\n\t"
			 "mov %%r13, 8(%[o])\n\t"
			 "mov %%r14, 16(%[o])\n\t"
			 "mov %%r15, 24(%[o])\n\t"
			 "vmovdqa %%ymm0, 32(%[o])\n\t"
			 "vzeroupper\n"
			 : [bad] "=&r"(bad)
			 : [v] "r"(want), [y] "r"(want_ymm), [f] "r"(test_sigflag()), [o] "r"(got)
			 : "r12", "r13", "r14", "r15", "xmm0", "xmm1", "cc", "memory");
	if (bad == 1)
		fail("r12-r15 are %llx %llx %llx %llx", (unsigned long long)got[0],
		     (unsigned long long)got[1], (unsigned long long)got[2],
		     (unsigned long long)got[3]);
	if (bad == 2)
		fail("ymm0 is %llx %llx %llx %llx", (unsigned long long)got[4],
		     (unsigned long long)got[5], (unsigned long long)got[6],
		     (unsigned long long)got[7]);
	pass();
}
