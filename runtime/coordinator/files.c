/* File descriptors (fds-PID.img) and the open files behind them
 * (files.img, one record per open file description, found with kcmp so
 * dup'ed and inherited fds share one restored file, offset included).
 *
 * Here: the container's stdio (any fd that is one of the root's fds 0-2:
 * "inherited stdio N", re-attached to the restore caller's stdio; not when
 * that is the container's console, a pty tty.c makes anew), regular
 * files, directories (with their getdents position) and
 * /dev/{null,zero,random,urandom}. Kernel objects are the kinds of fd_kinds[]
 * (fdkind.h: pipes.c, eventfd.c, epoll.c, ...), dumped through a
 * pidfd_getfd duplicate and re-created here, then sent to the agents.
 * Anything else is refused with the pid, the fd and its kind; new kinds are
 * new files with a row in the table, not branches here. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "coordinator/describe.h"
#include "coordinator/fdkind.h"
#include "coordinator/internal.h"
#include "util.h"

enum file_kind { FK_STDIO = 1, FK_REG, FK_DIR, FK_CHR };

/* Kernel object kinds (fdkind.h), one file and one row each; the first
 * whose match() takes an fd dumps it. */
static const struct cr_fd_kind *const fd_kinds[] = {
	&cr_fd_pipe, &cr_fd_fifo, &cr_fd_eventfd, &cr_fd_signalfd, &cr_fd_timerfd,
	&cr_fd_epoll, &cr_fd_memfd, &cr_fd_unlinked, &cr_fd_socket,
	&cr_fd_pty, &cr_fd_dev_tty,
};

static const struct cr_fd_kind *fd_kind(uint32_t kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(fd_kinds); i++)
		if (fd_kinds[i]->kind == kind)
			return fd_kinds[i];
	return NULL;
}

struct seen_file {
	pid_t hpid; /* kcmp takes our namespace's pids */
	int fd;
	uint32_t id;
	dev_t dev;
	ino_t ino;
};

struct cr_file_seen {
	size_t n;
	struct seen_file *v;
};

static bool same_file(pid_t p1, int fd1, pid_t p2, int fd2)
{
	return syscall(SYS_kcmp, p1, p2, KCMP_FILE, fd1, fd2) == 0;
}

int cr_files_dump_begin(struct cr_dump_ctx *c, struct rt_err **err)
{
	c->files = xcalloc(1, sizeof(*c->files));
	return cr_img_create(c->o->images_dirfd, "files.img", CR_IMG_FILE_DATA,
			     &c->files_img, err);
}

int cr_files_dump_end(struct cr_dump_ctx *c, struct rt_err **err)
{
	struct cr_img *img = steal_pointer(&c->files_img);
	return cr_img_close(img, err);
}

void cr_files_dump_free(struct cr_dump_ctx *c)
{
	if (c->files_img)
		cr_img_abort(c->files_img);
	c->files_img = NULL;
	if (c->files)
		free(c->files->v);
	free(c->files);
	c->files = NULL;
}

static const char *kind_name(const char *link, const struct stat *sb)
{
	static char buf[96];
	if (strncmp(link, "pipe:", 5) == 0)
		return "pipe";
	if (strncmp(link, "socket:", 7) == 0)
		return "socket";
	if (strncmp(link, "anon_inode:", 11) == 0) {
		snprintf(buf, sizeof(buf), "%.80s", link + 11);
		buf[strcspn(buf, "]")] = '\0';
		return buf[0] == '[' ? buf + 1 : buf;
	}
	if (S_ISCHR(sb->st_mode) || S_ISBLK(sb->st_mode)) {
		snprintf(buf, sizeof(buf), "device '%.60s'", link);
		return buf;
	}
	if (S_ISFIFO(sb->st_mode))
		return "named pipe";
	return "this kind of file";
}

static int classify_fd(pid_t pid, int fd, const char *link, const struct stat *sb,
		       struct rt_err **err)
{
	size_t l = strlen(link);
	for (size_t i = 0; i < ARRAY_SIZE(fd_kinds); i++)
		if (fd_kinds[i]->match(link, sb))
			return (int)fd_kinds[i]->kind;
	if (S_ISREG(sb->st_mode) || S_ISDIR(sb->st_mode)) {
		if (l > 10 && strcmp(link + l - 10, " (deleted)") == 0)
			return rt_err_set(err, EOPNOTSUPP, "pid %d fd %d: deleted file '%s' "
					  "is not supported yet", pid, fd, link);
		return S_ISREG(sb->st_mode) ? FK_REG : FK_DIR;
	}
	if (S_ISCHR(sb->st_mode) && major(sb->st_rdev) == 1 &&
	    (minor(sb->st_rdev) == 3 || minor(sb->st_rdev) == 5 ||
	     minor(sb->st_rdev) == 8 || minor(sb->st_rdev) == 9))
		return FK_CHR;
	return rt_err_set(err, EOPNOTSUPP, "pid %d fd %d: %s is not supported yet",
			  pid, fd, kind_name(link, sb));
}

