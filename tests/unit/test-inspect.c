/* runtime/coordinator/inspect.c on a real checkpoint, in-process: a target
 * tree forked from this program (two threads, a regular file open with
 * O_APPEND at offset 5, a handler, an ignored signal, a blocked pending
 * signal, a zombie child, a sleeping child, 64 dirty pages) is dumped with
 * cr_dump(leave_running) into a directory on /dev/shm. cr_inspect must
 * describe all of it, and then every damage we can do to the images must
 * be an error naming the damaged file, never a crash or a success: a byte
 * flipped anywhere in a record file or a page file's header, a file cut
 * short, a file missing, a record repeated at the end. Run it under
 * `make check SANITIZE=1` too: memory errors on those paths are findings.
 * Needs root (ptrace). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "coordinator/coordinator.h"
#include "coordinator/image.h"
#include "tap.h"
#include "util.h"

#define DIRTY_PAGES 64

static char dir[64], file_path[80];
static int dirfd_ = -1;

/* ---- the target ---- */

static void *idle_thread(void *arg)
{
	for (;;)
		pause();
	return arg;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static _Noreturn void target(int ready)
{
	int null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(ready, 1) < 0 || dup2(null, 2) < 0)
		_exit(1);
	syscall(SYS_close_range, 3, ~0u, 0);
	setpgid(0, 0);
	int fd = open(file_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "hello", 5) != 5)
		_exit(1);
	signal(SIGUSR1, on_usr1);
	signal(SIGTERM, SIG_IGN);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR2);
	uint8_t *mem = mmap(NULL, DIRTY_PAGES * 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		_exit(1);
	memset(mem, 0xa5, DIRTY_PAGES * 4096);
	pthread_t th;
	if (pthread_create(&th, NULL, idle_thread, NULL) != 0)
		_exit(1);
	pid_t z = fork();
	if (z == 0)
		_exit(7);
	if (fork() == 0)
		for (;;)
			pause();
	siginfo_t si;
	if (waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT) < 0) /* a zombie now */
		_exit(1);
	if (write(1, "R", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static pid_t start_target(void)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0)
		target(p[1]);
	close(p[1]);
	char c = 0;
	struct pollfd pf = { p[0], POLLIN, 0 };
	bool ok = poll(&pf, 1, 10000) == 1 && read(p[0], &c, 1) == 1 && c == 'R';
	close(p[0]);
	return ok ? pid : -1;
}

static void stop_target(pid_t pid)
{
	if (pid > 0)
		kill(-pid, SIGKILL);
	while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
		;
}

/* ---- reading the description ---- */

static char *inspect_json(struct rt_err **err)
{
	char *out = NULL;
	if (cr_inspect(dir, CR_INSPECT_JSON, &out, err) < 0)
		return NULL;
	return out;
}

static yajl_val get(yajl_val v, const char *key)
{
	const char *path[] = { key, NULL };
	return v ? yajl_tree_get(v, path, yajl_t_any) : NULL;
}

static long long num(yajl_val v, const char *key)
{
	yajl_val x = get(v, key);
	return YAJL_IS_INTEGER(x) ? YAJL_GET_INTEGER(x) : -1;
}

static const char *str(yajl_val v, const char *key)
{
	yajl_val x = get(v, key);
	return YAJL_IS_STRING(x) ? YAJL_GET_STRING(x) : "";
}

static size_t len(yajl_val a)
{
	return YAJL_IS_ARRAY(a) ? a->u.array.len : 0;
}

/* The member of array a whose `key` is the string or number want. */
static yajl_val find(yajl_val a, const char *key, const char *want, long long n)
{
	for (size_t i = 0; i < len(a); i++) {
		yajl_val e = a->u.array.values[i];
		if (want ? strcmp(str(e, key), want) == 0 : num(e, key) == n)
			return e;
	}
	return NULL;
}

