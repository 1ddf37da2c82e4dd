/* The "tasks" records of `ferry events`: a cgroup's fork and exit counts
 * from its cgroup.tasks.events (ferry's kernel patch 1), one JSON line
 *
 *   {"type":"tasks","id":"ID","data":{"fork":N,"exit":N}}
 *
 * whenever either moved. The watch is one fd in the caller's poll() set:
 * the kernel reports each change with POLLPRI. Without the file (a kernel
 * without the patch, no cgroup2 hierarchy) there is nothing to poll and no
 * record. Kept apart from the container so that a test can drive it on any
 * cgroup directory (tests/unit/test-events.c, also run by make kernel-test). */
#ifndef FERRY_EVENTS_H
#define FERRY_EVENTS_H

#include <poll.h>
#include <stdbool.h>
#include <stdio.h>

#include "coordinator/coordinator.h"

struct rt_tasks_watch {
	int fd;                      /* -1: nothing to watch (any longer) */
	struct cr_tasks_events last; /* the counters last reported, or first read */
	const char *id;              /* the records' "id" */
	FILE *out;                   /* where the records go, flushed one by one */
};

/* Start watching an fd of cgroup.tasks.events (cr_tasks_events_open,
 * rt_cgroup_tasks_events_fd), which the watch then owns; fd -1 is a watch of
 * nothing. The first read sets the baseline (and arms poll: kernfs reports
 * an fd that was never read as changed); a file that cannot be read is
 * closed and not watched. */
void rt_tasks_watch_start(struct rt_tasks_watch *w, int fd, const char *id, FILE *out);
void rt_tasks_watch_stop(struct rt_tasks_watch *w);
#define cleanup_tasks_watch __attribute__((cleanup(rt_tasks_watch_stop)))

/* The entry for the caller's poll() set (fd -1 when there is nothing to
 * watch, which poll() ignores). */
struct pollfd rt_tasks_watch_pollfd(const struct rt_tasks_watch *w);

/* What poll() returned for that entry: on POLLPRI re-read the counters and
 * print a record when fork or exit moved. 1: a record was printed; 0: none;
 * -1: the file can no longer be read (the cgroup went away), and the watch
 * has stopped: poll it no more. */
int rt_tasks_watch_handle(struct rt_tasks_watch *w, short revents);

/* Is a record due for counters now? Only fork and exit count (a migration
 * alone is not reported); when due, now becomes the last reported. */
bool rt_tasks_watch_moved(struct rt_tasks_watch *w, const struct cr_tasks_events *now);

/* One record and its newline on out, flushed. */
void rt_tasks_record_print(FILE *out, const char *id, const struct cr_tasks_events *c);

#endif
