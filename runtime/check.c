/* `ferry check`: one probe per kernel mechanism, registered in probes[]
 * (name, what, fallback, function). A probe exercises the mechanism the way
 * ferry uses it on something it creates itself (a child, a scratch cgroup,
 * a socket), removes it, and returns supported / missing / broken with a
 * detail. Nothing is cached: each probe costs well under a few ms. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "cgroup.h"
#include "check.h"
#include "coordinator/coordinator.h"
#include "util.h"

/* Debian 12's UAPI headers are from 6.1 (KERNEL-NOTES.md). */
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#define CHK_UFFD_FEATURE_WP_ASYNC (1ULL << 15)
#define CHK_PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#define CHK_PAGE_IS_PRESENT (1ULL << 3)
struct chk_page_region {
	uint64_t start, end, categories;
};
struct chk_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define CHK_PAGEMAP_SCAN _IOWR('f', 16, struct chk_pm_scan_arg)
struct chk_rseq_config {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size, signature, flags, pad;
};

/* The file ferry's kernel patch 2 adds (kernel-patches/README.md). */
#define SIGACTIONS_FILE "/proc/self/sigactions"

/* State shared by the probes of one run: scratch cgroups made on demand and
 * removed at the end. */
struct probe_ctx {
	const struct rt_check_opts *opts;
	struct rt_cgroup *cg; /* /ferry-check-PID in every hierarchy, not created */
	char *v2_dir, *v1_freezer_dir;
	bool v2_made, v1_made;
};

typedef enum rt_check_status (*probe_fn)(struct probe_ctx *c, char **detail);

static enum rt_check_status __attribute__((format(printf, 3, 4)))
say(enum rt_check_status s, char **detail, const char *fmt, ...)
{
	va_list ap;
	char *text;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		abort();
	va_end(ap);
	free(*detail); /* after formatting: the old detail may be an argument */
	*detail = text;
	return s;
}
#define SUPPORTED(...) say(RT_CHECK_SUPPORTED, detail, __VA_ARGS__)
#define MISSING(...) say(RT_CHECK_MISSING, detail, __VA_ARGS__)
#define BROKEN(...) say(RT_CHECK_BROKEN, detail, __VA_ARGS__)

/* ---- helpers: children that clean up after themselves ---- */

/* A child blocked reading a pipe until *release is closed; it dies with
 * us. Returns its pid or -1. */
static pid_t spawn_sleeper(int *release)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[1]);
		char ch;
		while (read(p[0], &ch, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return -1;
	}
	*release = p[1];
	return pid;
}

static int reap(pid_t pid)
{
	int st = 0;
	while (waitpid(pid, &st, __WALL) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

static void kill_reap(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		reap(pid);
	}
}

/* Run fn in a fresh child and return its exit status (fn's value), or -1. */
static int in_child(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg) & 0xff);
	int st = reap(pid);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- scratch cgroups ---- */

static void ctx_find_cgroups(struct probe_ctx *c)
{
	char path[64];
	snprintf(path, sizeof(path), "/ferry-check-%d", getpid());
	cleanup_err struct rt_err *e = NULL;
	if (rt_cgroup_resolve(path, "check", &c->cg, &e) < 0)
		return;
	for (size_t i = 0; i < c->cg->n; i++) {
		const char *name = c->cg->names[i];
		if (strcmp(name, "unified") == 0)
			c->v2_dir = c->cg->paths[i];
		else if (strcmp(name, "freezer") == 0 || strstr(name, "freezer,") ||
			 strstr(name, ",freezer"))
			c->v1_freezer_dir = c->cg->paths[i];
	}
}

/* The cgroup2 scratch directory, created on first use; errno on NULL. */
static const char *scratch_v2(struct probe_ctx *c)
{
	if (c->v2_dir == NULL) {
		errno = ENOENT;
		return NULL;
	}
	if (!c->v2_made && mkdir(c->v2_dir, 0700) < 0)
		return NULL;
	c->v2_made = true;
	return c->v2_dir;
}

static const char *scratch_v1_freezer(struct probe_ctx *c)
{
	if (c->v1_freezer_dir == NULL) {
		errno = ENOENT;
		return NULL;
	}
	if (!c->v1_made && mkdir(c->v1_freezer_dir, 0700) < 0)
		return NULL;
	c->v1_made = true;
	return c->v1_freezer_dir;
}