/* Position and flags; *locked: the fdinfo lists a file lock. */
static int read_fdinfo(pid_t pid, int fd, uint64_t *pos, uint32_t *flags, bool *locked,
		       struct rt_err **err)
{
	char file[64];
	snprintf(file, sizeof(file), "fdinfo/%d", fd);
	cleanup_free char *info = NULL;
	if (cr_proc_read(pid, file, &info, err) < 0)
		return -1;
	const char *p = cr_status_field(info, "pos"), *f = cr_status_field(info, "flags");
	if (!p || !f)
		return rt_err_set(err, 0, "pid %d fd %d: unreadable fdinfo", pid, fd);
	*pos = strtoull(p, NULL, 10);
	*flags = (uint32_t)strtoul(f, NULL, 8);
	*locked = strstr(info, "\nlock:") != NULL;
	return 0;
}

/* A kind's fields, through our duplicate of the task's fd. */
static int dump_kind(struct cr_fd_dump *d, const struct cr_fd_kind *k, struct cr_rec *r,
		     struct rt_err **err)
{
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, d->hpid, 0);
	cleanup_close int dup = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, d->fd, 0);
	if (dup < 0)
		return rt_err_set(err, errno, "pid %d fd %d: duplicate the %s", d->hpid,
				  d->fd, k->name);
	d->dup = dup;
	return k->dump(d, r, err);
}

/* The open file's id; a new one is written to files.img (after the files
 * its kind refers to, so ids stay in file order). */
static int file_id(struct cr_dump_ctx *c, struct cr_fd_dump *d, int kind, uint32_t *id,
		   struct rt_err **err)
{
	struct cr_file_seen *s = c->files;
	bool inode_seen = false;
	/* one open file has one inode: kcmp only the files on this one */
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].dev != d->sb->st_dev || s->v[i].ino != d->sb->st_ino)
			continue;
		if (same_file(s->v[i].hpid, s->v[i].fd, d->hpid, d->fd)) {
			*id = s->v[i].id;
			return 0;
		}
		inode_seen = true;
	}
	const struct cr_fd_kind *k = fd_kind((uint32_t)kind);
	struct cr_rec extra;
	cr_rec_init(&extra, 0);
	d->inode_seen = inode_seen;
	if (k && dump_kind(d, k, &extra, err) < 0) {
		cr_rec_free(&extra);
		return -1;
	}
	*id = (uint32_t)s->n + 1;
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = (struct seen_file){ d->hpid, d->fd, *id, d->sb->st_dev, d->sb->st_ino };
	cleanup_free char *path = cr_path_in_root(d->root, d->link);
	struct cr_rec r;
	cr_rec_init(&r, CR_R_FILE);
	cr_put_u32(&r, *id);
	cr_put_u32(&r, (uint32_t)kind);
	cr_put_str(&r, path);
	cr_put_u32(&r, d->flags & ~(uint32_t)O_CLOEXEC);
	cr_put_u64(&r, d->pos);
	if (k)
		cr_put_bytes(&r, extra.buf, extra.len);
	int ret = extra.len > CR_IMG_MAX_RECORD
			  ? rt_err_set(err, EFBIG, "pid %d fd %d: the %s is too big for an "
				       "image record", d->hpid, d->fd, k ? k->name : "file")
			  : cr_img_write(c->files_img, &r, err);
	cr_rec_free(&r);
	cr_rec_free(&extra);
	return ret;
}

/* How an fd record names the container's stdio: not at all, plain (a
 * pipe, a file), or a terminal of the caller's (a shell job, which runc
 * and CRIU allow only with --shell-job, at checkpoint and restore). */
enum { STDIO_NO, STDIO_PLAIN, STDIO_TERMINAL };

/* A tty: a pty slave, a virtual console, /dev/tty or /dev/console. */
static bool is_terminal(const struct stat *sb)
{
	unsigned maj = major(sb->st_rdev);
	return S_ISCHR(sb->st_mode) && ((maj >= 136 && maj <= 143) || maj == 3 || maj == 4 ||
					maj == 5);
}

