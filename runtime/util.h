/* Ownership helpers and small file utilities shared by every layer. */
#ifndef FERRY_UTIL_H
#define FERRY_UTIL_H

#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

void rt_freep(void *p);
void rt_closep(int *fd);
void rt_fclosep(FILE **f);
void rt_closedirp(DIR **d);
void rt_strvfreep(char ***v);

#define cleanup_free __attribute__((cleanup(rt_freep)))
#define cleanup_close __attribute__((cleanup(rt_closep)))
#define cleanup_fclose __attribute__((cleanup(rt_fclosep)))
#define cleanup_closedir __attribute__((cleanup(rt_closedirp)))
#define cleanup_strv __attribute__((cleanup(rt_strvfreep)))

/* Hand ownership on: returns the value and clears the variable. */
#define steal_pointer(pp)                                                      \
	({                                                                     \
		__typeof__(*(pp)) _v = *(pp);                                  \
		*(pp) = NULL;                                                  \
		_v;                                                            \
	})
static inline int steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation failures abort: there is nothing sensible to recover. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* NULL-terminated string vectors. */
size_t rt_strv_len(char *const *v);
void rt_strv_free(char **v);
char **rt_strv_dup(char *const *v);
void rt_strv_push(char ***v, const char *s); /* copies s */
/* Set NAME=VALUE in an environment vector, replacing an entry of that name. */
void rt_env_set(char ***env, const char *kv);

/* Whole-file I/O. rt_read_file NUL-terminates the buffer (len excludes it). */
int rt_read_file(const char *path, char **buf, size_t *len, struct rt_err **err);
int rt_read_fd(int fd, const char *name, char **buf, size_t *len,
	       struct rt_err **err);
int rt_write_file(const char *path, const void *data, size_t len,
		  struct rt_err **err);
/* Write to path.tmp, fsync-free rename over path: readers see old or new. */
int rt_write_file_atomic(const char *path, const void *data, size_t len,
			 mode_t mode, struct rt_err **err);
int rt_write_all(int fd, const void *data, size_t len);
ssize_t rt_read_all(int fd, void *buf, size_t len);

int rt_mkdir_p(const char *path, mode_t mode, struct rt_err **err);
/* Remove a directory tree (does not cross mount points). */
int rt_rm_rf(const char *path, struct rt_err **err);

bool rt_has_prefix(const char *s, const char *prefix);
/* pthread_create with every signal blocked in the new thread, for helper
 * threads of a process whose signals (SIGCHLD of tracees, the caller's)
 * must reach its main thread and must not interrupt the helper. */
int rt_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg);
int rt_parse_int64(const char *s, long long *out);

#endif
