/* payload: the one program ferry's integration tests run inside containers.
 *
 * Each verb (argv[1]) reports one piece of process state on stdout, one fact
 * per line, so a bats test can compare it with what config.json asked for.
 * Verbs that wait (sleep, signal-wait, eat, spawn, tick) keep the container
 * alive until the test stops it. `recvtty` and `unix-listen` are the odd ones
 * out: they run on the host, as the terminal end of --console-socket and as
 * a unix socket peer outside the container.
 *
 * Static and dependency-free, so the generated rootfs needs nothing else. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Every verb has the dispatch table's signature; most ignore their arguments. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

static int fail(const char *what)
{
	fprintf(stderr, "payload: %s: %s\n", what, strerror(errno));
	return 1;
}

static int usage_error(const char *msg)
{
	fprintf(stderr, "payload: %s\n", msg);
	return 2;
}

/* Parse a non-negative decimal; -1 when arg is not one. */
static long parse_count(const char *arg)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 0)
		return -1;
	return v;
}

static void sleep_seconds(double secs)
{
	struct timespec ts = { .tv_sec = (time_t)secs };
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void sleep_forever(void)
{
	for (;;)
		pause();
}

/* As a pid namespace's init, a signal with the default action is dropped;
 * exiting from a handler makes `kill ID TERM` stop the container the way it
 * stops an ordinary process, with the shell's 128+N convention. */
static void exit_on_signal(int sig)
{
	_exit(128 + sig);
}

static void install_exit_handlers(void)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM,
				    SIGUSR1, SIGUSR2, SIGALRM };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], exit_on_signal);
}

static int print_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(path);
	char buf[8192];
	ssize_t n;
	fflush(stdout);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (write(STDOUT_FILENO, buf, (size_t)n) != n) {
			close(fd);
			return fail("write stdout");
		}
	}
	int saved = errno;
	close(fd);
	errno = saved;
	return n < 0 ? fail(path) : 0;
}

/* Print the value of "Key:" from /proc/self/status, without the key. */
static int status_field(const char *key, char *out, size_t outlen)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return -1;
	char line[512];
	size_t klen = strlen(key);
	int rc = -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		char *v = line + klen + 1;
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = '\0';
		snprintf(out, outlen, "%s", v);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

static int cmd_sleep(int argc, char **argv)
{
	install_exit_handlers();
	if (argc < 1)
		sleep_forever();
	char *end;
	double secs = strtod(argv[0], &end);
	if (end == argv[0] || *end || secs < 0)
		return usage_error("sleep: bad duration");
	sleep_seconds(secs);
	return 0;
}

static int cmd_pid(int argc, char **argv)
{
	printf("%d\n", (int)getpid());
	return 0;
}

static int cmd_ppid(int argc, char **argv)
{
	printf("%d\n", (int)getppid());
	return 0;
}

static int cmd_hostname(int argc, char **argv)
{
	struct utsname u;
	if (uname(&u) < 0)
		return fail("uname");
	printf("%s\n", u.nodename);
	return 0;
}

static int cmd_domainname(int argc, char **argv)
{
	struct utsname u;
	if (uname(&u) < 0)
		return fail("uname");
	printf("%s\n", u.domainname);
	return 0;
}

/* "UID GID" on the first line, "groups G..." (supplementary) on the second. */
static int cmd_uid(int argc, char **argv)
{
	gid_t groups[NGROUPS_MAX];
	int n = getgroups(NGROUPS_MAX, groups);
	if (n < 0)
		return fail("getgroups");
	printf("%u %u\ngroups", (unsigned)getuid(), (unsigned)getgid());
	for (int i = 0; i < n; i++)
		printf(" %u", (unsigned)groups[i]);
	printf("\n");
	return 0;
}

static int cmd_caps(int argc, char **argv)
{
	static const char *const sets[] = { "CapInh", "CapPrm", "CapEff",
					     "CapBnd", "CapAmb" };
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		char v[64];
		if (status_field(sets[i], v, sizeof(v)) < 0)
			return fail(sets[i]);
		printf("%s %s\n", sets[i], v);
	}
	return 0;
}

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "AS", RLIMIT_AS },	       { "CORE", RLIMIT_CORE },
	{ "CPU", RLIMIT_CPU },	       { "DATA", RLIMIT_DATA },
	{ "FSIZE", RLIMIT_FSIZE },     { "LOCKS", RLIMIT_LOCKS },
	{ "MEMLOCK", RLIMIT_MEMLOCK }, { "MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "NICE", RLIMIT_NICE },       { "NOFILE", RLIMIT_NOFILE },
	{ "NPROC", RLIMIT_NPROC },     { "RSS", RLIMIT_RSS },
	{ "RTPRIO", RLIMIT_RTPRIO },   { "RTTIME", RLIMIT_RTTIME },
	{ "SIGPENDING", RLIMIT_SIGPENDING }, { "STACK", RLIMIT_STACK },
};

