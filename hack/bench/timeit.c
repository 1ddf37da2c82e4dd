/* timeit: run one command and record its wall time and peak RSS.
 *
 *   timeit [-n PID] [-o FILE -l LABEL] -- CMD [ARGS...]
 *
 * -n PID   first join the mount namespace of PID (crun's private namespace in
 *          hack/bench.sh); the namespace switch happens before the clock
 *          starts, so it costs the measured command nothing.
 * -o FILE  append "LABEL WALL_US MAXRSS_KB STATUS CPU_US" to FILE.
 *
 * The clock runs from just before fork() to just after wait4(), so it covers
 * exec, the dynamic loader and the whole run of CMD. MAXRSS is wait4()'s
 * ru_maxrss: the largest resident set of CMD or of any descendant it reaped
 * (for `run`, that includes the container's init before it exec'd). CPU is
 * user + system time of CMD and the descendants it reaped. The
 * exit status of CMD is passed on, so a failing runtime fails the benchmark.
 *
 * Built by hack/bench.sh into its temp dir; not part of ferry. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int die(const char *what)
{
	fprintf(stderr, "timeit: %s: %s\n", what, strerror(errno));
	return 125;
}

/* Enter PID's mount namespace and go back to the same working directory
 * there (setns(CLONE_NEWNS) resets it to the namespace's root). */
static int join_mntns(const char *pid)
{
	char cwd[PATH_MAX], path[64];
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	snprintf(path, sizeof(path), "/proc/%s/ns/mnt", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = setns(fd, CLONE_NEWNS);
	close(fd);
	if (rc < 0 || chdir(cwd) < 0)
		return -1;
	return 0;
}

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	const char *ns = NULL, *out = NULL, *label = "-";
	int opt;
	while ((opt = getopt(argc, argv, "+n:o:l:")) != -1) {
		switch (opt) {
		case 'n': ns = optarg; break;
		case 'o': out = optarg; break;
		case 'l': label = optarg; break;
		default: return 125;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: timeit [-n PID] [-o FILE -l LABEL] -- CMD [ARGS...]\n");
		return 125;
	}
	if (ns && join_mntns(ns) < 0)
		return die("join mount namespace");

	long long t0 = now_us();
	pid_t pid = fork();
	if (pid < 0)
		return die("fork");
	if (pid == 0) {
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "timeit: exec %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return die("wait4");
	long long t1 = now_us();

	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (out) {
		FILE *f = fopen(out, "a");
		if (!f)
			return die(out);
		long long cpu = (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
				ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
		fprintf(f, "%s %lld %ld %d %lld\n", label, t1 - t0, ru.ru_maxrss, rc, cpu);
		if (fclose(f) != 0)
			return die(out);
	}
	return rc;
}
