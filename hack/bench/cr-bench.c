/* cr-bench: checkpoint/restore timings of the coordinator, driven directly
 * (no container): a workload is forked, checkpointed with cr_dump into a
 * fresh directory (which kills it), restored with cr_restore into the same
 * pids, and must then report that its state survived. Built and run by
 * hack/bench-cr.sh; not part of ferry.
 *
 *   cr-bench [-r REPS] [-d DIR] [-n] WORKLOAD...
 *   cr-bench --standalone WORKLOAD   (for other checkpointers: start it
 *                                     detached, print its pid)
 *
 * WORKLOAD is one of
 *   idle      one process blocked in read()
 *   tree:N    N processes (the root and N-1 children), each blocked in read()
 *   mem:MIB   one process with MIB MiB of dirty private anonymous memory
 *   copy:MIB  no checkpoint: the floor under mem:MIB's dump on this machine.
 *             MIB MiB of this process's own dirty memory go into two page
 *             files in DIR, half each, from two threads that vmsplice 1 MiB
 *             at a time into a pipe and splice it into their file (what
 *             the dump does, without the task, ptrace or the page map).
 *             Its line has the median and best wall time and GB/s.
 *
 * For each workload: REPS rounds (default 5), then one line with the median
 * (and best) of the dump's wall time, the frozen time, the memory phase of
 * the dump (reading + writing page files) and its GB/s, the restore's wall
 * time and its GB/s, and the image size. DIR (default /dev/shm) holds the
 * images; they are removed after every round.
 *
 * Each workload runs in a cgroup of its own (ferry-cr-bench-PID under
 * every hierarchy, removed at exit), which the dump freezes as
 * `ferry checkpoint` freezes a container's; -n leaves the cgroup out, and
 * the dump then has only ptrace to stop the tree.
 *
 * Like tests/unit/test-coordinator.c, it must run as root: it is a child
 * subreaper, reaps the dumped tree so its pids are free, and creates the
 * restore root with clone3(set_tid), running itself as the agent. Every
 * process it creates is killed and reaped, also on failure. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "coordinator/coordinator.h"
#include "util.h"

#define MAX_REPS 64

static const char *images_root = "/dev/shm";
static struct rt_cgroup *bench_cg; /* the workloads' cgroup; NULL with -n */
static size_t mem_bytes;
static int tree_n;

/* ---- workloads (run in the forked target) ---- */

/* --standalone: no harness. fd 1 is the launcher's ready pipe until the
 * workload said 'R'; then stdio is /dev/null and the workload waits for
 * ever, so another checkpointer (criu) can take it. */
static bool standalone;

static void say(const char *s)
{
	if (write(1, s, strlen(s)) < 0)
		_exit(99);
}

/* In a standalone workload, after 'R' (the root) or at fork (children):
 * nothing of the launcher stays open. */
static void drop_ready_pipe(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (standalone && fd >= 0)
		dup2(fd, 1);
	if (fd >= 0)
		close(fd);
}

static void wait_go(void)
{
	char c;
	if (standalone)
		for (;;)
			pause();
	while (read(0, &c, 1) < 0 && errno == EINTR)
		;
}

static void ready(void)
{
	say("R");
	drop_ready_pipe();
}

static _Noreturn void report(const char *fail)
{
	char buf[128];
	snprintf(buf, sizeof(buf), fail ? "FAIL %s\n" : "PASS\n", fail);
	say(buf);
	_exit(fail ? 1 : 0);
}

static void body_idle(void)
{
	ready();
	wait_go();
	report(NULL);
}

/* Children say 'c' when they are ready; the root says 'R' after all. */
static void body_tree(void)
{
	int up[2];
	if (pipe(up) < 0)
		report("pipe");
	for (int i = 1; i < tree_n; i++) {
		pid_t k = fork();
		if (k < 0)
			report("fork");
		if (k == 0) {
			drop_ready_pipe();
			close(up[0]);
			if (write(up[1], "c", 1) != 1)
				_exit(98);
			close(up[1]);
			wait_go();
			_exit(0);
		}
	}
	close(up[1]);
	for (int i = 1; i < tree_n; i++) {
		char c;
		if (read(up[0], &c, 1) != 1)
			report("a child did not start");
	}
	close(up[0]);
	ready();
	wait_go();
	int bad = 0, st;
	for (int i = 1; i < tree_n; i++)
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	report(bad ? "a child failed" : NULL);
}

