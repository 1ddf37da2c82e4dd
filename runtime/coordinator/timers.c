/* Interval and POSIX timers (timers-PID.img): the three itimers
 * (getitimer/setitimer, injected) and every POSIX timer of the process
 * (/proc/PID/timers for ids, clocks and notification; timer_gettime,
 * injected, for value and interval).
 *
 * Restore creates the POSIX timers with their dumped ids: with
 * prctl(PR_TIMER_CREATE_RESTORE_IDS) (Linux 6.17+) timer_create takes the
 * id to use from its timer id argument; without it the kernel hands out
 * ids in ascending order from 0 to a new process, so dummy timers fill the
 * gaps and are deleted afterwards. Values are relative: the time the
 * container spent checkpointed does not count, as for the sleeps. Timers
 * are armed late in the morph, with every signal still blocked, so one
 * firing meanwhile only becomes pending. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "coordinator/describe.h"
#include "coordinator/internal.h"
#include "util.h"

#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS	77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF 0
#define PR_TIMER_CREATE_RESTORE_IDS_ON	1
#endif

#define MAX_TIMERS	 4096 /* refuse more than this many POSIX timers */
#define SIGEV_THREAD_ID_ 4    /* glibc hides SIGEV_THREAD_ID */

struct itimer {
	uint32_t which;
	struct itimerval v;
};

struct ptimer {
	int32_t id, clock;
	uint32_t notify, signo, tid; /* tid: a vtid, with SIGEV_THREAD_ID */
	uint64_t value;		     /* sigev_value */
	struct itimerspec spec;
};

struct timers {
	struct itimer it[3];
	size_t n;
	struct ptimer *pt;
};

static void timers_free(struct timers *tm)
{
	if (tm) {
		free(tm->pt);
		free(tm);
	}
}

/* ---- dump ---- */

/* "signal", "none", "thread" (SIGEV_*), then "/pid." or "/tid.". */
static int parse_notify(const char *s, uint32_t *notify, pid_t *pid)
{
	static const char *const kinds[] = {"signal", "none", "thread"};
	char kind[16], who[8];
	if (sscanf(s, "%15[a-z]/%7[a-z].%d", kind, who, pid) != 3)
		return -1;
	for (uint32_t k = 0; k < ARRAY_SIZE(kinds); k++)
		if (strcmp(kind, kinds[k]) == 0) {
			*notify = k | (strcmp(who, "tid") == 0 ? SIGEV_THREAD_ID_ : 0);
			return strcmp(who, "tid") == 0 || strcmp(who, "pid") == 0 ? 0 : -1;
		}
	return -1;
}

/* One "ID:" block of /proc/PID/timers into p; the host tid of a
 * SIGEV_THREAD_ID target into *htid. */
static int parse_timer(const char *b, struct ptimer *p, pid_t *htid)
{
	const char *sig = strstr(b, "\nsignal: "), *notify = strstr(b, "\nnotify: "),
		   *clock = strstr(b, "\nClockID: ");
	unsigned long long value;
	if (sscanf(b, "ID: %d", &p->id) != 1 || !sig || !notify || !clock ||
	    sscanf(sig + 9, "%u/%llx", &p->signo, &value) != 2 ||
	    parse_notify(notify + 9, &p->notify, htid) < 0 ||
	    sscanf(clock + 10, "%d", &p->clock) != 1)
		return -1;
	p->value = value;
	return 0;
}

static pid_t vtid_of(const struct cr_dtask *t, pid_t htid)
{
	for (size_t i = 0; i < t->n_thr; i++)
		if (t->thr[i].htid == htid)
			return t->thr[i].vtid;
	return 0;
}

