/* events: runc's stats records, plus "oom" and "exit" notifications taken
 * from the kernel (an OOM eventfd / memory.events, and a pidfd of the init)
 * rather than from polling, and "tasks" (fork and exit counts) where the
 * kernel has cgroup.tasks.events (ferry's patch 1): a watch of any cgroup
 * directory's file (events.h), which the stream polls next to the others. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "container.h"
#include "coordinator/coordinator.h"
#include "events.h"
#include "oci/json-gen.h"
#include "util.h"

static void gen_cpu(yajl_gen g, const struct rt_cgroup_stats *s)
{
	gen_str(g, "cpu");
	yajl_gen_map_open(g);
	gen_str(g, "usage");
	yajl_gen_map_open(g);
	gen_key_int(g, "total", (long long)s->cpu_total_ns);
	gen_str(g, "percpu");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < s->n_cpus; i++)
		yajl_gen_integer(g, (long long)s->cpu_percpu_ns[i]);
	yajl_gen_array_close(g);
	gen_key_int(g, "kernel", (long long)s->cpu_kernel_ns);
	gen_key_int(g, "user", (long long)s->cpu_user_ns);
	yajl_gen_map_close(g);
	gen_str(g, "throttling");
	yajl_gen_map_open(g);
	gen_key_int(g, "periods", (long long)s->cpu_total_periods);
	gen_key_int(g, "throttledPeriods", (long long)s->cpu_throttled_periods);
	gen_key_int(g, "throttledTime", (long long)s->cpu_throttled_ns);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
}

static void gen_memory(yajl_gen g, const struct rt_cgroup_stats *s)
{
	gen_str(g, "memory");
	yajl_gen_map_open(g);
	gen_key_int(g, "cache", (long long)s->mem_cache);
	gen_str(g, "usage");
	yajl_gen_map_open(g);
	gen_key_int(g, "limit", (long long)s->mem_limit);
	gen_key_int(g, "usage", (long long)s->mem_usage);
	gen_key_int(g, "max", (long long)s->mem_max_usage);
	gen_key_int(g, "failcnt", (long long)s->mem_failcnt);
	yajl_gen_map_close(g);
	gen_str(g, "swap");
	yajl_gen_map_open(g);
	gen_key_int(g, "limit", (long long)s->swap_limit);
	gen_key_int(g, "usage", (long long)s->swap_usage);
	yajl_gen_map_close(g);
	gen_str(g, "raw");
	yajl_gen_map_open(g);
	gen_key_int(g, "cache", (long long)s->mem_cache);
	gen_key_int(g, "rss", (long long)s->mem_rss);
	gen_key_int(g, "oom_kill", (long long)s->oom_kills);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
}

static void emit(yajl_gen g, FILE *out)
{
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	fwrite(buf, 1, len, out);
	fputc('\n', out);
	fflush(out);
	yajl_gen_free(g);
}

static yajl_gen event_open(const char *type, const char *id)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	yajl_gen_map_open(g);
	gen_str(g, "type");
	gen_str(g, type);
	gen_str(g, "id");
	gen_str(g, id);
	return g;
}

static void print_simple(const char *type, const char *id)
{
	yajl_gen g = event_open(type, id);
	yajl_gen_map_close(g);
	emit(g, stdout);
}

static int print_stats(const struct rt_container *c, struct rt_err **err)
{
	struct rt_cgroup_stats s = { 0 };
	if (rt_cgroup_stats(c->cgroup, &s, err) < 0)
		return -1;
	yajl_gen g = event_open("stats", c->id);
	gen_str(g, "data");
	yajl_gen_map_open(g);
	gen_cpu(g, &s);
	gen_memory(g, &s);
	gen_str(g, "pids");
	yajl_gen_map_open(g);
	gen_key_int(g, "current", (long long)s.pids_current);
	gen_key_int(g, "limit", (long long)s.pids_limit);
	yajl_gen_map_close(g);
	gen_str(g, "blkio");
	yajl_gen_map_open(g);
	yajl_gen_map_close(g);
	gen_str(g, "hugetlb");
	yajl_gen_map_open(g);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	emit(g, stdout);
	rt_cgroup_stats_free(&s);
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void drain_fd(int fd)
{
	char buf[256];
	if (read(fd, buf, sizeof(buf)) < 0 && errno != EAGAIN)
		return;
}

static uint64_t oom_kills(const struct rt_container *c)
{
	struct rt_cgroup_stats s = { 0 };
	struct rt_err *e = NULL;
	if (rt_cgroup_stats(c->cgroup, &s, &e) < 0)
		rt_err_free(e);
	rt_cgroup_stats_free(&s);
	return s.oom_kills;
}

/* v1 signals an eventfd once per OOM; v2's inotify on memory.events fires on
 * any change of the file, so there the kill count decides. */
