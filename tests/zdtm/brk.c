// zdtm-desc: the program break keeps its place and contents, and grows again after restore
// zdtm-disturb: gdb_call '(long)sbrk(40960)'
#include "lib.h"

#include <unistd.h>

#define GROW (256 * 1024)

int main(int argc, char **argv)
{
	test_init(argc, argv);
	/* No malloc here: it would move the break behind our back. */
	char *start = sbrk(0);
	CHECK(sbrk(GROW) == start, "sbrk: %m");
	datagen(start, GROW, 21);
	char *end = sbrk(0);
	test_ready();
	test_waitsig();

	CHECK(sbrk(0) == end, "the break is %p, was %p", sbrk(0), (void *)end);
	CHECK(datachk(start, GROW, 21) < 0, "the brk area changed");
	CHECK(sbrk(GROW) == end, "growing the break after restore: %m");
	datagen(end, GROW, 22);
	CHECK(datachk(end, GROW, 22) < 0, "the new brk area does not hold data");
	CHECK(sbrk(-2 * GROW) == end + GROW, "shrinking the break: %m");
	CHECK(sbrk(0) == start, "the break did not shrink back");
	pass();
}
