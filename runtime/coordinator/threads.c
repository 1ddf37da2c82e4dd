/* Threads (core-PID.img): registers, xstate, signal mask, tid address,
 * robust list, rseq, sigaltstack and name of every thread. Restore creates
 * the non-leader threads with an injected clone3(set_tid = vtid: it runs in
 * the task's pid namespace) and gives every thread its own per-thread
 * state; the final registers are set by restore.c just before the release. */
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "coordinator/describe.h"
#include "coordinator/internal.h"
#include "util.h"

#define NREGS (sizeof(struct user_regs_struct) / sizeof(uint64_t))

struct thread_facts {
	uint64_t tid_addr, robust, robust_len, rseq, rseq_len, rseq_sig;
	uint64_t ss[3]; /* ss_sp, ss_flags (int + pad), ss_size */
	char comm[16];
};

static const struct cr_qcall tid_address_q = { SYS_prctl, { PR_GET_TID_ADDRESS }, 1, 8 };
static const struct cr_qcall sigaltstack_q = { SYS_sigaltstack, { 0 }, 1, 24 };

/* The leader's own queries; other threads are injected in themselves. */
static void want_threads(struct cr_dump_ctx *c, struct cr_dtask *t)
{
	cr_query_want(t, &tid_address_q);
	cr_query_want(t, &sigaltstack_q);
}

static int read_facts(struct cr_dtask *t, size_t i, struct thread_facts *f,
		      struct rt_err **err)
{
	pid_t tid = t->thr[i].htid;
	struct cr_inj j;
	if (i == 0) {
		if (cr_query(t, "PR_GET_TID_ADDRESS", &tid_address_q, &f->tid_addr, NULL, err) < 0 ||
		    cr_query(t, "sigaltstack", &sigaltstack_q, f->ss, NULL, err) < 0)
			return -1;
	} else if (cr_dump_inj(t, i, &j, err) < 0 ||
		   cr_inj_ok(&j, "PR_GET_TID_ADDRESS", SYS_prctl, PR_GET_TID_ADDRESS,
			     (long)t->scratch, 0, 0, 0, 0, NULL, err) < 0 ||
		   cr_mem_read(t->hpid, t->scratch, &f->tid_addr, 8, err) < 0 ||
		   cr_inj_ok(&j, "sigaltstack", SYS_sigaltstack, 0, (long)t->scratch, 0, 0, 0, 0,
			     NULL, err) < 0 ||
		   cr_mem_read(t->hpid, t->scratch, f->ss, sizeof(f->ss), err) < 0) {
		return -1;
	}
	size_t len = 0;
	void *head = NULL;
	if (syscall(SYS_get_robust_list, tid, &head, &len) < 0)
		return rt_err_set(err, errno, "thread %d: get_robust_list", tid);
	f->robust = (uintptr_t)head;
	f->robust_len = len;
	struct __ptrace_rseq_configuration rc = { 0 };
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, sizeof(rc), &rc) < 0)
		return rt_err_set(err, errno, "thread %d: read its rseq registration", tid);
	f->rseq = rc.rseq_abi_pointer;
	f->rseq_len = rc.rseq_abi_size;
	f->rseq_sig = rc.signature;
	char file[64];
	snprintf(file, sizeof(file), "task/%d/comm", tid);
	cleanup_free char *comm = NULL;
	if (cr_proc_read(t->hpid, file, &comm, err) < 0)
		return -1;
	comm[strcspn(comm, "\n")] = '\0';
	snprintf(f->comm, sizeof(f->comm), "%s", comm);
	return 0;
}

static void put_thread(struct cr_rec *r, const struct cr_dthread *th,
		       const struct thread_facts *f)
{
	struct user_regs_struct regs = th->regs;
	cr_regs_for_new_task(&regs);
	const uint64_t *rv = (const uint64_t *)&regs;
	cr_put_u32(r, (uint32_t)th->vtid);
	for (size_t k = 0; k < NREGS; k++)
		cr_put_u64(r, rv[k]);
	cr_put_bytes(r, th->xstate, th->xlen);
	cr_put_u64(r, th->sigmask);
	cr_put_u64(r, f->tid_addr);
	cr_put_u64(r, f->robust);
	cr_put_u64(r, f->robust_len);
	cr_put_u64(r, f->rseq);
	cr_put_u64(r, f->rseq_len);
	cr_put_u64(r, f->rseq_sig);
	cr_put_u64(r, f->ss[0]);
	cr_put_u32(r, (uint32_t)f->ss[1]);
	cr_put_u64(r, f->ss[2]);
	cr_put_str(r, f->comm);
}

