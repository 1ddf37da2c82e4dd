/* Device nodes in the container's /dev: the defaults every OCI runtime
 * provides, then linux.devices, then the /dev symlinks. In a user namespace
 * mknod is not allowed, so the host's node is bind-mounted instead. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "inroot.h"
#include "mounts.h"
#include "util.h"

static const struct oci_device default_devices[] = {
	{ .type = 'c', .path = "/dev/null", .major = 1, .minor = 3 },
	{ .type = 'c', .path = "/dev/zero", .major = 1, .minor = 5 },
	{ .type = 'c', .path = "/dev/full", .major = 1, .minor = 7 },
	{ .type = 'c', .path = "/dev/random", .major = 1, .minor = 8 },
	{ .type = 'c', .path = "/dev/urandom", .major = 1, .minor = 9 },
	{ .type = 'c', .path = "/dev/tty", .major = 5, .minor = 0 },
};

static const struct {
	const char *target, *link;
} dev_symlinks[] = {
	{ "/proc/self/fd", "/dev/fd" },
	{ "/proc/self/fd/0", "/dev/stdin" },
	{ "/proc/self/fd/1", "/dev/stdout" },
	{ "/proc/self/fd/2", "/dev/stderr" },
	{ "pts/ptmx", "/dev/ptmx" },
};

static int bind_host_node(int rootfd, const struct oci_device *d,
			  struct rt_err **err)
{
	cleanup_close int fd = rt_mkfile_in_root(rootfd, d->path, err);
	if (fd < 0)
		return -1;
	char buf[32];
	if (mount(d->path, rt_fd_path(fd, buf), NULL, MS_BIND, NULL) < 0)
		return rt_err_set(err, errno, "bind the host's '%s'", d->path);
	return 0;
}

static int make_node(int rootfd, const struct oci_device *d, struct rt_err **err)
{
	const char *slash = strrchr(d->path, '/');
	cleanup_free char *parent = xstrndup(d->path, (size_t)(slash - d->path));
	cleanup_close int pfd = rt_mkdir_in_root(rootfd, *parent ? parent : "/", 0755, err);
	if (pfd < 0)
		return -1;
	char buf[32];
	cleanup_close int dfd = open(rt_fd_path(pfd, buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return rt_err_set(err, errno, "open the parent of '%s'", d->path);
	mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	mode_t perm = d->has_file_mode ? (d->file_mode & 07777) : 0666;
	dev_t dev = makedev((unsigned)d->major, (unsigned)d->minor);
	if (mknodat(dfd, slash + 1, type | perm, d->type == 'p' ? 0 : dev) < 0) {
		if (errno != EEXIST)
			return rt_err_set(err, errno, "mknod '%s'", d->path);
		unlinkat(dfd, slash + 1, 0);
		if (mknodat(dfd, slash + 1, type | perm, d->type == 'p' ? 0 : dev) < 0)
			return rt_err_set(err, errno, "mknod '%s'", d->path);
	}
	if (fchmodat(dfd, slash + 1, perm, 0) < 0)
		return rt_err_set(err, errno, "chmod '%s'", d->path);
	uid_t uid = d->has_uid ? d->uid : 0;
	gid_t gid = d->has_gid ? d->gid : 0;
	if (fchownat(dfd, slash + 1, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return rt_err_set(err, errno, "chown '%s'", d->path);
	return 0;
}

static int create_device(int rootfd, const struct oci_device *d, bool userns,
			 struct rt_err **err)
{
	return userns ? bind_host_node(rootfd, d, err) : make_node(rootfd, d, err);
}

int rt_devices_create(int rootfd, const struct oci_config *c, bool userns,
		      struct rt_err **err)
{
	mode_t old = umask(0);
	int ret = 0;
	for (size_t i = 0; i < ARRAY_SIZE(default_devices) && ret == 0; i++)
		ret = create_device(rootfd, &default_devices[i], userns, err);
	for (size_t i = 0; i < c->linux_.n_devices && ret == 0; i++)
		if (create_device(rootfd, &c->linux_.devices[i], userns, err) < 0)
			ret = rt_err_wrap(err, "linux.devices[%zu]", i);
	umask(old);
	if (ret < 0)
		return -1;
	cleanup_close int dev = rt_open_in_root(rootfd, "/dev", O_RDONLY | O_DIRECTORY, err);
	if (dev < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(dev_symlinks); i++)
		if (symlinkat(dev_symlinks[i].target, dev, dev_symlinks[i].link + 5) < 0 &&
		    errno != EEXIST)
			return rt_err_set(err, errno, "symlink '%s'", dev_symlinks[i].link);
	if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", dev, "core") < 0 &&
	    errno != EEXIST)
		return rt_err_set(err, errno, "symlink '/dev/core'");
	return 0;
}