static void ctx_cleanup(struct probe_ctx *c)
{
	if (c->v2_made)
		rmdir(c->v2_dir);
	if (c->v1_made)
		rmdir(c->v1_freezer_dir);
	rt_cgroup_free(c->cg);
}

static int write_at(const char *dir, const char *file, const char *val)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	return write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
}

static bool read_at_has(const char *dir, const char *file, const char *want)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file);
	cleanup_free char *text = NULL;
	cleanup_err struct rt_err *e = NULL;
	return rt_read_file(path, &text, NULL, &e) == 0 && strstr(text, want);
}

/* ---- the probes ---- */

static enum rt_check_status probe_cgroup_layout(struct probe_ctx *c, char **detail)
{
	enum rt_cgroup_layout l;
	cleanup_err struct rt_err *e = NULL;
	if (rt_cgroup_detect(&l, &e) < 0)
		return BROKEN("%s", e->msg);
	static const char *const how[] = {
		[RT_CGROUP_V1] = "cgroup v1 hierarchies only",
		[RT_CGROUP_V2] = "a cgroup2 hierarchy",
		[RT_CGROUP_HYBRID] = "v1 hierarchies and a controller-less cgroup2",
	};
	cleanup_free char *mnt = c->v2_dir ? xstrdup(c->v2_dir) : NULL;
	char *slash = mnt ? strrchr(mnt, '/') : NULL;
	if (slash)
		*slash = '\0';
	return SUPPORTED("%s: %s%s%s", rt_cgroup_layout_name(l), how[l],
			 mnt ? " at " : "", mnt ? mnt : "");
}

/* Freezing an empty cgroup completes at once, so the state can be read
 * back right after the write. NULL when it worked, else what went wrong. */
static const char *try_v2_freeze(const char *dir)
{
	cleanup_free char *file = xasprintf("%s/cgroup.freeze", dir);
	if (access(file, F_OK) != 0)
		return "no cgroup.freeze";
	if (write_at(dir, "cgroup.freeze", "1") < 0)
		return "writing cgroup.freeze failed";
	bool frozen = read_at_has(dir, "cgroup.events", "frozen 1");
	write_at(dir, "cgroup.freeze", "0");
	return frozen ? NULL : "cgroup.events did not report \"frozen 1\"";
}

static const char *try_v1_freeze(const char *dir)
{
	if (write_at(dir, "freezer.state", "FROZEN") < 0)
		return "writing freezer.state failed";
	bool frozen = read_at_has(dir, "freezer.state", "FROZEN");
	write_at(dir, "freezer.state", "THAWED");
	return frozen ? NULL : "freezer.state did not read FROZEN";
}

static enum rt_check_status probe_cgroup_freezer(struct probe_ctx *c, char **detail)
{
	const char *v2 = scratch_v2(c), *v1 = scratch_v1_freezer(c);
	const char *v2_err = v2 ? try_v2_freeze(v2) : c->v2_dir ? strerror(errno)
								    : "no cgroup2 hierarchy";
	const char *v1_err = v1 ? try_v1_freeze(v1) : c->v1_freezer_dir ? strerror(errno)
									: "no v1 freezer hierarchy";
	cleanup_free char *v1_say = v1_err ? xasprintf("v1 freezer: %s", v1_err)
					  : xstrdup("v1 freezer works too");
	if (v2_err == NULL)
		return SUPPORTED("cgroup.freeze froze and thawed a scratch cgroup; %s", v1_say);
	if (v2 && strcmp(v2_err, "no cgroup.freeze") != 0)
		return BROKEN("cgroup2: %s; %s", v2_err, v1_say);
	if (v1_err == NULL)
		return MISSING("cgroup2: %s; the v1 freezer froze and thawed a scratch cgroup",
			       v2_err);
	return MISSING("cgroup2: %s; %s", v2_err, v1_say);
}

