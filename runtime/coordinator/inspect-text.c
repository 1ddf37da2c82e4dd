/* The tree view of `ferry inspect`, rendered from the JSON document the
 * describe callbacks wrote (inspect.c), so each resource describes itself
 * once. Members this file does not know are left to --format json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <yajl/yajl_tree.h>

#include "coordinator/describe.h"
#include "util.h"

/* ---- reading the document (NULL-safe: a missing member reads as empty) ---- */

static yajl_val get(yajl_val obj, const char *key)
{
	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

static const char *str(yajl_val obj, const char *key)
{
	yajl_val v = get(obj, key);
	return YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

static const char *str_or(yajl_val obj, const char *key, const char *dflt)
{
	const char *s = str(obj, key);
	return s ? s : dflt;
}

static long long num(yajl_val obj, const char *key)
{
	yajl_val v = get(obj, key);
	return YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

static bool flag(yajl_val obj, const char *key)
{
	return YAJL_IS_TRUE(get(obj, key));
}

static size_t len(yajl_val arr)
{
	return YAJL_IS_ARRAY(arr) ? arr->u.array.len : 0;
}

static yajl_val at(yajl_val arr, size_t i)
{
	return arr->u.array.values[i];
}

/* A string from the image on one line: control characters escaped. */
static void put_str(FILE *f, const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fprintf(f, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, f);
}

static const char *plural(long long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* ---- checkpoint-wide ---- */

static void print_inventory(FILE *f, yajl_val doc)
{
	yajl_val inv = get(doc, "inventory"), here = get(inv, "this_machine");
	long long nt = 0;
	for (size_t i = 0; i < len(get(doc, "tasks")); i++)
		nt += num(at(get(doc, "tasks"), i), "nr_threads");
	fprintf(f, "%s: %zu %s, %lld %s\n", str_or(doc, "images", "?"),
		len(get(doc, "tasks")), plural((long long)len(get(doc, "tasks")), "process",
					       "processes"), nt, plural(nt, "thread", "threads"));
	fprintf(f, "  kernel %s, root pid %lld, xstate %lld bytes, xcr0 %s\n",
		str_or(inv, "kernel", "?"), num(inv, "root_pid"), num(inv, "xstate_size"),
		str_or(inv, "xcr0", "?"));
	bool kernel = flag(here, "same_kernel_build"), cpu = flag(here, "same_cpu_features");
	fprintf(f, "  dump %s%s%s\n", str_or(inv, "dump_id", "?"),
		str(inv, "parent_dump_id") ? ", against parent dump " : "",
		str(inv, "parent_dump_id") ? str(inv, "parent_dump_id") : "");
	if (flag(inv, "pre_dump")) {
		fprintf(f, "  a pre-dump: memory only, the parent of a later checkpoint\n");
		return;
	}
	fprintf(f, "  this machine: %s%s%s\n", kernel && cpu ? "can restore it" : "cannot restore it:",
		kernel ? "" : " another kernel build (vDSO differs)",
		cpu ? "" : " other CPU state features (XCR0 differs)");
}

static void print_stats(FILE *f, yajl_val doc, const char *key, const char *title)
{
	yajl_val st = get(doc, key);
	if (!YAJL_IS_OBJECT(st))
		return;
	fprintf(f, "  %s:", title);
	/* Zeros are left out: a dump's file has the restore's counters too. */
	for (size_t i = 0, n = 0; i < st->u.object.len; i++) {
		const char *k = st->u.object.keys[i];
		long long v = num(st, k);
		size_t kl = strlen(k);
		if (v == 0)
			continue;
		if (kl > 5 && strcmp(k + kl - 5, "_time") == 0)
			fprintf(f, "%s %.*s %.3f ms", n++ ? "," : "", (int)(kl - 5), k,
				v / 1000.0);
		else
			fprintf(f, "%s %s %lld", n++ ? "," : "", k, v);
	}
	fprintf(f, "\n");
}

/* ---- the process tree ---- */

static void print_exit(FILE *f, long long status)
{
	char buf[16];
	int st = (int)status;
	if (WIFSIGNALED(st))
		fprintf(f, "zombie, killed by %s", cr_signal_name(WTERMSIG(st), buf));
	else
		fprintf(f, "zombie, exited with %d", WEXITSTATUS(st));
}

static yajl_val find_task(yajl_val tasks, long long pid)
{
	for (size_t i = 0; i < len(tasks); i++)
		if (num(at(tasks, i), "pid") == pid)
			return at(tasks, i);
	return NULL;
}

static void print_node(FILE *f, yajl_val tasks, yajl_val t, const char *prefix,
		       const char *branch, const char *next_prefix)
{
	long long nthr = num(t, "nr_threads");
	fprintf(f, "%s%s%lld%s%s%s(pgid %lld, sid %lld", prefix, branch, num(t, "pid"),
		str(t, "comm") ? " " : "", str_or(t, "comm", ""), str(t, "comm") ? "  " : " ",
		num(t, "pgid"), num(t, "sid"));
	fprintf(f, ", ");
	if (strcmp(str_or(t, "state", ""), "zombie") == 0)
		print_exit(f, num(t, "wait_status"));
	else
		fprintf(f, "%lld %s", nthr, plural(nthr, "thread", "threads"));
	fprintf(f, ")\n");
	size_t last = 0, n = 0;
	for (size_t i = 0; i < len(tasks); i++)
		if (at(tasks, i) != t && num(at(tasks, i), "ppid") == num(t, "pid"))
			last = i, n++;
	for (size_t i = 0; n && i < len(tasks); i++) {
		yajl_val c = at(tasks, i);
		if (c == t || num(c, "ppid") != num(t, "pid"))
			continue;
		cleanup_free char *p = xasprintf("%s%s", prefix, next_prefix);
		print_node(f, tasks, c, p, i == last ? "`-- " : "|-- ",
			   i == last ? "    " : "|   ");
	}
}

static void print_tree(FILE *f, yajl_val doc)
{
	yajl_val tasks = get(doc, "tasks");
	fprintf(f, "\nProcess tree\n");
	for (size_t i = 0; i < len(tasks); i++)
		if (i == 0 || find_task(tasks, num(at(tasks, i), "ppid")) == NULL)
			print_node(f, tasks, at(tasks, i), "  ", "", "");
}

/* ---- one task ---- */

static void print_threads(FILE *f, yajl_val t)
{
	yajl_val thr = get(t, "threads");
	fprintf(f, "  threads:\n");
	for (size_t i = 0; i < len(thr); i++) {
		yajl_val th = at(thr, i);
		fprintf(f, "    %-7lld %-16s ip %s  sp %s  blocked %s%s\n", num(th, "tid"),
			str_or(th, "comm", "?"), str_or(th, "ip", "?"), str_or(th, "sp", "?"),
			str_or(th, "blocked", "?"),
			str(th, "altstack") ? "  sigaltstack" : "");
	}
}

static void print_memory(FILE *f, yajl_val t)
{
	yajl_val mm = get(t, "memory"), vmas = get(mm, "vmas");
	long long pages = num(mm, "pages");
	long long parent = num(mm, "pages_in_parent");
	fprintf(f, "  memory: %zu mappings, %lld %s in %s%s%s (%.2f MiB)", len(vmas), pages,
		plural(pages, "page", "pages"), str_or(mm, "pages_file", "?"),
		str(mm, "pages_file_2") ? " and " : "", str_or(mm, "pages_file_2", ""),
		num(mm, "bytes") / 1048576.0);
	long long cow = num(mm, "pages_in_other_tasks");
	if (parent > 0)
		fprintf(f, ", %lld in the parent dump", parent);
	if (cow > 0)
		fprintf(f, ", %lld shared with another task", cow);
	fprintf(f, ", exe %s\n", str_or(mm, "exe", "?"));
	for (size_t i = 0; i < len(vmas); i++) {
		yajl_val v = at(vmas, i);
		long long np = num(v, "pages");
		cleanup_free char *range = xasprintf("%s-%s", str_or(v, "start", "?"),
						     str_or(v, "end", "?"));
		fprintf(f, "    %-37s %s %-12s %6lld %s  ", range, str_or(v, "prot", "?"),
			str_or(v, "kind", "?"), np, plural(np, "page ", "pages"));
		put_str(f, str(v, "path"));
		if (str(v, "flags"))
			fprintf(f, "  [%s]", str(v, "flags"));
		fputc('\n', f);
	}
}

/* What an fd kind adds (fdkind.h describe): its scalar members as they are,
 * and how many items its arrays hold. */
static void print_kind_fields(FILE *f, yajl_val d)
{
	static const char *const common[] = { "fd", "cloexec", "kind", "path", "flags",
					      "offset", "file_id" };
	for (size_t i = 0; YAJL_IS_OBJECT(d) && i < d->u.object.len; i++) {
		const char *k = d->u.object.keys[i];
		yajl_val v = d->u.object.values[i];
		bool skip = false;
		for (size_t j = 0; j < sizeof(common) / sizeof(common[0]); j++)
			skip |= strcmp(k, common[j]) == 0;
		if (skip)
			continue;
		if (YAJL_IS_STRING(v))
			fprintf(f, "  %s %s", k, YAJL_GET_STRING(v));
		else if (YAJL_IS_NUMBER(v))
			fprintf(f, "  %s %s", k, v->u.number.r);
		else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
			fprintf(f, "  %s %s", k, YAJL_IS_TRUE(v) ? "yes" : "no");
		else if (YAJL_IS_ARRAY(v))
			fprintf(f, "  %s %zu", k, v->u.array.len);
	}
}

static void print_fds(FILE *f, yajl_val t)
{
	static const char *const stdio[3] = { "stdin", "stdout", "stderr" };
	yajl_val fds = get(t, "fds");
	fprintf(f, "  fds: %zu\n", len(fds));
	for (size_t i = 0; i < len(fds); i++) {
		yajl_val d = at(fds, i);
		const char *kind = str_or(d, "kind", "?");
		fprintf(f, "    %4lld %-9s ", num(d, "fd"), kind);
		if (strcmp(kind, "stdio") == 0) {
			fprintf(f, "the restoring caller's %s", stdio[num(d, "stdio") % 3]);
		} else {
			put_str(f, str_or(d, "path", "?"));
			fprintf(f, "  %s  offset %lld", str_or(d, "flags", "?"), num(d, "offset"));
			print_kind_fields(f, d);
		}
		fprintf(f, "%s\n", flag(d, "cloexec") ? "  cloexec" : "");
	}
	yajl_val ct = get(t, "controlling_terminal");
	if (ct)
		fprintf(f, "  controlling terminal: pty %lld (file %lld), foreground group %lld\n",
			num(ct, "index"), num(ct, "file_id"), num(ct, "foreground_pgid"));
}

static void print_signals(FILE *f, yajl_val t)
{
	yajl_val s = get(t, "signals"), h = get(s, "handlers"), thr = get(t, "threads");
	fprintf(f, "  signals: %zu %s set", len(h), plural((long long)len(h), "handler",
							      "handlers"));
	for (size_t i = 0; i < len(h); i++)
		fprintf(f, "%s%s%s%s", i ? " " : " (", str_or(at(h, i), "name", "?"),
			strcmp(str_or(at(h, i), "handler", ""), "ignore") ? "" : "=ignore",
			i + 1 == len(h) ? ")" : "");
	fprintf(f, ", blocked");
	for (size_t i = 0; i < len(thr); i++)
		fprintf(f, " %s", str_or(at(thr, i), "blocked", "?"));
	fprintf(f, ", %zu pending\n", len(get(s, "pending")));
}

static void print_identity(FILE *f, yajl_val t)
{
	yajl_val id = get(t, "identity"), uid = get(id, "uid"), gid = get(id, "gid"),
		 caps = get(id, "capabilities"), g = get(id, "groups"),
		 a = get(t, "attributes");
	fprintf(f, "  identity: uid %lld/%lld/%lld/%lld gid %lld/%lld/%lld/%lld groups",
		num(uid, "real"), num(uid, "effective"), num(uid, "saved"), num(uid, "fs"),
		num(gid, "real"), num(gid, "effective"), num(gid, "saved"), num(gid, "fs"));
	for (size_t i = 0; i < len(g); i++)
		fprintf(f, "%s%lld", i ? "," : " ",
			YAJL_IS_INTEGER(at(g, i)) ? YAJL_GET_INTEGER(at(g, i)) : 0);
	fprintf(f, "%s%s\n", len(g) ? "" : " none",
		flag(id, "no_new_privs") ? ", no_new_privs" : "");
	fprintf(f, "  capabilities: effective %s permitted %s inheritable %s bounding %s "
		"ambient %s\n", str_or(caps, "effective", "?"), str_or(caps, "permitted", "?"),
		str_or(caps, "inheritable", "?"), str_or(caps, "bounding", "?"),
		str_or(caps, "ambient", "?"));
	fprintf(f, "  cwd %s, root %s, umask %s, personality %s\n", str_or(a, "cwd", "?"),
		str_or(a, "root", "?"), str_or(a, "umask", "?"), str_or(a, "personality", "?"));
}

/* Only what is set: itimers armed, POSIX timers, seccomp filters, and
 * securebits. */
static void print_timers_seccomp(FILE *f, yajl_val t)
{
	static const char *const it[3] = { "real", "virtual", "prof" };
	yajl_val tm = get(t, "timers"), its = get(tm, "itimers"), sc = get(t, "seccomp");
	size_t armed = 0, nf = 0;
	for (int i = 0; i < 3; i++)
		armed += strcmp(str_or(get(its, it[i]), "remaining", "0.000000"), "0.000000") != 0;
	if (armed || len(get(tm, "posix")))
		fprintf(f, "  timers: %zu %s armed, %zu POSIX %s\n", armed,
			plural((long long)armed, "itimer", "itimers"), len(get(tm, "posix")),
			plural((long long)len(get(tm, "posix")), "timer", "timers"));
	for (size_t i = 0; i < len(sc); i++)
		nf += len(get(at(sc, i), "filters"));
	if (nf)
		fprintf(f, "  seccomp: %zu %s over %zu %s\n", nf, plural((long long)nf, "filter",
			"filters"), len(sc), plural((long long)len(sc), "thread", "threads"));
	const char *sb = str_or(get(t, "identity"), "securebits", "0x0");
	if (strcmp(sb, "0x0") != 0)
		fprintf(f, "  securebits: %s\n", sb);
}

static void print_task(FILE *f, yajl_val t)
{
	bool zombie = strcmp(str_or(t, "state", ""), "zombie") == 0;
	/* a pre-dump has no threads: no comm */
	fprintf(f, "\nTask %lld %s\n", num(t, "pid"), str_or(t, "comm", zombie ? "(zombie)" : ""));
	if (zombie) {
		fprintf(f, "  ");
		print_exit(f, num(t, "wait_status"));
		fprintf(f, ": nothing else is in the images\n");
		return;
	}
	print_threads(f, t);
	print_memory(f, t);
	print_fds(f, t);
	print_signals(f, t);
	print_identity(f, t);
	print_timers_seccomp(f, t);
}

int cr_inspect_text(const char *json, char **out, struct rt_err **err)
{
	char msg[128] = "";
	yajl_val doc = yajl_tree_parse(json, msg, sizeof(msg));
	if (doc == NULL)
		return rt_err_set(err, 0, "render the description: %s", msg);
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (f == NULL)
		abort();
	print_inventory(f, doc);
	print_stats(f, doc, "stats_dump", "dump");
	print_stats(f, doc, "stats_restore", "restore");
	print_tree(f, doc);
	for (size_t i = 0; i < len(get(doc, "tasks")); i++)
		print_task(f, at(get(doc, "tasks"), i));
	fclose(f);
	yajl_tree_free(doc);
	*out = buf;
	return 0;
}
