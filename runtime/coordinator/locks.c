/* File locks (locks-PID.img): flock, POSIX (fcntl) and OFD locks a task
 * holds, matched to its fds by the "lock:" lines of /proc/PID/fdinfo/FD
 * (the kernel lists there the locks taken through that open file and, for
 * POSIX ones, owned by the task). Without --file-locks a task holding one
 * is refused.
 *
 * Restore takes the same locks again in the owning task by injection
 * during the morph, through the fds files.c installed: POSIX locks belong
 * to the process (so the lock's pid is the task's again), flock and OFD
 * locks to the open file, which every task sharing it holds. Blocked lock
 * requests (the "->" lines) are not locks and are left out: the task
 * repeats the call itself. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "coordinator/describe.h"
#include "coordinator/internal.h"
#include "util.h"

#define MAX_LOCKS 65536

enum lock_kind { LK_FLOCK = 1, LK_POSIX, LK_OFD };

struct lock {
	uint32_t fd, kind, type; /* type: F_RDLCK or F_WRLCK */
	uint64_t start, len;	 /* len 0: to EOF */
};

struct locks {
	size_t n;
	struct lock *v;
};

static const char *const kind_names[] = {
	[LK_FLOCK] = "flock", [LK_POSIX] = "posix", [LK_OFD] = "ofd"};

/* "1: POSIX  ADVISORY  WRITE 1234 00:2c:5678 100 199" */
static int parse_lock(const char *l, pid_t pid, int fd, struct lock *k, struct rt_err **err)
{
	char kind[16], mode[16], rw[16], end[32];
	unsigned long long start;
	if (sscanf(l, "%*d: %15s %15s %15s %*d %*s %llu %31s", kind, mode, rw, &start, end) != 5)
		return rt_err_set(err, 0, "pid %d fd %d: unreadable lock '%.60s'", pid, fd, l);
	k->fd = (uint32_t)fd;
	k->kind = !strcmp(kind, "FLOCK")    ? LK_FLOCK
		  : !strcmp(kind, "POSIX")  ? LK_POSIX
		  : !strcmp(kind, "OFDLCK") ? LK_OFD
					    : 0;
	if (!k->kind || strcmp(mode, "ADVISORY") != 0)
		return rt_err_set(err, EOPNOTSUPP, "pid %d fd %d: %s %s lock: not supported", pid,
				  fd, mode, kind);
	k->type = !strcmp(rw, "READ") ? F_RDLCK : F_WRLCK;
	k->start = start;
	k->len = !strcmp(end, "EOF") ? 0 : strtoull(end, NULL, 10) - start + 1;
	return 0;
}

/* The locks the "lock:" lines of fdinfo/FD list. */
static int fd_locks(struct cr_dump_ctx *c, struct cr_dtask *t, int fd, struct locks *ls,
		    struct rt_err **err)
{
	cleanup_free char *info = NULL;
	char file[64];
	snprintf(file, sizeof(file), "fdinfo/%d", fd);
	if (cr_proc_read(t->hpid, file, &info, err) < 0)
		return -1;
	for (const char *l = strstr(info, "\nlock:"); l; l = strstr(l + 1, "\nlock:")) {
		const char *p = l + 6;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "->", 2) == 0 || strstr(p, "->") == p)
			continue;
		if (!c->o->file_locks)
			return rt_err_set(err, EOPNOTSUPP,
					  "pid %d fd %d: holds a file lock: "
					  "checkpoint with --file-locks",
					  t->hpid, fd);
		if (ls->n >= MAX_LOCKS)
			return rt_err_set(err, EFBIG, "pid %d: too many file locks", t->hpid);
		ls->v = xrealloc(ls->v, (ls->n + 1) * sizeof(*ls->v));
		if (parse_lock(p, t->hpid, fd, &ls->v[ls->n], err) < 0)
			return -1;
		ls->n++;
	}
	return 0;
}

/* The locks of the fds whose fdinfo listed one when files.c read them
 * all (it runs first: dump.c's table). */
static int task_locks(struct cr_dump_ctx *c, struct cr_dtask *t, struct locks *ls,
		      struct rt_err **err)
{
	if (!t->fds_scanned)
		return rt_err_set(err, EINVAL, "pid %d: its locks before its fds", t->hpid);
	for (size_t i = 0; i < t->n_locked_fds; i++)
		if (fd_locks(c, t, t->locked_fds[i], ls, err) < 0)
			return -1;
	return 0;
}

static int dump_locks(struct cr_dump_ctx *c, struct cr_dtask *t, struct rt_err **err)
{
	struct locks ls = {0};
	cleanup_free struct lock *v = NULL;
	int ret = task_locks(c, t, &ls, err);
	v = ls.v;
	if (ret < 0)
		return -1;
	char name[64];
	struct cr_img *img = NULL;
	snprintf(name, sizeof(name), "locks-%d.img", t->vpid);
	if (cr_img_create(c->o->images_dirfd, name, CR_IMG_FILES, &img, err) < 0)
		return -1;
	for (size_t i = 0; i < ls.n; i++) {
		struct cr_rec r;
		cr_rec_init(&r, CR_R_LOCK);
		cr_put_u32(&r, v[i].fd);
		cr_put_u32(&r, v[i].kind);
		cr_put_u32(&r, v[i].type);
		cr_put_u64(&r, v[i].start);
		cr_put_u64(&r, v[i].len);
		ret = cr_img_write(img, &r, err);
		cr_rec_free(&r);
		if (ret < 0) {
			cr_img_abort(img);
			return -1;
		}
	}
	return cr_img_close(img, err);
}

