/* timerfds: clock, settime flags, armed time and interval (timerfd_gettime
 * on our duplicate), and expirations not read yet (fdinfo "ticks").
 *
 * Restore re-arms: a CLOCK_REALTIME timer at the same wall-clock deadline
 * (absolute), the others with the time that was left at the dump (the
 * checkpointed time does not count: a timer never fires early). Unread
 * expirations come back with TFD_IOC_SET_TICKS. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "coordinator/fdkind.h"
#include "util.h"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif
#ifndef TFD_TIMER_CANCEL_ON_SET
#define TFD_TIMER_CANCEL_ON_SET (1 << 1)
#endif

struct tfd {
	uint32_t clockid, settime_flags;
	uint64_t ticks;
	struct itimerspec cur; /* relative, as timerfd_gettime gives it */
	struct timespec dumped_at; /* clockid's time at the dump */
};

static bool match_timerfd(const char *link, const struct stat *sb)
{
	(void)sb;
	return strcmp(link, "anon_inode:[timerfd]") == 0;
}

static void put_ts(struct cr_rec *r, const struct timespec *t)
{
	cr_put_i64(r, t->tv_sec);
	cr_put_i64(r, t->tv_nsec);
}

static int get_ts(struct cr_rd *r, struct timespec *t, struct rt_err **err)
{
	int64_t s, ns;
	if (cr_get_i64(r, "sec", &s, err) < 0 || cr_get_i64(r, "nsec", &ns, err) < 0)
		return -1;
	if (s < 0 || ns < 0 || ns >= 1000000000)
		return rt_err_set(err, 0, "bad time %lld.%09lld", (long long)s, (long long)ns);
	t->tv_sec = s;
	t->tv_nsec = ns;
	return 0;
}

static int dump_timerfd(struct cr_fd_dump *d, struct cr_rec *r, struct rt_err **err)
{
	cleanup_free char *info = NULL;
	struct itimerspec cur;
	struct timespec now;
	if (cr_fdinfo(d->hpid, d->fd, &info, err) < 0)
		return -1;
	const char *clk = cr_status_field(info, "clockid"), *ticks = cr_status_field(info, "ticks");
	const char *fl = cr_status_field(info, "settime flags");
	if (!clk || !ticks || !fl)
		return rt_err_set(err, 0, "pid %d fd %d: unreadable timerfd fdinfo", d->hpid,
				  d->fd);
	clockid_t id = atoi(clk);
	if (timerfd_gettime(d->dup, &cur) < 0 || clock_gettime(id, &now) < 0)
		return rt_err_set(err, errno, "pid %d fd %d: read the timerfd", d->hpid, d->fd);
	cr_put_u32(r, (uint32_t)id);
	cr_put_u32(r, (uint32_t)strtoul(fl, NULL, 8));
	cr_put_u64(r, strtoull(ticks, NULL, 10));
	put_ts(r, &cur.it_value);
	put_ts(r, &cur.it_interval);
	put_ts(r, &now);
	return 0;
}

static int load_timerfd(struct cr_rd *r, struct cr_rfile *f, struct rt_err **err)
{
	struct tfd *t = xcalloc(1, sizeof(*t));
	f->priv = t;
	if (cr_get_u32(r, "clockid", &t->clockid, err) < 0 ||
	    cr_get_u32(r, "settime flags", &t->settime_flags, err) < 0 ||
	    cr_get_u64(r, "ticks", &t->ticks, err) < 0 || get_ts(r, &t->cur.it_value, err) < 0 ||
	    get_ts(r, &t->cur.it_interval, err) < 0 || get_ts(r, &t->dumped_at, err) < 0)
		return -1;
	return 0;
}

static bool realtime(clockid_t id)
{
	return id == CLOCK_REALTIME || id == CLOCK_REALTIME_ALARM;
}

static int open_timerfd(struct cr_restore_ctx *c, struct cr_rfile *f, struct rt_err **err)
{
	(void)c;
	const struct tfd *t = f->priv;
	f->fd = timerfd_create((clockid_t)t->clockid, TFD_CLOEXEC);
	if (f->fd < 0)
		return rt_err_set(err, errno, "create on clock %u", t->clockid);
	struct itimerspec v = t->cur;
	int flags = 0;
	if (realtime((clockid_t)t->clockid) && (v.it_value.tv_sec || v.it_value.tv_nsec)) {
		flags = TFD_TIMER_ABSTIME | (int)(t->settime_flags & TFD_TIMER_CANCEL_ON_SET);
		v.it_value.tv_sec += t->dumped_at.tv_sec;
		v.it_value.tv_nsec += t->dumped_at.tv_nsec;
		if (v.it_value.tv_nsec >= 1000000000) {
			v.it_value.tv_sec++;
			v.it_value.tv_nsec -= 1000000000;
		}
	}
	if ((v.it_value.tv_sec || v.it_value.tv_nsec) && timerfd_settime(f->fd, flags, &v, NULL) < 0)
		return rt_err_set(err, errno, "arm");
	if (t->ticks && ioctl(f->fd, TFD_IOC_SET_TICKS, &t->ticks) < 0)
		return rt_err_set(err, errno, "set %llu expirations", (unsigned long long)t->ticks);
	if (fcntl(f->fd, F_SETFL, (int)f->flags) < 0)
		return rt_err_set(err, errno, "set flags %#o", f->flags);
	return 0;
}

static void describe_timerfd(const struct cr_rfile *f, struct cr_desc *d)
{
	const struct tfd *t = f->priv;
	static const char *const clocks[] = { [CLOCK_REALTIME] = "CLOCK_REALTIME",
					      [CLOCK_MONOTONIC] = "CLOCK_MONOTONIC",
					      [CLOCK_BOOTTIME] = "CLOCK_BOOTTIME",
					      [CLOCK_REALTIME_ALARM] = "CLOCK_REALTIME_ALARM",
					      [CLOCK_BOOTTIME_ALARM] = "CLOCK_BOOTTIME_ALARM" };
	if (t->clockid < ARRAY_SIZE(clocks) && clocks[t->clockid])
		cr_desc_str(d, "clock", clocks[t->clockid]);
	else
		cr_desc_int(d, "clock", t->clockid);
	cr_desc_strf(d, "value", "%lld.%09ld", (long long)t->cur.it_value.tv_sec,
		     t->cur.it_value.tv_nsec);
	cr_desc_strf(d, "interval", "%lld.%09ld", (long long)t->cur.it_interval.tv_sec,
		     t->cur.it_interval.tv_nsec);
	cr_desc_uint(d, "ticks", t->ticks);
	cr_desc_hex(d, "settime_flags", t->settime_flags);
}

static void free_priv(struct cr_rfile *f)
{
	free(f->priv);
	f->priv = NULL;
}

const struct cr_fd_kind cr_fd_timerfd = {
	.name = "timerfd",
	.kind = CR_FK_TIMERFD,
	.match = match_timerfd,
	.dump = dump_timerfd,
	.load = load_timerfd,
	.open = open_timerfd,
	.describe = describe_timerfd,
	.free = free_priv,
};
