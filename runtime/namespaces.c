#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define LATE_NS (CLONE_NEWCGROUP | CLONE_NEWTIME)

unsigned long rt_ns_clone_flags(const struct oci_linux *l)
{
	unsigned long flags = 0;
	for (size_t i = 0; i < l->n_namespaces; i++)
		if (l->namespaces[i].path == NULL)
			flags |= (unsigned long)l->namespaces[i].type;
	return flags & ~(unsigned long)LATE_NS;
}

bool rt_ns_wants_new(const struct oci_linux *l, int type)
{
	for (size_t i = 0; i < l->n_namespaces; i++)
		if (l->namespaces[i].type == type)
			return l->namespaces[i].path == NULL;
	return false;
}

bool rt_ns_has(const struct oci_linux *l, int type)
{
	for (size_t i = 0; i < l->n_namespaces; i++)
		if (l->namespaces[i].type == type)
			return true;
	return false;
}

static int sysctl_namespace(const char *key)
{
	static const char *const ipc[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
					   "kernel.sem", "kernel.shmall", "kernel.shmmax",
					   "kernel.shmmni", "kernel.shm_rmid_forced" };
	for (size_t i = 0; i < ARRAY_SIZE(ipc); i++)
		if (strcmp(key, ipc[i]) == 0)
			return CLONE_NEWIPC;
	if (rt_has_prefix(key, "fs.mqueue."))
		return CLONE_NEWIPC;
	if (rt_has_prefix(key, "net."))
		return CLONE_NEWNET;
	if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
		return CLONE_NEWUTS;
	return 0;
}

int rt_ns_check_sysctls(const struct oci_linux *l, struct rt_err **err)
{
	for (size_t i = 0; i < l->n_sysctl; i++) {
		const char *key = l->sysctl_keys[i];
		int ns = sysctl_namespace(key);
		if (ns == 0)
			return rt_err_set(err, 0, "linux.sysctl[\"%s\"]: not a namespaced "
					  "kernel parameter: setting it would change the host", key);
		if (!rt_ns_has(l, ns))
			return rt_err_set(err, 0, "linux.sysctl[\"%s\"]: needs the container "
					  "to have its own %s namespace", key, oci_ns_name(ns));
	}
	return 0;
}

bool rt_ns_has_joins(const struct oci_linux *l)
{
	for (size_t i = 0; i < l->n_namespaces; i++)
		if (l->namespaces[i].path)
			return true;
	return false;
}

void rt_ns_close_joins(const struct oci_linux *l, int *fds)
{
	for (size_t i = 0; fds && i < l->n_namespaces; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}

int rt_ns_open_joins(const struct oci_linux *l, int **out, struct rt_err **err)
{
	int *fds = xcalloc(l->n_namespaces, sizeof(int));
	for (size_t i = 0; i < l->n_namespaces; i++) {
		fds[i] = -1;
		const char *path = l->namespaces[i].path;
		if (path == NULL)
			continue;
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			int e = errno;
			rt_ns_close_joins(l, fds);
			return rt_err_set(err, e, "linux.namespaces[%zu]: open '%s'",
					  i, path);
		}
	}
	*out = fds;
	return 0;
}

static int join_one(const struct oci_linux *l, const int *fds, size_t i,
		    struct rt_err **err)
{
	if (setns(fds[i], l->namespaces[i].type) < 0)
		return rt_err_set(err, errno, "linux.namespaces[%zu]: join %s "
				  "namespace '%s'", i,
				  oci_ns_name(l->namespaces[i].type),
				  l->namespaces[i].path);
	return 0;
}

int rt_ns_join(const struct oci_linux *l, const int *fds, struct rt_err **err)
{
	/* The user namespace decides what we may do in the others. */
	for (size_t i = 0; i < l->n_namespaces; i++)
		if (fds[i] >= 0 && l->namespaces[i].type == CLONE_NEWUSER &&
		    join_one(l, fds, i, err) < 0)
			return -1;
	for (size_t i = 0; i < l->n_namespaces; i++)
		if (fds[i] >= 0 && l->namespaces[i].type != CLONE_NEWUSER &&
		    join_one(l, fds, i, err) < 0)
			return -1;
	return 0;
}

static int write_map(pid_t pid, const char *file, const struct oci_idmap *m,
		     size_t n, const char *what, struct rt_err **err)
{
	if (n == 0)
		return 0;
	char buf[4096];
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n",
				 m[i].container_id, m[i].host_id, m[i].size);
		if (w < 0 || (size_t)w >= sizeof(buf) - len)
			return rt_err_set(err, E2BIG, "linux.%s: too many entries", what);
		len += (size_t)w;
	}
	cleanup_free char *path = xasprintf("/proc/%d/%s", pid, file);
	if (rt_write_file(path, buf, len, err) < 0)
		return rt_err_wrap(err, "linux.%s", what);
	return 0;
}

int rt_ns_write_idmaps(pid_t pid, const struct oci_linux *l, struct rt_err **err)
{
	if (write_map(pid, "uid_map", l->uid_mappings, l->n_uid_mappings,
		      "uidMappings", err) < 0)
		return -1;
	return write_map(pid, "gid_map", l->gid_mappings, l->n_gid_mappings,
			 "gidMappings", err);
}

static int enter_time_ns(const struct oci_linux *l, struct rt_err **err)
{
	if (unshare(CLONE_NEWTIME) < 0)
		return rt_err_set(err, errno, "create a time namespace");
	if (l->has_time_offsets) {
		char buf[128];
		int n = snprintf(buf, sizeof(buf), "monotonic %lld %u\nboottime %lld %u\n",
				 (long long)l->monotonic_secs, l->monotonic_nsecs,
				 (long long)l->boottime_secs, l->boottime_nsecs);
		if (rt_write_file("/proc/self/timens_offsets", buf, (size_t)n, err) < 0)
			return rt_err_wrap(err, "linux.timeOffsets");
	}
	/* unshare(CLONE_NEWTIME) only affects children; enter it ourselves. */
	cleanup_close int fd = open("/proc/self/ns/time_for_children",
				    O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWTIME) < 0)
		return rt_err_set(err, errno, "enter the new time namespace");
	return 0;
}

int rt_ns_enter_late(const struct oci_linux *l, struct rt_err **err)
{
	if (rt_ns_wants_new(l, CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		return rt_err_set(err, errno, "create a cgroup namespace");
	if (rt_ns_wants_new(l, CLONE_NEWTIME))
		return enter_time_ns(l, err);
	return 0;
}

int rt_ns_loopback_up(struct rt_err **err)
{
	cleanup_close int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return rt_err_set(err, errno, "socket for loopback set-up");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return rt_err_set(err, errno, "get flags of 'lo'");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return rt_err_set(err, errno, "bring 'lo' up");
	return 0;
}
