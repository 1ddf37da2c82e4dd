/* Coordinator internals shared by dump.c, restore.c and the resource files.
 * Not included outside runtime/coordinator/. */
#ifndef FERRY_CR_INTERNAL_H
#define FERRY_CR_INTERNAL_H

#include <signal.h>
#include <stdint.h>
#include <sys/user.h>

#include "coordinator/coordinator.h"
#include "coordinator/image.h"

#define CR_PAGE 4096UL
#define CR_XSTATE_MAX 8192
#define CR_NSIG 64
#define CR_SCRATCH_SIZE (2 * CR_PAGE)

/* Record types; every file holds a known subset. */
enum cr_rec_type {
	CR_R_INVENTORY = 1,
	CR_R_TASK,     /* pstree.img: one per process */
	CR_R_THREAD,   /* core-PID.img: one per thread */
	CR_R_MM,       /* mm-PID.img: mm fields, exe, auxv */
	CR_R_VMA,      /* mm-PID.img: one per mapping */
	CR_R_PAGE_RUN, /* pagemap-*.img: vaddr, nr_pages */
	CR_R_SIGACT,   /* signal-PID.img: one per signal 1..64 */
	CR_R_SIGINFO,  /* signal-PID.img: pending signals */
	CR_R_MISC,     /* misc-PID.img: umask, personality, cwd, root, creds */
	CR_R_RLIMIT,   /* misc-PID.img */
	CR_R_FD,       /* fds-PID.img */
	CR_R_FILE,     /* files.img: one per open file description */
	CR_R_ITIMER,      /* timers-PID.img: ITIMER_REAL, VIRTUAL, PROF */
	CR_R_POSIX_TIMER, /* timers-PID.img: one per POSIX timer */
	CR_R_SECCOMP,     /* seccomp-PID.img: one per filter, oldest first */
	CR_R_LOCK,        /* locks-PID.img: one per file lock (locks.c) */
	CR_R_PAGE_PARENT, /* pagemap-PID.img: vaddr, nr_pages unchanged since the parent */
	CR_R_LINEAGE,     /* inventory.img: pre-dump or not, dump id, parent's id */
	CR_R_CTTY,        /* files.img: a session's controlling terminal (ctty.c) */
	CR_R_PAGE_COW,    /* pagemap-PID.img: vaddr, nr_pages, owner vpid, page, which file */
	CR_R_PAGE_PART,   /* pagemap-PID.img: vaddr, nr_pages, page in pages-PID.1.img */
};

/* Every dump has a random id; a dump made against a parent records the
 * parent's, and restore checks the chain against them (inventory.c). */
#define CR_DUMP_ID_LEN 16
#define CR_MAX_LAYERS 32 /* a dump and its parents, at most */

/* ---- ptrace and injection (inject.c) ---- */

/* The ptrace options of the dump's (seize.c) and the restore's (restore.c)
 * tracees; seccomp.c adds PTRACE_O_SUSPEND_SECCOMP for tasks with filters. */
#define CR_DUMP_PTRACE_OPTS PTRACE_O_TRACESYSGOOD
#define CR_RESTORE_PTRACE_OPTS \
	(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL)

/* A stopped tracee we run single syscalls in: registers of the current
 * stop are the base of every call, rip goes to a `syscall` instruction. */
struct cr_inj {
	pid_t tid;
	unsigned long gadget;
	struct user_regs_struct base;
	pid_t new_tid; /* set by an injected clone3 (PTRACE_EVENT_CLONE) */
};

int cr_seize(pid_t tid, unsigned long options, struct rt_err **err);
int cr_wait_stop(pid_t tid, int *status, struct rt_err **err);
/* PTRACE_INTERRUPT and wait for the PTRACE_EVENT_STOP. */
int cr_interrupt_wait(pid_t tid, struct rt_err **err);
/* Reap killed tracees in whatever order they become reapable, for at most
 * timeout_ms. */
