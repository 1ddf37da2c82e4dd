/* Sockets: one files.img kind (sockets.c, files.c's "socket" row) that
 * picks the family's own kind (sk-unix.c, sk-inet.c, sk-tcp.c) at dump and
 * records which, since an fd's link and stat do not tell the family. */
#ifndef FERRY_CR_SOCKETS_H
#define FERRY_CR_SOCKETS_H

#include <sys/socket.h>

#include "coordinator/fdkind.h"

/* The family kinds' numbers inside a socket record: never reuse one. */
enum { CR_SK_UNIX = 1, CR_SK_INET, CR_SK_TCP };

/* match is unused: sockets.c chooses. */
extern const struct cr_fd_kind cr_sk_unix, cr_sk_inet, cr_sk_tcp;

/* Every family's loaded state (cr_rfile.priv) starts with this. */
struct cr_sk_head {
	const struct cr_fd_kind *fam;
};

struct cr_desc;
struct sockaddr_storage;
/* "1.2.3.4:80" or "[::1]:80" under key, for ferry inspect (inet and tcp). */
void cr_sk_describe_addr(struct cr_desc *d, const char *key, const struct sockaddr_storage *a);

struct cr_rd;
/* A socket address stored with cr_put_bytes, bounded by sockaddr_storage. */
int cr_sk_get_addr(struct cr_rd *r, const char *what, struct sockaddr_storage *a,
		   socklen_t *len, struct rt_err **err);

/* Which task holds which socket, from one walk of every live task's
 * /proc/PID/fd, made on first use in a dump and kept in c->sk_index until
 * cr_sk_dump_free. */
struct cr_sk_fd {
	uint32_t ino;
	pid_t hpid;
	int fd;
};
/* The first holder of socket ino (tasks in tree order, then the lowest fd),
 * or NULL when no task of the tree holds it. */
const struct cr_sk_fd *cr_sk_fd_find(struct cr_dump_ctx *c, uint32_t ino);
/* Every socket the tree holds, once each, in that order; *n of them. */
const struct cr_sk_fd *cr_sk_fds(struct cr_dump_ctx *c, size_t *n);
/* An injection put another socket at a task's fd: walk again on next use. */
void cr_sk_fds_changed(struct cr_dump_ctx *c);

#endif