static void body_mem(void)
{
	uint8_t *p = mmap(NULL, mem_bytes, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		report("mmap");
	for (size_t i = 0; i < mem_bytes; i += 4096) {
		uint64_t v = i * 0x9e3779b97f4a7c15ull;
		memcpy(p + i, &v, 8);
		memcpy(p + i + 4088, &v, 8);
	}
	ready();
	wait_go();
	for (size_t i = 0; i < mem_bytes; i += 4096) {
		uint64_t v = i * 0x9e3779b97f4a7c15ull;
		if (memcmp(p + i, &v, 8) != 0 || memcmp(p + i + 4088, &v, 8) != 0)
			report("memory differs");
	}
	report(NULL);
}

/* ---- harness ---- */

struct target {
	pid_t pid;
	int in_w, in_r, out_r, out_w; /* our ends and the ends we restore */
};

static void reap_all(void)
{
	while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
		;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int read_line(int fd, char *buf, size_t n, int ms)
{
	size_t len = 0;
	while (len + 1 < n) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, ms) != 1 || read(fd, buf + len, 1) != 1)
			break;
		if (buf[len++] == '\n')
			break;
	}
	buf[len] = '\0';
	return (int)len;
}

/* The workload, in a fresh image of this program (--body NAME): nothing
 * of ours (the heap the coordinator grew, its threads' cached stacks)
 * reaches its memory, whatever ran before it. */
static int spawn_target(const char *name, struct target *t)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	int ret = pipe2(in, O_CLOEXEC) | pipe2(out, O_CLOEXEC);
	*t = (struct target){ .pid = -1, .in_r = in[0], .in_w = in[1], .out_r = out[0],
			      .out_w = out[1] };
	if (ret < 0)
		return -1;
	t->pid = fork();
	if (t->pid < 0)
		return -1;
	if (t->pid == 0) {
		struct rt_err *e = NULL;
		if (bench_cg && rt_cgroup_enter(bench_cg, getpid(), &e) < 0) {
			fprintf(stderr, "cr-bench: %s\n", e->msg);
			_exit(1);
		}
		dup2(in[0], 0);
		dup2(out[1], 1);
		syscall(SYS_close_range, 3, ~0u, 0);
		execl("/proc/self/exe", "cr-bench", "--body", name, (char *)NULL);
		_exit(127);
	}
	char c = 0;
	struct pollfd p = { t->out_r, POLLIN, 0 };
	if (poll(&p, 1, 60000) != 1 || read(t->out_r, &c, 1) != 1 || c != 'R')
		return -1;
	return 0;
}

