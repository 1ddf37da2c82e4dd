/* Turning the current process into the container process described by
 * config.json's "process": shared by the container init and `ferry exec`. */
#ifndef FERRY_PROCESS_H
#define FERRY_PROCESS_H

#include "error.h"
#include "oci/config.h"

/* Find args[0] in the process's PATH (inside the container's root, so call
 * it after pivot_root). Returns a malloc'd path. Errors read like runc's:
 * exec: "foo": executable file not found in $PATH. */
int rt_process_lookup(const struct oci_process *p, char **path,
		      struct rt_err **err);

/* rlimits, oom_score_adj, personality: things that need full privileges. */
int rt_process_limits(const struct oci_process *p, bool has_personality,
		      unsigned long personality, struct rt_err **err);

/* cwd, no_new_privs, seccomp (before or after the uid change depending on
 * no_new_privs, as the kernel requires), bounding set, user and groups,
 * capabilities and umask. seccomp may be NULL. */
int rt_process_identity(const struct oci_process *p,
			const struct oci_seccomp *seccomp, struct rt_err **err);

/* The environment with HOME added from /etc/passwd when the config has none. */
char **rt_process_env(const struct oci_process *p);

#endif
