/* OCI hooks: fork + execve each hook with the state JSON on a pipe as its
 * stdin. One poll loop feeds that pipe (non-blocking, so a hook that never
 * reads cannot stall us) and watches a pidfd for the hook's exit and the clock
 * for its timeout. No signal handlers are installed: SIGPIPE is only blocked
 * around the writes, and one we caused is consumed before unblocking. */
#include "oci/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* Without pidfd_open (kernel < 5.3) the loop polls waitpid this often. */
#define HOOK_REAP_POLL_MS 10

struct hook_proc {
	pid_t pid;
	int pidfd; /* -1: fall back to polling waitpid */
	int in_fd; /* write end of the hook's stdin; -1 once closed */
	const char *data;
	size_t len, off;
	bool epipe; /* a write raised SIGPIPE (blocked) */
};

static int pidfd_open_compat(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* In the child, between fork and execve: async-signal-safe calls only. */
__attribute__((noreturn)) static void child_exec(const char *path,
						 char *const *argv,
						 char *const *envp, int in_fd,
						 int report_fd)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL); /* an ignored SIGPIPE would survive exec */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* dup2 onto itself would keep the close-on-exec flag. */
	int in_ok = in_fd == STDIN_FILENO ? fcntl(in_fd, F_SETFD, 0) :
					    dup2(in_fd, STDIN_FILENO);
	if (in_ok >= 0) {
		/* The runtime's own fds (consoles, sync pipes) are none of the
		 * hook's business. On old kernels they stay inherited. */
		close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		execve(path, argv, envp);
	}
	int e = errno;
	ssize_t w = write(report_fd, &e, sizeof(e));
	(void)w;
	_exit(127);
}

/* Start the hook; on success hp->pid and hp->in_fd are set. An execve
 * failure comes back over a close-on-exec pipe as the child's errno. */
static int spawn_hook(const struct oci_hook *h, struct hook_proc *hp,
		      struct rt_err **err)
{
	char *const path_only[] = { h->path, NULL };
	char *const no_env[] = { NULL };
	char *const *argv = h->args && h->args[0] ? h->args : path_only;
	char *const *envp = h->env ? h->env : no_env;

	int in_pipe[2], report[2];
	if (pipe2(in_pipe, O_CLOEXEC) < 0)
		return rt_err_set(err, errno, "pipe");
	cleanup_close int in_r = in_pipe[0], in_w = in_pipe[1];
	if (pipe2(report, O_CLOEXEC) < 0)
		return rt_err_set(err, errno, "pipe");
	cleanup_close int rep_r = report[0], rep_w = report[1];

	pid_t pid = fork();
	if (pid < 0)
		return rt_err_set(err, errno, "fork");
	if (pid == 0)
		child_exec(h->path, argv, envp, in_r, rep_w);

	rt_closep(&rep_w);
	rt_closep(&in_r);
	int child_errno = 0;
	ssize_t n = rt_read_all(rep_r, &child_errno, sizeof(child_errno));
	if (n == (ssize_t)sizeof(child_errno)) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return rt_err_set(err, child_errno, "exec");
	}
	if (fcntl(in_w, F_SETFL, O_NONBLOCK) < 0) {
		int e = errno;
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return rt_err_set(err, e, "set stdin pipe non-blocking");
	}
	hp->pid = pid;
	hp->pidfd = pidfd_open_compat(pid);
	hp->in_fd = steal_fd(&in_w);
	return 0;
}

/* Write what the pipe takes now; stop feeding once it is all written or the
 * hook stopped reading (EPIPE: a hook may ignore its stdin). */