static void print_rlim(rlim_t v, const char *sep)
{
	if (v == RLIM_INFINITY)
		printf("unlimited%s", sep);
	else
		printf("%llu%s", (unsigned long long)v, sep);
}

/* NAME is "NOFILE" or "RLIMIT_NOFILE"; prints "SOFT HARD". */
static int cmd_rlimit(int argc, char **argv)
{
	if (argc < 1)
		return usage_error("rlimit NAME");
	const char *name = argv[0];
	if (!strncasecmp(name, "RLIMIT_", 7))
		name += 7;
	for (size_t i = 0; i < sizeof(rlimit_names) / sizeof(rlimit_names[0]); i++) {
		if (strcasecmp(name, rlimit_names[i].name))
			continue;
		struct rlimit rl;
		if (getrlimit(rlimit_names[i].resource, &rl) < 0)
			return fail("getrlimit");
		print_rlim(rl.rlim_cur, " ");
		print_rlim(rl.rlim_max, "\n");
		return 0;
	}
	return usage_error("rlimit: unknown limit");
}

static int cmd_nnp(int argc, char **argv)
{
	int v = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	if (v < 0)
		return fail("prctl(PR_GET_NO_NEW_PRIVS)");
	printf("%d\n", v);
	return 0;
}

static int cmd_umask(int argc, char **argv)
{
	mode_t m = umask(0);
	umask(m);
	printf("%04o\n", (unsigned)m);
	return 0;
}

static int cmd_cwd(int argc, char **argv)
{
	char buf[PATH_MAX];
	if (!getcwd(buf, sizeof(buf)))
		return fail("getcwd");
	printf("%s\n", buf);
	return 0;
}

/* With NAME: its value (status 1 when unset); without: the whole environment. */
static int cmd_env(int argc, char **argv)
{
	extern char **environ;
	if (argc < 1) {
		for (char **e = environ; *e; e++)
			printf("%s\n", *e);
		return 0;
	}
	const char *v = getenv(argv[0]);
	if (!v) {
		fprintf(stderr, "payload: %s is not set\n", argv[0]);
		return 1;
	}
	printf("%s\n", v);
	return 0;
}

static int cmd_exit(int argc, char **argv)
{
	long n = argc < 1 ? 0 : parse_count(argv[0]);
	if (n < 0 || n > 255)
		return usage_error("exit: status must be 0..255");
	return (int)n;
}

static void print_tty(const char *label, int fd)
{
	if (!isatty(fd)) {
		printf("%s not a tty\n", label);
		return;
	}
	const char *name = ttyname(fd);
	printf("%s %s\n", label, name ? name : "(unknown)");
}

/* "stdin NAME|not a tty", "stdout ...", "size ROWS COLS" (when a tty). */
static int cmd_tty(int argc, char **argv)
{
	print_tty("stdin", STDIN_FILENO);
	print_tty("stdout", STDOUT_FILENO);
	struct winsize ws;
	int fd = isatty(STDOUT_FILENO) ? STDOUT_FILENO : STDIN_FILENO;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0)
		printf("size %u %u\n", ws.ws_row, ws.ws_col);
	return 0;
}

