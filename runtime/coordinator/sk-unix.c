/* Unix sockets: socketpairs (stream, dgram, seqpacket) with their queued
 * data and shutdown state, named listeners, bound dgram sockets, sockets
 * connected to a named one, connections waiting in a listener's backlog,
 * and (--ext-unix-sk) datagram sockets connected to a named socket outside
 * the checkpoint.
 *
 * The kernel's unix_diag (in the socket's own netns, SIOCGSKNS) tells a
 * socket's type, state, name, peer, backlog and shutdown bits. Queued data
 * is peeked with SO_PEEK_OFF through our duplicate, message by message, so
 * datagram boundaries (empty ones too) are kept. Restore creates the
 * sockets in the container's namespaces (sk-ns.c); a pair is made once with
 * socketpair() by its first end, and each end's queue is refilled through
 * the other. A connection in a listener's backlog is connected again once
 * the listener exists. A socket connected outside is connected again to
 * its peer's path, which dump checks leads to that peer from inside. Which
 * task holds a peer or a listener comes from sockets.c's per-dump table. */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/unix_diag.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "coordinator/sockets.h"
#include "util.h"

#define UQ_MAX	(16u << 20) /* queued bytes we keep per socket */
#define UQ_MSGS 65536

struct udiag {
	uint32_t type, state, ino, peer, rq, wq;
	uint8_t shutdown;
	uint32_t namelen; /* 0: unnamed; abstract names start with '\0' */
	char name[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint32_t n_icons;
	uint32_t *icons;
};

/* What files.img holds for one socket, and its restore state. */
struct usk {
	struct cr_sk_head head;
	struct udiag dg;
	uint32_t how;	   /* enum how */
	uint32_t other_id; /* HOW_NAMED_PEER: the peer's file; HOW_BACKLOG: the listener's */
	uint32_t nq;
	struct {
		uint8_t *p;
		size_t len;
	} * q;	     /* our receive queue, oldest first */
	int pair_fd; /* HOW_PAIR owner: the other end, until it takes it */
	struct udiag ext; /* HOW_EXTERNAL: the peer's name, a path */
};

enum how {
	HOW_PLAIN = 1,	/* unconnected; bound if named; listening if a listener */
	HOW_PAIR,	/* connected both ways to a socket in the checkpoint */
	HOW_NAMED_PEER, /* connected to a named socket of the checkpoint (dgram) */
	HOW_BACKLOG,	/* connected to a connection in a listener's backlog */
	HOW_EXTERNAL,	/* connected to a named dgram socket outside (--ext-unix-sk) */
};

static const char *type_name(uint32_t t)
{
	return t == SOCK_STREAM	     ? "stream"
	       : t == SOCK_DGRAM     ? "dgram"
	       : t == SOCK_SEQPACKET ? "seqpacket"
				     : "?";
}

/* ---- unix_diag ---- */

static int diag_sock(int sk_in_ns, struct rt_err **err)
{
	int ns = ioctl(sk_in_ns, SIOCGSKNS);
	if (ns < 0)
		return rt_err_set(err, errno, "the socket's network namespace");
	cleanup_close int nsfd = ns;
	cleanup_close int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || setns(nsfd, CLONE_NEWNET) < 0)
		return rt_err_set(err, errno, "enter the socket's network namespace");
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int e = errno;
	if (setns(self, CLONE_NEWNET) < 0)
		abort(); /* we cannot stay in the container's netns */
	if (nl < 0)
		return rt_err_set(err, e, "sock_diag socket");
	return nl;
}

static void parse_attrs(struct udiag *u, const struct unix_diag_msg *m, size_t len)
{
	const struct rtattr *a = (const void *)(m + 1);
	size_t left = len - NLMSG_ALIGN(sizeof(*m));
	for (; RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		size_t pl = RTA_PAYLOAD(a);
		const void *p = RTA_DATA(a);
		switch (a->rta_type) {
		case UNIX_DIAG_NAME:
			u->namelen = (uint32_t)(pl < sizeof(u->name) ? pl : sizeof(u->name));
			memcpy(u->name, p, u->namelen);
			break;
		case UNIX_DIAG_PEER:
			if (pl >= 4)
				memcpy(&u->peer, p, 4);
			break;
		case UNIX_DIAG_ICONS:
			u->n_icons = (uint32_t)(pl / 4);
			u->icons = xcalloc(u->n_icons + 1, 4);
			memcpy(u->icons, p, u->n_icons * 4);
			break;
		case UNIX_DIAG_RQLEN:
			if (pl >= sizeof(struct unix_diag_rqlen)) {
				const struct unix_diag_rqlen *q = p;
				u->rq = q->udiag_rqueue;
				u->wq = q->udiag_wqueue;
			}
			break;
		case UNIX_DIAG_SHUTDOWN:
			if (pl >= 1)
				u->shutdown = *(const uint8_t *)p;
			break;
		}
	}
}