static void feed_stdin(struct hook_proc *hp)
{
	while (hp->off < hp->len) {
		ssize_t w = write(hp->in_fd, hp->data + hp->off, hp->len - hp->off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w < 0) {
			hp->epipe = errno == EPIPE;
			break;
		}
		hp->off += (size_t)w;
	}
	rt_closep(&hp->in_fd);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pid_t reap(pid_t pid, int flags, int *status)
{
	pid_t r;
	while ((r = waitpid(pid, status, flags)) < 0 && errno == EINTR)
		;
	return r;
}

/* Poll timeout for the next round: the time left before the deadline
 * (deadline < 0: none), capped when there is no pidfd to wake us. */
static int next_wait_ms(const struct hook_proc *hp, long long deadline)
{
	long long wait = -1;
	if (deadline >= 0) {
		wait = deadline - now_ms();
		if (wait < 0)
			wait = 0;
	}
	if (hp->pidfd < 0 && (wait < 0 || wait > HOOK_REAP_POLL_MS))
		wait = HOOK_REAP_POLL_MS;
	return wait > INT_MAX ? INT_MAX : (int)wait;
}

/* Feed stdin and wait for the hook to exit or its deadline to pass. */
static int wait_hook(struct hook_proc *hp, const struct oci_hook *h,
		     int *status, struct rt_err **err)
{
	long long deadline = h->has_timeout && h->timeout > 0 ?
				     now_ms() + (long long)h->timeout * 1000 :
				     -1;
	if (hp->len == 0)
		rt_closep(&hp->in_fd);
	for (;;) {
		struct pollfd fds[2];
		nfds_t n = 0;
		if (hp->pidfd >= 0)
			fds[n++] = (struct pollfd){ .fd = hp->pidfd, .events = POLLIN };
		if (hp->in_fd >= 0)
			fds[n++] = (struct pollfd){ .fd = hp->in_fd, .events = POLLOUT };
		int r = poll(fds, n, next_wait_ms(hp, deadline));
		if (r < 0 && errno != EINTR) {
			int e = errno;
			kill(hp->pid, SIGKILL);
			reap(hp->pid, 0, status);
			return rt_err_set(err, e, "poll");
		}
		if (hp->in_fd >= 0 && r > 0 && fds[n - 1].revents)
			feed_stdin(hp);
		/* With a pidfd, only reap once it says the hook is gone. */
		if (hp->pidfd < 0 || (r > 0 && fds[0].revents)) {
			pid_t w = reap(hp->pid, WNOHANG, status);
			if (w == hp->pid)
				return 0;
			if (w < 0) /* reaped behind our back */
				return rt_err_set(err, errno, "wait");
		}
		if (deadline >= 0 && now_ms() >= deadline) {
			kill(hp->pid, SIGKILL);
			reap(hp->pid, 0, status);
			return rt_err_set(err, 0, "timed out after %ds", h->timeout);
		}
	}
}

static int check_status(int status, struct rt_err **err)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return rt_err_set(err, 0, "exited with status %d",
				  WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return rt_err_set(err, 0, "killed by signal %d (%s)",
				  WTERMSIG(status), strsignal(WTERMSIG(status)));
	return rt_err_set(err, 0, "ended with wait status 0x%x", status);
}

static int run_hook(const struct oci_hook *h, const char *state_json,
		    struct rt_err **err)
{
	struct hook_proc hp = {
		.pidfd = -1,
		.in_fd = -1,
		.data = state_json ? state_json : "",
		.len = state_json ? strlen(state_json) : 0,
	};
	sigset_t pipe_set, old_mask, pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
	sigpending(&pending);
	bool was_pending = sigismember(&pending, SIGPIPE);

	int status = 0;
	int ret = spawn_hook(h, &hp, err);
	if (ret == 0)
		ret = wait_hook(&hp, h, &status, err);
	rt_closep(&hp.in_fd);
	rt_closep(&hp.pidfd);

	if (hp.epipe && !was_pending) {
		struct timespec zero = { 0, 0 };
		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (ret < 0)
		return -1;
	return check_status(status, err);
}

int oci_hooks_run(const struct oci_hook_list *list, enum oci_hook_kind kind,
		  const char *state_json, struct rt_err **err)
{
	for (size_t i = 0; list && i < list->n; i++) {
		const struct oci_hook *h = &list->hooks[i];
		int r = h->path ? run_hook(h, state_json, err) :
				  rt_err_set(err, 0, "no path");
		if (r < 0)
			return rt_err_wrap(err, "%s hook[%zu] '%s'",
					   oci_hook_kind_name(kind), i,
					   h->path ? h->path : "");
	}
	return 0;
}
