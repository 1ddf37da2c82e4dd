/* ptrace helpers and single-syscall injection.
 *
 * A syscall is injected by pointing rip at a `syscall` instruction that
 * already exists in the tracee (inside its vDSO, which we never write) and
 * stepping with PTRACE_SYSCALL to the syscall-exit stop. No code is poked
 * and no int3 is raised, so no signal is generated in the tracee: a forced
 * SIGTRAP would reset a blocked or ignored SIGTRAP handler. Callers block
 * every signal (PTRACE_SETSIGMASK) first, so nothing is delivered between
 * the stops. */
#include <elf.h>
#include <linux/userfaultfd.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coordinator/internal.h"
#include "util.h"

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1 /* Linux 5.11, missing from Debian 12's headers */
#endif

#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

int cr_seize(pid_t tid, unsigned long options, struct rt_err **err)
{
	if (ptrace(PTRACE_SEIZE, tid, 0, options) < 0)
		return rt_err_set(err, errno, "pid %d: PTRACE_SEIZE", tid);
	return 0;
}

int cr_wait_stop(pid_t tid, int *status, struct rt_err **err)
{
	for (;;) {
		pid_t r = waitpid(tid, status, __WALL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return rt_err_set(err, errno, "pid %d: wait for a ptrace stop", tid);
		if (WIFSTOPPED(*status))
			return 0;
		if (WIFEXITED(*status))
			return rt_err_set(err, ESRCH, "pid %d exited with %d while traced",
					  tid, WEXITSTATUS(*status));
		return rt_err_set(err, ESRCH, "pid %d was killed by signal %d while traced",
				  tid, WTERMSIG(*status));
	}
}

int cr_interrupt_wait(pid_t tid, struct rt_err **err)
{
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
		return rt_err_set(err, errno, "pid %d: PTRACE_INTERRUPT", tid);
	for (;;) {
		int st;
		if (cr_wait_stop(tid, &st, err) < 0)
			return -1;
		if ((st >> 16) == PTRACE_EVENT_STOP)
			return 0;
		/* A signal-delivery stop first: keep the signal pending for
		 * the task (it is re-raised when we let it go). */
		int sig = WSTOPSIG(st);
		if (ptrace(PTRACE_CONT, tid, 0, sig) < 0)
			return rt_err_set(err, errno, "pid %d: PTRACE_CONT", tid);
		if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
			return rt_err_set(err, errno, "pid %d: PTRACE_INTERRUPT", tid);
	}
}

/* Any order, not a fixed one: the last thread of a pid namespace's init
 * waits in the kernel (zap_pid_ns_processes) until every other task of the
 * namespace is reaped, our tracees included, and cannot be reaped before. */
void cr_reap_tracees(const pid_t *tids, size_t n, int timeout_ms)
{
	bool *done = xcalloc(n ? n : 1, sizeof(*done));
	size_t left = n;
	uint64_t end = cr_now_us() + (uint64_t)timeout_ms * 1000;
	/* a dying tree is gone in a few ms: look often at first */
	useconds_t nap = 50;
	while (left > 0) {
		for (size_t i = 0; i < n; i++) {
			if (done[i])
				continue;
			pid_t r = waitpid(tids[i], NULL, __WALL | WNOHANG);
			if (r == tids[i] || (r < 0 && errno == ECHILD)) {
				done[i] = true;
				left--;
			}
		}
		if (left == 0 || cr_now_us() > end)
			break;
		usleep(nap);
		nap = nap < 1000 ? 2 * nap : 1000;
	}
	free(done);
}

int cr_getregs(pid_t tid, struct user_regs_struct *r, struct rt_err **err)
{
	struct iovec iov = { r, sizeof(*r) };
	if (ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, &iov) < 0)
		return rt_err_set(err, errno, "pid %d: read registers", tid);
	return 0;
}

int cr_setregs(pid_t tid, const struct user_regs_struct *r, struct rt_err **err)
{
	struct iovec iov = { (void *)r, sizeof(*r) };
	if (ptrace(PTRACE_SETREGSET, tid, NT_PRSTATUS, &iov) < 0)
		return rt_err_set(err, errno, "pid %d: set registers", tid);
	return 0;
}

