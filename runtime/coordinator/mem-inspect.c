/* `ferry inspect` of a task's memory: the mappings of mm-PID.img, read by
 * the loader restore uses (cr_mm_load), and how many pages of each are in
 * pages-PID.img (or, for shared anonymous memory, in pages-shmem-INO.img).
 * On top of what that loader checks, the same consistency restore relies
 * on later: mappings in order and apart, every run of the pagemap inside
 * one mapping that has pages, page files exactly as long as their
 * pagemaps say, and runs recorded as in another task's page file (pages
 * the tasks shared copy-on-write) inside that file. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "coordinator/describe.h"
#include "coordinator/mem.h"
#include "util.h"

static const char *const kind_names[] = {
	[CR_VMA_ANON] = "anon",       [CR_VMA_FILE_PRIVATE] = "file-private",
	[CR_VMA_FILE_SHARED] = "file-shared", [CR_VMA_SHMEM] = "shmem",
	[CR_VMA_SPECIAL] = "special",
};

static bool has_pages(int kind)
{
	return kind == CR_VMA_ANON || kind == CR_VMA_FILE_PRIVATE;
}

/* The mapping holding [addr, addr + len), by binary search, or NULL. */
static const struct cr_vma *vma_at(const struct cr_mm *mm, uint64_t addr, uint64_t len)
{
	size_t lo = 0, hi = mm->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (mm->vmas[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == mm->n || addr < mm->vmas[lo].start || len > mm->vmas[lo].end - addr)
		return NULL;
	return &mm->vmas[lo];
}

static int check_layout(pid_t pid, const struct cr_mm *mm, uint64_t *per_vma,
			struct rt_err **err)
{
	for (size_t i = 1; i < mm->n; i++)
		if (mm->vmas[i].start < mm->vmas[i - 1].end)
			return rt_err_set(err, 0, "mm-%d.img: mapping %#lx-%#lx overlaps "
					  "or precedes %#lx-%#lx", pid, mm->vmas[i].start,
					  mm->vmas[i].end, mm->vmas[i - 1].start,
					  mm->vmas[i - 1].end);
	for (size_t i = 0; i < mm->n_runs; i++) {
		const struct cr_run *r = &mm->runs[i];
		const struct cr_vma *m = vma_at(mm, r->off, r->npages * CR_PAGE);
		if (m == NULL || !has_pages(m->kind))
			return rt_err_set(err, 0, "pagemap-%d.img: record %zu: %llu pages "
					  "at %#llx are outside every mapping with pages",
					  pid, i, (unsigned long long)r->npages,
					  (unsigned long long)r->off);
		per_vma[m - mm->vmas] += r->npages;
	}
	return 0;
}

/* How many pages pages-TAG.img holds after its header. */
static int page_file_pages(int dirfd, const char *tag, uint64_t *have, struct rt_err **err)
{
	cleanup_img struct cr_img *img = NULL;
	uint64_t size;
	if (cr_open_pages(dirfd, tag, &img, &size, err) < 0)
		return -1;
	*have = size >= CR_PAGE ? size / CR_PAGE - 1 : 0;
	return 0;
}

/* pages-TAG.img holds exactly npages pages after its header. */
static int check_pages_file(int dirfd, const char *tag, uint64_t npages,
			    struct rt_err **err)
{
	uint64_t have;
	if (page_file_pages(dirfd, tag, &have, err) < 0)
		return -1;
	if (have != npages)
		return rt_err_set(err, 0, "'pages-%s.img': holds %llu pages, pagemap-%s.img lists %llu",
				  tag, (unsigned long long)have, tag,
				  (unsigned long long)npages);
	return 0;
}

/* The runs with a position of their own (in another task's page files,
 * or in a second page file) point at pages those files have: each file is
 * looked at once, for the run that reaches furthest into it. */
static int check_placed_runs(int dirfd, pid_t pid, const struct cr_mm *mm, struct rt_err **err)
{
	struct reach {
		pid_t owner;
		uint8_t part;
		size_t run; /* the run reaching furthest */
	};
	cleanup_free struct reach *v = NULL;
	size_t n = 0;
	for (size_t i = 0; i < mm->n_runs; i++) {
		const struct cr_run *r = &mm->runs[i];
		pid_t owner = r->owner ? r->owner : pid;
		size_t k = 0;
		if (r->owner == 0 && r->part == 0)
			continue;
		while (k < n && (v[k].owner != owner || v[k].part != r->part))
			k++;
		if (k == n) {
			v = xrealloc(v, (n + 1) * sizeof(*v));
			v[n++] = (struct reach){ owner, r->part, i };
		}
		const struct cr_run *far = &mm->runs[v[k].run];
		if (r->pos + r->npages > far->pos + far->npages)
			v[k].run = i;
	}
	for (size_t k = 0; k < n; k++) {
		const struct cr_run *r = &mm->runs[v[k].run];
		char tag[32];
		uint64_t have;
		snprintf(tag, sizeof(tag), "%d%s", (int)v[k].owner, v[k].part ? ".1" : "");
		if (page_file_pages(dirfd, tag, &have, err) < 0)
			return rt_err_wrap(err, "pagemap-%d.img: record %zu", pid, v[k].run);
		if (r->pos + r->npages > have)
			return rt_err_set(err, 0, "pagemap-%d.img: record %zu: pages %llu-%llu of "
					  "pages-%s.img, which holds %llu", pid, v[k].run,
					  (unsigned long long)r->pos,
					  (unsigned long long)(r->pos + r->npages - 1), tag,
					  (unsigned long long)have);
	}
	return 0;
}

/* Pages of a shared anonymous object inside the mapping's window of it. */
static int shmem_pages(int dirfd, const struct cr_vma *m, uint64_t *n,
		       struct rt_err **err)
{
	char tag[64];
	snprintf(tag, sizeof(tag), "shmem-%llu", (unsigned long long)m->ino);
	cleanup_free struct cr_run *runs = NULL;
	size_t n_runs;
	uint64_t total = 0, lo = m->pgoff * CR_PAGE, hi = lo + (m->end - m->start);
	if (cr_read_runs(dirfd, tag, &runs, &n_runs, err) < 0)
		return -1;
	*n = 0;
	for (size_t i = 0; i < n_runs; i++) {
		uint64_t s = runs[i].off, e = s + runs[i].npages * CR_PAGE;
		total += runs[i].npages;
		if (s < hi && e > lo)
			*n += ((e < hi ? e : hi) - (s > lo ? s : lo)) / CR_PAGE;
	}
	return check_pages_file(dirfd, tag, total, err);
}

static void describe_vma(struct cr_desc *d, const struct cr_vma *m, uint64_t pages)
{
	bool shared = m->kind == CR_VMA_FILE_SHARED || m->kind == CR_VMA_SHMEM;
	cr_desc_map(d, NULL);
	cr_desc_hex(d, "start", m->start);
	cr_desc_hex(d, "end", m->end);
	cr_desc_strf(d, "prot", "%c%c%c%c", m->prot & PROT_READ ? 'r' : '-',
		     m->prot & PROT_WRITE ? 'w' : '-', m->prot & PROT_EXEC ? 'x' : '-',
		     shared ? 's' : 'p');
	cr_desc_str(d, "kind", kind_names[m->kind]);
	cr_desc_str(d, "path", m->path[0] ? m->path : NULL);
	if (m->kind == CR_VMA_FILE_PRIVATE || m->kind == CR_VMA_FILE_SHARED)
		cr_desc_uint(d, "offset", (uint64_t)m->pgoff * CR_PAGE);
	if (m->kind == CR_VMA_SHMEM)
		cr_desc_uint(d, "shmem_ino", m->ino);
	cr_desc_uint(d, "pages", pages);
	char flags[64];
	cr_vmflags_names(m->flags, flags, sizeof(flags));
	cr_desc_str(d, "flags", flags[0] ? flags : NULL);
	cr_desc_end_map(d);
}

static int describe_vmas(struct cr_restore_ctx *c, const struct cr_mm *mm,
			 const uint64_t *per_vma, struct cr_desc *d, struct rt_err **err)
{
	cr_desc_array(d, "vmas");
	for (size_t i = 0; i < mm->n; i++) {
		uint64_t pages = per_vma[i];
		if (mm->vmas[i].kind == CR_VMA_SHMEM &&
		    shmem_pages(c->o->images_dirfd, &mm->vmas[i], &pages, err) < 0)
			return -1;
		describe_vma(d, &mm->vmas[i], pages);
	}
	cr_desc_end_array(d);
	return 0;
}

int cr_mm_describe(struct cr_restore_ctx *c, struct cr_rtask *t, struct cr_desc *d,
		   struct rt_err **err)
{
	struct cr_mm *mm = xcalloc(1, sizeof(*mm));
	mm->exe_fd = -1;
	char tag[32];
	snprintf(tag, sizeof(tag), "%d", t->vpid);
	int ret = cr_mm_load(c, t, mm, err);
	cleanup_free uint64_t *per_vma = xcalloc(mm->n + 1, sizeof(uint64_t));
	if (ret == 0)
		ret = check_layout(t->vpid, mm, per_vma, err);
	if (ret == 0)
		ret = check_pages_file(c->o->images_dirfd, tag, mm->npages, err);
	char part_tag[40];
	snprintf(part_tag, sizeof(part_tag), "%s.1", tag);
	if (ret == 0 && mm->part_pages)
		ret = check_pages_file(c->o->images_dirfd, part_tag, mm->part_pages, err);
	if (ret == 0)
		ret = check_placed_runs(c->o->images_dirfd, t->vpid, mm, err);
	if (ret == 0) {
		cr_desc_map(d, "memory");
		cr_desc_str(d, "exe", mm->exe);
		cr_desc_hex(d, "start_brk", mm->f[4]);
		cr_desc_hex(d, "brk", mm->f[5]);
		cr_desc_hex(d, "start_stack", mm->f[6]);
		cr_desc_strf(d, "pages_file", "pages-%s.img", tag);
		char second[64];
		snprintf(second, sizeof(second), "pages-%s.img", part_tag);
		cr_desc_str(d, "pages_file_2", mm->part_pages ? second : NULL);
		cr_desc_uint(d, "pages", mm->npages + mm->part_pages);
		cr_desc_uint(d, "bytes", (mm->npages + mm->part_pages) * CR_PAGE);
		cr_desc_uint(d, "pages_in_parent", mm->parent_pages);
		cr_desc_uint(d, "pages_in_other_tasks", mm->cow_pages);
		ret = describe_vmas(c, mm, per_vma, d, err);
		cr_desc_end_map(d);
	}
	cr_mm_free(mm);
	return ret;
}