static int cmd_eat(int argc, char **argv)
{
	long mb = argc < 1 ? -1 : parse_count(argv[0]);
	if (mb < 0)
		return usage_error("eat MB");
	install_exit_handlers();
	size_t len = (size_t)mb << 20;
	char *p = len ? mmap(NULL, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
		      : NULL;
	if (p == MAP_FAILED)
		return fail("mmap");
	long page = sysconf(_SC_PAGESIZE);
	for (size_t off = 0; off < len; off += (size_t)page)
		p[off] = 1;
	printf("ate %ld MB\n", mb);
	fflush(stdout);
	sleep_forever();
	return 0;
}

/* Fork N children that sleep until the parent dies. Prints "spawned N" and
 * sleeps, or "spawned K of N: ERROR" and exits 1 when a fork fails. */
static int cmd_spawn(int argc, char **argv)
{
	long n = argc < 1 ? -1 : parse_count(argv[0]);
	if (n < 0)
		return usage_error("spawn N");
	install_exit_handlers();
	pid_t parent = getpid();
	pid_t *kids = calloc((size_t)n + 1, sizeof(*kids));
	if (!kids)
		return fail("calloc");
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			printf("spawned %ld of %ld: %s\n", i, n, strerror(errno));
			/* Leave nothing behind that could hold the caller's stdio. */
			for (long k = 0; k < i; k++) {
				kill(kids[k], SIGKILL);
				waitpid(kids[k], NULL, 0);
			}
			return 1;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			if (getppid() != parent) /* the parent died before prctl */
				_exit(0);
			sleep_forever();
		}
		kids[i] = pid;
	}
	printf("spawned %ld\n", n);
	fflush(stdout);
	for (;;) {
		/* Reap anything that dies so ps shows only live children. */
		if (wait(NULL) < 0 && errno == ECHILD)
			sleep_forever();
	}
}

static void ignore_signal(int sig)
{
	(void)sig;
}

/* Print "ready", wait for any catchable signal, print "SIGNAME", exit 0. */
static int cmd_signal_wait(int argc, char **argv)
{
	sigset_t all;
	sigfillset(&all);
	/* A handler, not just a mask: a pid namespace init drops signals whose
	 * action is the default. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, ignore_signal);
	sigprocmask(SIG_BLOCK, &all, NULL);
	printf("ready\n");
	fflush(stdout);
	siginfo_t si;
	int sig;
	while ((sig = sigwaitinfo(&all, &si)) < 0 && errno == EINTR)
		;
	if (sig < 0)
		return fail("sigwaitinfo");
	const char *abbrev = sigabbrev_np(sig);
	if (abbrev)
		printf("SIG%s\n", abbrev);
	else
		printf("SIG%d\n", sig);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entry names, sorted, without "." and "..". */
static int cmd_ls(int argc, char **argv)
{
	const char *path = argc < 1 ? "." : argv[0];
	DIR *d = opendir(path);
	if (!d)
		return fail(path);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **grown = realloc(names, cap * sizeof(*names));
			if (!grown) {
				closedir(d);
				return fail("realloc");
			}
			names = grown;
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		printf("%s\n", names[i]);
		free(names[i]);
	}
	free(names);
	return 0;
}

static char file_type(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return '-';
	case S_IFDIR: return 'd';
	case S_IFLNK: return 'l';
	case S_IFCHR: return 'c';
	case S_IFBLK: return 'b';
	case S_IFIFO: return 'p';
	case S_IFSOCK: return 's';
	}
	return '?';
}

/* "TYPE MODE UID GID MAJOR:MINOR" (lstat; MODE is octal permission bits),
 * then "-> TARGET" for a symlink. */
static int cmd_stat(int argc, char **argv)
{
	if (argc < 1)
		return usage_error("stat PATH");
	struct stat st;
	if (lstat(argv[0], &st) < 0)
		return fail(argv[0]);
	printf("%c %04o %u %u %u:%u\n", file_type(st.st_mode),
	       (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
	       (unsigned)st.st_gid, major(st.st_rdev), minor(st.st_rdev));
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t len = readlink(argv[0], target, sizeof(target) - 1);
		if (len < 0)
			return fail("readlink");
		target[len] = '\0';
		printf("-> %s\n", target);
	}
	return 0;
}

static int cmd_cat(int argc, char **argv)
{
	if (argc < 1)
		return usage_error("cat PATH");
	return print_file(argv[0]);
}

static int cmd_write(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("write PATH TEXT");
	int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail(argv[0]);
	size_t len = strlen(argv[1]);
	if (write(fd, argv[1], len) != (ssize_t)len) {
		close(fd);
		return fail(argv[0]);
	}
	if (close(fd) < 0)
		return fail(argv[0]);
	return 0;
}

static void report_errno(const char *name, int rc)
{
	if (rc == 0) {
		printf("%s OK\n", name);
		return;
	}
	const char *e = strerrorname_np(errno);
	printf("%s %s\n", name, e ? e : "E?");
}

