/* Memory layout shared by mem.c (dump) and mem-restore.c. */
#ifndef FERRY_CR_MEM_H
#define FERRY_CR_MEM_H

#include "coordinator/internal.h"

enum cr_vma_kind {
	CR_VMA_ANON = 1,     /* private anonymous (heap, stack, mmap) */
	CR_VMA_FILE_PRIVATE, /* private file mapping: CoW pages dumped */
	CR_VMA_FILE_SHARED,  /* shared file mapping: contents stay in the file */
	CR_VMA_SHMEM,        /* MAP_SHARED anonymous: shmem-INO-*.img */
	CR_VMA_SPECIAL,      /* [vdso] [vvar] [vvar_vclock] [vsyscall]: located only */
};

/* What madvise, mlock and mmap flags left on a mapping (smaps VmFlags),
 * kept in the image and put back after the restore fills it. */
enum cr_vma_flag {
	CR_VMF_LOCKED = 1 << 0,      /* lo: mlock */
	CR_VMF_LOCKONFAULT = 1 << 1, /* lf: mlock2(MLOCK_ONFAULT) */
	CR_VMF_DONTFORK = 1 << 2,    /* dc: MADV_DONTFORK */
	CR_VMF_WIPEONFORK = 1 << 3,  /* wf: MADV_WIPEONFORK */
	CR_VMF_DONTDUMP = 1 << 4,    /* dd: MADV_DONTDUMP */
	CR_VMF_HUGEPAGE = 1 << 5,    /* hg: MADV_HUGEPAGE */
	CR_VMF_NOHUGEPAGE = 1 << 6,  /* nh: MADV_NOHUGEPAGE */
	CR_VMF_MERGEABLE = 1 << 7,   /* mg: MADV_MERGEABLE */
	CR_VMF_NORESERVE = 1 << 8,   /* nr: MAP_NORESERVE */
	CR_VMF_SEQUENTIAL = 1 << 9,  /* sr: MADV_SEQUENTIAL */
	CR_VMF_RANDOM = 1 << 10,     /* rr: MADV_RANDOM */
	CR_VMF_SEALED = 1 << 11,     /* sl: mseal */
	CR_VMF_ALL = (1 << 12) - 1,
};

/* The flags of a smaps "VmFlags:" value; ours (uw: the dump's own
 * tracking) and the kernel's bookkeeping are not among them. */
uint32_t cr_vmflags_parse(const char *value);
/* Their smaps names, space-separated, into buf. */
void cr_vmflags_names(uint32_t flags, char *buf, size_t len);

struct cr_vma {
	unsigned long start, end, pgoff; /* pgoff in pages */
	uint32_t flags;                  /* enum cr_vma_flag */
	uint64_t ino;
	int prot, kind;
	bool shared;
	char *path;          /* as in maps; for files: inside the task's root */
	uint64_t npages;     /* pages in the page file (restore) */
	int tmpfd;           /* the agent's fd for the file or shmem (restore) */
	int oflags;          /* how that file was opened (restore) */
	bool uffd;           /* registered with the task's userfaultfd (restore) */
};

struct cr_mm {
	uint64_t f[11]; /* start_code end_code start_data end_data start_brk brk
			 * start_stack arg_start arg_end env_start env_end */
	uint8_t auxv[512];
	size_t auxv_len;
	char *exe;
	int exe_fd;       /* in the agent (restore) */
	struct cr_vma *vmas;
	size_t n;
	struct cr_run *runs;
	size_t n_runs;
	uint64_t npages;     /* in this image's (first) page file */
	uint64_t part_pages; /* in its second page file */
	uint64_t parent_pages; /* recorded as in the parent */
	uint64_t cow_pages;  /* recorded as in another task's page file */
	uint64_t anon_pages; /* of the restored pages, those in CR_VMA_ANON mappings */
	uint64_t layer_pages[CR_MAX_LAYERS]; /* each layer's page file, once resolved */
};

/* The mappings of a /proc/PID/maps or smaps text; from smaps, each with
 * its VmFlags. */
int cr_parse_maps(const char *text, struct cr_vma **out, size_t *n,
		  struct rt_err **err);
void cr_vmas_free(struct cr_vma *v, size_t n);
struct cr_run {
	uint64_t off, npages; /* address (or shmem offset) and length */
	bool in_parent;       /* as recorded: unchanged since the parent dump */
	uint32_t layer;       /* where the data is: 0 this image, k its k-th parent */
	pid_t owner;          /* 0: in this task's page files; else in that task's
			       * (the pages were shared copy-on-write) */
	uint8_t part;         /* 0: pages-TAG.img, 1: pages-TAG.1.img */
	uint64_t pos;         /* first page of the data in that page file */
};

