/* create and start: the two halves of a container's birth. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "log.h"
#include "namespaces.h"
#include "oci/hooks.h"
#include "spawn.h"
#include "terminal.h"
#include "util.h"

static int check_config(const struct oci_config *c, bool have_console,
			struct rt_err **err)
{
	const struct oci_linux *l = &c->linux_;
	if (c->process == NULL)
		return rt_err_set(err, 0, "process: required to create a container");
	if (!rt_ns_wants_new(l, CLONE_NEWNS))
		return rt_err_set(err, 0, "linux.namespaces: ferry needs a new mount "
				  "namespace (it never mounts in the host's)");
	if ((c->hostname || c->domainname) && !rt_ns_has(l, CLONE_NEWUTS))
		return rt_err_set(err, 0, "hostname: setting it needs a uts namespace");
	if (rt_ns_check_sysctls(l, err) < 0)
		return -1;
	for (size_t i = 0; c->process->caps.unknown && c->process->caps.unknown[i]; i++)
		rt_warn("process.capabilities: unknown capability \"%s\" ignored",
			c->process->caps.unknown[i]);
	if (rt_ns_wants_new(l, CLONE_NEWUSER) &&
	    (l->n_uid_mappings == 0 || l->n_gid_mappings == 0))
		return rt_err_set(err, 0, "linux.uidMappings: a new user namespace "
				  "needs uid and gid mappings");
	if (c->process->terminal && !have_console)
		return rt_err_set(err, 0, "process.terminal: a console socket "
				  "(--console-socket) is required");
	return 0;
}

/* The device rules every container gets after its own, as runc adds them:
 * mknod of anything (the node is useless without rw), and rw on the
 * standard nodes, the pty devices and tun. linux.devices entries get no
 * rule of their own: the config must allow them (runc's behaviour). */
static void add_default_device_rules(struct oci_config *c)
{
	static const struct oci_device_rule defaults[] = {
		{ true, 'c', -1, -1, "m" }, { true, 'b', -1, -1, "m" },
		{ true, 'c', 1, 3, "rwm" }, { true, 'c', 1, 5, "rwm" },
		{ true, 'c', 1, 7, "rwm" }, { true, 'c', 1, 8, "rwm" },
		{ true, 'c', 1, 9, "rwm" }, { true, 'c', 5, 0, "rwm" },
		{ true, 'c', 5, 2, "rwm" }, { true, 'c', 136, -1, "rwm" },
		{ true, 'c', 10, 200, "rwm" },
	};
	struct oci_resources *r = c->linux_.resources;
	if (r == NULL || r->n_devices == 0)
		return; /* no rules: the device cgroup allows everything */
	size_t extra = ARRAY_SIZE(defaults);
	r->devices = xrealloc(r->devices, (r->n_devices + extra) * sizeof(*r->devices));
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
		r->devices[r->n_devices++] = defaults[i];
}

static void fill_state(struct oci_state *s, const struct oci_config *c,
		       const char *id, const char *bundle, const char *rootfs,
		       const struct rt_cgroup *cg)
{
	s->oci_version = xstrdup(c->oci_version ? c->oci_version : "1.2.0");
	s->id = xstrdup(id);
	s->bundle = xstrdup(bundle);
	s->rootfs = xstrdup(rootfs);
	s->created = oci_state_now();
	s->owner = xstrdup("");
	s->n_annotations = c->n_annotations;
	s->annotation_keys = xcalloc(c->n_annotations + 1, sizeof(char *));
	s->annotation_values = xcalloc(c->n_annotations + 1, sizeof(char *));
	for (size_t i = 0; i < c->n_annotations; i++) {
		s->annotation_keys[i] = xstrdup(c->annotation_keys[i]);
		s->annotation_values[i] = xstrdup(c->annotation_values[i]);
	}
	s->cgroup_layout = cg->layout;
	s->n_cgroups = cg->n;
	s->cgroup_names = rt_strv_dup(cg->names);
	s->cgroup_paths = rt_strv_dup(cg->paths);
	s->cgroup_rel = xstrdup(cg->rel);
	s->terminal = c->process->terminal;
}

