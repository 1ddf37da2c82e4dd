/* zdtm: tiny programs that each build one piece of kernel state, survive
 * checkpoint/restore, and check that the state came back intact.
 *
 * Protocol (shared by tests/zdtm/run.sh and tests/zdtm/standalone.sh):
 *  1. The program sets up its state, then test_ready() writes "ready\n" to
 *     $ZDTM_DIR/zdtm-ready (ZDTM_DIR defaults to /tmp, on the container's
 *     writable rootfs, so the harness reads it on the host through the bundle).
 *  2. test_waitsig() sleeps in FUTEX_WAIT until SIGUSR2 arrives; the harness
 *     checkpoints and restores the container any number of times meanwhile.
 *  3. The program verifies its state and calls pass() or fail(), which write
 *     "PASS\n" or "FAIL: reason\n" to $ZDTM_DIR/zdtm-result and exit 0 or 1
 *     (skip() writes "SKIP: reason\n", before test_ready(), and exits 0).
 *     Only the process that called test_init() writes the result; pass() and
 *     fail() in any other process (a forked child) just exit 0 or 1, so
 *     parents learn of a child's failure through its exit status.
 *
 * The waiting uses a futex, not pause() or sigsuspend(): it is race-free and
 * leaves the signal mask alone, which the signal tests check. SIGUSR2 is
 * therefore reserved: no test may block, ignore or reuse it.
 *
 * Each source file starts with a header the harnesses read:
 *   // zdtm-desc: TEXT           what state it checks (one line)
 *   // zdtm: KEY=VALUE ...       options for run.sh (see run.sh's header)
 *   // zdtm-disturb: SHELL       how standalone.sh breaks the state from
 *                                outside, to show the test can fail
 *   // zdtm-standalone: WORDS    a command standalone.sh runs the test under
 *                                (unshare for a pid namespace, setpriv...)
 */
#ifndef ZDTM_LIB_H
#define ZDTM_LIB_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

/* The program's name (basename of argv[0]) for messages. */
extern const char *test_name;

/* Install the SIGUSR2 handler, remember which process reports the result. */
void test_init(int argc, char **argv);
/* Tell the harness the state is built. */
void test_ready(void);
/* Block until SIGUSR2 (checkpoint/restore happens while we are here). */
void test_waitsig(void);
/* Has SIGUSR2 arrived (for tests that must keep working while waiting)? */
bool test_sig_received(void);
/* The word the SIGUSR2 handler sets to 1, for busy loops written in asm. */
const int *test_sigflag(void);

_Noreturn void pass(void);
/* The state cannot be built on this host (no AVX, say): "SKIP: reason". */
_Noreturn void skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A diagnostic line on stderr; never part of the result. */
void test_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK(cond, ...)                  \
	do {                              \
		if (!(cond))              \
			fail(__VA_ARGS__); \
	} while (0)

/* SYS(call): the call's value; a -1 result fails the test naming the call. */
long test_sys(long ret, const char *what);
#define SYS(call) test_sys((long)(call), #call)

/* $ZDTM_DIR/zdtm-<test>-<name>: a scratch path next to the result file. */
const char *test_path(const char *name);

/* Deterministic, seed-dependent byte patterns. */
void datagen(void *buf, size_t len, uint64_t seed);
/* The offset of the first byte that differs from datagen's, or -1. */
ssize_t datachk(const void *buf, size_t len, uint64_t seed);
uint64_t hash64(const void *buf, size_t len);

/* All of len bytes, or fail. */
void xwrite(int fd, const void *buf, size_t len);
void xread(int fd, void *buf, size_t len);
/* A small text file's contents (NUL-terminated, trailing newline kept). */
char *read_text(const char *path, char *buf, size_t size);
void write_text(const char *path, const char *text);

/* Move fd to number to (dup2, then close the original), or fail. */
void fd_move(int fd, int to);

/* Fork a child that runs fn(arg) and exits with its return value. */
pid_t test_fork(int (*fn)(void *), void *arg);
/* Reap pid and fail unless it exited with status 0. */
void test_wait_ok(pid_t pid);

#endif
