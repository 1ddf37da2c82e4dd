/* A task's pagemap runs: read from pagemap-TAG.img, resolved through the
 * parent dumps of an incremental checkpoint (which layer holds each
 * page), and the page files they point into (the task's own one or two,
 * other tasks' for pages shared copy-on-write, in any layer) mapped for
 * the fill. Used by restore (mem-restore.c) and checked by inspect
 * (mem-inspect.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "coordinator/mem.h"
#include "util.h"

int cr_read_runs(int dirfd, const char *tag, struct cr_run **runs, size_t *n,
		 struct rt_err **err)
{
	char name[96];
	snprintf(name, sizeof(name), "pagemap-%s.img", tag);
	cleanup_img struct cr_img *img = NULL;
	if (cr_img_open(dirfd, name, CR_IMG_PAGEMAP, &img, err) < 0)
		return -1;
	*runs = NULL;
	*n = 0;
	uint64_t pos = 0;
	for (;;) {
		struct cr_rd r;
		struct cr_run run = { 0 };
		int k = cr_img_next(img, &r, err);
		if (k <= 0)
			return k;
		uint32_t owner = 0;
		uint8_t part = r.type == CR_R_PAGE_PART;
		bool cow = r.type == CR_R_PAGE_COW;
		run.in_parent = r.type == CR_R_PAGE_PARENT;
		if ((r.type != CR_R_PAGE_RUN && r.type != CR_R_PAGE_PART && !cow && !run.in_parent) ||
		    cr_get_u64(&r, "addr", &run.off, err) < 0 ||
		    cr_get_u64(&r, "pages", &run.npages, err) < 0 ||
		    (cow && cr_get_u32(&r, "owner", &owner, err) < 0) ||
		    ((cow || part) && cr_get_u64(&r, "pos", &run.pos, err) < 0) ||
		    (cow && cr_get_u8(&r, "part", &part, err) < 0) || cr_rd_done(&r, err) < 0)
			return rt_err_set(err, 0, "%s: bad record %zu", name, r.index);
		if (run.npages == 0 || run.npages > (1ull << 36) || run.off % CR_PAGE ||
		    run.pos > (1ull << 36) || part > 1 ||
		    (cow && (owner == 0 || owner > INT32_MAX)))
			return rt_err_set(err, 0, "%s: record %zu: bad run", name, r.index);
		run.owner = (pid_t)owner;
		run.part = part;
		if (r.type == CR_R_PAGE_RUN) {
			run.pos = pos;
			pos += run.npages;
		}
		*runs = xrealloc(*runs, (*n + 1) * sizeof(**runs));
		(*runs)[(*n)++] = run;
	}
}

/* In-parent runs need every run in address order, none overlapping. */
static int check_sorted(const struct cr_run *r, size_t n, size_t layer, const char *tag,
			struct rt_err **err)
{
	for (size_t i = 1; i < n; i++)
		if (r[i].off < r[i - 1].off + r[i - 1].npages * CR_PAGE)
			return rt_err_set(err, 0, "pagemap-%s.img%s: run %zu is not after the "
					  "one before", tag, layer ? " of a parent dump" : "", i);
	return 0;
}

/* The runs of layer k (k >= 1) with their in-parent runs resolved. */
static int resolve_layer(struct cr_restore_ctx *c, size_t k, const char *tag,
			 struct cr_mm *mm, struct cr_run **out, size_t *n_out,
			 struct rt_err **err);

/* in (sorted) with its in-parent runs replaced by the overlapping pieces
 * of the resolved parent runs p (sorted). */
