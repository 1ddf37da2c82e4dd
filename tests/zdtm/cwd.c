// zdtm-desc: the working directory (an odd name, several levels deep) is kept and relative paths work
// zdtm-disturb: gdb_call '(int)chdir("..")'
#include "lib.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char want[PATH_MAX], now[PATH_MAX];
	test_init(argc, argv);
	const char *top = test_path("dir");
	SYS(mkdir(top, 0755));
	SYS(chdir(top));
	SYS(mkdir("a b", 0755));
	SYS(mkdir("a b/\xc3\xa9t\xc3\xa9 \n", 0755));
	SYS(chdir("a b/\xc3\xa9t\xc3\xa9 \n"));
	write_text("marker", "here\n");
	struct stat dot;
	SYS(stat(".", &dot));
	CHECK(getcwd(want, sizeof(want)), "getcwd: %m");
	test_ready();
	test_waitsig();

	CHECK(getcwd(now, sizeof(now)), "getcwd: %m");
	CHECK(!strcmp(now, want), "cwd is '%s', was '%s'", now, want);
	struct stat st;
	SYS(stat(".", &st));
	CHECK(st.st_ino == dot.st_ino && st.st_dev == dot.st_dev, "cwd is another directory");
	char buf[16];
	CHECK(!strcmp(read_text("marker", buf, sizeof(buf)), "here\n"), "the marker file changed");
	unlink("marker");
	pass();
}
