/* The checkpoint/restore engine end to end, in-process: each case forks a
 * target running a function of this program, checkpoints it with cr_dump
 * into a fresh directory on /dev/shm (which kills it), and restores it with
 * cr_restore into the same pids: the test is a child subreaper, reaps the
 * whole dumped tree so its pids are free, then creates the restore root
 * with clone3(set_tid = {root pid}) (CAP_SYS_ADMIN: root only) and execs
 * itself as the agent (a fresh layout, so the vDSO really moves).
 *
 * The "pidns" cases do what a container restore does: the target is pid 1
 * of a new pid namespace (so the images hold namespace pids: 1, 2, ...,
 * while the coordinator works with host pids), and the restore root is
 * created with clone3(CLONE_NEWPID, set_tid = {1}) in another new one.
 *
 * Target protocol: fd 0 is a pipe from the test, fd 1 a pipe to it (the
 * container's stdio: restored as "inherited stdio"). The target builds its
 * state, writes 'R', blocks in read(0) (an interrupted syscall across the
 * checkpoint), and after restore gets one 'G' per process, checks its state
 * from inside and writes one line "PASS" or "FAIL <why>".
 * Every process created is killed and reaped, also on failure. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coordinator/coordinator.h"
#include "tap.h"
#include "util.h"

static char result[256];

/* ---- helpers run by targets ---- */

static void say(const char *s)
{
	if (write(1, s, strlen(s)) < 0)
		_exit(99);
}

static void wait_go(void)
{
	char c;
	while (read(0, &c, 1) < 0 && errno == EINTR)
		;
}

static _Noreturn void report(const char *fail)
{
	char buf[256];
	snprintf(buf, sizeof(buf), fail ? "FAIL %s\n" : "PASS\n", fail);
	say(buf);
	_exit(fail ? 1 : 0);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i += 512)
		p[i] = (uint8_t)(seed + i / 512);
}

static bool check(const uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i += 512)
		if (p[i] != (uint8_t)(seed + i / 512))
			return false;
	return true;
}

/* ---- targets ---- */

static void body_single(void)
{
	uint8_t stack[64 << 10];
	uint8_t *heap = malloc(1 << 20);
	uint8_t *anon = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fill(stack, sizeof(stack), 1);
	fill(heap, 1 << 20, 2);
	fill(anon, 4 << 20, 3);
	int nul = open("/dev/null", O_RDWR);
	dup2(nul, 5);
	int f = open("/dev/shm/ferry-cr-test-file", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (write(f, "0123456789", 10) != 10)
		_exit(98);
	dup2(f, 6);
	int a = open("/dev/shm/ferry-cr-test-file", O_WRONLY | O_APPEND);
	dup2(a, 7);
	lseek(6, 4, SEEK_SET);
	pid_t pid = getpid();
	/* ymm8 survives the checkpoint taken while we sit in read() */
	uint64_t in[4] = { 0x1111222233334444, 0x5555666677778888, 0x99990000aaaabbbb,
			   0xccccddddeeeeffff }, out[4];
	char c;
	say("R");
	long r;
	__asm__ volatile("vmovdqu %[in], %%ymm8\n\t"
			 "syscall\n\t"
			 "vmovdqu %%ymm8, %[out]\n\t"
			 : "=a"(r), [out] "=m"(out)
			 : "a"(SYS_read), "D"(0), "S"(&c), "d"(1), [in] "m"(in)
			 : "rcx", "r11", "memory", "xmm8");
	struct stat sb;
	if (r != 1)
		report("read was not restarted");
	if (memcmp(in, out, sizeof(in)) != 0)
		report("ymm8 changed");
	if (getpid() != pid)
		report("pid changed");
	if (!check(stack, sizeof(stack), 1) || !check(heap, 1 << 20, 2) ||
	    !check(anon, 4 << 20, 3))
		report("memory differs");
	if (fstat(5, &sb) < 0 || !S_ISCHR(sb.st_mode))
		report("fd 5 is not /dev/null");
	if (lseek(6, 0, SEEK_CUR) != 4 || !(fcntl(7, F_GETFL) & O_APPEND))
		report("file offset or O_APPEND lost");
	if (write(7, "x", 1) != 1 || lseek(7, 0, SEEK_CUR) != 11)
		report("appending fd does not append");
	if (fcntl(8, F_GETFD) >= 0)
		report("an fd of the agent leaked");
	report(NULL);
}

static void child_level(int depth);
/* through a pointer: every path of child_level ends in _exit */
static void (*volatile next_level)(int) = child_level;

static void child_level(int depth)
{
	uint8_t *m = malloc(256 << 10);
	fill(m, 256 << 10, (uint8_t)depth);
	pid_t kid = 0;
	if (depth < 2) {
		kid = fork();
		if (kid == 0) {
			next_level(depth + 1);
			_exit(0);
		}
	}
	pid_t me = getpid(), parent = getppid();
	if (depth == 0)
		say("R");
	wait_go();
	int st = 0;
	if (kid > 0 && (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st)))
		report("a child failed");
	if (getpid() != me || getppid() != parent || !check(m, 256 << 10, (uint8_t)depth))
		report(depth ? "child state differs" : "root state differs");
	if (depth)
		_exit(0);
	report(NULL);
}

