/* Seccomp filters (seccomp-PID.img): every thread's filter chain, read
 * with PTRACE_SECCOMP_GET_FILTER (index 0 is the newest) and its flags
 * with PTRACE_SECCOMP_GET_METADATA. Strict mode is refused.
 *
 * Restore installs the chains, oldest filter first, with
 * seccomp(SECCOMP_SET_MODE_FILTER) injected, before the identity is restored
 * (the task still has CAP_SYS_ADMIN then) and with the filters suspended for
 * the tracee, so they never refuse what later resources inject. When every thread
 * has the same chain (the common case: threads inherit it), the leader
 * installs it with SECCOMP_FILTER_FLAG_TSYNC so the threads share it as
 * before; otherwise each thread installs its own copy. Filters
 * that had a user-notification listener come back without it.
 *
 * The syscalls the coordinator injects must not meet the filters: a
 * tracee with PTRACE_O_SUSPEND_SECCOMP skips them (the tracer needs
 * CAP_SYS_ADMIN; detaching ends it). The dump sets it first of every
 * resource on threads with filters (only the scratch mapping is injected
 * before), the restore before installing. Installing needs CAP_SYS_ADMIN,
 * which the task has until misc.c restores its identity, or no_new_privs. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "coordinator/describe.h"
#include "coordinator/internal.h"
#include "util.h"

#define MAX_FILTERS 512 /* the kernel's bound is total length; ours is a count */
#define FLAGS_KEPT  (SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW)

struct filter {
	uint64_t flags;
	uint32_t len; /* instructions */
	struct sock_filter *insns;
};

/* One thread's chain, oldest first. */
struct chain {
	pid_t vtid;
	size_t n;
	struct filter *f;
};

static void chain_clear(struct chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->f[i].insns);
	free(c->f);
	c->f = NULL;
	c->n = 0;
}

static int suspend_filters(pid_t htid, unsigned long opts, struct rt_err **err)
{
	if (ptrace(PTRACE_SETOPTIONS, htid, 0, opts | PTRACE_O_SUSPEND_SECCOMP) < 0)
		return rt_err_set(err, errno,
				  "thread %d: suspend its seccomp filters "
				  "(PTRACE_O_SUSPEND_SECCOMP)",
				  htid);
	return 0;
}

/* ---- dump ---- */

static int read_filter(pid_t htid, unsigned long idx, struct filter *f, struct rt_err **err)
{
	long n = ptrace(PTRACE_SECCOMP_GET_FILTER, htid, idx, NULL);
	if (n <= 0 || n > BPF_MAXINSNS)
		return rt_err_set(err, n < 0 ? errno : EIO, "thread %d: read seccomp filter %lu",
				  htid, idx);
	f->len = (uint32_t)n;
	f->insns = xcalloc((size_t)n, sizeof(*f->insns));
	if (ptrace(PTRACE_SECCOMP_GET_FILTER, htid, idx, f->insns) != n)
		return rt_err_set(err, errno, "thread %d: read seccomp filter %lu", htid, idx);
	struct __ptrace_seccomp_metadata md = {.filter_off = idx};
	if (ptrace(PTRACE_SECCOMP_GET_METADATA, htid, sizeof(md), &md) < 0)
		return rt_err_set(err, errno, "thread %d: read seccomp filter %lu's flags", htid,
				  idx);
	f->flags = md.flags & FLAGS_KEPT;
	return 0;
}

/* How many filters the thread has: the first index that reads ENOENT. */
static int count_filters(pid_t htid, size_t *n, struct rt_err **err)
{
	for (*n = 0; *n <= MAX_FILTERS; (*n)++)
		if (ptrace(PTRACE_SECCOMP_GET_FILTER, htid, *n, NULL) < 0) {
			if (errno == ENOENT)
				return 0;
			if (errno == EINVAL && *n == 0) /* not in filter mode */
				return 0;
			return rt_err_set(err, errno, "thread %d: read seccomp filter %zu", htid,
					  *n);
		}
	return rt_err_set(err, E2BIG, "thread %d: more than %d seccomp filters", htid, MAX_FILTERS);
}

static int read_chain(pid_t htid, struct chain *c, struct rt_err **err)
{
	size_t n;
	if (count_filters(htid, &n, err) < 0)
		return -1;
	c->f = xcalloc(n ? n : 1, sizeof(*c->f));
	for (size_t i = 0; i < n; i++, c->n++)
		if (read_filter(htid, n - 1 - i, &c->f[i], err) < 0)
			return -1;
	return 0;
}

static int seccomp_mode(struct cr_dtask *t, size_t i, int *mode, struct rt_err **err)
{
	char file[64];
	cleanup_free char *own = NULL;
	const char *st = i == 0 ? cr_task_status(t, err) : NULL;
	snprintf(file, sizeof(file), "task/%d/status", t->thr[i].htid);
	if (i > 0 && cr_proc_read(t->hpid, file, &own, err) == 0)
		st = own;
	if (st == NULL)
		return -1;
	const char *f = cr_status_field(st, "Seccomp");
	*mode = f ? atoi(f) : 0;
	return 0;
}

