/* Signal state (signal-PID.img): handlers of every signal (read with an
 * injected rt_sigaction), and pending signals, shared and per thread
 * (PTRACE_PEEKSIGINFO). Masks are per-thread state in core-PID.img.
 * Restore installs the handlers and re-queues the pending signals from
 * inside the task (rt_sigqueueinfo / rt_tgsigqueueinfo to itself), while
 * every signal is still blocked. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "coordinator/internal.h"
#include "util.h"

struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

static int put_rec(struct cr_img *img, struct cr_rec *r, struct rt_err **err)
{
	int ret = cr_img_write(img, r, err);
	cr_rec_free(r);
	return ret;
}

static int dump_actions(struct cr_dtask *t, struct cr_img *img, struct rt_err **err)
{
	for (int sig = 1; sig <= CR_NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		struct ksigaction ka;
		struct cr_rec r;
		if (cr_inj_ok(&t->inj, "rt_sigaction", SYS_rt_sigaction, sig, 0,
			      (long)t->scratch, 8, 0, 0, NULL, err) < 0 ||
		    cr_mem_read(t->pid, t->scratch, &ka, sizeof(ka), err) < 0)
			return rt_err_wrap(err, "signal %d", sig);
		cr_rec_init(&r, CR_R_SIGACT);
		cr_put_u32(&r, (uint32_t)sig);
		cr_put_u64(&r, ka.handler);
		cr_put_u64(&r, ka.flags);
		cr_put_u64(&r, ka.restorer);
		cr_put_u64(&r, ka.mask);
		if (put_rec(img, &r, err) < 0)
			return -1;
	}
	return 0;
}

/* tid 0: the process-wide queue. */
static int dump_pending(pid_t tid, pid_t rec_tid, unsigned flags, struct cr_img *img,
			struct rt_err **err)
{
	for (uint64_t off = 0;; off++) {
		struct __ptrace_peeksiginfo_args a = { .off = off, .flags = flags, .nr = 1 };
		siginfo_t si;
		long n = ptrace(PTRACE_PEEKSIGINFO, tid, &a, &si);
		if (n < 0)
			return rt_err_set(err, errno, "thread %d: read pending signals", tid);
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
	snprintf(name, sizeof(name), "signal-%d.img", t->pid);
	struct cr_img *img = NULL;
	if (cr_img_create(c->o->images_dirfd, name, CR_IMG_CORE, &img, err) < 0)
		return -1;
	int ret = dump_actions(t, img, err);
	if (ret == 0)
		ret = dump_pending(t->pid, 0, PTRACE_PEEKSIGINFO_SHARED, img, err);
	for (size_t i = 0; i < t->n_thr && ret == 0; i++)
		ret = dump_pending(t->thr[i].tid, t->thr[i].tid, 0, img, err);
	if (ret < 0) {
		cr_img_abort(img);
		return -1;
	}
	return cr_img_close(img, err);
}

static int restore_action(struct cr_rtask *t, struct cr_rd *r, struct rt_err **err)
{
	uint32_t sig;
	struct ksigaction ka;
	if (cr_get_u32(r, "signal", &sig, err) < 0 ||
	    cr_get_u64(r, "handler", &ka.handler, err) < 0 ||
	    cr_get_u64(r, "flags", &ka.flags, err) < 0 ||
	    cr_get_u64(r, "restorer", &ka.restorer, err) < 0 ||
	    cr_get_u64(r, "mask", &ka.mask, err) < 0 || cr_rd_done(r, err) < 0)
		return -1;
	if (sig < 1 || sig > CR_NSIG || sig == SIGKILL || sig == SIGSTOP)
		return rt_err_set(err, 0, "signal image: bad signal %u", sig);
	if (cr_mem_write(t->pid, t->helper, &ka, sizeof(ka), err) < 0 ||
	    cr_inj_ok(&t->inj, "rt_sigaction", SYS_rt_sigaction, sig, (long)t->helper,
		      0, 8, 0, 0, NULL, err) < 0)
		return rt_err_wrap(err, "signal %u", sig);
	return 0;
}

static int restore_pending(struct cr_rtask *t, struct cr_rd *r, struct rt_err **err)
{
	uint32_t tid;
	const void *si;
	size_t len;
	if (cr_get_u32(r, "tid", &tid, err) < 0 ||
	    cr_get_bytes(r, "siginfo", &si, &len, sizeof(siginfo_t), err) < 0 ||
	    cr_rd_done(r, err) < 0)
		return -1;
	if (len != sizeof(siginfo_t))
		return rt_err_set(err, 0, "signal image: short siginfo");
	int sig = ((const siginfo_t *)si)->si_signo;
	if (cr_mem_write(t->pid, t->helper, si, len, err) < 0)
		return -1;
	if (tid == 0)
		return cr_inj_ok(&t->inj, "rt_sigqueueinfo", SYS_rt_sigqueueinfo, t->pid,
				 sig, (long)t->helper, 0, 0, 0, NULL, err);
	return cr_inj_ok(&t->inj, "rt_tgsigqueueinfo", SYS_rt_tgsigqueueinfo, t->pid,
			 (long)tid, sig, (long)t->helper, 0, 0, NULL, err);
}

static int morph_signals(struct cr_restore_ctx *c, struct cr_rtask *t,
			 struct rt_err **err)
{
	char name[64];
	snprintf(name, sizeof(name), "signal-%d.img", t->pid);
	cleanup_img struct cr_img *img = NULL;
	if (cr_img_open(c->o->images_dirfd, name, CR_IMG_CORE, &img, err) < 0)
		return -1;
	for (;;) {
		struct cr_rd r;
		int k = cr_img_next(img, &r, err);
		if (k <= 0)
			return k;
		if (r.type == CR_R_SIGACT)
			k = restore_action(t, &r, err);
		else if (r.type == CR_R_SIGINFO)
			k = restore_pending(t, &r, err);
		else
			k = rt_err_set(err, 0, "%s: unexpected record %zu", name, r.index);
		if (k < 0)
			return -1;
	}
}

const struct cr_resource cr_res_signals = {
	.name = "signals",
	.dump = dump_signals,
	.morph = morph_signals,
};
