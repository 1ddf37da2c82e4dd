/* Operations on an existing container: delete, kill, pause/resume, state,
 * ps, update, list. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container.h"
#include "log.h"
#include "oci/hooks.h"
#include "util.h"

static bool is(const char *status, const char *want) { return strcmp(status, want) == 0; }

/* Remove what is left of a stopped container and run poststop hooks. */
int rt_container_destroy(struct rt_container *c, struct rt_err **err)
{
	if (c->cgroup && rt_cgroup_destroy(c->cgroup, err) < 0)
		return -1;
	cleanup_config struct oci_config *cfg = NULL;
	struct rt_err *e = NULL;
	if (rt_container_config(c, &cfg, &e) == 0) {
		cleanup_free char *json = oci_state_public_json(c->state, "stopped", false);
		if (oci_hooks_run(&cfg->hooks[OCI_HOOK_POSTSTOP], OCI_HOOK_POSTSTOP,
				  json, &e) < 0)
			rt_warn("delete %s: %s", c->id, e->msg);
	} else {
		rt_warn("delete %s: no poststop hooks run: %s", c->id, e->msg);
	}
	rt_err_free(e);
	return rt_rm_rf(c->dir, err);
}

static int kill_everything(struct rt_container *c, struct rt_err **err)
{
	const struct oci_state *s = c->state;
	if (rt_proc_alive(s->pid, s->pid_start_time))
		kill(s->pid, SIGKILL);
	if (c->cgroup && rt_cgroup_signal_all(c->cgroup, SIGKILL, err) < 0)
		return -1;
	bool frozen = false;
	struct rt_err *e = NULL;
	if (c->cgroup && rt_cgroup_is_frozen(c->cgroup, &frozen, &e) == 0 && frozen)
		rt_cgroup_freeze(c->cgroup, false, &e);
	rt_err_free(e);
	if (rt_proc_wait_gone(s->pid, s->pid_start_time, 10000) < 0)
		return rt_err_set(err, 0, "pid %d did not die after SIGKILL", s->pid);
	return 0;
}

int rt_container_delete(const struct rt_context *ctx, const char *id,
			bool force, struct rt_err **err)
{
	cleanup_container struct rt_container *c = NULL;
	if (rt_container_open(ctx, id, true, &c, err) < 0) {
		if (force && *err && (*err)->code == ENOENT) {
			rt_err_free(*err);
			*err = NULL;
			return 0;
		}
		return -1;
	}
	const char *status = rt_container_status(c);
	rt_debug("delete %s: status %s%s", id, status, force ? " (forced)" : "");
	if ((is(status, "running") || is(status, "paused")) && !force)
		return rt_err_set(err, 0, "cannot delete container %s that is not "
				  "stopped: %s", id, status);
	if (!is(status, "stopped") && kill_everything(c, err) < 0)
		return rt_err_wrap(err, "delete %s", id);
	return rt_container_destroy(c, err) < 0 ? rt_err_wrap(err, "delete %s", id) : 0;
}

static int send_signal(const struct oci_state *s, int sig, struct rt_err **err)
{
	/* A pidfd pins the process: the start-time check and the signal
	 * cannot race with pid reuse. */
	int pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	if (pidfd < 0 || !rt_proc_alive(s->pid, s->pid_start_time)) {
		if (pidfd >= 0)
			close(pidfd);
		return rt_err_set(err, 0, "container not running");
	}
	int r = (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
	int e = errno;
	close(pidfd);
	return r < 0 ? rt_err_set(err, e, "send signal %d to pid %d", sig, s->pid) : 0;
}

int rt_container_kill(const struct rt_context *ctx, const char *id, int sig,
		      bool all, struct rt_err **err)
{
	cleanup_container struct rt_container *c = NULL;
	if (rt_container_open(ctx, id, true, &c, err) < 0)
		return -1;
	const char *status = rt_container_status(c);
	if (is(status, "stopped"))
		return rt_err_set(err, 0, "container not running");
	int ret = all ? rt_cgroup_signal_all(c->cgroup, sig, err)
		      : send_signal(c->state, sig, err);
	/* A frozen task only dies once thawed. */
	if (ret == 0 && sig == SIGKILL && is(status, "paused"))
		ret = rt_cgroup_freeze(c->cgroup, false, err);
	return ret;
}

int rt_container_pause(const struct rt_context *ctx, const char *id,
		       bool pause, struct rt_err **err)
{
	cleanup_container struct rt_container *c = NULL;
	if (rt_container_open(ctx, id, true, &c, err) < 0)
		return -1;
	const char *status = rt_container_status(c);
	if (pause && !is(status, "running"))
		return rt_err_set(err, 0, "container not running");
	if (!pause && !is(status, "paused"))
		return rt_err_set(err, 0, "container not paused");
	return rt_cgroup_freeze(c->cgroup, pause, err);
}

int rt_container_state(const struct rt_context *ctx, const char *id,
		       char **json, struct rt_err **err)
{
	cleanup_container struct rt_container *c = NULL;
	if (rt_container_open(ctx, id, false, &c, err) < 0)
		return -1;
	const char *status = rt_container_status(c);
	if (is(status, "stopped"))
		c->state->pid = 0;
	*json = oci_state_public_json(c->state, status, true);
	return 0;
}

int rt_container_pids(const struct rt_context *ctx, const char *id,
		      pid_t **pids, size_t *n, struct rt_err **err)
{
	cleanup_container struct rt_container *c = NULL;
	if (rt_container_open(ctx, id, false, &c, err) < 0)
		return -1;
	/* runc lists no processes for a stopped container rather than failing. */
	if (is(rt_container_status(c), "stopped")) {
		*pids = NULL;
		*n = 0;
		return 0;
	}
	return rt_cgroup_pids(c->cgroup, pids, n, err);
}

int rt_container_update(const struct rt_context *ctx, const char *id,
			const struct oci_resources *res, struct rt_err **err)
{
	cleanup_container struct rt_container *c = NULL;
	if (rt_container_open(ctx, id, true, &c, err) < 0)
		return -1;
	if (is(rt_container_status(c), "stopped"))
		return rt_err_set(err, 0, "container not running");
	return rt_cgroup_update(c->cgroup, res, err) < 0
		? rt_err_wrap(err, "update %s", id) : 0;
}

void rt_container_info_free(struct rt_container_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		oci_state_free(v[i].state);
	free(v);
}

int rt_container_list(const struct rt_context *ctx, struct rt_container_info **out,
		      size_t *n_out, struct rt_err **err)
{
	*out = NULL;
	*n_out = 0;
	cleanup_closedir DIR *d = opendir(ctx->root);
	if (d == NULL)
		return errno == ENOENT ? 0 : rt_err_set(err, errno, "open '%s'", ctx->root);
	struct rt_container_info *v = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		struct rt_container *c = NULL;
		struct rt_err *e = NULL;
		if (rt_container_open(ctx, de->d_name, false, &c, &e) < 0) {
			rt_err_free(e); /* half-created or foreign: not listed */
			continue;
		}
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n].status = rt_container_status(c);
		v[n].state = steal_pointer(&c->state);
		n++;
		rt_container_free(c);
	}
	*out = v;
	*n_out = n;
	return 0;
}
