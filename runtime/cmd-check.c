#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cmd.h"
#include "coordinator/coordinator.h"

static int print_names(void)
{
	for (const char *const *n = rt_check_names(); *n; n++)
		printf("%s\n", *n);
	return 0;
}

static int run(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
	       char **argv, struct rt_err **err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "list", no_argument, NULL, 'l' },
		RT_HELP_OPTION,
		{ 0 },
	};
	const char *format = "text";
	int c;
	while ((c = rt_cmd_getopt(self, argc, argv, "f:lh", opts, err)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'l')
			return print_names();
		else if (c == 'h')
			return rt_cmd_help(self), 0;
		else
			return -1;
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
		return rt_err_set(err, 0, "check: --format: \"%s\" is not text or json", format);
	const char *force = getenv(CR_ENV_FORCE_PPID_WALK);
	struct rt_check_opts o = {
		.force_ppid_walk = force && strcmp(force, "1") == 0,
		.only = optind < argc ? argv + optind : NULL,
	};
	cleanup_check_report struct rt_check_report *rep = NULL;
	if (rt_check_run(&o, &rep, err) < 0)
		return -1;
	char *out = strcmp(format, "json") == 0 ? rt_check_format_json(rep)
						: rt_check_format_text(rep);
	fputs(out, stdout);
	free(out);
	return rep->count[RT_CHECK_BROKEN] > 0 ? 1 : 0;
}

const struct rt_cmd rt_cmd_check = {
	.name = "check",
	.summary = "probe the kernel mechanisms checkpoint/restore uses",
	.usage = "[command options] [CHECK...]",
	.flags = "   --format value  text or json (default: text)\n"
		 "   --list          print the names of the checks\n"
		 "   Each line says supported, missing (with what ferry does instead) or\n"
		 "   broken; the exit status is 1 when a check is broken. Set\n"
		 "   " CR_ENV_FORCE_PPID_WALK "=1 to walk process trees by PPid.\n",
	.run = run,
};
