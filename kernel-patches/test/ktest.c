/* /init of the initramfs `make kernel-test` boots: checks, on the patched
 * kernel, that the interfaces of kernel-patches/NNNN-*.patch behave as
 * kernel-patches/README.md documents, prints one line per check
 *
 *   KTEST PASS name (detail)     KTEST FAIL name: what went wrong
 *
 * runs /ferry check when the initramfs has a static ferry, and powers the
 * machine off. Static, no dependencies: cc -static -O2 ktest.c. Kept quick,
 * since the guest runs under software emulation. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CG "/sys/fs/cgroup"
#define EVENTS "cgroup.tasks.events"

static int n_pass, n_fail;

static void __attribute__((format(printf, 3, 4)))
result(bool ok, const char *name, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (ok) {
		n_pass++;
		printf("KTEST PASS %s (%s)\n", name, detail);
	} else {
		n_fail++;
		printf("KTEST FAIL %s: %s\n", name, detail);
	}
	fflush(stdout);
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, s, strlen(s));
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* ---- cgroup.tasks.events (patch 1) ---- */

struct counts {
	long long fork, exit, in, out;
};

static int read_counts(int fd, struct counts *c)
{
	char buf[256];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return sscanf(buf, "fork %lld\nexit %lld\nmigrate_in %lld\nmigrate_out %lld",
		      &c->fork, &c->exit, &c->in, &c->out) == 4 ? 0 : -1;
}

static int open_events(const char *cgroup)
{
	char path[256];
	snprintf(path, sizeof(path), CG "/%s/" EVENTS, cgroup);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* POLLPRI on fd within ms? */
static bool woken(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLPRI };
	return poll(&p, 1, ms) == 1 && (p.revents & POLLPRI);
}

/* The write end of a pipe a child blocks on: the child closes its copy. */
static int child_close_fd = -1;

/* A child created directly in cgroup (clone3 CLONE_INTO_CGROUP) that runs
 * body and exits. */
static pid_t spawn_in(const char *cgroup, void (*body)(int), int arg)
{
	char path[256];
	snprintf(path, sizeof(path), CG "/%s", cgroup);
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	struct clone_args ca = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
				 .cgroup = (uint64_t)dfd };
	long pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0) {
		if (child_close_fd >= 0)
			close(child_close_fd);
		body(arg);
		_exit(0);
	}
	close(dfd);
	return (pid_t)pid;
}

static void body_wait_eof(int fd)
{
	char c;
	while (read(fd, &c, 1) > 0 || errno == EINTR)
		;
}

static void body_exit(int unused)
{
	(void)unused;
}

static void *thread_nop(void *arg)
{
	return arg;
}

static void body_thread(int unused)
{
	(void)unused;
	pthread_t t;
	if (pthread_create(&t, NULL, thread_nop, NULL) == 0)
		pthread_join(t, NULL);
}

static void body_fork_loop(int unused)
{
	(void)unused;
	for (;;) {
		pid_t p = fork();
		if (p == 0)
			_exit(0);
		if (p > 0)
			waitpid(p, NULL, 0);
	}
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
}

static void test_events_file(void)
{
	struct stat st;
	bool in_child = stat(CG "/a/" EVENTS, &st) == 0;
	bool in_root = stat(CG "/" EVENTS, &st) == 0;
	result(in_child && !in_root, "events-file-exists",
	       "present in a child cgroup: %d, in the root: %d", in_child, in_root);
	int fd = open_events("a");
	struct counts c = { -1, -1, -1, -1 };
	bool ok = fd >= 0 && read_counts(fd, &c) == 0 && c.fork == 0 && c.exit == 0 &&
		  c.in == 0 && c.out == 0;
	result(ok, "events-initial-zero", "fork %lld exit %lld migrate_in %lld migrate_out %lld",
	       c.fork, c.exit, c.in, c.out);
	if (fd >= 0)
		close(fd);
}