void cr_reap_tracees(const pid_t *tids, size_t n, int timeout_ms);
int cr_getregs(pid_t tid, struct user_regs_struct *r, struct rt_err **err);
int cr_setregs(pid_t tid, const struct user_regs_struct *r, struct rt_err **err);
int cr_get_xstate(pid_t tid, uint8_t *buf, size_t *len, struct rt_err **err);
int cr_set_xstate(pid_t tid, const uint8_t *buf, size_t len, struct rt_err **err);
int cr_get_sigmask(pid_t tid, uint64_t *mask, struct rt_err **err);
int cr_set_sigmask(pid_t tid, uint64_t mask, struct rt_err **err);

int cr_inj_init(struct cr_inj *j, pid_t tid, unsigned long gadget,
		struct rt_err **err);
/* Run syscall nr in the tracee; *ret gets its raw return (-errno). */
int cr_inj_call(struct cr_inj *j, long nr, long a0, long a1, long a2, long a3,
		long a4, long a5, long *ret, struct rt_err **err);
/* Same, but a negative return is an error naming what. */
int cr_inj_ok(struct cr_inj *j, const char *what, long nr, long a0, long a1,
	      long a2, long a3, long a4, long a5, long *ret, struct rt_err **err);

/* Syscalls run back to back inside a stopped task with one resume
 * (inject.c says when that is safe). what names a call in errors
 * (malloc'd, freed by run). */
#define CR_BATCH_CODE 64
struct cr_bcall {
	long nr, a[6];
	char *what;
};
struct cr_batch {
	struct cr_bcall *calls;
	size_t n;
};
void cr_batch_add(struct cr_batch *b, long nr, long a0, long a1, long a2, long a3, long a4,
		  long a5, char *what);
/* Run every call in order through the executable area [area, area +
 * area_len); stops at the first that fails, naming it. Empties b. */
int cr_batch_run(struct cr_inj *j, unsigned long area, size_t area_len, struct cr_batch *b,
		 struct rt_err **err);
/* One run of n calls (area must hold CR_BATCH_CODE + 64 * n bytes): the
 * calls before *done succeeded, results[*done] (if *done < n) is the
 * failed one's -errno; -1 only when the task could not be run. */
int cr_batch_exec(struct cr_inj *j, unsigned long area, const struct cr_bcall *c, size_t n,
		  long *results, size_t *done, struct rt_err **err);
void cr_batch_free(struct cr_batch *b);

/* A userfaultfd for the task's memory: made inside it by injection,
 * taken with pidfd_getfd and closed there, UFFDIO_API'd with features.
 * *fd is ours, or -1 when the task cannot have one (ENOSYS, a seccomp
 * filter, a feature missing), which is not an error. */
int cr_inj_userfaultfd(struct cr_inj *j, pid_t pid, uint64_t features, int *fd,
		       struct rt_err **err);

/* Tracee memory through /proc/PID/mem (works on read-only pages). */
/* on: keep the last task's /proc/PID/mem open between calls in this
 * thread (a dump); off: close it and open one per call again. */
void cr_mem_keep(bool on);
int cr_mem_write(pid_t pid, unsigned long addr, const void *p, size_t n,
		 struct rt_err **err);
int cr_mem_read(pid_t pid, unsigned long addr, void *p, size_t n,
		struct rt_err **err);

/* Interrupted syscalls: regs for continuing the same task (restart block
 * kept) or a new one (restart block lost: -EINTR). orig_rax becomes -1. */
void cr_regs_for_resume(struct user_regs_struct *r);
/* Only the sleep part of that: true when r was a relative sleep now set
 * to be re-issued (a thread we did not inject in needs nothing else). */
bool cr_regs_reissue_sleep(struct user_regs_struct *r);
void cr_regs_for_new_task(struct user_regs_struct *r);

/* ---- machine facts (inventory.c) ---- */

struct cr_vdso_info {
	unsigned long start, size; /* this process's [vdso] */
	uint64_t hash;
	unsigned long gadget_off;  /* a `0f 05` (syscall) inside it */
};
int cr_vdso_self(struct cr_vdso_info *v, struct rt_err **err);
uint64_t cr_hash64(const void *p, size_t n);
/* A task's [vdso] start, from its auxv. */
int cr_task_vdso(pid_t pid, unsigned long *vdso, struct rt_err **err);

