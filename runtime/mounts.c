#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "inroot.h"
#include "util.h"

/* Flags a user namespace cannot clear on a bind of a mount it does not own:
 * carry them over or the remount fails with EPERM. */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	return f;
}

static bool has_mount_at(const struct oci_config *c, const char *dest)
{
	for (size_t i = 0; i < c->n_mounts; i++)
		if (strcmp(c->mounts[i].destination, dest) == 0)
			return true;
	return false;
}

static char *bind_source(const struct rt_rootfs *r, const char *src)
{
	if (src[0] == '/')
		return xstrdup(src);
	return xasprintf("%s/%s", r->bundle, src);
}

static int remount_bind(int rootfd, const char *dest, unsigned long flags,
			const char *src_for_locks, bool userns, size_t idx,
			struct rt_err **err)
{
	/* Reopen: the fd of the mountpoint still names the covered dentry. */
	cleanup_close int fd = rt_open_in_root(rootfd, dest, O_PATH, err);
	if (fd < 0)
		return rt_err_wrap(err, "mounts[%zu]", idx);
	char buf[32];
	if (userns && src_for_locks)
		flags |= locked_flags(src_for_locks);
	if (mount(NULL, rt_fd_path(fd, buf), NULL, MS_BIND | MS_REMOUNT | flags,
		  NULL) < 0)
		return rt_err_set(err, errno, "mounts[%zu]: remount '%s' with "
				  "flags %#lx", idx, dest, flags);
	return 0;
}

static int set_propagation(int rootfd, const char *dest, unsigned long prop,
			   size_t idx, struct rt_err **err)
{
	cleanup_close int fd = rt_open_in_root(rootfd, dest, O_PATH, err);
	if (fd < 0)
		return rt_err_wrap(err, "mounts[%zu]", idx);
	char buf[32];
	if (mount(NULL, rt_fd_path(fd, buf), NULL, prop, NULL) < 0)
		return rt_err_set(err, errno, "mounts[%zu]: set propagation of '%s'",
				  idx, dest);
	return 0;
}

static int mount_bind(const struct rt_rootfs *r, int rootfd,
		      const struct oci_mount *m, size_t idx, struct rt_err **err)
{
	if (m->source == NULL)
		return rt_err_set(err, 0, "mounts[%zu].source: a bind mount needs a source", idx);
	cleanup_free char *src = bind_source(r, m->source);
	struct stat st;
	if (stat(src, &st) < 0)
		return rt_err_set(err, errno, "mounts[%zu].source: '%s'", idx, src);
	cleanup_close int fd = S_ISDIR(st.st_mode)
		? rt_mkdir_in_root(rootfd, m->destination, 0755, err)
		: rt_mkfile_in_root(rootfd, m->destination, err);
	if (fd < 0)
		return rt_err_wrap(err, "mounts[%zu].destination", idx);
	char buf[32];
	unsigned long flags = MS_BIND | (m->recursive ? MS_REC : 0);
	if (mount(src, rt_fd_path(fd, buf), NULL, flags, NULL) < 0)
		return rt_err_set(err, errno, "mounts[%zu]: bind '%s' on '%s'", idx,
				  src, m->destination);
	unsigned long extra = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
	if (extra && remount_bind(rootfd, m->destination, extra, src, r->userns,
				  idx, err) < 0)
		return -1;
	return 0;
}

/* cgroup v1/hybrid: a tmpfs with one directory per hierarchy, each either a
 * fresh cgroupfs (in a cgroup namespace, rooted at the container) or a bind
 * of the container's own cgroup directory. */
