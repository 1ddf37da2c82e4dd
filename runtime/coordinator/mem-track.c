/* Written-page tracking between dumps (--pre-dump, then --parent-path).
 *
 * KERNEL-NOTES "Dirty-page tracking": a userfaultfd made inside each task
 * (injected; user-mode-only is enough for write-protection), with WP_ASYNC
 * and WP_UNPOPULATED, registered in MODE_WP over the task's private
 * anonymous mappings. From then on the kernel lifts a page's protection at
 * its first write without stopping the task, and PAGEMAP_SCAN with
 * PM_SCAN_WP_MATCHING reports the written pages and protects them again
 * (mem.c does the scans).
 *
 * A registration lasts as long as its userfaultfd. Between two ferry
 * processes the files are held by a small holder process, started by the
 * first tracked dump and reached through a socket in the tracking directory
 * (the container's state directory). The holder also keeps the id of the
 * last dump whose scans protected the pages again: only a dump whose parent
 * is that very dump may record unwritten pages as "in the parent"; any
 * other parent, or a dump that failed half way, makes the next dump write
 * every page. The holder exits when the tree's root exits.
 *
 * Mappings made after a dump (and mremap'ed ones, which lose their
 * registration) are not registered: PAGEMAP_SCAN with PM_SCAN_CHECK_WPASYNC
 * fails with EPERM on them, so mem.c dumps them whole and registers them
 * here. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coordinator/mem.h"
#include "util.h"

#define SOCK_NAME "mem-track.sock"
#define FDS_PER_MSG 200 /* below SCM_MAX_FD (253) */

/* Linux 6.7 and 6.4, missing from Debian 12's headers */
#define CR_UFFD_FEATURE_WP_UNPOPULATED (1ull << 13)
#define CR_UFFD_FEATURE_WP_ASYNC       (1ull << 15)

/* Requests to the holder: one byte, then a payload. */
enum {
	OP_BEGIN = 'B',	 /* -> 'I' + id, or 'N'; the id is forgotten */
	OP_FDS = 'F',	 /* + SCM_RIGHTS: hold these -> 'k' */
	OP_COMMIT = 'E', /* + id: the last tracked dump -> 'k' */
};

struct task_uffd {
	pid_t hpid;
	int fd; /* ours, or -1: this task cannot be tracked */
};

struct cr_track {
	int dirfd;  /* the tracking directory */
	int sock;   /* our connection to the holder, -1 before it exists */
	bool had_id;
	uint8_t last_id[CR_DUMP_ID_LEN];
	struct task_uffd *tasks; /* userfaultfds made by this dump */
	size_t n;
};

static void sock_addr(int dirfd, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	/* through the directory fd: a state directory's path may be longer
	 * than sun_path */
	snprintf(a->sun_path, sizeof(a->sun_path), "/proc/self/fd/%d/%s", dirfd, SOCK_NAME);
}

/* One request, one reply byte (and payload). */
static int request(struct cr_track *k, const void *msg, size_t len, const int *fds, size_t nfds,
		   char *reply, uint8_t *payload, size_t plen, struct rt_err **err)
{
	if (cr_send_fds(k->sock, msg, len, fds, nfds) != (ssize_t)len)
		return rt_err_set(err, errno, "tracking: talk to the holder of the userfaultfds");
	uint8_t buf[1 + CR_DUMP_ID_LEN];
	ssize_t n = recv(k->sock, buf, sizeof(buf), 0);
	if (n < 1)
		return rt_err_set(err, n < 0 ? errno : EPIPE,
				  "tracking: no answer from the holder of the userfaultfds");
	*reply = (char)buf[0];
	if (*reply == 'I' && (payload == NULL || (size_t)n != 1 + plen))
		return rt_err_set(err, EPROTO, "tracking: a bad answer from the holder");
	if (payload && *reply == 'I')
		memcpy(payload, buf + 1, plen);
	return 0;
}

/* ---- the holder ---- */

