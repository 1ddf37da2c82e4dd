/* Memory (mm-PID.img, pagemap-PID.img, pages-PID.img): the mappings, the
 * mm fields and the pages that are not in a file.
 *
 * Dump: /proc/PID/maps for the layout, /proc/PID/pagemap to find the pages
 * worth reading (present or swapped, and for private file mappings only the
 * copied-on-write ones), then batched process_vm_readv into a buffer that is
 * written as one run. [vvar]/[vvar_vclock] are never read; [vdso] is only
 * located. MAP_SHARED anonymous memory is dumped once per shmem inode
 * (shmem-INO-*.img) and re-created once by the coordinator, whose
 * /proc/self/map_files entry gives every task the same object.
 *
 * Restore (mem-restore.c) replaces the agent's layout with this one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "coordinator/mem.h"
#include "util.h"

#define PM_PRESENT (1ull << 63)
#define PM_SWAP (1ull << 62)
#define PM_FILE (1ull << 61)
#define IOV_BATCH 1024
#define IOBUF_SIZE (16u << 20)

struct cr_shm_seen {
	size_t n;
	uint64_t *ino;
};

int cr_parse_maps(const char *text, struct cr_vma **out, size_t *n,
		  struct rt_err **err)
{
	struct cr_vma *v = NULL;
	size_t cnt = 0;
	for (const char *l = text; l && *l;) {
		const char *nl = strchr(l, '\n');
		struct cr_vma m = { 0 };
		char perms[8] = "";
		unsigned maj, min;
		int pos = 0;
		if (sscanf(l, "%lx-%lx %7s %lx %x:%x %lu %n", &m.start, &m.end, perms,
			   &m.pgoff, &maj, &min, &m.ino, &pos) < 7) {
			free(v);
			return rt_err_set(err, 0, "unparsable maps line '%.80s'", l);
		}
		size_t plen = nl ? (size_t)(nl - (l + pos)) : strlen(l + pos);
		m.path = xstrndup(l + pos, plen);
		m.prot = (perms[0] == 'r' ? PROT_READ : 0) |
			 (perms[1] == 'w' ? PROT_WRITE : 0) |
			 (perms[2] == 'x' ? PROT_EXEC : 0);
		m.shared = perms[3] == 's';
		m.pgoff /= CR_PAGE;
		v = xrealloc(v, (cnt + 1) * sizeof(*v));
		v[cnt++] = m;
		l = nl ? nl + 1 : NULL;
	}
	*out = v;
	*n = cnt;
	return 0;
}

void cr_vmas_free(struct cr_vma *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

/* What a mapping is, from its maps line; 0 and an error when unsupported. */
static int classify(pid_t pid, const struct cr_vma *m, struct rt_err **err)
{
	const char *p = m->path;
	if (strcmp(p, "[vvar]") == 0 || strcmp(p, "[vvar_vclock]") == 0 ||
	    strcmp(p, "[vdso]") == 0 || strcmp(p, "[vsyscall]") == 0)
		return CR_VMA_SPECIAL;
	if (m->shared && strncmp(p, "/dev/zero", 9) == 0 && m->ino)
		return CR_VMA_SHMEM;
	if (p[0] != '/')
		return m->shared ? rt_err_set(err, 0, "pid %d mapping %#lx-%#lx: "
					      "shared mapping '%s' is not supported yet",
					      pid, m->start, m->end, p)
				 : CR_VMA_ANON;
	size_t pl = strlen(p);
	if (pl > 10 && strcmp(p + pl - 10, " (deleted)") == 0)
		return rt_err_set(err, 0, "pid %d mapping %#lx-%#lx: file '%s' is "
				  "deleted (not supported yet)", pid, m->start, m->end, p);
	if (strncmp(p, "/SYSV", 5) == 0)
		return rt_err_set(err, 0, "pid %d mapping %#lx-%#lx: System V shared "
				  "memory is not supported yet", pid, m->start, m->end);
	return m->shared ? CR_VMA_FILE_SHARED : CR_VMA_FILE_PRIVATE;
}

/* ---- page writer: pagemap records at once, page data in batches ---- */

