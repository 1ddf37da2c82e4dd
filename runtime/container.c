#include "container.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "namespaces.h"
#include "oci/hooks.h"
#include "spawn.h"
#include "terminal.h"
#include "util.h"

/* ---- process helpers -------------------------------------------------- */

int rt_proc_start_time(pid_t pid, unsigned long long *start, char *state)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	char *buf = NULL;
	struct rt_err *e = NULL;
	if (rt_read_file(path, &buf, NULL, &e) < 0) {
		rt_err_free(e);
		return -1;
	}
	/* comm may hold spaces and parentheses: parse after the last ')'. */
	char *p = strrchr(buf, ')');
	int ret = -1;
	if (p && p[1] == ' ') {
		char st;
		unsigned long long t;
		/* fields 3 (state) .. 22 (starttime) */
		if (sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u "
				  "%*u %*d %*d %*d %*d %*d %*d %llu", &st, &t) == 2) {
			*start = t;
			if (state)
				*state = st;
			ret = 0;
		}
	}
	free(buf);
	return ret;
}

bool rt_proc_alive(pid_t pid, unsigned long long start)
{
	unsigned long long t;
	char st;
	if (pid <= 0 || rt_proc_start_time(pid, &t, &st) < 0)
		return false;
	return t == start && st != 'Z' && st != 'X';
}

int rt_proc_wait_gone(pid_t pid, unsigned long long start, int timeout_ms)
{
	/* A pidfd turns readable as the process exits: no polling interval
	 * to sit out (a checkpoint's killed tree is gone in ~1 ms). Opened
	 * first, then checked to be that process. */
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (!rt_proc_alive(pid, start))
		return 0;
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	if (pidfd >= 0 && poll(&p, 1, timeout_ms) >= 0) {
		waitpid(pid, NULL, WNOHANG); /* our own child (run, restore) */
		return rt_proc_alive(pid, start) ? -1 : 0;
	}
	for (int waited = 0; waited < timeout_ms; waited += 5) {
		if (!rt_proc_alive(pid, start))
			return 0;
		/* Our own child (run, restore): reap it so it can go. */
		waitpid(pid, NULL, WNOHANG);
		usleep(5000);
	}
	return rt_proc_alive(pid, start) ? -1 : 0;
}

int rt_write_pid_file(const char *path, pid_t pid, struct rt_err **err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", pid);
	cleanup_free char *abs = path[0] == '/' ? xstrdup(path) : realpath(".", NULL);
	if (path[0] != '/') {
		char *full = xasprintf("%s/%s", abs, path);
		free(abs);
		abs = full;
	}
	return rt_write_file_atomic(abs, buf, (size_t)n, 0644, err) < 0
		? rt_err_wrap(err, "pid file") : 0;
}

/* ---- loading and saving ----------------------------------------------- */

int rt_container_check_id(const char *id, struct rt_err **err)
{
	if (id == NULL || *id == '\0')
		return rt_err_set(err, 0, "container id cannot be empty");
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0 || strlen(id) > 1024)
		return rt_err_set(err, 0, "invalid container id: \"%s\"", id);
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_+-.", *p))
			return rt_err_set(err, 0, "invalid container id: \"%s\"", id);
	return 0;
}

void rt_container_free(struct rt_container *c)
{
	if (c == NULL)
		return;
	if (c->dirfd >= 0)
		close(c->dirfd);
	oci_state_free(c->state);
	rt_cgroup_free(c->cgroup);
	free(c->id);
	free(c->dir);
	free(c);
}

void rt_container_freep(struct rt_container **c) { rt_container_free(*c); }

int rt_container_open(const struct rt_context *ctx, const char *id, bool lock,
		      struct rt_container **out, struct rt_err **err)
{
	if (rt_container_check_id(id, err) < 0)
		return -1;
	cleanup_container struct rt_container *c = xcalloc(1, sizeof(*c));
	c->id = xstrdup(id);
	c->dir = xasprintf("%s/%s", ctx->root, id);
	c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0) {
		if (errno == ENOENT)
			return rt_err_set(err, ENOENT, "container \"%s\" does not exist", id);
		return rt_err_set(err, errno, "open '%s'", c->dir);
	}
	if (lock && flock(c->dirfd, LOCK_EX) < 0)
		return rt_err_set(err, errno, "lock '%s'", c->dir);
	cleanup_free char *path = xasprintf("%s/state.json", c->dir);
	if (oci_state_read(path, &c->state, err) < 0) {
		if (*err && (*err)->code == ENOENT) {
			rt_err_free(*err);
			*err = NULL;
			return rt_err_set(err, ENOENT, "container \"%s\" does not exist", id);
		}
		return -1;
	}
	const struct oci_state *s = c->state;
	c->cgroup = rt_cgroup_from_parts(s->cgroup_layout, s->n_cgroups,
					 s->cgroup_names, s->cgroup_paths, s->cgroup_rel);
	*out = steal_pointer(&c);
	return 0;
}

int rt_container_save(const struct rt_container *c, struct rt_err **err)
{
	cleanup_free char *path = xasprintf("%s/state.json", c->dir);
	return oci_state_write(path, c->state, err);
}

int rt_container_config(const struct rt_container *c, struct oci_config **out,
			struct rt_err **err)
{
	cleanup_free char *path = xasprintf("%s/config.json", c->dir);
	return oci_config_load(path, out, err);
}

const char *rt_container_status(const struct rt_container *c)
{
	const struct oci_state *s = c->state;
	if (!rt_proc_alive(s->pid, s->pid_start_time))
		return "stopped";
	if (faccessat(c->dirfd, "exec.fifo", F_OK, 0) == 0)
		return "created";
	bool frozen = false;
	struct rt_err *e = NULL;
	if (c->cgroup && rt_cgroup_is_frozen(c->cgroup, &frozen, &e) < 0)
		rt_err_free(e);
	return frozen ? "paused" : "running";
}
