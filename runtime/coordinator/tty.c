/* Pseudo-terminals the tasks opened themselves: the master (/dev/ptmx)
 * and its slave (/dev/pts/N) of the container's devpts.
 *
 * The master's record holds the pair: its index, the termios and window
 * size (read through the master, which answers for the slave), and what
 * waits in both directions. A tty has no peek: we read each queue through
 * a slave of our own (TIOCGPTPEER) or our duplicate of the master, with
 * FIONREAD bounding every read, and write it straight back, so the tasks
 * find it there again (leave-running). Restore opens the container's
 * /dev/ptmx until it gets the same index (devpts hands out the lowest free
 * one), sets termios and window size, refills both queues with echo off,
 * and opens slaves by their path once their master exists. A slave whose
 * master is outside the checkpoint (a console) is refused. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "coordinator/fdkind.h"
#include "util.h"

#define TTY_QMAX      65536
#define PTMX_MAJOR    5
#define PTMX_MINOR    2
#define PTS_MAJOR_MIN 136
#define PTS_MAJOR_MAX 143

struct pty {
	uint8_t master;
	uint32_t index;
	uint32_t master_id; /* a slave's master file */
	struct termios t;
	struct winsize ws;
	uint8_t *to_slave, *to_master; /* queued for the slave's and the master's readers */
	size_t n_slave, n_master;
};

static bool is_master(const struct stat *sb)
{
	return S_ISCHR(sb->st_mode) && major(sb->st_rdev) == PTMX_MAJOR &&
	       minor(sb->st_rdev) == PTMX_MINOR;
}

static bool is_slave(const struct stat *sb)
{
	return S_ISCHR(sb->st_mode) && major(sb->st_rdev) >= PTS_MAJOR_MIN &&
	       major(sb->st_rdev) <= PTS_MAJOR_MAX;
}

static bool match_pty(const char *link, const struct stat *sb)
{
	(void)link;
	return is_master(sb) || is_slave(sb);
}

/* ---- dump ---- */

/* Read what waits on fd, then write it back through back. */
static int drain_and_refill(int fd, int back, uint8_t **out, size_t *n)
{
	int avail = 0;
	*n = 0;
	*out = NULL;
	if (ioctl(fd, FIONREAD, &avail) < 0)
		return -1;
	if (avail <= 0)
		return 0;
	if (avail > TTY_QMAX) {
		errno = EFBIG;
		return -1;
	}
	*out = xmalloc((size_t)avail);
	while (*n < (size_t)avail) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 100) != 1)
			break;
		ssize_t r = read(fd, *out + *n, (size_t)avail - *n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		*n += (size_t)r;
	}
	return *n && cr_write_all(back, *out, *n) < 0 ? -1 : 0;
}

/* The checkpoint's master of pty index: its pid and fd. */
static bool find_master(struct cr_dump_ctx *c, uint32_t index, pid_t *hpid, int *fd)
{
	char path[64];
	for (size_t i = 0; i < c->n; i++) {
		if (c->tasks[i].zombie)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", c->tasks[i].hpid);
		cleanup_closedir DIR *d = opendir(path);
		struct dirent *de;
		while (d && (de = readdir(d)) != NULL) {
			struct stat sb;
			snprintf(path, sizeof(path), "/proc/%d/fd/%.12s", c->tasks[i].hpid,
				 de->d_name);
			if (de->d_name[0] == '.' || stat(path, &sb) < 0 || !is_master(&sb))
				continue;
			cleanup_err struct rt_err *e = NULL;
			cleanup_close int dup = -1;
			unsigned n;
			int pidfd = (int)syscall(SYS_pidfd_open, c->tasks[i].hpid, 0);
			if (pidfd >= 0) {
				dup = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(de->d_name), 0);
				close(pidfd);
			}
			if (dup >= 0 && ioctl(dup, TIOCGPTN, &n) == 0 && n == index) {
				*hpid = c->tasks[i].hpid;
				*fd = atoi(de->d_name);
				return true;
			}
		}
	}
	return false;
}