/* What task hpid has at fd: a stdio index (*stdio) or a file id; and
 * whether its fdinfo lists a lock. */
static int fd_file(struct cr_dump_ctx *c, pid_t hpid, int fd, const char *root,
		   uint8_t *stdio, uint32_t *flags, uint32_t *id, bool *locked,
		   struct rt_err **err)
{
	char path[64], link[4096];
	struct stat sb;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", hpid, fd);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n < 0 || stat(path, &sb) < 0)
		return rt_err_set(err, errno, "pid %d fd %d: inspect", hpid, fd);
	link[n] = '\0';
	struct cr_fd_dump d = { .c = c, .hpid = hpid, .fd = fd, .dup = -1, .link = link,
				.root = root, .sb = &sb };
	if (read_fdinfo(hpid, fd, &d.pos, &d.flags, locked, err) < 0)
		return -1;
	*flags = d.flags;
	*stdio = STDIO_NO;
	/* the container's stdio, at any number (pipes from the runtime
	 * re-attach to the restoring caller's, not to new pipes) */
	for (int j = 0; j < 3; j++)
		if (same_file(c->tasks[0].hpid, j, hpid, fd) && !cr_pty_is_console(c, &sb)) {
			*stdio = is_terminal(&sb) ? STDIO_TERMINAL : STDIO_PLAIN;
			*id = (uint32_t)j;
			if (*stdio == STDIO_TERMINAL && !c->o->shell_job)
				return rt_err_set(err, EOPNOTSUPP,
						  "pid %d fd %d: the container's stdio is a "
						  "terminal from outside it ('%s', a shell job): "
						  "checkpoint with --shell-job",
						  hpid, fd, link);
			return 0;
		}
	int kind = classify_fd(hpid, fd, link, &sb, err);
	if (kind < 0)
		return -1;
	return file_id(c, &d, kind, id, err);
}

int cr_fd_file_id(struct cr_dump_ctx *c, pid_t hpid, int fd, uint32_t *id,
		  struct rt_err **err)
{
	cleanup_free char *root = NULL;
	uint32_t flags;
	uint8_t stdio;
	bool locked;
	if (cr_proc_link(hpid, "root", &root, err) < 0 ||
	    fd_file(c, hpid, fd, root, &stdio, &flags, id, &locked, err) < 0)
		return -1;
	if (stdio)
		return rt_err_set(err, EOPNOTSUPP, "pid %d fd %d: the container's stdio "
				  "here is not supported yet", hpid, fd);
	return 0;
}

static int dump_one_fd(struct cr_dump_ctx *c, struct cr_dtask *t, int fd,
		       const char *root, struct cr_img *img, struct rt_err **err)
{
	uint32_t flags = 0, id = 0;
	uint8_t stdio;
	bool locked;
	if (fd_file(c, t->hpid, fd, root, &stdio, &flags, &id, &locked, err) < 0)
		return -1;
	if (locked) { /* for locks.c */
		t->locked_fds = xrealloc(t->locked_fds, (t->n_locked_fds + 1) * sizeof(int));
		t->locked_fds[t->n_locked_fds++] = fd;
	}
	struct cr_rec r;
	cr_rec_init(&r, CR_R_FD);
	cr_put_u32(&r, (uint32_t)fd);
	cr_put_u8(&r, (flags & O_CLOEXEC) != 0);
	cr_put_u8(&r, stdio);
	cr_put_u32(&r, id);
	int ret = cr_img_write(img, &r, err);
	cr_rec_free(&r);
	return ret;
}

static int dump_fds(struct cr_dump_ctx *c, struct cr_dtask *t, struct rt_err **err)
{
	char name[64];
	snprintf(name, sizeof(name), "/proc/%d/fd", t->hpid);
	cleanup_closedir DIR *d = opendir(name);
	if (d == NULL)
		return rt_err_set(err, errno, "open '%s'", name);
	const char *root = cr_task_root(t, err);
	if (root == NULL)
		return -1;
	struct cr_img *img = NULL;
	snprintf(name, sizeof(name), "fds-%d.img", t->vpid);
	if (cr_img_create(c->o->images_dirfd, name, CR_IMG_FILES, &img, err) < 0)
		return -1;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (dump_one_fd(c, t, atoi(de->d_name), root, img, err) < 0) {
			cr_img_abort(img);
			return -1;
		}
	}
	if (cr_ctty_dump(c, t, err) < 0) {
		cr_img_abort(img);
		return -1;
	}
	t->fds_scanned = true;
	return cr_img_close(img, err);
}

