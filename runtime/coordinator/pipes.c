/* Pipes and named FIFOs with the data in flight (files.img kind fields:
 * inode, pipe size, the data). Every end of one pipe is a file of its own;
 * the first file of an inode carries the data.
 *
 * Dump: reading through a duplicate would drain the pipe (KERNEL-NOTES), so
 * the data is peeked with tee() into a pipe of ours, from a read end we
 * open through /proc/PID/fd/N (the task may hold only the write end).
 * Restore: one pipe per inode, sized and refilled; every end is a fresh
 * open of it through /proc/self/fd (so ends stay distinct files), with its
 * status flags. A FIFO is opened by its name, through a read-write holder
 * that keeps its data until the tasks hold their ends. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coordinator/fdkind.h"
#include "util.h"

#define PIPE_DATA_MAX (1u << 20) /* fs.pipe-max-size here */

struct pipe_file {
	uint64_t ino;
	uint32_t size;   /* F_GETPIPE_SZ */
	bool has_data;   /* the inode's first file */
	void *data;
	size_t len;
	int pair[2];     /* the owner's: read and write ends (FIFO: holder, -1) */
};

static bool match_pipe(const char *link, const struct stat *sb)
{
	return S_ISFIFO(sb->st_mode) && strncmp(link, "pipe:", 5) == 0;
}

static bool match_fifo(const char *link, const struct stat *sb)
{
	return S_ISFIFO(sb->st_mode) && link[0] == '/';
}

/* What is in the pipe, without taking it out. */
static int peek(struct cr_fd_dump *d, uint32_t *size, void **data, size_t *len,
		struct rt_err **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", d->hpid, d->fd);
	cleanup_close int rd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	int tmp[2];
	if (rd < 0)
		return rt_err_set(err, errno, "pid %d fd %d: open a read end", d->hpid, d->fd);
	int sz = fcntl(rd, F_GETPIPE_SZ);
	if (sz <= 0 || (uint32_t)sz > PIPE_DATA_MAX)
		return rt_err_set(err, errno, "pid %d fd %d: pipe size %d", d->hpid, d->fd, sz);
	*size = (uint32_t)sz;
	if (pipe2(tmp, O_NONBLOCK | O_CLOEXEC) < 0)
		return rt_err_set(err, errno, "pid %d fd %d: a pipe to peek into", d->hpid, d->fd);
	cleanup_close int tr = tmp[0], tw = tmp[1];
	if (fcntl(tw, F_SETPIPE_SZ, sz) < sz)
		return rt_err_set(err, errno, "pid %d fd %d: a pipe of %d bytes to peek "
				  "into", d->hpid, d->fd, sz);
	ssize_t n = tee(rd, tw, (size_t)sz, SPLICE_F_NONBLOCK);
	if (n < 0 && errno != EAGAIN)
		return rt_err_set(err, errno, "pid %d fd %d: tee", d->hpid, d->fd);
	*len = n > 0 ? (size_t)n : 0;
	*data = xmalloc(*len + 1);
	for (size_t off = 0; off < *len;) {
		ssize_t r = read(tr, (char *)*data + off, *len - off);
		if (r <= 0) {
			free(*data);
			*data = NULL;
			return rt_err_set(err, errno, "pid %d fd %d: read the peeked data",
					  d->hpid, d->fd);
		}
		off += (size_t)r;
	}
	return 0;
}

static int dump_pipe(struct cr_fd_dump *d, struct cr_rec *r, struct rt_err **err)
{
	size_t l = strlen(d->link);
	if (l > 10 && strcmp(d->link + l - 10, " (deleted)") == 0)
		return rt_err_set(err, EOPNOTSUPP, "pid %d fd %d: unlinked named pipe '%s' "
				  "is not supported yet", d->hpid, d->fd, d->link);
	cleanup_free void *data = NULL;
	size_t len = 0;
	uint32_t size = 0;
	if (peek(d, &size, &data, &len, err) < 0)
		return -1;
	if ((d->flags & O_DIRECT) && len > 0)
		return rt_err_set(err, EOPNOTSUPP, "pid %d fd %d: a packet-mode pipe (O_DIRECT) "
				  "with data in flight is not supported yet", d->hpid, d->fd);
	cr_put_u64(r, d->sb->st_ino);
	cr_put_u32(r, size);
	cr_put_u8(r, !d->inode_seen);
	cr_put_bytes(r, data, d->inode_seen ? 0 : len);
	return 0;
}

