// zdtm-desc: eventfds keep their counter, semaphore mode and flags
// zdtm-disturb: gdb_do 'set $b = (long *)malloc(8)' 'set *$b = 1' 'call (long)write(10, $b, 8)'
#include "lib.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	test_init(argc, argv);
	fd_move((int)SYS(eventfd(12345, EFD_NONBLOCK)), 10);
	fd_move((int)SYS(eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK)), 11);
	uint64_t add = 1000;
	xwrite(10, &add, 8);
	test_ready();
	test_waitsig();

	uint64_t v = 0;
	CHECK(fcntl(10, F_GETFL) & O_NONBLOCK, "fd 10 lost O_NONBLOCK");
	CHECK(read(10, &v, 8) == 8 && v == 13345, "the counter is %llu, not 13345",
	      (unsigned long long)v);
	CHECK(read(10, &v, 8) < 0 && errno == EAGAIN, "the counter was not reset by the read");
	for (int i = 0; i < 3; i++)
		CHECK(read(11, &v, 8) == 8 && v == 1, "semaphore read %d gave %llu", i,
		      (unsigned long long)v);
	CHECK(read(11, &v, 8) < 0 && errno == EAGAIN, "the semaphore counted more than 3");
	pass();
}
