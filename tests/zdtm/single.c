// zdtm-desc: one process keeps its environment, working directory and name
// zdtm-disturb: gdb_call '(int)chdir("/")'
#include "lib.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	test_init(argc, argv);
	const char *dir = test_path("cwd");
	char want_cwd[PATH_MAX], cwd[PATH_MAX], comm[64];

	SYS(mkdir(dir, 0755));
	SYS(chdir(dir));
	CHECK(getcwd(want_cwd, sizeof(want_cwd)), "getcwd: %m");
	SYS(setenv("ZDTM_SINGLE", "value with spaces=and equals", 1));
	SYS(prctl(PR_SET_NAME, "zdtm-single"));
	test_ready();
	test_waitsig();

	const char *v = getenv("ZDTM_SINGLE");
	CHECK(v && !strcmp(v, "value with spaces=and equals"), "environment variable is '%s'",
	      v ? v : "(unset)");
	CHECK(getcwd(cwd, sizeof(cwd)), "getcwd: %m");
	CHECK(!strcmp(cwd, want_cwd), "cwd is '%s', was '%s'", cwd, want_cwd);
	read_text("/proc/self/comm", comm, sizeof(comm));
	CHECK(!strcmp(comm, "zdtm-single\n"), "comm is '%s'", comm);
	rmdir(dir);
	pass();
}