/* A parent with one child; both wait on the pipe *release. */
static pid_t spawn_small_tree(int *release, pid_t *grandchild)
{
	int p[2], ready[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(ready, O_CLOEXEC) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[1]);
		close(ready[0]);
		pid_t g = fork();
		if (g == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			char ch;
			while (read(p[0], &ch, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		if (write(ready[1], &g, sizeof(g)) != sizeof(g))
			_exit(1);
		char ch;
		while (read(p[0], &ch, 1) < 0 && errno == EINTR)
			;
		reap(g);
		_exit(0);
	}
	close(p[0]);
	close(ready[1]);
	*grandchild = 0;
	if (pid > 0 && read(ready[0], grandchild, sizeof(*grandchild)) != sizeof(*grandchild))
		*grandchild = 0;
	close(ready[0]);
	*release = p[1];
	return pid;
}

static bool tree_is(const struct cr_pstree *t, pid_t child, pid_t grandchild)
{
	const struct cr_task *g = cr_pstree_find(t, grandchild);
	return t->n == 2 && t->tasks[0].pid == child && g && g->ppid == child;
}

static enum rt_check_status probe_children_file(struct probe_ctx *c, char **detail)
{
	bool have = cr_children_file_available();
	int release = -1;
	pid_t g = 0, child = spawn_small_tree(&release, &g);
	if (child < 0 || g <= 0) {
		if (release >= 0)
			close(release);
		kill_reap(child);
		return BROKEN("cannot fork a test tree: %s", strerror(errno));
	}
	cleanup_err struct rt_err *e = NULL;
	cleanup_pstree struct cr_pstree *by_children = NULL, *by_ppid = NULL;
	int rc = have && !c->opts->force_ppid_walk
			 ? cr_pstree_collect(child, false, &by_children, &e)
			 : 0;
	if (rc == 0)
		rc = cr_pstree_collect(child, true, &by_ppid, &e);
	close(release);
	reap(child);
	if (rc < 0)
		return BROKEN("%s", e->msg);
	if (by_children && !tree_is(by_children, child, g))
		return BROKEN("the children files missed a process of a 2-process tree");
	if (!tree_is(by_ppid, child, g))
		return BROKEN("the PPid walk missed a process of a 2-process tree");
	if (by_children)
		return SUPPORTED("walked a 2-process tree through the children files; "
				 "the PPid walk agrees");
	return MISSING("%s; the PPid walk found the whole 2-process tree",
		       have ? "not used: " CR_ENV_FORCE_PPID_WALK "=1"
			    : "no /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN off)");
}

static enum rt_check_status probe_clone3_set_tid(struct probe_ctx *c, char **detail)
{
	pid_t want = 1;
	struct clone_args ca = { .flags = CLONE_NEWPID, .exit_signal = SIGCHLD,
				 .set_tid = (uint64_t)(uintptr_t)&want, .set_tid_size = 1 };
	long pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		_exit(syscall(SYS_getpid) == want ? 0 : 1);
	if (pid < 0) {
		int e = errno;
		if (e == ENOSYS)
			return MISSING("no clone3 (kernel older than 5.3)");
		if (e == E2BIG || e == EINVAL)
			return MISSING("clone3 without set_tid (kernel older than 5.5): %s",
				       strerror(e));
		if (e == EPERM)
			return MISSING("not permitted to create a pid namespace "
				       "(needs CAP_SYS_ADMIN)");
		return BROKEN("clone3(CLONE_NEWPID, set_tid={1}): %s", strerror(e));
	}
	int st = reap((pid_t)pid);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return BROKEN("the child did not get pid 1 in its namespace (status 0x%x)", st);
	return SUPPORTED("a child got the pid it asked for (1 in a new pid namespace)");
}

static enum rt_check_status probe_pidfd_getfd(struct probe_ctx *c, char **detail)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return BROKEN("pipe: %s", strerror(errno));
	cleanup_close int r = p[0], w = p[1];
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (pidfd < 0)
		return errno == ENOSYS ? MISSING("no pidfd_open (kernel older than 5.3)")
				       : BROKEN("pidfd_open: %s", strerror(errno));
	cleanup_close int dup = (int)syscall(SYS_pidfd_getfd, pidfd, r, 0);
	if (dup < 0)
		return errno == ENOSYS ? MISSING("no pidfd_getfd (kernel older than 5.6)")
				       : BROKEN("pidfd_getfd: %s", strerror(errno));
	struct stat a, b;
	if (fstat(r, &a) < 0 || fstat(dup, &b) < 0 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev)
		return BROKEN("pidfd_getfd returned a different file");
	return SUPPORTED("pidfd_getfd duplicated a pipe through a pidfd");
}

/* A sleeping child, seized and interrupted: stopped in PTRACE_EVENT_STOP. */
static enum rt_check_status seize_sleeper(pid_t *pid, int *release, char **detail)
{
	*pid = spawn_sleeper(release);
	if (*pid < 0)
		return BROKEN("fork: %s", strerror(errno));
	int st = 0;
	if (ptrace(PTRACE_SEIZE, *pid, NULL, 0) < 0)
		return errno == EPERM ? MISSING("PTRACE_SEIZE not permitted (Yama or "
						"a seccomp filter?)")
				      : BROKEN("PTRACE_SEIZE: %s", strerror(errno));
	if (ptrace(PTRACE_INTERRUPT, *pid, NULL, NULL) < 0)
		return BROKEN("PTRACE_INTERRUPT: %s", strerror(errno));
	if (waitpid(*pid, &st, __WALL) < 0 || !WIFSTOPPED(st) ||
	    (st >> 16) != PTRACE_EVENT_STOP)
		return BROKEN("no PTRACE_EVENT_STOP after PTRACE_INTERRUPT (status 0x%x)", st);
	return SUPPORTED("a seized child reported PTRACE_EVENT_STOP");
}

static void release_sleeper(pid_t pid, int release)
{
	if (release >= 0)
		close(release);
	kill_reap(pid);
}

static enum rt_check_status probe_ptrace_seize(struct probe_ctx *c, char **detail)
{
	pid_t pid = -1;
	int release = -1;
	enum rt_check_status s = seize_sleeper(&pid, &release, detail);
	release_sleeper(pid, release);
	return s;
}

static enum rt_check_status probe_ptrace_rseq(struct probe_ctx *c, char **detail)
{
	pid_t pid = -1;
	int release = -1;
	enum rt_check_status s = seize_sleeper(&pid, &release, detail);
	if (s != RT_CHECK_SUPPORTED) {
		release_sleeper(pid, release);
		return MISSING("cannot seize a task: %s", *detail);
	}
	struct chk_rseq_config conf = { 0 };
	long n = ptrace((enum __ptrace_request)CHK_PTRACE_GET_RSEQ_CONFIGURATION, pid,
			(void *)sizeof(conf), &conf);
	int e = errno;
	release_sleeper(pid, release);
	if (n < 0)
		return e == EIO || e == EINVAL
			       ? MISSING("no PTRACE_GET_RSEQ_CONFIGURATION (kernel older than 5.13)")
			       : BROKEN("PTRACE_GET_RSEQ_CONFIGURATION: %s", strerror(e));
	if (conf.rseq_abi_pointer == 0)
		return SUPPORTED("works; the test child has no rseq area registered");
	return SUPPORTED("rseq area of %u bytes, signature 0x%x", conf.rseq_abi_size,
			 conf.signature);
}

/* /proc/self/stat fields 26..28 and 45..51 (1-based), after the command. */
static int read_stat_fields(unsigned long long f[53])
{
	cleanup_free char *text = NULL;
	cleanup_err struct rt_err *e = NULL;
	if (rt_read_file("/proc/self/stat", &text, NULL, &e) < 0)
		return -1;
	char *p = strrchr(text, ')');
	if (p == NULL)
		return -1;
	p += 2;
	memset(f, 0, 53 * sizeof(f[0]));
	for (int i = 3; i <= 52 && *p; i++) {
		if (i == 3) {
			p += 2; /* state letter */
			continue;
		}
		f[i] = strtoull(p, &p, 10);
		while (*p == ' ')
			p++;
	}
	return 0;
}

struct mm_probe {
	struct prctl_mm_map map;
	__u64 auxv[128];
};

static int set_mm_map_child(void *arg)
{
	struct mm_probe *m = arg;
	return prctl(PR_SET_MM, PR_SET_MM_MAP, &m->map, sizeof(m->map), 0) == 0 ? 0 : errno;
}

static enum rt_check_status probe_pr_set_mm_map(struct probe_ctx *c, char **detail)
{
	unsigned int size = 0;
	if (prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, &size, 0, 0) < 0)
		return errno == EINVAL ? MISSING("no PR_SET_MM_MAP (CONFIG_CHECKPOINT_RESTORE off)")
				       : BROKEN("PR_SET_MM_MAP_SIZE: %s", strerror(errno));
	if (size != sizeof(struct prctl_mm_map))
		return BROKEN("PR_SET_MM_MAP_SIZE says %u bytes, ferry knows %zu", size,
			      sizeof(struct prctl_mm_map));
	static struct mm_probe m;
	unsigned long long f[53];
	cleanup_close int fd = open("/proc/self/auxv", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, m.auxv, sizeof(m.auxv)) : -1;
	if (read_stat_fields(f) < 0 || n <= 0)
		return BROKEN("cannot read /proc/self/stat or /proc/self/auxv");
	m.map = (struct prctl_mm_map){
		.start_code = f[26], .end_code = f[27], .start_stack = f[28],
		.start_data = f[45], .end_data = f[46], .start_brk = f[47],
		.brk = (uint64_t)syscall(SYS_brk, 0), .arg_start = f[48],
		.arg_end = f[49], .env_start = f[50], .env_end = f[51],
		.auxv = m.auxv, .auxv_size = (uint32_t)n, .exe_fd = (uint32_t)-1,
	};
	int r = in_child(set_mm_map_child, &m);
	if (r == 0)
		return SUPPORTED("a child set its own mm fields back to their values");
	if (r == EPERM)
		return MISSING("PR_SET_MM_MAP not permitted here");
	return BROKEN("PR_SET_MM_MAP in a child: %s", r > 0 ? strerror(r) : "child died");
}

