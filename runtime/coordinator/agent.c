/* The restore agent: what every restored task runs until it is morphed.
 * A command loop on a SOCK_SEQPACKET unix socket; each command is one
 * fixed-size message (an fd may ride along with SCM_RIGHTS), each answer is
 * {result, errno} (plus the child's socket and pidfd for CLONE). Topology:
 * one socketpair per task, made by its parent's agent at CLONE; the
 * coordinator gets its end back in the answer. Agents live in the tree's
 * pid namespace: pids in commands and results are vpids, and the pidfd
 * tells the coordinator the child's hpid (pidns.c). The agent never allocates
 * after start and keeps its socket at a number the coordinator picks, past
 * every dumped fd. The coordinator seizes it while it waits in recvmsg. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coordinator/internal.h"
#include "util.h"

#define AGENT_MAX_FDS 4096
#define MSG_MAX_FDS 2

struct agent_msg {
	int32_t cmd;
	int32_t pad;
	int64_t a0, a1;
};

struct agent_reply {
	int64_t ret;
	int32_t err;
	int32_t pad;
};

ssize_t cr_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t n)
{
	struct iovec iov = { (void *)buf, len };
	union {
		char buf[CMSG_SPACE(CR_SEND_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (n > CR_SEND_MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	if (n > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	}
	ssize_t r;
	do
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r;
}

static ssize_t send_with_fd(int sock, const void *buf, size_t len, int fd)
{
	return cr_send_fds(sock, buf, len, &fd, fd >= 0 ? 1 : 0);
}

/* Fills fds[0..MSG_MAX_FDS) with what came along, -1 for none. */
static ssize_t recv_fds(int sock, void *buf, size_t len, int *fds)
{
	struct iovec iov = { buf, len };
	union {
		char buf[CMSG_SPACE(MSG_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	ssize_t r;
	do
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	for (size_t i = 0; i < MSG_MAX_FDS; i++)
		fds[i] = -1;
	struct cmsghdr *cm = r > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len >= CMSG_LEN(0)) {
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds, CMSG_DATA(cm), (n < MSG_MAX_FDS ? n : MSG_MAX_FDS) * sizeof(int));
	}
	return r;
}

static ssize_t recv_with_fd(int sock, void *buf, size_t len, int *fd)
{
	int fds[MSG_MAX_FDS];
	ssize_t r = recv_fds(sock, buf, len, fds);
	*fd = fds[0];
	for (size_t i = 1; i < MSG_MAX_FDS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}

/* One round trip; rfds[0..n_rfds) get the fds of the answer (-1 for none),
 * the rest are closed. */
static int agent_call(int sock, pid_t pid, const char *what, int cmd, int fd,
		      int64_t a0, int64_t a1, int64_t *ret, int *rfds, size_t n_rfds,
		      struct rt_err **err)
{
	struct agent_msg m = { .cmd = cmd, .a0 = a0, .a1 = a1 };
	struct agent_reply r;
	int got[MSG_MAX_FDS];
	if (send_with_fd(sock, &m, sizeof(m), fd) != sizeof(m))
		return rt_err_set(err, errno, "pid %d: %s: the restore agent is gone", pid, what);
	ssize_t n = recv_fds(sock, &r, sizeof(r), got);
	int e = n < 0 ? errno : EPIPE;
	for (size_t i = 0; i < MSG_MAX_FDS; i++) {
		bool keep = i < n_rfds && n == sizeof(r);
		if (i < n_rfds)
			rfds[i] = keep ? got[i] : -1;
		if (!keep && got[i] >= 0)
			close(got[i]);
	}
	if (n != sizeof(r))
		return rt_err_set(err, e, "pid %d: %s: no answer from the restore agent",
				  pid, what);
	if (r.ret < 0)
		return rt_err_set(err, r.err, "pid %d: %s", pid, what);
	if (ret)
		*ret = r.ret;
	return 0;
}

int cr_agent_call(int sock, pid_t pid, const char *what, int cmd, int fd,
		  int64_t a0, int64_t a1, int64_t *ret, int *rfd,
		  struct rt_err **err)
{
	return agent_call(sock, pid, what, cmd, fd, a0, a1, ret, rfd, rfd ? 1 : 0, err);
}

int cr_agent_clone(int sock, pid_t pid, pid_t vpid, int *child_sock, int *pidfd,
		   struct rt_err **err)
{
	int fds[MSG_MAX_FDS] = { -1, -1 };
	int64_t got = 0;
	int ret = agent_call(sock, pid, "create a child", CR_AG_CLONE, -1, vpid, 0, &got,
			     fds, MSG_MAX_FDS, err);
	*child_sock = fds[0];
	*pidfd = fds[1];
	if (ret < 0)
		return -1;
	if (got != vpid || fds[0] < 0 || fds[1] < 0)
		return rt_err_set(err, 0, "pid %d: its child %d was created as %ld", pid,
				  vpid, (long)got);
	return 0;
}

/* ---- the agent side: no allocation, no stdio ---- */

struct agent {
	int sock;
	size_t n_fds;
	int fds[AGENT_MAX_FDS];
};

static _Noreturn void die_like(int status)
{
	if (WIFSIGNALED(status)) {
		signal(WTERMSIG(status), SIG_DFL);
		kill(getpid(), WTERMSIG(status));
	}
	_exit(WEXITSTATUS(status));
}

/* The child gets pid `pid` in our pid namespace; out_fds: its socket and
 * its pidfd. */
static long ag_clone(struct agent *ag, pid_t pid, int *out_fds)
{
	int sv[2], pidfd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	uint64_t tid = (uint64_t)pid;
	struct clone_args a = { .flags = CLONE_PIDFD, .pidfd = (uintptr_t)&pidfd,
				.exit_signal = SIGCHLD, .set_tid = (uintptr_t)&tid,
				.set_tid_size = 1 };
	long r = syscall(SYS_clone3, &a, sizeof(a));
	if (r == 0) {
		close(sv[0]);
		close(ag->sock);
		cr_restore_agent(sv[1]);
	}
	close(sv[1]);
	if (r < 0) {
		close(sv[0]);
		return -1;
	}
	out_fds[0] = sv[0];
	out_fds[1] = pidfd;
	return r;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Close every fd that was not installed, except our socket. */
static long ag_close_others(struct agent *ag)
{
	ag->fds[ag->n_fds] = ag->sock;
	size_t n = ag->n_fds + 1;
	qsort(ag->fds, n, sizeof(int), cmp_int);
	unsigned from = 0;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)ag->fds[i] > from)
			syscall(SYS_close_range, from, (unsigned)ag->fds[i] - 1, 0);
		from = (unsigned)ag->fds[i] + 1;
	}
	return syscall(SYS_close_range, from, ~0u, 0);
}

