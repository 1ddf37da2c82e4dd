#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "cmd.h"
#include "oci/spec.h"
#include "util.h"

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
	/* The kernel facts `ferry check` reports, as annotations. */
	cleanup_check_report struct rt_check_report *checks = NULL;
	struct rt_check_opts copts = { 0 };
	if (rt_check_run(&copts, &checks, err) < 0)
		return -1;
	cleanup_strv char **notes = rt_check_annotations(checks);
	char *json = oci_features_json_annotated(notes);
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