static int write_chain(struct cr_img *img, const struct chain *c, struct rt_err **err)
{
	for (size_t i = 0; i < c->n; i++) {
		struct cr_rec r;
		cr_rec_init(&r, CR_R_SECCOMP);
		cr_put_u32(&r, (uint32_t)c->vtid);
		cr_put_u64(&r, c->f[i].flags);
		cr_put_bytes(&r, c->f[i].insns, c->f[i].len * sizeof(struct sock_filter));
		int ret = cr_img_write(img, &r, err);
		cr_rec_free(&r);
		if (ret < 0)
			return -1;
	}
	return 0;
}

static int dump_thread_filters(struct cr_dtask *t, size_t i, struct cr_img *img,
			       struct rt_err **err)
{
	int mode;
	struct chain c = {.vtid = t->thr[i].vtid};
	if (seccomp_mode(t, i, &mode, err) < 0)
		return -1;
	if (mode == SECCOMP_MODE_STRICT)
		return rt_err_set(err, EOPNOTSUPP,
				  "thread %d is in seccomp strict mode: "
				  "it cannot be restored",
				  t->thr[i].htid);
	if (mode != SECCOMP_MODE_FILTER)
		return 0;
	int ret = suspend_filters(t->thr[i].htid, CR_DUMP_PTRACE_OPTS, err);
	if (ret == 0)
		ret = read_chain(t->thr[i].htid, &c, err);
	if (ret == 0)
		ret = write_chain(img, &c, err);
	chain_clear(&c);
	return ret;
}

static int dump_seccomp(struct cr_dump_ctx *c, struct cr_dtask *t, struct rt_err **err)
{
	char name[64];
	snprintf(name, sizeof(name), "seccomp-%d.img", t->vpid);
	struct cr_img *img = NULL;
	if (cr_img_create(c->o->images_dirfd, name, CR_IMG_CORE, &img, err) < 0)
		return -1;
	for (size_t i = 0; i < t->n_thr; i++)
		if (dump_thread_filters(t, i, img, err) < 0) {
			cr_img_abort(img);
			return -1;
		}
	return cr_img_close(img, err);
}

/* ---- load ---- */

/* Every thread's chain, in t->thr order (empty for threads without). */
static int load_chains(struct cr_restore_ctx *c, struct cr_rtask *t, struct chain *ch,
		       struct rt_err **err)
{
	char name[64];
	snprintf(name, sizeof(name), "seccomp-%d.img", t->vpid);
	cleanup_img struct cr_img *img = NULL;
	for (size_t i = 0; i < t->n_thr; i++)
		ch[i].vtid = t->thr[i].vtid;
	if (cr_img_open(c->o->images_dirfd, name, CR_IMG_CORE, &img, err) < 0)
		return -1;
	for (;;) {
		struct cr_rd r;
		uint32_t tid;
		uint64_t flags;
		const void *p;
		size_t len, k;
		int more = cr_img_next(img, &r, err);
		if (more <= 0)
			return more;
		if (r.type != CR_R_SECCOMP || cr_get_u32(&r, "tid", &tid, err) < 0 ||
		    cr_get_u64(&r, "flags", &flags, err) < 0 ||
		    cr_get_bytes(&r, "filter", &p, &len, BPF_MAXINSNS * sizeof(struct sock_filter),
				 err) < 0 ||
		    cr_rd_done(&r, err) < 0)
			return rt_err_wrap(err, "'%s': record %zu", name, r.index);
		for (k = 0; k < t->n_thr && (uint32_t)ch[k].vtid != tid; k++)
			;
		if (k == t->n_thr || len == 0 || len % sizeof(struct sock_filter) ||
		    (flags & ~(uint64_t)FLAGS_KEPT) || ch[k].n >= MAX_FILTERS)
			return rt_err_set(err, 0, "'%s': record %zu: bad filter of thread %u", name,
					  r.index, tid);
		ch[k].f = xrealloc(ch[k].f, (ch[k].n + 1) * sizeof(*ch[k].f));
		struct filter *f = &ch[k].f[ch[k].n++];
		f->flags = flags;
		f->len = (uint32_t)(len / sizeof(struct sock_filter));
		f->insns = xmalloc(len);
		memcpy(f->insns, p, len);
	}
}

/* ---- restore ---- */

static bool same_chain(const struct chain *a, const struct chain *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->f[i].flags != b->f[i].flags || a->f[i].len != b->f[i].len ||
		    memcmp(a->f[i].insns, b->f[i].insns, a->f[i].len * sizeof(struct sock_filter)))
			return false;
	return true;
}

/* The program goes in the helper when it fits, else in a temporary
 * mapping of the task. */