/* One line per syscall, "NAME OK" or "NAME ERRNO", for seccomp tests. The
 * writable directory defaults to /dev/shm (a tmpfs in the default spec). */
static int cmd_syscall_test(int argc, char **argv)
{
	const char *dir = argc > 0 ? argv[0] : "/dev/shm";
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/payload-syscall-test", dir);

	int rc = mkdir(path, 0755);
	report_errno("mkdir", rc);
	if (rc == 0)
		rmdir(path);

	struct stat st;
	rc = stat(dir, &st);
	if (rc == 0)
		rc = chmod(dir, st.st_mode & 07777);
	report_errno("chmod", rc);

	char buf[PATH_MAX];
	report_errno("getcwd", getcwd(buf, sizeof(buf)) ? 0 : -1);
	report_errno("getpid", getpid() > 0 ? 0 : -1);
	return 0;
}

/* "persona=0xN machine=M": LINUX32 shows persona=0x8 and machine=i686. */
static int cmd_personality(int argc, char **argv)
{
	int p = personality(0xffffffff);
	if (p < 0)
		return fail("personality");
	struct utsname u;
	if (uname(&u) < 0)
		return fail("uname");
	printf("persona=0x%x machine=%s\n", (unsigned)p, u.machine);
	return 0;
}

static int cmd_mounts(int argc, char **argv)
{
	return print_file("/proc/self/mountinfo");
}

static int cmd_oom_score_adj(int argc, char **argv)
{
	return print_file("/proc/self/oom_score_adj");
}

/* "NAME INODE" for every /proc/self/ns entry, sorted by name. */
static int cmd_ns(int argc, char **argv)
{
	static const char *const names[] = {
		"cgroup", "ipc",  "mnt",  "net",  "pid", "pid_for_children",
		"time",	  "time_for_children", "user", "uts",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[64], target[128];
		snprintf(path, sizeof(path), "/proc/self/ns/%s", names[i]);
		ssize_t len = readlink(path, target, sizeof(target) - 1);
		if (len < 0)
			continue; /* the kernel lacks this namespace */
		target[len] = '\0';
		char *open_br = strchr(target, '[');
		char *inode = open_br ? open_br + 1 : target;
		inode[strcspn(inode, "]")] = '\0';
		printf("%s %s\n", names[i], inode);
	}
	return 0;
}

/* KEY in dotted form ("net.ipv4.ip_forward") or as a /proc/sys path. */
static int cmd_sysctl(int argc, char **argv)
{
	if (argc < 1)
		return usage_error("sysctl KEY");
	char path[PATH_MAX];
	int len = snprintf(path, sizeof(path), "/proc/sys/%s", argv[0]);
	if (len < 0 || (size_t)len >= sizeof(path))
		return usage_error("sysctl: key too long");
	for (char *c = path + strlen("/proc/sys/"); *c; c++)
		if (*c == '.')
			*c = '/';
	return print_file(path);
}

static int cmd_echo(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		printf("%s%s", i ? " " : "", argv[i]);
	printf("\n");
	return 0;
}

/* One read from `from`, all of it written to `to`: the bytes read, 0 at
 * end of file, -1 on error. */
static ssize_t copy_some(int from, int to)
{
	char buf[4096];
	ssize_t n;
	while ((n = read(from, buf, sizeof(buf))) < 0 && errno == EINTR)
		;
	for (ssize_t off = 0; n > 0 && off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += w;
	}
	return n;
}

static int copy_fd(int from, int to)
{
	ssize_t n;
	while ((n = copy_some(from, to)) > 0)
		;
	return n < 0 ? -1 : 0;
}

static int cmd_stdin(int argc, char **argv)
{
	fflush(stdout);
	return copy_fd(STDIN_FILENO, STDOUT_FILENO) < 0 ? fail("copy") : 0;
}

/* "FD -> TARGET" for every open descriptor except the directory being read. */
static int cmd_fds(int argc, char **argv)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return fail("/proc/self/fd");
	int self = dirfd(d);
	long fds[1024];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < sizeof(fds) / sizeof(fds[0])) {
		long fd = parse_count(e->d_name);
		if (fd >= 0 && fd != self)
			fds[n++] = fd;
	}
	for (size_t i = 1; i < n; i++) /* insertion sort: a few entries */
		for (size_t j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			long t = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		char path[64], target[PATH_MAX];
		snprintf(path, sizeof(path), "/proc/self/fd/%ld", fds[i]);
		ssize_t len = readlink(path, target, sizeof(target) - 1);
		target[len < 0 ? 0 : len] = '\0';
		printf("%ld -> %s\n", fds[i], target);
	}
	closedir(d);
	return 0;
}

