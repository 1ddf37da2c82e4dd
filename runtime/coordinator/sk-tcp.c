/* Established TCP connections (--tcp-established), with TCP_REPAIR exactly
 * as KERNEL-NOTES.md describes: through our duplicate, in repair mode, we
 * read both queues' sequence numbers and contents (MSG_PEEK; the send
 * queue reads in repair mode too), the negotiated options, the timestamp
 * and the window, then leave repair mode so a running task sees nothing.
 *
 * Restore rebuilds each socket in repair mode in the container's netns
 * and leaves it there until the other end of the connection (when the
 * checkpoint has it) is rebuilt too: an end that left repair mode early
 * would send into a port nobody holds yet and be reset.
 *
 * A connection still in a listener's backlog (connected, not accepted)
 * has no socket we can reach but the listener's: we accept it through our
 * duplicate, keep what it received, drop it silently (repair mode), and
 * rebuild the client in its task by injection (same address, connected
 * again to the listener, the data sent again), so the task's state is
 * whole whatever comes next. Restore does the same from the record. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "coordinator/sockets.h"
#include "util.h"

#define TQ_MAX (32u << 20)

enum { MODE_REPAIR = 1, MODE_BACKLOG };

struct tsk {
	struct cr_sk_head head;
	uint32_t mode, family;
	struct sockaddr_storage local, peer;
	socklen_t llen, plen;
	uint32_t seq[2];  /* recv, send: TCP_QUEUE_SEQ */
	uint8_t *data[2]; /* recv, send queue (MODE_BACKLOG: data[0] is what
			   * the accepting side had received) */
	size_t len[2];
	uint32_t mss, opts, snd_wscale, rcv_wscale, tstamp;
	struct tcp_repair_window win;
	int32_t nodelay, keepalive, sndbuf, rcvbuf;
	uint32_t listener_id;  /* MODE_BACKLOG */
	uint32_t peer_in_dump; /* MODE_REPAIR: the other end is checkpointed too */
};

static int iopt(int fd, int level, int name)
{
	int v = 0;
	socklen_t l = sizeof(v);
	getsockopt(fd, level, name, &v, &l);
	return v;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
}

/* ---- dump ---- */

static int peek_queue(int fd, int q, uint32_t *seq, uint8_t **data, size_t *len)
{
	socklen_t l = sizeof(*seq);
	int n = 0;
	*data = NULL;
	*len = 0;
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) < 0 ||
	    getsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, seq, &l) < 0 ||
	    ioctl(fd, q == TCP_RECV_QUEUE ? SIOCINQ : SIOCOUTQ, &n) < 0)
		return -1;
	if (n <= 0)
		return 0;
	if ((unsigned)n > TQ_MAX) {
		errno = EFBIG;
		return -1;
	}
	*data = xmalloc((size_t)n);
	ssize_t got = recv(fd, *data, (size_t)n, MSG_PEEK | MSG_DONTWAIT);
	if (got != n) {
		errno = got < 0 ? errno : EIO;
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

static int read_repair(int fd, struct tsk *s)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	if (peek_queue(fd, TCP_RECV_QUEUE, &s->seq[0], &s->data[0], &s->len[0]) < 0 ||
	    peek_queue(fd, TCP_SEND_QUEUE, &s->seq[1], &s->data[1], &s->len[1]) < 0 ||
	    getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0)
		return -1;
	s->opts = ti.tcpi_options;
	s->snd_wscale = ti.tcpi_snd_wscale;
	s->rcv_wscale = ti.tcpi_rcv_wscale;
	l = sizeof(s->mss);
	if (getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &s->mss, &l) < 0)
		return -1;
	l = sizeof(s->tstamp);
	if (getsockopt(fd, IPPROTO_TCP, TCP_TIMESTAMP, &s->tstamp, &l) < 0)
		return -1;
	l = sizeof(s->win);
	return getsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &s->win, &l);
}

/* Does any task of the checkpoint hold a TCP socket named `local` (and,
 * with peer, connected to it)? Its pid and fd. */
