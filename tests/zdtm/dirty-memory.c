// zdtm-desc: memory written, dropped and remapped all the time, also while being dumped (pre-dump + incremental dump) keeps every page exact
// zdtm: dedup=16
// zdtm-disturb: gdb_do 'set *(char *)(*(long *)&area + 100) ^= 1'
#include "lib.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PG 4096
#define PAGES 4096 /* 16 MiB: page 0 never changes, the others do */
#define SLOTS 8	   /* regions munmap'ed and mapped anew */
#define SLOT_PAGES 16

char *area;
static uint32_t round_of[PAGES];	   /* what each page holds; 0: dropped */
static char *slot_addr[SLOTS];
static uint32_t slot_round[SLOTS];
static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t seed(uint64_t what, uint32_t r)
{
	return what * 0x9E3779B97F4A7C15ull + r;
}

/* Each operation finishes its memory writes before it records them, and
 * a dump may stop it anywhere: the restored program completes it. */
static void write_page(size_t i, uint32_t r)
{
	datagen(area + i * PG, PG, seed(i, r));
	round_of[i] = r;
}

static void drop_page(size_t i)
{
	SYS(madvise(area + i * PG, PG, MADV_DONTNEED));
	round_of[i] = 0;
}

static void remap_slot(size_t s, uint32_t r)
{
	if (slot_addr[s])
		SYS(munmap(slot_addr[s], SLOT_PAGES * PG));
	char *p = mmap(NULL, SLOT_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	CHECK(p != MAP_FAILED, "mmap: %m");
	datagen(p, SLOT_PAGES * PG, seed(1000000 + s, r));
	slot_addr[s] = p;
	slot_round[s] = r;
}

static bool is_zero(const char *p)
{
	for (size_t k = 0; k < PG; k++)
		if (p[k])
			return false;
	return true;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	area = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(area != MAP_FAILED, "mmap: %m");
	for (size_t i = 0; i < PAGES; i++)
		write_page(i, 1);
	for (size_t s = 0; s < SLOTS; s++)
		remap_slot(s, 1);
	test_ready();

	uint32_t r = 1;
	struct timespec pause = {0, 2000000};
	while (!test_sig_received()) {
		r++;
		for (int k = 0; k < 64; k++)
			write_page(1 + next_rand() % (PAGES - 1), r);
		for (int k = 0; k < 4; k++)
			drop_page(1 + next_rand() % (PAGES - 1));
		remap_slot(next_rand() % SLOTS, r);
		nanosleep(&pause, NULL);
	}

	for (size_t i = 0; i < PAGES; i++) {
		const char *p = area + i * PG;
		if (round_of[i] == 0)
			CHECK(is_zero(p), "page %zu was dropped but holds data", i);
		else
			CHECK(datachk(p, PG, seed(i, round_of[i])) < 0,
			      "page %zu is not what round %u wrote (after %u rounds)", i,
			      round_of[i], r);
	}
	for (size_t s = 0; s < SLOTS; s++)
		CHECK(datachk(slot_addr[s], SLOT_PAGES * PG, seed(1000000 + s, slot_round[s])) < 0,
		      "region %zu at %p is not what round %u wrote", s, (void *)slot_addr[s],
		      slot_round[s]);
	test_msg("%u rounds", r);
	pass();
}
