/* The container init, from clone to execve. Set-up errors go back to the
 * runtime over the sync socket; after READY the runtime is gone, so errors
 * go to the container's stderr. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "coordinator/coordinator.h"
#include "mounts.h"
#include "namespaces.h"
#include "oci/hooks.h"
#include "process.h"
#include "spawn.h"
#include "terminal.h"
#include "util.h"

static int expect(int fd, enum rt_sync_type want, struct rt_err **err)
{
	int type = rt_sync_recv(fd, NULL);
	if (type == (int)want)
		return 0;
	return rt_err_set(err, 0, "the runtime went away during set-up");
}

static int set_names(const struct oci_config *c, struct rt_err **err)
{
	if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
		return rt_err_set(err, errno, "hostname: set '%s'", c->hostname);
	if (c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0)
		return rt_err_set(err, errno, "domainname: set '%s'", c->domainname);
	return 0;
}

static int join_keyring(const struct rt_spawn *sp, struct rt_err **err)
{
	if (sp->no_new_keyring)
		return 0;
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, sp->state->id) < 0 &&
	    errno != ENOSYS)
		return rt_err_set(err, errno, "join a new session keyring");
	return 0;
}

static int enter_namespaces(struct rt_spawn *sp, struct rt_err **err)
{
	const struct oci_linux *l = &sp->config->linux_;
	if (rt_ns_wants_new(l, CLONE_NEWUSER) &&
	    (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return rt_err_set(err, errno, "become root in the user namespace "
				  "(is uid/gid 0 mapped?)");
	if (rt_ns_enter_late(l, err) < 0)
		return -1;
	if (setsid() < 0)
		return rt_err_set(err, errno, "setsid");
	if (join_keyring(sp, err) < 0)
		return -1;
	if (rt_ns_wants_new(l, CLONE_NEWNET) && rt_ns_loopback_up(err) < 0)
		return -1;
	return set_names(sp->config, err);
}

static int build_rootfs(struct rt_spawn *sp, struct rt_err **err)
{
	const struct oci_linux *l = &sp->config->linux_;
	struct rt_rootfs r = {
		.config = sp->config,
		.rootfs = sp->state->rootfs,
		.bundle = sp->state->bundle,
		.cgroup = sp->cgroup,
		.userns = rt_ns_wants_new(l, CLONE_NEWUSER),
		.cgroupns = rt_ns_wants_new(l, CLONE_NEWCGROUP),
		.no_pivot = sp->no_pivot,
	};
	if (rt_rootfs_prepare(&r, err) < 0)
		return -1;
	if (rt_sync_send(sp->sync_fd, RT_SYNC_HOOKS, NULL) < 0 ||
	    expect(sp->sync_fd, RT_SYNC_HOOKS_DONE, err) < 0)
		return -1;
	cleanup_free char *json = oci_state_public_json(sp->state, "creating", false);
	if (oci_hooks_run(&sp->config->hooks[OCI_HOOK_CREATE_CONTAINER],
			  OCI_HOOK_CREATE_CONTAINER, json, err) < 0)
		return -1;
	if (rt_rootfs_pivot(&r, err) < 0)
		return -1;
	return rt_rootfs_finish(&r, err);
}

static int setup_console(struct rt_spawn *sp, struct rt_err **err)
{
	const struct oci_process *p = sp->config->process;
	if (!p->terminal)
		return 0;
	if (sp->console_fd < 0)
		return rt_err_set(err, 0, "process.terminal is set but there is no "
				  "console socket to send the pty to");
	int master, slave;
	if (rt_pty_open(&master, &slave, p->console_height, p->console_width, err) < 0)
		return -1;
	if (rt_pty_bind_console(master, err) < 0) {
		close(master);
		close(slave);
		return -1;
	}
	int ret = rt_send_fd(sp->console_fd, master, "/dev/ptmx", err);
	close(master);
	close(sp->console_fd);
	sp->console_fd = -1;
	if (ret < 0)
		return -1;
	return rt_pty_become_console(slave, err);
}

/* Everything up to READY; returns the resolved binary (so a missing one
 * fails create, not start). */
