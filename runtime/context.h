/* What the global flags say, passed to every operation (no globals). */
#ifndef FERRY_CONTEXT_H
#define FERRY_CONTEXT_H

#include <stdbool.h>

struct rt_context {
	const char *root; /* state root, default /run/ferry */
	bool debug;
	bool systemd_cgroup;
	const char *rootless; /* "true", "false", "auto" (runc's --rootless) */
};

#define RT_DEFAULT_ROOT "/run/ferry"

#endif
