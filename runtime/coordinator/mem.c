/* Memory (mm-PID.img, pagemap-PID.img, pages-PID.img): the mappings, the
 * mm fields and the pages that are not in a file.
 *
 * Dump: /proc/PID/smaps for the layout and each mapping's VmFlags,
 * PAGEMAP_SCAN (or, before Linux 6.7, /proc/PID/pagemap) for the pages
 * worth reading (present or swapped, and for private file mappings only
 * the copied-on-write ones); then the pages
 * go to pages-*.img one of two ways:
 * - a task with more than one buffer of pages vmsplices them itself (an
 *   injected vmsplice into a pipe whose other end we splice into the page
 *   file): one kernel copy per page instead of two, about half the CPU;
 * - otherwise, and where that cannot be set up, batched process_vm_readv
 *   into a buffer.
 * mem-sink.c writes behind the reading once the dump is big enough to be
 * worth a writer thread (runtime/coordinator/PERFORMANCE.md has the figures).
 * A task that vmsplices its pages splits them over two page files,
 * pages-PID.img and pages-PID.1.img, in turns of 4 MiB, with four pipes
 * and one writer thread each: writes into one tmpfs file serialise on its
 * inode, and two writers are what two cores give (CR_R_PAGE_PART runs are
 * in the second).
 * In a dump of several processes, a page the tasks share copy-on-write
 * (forked and not written since; found by its page frame in
 * /proc/PID/pagemap) is written once, by the first task that has it; the
 * others' pagemaps say which task's page file holds it (CR_R_PAGE_COW).
 * Unreadable mappings are read through /proc/PID/mem. [vvar]/[vvar_vclock]
 * are never read; [vdso] is only located. MAP_SHARED anonymous memory is
 * dumped once per shmem inode (shmem-INO-*.img) and re-created once by the
 * coordinator, whose /proc/self/map_files entry gives every task the same
 * object.
 *
 * Restore (mem-restore.c) replaces the agent's layout with this one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "coordinator/mem.h"
#include "util.h"

#define PM_PRESENT    (1ull << 63)
#define PM_SWAP	      (1ull << 62)
#define PM_FILE	      (1ull << 61)
#define PM_EXCLUSIVE  (1ull << 56)
#define PM_PFN	      ((1ull << 55) - 1)
#define IOV_BATCH     1024
#define PAGEMAP_CHUNK 65536	   /* entries read at once */
#define PIPE_SIZE     (1u << 20)   /* fs.pipe-max-size on this machine kind */
#define PIPE_MIN      (256u << 10) /* below this, vmsplice is not worth it */
#define TP_PIPES      16	   /* pipes in a task: two turns per page file */
#define TP_TURN	      4		   /* pipes in a row to one page file */
#define MM_ELSEWHERE_KB 4096	   /* below one buffer: no pipes would be used */
/* the scratch area during a turn's vmsplices: the syscall loop, its table
 * and the iovecs */
#define TP_IOV_AT     (CR_BATCH_CODE + 64 * TP_TURN)
#define TP_IOVS	      ((CR_SCRATCH_SIZE - TP_IOV_AT) / sizeof(struct iovec))
#define SCAN_REGIONS  256

/* PAGEMAP_SCAN (Linux 6.7), missing from Debian 12's headers: the present
 * and swapped pages of a range as runs, walking only populated page
 * tables (a pagemap read costs 8 bytes for every page of the range, and
 * sanitizer or JVM reservations span terabytes). */
struct cr_page_region {
	uint64_t start, end, categories;
};
struct cr_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define CR_PAGEMAP_SCAN	   _IOWR('f', 16, struct cr_pm_scan_arg)
#define CR_PM_SCAN_WP_MATCHING	 (1u << 0)
#define CR_PM_SCAN_CHECK_WPASYNC (1u << 1)
#define CR_PAGE_IS_WRITTEN	 (1u << 1)
#define CR_PAGE_IS_FILE	   (1u << 2)
#define CR_PAGE_IS_PRESENT (1u << 3)
#define CR_PAGE_IS_SWAPPED (1u << 4)
#define CR_PAGE_IS_PFNZERO (1u << 5)

struct cr_shm_seen {
	size_t n;
	uint64_t *ino;
};

/* The shared pages written so far, by page frame: which task's page file
 * holds each and where. Open addressing; frame 0 marks a free slot (and
 * is what pagemap shows without CAP_SYS_ADMIN: no deduplication then). */
struct cow_page {
	uint64_t pfn, pos;
	pid_t owner;
	int part; /* which of the owner's page files */
};
struct cr_cow {
	size_t n, cap; /* cap: a power of two */
	struct cow_page *v;
};

static struct cow_page *cow_slot(struct cr_cow *t, uint64_t pfn)
{
	size_t i = (size_t)(pfn * 0x9e3779b97f4a7c15ull) & (t->cap - 1);
	while (t->v[i].pfn != 0 && t->v[i].pfn != pfn)
		i = (i + 1) & (t->cap - 1);
	return &t->v[i];
}

static const struct cow_page *cow_find(const struct cr_cow *t, uint64_t pfn)
{
	if (t->n == 0)
		return NULL;
	const struct cow_page *p = cow_slot((struct cr_cow *)t, pfn);
	return p->pfn ? p : NULL;
}

static void cow_add(struct cr_cow *t, uint64_t pfn, pid_t owner, int part, uint64_t pos)
{
	if (2 * (t->n + 1) > t->cap) {
		struct cr_cow old = *t;
		t->cap = t->cap ? 2 * t->cap : 1024;
		t->v = xcalloc(t->cap, sizeof(*t->v));
		for (size_t i = 0; i < old.cap; i++)
			if (old.v[i].pfn)
				*cow_slot(t, old.v[i].pfn) = old.v[i];
		free(old.v);
	}
	struct cow_page *p = cow_slot(t, pfn);
	if (p->pfn == 0)
		t->n++;
	*p = (struct cow_page){ .pfn = pfn, .pos = pos, .owner = owner, .part = part };
}

