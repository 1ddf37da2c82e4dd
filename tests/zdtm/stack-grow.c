// zdtm-desc: deep stack frames keep their data, and the stack grows further down after restore
// zdtm-disturb: gdb_do 'set *(char *)(*(long *)&deep_frame + 7) ^= 1'
#include "lib.h"

#include <stdlib.h>

#define FRAME (64 * 1024)

char *deep_frame; /* the deepest frame before the checkpoint */

static unsigned long stack_low(void)
{
	char maps[1 << 16];
	read_text("/proc/self/maps", maps, sizeof(maps));
	char *line = strstr(maps, "[stack]");
	CHECK(line, "no [stack] in /proc/self/maps");
	while (line > maps && line[-1] != '\n')
		line--;
	return strtoul(line, NULL, 16);
}

/* Recurse with one FRAME-sized pattern per level; at the bottom call fn. */
static void descend(int depth, int limit, void (*fn)(void), uint64_t seed)
{
	char frame[FRAME];
	datagen(frame, FRAME, seed + (uint64_t)depth);
	if (depth + 1 < limit)
		descend(depth + 1, limit, fn, seed);
	else {
		deep_frame = frame;
		fn();
	}
	ssize_t off = datachk(frame, FRAME, seed + (uint64_t)depth);
	CHECK(off < 0, "stack frame %d (seed %llu) differs at %zd", depth,
	      (unsigned long long)seed, off);
	__asm__ volatile("" : : "r"(frame) : "memory");
}

static unsigned long low_before;

static void wait_here(void)
{
	/* Twice: what stack_low calls after reading maps (strtoul...) may
	 * reach a page deeper than it had when it read, depending on where
	 * ASLR put the stack in its page; the second call reads the stack as
	 * the first one left it, and goes no deeper. */
	stack_low();
	low_before = stack_low();
	test_ready();
	test_waitsig();
}

static void nothing(void)
{
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	/* 1 MiB of frames, then wait at the bottom. */
	descend(0, 16, wait_here, 100);
	unsigned long low_after = stack_low();
	CHECK(low_after == low_before, "the stack mapping moved: its low end was %#lx, is %#lx",
	      low_before, low_after);
	/* Now 4 MiB: far below anything mapped before the checkpoint. */
	descend(0, 64, nothing, 200);
	CHECK(stack_low() < low_before - 2 * 1024 * 1024, "the stack did not grow");
	pass();
}
