/* `ferry inspect`: what an image directory holds, without restoring it.
 * Every file is read by the loader restore uses, through the image API
 * with all its checks: a damaged image is an error naming the file and the
 * record, as it would be for restore, and nothing is printed.
 *
 * The checkpoint-wide parts come from inventory.c and stats.c, the tree
 * from restore.c's pstree loader, and each task's parts from the describe
 * callback of every resource in describe_table: a new resource describes
 * itself in its own file and gets a row here. They all write one JSON
 * document (describe.h); --format text is rendered from it
 * (inspect-text.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "coordinator/describe.h"
#include "coordinator/internal.h"
#include "util.h"

/* Output order inside each task's object. */
static const struct cr_resource *const describe_table[] = {
	&cr_res_threads, &cr_res_mm, &cr_res_files, &cr_res_signals, &cr_res_timers,
	&cr_res_misc, &cr_res_seccomp, &cr_res_locks,
};

struct cr_desc {
	yajl_gen g;
};

/* ---- the document ---- */

static void key(struct cr_desc *d, const char *k)
{
	if (k)
		yajl_gen_string(d->g, (const unsigned char *)k, strlen(k));
}

void cr_desc_map(struct cr_desc *d, const char *k)
{
	key(d, k);
	yajl_gen_map_open(d->g);
}

void cr_desc_end_map(struct cr_desc *d)
{
	yajl_gen_map_close(d->g);
}

void cr_desc_array(struct cr_desc *d, const char *k)
{
	key(d, k);
	yajl_gen_array_open(d->g);
}

void cr_desc_end_array(struct cr_desc *d)
{
	yajl_gen_array_close(d->g);
}

void cr_desc_int(struct cr_desc *d, const char *k, int64_t v)
{
	key(d, k);
	yajl_gen_integer(d->g, (long long)v);
}

void cr_desc_uint(struct cr_desc *d, const char *k, uint64_t v)
{
	if (v > INT64_MAX)
		cr_desc_str(d, k, "unlimited");
	else
		cr_desc_int(d, k, (int64_t)v);
}

void cr_desc_bool(struct cr_desc *d, const char *k, bool v)
{
	key(d, k);
	yajl_gen_bool(d->g, v);
}

void cr_desc_null(struct cr_desc *d, const char *k)
{
	key(d, k);
	yajl_gen_null(d->g);
}

/* Length of the valid UTF-8 sequence at p, 0 if there is none. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3
		 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Paths are bytes, JSON is UTF-8: other bytes become the text "\xNN". */
void cr_desc_str(struct cr_desc *d, const char *k, const char *s)
{
	if (s == NULL) {
		cr_desc_null(d, k);
		return;
	}
	key(d, k);
	size_t len = strlen(s), w = 0;
	cleanup_free char *buf = xmalloc(len * 4 + 1);
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = utf8_len(p);
		if (n == 0) {
			w += (size_t)sprintf(buf + w, "\\x%02x", *p++);
			continue;
		}
		memcpy(buf + w, p, n);
		w += n;
		p += n;
	}
	yajl_gen_string(d->g, (const unsigned char *)buf, w);
}

void cr_desc_hex(struct cr_desc *d, const char *k, uint64_t v)
{
	cr_desc_strf(d, k, "0x%llx", (unsigned long long)v);
}

void cr_desc_strf(struct cr_desc *d, const char *k, const char *fmt, ...)
{
	cleanup_free char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	cr_desc_str(d, k, s);
}

const char *cr_signal_name(int sig, char buf[16])
{
	static const char *const names[32] = {
		NULL,      "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP",
		"SIGABRT", "SIGBUS",  "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV",
		"SIGUSR2", "SIGPIPE", "SIGALRM",   "SIGTERM", "SIGSTKFLT", "SIGCHLD",
		"SIGCONT", "SIGSTOP", "SIGTSTP",   "SIGTTIN", "SIGTTOU",   "SIGURG",
		"SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",  "SIGIO",
		"SIGPWR",  "SIGSYS",
	};
	if (sig > 0 && sig < 32)
		return names[sig];
	if (sig >= 32 && sig <= CR_NSIG)
		snprintf(buf, 16, "SIGRT%d", sig - 32);
	else
		snprintf(buf, 16, "SIG%d", sig);
	return buf;
}

/* ---- the walk ---- */

