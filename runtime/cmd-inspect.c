#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "coordinator/coordinator.h"

static int run(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
	       char **argv, struct rt_err **err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		RT_HELP_OPTION,
		{ 0 },
	};
	enum cr_inspect_format format = CR_INSPECT_TEXT;
	int c;
	while ((c = rt_cmd_getopt(self, argc, argv, "f:h", opts, err)) != -1) {
		if (c == 'f' && strcmp(optarg, "text") == 0)
			format = CR_INSPECT_TEXT;
		else if (c == 'f' && strcmp(optarg, "json") == 0)
			format = CR_INSPECT_JSON;
		else if (c == 'f')
			return rt_err_set(err, 0, "invalid format option \"%s\" (text or json)",
					  optarg);
		else if (c == 'h')
			return rt_cmd_help(self), 0;
		else
			return -1;
	}
	if (rt_cmd_nargs(self, argc, 1, 1, err) < 0)
		return -1;
	char *out = NULL;
	if (cr_inspect(argv[optind], format, &out, err) < 0)
		return -1;
	fputs(out, stdout);
	if (format == CR_INSPECT_JSON)
		fputc('\n', stdout);
	free(out);
	return 0;
}

const struct rt_cmd rt_cmd_inspect = {
	.name = "inspect",
	.summary = "show what a checkpoint image directory holds",
	.usage = "[command options] <image-path>",
	.flags = "   --format value, -f value  text (a tree view) or json (default: text)\n",
	.run = run,
};