/* The socket with inode ino, in the netns of nl. ENOENT: no such socket. */
static int diag_ino(int nl, uint32_t ino, struct udiag *u, struct rt_err **err)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req = {
		.h = {.nlmsg_len = sizeof(req),
		      .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		      .nlmsg_flags = NLM_F_REQUEST},
		.r = {.sdiag_family = AF_UNIX,
		      .udiag_states = ~0u,
		      .udiag_ino = ino,
		      .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS |
				    UDIAG_SHOW_RQLEN,
		      .udiag_cookie = {~0u, ~0u}},
	};
	if (send(nl, &req, sizeof(req), 0) != sizeof(req))
		return rt_err_set(err, errno, "sock_diag request");
	static long buf[8192];
	ssize_t n = recv(nl, buf, sizeof(buf), 0);
	if (n < 0)
		return rt_err_set(err, errno, "sock_diag answer");
	const struct nlmsghdr *h = (const void *)buf;
	if (!NLMSG_OK(h, (size_t)n))
		return rt_err_set(err, EPROTO, "sock_diag answer");
	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(h);
		return rt_err_set(err, e->error ? -e->error : ENOENT, "unix socket %u", ino);
	}
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	memset(u, 0, sizeof(*u));
	u->type = m->udiag_type;
	u->state = m->udiag_state;
	u->ino = m->udiag_ino;
	parse_attrs(u, m, h->nlmsg_len - NLMSG_HDRLEN);
	return 0;
}

/* ---- dump ---- */

/* A task of the checkpoint with socket ino open: its pid and fd. */
static bool find_sock(struct cr_dump_ctx *c, uint32_t ino, pid_t *hpid, int *fd)
{
	const struct cr_sk_fd *s = cr_sk_fd_find(c, ino);
	if (!s)
		return false;
	*hpid = s->hpid;
	*fd = s->fd;
	return true;
}

/* The checkpoint's listener whose backlog holds socket ino. */
static bool find_listener(struct cr_dump_ctx *c, int nl, uint32_t ino, pid_t *hpid, int *fd)
{
	size_t n;
	const struct cr_sk_fd *v = cr_sk_fds(c, &n);
	for (size_t i = 0; i < n; i++) {
		struct udiag u;
		cleanup_err struct rt_err *e = NULL;
		if (diag_ino(nl, v[i].ino, &u, &e) < 0)
			continue;
		bool hit = false;
		for (uint32_t k = 0; k < u.n_icons; k++)
			hit |= u.icons[k] == ino;
		free(u.icons);
		if (hit && u.state == TCP_LISTEN) {
			*hpid = v[i].hpid;
			*fd = v[i].fd;
			return true;
		}
	}
	return false;
}

/* Every queued message, through the duplicate, leaving the queue and the
 * socket's peek offset as they were: *n messages, each as cr_put_bytes. */
static int peek_queue(struct cr_fd_dump *d, const struct udiag *u, struct cr_rec *msgs, uint32_t *n,
		      struct rt_err **err)
{
	int off = -1, zero = 0;
	socklen_t ol = sizeof(off);
	if (getsockopt(d->dup, SOL_SOCKET, SO_PEEK_OFF, &off, &ol) < 0 ||
	    setsockopt(d->dup, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) < 0)
		return rt_err_set(err, errno, "pid %d fd %d: SO_PEEK_OFF", d->hpid, d->fd);
	cleanup_free uint8_t *buf = xmalloc(UQ_MAX);
	size_t total = 0;
	int ret = 0;
	*n = 0;
	for (;;) {
		ssize_t got =
			recv(d->dup, buf, UQ_MAX - total, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == EAGAIN)
			break;
		if (got < 0 || (got == 0 && u->type == SOCK_STREAM))
			break; /* EOF of a shut-down stream, or an error: nothing more */
		if ((size_t)got > UQ_MAX - total || ++*n > UQ_MSGS) {
			ret = rt_err_set(err, EFBIG,
					 "pid %d fd %d: more than %u MiB queued in "
					 "a unix socket",
					 d->hpid, d->fd, UQ_MAX >> 20);
			break;
		}
		/* an empty datagram, or the end of a shut-down socket: the
		 * kernel answers both with 0; only the first can repeat */
		if (got == 0 && (u->shutdown & 1)) {
			--*n;
			break;
		}
		cr_put_bytes(msgs, buf, (size_t)got);
		total += (size_t)got;
	}
	setsockopt(d->dup, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off));
	return ret;
}

static int put_queue(struct cr_fd_dump *d, const struct udiag *u, struct cr_rec *r,
		     struct rt_err **err)
{
	struct cr_rec msgs;
	cr_rec_init(&msgs, 0);
	uint32_t n = 0;
	int ret = peek_queue(d, u, &msgs, &n, err);
	if (ret == 0) {
		cr_put_u32(r, n);
		cr_put_bytes(r, msgs.buf, msgs.len);
	}
	cr_rec_free(&msgs);
	return ret;
}

/* ---- connected to a socket outside the checkpoint (--ext-unix-sk) ----
 * Only a datagram socket connected to a peer bound to a path: restore
 * makes a new socket and connects it to that path again, inside the
 * container (a process logging to /dev/log). A stream or seqpacket
 * connection cannot be made again without the peer seeing a new one
 * (its end of the old one reads EOF), and what waits in our queue came
 * from outside and cannot be sent again: both are refused at dump. */