static int mount_cgroup_hierarchy(const struct rt_rootfs *r, int dirfd,
				  size_t i, unsigned long flags, struct rt_err **err)
{
	const struct rt_cgroup *cg = r->cgroup;
	const char *name = cg->names[i];
	const char *dir = rt_has_prefix(name, "name=") ? name + 5 : name;
	if (mkdirat(dirfd, dir, 0755) < 0 && errno != EEXIST)
		return rt_err_set(err, errno, "mkdir cgroup dir '%s'", dir);
	cleanup_close int fd = openat(dirfd, dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return rt_err_set(err, errno, "open cgroup dir '%s'", dir);
	char buf[32];
	int ret;
	if (!r->cgroupns) {
		ret = mount(cg->paths[i], rt_fd_path(fd, buf), NULL, MS_BIND | MS_REC, NULL);
		if (ret == 0 && (flags & MS_RDONLY)) {
			/* Reopen: fd still names the covered directory. */
			cleanup_close int top = openat(dirfd, dir, O_PATH | O_DIRECTORY |
							       O_NOFOLLOW | O_CLOEXEC);
			ret = top < 0 ? -1 : mount(NULL, rt_fd_path(top, buf), NULL,
						   MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID |
							   MS_NODEV | MS_NOEXEC, NULL);
		}
	} else if (strcmp(name, "unified") == 0) {
		ret = mount("cgroup2", rt_fd_path(fd, buf), "cgroup2", flags, NULL);
	} else {
		cleanup_free char *opts = rt_has_prefix(name, "name=")
			? xasprintf("none,%s", name) : xstrdup(name);
		ret = mount("cgroup", rt_fd_path(fd, buf), "cgroup", flags, opts);
	}
	if (ret < 0)
		return rt_err_set(err, errno, "mount cgroup hierarchy '%s'", name);
	/* "cpu,cpuacct" is also reachable as "cpu" and "cpuacct". */
	if (strchr(dir, ',') && !rt_has_prefix(name, "name=")) {
		cleanup_free char *copy = xstrdup(dir);
		char *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if (symlinkat(dir, dirfd, t) < 0 && errno != EEXIST)
				return rt_err_set(err, errno, "symlink cgroup dir '%s'", t);
	}
	return 0;
}

static int mount_cgroup(const struct rt_rootfs *r, int rootfd,
			const struct oci_mount *m, size_t idx, struct rt_err **err)
{
	const struct rt_cgroup *cg = r->cgroup;
	unsigned long flags = m->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	cleanup_close int fd = rt_mkdir_in_root(rootfd, m->destination, 0755, err);
	if (fd < 0)
		return rt_err_wrap(err, "mounts[%zu].destination", idx);
	char buf[32];
	if (cg->layout == RT_CGROUP_V2) {
		int ret = r->cgroupns
			? mount("cgroup2", rt_fd_path(fd, buf), "cgroup2", flags, NULL)
			: mount(cg->paths[0], rt_fd_path(fd, buf), NULL, MS_BIND | MS_REC, NULL);
		if (ret < 0)
			return rt_err_set(err, errno, "mounts[%zu]: mount cgroup2 on '%s'",
					  idx, m->destination);
		return 0;
	}
	if (mount("tmpfs", rt_fd_path(fd, buf), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=755") < 0)
		return rt_err_set(err, errno, "mounts[%zu]: tmpfs on '%s'", idx,
				  m->destination);
	cleanup_close int dfd = rt_open_in_root(rootfd, m->destination,
						O_RDONLY | O_DIRECTORY, err);
	if (dfd < 0)
		return rt_err_wrap(err, "mounts[%zu]", idx);
	for (size_t i = 0; i < cg->n; i++)
		if (mount_cgroup_hierarchy(r, dfd, i, flags, err) < 0)
			return rt_err_wrap(err, "mounts[%zu]", idx);
	if (m->flags & MS_RDONLY)
		return remount_bind(rootfd, m->destination,
				    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
				    NULL, false, idx, err);
	return 0;
}

static int mount_fs(const struct rt_rootfs *r, int rootfd,
		    const struct oci_mount *m, size_t idx, struct rt_err **err)
{
	cleanup_close int fd = rt_mkdir_in_root(rootfd, m->destination, 0755, err);
	if (fd < 0)
		return rt_err_wrap(err, "mounts[%zu].destination", idx);
	char buf[32];
	const char *src = m->source ? m->source : m->type;
	if (mount(src, rt_fd_path(fd, buf), m->type, m->flags, m->data) == 0)
		return 0;
	int e = errno;
	/* sysfs cannot be mounted from a user namespace that does not own the
	 * network namespace: bind the host's, read-only, like runc. */
	if (e == EPERM && strcmp(m->type, "sysfs") == 0 && r->userns) {
		if (mount("/sys", rt_fd_path(fd, buf), NULL, MS_BIND | MS_REC, NULL) == 0)
			return remount_bind(rootfd, m->destination,
					    m->flags | MS_RDONLY, "/sys", true, idx, err);
		e = errno;
	}
	return rt_err_set(err, e, "mounts[%zu]: mount %s on '%s' (options '%s')",
			  idx, m->type, m->destination, m->data ? m->data : "");
}

static int mount_one(const struct rt_rootfs *r, int rootfd,
		     const struct oci_mount *m, size_t idx, struct rt_err **err)
{
	int ret;
	if (m->bind)
		ret = mount_bind(r, rootfd, m, idx, err);
	else if (m->type && strcmp(m->type, "cgroup") == 0)
		ret = mount_cgroup(r, rootfd, m, idx, err);
	else if (m->type == NULL)
		ret = rt_err_set(err, 0, "mounts[%zu].type: required for a "
				 "non-bind mount", idx);
	else
		ret = mount_fs(r, rootfd, m, idx, err);
	if (ret == 0 && m->propagation)
		ret = set_propagation(rootfd, m->destination, m->propagation, idx, err);
	return ret;
}

int rt_rootfs_prepare(const struct rt_rootfs *r, struct rt_err **err)
{
	const struct oci_config *c = r->config;
	unsigned long prop = c->linux_.rootfs_propagation;
	/* Never let our mounts propagate back to the host. */
	if (prop == 0 || (prop & (MS_SHARED)))
		prop = MS_SLAVE | MS_REC;
	if (mount(NULL, "/", NULL, prop, NULL) < 0)
		return rt_err_set(err, errno, "set propagation of '/'");
	if (mount(r->rootfs, r->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return rt_err_set(err, errno, "root.path: bind '%s'", r->rootfs);
	cleanup_close int rootfd = open(r->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return rt_err_set(err, errno, "root.path: open '%s'", r->rootfs);
	for (size_t i = 0; i < c->n_mounts; i++)
		if (mount_one(r, rootfd, &c->mounts[i], i, err) < 0)
			return -1;
	if (has_mount_at(c, "/dev") && rt_devices_create(rootfd, c, r->userns, err) < 0)
		return -1;
	if (c->process) {
		cleanup_close int cwd = rt_mkdir_in_root(rootfd, c->process->cwd, 0755, err);
		if (cwd < 0)
			return rt_err_wrap(err, "process.cwd");
	}
	return 0;
}

int rt_rootfs_pivot(const struct rt_rootfs *r, struct rt_err **err)
{
	if (chdir(r->rootfs) < 0)
		return rt_err_set(err, errno, "chdir '%s'", r->rootfs);
	if (r->no_pivot) {
		if (mount(r->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
			return rt_err_set(err, errno, "move '%s' to '/'", r->rootfs);
		if (chroot(".") < 0)
			return rt_err_set(err, errno, "chroot '%s'", r->rootfs);
		return chdir("/") < 0 ? rt_err_set(err, errno, "chdir '/'") : 0;
	}
	/* pivot_root(".", ".") stacks the old root under the new one; detaching
	 * "." afterwards removes it without needing a directory for it. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return rt_err_set(err, errno, "pivot_root to '%s'", r->rootfs);
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return rt_err_set(err, errno, "make the old root a slave");
	if (umount2(".", MNT_DETACH) < 0)
		return rt_err_set(err, errno, "detach the old root");
	return chdir("/") < 0 ? rt_err_set(err, errno, "chdir '/'") : 0;
}

static int write_sysctls(const struct oci_linux *l, struct rt_err **err)
{
	for (size_t i = 0; i < l->n_sysctl; i++) {
		cleanup_free char *path = xasprintf("/proc/sys/%s", l->sysctl_keys[i]);
		for (char *p = path + 10; *p; p++)
			if (*p == '.')
				*p = '/';
		const char *v = l->sysctl_values[i];
		if (rt_write_file(path, v, strlen(v), err) < 0)
			return rt_err_wrap(err, "linux.sysctl[\"%s\"]", l->sysctl_keys[i]);
	}
	return 0;
}

static int mask_path(const char *path, struct rt_err **err)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : rt_err_set(err, errno, "linux.maskedPaths: '%s'", path);
	int ret = S_ISDIR(st.st_mode)
		? mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k")
		: mount("/dev/null", path, NULL, MS_BIND, NULL);
	if (ret < 0 && errno != ENOENT)
		return rt_err_set(err, errno, "linux.maskedPaths: mask '%s'", path);
	return 0;
}

static int readonly_path(const char *path, struct rt_err **err)
{
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return errno == ENOENT ? 0
				       : rt_err_set(err, errno, "linux.readonlyPaths: bind '%s'", path);
	unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(path);
	if (mount(NULL, path, NULL, flags, NULL) < 0)
		return rt_err_set(err, errno, "linux.readonlyPaths: remount '%s'", path);
	return 0;
}

int rt_rootfs_finish(const struct rt_rootfs *r, struct rt_err **err)
{
	const struct oci_config *c = r->config;
	if (write_sysctls(&c->linux_, err) < 0)
		return -1;
	for (size_t i = 0; c->linux_.readonly_paths && c->linux_.readonly_paths[i]; i++)
		if (readonly_path(c->linux_.readonly_paths[i], err) < 0)
			return -1;
	for (size_t i = 0; c->linux_.masked_paths && c->linux_.masked_paths[i]; i++)
		if (mask_path(c->linux_.masked_paths[i], err) < 0)
			return -1;
	if (c->root.readonly) {
		unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/");
		if (mount(NULL, "/", NULL, flags, NULL) < 0)
			return rt_err_set(err, errno, "root.readonly: remount '/' read-only");
	}
	unsigned long prop = c->linux_.rootfs_propagation;
	if (prop && mount(NULL, "/", NULL, prop, NULL) < 0)
		return rt_err_set(err, errno, "linux.rootfsPropagation: set on '/'");
	return 0;
}
