#include "inroot.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

int rt_open_in_root(int rootfd, const char *path, int flags, struct rt_err **err)
{
	struct open_how how = {
		.flags = (unsigned)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	while (*path == '/')
		path++;
	if (*path == '\0')
		path = ".";
	int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0)
		return rt_err_set(err, errno, "open '%s' in the container root", path);
	return fd;
}

/* Split path into (parent, last). parent is "" for top-level entries. */
static void split(const char *path, char **parent, char **last)
{
	char *p = xstrdup(path);
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	char *slash = strrchr(p, '/');
	if (slash == NULL) {
		*parent = xstrdup("");
		*last = p;
		return;
	}
	*last = xstrdup(slash + 1);
	*slash = '\0';
	*parent = p;
}

int rt_mkdir_in_root(int rootfd, const char *path, mode_t mode, struct rt_err **err)
{
	struct rt_err *e = NULL;
	int fd = rt_open_in_root(rootfd, path, O_PATH | O_DIRECTORY, &e);
	if (fd >= 0 || e->code != ENOENT) {
		if (fd < 0)
			*err = e;
		return fd;
	}
	rt_err_free(e);
	cleanup_free char *parent = NULL, *last = NULL;
	split(path, &parent, &last);
	cleanup_close int pfd = rt_mkdir_in_root(rootfd, parent, mode, err);
	if (pfd < 0)
		return -1;
	if (mkdirat(pfd, last, mode) < 0 && errno != EEXIST)
		return rt_err_set(err, errno, "mkdir '%s' in the container root", path);
	return rt_open_in_root(rootfd, path, O_PATH | O_DIRECTORY, err);
}

int rt_mkfile_in_root(int rootfd, const char *path, struct rt_err **err)
{
	struct rt_err *e = NULL;
	int fd = rt_open_in_root(rootfd, path, O_PATH, &e);
	if (fd >= 0 || e->code != ENOENT) {
		if (fd < 0)
			*err = e;
		return fd;
	}
	rt_err_free(e);
	cleanup_free char *parent = NULL, *last = NULL;
	split(path, &parent, &last);
	cleanup_close int pfd = rt_mkdir_in_root(rootfd, parent, 0755, err);
	if (pfd < 0)
		return -1;
	/* O_PATH dir fds cannot create files; reopen the parent for real. */
	char buf[32];
	cleanup_close int dfd = open(rt_fd_path(pfd, buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return rt_err_set(err, errno, "open the parent of '%s'", path);
	int f = openat(dfd, last, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (f < 0 && errno != EEXIST)
		return rt_err_set(err, errno, "create '%s' in the container root", path);
	if (f >= 0)
		close(f);
	return rt_open_in_root(rootfd, path, O_PATH, err);
}

const char *rt_fd_path(int fd, char buf[static 32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}
