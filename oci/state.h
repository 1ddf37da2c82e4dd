/* state.json: the OCI state of a container plus what ferry needs to find it
 * again (cgroup paths, pid start time against pid reuse). Written
 * atomically. */
#ifndef FERRY_OCI_STATE_H
#define FERRY_OCI_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

struct oci_state {
	char *oci_version;
	char *id;
	pid_t pid;                          /* 0 once stopped and reaped */
	unsigned long long pid_start_time;  /* /proc/PID/stat field 22 */
	char *bundle;                       /* absolute */
	char *rootfs;                       /* absolute */
	char *created;                      /* RFC 3339 with nanoseconds, UTC */
	char *owner;                        /* "" for root, like runc */
	char **annotation_keys, **annotation_values;
	size_t n_annotations;

	/* cgroups, as rt_cgroup_from_parts() takes them */
	int cgroup_layout;
	size_t n_cgroups;
	char **cgroup_names, **cgroup_paths;
	char *cgroup_rel;

	bool terminal;   /* process.terminal at create time */
	bool rootless;
	bool restored;   /* created by `ferry restore` */
};

int oci_state_write(const char *path, const struct oci_state *s,
		    struct rt_err **err);
int oci_state_read(const char *path, struct oci_state **out,
		   struct rt_err **err);
void oci_state_free(struct oci_state *s);
void oci_state_freep(struct oci_state **s);
#define cleanup_state __attribute__((cleanup(oci_state_freep)))

/* The public OCI state document (what `ferry state` prints and hooks read on
 * stdin): ociVersion, id, pid, status, bundle, rootfs, created, owner and
 * annotations when there are any, in runc's order. Like runc, the pid is 0
 * when status is "stopped". pretty: indented by two spaces, as `runc state`
 * prints it. No trailing newline. Returns a malloc'd, NUL-terminated string. */
char *oci_state_public_json(const struct oci_state *s, const char *status,
			    bool pretty);

/* Current time in the form `created` uses: UTC, RFC 3339 with nanoseconds
 * as Go's time.Time marshals it (trailing zeros of the fraction dropped). */
char *oci_state_now(void);

#endif