static void check_root(yajl_val t)
{
	yajl_val thr = get(t, "threads"), fds = get(t, "fds"), sig = get(t, "signals");
	TAP_OK(len(thr) == 2, "the root has 2 threads (got %zu)", len(thr));
	yajl_val f = find(fds, "path", file_path, 0);
	TAP_OK(f && strcmp(str(f, "kind"), "file") == 0 && num(f, "offset") == 5 &&
	       strstr(str(f, "flags"), "O_RDWR|O_APPEND") && YAJL_IS_TRUE(get(f, "cloexec")),
	       "the open file: path, O_RDWR|O_APPEND, offset 5, cloexec");
	TAP_OK(find(fds, "kind", "stdio", 0) != NULL, "stdio is described as inherited");
	yajl_val h = get(sig, "handlers");
	yajl_val usr1 = find(h, "name", "SIGUSR1", 0), term = find(h, "name", "SIGTERM", 0);
	TAP_OK(usr1 && strcmp(str(usr1, "handler"), "ignore") != 0 && term &&
	       strcmp(str(term, "handler"), "ignore") == 0,
	       "handlers: SIGUSR1 caught, SIGTERM ignored");
	yajl_val pend = find(get(sig, "pending"), "name", "SIGUSR2", 0);
	TAP_OK(pend && num(pend, "tid") == num(t, "pid"),
	       "SIGUSR2 pending on the main thread");
	unsigned long long blocked = strtoull(str(find(thr, "tid", NULL, num(t, "pid")),
						  "blocked"), NULL, 16);
	TAP_OK(blocked & (1ull << (SIGUSR2 - 1)), "the main thread blocks SIGUSR2");
	yajl_val mm = get(t, "memory");
	TAP_OK(num(mm, "pages") >= DIRTY_PAGES && num(mm, "bytes") == num(mm, "pages") * 4096,
	       "memory: at least %d pages in the page file (got %lld)", DIRTY_PAGES,
	       num(mm, "pages"));
	yajl_val vmas = get(mm, "vmas");
	long long sum = 0;
	for (size_t i = 0; i < len(vmas); i++)
		sum += num(vmas->u.array.values[i], "pages");
	TAP_OK(len(vmas) > 5 && sum == num(mm, "pages") &&
	       find(vmas, "path", "[stack]", 0) && find(vmas, "path", "[vdso]", 0),
	       "memory: mappings with [stack] and [vdso], pages adding up");
	TAP_OK(num(get(get(t, "identity"), "uid"), "effective") == 0 &&
	       strncmp(str(get(get(t, "identity"), "capabilities"), "effective"), "0x", 2) == 0,
	       "identity: uid 0 and capabilities");
}

static void test_describe(pid_t root)
{
	struct rt_err *err = NULL;
	cleanup_free char *json = inspect_json(&err);
	TAP_OK(json != NULL, "inspect --format json succeeds%s%s", err ? ": " : "",
	       err ? err->msg : "");
	rt_err_free(err);
	err = NULL;
	char msg[128];
	yajl_val doc = json ? yajl_tree_parse(json, msg, sizeof(msg)) : NULL;
	TAP_OK(doc != NULL, "its output is JSON");
	yajl_val tasks = get(doc, "tasks");
	TAP_OK(len(tasks) == 3, "3 tasks: root, zombie, sleeper (got %zu)", len(tasks));
	TAP_OK(num(get(doc, "inventory"), "root_pid") == root &&
	       YAJL_IS_TRUE(get(get(get(doc, "inventory"), "this_machine"),
				"same_kernel_build")),
	       "inventory: the root pid, and this machine's kernel");
	TAP_OK(num(get(doc, "stats_dump"), "pages_written") > 0 &&
	       get(doc, "stats_restore") == NULL, "stats-dump.json, no stats-restore.json");
	yajl_val z = find(tasks, "state", "zombie", 0);
	TAP_OK(z && num(z, "ppid") == root && WEXITSTATUS(num(z, "wait_status")) == 7 &&
	       get(z, "memory") == NULL, "the zombie: its parent and exit status 7");
	yajl_val r = find(tasks, "pid", NULL, root);
	if (r)
		check_root(r);
	else
		TAP_OK(0, "the root task is described");
	yajl_tree_free(doc);
	char *text = NULL;
	TAP_OK(cr_inspect(dir, CR_INSPECT_TEXT, &text, &err) == 0 && strstr(text, "Process tree") &&
	       strstr(text, file_path) && strstr(text, "zombie, exited with 7"),
	       "the text view has the tree, the file and the zombie");
	free(text);
	rt_err_free(err);
}

