/* Read-only queries of a dumped task's state (prctl gets, getitimer,
 * sigaltstack, rt_sigaction, brk...), each one an injected syscall in its
 * leader: two ptrace stops apiece, the bulk of a small task's dump. The
 * resources declare the queries they will make (their `want` hook); all of
 * them then run in one resume through inject.c's syscall loop, and
 * cr_query() answers from what they returned, or injects a query nobody
 * declared (or that did not run) the usual way.
 *
 * The loop ends in int3. The SIGTRAP it forces resets an ignored SIGTRAP
 * to SIG_DFL (inject.c), so the batch first reads the action when the
 * task ignores SIGTRAP and puts it back afterwards, and is not used at all
 * while a SIGTRAP is pending (ours would stand in for it and be dropped,
 * taking the pending one with it). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "coordinator/internal.h"
#include "util.h"

#define MIN_BATCH 3 /* fewer queries are cheaper injected one by one */

struct cr_qans {
	struct cr_qcall q;
	long ret;
	uint8_t out[CR_QUERY_OUT_MAX];
};

struct cr_queries {
	struct cr_qcall *want;
	size_t n_want;
	struct cr_qans *ans;
	size_t n_ans;
};

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

void cr_query_want(struct cr_dtask *t, const struct cr_qcall *q)
{
	if (q->out_len > CR_QUERY_OUT_MAX || q->out >= 4)
		abort(); /* a caller's bug */
	if (t->queries == NULL)
		t->queries = xcalloc(1, sizeof(*t->queries));
	struct cr_queries *qs = t->queries;
	qs->want = xrealloc(qs->want, (qs->n_want + 1) * sizeof(*qs->want));
	qs->want[qs->n_want++] = *q;
}

void cr_queries_free(struct cr_dtask *t)
{
	if (t->queries == NULL)
		return;
	free(t->queries->want);
	free(t->queries->ans);
	free(t->queries);
	t->queries = NULL;
}

static bool same_call(const struct cr_qcall *a, const struct cr_qcall *b)
{
	return a->nr == b->nr && memcmp(a->a, b->a, sizeof(a->a)) == 0 && a->out == b->out &&
	       a->out_len == b->out_len;
}

int cr_sigtrap_state(struct cr_dtask *t, bool *pending, bool *ignored, struct rt_err **err)
{
	const char *status = cr_task_status(t, err);
	if (status == NULL)
		return -1;
	static const char *const fields[] = { "SigPnd", "ShdPnd", "SigIgn" };
	uint64_t bit = 1ull << (SIGTRAP - 1), set[3];
	for (int i = 0; i < 3; i++) {
		const char *f = cr_status_field(status, fields[i]);
		if (f == NULL)
			return rt_err_set(err, 0, "pid %d: no %s in its status", t->hpid, fields[i]);
		set[i] = strtoull(f, NULL, 16);
	}
	*pending = ((set[0] | set[1]) & bit) != 0;
	*ignored = (set[2] & bit) != 0;
	return 0;
}

/* The call with its buffer argument pointing at addr. */
static struct cr_bcall bcall_of(const struct cr_qcall *q, unsigned long addr)
{
	struct cr_bcall b = { .nr = q->nr };
	for (int k = 0; k < 4; k++)
		b.a[k] = k == q->out ? (long)addr : q->a[k];
	return b;
}

/* How many of the wanted queries fit the scratch area: the loop, a table
 * entry each, their buffers. */
static size_t fitting(const struct cr_qcall *w, size_t n)
{
	size_t used = CR_BATCH_CODE, k = 0;
	while (k < n && used + 64 + round8(w[k].out_len) <= CR_SCRATCH_SIZE)
		used += 64 + round8(w[k++].out_len);
	return k;
}

