#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int rt_pty_open(int *master, int *slave, unsigned rows, unsigned cols,
		struct rt_err **err)
{
	cleanup_close int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return rt_err_set(err, errno, "open '/dev/ptmx'");
	int unlock = 0;
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0)
		return rt_err_set(err, errno, "unlock the pty");
	int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (s < 0)
		return rt_err_set(err, errno, "open the pty slave");
	if (rows || cols) {
		struct winsize ws = { .ws_row = (unsigned short)rows,
				      .ws_col = (unsigned short)cols };
		ioctl(s, TIOCSWINSZ, &ws);
	}
	*master = steal_fd(&m);
	*slave = s;
	return 0;
}

int rt_pty_bind_console(int master, struct rt_err **err)
{
	unsigned n;
	if (ioctl(master, TIOCGPTN, &n) < 0)
		return rt_err_set(err, errno, "get the pty number");
	char slave[64];
	snprintf(slave, sizeof(slave), "/dev/pts/%u", n);
	int fd = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	if (mount(slave, "/dev/console", NULL, MS_BIND, NULL) < 0)
		return rt_err_set(err, errno, "bind '%s' on /dev/console", slave);
	return 0;
}

/* The child's half: join, bind, and write what failed to `report`. */
static _Noreturn void bind_console_child(int ns, pid_t pid, int master, int report)
{
	struct rt_err *e = NULL;
	if (setns(ns, CLONE_NEWNS) < 0)
		rt_err_set(&e, errno, "join the mount namespace of pid %d", pid);
	else
		rt_pty_bind_console(master, &e);
	if (e)
		rt_write_all(report, e->msg, strlen(e->msg));
	_exit(e ? 1 : 0);
}

int rt_pty_bind_console_in(pid_t pid, int master, struct rt_err **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
	cleanup_close int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return rt_err_set(err, errno, "open '%s'", path);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return rt_err_set(err, errno, "pipe");
	cleanup_close int report = p[0];
	pid_t child = fork();
	if (child == 0)
		bind_console_child(ns, pid, master, p[1]);
	close(p[1]);
	if (child < 0)
		return rt_err_set(err, errno, "fork");
	char msg[512];
	ssize_t n = rt_read_all(report, msg, sizeof(msg) - 1);
	int status = 0;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	msg[n > 0 ? n : 0] = '\0';
	return rt_err_set(err, 0, "%s", n > 0 ? msg : "bind /dev/console: the helper died");
}

int rt_pty_become_console(int slave, struct rt_err **err)
{
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return rt_err_set(err, errno, "make the pty the controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return rt_err_set(err, errno, "dup the pty to fd %d", fd);
	if (slave > 2)
		close(slave);
	return 0;
}

int rt_send_fd(int sock, int fd, const char *name, struct rt_err **err)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		return rt_err_set(err, errno, "send the pty master to the console socket");
	return 0;
}

int rt_recv_fd(int sock, int *fd, struct rt_err **err)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char name[4096];
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t r;
	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return rt_err_set(err, errno, "receive the pty master");
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c == NULL || c->cmsg_type != SCM_RIGHTS)
		return rt_err_set(err, EPROTO, "receive the pty master: no fd in message");
	memcpy(fd, CMSG_DATA(c), sizeof(int));
	return 0;
}

int rt_console_socket_connect(const char *path, struct rt_err **err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path))
		return rt_err_set(err, ENAMETOOLONG, "console socket '%s'", path);
	strcpy(addr.sun_path, path);
	cleanup_close int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return rt_err_set(err, errno, "socket");
	if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return rt_err_set(err, errno, "connect to console socket '%s'", path);
	return steal_fd(&s);
}

void rt_pty_copy_winsize(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}
