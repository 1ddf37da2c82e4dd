/* Pids on both sides of a pid namespace.
 *
 * The coordinator runs in an ancestor pid namespace of the tree it dumps or
 * restores (the host's, for a container): it reads /proc, ptraces, kills and
 * kcmps by host pids (hpid). The images hold the pids the tasks see of
 * themselves and of each other (vpid): the last field of NSpid in
 * /proc/PID/status, 1 for a container's init. Sessions and process groups
 * are recorded the same way (NSsid, NSpgid).
 *
 * Restore creates every task with clone3(set_tid = {vpid}) run by its
 * parent's agent inside the namespace, and learns the task's hpid from the
 * pidfd the agent sends back (fdinfo's "Pid:" is in the reader's
 * namespace); a thread made by an injected clone3 has its hpid in the
 * clone event's message (PTRACE_GETEVENTMSG is in the tracer's namespace).
 * When the tree lives in the coordinator's own namespace, vpid == hpid. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/internal.h"
#include "util.h"

/* The last of the tab-separated numbers after "Key:", and how many there
 * are; -1 when the line is missing or malformed. */
static int last_field(const char *status, const char *key, pid_t *last)
{
	const char *p = cr_status_field(status, key);
	int n = 0;
	while (p && *p && *p != '\n') {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || v < 0 || v > INT32_MAX)
			return -1;
		*last = (pid_t)v;
		n++;
		p = end + strspn(end, " \t");
	}
	return n > 0 ? n : -1;
}

int cr_ns_ids(pid_t pid, pid_t tid, struct cr_ns_ids *ids, struct rt_err **err)
{
	char file[64];
	snprintf(file, sizeof(file), "task/%d/status", tid);
	cleanup_free char *st = NULL;
	if (cr_proc_read(pid, file, &st, err) < 0)
		return -1;
	return cr_ns_ids_parse(st, pid, tid, ids, err);
}

int cr_ns_ids_parse(const char *st, pid_t pid, pid_t tid, struct cr_ns_ids *ids,
		    struct rt_err **err)
{
	int n = last_field(st, "NSpid", &ids->pid);
	if (n < 0 || last_field(st, "NSpgid", &ids->pgid) != n ||
	    last_field(st, "NSsid", &ids->sid) != n)
		return rt_err_set(err, 0, "pid %d (thread %d): no NSpid/NSpgid/NSsid "
				  "in its status", pid, tid);
	ids->level = n - 1;
	return 0;
}

int cr_pidfd_pid(int pidfd, pid_t *pid, struct rt_err **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	cleanup_free char *info = NULL;
	if (rt_read_file(path, &info, NULL, err) < 0)
		return -1;
	const char *p = cr_status_field(info, "Pid");
	long v = p ? strtol(p, NULL, 10) : 0;
	if (v > 0) {
		*pid = (pid_t)v;
		return 0;
	}
	/* -1: it has exited (and been reaped); 0: outside our namespace. */
	return rt_err_set(err, v < 0 ? ESRCH : 0, "'%s': no pid (%s)", path,
			  v < 0 ? "the task is gone" : "not a pidfd of our namespace");
}
