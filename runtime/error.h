/* Errors that carry errno and a message naming the object, wrapped with
 * context by outer layers. Only main() prints them. */
#ifndef FERRY_ERROR_H
#define FERRY_ERROR_H

#include <stdarg.h>

struct rt_err {
	int code; /* errno, or 0 when the failure is not a system error */
	char *msg;
};

/* Set *err (if err is not NULL and *err is NULL) and return -1. The message
 * gets ": strerror(code)" appended when code is not 0. */
int rt_err_set(struct rt_err **err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the message of *err with context: "context: old message". Returns -1
 * so a caller can `return rt_err_wrap(err, "restore %s", id);`. */
int rt_err_wrap(struct rt_err **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void rt_err_free(struct rt_err *err);

/* Hand e (another thread's error, or NULL) to the caller's *err, or free
 * it when the caller wants none or has one: -1 for an error, else 0. */
int rt_err_pass(struct rt_err **err, struct rt_err *e);

static inline void rt_err_freep(struct rt_err **e) { rt_err_free(*e); }
#define cleanup_err __attribute__((cleanup(rt_err_freep)))

#endif