static void test_fork_exit_wake(void)
{
	int fd = open_events("a"), p[2];
	struct counts c0, c1, c2;
	if (fd < 0 || pipe2(p, O_CLOEXEC) < 0 || read_counts(fd, &c0) < 0) {
		result(false, "fork-wakes-waiter", "setup: %s", strerror(errno));
		return;
	}
	bool early = woken(fd, 0);
	double t0 = now_us();
	child_close_fd = p[1];
	pid_t pid = spawn_in("a", body_wait_eof, p[0]);
	child_close_fd = -1;
	close(p[0]);
	bool w = woken(fd, 2000);
	double lat = now_us() - t0;
	read_counts(fd, &c1);
	result(!early && pid > 0 && w && c1.fork == c0.fork + 1, "fork-wakes-waiter",
	       "woken %d after %.0f us, fork %lld -> %lld", w, lat, c0.fork, c1.fork);

	t0 = now_us();
	close(p[1]);
	w = woken(fd, 2000);
	lat = now_us() - t0;
	reap(pid);
	read_counts(fd, &c2);
	result(w && c2.exit == c1.exit + 1, "exit-wakes-waiter",
	       "woken %d after %.0f us, exit %lld -> %lld", w, lat, c1.exit, c2.exit);
	close(fd);
}

static void test_other_cgroups(void)
{
	int fa = open_events("a"), fb = open_events("b");
	struct counts a0, a1, b0, b1;
	read_counts(fa, &a0);
	read_counts(fb, &b0);
	pid_t pid = spawn_in("b", body_exit, 0);
	reap(pid);
	pid = spawn_in("a/sub", body_exit, 0);
	reap(pid);
	bool wa = woken(fa, 300), wb = woken(fb, 1000);
	read_counts(fa, &a1);
	read_counts(fb, &b1);
	result(!wa && a1.fork == a0.fork && a1.exit == a0.exit, "other-cgroups-do-not-wake",
	       "a fork+exit in sibling b and in child a/sub: a woken %d, a fork %lld -> %lld",
	       wa, a0.fork, a1.fork);
	result(wb && b1.fork == b0.fork + 1 && b1.exit == b0.exit + 1, "sibling-counts-its-own",
	       "b woken %d, fork %lld -> %lld, exit %lld -> %lld", wb, b0.fork, b1.fork,
	       b0.exit, b1.exit);
	close(fa);
	close(fb);
}

static void test_threads_and_epoll(void)
{
	int fd = open_events("a"), ep = epoll_create1(EPOLL_CLOEXEC);
	struct counts c0, c1;
	struct epoll_event ev = { .events = EPOLLPRI }, out;
	read_counts(fd, &c0);
	bool reg = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
	pid_t pid = spawn_in("a", body_thread, 0);
	int n = epoll_wait(ep, &out, 1, 2000);
	reap(pid);
	sleep_ms(30); /* let the merged notification of the rest fire */
	read_counts(fd, &c1);
	result(reg && n == 1 && (out.events & EPOLLPRI), "epoll-waiter-woken",
	       "epoll_wait returned %d, events 0x%x", n, n == 1 ? out.events : 0);
	result(c1.fork == c0.fork + 2 && c1.exit == c0.exit + 2, "threads-are-counted",
	       "a process with one thread: fork +%lld exit +%lld", c1.fork - c0.fork,
	       c1.exit - c0.exit);
	close(ep);
	close(fd);
}

static void test_migration(void)
{
	int fa = open_events("a"), fb = open_events("b"), p[2];
	struct counts a0, a1, b0, b1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	child_close_fd = p[1];
	pid_t pid = spawn_in("a", body_wait_eof, p[0]);
	child_close_fd = -1;
	close(p[0]);
	sleep_ms(30);
	read_counts(fa, &a0);
	read_counts(fb, &b0);
	char s[32];
	snprintf(s, sizeof(s), "%d", pid);
	int r = write_str(CG "/b/cgroup.procs", s);
	bool wa = woken(fa, 2000), wb = woken(fb, 2000);
	read_counts(fa, &a1);
	read_counts(fb, &b1);
	result(r == 0 && wa && wb && a1.out == a0.out + 1 && b1.in == b0.in + 1,
	       "migration-wakes-both", "a woken %d migrate_out +%lld, b woken %d migrate_in +%lld",
	       wa, a1.out - a0.out, wb, b1.in - b0.in);
	close(p[1]);
	reap(pid);
	close(fa);
	close(fb);
}

/* Nobody holds c's file open: no notification is sent, yet it counts. */
static void test_unwatched_counts(void)
{
	pid_t pid = spawn_in("c", body_exit, 0);
	reap(pid);
	int fd = open_events("c");
	struct counts c = { 0 };
	read_counts(fd, &c);
	result(c.fork == 1 && c.exit == 1, "unwatched-cgroup-counts",
	       "fork %lld exit %lld", c.fork, c.exit);
	close(fd);
}