/* What a mapping is, from its maps line; 0 and an error when unsupported. */
static int classify(pid_t pid, const struct cr_vma *m, struct rt_err **err)
{
	const char *p = m->path;
	if (strcmp(p, "[vvar]") == 0 || strcmp(p, "[vvar_vclock]") == 0 ||
	    strcmp(p, "[vdso]") == 0 || strcmp(p, "[vsyscall]") == 0)
		return CR_VMA_SPECIAL;
	/* a memfd is shmem too; restore maps the memfd itself (memfd.c) */
	if (m->shared && (strncmp(p, "/dev/zero", 9) == 0 || strncmp(p, "/memfd:", 7) == 0) &&
	    m->ino)
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

/* Pipes from the task: its pages go in by an injected vmsplice, and out
 * into the page files by the sinks' splices. Pipe i is in turn
 * i / TP_TURN; turns alternate between the two page files, so each file
 * has two turns of pipes, one filled while the other is spliced. A turn's
 * vmsplices run in one resume of the task (inject.c's syscall loop) where
 * the task allows it. n == 0 when not set up. */
struct tp_fill {
	int pipe;
	size_t iov, niov; /* its iovecs, in the page writer's remote[] */
	size_t bytes;
};
struct task_pipe {
	int rfd[TP_PIPES];	 /* our read ends */
	long task_wfd[TP_PIPES]; /* the write ends, in the task */
	uint64_t ticket[TP_PIPES]; /* the write on its sink that empties it */
	int n, cur;		 /* pipes set up; the one to fill next */
	size_t size;	  /* the smaller capacity */
	int mem_fd;	  /* /proc/PID/mem, to put iovecs in the scratch page */
	bool tried;
	bool batch; /* calls go through the syscall loop */
	struct tp_fill fill[TP_TURN]; /* filled, to be vmspliced */
	size_t n_fill;
};

struct page_writer {
	struct cr_dump_ctx *c;
	struct cr_dtask *t;
	pid_t pid;
	const char *tag;
	/* pages[1] and sink[1]: the second page file, with pipes (parts) */
	struct cr_img *pages[2], *pagemap;
	struct cr_sink *sink[2];
	bool parts;
	struct task_pipe tp;
	/* the batch: remote[0..nr), used bytes; with pipes, remote[0..sealed)
	 * are the filled pipes' (tp.fill) and used counts the current one's */
	size_t used;
	struct iovec remote[IOV_BATCH];
	size_t nr, sealed;
	bool no_scan; /* the kernel has no PAGEMAP_SCAN */
	uint64_t pos[2]; /* pages given to each page file so far */
	/* Set for a process's private pages when the dump has several: its
	 * shared pages are looked up in c->cow by their frames. */
	struct cr_cow *cow;
	int pagemap_fd;
	uint64_t *pm; /* PAGEMAP_CHUNK entries */
};

/* The dump's sinks live in c->iobuf[] until cr_mm_dump_free. */
static struct cr_sink *sink_of(struct cr_dump_ctx *c, int k)
{
	if (c->iobuf[k] == NULL)
		c->iobuf[k] = cr_sink_new(&c->st->memwrite_time_us);
	return c->iobuf[k];
}

static void pw_init(struct page_writer *w, struct cr_dump_ctx *c, struct cr_dtask *t,
		    const char *tag)
{
	*w = (struct page_writer){.c = c,
				  .t = t,
				  .pid = t->hpid,
				  .tag = tag,
				  .sink = {sink_of(c, 0), NULL},
				  .tp = {.mem_fd = -1}};
	for (int i = 0; i < TP_PIPES; i++)
		w->tp.rfd[i] = w->tp.task_wfd[i] = -1;
	w->tp.tried = t->mm_elsewhere; /* no pipes: they are injected */
}

/* Which page file pipe i's pages go to: with parts, turns alternate
 * (TP_TURN MiB in a row to each: a restore copies them in pieces that
 * big). */
static int pipe_part(const struct page_writer *w, int i)
{
	return w->parts ? (i / TP_TURN) % 2 : 0;
}

/* Which page file the batch being filled goes to. */
static int batch_part(const struct page_writer *w)
{
	return w->tp.n ? pipe_part(w, w->tp.cur) : 0;
}

/* The second page file and its sink, made on first use. */
static int pw_part1(struct page_writer *w, struct rt_err **err)
{
	if (w->pages[1])
		return 0;
	char name[96];
	snprintf(name, sizeof(name), "pages-%s.1.img", w->tag);
	w->sink[1] = sink_of(w->c, 1);
	return cr_img_create(w->c->o->images_dirfd, name, CR_IMG_PAGES, &w->pages[1], err);
}

/* ---- the task vmsplices its pages into a pipe ---- */

/* n independent calls in the task: in one resume where it may run the
 * syscall loop, else one by one. As cr_batch_exec: the calls before *done
 * succeeded, res[*done] is the failed one's -errno; -1 when the task could
 * not be run. */
static int tp_calls(struct page_writer *w, const struct cr_bcall *c, size_t n, long *res,
		    size_t *done, struct rt_err **err)
{
	struct cr_dtask *t = w->t;
	if (w->tp.batch)
		return cr_batch_exec(&t->inj, t->scratch, c, n, res, done, err);
	for (*done = 0; *done < n; (*done)++) {
		const long *a = c[*done].a;
		if (cr_inj_call(&t->inj, c[*done].nr, a[0], a[1], a[2], a[3], a[4], a[5], &res[*done],
				err) < 0)
			return -1;
		if (res[*done] < 0 && res[*done] > -4096)
			break;
	}
	return 0;
}

/* close() of n fds in the task; every one is tried. */
static int tp_close_fds(struct page_writer *w, const long *fds, size_t n, struct rt_err **err)
{
	struct cr_bcall calls[TP_PIPES];
	long res[TP_PIPES];
	size_t m = 0, done;
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			calls[m++] = (struct cr_bcall){ .nr = SYS_close, .a = { fds[i] } };
	int ret = 0;
	for (size_t at = 0; at < m; at += done + 1) {
		if (tp_calls(w, calls + at, m - at, res, &done, ret == 0 ? err : NULL) < 0)
			return -1;
		if (done < m - at && ret == 0)
			ret = rt_err_set(err, (int)-res[done], "pid %d: close the dump pipe %ld",
					 w->pid, calls[at + done].a[0]);
	}
	return ret;
}

static int tp_close(struct page_writer *w, struct rt_err **err)
{
	struct task_pipe *tp = &w->tp;
	int ret = tp_close_fds(w, tp->task_wfd, TP_PIPES, err);
	for (int i = 0; i < TP_PIPES; i++) {
		if (tp->rfd[i] >= 0)
			close(tp->rfd[i]);
		tp->rfd[i] = tp->task_wfd[i] = -1;
	}
	if (tp->mem_fd >= 0)
		close(tp->mem_fd);
	tp->mem_fd = -1;
	tp->n = 0;
	return ret;
}

/* Our end of a pipe whose read end is fd in the task, at PIPE_SIZE if it
 * can be; tp->size is the smallest so far. */
static int tp_take(struct page_writer *w, int pidfd, long fd)
{
	struct task_pipe *tp = &w->tp;
	int rfd = (int)syscall(SYS_pidfd_getfd, pidfd, (int)fd, 0);
	int size = rfd < 0 ? -1 : fcntl(rfd, F_SETPIPE_SZ, PIPE_SIZE);
	if (size < 0 && rfd >= 0)
		size = fcntl(rfd, F_GETPIPE_SZ);
	if (tp->size == 0 || (size_t)size < tp->size)
		tp->size = size < 0 ? 0 : (size_t)size;
	return rfd;
}

/* Pipes in the task for its pages: TP_PIPES pipe2, our read ends taken
 * with pidfd_getfd and closed there. Anything short of TP_PIPES pipes of
 * at least PIPE_MIN leaves tp->n == 0: the pages are read with
 * process_vm_readv. -1 only when the task could not be run. */
static int tp_open(struct page_writer *w, struct rt_err **err)
{
	struct task_pipe *tp = &w->tp;
	struct cr_dtask *t = w->t;
	char path[64];
	tp->tried = true;
	if (t->scratch == 0)
		return 0;
	bool pending = true, ignored = true;
	if (t->scratch_exec && cr_sigtrap_state(t, &pending, &ignored, err) < 0)
		return -1;
	tp->batch = !pending && !ignored;
	snprintf(path, sizeof(path), "/proc/%d/mem", w->pid);
	tp->mem_fd = open(path, O_RDWR | O_CLOEXEC);
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, w->pid, 0);
	if (tp->mem_fd < 0 || pidfd < 0)
		return tp_close(w, err);
	/* each pipe2 writes its pair after the loop's table */
	unsigned long at = t->scratch + CR_BATCH_CODE + 64 * TP_PIPES;
	struct cr_bcall calls[TP_PIPES];
	long res[TP_PIPES], rfds[TP_PIPES] = { 0 };
	int fds[TP_PIPES][2];
	size_t done;
	for (int i = 0; i < TP_PIPES; i++)
		calls[i] = (struct cr_bcall){ .nr = SYS_pipe2,
					      .a = { (long)(at + sizeof(fds[0]) * i), O_CLOEXEC } };
	if (tp_calls(w, calls, TP_PIPES, res, &done, err) < 0)
		return -1;
	if (done > 0 && pread(tp->mem_fd, fds, done * sizeof(fds[0]), (off_t)at) !=
				(ssize_t)(done * sizeof(fds[0]))) {
		/* their numbers unknown, the pipes stay in the task */
		rt_err_set(err, errno, "pid %d: read the scratch page", w->pid);
		tp_close(w, NULL);
		return -1;
	}
	bool all = done == TP_PIPES;
	for (size_t i = 0; i < done; i++) {
		tp->task_wfd[i] = fds[i][1];
		rfds[i] = fds[i][0];
		tp->rfd[i] = tp_take(w, pidfd, rfds[i]);
		all = all && tp->rfd[i] >= 0;
	}
	if (tp_close_fds(w, rfds, done, err) < 0) {
		tp_close(w, NULL);
		return -1;
	}
	if (!all || tp->size < PIPE_MIN)
		return tp_close(w, err);
	tp->n = TP_PIPES; /* the sinks keep the order of what was queued before */
	return 0;
}

