/* --auto-dedup: a chain of incremental dumps keeps each page once. Once a
 * dump made against a parent is complete, every page of its parent dumps'
 * page files that its restore will not read is punched out
 * (FALLOC_FL_PUNCH_HOLE, sizes kept): the older copies of pages written
 * again since, and the pages of processes and mappings gone since. Which
 * pages the restore reads is found as the restore finds it, each task's
 * pagemap resolved through the layers (mem-runs.c), copy-on-write runs
 * into other tasks' page files included.
 *
 * Only pre-dumps are punched, from the newest parent down to the first
 * whole checkpoint in the chain (a --leave-running one): that one stays
 * restorable by itself, and so do the parents it reads. A pre-dump
 * punched this way is still a good parent of this dump, and of later
 * dumps made against this one (their unchanged pages are this dump's),
 * but of no other: ferry trusts only the last dump of a container's
 * tracked memory as a parent anyway (mem-track.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coordinator/coordinator.h"
#include "coordinator/internal.h"
#include "coordinator/mem.h"
#include "util.h"

static int cmp_span(const void *a, const void *b)
{
	const struct cr_span *x = a, *y = b;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

size_t cr_span_gaps(struct cr_span *used, size_t n, uint64_t npages, struct cr_span **gaps)
{
	if (n > 1)
		qsort(used, n, sizeof(*used), cmp_span);
	struct cr_span *g = NULL;
	size_t ng = 0, cap = 0;
	uint64_t at = 0; /* pages before this are used or given as gaps */
	for (size_t i = 0; i <= n && at < npages; i++) {
		uint64_t end = i < n ? used[i].pos : npages;
		if (end > npages)
			end = npages;
		if (end > at) {
			if (ng == cap)
				g = xrealloc(g, (cap = cap * 2 + 8) * sizeof(*g));
			g[ng++] = (struct cr_span){ .pos = at, .n = end - at };
		}
		if (i < n && used[i].pos + used[i].n > at)
			at = used[i].pos + used[i].n;
	}
	*gaps = g;
	return ng;
}

/* A page file some resolved run reads: layer, whose file, which part. */
struct use {
	uint32_t layer;
	pid_t tag;
	uint8_t part;
	struct cr_span s;
};

struct uses {
	struct use *u;
	size_t n, cap;
};

static void add_use(struct uses *u, const struct cr_run *r, pid_t task)
{
	if (u->n == u->cap)
		u->u = xrealloc(u->u, (u->cap = u->cap * 2 + 64) * sizeof(*u->u));
	u->u[u->n++] = (struct use){ .layer = r->layer,
				     .tag = r->owner ? r->owner : task,
				     .part = r->part,
				     .s = { .pos = r->pos, .n = r->npages } };
}

/* Every page the restore of the image in c reads from a parent layer. */
static int collect_uses(struct cr_restore_ctx *c, struct uses *u, struct rt_err **err)
{
	for (size_t i = 0; i < c->n; i++) {
		struct cr_rtask *t = &c->tasks[i];
		if (t->zombie)
			continue;
		struct cr_mm *mm = xcalloc(1, sizeof(*mm));
		char tag[32];
		snprintf(tag, sizeof(tag), "%d", t->vpid);
		int ret = cr_mm_load(c, t, mm, err);
		if (ret == 0)
			ret = cr_runs_resolve(c, tag, mm, err);
		for (size_t k = 0; ret == 0 && k < mm->n_runs; k++)
			if (mm->runs[k].layer > 0)
				add_use(u, &mm->runs[k], t->vpid);
		cr_mm_free(mm);
		if (ret < 0)
			return rt_err_wrap(err, "pid %d", t->vpid);
	}
	return 0;
}

/* "pages-TAG.img" or "pages-TAG.1.img": tag and part; false for others. */
static bool page_file_name(const char *name, pid_t *tag, uint8_t *part)
{
	if (strncmp(name, "pages-", 6) != 0 || name[6] < '0' || name[6] > '9')
		return false;
	char *end;
	long v = strtol(name + 6, &end, 10);
	if (v <= 0 || v > 0x3fffffff)
		return false;
	*tag = (pid_t)v;
	if (strcmp(end, ".img") == 0)
		*part = 0;
	else if (strcmp(end, ".1.img") == 0)
		*part = 1;
	else
		return false;
	return true;
}