static void body_tree(void)
{
	child_level(0);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go, started, bad;

static void *thread_main(void *arg)
{
	pid_t tid = gettid();
	pthread_mutex_lock(&mu);
	started++;
	pthread_cond_broadcast(&cv);
	while (!go)
		pthread_cond_wait(&cv, &mu);
	if (gettid() != tid)
		bad++;
	pthread_mutex_unlock(&mu);
	return arg;
}

static void body_threads(void)
{
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, thread_main, NULL);
	pthread_mutex_lock(&mu);
	while (started < 3)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	say("R");
	wait_go();
	pthread_mutex_lock(&mu);
	go = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	report(bad ? "a thread's tid changed" : NULL);
}

static volatile sig_atomic_t got_usr2;
static void on_usr1(int s) { (void)s; }
static void on_usr2(int s) { (void)s; got_usr2++; }

static void body_signals(void)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR2);
	say("R");
	wait_go();
	struct sigaction old;
	sigset_t cur, pend;
	sigaction(SIGUSR1, NULL, &old);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	sigpending(&pend);
	if (old.sa_handler != on_usr1 || !(old.sa_flags & SA_RESTART))
		report("SIGUSR1 handler lost");
	if (!sigismember(&cur, SIGUSR2) || !sigismember(&pend, SIGUSR2))
		report("mask or pending SIGUSR2 lost");
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	report(got_usr2 == 1 ? NULL : "pending SIGUSR2 not delivered");
}