/* The use ferry makes of it: the counters move while a forker runs and stand
 * still once the cgroup is frozen, so comparing them around a tree walk of
 * a frozen cgroup proves that no fork raced with the freeze. */
static void test_freeze_race(void)
{
	int fd = open_events("d");
	struct counts start, c0, c1, c2;
	read_counts(fd, &start);
	pid_t pid = spawn_in("d", body_fork_loop, 0);
	sleep_ms(100);
	read_counts(fd, &c0);
	write_str(CG "/d/cgroup.freeze", "1");
	char ev[128] = "";
	for (int i = 0; i < 200 && !strstr(ev, "frozen 1"); i++) {
		int e = open(CG "/d/cgroup.events", O_RDONLY | O_CLOEXEC);
		ssize_t n = read(e, ev, sizeof(ev) - 1);
		ev[n > 0 ? n : 0] = '\0';
		close(e);
		if (!strstr(ev, "frozen 1"))
			sleep_ms(10);
	}
	read_counts(fd, &c1);
	sleep_ms(200);
	read_counts(fd, &c2);
	kill(pid, SIGKILL);
	write_str(CG "/d/cgroup.freeze", "0");
	reap(pid);
	result(strstr(ev, "frozen 1") && c0.fork > start.fork + 1 && c2.fork == c1.fork &&
		       c2.exit == c1.exit,
	       "frozen-counters-stand-still",
	       "forks in 100 ms running: %lld, in 200 ms frozen: %lld",
	       c0.fork - start.fork, c2.fork - c1.fork);
	close(fd);
}

static void test_cgroup_patch(void)
{
	if (mount("cgroup2", CG, "cgroup2", 0, NULL) < 0) {
		result(false, "mount-cgroup2", "%s", strerror(errno));
		return;
	}
	const char *dirs[] = { "a", "a/sub", "b", "c", "d" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char path[128];
		snprintf(path, sizeof(path), CG "/%s", dirs[i]);
		mkdir(path, 0755);
	}
	test_events_file();
	test_fork_exit_wake();
	test_other_cgroups();
	test_threads_and_epoll();
	test_migration();
	test_unwatched_counts();
	test_freeze_race();
}

/* ---- /proc/PID/sigactions (patch 2) ---- */

struct ksigaction {
	unsigned long handler, flags, restorer, mask;
};

/* Parse the file's 64 lines into act[1..64]. */
static int read_sigactions(pid_t pid, struct ksigaction *act, int *nlines)
{
	char path[64], buf[8192];
	snprintf(path, sizeof(path), "/proc/%d/sigactions", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n, len = 0;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	if (n < 0)
		return -1;
	buf[len] = '\0';
	*nlines = 0;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		int sig;
		struct ksigaction a;
		if (sscanf(line, "%d %lx %lx %lx %lx", &sig, &a.handler, &a.flags,
			   &a.restorer, &a.mask) != 5 || sig < 1 || sig > 64)
			return -2;
		act[sig] = a;
		(*nlines)++;
	}
	return 0;
}

static void handler(int sig)
{
	(void)sig;
}

static void install_handlers(void)
{
	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_RESTART };
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_flags = SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGRTMIN + 3, &sa, NULL);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
}

static bool same(const struct ksigaction *a, const struct ksigaction *b, int *bad)
{
	for (int s = 1; s <= 64; s++)
		if (memcmp(&a[s], &b[s], sizeof(a[s])) != 0) {
			*bad = s;
			return false;
		}
	return true;
}

static void test_sigactions_self(void)
{
	install_handlers();
	struct ksigaction file[65], sys[65];
	int n = 0, bad = 0;
	int r = read_sigactions(getpid(), file, &n);
	for (int s = 1; s <= 64; s++)
		syscall(SYS_rt_sigaction, s, NULL, &sys[s], 8);
	result(r == 0 && n == 64 && same(file, sys, &bad), "sigactions-match-rt_sigaction",
	       "%d lines; SIGUSR1 handler 0x%lx flags 0x%lx mask 0x%lx; first mismatch: %d", n,
	       file[SIGUSR1].handler, file[SIGUSR1].flags, file[SIGUSR1].mask, bad);
}

/* The path ferry takes without the patch (KERNEL-NOTES.md): stop the task
 * with ptrace and inject rt_sigaction(sig, NULL, scratch) for every signal
 * through a "syscall; int3" gadget. */
static char inject_failure[128] = "none";

static int inject_fail(const char *step, int sig)
{
	snprintf(inject_failure, sizeof(inject_failure), "%s (signal %d): %s", step, sig,
		 strerror(errno));
	return -1;
}

