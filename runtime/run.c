/* run: create + start, and in the foreground wait for the container like a
 * shell waits for a command. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "container.h"
#include "foreground.h"
#include "log.h"
#include "terminal.h"
#include "util.h"

/* The pty master the init (or a restore, during create) sent us. A restore
 * sends one only if its images hold a terminal: take what is there. */
static int take_master(int sock, bool restore, int *master, struct rt_err **err)
{
	char b;
	if (restore && recv(sock, &b, 1, MSG_PEEK | MSG_DONTWAIT) <= 0)
		return 0;
	return rt_recv_fd(sock, master, err);
}

static int run_foreground(const struct rt_context *ctx, const struct rt_create_opts *o,
			  bool keep, int *exit_status, struct rt_err **err)
{
	/* Without --console-socket we are the console: the init sends the pty
	 * master to us and we relay it. */
	int sv[2] = { -1, -1 };
	if (o->console_socket == NULL &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return rt_err_set(err, errno, "socketpair");
	cleanup_close int ours = sv[0];
	cleanup_close int theirs = sv[1];
	struct rt_create_opts co = *o;
	co.console_fd = theirs;
	rt_foreground_prepare();
	if (rt_container_create(ctx, &co, err) < 0)
		return -1;
	close(steal_fd(&theirs));
	cleanup_container struct rt_container *c = NULL;
	if (rt_container_open(ctx, o->id, false, &c, err) < 0)
		return -1;
	cleanup_close int master = -1;
	if (c->state->terminal && ours >= 0 && take_master(ours, o->restore, &master, err) < 0)
		goto fail;
	if (!o->restore && rt_container_start(ctx, o->id, err) < 0)
		goto fail;
	if (rt_foreground_wait(c->state->pid, master, exit_status, err) < 0)
		goto fail;
	if (!keep && rt_container_delete(ctx, o->id, true, err) < 0)
		return -1;
	return 0;
fail:;
	struct rt_err *e = NULL;
	if (rt_container_delete(ctx, o->id, true, &e) < 0) {
		rt_warn("run %s: clean up: %s", o->id, e->msg);
		rt_err_free(e);
	}
	return -1;
}

int rt_container_run(const struct rt_context *ctx, const struct rt_create_opts *o,
		     bool detach, bool keep, int *exit_status, struct rt_err **err)
{
	*exit_status = 0;
	if (!detach)
		return run_foreground(ctx, o, keep, exit_status, err);
	if (rt_container_create(ctx, o, err) < 0)
		return -1;
	if (rt_container_start(ctx, o->id, err) < 0) {
		struct rt_err *e = NULL;
		if (rt_container_delete(ctx, o->id, true, &e) < 0)
			rt_err_free(e);
		return -1;
	}
	return 0;
}

int rt_container_restore(const struct rt_context *ctx, const struct rt_create_opts *o,
			 bool detach, int *exit_status, struct rt_err **err)
{
	*exit_status = 0;
	if (!detach)
		return run_foreground(ctx, o, false, exit_status, err);
	return rt_container_create(ctx, o, err);
}