/* ---- damage ---- */

static uint8_t *slurp(const char *name, size_t *n)
{
	cleanup_close int fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		abort();
	uint8_t *d = xmalloc((size_t)st.st_size + 1);
	if (rt_read_all(fd, d, (size_t)st.st_size) != st.st_size)
		abort();
	*n = (size_t)st.st_size;
	return d;
}

static void put(const char *name, const void *d, size_t n)
{
	cleanup_close int fd = openat(dirfd_, name, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0 || rt_write_all(fd, d, n) < 0)
		abort();
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* inspect fails and names the file; else *why says what happened. */
static bool fails_naming(const char *name, char *why, size_t n)
{
	struct rt_err *err = NULL;
	char *out = inspect_json(&err);
	bool ok = out == NULL && err && strstr(err->msg, name);
	if (!ok)
		snprintf(why, n, "%s", out ? "inspect succeeded" : err ? err->msg : "no error");
	free(out);
	rt_err_free(err);
	return ok;
}

static void test_flips(const char *name)
{
	size_t n, limit, bad = 0, tried = 0;
	cleanup_free uint8_t *orig = slurp(name, &n);
	cleanup_free uint8_t *copy = xmalloc(n + 1);
	char why[512] = "";
	/* page data has no checksum by design: only the header page */
	limit = strncmp(name, "pages-", 6) == 0 && n > 4096 ? 4096 : n;
	for (size_t pos = 0; pos < limit; pos += limit / 200 + 1, tried++) {
		memcpy(copy, orig, n);
		copy[pos] ^= 0x5a;
		put(name, copy, n);
		if (!fails_naming(name, why, sizeof(why)) && bad++ == 0)
			printf("# %s: byte %zu flipped: %s\n", name, pos, why);
	}
	put(name, orig, n);
	TAP_OK(bad == 0, "%s: %zu of %zu byte flips named it", name, tried - bad, tried);
}

static void test_cuts(const char *name)
{
	size_t n, bad = 0, tried = 0;
	cleanup_free uint8_t *orig = slurp(name, &n);
	/* JSON may lose its final newline */
	size_t cuts[] = { 0, 1, n / 3, n / 2, ends_with(name, ".json") ? n - 2 : n - 1,
			  n > 4096 ? n - 4096 : 0 };
	char why[512] = "";
	for (size_t i = 0; i < ARRAY_SIZE(cuts); i++, tried++) {
		put(name, orig, cuts[i]);
		if (!fails_naming(name, why, sizeof(why)) && bad++ == 0)
			printf("# %s: cut to %zu of %zu bytes: %s\n", name, cuts[i], n, why);
	}
	put(name, orig, n);
	TAP_OK(bad == 0, "%s: %zu of %zu cuts named it", name, tried - bad, tried);
}

static void test_missing(const char *name)
{
	char away[300], why[512] = "";
	snprintf(away, sizeof(away), "%s.away", name);
	if (renameat(dirfd_, name, dirfd_, away) < 0)
		abort();
	if (ends_with(name, ".json")) {
		struct rt_err *err = NULL;
		char *out = inspect_json(&err);
		TAP_OK(out != NULL, "%s missing: fine, stats are optional", name);
		free(out);
		rt_err_free(err);
	} else {
		TAP_OK(fails_naming(name, why, sizeof(why)), "%s missing: named%s%s", name,
		       *why ? ": " : "", why);
	}
	if (renameat(dirfd_, away, dirfd_, name) < 0)
		abort();
}

static enum cr_img_kind kind_of(const char *name)
{
	static const struct { const char *prefix; enum cr_img_kind kind; } kinds[] = {
		{ "inventory", CR_IMG_INVENTORY }, { "pstree", CR_IMG_PSTREE },
		{ "core-", CR_IMG_CORE },          { "misc-", CR_IMG_CORE },
		{ "signal-", CR_IMG_CORE },        { "mm-", CR_IMG_MM },
		{ "pagemap-", CR_IMG_PAGEMAP },    { "fds-", CR_IMG_FILES },
		{ "files", CR_IMG_FILE_DATA },
	};
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strncmp(name, kinds[i].prefix, strlen(kinds[i].prefix)) == 0)
			return kinds[i].kind;
	return 0;
}