static int init_setup(struct rt_spawn *sp, char **exe, struct rt_err **err)
{
	const struct oci_config *c = sp->config;
	if (expect(sp->sync_fd, RT_SYNC_GO, err) < 0)
		return -1;
	if (enter_namespaces(sp, err) < 0 || build_rootfs(sp, err) < 0)
		return -1;
	if (sp->restore)
		return 0; /* the process, its identity and its stdio come from the images */
	if (setup_console(sp, err) < 0)
		return -1;
	if (rt_process_limits(c->process, c->linux_.has_personality,
			      c->linux_.personality, err) < 0)
		return -1;
	return rt_process_lookup(c->process, exe, err);
}

/* Block until `ferry start` opens exec.fifo for reading. The returned fd
 * stays open (close-on-exec) until execve: start reads end-of-file exactly
 * when the process has been executed, which is when poststart may run. */
static int wait_for_start(struct rt_spawn *sp, struct rt_err **err)
{
	int fd = openat(sp->statedir_fd, "exec.fifo", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_err_set(err, errno, "open exec.fifo");
	if (write(fd, "0", 1) != 1) {
		close(fd);
		return rt_err_set(err, errno, "write exec.fifo");
	}
	return fd;
}

static void keep_only_preserved_fds(int preserve)
{
	unsigned first = 3u + (unsigned)(preserve > 0 ? preserve : 0);
	for (unsigned fd = 3; fd < first; fd++) {
		int flags = fcntl((int)fd, F_GETFD);
		if (flags >= 0)
			fcntl((int)fd, F_SETFD, flags & ~FD_CLOEXEC);
	}
	syscall(SYS_close_range, first, ~0u, CLOSE_RANGE_CLOEXEC);
}

/* After READY: identity, wait for start, startContainer hooks, exec. The
 * identity (user, capabilities, seccomp) comes after READY, as in runc, so a
 * seccomp profile never has to allow the runtime's own sync messages. */
static int run_process(struct rt_spawn *sp, const char *exe, struct rt_err **err)
{
	const struct oci_config *c = sp->config;
	if (rt_process_identity(c->process, c->linux_.seccomp, err) < 0)
		return -1;
	int fifo = wait_for_start(sp, err); /* closed by execve */
	if (fifo < 0)
		return -1;
	sp->state->pid = getpid();
	cleanup_free char *json = oci_state_public_json(sp->state, "created", false);
	if (oci_hooks_run(&sp->config->hooks[OCI_HOOK_START_CONTAINER],
			  OCI_HOOK_START_CONTAINER, json, err) < 0)
		return -1;
	char **env = rt_process_env(sp->config->process);
	keep_only_preserved_fds(sp->preserve_fds);
	/* A foreground run blocks the signals it forwards; not for us. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(exe, sp->config->process->args, env);
	rt_strv_free(env);
	return rt_err_set(err, errno, "exec '%s'", exe);
}

_Noreturn void rt_init_main(struct rt_spawn *sp)
{
	struct rt_err *err = NULL;
	cleanup_free char *exe = NULL;
	/* flock belongs to the open file description we share with the
	 * runtime: holding it would block every later command. */
	if (sp->lock_fd >= 0)
		close(sp->lock_fd);
	if (init_setup(sp, &exe, &err) < 0) {
		rt_sync_send(sp->sync_fd, RT_SYNC_ERROR, err->msg);
		_exit(1);
	}
	rt_sync_send(sp->sync_fd, RT_SYNC_READY, NULL);
	if (sp->restore)
		cr_restore_agent(sp->sync_fd);
	close(sp->sync_fd);
	run_process(sp, exe, &err);
	fprintf(stderr, "ferry: container init: %s\n", err->msg);
	_exit(127);
}
