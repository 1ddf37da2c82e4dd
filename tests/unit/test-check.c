/* runtime/check.c against the running kernel: the shape of every result,
 * the forced PPid fallback, selection by name, the output formats, and that
 * a run leaves no child, fd or scratch cgroup behind. What the kernel
 * supports differs between hosts (and root or not), so only facts that hold
 * everywhere are asserted unconditionally. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "check.h"
#include "coordinator/coordinator.h"
#include "tap.h"
#include "util.h"

static size_t count_fds(void)
{
	size_t n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static const struct rt_check_result *find(const struct rt_check_report *rep,
					  const char *name)
{
	for (size_t i = 0; i < rep->n; i++)
		if (strcmp(rep->r[i].name, name) == 0)
			return &rep->r[i];
	return NULL;
}

static struct rt_check_report *run(bool force, char *const *only)
{
	struct rt_check_opts o = { .force_ppid_walk = force, .only = only };
	struct rt_check_report *rep = NULL;
	cleanup_err struct rt_err *err = NULL;
	if (rt_check_run(&o, &rep, &err) < 0)
		printf("#   %s\n", err->msg);
	return rep;
}

static void test_names(void)
{
	const char *const *names = rt_check_names();
	size_t n = 0;
	bool unique = true;
	for (; names[n]; n++)
		for (size_t k = 0; k < n; k++)
			unique &= strcmp(names[k], names[n]) != 0;
	TAP_OK(n == 14 && unique, "14 checks with distinct names (%zu)", n);
}

static void test_all(void)
{
	size_t fds = count_fds();
	cleanup_check_report struct rt_check_report *rep = run(false, NULL);
	TAP_OK(rep && rep->n == 14, "a full run reports every check");
	if (rep == NULL)
		return;
	bool shaped = true;
	size_t counted[3] = { 0 };
	for (size_t i = 0; i < rep->n; i++) {
		const struct rt_check_result *r = &rep->r[i];
		bool ok = r->status <= RT_CHECK_BROKEN && r->detail && r->detail[0] &&
			  (r->status == RT_CHECK_SUPPORTED) == (r->fallback == NULL);
		if (strcmp(r->name, "cgroup-layout") == 0)
			ok = r->status != RT_CHECK_MISSING && r->fallback == NULL;
		if (!ok)
			printf("#   %s: %s: %s\n", r->name, rt_check_status_name(r->status),
			       r->detail ? r->detail : "(no detail)");
		shaped &= ok;
		counted[r->status]++;
	}
	TAP_OK(shaped, "every result has a detail, and a fallback unless supported");
	TAP_OK(memcmp(counted, rep->count, sizeof(counted)) == 0, "the counts add up");
	TAP_OK(rep->count[RT_CHECK_BROKEN] == 0, "nothing is broken on this kernel");

	const struct rt_check_result *children = find(rep, "children-file");
	if (cr_children_file_available())
		TAP_OK(children && children->status == RT_CHECK_SUPPORTED,
		       "children-file is supported where the file exists");
	else
		TAP_SKIP("no children file here", "children-file supported");
	const struct rt_check_result *sig = find(rep, "proc-sigactions");
	if (access("/proc/self/sigactions", F_OK) != 0)
		TAP_OK(sig && sig->status == RT_CHECK_MISSING && strstr(sig->detail, "patch 2") &&
			       strstr(sig->fallback, "rt_sigaction"),
		       "proc-sigactions is missing on a stock kernel, with its fallback");
	else
		TAP_OK(sig && sig->status == RT_CHECK_SUPPORTED, "proc-sigactions supported");

	int st;
	TAP_OK(waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD, "no child process is left");
	TAP_OK(count_fds() == fds, "no fd is left open (%zu before, %zu after)", fds, count_fds());
	char path[64];
	snprintf(path, sizeof(path), "/sys/fs/cgroup/unified/ferry-check-%d", getpid());
	bool left = access(path, F_OK) == 0;
	snprintf(path, sizeof(path), "/sys/fs/cgroup/ferry-check-%d", getpid());
	left |= access(path, F_OK) == 0;
	snprintf(path, sizeof(path), "/sys/fs/cgroup/freezer/ferry-check-%d", getpid());
	left |= access(path, F_OK) == 0;
	TAP_OK(!left, "no scratch cgroup is left");
}

static void test_forced_fallback(void)
{
	char *only[] = { "children-file", NULL };
	cleanup_check_report struct rt_check_report *rep = run(true, only);
	const struct rt_check_result *r = rep ? find(rep, "children-file") : NULL;
	TAP_OK(rep && rep->n == 1, "only the named check runs");
	TAP_OK(r && r->status == RT_CHECK_MISSING, "forced: children-file reports missing");
	TAP_OK(r && strstr(r->detail, "the PPid walk found the whole 2-process tree"),
	       "forced: the PPid walk was verified (%s)", r ? r->detail : "");
	TAP_OK(r && r->fallback && strstr(r->fallback, "PPid"), "forced: the fallback is named");
}

static void test_unknown_name(void)
{
	char *only[] = { "pagemap-scan", "no-such", NULL };
	struct rt_check_opts o = { .only = only };
	struct rt_check_report *rep = NULL;
	cleanup_err struct rt_err *err = NULL;
	TAP_OK(rt_check_run(&o, &rep, &err) < 0 && rep == NULL && err &&
		       strstr(err->msg, "no-such"),
	       "an unknown name is an error naming it");
}

static void test_formats(void)
{
	char *only[] = { "pagemap-scan", "time-ns", NULL };
	cleanup_check_report struct rt_check_report *rep = run(false, only);
	if (rep == NULL)
		return;
	cleanup_free char *text = rt_check_format_text(rep);
	size_t lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	TAP_OK(lines == 3 && rt_has_prefix(text, "pagemap-scan  ") &&
		       strstr(text, "\nferry check: "),
	       "text: one line per check and a summary");

	cleanup_free char *json = rt_check_format_json(rep);
	char errbuf[128];
	yajl_val doc = yajl_tree_parse(json, errbuf, sizeof(errbuf));
	const char *checks_path[] = { "checks", NULL };
	const char *name_path[] = { "name", NULL };
	yajl_val checks = doc ? yajl_tree_get(doc, checks_path, yajl_t_array) : NULL;
	yajl_val first = checks && checks->u.array.len > 0 ? checks->u.array.values[0] : NULL;
	yajl_val name = first ? yajl_tree_get(first, name_path, yajl_t_string) : NULL;
	const char *first_name = name ? name->u.string : "";
	TAP_OK(checks && checks->u.array.len == 2 && strcmp(first_name, "pagemap-scan") == 0,
	       "json: a checks array in order");
	yajl_tree_free(doc);

	cleanup_strv char **notes = rt_check_annotations(rep);
	TAP_OK(rt_strv_len(notes) == 4 && strcmp(notes[0], "io.github.ferry.check.pagemap-scan") == 0 &&
		       strcmp(notes[1], rt_check_status_name(rep->r[0].status)) == 0,
	       "annotations: key/value pairs for ferry features");
}

int main(void)
{
	test_names();
	test_all();
	test_forced_fallback();
	test_unknown_name();
	test_formats();
	return tap_done();
}