static void body_zombie(void)
{
	pid_t kid = fork();
	if (kid == 0)
		_exit(7);
	while (waitid(P_PID, kid, NULL, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	say("R");
	wait_go();
	int st;
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
		report("zombie lost or wrong status");
	report(NULL);
}

/* FERRY_CR_BIG_MIB overrides the size (the 1 GiB measurement). */
static size_t BIG = 256u << 20;
static void body_big(void)
{
	uint8_t *p = mmap(NULL, BIG, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	for (size_t i = 0; i < BIG; i += 4096)
		memset(p + i, (int)(i / 4096), 64);
	say("R");
	wait_go();
	for (size_t i = 0; i < BIG; i += 4096)
		if (p[i] != (uint8_t)(i / 4096) || p[i + 63] != (uint8_t)(i / 4096))
			report("big memory differs");
	report(NULL);
}

/* Memory the fast paths must get right: a read-only and a PROT_NONE
 * mapping with contents (userfaultfd fills them: the 24 MiB make the task
 * big enough, and make the dump use its pipes, writer threads and two page
 * files), 8 MiB of shared anonymous memory dumped in the middle of that
 * (through pipes of its own, into one file), and a 16 TiB PROT_NONE
 * reservation with two pages in use, as sanitizers make (the dump must
 * walk only what is populated). */
static void body_layout(void)
{
	size_t n = 24 << 20, huge = 16ull << 40;
	uint8_t *sh = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			   -1, 0);
	uint8_t *a = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *ro = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *no = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *res = mmap(NULL, huge, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			    -1, 0);
	if (sh == MAP_FAILED || a == MAP_FAILED || ro == MAP_FAILED || no == MAP_FAILED ||
	    res == MAP_FAILED)
		report("mmap");
	uint8_t *in = res + (huge / 2);
	if (mprotect(in, 8192, PROT_READ | PROT_WRITE) < 0)
		report("mprotect");
	fill(sh, 8 << 20, 3);
	fill(a, n, 4);
	fill(ro, 8192, 5);
	fill(no, 8192, 6);
	fill(in, 8192, 7);
	mprotect(ro, 8192, PROT_READ);
	mprotect(no, 8192, PROT_NONE);
	say("R");
	wait_go();
	mprotect(no, 8192, PROT_READ);
	if (!check(sh, 8 << 20, 3) || !check(a, n, 4) || !check(ro, 8192, 5) ||
	    !check(no, 8192, 6) || !check(in, 8192, 7))
		report("memory differs");
	report(NULL);
}

/* fd kinds: a pipe with data in flight, an eventfd, an epoll watching the
 * pipe (pipes.c, eventfd.c, epoll.c) */
static void body_fdkinds(void)
{
	int p[2];
	uint64_t v = 0;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x42 };
	if (pipe(p) < 0 || dup2(p[0], 10) < 0 || dup2(p[1], 11) < 0 ||
	    dup2(eventfd(7, EFD_NONBLOCK), 12) < 0 || dup2(epoll_create1(0), 13) < 0 ||
	    epoll_ctl(13, EPOLL_CTL_ADD, 10, &ev) < 0 || write(11, "hello", 5) != 5)
		report("set-up failed");
	char buf[16];
	say("R");
	wait_go();
	if (epoll_wait(13, &ev, 1, 0) != 1 || ev.data.u64 != 0x42)
		report("the epoll lost its watch on the pipe");
	if (read(10, buf, sizeof(buf)) != 5 || memcmp(buf, "hello", 5) != 0)
		report("the pipe's data differs");
	if (read(12, &v, 8) != 8 || v != 7 || !(fcntl(12, F_GETFL) & O_NONBLOCK))
		report("the eventfd's counter or flags differ");
	report(NULL);
}

static void body_spin(void)
{
	say("R");
	for (;;)
		pause();
}

/* Four processes; the last maps a file it deleted, which the dump
 * refuses in its memory, after the others' memory went to the dump's
 * second thread. */
static void body_refused_mapping(void)
{
	for (int i = 0; i < 3; i++) {
		pid_t k = fork();
		if (k < 0)
			report("fork");
		if (k > 0)
			continue;
		if (i == 2) {
			char path[] = "/dev/shm/ferry-cr-test-deleted-XXXXXX";
			int fd = mkstemp(path);
			if (fd < 0 || ftruncate(fd, 4096) < 0 ||
			    mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED)
				_exit(1);
			unlink(path);
			close(fd);
		}
		for (;;)
			pause();
	}
	usleep(100000);
	body_spin();
}

/* ---- harness ---- */

struct target {
	pid_t pid;    /* in our pid namespace */
	bool newns;   /* pid 1 of a pid namespace of its own */
	int in_w, in_r, out_r, out_w; /* our ends and the ends we restore */
};

static void reap_all(void)
{
	while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
		;
}

static void run_body(void (*body)(void), int in_r, int out_w)
{
	dup2(in_r, 0);
	dup2(out_w, 1);
	syscall(SYS_close_range, 3, ~0u, 0);
	body();
	_exit(0);
}

/* A plain fork() child, or with newns the first child of a helper that
 * unshared its pid namespace (pid 1 there, and a normal glibc process);
 * the helper tells us its host pid and exits, we are the subreaper. */
static pid_t fork_target(void (*body)(void), struct target *t)
{
	if (!t->newns) {
		pid_t pid = fork();
		if (pid == 0)
			run_body(body, t->in_r, t->out_w);
		return pid;
	}
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t helper = fork(), pid = -1;
	if (helper == 0) {
		close(p[0]);
		if (unshare(CLONE_NEWPID) < 0)
			_exit(1);
		pid = fork();
		if (pid == 0)
			run_body(body, t->in_r, t->out_w);
		_exit(write(p[1], &pid, sizeof(pid)) == sizeof(pid) ? 0 : 1);
	}
	close(p[1]);
	if (helper < 0 || read(p[0], &pid, sizeof(pid)) != sizeof(pid))
		pid = -1;
	close(p[0]);
	if (helper > 0)
		waitpid(helper, NULL, 0);
	return pid;
}

static pid_t spawn_target(void (*body)(void), struct target *t)
{
	int in[2], out[2];
	if (pipe(in) < 0 || pipe(out) < 0)
		return -1;
	t->in_r = in[0];
	t->in_w = in[1];
	t->out_r = out[0];
	t->out_w = out[1];
	t->pid = fork_target(body, t);
	if (t->pid < 0)
		return -1;
	char c = 0;
	struct pollfd p = { t->out_r, POLLIN, 0 };
	if (poll(&p, 1, 10000) != 1 || read(t->out_r, &c, 1) != 1 || c != 'R')
		return -1;
	return t->pid;
}

static void close_target(struct target *t)
{
	close(t->in_r);
	close(t->in_w);
	close(t->out_r);
	close(t->out_w);
}

static int new_images(char *dir)
{
	strcpy(dir, "/dev/shm/ferry-cr-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void rm_images(const char *dir)
{
	struct rt_err *e = NULL;
	rt_rm_rf(dir, &e);
	rt_err_free(e);
}

/* The restore root running this program as the agent: pid `pid` here (0:
 * any), or with newns pid `pid` of a new pid namespace. Returns its pid
 * here. */
static pid_t start_agent(pid_t pid, bool newns, int *sock)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	uint64_t tid = (uint64_t)pid;
	struct clone_args a = { .flags = newns ? CLONE_NEWPID : 0, .exit_signal = SIGCHLD,
				.set_tid = pid ? (uintptr_t)&tid : 0, .set_tid_size = pid ? 1 : 0 };
	pid_t r = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
	if (r == 0) {
		char fd[16];
		close(sv[0]);
		fcntl(sv[1], F_SETFD, 0);
		snprintf(fd, sizeof(fd), "%d", sv[1]);
		execl("/proc/self/exe", "test-coordinator", "--agent", fd, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	*sock = sv[0];
	return r;
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

/* dump -> reap -> restore -> 'G' per process -> result line. With newns
 * the target and the restored tree each live in a new pid namespace. */
static bool round_trip(const char *name, void (*body)(void), int nproc, bool newns,
		       struct cr_stats *ds, struct cr_stats *rs)
{
	struct target t = { .newns = newns };
	char dir[64];
	struct rt_err *err = NULL;
	bool ok = false;
	result[0] = '\0';
	if (spawn_target(body, &t) < 0) {
		snprintf(result, sizeof(result), "target did not start");
		if (t.pid > 0)
			kill(t.pid, SIGKILL);
		reap_all();
		return false;
	}
	pid_t live = t.pid; /* the root to kill at the end, in our namespace */
	int dirfd = new_images(dir);
	struct cr_dump_opts d = { .root = t.pid, .images_dirfd = dirfd };
	if (cr_dump(&d, ds, &err) < 0) {
		snprintf(result, sizeof(result), "dump: %s", err->msg);
		goto out;
	}
	reap_all();
	live = 0;
	int sock;
	pid_t agent = start_agent(newns ? 1 : t.pid, newns, &sock);
	if (agent > 0)
		live = agent;
	if (agent <= 0 || (!newns && agent != t.pid)) {
		snprintf(result, sizeof(result), "agent got pid %d, not %d", agent, t.pid);
		goto out;
	}
	struct cr_restore_opts ro = { .images_dirfd = dirfd, .agent_pid = agent,
				      .agent_fd = sock, .stdio = { t.in_r, t.out_w, 2 } };
	int ret = cr_restore(&ro, rs, &err);
	close(sock);
	if (ret < 0) {
		snprintf(result, sizeof(result), "restore: %s", err->msg);
		goto out;
	}
	for (int i = 0; i < nproc; i++)
		if (write(t.in_w, "G", 1) != 1)
			break;
	read_line(t.out_r, result, sizeof(result), 20000);
	ok = strcmp(result, "PASS\n") == 0;
out:
	if (live > 0)
		kill(live, SIGKILL);
	reap_all();
	rt_err_free(err);
	close(dirfd);
	rm_images(dir);
	close_target(&t);
	if (!ok)
		printf("# %s: %s\n", name, result);
	return ok;
}

static void test_traced(void)
{
	struct target t = { 0 };
	if (spawn_target(body_spin, &t) < 0) {
		TAP_OK(0, "traced target started");
		return;
	}
	pid_t tracer = fork();
	if (tracer == 0) {
		if (ptrace(PTRACE_SEIZE, t.pid, 0, 0) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	usleep(200000);
	char dir[64];
	int dirfd = new_images(dir);
	struct rt_err *err = NULL;
	struct cr_dump_opts d = { .root = t.pid, .images_dirfd = dirfd };
	int ret = cr_dump(&d, NULL, &err);
	TAP_OK(ret < 0 && err && err->code == EBUSY && strstr(err->msg, "traced by"),
	       "dump of a task traced by another process fails with EBUSY (%s)",
	       err ? err->msg : "no error");
	char st[8] = "";
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", t.pid);
	FILE *f = fopen(path, "r");
	if (f) {
		fscanf(f, "%*d %*s %7s", st);
		fclose(f);
	}
	TAP_OK(kill(t.pid, 0) == 0 && strcmp(st, "S") == 0,
	       "the traced target keeps running (state %s)", st);
	rt_err_free(err);
	kill(tracer, SIGKILL);
	kill(t.pid, SIGKILL);
	reap_all();
	close(dirfd);
	rm_images(dir);
	close_target(&t);
}

/* A task's run state and tracer, as /proc shows them: "S0" for a sleeping
 * untraced task ("R0" just after it was let go). */
static void task_state(pid_t pid, char out[16])
{
	char path[64], st = '?';
	cleanup_free char *status = NULL;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	long tracer = -1;
	if (rt_read_file(path, &status, NULL, NULL) == 0) {
		const char *s = strstr(status, "\nState:"), *tp = strstr(status, "\nTracerPid:");
		if (s)
			sscanf(s + 7, " %c", &st);
		if (tp)
			tracer = strtol(tp + 11, NULL, 10);
	}
	snprintf(out, 16, "%c%ld", st, tracer);
}

static void test_refused_mapping(void)
{
	struct target t = { 0 };
	if (spawn_target(body_refused_mapping, &t) < 0) {
		TAP_OK(0, "target with a deleted mapping started");
		return;
	}
	char dir[64];
	int dirfd = new_images(dir);
	struct rt_err *err = NULL;
	struct cr_dump_opts d = { .root = t.pid, .images_dirfd = dirfd };
	int ret = cr_dump(&d, NULL, &err);
	TAP_OK(ret < 0 && err && strstr(err->msg, "deleted"),
	       "a tree whose last task maps a deleted file is refused (%s)",
	       err ? err->msg : "no error");
	char kids[256] = "", path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", t.pid, t.pid);
	FILE *f = fopen(path, "r");
	if (f) {
		if (fgets(kids, sizeof(kids), f) == NULL)
			kids[0] = '\0';
		fclose(f);
	}
	char all[64], st[16];
	pid_t pids[8] = { t.pid };
	int n = 1, good = 0;
	for (char *p = strtok(kids, " \n"); p && n < 8; p = strtok(NULL, " \n"))
		pids[n++] = atoi(p);
	int w = snprintf(all, sizeof(all), "%d of %d:", good, n);
	for (int i = 0; i < n; i++) {
		task_state(pids[i], st);
		good += strcmp(st, "S0") == 0 || strcmp(st, "R0") == 0;
		w += snprintf(all + w, sizeof(all) - (size_t)w, " %s", st);
	}
	all[0] = (char)('0' + good);
	TAP_OK(n == 4 && good == 4, "all four keep running untraced (%s)", all);
	rt_err_free(err);
	for (int i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	reap_all();
	close(dirfd);
	rm_images(dir);
	close_target(&t);
}

static void test_corrupt(void)
{
	struct target t = { 0 };
	char dir[64];
	struct rt_err *err = NULL;
	if (spawn_target(body_single, &t) < 0) {
		TAP_OK(0, "target started");
		return;
	}
	int dirfd = new_images(dir);
	struct cr_dump_opts d = { .root = t.pid, .images_dirfd = dirfd };
	int ret = cr_dump(&d, NULL, &err);
	reap_all();
	char name[64];
	snprintf(name, sizeof(name), "pages-%d.img", t.pid);
	int fd = openat(dirfd, name, O_WRONLY);
	if (fd >= 0) {
		ret |= ftruncate(fd, 3 * 4096);
		close(fd);
	}
	int sock;
	pid_t agent = start_agent(t.pid, false, &sock);
	struct cr_restore_opts ro = { .images_dirfd = dirfd, .agent_pid = agent,
				      .agent_fd = sock, .stdio = { t.in_r, t.out_w, 2 } };
	if (ret == 0)
		ret = cr_restore(&ro, NULL, &err);
	close(sock);
	TAP_OK(ret < 0 && err && strstr(err->msg, "truncated"),
	       "restore from a truncated page file fails clearly (%s)",
	       err ? err->msg : "no error");
	reap_all();
	TAP_OK(kill(agent, 0) < 0 && errno == ESRCH, "no task is left behind");
	kill(t.pid, SIGKILL);
	reap_all();
	rt_err_free(err);
	close(dirfd);
	rm_images(dir);
	close_target(&t);
}

/* Images of a pid namespace's tree restored by an agent in ours: refused
 * before anything is created, and the agent does not survive. */
static void test_pidns_mismatch(void)
{
	struct target t = { .newns = true };
	char dir[64];
	struct rt_err *err = NULL;
	if (spawn_target(body_spin, &t) < 0) {
		TAP_OK(0, "pid-namespace target started");
		if (t.pid > 0)
			kill(t.pid, SIGKILL);
		reap_all();
		return;
	}
	int dirfd = new_images(dir);
	struct cr_dump_opts d = { .root = t.pid, .images_dirfd = dirfd };
	int ret = cr_dump(&d, NULL, &err);
	if (ret < 0)
		kill(t.pid, SIGKILL);
	reap_all();
	int sock = -1;
	pid_t agent = ret == 0 ? start_agent(0, false, &sock) : -1;
	struct cr_restore_opts ro = { .images_dirfd = dirfd, .agent_pid = agent,
				      .agent_fd = sock, .stdio = { t.in_r, t.out_w, 2 } };
	if (agent > 0)
		ret = cr_restore(&ro, NULL, &err);
	if (sock >= 0)
		close(sock);
	TAP_OK(agent > 0 && ret < 0 && err && strstr(err->msg, "is pid 1 in its pid namespace"),
	       "restore of a pid namespace's images outside one fails clearly (%s)",
	       err ? err->msg : "no error");
	reap_all();
	TAP_OK(agent > 0 && kill(agent, 0) < 0 && errno == ESRCH, "the agent is gone");
	if (agent > 0)
		kill(agent, SIGKILL);
	reap_all();
	rt_err_free(err);
	close(dirfd);
	rm_images(dir);
	close_target(&t);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--agent") == 0)
		cr_restore_agent(atoi(argv[2]));
	if (geteuid() != 0) {
		TAP_SKIP("needs root (ptrace, clone3 set_tid)", "coordinator");
		return tap_done();
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (getenv("FERRY_CR_BIG_MIB"))
		BIG = (size_t)atoi(getenv("FERRY_CR_BIG_MIB")) << 20;
	struct cr_stats ds, rs;
	TAP_OK(round_trip("single", body_single, 1, false, &ds, &rs),
	       "one process: heap, stack, mmap, ymm8, restarted read, fds");
	TAP_OK(round_trip("tree", body_tree, 3, false, &ds, &rs),
	       "a 3-level tree keeps its pids");
	TAP_OK(round_trip("threads", body_threads, 1, false, &ds, &rs),
	       "3 threads keep their tids");
	TAP_OK(round_trip("signals", body_signals, 1, false, &ds, &rs),
	       "handlers, mask and a pending signal");
	TAP_OK(round_trip("zombie", body_zombie, 1, false, &ds, &rs), "a zombie child");
	TAP_OK(round_trip("fdkinds", body_fdkinds, 1, false, &ds, &rs),
	       "a pipe with data, an eventfd and an epoll watching the pipe");
	TAP_OK(round_trip("pidns single", body_single, 1, true, &ds, &rs),
	       "pid namespace: pid 1 restored into a new pid namespace");
	TAP_OK(round_trip("pidns tree", body_tree, 3, true, &ds, &rs),
	       "pid namespace: a 3-level tree keeps its namespace pids and parents");
	TAP_OK(round_trip("pidns threads", body_threads, 1, true, &ds, &rs),
	       "pid namespace: 3 threads keep their namespace tids");
	TAP_OK(round_trip("pidns signals", body_signals, 1, true, &ds, &rs),
	       "pid namespace: handlers, mask and a pending signal queued to itself");
	TAP_OK(round_trip("pidns zombie", body_zombie, 1, true, &ds, &rs),
	       "pid namespace: a zombie child of pid 1");
	TAP_OK(round_trip("layout", body_layout, 1, false, &ds, &rs),
	       "read-only, PROT_NONE and shared memory, a 16 TiB sparse reservation");
	bool big = round_trip("big", body_big, 1, false, &ds, &rs);
	TAP_OK(big, "%zu MiB of dirty memory", BIG >> 20);
	if (big)
		printf("# %zu MiB: dump %.2f GB/s (read %lu us, write %lu us, frozen %lu us), "
		       "restore %lu us, %lu pages\n", BIG >> 20,
		       (double)ds.pages_written * 4096 / 1e3 /
			       (double)(ds.memdump_time_us + ds.memwrite_time_us + 1),
		       (unsigned long)ds.memdump_time_us, (unsigned long)ds.memwrite_time_us,
		       (unsigned long)ds.frozen_time_us, (unsigned long)rs.restore_time_us,
		       (unsigned long)rs.pages_restored);
	test_traced();
	test_refused_mapping();
	test_corrupt();
	test_pidns_mismatch();
	unlink("/dev/shm/ferry-cr-test-file");
	return tap_done();
}
