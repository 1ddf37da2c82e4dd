#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "container.h"

static int run(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
	       char **argv, struct rt_err **err)
{
	const char *id;
	int r = rt_cmd_id_only(self, argc, argv, &id, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	char *json;
	if (rt_container_state(ctx, id, &json, err) < 0)
		return -1;
	printf("%s", json); /* no newline, like runc */
	free(json);
	return 0;
}

const struct rt_cmd rt_cmd_state = {
	.name = "state",
	.summary = "print the OCI state of a container as JSON",
	.usage = "<container-id>",
	.run = run,
};