int cr_get_xstate(pid_t tid, uint8_t *buf, size_t *len, struct rt_err **err)
{
	struct iovec iov = { buf, CR_XSTATE_MAX };
	if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov) < 0)
		return rt_err_set(err, errno, "pid %d: read the FPU/xstate", tid);
	*len = iov.iov_len;
	return 0;
}

int cr_set_xstate(pid_t tid, const uint8_t *buf, size_t len, struct rt_err **err)
{
	struct iovec iov = { (void *)buf, len };
	if (ptrace(PTRACE_SETREGSET, tid, NT_X86_XSTATE, &iov) < 0)
		return rt_err_set(err, errno, "pid %d: set the FPU/xstate (%zu bytes)",
				  tid, len);
	return 0;
}

int cr_get_sigmask(pid_t tid, uint64_t *mask, struct rt_err **err)
{
	if (ptrace(PTRACE_GETSIGMASK, tid, sizeof(*mask), mask) < 0)
		return rt_err_set(err, errno, "pid %d: read the signal mask", tid);
	return 0;
}

int cr_set_sigmask(pid_t tid, uint64_t mask, struct rt_err **err)
{
	if (ptrace(PTRACE_SETSIGMASK, tid, sizeof(mask), &mask) < 0)
		return rt_err_set(err, errno, "pid %d: set the signal mask", tid);
	return 0;
}

int cr_inj_init(struct cr_inj *j, pid_t tid, unsigned long gadget,
		struct rt_err **err)
{
	j->tid = tid;
	j->gadget = gadget;
	j->new_tid = 0;
	return cr_getregs(tid, &j->base, err);
}

/* Resume with PTRACE_SYSCALL until the next syscall stop; an injected
 * clone3 reports PTRACE_EVENT_CLONE on the way. */
static int step_to_syscall_stop(struct cr_inj *j, struct rt_err **err)
{
	for (;;) {
		int st;
		if (ptrace(PTRACE_SYSCALL, j->tid, 0, 0) < 0)
			return rt_err_set(err, errno, "pid %d: PTRACE_SYSCALL", j->tid);
		if (cr_wait_stop(j->tid, &st, err) < 0)
			return -1;
		if (WSTOPSIG(st) == (SIGTRAP | 0x80))
			return 0;
		if ((st >> 8) == (SIGTRAP | (PTRACE_EVENT_CLONE << 8))) {
			unsigned long msg = 0;
			ptrace(PTRACE_GETEVENTMSG, j->tid, 0, &msg);
			j->new_tid = (pid_t)msg;
			continue;
		}
		if ((st >> 16) == PTRACE_EVENT_STOP)
			continue;
		return rt_err_set(err, 0, "pid %d: unexpected stop %#x during an "
				  "injected syscall (signal %d)", j->tid, st,
				  WSTOPSIG(st));
	}
}

int cr_inj_call(struct cr_inj *j, long nr, long a0, long a1, long a2, long a3,
		long a4, long a5, long *ret, struct rt_err **err)
{
	struct user_regs_struct r = j->base;
	r.rip = j->gadget;
	r.rax = (unsigned long)nr;
	r.orig_rax = (unsigned long)-1;
	r.rdi = (unsigned long)a0;
	r.rsi = (unsigned long)a1;
	r.rdx = (unsigned long)a2;
	r.r10 = (unsigned long)a3;
	r.r8 = (unsigned long)a4;
	r.r9 = (unsigned long)a5;
	if (cr_setregs(j->tid, &r, err) < 0)
		return -1;
	if (step_to_syscall_stop(j, err) < 0) /* entry */
		return -1;
	if (step_to_syscall_stop(j, err) < 0) /* exit */
		return -1;
	if (cr_getregs(j->tid, &r, err) < 0)
		return -1;
	*ret = (long)r.rax;
	return 0;
}

/* ---- many syscalls in one resume ----
 *
 * A 64-byte loop copied into an executable area of the tracee runs a table
 * of syscalls with one PTRACE_CONT instead of two ptrace stops each, and
 * ends with int3. That raises a SIGTRAP, which we swallow at its
 * signal-delivery stop. The loop runs with SIGTRAP unblocked (every other
 * signal stays blocked, as injection needs): a SIGTRAP forced while
 * blocked or ignored resets the handler to SIG_DFL, and only the ignored
 * case is left. So a restore uses it before the task's signal handlers
 * are restored (its memory layout, mem-restore.c), and a dump only where
 * no SIGTRAP is pending (ours would stand in for it and be dropped) and
 * an ignored SIGTRAP is put back (query.c) or not there (mem.c).
 *
 * Table entry (64 bytes): nr, a0..a5, result. r12 walks the table, r13
 * counts down; the loop stops at the first result in -4095..-1. */
