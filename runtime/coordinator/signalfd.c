/* signalfds: the signal mask (fdinfo "sigmask"), status flags in the file
 * record. The pending signals it reads are the task's (signals.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "coordinator/fdkind.h"
#include "util.h"

static bool match_signalfd(const char *link, const struct stat *sb)
{
	(void)sb;
	return strcmp(link, "anon_inode:[signalfd]") == 0;
}

static int dump_signalfd(struct cr_fd_dump *d, struct cr_rec *r, struct rt_err **err)
{
	cleanup_free char *info = NULL;
	if (cr_fdinfo(d->hpid, d->fd, &info, err) < 0)
		return -1;
	const char *mask = cr_status_field(info, "sigmask");
	if (!mask)
		return rt_err_set(err, 0, "pid %d fd %d: signalfd without a sigmask in "
				  "fdinfo", d->hpid, d->fd);
	cr_put_u64(r, strtoull(mask, NULL, 16));
	return 0;
}

static int load_signalfd(struct cr_rd *r, struct cr_rfile *f, struct rt_err **err)
{
	uint64_t *mask = xcalloc(1, sizeof(*mask));
	f->priv = mask;
	return cr_get_u64(r, "sigmask", mask, err);
}

static int open_signalfd(struct cr_restore_ctx *c, struct cr_rfile *f, struct rt_err **err)
{
	(void)c;
	uint64_t mask = *(uint64_t *)f->priv; /* the kernel's sigset: 8 bytes */
	f->fd = (int)syscall(SYS_signalfd4, -1, &mask, sizeof(mask), O_CLOEXEC);
	if (f->fd < 0)
		return rt_err_set(err, errno, "create with mask %#llx",
				  (unsigned long long)mask);
	if (fcntl(f->fd, F_SETFL, (int)f->flags) < 0)
		return rt_err_set(err, errno, "set flags %#o", f->flags);
	return 0;
}

static void describe_signalfd(const struct cr_rfile *f, struct cr_desc *d)
{
	cr_desc_hex(d, "sigmask", *(const uint64_t *)f->priv);
}

static void free_priv(struct cr_rfile *f)
{
	free(f->priv);
	f->priv = NULL;
}

const struct cr_fd_kind cr_fd_signalfd = {
	.name = "signalfd",
	.kind = CR_FK_SIGNALFD,
	.match = match_signalfd,
	.dump = dump_signalfd,
	.load = load_signalfd,
	.open = open_signalfd,
	.describe = describe_signalfd,
	.free = free_priv,
};
