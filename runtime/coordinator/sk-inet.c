/* IPv4/IPv6 sockets that carry no connection state: listening or unbound
 * TCP sockets and UDP sockets (bound, connected, with queued datagrams).
 * We record the address, the peer of a connected UDP socket, the backlog
 * (TCP_INFO's tcpi_sacked of a listener) and the options an application
 * sets; datagrams are peeked with SO_PEEK_OFF together with their sender.
 * Restore builds them in the container's network namespace (sk-ns.c); a
 * queued datagram is sent again from its sender's address when that
 * address is free then, from an unbound socket otherwise. Connections in a
 * TCP listener's backlog are established connections: sk-tcp.c. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "coordinator/sockets.h"
#include "util.h"

#define IQ_MAX	(8u << 20)
#define IQ_MSGS 4096

/* Options restored as they were: level, name. */
static const struct {
	int level, name;
	const char *what;
} opts[] = {
	{SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR"}, {SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT"},
	{SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE"}, {SOL_SOCKET, SO_BROADCAST, "SO_BROADCAST"},
	{SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"},	    {SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF"},
	{IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY"},  {IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY"},
};
#define N_OPTS ARRAY_SIZE(opts)

struct dgram {
	struct sockaddr_storage from;
	socklen_t fromlen;
	uint8_t *p;
	size_t len;
};

struct isk {
	struct cr_sk_head head;
	uint32_t family, type, proto, state, backlog;
	struct sockaddr_storage addr, peer;
	socklen_t addrlen, peerlen;
	int32_t opt[N_OPTS]; /* INT32_MIN: not applicable */
	uint32_t nq;
	struct dgram *q;
};

static bool applies(const struct isk *s, size_t i)
{
	if (opts[i].level == IPPROTO_TCP)
		return s->type == SOCK_STREAM;
	if (opts[i].level == IPPROTO_IPV6)
		return s->family == AF_INET6;
	return true;
}

/* ---- dump ---- */

static int put_queue(struct cr_fd_dump *d, struct cr_rec *r, struct rt_err **err)
{
	int off = -1, zero = 0;
	socklen_t ol = sizeof(off);
	if (getsockopt(d->dup, SOL_SOCKET, SO_PEEK_OFF, &off, &ol) < 0 ||
	    setsockopt(d->dup, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) < 0)
		return rt_err_set(err, errno, "pid %d fd %d: SO_PEEK_OFF", d->hpid, d->fd);
	cleanup_free uint8_t *buf = xmalloc(65536);
	struct cr_rec q;
	cr_rec_init(&q, 0);
	uint32_t n = 0;
	size_t total = 0;
	int ret = 0;
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t got = recvfrom(d->dup, buf, 65536, MSG_PEEK | MSG_DONTWAIT,
				       (struct sockaddr *)&from, &fl);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		total += (size_t)got;
		if (++n > IQ_MSGS || total > IQ_MAX) {
			ret = rt_err_set(err, EFBIG, "pid %d fd %d: too many queued datagrams",
					 d->hpid, d->fd);
			break;
		}
		cr_put_bytes(&q, &from, fl);
		cr_put_bytes(&q, buf, (size_t)got);
	}
	setsockopt(d->dup, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off));
	if (ret == 0) {
		cr_put_u32(r, n);
		cr_put_bytes(r, q.buf, q.len);
	}
	cr_rec_free(&q);
	return ret;
}