static enum rt_check_status probe_uffd_wp_async(struct probe_ctx *c, char **detail)
{
	const char *mode = "";
	cleanup_close int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == EPERM) {
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
		mode = " (user-mode-only: vm.unprivileged_userfaultfd=0)";
	}
	if (fd < 0)
		return errno == ENOSYS ? MISSING("no userfaultfd (CONFIG_USERFAULTFD off)")
				       : MISSING("userfaultfd: %s", strerror(errno));
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	if (ioctl(fd, UFFDIO_API, &api) < 0)
		return BROKEN("UFFDIO_API: %s", strerror(errno));
	if (!(api.features & CHK_UFFD_FEATURE_WP_ASYNC))
		return MISSING("userfaultfd features 0x%llx lack WP_ASYNC (kernel older "
			       "than 6.7)%s", (unsigned long long)api.features, mode);
	return SUPPORTED("UFFDIO_API features 0x%llx include WP_ASYNC%s",
			 (unsigned long long)api.features, mode);
}

static enum rt_check_status probe_pagemap_scan(struct probe_ctx *c, char **detail)
{
	long page = sysconf(_SC_PAGESIZE);
	char *mem = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	if (mem == MAP_FAILED)
		return BROKEN("mmap: %s", strerror(errno));
	mem[0] = 1; /* first page present, second not */
	struct chk_page_region vec[2] = { 0 };
	struct chk_pm_scan_arg arg = {
		.size = sizeof(arg), .start = (uintptr_t)mem, .end = (uintptr_t)mem + 2 * page,
		.vec = (uintptr_t)vec, .vec_len = 2, .category_mask = CHK_PAGE_IS_PRESENT,
		.return_mask = CHK_PAGE_IS_PRESENT,
	};
	cleanup_close int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	long n = fd >= 0 ? ioctl(fd, CHK_PAGEMAP_SCAN, &arg) : -1;
	int e = errno;
	munmap(mem, 2 * page);
	if (fd < 0)
		return MISSING("no /proc/self/pagemap: %s", strerror(e));
	if (n < 0)
		return e == ENOTTY || e == EINVAL ? MISSING("no PAGEMAP_SCAN ioctl (kernel older "
							    "than 6.7)")
						  : BROKEN("PAGEMAP_SCAN: %s", strerror(e));
	if (n != 1 || vec[0].start != (uintptr_t)mem || vec[0].end != (uintptr_t)mem + page)
		return BROKEN("PAGEMAP_SCAN reported %ld regions for one present page", n);
	return SUPPORTED("found exactly the one present page of two");
}