static int load_pipe(struct cr_rd *r, struct cr_rfile *f, struct rt_err **err)
{
	struct pipe_file *p = xcalloc(1, sizeof(*p));
	p->pair[0] = p->pair[1] = -1;
	f->priv = p;
	uint8_t has;
	const void *data;
	if (cr_get_u64(r, "inode", &p->ino, err) < 0 || cr_get_u32(r, "size", &p->size, err) < 0 ||
	    cr_get_u8(r, "has data", &has, err) < 0 ||
	    cr_get_bytes(r, "data", &data, &p->len, PIPE_DATA_MAX, err) < 0)
		return -1;
	if (p->size == 0 || p->size > PIPE_DATA_MAX || p->len > p->size)
		return rt_err_set(err, 0, "pipe %llu: %zu bytes in a pipe of %u",
				  (unsigned long long)p->ino, p->len, p->size);
	p->has_data = has;
	p->data = xmalloc(p->len + 1);
	memcpy(p->data, data, p->len);
	f->obj = p->ino;
	return 0;
}

/* The owner's pipe (or FIFO holder), sized and refilled once. */
static int make_pipe(struct cr_restore_ctx *c, struct cr_rfile *owner, bool named,
		     struct rt_err **err)
{
	struct pipe_file *p = owner->priv;
	if (p->pair[0] >= 0)
		return 0;
	if (named) {
		char full[4200];
		snprintf(full, sizeof(full), "/proc/%d/root%s", c->o->agent_pid, owner->path);
		p->pair[0] = open(full, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (p->pair[0] < 0)
			return rt_err_set(err, errno, "open");
		struct stat sb;
		if (fstat(p->pair[0], &sb) < 0 || !S_ISFIFO(sb.st_mode))
			return rt_err_set(err, EINVAL, "no longer a named pipe");
	} else if (pipe2(p->pair, O_NONBLOCK | O_CLOEXEC) < 0) {
		return rt_err_set(err, errno, "create a pipe");
	}
	int w = named ? p->pair[0] : p->pair[1];
	if (fcntl(w, F_SETPIPE_SZ, (int)p->size) < (int)p->size)
		return rt_err_set(err, errno, "make it %u bytes big", p->size);
	if (p->has_data && cr_write_all(w, p->data, p->len) < 0)
		return rt_err_set(err, errno, "refill %zu bytes", p->len);
	return 0;
}

static int open_end(struct cr_restore_ctx *c, struct cr_rfile *f, bool named,
		    struct rt_err **err)
{
	struct cr_rfile *owner = cr_rfile_owner(c, f);
	if (make_pipe(c, owner, named, err) < 0)
		return -1;
	struct pipe_file *p = owner->priv;
	int acc = (int)(f->flags & O_ACCMODE);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d",
		 named || acc != O_WRONLY ? p->pair[0] : p->pair[1]);
	/* non-blocking: a write end would wait for a reader otherwise */
	f->fd = open(path, acc | O_NONBLOCK | O_CLOEXEC);
	if (f->fd < 0)
		return rt_err_set(err, errno, "open an end");
	if (fcntl(f->fd, F_SETFL, (int)f->flags) < 0)
		return rt_err_set(err, errno, "set flags %#o", f->flags);
	return 0;
}

static int open_pipe(struct cr_restore_ctx *c, struct cr_rfile *f, struct rt_err **err)
{
	return open_end(c, f, false, err);
}

static int open_fifo(struct cr_restore_ctx *c, struct cr_rfile *f, struct rt_err **err)
{
	return open_end(c, f, true, err);
}

static void describe_pipe(const struct cr_rfile *f, struct cr_desc *d)
{
	const struct pipe_file *p = f->priv;
	cr_desc_uint(d, "inode", p->ino);
	cr_desc_uint(d, "pipe_size", p->size);
	if (p->has_data)
		cr_desc_uint(d, "bytes_in_flight", p->len);
}

static void free_pipe(struct cr_rfile *f)
{
	struct pipe_file *p = f->priv;
	if (!p)
		return;
	for (int i = 0; i < 2; i++)
		if (p->pair[i] >= 0)
			close(p->pair[i]);
	free(p->data);
	free(p);
	f->priv = NULL;
}

const struct cr_fd_kind cr_fd_pipe = {
	.name = "pipe",
	.kind = CR_FK_PIPE,
	.match = match_pipe,
	.dump = dump_pipe,
	.load = load_pipe,
	.open = open_pipe,
	.describe = describe_pipe,
	.free = free_pipe,
};

const struct cr_fd_kind cr_fd_fifo = {
	.name = "named pipe",
	.kind = CR_FK_FIFO,
	.match = match_fifo,
	.dump = dump_pipe,
	.load = load_pipe,
	.open = open_fifo,
	.describe = describe_pipe,
	.free = free_pipe,
};
