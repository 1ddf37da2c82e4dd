/* runtime/coordinator/dedup.c: which pages of a parent dump's page file
 * --auto-dedup punches, given the pages the restore reads there (the
 * resolved runs of every task, which may overlap when tasks shared pages
 * copy-on-write, and come in any order). */
#include <stdlib.h>

#include "coordinator/internal.h"
#include "coordinator/mem.h"
#include "tap.h"
#include "util.h"

#define MAX_SPANS 4

struct gap_case {
	const char *name;
	struct cr_span used[MAX_SPANS];
	size_t n;
	uint64_t npages;
	const char *gaps; /* "pos+n pos+n ..." */
};

static const struct gap_case cases[] = {
	{ "nothing read: the whole file goes", { { 0, 0 } }, 0, 10, "0+10" },
	{ "an empty file has nothing to punch", { { 0, 0 } }, 0, 0, "" },
	{ "everything read: nothing goes", { { 0, 10 } }, 1, 10, "" },
	{ "the pages around and between runs given out of order", { { 7, 2 }, { 2, 3 } }, 2, 12,
	  "0+2 5+2 9+3" },
	/* two tasks reading the same pages, one run inside another */
	{ "overlapping and nested runs", { { 3, 5 }, { 4, 2 }, { 6, 4 }, { 12, 1 } }, 4, 14,
	  "0+3 10+2 13+1" },
	{ "adjacent runs leave no gap between them", { { 0, 2 }, { 2, 2 }, { 4, 1 } }, 3, 6, "5+1" },
	/* a file shorter than its runs say */
	{ "nothing past the file's end is punched", { { 1, 1 }, { 6, 10 } }, 2, 8, "0+1 2+4" },
	{ "a run wholly past the end leaves the file to punch", { { 20, 5 } }, 1, 8, "0+8" },
};

int main(void)
{
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct cr_span used[MAX_SPANS], *g = NULL;
		memcpy(used, cases[c].used, sizeof(used));
		size_t ng = cr_span_gaps(used, cases[c].n, cases[c].npages, &g);
		char *got = xstrdup("");
		for (size_t i = 0; i < ng; i++) {
			char *t = xasprintf("%s%s%llu+%llu", got, i ? " " : "",
					    (unsigned long long)g[i].pos, (unsigned long long)g[i].n);
			free(got);
			got = t;
		}
		TAP_STREQ(got, cases[c].gaps, "%s", cases[c].name);
		free(got);
		free(g);
	}
	return tap_done();
}
