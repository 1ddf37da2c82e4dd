/* cr_sigactions_parse (runtime/coordinator/signals.c): the text of
 * /proc/PID/sigactions (ferry's kernel patch 2). The kernel's output is
 * built here from this process's own rt_sigaction answers in the patch's
 * format ("%d 0x%lx 0x%lx 0x%lx" and the mask as SigBlk prints it, 16 hex
 * digits), so the parser is tested on any kernel; where the file exists it
 * is read and compared too. Malformed texts must be refused.
 *
 * Which way cr_dump takes (as root), seen in the image of a child with a
 * handler and a SIG_DFL action that has flags and a mask: only the file
 * reports the latter; the injection path records it as the initial action. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coordinator/internal.h"
#include "tap.h"
#include "util.h"

#define NSIG64 64

static void on_signal(int sig)
{
	(void)sig;
}

/* Some state worth reading back: a handler with flags and a mask, an
 * ignored signal, a real-time handler. */
static void install(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGHUP);
	sigaddset(&sa.sa_mask, SIGRTMIN + 2);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_flags = SA_NODEFER | SA_ONSTACK;
	sigaction(SIGRTMIN + 4, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void ask_kernel(struct cr_ksigaction *act)
{
	for (int sig = 1; sig <= NSIG64; sig++)
		syscall(SYS_rt_sigaction, sig, NULL, &act[sig], 8);
}

/* What the patched kernel would print for act. */
static char *render(const struct cr_ksigaction *act)
{
	size_t cap = NSIG64 * 96, len = 0;
	char *s = xmalloc(cap);
	for (int sig = 1; sig <= NSIG64; sig++)
		len += (size_t)snprintf(s + len, cap - len, "%d 0x%llx 0x%llx 0x%llx %016llx\n",
					sig, (unsigned long long)act[sig].handler,
					(unsigned long long)act[sig].flags,
					(unsigned long long)act[sig].restorer,
					(unsigned long long)act[sig].mask);
	return s;
}

static bool parses(const char *text, struct cr_ksigaction *act, char **msg)
{
	struct rt_err *e = NULL;
	int r = cr_sigactions_parse(text, act, &e);
	*msg = e ? xasprintf("%s", e->msg) : NULL;
	rt_err_free(e);
	return r == 0;
}

static void test_rendered(void)
{
	struct cr_ksigaction want[NSIG64 + 1] = { 0 }, got[NSIG64 + 1] = { 0 };
	ask_kernel(want);
	cleanup_free char *text = render(want);
	cleanup_free char *msg = NULL;
	TAP_OK(parses(text, got, &msg), "64 lines in the patch's format parse (%s)",
	       msg ? msg : "ok");
	TAP_OK(memcmp(&got[1], &want[1], NSIG64 * sizeof(want[0])) == 0,
	       "every signal equals rt_sigaction's answer");
	TAP_OK(got[SIGUSR1].handler == (uintptr_t)on_signal &&
		       got[SIGUSR1].mask == (1ull << (SIGHUP - 1) | 1ull << (SIGRTMIN + 1)),
	       "SIGUSR1: handler %#llx mask %#llx", (unsigned long long)got[SIGUSR1].handler,
	       (unsigned long long)got[SIGUSR1].mask);
	TAP_OK(got[SIGPIPE].handler == (uintptr_t)SIG_IGN, "SIGPIPE is ignored");
}

static void test_readme_line(void)
{
	struct cr_ksigaction act[NSIG64 + 1] = { 0 }, none[NSIG64 + 1] = { 0 };
	cleanup_free char *text = render(none);
	/* Replace signal 10's line with the README's example. */
	char *l = strstr(text, "\n10 ") + 1;
	char *rest = xasprintf("%s", strchr(l, '\n'));
	sprintf(l, "10 0x4035d0 0x14000000 0x401a80 0000000000004800%s", rest);
	free(rest);
	cleanup_free char *msg = NULL;
	TAP_OK(parses(text, act, &msg) && act[10].handler == 0x4035d0 &&
		       act[10].flags == 0x14000000 && act[10].restorer == 0x401a80 &&
		       act[10].mask == 0x4800 && act[11].handler == 0,
	       "the README's example line (%s)", msg ? msg : "ok");
}

static void test_malformed(void)
{
	struct cr_ksigaction act[NSIG64 + 1] = { 0 }, none[NSIG64 + 1] = { 0 };
	cleanup_free char *good = render(none);
	struct {
		const char *what;
		char *text;
	} bad[] = {
		{ "an empty file", xasprintf("%s", "") },
		{ "63 lines", xasprintf("%s", strchr(good, '\n') + 1) },
		{ "a repeated signal", xasprintf("1 0x0 0x0 0x0 0000000000000000\n%s", good) },
		{ "signal 65", xasprintf("%s65 0x0 0x0 0x0 0000000000000000\n", good) },
		{ "signal 0", xasprintf("0 0x0 0x0 0x0 0000000000000000\n%s", good) },
		{ "a field missing", xasprintf("%s", good) },
		{ "trailing junk", xasprintf("%s", good) },
	};
	char *l = strstr(bad[5].text, "\n7 ") + 1;
	memcpy(strstr(l, " 0000"), "\n", 1); /* "7 0x0 0x0 0x0\n000..." */
	l = strstr(bad[6].text, "\n7 ") + 1;
	strchr(l, '\n')[-1] = 'x';
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cleanup_free char *msg = NULL;
		TAP_OK(!parses(bad[i].text, act, &msg) && msg, "refused: %s (%s)", bad[i].what,
		       msg ? msg : "accepted");
		free(bad[i].text);
	}
}