static socklen_t sun_of(const struct udiag *u, struct sockaddr_un *sa);

/* "'/path'", "'@abstract'" or "an unnamed socket", for messages. */
static const char *name_str(const struct udiag *u, char *buf, size_t n)
{
	if (u->namelen == 0)
		snprintf(buf, n, "an unnamed socket");
	else if (u->name[0])
		snprintf(buf, n, "'%.*s'", (int)u->namelen, u->name);
	else
		snprintf(buf, n, "'@%.*s'", (int)u->namelen - 1, u->name + 1);
	return buf;
}

/* The peer's name through our duplicate: sock_diag does not see a peer in
 * another network namespace (the host's /dev/log), getpeername does. */
static int outside_name(const struct cr_fd_dump *d, struct udiag *p, struct rt_err **err)
{
	struct sockaddr_un sa;
	socklen_t l = sizeof(sa);
	const socklen_t base = offsetof(struct sockaddr_un, sun_path);
	memset(p, 0, sizeof(*p));
	if (getpeername(d->dup, (struct sockaddr *)&sa, &l) < 0)
		return rt_err_set(err, errno, "pid %d fd %d: getpeername", d->hpid, d->fd);
	if (l > sizeof(sa))
		l = sizeof(sa);
	p->namelen = l > base ? l - base : 0; /* a path's name ends with its NUL */
	memcpy(p->name, sa.sun_path, p->namelen);
	return 0;
}

/* In the task's namespaces: a datagram socket connected to the name. */
static int connect_probe(void *arg, int *fds, size_t *n, char *msg)
{
	struct sockaddr_un sa;
	socklen_t l = sun_of(arg, &sa);
	int sk = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return cr_ns_fail(msg, "socket");
	fds[(*n)++] = sk;
	if (connect(sk, (struct sockaddr *)&sa, l) < 0)
		return cr_ns_fail(msg, "connect to '%s'", sa.sun_path);
	return 0;
}

/* The peer's name is the path it was bound to in its own mount namespace;
 * restore looks it up in the container's. Refuse now unless the name,
 * looked up there, leads to this very peer. A datagram connect sends
 * nothing: the peer does not notice. */
static int check_reachable(struct cr_fd_dump *d, const struct udiag *u, struct udiag *p,
			   const char *pn, struct rt_err **err)
{
	int fds[1];
	size_t n;
	if (cr_in_task_ns(d->hpid, connect_probe, p, fds, 1, &n, err) < 0)
		return rt_err_wrap(
			err,
			"pid %d fd %d: the peer outside the checkpoint, %s, cannot be "
			"reached from inside the container, where restore connects to it",
			d->hpid, d->fd, pn);
	cleanup_close int probe = n == 1 ? fds[0] : -1;
	struct stat st;
	struct udiag pu;
	if (probe < 0 || fstat(probe, &st) < 0)
		return rt_err_set(err, probe < 0 ? EPROTO : errno, "pid %d fd %d: the probe of %s",
				  d->hpid, d->fd, pn);
	cleanup_close int nl = diag_sock(probe, err);
	if (nl < 0 || diag_ino(nl, (uint32_t)st.st_ino, &pu, err) < 0)
		return rt_err_wrap(err, "pid %d fd %d: the probe of %s", d->hpid, d->fd, pn);
	free(pu.icons);
	if (pu.peer != u->peer)
		return rt_err_set(err, EOPNOTSUPP,
				  "pid %d fd %d: %s leads to another socket inside the container "
				  "than the peer outside the checkpoint (inode %u): restore could "
				  "not connect to that peer again",
				  d->hpid, d->fd, pn, u->peer);
	return 0;
}

static int outside(struct cr_fd_dump *d, const struct udiag *u, struct udiag *p,
		   struct rt_err **err)
{
	char pn[sizeof(p->name) + 32], who[48];
	if (outside_name(d, p, err) < 0)
		return -1;
	name_str(p, pn, sizeof(pn));
	/* no peer inode: a connection its listener has not accepted yet */
	if (u->peer)
		snprintf(who, sizeof(who), "inode %u", u->peer);
	else
		snprintf(who, sizeof(who), "not accepted yet");
	if (!d->c->o->ext_unix_sk)
		return rt_err_set(err, EOPNOTSUPP,
				  "pid %d fd %d: unix %s socket connected to %s outside the "
				  "checkpoint (%s): external unix sockets need "
				  "--ext-unix-sk, which allows datagram ones%s",
				  d->hpid, d->fd, type_name(u->type), pn, who,
				  u->type == SOCK_DGRAM ? "" : " only");
	if (u->type != SOCK_DGRAM)
		return rt_err_set(err, EOPNOTSUPP,
				  "pid %d fd %d: unix %s connection to %s outside the checkpoint "
				  "(%s): it cannot be re-established, the peer would see a "
				  "new connection (--ext-unix-sk allows datagram sockets only)",
				  d->hpid, d->fd, type_name(u->type), pn, who);
	if (p->namelen == 0 || p->name[0] == '\0')
		return rt_err_set(err, EOPNOTSUPP,
				  "pid %d fd %d: unix dgram socket connected to %s outside the "
				  "checkpoint (%s): the peer has %s; restore needs a path "
				  "to connect to again",
				  d->hpid, d->fd, pn, who,
				  p->namelen ? "an abstract name" : "no name");
	struct cr_rec msgs;
	cr_rec_init(&msgs, 0);
	uint32_t n = 0;
	int ret = peek_queue(d, u, &msgs, &n, err);
	size_t bytes = msgs.len - 4 * (size_t)n;
	cr_rec_free(&msgs);
	if (ret < 0)
		return -1;
	if (n > 0)
		return rt_err_set(err, EOPNOTSUPP,
				  "pid %d fd %d: %u message(s), %zu bytes, wait in the receive "
				  "queue of a unix dgram socket connected to %s outside the "
				  "checkpoint: they came from outside and cannot be queued again "
				  "at restore",
				  d->hpid, d->fd, n, bytes, pn);
	return check_reachable(d, u, p, pn, err);
}