static bool oom_happened(const struct rt_container *c, int fd, uint64_t *last)
{
	drain_fd(fd);
	if (c->cgroup->layout != RT_CGROUP_V2)
		return true;
	uint64_t now = oom_kills(c);
	bool more = now > *last;
	*last = now;
	return more;
}

/* The tasks watch (events.h): "tasks" records from cgroup.tasks.events. */
void rt_tasks_record_print(FILE *out, const char *id, const struct cr_tasks_events *c)
{
	yajl_gen g = event_open("tasks", id);
	gen_str(g, "data");
	yajl_gen_map_open(g);
	gen_key_int(g, "fork", (long long)c->fork);
	gen_key_int(g, "exit", (long long)c->exit);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	emit(g, out);
}

bool rt_tasks_watch_moved(struct rt_tasks_watch *w, const struct cr_tasks_events *now)
{
	if (now->fork == w->last.fork && now->exit == w->last.exit)
		return false;
	w->last = *now;
	return true;
}

void rt_tasks_watch_stop(struct rt_tasks_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

void rt_tasks_watch_start(struct rt_tasks_watch *w, int fd, const char *id, FILE *out)
{
	cleanup_err struct rt_err *e = NULL;
	*w = (struct rt_tasks_watch){ .fd = fd, .id = id, .out = out };
	if (fd >= 0 && cr_tasks_events_read(fd, &w->last, &e) < 0)
		rt_tasks_watch_stop(w);
}

struct pollfd rt_tasks_watch_pollfd(const struct rt_tasks_watch *w)
{
	return (struct pollfd){ .fd = w->fd, .events = POLLPRI };
}

int rt_tasks_watch_handle(struct rt_tasks_watch *w, short revents)
{
	if (w->fd < 0 || !(revents & POLLPRI))
		return 0;
	struct cr_tasks_events now;
	cleanup_err struct rt_err *e = NULL;
	if (cr_tasks_events_read(w->fd, &now, &e) < 0) {
		rt_tasks_watch_stop(w);
		return -1;
	}
	if (!rt_tasks_watch_moved(w, &now))
		return 0;
	rt_tasks_record_print(w->out, w->id, &now);
	return 1;
}

static int stream(const struct rt_container *c, unsigned interval_ms,
		  struct rt_err **err)
{
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, c->state->pid, 0);
	struct rt_err *e = NULL;
	cleanup_close int oom = rt_cgroup_oom_fd(c->cgroup, &e);
	rt_err_free(e); /* no memory controller: no oom events */
	cleanup_tasks_watch struct rt_tasks_watch tw;
	rt_tasks_watch_start(&tw, rt_cgroup_tasks_events_fd(c->cgroup), c->id, stdout);
	struct pollfd p[3] = { { .fd = pidfd, .events = POLLIN },
			       { .fd = oom, .events = POLLIN },
			       rt_tasks_watch_pollfd(&tw) };
	long long next = now_ms();
	uint64_t last_ooms = oom_kills(c);
	int ret = 0;
	for (;;) {
		if (now_ms() >= next) {
			if ((ret = print_stats(c, err)) < 0)
				break;
			next = now_ms() + interval_ms;
		}
		int wait = (int)(next - now_ms());
		if (poll(p, 3, wait < 0 ? 0 : wait) < 0 && errno != EINTR) {
			ret = rt_err_set(err, errno, "poll");
			break;
		}
		if ((p[1].revents & POLLIN) && oom_happened(c, oom, &last_ooms))
			print_simple("oom", c->id);
		if (rt_tasks_watch_handle(&tw, p[2].revents) < 0)
			p[2].fd = -1; /* the cgroup went away */
		if (pidfd < 0 || (p[0].revents & POLLIN) ||
		    !rt_proc_alive(c->state->pid, c->state->pid_start_time)) {
			print_simple("exit", c->id);
			break;
		}
	}
	return ret;
}

int rt_container_events(const struct rt_context *ctx, const char *id, bool once,
			unsigned interval_ms, struct rt_err **err)
{
	cleanup_container struct rt_container *c = NULL;
	if (rt_container_open(ctx, id, false, &c, err) < 0)
		return -1;
	if (strcmp(rt_container_status(c), "stopped") == 0)
		return rt_err_set(err, 0, "container with id %s is not running", id);
	if (once)
		return print_stats(c, err);
	return stream(c, interval_ms ? interval_ms : 5000, err);
}