static void describe_task_ids(struct cr_desc *d, const struct cr_rtask *t)
{
	cr_desc_int(d, "pid", t->vpid);
	cr_desc_int(d, "ppid", t->ppid);
	cr_desc_int(d, "pgid", t->pgid);
	cr_desc_int(d, "sid", t->sid);
	cr_desc_str(d, "state", t->zombie ? "zombie" : "live");
	if (t->zombie) /* as wait(2) would report it */
		cr_desc_int(d, "wait_status", t->exit_code);
	cr_desc_int(d, "nr_threads", (int64_t)t->n_thr);
}

/* A pre-dump holds the memory alone. */
static int describe_tasks(struct cr_restore_ctx *c, bool pre_dump, struct cr_desc *d,
			  struct rt_err **err)
{
	cr_desc_array(d, "tasks");
	for (size_t i = 0; i < c->n; i++) {
		struct cr_rtask *t = &c->tasks[i];
		cr_desc_map(d, NULL);
		describe_task_ids(d, t);
		/* A zombie is only its pstree entry: dump wrote nothing else. */
		for (size_t k = 0; k < ARRAY_SIZE(describe_table) && !t->zombie; k++)
			if ((!pre_dump || describe_table[k] == &cr_res_mm) &&
			    describe_table[k]->describe(c, t, d, err) < 0)
				return rt_err_wrap(err, "pid %d: %s", t->vpid,
						   describe_table[k]->name);
		cr_desc_end_map(d);
	}
	cr_desc_end_array(d);
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* Every pid and tid once: the tree view and restore's clone3 rely on it. */
static int check_unique_ids(const struct cr_restore_ctx *c, struct rt_err **err)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++)
		n += c->tasks[i].n_thr;
	cleanup_free pid_t *ids = xcalloc(n, sizeof(pid_t));
	for (size_t i = 0, w = 0; i < c->n; i++)
		for (size_t k = 0; k < c->tasks[i].n_thr; k++)
			ids[w++] = c->tasks[i].thr[k].vtid;
	qsort(ids, n, sizeof(pid_t), cmp_pid);
	for (size_t i = 1; i < n; i++)
		if (ids[i] == ids[i - 1])
			return rt_err_set(err, 0, "pstree.img: pid %d appears twice", ids[i]);
	return 0;
}

static int describe_all(struct cr_restore_ctx *c, const char *dir, struct cr_desc *d,
			struct rt_err **err)
{
	int dirfd = c->o->images_dirfd;
	pid_t root;
	struct cr_lineage l;
	cr_desc_map(d, NULL);
	cr_desc_str(d, "images", dir);
	if (cr_inventory_describe(dirfd, d, &root, err) < 0 || cr_lineage_read(dirfd, &l, err) < 0 ||
	    cr_stats_describe(dirfd, "stats-dump.json", "stats_dump", d, err) < 0 ||
	    cr_stats_describe(dirfd, "stats-restore.json", "stats_restore", d, err) < 0 ||
	    cr_load_pstree(c, err) < 0 || (!l.pre_dump && cr_files_restore_load(c, err) < 0))
		return -1;
	if (check_unique_ids(c, err) < 0)
		return -1;
	if (c->tasks[0].vpid != root)
		return rt_err_set(err, 0, "pstree.img: the root is pid %d, inventory.img "
				  "says %d", c->tasks[0].vpid, root);
	if (describe_tasks(c, l.pre_dump, d, err) < 0)
		return -1;
	cr_desc_end_map(d);
	return 0;
}

static void free_ctx(struct cr_restore_ctx *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->tasks[i].thr);
	free(c->tasks);
	cr_files_restore_free(c);
}

int cr_inspect(const char *dir, enum cr_inspect_format format, char **out,
	       struct rt_err **err)
{
	cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return rt_err_set(err, errno, "inspect '%s': open the image directory", dir);
	struct cr_restore_opts o = { .images_dirfd = dirfd, .agent_fd = -1,
				     .stdio = { -1, -1, -1 } };
	struct cr_restore_ctx c = { .o = &o };
	struct cr_desc d = { .g = yajl_gen_alloc(NULL) };
	if (d.g == NULL)
		abort();
	yajl_gen_config(d.g, yajl_gen_beautify, 1);
	int ret = describe_all(&c, dir, &d, err);
	free_ctx(&c);
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(d.g, &buf, &len);
	if (ret == 0 && format == CR_INSPECT_JSON)
		*out = xstrndup((const char *)buf, len);
	else if (ret == 0)
		ret = cr_inspect_text((const char *)buf, out, err);
	yajl_gen_free(d.g);
	if (ret < 0)
		return rt_err_wrap(err, "inspect '%s'", dir);
	return 0;
}
