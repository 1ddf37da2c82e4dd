// zdtm-desc: established TCP over loopback (data in send and receive queues both ways, a backlogged connection)
// zdtm: flags=--tcp-established
// zdtm-disturb: gdb_do 'set $b = (char *)malloc(8)' 'call (long)send(11, $b, 1, 0)'
#include "lib.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BIG (4 << 20)

static char out[BIG], in[BIG];

static int opt(int fd, int level, int name)
{
	int v = 0;
	socklen_t len = sizeof(v);
	SYS(getsockopt(fd, level, name, &v, &len));
	return v;
}

/* Read exactly len bytes, waiting at most 5 s for each chunk. */
static void read_all(int fd, char *buf, size_t len, const char *what)
{
	for (size_t have = 0; have < len;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		CHECK(poll(&p, 1, 5000) == 1, "%s: only %zu of %zu bytes came", what, have, len);
		ssize_t n = recv(fd, buf + have, len - have, MSG_DONTWAIT);
		CHECK(n > 0, "%s: recv after %zu of %zu bytes: %zd (%m)", what, have, len, n);
		have += (size_t)n;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	test_init(argc, argv);
	fd_move((int)SYS(socket(AF_INET, SOCK_STREAM, 0)), 10);
	int small = 16384, one = 1;
	SYS(setsockopt(10, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)));
	SYS(bind(10, (struct sockaddr *)&a, al));
	SYS(listen(10, 4));
	SYS(getsockname(10, (struct sockaddr *)&a, &al));
	/* 11 is the client, 12 the accepted server side, 13 waits in the backlog. */
	fd_move((int)SYS(socket(AF_INET, SOCK_STREAM, 0)), 11);
	SYS(setsockopt(11, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	SYS(connect(11, (struct sockaddr *)&a, al));
	fd_move((int)SYS(accept(10, NULL, NULL)), 12);
	SYS(setsockopt(12, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)));
	fd_move((int)SYS(socket(AF_INET, SOCK_STREAM, 0)), 13);
	SYS(connect(13, (struct sockaddr *)&a, al));
	xwrite(13, "pending", 7);
	/* Fill the server's receive queue and the client's send queue. */
	datagen(out, BIG, 99);
	SYS(fcntl(11, F_SETFL, O_NONBLOCK));
	size_t sent = 0;
	for (ssize_t n; sent < BIG && (n = send(11, out + sent, BIG - sent, 0)) > 0;)
		sent += (size_t)n;
	CHECK(sent < BIG, "the queues never filled up");
	xwrite(12, "reply", 5);
	struct sockaddr_in name11, peer11, tmp;
	socklen_t l = sizeof(name11);
	SYS(getsockname(11, (struct sockaddr *)&name11, &l));
	SYS(getpeername(11, (struct sockaddr *)&peer11, &l));
	test_ready();
	test_waitsig();

	l = sizeof(tmp);
	SYS(getsockname(11, (struct sockaddr *)&tmp, &l));
	CHECK(!memcmp(&tmp, &name11, sizeof(tmp)), "the client's address changed");
	SYS(getpeername(11, (struct sockaddr *)&tmp, &l));
	CHECK(!memcmp(&tmp, &peer11, sizeof(tmp)), "the client's peer changed");
	CHECK(opt(11, IPPROTO_TCP, TCP_NODELAY), "TCP_NODELAY was lost");
	CHECK(opt(12, SOL_SOCKET, SO_KEEPALIVE), "SO_KEEPALIVE was lost");
	read_all(12, in, sent, "client to server");
	CHECK(!memcmp(in, out, sent), "the client's data changed on the way");
	char c[8];
	CHECK(recv(12, c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "extra data reached the server");
	read_all(11, c, 5, "server to client");
	CHECK(!memcmp(c, "reply", 5), "the server's data changed");
	xwrite(12, "more", 4);
	read_all(11, c, 4, "server to client after restore");
	int p = (int)SYS(accept(10, NULL, NULL));
	read_all(p, c, 7, "the backlogged connection");
	CHECK(!memcmp(c, "pending", 7), "the backlogged connection's data changed");
	pass();
}
