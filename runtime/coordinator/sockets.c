/* The "socket" fd kind: reads the family, type and state through our
 * duplicate and hands the fd to the family's kind (sockets.h). Families
 * and states without one are refused naming the pid, the fd and what the
 * socket is. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

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
