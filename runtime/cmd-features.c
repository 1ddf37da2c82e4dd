#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "oci/spec.h"

static int run(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
	       char **argv, struct rt_err **err)
{
	static const struct option opts[] = { RT_HELP_OPTION, { 0 } };
	int c;
	while ((c = rt_cmd_getopt(self, argc, argv, "h", opts, err)) != -1) {
		if (c != 'h')
			return -1;
		rt_cmd_help(self);
		return 0;
	}
	if (rt_cmd_nargs(self, argc, 0, 0, err) < 0)
		return -1;
	char *json = oci_features_json();
	printf("%s\n", json);
	free(json);
	return 0;
}

const struct rt_cmd rt_cmd_features = {
	.name = "features",
	.summary = "print what this build of ferry supports (runtime-spec features JSON)",
	.usage = "",
	.run = run,
};