static int dump_threads(struct cr_dump_ctx *c, struct cr_dtask *t,
			struct rt_err **err)
{
	char name[64];
	snprintf(name, sizeof(name), "core-%d.img", t->vpid);
	struct cr_img *img = NULL;
	if (cr_img_create(c->o->images_dirfd, name, CR_IMG_CORE, &img, err) < 0)
		return -1;
	for (size_t i = 0; i < t->n_thr; i++) {
		struct thread_facts f = { 0 };
		struct cr_rec r;
		if (read_facts(t, i, &f, err) < 0) {
			cr_img_abort(img);
			return -1;
		}
		cr_rec_init(&r, CR_R_THREAD);
		put_thread(&r, &t->thr[i], &f);
		int ret = cr_img_write(img, &r, err);
		cr_rec_free(&r);
		if (ret < 0) {
			cr_img_abort(img);
			return -1;
		}
	}
	return cr_img_close(img, err);
}

static int get_thread(struct cr_rd *r, struct cr_rthread *th, struct rt_err **err)
{
	uint32_t tid, ssf;
	uint64_t *rv = (uint64_t *)&th->regs;
	const void *xs;
	cleanup_free char *comm = NULL;
	if (cr_get_u32(r, "tid", &tid, err) < 0)
		return -1;
	for (size_t k = 0; k < NREGS; k++)
		if (cr_get_u64(r, "regs", &rv[k], err) < 0)
			return -1;
	if (cr_get_bytes(r, "xstate", &xs, &th->xlen, CR_XSTATE_MAX, err) < 0 ||
	    cr_get_u64(r, "sigmask", &th->sigmask, err) < 0 ||
	    cr_get_u64(r, "tid_addr", &th->tid_addr, err) < 0 ||
	    cr_get_u64(r, "robust", &th->robust, err) < 0 ||
	    cr_get_u64(r, "robust_len", &th->robust_len, err) < 0 ||
	    cr_get_u64(r, "rseq", &th->rseq, err) < 0 ||
	    cr_get_u64(r, "rseq_len", &th->rseq_len, err) < 0 ||
	    cr_get_u64(r, "rseq_sig", &th->rseq_sig, err) < 0 ||
	    cr_get_u64(r, "ss_sp", &th->ss_sp, err) < 0 ||
	    cr_get_u32(r, "ss_flags", &ssf, err) < 0 ||
	    cr_get_u64(r, "ss_size", &th->ss_size, err) < 0 ||
	    cr_get_str(r, "comm", &comm, 64, err) < 0 || cr_rd_done(r, err) < 0)
		return -1;
	if ((pid_t)tid != th->vtid)
		return rt_err_set(err, 0, "core image: thread %u where %d was expected",
				  tid, th->vtid);
	th->xstate = xmalloc(th->xlen);
	memcpy(th->xstate, xs, th->xlen);
	th->ss_flags = ssf;
	snprintf(th->comm, sizeof(th->comm), "%s", comm ? comm : "");
	return 0;
}

static int load_threads(struct cr_restore_ctx *c, struct cr_rtask *t,
			struct rt_err **err)
{
	char name[64];
	snprintf(name, sizeof(name), "core-%d.img", t->vpid);
	cleanup_img struct cr_img *img = NULL;
	if (cr_img_open(c->o->images_dirfd, name, CR_IMG_CORE, &img, err) < 0)
		return -1;
	for (size_t i = 0; i < t->n_thr; i++) {
		struct cr_rd r;
		if (cr_img_expect(img, CR_R_THREAD, &r, err) < 0 ||
		    get_thread(&r, &t->thr[i], err) < 0)
			return -1;
	}
	return cr_img_end(img, err);
}

/* clone3 a thread with its dumped tid into the stopped leader; its htid
 * comes with the clone event. */
static int create_thread(struct cr_rtask *t, struct cr_rthread *th,
			 struct rt_err **err)
{
	uint64_t set_tid = (uint64_t)th->vtid;
	struct clone_args a = {
		.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			 CLONE_THREAD | CLONE_SYSVSEM,
		.set_tid = t->helper + sizeof(struct clone_args),
		.set_tid_size = 1,
	};
	if (cr_mem_write(t->hpid, t->helper, &a, sizeof(a), err) < 0 ||
	    cr_mem_write(t->hpid, a.set_tid, &set_tid, 8, err) < 0)
		return -1;
	long ret;
	t->inj.new_tid = 0;
	if (cr_inj_ok(&t->inj, "clone3 a thread", SYS_clone3, (long)t->helper,
		      sizeof(a), 0, 0, 0, 0, &ret, err) < 0)
		return rt_err_wrap(err, "thread %d", th->vtid);
	if (t->inj.new_tid <= 0)
		return rt_err_set(err, 0, "thread %d: created as %ld without a clone "
				  "event", th->vtid, ret);
	th->htid = t->inj.new_tid;
	th->attached = true;
	int st;
	if (cr_wait_stop(th->htid, &st, err) < 0)
		return -1;
	if (ret != th->vtid)
		return rt_err_set(err, 0, "thread %d was created as %ld", th->vtid, ret);
	return 0;
}

