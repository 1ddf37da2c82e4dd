#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void rt_freep(void *p) { free(*(void **)p); }

void rt_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void rt_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

void rt_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

void rt_strvfreep(char ***v) { rt_strv_free(*v); }

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		abort();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		abort();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (p == NULL)
		abort();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

size_t rt_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

void rt_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

char **rt_strv_dup(char *const *v)
{
	size_t n = rt_strv_len(v);
	char **r = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		r[i] = xstrdup(v[i]);
	return r;
}

void rt_strv_push(char ***v, const char *s)
{
	size_t n = rt_strv_len(*v);
	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

void rt_env_set(char ***env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t n = eq ? (size_t)(eq - kv) + 1 : strlen(kv);
	for (size_t i = 0; *env && (*env)[i]; i++) {
		if (strncmp((*env)[i], kv, n) == 0) {
			free((*env)[i]);
			(*env)[i] = xstrdup(kv);
			return;
		}
	}
	rt_strv_push(env, kv);
}

int rt_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

ssize_t rt_read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int rt_read_fd(int fd, const char *name, char **buf, size_t *len,
	       struct rt_err **err)
{
	size_t cap = 4096, n = 0;
	cleanup_free char *b = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			b = xrealloc(b, cap);
		}
		ssize_t r = read(fd, b + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return rt_err_set(err, errno, "read '%s'", name);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	b[n] = '\0';
	*buf = steal_pointer(&b);
	if (len)
		*len = n;
	return 0;
}

int rt_read_file(const char *path, char **buf, size_t *len, struct rt_err **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_err_set(err, errno, "open '%s'", path);
	return rt_read_fd(fd, path, buf, len, err);
}

int rt_write_file(const char *path, const void *data, size_t len,
		  struct rt_err **err)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
	if (fd < 0)
		return rt_err_set(err, errno, "open '%s'", path);
	if (rt_write_all(fd, data, len) < 0)
		return rt_err_set(err, errno, "write '%s'", path);
	return 0;
}

int rt_write_file_atomic(const char *path, const void *data, size_t len,
			 mode_t mode, struct rt_err **err)
{
	cleanup_free char *tmp = xasprintf("%s.tmp", path);
	cleanup_close int fd =
		open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return rt_err_set(err, errno, "create '%s'", tmp);
	if (rt_write_all(fd, data, len) < 0) {
		int e = errno;
		unlink(tmp);
		return rt_err_set(err, e, "write '%s'", tmp);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return rt_err_set(err, e, "rename '%s' to '%s'", tmp, path);
	}
	return 0;
}

int rt_mkdir_p(const char *path, mode_t mode, struct rt_err **err)
{
	cleanup_free char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return rt_err_set(err, errno, "mkdir '%s'", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return rt_err_set(err, errno, "mkdir '%s'", p);
	return 0;
}

static int rm_rf_at(int dfd, const char *name, dev_t dev, struct rt_err **err)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : rt_err_set(err, errno, "stat '%s'", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
			return rt_err_set(err, errno, "unlink '%s'", name);
		return 0;
	}
	if (st.st_dev != dev)
		return rt_err_set(err, EXDEV, "remove '%s'", name);
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return rt_err_set(err, errno, "open '%s'", name);
	cleanup_closedir DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return rt_err_set(err, errno, "opendir '%s'", name);
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (rm_rf_at(dirfd(d), de->d_name, dev, err) < 0)
			return rt_err_wrap(err, "%s", name);
	}
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return rt_err_set(err, errno, "rmdir '%s'", name);
	return 0;
}

int rt_rm_rf(const char *path, struct rt_err **err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : rt_err_set(err, errno, "stat '%s'", path);
	return rm_rf_at(AT_FDCWD, path, st.st_dev, err);
}

bool rt_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int rt_parse_int64(const char *s, long long *out)
{
	if (s == NULL || *s == '\0')
		return -1;
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int rt_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int ret = pthread_create(thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}
