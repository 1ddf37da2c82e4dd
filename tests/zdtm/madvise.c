// zdtm-desc: pages dropped with madvise(MADV_DONTNEED) read back as zeros; the others keep data
// zdtm-disturb: gdb_do 'set *(char *)(*(long *)&area + 4096 * 3 + 1) = 9'
#include "lib.h"

#include <sys/mman.h>

#define PG 4096
#define PAGES 32

char *area;

static bool is_hole(int i)
{
	return i % 3 == 0 || (i >= 20 && i < 26);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	area = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(area != MAP_FAILED, "mmap: %m");
	for (int i = 0; i < PAGES; i++)
		datagen(area + i * PG, PG, 40 + (uint64_t)i);
	for (int i = 0; i < PAGES; i++)
		if (is_hole(i))
			SYS(madvise(area + i * PG, PG, MADV_DONTNEED));
	test_ready();
	test_waitsig();

	for (int i = 0; i < PAGES; i++) {
		const char *p = area + i * PG;
		if (!is_hole(i)) {
			CHECK(datachk(p, PG, 40 + (uint64_t)i) < 0, "page %d changed", i);
			continue;
		}
		for (int b = 0; b < PG; b++)
			CHECK(!p[b], "hole page %d: byte %d is 0x%02x, not zero", i, b,
			      (unsigned char)p[b]);
	}
	pass();
}
