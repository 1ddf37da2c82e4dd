/* Controlling terminals: a session's (its leader's TIOCSCTTY and the
 * foreground process group) and the fds opened through /dev/tty.
 *
 * Dump: every session leader whose controlling terminal is a pty of the
 * checkpoint gets a record in files.img (CR_R_CTTY): its pid, the pty's
 * index, a file on that pty (its master, or the container's console:
 * tty.c) and the foreground group when the restore can rebuild it (its
 * leader is in the tree). A /dev/tty fd is recorded as the pty it reaches
 * (its real device, TIOCGDEV), which must still be its session's terminal.
 * A session with another terminal (the host's) is refused.
 *
 * Restore: before any task of a session installs its fds, the leader's
 * agent takes a slave of the restored pty as its controlling terminal and
 * sets the foreground group (it is that group's member or leader right
 * after TIOCSCTTY, so no SIGTTOU). /dev/tty is then opened by the leader's
 * agent: only a task of the session can open it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "coordinator/fdkind.h"
#include "util.h"

#define TTY_MAJOR 5
#define TTY_MINOR 0 /* /dev/tty */

struct ctty {
	uint32_t sid, index, file, fg; /* fg: 0 leaves the leader's group in front */
	bool taken;
};

struct ctty_table {
	size_t n;
	struct ctty *v;
};

/* What /proc/PID/stat says about a task's terminal (pids as we see them). */
struct stat_tty {
	unsigned dev; /* 0: none */
	pid_t sid, fg;
};

static int read_stat_tty(pid_t hpid, struct stat_tty *s, struct rt_err **err)
{
	cleanup_free char *buf = NULL;
	if (cr_proc_read(hpid, "stat", &buf, err) < 0)
		return -1;
	const char *p = strrchr(buf, ')');
	char state;
	int ppid, pgrp;
	if (!p || sscanf(p + 1, " %c %d %d %d %u %d", &state, &ppid, &pgrp, &s->sid, &s->dev,
			 &s->fg) != 6)
		return rt_err_set(err, 0, "pid %d: unreadable /proc/%d/stat", hpid, hpid);
	return 0;
}

static const struct cr_dtask *dtask_by_hpid(const struct cr_dump_ctx *c, pid_t hpid)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->tasks[i].hpid == hpid)
			return &c->tasks[i];
	return NULL;
}

/* ---- the session's terminal ---- */

int cr_ctty_dump(struct cr_dump_ctx *c, struct cr_dtask *t, struct rt_err **err)
{
	struct stat_tty s;
	unsigned index;
	uint32_t file;
	if (t->zombie || t->sid != t->vpid)
		return 0;
	if (read_stat_tty(t->hpid, &s, err) < 0)
		return -1;
	if (s.dev == 0)
		return 0;
	if (!cr_pty_index(s.dev, &index))
		return rt_err_set(err, EOPNOTSUPP,
				  "pid %d: its controlling terminal (device "
				  "%u:%u) is not a pty of the container: not supported",
				  t->vpid, major(s.dev), minor(s.dev));
	if (cr_pty_ctty_file_id(c, index, t->hpid, &file, err) < 0)
		return rt_err_wrap(err, "pid %d: its controlling terminal", t->vpid);
	const struct cr_dtask *fg = s.fg > 0 ? dtask_by_hpid(c, s.fg) : NULL;
	struct cr_rec r;
	cr_rec_init(&r, CR_R_CTTY);
	cr_put_u32(&r, (uint32_t)t->vpid);
	cr_put_u32(&r, index);
	cr_put_u32(&r, file);
	cr_put_u32(&r, fg ? (uint32_t)fg->vpid : 0);
	int ret = cr_img_write(c->files_img, &r, err);
	cr_rec_free(&r);
	return ret;
}

int cr_ctty_load(struct cr_restore_ctx *c, struct cr_rd *r, struct rt_err **err)
{
	struct ctty_table *t = c->ctty;
	struct ctty s = {0};
	if (!t)
		t = c->ctty = xcalloc(1, sizeof(*t));
	if (cr_get_u32(r, "sid", &s.sid, err) < 0 || cr_get_u32(r, "index", &s.index, err) < 0 ||
	    cr_get_u32(r, "file", &s.file, err) < 0 ||
	    cr_get_u32(r, "foreground", &s.fg, err) < 0 || cr_rd_done(r, err) < 0)
		return -1;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].sid == s.sid)
			return rt_err_set(err, 0, "files.img: session %u has two terminals", s.sid);
	t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	t->v[t->n++] = s;
	return 0;
}

static struct ctty *find_ctty(struct cr_restore_ctx *c, uint32_t sid)
{
	struct ctty_table *t = c->ctty;
	for (size_t i = 0; t && i < t->n; i++)
		if (t->v[i].sid == sid)
			return &t->v[i];
	return NULL;
}

