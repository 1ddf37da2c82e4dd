/* Memory restore: replace the stopped agent's layout with the dumped one.
 * KERNEL-NOTES "Restoring a task" steps 4-8: munmap everything but the
 * vDSO block and our helper, move the vDSO block to its dumped address
 * through a temporary area, mmap every mapping at its address, write the
 * pages, then PR_SET_MM_MAP. Files and shmem objects reach the agent as fds
 * before.
 *
 * Writing the pages: every fresh page costs an allocation, and on this
 * machine kind faulting pages in one by one is the floor (KERNEL-NOTES
 * "Costs and limits"). Anonymous memory of a task with more than a little
 * of it is filled with UFFDIO_COPY through a userfaultfd injected into the
 * task, which allocates and fills each page in one step, with no page
 * fault and no zeroing (1 GiB: ~0.35 s where MAP_POPULATE + process_vm_writev
 * took ~0.9 s; runtime/coordinator/PERFORMANCE.md). The rest, and everything
 * when userfaultfd is unavailable (seccomp, an old kernel), goes through
 * process_vm_writev into mappings pre-populated with MAP_POPULATE, and
 * /proc/PID/mem for read-only ones. */
#include <errno.h>
#include <fcntl.h>
#include <linux/prctl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "coordinator/fdkind.h"
#include "coordinator/mem.h"
#include "util.h"

#define IOV_BATCH 1024
/* Below this many anonymous pages a task is filled without userfaultfd:
 * its two injected syscalls would cost more than they save. */
#define UFFD_MIN_PAGES 256
#define UFFD_CHUNK (4ul << 20)

#ifndef SYS_mseal
#define SYS_mseal 462 /* Linux 6.10, missing from Debian 12's headers */
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif


void cr_mm_free(struct cr_mm *mm)
{
	if (mm == NULL)
		return;
	cr_vmas_free(mm->vmas, mm->n);
	free(mm->runs);
	free(mm->exe);
	free(mm);
}

static int get_vma(struct cr_rd *r, struct cr_vma *m, struct rt_err **err)
{
	uint32_t prot, kind;
	if (cr_get_u64(r, "start", (uint64_t *)&m->start, err) < 0 ||
	    cr_get_u64(r, "end", (uint64_t *)&m->end, err) < 0 ||
	    cr_get_u64(r, "pgoff", (uint64_t *)&m->pgoff, err) < 0 ||
	    cr_get_u64(r, "ino", &m->ino, err) < 0 ||
	    cr_get_u32(r, "prot", &prot, err) < 0 || cr_get_u32(r, "kind", &kind, err) < 0 ||
	    cr_get_str(r, "path", &m->path, 4096, err) < 0)
		return -1;
	/* images from before the flags have none */
	if (r->off < r->len && cr_get_u32(r, "flags", &m->flags, err) < 0)
		return -1;
	if (cr_rd_done(r, err) < 0)
		return -1;
	if (m->flags & ~(uint32_t)CR_VMF_ALL)
		return rt_err_set(err, 0, "mm image record %zu: unknown mapping flags %#x",
				  r->index, m->flags);
	m->prot = (int)prot;
	m->kind = (int)kind;
	m->tmpfd = -1;
	if (m->start >= m->end || m->start % CR_PAGE || m->end % CR_PAGE ||
	    kind < CR_VMA_ANON || kind > CR_VMA_SPECIAL || m->path == NULL)
		return rt_err_set(err, 0, "mm image record %zu: bad mapping %#lx-%#lx",
				  r->index, m->start, m->end);
	return 0;
}

static int get_mm(struct cr_rd *r, struct cr_mm *mm, struct rt_err **err)
{
	const void *auxv;
	for (int i = 0; i < 11; i++)
		if (cr_get_u64(r, "mm field", &mm->f[i], err) < 0)
			return -1;
	if (cr_get_bytes(r, "auxv", &auxv, &mm->auxv_len, sizeof(mm->auxv), err) < 0 ||
	    cr_get_str(r, "exe", &mm->exe, 4096, err) < 0 || cr_rd_done(r, err) < 0)
		return -1;
	memcpy(mm->auxv, auxv, mm->auxv_len);
	return 0;
}