/* ---- pid namespaces (pidns.c) ----
 * hpid: in our pid namespace, for /proc, ptrace, kill, kcmp.
 * vpid: in the tree's own namespace, for the images and for syscalls run
 * inside the tasks (agents, injection). */

struct cr_ns_ids {
	pid_t pid, pgid, sid; /* as the task's own pid namespace sees them */
	int level;            /* how many namespaces below our /proc's it is */
};

/* NSpid, NSpgid and NSsid of a thread (tid == pid: the process). A pgid or
 * sid outside the task's namespace reads 0. */
int cr_ns_ids(pid_t pid, pid_t tid, struct cr_ns_ids *ids, struct rt_err **err);
/* The same from that thread's status text. */
int cr_ns_ids_parse(const char *status, pid_t pid, pid_t tid, struct cr_ns_ids *ids,
		    struct rt_err **err);
/* The hpid of the task a pidfd refers to (ESRCH once reaped). */
int cr_pidfd_pid(int pidfd, pid_t *pid, struct rt_err **err);

/* ---- dump ---- */

struct cr_dthread {
	pid_t htid, vtid;
	struct user_regs_struct regs; /* as stopped */
	uint8_t *xstate;
	size_t xlen;
	uint64_t sigmask;
	bool injected; /* its registers changed: set resume regs on release */
	bool mask_blocked; /* we blocked every signal: restore sigmask */
};

struct cr_dtask {
	pid_t hpid, vpid;
	pid_t ppid, pgid, sid;  /* vpids; 0 for one outside the namespace */
	bool zombie;
	int exit_code;
	size_t n_thr;
	struct cr_dthread *thr; /* thr[0] is the leader */
	unsigned long scratch;  /* our shared-anon page in the task, 0 if none */
	bool scratch_exec;      /* it is executable too: queries can be batched */
	struct cr_queries *queries; /* query.c */
	char *status;           /* /proc/PID/status, read once (cr_task_status) */
	char *stat;             /* /proc/PID/stat, read once (cr_task_stat) */
	char *root;             /* its root link, read once (cr_task_root) */
	char *auxv;             /* /proc/PID/auxv, read once (cr_task_auxv) */
	size_t auxv_len;
	/* The fds whose fdinfo lists a file lock, known once files.c has
	 * read every fdinfo (fds_scanned). */
	int *locked_fds;
	size_t n_locked_fds;
	bool fds_scanned;
	size_t index;                 /* in the dump's tasks */
	struct cr_prefetch *prefetch; /* prefetch.c, or NULL */
	/* Its memory is dumped on dump.c's second thread: nothing there may
	 * ptrace it (no pipes; brk asked for before). */
	bool mm_elsewhere;
	bool brk_known;
	long brk;
	unsigned long gadget;
	struct cr_inj inj;      /* injection in the leader */
};

struct cr_restore_ctx;
struct cr_desc; /* describe.h */
struct cr_shm_seen; /* mem.c: shared anonymous memory already dumped */
struct cr_cow; /* mem.c: pages written once for the tasks sharing them */
struct cr_prefetch; /* prefetch.c: /proc read ahead of the dump */
struct cr_file_seen; /* files.c: open files already dumped */
struct cr_sk_index; /* sockets.c: which task holds which socket */

