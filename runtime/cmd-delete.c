#include "cmd.h"
#include "container.h"

static int run(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
	       char **argv, struct rt_err **err)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		RT_HELP_OPTION,
		{ 0 },
	};
	bool force = false;
	int c;
	while ((c = rt_cmd_getopt(self, argc, argv, "fh", opts, err)) != -1) {
		if (c == 'f')
			force = true;
		else if (c == 'h')
			return rt_cmd_help(self), 0;
		else
			return -1;
	}
	if (rt_cmd_nargs(self, argc, 1, 1, err) < 0)
		return -1;
	return rt_container_delete(ctx, argv[optind], force, err);
}

const struct rt_cmd rt_cmd_delete = {
	.name = "delete",
	.summary = "delete a container and everything it holds",
	.usage = "[command options] <container-id>",
	.flags = "   --force, -f  kill the container first if it is running\n",
	.run = run,
};
