/* Signal state (signal-PID.img): handlers of every signal, and pending
 * signals, shared and per thread (PTRACE_PEEKSIGINFO). Masks are per-thread
 * state in core-PID.img. The handlers come from /proc/PID/sigactions where
 * the kernel has it (ferry's patch 2), else from rt_sigaction injected for
 * the signals /proc/PID/status names caught or ignored (and SIGCHLD); every
 * other signal is recorded as the kernel's initial action, all zero.
 * Restore installs the non-initial handlers (the agent reset all of its own)
 * and re-queues the pending signals from inside the task (rt_sigqueueinfo /
 * rt_tgsigqueueinfo to itself), while every signal is still blocked. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "coordinator/describe.h"
#include "coordinator/internal.h"
#include "util.h"

static int put_rec(struct cr_img *img, struct cr_rec *r, struct rt_err **err)
{
	int ret = cr_img_write(img, r, err);
	cr_rec_free(r);
	return ret;
}

/* "N 0xHANDLER 0xFLAGS 0xRESTORER MASK\n" for N = 1..64, MASK in SigBlk's
 * hex format (kernel-patches/README.md, patch 2). act is indexed by signal;
 * every signal must appear exactly once. */
int cr_sigactions_parse(const char *text, struct cr_ksigaction *act, struct rt_err **err)
{
	uint64_t seen = 0;
	for (const char *l = text; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != 0)) {
		char line[128];
		int sig, end = 0;
		unsigned long long h, f, r, m;
		size_t len = strcspn(l, "\n");
		if (len == 0)
			continue;
		snprintf(line, sizeof(line), "%.*s", (int)len, l);
		if (len >= sizeof(line) ||
		    sscanf(line, "%d 0x%llx 0x%llx 0x%llx %16llx%n", &sig, &h, &f, &r, &m, &end) !=
			    5 || line[end] != '\0')
			return rt_err_set(err, 0, "sigactions: bad line \"%.*s\"", (int)len, l);
		if (sig < 1 || sig > CR_NSIG || (seen & (1ull << (sig - 1))))
			return rt_err_set(err, 0, "sigactions: bad or repeated signal %d", sig);
		seen |= 1ull << (sig - 1);
		act[sig] = (struct cr_ksigaction){ h, f, r, m };
	}
	if (seen != ~0ull)
		return rt_err_set(err, 0, "sigactions: %d of %d signals",
				  __builtin_popcountll(seen), CR_NSIG);
	return 0;
}

/* The signals whose action can differ from the initial one (SIG_DFL, no
 * flags, no mask): SigIgn and SigCgt of /proc/PID/status, plus SIGCHLD,
 * whose SA_NOCLDWAIT and SA_NOCLDSTOP act even with SIG_DFL. The flags
 * and mask of any other SIG_DFL action have no effect and are not kept. */
static int custom_signals(struct cr_dtask *t, uint64_t *set, struct rt_err **err)
{
	const char *text = cr_task_status(t, err);
	if (text == NULL)
		return -1;
	const char *ign = strstr(text, "\nSigIgn:"), *cgt = strstr(text, "\nSigCgt:");
	if (!ign || !cgt)
		return rt_err_set(err, 0, "pid %d: no SigIgn/SigCgt in its status", t->hpid);
	*set = strtoull(ign + 8, NULL, 16) | strtoull(cgt + 8, NULL, 16) |
	       1ull << (SIGCHLD - 1);
	return 0;
}

static struct cr_qcall sigaction_q(int sig)
{
	return (struct cr_qcall){ SYS_rt_sigaction, { sig, 0, 0, 8 }, 2,
				  sizeof(struct cr_ksigaction) };
}

static bool wanted_signal(uint64_t set, int sig)
{
	return (set & (1ull << (sig - 1))) && sig != SIGKILL && sig != SIGSTOP;
}

/* Without /proc/PID/sigactions the actions are queries (query.c). */
static void want_signals(struct cr_dump_ctx *c, struct cr_dtask *t)
{
	char path[64];
	uint64_t set = 0;
	cleanup_err struct rt_err *e = NULL;
	snprintf(path, sizeof(path), "/proc/%d/sigactions", t->hpid);
	if (access(path, F_OK) == 0 || custom_signals(t, &set, &e) < 0)
		return;
	for (int sig = 1; sig <= CR_NSIG; sig++) {
		struct cr_qcall q = sigaction_q(sig);
		if (wanted_signal(set, sig))
			cr_query_want(t, &q);
	}
}