static int install(struct cr_rtask *t, struct cr_inj *j, const struct filter *f, bool tsync,
		   struct rt_err **err)
{
	size_t len = f->len * sizeof(struct sock_filter);
	long area = (long)t->helper + 64, ret;
	bool mapped = len > CR_SCRATCH_SIZE - 64;
	if (mapped &&
	    cr_inj_ok(j, "map a seccomp program", SYS_mmap, 0, (long)len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &area, err) < 0)
		return -1;
	struct sock_fprog prog = {.len = (unsigned short)f->len,
				  .filter = (struct sock_filter *)area};
	if (cr_mem_write(t->hpid, (unsigned long)area, f->insns, len, err) < 0 ||
	    cr_mem_write(t->hpid, t->helper, &prog, sizeof(prog), err) < 0 ||
	    cr_inj_call(j, SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			(long)(f->flags | (tsync ? SECCOMP_FILTER_FLAG_TSYNC : 0)), (long)t->helper,
			0, 0, 0, &ret, err) < 0)
		return -1;
	if (ret == -EACCES)
		return rt_err_set(err, EACCES,
				  "thread %d: installing a seccomp filter needs "
				  "no_new_privs or CAP_SYS_ADMIN, and the checkpointed task "
				  "has neither",
				  j->tid);
	if (ret != 0)
		return rt_err_set(err, ret < 0 ? (int)-ret : EBUSY,
				  "thread %d: seccomp("
				  "SECCOMP_SET_MODE_FILTER) returned %ld",
				  j->tid, ret);
	if (mapped && cr_inj_ok(j, "unmap a seccomp program", SYS_munmap, area, (long)len, 0, 0, 0,
				0, NULL, err) < 0)
		return -1;
	return 0;
}

static int install_chains(struct cr_rtask *t, const struct chain *ch, struct rt_err **err)
{
	bool shared = true, any = false;
	for (size_t i = 0; i < t->n_thr; i++) {
		shared = shared && same_chain(&ch[0], &ch[i]);
		any = any || ch[i].n > 0;
	}
	for (size_t i = 0; i < t->n_thr && any; i++)
		if (suspend_filters(t->thr[i].htid, CR_RESTORE_PTRACE_OPTS, err) < 0)
			return -1;
	for (size_t i = 0; i < t->n_thr; i++) {
		struct cr_inj j;
		if (ch[i].n == 0 || (shared && i > 0))
			continue;
		if (i == 0)
			j = t->inj;
		else if (cr_inj_init(&j, t->thr[i].htid, t->inj.gadget, err) < 0)
			return -1;
		for (size_t k = 0; k < ch[i].n; k++)
			if (install(t, &j, &ch[i].f[k], shared && t->n_thr > 1, err) < 0)
				return rt_err_wrap(err, "seccomp filter %zu of thread %d", k,
						   ch[i].vtid);
	}
	return 0;
}

static int morph_seccomp(struct cr_restore_ctx *c, struct cr_rtask *t, struct rt_err **err)
{
	struct chain *ch = xcalloc(t->n_thr, sizeof(*ch));
	int ret = load_chains(c, t, ch, err);
	if (ret == 0)
		ret = install_chains(t, ch, err);
	for (size_t i = 0; i < t->n_thr; i++)
		chain_clear(&ch[i]);
	free(ch);
	return ret;
}

/* ---- inspect ---- */

static int describe_seccomp(struct cr_restore_ctx *c, struct cr_rtask *t, struct cr_desc *d,
			    struct rt_err **err)
{
	struct chain *ch = xcalloc(t->n_thr, sizeof(*ch));
	int ret = load_chains(c, t, ch, err);
	if (ret == 0) {
		cr_desc_array(d, "seccomp"); /* threads with filters */
		for (size_t i = 0; i < t->n_thr; i++) {
			if (ch[i].n == 0)
				continue;
			cr_desc_map(d, NULL);
			cr_desc_int(d, "tid", ch[i].vtid);
			cr_desc_array(d, "filters"); /* oldest first */
			for (size_t k = 0; k < ch[i].n; k++) {
				cr_desc_map(d, NULL);
				cr_desc_uint(d, "instructions", ch[i].f[k].len);
				cr_desc_hex(d, "flags", ch[i].f[k].flags);
				cr_desc_hex(d, "hash",
					    cr_hash64(ch[i].f[k].insns,
						      ch[i].f[k].len * sizeof(struct sock_filter)));
				cr_desc_end_map(d);
			}
			cr_desc_end_array(d);
			cr_desc_end_map(d);
		}
		cr_desc_end_array(d);
	}
	for (size_t i = 0; i < t->n_thr; i++)
		chain_clear(&ch[i]);
	free(ch);
	return ret;
}

const struct cr_resource cr_res_seccomp = {
	.name = "seccomp",
	.dump = dump_seccomp,
	.morph = morph_seccomp,
	.describe = describe_seccomp,
};