static enum rt_check_status probe_tcp_repair(struct probe_ctx *c, char **detail)
{
	cleanup_close int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return MISSING("no IPv4 TCP socket: %s", strerror(errno));
	int on = 1, off = 0;
	if (setsockopt(s, SOL_TCP, TCP_REPAIR, &on, sizeof(on)) < 0)
		return errno == EPERM ? MISSING("TCP_REPAIR needs CAP_NET_ADMIN")
				      : MISSING("TCP_REPAIR: %s", strerror(errno));
	setsockopt(s, SOL_TCP, TCP_REPAIR, &off, sizeof(off));
	return SUPPORTED("a socket entered and left repair mode");
}

static int timens_child(void *arg)
{
	if (unshare(CLONE_NEWTIME) < 0)
		return errno;
	int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	static const char off[] = "monotonic 1 0\nboottime 1 0\n";
	int r = write(fd, off, strlen(off)) == (ssize_t)strlen(off) ? 0 : errno;
	close(fd);
	return r;
}

static enum rt_check_status probe_time_ns(struct probe_ctx *c, char **detail)
{
	if (access("/proc/self/ns/time", F_OK) != 0)
		return MISSING("no /proc/self/ns/time (CONFIG_TIME_NS off or kernel older than 5.6)");
	int r = in_child(timens_child, NULL);
	if (r == 0)
		return SUPPORTED("a child set monotonic and boottime offsets of a new time "
				 "namespace");
	if (r == EPERM)
		return MISSING("creating a time namespace needs CAP_SYS_ADMIN");
	return BROKEN("time namespace: %s", r > 0 ? strerror(r) : "child died");
}