/* A record file's records, to write back changed with valid checksums. */
struct recs {
	size_t n;
	uint32_t *type;
	uint8_t **p;
	size_t *len;
};

static void recs_free(struct recs *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->p[i]);
	free(v->type);
	free(v->p);
	free(v->len);
}

static int load_recs(const char *name, enum cr_img_kind kind, struct recs *v,
		     struct rt_err **err)
{
	cleanup_img struct cr_img *in = NULL;
	if (cr_img_open(dirfd_, name, kind, &in, err) < 0)
		return -1;
	for (;;) {
		struct cr_rd r;
		int k = cr_img_next(in, &r, err);
		if (k <= 0)
			return k;
		v->type = xrealloc(v->type, (v->n + 1) * sizeof(*v->type));
		v->p = xrealloc(v->p, (v->n + 1) * sizeof(*v->p));
		v->len = xrealloc(v->len, (v->n + 1) * sizeof(*v->len));
		v->type[v->n] = r.type;
		v->p[v->n] = xmalloc(r.len + 1);
		memcpy(v->p[v->n], r.p, r.len);
		v->len[v->n++] = r.len;
	}
}

/* Replace the file by v's records, the last one `extra` more times. */
static int write_recs(const char *name, enum cr_img_kind kind, const struct recs *v,
		      size_t extra, struct rt_err **err)
{
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.new", name);
	cleanup_img struct cr_img *out = NULL;
	if (cr_img_create(dirfd_, tmp, kind, &out, err) < 0)
		return -1;
	for (size_t i = 0; i < v->n + (v->n ? extra : 0); i++) {
		size_t k = i < v->n ? i : v->n - 1;
		struct cr_rec r = { .type = v->type[k], .buf = v->p[k], .len = v->len[k] };
		if (cr_img_write(out, &r, err) < 0)
			return -1;
	}
	struct cr_img *o = steal_pointer(&out);
	if (cr_img_close(o, err) < 0)
		return -1;
	return renameat(dirfd_, tmp, dirfd_, name) < 0 ? rt_err_set(err, errno, "rename") : 0;
}

static void test_repeated(const char *name, enum cr_img_kind kind, const struct recs *v)
{
	/* A signal may legitimately be queued twice; a page run repeated is
	 * caught by the page file's length, which names pages-*.img. */
	if (strncmp(name, "signal-", 7) == 0 || kind == CR_IMG_PAGEMAP)
		return;
	struct rt_err *err = NULL;
	char why[512] = "";
	if (write_recs(name, kind, v, 1, &err) < 0) {
		TAP_OK(0, "%s: rewrite with its last record twice: %s", name, err->msg);
		rt_err_free(err);
		return;
	}
	TAP_OK(fails_naming(name, why, sizeof(why)),
	       "%s: its last record repeated is named%s%s", name, *why ? ": " : "", why);
}

/* Bytes of payloads changed behind valid checksums: the field checks of
 * every loader, and the renderer, meet values no dump writes. Refusing or
 * accepting is fine; crashing, hanging or leaking (SANITIZE=1) is not. */
static void test_mutations(const char *name, enum cr_img_kind kind, struct recs *v)
{
	size_t runs = 0, refused = 0;
	for (size_t i = 0; i < v->n && i < 24; i++) {
		size_t positions[] = { 0, 1, 3, 4, 7, 8, 12, 16, 20, 24, 33, v->len[i] / 2,
				       v->len[i] - 1 };
		for (size_t k = 0; k < ARRAY_SIZE(positions); k++) {
			size_t pos = positions[k];
			if (pos >= v->len[i])
				continue;
			for (int x = 0; x < 2; x++) {
				static const uint8_t masks[2] = { 0x01, 0xff };
				struct rt_err *err = NULL;
				v->p[i][pos] ^= masks[x];
				char *out = NULL;
				if (write_recs(name, kind, v, 0, &err) < 0)
					abort();
				if (cr_inspect(dir, CR_INSPECT_TEXT, &out, &err) < 0)
					refused++;
				runs++;
				free(out);
				rt_err_free(err);
				v->p[i][pos] ^= masks[x];
			}
		}
	}
	struct rt_err *err = NULL;
	if (write_recs(name, kind, v, 0, &err) < 0)
		abort();
	TAP_OK(runs > 0, "%s: %zu payload mutations with valid checksums, no crash "
	       "(%zu refused)", name, runs, refused);
}