static bool find_tcp(struct cr_dump_ctx *c, const struct sockaddr_storage *local,
		     const struct sockaddr_storage *peer, bool listening, pid_t *hpid, int *fd)
{
	char path[64], link[64];
	for (size_t i = 0; i < c->n; i++) {
		if (c->tasks[i].zombie)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", c->tasks[i].hpid);
		cleanup_closedir DIR *d = opendir(path);
		cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, c->tasks[i].hpid, 0);
		struct dirent *de;
		while (d && pidfd >= 0 && (de = readdir(d)) != NULL) {
			snprintf(path, sizeof(path), "/proc/%d/fd/%.12s", c->tasks[i].hpid,
				 de->d_name);
			ssize_t n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0 || (link[n] = '\0', strncmp(link, "socket:", 7) != 0))
				continue;
			cleanup_close int dup =
				(int)syscall(SYS_pidfd_getfd, pidfd, atoi(de->d_name), 0);
			struct sockaddr_storage a, b;
			socklen_t al = sizeof(a), bl = sizeof(b);
			if (dup < 0 || iopt(dup, SOL_SOCKET, SO_PROTOCOL) != IPPROTO_TCP ||
			    getsockname(dup, (struct sockaddr *)&a, &al) < 0 ||
			    !same_addr(&a, local))
				continue;
			if (listening != (iopt(dup, SOL_SOCKET, SO_ACCEPTCONN) != 0))
				continue;
			if (peer && (getpeername(dup, (struct sockaddr *)&b, &bl) < 0 ||
				     !same_addr(&b, peer)))
				continue;
			*hpid = c->tasks[i].hpid;
			*fd = atoi(de->d_name);
			return true;
		}
	}
	return false;
}

/* Accept our connection from the listener (hpid, lfd); its received data. */
static int take_from_backlog(struct cr_fd_dump *d, pid_t hpid, int lfd, struct tsk *s,
			     struct rt_err **err)
{
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, hpid, 0);
	cleanup_close int l = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, lfd, 0);
	struct pollfd p = {.fd = l, .events = POLLIN};
	if (l < 0 || poll(&p, 1, 0) != 1)
		return rt_err_set(err, errno, "pid %d fd %d: the listener's backlog", d->hpid,
				  d->fd);
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	cleanup_close int a = accept4(l, (struct sockaddr *)&from, &fl, SOCK_CLOEXEC);
	if (a < 0)
		return rt_err_set(err, errno, "pid %d fd %d: accept from the listener", d->hpid,
				  d->fd);
	int one = 1;
	setsockopt(a, IPPROTO_TCP, TCP_REPAIR, &one, sizeof(one)); /* close silently */
	if (!same_addr(&from, &s->local))
		return rt_err_set(err, EOPNOTSUPP,
				  "pid %d fd %d: the listener's backlog holds "
				  "another connection first: several backlogged TCP connections "
				  "are not supported",
				  d->hpid, d->fd);
	uint32_t seq;
	if (peek_queue(a, TCP_RECV_QUEUE, &seq, &s->data[0], &s->len[0]) < 0)
		return rt_err_set(err, errno, "pid %d fd %d: the backlogged connection's data",
				  d->hpid, d->fd);
	return 0;
}

/* Rebuild the client at fd in its task: a new socket at the same address,
 * connected to the listener again, the data sent again. */
