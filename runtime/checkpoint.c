/* checkpoint and restore at the container level: the runtime's half.
 * The coordinator (runtime/coordinator/) does the processes; this file
 * brings the container's freezer, image directory, state and clean-up. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "coordinator/coordinator.h"
#include "log.h"
#include "terminal.h"
#include "util.h"

static int freeze_cgroup(void *arg, bool frozen, struct rt_err **err)
{
	return rt_cgroup_freeze(arg, frozen, err);
}

static struct cr_freezer freezer_of(struct rt_cgroup *cg)
{
	/* The unified freezer (v2 or the hybrid mirror cgroup) lets ptrace
	 * stops be reported while frozen; the v1 freezer does not. The
	 * unified cgroup may count the tasks (cgroup.tasks.events), which
	 * spares the dump its second tree walk. */
	struct cr_freezer f = {
		.arg = cg,
		.freeze = freeze_cgroup,
		.reports_stops = cg->layout != RT_CGROUP_V1,
		.tasks_events_dir = rt_cgroup_tasks_events_dir(cg),
	};
	return f;
}

static int open_image_dir(const char *path, bool create, struct rt_err **err)
{
	if (create && rt_mkdir_p(path, 0700, err) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return rt_err_set(err, errno, "image path '%s'", path);
	return fd;
}

static bool dir_is_empty(int dirfd)
{
	int fd = dup(dirfd);
	if (fd < 0)
		return false;
	cleanup_closedir DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return false;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			return false;
	return true;
}

/* A failed checkpoint takes back what it wrote: the image directory was
 * empty (or did not exist) before it. Images are flat files. */
static void take_back_images(int dirfd, const char *path, bool created)
{
	int fd = dup(dirfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	if (d == NULL && fd >= 0)
		close(fd);
	if (d)
		rewinddir(d); /* the offset is shared with dirfd's */
	while (d && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(dirfd, de->d_name, 0);
	if (d)
		closedir(d);
	if (created)
		rmdir(path);
}

static int write_stats(const char *dir, const char *name, const struct cr_stats *st,
		       struct rt_err **err)
{
	cleanup_close int fd = open_image_dir(dir, true, err);
	if (fd < 0)
		return -1;
	return cr_stats_write(fd, name, st, err);
}

/* FERRY_FORCE_PPID_WALK=1 exercises the tree walk kernels without
 * /proc/PID/task/TID/children need (ferry check honours it too). */
static bool force_ppid_walk(void)
{
	const char *v = getenv(CR_ENV_FORCE_PPID_WALK);
	return v && strcmp(v, "1") == 0;
}

int rt_container_checkpoint(const struct rt_context *ctx,
			    const struct rt_checkpoint_opts *o, struct rt_err **err)
{
	cleanup_container struct rt_container *c = NULL;
	if (rt_container_open(ctx, o->id, true, &c, err) < 0)
		return -1;
	/* Paused is fine (containerd's shim pauses before it checkpoints); a
	 * paused container stays paused after --leave-running. */
	const char *status = rt_container_status(c);
	bool paused = strcmp(status, "paused") == 0;
	if (strcmp(status, "running") != 0 && !paused)
		return rt_err_set(err, 0, "checkpoint %s: container is %s; only a running "
				  "or paused container can be checkpointed", o->id, status);
	struct stat sb;
	bool created = stat(o->image_path, &sb) < 0 && errno == ENOENT;
	cleanup_close int dirfd = open_image_dir(o->image_path, true, err);
	if (dirfd < 0)
		return rt_err_wrap(err, "checkpoint %s", o->id);
	if (!dir_is_empty(dirfd))
		return rt_err_set(err, 0, "checkpoint %s: image path '%s' is not empty",
				  o->id, o->image_path);
	cleanup_close int parent = -1;
	if (o->parent_path) {
		cleanup_free char *p = o->parent_path[0] == '/' ? xstrdup(o->parent_path)
			: xasprintf("%s/%s", o->image_path, o->parent_path);
		if ((parent = open_image_dir(p, false, err)) < 0)
			return rt_err_wrap(err, "checkpoint %s: --parent-path", o->id);
	}
	struct cr_freezer fz = freezer_of(c->cgroup);
	fz.keep_frozen = paused;
	struct cr_dump_opts d = {
		.root = c->state->pid,
		.images_dirfd = dirfd,
		.freezer = &fz,
		.leave_running = o->leave_running || o->pre_dump,
		.pre_dump = o->pre_dump,
		.parent_path = o->parent_path,
		.track_dir = c->dir,
		.tcp_established = o->tcp_established,
		.ext_unix_sk = o->ext_unix_sk,
		.shell_job = o->shell_job,
		.file_locks = o->file_locks,
		.force_ppid_walk = force_ppid_walk(),
	};
	struct cr_stats st = { 0 };
	if (cr_dump(&d, &st, err) < 0) {
		take_back_images(dirfd, o->image_path, created);
		return rt_err_wrap(err, "checkpoint %s", o->id);
	}
	/* before the stats, which count what it freed; a failure costs space,
	 * not the checkpoint, which is complete */
	cleanup_err struct rt_err *dedup_err = NULL;
	if (o->auto_dedup && st.parent_used &&
	    cr_dedup_parents(dirfd, &st.parent_pages_freed, &dedup_err) < 0)
		rt_warn("checkpoint %s: --auto-dedup: %s; the checkpoint is complete, its "
			"parents may keep pages it does not need", o->id, dedup_err->msg);
	if (cr_stats_write(dirfd, "stats-dump.json", &st, err) < 0 ||
	    (o->work_path && write_stats(o->work_path, "stats-dump.json", &st, err) < 0))
		return rt_err_wrap(err, "checkpoint %s", o->id);
	rt_debug("checkpoint %s: frozen %llu us, %llu pages written, %llu in the parent", o->id,
		 (unsigned long long)st.frozen_time_us, (unsigned long long)st.pages_written,
		 (unsigned long long)st.pages_in_parent);
	if (o->parent_path && !st.parent_used)
		rt_warn("checkpoint %s: --parent-path '%s' is not the last dump of this "
			"container's tracked memory (a pre-dump or --leave-running checkpoint "
			"since, or none before); every page was written", o->id, o->parent_path);
	if (d.leave_running)
		return 0;
	/* The coordinator killed the tree: the container is gone, as with runc. */
	if (rt_proc_wait_gone(c->state->pid, c->state->pid_start_time, 10000) < 0)
		return rt_err_set(err, 0, "checkpoint %s: pid %d did not exit", o->id,
				  c->state->pid);
	return rt_container_destroy(c, err) < 0 ? rt_err_wrap(err, "checkpoint %s", o->id) : 0;
}

/* Where the restored container's terminal goes, as at create: the new
 * pty's slave over its /dev/console, the master to the console socket. */
struct console {
	pid_t init;
	int sock;
	bool sent;
};

static int send_console(void *arg, int master, struct rt_err **err)
{
	struct console *k = arg;
	if (k->sock < 0)
		return rt_err_set(err, 0, "the checkpoint holds a terminal (process.terminal) "
				  "but there is no console socket to send it to "
				  "(--console-socket)");
	if (rt_pty_bind_console_in(k->init, master, err) < 0 ||
	    rt_send_fd(k->sock, master, "/dev/ptmx", err) < 0)
		return -1;
	k->sent = true;
	return 0;
}

/* Called by create once the blank init is in its namespaces and cgroups;
 * console_fd is the connected console socket, or -1. */
int rt_restore_tree(const struct rt_restore_opts *ro, struct rt_cgroup *cg,
		    pid_t init, int agent_fd, int console_fd, struct rt_err **err)
{
	cleanup_close int dirfd = open_image_dir(ro->image_path, false, err);
	if (dirfd < 0)
		return -1;
	struct cr_freezer fz = freezer_of(cg);
	struct console console = { .init = init, .sock = console_fd };
	struct cr_restore_opts r = {
		.images_dirfd = dirfd,
		.agent_pid = init,
		.agent_fd = agent_fd,
		.stdio = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO },
		.console = send_console,
		.console_arg = &console,
		.freezer = &fz,
		.paused = ro->paused,
		.tcp_established = ro->tcp_established,
		.ext_unix_sk = ro->ext_unix_sk,
		.shell_job = ro->shell_job,
		.file_locks = ro->file_locks,
	};
	struct cr_stats st = { 0 };
	if (cr_restore(&r, &st, err) < 0)
		return -1;
	if (console_fd >= 0 && !console.sent)
		rt_warn("restore: the checkpoint holds no terminal (its processes had closed "
			"it): nothing was sent to the console socket");
	struct rt_err *e = NULL;
	/* Images stay untouched: the stats go to the work path when given. */
	if (write_stats(ro->work_path ? ro->work_path : ro->image_path,
			"stats-restore.json", &st, &e) < 0) {
		rt_warn("restore: %s", e->msg);
		rt_err_free(e);
	}
	return 0;
}