void cr_mm_free(struct cr_mm *mm);
int cr_dump_mm(struct cr_dump_ctx *c, struct cr_dtask *t, struct rt_err **err);
void cr_mm_want(struct cr_dump_ctx *c, struct cr_dtask *t); /* its queries */
/* 1 when t's memory can be dumped from another thread than its tracer's
 * (small, and no tracking): what needs ptrace is asked now, and t is
 * marked so; 0 when not. */
int cr_mm_elsewhere(struct cr_dump_ctx *c, struct cr_dtask *t, struct rt_err **err);
/* mm-PID.img and pagemap-PID.img of the task into mm (mem-restore.c). */
int cr_mm_load(struct cr_restore_ctx *c, struct cr_rtask *t, struct cr_mm *mm,
	       struct rt_err **err);
/* ferry inspect: the task's "memory" (mem-inspect.c). */
int cr_mm_describe(struct cr_restore_ctx *c, struct cr_rtask *t, struct cr_desc *d,
		   struct rt_err **err);
/* Read a pagemap-TAG.img; *runs is malloc'd, every run at layer 0 with its
 * page file (its owner's, for a CR_R_PAGE_COW run) and its position there;
 * runs recorded as in the parent have none. */
int cr_read_runs(int dirfd, const char *tag, struct cr_run **runs, size_t *n,
		 struct rt_err **err);
/* Replace the in-parent runs of mm by where their pages are in the parent
 * layers (c->layer); pages no parent has are left out (they read as zero). */
int cr_runs_resolve(struct cr_restore_ctx *c, const char *tag, struct cr_mm *mm,
		    struct rt_err **err);
/* Pages pos..pos+n-1 of a page file. */
struct cr_span {
	uint64_t pos, n;
};
/* The pages of [0, npages) that no span of used[0..n) covers (used is
 * sorted here; spans may overlap), as *gaps (malloc'd): their count.
 * dedup.c punches them. */
size_t cr_span_gaps(struct cr_span *used, size_t n, uint64_t npages, struct cr_span **gaps);
/* Page data written behind the reader (mem-sink.c). blocked_us counts the
 * time the reader waits for writing: buffers to come free, synchronous
 * writes of a small dump, and cr_sink_sync. */
struct cr_sink;
struct cr_sink *cr_sink_new(uint64_t *blocked_us);
/* A free buffer of *cap bytes (waits for one); fill it and hand it back
 * with put before asking for another. */
uint8_t *cr_sink_buf(struct cr_sink *s, size_t *cap);
size_t cr_sink_buf_size(void);
/* Queue len bytes of the buffer for img (whole pages); an error may be an
 * earlier write's. */
int cr_sink_put(struct cr_sink *s, struct cr_img *img, size_t len, struct rt_err **err);
/* Queue a splice of len bytes (whole pages) from a pipe into img; *ticket
 * is that write's: cr_sink_wait_for(ticket) returns once it is done (the
 * pipe is empty again). */
int cr_sink_put_pipe(struct cr_sink *s, struct cr_img *img, int pipe_fd, size_t len,
		     uint64_t *ticket, struct rt_err **err);
void cr_sink_wait_for(struct cr_sink *s, uint64_t ticket);
/* Wait until everything queued is written: required before closing or
 * aborting an image that was given to put. */
int cr_sink_sync(struct cr_sink *s, struct rt_err **err);
void cr_sink_free(struct cr_sink *s);

/* The page files a task's (resolved) runs use, mapped: map checks each is
 * long enough for its runs; data is where a run's pages are. */
struct cr_page_file;
struct cr_page_files {
	struct cr_page_file *f;
	size_t n;
};
int cr_page_files_map(struct cr_restore_ctx *c, struct cr_rtask *t, const char *tag,
		      struct cr_page_files *pf, struct rt_err **err);
const uint8_t *cr_page_files_data(const struct cr_page_files *pf, const struct cr_run *r);
void cr_page_files_unmap(struct cr_page_files *pf);

/* Open pages-TAG.img (checked header) and say how many bytes it has. */
int cr_open_pages(int dirfd, const char *tag, struct cr_img **img, uint64_t *size,
		  struct rt_err **err);
/* Map pages-TAG.img read-only: *data points at page 0 of the data. */
int cr_map_pages(int dirfd, const char *tag, uint64_t npages, void **map,
		 size_t *map_len, const uint8_t **data, struct rt_err **err);

#endif
