/* Pseudo-terminals of the container's devpts: masters (/dev/ptmx) the
 * tasks opened themselves with their slaves (/dev/pts/N), and the
 * container's console.
 *
 * The master's record holds the pair: its index, the termios and window
 * size (read through the master, which answers for the slave), and what
 * waits in both directions. A tty has no peek: we read each queue through
 * a slave of our own (TIOCGPTPEER) or our duplicate of the master, with
 * FIONREAD bounding every read, and write it straight back, so the tasks
 * find it there again (leave-running). Restore opens the container's
 * /dev/ptmx until it gets the same index (devpts hands out the lowest free
 * one), sets termios and window size, refills both queues with echo off,
 * and opens slaves by their path once their master exists.
 *
 * The console is a slave whose master is outside the checkpoint, with
 * whoever got it from the runtime's console socket (conmon, a shim): the
 * pty the root has as stdio. Its records hold its index, termios and
 * window size, read through the slave; what waits in its queues stays
 * with the old pty, whose master we cannot reach. Restore makes a pty with
 * that index the same way, hands its new master to the restore's caller
 * (cr_restore_opts.console) and opens the slaves by path. Any other slave
 * whose master is outside the checkpoint (an exec -t terminal, the host's)
 * is refused. */
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

/* What a record is: the side a task opened. */
enum pty_side { PTY_SLAVE, PTY_MASTER, PTY_CONSOLE /* a slave of the console */ };

