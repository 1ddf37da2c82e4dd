// zdtm-desc: the vDSO and vvar stay mapped where they were, and clock_gettime through them is right
// zdtm-disturb: gdb_call "(int)munmap($(awk '/\[vvar\]/ { split($1, a, "-"); printf "0x%s, 0x%s - 0x%s", a[1], a[2], a[1]; exit }' /proc/$PID/maps))"
#include "lib.h"

#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The start address of the mapping named name in /proc/self/maps, or 0. */
static unsigned long mapping(const char *name)
{
	static char maps[1 << 16];
	read_text("/proc/self/maps", maps, sizeof(maps));
	char *l = strstr(maps, name);
	if (!l)
		return 0;
	while (l > maps && l[-1] != '\n')
		l--;
	return strtoul(l, NULL, 16);
}

static double ts(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

/* clock_gettime through glibc (the vDSO) agrees with the real syscall. */
static void check_clock(clockid_t id, const char *name, const struct timespec *before)
{
	struct timespec sys1, lib, sys2;
	SYS(syscall(SYS_clock_gettime, id, &sys1));
	SYS(clock_gettime(id, &lib));
	SYS(syscall(SYS_clock_gettime, id, &sys2));
	CHECK(ts(&lib) >= ts(&sys1) && ts(&lib) <= ts(&sys2), "%s: vDSO says %.6f, syscall %.6f-%.6f",
	      name, ts(&lib), ts(&sys1), ts(&sys2));
	CHECK(!before || ts(&lib) >= ts(before), "%s went backwards", name);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	unsigned long vdso = getauxval(AT_SYSINFO_EHDR), vvar = mapping("[vvar]");
	unsigned long vclock = mapping("[vvar_vclock]"); /* since Linux 6.13 */
	CHECK(vdso && vdso == mapping("[vdso]"), "no vDSO at AT_SYSINFO_EHDR");
	struct timespec mono;
	check_clock(CLOCK_MONOTONIC, "CLOCK_MONOTONIC", NULL);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	test_ready();
	test_waitsig();

	CHECK(mapping("[vdso]") == vdso, "[vdso] is at %#lx, was %#lx", mapping("[vdso]"), vdso);
	CHECK(mapping("[vvar]") == vvar, "[vvar] is at %#lx, was %#lx", mapping("[vvar]"), vvar);
	CHECK(mapping("[vvar_vclock]") == vclock, "[vvar_vclock] is at %#lx, was %#lx",
	      mapping("[vvar_vclock]"), vclock);
	check_clock(CLOCK_MONOTONIC, "CLOCK_MONOTONIC", &mono);
	check_clock(CLOCK_REALTIME, "CLOCK_REALTIME", NULL);
	check_clock(CLOCK_BOOTTIME, "CLOCK_BOOTTIME", NULL);
	struct timeval tv;
	SYS(gettimeofday(&tv, NULL));
	CHECK(labs(tv.tv_sec - time(NULL)) <= 1, "gettimeofday and time disagree");
	pass();
}