/* Drop the first n bytes of the iovecs v[0..*nv). */
static void iov_advance(struct iovec *v, size_t *nv, size_t n)
{
	size_t i = 0;
	while (i < *nv && n >= v[i].iov_len)
		n -= v[i++].iov_len;
	memmove(v, v + i, (*nv - i) * sizeof(struct iovec));
	*nv -= i;
	if (*nv > 0) {
		v[0].iov_base = (uint8_t *)v[0].iov_base + n;
		v[0].iov_len -= n;
	}
}

/* The current pipe is full: its iovecs wait for the turn's vmsplices. */
static void tp_seal(struct page_writer *w)
{
	struct task_pipe *tp = &w->tp;
	if (w->used == 0)
		return;
	tp->fill[tp->n_fill++] = (struct tp_fill){ .pipe = tp->cur,
						   .iov = w->sealed,
						   .niov = w->nr - w->sealed,
						   .bytes = w->used };
	w->sealed = w->nr;
	w->used = 0;
	tp->cur = (tp->cur + 1) % tp->n;
}

/* n bytes the task vmspliced into f's pipe: its splice into f's page file
 * is queued, and empties the pipe. */
static int tp_queue(struct page_writer *w, const struct tp_fill *f, long n, size_t want,
		    struct rt_err **err)
{
	int k = pipe_part(w, f->pipe);
	if (n <= 0 || (size_t)n > want || n % CR_PAGE)
		return rt_err_set(err, n < 0 && n > -4096 ? (int)-n : EIO,
				  "pid %d: vmsplice of %zu bytes at %p gave %ld", w->pid, want,
				  w->remote[f->iov].iov_base, n);
	if (cr_sink_put_pipe(w->sink[k], w->pages[k], w->tp.rfd[f->pipe], (size_t)n,
			     &w->tp.ticket[f->pipe], err) < 0)
		return -1;
	w->c->st->pages_written += (uint64_t)n / CR_PAGE;
	return 0;
}