static int inject_actions(struct cr_dtask *t, struct cr_ksigaction *act,
			  struct rt_err **err)
{
	uint64_t set = 0;
	if (custom_signals(t, &set, err) < 0)
		return -1;
	for (int sig = 1; sig <= CR_NSIG; sig++) {
		struct cr_qcall q = sigaction_q(sig);
		if (wanted_signal(set, sig) && cr_query(t, "rt_sigaction", &q, &act[sig], NULL, err) < 0)
			return rt_err_wrap(err, "signal %d", sig);
	}
	return 0;
}

/* One read of /proc/PID/sigactions: 1 if done, 0 if the kernel lacks it. */
static int read_actions(pid_t pid, struct cr_ksigaction *act, struct rt_err **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/sigactions", pid);
	cleanup_free char *text = NULL;
	cleanup_err struct rt_err *e = NULL;
	if (rt_read_file(path, &text, NULL, &e) < 0) {
		if (e->code == ENOENT)
			return 0;
		*err = steal_pointer(&e);
		return -1;
	}
	if (cr_sigactions_parse(text, act, err) < 0)
		return rt_err_wrap(err, "'%s'", path);
	return 1;
}

static int dump_actions(struct cr_dtask *t, struct cr_img *img, struct rt_err **err)
{
	struct cr_ksigaction act[CR_NSIG + 1] = { 0 };
	int got = read_actions(t->hpid, act, err);
	if (got < 0 || (got == 0 && inject_actions(t, act, err) < 0))
		return -1;
	for (int sig = 1; sig <= CR_NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		struct cr_rec r;
		cr_rec_init(&r, CR_R_SIGACT);
		cr_put_u32(&r, (uint32_t)sig);
		cr_put_u64(&r, act[sig].handler);
		cr_put_u64(&r, act[sig].flags);
		cr_put_u64(&r, act[sig].restorer);
		cr_put_u64(&r, act[sig].mask);
		if (put_rec(img, &r, err) < 0)
			return -1;
	}
	return 0;
}

/* Read the queue of htid (the process-wide one with PEEKSIGINFO_SHARED),
 * recorded as rec_tid: a vtid, 0 for the process-wide queue. */
static int dump_pending(pid_t htid, pid_t rec_tid, unsigned flags, struct cr_img *img,
			struct rt_err **err)
{
	for (uint64_t off = 0;; off++) {
		struct __ptrace_peeksiginfo_args a = { .off = off, .flags = flags, .nr = 1 };
		siginfo_t si;
		long n = ptrace(PTRACE_PEEKSIGINFO, htid, &a, &si);
		if (n < 0)
			return rt_err_set(err, errno, "thread %d: read pending signals", htid);
		if (n == 0)
			return 0;
		struct cr_rec r;
		cr_rec_init(&r, CR_R_SIGINFO);
		cr_put_u32(&r, (uint32_t)rec_tid);
		cr_put_bytes(&r, &si, sizeof(si));
		if (put_rec(img, &r, err) < 0)
			return -1;
	}
}

static int dump_signals(struct cr_dump_ctx *c, struct cr_dtask *t,
			struct rt_err **err)
{
	char name[64];
	snprintf(name, sizeof(name), "signal-%d.img", t->vpid);
	struct cr_img *img = NULL;
	if (cr_img_create(c->o->images_dirfd, name, CR_IMG_CORE, &img, err) < 0)
		return -1;
	int ret = dump_actions(t, img, err);
	if (ret == 0)
		ret = dump_pending(t->hpid, 0, PTRACE_PEEKSIGINFO_SHARED, img, err);
	for (size_t i = 0; i < t->n_thr && ret == 0; i++)
		ret = dump_pending(t->thr[i].htid, t->thr[i].vtid, 0, img, err);
	if (ret < 0) {
		cr_img_abort(img);
		return -1;
	}
	return cr_img_close(img, err);
}

/* One record of signal-PID.img, parsed and checked. */
struct sig_rec {
	uint32_t type;
	uint32_t sig;         /* the action's signal, or the pending si_signo */
	struct cr_ksigaction ka; /* CR_R_SIGACT */
	uint32_t tid;         /* CR_R_SIGINFO: 0 for the process-wide queue */
	const void *si;       /* CR_R_SIGINFO: a siginfo_t, inside the record */
};