/* How a socket is connected, and to what. */
struct link {
	uint32_t how;
	uint32_t other; /* HOW_NAMED_PEER: the peer's file id; HOW_BACKLOG: the listener's */
	pid_t lh;	/* HOW_BACKLOG: the listener's task and fd */
	int lfd;
	struct udiag ext; /* HOW_EXTERNAL: the peer's name */
};

static int classify(struct cr_fd_dump *d, int nl, const struct udiag *u, struct link *k,
		    struct rt_err **err)
{
	pid_t ph;
	int pfd;
	k->other = 0;
	/* A connection not accepted yet: its peer (the embryo) has no inode,
	 * and the listener's icons list us. */
	if (u->peer == 0 && u->state == TCP_ESTABLISHED && u->type != SOCK_DGRAM &&
	    find_listener(d->c, nl, u->ino, &k->lh, &k->lfd)) {
		k->how = HOW_BACKLOG;
		return cr_fd_file_id(d->c, k->lh, k->lfd, &k->other, err);
	}
	/* ... or in a listener outside the checkpoint (a peer that closed has
	 * no inode either, but it shut us down both ways) */
	if (u->peer == 0 && u->state == TCP_ESTABLISHED && u->type != SOCK_DGRAM &&
	    u->shutdown != 3) {
		k->how = HOW_EXTERNAL;
		return outside(d, u, &k->ext, err);
	}
	if (u->peer == 0) {
		k->how = HOW_PLAIN;
		return 0;
	}
	if (find_sock(d->c, u->peer, &ph, &pfd)) {
		struct udiag pu;
		if (diag_ino(nl, u->peer, &pu, err) < 0)
			return rt_err_wrap(err, "pid %d fd %d: the unix socket's peer", d->hpid,
					   d->fd);
		free(pu.icons);
		if (pu.peer == u->ino) {
			k->how = HOW_PAIR;
			return 0;
		}
		if (pu.namelen == 0)
			return rt_err_set(err, EOPNOTSUPP,
					  "pid %d fd %d: unix socket connected "
					  "to an unnamed socket that is not connected back: not "
					  "supported",
					  d->hpid, d->fd);
		k->how = HOW_NAMED_PEER;
		return cr_fd_file_id(d->c, ph, pfd, &k->other, err);
	}
	if (find_listener(d->c, nl, u->peer, &k->lh, &k->lfd)) {
		k->how = HOW_BACKLOG;
		return cr_fd_file_id(d->c, k->lh, k->lfd, &k->other, err);
	}
	k->how = HOW_EXTERNAL;
	return outside(d, u, &k->ext, err);
}

/* A connection waiting in a listener's backlog keeps what its client sent
 * in the embryo socket, which only accept() reaches: we accept it through
 * our duplicate of the listener, keep its data, and rebuild the client in
 * its task by injection (a new socket connected to the listener again,
 * the data sent again, put at the client's fd), so the task is whole
 * whatever comes next. Restore does the same from the record. */

/* Write one message (a stream: any bytes) through fd nfd of the task. */
static int inj_send(struct cr_dtask *t, struct cr_inj *j, uint32_t type, long nfd, const uint8_t *p,
		    size_t len, struct rt_err **err)
{
	unsigned long buf = t->scratch + CR_PAGE;
	if (type != SOCK_STREAM && len > CR_PAGE)
		return rt_err_set(err, EOPNOTSUPP,
				  "a %zu-byte message: more than we can send "
				  "again in one piece",
				  len);
	size_t off = 0;
	do { /* once for an empty message */
		size_t n = len - off < CR_PAGE ? len - off : CR_PAGE;
		long w;
		if (cr_mem_write(t->hpid, buf, p + off, n, err) < 0 ||
		    cr_inj_ok(j, "write", SYS_write, nfd, (long)buf, (long)n, 0, 0, 0, &w, err) < 0)
			return -1;
		if (w <= 0 && n > 0)
			return rt_err_set(err, EIO, "a write sent nothing");
		off += (size_t)w;
	} while (off < len);
	return 0;
}