static int inject_sigactions(pid_t pid, struct ksigaction *act)
{
	struct user_regs_struct saved, r;
	unsigned long gadget = (unsigned long)&handler;
	errno = 0;
	long word = ptrace(PTRACE_PEEKTEXT, pid, gadget, NULL);
	if (errno || ptrace(PTRACE_GETREGS, pid, NULL, &saved) < 0)
		return inject_fail("peek/getregs", 0);
	long patched = (word & ~0xffffffL) | 0xcc050f; /* 0f 05 cc */
	if (ptrace(PTRACE_POKETEXT, pid, gadget, patched) < 0)
		return inject_fail("poke", 0);
	unsigned long scratch = ((saved.rsp - 1024) & ~15UL);
	for (int s = 1; s <= 64; s++) {
		r = saved;
		r.rip = gadget;
		r.rax = SYS_rt_sigaction;
		r.orig_rax = -1;
		r.rdi = s;
		r.rsi = 0;
		r.rdx = scratch;
		r.r10 = 8;
		int st;
		if (ptrace(PTRACE_SETREGS, pid, NULL, &r) < 0 ||
		    ptrace(PTRACE_CONT, pid, NULL, 0) < 0 || waitpid(pid, &st, __WALL) < 0)
			return inject_fail("run", s);
		if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGTRAP)
			return errno = 0, inject_fail("no SIGTRAP stop", s);
		if (ptrace(PTRACE_GETREGS, pid, NULL, &r) < 0 || (long)r.rax != 0)
			return errno = -(long)r.rax, inject_fail("rt_sigaction", s);
		struct iovec local = { &act[s], sizeof(act[s]) };
		struct iovec remote = { (void *)scratch, sizeof(act[s]) };
		if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != sizeof(act[s]))
			return inject_fail("process_vm_readv", s);
	}
	ptrace(PTRACE_POKETEXT, pid, gadget, word);
	ptrace(PTRACE_SETREGS, pid, NULL, &saved);
	return 0;
}

static void test_sigactions_vs_injection(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		install_handlers();
		for (;;)
			pause();
	}
	sleep_ms(50);
	int st;
	if (ptrace(PTRACE_SEIZE, pid, NULL, 0) < 0 || ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0 ||
	    waitpid(pid, &st, __WALL) < 0) {
		result(false, "sigactions-match-injection", "seize: %s", strerror(errno));
		kill(pid, SIGKILL);
		reap(pid);
		return;
	}
	struct ksigaction file[65], inj[65];
	int n = 0, bad = 0, ri = 0, rf = 0;
	enum { ROUNDS = 10 };
	double t0 = now_us();
	for (int i = 0; i < ROUNDS && ri == 0; i++)
		ri = inject_sigactions(pid, inj);
	double t1 = now_us();
	for (int i = 0; i < ROUNDS && rf == 0; i++)
		rf = read_sigactions(pid, file, &n);
	double t2 = now_us();
	double per_inj = (t1 - t0) / ROUNDS, per_file = (t2 - t1) / ROUNDS;
	kill(pid, SIGKILL);
	reap(pid);
	bool agree = ri == 0 && rf == 0 && n == 64 && same(file, inj, &bad);
	result(agree, "sigactions-match-injection",
	       "64 injected rt_sigaction calls and one read of the file agree (injection "
	       "failure: %s; read %d, %d lines, first mismatch %d)",
	       inject_failure, rf, n, bad);
	result(agree && per_file < per_inj, "sigactions-cheaper-than-injection",
	       "per process: injection %.0f us, /proc/PID/sigactions %.0f us: %.0fx less "
	       "(mean of %d)",
	       per_inj, per_file, per_inj / (per_file > 0 ? per_file : 1), ROUNDS);
}