/* ---- restore ---- */

struct rfiles {
	size_t n;
	struct cr_rfile *v; /* v[id - 1] */
};

/* A kind's fields: a record of their own inside the file record. */
static int load_kind(struct cr_rd *r, const struct cr_fd_kind *k, struct cr_rfile *f,
		     struct rt_err **err)
{
	struct cr_rd sub = *r;
	const void *p;
	size_t n;
	if (cr_get_bytes(r, "kind fields", &p, &n, CR_IMG_MAX_RECORD, err) < 0)
		return -1;
	sub.p = p;
	sub.len = n;
	sub.off = 0;
	if (k->load(&sub, f, err) < 0)
		return -1;
	return cr_rd_done(&sub, err);
}

static int get_file(struct cr_rd *r, struct rfiles *t, struct rt_err **err)
{
	uint32_t id;
	struct cr_rfile f = { .fd = -1 };
	if (cr_get_u32(r, "id", &id, err) < 0 || cr_get_u32(r, "kind", &f.kind, err) < 0 ||
	    cr_get_str(r, "path", &f.path, 4096, err) < 0 ||
	    cr_get_u32(r, "flags", &f.flags, err) < 0 ||
	    cr_get_u64(r, "pos", &f.pos, err) < 0) {
		free(f.path);
		return -1;
	}
	const struct cr_fd_kind *k = fd_kind(f.kind);
	f.id = id;
	if (id != t->n + 1 || !f.path || (f.kind <= FK_CHR && f.path[0] != '/') ||
	    f.kind < FK_REG || (f.kind > FK_CHR && !k)) {
		free(f.path);
		return rt_err_set(err, 0, "files.img: bad file record %zu", r->index);
	}
	/* in the table first: its free() releases what a failed load kept */
	t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	t->v[t->n++] = f;
	if (k && load_kind(r, k, &t->v[t->n - 1], err) < 0)
		return rt_err_wrap(err, "files.img: %s record %zu", k->name, r->index);
	return cr_rd_done(r, err);
}

int cr_files_restore_load(struct cr_restore_ctx *c, struct rt_err **err)
{
	cleanup_img struct cr_img *img = NULL;
	struct rfiles *t = xcalloc(1, sizeof(*t));
	c->files = t;
	if (cr_img_open(c->o->images_dirfd, "files.img", CR_IMG_FILE_DATA, &img, err) < 0)
		return -1;
	for (;;) {
		struct cr_rd r;
		int k = cr_img_next(img, &r, err);
		if (k <= 0)
			return k;
		if (r.type == CR_R_CTTY) {
			if (cr_ctty_load(c, &r, err) < 0)
				return rt_err_wrap(err, "files.img: record %zu", r.index);
			continue;
		}
		if (r.type != CR_R_FILE)
			return rt_err_set(err, 0, "files.img: unexpected record %zu", r.index);
		if (get_file(&r, t, err) < 0)
			return -1;
	}
}

void cr_files_restore_free(struct cr_restore_ctx *c)
{
	struct rfiles *t = c->files;
	for (size_t i = 0; t && i < t->n; i++) {
		const struct cr_fd_kind *k = fd_kind(t->v[i].kind);
		if (k && k->free)
			k->free(&t->v[i]);
		free(t->v[i].path);
		if (t->v[i].fd >= 0)
			close(t->v[i].fd);
	}
	if (t)
		free(t->v);
	free(t);
	c->files = NULL;
	cr_ctty_free(c);
}

static int open_file(struct cr_restore_ctx *c, struct cr_rfile *f, struct rt_err **err)
{
	if (f->fd >= 0)
		return f->fd;
	const struct cr_fd_kind *k = fd_kind(f->kind);
	if (k) {
		if (k->open(c, f, err) < 0)
			return rt_err_wrap(err, "%s '%s'", k->name, f->path);
		return f->fd;
	}
	char full[4200];
	snprintf(full, sizeof(full), "/proc/%d/root%s", c->o->agent_pid, f->path);
	int flags = (int)(f->flags & ~(uint32_t)(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY));
	f->fd = open(full, flags | O_CLOEXEC);
	if (f->fd < 0)
		return rt_err_set(err, errno, "open '%s'", f->path);
	/* a directory's position is its getdents cookie */
	if ((f->kind == FK_REG || f->kind == FK_DIR) &&
	    lseek(f->fd, (off_t)f->pos, SEEK_SET) < 0)
		return rt_err_set(err, errno, "seek '%s' to %llu", f->path,
				  (unsigned long long)f->pos);
	return f->fd;
}