struct page_writer {
	struct cr_dump_ctx *c;
	pid_t pid;
	struct cr_img *pages, *pagemap;
	struct iovec remote[IOV_BATCH];
	size_t nr, used;
	int mem_fd; /* /proc/PID/mem for unreadable mappings */
};

static int pw_flush(struct page_writer *w, struct rt_err **err)
{
	if (w->nr == 0)
		return 0;
	uint64_t t0 = cr_now_us();
	struct iovec local = { w->c->iobuf, w->used };
	ssize_t r = process_vm_readv(w->pid, &local, 1, w->remote, w->nr, 0);
	if (r != (ssize_t)w->used)
		return rt_err_set(err, r < 0 ? errno : EIO, "pid %d: read %zu bytes of "
				  "memory at %p", w->pid, w->used, w->remote[0].iov_base);
	uint64_t t1 = cr_now_us();
	w->c->st->memdump_time_us += t1 - t0;
	int ret = cr_img_write_raw(w->pages, w->c->iobuf, w->used, err);
	w->c->st->memwrite_time_us += cr_now_us() - t1;
	w->c->st->pages_written += w->used / CR_PAGE;
	w->nr = w->used = 0;
	return ret;
}

/* One run of pages; off is what the pagemap record says (address or shmem
 * offset). Unreadable mappings go through /proc/PID/mem. */
static int pw_add(struct page_writer *w, unsigned long addr, uint64_t off,
		  size_t npages, bool readable, struct rt_err **err)
{
	struct cr_rec r;
	cr_rec_init(&r, CR_R_PAGE_RUN);
	cr_put_u64(&r, off);
	cr_put_u64(&r, npages);
	int ret = cr_img_write(w->pagemap, &r, err);
	cr_rec_free(&r);
	if (ret < 0)
		return -1;
	while (npages > 0) {
		size_t n = npages * CR_PAGE;
		if (w->nr == IOV_BATCH || w->used == IOBUF_SIZE)
			if (pw_flush(w, err) < 0)
				return -1;
		if (n > IOBUF_SIZE - w->used)
			n = IOBUF_SIZE - w->used;
		if (!readable) {
			if (pw_flush(w, err) < 0 ||
			    cr_mem_read(w->pid, addr, w->c->iobuf, n, err) < 0 ||
			    cr_img_write_raw(w->pages, w->c->iobuf, n, err) < 0)
				return -1;
			w->c->st->pages_written += n / CR_PAGE;
		} else {
			w->remote[w->nr++] = (struct iovec){ (void *)addr, n };
			w->used += n;
		}
		addr += n;
		npages -= n / CR_PAGE;
	}
	return 0;
}

static bool page_wanted(uint64_t e, int kind)
{
	if (!(e & (PM_PRESENT | PM_SWAP)))
		return false;
	return kind != CR_VMA_FILE_PRIVATE || !(e & PM_FILE);
}

static int dump_vma_pages(struct page_writer *w, int pagemap_fd,
			  const struct cr_vma *m, int kind, struct rt_err **err)
{
	size_t total = (m->end - m->start) / CR_PAGE, chunk = 65536;
	cleanup_free uint64_t *pm = xmalloc(chunk * sizeof(uint64_t));
	uint64_t base = kind == CR_VMA_SHMEM ? m->pgoff * CR_PAGE : m->start;
	size_t run_start = 0, run_len = 0;
	for (size_t i = 0; i < total; i += chunk) {
		size_t n = total - i < chunk ? total - i : chunk;
		off_t off = (off_t)((m->start / CR_PAGE + i) * 8);
		if (pread(pagemap_fd, pm, n * 8, off) != (ssize_t)(n * 8))
			return rt_err_set(err, errno, "pid %d: read pagemap at %#lx",
					  w->pid, m->start + i * CR_PAGE);
		for (size_t k = 0; k < n; k++) {
			if (page_wanted(pm[k], kind)) {
				if (run_len == 0)
					run_start = i + k;
				run_len++;
				continue;
			}
			if (run_len && pw_add(w, m->start + run_start * CR_PAGE,
					      base + run_start * CR_PAGE,
					      run_len, m->prot & PROT_READ, err) < 0)
				return -1;
			run_len = 0;
		}
	}
	w->c->st->pages_scanned += total;
	if (run_len)
		return pw_add(w, m->start + run_start * CR_PAGE,
			      base + run_start * CR_PAGE, run_len, m->prot & PROT_READ, err);
	return 0;
}