struct cr_dump_ctx {
	const struct cr_dump_opts *o;
	struct cr_stats *st;
	size_t n;
	struct cr_dtask *tasks; /* tasks[0] is the root */
	struct cr_vdso_info vdso;
	struct cr_shm_seen *shm;
	struct cr_cow *cow;
	struct cr_prefetch *prefetch;
	struct cr_file_seen *files;
	struct cr_img *files_img; /* files.img, written by files.c */
	struct cr_sk_index *sk_index; /* built on first use (sockets.h) */
	void *iobuf[2];           /* mem.c's sinks, one per page file */
	pid_t *seized;            /* every thread we PTRACE_SEIZEd */
	size_t n_seized;
	bool frozen;
	uint64_t frozen_at;
	uint8_t id[CR_DUMP_ID_LEN];
	/* parent_path's id, and whether the tracking's last dump was it:
	 * then pages not written since are recorded as in the parent. */
	uint8_t parent_id[CR_DUMP_ID_LEN];
	bool parent_ok;
	struct cr_track *track; /* mem-track.c; NULL: not tracking */
};

/* seize.c */
int cr_seize_tree(struct cr_dump_ctx *c, struct cr_pstree **out,
		  struct rt_err **err);
void cr_release_tree(struct cr_dump_ctx *c, bool kill_tree);

/* inventory.c */
int cr_inventory_write(struct cr_dump_ctx *c, struct rt_err **err);
int cr_inventory_check(struct cr_restore_ctx *c, pid_t *root, size_t *xlen,
		       struct rt_err **err);

/* A directory's lineage (inventory.img): whether it is a pre-dump, its id
 * and its parent's (has_parent false: none). */
struct cr_lineage {
	bool pre_dump, has_parent;
	uint8_t id[CR_DUMP_ID_LEN], parent_id[CR_DUMP_ID_LEN];
};
int cr_lineage_read(int dirfd, struct cr_lineage *l, struct rt_err **err);
/* The image directory's parents (its lineage's chain) into c->layer, as
 * cr_inventory_check opens them, without its checks of the machine. */
int cr_layers_open(struct cr_restore_ctx *c, struct rt_err **err);
/* The parent directories cr_inventory_check or cr_layers_open opened. */
void cr_layers_close(struct cr_restore_ctx *c);

/* mem-track.c: written-page tracking between dumps. begin connects to the
 * holder of the tracking (none yet: only a pre-dump starts one); knows
 * says whether id is the dump the tracking last protected the pages for;
 * register puts [start, end) of t under write-protect tracking (1; 0 when
 * it cannot be tracked, only when the tree keeps running); commit hands
 * this dump's userfaultfds to the holder, starting it, with this dump's
 * id. */
int cr_track_begin(struct cr_dump_ctx *c, struct rt_err **err);
bool cr_track_knows(const struct cr_dump_ctx *c, const uint8_t id[CR_DUMP_ID_LEN]);
int cr_track_register(struct cr_dump_ctx *c, struct cr_dtask *t, unsigned long start,
		      unsigned long end, struct rt_err **err);
int cr_track_commit(struct cr_dump_ctx *c, const uint8_t id[CR_DUMP_ID_LEN],
		    struct rt_err **err);
void cr_track_free(struct cr_dump_ctx *c);

/* query.c: read-only queries of a task's state by injection in its
 * leader. The argument numbered `out` (-1: none) is a buffer of out_len
 * bytes the call fills. Queries declared with cr_query_want run together
 * in one resume (cr_query_prefetch); cr_query answers from them, or
 * injects the call; a negative result is an error naming what. */
#define CR_QUERY_OUT_MAX 32
struct cr_qcall {
	long nr, a[4];
	int out;
	size_t out_len;
};
struct cr_queries;
void cr_query_want(struct cr_dtask *t, const struct cr_qcall *q);
int cr_query_prefetch(struct cr_dtask *t, struct rt_err **err);
/* Is SIGTRAP pending for the leader (its own queue or the process's), or
 * ignored? Before a dump runs inject.c's syscall loop in it. From
 * /proc/PID/status. */
int cr_sigtrap_state(struct cr_dtask *t, bool *pending, bool *ignored, struct rt_err **err);
int cr_query(struct cr_dtask *t, const char *what, const struct cr_qcall *q, void *out,
	     long *ret, struct rt_err **err);
void cr_queries_free(struct cr_dtask *t);

/* The task's /proc/PID/status, read on first use and kept for the dump:
 * what the resources read there (ids, capabilities, signal sets) holds
 * still while the task is seized. NULL on error. */