static void close_target(struct target *t)
{
	int fds[4] = { t->in_r, t->in_w, t->out_r, t->out_w };
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* The restore root: pid `pid`, running this program as the agent. */
static pid_t start_agent(pid_t pid, int *sock)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	uint64_t tid = (uint64_t)pid;
	struct clone_args a = { .exit_signal = SIGCHLD, .set_tid = (uintptr_t)&tid,
				.set_tid_size = 1 };
	pid_t r = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
	if (r == 0) {
		char fd[16];
		close(sv[0]);
		fcntl(sv[1], F_SETFD, 0);
		snprintf(fd, sizeof(fd), "%d", sv[1]);
		execl("/proc/self/exe", "cr-bench", "--agent", fd, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	*sock = sv[0];
	return r;
}

/* CPU time of this process (all threads), ms. */
static double self_cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* CPU time pid has used so far (utime + stime), ms; 0 if unreadable. */
static double task_cpu_ms(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	unsigned long long ut = 0, st = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return 0;
	return (double)(ut + st) * 1e3 / (double)sysconf(_SC_CLK_TCK);
}

static uint64_t dir_bytes(int dirfd)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	uint64_t sum = 0;
	struct dirent *de;
	struct stat sb;
	while (d && (de = readdir(d)) != NULL)
		if (fstatat(dirfd, de->d_name, &sb, 0) == 0 && S_ISREG(sb.st_mode))
			sum += (uint64_t)sb.st_size;
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	return sum;
}

struct sample {
	double dump_ms, frozen_ms, mem_ms, restore_ms, dump_cpu_ms, restore_cpu_ms;
	uint64_t bytes_dumped, bytes_restored, image_bytes;
};

static int freeze_cg(void *arg, bool frozen, struct rt_err **err)
{
	return rt_cgroup_freeze(arg, frozen, err);
}

/* The workloads' cgroup, as a container's: made at start, removed (with
 * anything left in it) at exit. */
static int make_cgroup(void)
{
	char name[64];
	struct rt_err *e = NULL;
	snprintf(name, sizeof(name), "/ferry-cr-bench-%d", getpid());
	if (rt_cgroup_resolve(name, "cr-bench", &bench_cg, &e) < 0 ||
	    rt_cgroup_create(bench_cg, NULL, &e) < 0) {
		fprintf(stderr, "cr-bench: cgroup %s: %s\n", name, e->msg);
		rt_err_free(e);
		return -1;
	}
	return 0;
}

static void remove_cgroup(void)
{
	struct rt_err *e = NULL;
	if (bench_cg && rt_cgroup_destroy(bench_cg, &e) < 0) {
		fprintf(stderr, "cr-bench: %s\n", e->msg);
		rt_err_free(e);
	}
}

/* One dump -> reap -> restore -> verify round. */
static int round_trip(const char *name, int nproc, struct sample *s, char *why,
		      size_t why_len)
{
	struct target t = { .pid = -1, .in_w = -1, .in_r = -1, .out_r = -1, .out_w = -1 };
	struct rt_err *err = NULL;
	char dir[256];
	int ok = -1, dirfd = -1;
	snprintf(dir, sizeof(dir), "%s/ferry-cr-bench-XXXXXX", images_root);
	if (spawn_target(name, &t) < 0) {
		snprintf(why, why_len, "the workload did not start");
		goto out;
	}
	if (!mkdtemp(dir) || (dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(why, why_len, "image dir %s: %s", dir, strerror(errno));
		dir[0] = '\0';
		goto out;
	}
	struct cr_stats ds = { 0 }, rs = { 0 };
	struct cr_freezer fz = { .arg = bench_cg, .freeze = freeze_cg };
	if (bench_cg) {
		fz.reports_stops = bench_cg->layout != RT_CGROUP_V1;
		fz.tasks_events_dir = rt_cgroup_tasks_events_dir(bench_cg);
	}
	struct cr_dump_opts d = { .root = t.pid, .images_dirfd = dirfd,
				  .freezer = bench_cg ? &fz : NULL };
	double t0 = now_ms(), c0 = self_cpu_ms();
	if (cr_dump(&d, &ds, &err) < 0) {
		snprintf(why, why_len, "dump: %s", err->msg);
		goto out;
	}
	s->dump_ms = now_ms() - t0;
	s->dump_cpu_ms = self_cpu_ms() - c0;
	s->frozen_ms = (double)(ds.freezing_time_us + ds.frozen_time_us) / 1e3;
	s->mem_ms = (double)(ds.memdump_time_us + ds.memwrite_time_us) / 1e3;
	s->bytes_dumped = ds.pages_written * 4096;
	s->image_bytes = dir_bytes(dirfd);
	reap_all();
	int sock;
	pid_t agent = start_agent(t.pid, &sock);
	if (agent != t.pid) {
		snprintf(why, why_len, "agent got pid %d, not %d", agent, t.pid);
		if (agent > 0)
			kill(agent, SIGKILL);
		goto out;
	}
	struct cr_restore_opts ro = { .images_dirfd = dirfd, .agent_pid = agent,
				      .agent_fd = sock, .stdio = { t.in_r, t.out_w, 2 } };
	t0 = now_ms();
	c0 = self_cpu_ms();
	int ret = cr_restore(&ro, &rs, &err);
	s->restore_ms = now_ms() - t0;
	/* The restored root's own CPU counts: it runs the injected mmap
	 * (MAP_POPULATE) of its memory. */
	s->restore_cpu_ms = self_cpu_ms() - c0 + task_cpu_ms(agent);
	s->bytes_restored = rs.pages_restored * 4096;
	close(sock);
	if (ret < 0) {
		snprintf(why, why_len, "restore: %s", err->msg);
		goto out;
	}
	for (int i = 0; i < nproc; i++)
		if (write(t.in_w, "G", 1) != 1)
			break;
	char line[128];
	read_line(t.out_r, line, sizeof(line), 60000);
	if (strcmp(line, "PASS\n") == 0)
		ok = 0;
	else
		snprintf(why, why_len, "after restore: %s", line[0] ? line : "no answer\n");
out:
	if (t.pid > 0)
		kill(t.pid, SIGKILL);
	reap_all();
	rt_err_free(err);
	if (dirfd >= 0)
		close(dirfd);
	if (dir[0] && dirfd >= 0) {
		struct rt_err *e = NULL;
		rt_rm_rf(dir, &e);
		rt_err_free(e);
	}
	close_target(&t);
	return ok;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median and minimum of field `off` over n samples. */
static void stat_of(const struct sample *s, int n, size_t off, double *med, double *min)
{
	double v[MAX_REPS] = { 0 };
	for (int i = 0; i < n; i++)
		memcpy(&v[i], (const char *)&s[i] + off, sizeof(double));
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	*med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	*min = v[0];
}

static double gbps(uint64_t bytes, double ms)
{
	return ms > 0 ? (double)bytes / 1e6 / ms : 0;
}

/* The body and process count of a workload name; NULL if unknown. */
static void (*workload(const char *name, int *nproc))(void)
{
	*nproc = 1;
	if (strcmp(name, "idle") == 0)
		return body_idle;
	if (strncmp(name, "tree:", 5) == 0 && (tree_n = atoi(name + 5)) >= 1 &&
	    tree_n <= 4096) {
		*nproc = tree_n;
		return body_tree;
	}
	if (strncmp(name, "mem:", 4) == 0 && atoi(name + 4) > 0) {
		mem_bytes = (size_t)atoi(name + 4) << 20;
		return body_mem;
	}
	fprintf(stderr, "cr-bench: unknown workload '%s'\n", name);
	return NULL;
}

/* Start the workload in its own session, stdio on /dev/null, and print
 * its pid once it is ready. */
static int run_standalone(const char *name)
{
	int nproc, p[2];
	void (*body)(void) = workload(name, &nproc);
	if (body == NULL || pipe2(p, O_CLOEXEC) < 0)
		return 2;
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		setsid();
		dup2(null, 0);
		dup2(p[1], 1);
		dup2(null, 2);
		syscall(SYS_close_range, 3, ~0u, 0);
		standalone = true;
		body();
		_exit(0);
	}
	close(p[1]);
	char c = 0;
	if (pid < 0 || read(p[0], &c, 1) != 1 || c != 'R') {
		fprintf(stderr, "cr-bench: workload %s did not start\n", name);
		if (pid > 0)
			kill(pid, SIGKILL);
		return 1;
	}
	printf("%d\n", pid);
	return 0;
}

/* ---- copy:MIB ---- */

struct copy_half {
	const uint8_t *from;
	size_t len;
	int fd;
	int ok;
};

static void *copy_half(void *arg)
{
	struct copy_half *h = arg;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return NULL;
	fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
	size_t chunk = (size_t)fcntl(p[0], F_GETPIPE_SZ);
	size_t done = 0;
	while (done < h->len) {
		size_t n = h->len - done < chunk ? h->len - done : chunk;
		struct iovec iov = { (void *)(h->from + done), n };
		ssize_t in = vmsplice(p[1], &iov, 1, 0);
		if (in <= 0)
			break;
		for (ssize_t out = 0, r; out < in; out += r)
			if ((r = splice(p[0], NULL, h->fd, NULL, (size_t)(in - out), 0)) <= 0)
				goto out;
		done += (size_t)in;
	}
out:
	h->ok = done == h->len;
	close(p[0]);
	close(p[1]);
	return NULL;
}

/* One round of copy:MIB; its wall time in ms, or < 0. */
static double copy_round(const uint8_t *mem, size_t len, char *why, size_t why_len)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/ferry-cr-bench-XXXXXX", images_root);
	if (!mkdtemp(dir)) {
		snprintf(why, why_len, "image dir %s: %s", dir, strerror(errno));
		return -1;
	}
	struct copy_half h[2];
	pthread_t th[2];
	double ms = -1;
	for (int k = 0; k < 2; k++) {
		char path[300];
		snprintf(path, sizeof(path), "%s/pages-%d.img", dir, k);
		h[k] = (struct copy_half){ mem + k * (len / 2), len / 2,
					   open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), 0 };
	}
	if (h[0].fd < 0 || h[1].fd < 0) {
		snprintf(why, why_len, "page files in %s: %s", dir, strerror(errno));
		goto out;
	}
	double t0 = now_ms();
	int started = 0;
	while (started < 2 && pthread_create(&th[started], NULL, copy_half, &h[started]) == 0)
		started++;
	for (int k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	if (started == 2 && h[0].ok && h[1].ok)
		ms = now_ms() - t0;
	else
		snprintf(why, why_len, "vmsplice/splice into %s failed", dir);
out:
	for (int k = 0; k < 2; k++)
		if (h[k].fd >= 0)
			close(h[k].fd);
	struct rt_err *e = NULL;
	rt_rm_rf(dir, &e);
	rt_err_free(e);
	return ms;
}

static int copy_rounds(const char *name, size_t mib, int reps)
{
	size_t len = mib << 20;
	uint8_t *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		printf("%-10s FAILED: mmap %zu MiB: %s\n", name, mib, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < len; i += 4096)
		memset(mem + i, (int)(i >> 12) | 1, 4096);
	struct sample s[MAX_REPS] = { 0 };
	int ret = 0;
	for (int i = 0; i < reps && ret == 0; i++) {
		char why[512] = "";
		s[i].dump_ms = copy_round(mem, len, why, sizeof(why));
		if (s[i].dump_ms < 0) {
			printf("%-10s FAILED in round %d: %s\n", name, i + 1, why);
			ret = -1;
		}
	}
	munmap(mem, len);
	if (ret == 0) {
		double m, min;
		stat_of(s, reps, offsetof(struct sample, dump_ms), &m, &min);
		printf("%-10s %8.1f %7.1f  (copy floor, no checkpoint: %.2f GB/s, best %.2f)\n", name,
		       m, min, gbps(len, m), gbps(len, min));
	}
	fflush(stdout);
	return ret;
}

static int run_workload(const char *name, int reps)
{
	if (strncmp(name, "copy:", 5) == 0 && atoi(name + 5) > 0)
		return copy_rounds(name, (size_t)atoi(name + 5), reps);
	int nproc;
	void (*body)(void) = workload(name, &nproc);
	if (body == NULL)
		return -1;
	struct sample s[MAX_REPS];
	for (int i = 0; i < reps; i++) {
		char why[512] = "";
		if (round_trip(name, nproc, &s[i], why, sizeof(why)) < 0) {
			printf("%-10s FAILED in round %d: %s\n", name, i + 1, why);
			fflush(stdout);
			return -1;
		}
	}
	double dm, dmin, fm, fmin, mm, mmin, rm, rmin, dc, dcmin, rc, rcmin;
	stat_of(s, reps, offsetof(struct sample, dump_ms), &dm, &dmin);
	stat_of(s, reps, offsetof(struct sample, frozen_ms), &fm, &fmin);
	stat_of(s, reps, offsetof(struct sample, mem_ms), &mm, &mmin);
	stat_of(s, reps, offsetof(struct sample, restore_ms), &rm, &rmin);
	stat_of(s, reps, offsetof(struct sample, dump_cpu_ms), &dc, &dcmin);
	stat_of(s, reps, offsetof(struct sample, restore_cpu_ms), &rc, &rcmin);
	uint64_t db = s[0].bytes_dumped, rb = s[0].bytes_restored;
	printf("%-10s %8.1f %7.1f %7.0f  %9.1f %7.1f  %8.1f %6.2f  %8.1f %7.1f %7.0f %6.2f  %9.1f\n",
	       name, dm, dmin, dc, fm, fmin, mm, gbps(db, dm), rm, rmin, rc, gbps(rb, rm),
	       (double)s[0].image_bytes / (1 << 20));
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--agent") == 0)
		cr_restore_agent(atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "--standalone") == 0)
		return run_standalone(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--body") == 0) {
		int nproc;
		void (*body)(void) = workload(argv[2], &nproc);
		if (body == NULL)
			return 2;
		body();
		return 0;
	}
	int reps = 5, opt;
	bool cgroup = true;
	while ((opt = getopt(argc, argv, "r:d:n")) != -1) {
		if (opt == 'r')
			reps = atoi(optarg);
		else if (opt == 'd')
			images_root = optarg;
		else if (opt == 'n')
			cgroup = false;
		else
			return 2;
	}
	if (reps < 1 || reps > MAX_REPS || optind >= argc) {
		fprintf(stderr, "usage: cr-bench [-r REPS(1-%d)] [-d DIR] [-n] "
			"idle|tree:N|mem:MIB|copy:MIB...\n", MAX_REPS);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "cr-bench: must run as root (ptrace, clone3 set_tid)\n");
		return 2;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	if (cgroup && (make_cgroup() < 0 || atexit(remove_cgroup) != 0))
		return 1;
	printf("%-10s %8s %7s %7s  %9s %7s  %8s %6s  %8s %7s %7s %6s  %9s\n", "workload",
	       "dump ms", "best", "cpu ms", "frozen ms", "best", "mem ms", "GB/s", "rest ms",
	       "best", "cpu ms", "GB/s", "image MiB");
	int failed = 0;
	for (int i = optind; i < argc; i++)
		if (run_workload(argv[i], reps) < 0)
			failed++;
	return failed ? 1 : 0;
}