/* "monotonic SECS" and "boottime SECS", whole seconds, for time namespaces. */
static int cmd_clock(int argc, char **argv)
{
	struct timespec mono, boot;
	if (clock_gettime(CLOCK_MONOTONIC, &mono) < 0 ||
	    clock_gettime(CLOCK_BOOTTIME, &boot) < 0)
		return fail("clock_gettime");
	printf("monotonic %lld\nboottime %lld\n", (long long)mono.tv_sec,
	       (long long)boot.tv_sec);
	return 0;
}

/* Print an increasing counter every 20 ms, so a test can see the process
 * stop while the container is paused and go on after resume. */
static int cmd_tick(int argc, char **argv)
{
	install_exit_handlers();
	for (unsigned long i = 0;; i++) {
		if (printf("%lu\n", i) < 0 || fflush(stdout) == EOF)
			return fail("write stdout");
		sleep_seconds(0.02);
	}
}

/* Host side of --console-socket: listen on SOCKPATH (it appears only once
 * listening, so a test can wait for the file), take one pty master over
 * SCM_RIGHTS, write INPUT to it if given, then copy whatever the container
 * writes to stdout until the last slave closes. With -i FIFO, what is
 * written to FIFO (a named pipe; writers may come and go) goes to the
 * master meanwhile, so a test can talk to the container's terminal. */
static int receive_fd(int conn)
{
	char data[4096];
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = control,
			      .msg_controllen = sizeof(control) };
	ssize_t n;
	while ((n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
		errno = EBADMSG;
		return -1;
	}
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

static int listen_at(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char tmp[sizeof(addr.sun_path)];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(addr.sun_path, tmp, sizeof(tmp));
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	unlink(tmp);
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(s, 1) < 0 || rename(tmp, path) < 0) {
		int saved = errno;
		close(s);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return s;
}

/* Master to stdout and, if in >= 0, in to the master, until the master
 * says the last slave closed (EIO) or fails. */
static int relay_pty(int master, int in)
{
	struct pollfd p[2] = { { .fd = master, .events = POLLIN },
			       { .fd = in, .events = POLLIN } };
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[0].revents) {
			ssize_t n = copy_some(master, STDOUT_FILENO);
			if (n <= 0)
				return n < 0 ? -1 : 0;
		}
		if ((p[1].revents & POLLIN) && copy_some(in, master) < 0)
			return -1;
	}
}

static int cmd_recvtty(int argc, char **argv)
{
	int in = -1;
	if (argc > 1 && !strcmp(argv[0], "-i")) {
		/* read-write: no end of file when a writer goes away */
		in = open(argv[1], O_RDWR | O_CLOEXEC);
		if (in < 0)
			return fail(argv[1]);
		argc -= 2;
		argv += 2;
	}
	if (argc < 1)
		return usage_error("recvtty [-i FIFO] SOCKPATH [INPUT]");
	int s = listen_at(argv[0]);
	if (s < 0)
		return fail(argv[0]);
	int conn;
	while ((conn = accept4(s, NULL, NULL, SOCK_CLOEXEC)) < 0 && errno == EINTR)
		;
	close(s);
	unlink(argv[0]);
	if (conn < 0)
		return fail("accept");
	int master = receive_fd(conn);
	close(conn);
	if (master < 0)
		return fail("receive pty master");
	if (argc > 1) {
		size_t len = strlen(argv[1]);
		if (write(master, argv[1], len) != (ssize_t)len)
			return fail("write pty");
	}
	/* EIO from the master is how a pty says the last slave closed. */
	if (relay_pty(master, in) < 0 && errno != EIO)
		return fail("copy pty");
	return 0;
}

/* Unix sockets across the container's edge, for checkpoint --ext-unix-sk:
 * `unix-listen` is the peer outside (on the host, in a directory the
 * container has bind-mounted at the same path), `unix-send` the process
 * inside that stays connected to it. */
static int sock_type(const char *kind)
{
	if (!strcmp(kind, "dgram"))
		return SOCK_DGRAM;
	if (!strcmp(kind, "stream") || !strcmp(kind, "stream-backlog"))
		return SOCK_STREAM;
	return -1;
}