static int dump_master(struct cr_fd_dump *d, struct cr_rec *r, struct rt_err **err)
{
	unsigned index;
	struct termios t;
	struct winsize ws;
	if (ioctl(d->dup, TIOCGPTN, &index) < 0 || tcgetattr(d->dup, &t) < 0 ||
	    ioctl(d->dup, TIOCGWINSZ, &ws) < 0)
		return rt_err_set(err, errno, "pid %d fd %d: read the pty master", d->hpid, d->fd);
	cleanup_close int slave = ioctl(d->dup, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (slave < 0)
		return rt_err_set(err, errno, "pid %d fd %d: open the pty's slave", d->hpid, d->fd);
	cleanup_free uint8_t *ts = NULL, *tm = NULL;
	size_t ns, nm;
	/* the echo would put what we write back into the other queue */
	struct termios quiet = t;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	if (tcsetattr(slave, TCSANOW, &quiet) < 0 ||
	    drain_and_refill(slave, d->dup, &ts, &ns) < 0 ||
	    drain_and_refill(d->dup, slave, &tm, &nm) < 0) {
		int e = errno;
		tcsetattr(slave, TCSANOW, &t);
		return rt_err_set(err, e, "pid %d fd %d: the pty's queued data", d->hpid, d->fd);
	}
	if (ns || nm)
		usleep(20000); /* the tty layer moves it to the read queues: echo off till then */
	if (tcsetattr(slave, TCSANOW, &t) < 0)
		return rt_err_set(err, errno, "pid %d fd %d: termios", d->hpid, d->fd);
	cr_put_u8(r, 1);
	cr_put_u32(r, index);
	cr_put_u32(r, 0);
	cr_put_bytes(r, &t, sizeof(t));
	cr_put_bytes(r, &ws, sizeof(ws));
	cr_put_bytes(r, ts, ns);
	cr_put_bytes(r, tm, nm);
	return 0;
}

static int dump_pty(struct cr_fd_dump *d, struct cr_rec *r, struct rt_err **err)
{
	if (is_master(d->sb))
		return dump_master(d, r, err);
	unsigned index = minor(d->sb->st_rdev) + (major(d->sb->st_rdev) - PTS_MAJOR_MIN) * 256;
	pid_t mh;
	int mfd;
	uint32_t mid;
	if (!find_master(d->c, index, &mh, &mfd))
		return rt_err_set(err, EOPNOTSUPP,
				  "pid %d fd %d: pty slave %s whose master is "
				  "outside the checkpoint (a console): not supported",
				  d->hpid, d->fd, d->link);
	if (cr_fd_file_id(d->c, mh, mfd, &mid, err) < 0)
		return -1;
	struct termios t = {0};
	struct winsize ws = {0};
	cr_put_u8(r, 0);
	cr_put_u32(r, index);
	cr_put_u32(r, mid);
	cr_put_bytes(r, &t, sizeof(t));
	cr_put_bytes(r, &ws, sizeof(ws));
	cr_put_bytes(r, NULL, 0);
	cr_put_bytes(r, NULL, 0);
	return 0;
}

/* ---- restore ---- */

static void free_pty(struct cr_rfile *f)
{
	struct pty *p = f->priv;
	if (!p)
		return;
	free(p->to_slave);
	free(p->to_master);
	free(p);
	f->priv = NULL;
}

static int get_fixed(struct cr_rd *r, const char *what, void *to, size_t n, struct rt_err **err)
{
	const void *p;
	size_t len;
	if (cr_get_bytes(r, what, &p, &len, n, err) < 0)
		return -1;
	if (len != n)
		return rt_err_set(err, 0, "pty: %s has %zu bytes", what, len);
	memcpy(to, p, n);
	return 0;
}

static int get_queue(struct cr_rd *r, const char *what, uint8_t **to, size_t *n,
		     struct rt_err **err)
{
	const void *p;
	if (cr_get_bytes(r, what, &p, n, TTY_QMAX, err) < 0)
		return -1;
	*to = xmalloc(*n ? *n : 1);
	memcpy(*to, p, *n);
	return 0;
}

static int load_pty(struct cr_rd *r, struct cr_rfile *f, struct rt_err **err)
{
	struct pty *p = xcalloc(1, sizeof(*p));
	f->priv = p;
	if (cr_get_u8(r, "master", &p->master, err) < 0 ||
	    cr_get_u32(r, "index", &p->index, err) < 0 ||
	    cr_get_u32(r, "master file", &p->master_id, err) < 0 ||
	    get_fixed(r, "termios", &p->t, sizeof(p->t), err) < 0 ||
	    get_fixed(r, "winsize", &p->ws, sizeof(p->ws), err) < 0 ||
	    get_queue(r, "to the slave", &p->to_slave, &p->n_slave, err) < 0 ||
	    get_queue(r, "to the master", &p->to_master, &p->n_master, err) < 0)
		return -1;
	return 0;
}

struct mk {
	const struct pty *p;
	const char *path;
	uint32_t flags;
};

/* In the container: a master with the dumped index, set up and refilled. */
static int mk_master(void *arg, int *fds, size_t *n, char *msg)
{
	const struct pty *p = ((const struct mk *)arg)->p;
	int held[64], nh = 0, m = -1;
	unsigned idx = ~0u, unlock = 0;
	while (nh < 64) {
		m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (m < 0 || ioctl(m, TIOCGPTN, &idx) < 0)
			return cr_ns_fail(msg, "open /dev/ptmx");
		if (idx >= p->index)
			break;
		held[nh++] = m;
	}
	while (nh > 0)
		close(held[--nh]);
	if (idx != p->index) {
		errno = EBUSY;
		return cr_ns_fail(msg, "pty %u is taken (got %u)", p->index, idx);
	}
	fds[(*n)++] = m;
	struct termios quiet = p->t;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || ioctl(m, TIOCSWINSZ, &p->ws) < 0 ||
	    tcsetattr(m, TCSANOW, &quiet) < 0)
		return cr_ns_fail(msg, "set up pty %u", idx);
	int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (s < 0)
		return cr_ns_fail(msg, "open the slave of pty %u", idx);
	if ((p->n_slave && cr_write_all(m, p->to_slave, p->n_slave) < 0) ||
	    (p->n_master && cr_write_all(s, p->to_master, p->n_master) < 0)) {
		close(s);
		return cr_ns_fail(msg, "refill pty %u", idx);
	}
	/* let the tty layer move the data to the read queues before the echo returns */
	tcdrain(s);
	usleep(20000);
	close(s);
	if (tcsetattr(m, TCSANOW, &p->t) < 0)
		return cr_ns_fail(msg, "termios of pty %u", idx);
	return 0;
}