static int dump_inet(struct cr_fd_dump *d, struct cr_rec *r, struct rt_err **err)
{
	struct isk s = {0};
	socklen_t l = sizeof(int);
	int v;
	getsockopt(d->dup, SOL_SOCKET, SO_DOMAIN, &v, &l), s.family = (uint32_t)v;
	getsockopt(d->dup, SOL_SOCKET, SO_TYPE, &v, &l), s.type = (uint32_t)v;
	getsockopt(d->dup, SOL_SOCKET, SO_PROTOCOL, &v, &l), s.proto = (uint32_t)v;
	s.addrlen = sizeof(s.addr);
	if (getsockname(d->dup, (struct sockaddr *)&s.addr, &s.addrlen) < 0)
		return rt_err_set(err, errno, "pid %d fd %d: getsockname", d->hpid, d->fd);
	s.peerlen = sizeof(s.peer);
	if (getpeername(d->dup, (struct sockaddr *)&s.peer, &s.peerlen) < 0)
		s.peerlen = 0;
	if (s.type == SOCK_STREAM) {
		struct tcp_info ti;
		l = sizeof(ti);
		if (getsockopt(d->dup, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0)
			return rt_err_set(err, errno, "pid %d fd %d: TCP_INFO", d->hpid, d->fd);
		s.state = ti.tcpi_state;
		s.backlog = ti.tcpi_state == TCP_LISTEN ? ti.tcpi_sacked : 0;
		/* sk-tcp.c takes them over from their clients */
		if (ti.tcpi_state == TCP_LISTEN && ti.tcpi_unacked > 0 && !d->c->o->tcp_established)
			return rt_err_set(err, EOPNOTSUPP,
					  "pid %d fd %d: %u connections wait in "
					  "this TCP listener's backlog: checkpoint with "
					  "--tcp-established",
					  d->hpid, d->fd, ti.tcpi_unacked);
	}
	cr_put_u32(r, s.family);
	cr_put_u32(r, s.type);
	cr_put_u32(r, s.proto);
	cr_put_u32(r, s.state);
	cr_put_u32(r, s.backlog);
	cr_put_bytes(r, &s.addr, s.addrlen);
	cr_put_bytes(r, &s.peer, s.peerlen);
	for (size_t i = 0; i < N_OPTS; i++) {
		l = sizeof(v);
		if (!applies(&s, i) || getsockopt(d->dup, opts[i].level, opts[i].name, &v, &l) < 0)
			v = INT32_MIN;
		cr_put_u32(r, (uint32_t)v);
	}
	if (s.type != SOCK_DGRAM) {
		cr_put_u32(r, 0);
		cr_put_bytes(r, NULL, 0);
		return 0;
	}
	return put_queue(d, r, err);
}

/* ---- restore ---- */

static void free_isk(struct cr_rfile *f)
{
	struct isk *s = f->priv;
	if (!s)
		return;
	for (uint32_t i = 0; i < s->nq; i++)
		free(s->q[i].p);
	free(s->q);
	free(s);
	f->priv = NULL;
}

static int load_queue(struct cr_rd *r, struct isk *s, struct rt_err **err)
{
	uint32_t n;
	const void *p;
	size_t len;
	if (cr_get_u32(r, "datagrams", &n, err) < 0 ||
	    cr_get_bytes(r, "queue", &p, &len, IQ_MAX + IQ_MSGS * 200, err) < 0)
		return -1;
	if (n > IQ_MSGS)
		return rt_err_set(err, 0, "%u queued datagrams", n);
	struct cr_rd q = *r;
	q.p = p, q.len = len, q.off = 0;
	s->q = xcalloc(n ? n : 1, sizeof(*s->q));
	for (; s->nq < n; s->nq++) {
		struct dgram *g = &s->q[s->nq];
		const void *b;
		if (cr_sk_get_addr(&q, "sender", &g->from, &g->fromlen, err) < 0 ||
		    cr_get_bytes(&q, "datagram", &b, &g->len, 65536, err) < 0)
			return -1;
		g->p = xmalloc(g->len ? g->len : 1);
		memcpy(g->p, b, g->len);
	}
	return cr_rd_done(&q, err);
}

static int load_inet(struct cr_rd *r, struct cr_rfile *f, struct rt_err **err)
{
	struct isk *s = xcalloc(1, sizeof(*s));
	f->priv = s;
	if (cr_get_u32(r, "family", &s->family, err) < 0 ||
	    cr_get_u32(r, "type", &s->type, err) < 0 ||
	    cr_get_u32(r, "protocol", &s->proto, err) < 0 ||
	    cr_get_u32(r, "state", &s->state, err) < 0 ||
	    cr_get_u32(r, "backlog", &s->backlog, err) < 0 ||
	    cr_sk_get_addr(r, "address", &s->addr, &s->addrlen, err) < 0 ||
	    cr_sk_get_addr(r, "peer", &s->peer, &s->peerlen, err) < 0)
		return -1;
	for (size_t i = 0; i < N_OPTS; i++)
		if (cr_get_u32(r, opts[i].what, (uint32_t *)&s->opt[i], err) < 0)
			return -1;
	if ((s->family != AF_INET && s->family != AF_INET6) ||
	    (s->type != SOCK_STREAM && s->type != SOCK_DGRAM))
		return rt_err_set(err, 0, "inet socket: bad family or type");
	return load_queue(r, s, err);
}

static bool any_port(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET ? ((const struct sockaddr_in *)a)->sin_port == 0
				       : ((const struct sockaddr_in6 *)a)->sin6_port == 0;
}

/* A queued datagram, again from its sender's address if we can. */
static int resend(const struct isk *s, const struct dgram *g)
{
	int one = 1, tmp = socket((int)s->family, SOCK_DGRAM, 0);
	if (tmp < 0)
		return -1;
	if (s->family == AF_INET6)
		setsockopt(tmp, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	setsockopt(tmp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (g->fromlen)
		(void)bind(tmp, (const struct sockaddr *)&g->from, g->fromlen);
	ssize_t w = sendto(tmp, g->p, g->len, 0, (const struct sockaddr *)&s->addr, s->addrlen);
	close(tmp);
	return w == (ssize_t)g->len ? 0 : -1;
}

static int mk_inet(void *arg, int *fds, size_t *n, char *msg)
{
	const struct isk *s = arg;
	int sk = socket((int)s->family, (int)s->type, (int)s->proto);
	if (sk < 0)
		return cr_ns_fail(msg, "socket");
	fds[(*n)++] = sk;
	/* the buffer sizes read back doubled: set half */
	for (size_t i = 0; i < N_OPTS; i++) {
		int v = s->opt[i];
		if (v == INT32_MIN)
			continue;
		if (opts[i].name == SO_RCVBUF || opts[i].name == SO_SNDBUF)
			v /= 2;
		if (setsockopt(sk, opts[i].level, opts[i].name, &v, sizeof(v)) < 0)
			return cr_ns_fail(msg, "set %s", opts[i].what);
	}
	if (!any_port(&s->addr) && bind(sk, (const struct sockaddr *)&s->addr, s->addrlen) < 0)
		return cr_ns_fail(msg, "bind");
	if (s->state == TCP_LISTEN && listen(sk, (int)s->backlog) < 0)
		return cr_ns_fail(msg, "listen");
	for (uint32_t i = 0; i < s->nq; i++)
		if (resend(s, &s->q[i]) < 0)
			return cr_ns_fail(msg, "queue datagram %u again", i);
	if (s->peerlen && connect(sk, (const struct sockaddr *)&s->peer, s->peerlen) < 0)
		return cr_ns_fail(msg, "connect");
	return 0;
}

static int open_inet(struct cr_restore_ctx *c, struct cr_rfile *f, struct rt_err **err)
{
	struct isk *s = f->priv;
	int fds[1];
	size_t n;
	if (cr_in_task_ns(c->o->agent_pid, mk_inet, s, fds, 1, &n, err) < 0)
		return -1;
	f->fd = fds[0];
	if (fcntl(f->fd, F_SETFL, (int)(f->flags & (O_NONBLOCK | O_ASYNC))) < 0)
		return rt_err_set(err, errno, "fcntl");
	return 0;
}

static void describe_inet(const struct cr_rfile *f, struct cr_desc *d)
{
	const struct isk *s = f->priv;
	cr_desc_str(d, "protocol", s->type == SOCK_STREAM ? "tcp" : "udp");
	cr_desc_str(d, "family", s->family == AF_INET ? "ipv4" : "ipv6");
	cr_sk_describe_addr(d, "address", &s->addr);
	if (s->peerlen)
		cr_sk_describe_addr(d, "peer", &s->peer);
	if (s->state == TCP_LISTEN)
		cr_desc_uint(d, "backlog", s->backlog);
	for (size_t i = 0; i < N_OPTS; i++)
		if (s->opt[i] != INT32_MIN)
			cr_desc_int(d, opts[i].what, s->opt[i]);
	if (s->type == SOCK_DGRAM)
		cr_desc_uint(d, "queued_datagrams", s->nq);
}

const struct cr_fd_kind cr_sk_inet = {
	.name = "inet",
	.kind = CR_SK_INET,
	.dump = dump_inet,
	.load = load_inet,
	.open = open_inet,
	.describe = describe_inet,
	.free = free_isk,
};
