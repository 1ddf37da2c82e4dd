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

#endif
