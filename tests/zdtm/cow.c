// zdtm-desc: memory shared copy-on-write after fork (anonymous and a binary's data) keeps each process's view, and stays private
// zdtm: shares=64
// zdtm-disturb: PID=$(child_of $PID) gdb_do 'set *(char *)(*(long *)&area + 4096 * 20 + 9) ^= 1'
#include "lib.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#define NPAGES 64
#define NDATA  4
#define PG     4096

/* Who wrote each page last decides its contents: page i written by writer
 * w holds datagen(seed w * 1000 + i). Writers: the parent before fork (1),
 * child 1 (11), child 2 (12), the parent after fork (2), and each process
 * after the restore (20 + its number). */
static uint8_t *area;
static uint8_t data[NDATA * PG] __attribute__((aligned(PG))) = { 1 };

static void write_pages(uint8_t *p, int first, int last, int step, int writer)
{
	for (int i = first; i <= last; i += step)
		datagen(p + (size_t)i * PG, PG, (uint64_t)writer * 1000 + (uint64_t)i);
}

/* expect[i]: the writer of area page i; dexpect[j]: of data page j. */
static void check(const char *who, const int *expect, const int *dexpect)
{
	for (int i = 0; i < NPAGES; i++)
		CHECK(datachk(area + (size_t)i * PG, PG, (uint64_t)expect[i] * 1000 + (uint64_t)i) < 0,
		      "%s: page %d is not what writer %d wrote", who, i, expect[i]);
	for (int j = 0; j < NDATA; j++)
		CHECK(datachk(data + (size_t)j * PG, PG, (uint64_t)dexpect[j] * 1000 + (uint64_t)j) < 0,
		      "%s: data page %d is not what writer %d wrote", who, j, dexpect[j]);
}

/* After the restore: write everything as writer w and read it back. */
static void make_own(const char *who, int w)
{
	int e[NPAGES], d[NDATA];
	write_pages(area, 0, NPAGES - 1, 1, w);
	write_pages(data, 0, NDATA - 1, 1, w);
	for (int i = 0; i < NPAGES; i++)
		e[i] = w;
	for (int j = 0; j < NDATA; j++)
		d[j] = w;
	check(who, e, d);
}

static int grandchild(void *arg)
{
	const int *e = arg;
	static const int d[NDATA] = { 1, 1, 1, 1 };
	test_waitsig();
	check("grandchild", e, d);
	make_own("grandchild", 23);
	return 0;
}

static int child(void *arg)
{
	int n = (int)(long)arg, e[NPAGES], d[NDATA] = { 1, 1, 1, 1 };
	pid_t gc = 0;
	for (int i = 0; i < NPAGES; i++)
		e[i] = 1;
	if (n == 1) { /* pages 0-15 its own, shared on with a grandchild */
		write_pages(area, 0, 15, 1, 11);
		for (int i = 0; i <= 15; i++)
			e[i] = 11;
		gc = test_fork(grandchild, e);
	} else if (n == 2) { /* odd pages and data page 1 */
		write_pages(area, 1, NPAGES - 1, 2, 12);
		write_pages(data, 1, 1, 1, 12);
		for (int i = 1; i < NPAGES; i += 2)
			e[i] = 12;
		d[1] = 12;
	}
	test_waitsig();
	char who[16];
	snprintf(who, sizeof(who), "child %d", n);
	check(who, e, d);
	if (gc) {
		SYS(kill(gc, SIGUSR2));
		test_wait_ok(gc);
	}
	make_own(who, 20 + n);
	return 0;
}

int main(int argc, char **argv)
{
	int e[NPAGES], d[NDATA] = { 1, 1, 1, 1 };
	pid_t kids[3];
	test_init(argc, argv);
	area = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(area != MAP_FAILED, "mmap: %m");
	write_pages(area, 0, NPAGES - 1, 1, 1);
	write_pages(data, 0, NDATA - 1, 1, 1);
	for (int i = 0; i < 3; i++)
		kids[i] = test_fork(child, (void *)(long)i);
	write_pages(area, 48, NPAGES - 1, 1, 2); /* the parent's own from here */
	for (int i = 0; i < NPAGES; i++)
		e[i] = i >= 48 ? 2 : 1;
	test_ready();
	test_waitsig();

	check("parent", e, d);
	for (int i = 0; i < 3; i++)
		SYS(kill(kids[i], SIGUSR2));
	for (int i = 0; i < 3; i++)
		test_wait_ok(kids[i]);
	/* the children's writes since the restore stayed theirs */
	check("parent, after the children wrote", e, d);
	make_own("parent", 29);
	pass();
}
