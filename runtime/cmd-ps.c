#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "container.h"
#include "util.h"

static bool contains(const pid_t *pids, size_t n, long pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* Run ps(1) with the caller's arguments and keep the header and the lines
 * whose PID column names a process of the container. */
static int filter_ps(char **ps_args, const pid_t *pids, size_t n, struct rt_err **err)
{
	cleanup_free char *cmd = xstrdup("ps");
	for (size_t i = 0; ps_args && ps_args[i]; i++) {
		char *next = xasprintf("%s '%s'", cmd, ps_args[i]);
		free(cmd);
		cmd = next;
	}
	FILE *f = popen(cmd, "re");
	if (f == NULL)
		return rt_err_set(err, errno, "run '%s'", cmd);
	cleanup_free char *line = NULL;
	size_t cap = 0;
	int pid_col = -1;
	while (getline(&line, &cap, f) > 0) {
		cleanup_free char *copy = xstrdup(line);
		char *save = NULL;
		int col = 0;
		bool keep = pid_col < 0;
		for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save), col++) {
			if (pid_col < 0 && strcmp(t, "PID") == 0)
				pid_col = col;
			else if (col == pid_col)
				keep = contains(pids, n, strtol(t, NULL, 10));
		}
		if (keep)
			fputs(line, stdout);
	}
	int st = pclose(f);
	if (pid_col < 0)
		return rt_err_set(err, 0, "ps output has no PID column (command '%s')", cmd);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0
		: rt_err_set(err, 0, "'%s' failed", cmd);
}

static int run(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
	       char **argv, struct rt_err **err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		RT_HELP_OPTION,
		{ 0 },
	};
	const char *format = "table";
	int c;
	while ((c = rt_cmd_getopt(self, argc, argv, "f:h", opts, err)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'h')
			return rt_cmd_help(self), 0;
		else
			return -1;
	}
	if (rt_cmd_nargs(self, argc, 1, -1, err) < 0)
		return -1;
	if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
		return rt_err_set(err, 0, "invalid format option \"%s\" (table or json)", format);
	cleanup_free pid_t *pids = NULL;
	size_t n;
	if (rt_container_pids(ctx, argv[optind], &pids, &n, err) < 0)
		return -1;
	if (strcmp(format, "json") == 0) {
		printf("[");
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", pids[i]);
		printf("]\n");
		return 0;
	}
	static char *default_args[] = { "-ef", NULL };
	char **ps_args = argc - optind > 1 ? &argv[optind + 1] : default_args;
	fflush(stdout);
	return filter_ps(ps_args, pids, n, err);
}

const struct rt_cmd rt_cmd_ps = {
	.name = "ps",
	.summary = "list the processes of a container",
	.usage = "[command options] <container-id> [ps options]",
	.flags = "   --format value, -f value  table (through ps(1)) or json (default: table)\n",
	.run = run,
};
