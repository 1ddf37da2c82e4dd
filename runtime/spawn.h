/* Creating the container's init: the runtime side (spawn.c) clones it into
 * its namespaces and answers its sync points; the init side (init.c) builds
 * the container around itself and waits on exec.fifo until `start`.
 *
 * Sync protocol on a SOCK_SEQPACKET pair, one message per packet, a type
 * byte then text:
 *   runtime -> init  GO          ids mapped, cgroups joined: set up
 *   init -> runtime  HOOKS       mounts done: run prestart/createRuntime
 *   runtime -> init  HOOKS_DONE
 *   init -> runtime  READY       everything done but exec
 *   init -> runtime  ERROR text  set-up failed (init exits)
 *   helper -> runtime PID n      (only when joining namespaces by path)
 */
#ifndef FERRY_SPAWN_H
#define FERRY_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "error.h"
#include "oci/config.h"
#include "oci/state.h"

enum rt_sync_type {
	RT_SYNC_GO = 1,
	RT_SYNC_HOOKS,
	RT_SYNC_HOOKS_DONE,
	RT_SYNC_READY,
	RT_SYNC_ERROR,
	RT_SYNC_PID,
};

struct rt_spawn {
	const struct oci_config *config;
	struct oci_state *state; /* id, bundle, rootfs, annotations; pid is set here */
	const struct rt_cgroup *cgroup;
	int statedir_fd;  /* the container's state dir (unlocked handle), holds exec.fifo */
	int lock_fd;      /* the runtime's locked handle: the init must not keep it */
	int console_fd;   /* connected console socket, or -1 */
	int preserve_fds; /* keep fds 3 .. 3+n-1 open in the container */
	bool no_pivot, no_new_keyring;
	/* restore: after READY the init serves the coordinator (cr_restore_agent)
	 * instead of waiting for start; rt_spawn_init hands back our end of the
	 * sync socket in agent_fd. */
	bool restore;
	int agent_fd;

	/* set by rt_spawn_init for the init's use */
	int sync_fd;
	int *join_fds;
	bool child_is_ours; /* init is our child (no helper process in between) */
};

/* Clone the init and drive it to READY. On failure the init is killed. */
int rt_spawn_init(struct rt_spawn *sp, pid_t *pid, struct rt_err **err);

/* The init's whole life; never returns. */
_Noreturn void rt_init_main(struct rt_spawn *sp);

int rt_sync_send(int fd, enum rt_sync_type type, const char *text);
/* Receive one message; *text (may be NULL) gets a malloc'd copy of the text.
 * Returns the type, 0 on EOF, -1 on error. */
int rt_sync_recv(int fd, char **text);

#endif
