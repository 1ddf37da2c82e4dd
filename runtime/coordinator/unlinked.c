/* Open regular files whose last name was unlinked ("... (deleted)"): the
 * contents, size, mode and owner go into the image; restore re-creates the
 * file nameless in the same directory (O_TMPFILE, or a temporary name
 * unlinked at once where the filesystem lacks it) and opens every file of
 * it through /proc/self/fd with its flags and offset. A file that still
 * has another name is refused: we would cut it from that name. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coordinator/fdkind.h"
#include "util.h"

#define UNLINKED_DATA_MAX (48ull << 20) /* inside one image record */
#define DELETED " (deleted)"

struct ufile {
	uint64_t ino, size;
	uint32_t mode, uid, gid;
	void *data;  /* the inode's first file only */
	size_t len;
	int holder;
};

static bool deleted(const char *link)
{
	size_t l = strlen(link), dl = strlen(DELETED);
	return l > dl && strcmp(link + l - dl, DELETED) == 0;
}

static bool match_unlinked(const char *link, const struct stat *sb)
{
	return (S_ISREG(sb->st_mode) || S_ISDIR(sb->st_mode)) && link[0] == '/' && deleted(link);
}

static int dump_unlinked(struct cr_fd_dump *d, struct cr_rec *r, struct rt_err **err)
{
	if (S_ISDIR(d->sb->st_mode))
		return rt_err_set(err, EOPNOTSUPP, "pid %d fd %d: deleted directory '%s' is "
				  "not supported yet", d->hpid, d->fd, d->link);
	if (d->sb->st_nlink > 0)
		return rt_err_set(err, EOPNOTSUPP, "pid %d fd %d: '%s' still has %lu other "
				  "names: not supported yet", d->hpid, d->fd, d->link,
				  (unsigned long)d->sb->st_nlink);
	cleanup_free void *data = NULL;
	uint64_t size = (uint64_t)d->sb->st_size;
	if (!d->inode_seen && cr_read_all(d->dup, size, UNLINKED_DATA_MAX, &data, err) < 0)
		return rt_err_wrap(err, "pid %d fd %d: unlinked file '%s'", d->hpid, d->fd,
				   d->link);
	cr_put_u64(r, d->sb->st_ino);
	cr_put_u64(r, size);
	cr_put_u32(r, d->sb->st_mode & 07777);
	cr_put_u32(r, d->sb->st_uid);
	cr_put_u32(r, d->sb->st_gid);
	cr_put_bytes(r, data, d->inode_seen ? 0 : size);
	return 0;
}

static int load_unlinked(struct cr_rd *r, struct cr_rfile *f, struct rt_err **err)
{
	struct ufile *u = xcalloc(1, sizeof(*u));
	u->holder = -1;
	f->priv = u;
	const void *data;
	if (cr_get_u64(r, "inode", &u->ino, err) < 0 || cr_get_u64(r, "size", &u->size, err) < 0 ||
	    cr_get_u32(r, "mode", &u->mode, err) < 0 || cr_get_u32(r, "uid", &u->uid, err) < 0 ||
	    cr_get_u32(r, "gid", &u->gid, err) < 0 ||
	    cr_get_bytes(r, "data", &data, &u->len, UNLINKED_DATA_MAX, err) < 0)
		return -1;
	if ((u->len && u->len != u->size) || f->path[0] != '/' || !deleted(f->path))
		return rt_err_set(err, 0, "unlinked file '%s': %zu bytes of %llu", f->path,
				  u->len, (unsigned long long)u->size);
	u->data = xmalloc(u->len + 1);
	memcpy(u->data, data, u->len);
	f->obj = u->ino;
	return 0;
}

/* A nameless file in dir (as we see it). */
static int create_nameless(const char *dir, uint32_t mode, struct rt_err **err)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd >= 0 ? fd : rt_err_set(err, errno, "create a file in '%s'", dir);
	for (int i = 0; i < 100; i++) {
		char name[4400];
		if ((size_t)snprintf(name, sizeof(name), "%s/.ferry-unlinked-%d-%d", dir,
				     getpid(), i) >= sizeof(name))
			return rt_err_set(err, ENAMETOOLONG, "'%s'", dir);
		fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd >= 0) {
			unlink(name);
			return fd;
		}
		if (errno != EEXIST)
			break;
	}
	return rt_err_set(err, errno, "create a file in '%s'", dir);
}

static int make_file(struct cr_restore_ctx *c, struct cr_rfile *owner, struct rt_err **err)
{
	struct ufile *u = owner->priv;
	if (u->holder >= 0)
		return 0;
	char dir[4300];
	snprintf(dir, sizeof(dir), "/proc/%d/root%s", c->o->agent_pid, owner->path);
	*strrchr(dir, '/') = '\0';
	u->holder = create_nameless(dir, u->mode, err);
	if (u->holder < 0)
		return -1;
	if (cr_write_all(u->holder, u->data, u->len) < 0 ||
	    ftruncate(u->holder, (off_t)u->size) < 0)
		return rt_err_set(err, errno, "fill %llu bytes", (unsigned long long)u->size);
	if (fchown(u->holder, u->uid, u->gid) < 0 || fchmod(u->holder, u->mode) < 0)
		return rt_err_set(err, errno, "owner %u:%u mode %04o", u->uid, u->gid, u->mode);
	return 0;
}

static int open_unlinked(struct cr_restore_ctx *c, struct cr_rfile *f, struct rt_err **err)
{
	struct cr_rfile *owner = cr_rfile_owner(c, f);
	if (make_file(c, owner, err) < 0)
		return -1;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", ((struct ufile *)owner->priv)->holder);
	f->fd = open(path, (int)(f->flags & ~(uint32_t)(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY)) |
				   O_CLOEXEC);
	if (f->fd < 0)
		return rt_err_set(err, errno, "reopen");
	if (lseek(f->fd, (off_t)f->pos, SEEK_SET) < 0)
		return rt_err_set(err, errno, "seek to %llu", (unsigned long long)f->pos);
	return 0;
}

static void describe_unlinked(const struct cr_rfile *f, struct cr_desc *d)
{
	const struct ufile *u = f->priv;
	cr_desc_uint(d, "size", u->size);
	cr_desc_strf(d, "mode", "%04o", u->mode);
	cr_desc_strf(d, "owner", "%u:%u", u->uid, u->gid);
}

static void free_unlinked(struct cr_rfile *f)
{
	struct ufile *u = f->priv;
	if (!u)
		return;
	if (u->holder >= 0)
		close(u->holder);
	free(u->data);
	free(u);
	f->priv = NULL;
}

const struct cr_fd_kind cr_fd_unlinked = {
	.name = "unlinked file",
	.kind = CR_FK_UNLINKED,
	.match = match_unlinked,
	.dump = dump_unlinked,
	.load = load_unlinked,
	.open = open_unlinked,
	.describe = describe_unlinked,
	.free = free_unlinked,
};
