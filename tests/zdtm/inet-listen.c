// zdtm-desc: listening TCP sockets (IPv4 and IPv6 loopback) and a bound UDP socket with queued datagrams
// zdtm-disturb: gdb_do 'set $b = (char *)malloc(8)' 'call (long)send(14, $b, 1, 0)'
#include "lib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static int opt(int fd, int level, int name)
{
	int v = 0;
	socklen_t len = sizeof(v);
	SYS(getsockopt(fd, level, name, &v, &len));
	return v;
}

/* A socket at fd, bound to loopback port 0 of the family. */
static int bound(int family, int type, int fd)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(family, type, 0);
	if (s < 0)
		return -1;
	int one = 1;
	SYS(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	if (family == AF_INET6)
		SYS(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)));
	if (bind(s, family == AF_INET ? (void *)&a4 : (void *)&a6,
		 family == AF_INET ? sizeof(a4) : sizeof(a6)) < 0) {
		close(s);
		return -1;
	}
	fd_move(s, fd);
	return fd;
}

static void name_of(int fd, struct sockaddr_storage *ss, socklen_t *len)
{
	*len = sizeof(*ss);
	SYS(getsockname(fd, (struct sockaddr *)ss, len));
}

static void check_listener(int fd, const struct sockaddr_storage *name, socklen_t nlen)
{
	struct sockaddr_storage now;
	socklen_t len;
	name_of(fd, &now, &len);
	CHECK(len == nlen && !memcmp(&now, name, len), "fd %d: its address changed", fd);
	CHECK(opt(fd, SOL_SOCKET, SO_ACCEPTCONN), "fd %d is no longer listening", fd);
	CHECK(opt(fd, SOL_SOCKET, SO_REUSEADDR), "fd %d lost SO_REUSEADDR", fd);
	int c = (int)SYS(socket(now.ss_family, SOCK_STREAM, 0));
	CHECK(connect(c, (struct sockaddr *)&now, len) == 0, "connecting to fd %d: %m", fd);
	int a = (int)SYS(accept(fd, NULL, NULL));
	xwrite(c, "hi", 2);
	char buf[2];
	xread(a, buf, 2);
	close(a), close(c);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage n4, n6, nu;
	socklen_t l4, l6 = 0, lu;
	test_init(argc, argv);
	CHECK(bound(AF_INET, SOCK_STREAM, 10) == 10, "binding 127.0.0.1: %m");
	SYS(listen(10, 16));
	name_of(10, &n4, &l4);
	bool v6 = bound(AF_INET6, SOCK_STREAM, 12) == 12;
	if (v6) {
		SYS(listen(12, 4));
		name_of(12, &n6, &l6);
	}
	CHECK(bound(AF_INET, SOCK_DGRAM, 13) == 13, "binding UDP: %m");
	int rcvbuf = 65536;
	SYS(setsockopt(13, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)));
	rcvbuf = opt(13, SOL_SOCKET, SO_RCVBUF);
	name_of(13, &nu, &lu);
	fd_move((int)SYS(socket(AF_INET, SOCK_DGRAM, 0)), 14);
	SYS(connect(14, (struct sockaddr *)&nu, lu));
	for (int i = 0; i < 3; i++)
		SYS(send(14, "datagram", 1 + (size_t)i * 3, 0));
	test_ready();
	test_waitsig();

	check_listener(10, &n4, l4);
	if (v6)
		check_listener(12, &n6, l6);
	CHECK(opt(13, SOL_SOCKET, SO_RCVBUF) == rcvbuf, "SO_RCVBUF is %d, was %d",
	      opt(13, SOL_SOCKET, SO_RCVBUF), rcvbuf);
	struct sockaddr_storage from, sender;
	socklen_t fl, sl;
	name_of(14, &sender, &sl);
	for (int i = 0; i < 3; i++) {
		char buf[64];
		fl = sizeof(from);
		ssize_t n = recvfrom(13, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		CHECK(n == 1 + i * 3 && !memcmp(buf, "datagram", (size_t)n), "datagram %d: %zd bytes", i, n);
		CHECK(fl == sl && !memcmp(&from, &sender, sl), "datagram %d came from elsewhere", i);
	}
	char c;
	CHECK(recv(13, &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "an extra datagram was queued");
	SYS(send(14, "x", 1, 0));
	CHECK(recv(13, &c, 1, 0) == 1, "no datagram after restore");
	pass();
}