int cr_mm_load(struct cr_restore_ctx *c, struct cr_rtask *t, struct cr_mm *mm,
	       struct rt_err **err)
{
	char name[64];
	snprintf(name, sizeof(name), "mm-%d.img", t->vpid);
	cleanup_img struct cr_img *img = NULL;
	struct cr_rd r;
	if (cr_img_open(c->o->images_dirfd, name, CR_IMG_MM, &img, err) < 0 ||
	    cr_img_expect(img, CR_R_MM, &r, err) < 0 || get_mm(&r, mm, err) < 0)
		return -1;
	for (;;) {
		int k = cr_img_next(img, &r, err);
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		if (r.type != CR_R_VMA)
			return rt_err_set(err, 0, "%s: record %zu is not a mapping", name, r.index);
		mm->vmas = xrealloc(mm->vmas, (mm->n + 1) * sizeof(*mm->vmas));
		memset(&mm->vmas[mm->n], 0, sizeof(struct cr_vma));
		if (get_vma(&r, &mm->vmas[mm->n++], err) < 0)
			return -1;
	}
	snprintf(name, sizeof(name), "%d", t->vpid);
	if (cr_read_runs(c->o->images_dirfd, name, &mm->runs, &mm->n_runs, err) < 0)
		return -1;
	for (size_t i = 0; i < mm->n_runs; i++)
		if (mm->runs[i].in_parent)
			mm->parent_pages += mm->runs[i].npages;
		else if (mm->runs[i].owner)
			mm->cow_pages += mm->runs[i].npages;
		else if (mm->runs[i].part)
			mm->part_pages += mm->runs[i].npages;
		else
			mm->npages += mm->runs[i].npages;
	return 0;
}

/* Give the agent fd n for a file we open in its root. */
static int send_file(struct cr_restore_ctx *c, struct cr_rtask *t, const char *path,
		     int flags, int *out, struct rt_err **err)
{
	char full[4200];
	snprintf(full, sizeof(full), "/proc/%d/root%s", c->o->agent_pid, path);
	cleanup_close int fd = open(full, flags | O_CLOEXEC);
	if (fd < 0)
		return rt_err_set(err, errno, "pid %d: open '%s' to map it", t->vpid, path);
	*out = t->next_tmp_fd++;
	return cr_agent_call(t->sock, t->vpid, "install a file for mapping", CR_AG_DUP,
			     fd, *out, O_CLOEXEC, NULL, NULL, err);
}

int cr_shmem_fd(struct cr_restore_ctx *c, const struct cr_vma *m, int *fd,
		struct rt_err **err);

static int prepare_mm(struct cr_restore_ctx *c, struct cr_rtask *t,
		      struct rt_err **err)
{
	struct cr_mm *mm = xcalloc(1, sizeof(*mm));
	t->mm = mm;
	mm->exe_fd = -1;
	char tag[32];
	snprintf(tag, sizeof(tag), "%d", t->vpid);
	if (cr_mm_load(c, t, mm, err) < 0 || cr_runs_resolve(c, tag, mm, err) < 0)
		return -1;
	for (size_t i = 0; i < mm->n; i++) {
		struct cr_vma *m = &mm->vmas[i];
		if (m->kind == CR_VMA_SHMEM) {
			int fd;
			if (cr_shmem_fd(c, m, &fd, err) < 0)
				return -1;
			m->tmpfd = t->next_tmp_fd++;
			if (cr_agent_call(t->sock, t->vpid, "install shared memory", CR_AG_DUP,
					  fd, m->tmpfd, O_CLOEXEC, NULL, NULL, err) < 0)
				return -1;
			continue;
		}
		if (m->kind != CR_VMA_FILE_PRIVATE && m->kind != CR_VMA_FILE_SHARED)
			continue;
		m->oflags = m->kind == CR_VMA_FILE_SHARED && (m->prot & PROT_WRITE)
				    ? O_RDWR : O_RDONLY;
		for (size_t k = 0; k < i && m->tmpfd < 0; k++)
			if (mm->vmas[k].tmpfd >= 0 && mm->vmas[k].kind != CR_VMA_SHMEM &&
			    mm->vmas[k].oflags == m->oflags &&
			    strcmp(mm->vmas[k].path, m->path) == 0)
				m->tmpfd = mm->vmas[k].tmpfd;
		if (m->tmpfd < 0 && send_file(c, t, m->path, m->oflags, &m->tmpfd, err) < 0)
			return -1;
	}
	return send_file(c, t, mm->exe, O_RDONLY, &mm->exe_fd, err);
}

