#include <ctype.h>
#include <signal.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "container.h"
#include "util.h"

/* "KILL", "SIGKILL", "9", and the real-time forms "RTMIN+3". */
static int parse_signal(const char *s, int *sig, struct rt_err **err)
{
	long long n;
	if (rt_parse_int64(s, &n) == 0) {
		if (n <= 0 || n > SIGRTMAX)
			return rt_err_set(err, 0, "invalid signal \"%s\"", s);
		*sig = (int)n;
		return 0;
	}
	const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
	if (strncasecmp(name, "RTMIN+", 6) == 0 && rt_parse_int64(name + 6, &n) == 0 &&
	    SIGRTMIN + n <= SIGRTMAX) {
		*sig = SIGRTMIN + (int)n;
		return 0;
	}
	for (int i = 1; i < SIGRTMIN; i++) {
		const char *abbrev = sigabbrev_np(i);
		if (abbrev && strcasecmp(abbrev, name) == 0) {
			*sig = i;
			return 0;
		}
	}
	return rt_err_set(err, 0, "unknown signal \"%s\"", s);
}

static int run(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
	       char **argv, struct rt_err **err)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		RT_HELP_OPTION,
		{ 0 },
	};
	bool all = false;
	int c;
	while ((c = rt_cmd_getopt(self, argc, argv, "ah", opts, err)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == 'h')
			return rt_cmd_help(self), 0;
		else
			return -1;
	}
	if (rt_cmd_nargs(self, argc, 1, 2, err) < 0)
		return -1;
	int sig = SIGTERM;
	if (argc - optind == 2 && parse_signal(argv[optind + 1], &sig, err) < 0)
		return -1;
	return rt_container_kill(ctx, argv[optind], sig, all, err);
}

const struct rt_cmd rt_cmd_kill = {
	.name = "kill",
	.summary = "send a signal to the container's init (or every process)",
	.usage = "[command options] <container-id> [signal]",
	.flags = "   --all, -a  send the signal to every process of the container\n",
	.run = run,
};