struct pty {
	uint8_t side;
	uint32_t index;
	uint32_t master_id; /* a slave's master file */
	struct termios t;
	struct winsize ws;
	uint8_t *to_slave, *to_master; /* queued for the slave's and the master's readers */
	size_t n_slave, n_master;
	int console_master, console_slave; /* the first console record's: the new pty */
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

bool cr_pty_index(dev_t rdev, unsigned *index)
{
	if (major(rdev) < PTS_MAJOR_MIN || major(rdev) > PTS_MAJOR_MAX)
		return false;
	*index = minor(rdev) + (major(rdev) - PTS_MAJOR_MIN) * 256;
	return true;
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

/* The root's fd (0-2) on the container's console, and its stat; -1 when
 * the root has none (the lowest of its stdio ttys decides). */
static int console_fd(struct cr_dump_ctx *c, struct stat *sb)
{
	char path[64];
	struct stat pts;
	pid_t root = c->tasks[0].hpid, mh;
	int mfd;
	unsigned index = 0;
	snprintf(path, sizeof(path), "/proc/%d/root/dev/pts", root);
	if (stat(path, &pts) < 0)
		return -1;
	for (int fd = 0; fd < 3; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", root, fd);
		if (stat(path, sb) < 0 || !is_slave(sb))
			continue;
		cr_pty_index(sb->st_rdev, &index);
		return sb->st_dev == pts.st_dev && !find_master(c, index, &mh, &mfd) ? fd : -1;
	}
	return -1;
}

bool cr_pty_is_console(struct cr_dump_ctx *c, const struct stat *sb)
{
	struct stat con;
	return is_slave(sb) && console_fd(c, &con) >= 0 && con.st_dev == sb->st_dev &&
	       con.st_rdev == sb->st_rdev;
}

/* Is the pty whose master task hpid has at fd the terminal of session sid
 * (as we see it)? Its number alone could be another devpts' pty's. */
static bool master_of_session(pid_t hpid, int fd, pid_t sid)
{
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, hpid, 0);
	cleanup_close int dup = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	pid_t s = 0;
	return dup >= 0 && ioctl(dup, TIOCGSID, &s) == 0 && s == sid;
}

int cr_pty_ctty_file_id(struct cr_dump_ctx *c, unsigned index, pid_t sid, uint32_t *id,
			struct rt_err **err)
{
	pid_t mh;
	int fd;
	unsigned con_index;
	struct stat con;
	if (find_master(c, index, &mh, &fd)) {
		if (!master_of_session(mh, fd, sid))
			return rt_err_set(err, EOPNOTSUPP, "a pty numbered %u but not the "
					  "container's pty %u: not supported", index, index);
		return cr_fd_file_id(c, mh, fd, id, err);
	}
	fd = console_fd(c, &con);
	if (fd >= 0 && cr_pty_index(con.st_rdev, &con_index) && con_index == index)
		return cr_fd_file_id(c, c->tasks[0].hpid, fd, id, err);
	return rt_err_set(err, EOPNOTSUPP, "pty %u: neither its master nor the container's "
			  "console is in the checkpoint: not supported", index);
}

static void put_pty(struct cr_rec *r, const struct pty *p)
{
	cr_put_u8(r, p->side);
	cr_put_u32(r, p->index);
	cr_put_u32(r, p->master_id);
	cr_put_bytes(r, &p->t, sizeof(p->t));
	cr_put_bytes(r, &p->ws, sizeof(p->ws));
	cr_put_bytes(r, p->to_slave, p->n_slave);
	cr_put_bytes(r, p->to_master, p->n_master);
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
	put_pty(r, &(struct pty){ .side = PTY_MASTER, .index = index, .t = t, .ws = ws,
				  .to_slave = ts, .n_slave = ns, .to_master = tm,
				  .n_master = nm });
	return 0;
}

static int dump_console(struct cr_fd_dump *d, unsigned index, struct cr_rec *r,
			struct rt_err **err)
{
	struct pty p = { .side = PTY_CONSOLE, .index = index };
	if (tcgetattr(d->dup, &p.t) < 0 || ioctl(d->dup, TIOCGWINSZ, &p.ws) < 0)
		return rt_err_set(err, errno, "pid %d fd %d: read the console's termios",
				  d->hpid, d->fd);
	put_pty(r, &p);
	return 0;
}

static int dump_pty(struct cr_fd_dump *d, struct cr_rec *r, struct rt_err **err)
{
	if (is_master(d->sb))
		return dump_master(d, r, err);
	unsigned index = 0;
	pid_t mh;
	int mfd;
	struct pty p = { .side = PTY_SLAVE };
	cr_pty_index(d->sb->st_rdev, &index);
	if (!find_master(d->c, index, &mh, &mfd)) {
		if (cr_pty_is_console(d->c, d->sb))
			return dump_console(d, index, r, err);
		return rt_err_set(err, EOPNOTSUPP,
				  "pid %d fd %d: pty slave %s whose master is outside the "
				  "checkpoint, and not the container's console (an exec -t "
				  "terminal, or the host's): not supported",
				  d->hpid, d->fd, d->link);
	}
	if (cr_fd_file_id(d->c, mh, mfd, &p.master_id, err) < 0)
		return -1;
	p.index = index;
	put_pty(r, &p);
	return 0;
}

/* ---- restore ---- */

static void free_pty(struct cr_rfile *f)
{
	struct pty *p = f->priv;
	if (!p)
		return;
	if (p->console_master >= 0)
		close(p->console_master);
	if (p->console_slave >= 0)
		close(p->console_slave);
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
	p->console_master = p->console_slave = -1;
	if (cr_get_u8(r, "side", &p->side, err) < 0 ||
	    cr_get_u32(r, "index", &p->index, err) < 0 ||
	    cr_get_u32(r, "master file", &p->master_id, err) < 0 ||
	    get_fixed(r, "termios", &p->t, sizeof(p->t), err) < 0 ||
	    get_fixed(r, "winsize", &p->ws, sizeof(p->ws), err) < 0 ||
	    get_queue(r, "to the slave", &p->to_slave, &p->n_slave, err) < 0 ||
	    get_queue(r, "to the master", &p->to_master, &p->n_master, err) < 0)
		return -1;
	if (p->side > PTY_CONSOLE)
		return rt_err_set(err, 0, "pty: side %u", p->side);
	if (p->side == PTY_CONSOLE)
		f->obj = (uint64_t)p->index + 1; /* its records share one new pty */
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
	struct stat sb;
	unsigned index;
	int s = open(k->path, (int)(k->flags & (O_ACCMODE | O_NONBLOCK)) | O_NOCTTY);
	if (s < 0)
		return cr_ns_fail(msg, "open '%s'", k->path);
	fds[(*n)++] = s;
	if (fstat(s, &sb) < 0 || !cr_pty_index(sb.st_rdev, &index) || index != k->p->index) {
		errno = ENXIO;
		return cr_ns_fail(msg, "'%s' is not pty %u", k->path, k->p->index);
	}
	return 0;
}

/* The console's new pty, made once for all its records (p: the first's).
 * Its new holder gets a blocking master, as from create; a slave of ours
 * keeps the pty up until the tasks have theirs (a master whose last slave
 * closed reads EIO, which the holder takes for the end). */
static int make_console(struct cr_restore_ctx *c, struct pty *p, struct rt_err **err)
{
	struct mk k = { .p = p };
	int fds[1];
	size_t n;
	if (p->console_master >= 0)
		return 0;
	if (!c->o->console)
		return rt_err_set(err, EOPNOTSUPP, "pty %u is the container's terminal (its "
				  "master was outside the container), and there is no console "
				  "to hand a new one to", p->index);
	if (cr_in_task_ns(c->o->agent_pid, mk_master, &k, fds, 1, &n, err) < 0)
		return -1;
	p->console_master = fds[0];
	p->console_slave = ioctl(fds[0], TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->console_slave < 0 || fcntl(fds[0], F_SETFL, 0) < 0)
		return rt_err_set(err, errno, "pty %u: the new console", p->index);
	return c->o->console(c->o->console_arg, p->console_master, err);
}

static int open_pty(struct cr_restore_ctx *c, struct cr_rfile *f, struct rt_err **err)
{
	struct pty *p = f->priv;
	struct mk k = {.p = p, .path = f->path, .flags = f->flags};
	int fds[1];
	size_t n;
	if (p->side == PTY_SLAVE && !cr_rfile_get(c, p->master_id, err))
		return -1;
	if (p->side == PTY_CONSOLE && make_console(c, cr_rfile_owner(c, f)->priv, err) < 0)
		return -1;
	if (cr_in_task_ns(c->o->agent_pid, p->side == PTY_MASTER ? mk_master : mk_slave, &k,
			  fds, 1, &n, err) < 0)
		return -1;
	f->fd = fds[0];
	if (fcntl(f->fd, F_SETFL, (int)(f->flags & (O_NONBLOCK | O_ASYNC))) < 0)
		return rt_err_set(err, errno, "fcntl");
	return 0;
}

int cr_pty_master(struct cr_restore_ctx *c, uint32_t id, int *master, struct rt_err **err)
{
	struct cr_rfile *f = cr_rfile_get(c, id, err);
	if (f && f->kind == CR_FK_PTY && ((struct pty *)f->priv)->side == PTY_SLAVE)
		f = cr_rfile_get(c, ((struct pty *)f->priv)->master_id, err);
	if (!f)
		return -1;
	const struct pty *p = f->priv;
	if (f->kind != CR_FK_PTY || p->side == PTY_SLAVE)
		return rt_err_set(err, 0, "files.img: file %u is not on a pty", id);
	*master = p->side == PTY_MASTER ? f->fd
					: ((struct pty *)cr_rfile_owner(c, f)->priv)->console_master;
	return 0;
}

static void describe_pty(const struct cr_rfile *f, struct cr_desc *d)
{
	static const char *const sides[] = { "slave", "master", "console" };
	const struct pty *p = f->priv;
	cr_desc_str(d, "side", sides[p->side]);
	cr_desc_uint(d, "index", p->index);
	if (p->side == PTY_SLAVE) {
		cr_desc_int(d, "master_file_id", p->master_id);
		return;
	}
	cr_desc_strf(d, "window", "%ux%u", p->ws.ws_row, p->ws.ws_col);
	cr_desc_hex(d, "c_iflag", p->t.c_iflag);
	cr_desc_hex(d, "c_oflag", p->t.c_oflag);
	cr_desc_hex(d, "c_cflag", p->t.c_cflag);
	cr_desc_hex(d, "c_lflag", p->t.c_lflag);
	if (p->side == PTY_CONSOLE)
		return; /* its queues stay with the old pty */
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
