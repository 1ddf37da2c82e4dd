/* state.json round trip, atomic replacement, errors naming file and field
 * for damaged files, and the exact text of the public state document.
 * (TAP_OK evaluates its condition twice: no side effects inside it.) */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oci/state.h"
#include "tap.h"
#include "util.h"

static char tmpdir[] = "/tmp/ferry-test-state.XXXXXX";

static char **strv(const char *a, const char *b, const char *c)
{
	char **v = NULL;
	const char *in[] = { a, b, c };
	for (size_t i = 0; i < 3; i++)
		if (in[i])
			rt_strv_push(&v, in[i]);
	return v;
}

/* A state with every field away from its zero value. */
static struct oci_state *full_state(void)
{
	struct oci_state *s = xcalloc(1, sizeof(*s));
	s->oci_version = xstrdup("1.2.0");
	s->id = xstrdup("web-1");
	s->pid = 4242;
	s->pid_start_time = 9876543210123ULL;
	s->bundle = xstrdup("/srv/bundles/web");
	s->rootfs = xstrdup("/srv/bundles/web/rootfs");
	s->created = xstrdup("2026-11-22T04:43:21.123456789Z");
	s->owner = xstrdup("alice");
	s->annotation_keys = strv("z.b", "a.c", "quote\"d");
	s->annotation_values = strv("1", "two words", "caf\xc3\xa9 \\ \n");
	s->n_annotations = 3;
	s->cgroup_layout = 2;
	s->cgroup_names = strv("memory", "cpu,cpuacct", "unified");
	s->cgroup_paths = strv("/sys/fs/cgroup/memory/ferry/web-1",
			       "/sys/fs/cgroup/cpu,cpuacct/ferry/web-1",
			       "/sys/fs/cgroup/unified/ferry/web-1");
	s->n_cgroups = 3;
	s->cgroup_rel = xstrdup("/ferry/web-1");
	s->terminal = true;
	s->rootless = true;
	s->restored = true;
	return s;
}