static int resolve_paths(const char *bundle_arg, const struct oci_config *c,
			 char **bundle, char **rootfs, struct rt_err **err)
{
	*bundle = realpath(bundle_arg ? bundle_arg : ".", NULL);
	if (*bundle == NULL)
		return rt_err_set(err, errno, "bundle '%s'", bundle_arg ? bundle_arg : ".");
	cleanup_free char *root = c->root.path[0] == '/'
		? xstrdup(c->root.path) : xasprintf("%s/%s", *bundle, c->root.path);
	*rootfs = realpath(root, NULL);
	struct stat st;
	if (*rootfs == NULL || stat(*rootfs, &st) < 0)
		return rt_err_set(err, errno, "root.path: '%s'", root);
	if (!S_ISDIR(st.st_mode))
		return rt_err_set(err, ENOTDIR, "root.path: '%s'", root);
	return 0;
}

static int copy_config(const char *bundle, const char *dir, struct rt_err **err)
{
	cleanup_free char *src = xasprintf("%s/config.json", bundle);
	cleanup_free char *dst = xasprintf("%s/config.json", dir);
	cleanup_free char *buf = NULL;
	size_t len;
	if (rt_read_file(src, &buf, &len, err) < 0)
		return -1;
	return rt_write_file_atomic(dst, buf, len, 0600, err);
}

/* Everything create does once the state directory exists and is locked. */
static int create_in_dir(const struct rt_create_opts *o, const char *dir, int dirfd,
			 struct oci_state *state, struct rt_cgroup **cgp,
			 struct rt_err **err)
{
	cleanup_free char *bundle = NULL, *rootfs = NULL;
	cleanup_config struct oci_config *c = NULL;
	cleanup_free char *cfg_path = xasprintf("%s/config.json", o->bundle ? o->bundle : ".");
	if (oci_config_load(cfg_path, &c, err) < 0)
		return -1;
	cleanup_close int console = -1;
	if (c->process && c->process->terminal && o->console_fd < 0 && o->console_socket &&
	    (console = rt_console_socket_connect(o->console_socket, err)) < 0)
		return -1;
	bool have_console = console >= 0 || o->console_fd >= 0;
	if (o->console_socket && c->process && !c->process->terminal)
		return rt_err_set(err, 0, "--console-socket: the process has no terminal "
				  "(process.terminal is false)");
	if (check_config(c, have_console, err) < 0 ||
	    resolve_paths(o->bundle, c, &bundle, &rootfs, err) < 0 ||
	    copy_config(bundle, dir, err) < 0)
		return -1;
	add_default_device_rules(c);
	if (rt_cgroup_resolve(c->linux_.cgroups_path, o->id, cgp, err) < 0 ||
	    rt_cgroup_create(*cgp, c->linux_.resources, err) < 0)
		return -1;
	fill_state(state, c, o->id, bundle, rootfs, *cgp);
	state->restored = o->restore != NULL;
	if (!o->restore) {
		if (mkfifoat(dirfd, "exec.fifo", 0622) < 0)
			return rt_err_set(err, errno, "mkfifo '%s/exec.fifo'", dir);
		fchmodat(dirfd, "exec.fifo", 0622, 0); /* umask must not narrow it */
	}
	cleanup_close int fifo_dir = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fifo_dir < 0)
		return rt_err_set(err, errno, "open '%s'", dir);
	struct rt_spawn sp = {
		.config = c,
		.state = state,
		.cgroup = *cgp,
		.statedir_fd = fifo_dir,
		.lock_fd = dirfd,
		.console_fd = console >= 0 ? console : o->console_fd,
		.preserve_fds = o->preserve_fds,
		.no_pivot = o->no_pivot,
		.no_new_keyring = o->no_new_keyring,
		.restore = o->restore != NULL,
		.agent_fd = -1,
	};
	rt_debug("create %s: cgroup %s (%s), bundle %s", o->id, (*cgp)->rel,
		 rt_cgroup_layout_name((*cgp)->layout), bundle);
	pid_t pid;
	if (rt_spawn_init(&sp, &pid, err) < 0)
		return -1;
	rt_debug("create %s: init is pid %d", o->id, pid);
	if (o->restore) {
		int r = rt_restore_tree(o->restore, *cgp, pid, sp.agent_fd, sp.console_fd, err);
		close(sp.agent_fd);
		if (r < 0)
			return -1;
	}
	rt_proc_start_time(pid, &state->pid_start_time, NULL);
	cleanup_free char *state_path = xasprintf("%s/state.json", dir);
	if (oci_state_write(state_path, state, err) < 0)
		return -1;
	if (o->pid_file && rt_write_pid_file(o->pid_file, pid, err) < 0)
		return -1;
	return 0;
}

