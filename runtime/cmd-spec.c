#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "oci/spec.h"
#include "util.h"

static int run(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
	       char **argv, struct rt_err **err)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "rootless", no_argument, NULL, 'r' },
		RT_HELP_OPTION,
		{ 0 },
	};
	const char *bundle = ".";
	bool rootless = false;
	int c;
	while ((c = rt_cmd_getopt(self, argc, argv, "b:h", opts, err)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else if (c == 'r')
			rootless = true;
		else if (c == 'h')
			return rt_cmd_help(self), 0;
		else
			return -1;
	}
	if (rt_cmd_nargs(self, argc, 0, 0, err) < 0)
		return -1;
	cleanup_free char *path = xasprintf("%s/config.json", bundle);
	cleanup_free char *json = oci_spec_default(rootless, geteuid(), getegid());
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EEXIST)
		return rt_err_set(err, 0, "File %s exists. Remove it first", path);
	if (fd < 0)
		return rt_err_set(err, errno, "create '%s'", path);
	if (rt_write_all(fd, json, strlen(json)) < 0)
		return rt_err_set(err, errno, "write '%s'", path);
	return 0;
}

const struct rt_cmd rt_cmd_spec = {
	.name = "spec",
	.summary = "write a default config.json into a bundle",
	.usage = "[command options]",
	.flags = "   --bundle value, -b value  the bundle directory (default: .)\n"
		 "   --rootless                a configuration for a rootless container\n",
	.run = run,
};
