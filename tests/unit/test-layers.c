/* runtime/coordinator/mem-restore.c: a dump's pagemap whose runs are partly
 * "in the parent" resolved through a chain of parent dumps into where each
 * page's data is (layer, position in that layer's page file, and whose
 * page file when the pages were shared copy-on-write with another task),
 * from real pagemap images in three directories; and the pagemaps that
 * must be refused. Files go to a fresh directory under $TMPDIR (or /tmp). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coordinator/internal.h"
#include "coordinator/mem.h"
#include "tap.h"
#include "util.h"

#define P CR_PAGE
#define TAG "7"

struct run_spec {
	bool parent;
	uint64_t page, n; /* address in pages */
	uint32_t owner;   /* a CR_R_PAGE_COW run: in this task's page file */
	uint64_t pos;     /* from this page on (and a CR_R_PAGE_PART run's) */
	uint8_t part;     /* 1: in the second page file */
};

static int mkdir_at(int at, const char *name)
{
	if (mkdirat(at, name, 0700) < 0)
		abort();
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		abort();
	return fd;
}

static void write_pagemap(int dirfd, const struct run_spec *s, size_t n)
{
	struct cr_img *img = NULL;
	struct rt_err *e = NULL;
	unlinkat(dirfd, "pagemap-" TAG ".img", 0);
	if (cr_img_create(dirfd, "pagemap-" TAG ".img", CR_IMG_PAGEMAP, &img, &e) < 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct cr_rec r;
		cr_rec_init(&r, s[i].parent  ? CR_R_PAGE_PARENT
				: s[i].owner ? CR_R_PAGE_COW
				: s[i].part  ? CR_R_PAGE_PART
					     : CR_R_PAGE_RUN);
		cr_put_u64(&r, s[i].page * P);
		cr_put_u64(&r, s[i].n);
		if (s[i].owner)
			cr_put_u32(&r, s[i].owner);
		if (s[i].owner || s[i].part)
			cr_put_u64(&r, s[i].pos);
		if (s[i].owner)
			cr_put_u8(&r, s[i].part);
		if (cr_img_write(img, &r, &e) < 0)
			abort();
		cr_rec_free(&r);
	}
	if (cr_img_close(img, &e) < 0)
		abort();
}

/* The chain's top pagemap resolved: 0, or -1 with *msg the error. */
static int resolve(int *layers, size_t n_layers, struct cr_mm *mm, char **msg)
{
	struct cr_restore_ctx c = { .n_layers = n_layers };
	memcpy(c.layer, layers, n_layers * sizeof(int));
	struct rt_err *e = NULL;
	memset(mm, 0, sizeof(*mm));
	*msg = NULL;
	int ret = cr_read_runs(layers[0], TAG, &mm->runs, &mm->n_runs, &e);
	for (size_t i = 0; ret == 0 && i < mm->n_runs; i++)
		if (!mm->runs[i].in_parent && !mm->runs[i].owner && !mm->runs[i].part)
			mm->npages += mm->runs[i].npages;
	if (ret == 0)
		ret = cr_runs_resolve(&c, TAG, mm, &e);
	if (ret < 0) {
		*msg = xstrdup(e->msg);
		rt_err_free(e);
	}
	return ret;
}

/* "page+n@layer:pos ..." of the resolved runs ("layer:owner/pos" for a
 * run in another task's page file, "pos.1" in a second page file). */
