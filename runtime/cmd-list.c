#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "cmd.h"
#include "container.h"

static void print_table(const struct rt_container_info *v, size_t n, bool quiet)
{
	if (quiet) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", v[i].state->id);
		return;
	}
	printf("%-12s %-10s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE",
	       "CREATED", "OWNER");
	for (size_t i = 0; i < n; i++) {
		const struct oci_state *s = v[i].state;
		bool stopped = strcmp(v[i].status, "stopped") == 0;
		printf("%-12s %-10d %-10s %-40s %-30s %s\n", s->id, stopped ? 0 : s->pid,
		       v[i].status, s->bundle, s->created, *s->owner ? s->owner : "root");
	}
}

static void print_json(const struct rt_container_info *v, size_t n)
{
	printf("[");
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].status, "stopped") == 0)
			v[i].state->pid = 0;
		/* runc's list names the owner where its state leaves it empty. */
		if (*v[i].state->owner == '\0') {
			free(v[i].state->owner);
			v[i].state->owner = strdup("root");
		}
		char *json = oci_state_public_json(v[i].state, v[i].status, false);
		printf("%s%s", i ? "," : "", json);
		free(json);
	}
	printf("]\n");
}

static int run(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
	       char **argv, struct rt_err **err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		RT_HELP_OPTION,
		{ 0 },
	};
	const char *format = "table";
	bool quiet = false;
	int c;
	while ((c = rt_cmd_getopt(self, argc, argv, "f:qh", opts, err)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'q')
			quiet = true;
		else if (c == 'h')
			return rt_cmd_help(self), 0;
		else
			return -1;
	}
	if (rt_cmd_nargs(self, argc, 0, 0, err) < 0)
		return -1;
	if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
		return rt_err_set(err, 0, "invalid format option \"%s\" (table or json)", format);
	struct rt_container_info *v;
	size_t n;
	if (rt_container_list(ctx, &v, &n, err) < 0)
		return -1;
	if (strcmp(format, "json") == 0)
		print_json(v, n);
	else
		print_table(v, n, quiet);
	rt_container_info_free(v, n);
	return 0;
}

const struct rt_cmd rt_cmd_list = {
	.name = "list",
	.summary = "list the containers under the root",
	.usage = "[command options]",
	.flags = "   --format value, -f value  table or json (default: table)\n"
		 "   --quiet, -q               print only the ids\n",
	.run = run,
};
