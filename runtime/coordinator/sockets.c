/* The "socket" fd kind: reads the family, type and state through our
 * duplicate and hands the fd to the family's kind (sockets.h). Families
 * and states without one are refused naming the pid, the fd and what the
 * socket is. Also the dump's table of which task holds which socket, for
 * the families that look up a peer by inode. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coordinator/sockets.h"
#include "util.h"

static const struct cr_fd_kind *const families[] = {&cr_sk_unix, &cr_sk_inet, &cr_sk_tcp};

static bool match_socket(const char *link, const struct stat *sb)
{
	return S_ISSOCK(sb->st_mode) || strncmp(link, "socket:[", 8) == 0;
}

static int opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);
	return getsockopt(fd, level, name, &v, &l) < 0 ? -1 : v;
}

static const char *tcp_state(int s)
{
	static const char *const n[] = {"?",	      "ESTABLISHED", "SYN_SENT",  "SYN_RECV",
					"FIN_WAIT1",  "FIN_WAIT2",   "TIME_WAIT", "CLOSE",
					"CLOSE_WAIT", "LAST_ACK",    "LISTEN",	  "CLOSING"};
	return s >= 0 && s < (int)ARRAY_SIZE(n) ? n[s] : "?";
}

static int pick(struct cr_fd_dump *d, const struct cr_fd_kind **fam, struct rt_err **err)
{
	int dom = opt(d->dup, SOL_SOCKET, SO_DOMAIN), type = opt(d->dup, SOL_SOCKET, SO_TYPE);
	int proto = opt(d->dup, SOL_SOCKET, SO_PROTOCOL);
	if (dom == AF_UNIX) {
		*fam = &cr_sk_unix;
		return 0;
	}
	if ((dom == AF_INET || dom == AF_INET6) && type == SOCK_DGRAM && proto == IPPROTO_UDP) {
		*fam = &cr_sk_inet;
		return 0;
	}
	if ((dom == AF_INET || dom == AF_INET6) && type == SOCK_STREAM && proto == IPPROTO_TCP) {
		struct tcp_info ti;
		socklen_t l = sizeof(ti);
		if (getsockopt(d->dup, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0)
			return rt_err_set(err, errno, "pid %d fd %d: TCP_INFO", d->hpid, d->fd);
		if (ti.tcpi_state == TCP_LISTEN || ti.tcpi_state == TCP_CLOSE) {
			*fam = &cr_sk_inet;
			return 0;
		}
		if (ti.tcpi_state == TCP_ESTABLISHED) {
			if (!d->c->o->tcp_established)
				return rt_err_set(err, EOPNOTSUPP,
						  "pid %d fd %d: established TCP "
						  "connection: checkpoint with --tcp-established",
						  d->hpid, d->fd);
			*fam = &cr_sk_tcp;
			return 0;
		}
		return rt_err_set(err, EOPNOTSUPP,
				  "pid %d fd %d: TCP socket in state %s is "
				  "not supported",
				  d->hpid, d->fd, tcp_state(ti.tcpi_state));
	}
	return rt_err_set(err, EOPNOTSUPP,
			  "pid %d fd %d: socket of family %d, type %d, "
			  "protocol %d is not supported",
			  d->hpid, d->fd, dom, type, proto);
}

static int dump_socket(struct cr_fd_dump *d, struct cr_rec *r, struct rt_err **err)
{
	const struct cr_fd_kind *fam = NULL;
	if (pick(d, &fam, err) < 0)
		return -1;
	cr_put_u32(r, fam->kind);
	return fam->dump(d, r, err);
}

static int load_socket(struct cr_rd *r, struct cr_rfile *f, struct rt_err **err)
{
	uint32_t k;
	if (cr_get_u32(r, "family kind", &k, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(families); i++)
		if (families[i]->kind == k) {
			int ret = families[i]->load(r, f, err);
			if (f->priv)
				((struct cr_sk_head *)f->priv)->fam = families[i];
			return ret;
		}
	return rt_err_set(err, 0, "socket: unknown family kind %u", k);
}

static const struct cr_fd_kind *fam_of(const struct cr_rfile *f)
{
	return ((const struct cr_sk_head *)f->priv)->fam;
}

static int open_socket(struct cr_restore_ctx *c, struct cr_rfile *f, struct rt_err **err)
{
	return fam_of(f)->open(c, f, err);
}

static void describe_socket(const struct cr_rfile *f, struct cr_desc *d)
{
	cr_desc_str(d, "socket", fam_of(f)->name);
	fam_of(f)->describe(f, d);
}

static void free_socket(struct cr_rfile *f)
{
	if (f->priv)
		fam_of(f)->free(f);
}

const struct cr_fd_kind cr_fd_socket = {
	.name = "socket",
	.kind = CR_FK_SOCKET,
	.match = match_socket,
	.dump = dump_socket,
	.load = load_socket,
	.open = open_socket,
	.describe = describe_socket,
	.free = free_socket,
};

void cr_sk_describe_addr(struct cr_desc *d, const char *key, const struct sockaddr_storage *a)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *i = (const void *)a;
		inet_ntop(AF_INET, &i->sin_addr, ip, sizeof(ip));
		cr_desc_strf(d, key, "%s:%u", ip, ntohs(i->sin_port));
	} else {
		const struct sockaddr_in6 *i = (const void *)a;
		inet_ntop(AF_INET6, &i->sin6_addr, ip, sizeof(ip));
		cr_desc_strf(d, key, "[%s]:%u", ip, ntohs(i->sin6_port));
	}
}

int cr_sk_get_addr(struct cr_rd *r, const char *what, struct sockaddr_storage *a,
		   socklen_t *len, struct rt_err **err)
{
	const void *p;
	size_t n;
	if (cr_get_bytes(r, what, &p, &n, sizeof(*a), err) < 0)
		return -1;
	memset(a, 0, sizeof(*a));
	memcpy(a, p, n);
	*len = (socklen_t)n;
	return 0;
}

/* ---- the tree's sockets: inode -> (pid, fd), one walk per dump ---- */

