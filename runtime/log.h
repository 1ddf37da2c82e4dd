/* Logging the way callers of runc expect it: --log FILE receives records
 * (text or, with --log-format json, one JSON object per line that podman and
 * containerd read back on failure); errors also go to stderr. */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

#include <stdbool.h>

enum rt_log_level { RT_LOG_ERROR, RT_LOG_WARN, RT_LOG_INFO, RT_LOG_DEBUG };

int rt_log_open(const char *path, const char *format, bool debug);
void rt_log(enum rt_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool rt_log_debug_enabled(void);
/* The log fd (-1 when logging to stderr only), for children that must keep it. */
int rt_log_fd(void);

#define rt_warn(...) rt_log(RT_LOG_WARN, __VA_ARGS__)
#define rt_debug(...)                                                          \
	do {                                                                   \
		if (rt_log_debug_enabled())                                    \
			rt_log(RT_LOG_DEBUG, __VA_ARGS__);                     \
	} while (0)

#endif
