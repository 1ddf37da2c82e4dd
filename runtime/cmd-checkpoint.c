#include <string.h>

#include "cmd.h"
#include "container.h"

static int not_yet(const char *flag, struct rt_err **err)
{
	return rt_err_set(err, 0, "checkpoint: %s is not supported yet", flag);
}

static int run(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
	       char **argv, struct rt_err **err)
{
	static const struct option opts[] = {
		{ "image-path", required_argument, NULL, 'i' },
		{ "work-path", required_argument, NULL, 'w' },
		{ "parent-path", required_argument, NULL, 'P' },
		{ "leave-running", no_argument, NULL, 'l' },
		{ "tcp-established", no_argument, NULL, 't' },
		{ "ext-unix-sk", no_argument, NULL, 'x' },
		{ "shell-job", no_argument, NULL, 's' },
		{ "file-locks", no_argument, NULL, 'f' },
		{ "pre-dump", no_argument, NULL, 'p' },
		{ "manage-cgroups-mode", required_argument, NULL, 'm' },
		{ "empty-ns", required_argument, NULL, 'E' },
		{ "lazy-pages", no_argument, NULL, 'L' },
		{ "page-server", required_argument, NULL, 'S' },
		{ "status-fd", required_argument, NULL, 'F' },
		{ "auto-dedup", no_argument, NULL, 'A' },
		RT_HELP_OPTION,
		{ 0 },
	};
	struct rt_checkpoint_opts o = { .image_path = "checkpoint" };
	int c;
	while ((c = rt_cmd_getopt(self, argc, argv, "h", opts, err)) != -1) {
		switch (c) {
		case 'i': o.image_path = optarg; break;
		case 'w': o.work_path = optarg; break;
		case 'P': o.parent_path = optarg; break;
		case 'l': o.leave_running = true; break;
		case 't': o.tcp_established = true; break;
		case 'x': o.ext_unix_sk = true; break;
		case 's': o.shell_job = true; break;
		case 'f': o.file_locks = true; break;
		case 'p': o.pre_dump = true; break;
		case 'm': /* cgroups are always rebuilt from config.json at restore */
			if (strcmp(optarg, "soft") && strcmp(optarg, "full") &&
			    strcmp(optarg, "strict") && strcmp(optarg, "ignore"))
				return rt_err_set(err, 0, "--manage-cgroups-mode: \"%s\" is not "
						  "soft, full, strict or ignore", optarg);
			break;
		case 'E':
			if (rt_cmd_empty_ns(self, optarg, err) < 0)
				return -1;
			break;
		case 'L': return not_yet("--lazy-pages", err);
		case 'S': return not_yet("--page-server", err);
		case 'F': return not_yet("--status-fd", err);
		case 'A': o.auto_dedup = true; break;
		case 'h': rt_cmd_help(self); return 0;
		default: return -1;
		}
	}
	if (rt_cmd_nargs(self, argc, 1, 1, err) < 0)
		return -1;
	o.id = argv[optind];
	return rt_container_checkpoint(ctx, &o, err);
}

const struct rt_cmd rt_cmd_checkpoint = {
	.name = "checkpoint",
	.summary = "checkpoint a running container",
	.usage = "[command options] <container-id>",
	.flags = "   --image-path value       directory for the images (default: ./checkpoint)\n"
		 "   --work-path value        directory for stats and logs\n"
		 "   --leave-running          leave the container running after the checkpoint\n"
		 "   --tcp-established        allow open TCP connections\n"
		 "   --ext-unix-sk            allow external unix sockets\n"
		 "   --shell-job              allow a shell job (terminal of the caller)\n"
		 "   --file-locks             allow file locks\n"
		 "   --pre-dump               dump memory only, the container keeps running;\n"
		 "                            its written pages are tracked from then on\n"
		 "   --parent-path value      the last pre-dump (relative to --image-path):\n"
		 "                            write only the pages written since\n"
		 "   --auto-dedup             with --parent-path: punch the pages this dump\n"
		 "                            does not need out of the parent dumps\n"
		 "   --manage-cgroups-mode value  accepted: soft, full, strict, ignore\n"
		 "   --empty-ns network       accepted: a network namespace's configuration\n"
		 "                            is never saved\n",
	.run = run,
};