static int take_ctty(struct cr_restore_ctx *c, struct ctty *s, struct rt_err **err)
{
	struct cr_rtask *leader = cr_rtask_find(c, (pid_t)s->sid);
	int master;
	unsigned index;
	if (s->taken)
		return 0;
	if (!leader || leader->zombie)
		return rt_err_set(err, 0,
				  "files.img: the terminal of session %u, whose "
				  "leader is not a live task of pstree.img",
				  s->sid);
	if (cr_pty_master(c, s->file, &master, err) < 0)
		return -1;
	if (ioctl(master, TIOCGPTN, &index) < 0 || index != s->index)
		return rt_err_set(err, 0,
				  "files.img: the terminal of session %u is pty %u, "
				  "its file is on another",
				  s->sid, s->index);
	cleanup_close int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return rt_err_set(err, errno, "open a slave of pty %u", s->index);
	if (cr_agent_call(leader->sock, leader->vpid, "take its controlling terminal", CR_AG_CTTY,
			  slave, s->fg, 0, NULL, NULL, err) < 0)
		return -1;
	s->taken = true;
	return 0;
}

int cr_ctty_restore(struct cr_restore_ctx *c, struct cr_rtask *t, struct rt_err **err)
{
	struct ctty *s = find_ctty(c, (uint32_t)t->vpid);
	return s ? take_ctty(c, s, err) : 0;
}

void cr_ctty_describe(struct cr_restore_ctx *c, struct cr_rtask *t, struct cr_desc *d)
{
	const struct ctty *s = find_ctty(c, (uint32_t)t->vpid);
	if (!s)
		return;
	cr_desc_map(d, "controlling_terminal");
	cr_desc_uint(d, "index", s->index);
	cr_desc_int(d, "file_id", s->file);
	cr_desc_int(d, "foreground_pgid", s->fg);
	cr_desc_end_map(d);
}

void cr_ctty_free(struct cr_restore_ctx *c)
{
	struct ctty_table *t = c->ctty;
	if (t)
		free(t->v);
	free(t);
	c->ctty = NULL;
}

/* ---- /dev/tty ---- */

struct dev_tty {
	uint32_t sid, index;
};

static bool match_dev_tty(const char *link, const struct stat *sb)
{
	(void)link;
	return S_ISCHR(sb->st_mode) && major(sb->st_rdev) == TTY_MAJOR &&
	       minor(sb->st_rdev) == TTY_MINOR;
}

static int dump_dev_tty(struct cr_fd_dump *d, struct cr_rec *r, struct rt_err **err)
{
	unsigned dev, index;
	struct stat_tty s;
	if (ioctl(d->dup, TIOCGDEV, &dev) < 0)
		return rt_err_set(err, errno, "pid %d fd %d: the terminal of /dev/tty", d->hpid,
				  d->fd);
	if (read_stat_tty(d->hpid, &s, err) < 0)
		return -1;
	const struct cr_dtask *leader = dtask_by_hpid(d->c, s.sid);
	if (s.dev != dev || !cr_pty_index(dev, &index) || !leader)
		return rt_err_set(err, EOPNOTSUPP,
				  "pid %d fd %d: /dev/tty of a terminal (%u:%u) "
				  "that is not a pty its session in the checkpoint has as "
				  "controlling terminal: not supported",
				  d->hpid, d->fd, major(dev), minor(dev));
	cr_put_u32(r, (uint32_t)leader->vpid);
	cr_put_u32(r, index);
	return 0;
}

static int load_dev_tty(struct cr_rd *r, struct cr_rfile *f, struct rt_err **err)
{
	struct dev_tty *p = xcalloc(1, sizeof(*p));
	f->priv = p;
	if (cr_get_u32(r, "sid", &p->sid, err) < 0 || cr_get_u32(r, "index", &p->index, err) < 0)
		return -1;
	return 0;
}

static int open_dev_tty(struct cr_restore_ctx *c, struct cr_rfile *f, struct rt_err **err)
{
	const struct dev_tty *p = f->priv;
	struct ctty *s = find_ctty(c, p->sid);
	if (!s || s->index != p->index)
		return rt_err_set(err, 0, "files.img: no session %u with pty %u as its terminal",
				  p->sid, p->index);
	if (take_ctty(c, s, err) < 0)
		return -1;
	struct cr_rtask *leader = cr_rtask_find(c, (pid_t)s->sid);
	int flags = (int)(f->flags & (O_ACCMODE | O_NONBLOCK));
	if (cr_agent_call(leader->sock, leader->vpid, "open /dev/tty", CR_AG_OPEN_TTY, -1, flags, 0,
			  NULL, &f->fd, err) < 0)
		return -1;
	if (f->fd < 0)
		return rt_err_set(err, EPROTO, "pid %d: open /dev/tty: no fd came back",
				  leader->vpid);
	return 0;
}

static void describe_dev_tty(const struct cr_rfile *f, struct cr_desc *d)
{
	const struct dev_tty *p = f->priv;
	cr_desc_uint(d, "index", p->index);
	cr_desc_int(d, "session", p->sid);
}

static void free_dev_tty(struct cr_rfile *f)
{
	free(f->priv);
	f->priv = NULL;
}

const struct cr_fd_kind cr_fd_dev_tty = {
	.name = "/dev/tty",
	.kind = CR_FK_DEV_TTY,
	.match = match_dev_tty,
	.dump = dump_dev_tty,
	.load = load_dev_tty,
	.open = open_dev_tty,
	.describe = describe_dev_tty,
	.free = free_dev_tty,
};
