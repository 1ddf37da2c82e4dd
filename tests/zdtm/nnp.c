// zdtm-desc: no_new_privs set by the test itself, and other prctl flags (subreaper, pdeathsig, timerslack, THP, dumpable)
// zdtm: nnp=false
// zdtm-disturb: gdb_call '(int)prctl(36, 0)'
#include "lib.h"

#include <signal.h>
#include <sys/prctl.h>

static long get(int op)
{
	return SYS(prctl(op, 0, 0, 0, 0));
}

/* For the PR_GET_* calls that store their answer through a pointer. */
static int get_int(int op)
{
	int v = -1;
	SYS(prctl(op, &v, 0, 0, 0));
	return v;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	CHECK(get(PR_GET_NO_NEW_PRIVS) == 0, "no_new_privs is already set (config.json "
	      "process.noNewPrivileges must be false for this test)");
	SYS(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	SYS(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
	SYS(prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0));
	SYS(prctl(PR_SET_TIMERSLACK, 123456, 0, 0, 0));
	SYS(prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0));
	SYS(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
	test_ready();
	test_waitsig();

	CHECK(get(PR_GET_NO_NEW_PRIVS) == 1, "no_new_privs is no longer set");
	CHECK(get_int(PR_GET_CHILD_SUBREAPER) == 1, "no longer a child subreaper");
	CHECK(get_int(PR_GET_PDEATHSIG) == SIGUSR1, "the parent-death signal is %d",
	      get_int(PR_GET_PDEATHSIG));
	CHECK(get(PR_GET_TIMERSLACK) == 123456, "timer slack is %ld ns", get(PR_GET_TIMERSLACK));
	CHECK(get(PR_GET_THP_DISABLE) == 1, "THP is no longer disabled");
	CHECK(get(PR_GET_DUMPABLE) == 0, "the process became dumpable");
	pass();
}
