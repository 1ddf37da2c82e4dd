/* The hooks runner: exit statuses, the state on stdin, args and env, the
 * timeout, a missing binary, and hooks that ignore a large stdin.
 * (TAP_OK evaluates its condition twice: no side effects inside it.) */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oci/hooks.h"
#include "tap.h"
#include "util.h"

static char tmpdir[] = "/tmp/ferry-test-hooks.XXXXXX";

static const char state[] =
	"{\"ociVersion\":\"1.2.0\",\"id\":\"h\",\"pid\":1,\"status\":\"created\","
	"\"bundle\":\"/b\",\"rootfs\":\"/b/rootfs\",\"created\":\"x\",\"owner\":\"\"}";

static struct oci_hook hook(const char *path, const char *const *args,
			    const char *const *env, int timeout)
{
	struct oci_hook h = { .path = (char *)path };
	for (size_t i = 0; args && args[i]; i++)
		rt_strv_push(&h.args, args[i]);
	for (size_t i = 0; env && env[i]; i++)
		rt_strv_push(&h.env, env[i]);
	h.has_timeout = timeout > 0;
	h.timeout = timeout;
	return h;
}

static void hook_clear(struct oci_hook *h)
{
	rt_strv_free(h->args);
	rt_strv_free(h->env);
}

/* Run hooks as one list of kind; returns the error (caller frees). */
static struct rt_err *run(struct oci_hook *hooks, size_t n,
			  enum oci_hook_kind kind, const char *json)
{
	struct oci_hook_list list = { .hooks = hooks, .n = n };
	struct rt_err *err = NULL;
	int r = oci_hooks_run(&list, kind, json, &err);
	if (r == 0 && err != NULL)
		printf("# error set on success: %s\n", err->msg);
	if (r < 0 && err == NULL)
		rt_err_set(&err, 0, "returned -1 without an error");
	for (size_t i = 0; i < n; i++)
		hook_clear(&hooks[i]);
	return err;
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	struct rt_err *err = NULL;
	rt_read_file(path, &buf, NULL, &err);
	rt_err_free(err);
	return buf;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_exit_status(void)
{
	struct oci_hook ok[] = { hook("/bin/true", NULL, NULL, 0) };
	struct rt_err *err = run(ok, 1, OCI_HOOK_PRESTART, state);
	TAP_OK(err == NULL, "a hook exiting 0 succeeds%s%s", err ? ": " : "",
	       err ? err->msg : "");
	rt_err_free(err);

	cleanup_free char *marker = xasprintf("%s/third-ran", tmpdir);
	cleanup_free char *touch = xasprintf("touch %s", marker);
	const char *fail[] = { "sh", "-c", "exit 3", NULL };
	const char *third[] = { "sh", "-c", touch, NULL };
	struct oci_hook list[] = {
		hook("/bin/true", NULL, NULL, 0),
		hook("/bin/sh", fail, NULL, 0),
		hook("/bin/sh", third, NULL, 0),
	};
	err = run(list, 3, OCI_HOOK_CREATE_RUNTIME, state);
	TAP_STREQ(err ? err->msg : NULL,
		  "createRuntime hook[1] '/bin/sh': exited with status 3",
		  "exit 3: the error names the kind, index, path and status");
	TAP_OK(access(marker, F_OK) < 0, "the first failure stops the list");
	rt_err_free(err);

	const char *kill9[] = { "sh", "-c", "kill -9 $$", NULL };
	struct oci_hook killed[] = { hook("/bin/sh", kill9, NULL, 0) };
	err = run(killed, 1, OCI_HOOK_POSTSTOP, state);
	TAP_OK(err && strstr(err->msg, "poststop hook[0] '/bin/sh': killed by signal 9"),
	       "death by signal is an error: %s", err ? err->msg : "(none)");
	rt_err_free(err);
}

static void test_stdin(void)
{
	cleanup_free char *out = xasprintf("%s/stdin", tmpdir);
	cleanup_free char *script = xasprintf("cat > %s", out);
	const char *args[] = { "sh", "-c", script, NULL };
	struct oci_hook h[] = { hook("/bin/sh", args, NULL, 10) };
	struct rt_err *err = run(h, 1, OCI_HOOK_CREATE_CONTAINER, state);
	cleanup_free char *got = slurp(out);
	TAP_OK(err == NULL, "stdin hook succeeds%s%s", err ? ": " : "",
	       err ? err->msg : "");
	TAP_STREQ(got, state, "the hook reads the state JSON on stdin");
	rt_err_free(err);

	/* Larger than any pipe buffer, so it takes many rounds of the loop. */
	size_t big_len = 3u << 20;
	cleanup_free char *big = xmalloc(big_len + 1);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)('a' + i % 26);
	big[big_len] = '\0';
	struct oci_hook h2[] = { hook("/bin/sh", args, NULL, 30) };
	err = run(h2, 1, OCI_HOOK_CREATE_CONTAINER, big);
	cleanup_free char *got2 = slurp(out);
	TAP_OK(err == NULL && got2 && strcmp(got2, big) == 0,
	       "a 3 MiB state arrives whole%s%s", err ? ": " : "",
	       err ? err->msg : "");
	rt_err_free(err);
}

