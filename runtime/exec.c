/* exec: a new process inside a running container. We join its pid
 * namespace (for our children only), fork, put the child in the container's
 * cgroups, and the child joins the other namespaces through a pidfd of the
 * container's init and becomes the requested process. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include "container.h"
#include "foreground.h"
#include "namespaces.h"
#include "process.h"
#include "spawn.h"
#include "terminal.h"
#include "util.h"

struct exec_ctx {
	const struct rt_exec_opts *o;
	struct oci_config *config;
	const struct oci_process *process;
	int pidfd;   /* the container's init */
	int rootfd;  /* its root directory */
	int sync_fd; /* child end */
	int console_fd;
	unsigned long ns_flags; /* namespaces the container does not share with us */
};

/* runc's rules for exec without --process: the container's process with the
 * command line's args, extra env, cwd, user and capabilities. */
static void merge_process(struct oci_process *p, const struct rt_exec_opts *o)
{
	rt_strv_free(p->args);
	p->args = rt_strv_dup(o->args);
	for (size_t i = 0; o->env && o->env[i]; i++)
		rt_env_set(&p->env, o->env[i]);
	if (o->cwd) {
		free(p->cwd);
		p->cwd = xstrdup(o->cwd);
	}
	if (o->has_user) {
		p->user.uid = o->uid;
		p->user.gid = o->gid;
	}
	if (o->n_additional_gids) {
		free(p->user.additional_gids);
		p->user.additional_gids = xcalloc(o->n_additional_gids, sizeof(gid_t));
		memcpy(p->user.additional_gids, o->additional_gids,
		       o->n_additional_gids * sizeof(gid_t));
		p->user.n_additional_gids = o->n_additional_gids;
	}
	if (o->add_caps && p->has_caps) {
		p->caps.bounding |= o->add_caps;
		p->caps.effective |= o->add_caps;
		p->caps.permitted |= o->add_caps;
		if (p->caps.inheritable) {
			p->caps.inheritable |= o->add_caps;
			p->caps.ambient |= o->add_caps;
		}
	}
	if (o->no_new_privs)
		p->no_new_privileges = true;
	p->terminal = o->tty;
}