struct cr_sk_index {
	size_t n, cap;
	struct cr_sk_fd *v; /* first holder of each inode: tree order, then fd order */
	size_t nslot;	    /* a power of two, at least 2n */
	uint32_t *slot;	    /* 1 + index into v; 0: empty */
};

static uint32_t *slot_of(const struct cr_sk_index *x, uint32_t ino)
{
	size_t mask = x->nslot - 1;
	for (size_t i = (ino * 2654435761u) & mask;; i = (i + 1) & mask)
		if (x->slot[i] == 0 || x->v[x->slot[i] - 1].ino == ino)
			return &x->slot[i];
}

static void index_add(struct cr_sk_index *x, uint32_t ino, pid_t hpid, int fd)
{
	if (2 * (x->n + 1) > x->nslot) {
		x->nslot = x->nslot ? 2 * x->nslot : 64;
		free(x->slot);
		x->slot = xcalloc(x->nslot, sizeof(*x->slot));
		for (size_t i = 0; i < x->n; i++)
			*slot_of(x, x->v[i].ino) = (uint32_t)i + 1;
	}
	uint32_t *s = slot_of(x, ino);
	if (*s)
		return; /* a later holder of the same socket */
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 32;
		x->v = xrealloc(x->v, x->cap * sizeof(*x->v));
	}
	x->v[x->n] = (struct cr_sk_fd){.ino = ino, .hpid = hpid, .fd = fd};
	*s = (uint32_t)++x->n;
}

/* Every live task's /proc/PID/fd, in tree order (fds come in ascending
 * order); a task whose directory cannot be read holds nothing. */
static struct cr_sk_index *index_build(const struct cr_dump_ctx *c)
{
	struct cr_sk_index *x = xcalloc(1, sizeof(*x));
	char path[64], link[64];
	for (size_t i = 0; i < c->n; i++) {
		if (c->tasks[i].zombie)
			continue;
		pid_t hpid = c->tasks[i].hpid;
		snprintf(path, sizeof(path), "/proc/%d/fd", hpid);
		cleanup_closedir DIR *d = opendir(path);
		struct dirent *de;
		while (d && (de = readdir(d)) != NULL) {
			snprintf(path, sizeof(path), "/proc/%d/fd/%.12s", hpid, de->d_name);
			ssize_t n = readlink(path, link, sizeof(link) - 1);
			unsigned ino;
			int end = 0;
			if (n > 0 &&
			    (link[n] = '\0', sscanf(link, "socket:[%u]%n", &ino, &end) == 1) &&
			    end == n)
				index_add(x, ino, hpid, atoi(de->d_name));
		}
	}
	return x;
}

static struct cr_sk_index *index_of(struct cr_dump_ctx *c)
{
	if (!c->sk_index)
		c->sk_index = index_build(c);
	return c->sk_index;
}

const struct cr_sk_fd *cr_sk_fd_find(struct cr_dump_ctx *c, uint32_t ino)
{
	struct cr_sk_index *x = index_of(c);
	if (x->n == 0)
		return NULL;
	uint32_t s = *slot_of(x, ino);
	return s ? &x->v[s - 1] : NULL;
}

const struct cr_sk_fd *cr_sk_fds(struct cr_dump_ctx *c, size_t *n)
{
	struct cr_sk_index *x = index_of(c);
	*n = x->n;
	return x->v;
}

void cr_sk_dump_free(struct cr_dump_ctx *c)
{
	if (c->sk_index) {
		free(c->sk_index->v);
		free(c->sk_index->slot);
	}
	free(c->sk_index);
	c->sk_index = NULL;
}

void cr_sk_fds_changed(struct cr_dump_ctx *c)
{
	cr_sk_dump_free(c);
}
