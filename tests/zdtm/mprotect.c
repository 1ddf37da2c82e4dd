// zdtm-desc: mprotect'ed regions (PROT_NONE, read-only, split mappings) keep protections and data
// zdtm-disturb: gdb_call '(int)mprotect(*(long *)&area, 4096 * 4, 3)'
#include "lib.h"

#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PG 4096
#define PAGES 12

/* area: pages 0-3 PROT_NONE, 4-7 read-only, 8-11 read-write (one mmap, three VMAs). */
char *area;
static sigjmp_buf jump;

static void on_segv(int sig)
{
	siglongjmp(jump, sig);
}

/* Does touching p fault? */
static bool faults(volatile char *p, bool write)
{
	if (sigsetjmp(jump, 1))
		return true;
	if (write)
		*p = *p;
	else
		(void)*p;
	return false;
}

/* The permissions /proc/self/maps shows for the VMA holding p. */
static void perms(const char *p, char out[5])
{
	static char maps[1 << 16];
	read_text("/proc/self/maps", maps, sizeof(maps));
	for (char *l = maps; *l; l = strchr(l, '\n') + 1) {
		char *dash;
		unsigned long lo = strtoul(l, &dash, 16), hi = strtoul(dash + 1, &dash, 16);
		if ((unsigned long)p >= lo && (unsigned long)p < hi) {
			memcpy(out, dash + 1, 4);
			out[4] = 0;
			return;
		}
	}
	fail("no mapping for %p", (void *)p);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	struct sigaction sa = { .sa_handler = on_segv };
	SYS(sigaction(SIGSEGV, &sa, NULL));
	area = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(area != MAP_FAILED, "mmap: %m");
	datagen(area, PAGES * PG, 31);
	SYS(mprotect(area, 4 * PG, PROT_NONE));
	SYS(mprotect(area + 4 * PG, 4 * PG, PROT_READ));
	test_ready();
	test_waitsig();

	static const char *want[3] = { "---p", "r--p", "rw-p" };
	for (int r = 0; r < 3; r++) {
		char got[5];
		perms(area + r * 4 * PG, got);
		CHECK(!strcmp(got, want[r]), "region %d is %s, not %s", r, got, want[r]);
	}
	CHECK(faults(area + 5, false), "reading the PROT_NONE region did not fault");
	CHECK(faults(area + 4 * PG + 5, true), "writing the read-only region did not fault");
	CHECK(!faults(area + 8 * PG + 5, true), "writing the read-write region faulted");
	SYS(mprotect(area, 4 * PG, PROT_READ));
	CHECK(datachk(area, PAGES * PG, 31) < 0, "the data behind the protections changed");
	pass();
}
