// zdtm-desc: x87 stack and control word, MXCSR and ymm2-ymm15 (SSE and AVX halves) are kept
// zdtm-disturb: gdb_do 'set $ymm9.v8_int32[7] = 0'
#include "lib.h"

#include <cpuid.h>

static const double x87[3] = { 3.25, -1e300, 0.1 };
static const uint16_t cw = 0x0f7f;  /* round toward zero, 64-bit precision */
static const uint32_t mxcsr = 0xbf80; /* flush to zero, round down, all masked */
static uint64_t ymm[16][4] __attribute__((aligned(32)));
static uint32_t scratch[2];

static bool have_avx(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_AVX) || !(c & bit_OSXSAVE))
		return false;
	unsigned lo, hi;
	__asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6;
}

#define LOAD(n) "vmovdqa " #n "*32(%[y]), %%ymm" #n "\n\t"
#define CMP(n) "vxorps " #n "*32(%[y]), %%ymm" #n ", %%ymm1\n\tvptest %%ymm1, %%ymm1\n\tjnz 2f\n\t"
#define ALL(m) m(2) m(3) m(4) m(5) m(6) m(7) m(8) m(9) m(10) m(11) m(12) m(13) m(14) m(15)

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (!have_avx())
		skip("no AVX on this CPU");
	datagen(ymm, sizeof(ymm), 77);
	test_ready();
	int bad;
	__asm__ volatile("fninit\n\tfldcw (%[cw])\n\tldmxcsr (%[mx])\n\t"
			 "fldl 0(%[x])\n\tfldl 8(%[x])\n\tfldl 16(%[x])\n\t" ALL(LOAD)
			 "1:\n\t"
			 "mov $1, %[bad]\n\t"
			 "fnstcw (%[s])\n\tmovzwl (%[s]), %%eax\n\tcmpw (%[cw]), %%ax\n\tjne 2f\n\t"
			 "mov $2, %[bad]\n\t"
			 "stmxcsr (%[s])\n\tmov (%[s]), %%eax\n\tcmp (%[mx]), %%eax\n\tjne 2f\n\t"
			 "mov $3, %[bad]\n\t"
			 "fldl 16(%[x])\n\tfcomip %%st(1), %%st\n\tjne 2f\n\tjp 2f\n\t"
			 "fldl 8(%[x])\n\tfcomip %%st(2), %%st\n\tjne 2f\n\tjp 2f\n\t"
			 "fldl 0(%[x])\n\tfcomip %%st(3), %%st\n\tjne 2f\n\tjp 2f\n\t"
			 "mov $4, %[bad]\n\t" ALL(CMP)
			 "pause\n\t"
			 "cmpl $0, (%[f])\n\tje 1b\n\t"
			 "mov $0, %[bad]\n"
			 "2:\n\t"
			 "fstp %%st(0)\n\tfstp %%st(0)\n\tfstp %%st(0)\n\t"
			 "vzeroupper\n\tfninit\n\tmovl $0x1f80, (%[s])\n\tldmxcsr (%[s])\n"
			 : [bad] "=&r"(bad)
			 : [x] "r"(x87), [cw] "r"(&cw), [mx] "r"(&mxcsr), [y] "r"(ymm),
			   [s] "r"(scratch), [f] "r"(test_sigflag())
			 : "rax", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
			   "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st", "st(1)", "st(2)",
			   "st(3)", "cc", "memory");
	static const char *what[] = { "", "the x87 control word", "MXCSR", "the x87 stack",
				      "a ymm register" };
	CHECK(!bad, "%s changed", what[bad]);
	pass();
}