static const char *const special_names[] = { "[vvar]", "[vvar_vclock]", "[vdso]" };

static struct cr_vma *find_named(struct cr_vma *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].path, name) == 0)
			return &v[i];
	return NULL;
}

static bool overlaps(unsigned long a, unsigned long alen, unsigned long b,
		     unsigned long blen)
{
	return a < b + blen && b < a + alen;
}

bool cr_mm_range_free(const struct cr_rtask *t, unsigned long addr, size_t len)
{
	const struct cr_mm *mm = t->mm;
	for (size_t i = 0; mm && i < mm->n; i++)
		if (overlaps(addr, len, mm->vmas[i].start, mm->vmas[i].end - mm->vmas[i].start))
			return false;
	return true;
}

static bool agent_keeps(const struct cr_rtask *t, struct cr_vma *m)
{
	return m->start == t->helper || m->start >= 0x800000000000ul ||
	       find_named(m, 1, "[vvar]") || find_named(m, 1, "[vvar_vclock]") ||
	       find_named(m, 1, "[vdso]");
}

/* Everything of the agent goes but our helper and the vDSO block: one
 * munmap per stretch of mappings between kept ones (maps is sorted). */
static int unmap_agent(struct cr_rtask *t, struct cr_vma *cur, size_t n, struct rt_err **err)
{
	for (size_t i = 0; i < n; i++) {
		if (agent_keeps(t, &cur[i]))
			continue;
		size_t last = i;
		while (last + 1 < n && !agent_keeps(t, &cur[last + 1]))
			last++;
		if (cr_inj_ok(&t->inj, "munmap the agent", SYS_munmap, (long)cur[i].start,
			      (long)(cur[last].end - cur[i].start), 0, 0, 0, 0, NULL, err) < 0)
			return -1;
		i = last;
	}
	return 0;
}

/* Our syscall instruction lives in the [vdso]: follow it when it moves. */
static int mremap_to(struct cr_rtask *t, unsigned long from, size_t len,
		     unsigned long to, struct rt_err **err)
{
	if (cr_inj_ok(&t->inj, "move the vDSO block", SYS_mremap, (long)from,
		      (long)len, (long)len, MREMAP_MAYMOVE | MREMAP_FIXED, (long)to,
		      0, NULL, err) < 0)
		return -1;
	if (t->inj.gadget >= from && t->inj.gadget < from + len)
		t->inj.gadget = t->inj.gadget - from + to;
	return 0;
}

/* The vDSO block keeps its internal offsets; it goes through a temporary
 * area because source and destination may overlap. */
static int move_vdso(struct cr_restore_ctx *c, struct cr_rtask *t,
		     struct cr_vma *cur, size_t n, struct rt_err **err)
{
	struct cr_mm *mm = t->mm;
	struct cr_vma *from[3], *to[3];
	unsigned long lo = ~0ul, hi = 0;
	bool same = true;
	for (int i = 0; i < 3; i++) {
		from[i] = find_named(cur, n, special_names[i]);
		to[i] = find_named(mm->vmas, mm->n, special_names[i]);
		if (!from[i] != !to[i] ||
		    (from[i] && from[i]->end - from[i]->start != to[i]->end - to[i]->start))
			return rt_err_set(err, 0, "pid %d: the image's %s differs from "
					  "this kernel's", t->vpid, special_names[i]);
		if (from[i]) {
			same = same && from[i]->start == to[i]->start;
			lo = from[i]->start < lo ? from[i]->start : lo;
			hi = from[i]->end > hi ? from[i]->end : hi;
		}
	}
	if (!to[2])
		return rt_err_set(err, 0, "pid %d: the image has no [vdso]", t->vpid);
	unsigned long to_lo = ~0ul;
	for (int i = 0; i < 3; i++)
		if (to[i] && to[i]->start < to_lo)
			to_lo = to[i]->start;
	/* Everything else of the agent is gone: a destination clear of the
	 * block (and of our helper) is free, one mremap per mapping. */
	if (!same && !overlaps(to_lo, hi - lo, lo, hi - lo) &&
	    !overlaps(to_lo, hi - lo, t->helper, CR_SCRATCH_SIZE)) {
		for (int i = 0; i < 3; i++)
			if (from[i] && mremap_to(t, from[i]->start, from[i]->end - from[i]->start,
						 to[i]->start, err) < 0)
				return -1;
		same = true;
	}
	if (!same) {
		unsigned long tmp = 0x200000000ul;
		while (overlaps(tmp, hi - lo, lo, hi - lo) || !cr_mm_range_free(t, tmp, hi - lo) ||
		       overlaps(tmp, hi - lo, t->helper, CR_SCRATCH_SIZE))
			tmp += 0x40000000ul;
		for (int i = 0; i < 3; i++)
			if (from[i] && mremap_to(t, from[i]->start, from[i]->end - from[i]->start,
						 tmp + (from[i]->start - lo), err) < 0)
				return -1;
		for (int i = 0; i < 3; i++)
			if (from[i] && mremap_to(t, tmp + (from[i]->start - lo),
						 from[i]->end - from[i]->start, to[i]->start, err) < 0)
				return -1;
	}
	t->inj.gadget = to[2]->start + c->vdso.gadget_off;
	return 0;
}

