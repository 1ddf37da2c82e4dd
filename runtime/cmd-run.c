#include "cmd.h"
#include "container.h"

static int run(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
	       char **argv, struct rt_err **err)
{
	struct rt_create_opts o = { 0 };
	bool detach = false, keep = false;
	int r = rt_cmd_create_flags(self, argc, argv, &o, &detach, &keep, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	int status;
	if (rt_container_run(ctx, &o, detach, keep, &status, err) < 0)
		return -1;
	return status;
}

const struct rt_cmd rt_cmd_run = {
	.name = "run",
	.summary = "create and start a container, and wait for it unless detached",
	.usage = "[command options] <container-id>",
	.flags = "   --bundle value, -b value  path to the root of the bundle directory (default: .)\n"
		 "   --console-socket value    unix socket that receives the pty master\n"
		 "   --detach, -d              detach from the container's process\n"
		 "   --keep                    do not delete the container after it exits\n"
		 "   --pid-file value          file to write the container's init pid to\n"
		 "   --no-pivot                do not use pivot_root\n"
		 "   --no-new-keyring          keep the caller's session keyring\n"
		 "   --no-subreaper            accepted for compatibility\n"
		 "   --preserve-fds value      pass N extra file descriptors (3..3+N-1)\n",
	.run = run,
};
