/* Paths resolved inside the container's root with openat2(RESOLVE_IN_ROOT):
 * a symlink in a rootfs can never point a mount or a device node at the
 * host. Every function returns an fd (O_PATH unless said otherwise). */
#ifndef FERRY_INROOT_H
#define FERRY_INROOT_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

int rt_open_in_root(int rootfd, const char *path, int flags, struct rt_err **err);
/* mkdir -p inside the root; returns an O_PATH fd to the directory. */
int rt_mkdir_in_root(int rootfd, const char *path, mode_t mode, struct rt_err **err);
/* Create the parents and an empty file (kept if it exists); O_PATH fd. */
int rt_mkfile_in_root(int rootfd, const char *path, struct rt_err **err);
/* "/proc/self/fd/N": a path mount(2) accepts for an fd. */
const char *rt_fd_path(int fd, char buf[static 32]);

#endif
