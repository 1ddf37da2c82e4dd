#ifndef FERRY_NAMESPACES_H
#define FERRY_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "oci/config.h"

/* Namespaces created by clone(): every new one except cgroup and time, which
 * the init creates itself later (the cgroup namespace must be rooted at the
 * container's cgroup, time offsets must be written before anyone enters). */
unsigned long rt_ns_clone_flags(const struct oci_linux *l);
bool rt_ns_wants_new(const struct oci_linux *l, int type);
bool rt_ns_has_joins(const struct oci_linux *l);
/* The config has a namespace of that type, new or joined. */
bool rt_ns_has(const struct oci_linux *l, int type);

/* Only namespaced sysctls may be set, and only when the container has the
 * namespace they belong to (runc's rules). */
int rt_ns_check_sysctls(const struct oci_linux *l, struct rt_err **err);

/* Open every namespace path to join (in the runtime's view of the host).
 * fds[i] matches l->namespaces[i]; -1 for new namespaces. */
int rt_ns_open_joins(const struct oci_linux *l, int **fds, struct rt_err **err);
void rt_ns_close_joins(const struct oci_linux *l, int *fds);
/* setns() into them, the user namespace first. */
int rt_ns_join(const struct oci_linux *l, const int *fds, struct rt_err **err);

/* Write uid_map / gid_map of a child that has a new user namespace. */
int rt_ns_write_idmaps(pid_t pid, const struct oci_linux *l, struct rt_err **err);

/* In the init, once it is in its cgroups: new cgroup and time namespaces. */
int rt_ns_enter_late(const struct oci_linux *l, struct rt_err **err);

/* Bring loopback up in a new network namespace (runc does too; a container
 * with lo down cannot even talk to itself). */
int rt_ns_loopback_up(struct rt_err **err);

#endif