static void test_kernel_file(void)
{
	cleanup_free char *text = NULL;
	struct rt_err *e = NULL;
	if (rt_read_file("/proc/self/sigactions", &text, NULL, &e) < 0) {
		bool absent = e->code == ENOENT;
		rt_err_free(e);
		if (absent) {
			TAP_SKIP("no /proc/self/sigactions (kernel without ferry's patch 2)",
				 "the kernel's own file parses and matches rt_sigaction");
			return;
		}
		TAP_OK(false, "read /proc/self/sigactions");
		return;
	}
	struct cr_ksigaction want[NSIG64 + 1] = { 0 }, got[NSIG64 + 1] = { 0 };
	ask_kernel(want);
	cleanup_free char *msg = NULL;
	TAP_OK(parses(text, got, &msg) &&
		       memcmp(&got[1], &want[1], NSIG64 * sizeof(want[0])) == 0,
	       "the kernel's own file parses and matches rt_sigaction (%s)", msg ? msg : "ok");
}

/* A SIG_DFL action with flags and a mask: what only the file reports (the
 * injection path records every SIG_DFL signal but SIGCHLD as all zero). */
#define MARK_SIG SIGUSR2
static const uint64_t mark[4] = { (uintptr_t)SIG_DFL, SA_RESTART, 0, 1ull << (SIGHUP - 1) };

static pid_t spawn_marked(int *ready)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		char c = syscall(SYS_rt_sigaction, MARK_SIG, mark, NULL, 8) == 0 ? 'R' : 'E';
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	*ready = p[0];
	return pid;
}

/* The SIGUSR1 and MARK_SIG records of signal-PID.img. */
static int read_image(int dirfd, pid_t pid, struct cr_ksigaction *usr1,
		      struct cr_ksigaction *marked, struct rt_err **err)
{
	char name[64];
	snprintf(name, sizeof(name), "signal-%d.img", pid);
	cleanup_img struct cr_img *img = NULL;
	if (cr_img_open(dirfd, name, CR_IMG_CORE, &img, err) < 0)
		return -1;
	for (;;) {
		struct cr_rd r;
		uint32_t sig;
		struct cr_ksigaction k;
		int n = cr_img_next(img, &r, err);
		if (n <= 0)
			return n;
		if (r.type != CR_R_SIGACT)
			continue;
		if (cr_get_u32(&r, "signal", &sig, err) < 0 ||
		    cr_get_u64(&r, "handler", &k.handler, err) < 0 ||
		    cr_get_u64(&r, "flags", &k.flags, err) < 0 ||
		    cr_get_u64(&r, "restorer", &k.restorer, err) < 0 ||
		    cr_get_u64(&r, "mask", &k.mask, err) < 0)
			return -1;
		if (sig == SIGUSR1)
			*usr1 = k;
		if (sig == MARK_SIG)
			*marked = k;
	}
}

/* Which way cr_dump took, seen in the image: the file keeps MARK_SIG's
 * flags and mask, the injection path records it as the initial action. */
static void test_dump_path(void)
{
	const char *what = "cr_dump of a process";
	if (geteuid() != 0) {
		TAP_SKIP("needs root (ptrace)", "%s", what);
		return;
	}
	bool has_file = access("/proc/self/sigactions", F_OK) == 0;
	char dir[] = "/tmp/ferry-sigactions-XXXXXX", c = 0;
	int ready = -1;
	pid_t pid = spawn_marked(&ready);
	bool started = pid > 0 && read(ready, &c, 1) == 1 && c == 'R';
	int dirfd = mkdtemp(dir) ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	struct cr_dump_opts o = { .root = pid, .images_dirfd = dirfd };
	struct cr_ksigaction usr1 = { 0 }, marked = { 1, 1, 1, 1 };
	struct rt_err *e = NULL;
	int r = started && dirfd >= 0 ? cr_dump(&o, NULL, &e) : -2;
	if (r == 0)
		r = read_image(dirfd, pid, &usr1, &marked, &e);
	bool handler_ok = usr1.handler == (uintptr_t)on_signal && usr1.flags & SA_RESTART;
	if (has_file)
		TAP_OK(r == 0 && handler_ok && marked.flags == mark[1] && marked.mask == mark[3],
		       "%s reads /proc/PID/sigactions: SIGUSR1's handler, and a SIG_DFL "
		       "action's flags %#llx and mask %#llx (%s)", what,
		       (unsigned long long)marked.flags, (unsigned long long)marked.mask,
		       e ? e->msg : "ok");
	else
		TAP_OK(r == 0 && handler_ok && !marked.handler && !marked.flags && !marked.mask,
		       "%s injects rt_sigaction for caught signals: SIGUSR1's handler, a "
		       "SIG_DFL action recorded as the initial one (%s)", what,
		       e ? e->msg : "ok");
	rt_err_free(e);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	close(ready);
	if (dirfd >= 0)
		close(dirfd);
	e = NULL;
	rt_rm_rf(dir, &e);
	rt_err_free(e);
}

int main(void)
{
	install();
	test_rendered();
	test_readme_line();
	test_malformed();
	test_kernel_file();
	test_dump_path();
	return tap_done();
}
