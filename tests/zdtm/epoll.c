// zdtm-desc: an epoll fd keeps its watched set (fds, events, data) and reports readiness after restore
// zdtm-disturb: gdb_call '(int)epoll_ctl(10, 2, 12, 0)'
#include "lib.h"

#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* The tfd/events/data fields of /proc/self/fdinfo/10, one line each, by
 * fd (the kernel lists them in the order of its file pointers). */
static void watched(char *out, size_t size)
{
	char info[4096], line[32][64] = { { 0 } };
	read_text("/proc/self/fdinfo/10", info, sizeof(info));
	out[0] = 0;
	for (char *l = strtok(info, "\n"); l; l = strtok(NULL, "\n")) {
		int tfd;
		unsigned events;
		unsigned long long data;
		if (sscanf(l, "tfd: %d events: %x data: %llx", &tfd, &events, &data) == 3 &&
		    tfd >= 0 && tfd < 32)
			snprintf(line[tfd], sizeof(line[tfd]), "%d %x %llx\n", tfd, events, data);
	}
	for (int i = 0; i < 32; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s", line[i]);
}

static void watch(int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	SYS(epoll_ctl(10, EPOLL_CTL_ADD, fd, &ev));
}

int main(int argc, char **argv)
{
	int p[2], sk[2];
	test_init(argc, argv);
	fd_move((int)SYS(epoll_create1(EPOLL_CLOEXEC)), 10);
	SYS(pipe(p));
	fd_move(p[0], 11), fd_move(p[1], 12);
	fd_move((int)SYS(eventfd(0, EFD_NONBLOCK)), 13);
	SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sk));
	fd_move(sk[0], 14), fd_move(sk[1], 15);
	watch(11, EPOLLIN, 0x1111);
	watch(12, EPOLLOUT | EPOLLET, 0x2222);
	watch(13, EPOLLIN | EPOLLONESHOT, 0x3333);
	watch(14, EPOLLIN | EPOLLRDHUP, 0xdeadbeefcafeULL);
	xwrite(12, "x", 1); /* 11 is readable */
	char before[512], after[512];
	watched(before, sizeof(before));
	test_ready();
	test_waitsig();

	watched(after, sizeof(after));
	CHECK(!strcmp(before, after), "the watched set is now\n%swas\n%s", after, before);
	struct epoll_event ev[8];
	int n = epoll_wait(10, ev, 8, 0);
	uint64_t seen = 0;
	for (int i = 0; i < n; i++)
		seen |= ev[i].data.u64 == 0x1111 ? 1 : ev[i].data.u64 == 0x2222 ? 2 : 4;
	CHECK(n == 2 && seen == 3, "%d events ready (mask %llx), not the pipe's two", n,
	      (unsigned long long)seen);
	uint64_t one = 1;
	xwrite(13, &one, 8);
	xwrite(15, "y", 1);
	n = epoll_wait(10, ev, 8, 1000);
	seen = 0;
	for (int i = 0; i < n; i++)
		seen |= ev[i].data.u64 == 0x3333 ? 1 : ev[i].data.u64 == 0xdeadbeefcafeULL ? 2 : 0;
	CHECK(seen == 3, "the eventfd and socket events did not come (mask %llx)",
	      (unsigned long long)seen);
	pass();
}