static void test_records(const char *name)
{
	enum cr_img_kind kind = kind_of(name);
	if (kind == 0)
		return;
	struct recs v = { 0 };
	struct rt_err *err = NULL;
	size_t n;
	cleanup_free uint8_t *orig = slurp(name, &n);
	if (load_recs(name, kind, &v, &err) < 0) {
		TAP_OK(0, "%s: read its records: %s", name, err->msg);
		rt_err_free(err);
	} else {
		test_repeated(name, kind, &v);
		test_mutations(name, kind, &v);
	}
	recs_free(&v);
	put(name, orig, n);
}

static void test_damage(void)
{
	cleanup_closedir DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0;
	for (struct dirent *de; d && (de = readdir(d)) != NULL;)
		if (de->d_name[0] != '.') {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrdup(de->d_name);
		}
	TAP_OK(n > 10, "the checkpoint has %zu files", n);
	for (size_t i = 0; i < n; i++) {
		if (!ends_with(names[i], ".json"))
			test_flips(names[i]);
		test_cuts(names[i]);
		test_missing(names[i]);
		test_records(names[i]);
		free(names[i]);
	}
	free(names);
	char *out = NULL;
	struct rt_err *err = NULL;
	TAP_OK(cr_inspect(dir, CR_INSPECT_TEXT, &out, &err) == 0,
	       "after every repair the images read again");
	free(out);
	rt_err_free(err);
}

static void test_not_images(void)
{
	struct rt_err *err = NULL;
	char *out = NULL;
	TAP_OK(cr_inspect("/nonexistent/ferry-images", CR_INSPECT_TEXT, &out, &err) < 0 &&
	       strstr(err->msg, "/nonexistent/ferry-images") && err->code == ENOENT,
	       "a missing directory is an error naming it");
	rt_err_free(err);
	err = NULL;
	char empty[64] = "/dev/shm/ferry-inspect-empty-XXXXXX";
	if (!mkdtemp(empty))
		abort();
	TAP_OK(cr_inspect(empty, CR_INSPECT_TEXT, &out, &err) < 0 &&
	       strstr(err->msg, "inventory.img"), "an empty directory: no inventory.img");
	rt_err_free(err);
	rmdir(empty);
}

int main(void)
{
	if (geteuid() != 0) {
		TAP_SKIP("needs root (ptrace)", "inspect");
		return tap_done();
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	test_not_images();
	snprintf(file_path, sizeof(file_path), "/dev/shm/ferry-inspect-file-%d", getpid());
	strcpy(dir, "/dev/shm/ferry-inspect-XXXXXX");
	if (!mkdtemp(dir) || (dirfd_ = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		abort();
	pid_t root = start_target();
	struct rt_err *err = NULL;
	struct cr_stats st;
	struct cr_dump_opts o = { .root = root, .images_dirfd = dirfd_,
				  .leave_running = true };
	bool dumped = root > 0 && cr_dump(&o, &st, &err) == 0 &&
		      cr_stats_write(dirfd_, "stats-dump.json", &st, &err) == 0;
	TAP_OK(dumped, "checkpoint the target%s%s", err ? ": " : "", err ? err->msg : "");
	rt_err_free(err);
	stop_target(root);
	if (dumped) {
		test_describe(root);
		test_damage();
	}
	close(dirfd_);
	err = NULL;
	rt_rm_rf(dir, &err);
	rt_err_free(err);
	unlink(file_path);
	return tap_done();
}