static void test_args_env(void)
{
	cleanup_free char *out = xasprintf("%s/args", tmpdir);
	cleanup_free char *script = xasprintf("echo \"$0|$1|$2|$FOO\" > %s", out);
	const char *args[] = { "sh", "-c", script, "zero", "one two", NULL };
	const char *env[] = { "FOO=bar baz", NULL };
	struct oci_hook h[] = { hook("/bin/sh", args, env, 0) };
	struct rt_err *err = run(h, 1, OCI_HOOK_START_CONTAINER, state);
	cleanup_free char *got = slurp(out);
	TAP_STREQ(got, "zero|one two||bar baz\n", "args and env reach the hook");
	rt_err_free(err);

	cleanup_free char *envout = xasprintf("%s/env", tmpdir);
	cleanup_free char *envscript = xasprintf("/usr/bin/env > %s", envout);
	const char *eargs[] = { "sh", "-c", envscript, NULL };
	const char *env2[] = { "A=1", "B=2", NULL };
	struct oci_hook h2[] = { hook("/bin/sh", eargs, env2, 0) };
	err = run(h2, 1, OCI_HOOK_POSTSTART, state);
	cleanup_free char *got2 = slurp(envout);
	/* sh may export PWD (and dash nothing else); the rest must be ours. */
	bool exact = got2 && strstr(got2, "A=1\n") && strstr(got2, "B=2\n") &&
		     !strstr(got2, "HOME=") && !strstr(got2, "PATH=");
	TAP_OK(exact, "env is exactly the hook's env");
	if (!exact)
		printf("#   got: %s\n", got2 ? got2 : "(none)");
	rt_err_free(err);

	/* Without env: an empty environment, nothing inherited from us. */
	setenv("FERRY_TEST_LEAK", "1", 1);
	cleanup_free char *bareout = xasprintf("%s/bare", tmpdir);
	cleanup_free char *barescript = xasprintf("exec /usr/bin/env > %s", bareout);
	const char *bargs[] = { "sh", "-c", barescript, NULL };
	struct oci_hook h3[] = { hook("/bin/sh", bargs, NULL, 0) };
	err = run(h3, 1, OCI_HOOK_POSTSTART, state);
	cleanup_free char *got3 = slurp(bareout);
	TAP_OK(got3 && !strstr(got3, "FERRY_TEST_LEAK"),
	       "no env: the runtime's environment is not passed on");
	rt_err_free(err);

	/* Without args: argv is { path }. */
	cleanup_free char *s0 = xasprintf("%s/argv0.sh", tmpdir);
	cleanup_free char *s0out = xasprintf("%s/argv0", tmpdir);
	cleanup_free char *body = xasprintf("#!/bin/sh\necho \"$0 $#\" > %s\n", s0out);
	FILE *f = fopen(s0, "w");
	fputs(body, f);
	fclose(f);
	chmod(s0, 0755);
	struct oci_hook h4[] = { hook(s0, NULL, NULL, 0) };
	err = run(h4, 1, OCI_HOOK_PRESTART, state);
	cleanup_free char *got4 = slurp(s0out);
	cleanup_free char *want4 = xasprintf("%s 0\n", s0);
	TAP_STREQ(got4, want4, "no args: argv is { path }");
	rt_err_free(err);
}