static bool pollpri(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLPRI };
	return poll(&p, 1, ms) == 1 && (p.revents & POLLPRI);
}

/* Move a sleeper into the scratch cgroup: the waiter must wake with
 * migrate_in +1; once the sleeper exits, exit is +1. */
static enum rt_check_status exercise_tasks_events(const char *dir, int fd, char **detail)
{
	struct cr_tasks_events before, after;
	cleanup_err struct rt_err *e = NULL;
	if (cr_tasks_events_read(fd, &before, &e) < 0)
		return BROKEN("%s", e->msg);
	int release = -1;
	pid_t pid = spawn_sleeper(&release);
	if (pid < 0)
		return BROKEN("fork: %s", strerror(errno));
	char num[32];
	snprintf(num, sizeof(num), "%d", pid);
	bool moved = write_at(dir, "cgroup.procs", num) == 0;
	int moved_errno = errno;
	bool woke = moved && pollpri(fd, 1000);
	close(release);
	reap(pid);
	if (!moved)
		return BROKEN("cannot move a child into %s: %s", dir, strerror(moved_errno));
	if (cr_tasks_events_read(fd, &after, &e) < 0)
		return BROKEN("%s", e->msg);
	if (!woke || after.migrate_in != before.migrate_in + 1 || after.exit != before.exit + 1)
		return BROKEN("woken %d, migrate_in %llu -> %llu, exit %llu -> %llu", woke,
			      (unsigned long long)before.migrate_in,
			      (unsigned long long)after.migrate_in,
			      (unsigned long long)before.exit, (unsigned long long)after.exit);
	return SUPPORTED("a task moving in woke a poll() waiter; its exit was counted");
}

static enum rt_check_status probe_cgroup_tasks_events(struct probe_ctx *c, char **detail)
{
	const char *dir = scratch_v2(c);
	if (dir == NULL)
		return MISSING("no cgroup2 cgroup to look in: %s",
			       c->v2_dir ? strerror(errno) : "no cgroup2 hierarchy");
	cleanup_close int fd = cr_tasks_events_open(dir);
	if (fd < 0)
		return errno == ENOENT ? MISSING("no " CR_TASKS_EVENTS_FILE " (kernel without "
						 "ferry's patch 1)")
				       : BROKEN("open %s/" CR_TASKS_EVENTS_FILE ": %s", dir,
						strerror(errno));
	return exercise_tasks_events(dir, fd, detail);
}

struct ksigaction {
	unsigned long handler, flags, restorer, mask;
};

static enum rt_check_status probe_proc_sigactions(struct probe_ctx *c, char **detail)
{
	cleanup_free char *text = NULL;
	cleanup_err struct rt_err *e = NULL;
	if (rt_read_file(SIGACTIONS_FILE, &text, NULL, &e) < 0)
		return e->code == ENOENT ? MISSING("no /proc/PID/sigactions (kernel without "
						   "ferry's patch 2)")
					 : BROKEN("%s", e->msg);
	int lines = 0;
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int sig;
		struct ksigaction f, k;
		if (sscanf(l, "%d %lx %lx %lx %lx", &sig, &f.handler, &f.flags, &f.restorer,
			   &f.mask) != 5 || sig < 1 || sig > 64)
			return BROKEN("unexpected line \"%s\"", l);
		if (syscall(SYS_rt_sigaction, sig, NULL, &k, 8) < 0)
			return BROKEN("rt_sigaction(%d): %s", sig, strerror(errno));
		if (memcmp(&f, &k, sizeof(f)) != 0)
			return BROKEN("signal %d differs from rt_sigaction's answer", sig);
		lines++;
	}
	if (lines != 64)
		return BROKEN("%d lines, expected 64", lines);
	return SUPPORTED("all 64 dispositions match rt_sigaction");
}

