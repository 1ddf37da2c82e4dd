// zdtm-desc: malloc'd memory (small chunks, a brk arena and an mmap'd block) keeps its contents
// zdtm-disturb: gdb_do 'set *(char *)(((long *)&bufs)[3] + 100) ^= 1'
#include "lib.h"

#include <stdlib.h>

#define NBUF 200

char *bufs[NBUF];
static size_t sizes[NBUF];

int main(int argc, char **argv)
{
	test_init(argc, argv);
	for (int i = 0; i < NBUF; i++) {
		/* Mostly small chunks from the brk heap, every 50th one large
		 * enough that malloc mmaps it. */
		sizes[i] = i % 50 == 0 ? (4u << 20) + 123 : 16 + (size_t)i * 37;
		bufs[i] = malloc(sizes[i]);
		CHECK(bufs[i], "malloc %zu: %m", sizes[i]);
		datagen(bufs[i], sizes[i], (uint64_t)i);
	}
	/* Holes in the heap: freed chunks must not confuse anything. */
	for (int i = 1; i < NBUF; i += 7) {
		free(bufs[i]);
		bufs[i] = NULL;
	}
	test_ready();
	test_waitsig();

	for (int i = 0; i < NBUF; i++) {
		if (!bufs[i])
			continue;
		ssize_t off = datachk(bufs[i], sizes[i], (uint64_t)i);
		CHECK(off < 0, "buffer %d (%zu bytes at %p) differs at offset %zd", i, sizes[i],
		      (void *)bufs[i], off);
	}
	/* The allocator's own state must have survived too. */
	for (int i = 0; i < NBUF; i++)
		free(bufs[i]);
	char *p = malloc(1 << 20);
	CHECK(p, "malloc after restore: %m");
	free(p);
	pass();
}