static int reconnect_in_task(struct cr_fd_dump *d, uint32_t type, const struct udiag *listener,
			     const uint8_t *msgs, size_t mlen, struct rt_err **err)
{
	struct cr_dtask *t = NULL;
	for (size_t i = 0; i < d->c->n; i++)
		if (d->c->tasks[i].hpid == d->hpid)
			t = &d->c->tasks[i];
	struct cr_inj j;
	struct sockaddr_un sa;
	socklen_t sl = sun_of(listener, &sa);
	long nfd = -1;
	if (!t || !t->scratch)
		return rt_err_set(err, EINVAL, "pid %d: no scratch page", d->hpid);
	unsigned long sc = t->scratch;
	if (cr_dump_inj(t, 0, &j, err) < 0 || cr_mem_write(t->hpid, sc, &sa, sl, err) < 0 ||
	    cr_inj_ok(&j, "socket", SYS_socket, AF_UNIX, (long)type, 0, 0, 0, 0, &nfd, err) < 0 ||
	    cr_inj_ok(&j, "connect", SYS_connect, nfd, (long)sc, sl, 0, 0, 0, NULL, err) < 0)
		return rt_err_wrap(err, "pid %d fd %d: rebuild the backlogged connection", d->hpid,
				   d->fd);
	while (mlen >= 4) {
		uint32_t l;
		memcpy(&l, msgs, 4);
		if (inj_send(t, &j, type, nfd, msgs + 4, l, err) < 0)
			return rt_err_wrap(err, "pid %d fd %d: refill the backlogged connection",
					   d->hpid, d->fd);
		msgs += 4 + l, mlen -= 4 + l;
	}
	/* another socket at d->fd: the table of who holds which is stale */
	cr_sk_fds_changed(d->c);
	if (cr_inj_ok(&j, "dup3", SYS_dup3, nfd, d->fd, (d->flags & O_CLOEXEC) ? O_CLOEXEC : 0, 0,
		      0, 0, NULL, err) < 0 ||
	    cr_inj_ok(&j, "close", SYS_close, nfd, 0, 0, 0, 0, 0, NULL, err) < 0 ||
	    cr_inj_ok(&j, "fcntl", SYS_fcntl, d->fd, F_SETFL, d->flags & (O_NONBLOCK | O_ASYNC), 0,
		      0, 0, NULL, err) < 0)
		return rt_err_wrap(err, "pid %d fd %d: rebuild the backlogged connection", d->hpid,
				   d->fd);
	return 0;
}

static int take_backlogged(struct cr_fd_dump *d, int nl, const struct udiag *u, pid_t lh, int lfd,
			   struct cr_rec *r, struct rt_err **err)
{
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, lh, 0);
	cleanup_close int l = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, lfd, 0);
	struct stat st;
	struct udiag lu, eu;
	if (l < 0 || fstat(l, &st) < 0)
		return rt_err_set(err, errno, "pid %d fd %d: the listener", d->hpid, d->fd);
	if (diag_ino(nl, (uint32_t)st.st_ino, &lu, err) < 0)
		return -1;
	bool first = lu.n_icons > 0 && lu.icons[0] == u->ino;
	free(lu.icons);
	lu.icons = NULL;
	if (!first)
		return rt_err_set(err, EOPNOTSUPP,
				  "pid %d fd %d: another connection waits "
				  "before this one in the unix listener's backlog: not "
				  "supported",
				  d->hpid, d->fd);
	struct pollfd p = {.fd = l, .events = POLLIN};
	if (poll(&p, 1, 0) != 1)
		return rt_err_set(err, EAGAIN, "pid %d fd %d: the listener's backlog is empty",
				  d->hpid, d->fd);
	cleanup_close int a = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (a < 0 || fstat(a, &st) < 0 || diag_ino(nl, (uint32_t)st.st_ino, &eu, err) < 0)
		return a < 0 ? rt_err_set(err, errno, "pid %d fd %d: accept", d->hpid, d->fd) : -1;
	free(eu.icons);
	/* one recv, one message: seqpacket boundaries stay */
	cleanup_free uint8_t *buf = xmalloc(UQ_MAX);
	struct cr_rec q;
	cr_rec_init(&q, 0);
	uint32_t n = 0;
	size_t total = 0;
	for (ssize_t got; total < UQ_MAX && (got = recv(a, buf, UQ_MAX - total, 0)) > 0; n++) {
		cr_put_bytes(&q, buf, (size_t)got);
		total += (size_t)got;
	}
	int ret = reconnect_in_task(d, u->type, &lu, q.buf, q.len, err);
	if (ret == 0) {
		cr_put_u32(r, n);
		cr_put_bytes(r, q.buf, q.len);
	}
	cr_rec_free(&q);
	return ret;
}