/* The rest of f after a short vmsplice of got bytes: into the same pipe
 * once it is empty (its pages are recorded in that pipe's page file). */
static int tp_rest(struct page_writer *w, struct tp_fill *f, size_t got, struct rt_err **err)
{
	struct task_pipe *tp = &w->tp;
	struct cr_dtask *t = w->t;
	struct iovec *v = w->remote + f->iov;
	size_t nv = f->niov, left = f->bytes - got;
	iov_advance(v, &nv, got);
	while (left > 0) {
		long n;
		cr_sink_wait_for(w->sink[pipe_part(w, f->pipe)], tp->ticket[f->pipe]);
		size_t len = nv * sizeof(struct iovec);
		uint64_t t0 = cr_now_us();
		if (pwrite(tp->mem_fd, v, len, (off_t)(t->scratch + TP_IOV_AT)) != (ssize_t)len)
			return rt_err_set(err, errno, "pid %d: write the scratch page", w->pid);
		if (cr_inj_call(&t->inj, SYS_vmsplice, tp->task_wfd[f->pipe],
				(long)(t->scratch + TP_IOV_AT), (long)nv, SPLICE_F_NONBLOCK, 0, 0, &n,
				err) < 0)
			return -1;
		w->c->st->memdump_time_us += cr_now_us() - t0;
		if (tp_queue(w, f, n, left, err) < 0)
			return -1;
		left -= (size_t)n;
		iov_advance(v, &nv, (size_t)n);
	}
	return 0;
}

/* The filled pipes' vmsplices, once each pipe is empty, in one resume of
 * the task where it allows that; then their splices are queued. */
static int tp_fire(struct page_writer *w, struct rt_err **err)
{
	struct task_pipe *tp = &w->tp;
	struct cr_dtask *t = w->t;
	size_t n = tp->n_fill, done;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int p = tp->fill[i].pipe;
		cr_sink_wait_for(w->sink[pipe_part(w, p)], tp->ticket[p]);
	}
	uint64_t t0 = cr_now_us();
	size_t len = w->nr * sizeof(struct iovec);
	unsigned long iov_at = t->scratch + TP_IOV_AT;
	if (pwrite(tp->mem_fd, w->remote, len, (off_t)iov_at) != (ssize_t)len)
		return rt_err_set(err, errno, "pid %d: write the scratch page", w->pid);
	struct cr_bcall calls[TP_TURN];
	long res[TP_TURN];
	for (size_t i = 0; i < n; i++) {
		const struct tp_fill *f = &tp->fill[i];
		calls[i] = (struct cr_bcall){ .nr = SYS_vmsplice,
					      .a = { tp->task_wfd[f->pipe],
						     (long)(iov_at + f->iov * sizeof(struct iovec)),
						     (long)f->niov, SPLICE_F_NONBLOCK } };
	}
	if (tp_calls(w, calls, n, res, &done, err) < 0)
		return -1;
	w->c->st->memdump_time_us += cr_now_us() - t0;
	for (size_t i = 0; i < n; i++) {
		struct tp_fill *f = &tp->fill[i];
		if (tp_queue(w, f, res[i], f->bytes, err) < 0)
			return -1;
		if ((size_t)res[i] < f->bytes && tp_rest(w, f, (size_t)res[i], err) < 0)
			return -1;
	}
	tp->n_fill = 0;
	w->nr = w->sealed = 0;
	return 0;
}

/* ---- process_vm_readv into the sink's buffers ---- */

/* A buffer is taken from the sink only to be filled and handed back at
 * once: a shmem object's writer runs in the middle of its task's batch. */
static int pw_flush(struct page_writer *w, struct rt_err **err)
{
	if (w->nr == 0)
		return 0;
	if (w->tp.n) {
		tp_seal(w);
		return tp_fire(w, err);
	}
	size_t cap, n = w->used;
	uint8_t *buf = cr_sink_buf(w->sink[0], &cap);
	uint64_t t0 = cr_now_us();
	struct iovec local = {buf, n};
	ssize_t r = process_vm_readv(w->pid, &local, 1, w->remote, w->nr, 0);
	w->c->st->memdump_time_us += cr_now_us() - t0;
	if (r != (ssize_t)n)
		return rt_err_set(err, r < 0 ? errno : EIO,
				  "pid %d: read %zu bytes of "
				  "memory at %p",
				  w->pid, n, w->remote[0].iov_base);
	w->nr = w->used = 0;
	w->c->st->pages_written += n / CR_PAGE;
	if (cr_sink_put(w->sink[0], w->pages[0], n, err) < 0)
		return -1;
	/* A whole buffer: this task has enough pages for the pipes. */
	return n == cap && !w->tp.tried ? tp_open(w, err) : 0;
}

/* Room for more pages in the batch; 0 when it must be flushed first.
 * A pipe's fill also ends where a PIPE_SIZE stretch of its page file
 * ends (counting the header page): each splice then fills whole
 * PIPE_SIZE slots of the file, which a tmpfs of large folios
 * (huge=within_size) backs with one folio each, where a splice across
 * two slots makes two folios and zeroes what it leaves of them. */
static size_t pw_room(struct page_writer *w)
{
	if (w->tp.n == 0)
		return w->nr == IOV_BATCH ? 0 : cr_sink_buf_size() - w->used;
	uint64_t at = CR_IMG_PAGE_SIZE + w->pos[batch_part(w)] * CR_PAGE; /* next byte's offset */
	size_t to_edge = PIPE_SIZE - (size_t)(at % PIPE_SIZE), room = w->tp.size - w->used;
	if (w->nr == TP_IOVS || (w->used > 0 && to_edge == PIPE_SIZE))
		return 0;
	return room < to_edge ? room : to_edge;
}

/* The batch has no room left: on to the next buffer, or the next pipe.
 * A turn's pipes are vmspliced together once the turn is full, or the
 * scratch area for their iovecs is. */