static bool kept(int fd, const int *keep, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

/* Everything but keep[] closed; stdio on /dev/null. */
static void close_others(const int *keep, size_t n)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		int fd = atoi(de->d_name);
		if (de->d_name[0] != '.' && fd != dirfd(d) && !kept(fd, keep, n))
			close(fd);
	}
	if (d)
		closedir(d);
	int null = open("/dev/null", O_RDWR);
	for (int fd = 0; fd < 3 && null >= 0; fd++)
		if (!kept(fd, keep, n))
			dup2(null, fd);
	if (null > 2)
		close(null);
}

/* Answer one client until it hangs up. */
static void serve(int conn, uint8_t id[CR_DUMP_ID_LEN], bool *has_id)
{
	for (;;) {
		uint8_t msg[1 + CR_DUMP_ID_LEN], out[1 + CR_DUMP_ID_LEN];
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(FDS_PER_MSG * sizeof(int))];
		} ctl;
		struct iovec iov = {msg, sizeof(msg)};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf)};
		ssize_t n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
		if (n <= 0)
			return;
		size_t olen = 1;
		out[0] = 'k';
		switch (msg[0]) {
		case OP_BEGIN:
			out[0] = *has_id ? 'I' : 'N';
			if (*has_id) {
				memcpy(out + 1, id, CR_DUMP_ID_LEN);
				olen += CR_DUMP_ID_LEN;
			}
			*has_id = false;
			break;
		case OP_COMMIT:
			*has_id = n == 1 + CR_DUMP_ID_LEN;
			if (*has_id)
				memcpy(id, msg + 1, CR_DUMP_ID_LEN);
			break;
		case OP_FDS: /* the files stay open in this process: that is the point */
			break;
		default:
			out[0] = '?';
		}
		if (send(conn, out, olen, MSG_NOSIGNAL) < 0)
			return;
	}
}