static long ag_dup(struct agent *ag, int fd, int to, int flags)
{
	if (fd < 0 || ag->n_fds + 1 >= AGENT_MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	long r = fd == to ? fcntl(fd, F_SETFD, flags ? FD_CLOEXEC : 0) : dup3(fd, to, flags);
	if (fd != to)
		close(fd);
	if (r >= 0)
		ag->fds[ag->n_fds++] = to;
	return r < 0 ? -1 : 0;
}

/* The tty becomes our (a session leader's) controlling terminal, with
 * group fg in front (0: ours, as TIOCSCTTY leaves it). */
static long ag_ctty(int fd, pid_t fg)
{
	long r = fd < 0 ? -1 : ioctl(fd, TIOCSCTTY, 0);
	if (r == 0 && fg > 0)
		r = ioctl(fd, TIOCSPGRP, &fg);
	if (fd >= 0)
		close(fd);
	return r;
}

static long ag_do(struct agent *ag, const struct agent_msg *m, int fd, int *out_fds)
{
	switch (m->cmd) {
	case CR_AG_SOCKFD: {
		int n = (int)m->a0;
		if (n == ag->sock)
			return 0;
		if (dup3(ag->sock, n, O_CLOEXEC) < 0)
			return -1;
		close(ag->sock);
		ag->sock = n;
		return 0;
	}
	case CR_AG_CLONE:
		return ag_clone(ag, (pid_t)m->a0, out_fds);
	case CR_AG_SETSID:
		return getsid(0) == getpid() ? 0 : setsid();
	case CR_AG_SETPGID:
		return setpgid(0, (pid_t)m->a0);
	case CR_AG_DUP:
		return ag_dup(ag, fd, (int)m->a0, (int)m->a1);
	case CR_AG_CLOSE_OTHERS:
		return ag_close_others(ag);
	case CR_AG_EXIT:
		die_like((int)m->a0);
	case CR_AG_CTTY:
		return ag_ctty(fd, (pid_t)m->a0);
	case CR_AG_OPEN_TTY:
		out_fds[0] = open("/dev/tty", (int)m->a0 | O_NOCTTY | O_CLOEXEC);
		return out_fds[0] < 0 ? -1 : 0;
	default:
		errno = EINVAL;
		return -1;
	}
}

/* Every action back to the kernel's initial one (SIG_DFL, no flags, no
 * restorer, no mask; what execve leaves): the runtime's handlers go, zombies
 * we create stay zombies (SIGCHLD), and restore injects only the dumped
 * actions that differ from it (signals.c). Our children inherit it. */
static void reset_signals(void)
{
	static const uint64_t initial[4];
	for (int sig = 1; sig <= CR_NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, initial, NULL, 8);
}

_Noreturn void cr_restore_agent(int sock)
{
	static struct agent ag;
	ag.sock = sock;
	ag.n_fds = 0;
	reset_signals();
	for (;;) {
		struct agent_msg m;
		int fd = -1, out_fds[MSG_MAX_FDS] = { -1, -1 };
		ssize_t n = recv_with_fd(ag.sock, &m, sizeof(m), &fd);
		if (n == 0 || (n < 0 && errno != EINTR))
			_exit(0); /* the coordinator went away */
		if (n != sizeof(m)) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		errno = 0;
		struct agent_reply r = { .ret = ag_do(&ag, &m, fd, out_fds) };
		r.err = r.ret < 0 ? errno : 0;
		size_t n_out = out_fds[1] >= 0 ? 2 : out_fds[0] >= 0 ? 1 : 0;
		cr_send_fds(ag.sock, &r, sizeof(r), out_fds, n_out);
		for (size_t i = 0; i < MSG_MAX_FDS; i++)
			if (out_fds[i] >= 0)
				close(out_fds[i]);
	}
}
