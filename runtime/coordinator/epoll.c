/* epoll instances: the watched set, one (fd, file, events, data) per
 * target from fdinfo's "tfd:" lines. A target is named by its number in
 * the task (what the kernel keys it by, and what fdinfo shows) and by its
 * file id, dumped first.
 *
 * Restore adds every target with EPOLL_CTL_ADD of the restored file at the
 * same fd number: in a short-lived child of ours that puts the file there,
 * since the item outlives the child's fd (it goes with the file). */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coordinator/fdkind.h"
#include "util.h"

#define EPOLL_MAX_TARGETS 65536

struct ep_target {
	uint32_t tfd, file, events;
	uint64_t data;
};

struct ep {
	uint32_t n;
	struct ep_target *v;
};

static bool match_epoll(const char *link, const struct stat *sb)
{
	(void)sb;
	return strcmp(link, "anon_inode:[eventpoll]") == 0;
}

/* Is tfd of pid still the file the epoll watches under that number? */
static bool target_there(pid_t pid, int epfd, int tfd)
{
	struct kcmp_epoll_slot slot = { .efd = (uint32_t)epfd, .tfd = (uint32_t)tfd };
	return syscall(SYS_kcmp, pid, pid, KCMP_EPOLL_TFD, tfd, &slot) == 0;
}

static int dump_epoll(struct cr_fd_dump *d, struct cr_rec *r, struct rt_err **err)
{
	cleanup_free char *info = NULL;
	cleanup_free struct ep_target *v = NULL;
	size_t n = 0;
	if (cr_fdinfo(d->hpid, d->fd, &info, err) < 0)
		return -1;
	for (const char *l = info; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		struct ep_target t;
		int tfd;
		unsigned long long data;
		if (sscanf(l, "tfd: %d events: %x data: %llx", &tfd, &t.events, &data) != 3)
			continue;
		if (!target_there(d->hpid, d->fd, tfd))
			return rt_err_set(err, EOPNOTSUPP, "pid %d fd %d: epoll watches a file "
					  "under fd %d that the task closed or replaced: not "
					  "supported yet", d->hpid, d->fd, tfd);
		if (cr_fd_file_id(d->c, d->hpid, tfd, &t.file, err) < 0)
			return rt_err_wrap(err, "pid %d fd %d: epoll target fd %d", d->hpid,
					   d->fd, tfd);
		t.tfd = (uint32_t)tfd;
		t.data = data;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = t;
	}
	cr_put_u32(r, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		cr_put_u32(r, v[i].tfd);
		cr_put_u32(r, v[i].file);
		cr_put_u32(r, v[i].events);
		cr_put_u64(r, v[i].data);
	}
	return 0;
}

static int load_epoll(struct cr_rd *r, struct cr_rfile *f, struct rt_err **err)
{
	struct ep *e = xcalloc(1, sizeof(*e));
	f->priv = e;
	uint32_t n;
	if (cr_get_u32(r, "targets", &n, err) < 0)
		return -1;
	if (n > EPOLL_MAX_TARGETS)
		return rt_err_set(err, 0, "%u epoll targets", n);
	e->v = xcalloc(n ? n : 1, sizeof(*e->v));
	for (; e->n < n; e->n++) {
		struct ep_target *t = &e->v[e->n];
		if (cr_get_u32(r, "tfd", &t->tfd, err) < 0 || cr_get_u32(r, "file", &t->file, err) < 0 ||
		    cr_get_u32(r, "events", &t->events, err) < 0 ||
		    cr_get_u64(r, "data", &t->data, err) < 0)
			return -1;
		if (t->tfd > 1u << 20 || t->file >= f->id)
			return rt_err_set(err, 0, "epoll target %u: fd %u file %u", e->n, t->tfd,
					  t->file);
	}
	return 0;
}

/* In a child: file at number tfd, then add it. Async-signal-safe only. */
static int add_at(int epfd, int file, const struct ep_target *t, struct rt_err **err)
{
	pid_t pid = fork();
	if (pid < 0)
		return rt_err_set(err, errno, "fork");
	if (pid == 0) {
		if ((int)t->tfd == epfd && (epfd = fcntl(epfd, F_DUPFD, (int)t->tfd + 1)) < 0)
			_exit(errno);
		if (file != (int)t->tfd && dup2(file, (int)t->tfd) < 0)
			_exit(errno);
		struct epoll_event ev = { .events = t->events, .data.u64 = t->data };
		_exit(epoll_ctl(epfd, EPOLL_CTL_ADD, (int)t->tfd, &ev) < 0 ? errno : 0);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return rt_err_set(err, errno, "wait for the epoll helper");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return rt_err_set(err, WIFEXITED(status) ? WEXITSTATUS(status) : EINTR,
				  "add fd %u (events %#x)", t->tfd, t->events);
	return 0;
}

static int open_epoll(struct cr_restore_ctx *c, struct cr_rfile *f, struct rt_err **err)
{
	const struct ep *e = f->priv;
	f->fd = epoll_create1(EPOLL_CLOEXEC);
	if (f->fd < 0)
		return rt_err_set(err, errno, "create");
	if (fcntl(f->fd, F_SETFL, (int)f->flags) < 0)
		return rt_err_set(err, errno, "set flags %#o", f->flags);
	for (uint32_t i = 0; i < e->n; i++) {
		struct cr_rfile *tf = cr_rfile_get(c, e->v[i].file, err);
		if (!tf || add_at(f->fd, tf->fd, &e->v[i], err) < 0)
			return -1;
	}
	return 0;
}

static void describe_epoll(const struct cr_rfile *f, struct cr_desc *d)
{
	const struct ep *e = f->priv;
	cr_desc_array(d, "watches");
	for (uint32_t i = 0; i < e->n; i++) {
		cr_desc_map(d, NULL);
		cr_desc_int(d, "fd", e->v[i].tfd);
		cr_desc_int(d, "file_id", e->v[i].file);
		cr_desc_hex(d, "events", e->v[i].events);
		cr_desc_hex(d, "data", e->v[i].data);
		cr_desc_end_map(d);
	}
	cr_desc_end_array(d);
}

static void free_epoll(struct cr_rfile *f)
{
	struct ep *e = f->priv;
	if (e)
		free(e->v);
	free(e);
	f->priv = NULL;
}

const struct cr_fd_kind cr_fd_epoll = {
	.name = "epoll",
	.kind = CR_FK_EPOLL,
	.match = match_epoll,
	.dump = dump_epoll,
	.load = load_epoll,
	.open = open_epoll,
	.describe = describe_epoll,
	.free = free_epoll,
};
