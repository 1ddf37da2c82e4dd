#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "container.h"
#include "util.h"

/* "5s", "500ms", "1m", or plain seconds. */
static int parse_interval(const char *s, unsigned *ms, struct rt_err **err)
{
	char *end = NULL;
	double v = strtod(s, &end);
	double scale = 1000;
	if (strcmp(end, "ms") == 0)
		scale = 1;
	else if (strcmp(end, "m") == 0)
		scale = 60000;
	else if (*end != '\0' && strcmp(end, "s") != 0)
		end = NULL;
	if (end == NULL || end == s || v <= 0 || v * scale > 86400000)
		return rt_err_set(err, 0, "invalid interval \"%s\"", s);
	*ms = (unsigned)(v * scale);
	return 0;
}

static int run(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
	       char **argv, struct rt_err **err)
{
	static const struct option opts[] = {
		{ "stats", no_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		RT_HELP_OPTION,
		{ 0 },
	};
	bool once = false;
	unsigned interval = 5000;
	int c;
	while ((c = rt_cmd_getopt(self, argc, argv, "h", opts, err)) != -1) {
		if (c == 's')
			once = true;
		else if (c == 'i') {
			if (parse_interval(optarg, &interval, err) < 0)
				return -1;
		} else if (c == 'h')
			return rt_cmd_help(self), 0;
		else
			return -1;
	}
	if (rt_cmd_nargs(self, argc, 1, 1, err) < 0)
		return -1;
	return rt_container_events(ctx, argv[optind], once, interval, err);
}

const struct rt_cmd rt_cmd_events = {
	.name = "events",
	.summary = "print stats, oom and exit events of a container as JSON lines",
	.usage = "[command options] <container-id>",
	.flags = "   --stats           print one stats record and exit\n"
		 "   --interval value  time between stats records (default: 5s)\n",
	.run = run,
};