static void merge_runs(const struct cr_run *in, size_t n, const struct cr_run *p, size_t np,
		       struct cr_run **out, size_t *n_out)
{
	struct cr_run *o = NULL;
	size_t no = 0, cap = 0, j = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t s = in[i].off, e = s + in[i].npages * CR_PAGE;
		if (!in[i].in_parent) {
			if (no == cap)
				o = xrealloc(o, (cap = cap * 2 + 16) * sizeof(*o));
			o[no++] = in[i];
			continue;
		}
		while (j < np && p[j].off + p[j].npages * CR_PAGE <= s)
			j++;
		for (size_t q = j; q < np && p[q].off < e; q++) {
			uint64_t ps = p[q].off, pe = ps + p[q].npages * CR_PAGE;
			uint64_t lo = ps > s ? ps : s, hi = pe < e ? pe : e;
			if (lo >= hi)
				continue;
			if (no == cap)
				o = xrealloc(o, (cap = cap * 2 + 16) * sizeof(*o));
			o[no++] = (struct cr_run){.off = lo,
						  .npages = (hi - lo) / CR_PAGE,
						  .layer = p[q].layer,
						  .owner = p[q].owner,
						  .part = p[q].part,
						  .pos = p[q].pos + (lo - ps) / CR_PAGE};
		}
	}
	*out = o;
	*n_out = no;
}

/* Resolve the in-parent runs of layer k's runs r (n of them) against
 * layer k + 1. */
static int resolve_runs(struct cr_restore_ctx *c, size_t k, const char *tag, struct cr_mm *mm,
			const struct cr_run *r, size_t n, struct cr_run **out, size_t *n_out,
			struct rt_err **err)
{
	bool any = false;
	for (size_t i = 0; i < n && !any; i++)
		any = r[i].in_parent;
	if (!any) {
		*out = n ? xmalloc(n * sizeof(*r)) : NULL;
		if (n)
			memcpy(*out, r, n * sizeof(*r));
		*n_out = n;
		return 0;
	}
	if (check_sorted(r, n, k, tag, err) < 0)
		return -1;
	if (k + 1 >= c->n_layers)
		return rt_err_set(err, 0, "pagemap-%s.img: pages are in a parent dump but the "
				  "image names none", tag);
	cleanup_free struct cr_run *p = NULL;
	size_t np;
	if (resolve_layer(c, k + 1, tag, mm, &p, &np, err) < 0)
		return -1;
	merge_runs(r, n, p, np, out, n_out);
	return 0;
}

static int resolve_layer(struct cr_restore_ctx *c, size_t k, const char *tag,
			 struct cr_mm *mm, struct cr_run **out, size_t *n_out,
			 struct rt_err **err)
{
	cleanup_free struct cr_run *r = NULL;
	size_t n;
	if (cr_read_runs(c->layer[k], tag, &r, &n, err) < 0)
		return rt_err_wrap(err, "parent dump %zu", k);
	mm->layer_pages[k] = 0;
	for (size_t i = 0; i < n; i++) {
		r[i].layer = (uint32_t)k;
		if (!r[i].in_parent && !r[i].owner && !r[i].part)
			mm->layer_pages[k] += r[i].npages;
	}
	return resolve_runs(c, k, tag, mm, r, n, out, n_out, err);
}

int cr_runs_resolve(struct cr_restore_ctx *c, const char *tag, struct cr_mm *mm,
		    struct rt_err **err)
{
	struct cr_run *res;
	size_t n;
	mm->layer_pages[0] = mm->npages;
	if (resolve_runs(c, 0, tag, mm, mm->runs, mm->n_runs, &res, &n, err) < 0)
		return -1;
	free(mm->runs);
	mm->runs = res;
	mm->n_runs = n;
	return 0;
}

int cr_open_pages(int dirfd, const char *tag, struct cr_img **img, uint64_t *size,
		  struct rt_err **err)
{
	char name[96];
	struct stat sb;
	snprintf(name, sizeof(name), "pages-%s.img", tag);
	if (cr_img_open(dirfd, name, CR_IMG_PAGES, img, err) < 0)
		return -1;
	if (fstat(cr_img_fd(*img), &sb) < 0) {
		cr_img_closep(img);
		return rt_err_set(err, errno, "stat '%s'", name);
	}
	*size = (uint64_t)sb.st_size;
	return 0;
}