/* Per-thread kernel state, injected in the thread itself. */
static int thread_state(struct cr_rtask *t, struct cr_rthread *th,
			struct rt_err **err)
{
	struct cr_inj j;
	uint64_t ss[3] = { th->ss_sp, th->ss_flags, th->ss_size };
	if (cr_inj_init(&j, th->htid, t->inj.gadget, err) < 0 ||
	    cr_inj_ok(&j, "set_tid_address", SYS_set_tid_address,
		      (long)th->tid_addr, 0, 0, 0, 0, 0, NULL, err) < 0 ||
	    cr_inj_ok(&j, "set_robust_list", SYS_set_robust_list, (long)th->robust,
		      (long)th->robust_len, 0, 0, 0, 0, NULL, err) < 0)
		return rt_err_wrap(err, "thread %d", th->vtid);
	if (th->rseq && cr_inj_ok(&j, "register rseq", SYS_rseq, (long)th->rseq,
				  (long)th->rseq_len, 0, (long)th->rseq_sig, 0,
				  0, NULL, err) < 0)
		return rt_err_wrap(err, "thread %d", th->vtid);
	if (cr_mem_write(t->hpid, t->helper, ss, sizeof(ss), err) < 0 ||
	    cr_inj_ok(&j, "sigaltstack", SYS_sigaltstack, (long)t->helper, 0, 0,
		      0, 0, 0, NULL, err) < 0 ||
	    cr_mem_write(t->hpid, t->helper, th->comm, sizeof(th->comm), err) < 0 ||
	    cr_inj_ok(&j, "PR_SET_NAME", SYS_prctl, PR_SET_NAME, (long)t->helper,
		      0, 0, 0, 0, NULL, err) < 0)
		return rt_err_wrap(err, "thread %d", th->vtid);
	return 0;
}

static int morph_threads(struct cr_restore_ctx *c, struct cr_rtask *t,
			 struct rt_err **err)
{
	for (size_t i = 1; i < t->n_thr; i++)
		if (create_thread(t, &t->thr[i], err) < 0)
			return -1;
	for (size_t i = 0; i < t->n_thr; i++)
		if (thread_state(t, &t->thr[i], err) < 0)
			return -1;
	return 0;
}

static void release_threads(struct cr_rtask *t)
{
	for (size_t i = 0; i < t->n_thr; i++) {
		free(t->thr[i].xstate);
		t->thr[i].xstate = NULL;
	}
}

static int describe_threads(struct cr_restore_ctx *c, struct cr_rtask *t,
			    struct cr_desc *d, struct rt_err **err)
{
	int ret = load_threads(c, t, err);
	if (ret == 0) {
		cr_desc_str(d, "comm", t->thr[0].comm);
		cr_desc_array(d, "threads");
		for (size_t i = 0; i < t->n_thr; i++) {
			const struct cr_rthread *th = &t->thr[i];
			cr_desc_map(d, NULL);
			cr_desc_int(d, "tid", th->vtid);
			cr_desc_str(d, "comm", th->comm);
			cr_desc_hex(d, "blocked", th->sigmask);
			cr_desc_hex(d, "ip", th->regs.rip);
			cr_desc_hex(d, "sp", th->regs.rsp);
			cr_desc_uint(d, "xstate_size", th->xlen);
			cr_desc_bool(d, "rseq", th->rseq != 0);
			if (th->ss_size)
				cr_desc_hex(d, "altstack", th->ss_sp);
			else
				cr_desc_null(d, "altstack");
			cr_desc_end_map(d);
		}
		cr_desc_end_array(d);
	}
	release_threads(t);
	return ret;
}

const struct cr_resource cr_res_threads = {
	.want = want_threads,
	.name = "threads",
	.dump = dump_threads,
	.prepare = load_threads,
	.morph = morph_threads,
	.release = release_threads,
	.describe = describe_threads,
};
