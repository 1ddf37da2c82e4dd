// zdtm-desc: named unix sockets: listeners with a connection in their backlog (one at a lower fd than its listener), a connected pair, an abstract listener, a bound dgram socket
// zdtm-disturb: python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' $DIR/zdtm-unix-named-sock
#include "lib.h"

#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static socklen_t addr(struct sockaddr_un *a, const char *path, bool abstract)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	strncpy(a->sun_path + abstract, path, sizeof(a->sun_path) - 2);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract + strlen(path) + !abstract);
}

static void sock_at(int type, int fd)
{
	fd_move((int)SYS(socket(AF_UNIX, type, 0)), fd);
}

static void expect(int fd, const char *want, const char *what)
{
	char buf[64];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	CHECK(n == (ssize_t)strlen(want) && !memcmp(buf, want, (size_t)n), "%s: got %zd bytes", what, n);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa, ab, dg, got;
	char abstract[64];
	test_init(argc, argv);
	socklen_t sl = addr(&sa, test_path("sock"), false);
	snprintf(abstract, sizeof(abstract), "zdtm-unix-named-%d", getpid());
	socklen_t al = addr(&ab, abstract, true);
	socklen_t dl = addr(&dg, test_path("dgram"), false);
	/* 10 listens; 11 is connected to 12 (accepted); 13 waits in the backlog. */
	sock_at(SOCK_STREAM, 10);
	SYS(bind(10, (struct sockaddr *)&sa, sl));
	SYS(listen(10, 8));
	sock_at(SOCK_STREAM, 11);
	SYS(connect(11, (struct sockaddr *)&sa, sl));
	fd_move((int)SYS(accept(10, NULL, NULL)), 12);
	sock_at(SOCK_STREAM, 13);
	SYS(connect(13, (struct sockaddr *)&sa, sl));
	xwrite(11, "to server", 9);
	xwrite(12, "to client", 9);
	xwrite(13, "pending", 7);
	sock_at(SOCK_STREAM, 14); /* abstract listener */
	SYS(bind(14, (struct sockaddr *)&ab, al));
	SYS(listen(14, 1));
	/* 9 waits in 14's backlog: dumped, and rebuilt in the task, before 14 */
	sock_at(SOCK_STREAM, 9);
	SYS(connect(9, (struct sockaddr *)&ab, al));
	xwrite(9, "early", 5);
	sock_at(SOCK_DGRAM, 15); /* bound dgram, one datagram queued from 16 */
	SYS(bind(15, (struct sockaddr *)&dg, dl));
	sock_at(SOCK_DGRAM, 16);
	SYS(connect(16, (struct sockaddr *)&dg, dl));
	SYS(send(16, "datagram", 8, 0));
	test_ready();
	test_waitsig();

	socklen_t len = sizeof(got);
	SYS(getsockname(10, (struct sockaddr *)&got, &len));
	CHECK(len == sl && !memcmp(&got, &sa, sl), "the listener's name changed");
	int acc = 0;
	len = sizeof(acc);
	SYS(getsockopt(10, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len));
	CHECK(acc, "fd 10 is no longer listening");
	expect(12, "to server", "the connected pair");
	expect(11, "to client", "the connected pair, other way");
	/* Unix connects queue synchronously: nothing below needs to block. */
	SYS(fcntl(10, F_SETFL, O_NONBLOCK));
	int p = accept(10, NULL, NULL);
	CHECK(p >= 0, "the connection in the backlog is gone: %m");
	expect(p, "pending", "the backlogged connection");
	CHECK(accept(10, NULL, NULL) < 0 && errno == EAGAIN, "an extra connection "
	      "was waiting in the backlog");
	int c = (int)SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	SYS(connect(c, (struct sockaddr *)&sa, sl));
	SYS(close((int)SYS(accept(10, NULL, NULL))));
	SYS(fcntl(14, F_SETFL, O_NONBLOCK));
	p = accept(14, NULL, NULL);
	CHECK(p >= 0, "the connection in the abstract listener's backlog is gone: %m");
	expect(p, "early", "the connection below its listener");
	c = (int)SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK(connect(c, (struct sockaddr *)&ab, al) == 0, "connecting to the abstract listener: %m");
	expect(15, "datagram", "the queued datagram");
	SYS(send(16, "again", 5, 0));
	expect(15, "again", "a datagram after restore");
	unlink(sa.sun_path), unlink(dg.sun_path);
	pass();
}