/* ---- dump ---- */

static bool shm_seen(struct cr_dump_ctx *c, uint64_t ino)
{
	if (c->shm == NULL)
		c->shm = xcalloc(1, sizeof(*c->shm));
	for (size_t i = 0; i < c->shm->n; i++)
		if (c->shm->ino[i] == ino)
			return true;
	c->shm->ino = xrealloc(c->shm->ino, (c->shm->n + 1) * sizeof(uint64_t));
	c->shm->ino[c->shm->n++] = ino;
	return false;
}

void cr_mm_dump_free(struct cr_dump_ctx *c)
{
	if (c->shm)
		free(c->shm->ino);
	free(c->shm);
	c->shm = NULL;
}

static int open_pair(struct cr_dump_ctx *c, const char *tag, struct page_writer *w,
		     struct rt_err **err)
{
	char name[96];
	snprintf(name, sizeof(name), "pagemap-%s.img", tag);
	if (cr_img_create(c->o->images_dirfd, name, CR_IMG_PAGEMAP, &w->pagemap, err) < 0)
		return -1;
	snprintf(name, sizeof(name), "pages-%s.img", tag);
	return cr_img_create(c->o->images_dirfd, name, CR_IMG_PAGES, &w->pages, err);
}

static int close_pair(struct page_writer *w, int ret, struct rt_err **err)
{
	if (ret == 0)
		ret = pw_flush(w, err);
	if (ret == 0) {
		ret = cr_img_close(w->pagemap, err);
		w->pagemap = NULL;
		if (cr_img_close(w->pages, err) < 0)
			ret = -1;
		w->pages = NULL;
	}
	if (w->pagemap)
		cr_img_abort(w->pagemap);
	if (w->pages)
		cr_img_abort(w->pages);
	return ret;
}

/* A shared anonymous object, once for the whole tree. */
static int dump_shmem(struct cr_dump_ctx *c, pid_t pid, int pagemap_fd,
		      const struct cr_vma *m, struct rt_err **err)
{
	if (shm_seen(c, m->ino))
		return 0;
	char tag[64];
	snprintf(tag, sizeof(tag), "shmem-%lu", (unsigned long)m->ino);
	struct page_writer w = { .c = c, .pid = pid };
	if (open_pair(c, tag, &w, err) < 0)
		return close_pair(&w, -1, err);
	return close_pair(&w, dump_vma_pages(&w, pagemap_fd, m, CR_VMA_SHMEM, err), err);
}

static void put_vma(struct cr_rec *r, const struct cr_vma *m, int kind,
		    const char *path)
{
	cr_put_u64(r, m->start);
	cr_put_u64(r, m->end);
	cr_put_u64(r, m->pgoff);
	cr_put_u64(r, m->ino);
	cr_put_u32(r, (uint32_t)m->prot);
	cr_put_u32(r, (uint32_t)kind);
	cr_put_str(r, path);
}

static int dump_vmas(struct cr_dump_ctx *c, struct cr_dtask *t, struct cr_img *mm,
		     struct page_writer *w, int pagemap_fd, struct rt_err **err)
{
	cleanup_free char *maps = NULL, *root = NULL;
	struct cr_vma *v = NULL;
	size_t n = 0;
	if (cr_proc_read(t->pid, "maps", &maps, err) < 0 ||
	    cr_proc_link(t->pid, "root", &root, err) < 0 ||
	    cr_parse_maps(maps, &v, &n, err) < 0)
		return -1;
	int ret = 0;
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct cr_vma *m = &v[i];
		if (m->start == t->scratch)
			continue;
		int kind = classify(t->pid, m, err);
		if (kind <= 0) {
			ret = -1;
			break;
		}
		cleanup_free char *path = m->path[0] == '/' && kind != CR_VMA_SHMEM
						  ? cr_path_in_root(root, m->path) : xstrdup(m->path);
		struct cr_rec r;
		cr_rec_init(&r, CR_R_VMA);
		put_vma(&r, m, kind, path);
		ret = cr_img_write(mm, &r, err);
		cr_rec_free(&r);
		if (ret == 0 && (kind == CR_VMA_ANON || kind == CR_VMA_FILE_PRIVATE))
			ret = dump_vma_pages(w, pagemap_fd, m, kind, err);
		else if (ret == 0 && kind == CR_VMA_SHMEM)
			ret = dump_shmem(c, t->pid, pagemap_fd, m, err);
	}
	cr_vmas_free(v, n);
	return ret;
}