static void test_timeout(void)
{
	const char *args[] = { "sleep", "100", NULL };
	struct oci_hook h[] = { hook("/bin/sleep", args, NULL, 1) };
	double t0 = now_s();
	struct rt_err *err = run(h, 1, OCI_HOOK_PRESTART, state);
	double took = now_s() - t0;
	TAP_STREQ(err ? err->msg : NULL,
		  "prestart hook[0] '/bin/sleep': timed out after 1s",
		  "a hook past its timeout is killed");
	TAP_OK(took >= 0.9 && took < 3.0, "within about the timeout (%.2fs)", took);
	rt_err_free(err);

	/* Not reading stdin and not exiting: the timeout still fires. */
	size_t big_len = 1u << 20;
	cleanup_free char *big = xmalloc(big_len + 1);
	memset(big, 'x', big_len);
	big[big_len] = '\0';
	struct oci_hook h2[] = { hook("/bin/sleep", args, NULL, 1) };
	t0 = now_s();
	err = run(h2, 1, OCI_HOOK_PRESTART, big);
	took = now_s() - t0;
	TAP_OK(err && strstr(err->msg, "timed out after 1s") && took < 3.0,
	       "a full stdin pipe does not block the timeout (%.2fs)", took);
	rt_err_free(err);
}

static void test_missing(void)
{
	struct oci_hook h[] = { hook("/nonexistent/ferry-hook", NULL, NULL, 0) };
	struct rt_err *err = run(h, 1, OCI_HOOK_CREATE_RUNTIME, state);
	TAP_STREQ(err ? err->msg : NULL,
		  "createRuntime hook[0] '/nonexistent/ferry-hook': exec: "
		  "No such file or directory",
		  "a missing hook binary is an error naming it");
	TAP_OK(err && err->code == ENOENT, "with errno ENOENT");
	rt_err_free(err);

	cleanup_free char *noexec = xasprintf("%s/noexec", tmpdir);
	FILE *f = fopen(noexec, "w");
	fputs("#!/bin/sh\n", f);
	fclose(f);
	struct oci_hook h2[] = { hook(noexec, NULL, NULL, 0) };
	err = run(h2, 1, OCI_HOOK_CREATE_RUNTIME, state);
	TAP_OK(err && strstr(err->msg, "exec: Permission denied"),
	       "a non-executable hook: %s", err ? err->msg : "(none)");
	rt_err_free(err);
}

static bool sigpipe_pending(void)
{
	sigset_t set;
	sigpending(&set);
	return sigismember(&set, SIGPIPE);
}

static void test_ignored_stdin(void)
{
	size_t big_len = 4u << 20;
	cleanup_free char *big = xmalloc(big_len + 1);
	memset(big, 'y', big_len);
	big[big_len] = '\0';

	struct oci_hook h[] = { hook("/bin/true", NULL, NULL, 10) };
	double t0 = now_s();
	struct rt_err *err = run(h, 1, OCI_HOOK_POSTSTOP, big);
	double took = now_s() - t0;
	TAP_OK(err == NULL && took < 5.0,
	       "a hook that exits without reading a 4 MiB state: ok in %.2fs%s%s",
	       took, err ? ": " : "", err ? err->msg : "");
	rt_err_free(err);

	/* Closes stdin while the pipe is full, then keeps running: EPIPE. */
	const char *args[] = { "sh", "-c", "exec 0<&-; sleep 0.3", NULL };
	struct oci_hook h2[] = { hook("/bin/sh", args, NULL, 10) };
	err = run(h2, 1, OCI_HOOK_POSTSTOP, big);
	TAP_OK(err == NULL, "EPIPE from a hook that closed stdin is ignored%s%s",
	       err ? ": " : "", err ? err->msg : "");
	TAP_OK(!sigpipe_pending(), "and no SIGPIPE is left pending");
	rt_err_free(err);
}

int main(void)
{
	/* Default SIGPIPE: if the runner let one through, this test dies. */
	signal(SIGPIPE, SIG_DFL);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_exit_status();
	test_stdin();
	test_args_env();
	test_timeout();
	test_missing();
	test_ignored_stdin();
	struct rt_err *err = NULL;
	rt_rm_rf(tmpdir, &err);
	rt_err_free(err);
	return tap_done();
}