static int dump_unix(struct cr_fd_dump *d, struct cr_rec *r, struct rt_err **err)
{
	cleanup_close int nl = diag_sock(d->dup, err);
	if (nl < 0)
		return rt_err_wrap(err, "pid %d fd %d", d->hpid, d->fd);
	struct udiag u;
	if (diag_ino(nl, (uint32_t)d->sb->st_ino, &u, err) < 0)
		return rt_err_wrap(err, "pid %d fd %d", d->hpid, d->fd);
	cleanup_free uint32_t *icons = u.icons;
	struct link lk = {.lfd = -1};
	if (classify(d, nl, &u, &lk, err) < 0)
		return -1;
	if (u.state == TCP_LISTEN && u.n_icons > 0)
		for (uint32_t k = 0; k < u.n_icons; k++) {
			/* icons are the connecting sockets (embryos have no inode) */
			pid_t ph;
			int pfd;
			if (!find_sock(d->c, u.icons[k], &ph, &pfd))
				return rt_err_set(err, EOPNOTSUPP,
						  "pid %d fd %d: a connection "
						  "in the backlog of this unix listener comes from "
						  "outside the checkpoint (socket %u)",
						  d->hpid, d->fd, u.icons[k]);
		}
	cr_put_u32(r, u.type);
	cr_put_u32(r, u.state);
	cr_put_u32(r, u.ino);
	cr_put_u32(r, u.peer);
	cr_put_u8(r, u.shutdown);
	cr_put_u32(r, u.state == TCP_LISTEN ? u.wq : 0);
	cr_put_bytes(r, u.name, u.namelen);
	cr_put_u32(r, lk.how);
	cr_put_u32(r, lk.other);
	if (lk.how == HOW_BACKLOG)
		return take_backlogged(d, nl, &u, lk.lh, lk.lfd, r, err);
	if (u.state == TCP_LISTEN || lk.how == HOW_EXTERNAL) {
		/* nothing queued (outside() refuses a queue), then the peer's name */
		cr_put_u32(r, 0);
		cr_put_bytes(r, NULL, 0);
		if (lk.how == HOW_EXTERNAL)
			cr_put_bytes(r, lk.ext.name, lk.ext.namelen);
		return 0;
	}
	return put_queue(d, &u, r, err);
}

/* ---- restore ---- */

static void free_usk(struct cr_rfile *f)
{
	struct usk *s = f->priv;
	if (!s)
		return;
	for (uint32_t i = 0; i < s->nq; i++)
		free(s->q[i].p);
	free(s->q);
	if (s->pair_fd >= 0)
		close(s->pair_fd);
	free(s);
	f->priv = NULL;
}

static int load_queue(struct cr_rd *r, struct usk *s, struct rt_err **err)
{
	uint32_t n;
	const void *p;
	size_t len;
	if (cr_get_u32(r, "queued", &n, err) < 0 ||
	    cr_get_bytes(r, "queue", &p, &len, UQ_MAX + 4 * UQ_MSGS, err) < 0)
		return -1;
	if (n > UQ_MSGS)
		return rt_err_set(err, 0, "unix socket: %u queued messages", n);
	s->q = xcalloc(n ? n : 1, sizeof(*s->q));
	const uint8_t *b = p;
	for (; s->nq < n; s->nq++) {
		uint32_t l;
		if (len < 4)
			return rt_err_set(err, 0, "unix socket: truncated queue");
		memcpy(&l, b, 4);
		if (l > len - 4)
			return rt_err_set(err, 0, "unix socket: truncated queue");
		s->q[s->nq].p = xmalloc(l ? l : 1);
		memcpy(s->q[s->nq].p, b + 4, l);
		s->q[s->nq].len = l;
		b += 4 + l, len -= 4 + l;
	}
	return len ? rt_err_set(err, 0, "unix socket: bytes after the queue") : 0;
}

/* HOW_EXTERNAL: the peer's path name, NUL included; a datagram socket with
 * nothing queued (dump refuses anything else). */
static int load_outside(struct cr_rd *r, struct usk *s, struct rt_err **err)
{
	const void *p;
	size_t n;
	if (cr_get_bytes(r, "peer name", &p, &n, sizeof(s->ext.name), err) < 0)
		return -1;
	const char *name = p;
	if (n < 2 || name[0] == '\0' || name[n - 1] != '\0' || s->dg.type != SOCK_DGRAM || s->nq)
		return rt_err_set(err, 0, "unix socket: bad record of a socket connected outside");
	memcpy(s->ext.name, name, n);
	s->ext.namelen = (uint32_t)n;
	return 0;
}