/* start_code.. from /proc/PID/stat fields 26-28 and 45-51, brk injected. */
static int read_mm_fields(struct cr_dtask *t, uint64_t f[11], struct rt_err **err)
{
	cleanup_free char *stat = NULL;
	if (cr_proc_read(t->pid, "stat", &stat, err) < 0)
		return -1;
	uint64_t fld[53] = { 0 };
	const char *p = strrchr(stat, ')');
	for (int i = 3; p && i <= 52; i++) {
		p = strchr(p + 1, ' ');
		if (p)
			fld[i] = strtoull(p + 1, NULL, 10);
	}
	long brk;
	if (cr_inj_ok(&t->inj, "brk(0)", SYS_brk, 0, 0, 0, 0, 0, 0, &brk, err) < 0)
		return -1;
	uint64_t v[11] = { fld[26], fld[27], fld[45], fld[46], fld[47], (uint64_t)brk,
			   fld[28], fld[48], fld[49], fld[50], fld[51] };
	memcpy(f, v, sizeof(v));
	return 0;
}

static int write_mm_record(struct cr_dtask *t, struct cr_img *mm,
			   struct rt_err **err)
{
	uint64_t f[11];
	cleanup_free char *auxv = NULL, *exe = NULL, *root = NULL;
	size_t auxv_len;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/auxv", t->pid);
	if (read_mm_fields(t, f, err) < 0 ||
	    rt_read_file(path, &auxv, &auxv_len, err) < 0 ||
	    cr_proc_link(t->pid, "exe", &exe, err) < 0 ||
	    cr_proc_link(t->pid, "root", &root, err) < 0)
		return -1;
	cleanup_free char *exe_in_root = cr_path_in_root(root, exe);
	struct cr_rec r;
	cr_rec_init(&r, CR_R_MM);
	for (int i = 0; i < 11; i++)
		cr_put_u64(&r, f[i]);
	cr_put_bytes(&r, auxv, auxv_len);
	cr_put_str(&r, exe_in_root);
	int ret = cr_img_write(mm, &r, err);
	cr_rec_free(&r);
	return ret;
}

int cr_dump_mm(struct cr_dump_ctx *c, struct cr_dtask *t, struct rt_err **err)
{
	if (c->iobuf == NULL)
		c->iobuf = xmalloc(IOBUF_SIZE);
	char name[64];
	snprintf(name, sizeof(name), "/proc/%d/pagemap", t->pid);
	cleanup_close int pagemap_fd = open(name, O_RDONLY | O_CLOEXEC);
	if (pagemap_fd < 0)
		return rt_err_set(err, errno, "open '%s'", name);
	struct cr_img *mm = NULL;
	snprintf(name, sizeof(name), "mm-%d.img", t->pid);
	if (cr_img_create(c->o->images_dirfd, name, CR_IMG_MM, &mm, err) < 0)
		return -1;
	char tag[32];
	snprintf(tag, sizeof(tag), "%d", t->pid);
	struct page_writer w = { .c = c, .pid = t->pid };
	int ret = open_pair(c, tag, &w, err);
	if (ret == 0)
		ret = write_mm_record(t, mm, err);
	if (ret == 0)
		ret = dump_vmas(c, t, mm, &w, pagemap_fd, err);
	ret = close_pair(&w, ret, err);
	if (ret < 0) {
		cr_img_abort(mm);
		return -1;
	}
	return cr_img_close(mm, err);
}
