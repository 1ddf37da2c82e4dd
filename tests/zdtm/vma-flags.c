// zdtm-desc: mlock, MAP_NORESERVE and madvise advice (dontfork, wipeonfork, dontdump, hugepage, nohugepage, sequential, random, mergeable) and mseal stay on their mappings
// zdtm-disturb: gdb_do 'call (int)madvise(*(long *)&area, 4096, 11)'
#include "lib.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096
#define N 10

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
#ifndef SYS_mseal
#define SYS_mseal 462
#endif

char *area; /* N pages, each its own mapping after the advice splits it */

static const struct {
	int advice; /* 0: see below */
	const char *flag;
} want[N] = {
	{ MADV_DONTFORK, "dc" }, { MADV_WIPEONFORK, "wf" }, { MADV_DONTDUMP, "dd" },
	{ MADV_HUGEPAGE, "hg" }, { MADV_NOHUGEPAGE, "nh" }, { MADV_SEQUENTIAL, "sr" },
	{ MADV_RANDOM, "rr" },   { MADV_MERGEABLE, "mg" },  { -1, "lo" }, /* mlock */
	{ -2, "sl" },						     /* mseal */
};
static bool have[N];

/* Does the smaps entry of the mapping at addr list flag? */
static bool smaps_has(const char *addr_hex, const char *flag)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false, found = false;
	CHECK(f, "open smaps: %m");
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' ') &&
		    strncmp(line, "VmFlags", 7) != 0)
			in = strncmp(line, addr_hex, strlen(addr_hex)) == 0 &&
			     line[strlen(addr_hex)] == '-';
		else if (in && strncmp(line, "VmFlags:", 8) == 0) {
			char pat[8];
			snprintf(pat, sizeof(pat), " %s", flag);
			for (char *p = strstr(line, pat); p && !found; p = strstr(p + 1, pat))
				found = p[3] == ' ' || p[3] == '\n';
			break;
		}
	}
	fclose(f);
	return found;
}

static void check_flags(const char *when)
{
	for (int i = 0; i < N; i++) {
		if (!have[i])
			continue;
		char hex[32];
		snprintf(hex, sizeof(hex), "%lx", (unsigned long)(area + i * PG));
		CHECK(smaps_has(hex, want[i].flag), "%s: page %d lost its '%s' flag", when, i,
		      want[i].flag);
	}
	/* the mlock'ed neighbours of nothing else: page 0's flags are only its own */
	char hex[32];
	snprintf(hex, sizeof(hex), "%lx", (unsigned long)area);
	CHECK(!smaps_has(hex, "wf"), "%s: page 0 has wf", when);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	area = mmap(NULL, N * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		    -1, 0);
	CHECK(area != MAP_FAILED, "mmap: %m");
	for (int i = 0; i < N; i++)
		datagen(area + i * PG, PG, 90 + (uint64_t)i);
	for (int i = 0; i < N; i++) {
		int r;
		if (want[i].advice >= 0)
			r = madvise(area + i * PG, PG, want[i].advice);
		else if (want[i].advice == -1)
			r = mlock(area + i * PG, PG);
		else
			r = (int)syscall(SYS_mseal, area + i * PG, PG, 0);
		/* no KSM, no mseal, no RLIMIT_MEMLOCK here: nothing to keep */
		have[i] = r == 0;
		if (r)
			test_msg("%s: %s, not checked", want[i].flag, strerror(errno));
	}
	check_flags("before");
	test_ready();
	test_waitsig();

	check_flags("after");
	char hex[32];
	snprintf(hex, sizeof(hex), "%lx", (unsigned long)area);
	CHECK(smaps_has(hex, "nr"), "MAP_NORESERVE is gone");
	for (int i = 0; i < N; i++)
		CHECK(datachk(area + i * PG, PG, 90 + (uint64_t)i) < 0, "page %d changed", i);
	/* wipe-on-fork does what it says: a child sees zeros there */
	pid_t c = fork();
	CHECK(c >= 0, "fork: %m");
	if (c == 0)
		_exit(area[1 * PG] == 0 && area[2 * PG] != 0 ? 0 : 1);
	int st;
	CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "a child does not see page 1 wiped (wipe-on-fork) and page 2 whole");
	pass();
}