struct cr_rfile *cr_rfile_get(struct cr_restore_ctx *c, uint32_t id,
			      struct rt_err **err)
{
	struct rfiles *t = c->files;
	if (id == 0 || id > t->n) {
		rt_err_set(err, 0, "files.img: no file %u", id);
		return NULL;
	}
	return open_file(c, &t->v[id - 1], err) < 0 ? NULL : &t->v[id - 1];
}

struct cr_rfile *cr_rfile_owner(struct cr_restore_ctx *c, struct cr_rfile *f)
{
	struct rfiles *t = c->files;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].kind == f->kind && t->v[i].obj == f->obj)
			return &t->v[i];
	return f;
}

struct fd_rec {
	uint32_t fd, id;
	uint8_t cloexec, stdio;
};

static int read_fds(struct cr_restore_ctx *c, struct cr_rtask *t, struct fd_rec **out,
		    size_t *n, struct rt_err **err)
{
	char name[64];
	snprintf(name, sizeof(name), "fds-%d.img", t->vpid);
	cleanup_img struct cr_img *img = NULL;
	if (cr_img_open(c->o->images_dirfd, name, CR_IMG_FILES, &img, err) < 0)
		return -1;
	for (;;) {
		struct cr_rd r;
		struct fd_rec f;
		int k = cr_img_next(img, &r, err);
		if (k <= 0)
			return k;
		if (r.type != CR_R_FD || cr_get_u32(&r, "fd", &f.fd, err) < 0 ||
		    cr_get_u8(&r, "cloexec", &f.cloexec, err) < 0 ||
		    cr_get_u8(&r, "stdio", &f.stdio, err) < 0 ||
		    cr_get_u32(&r, "id", &f.id, err) < 0 || cr_rd_done(&r, err) < 0)
			return rt_err_set(err, 0, "%s: bad record %zu", name, r.index);
		if (f.fd > 1u << 20 || f.stdio > STDIO_TERMINAL || (f.stdio && f.id > 2))
			return rt_err_set(err, 0, "%s: bad fd record %zu", name, r.index);
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = f;
	}
}

static int install_fds(struct cr_restore_ctx *c, struct cr_rtask *t,
		       const struct fd_rec *v, size_t n, struct rt_err **err)
{
	struct rfiles *files = c->files;
	for (size_t i = 0; i < n; i++) {
		int fd;
		if (v[i].stdio == STDIO_TERMINAL && !c->o->shell_job)
			return rt_err_set(err, EOPNOTSUPP, "pid %d fd %u: the checkpoint's stdio "
					  "was a terminal from outside the container (a shell "
					  "job): restore with --shell-job", t->vpid, v[i].fd);
		if (v[i].stdio) {
			fd = c->o->stdio[v[i].id];
		} else if (v[i].id == 0 || v[i].id > files->n) {
			return rt_err_set(err, 0, "fds-%d.img: fd %u names file %u of %zu",
					  t->vpid, v[i].fd, v[i].id, files->n);
		} else {
			fd = open_file(c, &files->v[v[i].id - 1], err);
			if (fd < 0)
				return rt_err_wrap(err, "pid %d fd %u", t->vpid, v[i].fd);
		}
		if (cr_agent_call(t->sock, t->vpid, "install an fd", CR_AG_DUP, fd,
				  v[i].fd, v[i].cloexec ? O_CLOEXEC : 0, NULL, NULL, err) < 0)
			return rt_err_wrap(err, "fd %u", v[i].fd);
	}
	return 0;
}

/* Move the agent's socket past the dumped fds, then install them. */
static int prepare_fds(struct cr_restore_ctx *c, struct cr_rtask *t,
		       struct rt_err **err)
{
	cleanup_free struct fd_rec *v = NULL;
	size_t n = 0;
	if (read_fds(c, t, &v, &n, err) < 0)
		return -1;
	t->max_fd = 2;
	for (size_t i = 0; i < n; i++)
		if ((int)v[i].fd > t->max_fd)
			t->max_fd = (int)v[i].fd;
	t->agent_sock_fd = t->max_fd + 1;
	t->next_tmp_fd = t->max_fd + 2;
	if (cr_agent_call(t->sock, t->vpid, "move the agent socket", CR_AG_SOCKFD, -1,
			  t->agent_sock_fd, 0, NULL, NULL, err) < 0 ||
	    cr_ctty_restore(c, t, err) < 0)
		return -1;
	return install_fds(c, t, v, n, err);
}

