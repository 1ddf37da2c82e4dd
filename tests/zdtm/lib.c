/* The zdtm protocol (see lib.h): ready file, SIGUSR2 wait, PASS/FAIL file. */
#include "lib.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

const char *test_name = "zdtm";
static pid_t main_pid;
/* The futex word test_waitsig sleeps on; the handler sets it and wakes. */
static int sig_word;

static const char *files_dir(void)
{
	const char *d = getenv("ZDTM_DIR");
	return d && *d ? d : "/tmp";
}

static void on_usr2(int sig)
{
	(void)sig;
	int saved = errno;
	__atomic_store_n(&sig_word, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &sig_word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	errno = saved;
}

void test_init(int argc, char **argv)
{
	(void)argc;
	const char *slash = strrchr(argv[0], '/');
	test_name = slash ? slash + 1 : argv[0];
	main_pid = getpid();
	/* SA_RESTART: a thread blocked in a test's own syscall must not see
	 * EINTR just because the harness's signal landed on it. */
	struct sigaction sa = { .sa_handler = on_usr2, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR2, &sa, NULL) < 0)
		fail("sigaction(SIGUSR2): %m");
}

/* Write path atomically: the harness polls for it and must never read half. */
static int put_file(const char *name, const char *text)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	snprintf(path, sizeof(path), "%s/%s", files_dir(), name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	size_t len = strlen(text);
	bool ok = write(fd, text, len) == (ssize_t)len;
	ok = close(fd) == 0 && ok;
	return ok ? rename(tmp, path) : -1;
}

void test_ready(void)
{
	if (put_file("zdtm-ready", "ready\n") < 0)
		fail("write %s/zdtm-ready: %m", files_dir());
}

bool test_sig_received(void)
{
	return __atomic_load_n(&sig_word, __ATOMIC_SEQ_CST) != 0;
}

const int *test_sigflag(void)
{
	return &sig_word;
}

void test_waitsig(void)
{
	while (!test_sig_received())
		syscall(SYS_futex, &sig_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

static _Noreturn void finish(bool ok, const char *verdict, const char *reason)
{
	if (getpid() != main_pid) {
		if (!ok)
			fprintf(stderr, "%s[%d]: FAIL: %s\n", test_name, getpid(), reason);
		_exit(ok ? 0 : 1);
	}
	char text[1200];
	snprintf(text, sizeof(text), *reason ? "%s: %s\n" : "%s\n", verdict, reason);
	fprintf(stderr, "%s: %s", test_name, text);
	if (put_file("zdtm-result", text) < 0)
		fprintf(stderr, "%s: write zdtm-result: %m\n", test_name);
	exit(ok ? 0 : 1);
}

void pass(void)
{
	finish(true, "PASS", "");
}

void fail(const char *fmt, ...)
{
	char reason[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	finish(false, "FAIL", *reason ? reason : "(no reason)");
}

void skip(const char *fmt, ...)
{
	char reason[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	finish(true, "SKIP", *reason ? reason : "(no reason)");
}

void test_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", test_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

long test_sys(long ret, const char *what)
{
	if (ret == -1)
		fail("%s: %m", what);
	return ret;
}

const char *test_path(const char *name)
{
	char *p;
	if (asprintf(&p, "%s/zdtm-%s-%s", files_dir(), test_name, name) < 0)
		fail("asprintf: %m");
	return p;
}

/* xorshift64*, seeded so that neighbouring seeds give unrelated streams. */
static uint64_t next_word(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

void datagen(void *buf, size_t len, uint64_t seed)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1, w = 0;
	unsigned char *p = buf;
	for (size_t i = 0; i < len; i++) {
		if (i % 8 == 0)
			w = next_word(&s);
		p[i] = (unsigned char)(w >> (8 * (i % 8)));
	}
}

ssize_t datachk(const void *buf, size_t len, uint64_t seed)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1, w = 0;
	const unsigned char *p = buf;
	for (size_t i = 0; i < len; i++) {
		if (i % 8 == 0)
			w = next_word(&s);
		if (p[i] != (unsigned char)(w >> (8 * (i % 8))))
			return (ssize_t)i;
	}
	return -1;
}

uint64_t hash64(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

void xwrite(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("write fd %d: %m", fd);
		p += n;
		len -= (size_t)n;
	}
}

void xread(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("read fd %d: %m", fd);
		if (n == 0)
			fail("read fd %d: end of file with %zu bytes missing", fd, len);
		p += n;
		len -= (size_t)n;
	}
}

char *read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail("open %s: %m", path);
	ssize_t n = read(fd, buf, size - 1);
	if (n < 0)
		fail("read %s: %m", path);
	close(fd);
	buf[n] = 0;
	return buf;
}

void write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail("open %s: %m", path);
	xwrite(fd, text, strlen(text));
	close(fd);
}

void fd_move(int fd, int to)
{
	if (fd == to)
		return;
	if (dup2(fd, to) != to)
		fail("dup2(%d, %d): %m", fd, to);
	close(fd);
}

pid_t test_fork(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	if (pid < 0)
		fail("fork: %m");
	if (pid == 0)
		_exit(fn(arg));
	return pid;
}

void test_wait_ok(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		fail("waitpid %d: %m", pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("child %d ended with status 0x%x", pid, st);
}