int cr_map_pages(int dirfd, const char *tag, uint64_t npages, void **map,
		 size_t *map_len, const uint8_t **data, struct rt_err **err)
{
	cleanup_img struct cr_img *img = NULL;
	uint64_t size;
	if (cr_open_pages(dirfd, tag, &img, &size, err) < 0)
		return -1;
	int fd = cr_img_fd(img);
	const char *name = cr_img_name(img);
	size_t len = (size_t)(npages + 1) * CR_PAGE;
	if (size < len)
		return rt_err_set(err, 0, "%s is truncated: %llu bytes, %zu expected", name,
				  (unsigned long long)size, len);
	*map = NULL;
	*map_len = 0;
	*data = NULL;
	if (npages == 0)
		return 0;
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return rt_err_set(err, errno, "mmap '%s'", name);
	*map = p;
	*map_len = len;
	*data = (const uint8_t *)p + CR_PAGE;
	return 0;
}

/* One page file a task's runs use, mapped. need: the pages its runs
 * reach; a file with fewer is truncated. */
struct cr_page_file {
	uint32_t layer;
	pid_t owner;
	uint8_t part;
	uint64_t need;
	void *map;
	size_t len;
	const uint8_t *data;
};

static struct cr_page_file *pf_find(const struct cr_page_files *pf, const struct cr_run *r)
{
	for (size_t i = 0; i < pf->n; i++)
		if (pf->f[i].layer == r->layer && pf->f[i].owner == r->owner &&
		    pf->f[i].part == r->part)
			return &pf->f[i];
	return NULL;
}

static struct cr_page_file *pf_use(struct cr_page_files *pf, const struct cr_mm *mm,
				const struct cr_run *r)
{
	struct cr_page_file *f = pf_find(pf, r);
	if (f)
		return f;
	pf->f = xrealloc(pf->f, (pf->n + 1) * sizeof(*pf->f));
	f = &pf->f[pf->n++];
	*f = (struct cr_page_file){.layer = r->layer, .owner = r->owner, .part = r->part,
				.need = r->owner || r->part ? 0 : mm->layer_pages[r->layer]};
	return f;
}

void cr_page_files_unmap(struct cr_page_files *pf)
{
	for (size_t i = 0; i < pf->n; i++)
		if (pf->f[i].map)
			munmap(pf->f[i].map, pf->f[i].len);
	free(pf->f);
	pf->f = NULL;
	pf->n = 0;
}

int cr_page_files_map(struct cr_restore_ctx *c, struct cr_rtask *t, const char *tag,
		      struct cr_page_files *pf, struct rt_err **err)
{
	struct cr_mm *mm = t->mm;
	memset(pf, 0, sizeof(*pf));
	/* its size is checked even when nothing is used */
	pf_use(pf, mm, &(struct cr_run){ 0 });
	for (size_t i = 0; i < mm->n_runs; i++) {
		struct cr_run *r = &mm->runs[i];
		if (r->owner == t->vpid)
			r->owner = 0;
		if (r->layer >= c->n_layers || r->layer >= CR_MAX_LAYERS) {
			cr_page_files_unmap(pf);
			return rt_err_set(err, 0, "pagemap-%s.img: run %zu has no layer", tag, i);
		}
		struct cr_page_file *f = pf_use(pf, mm, r);
		if (r->pos + r->npages > f->need)
			f->need = r->pos + r->npages;
	}
	for (size_t i = 0; i < pf->n; i++) {
		struct cr_page_file *f = &pf->f[i];
		char file_tag[48], owner[16];
		snprintf(owner, sizeof(owner), "%d", (int)f->owner);
		snprintf(file_tag, sizeof(file_tag), "%s%s", f->owner ? owner : tag,
			 f->part ? ".1" : "");
		int ret = cr_map_pages(c->layer[f->layer], file_tag, f->need,
				       &f->map, &f->len, &f->data, err);
		if (ret < 0) {
			uint32_t layer = f->layer;
			cr_page_files_unmap(pf);
			return layer ? rt_err_wrap(err, "parent dump %u", layer) : -1;
		}
	}
	return 0;
}

const uint8_t *cr_page_files_data(const struct cr_page_files *pf, const struct cr_run *r)
{
	return pf_find(pf, r)->data + r->pos * CR_PAGE;
}
