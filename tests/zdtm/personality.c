// zdtm-desc: the personality (UNAME26, ADDR_NO_RANDOMIZE) is kept and still changes uname()
// zdtm-disturb: gdb_call '(int)personality(0)'
#include "lib.h"

#include <sys/personality.h>
#include <sys/utsname.h>

int main(int argc, char **argv)
{
	test_init(argc, argv);
	int want = UNAME26 | ADDR_NO_RANDOMIZE;
	SYS(personality((unsigned long)want));
	test_ready();
	test_waitsig();

	int now = personality(0xffffffff);
	CHECK(now == want, "personality is %#x, not %#x", now, want);
	struct utsname u;
	SYS(uname(&u));
	CHECK(!strncmp(u.release, "2.6.", 4), "UNAME26 no longer works: release is %s", u.release);
	pass();
}
