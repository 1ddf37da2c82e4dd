// zdtm-desc: the umask is kept and applies to files created after restore
// zdtm-disturb: gdb_call '(int)umask(0)'
#include "lib.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	test_init(argc, argv);
	umask(0247);
	test_ready();
	test_waitsig();

	mode_t m = umask(0247);
	CHECK(m == 0247, "umask is %04o, not 0247", m);
	const char *path = test_path("file");
	int fd = (int)SYS(open(path, O_CREAT | O_EXCL | O_WRONLY, 0777));
	struct stat st;
	SYS(fstat(fd, &st));
	close(fd);
	unlink(path);
	CHECK((st.st_mode & 0777) == 0530, "a new file got mode %04o, not 0530", st.st_mode & 0777);
	pass();
}