static char *show(const struct cr_mm *mm)
{
	char *s = xstrdup("");
	for (size_t i = 0; i < mm->n_runs; i++) {
		const struct cr_run *r = &mm->runs[i];
		char owner[16] = "";
		if (r->owner)
			snprintf(owner, sizeof(owner), "%d/", (int)r->owner);
		char *t = xasprintf("%s%s%lu+%lu@%u:%s%lu%s", s, i ? " " : "",
				    (unsigned long)(r->off / P), (unsigned long)r->npages, r->layer,
				    owner, (unsigned long)r->pos, r->part ? ".1" : "");
		free(s);
		s = t;
	}
	return s;
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/ferry-test-layers.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int l[3] = { mkdir_at(root, "top"), mkdir_at(root, "mid"), mkdir_at(root, "old") };

	/* The oldest dump: pages 10-19 and 40-41, all data. */
	const struct run_spec old[] = { { false, 10, 10, 0, 0, 0 }, { false, 40, 2, 0, 0, 0 } };
	/* The middle one: 10-13 unchanged, 14-15 written, 16-19 unchanged,
	 * 30 new, 40-41 unchanged. */
	const struct run_spec mid[] = {
		{ true, 10, 4, 0, 0, 0 }, { false, 14, 2, 0, 0, 0 }, { true, 16, 4, 0, 0, 0 }, { false, 30, 1, 0, 0, 0 }, { true, 40, 2, 0, 0, 0 },
	};
	/* The top: 10-11 written, 12-17 unchanged (from mid: 12-13 old, 14-15
	 * mid, 16-17 old), 19 dropped (absent), 20-21 unchanged but in no
	 * parent (read-faulted zero pages), 30 unchanged, 40-41 written. */
	const struct run_spec top[] = {
		{ false, 10, 2, 0, 0, 0 }, { true, 12, 6, 0, 0, 0 }, { true, 20, 2, 0, 0, 0 }, { true, 30, 1, 0, 0, 0 }, { false, 40, 2, 0, 0, 0 },
	};
	write_pagemap(l[2], old, 2);
	write_pagemap(l[1], mid, 5);
	write_pagemap(l[0], top, 5);

	struct cr_mm mm;
	char *msg, *got;
	TAP_OK(resolve(l, 3, &mm, &msg) == 0, "resolve a three-dump chain (%s)", msg ? msg : "ok");
	got = show(&mm);
	TAP_STREQ(got, "10+2@0:0 12+2@2:2 14+2@1:0 16+2@2:6 30+1@1:2 40+2@0:2",
		  "every page comes from the newest dump that holds it; holes stay holes");
	TAP_OK(mm.layer_pages[0] == 4 && mm.layer_pages[1] == 3 && mm.layer_pages[2] == 12,
	       "each layer's page file size is known (%lu %lu %lu)",
	       (unsigned long)mm.layer_pages[0], (unsigned long)mm.layer_pages[1],
	       (unsigned long)mm.layer_pages[2]);
	free(got);
	free(mm.runs);

	/* Without the parent layers: refused, naming the pagemap. */
	TAP_OK(resolve(l, 1, &mm, &msg) < 0 && strstr(msg, "pagemap-" TAG ".img") &&
		       strstr(msg, "parent"),
	       "in-parent runs without a parent are refused: %s", msg ? msg : "(accepted)");
	free(msg);
	free(mm.runs);

	/* The middle dump lacks this task's pagemap. */
	unlinkat(l[1], "pagemap-" TAG ".img", 0);
	TAP_OK(resolve(l, 3, &mm, &msg) < 0 && strstr(msg, "parent dump 1"),
	       "a parent without the task's pagemap is refused: %s", msg ? msg : "(accepted)");
	free(msg);
	free(mm.runs);
	write_pagemap(l[1], mid, 5);

	/* Runs out of order cannot be merged. */
	const struct run_spec unsorted[] = { { true, 30, 1, 0, 0, 0 }, { false, 10, 2, 0, 0, 0 } };
	write_pagemap(l[0], unsorted, 2);
	TAP_OK(resolve(l, 3, &mm, &msg) < 0 && strstr(msg, "not after"),
	       "runs out of order are refused: %s", msg ? msg : "(accepted)");
	free(msg);
	free(mm.runs);

	/* Pages shared copy-on-write with other tasks: the middle dump has
	 * 50-52 in task 9's page file from its page 5 on; the top has 50-52
	 * unchanged since, and 60-61 in task 8's from page 0. Those runs
	 * count in no layer's own page file. */
	/* And a second page file: the middle dump has 80-83 in its own
	 * second file from page 7 on, the top 90-91 in task 8's second file
	 * from page 4 on and 95 in its own second file at page 0. */
	const struct run_spec mid_cow[] = {
		{ true, 10, 4, 0, 0, 0 }, { false, 14, 2, 0, 0, 0 }, { true, 16, 4, 0, 0, 0 },
		{ false, 30, 1, 0, 0, 0 }, { true, 40, 2, 0, 0, 0 }, { false, 50, 3, 9, 5, 0 },
		{ false, 80, 4, 0, 7, 1 },
	};
	const struct run_spec top_cow[] = {
		{ false, 10, 2, 0, 0, 0 }, { true, 12, 6, 0, 0, 0 }, { true, 50, 3, 0, 0, 0 },
		{ false, 60, 2, 8, 0, 0 }, { false, 70, 1, 0, 0, 0 }, { true, 80, 4, 0, 0, 0 },
		{ false, 90, 2, 8, 4, 1 }, { false, 95, 1, 0, 0, 1 },
	};
	write_pagemap(l[1], mid_cow, 7);
	write_pagemap(l[0], top_cow, 8);
	TAP_OK(resolve(l, 3, &mm, &msg) == 0,
	       "resolve runs in other tasks' and second page files (%s)", msg ? msg : "ok");
	got = show(&mm);
	TAP_STREQ(got, "10+2@0:0 12+2@2:2 14+2@1:0 16+2@2:6 50+3@1:9/5 60+2@0:8/0 70+1@0:2 "
		       "80+4@1:7.1 90+2@0:8/4.1 95+1@0:0.1",
		  "a run in another task's or a second page file keeps its file and position, "
		  "also through a parent");
	TAP_OK(mm.layer_pages[0] == 3 && mm.layer_pages[1] == 3,
	       "those runs are not in the task's first page files (%lu %lu)",
	       (unsigned long)mm.layer_pages[0], (unsigned long)mm.layer_pages[1]);
	free(got);
	free(mm.runs);

	/* A run in task 0's page file names no task. */
	const struct run_spec bad_owner[] = { { false, 60, 2, 0, 0, 0 } };
	struct cr_img *img = NULL;
	struct rt_err *e = NULL;
	unlinkat(l[0], "pagemap-" TAG ".img", 0);
	if (cr_img_create(l[0], "pagemap-" TAG ".img", CR_IMG_PAGEMAP, &img, &e) < 0)
		abort();
	struct cr_rec r;
	cr_rec_init(&r, CR_R_PAGE_COW);
	cr_put_u64(&r, bad_owner[0].page * P);
	cr_put_u64(&r, bad_owner[0].n);
	cr_put_u32(&r, 0);
	cr_put_u64(&r, 0);
	if (cr_img_write(img, &r, &e) < 0 || cr_img_close(img, &e) < 0)
		abort();
	cr_rec_free(&r);
	TAP_OK(resolve(l, 3, &mm, &msg) < 0 && strstr(msg, "pagemap-" TAG ".img") &&
		       strstr(msg, "record 0"),
	       "a run in no task's page file is refused: %s", msg ? msg : "(accepted)");
	free(msg);
	free(mm.runs);
	write_pagemap(l[1], mid, 5);

	/* A dump with no in-parent run never reads its parents. */
	write_pagemap(l[0], old, 2);
	TAP_OK(resolve(l, 1, &mm, &msg) == 0 && mm.n_runs == 2 && mm.runs[1].pos == 10,
	       "a full dump resolves to itself");
	free(mm.runs);

	for (int i = 0; i < 3; i++)
		close(l[i]);
	const char *names[] = { "top", "mid", "old" };
	for (int i = 0; i < 3; i++) {
		int fd = openat(root, names[i], O_RDONLY | O_DIRECTORY);
		unlinkat(fd, "pagemap-" TAG ".img", 0);
		close(fd);
		unlinkat(root, names[i], AT_REMOVEDIR);
	}
	close(root);
	rmdir(dir);
	free(dir);
	return tap_done();
}
