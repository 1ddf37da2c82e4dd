/* The container's filesystem: mounts from config.json, devices, pivot_root,
 * masked and read-only paths. Runs in the init, in its new mount namespace. */
#ifndef FERRY_MOUNTS_H
#define FERRY_MOUNTS_H

#include <stdbool.h>

#include "cgroup.h"
#include "error.h"
#include "oci/config.h"

struct rt_rootfs {
	const struct oci_config *config;
	const char *rootfs; /* absolute, in the runtime's view */
	const char *bundle; /* relative bind sources are relative to it */
	const struct rt_cgroup *cgroup;
	bool userns;        /* new user namespace: no mknod, locked mount flags */
	bool cgroupns;      /* new cgroup namespace: mount cgroupfs, not binds */
	bool no_pivot;
};

/* Propagation, the rootfs bind, every mount, devices and the cwd. */
int rt_rootfs_prepare(const struct rt_rootfs *r, struct rt_err **err);
/* pivot_root (or MS_MOVE + chroot with no_pivot); the old root is gone. */
int rt_rootfs_pivot(const struct rt_rootfs *r, struct rt_err **err);
/* After pivot: sysctls, masked and read-only paths, read-only root. */
int rt_rootfs_finish(const struct rt_rootfs *r, struct rt_err **err);

/* devices.c: default devices, linux.devices and the /dev symlinks. */
int rt_devices_create(int rootfd, const struct oci_config *c, bool userns,
		      struct rt_err **err);

#endif