static void test_sigactions_permission(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		struct ksigaction a[65];
		int n;
		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(10);
		prctl(PR_SET_DUMPABLE, 1);
		if (read_sigactions(1, a, &n) == 0)
			_exit(11); /* read init's handlers as nobody */
		if (errno != EACCES && errno != EPERM)
			_exit(12);
		if (read_sigactions(getpid(), a, &n) != 0 || n != 64)
			_exit(13);
		_exit(0);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	result(WIFEXITED(st) && WEXITSTATUS(st) == 0, "sigactions-needs-ptrace-access",
	       "an unprivileged user reads its own but not init's (child status %d)",
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* ---- what the config brings: the children file ---- */

static void test_children_file(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	char path[64], buf[128] = "", want[32];
	snprintf(path, sizeof(path), "/proc/self/task/%d/children", getpid());
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	snprintf(want, sizeof(want), "%d ", pid);
	kill(pid, SIGKILL);
	reap(pid);
	result(strstr(buf, want) != NULL, "children-file", "lists \"%s\"", buf);
}

/* ---- ferry check on this kernel ---- */

static int run_capture(char *const argv[], char *out, size_t size)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	size_t len = 0;
	ssize_t n;
	while (len < size - 1 && (n = read(p[0], out + len, size - 1 - len)) > 0)
		len += n;
	out[len] = '\0';
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static bool check_says(const char *out, const char *name, const char *status)
{
	char want[128];
	snprintf(want, sizeof(want), "\"name\": \"%s\"", name);
	const char *p = strstr(out, want);
	const char *end = p ? strchr(p, '}') : NULL;
	const char *s = p ? strstr(p, status) : NULL;
	return p && s && s < end;
}

static void test_ferry_check(void)
{
	if (access("/ferry", X_OK) != 0) {
		printf("KTEST INFO no /ferry in the initramfs: ferry check not run\n");
		return;
	}
	static char out[16384];
	char *text[] = { "/ferry", "check", NULL };
	int rc = run_capture(text, out, sizeof(out));
	printf("KTEST INFO ferry check (exit status %d):\n", rc);
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		printf("  %s\n", line);
	char *json[] = { "/ferry", "check", "--format", "json", NULL };
	rc = run_capture(json, out, sizeof(out));
	result(rc == 0 && check_says(out, "cgroup-tasks-events", "\"supported\""),
	       "ferry-check-sees-patch-1", "exit %d; cgroup-tasks-events supported", rc);
	result(rc == 0 && check_says(out, "proc-sigactions", "\"supported\""),
	       "ferry-check-sees-patch-2", "exit %d; proc-sigactions supported", rc);
}

/* ferry's own code on this kernel's file (tests/unit/test-sigactions.c):
 * cr_sigactions_parse must match rt_sigaction (a case skipped on kernels
 * without patch 2), and cr_dump must take its handlers from the file (the
 * image keeps a SIG_DFL action's flags and mask, which injection does not
 * record). */
static void test_ferry_sigactions(void)
{
	if (access("/test-sigactions", X_OK) != 0) {
		printf("KTEST INFO no /test-sigactions in the initramfs: ferry's use not run\n");
		return;
	}
	static char out[8192];
	char *argv[] = { "/test-sigactions", NULL };
	int rc = run_capture(argv, out, sizeof(out));
	const char *own = strstr(out, "the kernel's own file parses");
	const char *eol = own ? strchr(own, '\n') : NULL;
	bool skipped = own && eol && memmem(own, (size_t)(eol - own), "# SKIP", 6) != NULL;
	bool failed = strstr(out, "not ok") != NULL;
	result(rc == 0 && own && !skipped && !failed, "ferry-parses-sigactions",
	       "test-sigactions exit %d, kernel file case %s, %s", rc,
	       !own ? "absent" : skipped ? "skipped" : "run", failed ? "a case failed" : "all ok");
	result(rc == 0 && !failed && strstr(out, "reads /proc/PID/sigactions"),
	       "ferry-dump-reads-sigactions", "cr_dump %s",
	       strstr(out, "reads /proc/PID/sigactions") ? "took the handlers from the file"
							  : "did not use the file");
	if (rc != 0 || failed)
		printf("%s", out);
}

/* The text of out's TAP line that contains what, without "ok N - "; NULL
 * when there is none or it was skipped. */
static const char *tap_line(const char *out, const char *what, char *buf, size_t size)
{
	const char *p = strstr(out, what);
	if (p == NULL)
		return NULL;
	const char *bol = p, *eol = strchr(p, '\n');
	while (bol > out && bol[-1] != '\n')
		bol--;
	size_t n = eol ? (size_t)(eol - bol) : strlen(bol);
	snprintf(buf, size, "%.*s", (int)n, bol);
	if (strstr(buf, "# SKIP"))
		return NULL;
	const char *dash = strstr(buf, " - ");
	return dash ? dash + 3 : buf;
}

/* ferry's dump on this kernel's cgroup.tasks.events (tests/unit/
 * test-seize.c): a frozen tree in a cgroup with the file is walked once,
 * and a fork into the cgroup while the seize has it thawed is noticed in
 * the counters and costs the second walk. */
static void test_ferry_seize(void)
{
	if (access("/test-seize", X_OK) != 0) {
		printf("KTEST INFO no /test-seize in the initramfs: ferry's use not run\n");
		return;
	}
	static char out[8192];
	char *argv[] = { "/test-seize", NULL };
	int rc = run_capture(argv, out, sizeof(out));
	bool failed = strstr(out, "not ok") != NULL;
	char once[512], race[512];
	const char *o = tap_line(out, "is dumped after one walk", once, sizeof(once));
	const char *r = tap_line(out, "racing fork into the cgroup", race, sizeof(race));
	result(rc == 0 && !failed && o, "ferry-dump-walks-once", "%s",
	       o ? o : "no one-walk case ran");
	result(rc == 0 && !failed && r, "ferry-dump-notices-racing-fork", "%s",
	       r ? r : "no racing-fork case ran");
	if (rc != 0 || failed)
		printf("%s", out);
}

/* A test-events line without its common prefix. */
static const char *kernel_case(const char *line)
{
	static const char prefix[] = "the watch on a real cgroup: ";
	if (line == NULL)
		return "the kernel cases did not run";
	return strncmp(line, prefix, sizeof(prefix) - 1) == 0 ? line + sizeof(prefix) - 1 : line;
}

/* ferry events on this kernel's cgroup.tasks.events (tests/unit/
 * test-events.c): the watch `ferry events` polls, started on a scratch
 * cgroup, prints a tasks record for a fork into it and one for that task's
 * exit, none for a fork and exit in another cgroup, and none for a task
 * moved in (a migration, not a fork), but one for that task's exit. */
static void test_ferry_events(void)
{
	if (access("/test-events", X_OK) != 0) {
		printf("KTEST INFO no /test-events in the initramfs: ferry's use not run\n");
		return;
	}
	static char out[8192];
	char *argv[] = { "/test-events", NULL };
	int rc = run_capture(argv, out, sizeof(out));
	bool failed = strstr(out, "not ok") != NULL;
	char fork_l[512], exit_l[512], other_l[512], move_l[512], move_x[512];
	const char *f = tap_line(out, "a fork into it prints a tasks record", fork_l, sizeof(fork_l));
	const char *x = tap_line(out, "that task's exit prints a tasks record", exit_l,
				 sizeof(exit_l));
	const char *o = tap_line(out, "another cgroup print no record", other_l, sizeof(other_l));
	const char *m = tap_line(out, "moved in wakes it but prints no record", move_l,
				 sizeof(move_l));
	const char *mx = tap_line(out, "moved task's exit prints a tasks record", move_x,
				  sizeof(move_x));
	result(rc == 0 && !failed && f && x, "ferry-events-tasks-records", "%s; %s",
	       kernel_case(f), kernel_case(x));
	result(rc == 0 && !failed && o, "ferry-events-ignores-other-cgroups", "%s",
	       kernel_case(o));
	result(rc == 0 && !failed && m && mx, "ferry-events-move-in-is-no-fork", "%s; %s",
	       kernel_case(m), kernel_case(mx));
	if (rc != 0 || failed || !f || !x || !o || !m || !mx)
		printf("%s", out);
}

static void mount_basics(void)
{
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
	mkdir("/run", 0755);
	mount("tmpfs", "/run", "tmpfs", 0, NULL);
}

int main(void)
{
	bool init = getpid() == 1; /* else a trial run on a host: touch nothing */
	if (init)
		mount_basics();
	struct utsname u;
	uname(&u);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("KTEST BEGIN %s %s\n", u.release, u.version);
	char clock[64] = "?";
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
	if (f) {
		if (fgets(clock, sizeof(clock), f))
			clock[strcspn(clock, "\n")] = '\0';
		fclose(f);
	}
	printf("KTEST INFO clocksource %s\n", clock);
	test_children_file();
	if (init)
		test_cgroup_patch();
	test_sigactions_self();
	test_sigactions_vs_injection();
	test_sigactions_permission();
	test_ferry_check();
	test_ferry_sigactions();
	if (init) {
		test_ferry_seize();
		test_ferry_events();
	}
	printf("KTEST END %d passed, %d failed\n", n_pass, n_fail);
	fflush(stdout);
	if (init) {
		sync();
		reboot(RB_AUTOBOOT); /* qemu -no-reboot exits */
	}
	return 0;
}