static int read_ptimers(struct cr_dtask *t, struct timers *tm, struct rt_err **err)
{
	cleanup_free char *buf = NULL;
	if (cr_task_read(t, "timers", &buf, err) < 0)
		return -1;
	for (const char *b = strstr(buf, "ID: "); b; b = strstr(b + 1, "\nID: ")) {
		if (*b == '\n')
			b++;
		struct ptimer p = {0};
		pid_t htid = 0;
		if (tm->n >= MAX_TIMERS || parse_timer(b, &p, &htid) < 0)
			return rt_err_set(err, 0,
					  "pid %d: unreadable /proc/%d/timers "
					  "(timer %zu)",
					  t->hpid, t->hpid, tm->n);
		if (p.clock < 0)
			return rt_err_set(err, EOPNOTSUPP,
					  "pid %d: POSIX timer %d counts "
					  "another task's CPU time (clock %d): not supported",
					  t->hpid, p.id, p.clock);
		if ((p.notify & SIGEV_THREAD_ID_) && !(p.tid = (uint32_t)vtid_of(t, htid)))
			return rt_err_set(err, EOPNOTSUPP,
					  "pid %d: POSIX timer %d signals "
					  "thread %d of another process",
					  t->hpid, p.id, htid);
		if (cr_inj_ok(&t->inj, "timer_gettime", SYS_timer_gettime, p.id, (long)t->scratch,
			      0, 0, 0, 0, NULL, err) < 0 ||
		    cr_mem_read(t->hpid, t->scratch, &p.spec, sizeof(p.spec), err) < 0)
			return rt_err_wrap(err, "POSIX timer %d", p.id);
		tm->pt = xrealloc(tm->pt, (tm->n + 1) * sizeof(*tm->pt));
		tm->pt[tm->n++] = p;
	}
	return 0;
}

static struct cr_qcall getitimer_q(uint32_t which)
{
	return (struct cr_qcall){ SYS_getitimer, { which }, 1, sizeof(struct itimerval) };
}

static void want_timers(struct cr_dump_ctx *c, struct cr_dtask *t)
{
	for (uint32_t w = 0; w < 3; w++) {
		struct cr_qcall q = getitimer_q(w);
		cr_query_want(t, &q);
	}
}

static int read_timers(struct cr_dtask *t, struct timers *tm, struct rt_err **err)
{
	for (uint32_t w = 0; w < 3; w++) {
		struct cr_qcall q = getitimer_q(w);
		tm->it[w].which = w;
		if (cr_query(t, "getitimer", &q, &tm->it[w].v, NULL, err) < 0)
			return rt_err_wrap(err, "itimer %u", w);
	}
	return read_ptimers(t, tm, err);
}

static void put_tv(struct cr_rec *r, const struct timeval *tv)
{
	cr_put_i64(r, tv->tv_sec);
	cr_put_i64(r, tv->tv_usec);
}

static void put_ts(struct cr_rec *r, const struct timespec *ts)
{
	cr_put_i64(r, ts->tv_sec);
	cr_put_i64(r, ts->tv_nsec);
}

static int write_timers(struct cr_img *img, const struct timers *tm, struct rt_err **err)
{
	int ret = 0;
	for (size_t i = 0; i < 3 + tm->n && ret == 0; i++) {
		struct cr_rec r;
		if (i < 3) {
			cr_rec_init(&r, CR_R_ITIMER);
			cr_put_u32(&r, tm->it[i].which);
			put_tv(&r, &tm->it[i].v.it_interval);
			put_tv(&r, &tm->it[i].v.it_value);
		} else {
			const struct ptimer *p = &tm->pt[i - 3];
			cr_rec_init(&r, CR_R_POSIX_TIMER);
			cr_put_u32(&r, (uint32_t)p->id);
			cr_put_u32(&r, (uint32_t)p->clock);
			cr_put_u32(&r, p->notify);
			cr_put_u32(&r, p->signo);
			cr_put_u32(&r, p->tid);
			cr_put_u64(&r, p->value);
			put_ts(&r, &p->spec.it_interval);
			put_ts(&r, &p->spec.it_value);
		}
		ret = cr_img_write(img, &r, err);
		cr_rec_free(&r);
	}
	return ret;
}

static int dump_timers(struct cr_dump_ctx *c, struct cr_dtask *t, struct rt_err **err)
{
	char name[64];
	snprintf(name, sizeof(name), "timers-%d.img", t->vpid);
	struct timers tm = {0};
	struct cr_img *img = NULL;
	int ret = read_timers(t, &tm, err);
	if (ret == 0)
		ret = cr_img_create(c->o->images_dirfd, name, CR_IMG_CORE, &img, err);
	if (ret == 0) {
		ret = write_timers(img, &tm, err);
		if (ret < 0)
			cr_img_abort(img);
		else
			ret = cr_img_close(img, err);
	}
	free(tm.pt);
	return ret;
}

