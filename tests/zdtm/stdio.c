// zdtm-desc: stdin, stdout and stderr stay open with the same kind of file and access mode, and work
// zdtm-disturb: gdb_call '(int)close(1)'
/* After a restore the harness's restore command supplies the stdio, so the
 * files may differ; their kind (pipe, file, tty...) and mode must not. */
#include "lib.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	mode_t kind[3];
	int acc[3];
	test_init(argc, argv);
	for (int fd = 0; fd < 3; fd++) {
		struct stat st;
		SYS(fstat(fd, &st));
		kind[fd] = st.st_mode & S_IFMT;
		acc[fd] = (int)SYS(fcntl(fd, F_GETFL)) & O_ACCMODE;
	}
	test_ready();
	test_waitsig();

	for (int fd = 0; fd < 3; fd++) {
		struct stat st;
		CHECK(fstat(fd, &st) == 0, "fd %d: %m", fd);
		CHECK((st.st_mode & S_IFMT) == kind[fd], "fd %d is a file of type %o, was %o", fd,
		      st.st_mode & S_IFMT, kind[fd]);
		int a = (int)SYS(fcntl(fd, F_GETFL)) & O_ACCMODE;
		CHECK(a == acc[fd], "fd %d: access mode %d, was %d", fd, a, acc[fd]);
	}
	if (acc[1] != O_RDONLY)
		CHECK(write(1, "zdtm stdio: stdout works\n", 25) == 25, "writing stdout: %m");
	if (acc[2] != O_RDONLY)
		CHECK(write(2, "zdtm stdio: stderr works\n", 25) == 25, "writing stderr: %m");
	pass();
}