static int put_back_sigtrap(struct cr_dtask *t, const struct cr_qans *a, struct rt_err **err)
{
	struct cr_ksigaction act;
	if (a->ret < 0)
		return rt_err_set(err, (int)-a->ret, "pid %d: read the SIGTRAP action", t->hpid);
	memcpy(&act, a->out, sizeof(act));
	if (act.handler == (uint64_t)(uintptr_t)SIG_DFL)
		return 0; /* the int3 left it as it was */
	if (cr_mem_write(t->hpid, t->scratch, &act, sizeof(act), err) < 0)
		return -1;
	return cr_inj_ok(&t->inj, "put back the SIGTRAP action", SYS_rt_sigaction, SIGTRAP,
			 (long)t->scratch, 0, 8, 0, 0, NULL, err);
}

int cr_query_prefetch(struct cr_dtask *t, struct rt_err **err)
{
	struct cr_queries *qs = t->queries;
	if (qs == NULL || qs->n_want < MIN_BATCH || !t->scratch_exec)
		return 0;
	bool pending, ignored;
	if (cr_sigtrap_state(t, &pending, &ignored, err) < 0)
		return -1;
	if (pending)
		return 0;
	/* the SIGTRAP action first, so it is read before the int3 */
	size_t n = qs->n_want + ignored;
	cleanup_free struct cr_qcall *w = xcalloc(n, sizeof(*w));
	if (ignored)
		w[0] = (struct cr_qcall){ SYS_rt_sigaction, { SIGTRAP, 0, 0, 8 }, 2,
					  sizeof(struct cr_ksigaction) };
	memcpy(w + ignored, qs->want, qs->n_want * sizeof(*w));
	n = fitting(w, n);
	cleanup_free struct cr_bcall *calls = xcalloc(n, sizeof(*calls));
	cleanup_free long *res = xcalloc(n, sizeof(long));
	unsigned long outs = t->scratch + CR_BATCH_CODE + 64 * n, at = outs;
	for (size_t i = 0; i < n; i++) {
		calls[i] = bcall_of(&w[i], at);
		at += round8(w[i].out_len);
	}
	size_t done;
	if (cr_batch_exec(&t->inj, t->scratch, calls, n, res, &done, err) < 0)
		return -1;
	cleanup_free uint8_t *buf = xmalloc(at - outs + 1);
	if (cr_mem_read(t->hpid, outs, buf, at - outs, err) < 0)
		return -1;
	/* answers for what ran, the failed one included: it fails the same
	 * way when asked */
	size_t got = done < n ? done + 1 : n;
	qs->ans = xcalloc(got, sizeof(*qs->ans));
	for (size_t i = 0, off = 0; i < got; off += round8(w[i].out_len), i++) {
		qs->ans[i] = (struct cr_qans){ .q = w[i], .ret = res[i] };
		memcpy(qs->ans[i].out, buf + off, w[i].out_len);
	}
	qs->n_ans = got;
	if (ignored && got == 0)
		return rt_err_set(err, EIO, "pid %d: the SIGTRAP action was not read", t->hpid);
	return ignored ? put_back_sigtrap(t, &qs->ans[0], err) : 0;
}

int cr_query(struct cr_dtask *t, const char *what, const struct cr_qcall *q, void *out,
	     long *ret, struct rt_err **err)
{
	struct cr_queries *qs = t->queries;
	for (size_t i = 0; qs && i < qs->n_ans; i++) {
		const struct cr_qans *a = &qs->ans[i];
		if (!same_call(&a->q, q))
			continue;
		if (a->ret < 0 && a->ret > -4096)
			return rt_err_set(err, (int)-a->ret, "pid %d: %s", t->hpid, what);
		if (out)
			memcpy(out, a->out, q->out_len);
		if (ret)
			*ret = a->ret;
		return 0;
	}
	struct cr_bcall b = bcall_of(q, t->scratch);
	if (cr_inj_ok(&t->inj, what, b.nr, b.a[0], b.a[1], b.a[2], b.a[3], 0, 0, ret, err) < 0)
		return -1;
	return q->out >= 0 && out ? cr_mem_read(t->hpid, t->scratch, out, q->out_len, err) : 0;
}