/* populate: pre-fault what process_vm_writev is about to fill (faulting
 * page by page is the restore's floor); never for a userfaultfd fill.
 * The mmap joins the batch b. */
static void map_vma(struct cr_batch *b, const struct cr_vma *m, bool populate)
{
	long flags = MAP_FIXED, fd = -1, off = (long)(m->pgoff * CR_PAGE);
	size_t len = m->end - m->start;
	switch (m->kind) {
	case CR_VMA_ANON:
		flags |= MAP_PRIVATE | MAP_ANONYMOUS;
		if (strcmp(m->path, "[stack]") == 0)
			flags |= MAP_GROWSDOWN;
		if (populate && (m->prot & PROT_WRITE) && m->npages * 2 * CR_PAGE >= len)
			flags |= MAP_POPULATE;
		off = 0;
		break;
	case CR_VMA_FILE_PRIVATE:
		flags |= MAP_PRIVATE;
		fd = m->tmpfd;
		break;
	default:
		flags |= MAP_SHARED;
		fd = m->tmpfd;
		break;
	}
	if (m->flags & CR_VMF_NORESERVE)
		flags |= MAP_NORESERVE;
	cr_batch_add(b, SYS_mmap, (long)m->start, (long)len, m->prot, flags, fd, off,
		     xasprintf("mapping %#lx-%#lx '%s': mmap", m->start, m->end, m->path));
	static const struct {
		uint32_t flag;
		int advice;
		const char *name;
	} advice[] = {
		{ CR_VMF_DONTFORK, MADV_DONTFORK, "MADV_DONTFORK" },
		{ CR_VMF_WIPEONFORK, MADV_WIPEONFORK, "MADV_WIPEONFORK" },
		{ CR_VMF_DONTDUMP, MADV_DONTDUMP, "MADV_DONTDUMP" },
		{ CR_VMF_HUGEPAGE, MADV_HUGEPAGE, "MADV_HUGEPAGE" },
		{ CR_VMF_NOHUGEPAGE, MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE" },
		{ CR_VMF_MERGEABLE, MADV_MERGEABLE, "MADV_MERGEABLE" },
		{ CR_VMF_SEQUENTIAL, MADV_SEQUENTIAL, "MADV_SEQUENTIAL" },
		{ CR_VMF_RANDOM, MADV_RANDOM, "MADV_RANDOM" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(advice); i++)
		if (m->flags & advice[i].flag)
			cr_batch_add(b, SYS_madvise, (long)m->start, (long)len, advice[i].advice,
				     0, 0, 0,
				     xasprintf("mapping %#lx-%#lx '%s': %s", m->start, m->end,
					       m->path, advice[i].name));
}

/* Once filled (mlock would fault in pages UFFDIO_COPY must create): the
 * locks, then the seals (nothing may change a sealed mapping after). */
static int lock_and_seal(struct cr_rtask *t, struct rt_err **err)
{
	struct cr_mm *mm = t->mm;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < mm->n; i++) {
			const struct cr_vma *m = &mm->vmas[i];
			long len = (long)(m->end - m->start);
			int ret = 0;
			if (pass == 0 && (m->flags & CR_VMF_LOCKED))
				ret = cr_inj_ok(&t->inj, "mlock2", SYS_mlock2, (long)m->start, len,
						m->flags & CR_VMF_LOCKONFAULT ? MLOCK_ONFAULT : 0,
						0, 0, 0, NULL, err);
			else if (pass == 1 && (m->flags & CR_VMF_SEALED))
				ret = cr_inj_ok(&t->inj, "mseal", SYS_mseal, (long)m->start, len, 0,
						0, 0, 0, NULL, err);
			if (ret < 0)
				return rt_err_wrap(err, "mapping %#lx-%#lx '%s'", m->start, m->end,
						   m->path);
		}
	return 0;
}

static bool vmas_sorted(const struct cr_mm *mm)
{
	for (size_t i = 1; i < mm->n; i++)
		if (mm->vmas[i].start < mm->vmas[i - 1].end)
			return false;
	return true;
}

/* The mapping holding [addr, addr + len): a binary search in a dump's
 * sorted layout (a task has thousands of runs), a scan otherwise. */
static struct cr_vma *vma_of(struct cr_mm *mm, bool sorted, uint64_t addr, uint64_t len)
{
	size_t lo = 0, hi = mm->n;
	while (sorted && hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (mm->vmas[mid].start <= addr)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t i = lo; i < hi; i++)
		if (addr >= mm->vmas[i].start && addr + len <= mm->vmas[i].end &&
		    mm->vmas[i].kind != CR_VMA_SPECIAL)
			return &mm->vmas[i];
	return NULL;
}

/* Pages of each mapping and of all anonymous ones. */
static void count_pages(struct cr_mm *mm)
{
	bool sorted = vmas_sorted(mm);
	mm->anon_pages = 0;
	for (size_t i = 0; i < mm->n; i++)
		mm->vmas[i].npages = 0;
	for (size_t i = 0; i < mm->n_runs; i++) {
		const struct cr_run *r = &mm->runs[i];
		struct cr_vma *m = vma_of(mm, sorted, r->off, r->npages * CR_PAGE);
		if (m)
			m->npages += r->npages;
		if (m && m->kind == CR_VMA_ANON)
			mm->anon_pages += r->npages;
	}
}

/* ---- userfaultfd fill ---- */

struct uffd_fill {
	int fd; /* ours, or -1: no userfaultfd fill */
};

/* The task is stopped, so nothing faults: we only use UFFDIO_COPY. Closing
 * ours unregisters every range. */
static void uffd_close(struct uffd_fill *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* Register the anonymous mappings that have pages; one the kernel refuses
 * is filled the other way. */
static void uffd_register(struct cr_mm *mm, const struct uffd_fill *f)
{
	for (size_t i = 0; i < mm->n && f->fd >= 0; i++) {
		struct cr_vma *m = &mm->vmas[i];
		if (m->kind != CR_VMA_ANON || m->npages == 0)
			continue;
		struct uffdio_register reg = {
			.range = {.start = m->start, .len = m->end - m->start},
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};
		m->uffd = ioctl(f->fd, UFFDIO_REGISTER, &reg) == 0;
	}
}

static int uffd_copy(const struct uffd_fill *f, pid_t pid, unsigned long dst, const uint8_t *src,
		     size_t len, struct rt_err **err)
{
	while (len > 0) {
		struct uffdio_copy cp = {
			.dst = dst,
			.src = (uintptr_t)src,
			.len = len < UFFD_CHUNK ? len : UFFD_CHUNK,
			.mode = UFFDIO_COPY_MODE_DONTWAKE,
		};
		int r = ioctl(f->fd, UFFDIO_COPY, &cp);
		if (cp.copy > 0) {
			dst += (unsigned long)cp.copy;
			src += cp.copy;
			len -= (size_t)cp.copy;
		}
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			return rt_err_set(err, errno, "pid %d: UFFDIO_COPY %zu bytes at %#lx", pid,
					  len, dst);
	}
	return 0;
}

/* ---- process_vm_writev fill ---- */

struct page_filler {
	pid_t pid;
	struct iovec local[IOV_BATCH], remote[IOV_BATCH];
	size_t nr;
};

static int pf_flush(struct page_filler *f, struct rt_err **err)
{
	size_t want = 0;
	for (size_t i = 0; i < f->nr; i++)
		want += f->local[i].iov_len;
	if (f->nr &&
	    process_vm_writev(f->pid, f->local, f->nr, f->remote, f->nr, 0) != (ssize_t)want)
		return rt_err_set(err, errno, "pid %d: write %zu bytes of memory at %p", f->pid,
				  want, f->remote[0].iov_base);
	f->nr = 0;
	return 0;
}

/* ---- UFFDIO_COPY from two threads ----
 * Allocating and filling pages is one core's work per copy (~0.35 s/GiB
 * here): a task with much anonymous memory is filled by two threads, each
 * taking the next UFFD_CHUNK piece.
 *
 * The pieces are read from the page files' mappings, which fault in as
 * they are read; tearing those page table entries down cost one munmap
 * of ~75 ms per GiB at the end, on one thread. So in a task filled by two
 * threads, each drops a piece's source (MADV_DONTNEED) once it is copied:
 * the work is spread over both threads while they copy. A later run that reads the same
 * pages (a page the task had at two addresses) faults them in again from
 * the page file. */

#define UFFD_PARALLEL_MIN (64ul << 20)

struct uffd_piece {
	unsigned long dst;
	const uint8_t *src;
	size_t len;
};

struct uffd_work {
	const struct uffd_fill *uf;
	pid_t pid;
	struct uffd_piece *p;
	size_t n, cap, bytes;
	size_t next;  /* the next piece to take (atomic) */
	bool failed;  /* atomic */
	struct rt_err *err[2];
};

static void uffd_add(struct uffd_work *w, unsigned long dst, const uint8_t *src, size_t len)
{
	for (size_t off = 0; off < len; off += UFFD_CHUNK) {
		if (w->n == w->cap)
			w->p = xrealloc(w->p, (w->cap = 2 * w->cap + 64) * sizeof(*w->p));
		w->p[w->n++] = (struct uffd_piece){ dst + off, src + off,
						    len - off < UFFD_CHUNK ? len - off : UFFD_CHUNK };
	}
	w->bytes += len;
}

/* Filled by two threads: enough to be worth the second. */
static bool uffd_parallel(const struct uffd_work *w)
{
	return w->bytes >= UFFD_PARALLEL_MIN;
}

static void uffd_share(struct uffd_work *w, int who)
{
	for (;;) {
		size_t i = __atomic_fetch_add(&w->next, 1, __ATOMIC_RELAXED);
		if (i >= w->n || __atomic_load_n(&w->failed, __ATOMIC_RELAXED))
			return;
		if (uffd_copy(w->uf, w->pid, w->p[i].dst, w->p[i].src, w->p[i].len,
			      &w->err[who]) < 0) {
			__atomic_store_n(&w->failed, true, __ATOMIC_RELAXED);
			return;
		}
		if (uffd_parallel(w)) /* else a syscall per small run */
			madvise((void *)w->p[i].src, w->p[i].len, MADV_DONTNEED);
	}
}

static void *uffd_helper(void *arg)
{
	uffd_share(arg, 1);
	return NULL;
}

static int uffd_run(struct uffd_work *w, struct rt_err **err)
{
	pthread_t th;
	bool helper = uffd_parallel(w) && rt_thread_start(&th, uffd_helper, w) == 0;
	uffd_share(w, 0);
	if (helper)
		pthread_join(th, NULL);
	free(w->p);
	w->p = NULL;
	struct rt_err *e = w->err[0] ? w->err[0] : w->err[1];
	rt_err_free(e == w->err[0] ? w->err[1] : w->err[0]);
	return rt_err_pass(err, e);
}

/* One run of pages through whichever way its mapping is filled (a
 * userfaultfd run joins w, filled at the end). */
static int fill_run(struct page_filler *pf, struct uffd_work *w, const struct cr_vma *m,
		    const struct cr_run *r, const uint8_t *data, struct rt_err **err)
{
	size_t len = r->npages * CR_PAGE;
	if (m->uffd) {
		uffd_add(w, r->off, data, len);
		return 0;
	}
	if (m->prot & PROT_WRITE) {
		if (pf->nr == IOV_BATCH && pf_flush(pf, err) < 0)
			return -1;
		pf->local[pf->nr] = (struct iovec){(void *)data, len};
		pf->remote[pf->nr++] = (struct iovec){(void *)r->off, len};
		return 0;
	}
	if (pf_flush(pf, err) < 0)
		return -1;
	return cr_mem_write(pf->pid, r->off, data, len, err);
}

static int fill_pages(struct cr_restore_ctx *c, struct cr_rtask *t, const struct uffd_fill *uf,
		      struct rt_err **err)
{
	struct cr_mm *mm = t->mm;
	char tag[32];
	snprintf(tag, sizeof(tag), "%d", t->vpid);
	struct cr_page_files files;
	if (cr_page_files_map(c, t, tag, &files, err) < 0)
		return -1;
	uffd_register(mm, uf);
	struct page_filler f = {.pid = t->hpid};
	struct uffd_work w = {.uf = uf, .pid = t->hpid};
	bool sorted = vmas_sorted(mm);
	int ret = 0;
	uint64_t restored = 0;
	for (size_t i = 0; i < mm->n_runs && ret == 0; i++) {
		const struct cr_run *r = &mm->runs[i];
		const struct cr_vma *m = vma_of(mm, sorted, r->off, r->npages * CR_PAGE);
		if (m == NULL)
			ret = rt_err_set(err, 0,
					 "pagemap-%s.img: run %#lx+%lu pages is "
					 "outside every mapping",
					 tag, (unsigned long)r->off, (unsigned long)r->npages);
		else
			ret = fill_run(&f, &w, m, r, cr_page_files_data(&files, r), err);
		restored += r->npages;
	}
	if (ret == 0)
		ret = pf_flush(&f, err);
	if (ret == 0)
		ret = uffd_run(&w, err);
	free(w.p);
	cr_page_files_unmap(&files);
	/* tasks are morphed by two threads (restore.c) */
	__atomic_fetch_add(&c->st->pages_restored, restored, __ATOMIC_RELAXED);
	return ret;
}

/* The kernel refuses to replace an exe that is still mapped (EBUSY): keep
 * the agent's when it is the same file (e.g. ferry restoring ferry). */
static int exe_fd_for(struct cr_restore_ctx *c, struct cr_rtask *t)
{
	struct cr_mm *mm = t->mm;
	char cur[64], want[4200];
	struct stat a, b;
	snprintf(cur, sizeof(cur), "/proc/%d/exe", t->hpid);
	snprintf(want, sizeof(want), "/proc/%d/root%s", c->o->agent_pid, mm->exe);
	if (stat(cur, &a) == 0 && stat(want, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		return -1;
	return mm->exe_fd;
}

static int set_mm_map(struct cr_restore_ctx *c, struct cr_rtask *t,
		      struct rt_err **err)
{
	struct cr_mm *mm = t->mm;
	const uint64_t *f = mm->f;
	struct prctl_mm_map m = {
		.start_code = f[0], .end_code = f[1], .start_data = f[2],
		.end_data = f[3], .start_brk = f[4], .brk = f[5], .start_stack = f[6],
		.arg_start = f[7], .arg_end = f[8], .env_start = f[9], .env_end = f[10],
		.auxv = (__u64 *)(t->helper + CR_PAGE),
		.auxv_size = (uint32_t)mm->auxv_len,
		.exe_fd = (uint32_t)exe_fd_for(c, t),
	};
	if (cr_mem_write(t->hpid, t->helper, &m, sizeof(m), err) < 0 ||
	    cr_mem_write(t->hpid, t->helper + CR_PAGE, mm->auxv, mm->auxv_len, err) < 0)
		return -1;
	return cr_inj_ok(&t->inj, "prctl(PR_SET_MM_MAP)", SYS_prctl, PR_SET_MM,
			 PR_SET_MM_MAP, (long)t->helper, sizeof(m), 0, 0, NULL, err);
}

static int morph_mm(struct cr_restore_ctx *c, struct cr_rtask *t,
		    struct rt_err **err)
{
	struct cr_mm *mm = t->mm;
	cleanup_free char *maps = NULL;
	struct cr_vma *cur = NULL;
	size_t n = 0;
	if (cr_proc_read(t->hpid, "maps", &maps, err) < 0 ||
	    cr_parse_maps(maps, &cur, &n, err) < 0)
		return -1;
	int ret = unmap_agent(t, cur, n, err);
	if (ret == 0)
		ret = move_vdso(c, t, cur, n, err);
	cr_vmas_free(cur, n);
	struct uffd_fill uf = {.fd = -1};
	count_pages(mm);
	if (ret == 0 && mm->anon_pages >= UFFD_MIN_PAGES)
		ret = cr_inj_userfaultfd(&t->inj, t->hpid, 0, &uf.fd, err);
	/* every mapping with one resume of the task (inject.c) */
	struct cr_batch b = { 0 };
	for (size_t i = 0; i < mm->n; i++)
		if (mm->vmas[i].kind != CR_VMA_SPECIAL)
			map_vma(&b, &mm->vmas[i], uf.fd < 0);
	if (ret == 0)
		ret = cr_batch_run(&t->inj, t->helper, CR_SCRATCH_SIZE, &b, err);
	cr_batch_free(&b);
	if (ret == 0)
		ret = fill_pages(c, t, &uf, err);
	uffd_close(&uf);
	if (ret == 0)
		ret = set_mm_map(c, t, err);
	if (ret == 0)
		ret = lock_and_seal(t, err);
	return ret;
}

static void release_mm(struct cr_rtask *t)
{
	cr_mm_free(t->mm);
	t->mm = NULL;
}

const struct cr_resource cr_res_mm = {
	.name = "memory",
	.want = cr_mm_want,
	.dump = cr_dump_mm,
	.prepare = prepare_mm,
	.morph = morph_mm,
	.release = release_mm,
	.describe = cr_mm_describe,
};

/* ---- shared anonymous memory: created once, here, for every task ---- */

struct shm_obj {
	uint64_t ino;
	int fd;
};
struct shm_table {
	size_t n;
	struct shm_obj *v;
};

static int pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		off += (uint64_t)w;
		n -= (size_t)w;
	}
	return 0;
}

static int create_shmem(struct cr_restore_ctx *c, const struct cr_vma *m, int *fd,
			struct rt_err **err)
{
	char tag[64];
	snprintf(tag, sizeof(tag), "shmem-%lu", (unsigned long)m->ino);
	cleanup_free struct cr_run *runs = NULL;
	size_t n_runs, size = m->pgoff * CR_PAGE + (m->end - m->start);
	uint64_t npages = 0;
	if (cr_read_runs(c->o->images_dirfd, tag, &runs, &n_runs, err) < 0)
		return -1;
	for (size_t i = 0; i < n_runs; i++) {
		npages += runs[i].npages;
		if (runs[i].in_parent || runs[i].owner || runs[i].part)
			return rt_err_set(err, 0, "pagemap-%s.img: shared memory is never in a "
					  "parent dump or a task's page files", tag);
		if (runs[i].off + runs[i].npages * CR_PAGE > size)
			return rt_err_set(err, 0, "pagemap-%s.img: run beyond the object", tag);
	}
	void *map, *obj;
	size_t map_len;
	const uint8_t *data;
	if (cr_map_pages(c->o->images_dirfd, tag, npages, &map, &map_len, &data, err) < 0)
		return -1;
	obj = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (obj == MAP_FAILED) {
		if (map)
			munmap(map, map_len);
		return rt_err_set(err, errno, "create shared memory of %zu bytes", size);
	}
	char path[96];
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)obj,
		 (unsigned long)obj + (unsigned long)size);
	*fd = open(path, O_RDWR | O_CLOEXEC);
	int ret = *fd < 0 ? rt_err_set(err, errno, "open '%s'", path) : 0;
	munmap(obj, size);
	/* Filled through the file, not a mapping: no page faults. */
	for (size_t i = 0, pos = 0; ret == 0 && i < n_runs; i++) {
		ret = pwrite_all(*fd, data + pos, runs[i].npages * CR_PAGE, runs[i].off);
		if (ret < 0)
			rt_err_set(err, errno, "write %s", tag);
		pos += runs[i].npages * CR_PAGE;
	}
	if (map)
		munmap(map, map_len);
	if (ret < 0) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -1;
	}
	c->st->pages_restored += npages;
	return 0;
}

int cr_shmem_fd(struct cr_restore_ctx *c, const struct cr_vma *m, int *fd,
		struct rt_err **err)
{
	struct shm_table *t = c->shm;
	if (t == NULL)
		t = c->shm = xcalloc(1, sizeof(*t));
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].ino == m->ino) {
			*fd = t->v[i].fd;
			return 0;
		}
	int k = cr_memfd_restored(c, m->ino, fd, err); /* a memfd also open as an fd */
	if (k != 0)
		return k < 0 ? -1 : 0;
	if (create_shmem(c, m, fd, err) < 0)
		return -1;
	t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	t->v[t->n++] = (struct shm_obj){ m->ino, *fd };
	return 0;
}

void cr_shmem_free(struct cr_restore_ctx *c)
{
	struct shm_table *t = c->shm;
	for (size_t i = 0; t && i < t->n; i++)
		close(t->v[i].fd);
	if (t)
		free(t->v);
	free(t);
	c->shm = NULL;
}
