#include <string.h>

#include "cmd.h"
#include "container.h"

static int run(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
	       char **argv, struct rt_err **err)
{
	static const struct option opts[] = {
		{ "image-path", required_argument, NULL, 'i' },
		{ "work-path", required_argument, NULL, 'w' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "no-subreaper", no_argument, NULL, 'S' },
		{ "no-pivot", no_argument, NULL, 'P' },
		{ "tcp-established", no_argument, NULL, 't' },
		{ "ext-unix-sk", no_argument, NULL, 'x' },
		{ "shell-job", no_argument, NULL, 's' },
		{ "file-locks", no_argument, NULL, 'f' },
		{ "paused", no_argument, NULL, 'z' },
		{ "manage-cgroups-mode", required_argument, NULL, 'm' },
		{ "empty-ns", required_argument, NULL, 'E' },
		{ "lazy-pages", no_argument, NULL, 'L' },
		{ "auto-dedup", no_argument, NULL, 'A' },
		{ "lsm-profile", required_argument, NULL, 'M' },
		{ "lsm-mount-context", required_argument, NULL, 'M' },
		RT_HELP_OPTION,
		{ 0 },
	};
	struct rt_restore_opts ro = { .image_path = "checkpoint" };
	struct rt_create_opts o = { .console_fd = -1, .restore = &ro };
	bool detach = false;
	int c;
	while ((c = rt_cmd_getopt(self, argc, argv, "b:dh", opts, err)) != -1) {
		switch (c) {
		case 'i': ro.image_path = optarg; break;
		case 'w': ro.work_path = optarg; break;
		case 'b': o.bundle = optarg; break;
		case 'd': detach = true; break;
		case 'p': o.pid_file = optarg; break;
		case 'c': o.console_socket = optarg; break;
		case 'S': break;
		case 'P': o.no_pivot = true; break;
		case 't': ro.tcp_established = true; break;
		case 'x': ro.ext_unix_sk = true; break;
		case 's': ro.shell_job = true; break;
		case 'f': ro.file_locks = true; break;
		case 'z': ro.paused = true; break;
		case 'm': break; /* cgroups are always rebuilt from config.json */
		case 'E':
			if (rt_cmd_empty_ns(self, optarg, err) < 0)
				return -1;
			break;
		case 'L': case 'A': case 'M':
			return rt_err_set(err, 0, "restore: %s is not supported yet",
					  argv[optind - 1]);
		case 'h': rt_cmd_help(self); return 0;
		default: return -1;
		}
	}
	if (rt_cmd_nargs(self, argc, 1, 1, err) < 0)
		return -1;
	o.id = argv[optind];
	int status;
	if (rt_container_restore(ctx, &o, detach, &status, err) < 0)
		return -1;
	return status;
}

const struct rt_cmd rt_cmd_restore = {
	.name = "restore",
	.summary = "restore a container from a checkpoint",
	.usage = "[command options] <container-id>",
	.flags = "   --image-path value       directory holding the images (default: ./checkpoint)\n"
		 "   --work-path value        directory for stats and logs\n"
		 "   --bundle value, -b value the bundle to rebuild the container from\n"
		 "   --detach, -d             do not wait for the restored container\n"
		 "   --pid-file value         file to write the init's pid to\n"
		 "   --console-socket value   send the restored terminal's pty master here\n"
		 "   --no-pivot               do not use pivot_root\n"
		 "   --tcp-established        restore open TCP connections\n"
		 "   --ext-unix-sk            allow external unix sockets\n"
		 "   --shell-job              restore a shell job\n"
		 "   --file-locks             restore file locks\n"
		 "   --paused                 leave the restored container paused\n"
		 "   --manage-cgroups-mode value  accepted: cgroups come from config.json\n"
		 "   --empty-ns network       accepted: the network namespace is made as\n"
		 "                            config.json asks, with loopback up\n",
	.run = run,
};