static int pw_next(struct page_writer *w, struct rt_err **err)
{
	if (w->tp.n == 0)
		return pw_flush(w, err);
	tp_seal(w);
	return w->tp.cur % TP_TURN == 0 || w->nr == TP_IOVS ? tp_fire(w, err) : 0;
}

/* Up to n bytes at addr of an unreadable mapping, through /proc/PID/mem,
 * as a buffer of its own; *done says how many. */
static int pw_read_mem(struct page_writer *w, unsigned long addr, size_t n, size_t *done,
		       struct rt_err **err)
{
	size_t cap;
	if (pw_flush(w, err) < 0)
		return -1;
	uint8_t *buf = cr_sink_buf(w->sink[0], &cap);
	*done = n < cap ? n : cap;
	uint64_t t0 = cr_now_us();
	int ret = cr_mem_read(w->pid, addr, buf, *done, err);
	w->c->st->memdump_time_us += cr_now_us() - t0;
	if (ret < 0)
		return -1;
	w->c->st->pages_written += *done / CR_PAGE;
	return cr_sink_put(w->sink[0], w->pages[0], *done, err);
}

/* One run of pages for the page file; off is what the pagemap record says
 * (address or shmem offset). Unreadable mappings go through /proc/PID/mem. */
/* The frame of a present page another task may map too, from its pagemap
 * entry; 0 for any other. */
static uint64_t shared_pfn(uint64_t e)
{
	return (e & (PM_PRESENT | PM_SWAP | PM_EXCLUSIVE)) == PM_PRESENT ? e & PM_PFN : 0;
}

/* The record of npages at off in page file k from its page pos on: the
 * first file's runs follow each other, the second's say where. */
static int pw_record(struct page_writer *w, int k, uint64_t off, size_t npages, uint64_t pos,
		     struct rt_err **err)
{
	struct cr_rec r;
	cr_rec_init(&r, k ? CR_R_PAGE_PART : CR_R_PAGE_RUN);
	cr_put_u64(&r, off);
	cr_put_u64(&r, npages);
	if (k)
		cr_put_u64(&r, pos);
	int ret = cr_img_write(w->pagemap, &r, err);
	cr_rec_free(&r);
	return ret;
}

/* One run of pages for the page files; off is what the pagemap record says
 * (address or shmem offset). Each piece goes into the batch being filled,
 * and is recorded in that batch's page file; with pm (its pagemap
 * entries), its shared pages are remembered where they went. Unreadable
 * mappings go through /proc/PID/mem, into the first file. */
static int pw_add_own(struct page_writer *w, unsigned long addr, uint64_t off, size_t npages,
		      bool readable, const uint64_t *pm, struct rt_err **err)
{
	if (!readable) {
		if (pw_record(w, 0, off, npages, 0, err) < 0)
			return -1;
		w->pos[0] += npages;
		for (size_t left = npages * CR_PAGE, n; left > 0; addr += n, left -= n)
			if (pw_read_mem(w, addr, left, &n, err) < 0)
				return -1;
		return 0;
	}
	for (size_t left = npages * CR_PAGE, n, room; left > 0; left -= n) {
		while ((room = pw_room(w)) == 0)
			if (pw_next(w, err) < 0)
				return -1;
		n = left < room ? left : room;
		int k = batch_part(w);
		size_t np = n / CR_PAGE;
		if ((k && pw_part1(w, err) < 0) || pw_record(w, k, off, np, w->pos[k], err) < 0)
			return -1;
		for (size_t j = 0; pm && j < np; j++)
			if (shared_pfn(pm[j]))
				cow_add(w->cow, shared_pfn(pm[j]), w->t->vpid, k, w->pos[k] + j);
		w->pos[k] += np;
		pm = pm ? pm + np : NULL;
		w->remote[w->nr++] = (struct iovec){(void *)addr, n};
		w->used += n;
		addr += n;
		off += n;
	}
	return 0;
}

/* A run of pages another task's page file holds (p's, from p's page on). */
static int pw_add_cow(struct page_writer *w, unsigned long addr, size_t npages,
		      const struct cow_page *p, struct rt_err **err)
{
	struct cr_rec r;
	cr_rec_init(&r, CR_R_PAGE_COW);
	cr_put_u64(&r, addr);
	cr_put_u64(&r, npages);
	cr_put_u32(&r, (uint32_t)p->owner);
	cr_put_u64(&r, p->pos);
	cr_put_u8(&r, (uint8_t)p->part);
	int ret = cr_img_write(w->pagemap, &r, err);
	cr_rec_free(&r);
	w->c->st->pages_deduplicated += npages;
	return ret;
}

/* Where such a page is, when it was written already. */
static const struct cow_page *cow_of(const struct cr_cow *t, uint64_t e)
{
	uint64_t pfn = shared_pfn(e);
	return pfn ? cow_find(t, pfn) : NULL;
}

/* n pages at addr with their pagemap entries pm: stretches of new pages go
 * to the page file (the shared ones among them are remembered), stretches
 * already written (by this or another task) become CR_R_PAGE_COW runs. */
static int pw_add_entries(struct page_writer *w, unsigned long addr, const uint64_t *pm,
			  size_t n, struct rt_err **err)
{
	size_t k = 0;
	while (k < n) {
		size_t s = k;
		const struct cow_page *p;
		while (k < n && (p = cow_of(w->cow, pm[k])) == NULL)
			k++;
		if (k > s && pw_add_own(w, addr + s * CR_PAGE, addr + s * CR_PAGE, k - s, true,
					pm + s, err) < 0)
			return -1;
		if (k == n)
			break;
		const struct cow_page first = *p;
		for (s = k++; k < n && (p = cow_of(w->cow, pm[k])) != NULL &&
			      p->owner == first.owner && p->part == first.part &&
			      p->pos == first.pos + (k - s);
		     k++)
			;
		if (pw_add_cow(w, addr + s * CR_PAGE, k - s, &first, err) < 0)
			return -1;
	}
	return 0;
}

/* One run of pages: straight to the page file, or, when the dump has
 * several processes, through their frames first. */
