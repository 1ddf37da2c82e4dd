/* The log sink is process-wide by nature (one --log per invocation), so it is
 * the one piece of global state: set once in main() before any work. */
#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "util.h"

static struct {
	int fd;
	bool json;
	bool debug;
} sink = { .fd = -1 };

int rt_log_open(const char *path, const char *format, bool debug)
{
	sink.debug = debug;
	sink.json = format && strcmp(format, "json") == 0;
	if (path == NULL || *path == '\0')
		return 0;
	sink.fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	return sink.fd < 0 ? -1 : 0;
}

bool rt_log_debug_enabled(void) { return sink.debug; }
int rt_log_fd(void) { return sink.fd; }

static const char *level_name(enum rt_log_level l)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	return names[l];
}

static char *timestamp(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	return xasprintf("%s.%09ldZ", buf, ts.tv_nsec);
}

static void write_json(const char *level, const char *msg, const char *time)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_gen_map_open(g);
	yajl_gen_string(g, (const unsigned char *)"level", 5);
	yajl_gen_string(g, (const unsigned char *)level, strlen(level));
	yajl_gen_string(g, (const unsigned char *)"msg", 3);
	yajl_gen_string(g, (const unsigned char *)msg, strlen(msg));
	yajl_gen_string(g, (const unsigned char *)"time", 4);
	yajl_gen_string(g, (const unsigned char *)time, strlen(time));
	yajl_gen_map_close(g);
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	char *line = xasprintf("%.*s\n", (int)len, buf);
	rt_write_all(sink.fd, line, strlen(line));
	free(line);
	yajl_gen_free(g);
}

static void write_text(int fd, const char *level, const char *msg, const char *time)
{
	char *line = xasprintf("time=\"%s\" level=%s msg=\"%s\"\n", time, level, msg);
	rt_write_all(fd, line, strlen(line));
	free(line);
}

void rt_log(enum rt_log_level level, const char *fmt, ...)
{
	if (level == RT_LOG_DEBUG && !sink.debug)
		return;
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	cleanup_free char *time = timestamp();
	if (sink.fd >= 0) {
		if (sink.json)
			write_json(level_name(level), msg, time);
		else
			write_text(sink.fd, level_name(level), msg, time);
	}
	/* Errors reach the caller's stderr plainly even when a log file is
	 * set, as runc does; other records go to stderr only without one. */
	if (level == RT_LOG_ERROR)
		fprintf(stderr, "ferry: %s\n", msg);
	else if (sink.fd < 0)
		write_text(STDERR_FILENO, level_name(level), msg, time);
	free(msg);
}