const char *cr_task_status(struct cr_dtask *t, struct rt_err **err);
/* The same for /proc/PID/stat, the root link and /proc/PID/auxv (*len
 * bytes): none of them changes while the task is seized. */
const char *cr_task_stat(struct cr_dtask *t, struct rt_err **err);
const char *cr_task_root(struct cr_dtask *t, struct rt_err **err);
const char *cr_task_auxv(struct cr_dtask *t, size_t *len, struct rt_err **err);
/* prefetch.c: once every task is prepared, a helper thread reads ahead
 * what the resources will read of /proc/PID (smaps, limits, personality,
 * timers, timerslack_ns); cr_task_read gives a task's file from there, or
 * reads it. stop joins the helper and frees what nobody took. */
void cr_prefetch_start(struct cr_dump_ctx *c);
void cr_prefetch_stop(struct cr_dump_ctx *c);
int cr_task_read(struct cr_dtask *t, const char *file, char **out, struct rt_err **err);
/* The vDSO's start in an auxv of len bytes; 0 when it has none. */
unsigned long cr_auxv_vdso(const char *auxv, size_t len);

/* Inject in thread i of t (0: leader), needing t->scratch for pointers. */
int cr_dump_inj(struct cr_dtask *t, size_t i, struct cr_inj *j,
		struct rt_err **err);

/* ---- restore ---- */

struct cr_rthread {
	pid_t vtid;
	pid_t htid; /* once created */
	struct user_regs_struct regs;
	uint8_t *xstate;
	size_t xlen;
	uint64_t sigmask;
	uint64_t tid_addr, robust, robust_len;
	uint64_t rseq, rseq_len, rseq_sig;
	uint64_t ss_sp, ss_size;
	uint32_t ss_flags;
	char comm[16];
	bool attached;
};

struct cr_vma; /* mem.c */

struct cr_rtask {
	pid_t vpid;
	pid_t hpid;          /* once created */
	pid_t ppid, pgid, sid; /* vpids */
	bool zombie;
	int exit_code;
	size_t n_thr;
	struct cr_rthread *thr;
	int sock;            /* our end of its agent socket */
	int pidfd;           /* from its parent's agent; -1 for the root */
	int agent_sock_fd;   /* the agent's own fd number for it */
	int next_tmp_fd;     /* temporary fds sent to the agent start here */
	int max_fd;          /* highest dumped fd */
	unsigned long helper; /* scratch in the task while morphing */
	struct cr_inj inj;
	bool seized;
	void *mm;            /* mem.c's loaded state */
	void *misc;          /* misc.c's loaded state */
	int morpher;         /* which tracer thread seized it (restore.c) */
};

struct cr_restore_ctx {
	const struct cr_restore_opts *o;
	struct cr_stats *st;
	size_t n;
	struct cr_rtask *tasks;
	struct cr_vdso_info vdso;
	void *files; /* files.c's loaded table */
	void *ctty;  /* ctty.c: the sessions' controlling terminals */
	void *shm;   /* mem-restore.c: shared anonymous objects we created */
	/* The image directory (layer[0], not ours) and its parents, checked
	 * against the lineage ids (inventory.c). */
	int layer[CR_MAX_LAYERS];
	bool layer_pre_dump[CR_MAX_LAYERS]; /* that dump is memory only */
	size_t n_layers;
	bool killed; /* every task was killed already */
};

struct cr_rtask *cr_rtask_find(struct cr_restore_ctx *c, pid_t vpid);
/* pstree.img into c->tasks (restore.c): parents first, leaders first. */
int cr_load_pstree(struct cr_restore_ctx *c, struct rt_err **err);

/* ---- agent protocol (agent.c) ---- */

/* sendmsg of len bytes with fds[0..n) riding along (SCM_RIGHTS), retried
 * on EINTR, no SIGPIPE; n at most CR_SEND_MAX_FDS. */
#define CR_SEND_MAX_FDS 253 /* the kernel's SCM_MAX_FD */
ssize_t cr_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t n);

