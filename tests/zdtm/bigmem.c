// zdtm-desc: a big anonymous region ($ZDTM_MB MiB, default 64) keeps every page (a hash per page)
// zdtm: env=ZDTM_MB=64
// zdtm-disturb: gdb_do 'set *(char *)(*(long *)&big + 4096 * 777 + 5) ^= 1'
#include "lib.h"

#include <stdlib.h>
#include <sys/mman.h>

#define PG 4096

char *big;

int main(int argc, char **argv)
{
	test_init(argc, argv);
	const char *mb_env = getenv("ZDTM_MB");
	size_t mb = mb_env ? strtoul(mb_env, NULL, 10) : 64;
	CHECK(mb >= 4, "ZDTM_MB=%zu is too small", mb);
	size_t len = mb << 20, pages = len / PG;
	big = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(big != MAP_FAILED, "mmap %zu MiB: %m", mb);
	uint64_t *hashes = calloc(pages, sizeof(*hashes));
	CHECK(hashes, "calloc: %m");
	/* Cheap per-page content: a page-specific word pattern. */
	for (size_t i = 0; i < pages; i++) {
		uint64_t *w = (uint64_t *)(big + i * PG);
		for (size_t j = 0; j < PG / 8; j++)
			w[j] = (i * 0x9E3779B97F4A7C15ULL) ^ (j * 0xBF58476D1CE4E5B9ULL);
		hashes[i] = hash64(w, PG);
	}
	test_ready();
	test_waitsig();

	size_t bad = 0, first = 0;
	for (size_t i = 0; i < pages; i++)
		if (hash64(big + i * PG, PG) != hashes[i] && !bad++)
			first = i;
	CHECK(!bad, "%zu of %zu pages changed, the first is page %zu", bad, pages, first);
	pass();
}