static _Noreturn void holder_main(int lsock, int dirfd, int rootfd, const uint8_t *id)
{
	uint8_t cur[CR_DUMP_ID_LEN];
	bool has_id = true;
	memcpy(cur, id, sizeof(cur));
	prctl(PR_SET_NAME, "ferry-memtrack");
	for (;;) {
		struct pollfd p[2] = {{.fd = lsock, .events = POLLIN}, {.fd = rootfd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break; /* the tree's root exited: nothing left to track */
		if (!(p[0].revents & POLLIN))
			continue;
		int conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0)
			continue;
		serve(conn, cur, &has_id);
		close(conn);
	}
	unlinkat(dirfd, SOCK_NAME, 0);
	_exit(0);
}

/* Start the holder with this dump's userfaultfds and id; it is nobody's
 * child (setsid, double fork) and holds nothing else of ours. */
static int spawn_holder(struct cr_dump_ctx *c, struct cr_track *k, const uint8_t *id,
			struct rt_err **err)
{
	struct sockaddr_un a;
	sock_addr(k->dirfd, &a);
	unlinkat(k->dirfd, SOCK_NAME, 0);
	cleanup_close int lsock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	cleanup_close int rootfd = (int)syscall(SYS_pidfd_open, c->o->root, 0);
	if (lsock < 0 || rootfd < 0 || bind(lsock, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(lsock, 4) < 0)
		return rt_err_set(err, errno, "tracking: start the holder of the userfaultfds");
	size_t nkeep = 0;
	cleanup_free int *keep = xcalloc(k->n + 3, sizeof(int));
	keep[nkeep++] = lsock;
	keep[nkeep++] = k->dirfd;
	keep[nkeep++] = rootfd;
	for (size_t i = 0; i < k->n; i++)
		if (k->tasks[i].fd >= 0)
			keep[nkeep++] = k->tasks[i].fd;
	pid_t pid = fork();
	if (pid < 0)
		return rt_err_set(err, errno, "tracking: fork the holder");
	if (pid == 0) {
		setsid();
		if (fork() != 0)
			_exit(0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int s = 1; s < NSIG; s++)
			signal(s, SIG_DFL);
		close_others(keep, nkeep);
		holder_main(lsock, k->dirfd, rootfd, id);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* ---- the dump's side ---- */

int cr_track_begin(struct cr_dump_ctx *c, struct rt_err **err)
{
	if (c->o->track_dir == NULL)
		return 0;
	struct cr_track *k = xcalloc(1, sizeof(*k));
	k->sock = -1;
	k->dirfd = open(c->o->track_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (k->dirfd < 0) {
		free(k);
		return rt_err_set(err, errno, "tracking directory '%s'", c->o->track_dir);
	}
	c->track = k;
	struct sockaddr_un a;
	sock_addr(k->dirfd, &a);
	k->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (k->sock >= 0 && connect(k->sock, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (errno == ECONNREFUSED) /* a holder that died: its socket */
			unlinkat(k->dirfd, SOCK_NAME, 0);
		close(k->sock);
		k->sock = -1;
	}
	if (k->sock < 0) {
		/* Nothing tracked yet: only a pre-dump starts tracking. */
		if (!c->o->pre_dump)
			cr_track_free(c);
		return 0;
	}
	uint8_t op = OP_BEGIN;
	char reply;
	if (request(k, &op, 1, NULL, 0, &reply, k->last_id, sizeof(k->last_id), err) < 0)
		return -1;
	k->had_id = reply == 'I';
	return 0;
}

bool cr_track_knows(const struct cr_dump_ctx *c, const uint8_t id[CR_DUMP_ID_LEN])
{
	return c->track && c->track->had_id && memcmp(c->track->last_id, id, CR_DUMP_ID_LEN) == 0;
}

int cr_track_register(struct cr_dump_ctx *c, struct cr_dtask *t, unsigned long start,
		      unsigned long end, struct rt_err **err)
{
	struct cr_track *k = c->track;
	/* Only a tree that keeps running is worth tracking further. */
	if (k == NULL || !c->o->leave_running)
		return 0;
	struct task_uffd *u = NULL;
	for (size_t i = 0; i < k->n && u == NULL; i++)
		if (k->tasks[i].hpid == t->hpid)
			u = &k->tasks[i];
	if (u == NULL) {
		int fd;
		if (cr_inj_userfaultfd(&t->inj, t->hpid,
				       CR_UFFD_FEATURE_WP_ASYNC | CR_UFFD_FEATURE_WP_UNPOPULATED, &fd,
				       err) < 0)
			return -1;
		k->tasks = xrealloc(k->tasks, (k->n + 1) * sizeof(*k->tasks));
		u = &k->tasks[k->n++];
		*u = (struct task_uffd){t->hpid, fd};
	}
	struct uffdio_register reg = {
		.range = {.start = start, .len = end - start},
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	return u->fd >= 0 && ioctl(u->fd, UFFDIO_REGISTER, &reg) == 0;
}

int cr_track_commit(struct cr_dump_ctx *c, const uint8_t id[CR_DUMP_ID_LEN],
		    struct rt_err **err)
{
	struct cr_track *k = c->track;
	if (k == NULL || !c->o->leave_running)
		return 0;
	if (k->sock < 0)
		return spawn_holder(c, k, id, err);
	char reply;
	int fds[FDS_PER_MSG];
	size_t nfds = 0;
	uint8_t op = OP_FDS;
	for (size_t i = 0; i <= k->n; i++) {
		if (i < k->n && k->tasks[i].fd >= 0)
			fds[nfds++] = k->tasks[i].fd;
		if ((nfds == FDS_PER_MSG || i == k->n) && nfds > 0) {
			if (request(k, &op, 1, fds, nfds, &reply, NULL, 0, err) < 0)
				return -1;
			nfds = 0;
		}
	}
	uint8_t msg[1 + CR_DUMP_ID_LEN] = {OP_COMMIT};
	memcpy(msg + 1, id, CR_DUMP_ID_LEN);
	return request(k, msg, sizeof(msg), NULL, 0, &reply, NULL, 0, err);
}

void cr_track_free(struct cr_dump_ctx *c)
{
	struct cr_track *k = c->track;
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->n; i++)
		if (k->tasks[i].fd >= 0)
			close(k->tasks[i].fd);
	free(k->tasks);
	if (k->sock >= 0)
		close(k->sock);
	close(k->dirfd);
	free(k);
	c->track = NULL;
}