/* ---- load ---- */

static int get_tv(struct cr_rd *r, struct timeval *tv, struct rt_err **err)
{
	int64_t s, us;
	if (cr_get_i64(r, "tv_sec", &s, err) < 0 || cr_get_i64(r, "tv_usec", &us, err) < 0)
		return -1;
	if (s < 0 || us < 0 || us >= 1000000)
		return rt_err_set(err, 0, "record %zu: bad timeval", r->index);
	tv->tv_sec = s;
	tv->tv_usec = us;
	return 0;
}

static int get_ts(struct cr_rd *r, struct timespec *ts, struct rt_err **err)
{
	int64_t s, ns;
	if (cr_get_i64(r, "tv_sec", &s, err) < 0 || cr_get_i64(r, "tv_nsec", &ns, err) < 0)
		return -1;
	if (s < 0 || ns < 0 || ns >= 1000000000)
		return rt_err_set(err, 0, "record %zu: bad timespec", r->index);
	ts->tv_sec = s;
	ts->tv_nsec = ns;
	return 0;
}

static int get_ptimer(struct cr_rd *r, struct ptimer *p, struct rt_err **err)
{
	uint32_t id, clock;
	if (cr_get_u32(r, "id", &id, err) < 0 || cr_get_u32(r, "clock", &clock, err) < 0 ||
	    cr_get_u32(r, "notify", &p->notify, err) < 0 ||
	    cr_get_u32(r, "signo", &p->signo, err) < 0 || cr_get_u32(r, "tid", &p->tid, err) < 0 ||
	    cr_get_u64(r, "value", &p->value, err) < 0 ||
	    get_ts(r, &p->spec.it_interval, err) < 0 || get_ts(r, &p->spec.it_value, err) < 0 ||
	    cr_rd_done(r, err) < 0)
		return -1;
	p->id = (int32_t)id;
	p->clock = (int32_t)clock;
	if (p->id < 0 || p->clock < 0 || p->signo > CR_NSIG || (p->notify & ~7u))
		return rt_err_set(err, 0, "record %zu: bad POSIX timer", r->index);
	return 0;
}

static int load_timers(struct cr_restore_ctx *c, struct cr_rtask *t, struct timers **out,
		       struct rt_err **err)
{
	char name[64];
	snprintf(name, sizeof(name), "timers-%d.img", t->vpid);
	cleanup_img struct cr_img *img = NULL;
	struct timers *tm = xcalloc(1, sizeof(*tm));
	*out = tm;
	if (cr_img_open(c->o->images_dirfd, name, CR_IMG_CORE, &img, err) < 0)
		return -1;
	for (uint32_t w = 0; w < 3; w++) {
		struct cr_rd r;
		if (cr_img_expect(img, CR_R_ITIMER, &r, err) < 0 ||
		    cr_get_u32(&r, "which", &tm->it[w].which, err) < 0 ||
		    get_tv(&r, &tm->it[w].v.it_interval, err) < 0 ||
		    get_tv(&r, &tm->it[w].v.it_value, err) < 0 || cr_rd_done(&r, err) < 0)
			return rt_err_wrap(err, "'%s'", name);
		if (tm->it[w].which != w)
			return rt_err_set(err, 0, "'%s': itimer %u where %u was expected", name,
					  tm->it[w].which, w);
	}
	for (;;) {
		struct cr_rd r;
		int k = cr_img_next(img, &r, err);
		if (k <= 0)
			return k;
		if (r.type != CR_R_POSIX_TIMER || tm->n >= MAX_TIMERS)
			return rt_err_set(err, 0, "'%s': unexpected record %zu", name, r.index);
		tm->pt = xrealloc(tm->pt, (tm->n + 1) * sizeof(*tm->pt));
		memset(&tm->pt[tm->n], 0, sizeof(tm->pt[0]));
		if (get_ptimer(&r, &tm->pt[tm->n++], err) < 0)
			return rt_err_wrap(err, "'%s'", name);
	}
}

/* ---- restore ---- */

