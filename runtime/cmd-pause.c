#include <stdbool.h>

#include "cmd.h"
#include "container.h"

static int run(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
	       char **argv, struct rt_err **err)
{
	const char *id;
	int r = rt_cmd_id_only(self, argc, argv, &id, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	return rt_container_pause(ctx, id, self == &rt_cmd_pause, err);
}

const struct rt_cmd rt_cmd_pause = {
	.name = "pause",
	.summary = "freeze every process of a container",
	.usage = "<container-id>",
	.run = run,
};

const struct rt_cmd rt_cmd_resume = {
	.name = "resume",
	.summary = "thaw a paused container",
	.usage = "<container-id>",
	.run = run,
};