static const uint8_t batch_code[CR_BATCH_CODE] = {
	0x4d, 0x85, 0xed,             /* 1: test %r13,%r13 */
	0x74, 0x3a,                   /*    je 2f */
	0x49, 0x8b, 0x04, 0x24,       /*    mov (%r12),%rax */
	0x49, 0x8b, 0x7c, 0x24, 0x08, /*    mov 0x8(%r12),%rdi */
	0x49, 0x8b, 0x74, 0x24, 0x10, /*    mov 0x10(%r12),%rsi */
	0x49, 0x8b, 0x54, 0x24, 0x18, /*    mov 0x18(%r12),%rdx */
	0x4d, 0x8b, 0x54, 0x24, 0x20, /*    mov 0x20(%r12),%r10 */
	0x4d, 0x8b, 0x44, 0x24, 0x28, /*    mov 0x28(%r12),%r8 */
	0x4d, 0x8b, 0x4c, 0x24, 0x30, /*    mov 0x30(%r12),%r9 */
	0x0f, 0x05,                   /*    syscall */
	0x49, 0x89, 0x44, 0x24, 0x38, /*    mov %rax,0x38(%r12) */
	0x48, 0x3d, 0x01, 0xf0, 0xff, 0xff, /* cmp $-4095,%rax */
	0x73, 0x09,                   /*    jae 2f */
	0x49, 0x83, 0xc4, 0x40,       /*    add $0x40,%r12 */
	0x49, 0xff, 0xcd,             /*    dec %r13 */
	0xeb, 0xc1,                   /*    jmp 1b */
	0xcc,                         /* 2: int3 */
};

void cr_batch_add(struct cr_batch *b, long nr, long a0, long a1, long a2, long a3, long a4,
		  long a5, char *what)
{
	b->calls = xrealloc(b->calls, (b->n + 1) * sizeof(*b->calls));
	b->calls[b->n++] = (struct cr_bcall){ nr, { a0, a1, a2, a3, a4, a5 }, what };
}

void cr_batch_free(struct cr_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->calls[i].what);
	free(b->calls);
	b->calls = NULL;
	b->n = 0;
}

/* Resume until the loop's int3; an interrupt's event stop is not it. */
static int cont_to_trap(struct cr_inj *j, struct rt_err **err)
{
	for (;;) {
		int st;
		if (ptrace(PTRACE_CONT, j->tid, 0, 0) < 0)
			return rt_err_set(err, errno, "pid %d: PTRACE_CONT", j->tid);
		if (cr_wait_stop(j->tid, &st, err) < 0)
			return -1;
		if (WSTOPSIG(st) == SIGTRAP && (st >> 16) == 0)
			return 0;
		if ((st >> 16) == PTRACE_EVENT_STOP)
			continue;
		return rt_err_set(err, 0, "pid %d: stop %#x (signal %d) in the injected "
				  "syscall loop", j->tid, st, WSTOPSIG(st));
	}
}

/* SIGTRAP is unblocked for the loop only (see above). */
int cr_batch_exec(struct cr_inj *j, unsigned long area, const struct cr_bcall *c, size_t n,
		  long *results, size_t *done, struct rt_err **err)
{
	cleanup_free uint64_t *tab = xcalloc(n ? n : 1, 64);
	for (size_t i = 0; i < n; i++) {
		tab[i * 8] = (uint64_t)c[i].nr;
		for (int k = 0; k < 6; k++)
			tab[i * 8 + 1 + k] = (uint64_t)c[i].a[k];
	}
	struct user_regs_struct r = j->base;
	r.rip = area;
	r.orig_rax = (unsigned long)-1;
	r.r12 = area + CR_BATCH_CODE;
	r.r13 = n;
	if (cr_mem_write(j->tid, area, batch_code, sizeof(batch_code), err) < 0 ||
	    cr_mem_write(j->tid, area + CR_BATCH_CODE, tab, n * 64, err) < 0 ||
	    cr_setregs(j->tid, &r, err) < 0 ||
	    cr_set_sigmask(j->tid, ~0ull & ~(1ull << (SIGTRAP - 1)), err) < 0 ||
	    cont_to_trap(j, err) < 0 ||
	    cr_set_sigmask(j->tid, ~0ull, err) < 0 || cr_getregs(j->tid, &r, err) < 0 ||
	    cr_mem_read(j->tid, area + CR_BATCH_CODE, tab, n * 64, err) < 0)
		return -1;
	*done = n - r.r13;
	if (*done > n || r.rip != area + CR_BATCH_CODE)
		return rt_err_set(err, EIO, "pid %d: the injected syscall loop stopped at "
				  "%#llx after %zu of %zu calls", j->tid, r.rip, *done, n);
	for (size_t i = 0; i < n && i <= *done; i++)
		results[i] = (long)tab[i * 8 + 7];
	return 0;
}