/* The kernel's struct sigevent (64 bytes) for timer p. */
static void make_sigevent(const struct ptimer *p, uint8_t ev[64])
{
	int32_t signo = (int32_t)p->signo, notify = (int32_t)p->notify, tid = (int32_t)p->tid;
	memset(ev, 0, 64);
	memcpy(ev, &p->value, 8);
	memcpy(ev + 8, &signo, 4);
	memcpy(ev + 12, &notify, 4);
	memcpy(ev + 16, &tid, 4);
}

/* timer_create with the id written at helper + 64; the id we got. */
static int create_one(struct cr_rtask *t, const struct ptimer *p, int32_t want, int32_t *got,
		      struct rt_err **err)
{
	uint8_t ev[64];
	make_sigevent(p, ev);
	if (cr_mem_write(t->hpid, t->helper, ev, sizeof(ev), err) < 0 ||
	    cr_mem_write(t->hpid, t->helper + 64, &want, sizeof(want), err) < 0 ||
	    cr_inj_ok(&t->inj, "timer_create", SYS_timer_create, p->clock, (long)t->helper,
		      (long)t->helper + 64, 0, 0, 0, NULL, err) < 0 ||
	    cr_mem_read(t->hpid, t->helper + 64, got, sizeof(*got), err) < 0)
		return rt_err_wrap(err, "POSIX timer %d (clock %d)", p->id, p->clock);
	return 0;
}

