/* Creating objects inside a task's network and mount namespaces: sockets
 * must live in the container's netns (its loopback, its unix names), and
 * named sockets and ptys need its file system. A forked child joins them,
 * builds the objects and sends them back with SCM_RIGHTS; the coordinator
 * itself never changes namespace. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coordinator/fdkind.h"
#include "util.h"

#define NS_MAX_FDS 8

struct ns_reply {
	int32_t err;
	uint32_t n;
	char msg[200];
};

int cr_ns_fail(char *msg, const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(((struct ns_reply *)0)->msg), fmt, ap);
	va_end(ap);
	return e ? e : EIO;
}

static int join(pid_t pid, const char *ns, int type)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = setns(fd, type);
	close(fd);
	return r;
}

static _Noreturn void child(pid_t pid, int sock,
			    int (*fn)(void *arg, int *fds, size_t *n, char *msg), void *arg,
			    size_t max)
{
	struct ns_reply r = {0};
	int fds[NS_MAX_FDS];
	size_t n = 0;
	if (join(pid, "net", CLONE_NEWNET) < 0) {
		r.err = errno;
		snprintf(r.msg, sizeof(r.msg), "join the network namespace of pid %d", pid);
	} else if (join(pid, "mnt", CLONE_NEWNS) < 0) {
		r.err = errno;
		snprintf(r.msg, sizeof(r.msg), "join the mount namespace of pid %d", pid);
	} else {
		r.err = fn(arg, fds, &n, r.msg);
	}
	if (r.err || n > max || n > NS_MAX_FDS)
		n = 0;
	r.n = (uint32_t)n;
	_exit(cr_send_fds(sock, &r, sizeof(r), fds, n) == sizeof(r) ? 0 : 1);
}

int cr_in_task_ns(pid_t pid, int (*fn)(void *arg, int *fds, size_t *n, char *msg), void *arg,
		  int *fds, size_t max, size_t *n, struct rt_err **err)
{
	int sv[2];
	*n = 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return rt_err_set(err, errno, "socketpair");
	pid_t c = fork();
	if (c < 0) {
		close(sv[0]), close(sv[1]);
		return rt_err_set(err, errno, "fork");
	}
	if (c == 0) {
		close(sv[0]);
		child(pid, sv[1], fn, arg, max);
	}
	close(sv[1]);
	cleanup_close int sock = sv[0];
	struct ns_reply r;
	struct iovec iov = {&r, sizeof(r)};
	union {
		char buf[CMSG_SPACE(NS_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	ssize_t got;
	do
		got = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (got < 0 && errno == EINTR);
	int e = errno, status = 0;
	while (waitpid(c, &status, 0) < 0 && errno == EINTR)
		;
	struct cmsghdr *cm = got > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
	size_t nfd = 0;
	int tmp[NS_MAX_FDS];
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfd > NS_MAX_FDS)
			nfd = NS_MAX_FDS;
		memcpy(tmp, CMSG_DATA(cm), nfd * sizeof(int));
	}
	if (got != (ssize_t)sizeof(r) || r.err || nfd != r.n || nfd > max) {
		for (size_t i = 0; i < nfd; i++)
			close(tmp[i]);
		if (got != (ssize_t)sizeof(r))
			return rt_err_set(err, got < 0 ? e : EPIPE,
					  "the helper in pid %d's "
					  "namespaces died",
					  pid);
		r.msg[sizeof(r.msg) - 1] = '\0';
		return rt_err_set(err, r.err ? r.err : EPROTO, "%s", r.msg);
	}
	memcpy(fds, tmp, nfd * sizeof(int));
	*n = nfd;
	return 0;
}
