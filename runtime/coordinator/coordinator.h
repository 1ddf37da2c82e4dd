/* The checkpoint/restore coordinator: the one header the rest of the tree
 * includes. It knows nothing about OCI. So far it holds the task-tree walk
 * (pstree.c); dump and restore build on it. */
#ifndef FERRY_COORDINATOR_H
#define FERRY_COORDINATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Setting this to 1 makes ferry (`ferry check`, and the coordinator when it
 * walks a container) build process trees from /proc/<pid>/stat's PPid field
 * even when the children file exists, so the fallback path can be tested on
 * any kernel. The caller reads it; the library takes a bool. */
#define CR_ENV_FORCE_PPID_WALK "FERRY_FORCE_PPID_WALK"

/* ---- task tree (pstree.c) ---- */

/* One process of the tree. */
struct cr_task {
	pid_t pid;    /* thread-group id */
	pid_t ppid;   /* parent's pid; for the root, whatever its parent is */
	size_t n_tids;
	pid_t *tids;  /* every thread, ascending; the leader (tid == pid) included */
};

/* How a tree was collected. */
enum cr_pstree_walk {
	CR_WALK_CHILDREN, /* /proc/PID/task/TID/children of every thread */
	CR_WALK_PPID,     /* one pass over /proc: the PPid of every process */
};

/* A snapshot of a process tree: tasks[0] is the root and every parent comes
 * before its children (depth-first, children in ascending pid order). It is
 * exact only if the tree cannot change while it is read: the coordinator
 * freezes the cgroup first and walks again until two walks agree
 * (cr_pstree_equal), or until the cgroup's task counters stand still across
 * a walk (cr_tasks_events_same). */
struct cr_pstree {
	size_t n;
	struct cr_task *tasks;
	enum cr_pstree_walk walk;
};

/* Is /proc/self/task/TID/children there (CONFIG_PROC_CHILDREN)? */
bool cr_children_file_available(void);

/* Collect root and all its descendants with their threads. Uses the
 * children files when they exist and force_ppid_walk is false, the PPid
 * scan of /proc otherwise. A process that exits during the walk is left out;
 * root itself must exist (ESRCH otherwise). */
int cr_pstree_collect(pid_t root, bool force_ppid_walk, struct cr_pstree **out,
		      struct rt_err **err);

/* The task with that pid, or NULL. */
const struct cr_task *cr_pstree_find(const struct cr_pstree *t, pid_t pid);

/* Same processes with the same parents and the same threads (the walk kind
 * is not compared). */
bool cr_pstree_equal(const struct cr_pstree *a, const struct cr_pstree *b);

/* Number of threads over all processes. */
size_t cr_pstree_nr_threads(const struct cr_pstree *t);

const char *cr_pstree_walk_name(enum cr_pstree_walk w);

void cr_pstree_free(struct cr_pstree *t);
void cr_pstree_freep(struct cr_pstree **t);
#define cleanup_pstree __attribute__((cleanup(cr_pstree_freep)))

/* Task counters of one cgroup2 cgroup from "cgroup.tasks.events", a file
 * only kernels with ferry's patch 1 have (kernel-patches/README.md). The
 * same values right after the freeze and after the tree walk and seize
 * prove that no task entered or left the cgroup meanwhile (no fork raced
 * the freeze), so the walk saw the whole tree (seize.c). An open fd polls
 * POLLPRI on every change: a waiter for `ferry events`. */
#define CR_TASKS_EVENTS_FILE "cgroup.tasks.events"
struct cr_tasks_events {
	uint64_t fork, exit, migrate_in, migrate_out;
};
/* An fd of dir's file, or -1 with errno (ENOENT: no patch 1 here). */
int cr_tasks_events_open(const char *cgroup_dir);
int cr_tasks_events_read(int fd, struct cr_tasks_events *out, struct rt_err **err);
/* No task was created, exited or moved in or out between the two reads.
 * Migrations count too: they are not a fork racing the freeze, but a tree
 * someone rearranges during a dump deserves the second walk. */