static int get_sig_rec(const char *name, struct cr_rd *r, struct sig_rec *s,
		       struct rt_err **err)
{
	size_t len;
	int32_t signo;
	*s = (struct sig_rec){ .type = r->type };
	if (r->type == CR_R_SIGACT) {
		if (cr_get_u32(r, "signal", &s->sig, err) < 0 ||
		    cr_get_u64(r, "handler", &s->ka.handler, err) < 0 ||
		    cr_get_u64(r, "flags", &s->ka.flags, err) < 0 ||
		    cr_get_u64(r, "restorer", &s->ka.restorer, err) < 0 ||
		    cr_get_u64(r, "mask", &s->ka.mask, err) < 0 || cr_rd_done(r, err) < 0)
			return -1;
		if (s->sig < 1 || s->sig > CR_NSIG || s->sig == SIGKILL || s->sig == SIGSTOP)
			return rt_err_set(err, 0, "'%s': record %zu: bad signal %u", name,
					  r->index, s->sig);
		return 0;
	}
	if (r->type != CR_R_SIGINFO)
		return rt_err_set(err, 0, "'%s': record %zu: unexpected type %u", name,
				  r->index, r->type);
	if (cr_get_u32(r, "tid", &s->tid, err) < 0 ||
	    cr_get_bytes(r, "siginfo", &s->si, &len, sizeof(siginfo_t), err) < 0 ||
	    cr_rd_done(r, err) < 0)
		return -1;
	if (len != sizeof(siginfo_t))
		return rt_err_set(err, 0, "'%s': record %zu: short siginfo", name, r->index);
	memcpy(&signo, s->si, sizeof(signo)); /* si_signo; the record is unaligned */
	if (signo < 1 || signo > CR_NSIG)
		return rt_err_set(err, 0, "'%s': record %zu: pending signal %d", name,
				  r->index, signo);
	s->sig = (uint32_t)signo;
	return 0;
}

static const struct cr_rthread *find_thread(const struct cr_rtask *t, uint32_t tid)
{
	for (size_t i = 0; i < t->n_thr; i++)
		if ((uint32_t)t->thr[i].vtid == tid)
			return &t->thr[i];
	return NULL;
}

typedef int (*sig_fn)(struct cr_rtask *t, const struct sig_rec *s, void *arg,
		      struct rt_err **err);

/* Every record of the task's signal image, in order, to fn. */
static int walk_signals(struct cr_restore_ctx *c, struct cr_rtask *t, sig_fn fn,
			void *arg, struct rt_err **err)
{
	char name[64];
	snprintf(name, sizeof(name), "signal-%d.img", t->vpid);
	cleanup_img struct cr_img *img = NULL;
	if (cr_img_open(c->o->images_dirfd, name, CR_IMG_CORE, &img, err) < 0)
		return -1;
	for (;;) {
		struct cr_rd r;
		struct sig_rec s;
		int k = cr_img_next(img, &r, err);
		if (k <= 0)
			return k;
		if (get_sig_rec(name, &r, &s, err) < 0)
			return -1;
		if (s.type == CR_R_SIGINFO && s.tid != 0 && !find_thread(t, s.tid))
			return rt_err_set(err, 0, "'%s': record %zu: thread %u is not "
					  "in the task", name, r.index, s.tid);
		if (fn(t, &s, arg, err) < 0)
			return -1;
	}
}

/* The agent left every action initial (agent.c, reset_signals): only the
 * others need a round trip. */
static int restore_action(struct cr_rtask *t, const struct sig_rec *s,
			  struct rt_err **err)
{
	static const struct cr_ksigaction initial;
	if (memcmp(&s->ka, &initial, sizeof(initial)) == 0)
		return 0;
	if (cr_mem_write(t->hpid, t->helper, &s->ka, sizeof(s->ka), err) < 0 ||
	    cr_inj_ok(&t->inj, "rt_sigaction", SYS_rt_sigaction, s->sig, (long)t->helper,
		      0, 8, 0, 0, NULL, err) < 0)
		return rt_err_wrap(err, "signal %u", s->sig);
	return 0;
}

