#include <string.h>

#include "cmd.h"
#include "container.h"

/* create and run share their flags; run adds --detach and --keep. */
int rt_cmd_create_flags(const struct rt_cmd *cmd, int argc, char **argv,
			struct rt_create_opts *o, bool *detach, bool *keep,
			struct rt_err **err)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "no-pivot", no_argument, NULL, 'P' },
		{ "no-new-keyring", no_argument, NULL, 'K' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ "detach", no_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, 'k' },
		{ "no-subreaper", no_argument, NULL, 'S' },
		RT_HELP_OPTION,
		{ 0 },
	};
	bool is_run = detach != NULL;
	o->console_fd = -1;
	int c;
	while ((c = rt_cmd_getopt(cmd, argc, argv, is_run ? "b:dh" : "b:h", opts, err)) != -1) {
		switch (c) {
		case 'b': o->bundle = optarg; break;
		case 'c': o->console_socket = optarg; break;
		case 'p': o->pid_file = optarg; break;
		case 'P': o->no_pivot = true; break;
		case 'K': o->no_new_keyring = true; break;
		case 'S': break; /* ferry never needs to be a subreaper for create */
		case 'f':
			if (rt_cmd_int("--preserve-fds", optarg, &o->preserve_fds, err) < 0)
				return -1;
			break;
		case 'd':
		case 'k':
			if (!is_run)
				return rt_err_set(err, 0, "%s: unknown flag '%s'", cmd->name,
						  argv[optind - 1]);
			*(c == 'd' ? detach : keep) = true;
			break;
		case 'h': rt_cmd_help(cmd); return 1;
		default: return -1;
		}
	}
	if (rt_cmd_nargs(cmd, argc, 1, 1, err) < 0)
		return -1;
	o->id = argv[optind];
	return 0;
}

static int run(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
	       char **argv, struct rt_err **err)
{
	struct rt_create_opts o = { 0 };
	int r = rt_cmd_create_flags(self, argc, argv, &o, NULL, NULL, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	return rt_container_create(ctx, &o, err);
}

const struct rt_cmd rt_cmd_create = {
	.name = "create",
	.summary = "create a container",
	.usage = "[command options] <container-id>",
	.flags = "   --bundle value, -b value  path to the root of the bundle directory (default: .)\n"
		 "   --console-socket value    unix socket that receives the pty master\n"
		 "   --pid-file value          file to write the container's init pid to\n"
		 "   --no-pivot                do not use pivot_root (for a rootfs on ramfs)\n"
		 "   --no-new-keyring          keep the caller's session keyring\n"
		 "   --preserve-fds value      pass N extra file descriptors (3..3+N-1)\n",
	.run = run,
};