/* ---- inspect ---- */

static void describe_flags(struct cr_desc *d, uint32_t flags)
{
	static const struct { uint32_t bit; const char *name; } bits[] = {
		{ O_APPEND, "O_APPEND" }, { O_NONBLOCK, "O_NONBLOCK" },
		{ O_SYNC, "O_SYNC" },     /* before O_DSYNC: it includes that bit */
		{ O_DSYNC, "O_DSYNC" },   { O_DIRECT, "O_DIRECT" },
		{ 0100000, "O_LARGEFILE" }, /* the kernel's; 0 in 64-bit glibc */
		{ O_DIRECTORY, "O_DIRECTORY" },
		{ O_NOFOLLOW, "O_NOFOLLOW" }, { O_NOATIME, "O_NOATIME" },
		{ O_PATH, "O_PATH" },
		{ O_CREAT, "O_CREAT" },   { O_EXCL, "O_EXCL" },
		{ O_NOCTTY, "O_NOCTTY" }, { O_TRUNC, "O_TRUNC" },
	};
	static const char *const acc[4] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
	char buf[256];
	size_t len = (size_t)snprintf(buf, sizeof(buf), "%s", acc[flags & O_ACCMODE]);
	uint32_t rest = flags & ~(uint32_t)O_ACCMODE;
	for (size_t i = 0; i < ARRAY_SIZE(bits); i++)
		if ((rest & bits[i].bit) == bits[i].bit && len < sizeof(buf)) {
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "|%s", bits[i].name);
			rest &= ~bits[i].bit;
		}
	if (rest && len < sizeof(buf))
		snprintf(buf + len, sizeof(buf) - len, "|%#o", rest);
	cr_desc_str(d, "flags", buf);
}

static int describe_one_fd(struct cr_rtask *t, const struct rfiles *files,
			   const struct fd_rec *f, struct cr_desc *d, struct rt_err **err)
{
	static const char *const kinds[] = { [FK_REG] = "file", [FK_DIR] = "directory",
					     [FK_CHR] = "device" };
	if (!f->stdio && (f->id == 0 || f->id > files->n))
		return rt_err_set(err, 0, "fds-%d.img: fd %u names file %u of %zu in files.img",
				  t->vpid, f->fd, f->id, files->n);
	cr_desc_map(d, NULL);
	cr_desc_int(d, "fd", f->fd);
	cr_desc_bool(d, "cloexec", f->cloexec);
	if (f->stdio) {
		/* re-attached to the restoring caller's stdio */
		cr_desc_str(d, "kind", "stdio");
		cr_desc_int(d, "stdio", f->id);
		cr_desc_bool(d, "terminal", f->stdio == STDIO_TERMINAL); /* --shell-job */
	} else {
		const struct cr_rfile *file = &files->v[f->id - 1];
		const struct cr_fd_kind *k = fd_kind(file->kind);
		cr_desc_str(d, "kind", k ? k->name : kinds[file->kind]);
		cr_desc_str(d, "path", file->path);
		describe_flags(d, file->flags);
		cr_desc_uint(d, "offset", file->pos);
		cr_desc_int(d, "file_id", f->id); /* equal ids: one open file */
		if (k && k->describe)
			k->describe(file, d);
	}
	cr_desc_end_map(d);
	return 0;
}

/* Needs cr_files_restore_load() first, as prepare does. */
static int describe_fds(struct cr_restore_ctx *c, struct cr_rtask *t,
			struct cr_desc *d, struct rt_err **err)
{
	cleanup_free struct fd_rec *v = NULL;
	size_t n = 0;
	if (read_fds(c, t, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < i; k++)
			if (v[k].fd == v[i].fd)
				return rt_err_set(err, 0, "fds-%d.img: fd %u twice", t->vpid,
						  v[i].fd);
	cr_desc_array(d, "fds");
	for (size_t i = 0; i < n; i++)
		if (describe_one_fd(t, c->files, &v[i], d, err) < 0)
			return -1;
	cr_desc_end_array(d);
	cr_ctty_describe(c, t, d);
	return 0;
}

const struct cr_resource cr_res_files = {
	.name = "files",
	.dump = dump_fds,
	.prepare = prepare_fds,
	.describe = describe_fds,
};
