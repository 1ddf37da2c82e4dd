#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rt_err_set(struct rt_err **err, int code, const char *fmt, ...)
{
	if (err == NULL || *err != NULL)
		return -1;
	struct rt_err *e = calloc(1, sizeof(*e));
	if (e == NULL)
		abort();
	char *base = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&base, fmt, ap) < 0)
		abort();
	va_end(ap);
	e->code = code;
	if (code != 0) {
		if (asprintf(&e->msg, "%s: %s", base, strerror(code)) < 0)
			abort();
		free(base);
	} else {
		e->msg = base;
	}
	*err = e;
	return -1;
}

int rt_err_wrap(struct rt_err **err, const char *fmt, ...)
{
	if (err == NULL || *err == NULL)
		return -1;
	char *ctx = NULL, *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&ctx, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (asprintf(&msg, "%s: %s", ctx, (*err)->msg) < 0)
		abort();
	free(ctx);
	free((*err)->msg);
	(*err)->msg = msg;
	return -1;
}

void rt_err_free(struct rt_err *err)
{
	if (err == NULL)
		return;
	free(err->msg);
	free(err);
}

int rt_err_pass(struct rt_err **err, struct rt_err *e)
{
	if (e == NULL)
		return 0;
	if (err && *err == NULL)
		*err = e;
	else
		rt_err_free(e);
	return -1;
}
