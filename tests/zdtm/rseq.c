// zdtm-desc: glibc's rseq registration survives: the kernel keeps updating its cpu_id field
// zdtm-disturb: gdb_call '(long)syscall(334, *(long *)&rs_area, *(int *)&rs_len, 1, 0x53053053)'
#include "lib.h"

#include <sched.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RSEQ_SIG 0x53053053

struct rseq *rs_area;
unsigned rs_len;

static int cpu_now(void)
{
	unsigned cpu;
	SYS(syscall(SYS_getcpu, &cpu, NULL, NULL));
	return (int)cpu;
}

/* Still registered: registering the same area again must say EBUSY. */
static bool registered(void)
{
	if (syscall(SYS_rseq, rs_area, rs_len, 0, RSEQ_SIG) == 0)
		return false;
	CHECK(errno == EBUSY, "rseq re-registration: %m (not EBUSY)");
	return true;
}

/* Move to each allowed CPU: the kernel must write its number into cpu_id. */
static void check_cpu_ids(void)
{
	cpu_set_t orig, one;
	SYS(sched_getaffinity(0, sizeof(orig), &orig));
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &orig))
			continue;
		CPU_ZERO(&one);
		CPU_SET(c, &one);
		SYS(sched_setaffinity(0, sizeof(one), &one));
		sched_yield();
		int id = (int)__atomic_load_n(&rs_area->cpu_id, __ATOMIC_SEQ_CST);
		CHECK(id == c && cpu_now() == c, "on CPU %d the rseq cpu_id field says %d", c, id);
	}
	SYS(sched_setaffinity(0, sizeof(orig), &orig));
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (__rseq_size == 0)
		skip("glibc did not register rseq (glibc.pthread.rseq=0?)");
	rs_area = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	/* glibc registers 32 bytes even where it advertises a smaller size. */
	rs_len = __rseq_size < 32 ? 32 : __rseq_size;
	CHECK(registered(), "rseq is not registered before the checkpoint");
	check_cpu_ids();
	test_ready();
	test_waitsig();

	CHECK(registered(), "rseq is no longer registered (registering it again worked)");
	check_cpu_ids();
	pass();
}
