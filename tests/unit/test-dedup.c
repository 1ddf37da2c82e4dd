/* runtime/coordinator/dedup.c: which pages of a parent dump's page file
 * --auto-dedup punches, given the pages the restore reads there (the
 * resolved runs of every task, which may overlap when tasks shared pages
 * copy-on-write, and come in any order). */
#include <stdlib.h>

#include "coordinator/internal.h"
#include "coordinator/mem.h"
#include "tap.h"
#include "util.h"

/* The gaps of used[0..n) in npages pages as "pos+n pos+n ...". */
static char *gaps_of(struct cr_span *used, size_t n, uint64_t npages)
{
	struct cr_span *g = NULL;
	size_t ng = cr_span_gaps(used, n, npages, &g);
	char *s = xstrdup("");
	for (size_t i = 0; i < ng; i++) {
		char *t = xasprintf("%s%s%llu+%llu", s, i ? " " : "", (unsigned long long)g[i].pos,
				    (unsigned long long)g[i].n);
		free(s);
		s = t;
	}
	free(g);
	return s;
}

int main(void)
{
	char *got;

	got = gaps_of(NULL, 0, 10);
	TAP_STREQ(got, "0+10", "nothing read: the whole file goes");
	free(got);

	got = gaps_of(NULL, 0, 0);
	TAP_STREQ(got, "", "an empty file has nothing to punch");
	free(got);

	struct cr_span all[] = { { 0, 10 } };
	got = gaps_of(all, 1, 10);
	TAP_STREQ(got, "", "everything read: nothing goes");
	free(got);

	struct cr_span mixed[] = { { 7, 2 }, { 2, 3 } };
	got = gaps_of(mixed, 2, 12);
	TAP_STREQ(got, "0+2 5+2 9+3", "the pages around and between runs given out of order");
	free(got);

	/* two tasks reading the same pages, one run inside another */
	struct cr_span overlap[] = { { 3, 5 }, { 4, 2 }, { 6, 4 }, { 12, 1 } };
	got = gaps_of(overlap, 4, 14);
	TAP_STREQ(got, "0+3 10+2 13+1", "overlapping and nested runs");
	free(got);

	struct cr_span touching[] = { { 0, 2 }, { 2, 2 }, { 4, 1 } };
	got = gaps_of(touching, 3, 6);
	TAP_STREQ(got, "5+1", "adjacent runs leave no gap between them");
	free(got);

	/* a run reaching past the end (a file shorter than a run says) */
	struct cr_span past[] = { { 1, 1 }, { 6, 10 } };
	got = gaps_of(past, 2, 8);
	TAP_STREQ(got, "0+1 2+4", "nothing past the file's end is punched");
	free(got);

	struct cr_span beyond[] = { { 20, 5 } };
	got = gaps_of(beyond, 1, 8);
	TAP_STREQ(got, "0+8", "a run wholly past the end leaves the file to punch");
	free(got);

	return tap_done();
}
