/* eventfds: the counter and semaphore mode (fdinfo), status flags in the
 * file record. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "coordinator/fdkind.h"
#include "util.h"

struct efd {
	uint64_t count;
	uint8_t semaphore;
};

static bool match_eventfd(const char *link, const struct stat *sb)
{
	(void)sb;
	return strcmp(link, "anon_inode:[eventfd]") == 0;
}

static int dump_eventfd(struct cr_fd_dump *d, struct cr_rec *r, struct rt_err **err)
{
	cleanup_free char *info = NULL;
	if (cr_fdinfo(d->hpid, d->fd, &info, err) < 0)
		return -1;
	const char *cnt = cr_status_field(info, "eventfd-count");
	const char *sem = cr_status_field(info, "eventfd-semaphore");
	if (!cnt)
		return rt_err_set(err, 0, "pid %d fd %d: eventfd without a count in fdinfo",
				  d->hpid, d->fd);
	cr_put_u64(r, strtoull(cnt, NULL, 16));
	cr_put_u8(r, sem && atoi(sem) != 0);
	return 0;
}

static int load_eventfd(struct cr_rd *r, struct cr_rfile *f, struct rt_err **err)
{
	struct efd *e = xcalloc(1, sizeof(*e));
	f->priv = e;
	return cr_get_u64(r, "count", &e->count, err) < 0 ||
			       cr_get_u8(r, "semaphore", &e->semaphore, err) < 0
		       ? -1
		       : 0;
}

static int open_eventfd(struct cr_restore_ctx *c, struct cr_rfile *f, struct rt_err **err)
{
	(void)c;
	const struct efd *e = f->priv;
	/* eventfd() takes an unsigned int: add the rest with a write */
	unsigned init = e->count > 0xffffffffu ? 0 : (unsigned)e->count;
	f->fd = eventfd(init, EFD_CLOEXEC | (e->semaphore ? EFD_SEMAPHORE : 0));
	if (f->fd < 0)
		return rt_err_set(err, errno, "create");
	uint64_t rest = e->count - init;
	if (rest && write(f->fd, &rest, 8) != 8)
		return rt_err_set(err, errno, "set the counter to %llu",
				  (unsigned long long)e->count);
	if (fcntl(f->fd, F_SETFL, (int)f->flags) < 0)
		return rt_err_set(err, errno, "set flags %#o", f->flags);
	return 0;
}

static void describe_eventfd(const struct cr_rfile *f, struct cr_desc *d)
{
	const struct efd *e = f->priv;
	cr_desc_uint(d, "count", e->count);
	cr_desc_bool(d, "semaphore", e->semaphore);
}

static void free_priv(struct cr_rfile *f)
{
	free(f->priv);
	f->priv = NULL;
}

const struct cr_fd_kind cr_fd_eventfd = {
	.name = "eventfd",
	.kind = CR_FK_EVENTFD,
	.match = match_eventfd,
	.dump = dump_eventfd,
	.load = load_eventfd,
	.open = open_eventfd,
	.describe = describe_eventfd,
	.free = free_priv,
};