static int pw_add(struct page_writer *w, unsigned long addr, uint64_t off, size_t npages,
		  bool readable, struct rt_err **err)
{
	if (w->cow == NULL || !readable)
		return pw_add_own(w, addr, off, npages, readable, NULL, err);
	if (w->pm == NULL)
		w->pm = xmalloc(PAGEMAP_CHUNK * sizeof(uint64_t));
	for (size_t i = 0; i < npages;) {
		size_t n = npages - i < PAGEMAP_CHUNK ? npages - i : PAGEMAP_CHUNK;
		unsigned long a = addr + i * CR_PAGE;
		if (pread(w->pagemap_fd, w->pm, n * 8, (off_t)(a / CR_PAGE * 8)) !=
		    (ssize_t)(n * 8))
			return rt_err_set(err, errno, "pid %d: read pagemap at %#lx", w->pid, a);
		if (pw_add_entries(w, a, w->pm, n, err) < 0)
			return -1;
		i += n;
	}
	return 0;
}

/* A run of pages unchanged since the parent dump: a record, no data. */
static int pw_add_parent(struct page_writer *w, unsigned long addr, size_t npages,
			 struct rt_err **err)
{
	struct cr_rec r;
	cr_rec_init(&r, CR_R_PAGE_PARENT);
	cr_put_u64(&r, addr);
	cr_put_u64(&r, npages);
	int ret = cr_img_write(w->pagemap, &r, err);
	cr_rec_free(&r);
	w->c->st->pages_in_parent += npages;
	return ret;
}

static bool page_wanted(uint64_t e, int kind)
{
	if (!(e & (PM_PRESENT | PM_SWAP)))
		return false;
	return kind != CR_VMA_FILE_PRIVATE || !(e & PM_FILE);
}

/* PAGEMAP_SCAN over m with a's flags and masks: each region goes to
 * pw_add, or to pw_add_parent when `written` says its pages were not
 * written since a parent dump the tracking vouches for. 1 when the first
 * call fails with one of `unsupported` (0-terminated errnos). */
static int scan_pages(struct page_writer *w, int pagemap_fd, const struct cr_vma *m,
		      struct cr_pm_scan_arg a, uint64_t base, bool written,
		      const int *unsupported, struct rt_err **err)
{
	struct cr_page_region v[SCAN_REGIONS];
	a.size = sizeof(a);
	a.start = m->start;
	a.end = m->end;
	a.vec = (uintptr_t)v;
	a.vec_len = SCAN_REGIONS;
	while (a.start < m->end) {
		int n = ioctl(pagemap_fd, CR_PAGEMAP_SCAN, &a);
		if (n < 0 && errno == EINTR)
			continue;
		for (const int *e = unsupported; n < 0 && a.start == m->start && *e; e++)
			if (errno == *e)
				return 1;
		if (n < 0)
			return rt_err_set(err, errno, "pid %d: PAGEMAP_SCAN %#lx-%#lx", w->pid,
					  (unsigned long)a.start, m->end);
		for (int i = 0; i < n; i++) {
			size_t np = (v[i].end - v[i].start) / CR_PAGE;
			bool in_parent = written && !(v[i].categories & CR_PAGE_IS_WRITTEN) &&
					 w->c->parent_ok;
			int ret = in_parent ? pw_add_parent(w, v[i].start, np, err)
					    : pw_add(w, v[i].start, base + (v[i].start - m->start),
						     np, m->prot & PROT_READ, err);
			if (ret < 0)
				return -1;
		}
		if (a.walk_end <= a.start)
			return rt_err_set(err, EIO, "pid %d: PAGEMAP_SCAN made no progress at %#lx",
					  w->pid, (unsigned long)a.start);
		a.start = a.walk_end;
	}
	w->c->st->pages_scanned += (m->end - m->start) / CR_PAGE;
	return 0;
}

/* The pages worth dumping: present or swapped, not the shared zero page
 * (it reads back as zeros anyway), and in a private file mapping not the
 * file's own pages; one region per run. 1 when the kernel has no
 * PAGEMAP_SCAN. */
static int scan_vma_pages(struct page_writer *w, int pagemap_fd, const struct cr_vma *m, int kind,
			  struct rt_err **err)
{
	static const int unsupported[] = { ENOTTY, EINVAL, 0 };
	uint64_t skip = CR_PAGE_IS_PFNZERO | (kind == CR_VMA_FILE_PRIVATE ? CR_PAGE_IS_FILE : 0);
	struct cr_pm_scan_arg a = {
		.category_inverted = skip,
		.category_mask = skip,
		.category_anyof_mask = CR_PAGE_IS_PRESENT | CR_PAGE_IS_SWAPPED,
	};
	return scan_pages(w, pagemap_fd, m, a, kind == CR_VMA_SHMEM ? m->pgoff * CR_PAGE : m->start,
			  false, unsupported, err);
}

/* The same from reading pagemap entries (kernels before 6.7). */
static int read_vma_pages(struct page_writer *w, int pagemap_fd, const struct cr_vma *m, int kind,
			  struct rt_err **err)
{
	size_t total = (m->end - m->start) / CR_PAGE;
	size_t chunk = total < PAGEMAP_CHUNK ? total : PAGEMAP_CHUNK;
	cleanup_free uint64_t *pm = xmalloc(chunk * sizeof(uint64_t));
	uint64_t base = kind == CR_VMA_SHMEM ? m->pgoff * CR_PAGE : m->start;
	size_t run_start = 0, run_len = 0;
	for (size_t i = 0; i < total; i += chunk) {
		size_t n = total - i < chunk ? total - i : chunk;
		off_t off = (off_t)((m->start / CR_PAGE + i) * 8);
		if (pread(pagemap_fd, pm, n * 8, off) != (ssize_t)(n * 8))
			return rt_err_set(err, errno, "pid %d: read pagemap at %#lx", w->pid,
					  m->start + i * CR_PAGE);
		for (size_t k = 0; k < n; k++) {
			if (page_wanted(pm[k], kind)) {
				if (run_len == 0)
					run_start = i + k;
				run_len++;
				continue;
			}
			if (run_len &&
			    pw_add(w, m->start + run_start * CR_PAGE, base + run_start * CR_PAGE,
				   run_len, m->prot & PROT_READ, err) < 0)
				return -1;
			run_len = 0;
		}
	}
	w->c->st->pages_scanned += total;
	if (run_len)
		return pw_add(w, m->start + run_start * CR_PAGE, base + run_start * CR_PAGE,
			      run_len, m->prot & PROT_READ, err);
	return 0;
}