static int reconnect_in_task(struct cr_fd_dump *d, const struct tsk *s, struct rt_err **err)
{
	struct cr_dtask *t = NULL;
	for (size_t i = 0; i < d->c->n; i++)
		if (d->c->tasks[i].hpid == d->hpid)
			t = &d->c->tasks[i];
	struct cr_inj j;
	long nfd = -1, r;
	int one = 1;
	if (!t || !t->scratch || cr_dump_inj(t, 0, &j, err) < 0)
		return t && t->scratch ? -1
				       : rt_err_set(err, EINVAL, "pid %d: no scratch", d->hpid);
	unsigned long sc = t->scratch;
	/* The old socket goes silently: in repair mode a disconnect sends
	 * nothing and frees its address. */
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	if (setsockopt(d->dup, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(d->dup, IPPROTO_TCP, TCP_REPAIR, &one, sizeof(one)) < 0 ||
	    connect(d->dup, &unspec, sizeof(unspec)) < 0)
		return rt_err_set(err, errno, "pid %d fd %d: drop the backlogged connection",
				  d->hpid, d->fd);
	cr_sk_fds_changed(d->c); /* another socket goes to d->fd */
	if (cr_mem_write(t->hpid, sc, &one, sizeof(one), err) < 0 ||
	    cr_mem_write(t->hpid, sc + 16, &s->local, s->llen, err) < 0 ||
	    cr_mem_write(t->hpid, sc + 256, &s->peer, s->plen, err) < 0 ||
	    cr_inj_ok(&j, "socket", SYS_socket, s->family, SOCK_STREAM, 0, 0, 0, 0, &nfd, err) <
		    0 ||
	    cr_inj_ok(&j, "SO_REUSEADDR", SYS_setsockopt, nfd, SOL_SOCKET, SO_REUSEADDR, (long)sc,
		      4, 0, NULL, err) < 0 ||
	    cr_inj_ok(&j, "bind", SYS_bind, nfd, (long)(sc + 16), s->llen, 0, 0, 0, NULL, err) <
		    0 ||
	    cr_inj_ok(&j, "connect", SYS_connect, nfd, (long)(sc + 256), s->plen, 0, 0, 0, NULL,
		      err) < 0 ||
	    cr_inj_ok(&j, "dup3", SYS_dup3, nfd, d->fd, (d->flags & O_CLOEXEC) ? O_CLOEXEC : 0, 0,
		      0, 0, NULL, err) < 0 ||
	    cr_inj_ok(&j, "close", SYS_close, nfd, 0, 0, 0, 0, 0, NULL, err) < 0)
		return rt_err_wrap(err, "pid %d fd %d: rebuild the backlogged connection", d->hpid,
				   d->fd);
	for (size_t off = 0; off < s->len[0];) {
		size_t n = s->len[0] - off < CR_PAGE ? s->len[0] - off : CR_PAGE;
		if (cr_mem_write(t->hpid, sc + CR_PAGE, s->data[0] + off, n, err) < 0 ||
		    cr_inj_ok(&j, "write", SYS_write, d->fd, (long)(sc + CR_PAGE), (long)n, 0, 0, 0,
			      &r, err) < 0)
			return rt_err_wrap(err, "pid %d fd %d: refill the backlogged connection",
					   d->hpid, d->fd);
		off += (size_t)r;
	}
	if (s->nodelay)
		cr_inj_ok(&j, "TCP_NODELAY", SYS_setsockopt, d->fd, IPPROTO_TCP, TCP_NODELAY,
			  (long)sc, 4, 0, NULL, err);
	if (s->keepalive)
		cr_inj_ok(&j, "SO_KEEPALIVE", SYS_setsockopt, d->fd, SOL_SOCKET, SO_KEEPALIVE,
			  (long)sc, 4, 0, NULL, err);
	return cr_inj_ok(&j, "fcntl", SYS_fcntl, d->fd, F_SETFL, d->flags & (O_NONBLOCK | O_ASYNC),
			 0, 0, 0, NULL, err);
}

static void put_tsk(struct cr_rec *r, const struct tsk *s)
{
	cr_put_u32(r, s->mode);
	cr_put_u32(r, s->family);
	cr_put_bytes(r, &s->local, s->llen);
	cr_put_bytes(r, &s->peer, s->plen);
	for (int q = 0; q < 2; q++) {
		cr_put_u32(r, s->seq[q]);
		cr_put_bytes(r, s->data[q], s->len[q]);
	}
	cr_put_u32(r, s->mss);
	cr_put_u32(r, s->opts);
	cr_put_u32(r, s->snd_wscale);
	cr_put_u32(r, s->rcv_wscale);
	cr_put_u32(r, s->tstamp);
	cr_put_bytes(r, &s->win, sizeof(s->win));
	cr_put_u32(r, (uint32_t)s->nodelay);
	cr_put_u32(r, (uint32_t)s->keepalive);
	cr_put_u32(r, (uint32_t)s->sndbuf);
	cr_put_u32(r, (uint32_t)s->rcvbuf);
	cr_put_u32(r, s->listener_id);
	cr_put_u32(r, s->peer_in_dump);
}

static int dump_tcp(struct cr_fd_dump *d, struct cr_rec *r, struct rt_err **err)
{
	struct tsk s = {.mode = MODE_REPAIR};
	pid_t ph;
	int pfd, ret = 0;
	s.family = (uint32_t)iopt(d->dup, SOL_SOCKET, SO_DOMAIN);
	s.llen = sizeof(s.local);
	s.plen = sizeof(s.peer);
	if (getsockname(d->dup, (struct sockaddr *)&s.local, &s.llen) < 0 ||
	    getpeername(d->dup, (struct sockaddr *)&s.peer, &s.plen) < 0)
		return rt_err_set(err, errno, "pid %d fd %d: TCP addresses", d->hpid, d->fd);
	s.nodelay = iopt(d->dup, IPPROTO_TCP, TCP_NODELAY);
	s.keepalive = iopt(d->dup, SOL_SOCKET, SO_KEEPALIVE);
	s.sndbuf = iopt(d->dup, SOL_SOCKET, SO_SNDBUF);
	s.rcvbuf = iopt(d->dup, SOL_SOCKET, SO_RCVBUF);
	s.peer_in_dump = find_tcp(d->c, &s.peer, &s.local, false, &ph, &pfd);
	if (!s.peer_in_dump && find_tcp(d->c, &s.peer, NULL, true, &ph, &pfd)) {
		s.mode = MODE_BACKLOG;
		if (cr_fd_file_id(d->c, ph, pfd, &s.listener_id, err) < 0 ||
		    take_from_backlog(d, ph, pfd, &s, err) < 0 || reconnect_in_task(d, &s, err) < 0)
			ret = -1;
	} else {
		int on = 1, off = 0;
		if (setsockopt(d->dup, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)) < 0)
			return rt_err_set(err, errno, "pid %d fd %d: TCP_REPAIR", d->hpid, d->fd);
		if (read_repair(d->dup, &s) < 0)
			ret = rt_err_set(err, errno,
					 "pid %d fd %d: read the TCP connection in "
					 "repair mode",
					 d->hpid, d->fd);
		setsockopt(d->dup, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off));
	}
	if (ret == 0)
		put_tsk(r, &s);
	free(s.data[0]);
	free(s.data[1]);
	return ret;
}