int cr_batch_run(struct cr_inj *j, unsigned long area, size_t area_len, struct cr_batch *b,
		 struct rt_err **err)
{
	size_t cap = (area_len - CR_BATCH_CODE) / 64, pos = 0;
	cleanup_free long *res = xcalloc(cap, sizeof(long));
	int ret = 0;
	while (ret == 0 && pos < b->n) {
		size_t n = b->n - pos < cap ? b->n - pos : cap, done;
		ret = cr_batch_exec(j, area, b->calls + pos, n, res, &done, err);
		if (ret == 0 && done < n)
			ret = rt_err_set(err, (int)-res[done], "pid %d: %s", j->tid,
					 b->calls[pos + done].what);
		pos += n;
	}
	cr_batch_free(b);
	return ret;
}

int cr_inj_userfaultfd(struct cr_inj *j, pid_t pid, uint64_t features, int *fd,
		       struct rt_err **err)
{
	long tfd;
	*fd = -1;
	/* user-mode-only needs no privilege (vm.unprivileged_userfaultfd=0) */
	if (cr_inj_call(j, SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY, 0, 0, 0,
			0, 0, &tfd, err) < 0)
		return -1;
	if (tfd < 0)
		return 0;
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int ours = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, (int)tfd, 0);
	if (cr_inj_ok(j, "close the userfaultfd", SYS_close, tfd, 0, 0, 0, 0, 0, NULL, err) < 0) {
		if (ours >= 0)
			close(ours);
		return -1;
	}
	struct uffdio_api api = {.api = UFFD_API, .features = features};
	if (ours >= 0 && ioctl(ours, UFFDIO_API, &api) < 0) {
		close(ours);
		ours = -1;
	}
	*fd = ours;
	return 0;
}

int cr_inj_ok(struct cr_inj *j, const char *what, long nr, long a0, long a1,
	      long a2, long a3, long a4, long a5, long *ret, struct rt_err **err)
{
	long r;
	if (cr_inj_call(j, nr, a0, a1, a2, a3, a4, a5, &r, err) < 0)
		return rt_err_wrap(err, "%s", what);
	if (r < 0 && r > -4096)
		return rt_err_set(err, (int)-r, "pid %d: %s", j->tid, what);
	if (ret)
		*ret = r;
	return 0;
}

static int mem_fd(pid_t pid, int flags, struct rt_err **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return rt_err_set(err, errno, "open '%s'", path);
	return fd;
}

/* While a dump runs (cr_mem_keep), the last task's /proc/PID/mem stays
 * open in this thread: its tasks stay the same processes throughout, and
 * each open costs a /proc lookup. */
static __thread struct {
	bool on;
	pid_t pid;
	int fd;
} kept = { .fd = -1 };

void cr_mem_keep(bool on)
{
	if (kept.fd >= 0)
		close(kept.fd);
	kept.fd = -1;
	kept.pid = 0;
	kept.on = on;
}

/* An fd for pid's memory: the kept one (*own = -1), or one of its own the
 * caller closes (*own = fd). */
static int mem_fd_for(pid_t pid, int flags, int *own, struct rt_err **err)
{
	*own = -1;
	if (!kept.on)
		return *own = mem_fd(pid, flags, err);
	if (kept.fd < 0 || kept.pid != pid) {
		cr_mem_keep(true);
		if ((kept.fd = mem_fd(pid, O_RDWR, err)) < 0)
			return -1;
		kept.pid = pid;
	}
	return kept.fd;
}