static int load_unix(struct cr_rd *r, struct cr_rfile *f, struct rt_err **err)
{
	struct usk *s = xcalloc(1, sizeof(*s));
	s->pair_fd = -1;
	f->priv = s;
	const void *name;
	size_t nl;
	if (cr_get_u32(r, "type", &s->dg.type, err) < 0 ||
	    cr_get_u32(r, "state", &s->dg.state, err) < 0 ||
	    cr_get_u32(r, "ino", &s->dg.ino, err) < 0 ||
	    cr_get_u32(r, "peer", &s->dg.peer, err) < 0 ||
	    cr_get_u8(r, "shutdown", &s->dg.shutdown, err) < 0 ||
	    cr_get_u32(r, "backlog", &s->dg.wq, err) < 0 ||
	    cr_get_bytes(r, "name", &name, &nl, 108, err) < 0 ||
	    cr_get_u32(r, "how", &s->how, err) < 0 ||
	    cr_get_u32(r, "other", &s->other_id, err) < 0 || load_queue(r, s, err) < 0)
		return -1;
	if (s->how == HOW_EXTERNAL && load_outside(r, s, err) < 0)
		return -1;
	if (nl > sizeof(s->dg.name) || s->how < HOW_PLAIN || s->how > HOW_EXTERNAL ||
	    (s->dg.type != SOCK_STREAM && s->dg.type != SOCK_DGRAM && s->dg.type != SOCK_SEQPACKET))
		return rt_err_set(err, 0, "unix socket: bad record");
	memcpy(s->dg.name, name, nl);
	s->dg.namelen = (uint32_t)nl;
	if (s->how == HOW_PAIR)
		f->obj = s->dg.ino < s->dg.peer ? s->dg.ino : s->dg.peer;
	return 0;
}

static socklen_t sun_of(const struct udiag *u, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, u->name, u->namelen);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + u->namelen);
}

static int send_all_msgs(int via, const struct usk *s, const struct sockaddr_un *to,
			 socklen_t tolen)
{
	for (uint32_t i = 0; i < s->nq; i++) {
		size_t done = 0;
		do {
			ssize_t w = sendto(via, s->q[i].p + done, s->q[i].len - done,
					   MSG_DONTWAIT | MSG_NOSIGNAL, (const void *)to, tolen);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -1;
			done += (size_t)w;
		} while (done < s->q[i].len);
	}
	return 0;
}

struct mk {
	const struct usk *s;
	const struct udiag *connect_to; /* named peer or listener */
	const char *what;
};

