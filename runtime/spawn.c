#include "spawn.h"

#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "namespaces.h"
#include "oci/hooks.h"
#include "util.h"

int rt_sync_send(int fd, enum rt_sync_type type, const char *text)
{
	size_t n = text ? strlen(text) : 0;
	char *buf = xmalloc(n + 1);
	buf[0] = (char)type;
	if (n)
		memcpy(buf + 1, text, n);
	ssize_t w = send(fd, buf, n + 1, MSG_NOSIGNAL);
	free(buf);
	return w == (ssize_t)(n + 1) ? 0 : -1;
}

int rt_sync_recv(int fd, char **text)
{
	char buf[8192];
	ssize_t r;
	do
		r = recv(fd, buf, sizeof(buf) - 1, 0);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return (int)r;
	buf[r] = '\0';
	if (text)
		*text = xstrdup(buf + 1);
	return (unsigned char)buf[0];
}

/* fork()-like clone3 that puts the child straight into its new namespaces. */
static pid_t clone_into(unsigned long flags)
{
	struct clone_args args = { .flags = flags, .exit_signal = SIGCHLD };
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

/* Joining a pid namespace only affects children, so a helper joins every
 * namespace named by path, clones the init, reports its pid and exits. */
static _Noreturn void join_helper(struct rt_spawn *sp, unsigned long flags)
{
	struct rt_err *err = NULL;
	if (rt_ns_join(&sp->config->linux_, sp->join_fds, &err) < 0) {
		rt_sync_send(sp->sync_fd, RT_SYNC_ERROR, err->msg);
		_exit(1);
	}
	pid_t pid = clone_into(flags);
	if (pid == 0)
		rt_init_main(sp);
	if (pid < 0) {
		cleanup_free char *m = xasprintf("clone the container init: %s",
						 strerror(errno));
		rt_sync_send(sp->sync_fd, RT_SYNC_ERROR, m);
		_exit(1);
	}
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", pid);
	rt_sync_send(sp->sync_fd, RT_SYNC_PID, buf);
	_exit(0);
}

static int start_child(struct rt_spawn *sp, int parent_end, pid_t *pid,
		       struct rt_err **err)
{
	unsigned long flags = rt_ns_clone_flags(&sp->config->linux_);
	sp->child_is_ours = !rt_ns_has_joins(&sp->config->linux_);
	pid_t child = sp->child_is_ours ? clone_into(flags) : fork();
	if (child < 0)
		return rt_err_set(err, errno, "clone the container init (flags %#lx)", flags);
	if (child == 0) {
		close(parent_end);
		if (sp->child_is_ours)
			rt_init_main(sp);
		join_helper(sp, flags);
	}
	if (sp->child_is_ours) {
		*pid = child;
		return 0;
	}
	int status;
	waitpid(child, &status, 0);
	cleanup_free char *text = NULL;
	int type = rt_sync_recv(parent_end, &text);
	long long v;
	if (type == RT_SYNC_PID && rt_parse_int64(text, &v) == 0) {
		*pid = (pid_t)v;
		return 0;
	}
	if (type == RT_SYNC_ERROR)
		return rt_err_set(err, 0, "%s", text);
	return rt_err_set(err, 0, "the namespace-joining helper exited without "
			  "creating the init");
}

static int run_create_hooks(struct rt_spawn *sp, struct rt_err **err)
{
	const struct oci_config *c = sp->config;
	cleanup_free char *json = oci_state_public_json(sp->state, "creating", false);
	if (oci_hooks_run(&c->hooks[OCI_HOOK_PRESTART], OCI_HOOK_PRESTART, json, err) < 0)
		return -1;
	return oci_hooks_run(&c->hooks[OCI_HOOK_CREATE_RUNTIME],
			     OCI_HOOK_CREATE_RUNTIME, json, err);
}

/* Answer the init's sync points until it is READY. */
static int drive_init(struct rt_spawn *sp, int fd, struct rt_err **err)
{
	for (;;) {
		cleanup_free char *text = NULL;
		int type = rt_sync_recv(fd, &text);
		switch (type) {
		case RT_SYNC_READY:
			return 0;
		case RT_SYNC_HOOKS:
			if (run_create_hooks(sp, err) < 0)
				return -1;
			if (rt_sync_send(fd, RT_SYNC_HOOKS_DONE, NULL) < 0)
				return rt_err_set(err, errno, "resume the container init");
			break;
		case RT_SYNC_ERROR:
			return rt_err_set(err, 0, "%s", text);
		case 0:
			return rt_err_set(err, 0, "the container init exited during set-up");
		default:
			return rt_err_set(err, errno, "read from the container init");
		}
	}
}

static int release_init(struct rt_spawn *sp, pid_t pid, int fd, struct rt_err **err)
{
	const struct oci_linux *l = &sp->config->linux_;
	if (rt_ns_wants_new(l, CLONE_NEWUSER) && rt_ns_write_idmaps(pid, l, err) < 0)
		return -1;
	if (rt_cgroup_enter(sp->cgroup, pid, err) < 0)
		return -1;
	if (rt_sync_send(fd, RT_SYNC_GO, NULL) < 0)
		return rt_err_set(err, errno, "start the container init");
	return drive_init(sp, fd, err);
}

int rt_spawn_init(struct rt_spawn *sp, pid_t *pid_out, struct rt_err **err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return rt_err_set(err, errno, "socketpair");
	cleanup_close int parent_end = sv[0];
	sp->sync_fd = sv[1];
	if (rt_ns_open_joins(&sp->config->linux_, &sp->join_fds, err) < 0) {
		close(sv[1]);
		return -1;
	}
	pid_t pid = 0;
	int ret = start_child(sp, parent_end, &pid, err);
	close(sv[1]);
	rt_ns_close_joins(&sp->config->linux_, sp->join_fds);
	sp->join_fds = NULL;
	if (ret < 0)
		return -1;
	sp->state->pid = pid;
	if (release_init(sp, pid, parent_end, err) < 0) {
		kill(pid, SIGKILL);
		if (sp->child_is_ours)
			waitpid(pid, NULL, 0);
		return -1;
	}
	*pid_out = pid;
	if (sp->restore)
		sp->agent_fd = steal_fd(&parent_end);
	return 0;
}