static int by_id(const void *a, const void *b)
{
	const struct ptimer *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

/* Every timer not in the image: the gap fillers of create_sequential. */
static int delete_dummies(struct cr_rtask *t, const struct timers *tm, struct rt_err **err)
{
	for (size_t i = 0; i < tm->n; i++)
		for (int32_t id = i ? tm->pt[i - 1].id + 1 : 0; id < tm->pt[i].id; id++)
			if (cr_inj_ok(&t->inj, "delete a placeholder timer", SYS_timer_delete, id,
				      0, 0, 0, 0, 0, NULL, err) < 0)
				return -1;
	return 0;
}

/* Without PR_TIMER_CREATE_RESTORE_IDS: a new process gets ids 0, 1, 2...
 * in order, so create in id order; a timer created with a lower id than
 * wanted fills a gap and is deleted at the end. */
static int create_sequential(struct cr_rtask *t, struct timers *tm, struct rt_err **err)
{
	qsort(tm->pt, tm->n, sizeof(*tm->pt), by_id);
	for (size_t i = 0; i < tm->n; i++) {
		int32_t got = -1;
		while (got != tm->pt[i].id) {
			if (create_one(t, &tm->pt[i], 0, &got, err) < 0)
				return -1;
			if (got > tm->pt[i].id)
				return rt_err_set(err, EEXIST,
						  "POSIX timer %d: the kernel gave "
						  "id %d, and this kernel has no "
						  "PR_TIMER_CREATE_RESTORE_IDS",
						  tm->pt[i].id, got);
		}
	}
	return delete_dummies(t, tm, err);
}

static int create_ptimers(struct cr_rtask *t, struct timers *tm, struct rt_err **err)
{
	long r;
	if (tm->n == 0)
		return 0;
	if (cr_inj_call(&t->inj, SYS_prctl, PR_TIMER_CREATE_RESTORE_IDS,
			PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0, 0, &r, err) < 0)
		return -1;
	if (r == -EINVAL)
		return create_sequential(t, tm, err);
	if (r < 0)
		return rt_err_set(err, (int)-r, "pid %d: PR_TIMER_CREATE_RESTORE_IDS", t->vpid);
	for (size_t i = 0; i < tm->n; i++) {
		int32_t got = -1;
		if (create_one(t, &tm->pt[i], tm->pt[i].id, &got, err) < 0)
			return -1;
		if (got != tm->pt[i].id)
			return rt_err_set(err, EEXIST, "POSIX timer %d was created as %d",
					  tm->pt[i].id, got);
	}
	return cr_inj_ok(&t->inj, "PR_TIMER_CREATE_RESTORE_IDS off", SYS_prctl,
			 PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0, 0,
			 NULL, err);
}

/* A task starts with no interval timer (fork does not pass them on), so
 * one with neither a value nor an interval needs no setitimer.
 *
 * An ITIMER_REAL with no value but an interval has expired while its
 * SIGALRM waits (blocked, say): the kernel re-arms it from the interval
 * when that signal is taken. setitimer() cannot say that (a zero value
 * drops the interval), so it is armed to expire at once: its SIGALRM
 * merges with the pending one (restored before, by signals.c), and the
 * timer is left expired with its interval, as it was. */
static int arm_timers(struct cr_rtask *t, const struct timers *tm, struct rt_err **err)
{
	for (size_t i = 0; i < 3; i++) {
		struct itimerval v = tm->it[i].v;
		bool no_value = !v.it_value.tv_sec && !v.it_value.tv_usec;
		bool no_interval = !v.it_interval.tv_sec && !v.it_interval.tv_usec;
		if (no_value && no_interval)
			continue;
		if (no_value && tm->it[i].which == ITIMER_REAL)
			v.it_value.tv_usec = 1;
		if (cr_mem_write(t->hpid, t->helper, &v, sizeof(v), err) < 0 ||
		    cr_inj_ok(&t->inj, "setitimer", SYS_setitimer, tm->it[i].which, (long)t->helper,
			      0, 0, 0, 0, NULL, err) < 0)
			return rt_err_wrap(err, "itimer %u", tm->it[i].which);
	}
	for (size_t i = 0; i < tm->n; i++)
		if (cr_mem_write(t->hpid, t->helper, &tm->pt[i].spec, sizeof(tm->pt[i].spec), err) <
			    0 ||
		    cr_inj_ok(&t->inj, "timer_settime", SYS_timer_settime, tm->pt[i].id, 0,
			      (long)t->helper, 0, 0, 0, NULL, err) < 0)
			return rt_err_wrap(err, "POSIX timer %d", tm->pt[i].id);
	return 0;
}

static int morph_timers(struct cr_restore_ctx *c, struct cr_rtask *t, struct rt_err **err)
{
	struct timers *tm = NULL;
	int ret = load_timers(c, t, &tm, err);
	if (ret == 0)
		ret = create_ptimers(t, tm, err);
	if (ret == 0)
		ret = arm_timers(t, tm, err);
	timers_free(tm);
	return ret;
}

/* ---- inspect ---- */

static double tv_secs(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static double ts_secs(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

static void describe_ptimer(struct cr_desc *d, const struct ptimer *p)
{
	static const char *const kinds[] = {"signal", "none", "thread"};
	char buf[16];
	cr_desc_map(d, NULL);
	cr_desc_int(d, "id", p->id);
	cr_desc_int(d, "clock", p->clock);
	cr_desc_str(d, "notify", (p->notify & 3) < 3 ? kinds[p->notify & 3] : "?");
	if (p->notify & SIGEV_THREAD_ID_)
		cr_desc_int(d, "tid", p->tid);
	if ((p->notify & 3) != SIGEV_NONE)
		cr_desc_str(d, "signal", cr_signal_name((int)p->signo, buf));
	cr_desc_hex(d, "value", p->value);
	cr_desc_strf(d, "interval", "%.6f", ts_secs(&p->spec.it_interval));
	cr_desc_strf(d, "remaining", "%.6f", ts_secs(&p->spec.it_value));
	cr_desc_end_map(d);
}

static int describe_timers(struct cr_restore_ctx *c, struct cr_rtask *t, struct cr_desc *d,
			   struct rt_err **err)
{
	static const char *const names[3] = {"real", "virtual", "prof"};
	struct timers *tm = NULL;
	int ret = load_timers(c, t, &tm, err);
	if (ret == 0) {
		cr_desc_map(d, "timers");
		cr_desc_map(d, "itimers");
		for (int i = 0; i < 3; i++) {
			cr_desc_map(d, names[i]);
			cr_desc_strf(d, "interval", "%.6f", tv_secs(&tm->it[i].v.it_interval));
			cr_desc_strf(d, "remaining", "%.6f", tv_secs(&tm->it[i].v.it_value));
			cr_desc_end_map(d);
		}
		cr_desc_end_map(d);
		cr_desc_array(d, "posix");
		for (size_t i = 0; i < tm->n; i++)
			describe_ptimer(d, &tm->pt[i]);
		cr_desc_end_array(d);
		cr_desc_end_map(d);
	}
	timers_free(tm);
	return ret;
}

const struct cr_resource cr_res_timers = {
	.want = want_timers,
	.name = "timers",
	.dump = dump_timers,
	.morph = morph_timers,
	.describe = describe_timers,
};