/* ---- restore ---- */

static int load_locks(struct cr_restore_ctx *c, struct cr_rtask *t, struct locks *ls,
		      struct rt_err **err)
{
	char name[64];
	snprintf(name, sizeof(name), "locks-%d.img", t->vpid);
	cleanup_img struct cr_img *img = NULL;
	if (cr_img_open(c->o->images_dirfd, name, CR_IMG_FILES, &img, err) < 0)
		return -1;
	for (;;) {
		struct cr_rd r;
		struct lock k;
		int n = cr_img_next(img, &r, err);
		if (n <= 0)
			return n;
		if (r.type != CR_R_LOCK || cr_get_u32(&r, "fd", &k.fd, err) < 0 ||
		    cr_get_u32(&r, "kind", &k.kind, err) < 0 ||
		    cr_get_u32(&r, "type", &k.type, err) < 0 ||
		    cr_get_u64(&r, "start", &k.start, err) < 0 ||
		    cr_get_u64(&r, "len", &k.len, err) < 0 || cr_rd_done(&r, err) < 0)
			return rt_err_set(err, 0, "%s: bad record %zu", name, r.index);
		if (k.kind < LK_FLOCK || k.kind > LK_OFD ||
		    (k.type != F_RDLCK && k.type != F_WRLCK) || ls->n >= MAX_LOCKS)
			return rt_err_set(err, 0, "%s: bad lock record %zu", name, r.index);
		ls->v = xrealloc(ls->v, (ls->n + 1) * sizeof(*ls->v));
		ls->v[ls->n++] = k;
	}
}

static int take_lock(struct cr_rtask *t, const struct lock *k, struct rt_err **err)
{
	if (k->kind == LK_FLOCK)
		return cr_inj_ok(&t->inj, "flock", SYS_flock, k->fd,
				 (k->type == F_RDLCK ? LOCK_SH : LOCK_EX) | LOCK_NB, 0, 0, 0, 0,
				 NULL, err);
	struct flock fl = {.l_type = (short)k->type,
			   .l_whence = SEEK_SET,
			   .l_start = (off_t)k->start,
			   .l_len = (off_t)k->len};
	if (cr_mem_write(t->hpid, t->helper, &fl, sizeof(fl), err) < 0)
		return -1;
	return cr_inj_ok(&t->inj, k->kind == LK_POSIX ? "fcntl(F_SETLK)" : "fcntl(F_OFD_SETLK)",
			 SYS_fcntl, k->fd, k->kind == LK_POSIX ? F_SETLK : F_OFD_SETLK,
			 (long)t->helper, 0, 0, 0, NULL, err);
}

static int morph_locks(struct cr_restore_ctx *c, struct cr_rtask *t, struct rt_err **err)
{
	struct locks ls = {0};
	cleanup_free struct lock *v = NULL;
	int ret = load_locks(c, t, &ls, err);
	v = ls.v;
	if (ret < 0)
		return -1;
	if (ls.n && !c->o->file_locks)
		return rt_err_set(err, EOPNOTSUPP,
				  "pid %d fd %u: the checkpoint holds file "
				  "locks: restore with --file-locks",
				  t->vpid, v[0].fd);
	for (size_t i = 0; i < ls.n; i++)
		if (take_lock(t, &v[i], err) < 0)
			return rt_err_wrap(err, "pid %d fd %u: %s lock at %llu", t->vpid, v[i].fd,
					   kind_names[v[i].kind], (unsigned long long)v[i].start);
	return 0;
}

static int describe_locks(struct cr_restore_ctx *c, struct cr_rtask *t, struct cr_desc *d,
			  struct rt_err **err)
{
	struct locks ls = {0};
	cleanup_free struct lock *v = NULL;
	int ret = load_locks(c, t, &ls, err);
	v = ls.v;
	if (ret < 0)
		return -1;
	cr_desc_array(d, "locks");
	for (size_t i = 0; i < ls.n; i++) {
		cr_desc_map(d, NULL);
		cr_desc_int(d, "fd", v[i].fd);
		cr_desc_str(d, "kind", kind_names[v[i].kind]);
		cr_desc_str(d, "type", v[i].type == F_RDLCK ? "read" : "write");
		cr_desc_uint(d, "start", v[i].start);
		if (v[i].len)
			cr_desc_uint(d, "len", v[i].len);
		else
			cr_desc_str(d, "len", "eof");
		cr_desc_end_map(d);
	}
	cr_desc_end_array(d);
	return 0;
}

const struct cr_resource cr_res_locks = {
	.name = "file locks",
	.dump = dump_locks,
	.morph = morph_locks,
	.describe = describe_locks,
};
