/* memfds as fds: name, contents, size, seals and mode. Restore creates one
 * memfd per inode and opens every file of it through /proc/self/fd, so
 * separate opens stay separate files with their own offsets. (A memfd
 * that is also mapped needs the mapping to use the same object: mem.c.) */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "coordinator/fdkind.h"
#include "util.h"

#define MEMFD_DATA_MAX (48ull << 20) /* inside one image record */
#define MEMFD_PREFIX "/memfd:"

struct mfd {
	uint64_t ino, size;
	uint32_t seals, mode;
	char *name;
	void *data;   /* the inode's first file only */
	size_t len;
	int holder;   /* the owner's memfd */
};

static bool match_memfd(const char *link, const struct stat *sb)
{
	return S_ISREG(sb->st_mode) && strncmp(link, MEMFD_PREFIX, strlen(MEMFD_PREFIX)) == 0;
}

static int dump_memfd(struct cr_fd_dump *d, struct cr_rec *r, struct rt_err **err)
{
	cleanup_free void *data = NULL;
	const char *name = d->link + strlen(MEMFD_PREFIX);
	size_t nl = strlen(name);
	if (nl >= 10 && strcmp(name + nl - 10, " (deleted)") == 0)
		nl -= 10;
	struct statfs fs;
	if (fstatfs(d->dup, &fs) == 0 && fs.f_type == HUGETLBFS_MAGIC)
		return rt_err_set(err, EOPNOTSUPP, "pid %d fd %d: hugetlb memfd '%.*s' is not "
				  "supported yet", d->hpid, d->fd, (int)nl, name);
	int seals = fcntl(d->dup, F_GET_SEALS);
	if (seals < 0)
		seals = F_SEAL_SEAL;
	uint64_t size = (uint64_t)d->sb->st_size;
	if (!d->inode_seen && cr_read_all(d->dup, size, MEMFD_DATA_MAX, &data, err) < 0)
		return rt_err_wrap(err, "pid %d fd %d: memfd '%.*s'", d->hpid, d->fd, (int)nl,
				   name);
	cleanup_free char *n = xstrndup(name, nl);
	cr_put_u64(r, d->sb->st_ino);
	cr_put_str(r, n);
	cr_put_u64(r, size);
	cr_put_u32(r, (uint32_t)seals);
	cr_put_u32(r, d->sb->st_mode & 07777);
	cr_put_bytes(r, data, d->inode_seen ? 0 : size);
	return 0;
}

static int load_memfd(struct cr_rd *r, struct cr_rfile *f, struct rt_err **err)
{
	struct mfd *m = xcalloc(1, sizeof(*m));
	m->holder = -1;
	f->priv = m;
	const void *data;
	if (cr_get_u64(r, "inode", &m->ino, err) < 0 || cr_get_str(r, "name", &m->name, 250, err) < 0 ||
	    cr_get_u64(r, "size", &m->size, err) < 0 || cr_get_u32(r, "seals", &m->seals, err) < 0 ||
	    cr_get_u32(r, "mode", &m->mode, err) < 0 ||
	    cr_get_bytes(r, "data", &data, &m->len, MEMFD_DATA_MAX, err) < 0)
		return -1;
	if (!m->name || (m->len && m->len != m->size))
		return rt_err_set(err, 0, "memfd: %zu bytes of %llu", m->len,
				  (unsigned long long)m->size);
	m->data = xmalloc(m->len + 1);
	memcpy(m->data, data, m->len);
	f->obj = m->ino;
	return 0;
}

static int make_memfd(struct cr_rfile *owner, struct rt_err **err)
{
	struct mfd *m = owner->priv;
	if (m->holder >= 0)
		return 0;
	m->holder = memfd_create(m->name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (m->holder < 0)
		return rt_err_set(err, errno, "create");
	if (cr_write_all(m->holder, m->data, m->len) < 0 ||
	    ftruncate(m->holder, (off_t)m->size) < 0 || fchmod(m->holder, m->mode) < 0)
		return rt_err_set(err, errno, "fill %llu bytes", (unsigned long long)m->size);
	if (m->seals && fcntl(m->holder, F_ADD_SEALS, (int)m->seals) < 0)
		return rt_err_set(err, errno, "seal %#x", m->seals);
	return 0;
}

static int open_memfd(struct cr_restore_ctx *c, struct cr_rfile *f, struct rt_err **err)
{
	struct cr_rfile *owner = cr_rfile_owner(c, f);
	if (make_memfd(owner, err) < 0)
		return -1;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", ((struct mfd *)owner->priv)->holder);
	f->fd = open(path, (int)(f->flags & ~(uint32_t)(O_CREAT | O_EXCL | O_TRUNC)) | O_CLOEXEC);
	if (f->fd < 0)
		return rt_err_set(err, errno, "reopen");
	if (lseek(f->fd, (off_t)f->pos, SEEK_SET) < 0)
		return rt_err_set(err, errno, "seek to %llu", (unsigned long long)f->pos);
	return 0;
}

int cr_memfd_restored(struct cr_restore_ctx *c, uint64_t ino, int *fd,
		      struct rt_err **err)
{
	struct cr_rfile key = { .kind = CR_FK_MEMFD, .obj = ino };
	struct cr_rfile *owner = c->files ? cr_rfile_owner(c, &key) : &key;
	if (owner == &key)
		return 0;
	if (make_memfd(owner, err) < 0)
		return rt_err_wrap(err, "memfd '%s' for a mapping", owner->path);
	*fd = ((struct mfd *)owner->priv)->holder;
	return 1;
}

static void describe_memfd(const struct cr_rfile *f, struct cr_desc *d)
{
	const struct mfd *m = f->priv;
	cr_desc_str(d, "name", m->name);
	cr_desc_uint(d, "size", m->size);
	cr_desc_hex(d, "seals", m->seals);
	cr_desc_strf(d, "mode", "%04o", m->mode);
}

static void free_memfd(struct cr_rfile *f)
{
	struct mfd *m = f->priv;
	if (!m)
		return;
	if (m->holder >= 0)
		close(m->holder);
	free(m->name);
	free(m->data);
	free(m);
	f->priv = NULL;
}

const struct cr_fd_kind cr_fd_memfd = {
	.name = "memfd",
	.kind = CR_FK_MEMFD,
	.match = match_memfd,
	.dump = dump_memfd,
	.load = load_memfd,
	.open = open_memfd,
	.describe = describe_memfd,
	.free = free_memfd,
};
