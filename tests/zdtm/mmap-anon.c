// zdtm-desc: private anonymous mappings: full, sparse (untouched pages stay zero) and read-only
// zdtm-disturb: gdb_do 'set *(char *)(*(long *)&sparse + 4096 * 5 + 9) = 1'
#include "lib.h"

#include <sys/mman.h>
#include <unistd.h>

#define PAGES 64
#define PG 4096

char *full, *sparse, *ro;

static void check_zero(const char *p, size_t len, const char *what)
{
	for (size_t i = 0; i < len; i++)
		CHECK(!p[i], "%s: byte %zu is 0x%02x, not zero", what, i, (unsigned char)p[i]);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	full = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sparse = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(full != MAP_FAILED && sparse != MAP_FAILED && ro != MAP_FAILED, "mmap: %m");
	datagen(full, PAGES * PG, 1);
	datagen(ro, PAGES * PG, 3);
	SYS(mprotect(ro, PAGES * PG, PROT_READ));
	/* Every fourth page of sparse is written, the others never touched. */
	for (int i = 0; i < PAGES; i += 4)
		datagen(sparse + i * PG, PG, 100 + (uint64_t)i);
	test_ready();
	test_waitsig();

	CHECK(datachk(full, PAGES * PG, 1) < 0, "the full mapping changed");
	CHECK(datachk(ro, PAGES * PG, 3) < 0, "the read-only mapping changed");
	for (int i = 0; i < PAGES; i++) {
		if (i % 4 == 0)
			CHECK(datachk(sparse + i * PG, PG, 100 + (uint64_t)i) < 0,
			      "sparse page %d changed", i);
		else
			check_zero(sparse + i * PG, PG, "an untouched sparse page");
	}
	/* Still private and writable: writing must not fault. */
	full[0] ^= 1;
	sparse[PG] = 1;
	pass();
}