/* ---- the table ---- */

struct probe {
	const char *name, *what, *fallback;
	probe_fn fn;
};

static const struct probe probes[] = {
	{ "cgroup-layout", "cgroup v1 / v2 / hybrid layout", NULL, probe_cgroup_layout },
	{ "cgroup-freezer", "cgroup v2 freezer (cgroup.freeze)",
	  "the v1 freezer (freezer.state) with the thaw/seize/re-freeze sequence; without "
	  "any freezer, tasks are stopped one by one with PTRACE_INTERRUPT and the tree "
	  "re-walked until stable",
	  probe_cgroup_freezer },
	{ "children-file", "/proc/PID/task/TID/children",
	  "process trees are built from the PPid of every /proc entry", probe_children_file },
	{ "clone3-set-tid", "clone3() with set_tid",
	  "restored tasks get new pids (restore is refused when pids must be kept)",
	  probe_clone3_set_tid },
	{ "pidfd-getfd", "pidfd_open() + pidfd_getfd()",
	  "fds are duplicated by injecting sendmsg(SCM_RIGHTS) into the task",
	  probe_pidfd_getfd },
	{ "ptrace-seize", "PTRACE_SEIZE + PTRACE_INTERRUPT",
	  "none: checkpoint and restore cannot work", probe_ptrace_seize },
	{ "ptrace-rseq", "PTRACE_GET_RSEQ_CONFIGURATION",
	  "tasks with a registered rseq area are refused at checkpoint", probe_ptrace_rseq },
	{ "pr-set-mm-map", "prctl(PR_SET_MM, PR_SET_MM_MAP)",
	  "restored tasks keep the restorer's brk, arg/env and auxv (cmdline and environ "
	  "look wrong)",
	  probe_pr_set_mm_map },
	{ "uffd-wp-async", "userfaultfd with UFFD_FEATURE_WP_ASYNC",
	  "no dirty-page tracking: migration makes no pre-copy rounds", probe_uffd_wp_async },
	{ "pagemap-scan", "PAGEMAP_SCAN ioctl on /proc/PID/pagemap",
	  "no dirty-page tracking: migration makes no pre-copy rounds; memory is dumped "
	  "whole, guided by pagemap reads",
	  probe_pagemap_scan },
	{ "tcp-repair", "TCP_REPAIR socket option",
	  "established TCP connections are refused at checkpoint", probe_tcp_repair },
	{ "time-ns", "time namespaces (CLONE_NEWTIME)",
	  "restored tasks see CLOCK_MONOTONIC and CLOCK_BOOTTIME of the new host",
	  probe_time_ns },
	{ "cgroup-tasks-events", "cgroup.tasks.events fork/exit notification (patch 1)",
	  "ferry events has no tasks records; a fork racing the freeze is caught by walking "
	  "the frozen tree until two walks agree",
	  probe_cgroup_tasks_events },
	{ "proc-sigactions", "/proc/PID/sigactions (patch 2)",
	  "signal handlers are read by injecting rt_sigaction() into each task, one "
	  "injected system call per signal its /proc/PID/status shows caught or ignored, "
	  "plus SIGCHLD",
	  probe_proc_sigactions },
};

const char *const *rt_check_names(void)
{
	static const char *names[ARRAY_SIZE(probes) + 1];
	for (size_t i = 0; i < ARRAY_SIZE(probes); i++)
		names[i] = probes[i].name;
	return names;
}

const char *rt_check_status_name(enum rt_check_status s)
{
	switch (s) {
	case RT_CHECK_SUPPORTED:
		return "supported";
	case RT_CHECK_MISSING:
		return "missing";
	case RT_CHECK_BROKEN:
		return "broken";
	}
	return "unknown";
}

static bool wanted(const struct rt_check_opts *o, const char *name)
{
	if (o->only == NULL || o->only[0] == NULL)
		return true;
	for (size_t i = 0; o->only[i]; i++)
		if (strcmp(o->only[i], name) == 0)
			return true;
	return false;
}