/* The address of PATH ("@NAME": an abstract name) and its length, or -1. */
static int sun_at(struct sockaddr_un *a, const char *path)
{
	size_t len = strlen(path);
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (len >= sizeof(a->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(a->sun_path, path, len);
	if (path[0] != '@')
		return (int)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	a->sun_path[0] = '\0';
	return (int)(offsetof(struct sockaddr_un, sun_path) + len);
}

/* Print what came in as lines (a datagram without a final newline gets one). */
static void print_msg(const char *buf, ssize_t n)
{
	fwrite(buf, 1, (size_t)n, stdout);
	if (n == 0 || buf[n - 1] != '\n')
		putchar('\n');
	fflush(stdout);
}

static int listen_dgram(int s, const char *reply)
{
	char buf[65536];
	for (;;) {
		struct sockaddr_un from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("recvfrom");
		/* only a sender bound to a name can be answered; before the
		 * message shows, so a test that saw it knows the answer is there */
		if (reply && fl > offsetof(struct sockaddr_un, sun_path) &&
		    sendto(s, reply, strlen(reply), 0, (struct sockaddr *)&from, fl) < 0)
			fprintf(stderr, "payload: reply: %s\n", strerror(errno));
		print_msg(buf, n);
	}
}

static int listen_stream(int s)
{
	struct pollfd p[16] = { { .fd = s, .events = POLLIN } };
	nfds_t n = 1;
	char buf[4096];
	for (;;) {
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return fail("poll");
		}
		for (nfds_t i = n; i-- > 1;) {
			if (!p[i].revents)
				continue;
			ssize_t got = read(p[i].fd, buf, sizeof(buf));
			if (got > 0) {
				print_msg(buf, got);
				continue;
			}
			close(p[i].fd);
			p[i] = p[--n];
		}
		if (p[0].revents && n < 16) {
			int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0)
				p[n++] = (struct pollfd){ .fd = c, .events = POLLIN };
		}
	}
}

/* (host) Bind a KIND socket to PATH ("@NAME": abstract), print "listening",
 * then every message that comes in; a datagram from a named sender is
 * answered with REPLY if given. KIND stream-backlog never accepts: the
 * connections wait in its backlog. Runs until killed. */
static int cmd_unix_listen(int argc, char **argv)
{
	if (argc < 2 || sock_type(argv[0]) < 0)
		return usage_error("unix-listen dgram|stream|stream-backlog PATH [REPLY]");
	int type = sock_type(argv[0]);
	struct sockaddr_un a;
	int len = sun_at(&a, argv[1]);
	if (len < 0)
		return fail(argv[1]);
	int s = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (s < 0)
		return fail("socket");
	/* bound at PATH itself, not renamed there: a socket's name is the
	 * path it was bound to */
	if (argv[1][0] != '@')
		unlink(argv[1]);
	if (bind(s, (struct sockaddr *)&a, (socklen_t)len) < 0 ||
	    (type == SOCK_STREAM && listen(s, 8) < 0))
		return fail(argv[1]);
	printf("listening\n");
	fflush(stdout);
	if (!strcmp(argv[0], "stream-backlog"))
		sleep_forever(); /* connections stay in the backlog */
	return type == SOCK_DGRAM ? listen_dgram(s, argc > 2 ? argv[2] : NULL) : listen_stream(s);
}

static int send_line(int s, const char *fmt, unsigned long n)
{
	char msg[64];
	int len = snprintf(msg, sizeof(msg), fmt, n);
	return send(s, msg, (size_t)len, MSG_NOSIGNAL) == len ? 0 : -1;
}

/* Connect a KIND socket to PATH (bound to BIND first if given), send
 * "hello", print "connected", then send "signal N" for the Nth SIGUSR1. */
