#include "foreground.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "terminal.h"
#include "util.h"

static void forwarded_set(sigset_t *set)
{
	sigfillset(set);
	sigdelset(set, SIGKILL);
	sigdelset(set, SIGSTOP);
	sigdelset(set, SIGSEGV);
	sigdelset(set, SIGBUS);
	sigdelset(set, SIGILL);
	sigdelset(set, SIGFPE);
	sigdelset(set, SIGABRT);
	sigdelset(set, SIGPIPE);
}

void rt_foreground_prepare(void)
{
	sigset_t set;
	forwarded_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

/* Reap every child that is done; true once pid is among them. */
static bool reap(pid_t pid, int *status)
{
	for (;;) {
		int st;
		pid_t r = waitpid(-1, &st, WNOHANG);
		if (r <= 0)
			return false;
		if (r == pid) {
			*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			return true;
		}
	}
}

/* One read from `from` written to `to`; false on EOF or error. */
static bool pump(int from, int to)
{
	char buf[16384];
	ssize_t r = read(from, buf, sizeof(buf));
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	return r > 0 && rt_write_all(to, buf, (size_t)r) == 0;
}

static void drain(int master)
{
	struct pollfd p = { .fd = master, .events = POLLIN };
	while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN) && pump(master, STDOUT_FILENO))
		;
}

static void handle_signal(int sfd, pid_t pid, int master, bool tty, bool *done, int *status)
{
	struct signalfd_siginfo si;
	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGCHLD) {
		*done = reap(pid, status);
	} else if (si.ssi_signo == SIGWINCH) {
		if (master >= 0 && tty)
			rt_pty_copy_winsize(STDIN_FILENO, master);
	} else {
		kill(pid, (int)si.ssi_signo);
	}
}

int rt_foreground_wait(pid_t pid, int master, int *status, struct rt_err **err)
{
	sigset_t set;
	forwarded_set(&set);
	cleanup_close int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return rt_err_set(err, errno, "signalfd");
	struct termios saved;
	bool tty = master >= 0 && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (tty) {
		struct termios raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		rt_pty_copy_winsize(STDIN_FILENO, master);
	}
	struct pollfd p[3] = {
		{ .fd = sfd, .events = POLLIN },
		{ .fd = master, .events = POLLIN },
		{ .fd = master >= 0 ? STDIN_FILENO : -1, .events = POLLIN },
	};
	bool done = reap(pid, status);
	while (!done) {
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			handle_signal(sfd, pid, master, tty, &done, status);
		if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(master, STDOUT_FILENO))
			p[1].fd = -1; /* the pty closed; the process exit follows */
		if ((p[2].revents & (POLLIN | POLLHUP)) && !pump(STDIN_FILENO, master))
			p[2].fd = -1; /* our stdin ended; keep relaying output */
	}
	if (master >= 0)
		drain(master);
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return done ? 0 : rt_err_set(err, errno, "wait for pid %d", pid);
}