static int check_names(const struct rt_check_opts *o, struct rt_err **err)
{
	for (size_t i = 0; o->only && o->only[i]; i++) {
		bool known = false;
		for (size_t k = 0; k < ARRAY_SIZE(probes); k++)
			known |= strcmp(probes[k].name, o->only[i]) == 0;
		if (!known)
			return rt_err_set(err, 0, "no check named \"%s\" (see 'ferry check --list')",
					  o->only[i]);
	}
	return 0;
}

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int rt_check_run(const struct rt_check_opts *opts, struct rt_check_report **out,
		 struct rt_err **err)
{
	if (check_names(opts, err) < 0)
		return -1;
	struct probe_ctx c = { .opts = opts };
	ctx_find_cgroups(&c);
	struct rt_check_report *rep = xcalloc(1, sizeof(*rep));
	rep->r = xcalloc(ARRAY_SIZE(probes), sizeof(*rep->r));
	for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
		const struct probe *p = &probes[i];
		if (!wanted(opts, p->name))
			continue;
		struct rt_check_result *r = &rep->r[rep->n++];
		uint64_t t0 = mono_us();
		r->name = p->name;
		r->what = p->what;
		r->status = p->fn(&c, &r->detail);
		r->elapsed_us = mono_us() - t0;
		r->fallback = r->status == RT_CHECK_SUPPORTED ? NULL : p->fallback;
		rep->count[r->status]++;
	}
	ctx_cleanup(&c);
	*out = rep;
	return 0;
}

/* ---- output ---- */

char *rt_check_format_text(const struct rt_check_report *rep)
{
	size_t w = 4;
	for (size_t i = 0; i < rep->n; i++)
		if (strlen(rep->r[i].name) > w)
			w = strlen(rep->r[i].name);
	char *out = xstrdup("");
	for (size_t i = 0; i < rep->n; i++) {
		const struct rt_check_result *r = &rep->r[i];
		char *line = xasprintf("%s%-*s  %-9s  %s%s%s\n", out, (int)w, r->name,
				       rt_check_status_name(r->status), r->detail,
				       r->fallback ? "; instead: " : "",
				       r->fallback ? r->fallback : "");
		free(out);
		out = line;
	}
	char *all = xasprintf("%sferry check: %zu supported, %zu missing, %zu broken\n", out,
			      rep->count[RT_CHECK_SUPPORTED], rep->count[RT_CHECK_MISSING],
			      rep->count[RT_CHECK_BROKEN]);
	free(out);
	return all;
}

static void gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_kv(yajl_gen g, const char *k, const char *v)
{
	gen_str(g, k);
	if (v)
		gen_str(g, v);
	else
		yajl_gen_null(g);
}

static void gen_ki(yajl_gen g, const char *k, long long v)
{
	gen_str(g, k);
	yajl_gen_integer(g, v);
}

char *rt_check_format_json(const struct rt_check_report *rep)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (g == NULL)
		abort();
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "  ");
	yajl_gen_map_open(g);
	gen_str(g, "checks");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < rep->n; i++) {
		const struct rt_check_result *r = &rep->r[i];
		yajl_gen_map_open(g);
		gen_kv(g, "name", r->name);
		gen_kv(g, "what", r->what);
		gen_kv(g, "status", rt_check_status_name(r->status));
		gen_kv(g, "detail", r->detail);
		gen_kv(g, "fallback", r->fallback);
		gen_ki(g, "elapsed_us", (long long)r->elapsed_us);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	gen_ki(g, "supported", (long long)rep->count[RT_CHECK_SUPPORTED]);
	gen_ki(g, "missing", (long long)rep->count[RT_CHECK_MISSING]);
	gen_ki(g, "broken", (long long)rep->count[RT_CHECK_BROKEN]);
	yajl_gen_map_close(g);
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	char *out = xstrndup((const char *)buf, len);
	yajl_gen_free(g);
	return out;
}

char **rt_check_annotations(const struct rt_check_report *rep)
{
	char **v = xcalloc(2 * rep->n + 1, sizeof(char *));
	for (size_t i = 0; i < rep->n; i++) {
		v[2 * i] = xasprintf("io.github.ferry.check.%s", rep->r[i].name);
		v[2 * i + 1] = xstrdup(rt_check_status_name(rep->r[i].status));
	}
	return v;
}

void rt_check_report_free(struct rt_check_report *rep)
{
	if (rep == NULL)
		return;
	for (size_t i = 0; i < rep->n; i++)
		free(rep->r[i].detail);
	free(rep->r);
	free(rep);
}

void rt_check_report_freep(struct rt_check_report **rep)
{
	rt_check_report_free(*rep);
}