static bool strv_eq(char **a, char **b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static void test_round_trip(void)
{
	cleanup_free char *path = xasprintf("%s/state.json", tmpdir);
	cleanup_free char *tmp = xasprintf("%s.tmp", path);
	cleanup_state struct oci_state *s = full_state();
	cleanup_state struct oci_state *r = NULL;
	struct rt_err *err = NULL;

	int rc = oci_state_write(path, s, &err);
	TAP_OK(rc == 0, "write state.json%s%s",
	       err ? ": " : "", err ? err->msg : "");
	rt_err_free(steal_pointer(&err));
	TAP_OK(access(tmp, F_OK) < 0 && errno == ENOENT, "no .tmp left behind");
	rc = oci_state_read(path, &r, &err);
	TAP_OK(rc == 0, "read it back%s%s",
	       err ? ": " : "", err ? err->msg : "");
	rt_err_free(steal_pointer(&err));
	if (r == NULL)
		return;
	TAP_STREQ(r->oci_version, s->oci_version, "ociVersion");
	TAP_STREQ(r->id, s->id, "id");
	TAP_OK(r->pid == 4242, "pid (%d)", r->pid);
	TAP_OK(r->pid_start_time == 9876543210123ULL, "pid_start_time (%llu)",
	       r->pid_start_time);
	TAP_STREQ(r->bundle, s->bundle, "bundle");
	TAP_STREQ(r->rootfs, s->rootfs, "rootfs");
	TAP_STREQ(r->created, s->created, "created");
	TAP_STREQ(r->owner, s->owner, "owner");
	TAP_OK(r->n_annotations == 3 &&
		       strv_eq(r->annotation_keys, s->annotation_keys, 3) &&
		       strv_eq(r->annotation_values, s->annotation_values, 3),
	       "annotations, in order, with escapes and UTF-8");
	TAP_OK(r->cgroup_layout == 2, "cgroup layout (%d)", r->cgroup_layout);
	TAP_OK(r->n_cgroups == 3 && strv_eq(r->cgroup_names, s->cgroup_names, 3) &&
		       strv_eq(r->cgroup_paths, s->cgroup_paths, 3),
	       "cgroup names and paths");
	TAP_STREQ(r->cgroup_rel, s->cgroup_rel, "cgroup rel");
	TAP_OK(r->terminal && r->rootless && r->restored,
	       "terminal, rootless, restored");
}

static void test_minimal_round_trip(void)
{
	cleanup_free char *path = xasprintf("%s/minimal.json", tmpdir);
	struct oci_state s = {
		.oci_version = "1.2.0", .id = "m", .bundle = "/b",
		.rootfs = "/b/rootfs", .created = "2026-01-01T00:00:00Z",
	};
	cleanup_state struct oci_state *r = NULL;
	struct rt_err *err = NULL;
	int ok = oci_state_write(path, &s, &err) == 0 &&
		 oci_state_read(path, &r, &err) == 0;
	TAP_OK(ok, "state without annotations, cgroups or owner round-trips%s%s",
	       err ? ": " : "", err ? err->msg : "");
	rt_err_free(err);
	if (r == NULL)
		return;
	TAP_OK(r->n_annotations == 0 && r->n_cgroups == 0 &&
		       r->cgroup_rel == NULL && r->pid == 0 && !r->terminal,
	       "empty and null fields read back empty");
	TAP_STREQ(r->owner, "", "a NULL owner is written as \"\"");
}

static int count_entries(const char *dir)
{
	cleanup_closedir DIR *d = opendir(dir);
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	return n;
}

static void test_atomic_replace(void)
{
	cleanup_free char *dir = xasprintf("%s/atomic", tmpdir);
	cleanup_free char *path = xasprintf("%s/state.json", dir);
	mkdir(dir, 0700);
	cleanup_state struct oci_state *s = full_state();
	struct rt_err *err = NULL;
	struct stat before, after;
	oci_state_write(path, s, &err);
	stat(path, &before);
	s->pid = 7;
	int r = oci_state_write(path, s, &err);
	stat(path, &after);
	TAP_OK(r == 0 && before.st_ino != after.st_ino,
	       "rewriting replaces the file by rename (new inode)");
	TAP_OK(count_entries(dir) == 1, "only state.json in the directory");
	TAP_OK((after.st_mode & 0777) == 0600, "mode 0600 (%o)",
	       after.st_mode & 0777);
	rt_err_free(steal_pointer(&err));

	cleanup_free char *missing = xasprintf("%s/nodir/state.json", tmpdir);
	r = oci_state_write(missing, s, &err);
	TAP_OK(r < 0 && err && strstr(err->msg, "nodir/state.json.tmp"),
	       "write into a missing directory fails naming the file: %s",
	       err ? err->msg : "(no error)");
	rt_err_free(steal_pointer(&err));

	free(s->bundle);
	s->bundle = xstrdup("/bad\xff");
	r = oci_state_write(path, s, &err);
	TAP_OK(r < 0 && err && strstr(err->msg, "field 'bundle' is not valid UTF-8"),
	       "invalid UTF-8 is refused at write time: %s",
	       err ? err->msg : "(no error)");
	rt_err_free(err);
}

/* s with the first occurrence of from replaced by to. */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	if (at == NULL)
		return xasprintf("MISSING-%s", from);
	return xasprintf("%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
}

/* Write text as a state file and expect reading it to fail with both the
 * file name and want in the message. */
static void expect_read_error(const char *text, size_t len, const char *want,
			      const char *what)
{
	cleanup_free char *path = xasprintf("%s/bad.json", tmpdir);
	struct rt_err *err = NULL;
	struct oci_state *s = NULL;
	FILE *f = fopen(path, "w");
	fwrite(text, 1, len, f);
	fclose(f);
	cleanup_free char *quoted = xasprintf("'%s'", path);
	int r = oci_state_read(path, &s, &err);
	bool ok = r < 0 && s == NULL && err && strstr(err->msg, quoted) &&
		  strstr(err->msg, want);
	TAP_OK(ok, "%s -> %s", what, err ? err->msg : "(no error)");
	if (!ok)
		printf("#   wanted: %s\n", want);
	rt_err_free(err);
	oci_state_free(s);
}

static void test_damaged_files(void)
{
	cleanup_free char *path = xasprintf("%s/good.json", tmpdir);
	cleanup_state struct oci_state *s = full_state();
	cleanup_free char *good = NULL;
	struct rt_err *err = NULL;
	oci_state_write(path, s, &err);
	rt_read_file(path, &good, NULL, &err);
	rt_err_free(err);
	if (good == NULL) {
		TAP_OK(0, "good state file written");
		return;
	}
	static const struct {
		const char *from, *to, *want, *what;
	} cases[] = {
		{ "\"pid\": 4242", "\"pid\": \"4242\"", "field 'pid' must be a number",
		  "pid as a string" },
		{ "\"pid\": 4242", "\"pid\": 42.5", "field 'pid' must be an integer",
		  "pid as a fraction" },
		{ "\"pid\": 4242", "\"pid\": -1", "field 'pid' is out of range",
		  "negative pid" },
		{ "\"pid\": 4242", "\"pid\": 99999999999", "field 'pid' is out of range",
		  "pid beyond pid_t" },
		{ "\"pid\": 4242,", "", "field 'pid' is missing", "pid missing" },
		{ "\"id\": \"web-1\"", "\"id\": null", "field 'id' must be a string",
		  "id null" },
		{ "\"id\": \"web-1\"", "\"id\": \"\"", "field 'id' is empty", "id empty" },
		{ "\"bundle\": \"/srv", "\"bundle\": \"srv", "field 'bundle' must be an absolute path",
		  "relative bundle" },
		{ "\"terminal\": true", "\"terminal\": 1", "field 'terminal' must be a boolean",
		  "terminal as a number" },
		{ "\"restored\": true", "\"restorxd\": true", "field 'restored' is missing",
		  "restored missing" },
		{ "\"z.b\": \"1\"", "\"z.b\": 1", "field 'annotations[\"z.b\"]' must be a string",
		  "annotation value as a number" },
		{ "\"annotations\": {", "\"annotations\": \"x\", \"annotationsX\": {",
		  "field 'annotations' must be an object",
		  "annotations as an array" },
		{ "\"layout\": 2", "\"layout\": \"v2\"", "field 'cgroup.layout' must be a number",
		  "cgroup layout as a string" },
		{ "\"rel\": \"/ferry/web-1\"", "\"rel\": 3", "field 'cgroup.rel' must be a string",
		  "cgroup rel as a number" },
		{ "\"path\": \"/sys/fs/cgroup/cpu,cpuacct/ferry/web-1\"", "\"path\": false",
		  "field 'cgroup.hierarchies[1].path' must be a string",
		  "second cgroup path as a boolean" },
		{ "\"pidStartTime\": 9876543210123", "\"pidStartTime\": 1e3",
		  "field 'pidStartTime' must be an integer", "start time as 1e3" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cleanup_free char *t = replace(good, cases[i].from, cases[i].to);
		expect_read_error(t, strlen(t), cases[i].want, cases[i].what);
	}
	expect_read_error(good, strlen(good) / 2, "invalid JSON", "truncated file");
	expect_read_error("", 0, "empty file", "empty file");
	expect_read_error("garbage", 7, "invalid JSON", "not JSON");
	expect_read_error("[1, 2]", 6, "not a JSON object", "an array");
	expect_read_error("{\"a\":1}\0junk", 12, "NUL byte", "embedded NUL");
	cleanup_free char *cut = replace(good, "\"cgroup\"", "\"cgroupX\"");
	expect_read_error(cut, strlen(cut), "field 'cgroup' is missing",
			  "cgroup object missing");

	cleanup_free char *missing = xasprintf("%s/missing.json", tmpdir);
	struct oci_state *r = NULL;
	int rc = oci_state_read(missing, &r, &err);
	TAP_OK(rc < 0 && err && strstr(err->msg, missing) && err->code == ENOENT,
	       "missing file: %s", err ? err->msg : "(no error)");
	rt_err_free(err);
}

static const char expected_pretty[] =
	"{\n"
	"  \"ociVersion\": \"1.2.0\",\n"
	"  \"id\": \"web-1\",\n"
	"  \"pid\": 4242,\n"
	"  \"status\": \"running\",\n"
	"  \"bundle\": \"/srv/bundles/web\",\n"
	"  \"rootfs\": \"/srv/bundles/web/rootfs\",\n"
	"  \"created\": \"2026-11-22T04:43:21.123456789Z\",\n"
	"  \"annotations\": {\n"
	"    \"a.c\": \"two words\",\n"
	"    \"quote\\\"d\": \"caf\xc3\xa9 \\\\ \\n\",\n"
	"    \"z.b\": \"1\"\n"
	"  },\n"
	"  \"owner\": \"alice\"\n"
	"}";

static void test_public_json(void)
{
	cleanup_state struct oci_state *s = full_state();
	cleanup_free char *pretty = oci_state_public_json(s, "running", true);
	TAP_STREQ(pretty, expected_pretty,
		  "public state: runc's fields, order, indentation, sorted annotations");

	for (size_t i = 0; i < s->n_annotations; i++) {
		free(s->annotation_keys[i]);
		free(s->annotation_values[i]);
	}
	s->n_annotations = 0;
	cleanup_free char *stopped = oci_state_public_json(s, "stopped", false);
	TAP_STREQ(stopped,
		  "{\"ociVersion\":\"1.2.0\",\"id\":\"web-1\",\"pid\":0,"
		  "\"status\":\"stopped\",\"bundle\":\"/srv/bundles/web\","
		  "\"rootfs\":\"/srv/bundles/web/rootfs\","
		  "\"created\":\"2026-11-22T04:43:21.123456789Z\",\"owner\":\"alice\"}",
		  "stopped: pid 0 as runc prints it, no annotations key, compact");

	s->annotation_keys[0] = xstrdup("k");
	s->annotation_values[0] = xstrdup("<&>\x01\xe2\x80\xa8 bad:\xff");
	s->n_annotations = 1;
	cleanup_free char *escaped = oci_state_public_json(s, "created", false);
	TAP_OK(escaped && strstr(escaped, "\"k\":\"\\u003c\\u0026\\u003e\\u0001"
					  "\\u2028 bad:\xef\xbf\xbd\""),
	       "escapes like Go's encoder, bad UTF-8 becomes U+FFFD: %s",
	       escaped ? escaped : "(null)");
}

static void test_now(void)
{
	cleanup_free char *now = oci_state_now();
	struct tm tm = { 0 };
	const char *rest = strptime(now, "%Y-%m-%dT%H:%M:%S", &tm);
	bool shape = rest && (rest[0] == 'Z' || rest[0] == '.') &&
		     now[strlen(now) - 1] == 'Z';
	if (shape && rest[0] == '.') {
		size_t digits = strspn(rest + 1, "0123456789");
		shape = digits >= 1 && digits <= 9 && rest[1 + digits] == 'Z' &&
			rest[digits] != '0' && rest[2 + digits] == '\0';
	}
	TAP_OK(shape, "oci_state_now is RFC 3339 UTC like Go: %s", now);
	time_t t = timegm(&tm);
	TAP_OK(llabs((long long)(t - time(NULL))) <= 5, "and it is now");
}

int main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_round_trip();
	test_minimal_round_trip();
	test_atomic_replace();
	test_damaged_files();
	test_public_json();
	test_now();
	struct rt_err *err = NULL;
	rt_rm_rf(tmpdir, &err);
	rt_err_free(err);
	return tap_done();
}