/* In the container's namespaces: one socket as the record says. */
static int mk_sock(void *arg, int *fds, size_t *n, char *msg)
{
	const struct mk *m = arg;
	const struct usk *s = m->s;
	struct sockaddr_un sa;
	int e;
	if (s->how == HOW_PAIR) {
		if (socketpair(AF_UNIX, (int)s->dg.type, 0, fds) < 0)
			return cr_ns_fail(msg, "socketpair");
		*n = 2;
		if (send_all_msgs(fds[1], s, NULL, 0) < 0)
			return cr_ns_fail(msg, "refill the socket's queue");
		return 0;
	}
	int sk = socket(AF_UNIX, (int)s->dg.type, 0);
	if (sk < 0)
		return cr_ns_fail(msg, "socket");
	fds[(*n)++] = sk;
	/* bound first: the outside peer may answer to our name */
	bool named = s->dg.namelen > 0 && (s->how == HOW_PLAIN || s->how == HOW_EXTERNAL);
	if (named) {
		socklen_t l = sun_of(&s->dg, &sa);
		struct stat st;
		if (sa.sun_path[0] && lstat(sa.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(sa.sun_path);
		if (bind(sk, (struct sockaddr *)&sa, l) < 0)
			return cr_ns_fail(msg, "bind to '%s'",
					  sa.sun_path[0] ? sa.sun_path : sa.sun_path + 1);
		if (s->dg.state == TCP_LISTEN && listen(sk, (int)s->dg.wq) < 0)
			return cr_ns_fail(msg, "listen");
		if (s->nq) {
			int tmp = socket(AF_UNIX, (int)s->dg.type, 0);
			e = tmp < 0 ? -1 : send_all_msgs(tmp, s, &sa, l);
			if (tmp >= 0)
				close(tmp);
			if (e < 0)
				return cr_ns_fail(msg, "refill the socket's queue");
		}
	}
	if (m->connect_to) {
		socklen_t l = sun_of(m->connect_to, &sa);
		if (connect(sk, (struct sockaddr *)&sa, l) < 0)
			return cr_ns_fail(msg, "connect to '%s'",
					  sa.sun_path[0] ? sa.sun_path : sa.sun_path + 1);
		/* a backlogged connection's record holds what its client had sent */
		if (s->how == HOW_BACKLOG && send_all_msgs(sk, s, NULL, 0) < 0)
			return cr_ns_fail(msg, "send the backlogged connection's data again");
	}
	return 0;
}

static void set_flags(int fd, uint32_t flags)
{
	fcntl(fd, F_SETFL, (int)(flags & (O_NONBLOCK | O_ASYNC)));
}

static int shut(int fd, const struct usk *s)
{
	return (s->dg.shutdown & 2) && shutdown(fd, SHUT_WR) < 0 ? -1 : 0; /* SEND_SHUTDOWN */
}

static int open_pair(struct cr_restore_ctx *c, struct cr_rfile *f, struct usk *s,
		     struct rt_err **err)
{
	struct cr_rfile *o = cr_rfile_owner(c, f);
	if (o == f) {
		int fds[2];
		size_t n;
		struct mk m = {.s = s};
		if (cr_in_task_ns(c->o->agent_pid, mk_sock, &m, fds, 2, &n, err) < 0)
			return -1;
		f->fd = fds[0];
		s->pair_fd = fds[1];
		return 0;
	}
	if (!cr_rfile_get(c, o->id, err))
		return -1;
	struct usk *os = o->priv;
	if (os->pair_fd < 0)
		return rt_err_set(err, EINVAL, "unix socket %u: its pair was taken", s->dg.ino);
	f->fd = steal_fd(&os->pair_fd);
	if (send_all_msgs(o->fd, s, NULL, 0) < 0)
		return rt_err_set(err, errno, "refill the queue of unix socket %u", s->dg.ino);
	if (shut(o->fd, os) < 0 || shut(f->fd, s) < 0)
		return rt_err_set(err, errno, "shutdown of unix socket %u", s->dg.ino);
	return 0;
}

static int open_unix(struct cr_restore_ctx *c, struct cr_rfile *f, struct rt_err **err)
{
	struct usk *s = f->priv;
	if (s->how == HOW_PAIR) {
		if (open_pair(c, f, s, err) < 0)
			return -1;
		set_flags(f->fd, f->flags);
		return 0;
	}
	struct mk m = {.s = s};
	char pn[sizeof(s->ext.name) + 32];
	if (s->how == HOW_EXTERNAL) {
		name_str(&s->ext, pn, sizeof(pn));
		if (!c->o->ext_unix_sk)
			return rt_err_set(err, EOPNOTSUPP,
					  "unix dgram socket %u: connected to %s outside the "
					  "checkpoint: restore with --ext-unix-sk",
					  s->dg.ino, pn);
		m.connect_to = &s->ext;
	} else if (s->how != HOW_PLAIN) {
		struct cr_rfile *o = cr_rfile_get(c, s->other_id, err);
		if (!o)
			return -1;
		if (o->kind != CR_FK_SOCKET || ((struct cr_sk_head *)o->priv)->fam != &cr_sk_unix)
			return rt_err_set(err, EINVAL,
					  "unix socket %u: file %u is no unix "
					  "socket",
					  s->dg.ino, s->other_id);
		m.connect_to = &((struct usk *)o->priv)->dg;
	}
	int fds[1];
	size_t n;
	if (cr_in_task_ns(c->o->agent_pid, mk_sock, &m, fds, 1, &n, err) < 0) {
		if (s->how == HOW_EXTERNAL)
			rt_err_wrap(err,
				    "unix dgram socket %u, connected to %s outside the checkpoint",
				    s->dg.ino, pn);
		return -1;
	}
	f->fd = fds[0];
	if (s->how == HOW_NAMED_PEER && s->nq) {
		/* Our queue came from the peer; nothing but a pair can refill it. */
		return rt_err_set(err, EOPNOTSUPP,
				  "unix socket %u: %u queued messages from "
				  "a socket that is not its pair",
				  s->dg.ino, s->nq);
	}
	if (shut(f->fd, s) < 0)
		return rt_err_set(err, errno, "shutdown of unix socket %u", s->dg.ino);
	set_flags(f->fd, f->flags);
	return 0;
}

static void describe_unix(const struct cr_rfile *f, struct cr_desc *d)
{
	static const char *const hows[] = {[HOW_PLAIN] = "unconnected",
					   [HOW_PAIR] = "pair",
					   [HOW_NAMED_PEER] = "connected to a named socket",
					   [HOW_BACKLOG] = "in a listener's backlog",
					   [HOW_EXTERNAL] =
						   "connected to a socket outside the checkpoint"};
	const struct usk *s = f->priv;
	size_t bytes = 0;
	cr_desc_str(d, "type", type_name(s->dg.type));
	cr_desc_bool(d, "listening", s->dg.state == TCP_LISTEN);
	if (s->dg.namelen && s->dg.name[0])
		cr_desc_strf(d, "name", "%.*s", (int)s->dg.namelen, s->dg.name);
	else if (s->dg.namelen)
		cr_desc_strf(d, "name", "@%.*s", (int)s->dg.namelen - 1, s->dg.name + 1);
	cr_desc_str(d, "connection", hows[s->how]);
	if (s->dg.peer)
		cr_desc_uint(d, "peer_inode", s->dg.peer);
	if (s->how == HOW_EXTERNAL)
		cr_desc_strf(d, "peer_name", "%.*s", (int)s->ext.namelen, s->ext.name);
	cr_desc_uint(d, "inode", s->dg.ino);
	if (s->dg.state == TCP_LISTEN)
		cr_desc_uint(d, "backlog", s->dg.wq);
	for (uint32_t i = 0; i < s->nq; i++)
		bytes += s->q[i].len;
	cr_desc_uint(d, "queued_messages", s->nq);
	cr_desc_uint(d, "queued_bytes", bytes);
	if (s->dg.shutdown)
		cr_desc_str(d, "shutdown",
			    (s->dg.shutdown & 3) == 3 ? "both"
			    : s->dg.shutdown & 2      ? "write"
						      : "read");
}

const struct cr_fd_kind cr_sk_unix = {
	.name = "unix",
	.kind = CR_SK_UNIX,
	.dump = dump_unix,
	.load = load_unix,
	.open = open_unix,
	.describe = describe_unix,
	.free = free_usk,
};