enum cr_agent_cmd {
	CR_AG_SOCKFD = 1, /* a0: move the agent's socket to this number */
	CR_AG_CLONE,      /* a0: vpid; reply carries the child's socket and pidfd */
	CR_AG_SETSID,
	CR_AG_SETPGID,    /* a0: pgid */
	CR_AG_DUP,        /* fd attached; a0: number, a1: O_CLOEXEC or 0 */
	CR_AG_CLOSE_OTHERS,
	CR_AG_EXIT,       /* a0: wait status to die with */
	CR_AG_CTTY,       /* fd (a tty) attached: make it ours; a0: foreground pgid or 0 */
	CR_AG_OPEN_TTY,   /* a0: open flags; reply carries an fd of /dev/tty */
};

/* Send a command (fd -1 for none); *ret is its result, *rfd a received fd
 * (or NULL). A negative result is an error naming what; pid (a vpid) only
 * names the task in messages. */
int cr_agent_call(int sock, pid_t pid, const char *what, int cmd, int fd,
		  int64_t a0, int64_t a1, int64_t *ret, int *rfd,
		  struct rt_err **err);
/* Have the agent on sock (task pid) create a child with that vpid: we get
 * its agent socket and a pidfd; either may be set on failure too (close
 * them). */
int cr_agent_clone(int sock, pid_t pid, pid_t vpid, int *child_sock, int *pidfd,
		   struct rt_err **err);

/* ---- the resource table ---- */

struct cr_resource {
	const char *name;
	/* Declare the queries dump will make (cr_query_want), or NULL. */
	void (*want)(struct cr_dump_ctx *c, struct cr_dtask *t);
	int (*dump)(struct cr_dump_ctx *c, struct cr_dtask *t, struct rt_err **err);
	/* Load images and act through the agent, before morphing. */
	int (*prepare)(struct cr_restore_ctx *c, struct cr_rtask *t,
		       struct rt_err **err);
	/* By injection into the stopped agent, in table order. */
	int (*morph)(struct cr_restore_ctx *c, struct cr_rtask *t,
		     struct rt_err **err);
	void (*release)(struct cr_rtask *t); /* free loaded state */
	/* ferry inspect (describe.h): load the task's images as prepare would,
	 * emit what they hold as members of its object, free what it loaded. */
	int (*describe)(struct cr_restore_ctx *c, struct cr_rtask *t,
			struct cr_desc *d, struct rt_err **err);
};

extern const struct cr_resource cr_res_files, cr_res_mm, cr_res_misc,
	cr_res_signals, cr_res_threads;
extern const struct cr_resource cr_res_timers, cr_res_seccomp;
extern const struct cr_resource cr_res_locks;

/* mem.c helpers for restore.c */
bool cr_mm_range_free(const struct cr_rtask *t, unsigned long addr, size_t len);

/* files.c: dump-wide table lifetime */
int cr_files_dump_begin(struct cr_dump_ctx *c, struct rt_err **err);
int cr_files_dump_end(struct cr_dump_ctx *c, struct rt_err **err);
void cr_files_dump_free(struct cr_dump_ctx *c);
void cr_sk_dump_free(struct cr_dump_ctx *c); /* sockets.c */
int cr_files_restore_load(struct cr_restore_ctx *c, struct rt_err **err);
void cr_files_restore_free(struct cr_restore_ctx *c);
void cr_mm_dump_free(struct cr_dump_ctx *c);
void cr_shmem_free(struct cr_restore_ctx *c);

/* Small /proc helpers (inventory.c). */
int cr_proc_read(pid_t pid, const char *file, char **buf, struct rt_err **err);
/* Value after "Key:" in /proc/PID/status, or NULL. */
const char *cr_status_field(const char *status, const char *key);
int cr_proc_link(pid_t pid, const char *link, char **out, struct rt_err **err);
/* Strip the task's root (as we see it) from a path we read. */
char *cr_path_in_root(const char *root, const char *path);
uint64_t cr_now_us(void);

#endif