static int restore_pending(struct cr_rtask *t, const struct sig_rec *s,
			   struct rt_err **err)
{
	if (cr_mem_write(t->hpid, t->helper, s->si, sizeof(siginfo_t), err) < 0)
		return -1;
	/* Run inside the task, with its own pid namespace's pids. Queueing a
	 * siginfo with si_code >= 0 (or SI_TKILL) is refused unless the
	 * sender is the receiver: the leader queues the process-wide ones,
	 * each thread its own. */
	if (s->tid == 0)
		return cr_inj_ok(&t->inj, "rt_sigqueueinfo", SYS_rt_sigqueueinfo, t->vpid,
				 s->sig, (long)t->helper, 0, 0, 0, NULL, err);
	struct cr_inj j;
	const struct cr_rthread *th = find_thread(t, s->tid);
	if (cr_inj_init(&j, th->htid, t->inj.gadget, err) < 0 ||
	    cr_inj_ok(&j, "rt_tgsigqueueinfo", SYS_rt_tgsigqueueinfo, t->vpid,
		      (long)s->tid, s->sig, (long)t->helper, 0, 0, NULL, err) < 0)
		return rt_err_wrap(err, "thread %u", s->tid);
	return 0;
}

static int restore_one(struct cr_rtask *t, const struct sig_rec *s, void *arg,
		       struct rt_err **err)
{
	if (s->type == CR_R_SIGACT)
		return restore_action(t, s, err);
	return restore_pending(t, s, err);
}

static int morph_signals(struct cr_restore_ctx *c, struct cr_rtask *t,
			 struct rt_err **err)
{
	return walk_signals(c, t, restore_one, NULL, err);
}

/* ---- inspect ---- */

struct sig_summary {
	struct sig_rec act[CR_NSIG + 1]; /* by signal; type 0: not in the image */
	size_t n_pending;
	struct sig_rec *pending; /* si points nowhere once the walk is over */
};

static int collect_one(struct cr_rtask *t, const struct sig_rec *s, void *arg,
		       struct rt_err **err)
{
	struct sig_summary *sum = arg;
	if (s->type == CR_R_SIGACT) {
		sum->act[s->sig] = *s;
		return 0;
	}
	sum->pending = xrealloc(sum->pending, (sum->n_pending + 1) * sizeof(*s));
	sum->pending[sum->n_pending] = *s;
	sum->pending[sum->n_pending++].si = NULL;
	return 0;
}

static void describe_handler(struct cr_desc *d, const struct sig_rec *s)
{
	char buf[16];
	cr_desc_map(d, NULL);
	cr_desc_int(d, "signal", s->sig);
	cr_desc_str(d, "name", cr_signal_name((int)s->sig, buf));
	if (s->ka.handler == (uintptr_t)SIG_IGN)
		cr_desc_str(d, "handler", "ignore");
	else
		cr_desc_hex(d, "handler", s->ka.handler);
	cr_desc_hex(d, "flags", s->ka.flags);
	cr_desc_hex(d, "mask", s->ka.mask);
	cr_desc_end_map(d);
}

static int describe_signals(struct cr_restore_ctx *c, struct cr_rtask *t,
			    struct cr_desc *d, struct rt_err **err)
{
	struct sig_summary *sum = xcalloc(1, sizeof(*sum));
	int ret = walk_signals(c, t, collect_one, sum, err);
	if (ret == 0) {
		char buf[16];
		cr_desc_map(d, "signals");
		cr_desc_array(d, "handlers"); /* those not SIG_DFL */
		for (int sig = 1; sig <= CR_NSIG; sig++)
			if (sum->act[sig].type && sum->act[sig].ka.handler != (uintptr_t)SIG_DFL)
				describe_handler(d, &sum->act[sig]);
		cr_desc_end_array(d);
		cr_desc_array(d, "pending");
		for (size_t i = 0; i < sum->n_pending; i++) {
			cr_desc_map(d, NULL);
			cr_desc_int(d, "signal", sum->pending[i].sig);
			cr_desc_str(d, "name", cr_signal_name((int)sum->pending[i].sig, buf));
			cr_desc_int(d, "tid", sum->pending[i].tid); /* 0: the process */
			cr_desc_end_map(d);
		}
		cr_desc_end_array(d);
		cr_desc_end_map(d);
	}
	free(sum->pending);
	free(sum);
	return ret;
}

const struct cr_resource cr_res_signals = {
	.want = want_signals,
	.name = "signals",
	.dump = dump_signals,
	.morph = morph_signals,
	.describe = describe_signals,
};