/* A tracked mapping (mem-track.c): one PAGEMAP_SCAN reports which present
 * pages were written since the last tracked dump and protects them again.
 * Written pages are dumped; the others are recorded as in the parent when
 * the parent is that last dump, dumped too otherwise. 1 when the mapping is
 * not registered (EPERM from PM_SCAN_CHECK_WPASYNC). */
static int scan_written(struct page_writer *w, int pagemap_fd, const struct cr_vma *m,
			struct rt_err **err)
{
	static const int unsupported[] = { EPERM, ENOTTY, EINVAL, 0 };
	struct cr_pm_scan_arg a = {
		.flags = CR_PM_SCAN_WP_MATCHING | CR_PM_SCAN_CHECK_WPASYNC,
		.category_inverted = CR_PAGE_IS_PFNZERO,
		.category_mask = CR_PAGE_IS_PFNZERO,
		.category_anyof_mask = CR_PAGE_IS_PRESENT | CR_PAGE_IS_SWAPPED,
		.return_mask = CR_PAGE_IS_WRITTEN,
	};
	return scan_pages(w, pagemap_fd, m, a, m->start, true, unsupported, err);
}

/* Private anonymous memory of a tracked tree: scanned for written pages,
 * and registered first when it is not yet (then every page reads as
 * written). 1: not tracked, dump it the plain way. Private file mappings
 * are not tracked: dropping a copied page there leaves a marker the scan
 * cannot tell from a swapped page. */
static int dump_tracked(struct page_writer *w, int pagemap_fd, const struct cr_vma *m,
			struct rt_err **err)
{
	int ret = scan_written(w, pagemap_fd, m, err);
	if (ret != 1)
		return ret;
	ret = cr_track_register(w->c, w->t, m->start, m->end, err);
	if (ret <= 0)
		return ret < 0 ? -1 : 1;
	ret = scan_written(w, pagemap_fd, m, err);
	return ret == 1 ? rt_err_set(err, EIO, "pid %d: mapping %#lx-%#lx is not tracked "
				     "right after registering it", w->pid, m->start, m->end)
			: ret;
}

static int dump_vma_pages(struct page_writer *w, int pagemap_fd, const struct cr_vma *m, int kind,
			  struct rt_err **err)
{
	int ret = 1;
	if (kind == CR_VMA_ANON && w->c->track && !w->no_scan)
		ret = dump_tracked(w, pagemap_fd, m, err);
	if (ret == 1)
		ret = w->no_scan ? 1 : scan_vma_pages(w, pagemap_fd, m, kind, err);
	if (ret == 1) {
		w->no_scan = true;
		ret = read_vma_pages(w, pagemap_fd, m, kind, err);
	}
	return ret;
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
	if (c->cow)
		free(c->cow->v);
	free(c->cow);
	c->cow = NULL;
	for (int k = 0; k < 2; k++) {
		cr_sink_free(c->iobuf[k]);
		c->iobuf[k] = NULL;
	}
}

static int open_pair(struct cr_dump_ctx *c, struct page_writer *w, struct rt_err **err)
{
	char name[96];
	snprintf(name, sizeof(name), "pagemap-%s.img", w->tag);
	if (cr_img_create(c->o->images_dirfd, name, CR_IMG_PAGEMAP, &w->pagemap, err) < 0)
		return -1;
	snprintf(name, sizeof(name), "pages-%s.img", w->tag);
	return cr_img_create(c->o->images_dirfd, name, CR_IMG_PAGES, &w->pages[0], err);
}

static int close_pair(struct page_writer *w, int ret, struct rt_err **err)
{
	if (ret == 0)
		ret = pw_flush(w, err);
	/* Always: the writers may still hold the pages images. */
	for (int k = 0; k < 2; k++)
		if (w->sink[k] && cr_sink_sync(w->sink[k], ret == 0 ? err : NULL) < 0)
			ret = -1;
	if (tp_close(w, ret == 0 ? err : NULL) < 0)
		ret = -1;
	if (ret == 0) {
		ret = cr_img_close(w->pagemap, err);
		w->pagemap = NULL;
	}
	for (int k = 0; k < 2 && ret == 0; k++)
		if (w->pages[k]) {
			ret = cr_img_close(w->pages[k], err);
			w->pages[k] = NULL;
		}
	if (w->pagemap)
		cr_img_abort(w->pagemap);
	for (int k = 0; k < 2; k++)
		if (w->pages[k])
			cr_img_abort(w->pages[k]);
	free(w->pm);
	w->pm = NULL;
	return ret;
}

/* The pages the shmem object holds in m's range, found with SEEK_DATA on
 * the object itself: this task's page tables only show the pages it
 * touched (after a restore, none: the object was filled through its
 * file), and the other tasks' touches count too. 1 when the object cannot
 * be opened (use the task's pagemap). */
static int dump_shmem_extents(struct page_writer *w, const struct cr_vma *m,
			      struct rt_err **err)
{
	char path[96];
	snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", w->pid, m->start, m->end);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	off_t lo = (off_t)(m->pgoff * CR_PAGE), hi = lo + (off_t)(m->end - m->start);
	for (off_t pos = lo; pos < hi;) {
		off_t ds = lseek(fd, pos, SEEK_DATA);
		if (ds < 0 && errno == ENXIO)
			break;
		off_t de = ds < 0 ? -1 : lseek(fd, ds, SEEK_HOLE);
		if (ds < 0 || de < 0)
			return rt_err_set(err, errno, "pid %d: find the pages of '%s'", w->pid,
					  path);
		if (ds >= hi)
			break;
		ds &= ~(off_t)(CR_PAGE - 1);
		de = de > hi ? hi : (de + (off_t)CR_PAGE - 1) & ~(off_t)(CR_PAGE - 1);
		if (pw_add(w, m->start + (unsigned long)(ds - lo), (uint64_t)ds,
			   (size_t)(de - ds) / CR_PAGE, m->prot & PROT_READ, err) < 0)
			return -1;
		pos = de;
	}
	w->c->st->pages_scanned += (m->end - m->start) / CR_PAGE;
	return 0;
}