bool cr_tasks_events_same(const struct cr_tasks_events *a, const struct cr_tasks_events *b);

/* One signal's action as rt_sigaction(sig, NULL, &old) returns it. */
struct cr_ksigaction {
	uint64_t handler, flags, restorer, mask;
};
/* Parse the text of /proc/PID/sigactions (ferry's patch 2: one line
 * "SIG 0xHANDLER 0xFLAGS 0xRESTORER MASK" per signal 1..64) into
 * act[1..64]; act has 65 entries. Signal dumps use it (signals.c). */
int cr_sigactions_parse(const char *text, struct cr_ksigaction *act, struct rt_err **err);

/* ---- checkpoint and restore (dump.c, restore.c) ----
 *
 * The coordinator knows nothing about OCI: the runtime hands it a task tree
 * root, a freezer, an image directory, and for restore a blank task ready to
 * become the tree's root.
 *
 * Restore works in two phases per task:
 * 1. Preparation, natively: every task starts as a copy of the runtime's
 *    container init running cr_restore_agent(), a small command loop on a
 *    unix socket. The coordinator tells each agent to create its children
 *    with their dumped pids (clone3 set_tid; children run the agent too), to
 *    take its session and process group, and to install the fds it sends
 *    (SCM_RIGHTS) at their dumped numbers. Shared objects (pipes, files,
 *    sockets) are created once by the coordinator and sent to every task that
 *    had them.
 * 2. Morphing, by ptrace syscall injection (KERNEL-NOTES.md "Restoring a
 *    task"): the agent stops, the coordinator replaces its memory map,
 *    registers, signal state and identity with the dumped ones, re-creates
 *    its threads, and detaches everything at once while the cgroup is frozen.
 * Any failure kills every task of the restore.
 *
 * Pids: the images record every pid, tid, parent, group and session as the
 * tree's own pid namespace sees it (a container's init is 1). The
 * coordinator may run in an ancestor namespace (the host's): it walks,
 * ptraces and reads /proc by the pids it sees there, and the agents, which
 * live in the tree's namespace, create the tasks with the recorded pids.
 * When both are the same namespace, nothing differs. */

/* How to freeze the tasks: the runtime passes its cgroup freezer. */
struct cr_freezer {
	void *arg;
	int (*freeze)(void *arg, bool frozen, struct rt_err **err);
	/* Frozen tasks report ptrace stops (cgroup v2 freezer). With the v1
	 * freezer the coordinator must thaw after seizing (KERNEL-NOTES). */
	bool reports_stops;
	/* The cgroup was frozen before the checkpoint (a paused container):
	 * leave it frozen when the tasks are released. */
	bool keep_frozen;
	/* The tasks' cgroup2 directory, or NULL. Where it has
	 * cgroup.tasks.events, a dump trusts its first tree walk when the
	 * counters stand still across it; otherwise it walks until two walks
	 * agree. */
	const char *tasks_events_dir;
};

struct cr_stats {
	uint64_t freezing_time_us; /* freeze request until the cgroup is frozen */
	uint64_t frozen_time_us;   /* frozen until released (or killed) */
	uint64_t memdump_time_us;  /* getting pages out of the tasks */
	uint64_t memwrite_time_us; /* writing page files, as far as the dump
				    * waited for it (a writer thread overlaps
				    * it with memdump): together, the memory
				    * phase's wall time */
	uint64_t pages_scanned, pages_written;
	uint64_t pages_in_parent;  /* recorded as unchanged since parent_path */
	/* recorded as in another task's page file: the tasks shared them
	 * copy-on-write (after fork) when the dump was taken */
	uint64_t pages_deduplicated;
	bool parent_used;          /* parent_path was the tracked last dump */
	/* --auto-dedup: pages of the parent dumps punched out, that the
	 * restore of this dump does not read (cr_dedup_parents) */
	uint64_t parent_pages_freed;
	uint64_t restore_time_us, pages_restored;
	uint64_t tree_walks; /* walks of the frozen tree until it was known */
};