static int cmd_unix_send(int argc, char **argv)
{
	if (argc < 2 || sock_type(argv[0]) < 0)
		return usage_error("unix-send dgram|stream PATH [BIND]");
	struct sockaddr_un to, self;
	int tl = sun_at(&to, argv[1]), sl = argc > 2 ? sun_at(&self, argv[2]) : 0;
	if (tl < 0 || sl < 0)
		return fail(argv[1]);
	install_exit_handlers();
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	int s = socket(AF_UNIX, sock_type(argv[0]), 0);
	if (s < 0)
		return fail("socket");
	if (argc > 2 && (unlink(argv[2]), bind(s, (struct sockaddr *)&self, (socklen_t)sl) < 0))
		return fail(argv[2]);
	if (connect(s, (struct sockaddr *)&to, (socklen_t)tl) < 0)
		return fail(argv[1]);
	if (send_line(s, "hello\n", 0) < 0)
		return fail("send");
	printf("connected\n");
	fflush(stdout);
	for (unsigned long n = 1;; n++) {
		int sig;
		while ((sig = sigwaitinfo(&usr1, NULL)) < 0 && errno == EINTR)
			;
		if (sig < 0)
			return fail("sigwaitinfo");
		if (send_line(s, "signal %lu\n", n) < 0)
			return fail("send");
	}
}

struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args, *help;
};

static const struct verb verbs[] = {
	{ "sleep", cmd_sleep, "[SECS]", "sleep (default forever); TERM etc. exit 128+N" },
	{ "pid", cmd_pid, "", "print getpid()" },
	{ "ppid", cmd_ppid, "", "print getppid()" },
	{ "hostname", cmd_hostname, "", "print the UTS nodename" },
	{ "domainname", cmd_domainname, "", "print the UTS domainname" },
	{ "uid", cmd_uid, "", "print \"UID GID\" and \"groups G...\"" },
	{ "caps", cmd_caps, "", "print CapInh CapPrm CapEff CapBnd CapAmb as hex" },
	{ "rlimit", cmd_rlimit, "NAME", "print \"SOFT HARD\"" },
	{ "nnp", cmd_nnp, "", "print the no_new_privs bit" },
	{ "umask", cmd_umask, "", "print the umask in octal" },
	{ "cwd", cmd_cwd, "", "print the working directory" },
	{ "env", cmd_env, "[NAME]", "print one variable or the environment" },
	{ "exit", cmd_exit, "N", "exit with status N" },
	{ "tty", cmd_tty, "", "print whether stdin/stdout are ttys and the size" },
	{ "eat", cmd_eat, "MB", "allocate and touch MB MiB, then sleep" },
	{ "spawn", cmd_spawn, "N", "fork N sleeping children, then sleep" },
	{ "signal-wait", cmd_signal_wait, "", "print ready, wait for a signal, print its name" },
	{ "ls", cmd_ls, "PATH", "list a directory, sorted" },
	{ "stat", cmd_stat, "PATH", "print type, mode, owner and device numbers" },
	{ "cat", cmd_cat, "PATH", "print a file" },
	{ "write", cmd_write, "PATH TEXT", "write TEXT to PATH" },
	{ "syscall-test", cmd_syscall_test, "[DIR]", "try mkdir, chmod, getcwd, getpid" },
	{ "personality", cmd_personality, "", "print the personality and machine" },
	{ "mounts", cmd_mounts, "", "print /proc/self/mountinfo" },
	{ "oom-score-adj", cmd_oom_score_adj, "", "print /proc/self/oom_score_adj" },
	{ "ns", cmd_ns, "", "print the inode of every /proc/self/ns link" },
	{ "sysctl", cmd_sysctl, "KEY", "print /proc/sys/KEY" },
	{ "echo", cmd_echo, "ARGS...", "print the arguments" },
	{ "stdin", cmd_stdin, "", "copy stdin to stdout" },
	{ "fds", cmd_fds, "", "list open file descriptors" },
	{ "clock", cmd_clock, "", "print CLOCK_MONOTONIC and CLOCK_BOOTTIME seconds" },
	{ "tick", cmd_tick, "", "print a counter every 20 ms, forever" },
	{ "recvtty", cmd_recvtty, "[-i FIFO] SOCKPATH [INPUT]", "(host) receive a pty master, relay it" },
	{ "unix-listen", cmd_unix_listen, "KIND PATH [REPLY]", "(host) bind a unix KIND socket, print what comes in" },
	{ "unix-send", cmd_unix_send, "KIND PATH [BIND]", "connect to PATH, send hello, a line per SIGUSR1" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: payload VERB [ARGS...]\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(out, "  %-13s %-18s %s\n", verbs[i].name, verbs[i].args,
			verbs[i].help);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[1], verbs[i].name))
			continue;
		int rc = verbs[i].fn(argc - 2, argv + 2);
		fflush(stdout);
		return rc;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "payload: unknown verb '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