/* Punch the pages of one page file that no use reaches; *freed grows by
 * the pages whose space came back. */
static int punch_file(int dirfd, size_t layer, const char *name, pid_t tag, uint8_t part,
		      const struct uses *u, uint64_t *freed, struct rt_err **err)
{
	char img_tag[48];
	snprintf(img_tag, sizeof(img_tag), part ? "%d.1" : "%d", tag);
	cleanup_img struct cr_img *img = NULL;
	uint64_t size;
	if (cr_open_pages(dirfd, img_tag, &img, &size, err) < 0) /* checks the header */
		return -1;
	uint64_t npages = (size - CR_IMG_PAGE_SIZE) / CR_PAGE;
	cleanup_free struct cr_span *used = xcalloc(u->n ? u->n : 1, sizeof(*used)), *gaps = NULL;
	size_t n = 0;
	for (size_t i = 0; i < u->n; i++)
		if (u->u[i].layer == layer && u->u[i].tag == tag && u->u[i].part == part)
			used[n++] = u->u[i].s;
	size_t ng = cr_span_gaps(used, n, npages, &gaps);
	if (ng == 0)
		return 0;
	cleanup_close int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat before, after;
	if (fd < 0 || fstat(fd, &before) < 0)
		return rt_err_set(err, errno, "open '%s' to punch it", name);
	for (size_t i = 0; i < ng; i++)
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(CR_IMG_PAGE_SIZE + gaps[i].pos * CR_PAGE),
			      (off_t)(gaps[i].n * CR_PAGE)) < 0)
			return rt_err_set(err, errno, "%s: punch pages %llu-%llu", name,
					  (unsigned long long)gaps[i].pos,
					  (unsigned long long)(gaps[i].pos + gaps[i].n - 1));
	if (fstat(fd, &after) == 0 && after.st_blocks < before.st_blocks)
		*freed += (uint64_t)(before.st_blocks - after.st_blocks) * 512 / CR_PAGE;
	return 0;
}

static int punch_layer(struct cr_restore_ctx *c, size_t k, const struct uses *u,
		       uint64_t *freed, struct rt_err **err)
{
	int fd = openat(c->layer[k], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return rt_err_set(err, errno, "list parent dump %zu", k);
	}
	int ret = 0;
	struct dirent *e;
	while (ret == 0 && (e = readdir(d)) != NULL) {
		pid_t tag;
		uint8_t part;
		if (page_file_name(e->d_name, &tag, &part))
			ret = punch_file(c->layer[k], k, e->d_name, tag, part, u, freed, err);
	}
	closedir(d);
	return ret < 0 ? rt_err_wrap(err, "parent dump %zu", k) : 0;
}

int cr_dedup_parents(int images_dirfd, uint64_t *freed, struct rt_err **err)
{
	struct cr_restore_opts o = { .images_dirfd = images_dirfd, .agent_fd = -1,
				     .stdio = { -1, -1, -1 } };
	struct cr_restore_ctx c = { .o = &o };
	struct uses u = { 0 };
	*freed = 0;
	int ret = cr_layers_open(&c, err);
	if (ret == 0)
		ret = cr_load_pstree(&c, err);
	if (ret == 0)
		ret = collect_uses(&c, &u, err);
	/* up to a whole checkpoint: it and its parents stay */
	for (size_t k = 1; ret == 0 && k < c.n_layers && c.layer_pre_dump[k]; k++)
		ret = punch_layer(&c, k, &u, freed, err);
	free(u.u);
	for (size_t i = 0; i < c.n; i++)
		free(c.tasks[i].thr);
	free(c.tasks);
	cr_layers_close(&c);
	return ret < 0 ? rt_err_wrap(err, "deduplicate the parent dumps") : 0;
}