static void undo_create(struct oci_state *state, struct rt_cgroup *cg, const char *dir)
{
	struct rt_err *e = NULL;
	if (state->pid > 0)
		kill(state->pid, SIGKILL);
	if (cg && rt_cgroup_destroy(cg, &e) < 0) {
		rt_warn("clean up after failed create: %s", e->msg);
		rt_err_free(e);
		e = NULL;
	}
	if (rt_rm_rf(dir, &e) < 0) {
		rt_warn("clean up after failed create: %s", e->msg);
		rt_err_free(e);
	}
}

int rt_container_create(const struct rt_context *ctx,
			const struct rt_create_opts *o, struct rt_err **err)
{
	if (rt_container_check_id(o->id, err) < 0)
		return -1;
	if (rt_mkdir_p(ctx->root, 0700, err) < 0)
		return -1;
	cleanup_free char *dir = xasprintf("%s/%s", ctx->root, o->id);
	if (mkdir(dir, 0711) < 0) {
		if (errno == EEXIST)
			return rt_err_set(err, 0, "container with id exists: %s", o->id);
		return rt_err_set(err, errno, "mkdir '%s'", dir);
	}
	cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || flock(dirfd, LOCK_EX) < 0) {
		int e = errno;
		rmdir(dir);
		return rt_err_set(err, e, "lock '%s'", dir);
	}
	struct oci_state *state = xcalloc(1, sizeof(*state));
	struct rt_cgroup *cg = NULL;
	int ret = create_in_dir(o, dir, dirfd, state, &cg, err);
	if (ret < 0)
		undo_create(state, cg, dir);
	oci_state_free(state);
	rt_cgroup_free(cg);
	return ret < 0 ? rt_err_wrap(err, "%s %s", o->restore ? "restore" : "create", o->id) : 0;
}

/* Open exec.fifo for reading (which lets the init's blocking open return),
 * and wait for its byte while checking that the init is still alive. */
static int release_fifo(struct rt_container *c, struct rt_err **err)
{
	cleanup_close int fd = openat(c->dirfd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return rt_err_set(err, errno, "open '%s/exec.fifo'", c->dir);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	bool released = false;
	for (;;) {
		int r = poll(&p, 1, 20);
		char b;
		ssize_t n = r > 0 ? read(fd, &b, 1) : -1;
		if (n == 1)
			released = true; /* the init runs startContainer hooks now */
		else if (n == 0 && released)
			break; /* its end closed: the process was executed (or it died) */
		if (!released && !rt_proc_alive(c->state->pid, c->state->pid_start_time))
			return rt_err_set(err, 0, "the container init (pid %d) exited "
					  "before start", c->state->pid);
	}
	unlinkat(c->dirfd, "exec.fifo", 0);
	rt_debug("start %s: released pid %d", c->id, c->state->pid);
	return 0;
}

int rt_container_start(const struct rt_context *ctx, const char *id,
		       struct rt_err **err)
{
	cleanup_container struct rt_container *c = NULL;
	if (rt_container_open(ctx, id, true, &c, err) < 0)
		return -1;
	const char *status = rt_container_status(c);
	if (strcmp(status, "stopped") == 0)
		return rt_err_set(err, 0, "cannot start a container that has stopped");
	if (strcmp(status, "created") != 0)
		return rt_err_set(err, 0, "cannot start an already running container");
	if (release_fifo(c, err) < 0)
		return rt_err_wrap(err, "start %s", id);
	flock(c->dirfd, LOCK_UN);
	cleanup_config struct oci_config *cfg = NULL;
	if (rt_container_config(c, &cfg, err) < 0)
		return rt_err_wrap(err, "start %s", id);
	cleanup_free char *json = oci_state_public_json(c->state, "running", false);
	struct rt_err *herr = NULL;
	/* The spec: a failing poststart hook is logged, the container runs on. */
	if (oci_hooks_run(&cfg->hooks[OCI_HOOK_POSTSTART], OCI_HOOK_POSTSTART, json,
			  &herr) < 0) {
		rt_warn("start %s: %s", id, herr->msg);
		rt_err_free(herr);
	}
	return 0;
}