/* ---- restore ---- */

static void free_tcp(struct cr_rfile *f)
{
	struct tsk *s = f->priv;
	if (!s)
		return;
	free(s->data[0]);
	free(s->data[1]);
	free(s);
	f->priv = NULL;
}

static int get_data(struct cr_rd *r, const char *what, uint8_t **to, size_t *n, struct rt_err **err)
{
	const void *p;
	if (cr_get_bytes(r, what, &p, n, TQ_MAX, err) < 0)
		return -1;
	*to = xmalloc(*n ? *n : 1);
	memcpy(*to, p, *n);
	return 0;
}

static int load_tcp(struct cr_rd *r, struct cr_rfile *f, struct rt_err **err)
{
	struct tsk *s = xcalloc(1, sizeof(*s));
	const void *w;
	size_t wl;
	f->priv = s;
	if (cr_get_u32(r, "mode", &s->mode, err) < 0 ||
	    cr_get_u32(r, "family", &s->family, err) < 0 ||
	    cr_sk_get_addr(r, "local", &s->local, &s->llen, err) < 0 ||
	    cr_sk_get_addr(r, "peer", &s->peer, &s->plen, err) < 0 ||
	    cr_get_u32(r, "recv seq", &s->seq[0], err) < 0 ||
	    get_data(r, "recv queue", &s->data[0], &s->len[0], err) < 0 ||
	    cr_get_u32(r, "send seq", &s->seq[1], err) < 0 ||
	    get_data(r, "send queue", &s->data[1], &s->len[1], err) < 0 ||
	    cr_get_u32(r, "mss", &s->mss, err) < 0 || cr_get_u32(r, "options", &s->opts, err) < 0 ||
	    cr_get_u32(r, "snd_wscale", &s->snd_wscale, err) < 0 ||
	    cr_get_u32(r, "rcv_wscale", &s->rcv_wscale, err) < 0 ||
	    cr_get_u32(r, "timestamp", &s->tstamp, err) < 0 ||
	    cr_get_bytes(r, "window", &w, &wl, sizeof(s->win), err) < 0 ||
	    cr_get_u32(r, "nodelay", (uint32_t *)&s->nodelay, err) < 0 ||
	    cr_get_u32(r, "keepalive", (uint32_t *)&s->keepalive, err) < 0 ||
	    cr_get_u32(r, "sndbuf", (uint32_t *)&s->sndbuf, err) < 0 ||
	    cr_get_u32(r, "rcvbuf", (uint32_t *)&s->rcvbuf, err) < 0 ||
	    cr_get_u32(r, "listener", &s->listener_id, err) < 0 ||
	    cr_get_u32(r, "peer in checkpoint", &s->peer_in_dump, err) < 0)
		return -1;
	if (wl != sizeof(s->win) || (s->mode != MODE_REPAIR && s->mode != MODE_BACKLOG) ||
	    (s->family != AF_INET && s->family != AF_INET6))
		return rt_err_set(err, 0, "TCP connection: bad record");
	memcpy(&s->win, w, wl);
	/* the two ends of one connection share a key */
	uint64_t a = cr_hash64(&s->local, s->llen), b = cr_hash64(&s->peer, s->plen);
	f->obj = (a ^ b) | 1;
	return 0;
}

