/* Container lifecycle operations used by the verbs. A container is a state
 * directory under the root (state.json, config.json, exec.fifo while
 * created); mutations hold an flock on that directory. */
#ifndef FERRY_CONTAINER_H
#define FERRY_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "context.h"
#include "error.h"
#include "oci/config.h"
#include "oci/state.h"

struct rt_container {
	char *id;
	char *dir;
	int dirfd; /* holds the lock when locked */
	struct oci_state *state;
	struct rt_cgroup *cgroup;
};

/* runc's rule: letters, digits and _+-. only. */
int rt_container_check_id(const char *id, struct rt_err **err);

/* Load a container; lock it exclusively when `lock` (for mutations). */
int rt_container_open(const struct rt_context *ctx, const char *id, bool lock,
		      struct rt_container **out, struct rt_err **err);
void rt_container_free(struct rt_container *c);
void rt_container_freep(struct rt_container **c);
#define cleanup_container __attribute__((cleanup(rt_container_freep)))

/* "created", "running", "paused" or "stopped", from the kernel's view. */
const char *rt_container_status(const struct rt_container *c);
int rt_container_save(const struct rt_container *c, struct rt_err **err);
/* The stored copy of config.json. */
int rt_container_config(const struct rt_container *c, struct oci_config **out,
			struct rt_err **err);

/* Restoring instead of running config.json's process (ferry restore). */
struct rt_restore_opts {
	const char *image_path;
	const char *work_path; /* stats-restore.json goes here (default: image_path) */
	bool paused;           /* leave the restored container frozen */
	bool tcp_established, ext_unix_sk, shell_job, file_locks;
};

struct rt_create_opts {
	const char *id;
	const char *bundle; /* NULL: current directory */
	const char *console_socket;
	const char *pid_file;
	bool no_pivot, no_new_keyring;
	int preserve_fds;
	int console_fd; /* internal: an already connected console socket, or -1 */
	const struct rt_restore_opts *restore; /* NULL: a normal create */
};

int rt_container_create(const struct rt_context *ctx,
			const struct rt_create_opts *o, struct rt_err **err);
int rt_container_start(const struct rt_context *ctx, const char *id,
		       struct rt_err **err);
/* create + start; without detach waits for the init and stores its exit
 * status (128+N for death by signal N), then deletes unless keep. */
int rt_container_run(const struct rt_context *ctx, const struct rt_create_opts *o,
		     bool detach, bool keep, int *exit_status, struct rt_err **err);
/* Rebuild the container from config.json and restore its processes from the
 * images; like run, waits for it unless detach. */
int rt_container_restore(const struct rt_context *ctx, const struct rt_create_opts *o,
			 bool detach, int *exit_status, struct rt_err **err);

struct rt_checkpoint_opts {
	const char *id;
	const char *image_path;
	const char *work_path;   /* stats-dump.json also goes here when set */
	const char *parent_path; /* a previous pre-dump, for incremental pages */
	bool leave_running, pre_dump;
	bool auto_dedup; /* punch what this dump does not need out of its parents */
	bool tcp_established, ext_unix_sk, shell_job, file_locks;
};
int rt_container_checkpoint(const struct rt_context *ctx,
			    const struct rt_checkpoint_opts *o, struct rt_err **err);

/* The coordinator's restore into a blank init (checkpoint.c, used by create).
 * A terminal in the images is made anew and its master sent to console_fd
 * (a connected console socket; -1: none, and such images are refused). */
int rt_restore_tree(const struct rt_restore_opts *ro, struct rt_cgroup *cg,
		    pid_t init, int agent_fd, int console_fd, struct rt_err **err);

/* Remove what is left of a stopped container (cgroups, state) and run its
 * poststop hooks. */
int rt_container_destroy(struct rt_container *c, struct rt_err **err);

int rt_container_delete(const struct rt_context *ctx, const char *id,
			bool force, struct rt_err **err);
int rt_container_kill(const struct rt_context *ctx, const char *id, int sig,
		      bool all, struct rt_err **err);
int rt_container_pause(const struct rt_context *ctx, const char *id,
		       bool pause, struct rt_err **err);
int rt_container_state(const struct rt_context *ctx, const char *id,
		       char **json, struct rt_err **err);
int rt_container_pids(const struct rt_context *ctx, const char *id,
		      pid_t **pids, size_t *n, struct rt_err **err);
int rt_container_update(const struct rt_context *ctx, const char *id,
			const struct oci_resources *res, struct rt_err **err);

/* Every container under the root, with its status. */
struct rt_container_info {
	struct oci_state *state;
	const char *status;
};
int rt_container_list(const struct rt_context *ctx, struct rt_container_info **out,
		      size_t *n, struct rt_err **err);
void rt_container_info_free(struct rt_container_info *v, size_t n);

/* ferry events: one stats record (once) or a stream until the container
 * stops: stats every interval_ms, "oom" and "exit" events as they happen,
 * and "tasks" (fork/exit counts) where the kernel has cgroup.tasks.events
 * (events.h). */
int rt_container_events(const struct rt_context *ctx, const char *id, bool once,
			unsigned interval_ms, struct rt_err **err);

struct rt_exec_opts {
	const char *id;
	/* --process FILE, used as is; when NULL the process is the container's
	 * own with the overrides below (runc's rules). */
	struct oci_process *process;
	char **args;        /* required without process */
	char **env;         /* added to the container's env */
	const char *cwd;
	bool has_user;
	uid_t uid;
	gid_t gid;
	gid_t *additional_gids;
	size_t n_additional_gids;
	uint64_t add_caps;  /* added to every capability set */
	bool no_new_privs;
	bool tty;
	const char *console_socket;
	const char *pid_file;
	bool detach;
	bool ignore_paused;
	int preserve_fds;
};
int rt_container_exec(const struct rt_context *ctx, const struct rt_exec_opts *o,
		      int *exit_status, struct rt_err **err);

/* Process helpers shared by the lifecycle files. */
int rt_proc_start_time(pid_t pid, unsigned long long *start, char *state);
bool rt_proc_alive(pid_t pid, unsigned long long start);
/* Wait (bounded) until pid is gone. */
int rt_proc_wait_gone(pid_t pid, unsigned long long start, int timeout_ms);
int rt_write_pid_file(const char *path, pid_t pid, struct rt_err **err);

#endif