static int child_setup(struct exec_ctx *x, char **exe, struct rt_err **err)
{
	if (rt_sync_recv(x->sync_fd, NULL) != RT_SYNC_GO)
		return rt_err_set(err, 0, "the runtime went away");
	if (x->ns_flags && setns(x->pidfd, (int)x->ns_flags) < 0)
		return rt_err_set(err, errno, "join the container's namespaces (%#lx)",
				  x->ns_flags);
	if (fchdir(x->rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return rt_err_set(err, errno, "enter the container's root");
	if (setsid() < 0)
		return rt_err_set(err, errno, "setsid");
	const struct oci_process *p = x->process;
	if (p->terminal) {
		int master, slave;
		if (rt_pty_open(&master, &slave, p->console_height, p->console_width, err) < 0)
			return -1;
		int r = rt_send_fd(x->console_fd, master, "/dev/ptmx", err);
		close(master);
		if (r < 0 || rt_pty_become_console(slave, err) < 0)
			return -1;
	}
	const struct oci_linux *l = &x->config->linux_;
	if (rt_process_limits(p, l->has_personality, l->personality, err) < 0 ||
	    rt_process_lookup(p, exe, err) < 0)
		return -1;
	return rt_process_identity(p, l->seccomp, err);
}

static _Noreturn void child_main(struct exec_ctx *x)
{
	struct rt_err *err = NULL;
	char *exe = NULL;
	if (child_setup(x, &exe, &err) == 0) {
		char **env = rt_process_env(x->process);
		int first = 3 + (x->o->preserve_fds > 0 ? x->o->preserve_fds : 0);
		for (int fd = 3; fd < first; fd++)
			fcntl(fd, F_SETFD, 0);
		syscall(SYS_close_range, first, ~0u, CLOSE_RANGE_CLOEXEC);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(exe, x->process->args, env);
		rt_err_set(&err, errno, "exec '%s'", exe);
	}
	rt_sync_send(x->sync_fd, RT_SYNC_ERROR, err->msg);
	_exit(127);
}

static unsigned long container_ns_flags(const struct oci_linux *l)
{
	unsigned long f = 0;
	for (size_t i = 0; i < l->n_namespaces; i++)
		f |= (unsigned long)l->namespaces[i].type;
	return f;
}

/* Fork the child, admit it to the cgroups, and learn whether execve worked. */
static int spawn_child(struct exec_ctx *x, struct rt_container *c, pid_t *pid,
		       struct rt_err **err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return rt_err_set(err, errno, "socketpair");
	cleanup_close int ours = sv[0];
	x->sync_fd = sv[1];
#ifdef __SANITIZE_ADDRESS__
	/* LeakSanitizer's check at exit clones a tracer, which would be born
	 * in the container's pid namespace, unable to see us, and leave us
	 * spinning: check for leaks now (that also skips the one at exit). */
	if (x->ns_flags & CLONE_NEWPID)
		__lsan_do_leak_check();
#endif
	if ((x->ns_flags & CLONE_NEWPID) && setns(x->pidfd, CLONE_NEWPID) < 0) {
		close(sv[1]);
		return rt_err_set(err, errno, "join the container's pid namespace");
	}
	x->ns_flags &= ~(unsigned long)CLONE_NEWPID;
	pid_t child = fork();
	if (child == 0) {
		close(ours);
		child_main(x);
	}
	close(sv[1]);
	if (child < 0)
		return rt_err_set(err, errno, "fork");
	if (rt_cgroup_enter(c->cgroup, child, err) < 0 ||
	    rt_sync_send(ours, RT_SYNC_GO, NULL) < 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		return rt_err_set(err, errno, "start the exec process");
	}
	cleanup_free char *text = NULL;
	if (rt_sync_recv(ours, &text) == RT_SYNC_ERROR) {
		waitpid(child, NULL, 0);
		return rt_err_set(err, 0, "%s", text);
	}
	*pid = child; /* EOF: the sync socket closed on a successful execve */
	return 0;
}

static int check_status(struct rt_container *c, const struct rt_exec_opts *o,
			struct rt_err **err)
{
	const char *status = rt_container_status(c);
	if (strcmp(status, "stopped") == 0)
		return rt_err_set(err, 0, "cannot exec in a stopped container");
	if (strcmp(status, "paused") == 0 && !o->ignore_paused)
		return rt_err_set(err, 0, "cannot exec in a paused container "
				  "(use --ignore-paused to override)");
	return 0;
}

static int open_console(struct exec_ctx *x, int *ours, struct rt_err **err)
{
	if (!x->process->terminal)
		return 0;
	if (x->o->console_socket) {
		x->console_fd = rt_console_socket_connect(x->o->console_socket, err);
		return x->console_fd < 0 ? -1 : 0;
	}
	if (x->o->detach)
		return rt_err_set(err, 0, "cannot allocate a tty when detaching "
				  "without --console-socket");
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return rt_err_set(err, errno, "socketpair");
	*ours = sv[0];
	x->console_fd = sv[1];
	return 0;
}

static int exec_in(struct rt_container *c, struct exec_ctx *x, int *exit_status,
		   struct rt_err **err)
{
	cleanup_close int ours = -1;
	if (open_console(x, &ours, err) < 0)
		return -1;
	if (!x->o->detach)
		rt_foreground_prepare();
	pid_t pid = -1;
	int ret = spawn_child(x, c, &pid, err);
	if (x->console_fd >= 0)
		close(x->console_fd);
	if (ret < 0)
		return -1;
	cleanup_close int master = -1;
	if (ours >= 0 && rt_recv_fd(ours, &master, err) < 0)
		return -1;
	if (x->o->pid_file && rt_write_pid_file(x->o->pid_file, pid, err) < 0)
		return -1;
	if (x->o->detach)
		return 0;
	return rt_foreground_wait(pid, master, exit_status, err);
}

int rt_container_exec(const struct rt_context *ctx, const struct rt_exec_opts *o,
		      int *exit_status, struct rt_err **err)
{
	*exit_status = 0;
	cleanup_container struct rt_container *c = NULL;
	if (rt_container_open(ctx, o->id, false, &c, err) < 0)
		return -1;
	if (check_status(c, o, err) < 0)
		return -1;
	cleanup_config struct oci_config *cfg = NULL;
	if (rt_container_config(c, &cfg, err) < 0)
		return -1;
	if (o->process == NULL && cfg->process == NULL)
		return rt_err_set(err, 0, "exec: the container has no process to start from");
	if (o->process == NULL)
		merge_process(cfg->process, o);
	struct exec_ctx x = {
		.o = o,
		.config = cfg,
		.process = o->process ? o->process : cfg->process,
		.console_fd = -1,
		.ns_flags = container_ns_flags(&cfg->linux_),
	};
	x.pidfd = (int)syscall(SYS_pidfd_open, c->state->pid, 0);
	if (x.pidfd < 0 || !rt_proc_alive(c->state->pid, c->state->pid_start_time))
		return rt_err_set(err, 0, "cannot exec in a stopped container");
	cleanup_free char *root = xasprintf("/proc/%d/root", c->state->pid);
	x.rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (x.rootfd < 0) {
		close(x.pidfd);
		return rt_err_set(err, errno, "open '%s'", root);
	}
	int ret = exec_in(c, &x, exit_status, err);
	close(x.pidfd);
	close(x.rootfd);
	return ret < 0 ? rt_err_wrap(err, "exec in %s", o->id) : 0;
}