static int fill(int fd, int q, const uint8_t *p, size_t n)
{
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) < 0)
		return -1;
	while (n > 0) {
		ssize_t w = send(fd, p, n, 0);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* In the container's netns: the socket in repair mode, not left yet. */
static int mk_repair(void *arg, int *fds, size_t *n, char *msg)
{
	const struct tsk *s = arg;
	int one = 1;
	int sk = socket((int)s->family, SOCK_STREAM, IPPROTO_TCP);
	if (sk < 0)
		return cr_ns_fail(msg, "socket");
	fds[(*n)++] = sk;
	int sb = s->sndbuf > (int)s->len[1] * 2 ? s->sndbuf : (int)s->len[1] * 2 + 65536;
	int rb = s->rcvbuf > (int)s->len[0] * 2 ? s->rcvbuf : (int)s->len[0] * 2 + 65536;
	if (setsockopt(sk, IPPROTO_TCP, TCP_REPAIR, &one, sizeof(one)) < 0)
		return cr_ns_fail(msg, "TCP_REPAIR");
	/* no SO_REUSEADDR: it would undo repair mode's forced reuse, which
	 * lets an accepted socket share its listener's port */
	if (setsockopt(sk, SOL_SOCKET, SO_SNDBUFFORCE, &sb, sizeof(sb)) < 0 ||
	    setsockopt(sk, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof(rb)) < 0)
		return cr_ns_fail(msg, "socket buffers");
	if (bind(sk, (const struct sockaddr *)&s->local, s->llen) < 0)
		return cr_ns_fail(msg, "bind");
	for (int q = 0; q < 2; q++) {
		int qq = q ? TCP_SEND_QUEUE : TCP_RECV_QUEUE;
		uint32_t seq = s->seq[q] - (uint32_t)s->len[q];
		if (setsockopt(sk, IPPROTO_TCP, TCP_REPAIR_QUEUE, &qq, sizeof(qq)) < 0 ||
		    setsockopt(sk, IPPROTO_TCP, TCP_QUEUE_SEQ, &seq, sizeof(seq)) < 0)
			return cr_ns_fail(msg, "TCP_QUEUE_SEQ");
	}
	if (connect(sk, (const struct sockaddr *)&s->peer, s->plen) < 0)
		return cr_ns_fail(msg, "connect in repair mode");
	struct tcp_repair_opt o[4];
	socklen_t no = 0;
	o[no++] = (struct tcp_repair_opt){TCPOPT_MAXSEG, s->mss};
	if (s->opts & TCPI_OPT_WSCALE)
		o[no++] = (struct tcp_repair_opt){TCPOPT_WINDOW,
						  s->snd_wscale | (s->rcv_wscale << 16)};
	if (s->opts & TCPI_OPT_SACK)
		o[no++] = (struct tcp_repair_opt){TCPOPT_SACK_PERMITTED, 0};
	if (s->opts & TCPI_OPT_TIMESTAMPS)
		o[no++] = (struct tcp_repair_opt){TCPOPT_TIMESTAMP, 0};
	if (setsockopt(sk, IPPROTO_TCP, TCP_REPAIR_OPTIONS, o, no * sizeof(o[0])) < 0)
		return cr_ns_fail(msg, "TCP_REPAIR_OPTIONS");
	if ((s->opts & TCPI_OPT_TIMESTAMPS) &&
	    setsockopt(sk, IPPROTO_TCP, TCP_TIMESTAMP, &s->tstamp, sizeof(s->tstamp)) < 0)
		return cr_ns_fail(msg, "TCP_TIMESTAMP");
	if (fill(sk, TCP_RECV_QUEUE, s->data[0], s->len[0]) < 0 ||
	    fill(sk, TCP_SEND_QUEUE, s->data[1], s->len[1]) < 0)
		return cr_ns_fail(msg, "refill the queues");
	if (setsockopt(sk, IPPROTO_TCP, TCP_REPAIR_WINDOW, &s->win, sizeof(s->win)) < 0)
		return cr_ns_fail(msg, "TCP_REPAIR_WINDOW");
	if ((s->nodelay && setsockopt(sk, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) ||
	    (s->keepalive && setsockopt(sk, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0))
		return cr_ns_fail(msg, "socket options");
	return 0;
}

/* In the container's netns: connected again to the listener, data sent. */
static int mk_backlog(void *arg, int *fds, size_t *n, char *msg)
{
	const struct tsk *s = arg;
	int one = 1;
	int sk = socket((int)s->family, SOCK_STREAM, IPPROTO_TCP);
	if (sk < 0)
		return cr_ns_fail(msg, "socket");
	fds[(*n)++] = sk;
	setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(sk, (const struct sockaddr *)&s->local, s->llen) < 0)
		return cr_ns_fail(msg, "bind");
	if (connect(sk, (const struct sockaddr *)&s->peer, s->plen) < 0)
		return cr_ns_fail(msg, "connect to the listener");
	if (s->len[0] && cr_write_all(sk, s->data[0], s->len[0]) < 0)
		return cr_ns_fail(msg, "send the queued data again");
	if ((s->nodelay && setsockopt(sk, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) ||
	    (s->keepalive && setsockopt(sk, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0))
		return cr_ns_fail(msg, "socket options");
	return 0;
}

static int leave_repair(int fd)
{
	int off = 0;
	return setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off));
}

static int open_tcp(struct cr_restore_ctx *c, struct cr_rfile *f, struct rt_err **err)
{
	struct tsk *s = f->priv;
	int fds[1];
	size_t n;
	if (s->mode == MODE_BACKLOG && !cr_rfile_get(c, s->listener_id, err))
		return -1;
	if (cr_in_task_ns(c->o->agent_pid, s->mode == MODE_BACKLOG ? mk_backlog : mk_repair, s, fds,
			  1, &n, err) < 0)
		return -1;
	f->fd = fds[0];
	if (s->mode == MODE_REPAIR) {
		/* The first end waits in repair mode for the second. */
		struct cr_rfile *o = cr_rfile_owner(c, f);
		if (o != f && o->fd >= 0 && leave_repair(o->fd) < 0)
			return rt_err_set(err, errno, "leave TCP repair mode");
		if (o != f && leave_repair(f->fd) < 0)
			return rt_err_set(err, errno, "leave TCP repair mode");
		if (o == f && !s->peer_in_dump && leave_repair(f->fd) < 0)
			return rt_err_set(err, errno, "leave TCP repair mode");
	}
	if (fcntl(f->fd, F_SETFL, (int)(f->flags & (O_NONBLOCK | O_ASYNC))) < 0)
		return rt_err_set(err, errno, "fcntl");
	return 0;
}

static void describe_tcp(const struct cr_rfile *f, struct cr_desc *d)
{
	const struct tsk *s = f->priv;
	cr_desc_str(d, "state",
		    s->mode == MODE_BACKLOG ? "in a listener's backlog" : "established");
	cr_sk_describe_addr(d, "local", &s->local);
	cr_sk_describe_addr(d, "peer", &s->peer);
	cr_desc_uint(d, "recv_queue", s->len[0]);
	if (s->mode == MODE_REPAIR) {
		cr_desc_uint(d, "send_queue", s->len[1]);
		cr_desc_uint(d, "mss", s->mss);
	}
	cr_desc_bool(d, "nodelay", s->nodelay);
	cr_desc_bool(d, "keepalive", s->keepalive);
}

const struct cr_fd_kind cr_sk_tcp = {
	.name = "tcp connection",
	.kind = CR_SK_TCP,
	.dump = dump_tcp,
	.load = load_tcp,
	.open = open_tcp,
	.describe = describe_tcp,
	.free = free_tcp,
};