int cr_mem_write(pid_t pid, unsigned long addr, const void *p, size_t n,
		 struct rt_err **err)
{
	cleanup_close int own = -1;
	int fd = mem_fd_for(pid, O_WRONLY, &own, err);
	if (fd < 0)
		return -1;
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)addr);
		if (w <= 0)
			return rt_err_set(err, w < 0 ? errno : EIO,
					  "pid %d: write memory at %#lx", pid, addr);
		p = (const char *)p + w;
		addr += (unsigned long)w;
		n -= (size_t)w;
	}
	return 0;
}

int cr_mem_read(pid_t pid, unsigned long addr, void *p, size_t n,
		struct rt_err **err)
{
	cleanup_close int own = -1;
	int fd = mem_fd_for(pid, O_RDONLY, &own, err);
	if (fd < 0)
		return -1;
	while (n > 0) {
		ssize_t r = pread(fd, p, n, (off_t)addr);
		if (r <= 0)
			return rt_err_set(err, r < 0 ? errno : EIO,
					  "pid %d: read memory at %#lx", pid, addr);
		p = (char *)p + r;
		addr += (unsigned long)r;
		n -= (size_t)r;
	}
	return 0;
}

static bool in_restart(const struct user_regs_struct *r)
{
	long rax = (long)r->rax;
	return (long)r->orig_rax >= 0 &&
	       (rax == -ERESTARTSYS || rax == -ERESTARTNOINTR ||
		rax == -ERESTARTNOHAND || rax == -ERESTART_RESTARTBLOCK);
}

/* A relative nanosleep or clock_nanosleep interrupted with a `rem`
 * pointer: the kernel wrote the time left there when we stopped it, and
 * the memory dump carries it. Re-issuing the call with req = rem sleeps
 * exactly that long, which is what its restart block would have done.
 * The req argument register then holds rem: the kernel preserves argument
 * registers, but no caller reads req back after the call. Absolute sleeps
 * never get here (they restart with -ERESTARTNOHAND). */
static bool reissue_sleep(struct user_regs_struct *r)
{
	if (r->orig_rax == SYS_nanosleep && r->rsi != 0) {
		r->rdi = r->rsi;
	} else if (r->orig_rax == SYS_clock_nanosleep && r->r10 != 0 &&
		   !(r->rsi & TIMER_ABSTIME)) {
		r->rdx = r->r10;
	} else {
		return false;
	}
	r->rax = r->orig_rax;
	r->rip -= 2;
	return true;
}

/* A relative sleep is re-issued here too rather than continued through
 * restart_syscall: a later dump of the task (after a pre-dump or
 * --leave-running) then still sees the sleep, not a restart_syscall it
 * could only turn into -EINTR. */
bool cr_regs_reissue_sleep(struct user_regs_struct *r)
{
	if (!in_restart(r) || (long)r->rax != -ERESTART_RESTARTBLOCK || !reissue_sleep(r))
		return false;
	r->orig_rax = (unsigned long)-1;
	return true;
}

void cr_regs_for_resume(struct user_regs_struct *r)
{
	if (cr_regs_reissue_sleep(r))
		return;
	if (in_restart(r)) {
		r->rax = (long)r->rax == -ERESTART_RESTARTBLOCK ? SYS_restart_syscall
							       : r->orig_rax;
		r->rip -= 2;
	}
	r->orig_rax = (unsigned long)-1;
}

/* -ERESTART_RESTARTBLOCK keeps its state in the kernel's restart block,
 * which a new task does not have: sleeps with a rem pointer are re-issued
 * (reissue_sleep); every other such call (a futex wait or poll with a
 * timeout, a sleep without rem, a call already restarted through
 * restart_syscall) returns -EINTR, as CRIU does. */
void cr_regs_for_new_task(struct user_regs_struct *r)
{
	if (in_restart(r)) {
		if ((long)r->rax == -ERESTART_RESTARTBLOCK) {
			if (!reissue_sleep(r))
				r->rax = (unsigned long)-EINTR;
		} else {
			r->rax = r->orig_rax;
			r->rip -= 2;
		}
	}
	r->orig_rax = (unsigned long)-1;
}
