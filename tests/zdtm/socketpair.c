// zdtm-desc: unix socketpairs (stream, dgram, seqpacket) keep queued data, boundaries and shutdown state
// zdtm-disturb: gdb_do 'set $b = (char *)malloc(8)' 'call (long)send(13, $b, 1, 0)'
#include "lib.h"

#include <sys/socket.h>
#include <unistd.h>

static void pair(int type, int a, int b)
{
	int sk[2];
	SYS(socketpair(AF_UNIX, type, 0, sk));
	fd_move(sk[0], a), fd_move(sk[1], b);
}

static void expect(int fd, const void *want, size_t len, const char *what)
{
	char buf[70000];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	CHECK(n == (ssize_t)len && !memcmp(buf, want, len), "%s: got %zd bytes, wanted %zu", what, n,
	      len);
}

int main(int argc, char **argv)
{
	static char big[60000];
	test_init(argc, argv);
	pair(SOCK_STREAM, 10, 11);
	pair(SOCK_DGRAM, 12, 13);
	pair(SOCK_SEQPACKET, 14, 15);
	datagen(big, sizeof(big), 12);
	xwrite(10, big, sizeof(big));
	xwrite(11, "back", 4);
	SYS(shutdown(11, SHUT_WR));
	const char *dgrams[] = { "one", "", "three, longer", "4" };
	for (int i = 0; i < 4; i++)
		SYS(send(12, dgrams[i], strlen(dgrams[i]), 0));
	SYS(send(14, "packet a", 8, 0));
	SYS(send(14, "packet bb", 9, 0));
	test_ready();
	test_waitsig();

	static char got[60000];
	size_t have = 0;
	while (have < sizeof(got)) {
		ssize_t n = recv(11, got + have, sizeof(got) - have, MSG_DONTWAIT);
		CHECK(n > 0, "stream: %zu of %zu bytes", have, sizeof(got));
		have += (size_t)n;
	}
	CHECK(datachk(got, sizeof(got), 12) < 0, "stream data changed");
	CHECK(recv(11, got, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "extra stream data");
	expect(10, "back", 4, "stream, other way");
	CHECK(recv(10, got, 1, MSG_DONTWAIT) == 0, "the shutdown of the other end was lost");
	for (int i = 0; i < 4; i++)
		expect(13, dgrams[i], strlen(dgrams[i]), "datagram");
	CHECK(recv(13, got, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "an extra datagram for fd 13");
	CHECK(recv(12, got, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "an extra datagram for fd 12");
	expect(15, "packet a", 8, "seqpacket 1");
	expect(15, "packet bb", 9, "seqpacket 2");
	/* Still connected both ways. */
	SYS(send(13, "new", 3, 0));
	expect(12, "new", 3, "a datagram after restore");
	pass();
}