static int mk_slave(void *arg, int *fds, size_t *n, char *msg)
{
	const struct mk *k = arg;
	int s = open(k->path, (int)(k->flags & (O_ACCMODE | O_NONBLOCK)) | O_NOCTTY);
	if (s < 0)
		return cr_ns_fail(msg, "open '%s'", k->path);
	fds[(*n)++] = s;
	return 0;
}

static int open_pty(struct cr_restore_ctx *c, struct cr_rfile *f, struct rt_err **err)
{
	struct pty *p = f->priv;
	struct mk k = {.p = p, .path = f->path, .flags = f->flags};
	int fds[1];
	size_t n;
	if (!p->master && !cr_rfile_get(c, p->master_id, err))
		return -1;
	if (cr_in_task_ns(c->o->agent_pid, p->master ? mk_master : mk_slave, &k, fds, 1, &n, err) <
	    0)
		return -1;
	f->fd = fds[0];
	if (fcntl(f->fd, F_SETFL, (int)(f->flags & (O_NONBLOCK | O_ASYNC))) < 0)
		return rt_err_set(err, errno, "fcntl");
	return 0;
}

static void describe_pty(const struct cr_rfile *f, struct cr_desc *d)
{
	const struct pty *p = f->priv;
	cr_desc_str(d, "side", p->master ? "master" : "slave");
	cr_desc_uint(d, "index", p->index);
	if (!p->master) {
		cr_desc_int(d, "master_file_id", p->master_id);
		return;
	}
	cr_desc_strf(d, "window", "%ux%u", p->ws.ws_row, p->ws.ws_col);
	cr_desc_hex(d, "c_iflag", p->t.c_iflag);
	cr_desc_hex(d, "c_oflag", p->t.c_oflag);
	cr_desc_hex(d, "c_cflag", p->t.c_cflag);
	cr_desc_hex(d, "c_lflag", p->t.c_lflag);
	cr_desc_uint(d, "queued_for_slave", p->n_slave);
	cr_desc_uint(d, "queued_for_master", p->n_master);
}

const struct cr_fd_kind cr_fd_pty = {
	.name = "pty",
	.kind = CR_FK_PTY,
	.match = match_pty,
	.dump = dump_pty,
	.load = load_pty,
	.open = open_pty,
	.describe = describe_pty,
	.free = free_pty,
};
