/* Kinds of open files behind fds (files.c's table): one file per kernel
 * object kind (pipes.c, eventfd.c, timerfd.c, ...), each with its dump and
 * restore twin and its inspect description, registered with one row of
 * files.c's fd_kinds[].
 *
 * A kind's fields follow files.c's common ones (id, kind, path, flags, pos)
 * in the same files.img record: dump appends them, load reads them. */
#ifndef FERRY_CR_FDKIND_H
#define FERRY_CR_FDKIND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "coordinator/describe.h"
#include "coordinator/internal.h"

/* An fd being dumped. */
struct cr_fd_dump {
	struct cr_dump_ctx *c;
	pid_t hpid;           /* its task, as we see it */
	int fd;               /* its number there */
	int dup;              /* our duplicate (pidfd_getfd): same open file */
	const char *link;     /* readlink of /proc/PID/fd/N */
	const char *root;     /* the task's root, as we see it */
	const struct stat *sb;
	uint32_t flags;       /* fdinfo flags */
	uint64_t pos;
	bool inode_seen;      /* another file with this inode was dumped before */
};

/* A file being restored (files.img record). */
struct cr_rfile {
	uint32_t id, kind, flags;
	uint64_t pos;
	char *path;
	uint64_t obj;  /* set by the kind's load: files with one kernel object */
	void *priv;    /* the kind's loaded state */
	int fd;        /* ours, created on first use */
};

struct cr_fd_kind {
	const char *name;
	uint32_t kind; /* CR_FK_* in files.img */
	bool (*match)(const char *link, const struct stat *sb);
	/* Append the kind's fields; refuse with the pid, fd and kind. */
	int (*dump)(struct cr_fd_dump *d, struct cr_rec *r, struct rt_err **err);
	int (*load)(struct cr_rd *r, struct cr_rfile *f, struct rt_err **err);
	/* Create the object in the coordinator: f->fd, with f->flags. */
	int (*open)(struct cr_restore_ctx *c, struct cr_rfile *f, struct rt_err **err);
	void (*describe)(const struct cr_rfile *f, struct cr_desc *d);
	void (*free)(struct cr_rfile *f);
};

/* Kind numbers in files.img: never reuse one. 1-4: files.c's own. */
enum {
	CR_FK_PIPE = 5,
	CR_FK_FIFO,
	CR_FK_EVENTFD,
	CR_FK_SIGNALFD,
	CR_FK_TIMERFD,
	CR_FK_EPOLL,
	CR_FK_MEMFD,
	CR_FK_UNLINKED,
	CR_FK_SOCKET = 32, /* sockets.c: the family's kind follows */
	CR_FK_PTY = 33,    /* tty.c */
	CR_FK_DEV_TTY = 34, /* ctty.c: opened through /dev/tty */
	CR_FK_MAX = 63,
};

extern const struct cr_fd_kind cr_fd_pipe, cr_fd_fifo, cr_fd_eventfd,
	cr_fd_signalfd, cr_fd_timerfd, cr_fd_epoll, cr_fd_memfd, cr_fd_unlinked;
extern const struct cr_fd_kind cr_fd_socket, cr_fd_pty, cr_fd_dev_tty;

/* tty.c, for files.c and ctty.c. The container's console is the pty its
 * root has at fd 0, 1 or 2 when that is a slave of the container's own
 * devpts whose master is outside the checkpoint (with whoever got it from
 * the runtime's console socket). */
bool cr_pty_is_console(struct cr_dump_ctx *c, const struct stat *sb);
/* The pty number of a device number, if it is a pty slave's. */
bool cr_pty_index(dev_t rdev, unsigned *index);
/* For the controlling terminal of session sid (its leader's pid as we see
 * it), pty index: the id of a file on it (its master, or the console),
 * dumped now if new; an error when the checkpoint holds neither. */
int cr_pty_ctty_file_id(struct cr_dump_ctx *c, unsigned index, pid_t sid, uint32_t *id,
			struct rt_err **err);
/* Restore: the master of the pty that file id (a pty file) is on,
 * created now if needed; ours, do not close. */
int cr_pty_master(struct cr_restore_ctx *c, uint32_t id, int *master,
		  struct rt_err **err);

/* ctty.c: the sessions' controlling terminals (CR_R_CTTY in files.img).
 * dump writes the record of a session leader; load takes one from
 * files.img; restore gives task t its terminal if it leads a session that
 * had one (before its fds: /dev/tty needs it); describe adds it to t's
 * inspect object. */
int cr_ctty_dump(struct cr_dump_ctx *c, struct cr_dtask *t, struct rt_err **err);
int cr_ctty_load(struct cr_restore_ctx *c, struct cr_rd *r, struct rt_err **err);
int cr_ctty_restore(struct cr_restore_ctx *c, struct cr_rtask *t, struct rt_err **err);
void cr_ctty_describe(struct cr_restore_ctx *c, struct cr_rtask *t, struct cr_desc *d);
void cr_ctty_free(struct cr_restore_ctx *c);

/* sk-ns.c: run fn in a child that joined task pid's net and mount
 * namespaces (and so its root); the fds fn puts in fds[0..*n) (at most
 * max) come back to us. fn returns 0 or an errno, which names what
 * in msg (at most 200 bytes). */
int cr_in_task_ns(pid_t pid, int (*fn)(void *arg, int *fds, size_t *n, char *msg),
		  void *arg, int *fds, size_t max, size_t *n, struct rt_err **err);
/* For such an fn: the message (printf) in msg, errno (EIO if none) returned. */
__attribute__((format(printf, 2, 3))) int cr_ns_fail(char *msg, const char *fmt, ...);

/* files.c: the id of the file task hpid has at fd (dumped now if new);
 * for kinds whose objects refer to other files (epoll targets). */
int cr_fd_file_id(struct cr_dump_ctx *c, pid_t hpid, int fd, uint32_t *id,
		  struct rt_err **err);
/* files.c: the restored file with that id (created now if needed), or
 * NULL and an error. */
struct cr_rfile *cr_rfile_get(struct cr_restore_ctx *c, uint32_t id,
			      struct rt_err **err);
/* files.c: the first file of f's kind with f's obj (f itself if first). */
struct cr_rfile *cr_rfile_owner(struct cr_restore_ctx *c, struct cr_rfile *f);

/* memfd.c: for a MAP_SHARED mapping of shmem inode ino, the memfd restored
 * from an fd (created now if needed; ours, do not close): 1 and *fd, or 0
 * when no fd had that memfd. */
int cr_memfd_restored(struct cr_restore_ctx *c, uint64_t ino, int *fd,
		      struct rt_err **err);

/* fdkind-util.c: the "Key:" field of /proc/PID/fdinfo/FD (malloc'd text). */
int cr_fdinfo(pid_t pid, int fd, char **out, struct rt_err **err);
/* Contents of a file read with pread (offset untouched), at most max. */
int cr_read_all(int fd, uint64_t size, uint64_t max, void **out, struct rt_err **err);
int cr_write_all(int fd, const void *p, size_t n);

#endif