struct cr_dump_opts {
	pid_t root;           /* the tree's root, in the caller's pid namespace */
	int images_dirfd;     /* an empty directory */
	const struct cr_freezer *freezer;
	bool leave_running;   /* detach and thaw instead of killing the tree */
	/* Memory only (the pages, for a later dump's parent_path); the tasks
	 * keep running and their written pages are tracked from here on. */
	bool pre_dump;
	/* A previous dump of this tree, relative to the image directory (or
	 * absolute): pages not written since it are recorded as "in the
	 * parent" instead of copied, and IMAGES/parent links to it. Used only
	 * when it is the last dump the tracking saw (see track_dir); otherwise
	 * every page is written and st->parent_used stays false. */
	const char *parent_path;
	/* Where the written-page tracking of this tree lives between dumps (a
	 * socket of the process holding the userfaultfds, mem-track.c): the
	 * container's state directory. NULL: no tracking. */
	const char *track_dir;
	bool tcp_established, ext_unix_sk, shell_job, file_locks;
	/* Build the tree from every task's PPid even when the children files
	 * exist: the fallback for kernels without them, forced for tests. */
	bool force_ppid_walk;
};

/* Checkpoint the tree. On failure every task is released (thawed, detached)
 * exactly as it was and nothing it owns has changed; the error names the
 * pid and the resource (fd, mapping) that could not be checkpointed. */
int cr_dump(const struct cr_dump_opts *o, struct cr_stats *st, struct rt_err **err);

/* --auto-dedup, after a dump made against a parent (st->parent_used):
 * punch out of the parent pre-dumps' page files every page the restore
 * of this dump will not read, so the chain holds each page once
 * (dedup.c). Pre-dumps only, down to the first whole checkpoint in the
 * chain, which stays restorable with its parents. The punched ones stay
 * good parents of this dump and of dumps made against it, of no other.
 * *freed: the pages whose space came back. On failure some pages may be
 * punched, none this dump needs. */
int cr_dedup_parents(int images_dirfd, uint64_t *freed, struct rt_err **err);

struct cr_restore_opts {
	int images_dirfd;
	/* The blank root task, running cr_restore_agent(), as our pid namespace
	 * sees it. In its own namespace it must already have the image's root
	 * pid (1: the first task of a new pid namespace). */
	pid_t agent_pid;
	int agent_fd;      /* our end of its command socket */
	/* The restore caller's stdio, installed where the dumped tree had the
	 * container's stdio (fds inherited from the runtime at create). */
	int stdio[3];
	/* The container's console, a pty whose master was outside the
	 * checkpoint (with whoever got it from the runtime's console socket),
	 * is made anew in the tree's devpts with its dumped number, termios
	 * and window size, and its new master handed to console() before any
	 * task gets the slave. NULL: an image with a console is refused. */
	int (*console)(void *arg, int master, struct rt_err **err);
	void *console_arg;
	const struct cr_freezer *freezer;
	bool paused;       /* release into a frozen cgroup */
	bool tcp_established, ext_unix_sk, shell_job, file_locks;
};

int cr_restore(const struct cr_restore_opts *o, struct cr_stats *st,
	       struct rt_err **err);

/* Runs in the runtime's container init (and every task it creates) instead
 * of execve; serves the coordinator on sock until morphed. Never returns. */
_Noreturn void cr_restore_agent(int sock);

/* Write stats as JSON ("stats-dump.json" / "stats-restore.json"). */
int cr_stats_write(int dirfd, const char *name, const struct cr_stats *st,
		   struct rt_err **err);

/* ---- inspect (inspect.c) ---- */

enum cr_inspect_format { CR_INSPECT_TEXT, CR_INSPECT_JSON };

/* What the checkpoint in image directory dir holds: *out (malloc'd) is a
 * tree view or a JSON document. Every file is read and checked as restore
 * would read it; on error nothing is returned and the error names the file
 * and the record. */
int cr_inspect(const char *dir, enum cr_inspect_format format, char **out,
	       struct rt_err **err);

#endif