/* A shared anonymous object, once for the whole tree. */
static int dump_shmem(struct cr_dump_ctx *c, struct cr_dtask *t, int pagemap_fd,
		      const struct cr_vma *m, struct rt_err **err)
{
	if (shm_seen(c, m->ino))
		return 0;
	char tag[64];
	snprintf(tag, sizeof(tag), "shmem-%lu", (unsigned long)m->ino);
	struct page_writer w;
	pw_init(&w, c, t, tag);
	if (open_pair(c, &w, err) < 0)
		return close_pair(&w, -1, err);
	int ret = dump_shmem_extents(&w, m, err);
	if (ret == 1)
		ret = dump_vma_pages(&w, pagemap_fd, m, CR_VMA_SHMEM, err);
	return close_pair(&w, ret, err);
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
	cr_put_u32(r, m->flags);
}

static int dump_vmas(struct cr_dump_ctx *c, struct cr_dtask *t, struct cr_img *mm,
		     struct page_writer *w, int pagemap_fd, struct rt_err **err)
{
	cleanup_free char *smaps = NULL;
	struct cr_vma *v = NULL;
	size_t n = 0;
	const char *root = cr_task_root(t, err);
	/* smaps: maps' lines, and each mapping's VmFlags */
	if (root == NULL || cr_task_read(t, "smaps", &smaps, err) < 0 ||
	    cr_parse_maps(smaps, &v, &n, err) < 0)
		return -1;
	int ret = 0;
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct cr_vma *m = &v[i];
		if (m->start == t->scratch)
			continue;
		int kind = classify(t->hpid, m, err);
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
		else if (ret == 0 && kind == CR_VMA_SHMEM && !c->o->pre_dump)
			ret = dump_shmem(c, t, pagemap_fd, m, err); /* whole, in every full dump */
	}
	cr_vmas_free(v, n);
	return ret;
}

static const struct cr_qcall brk_q = { SYS_brk, { 0 }, -1, 0 };

void cr_mm_want(struct cr_dump_ctx *c, struct cr_dtask *t)
{
	cr_query_want(t, &brk_q);
}

/* The task's resident anonymous (private, or also shared) memory in KiB,
 * from its status; -1 when it does not say. */
static long long rss_kb(struct cr_dtask *t, bool shared)
{
	const char *status = cr_task_status(t, NULL);
	const char *anon = status ? cr_status_field(status, "RssAnon") : NULL;
	const char *shmem = status ? cr_status_field(status, "RssShmem") : NULL;
	if (anon == NULL || shmem == NULL)
		return -1;
	return strtoll(anon, NULL, 10) + (shared ? strtoll(shmem, NULL, 10) : 0);
}

int cr_mm_elsewhere(struct cr_dump_ctx *c, struct cr_dtask *t, struct rt_err **err)
{
	size_t len;
	if (cr_task_status(t, err) == NULL || cr_task_root(t, err) == NULL ||
	    cr_task_auxv(t, &len, err) == NULL || cr_task_stat(t, err) == NULL)
		return -1;
	long long kb = rss_kb(t, true);
	/* written-page tracking and pipes are injected: small, untracked */
	if (c->track || kb < 0 || kb >= MM_ELSEWHERE_KB)
		return 0;
	if (cr_query(t, "brk(0)", &brk_q, NULL, &t->brk, err) < 0)
		return -1;
	t->brk_known = t->mm_elsewhere = true;
	return 1;
}

/* start_code.. from /proc/PID/stat fields 26-28 and 45-51, brk injected. */
static int read_mm_fields(struct cr_dtask *t, uint64_t f[11], struct rt_err **err)
{
	const char *stat = cr_task_stat(t, err);
	if (stat == NULL)
		return -1;
	uint64_t fld[53] = { 0 };
	const char *p = strrchr(stat, ')');
	for (int i = 3; p && i <= 52; i++) {
		p = strchr(p + 1, ' ');
		if (p)
			fld[i] = strtoull(p + 1, NULL, 10);
	}
	long brk = t->brk;
	if (!t->brk_known && cr_query(t, "brk(0)", &brk_q, NULL, &brk, err) < 0)
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
	cleanup_free char *exe = NULL;
	size_t auxv_len;
	const char *auxv = cr_task_auxv(t, &auxv_len, err), *root = cr_task_root(t, err);
	if (auxv == NULL || root == NULL || read_mm_fields(t, f, err) < 0 ||
	    cr_proc_link(t->hpid, "exe", &exe, err) < 0)
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
	char name[64];
	snprintf(name, sizeof(name), "/proc/%d/pagemap", t->hpid);
	cleanup_close int pagemap_fd = open(name, O_RDONLY | O_CLOEXEC);
	if (pagemap_fd < 0)
		return rt_err_set(err, errno, "open '%s'", name);
	struct cr_img *mm = NULL;
	snprintf(name, sizeof(name), "mm-%d.img", t->vpid);
	if (cr_img_create(c->o->images_dirfd, name, CR_IMG_MM, &mm, err) < 0)
		return -1;
	char tag[32];
	snprintf(tag, sizeof(tag), "%d", t->vpid);
	struct page_writer w;
	pw_init(&w, c, t, tag);
	w.parts = true; /* a task's own pages: two files once it has pipes */
	if (c->n > 1) {
		if (c->cow == NULL)
			c->cow = xcalloc(1, sizeof(*c->cow));
		w.cow = c->cow;
		w.pagemap_fd = pagemap_fd;
	}
	int ret = open_pair(c, &w, err);
	/* a task with pages for more than two buffers has them go through the
	 * pipes from the first */
	if (ret == 0 && !t->mm_elsewhere && rss_kb(t, false) >= 2 * MM_ELSEWHERE_KB)
		ret = tp_open(&w, err);
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
