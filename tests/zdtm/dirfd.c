// zdtm-desc: a directory fd keeps its directory and its reading position (half-read with getdents)
// zdtm-disturb: gdb_call '(long)lseek(10, 0, 0)'
#include "lib.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define NFILES 200

/* Names the fd still has to read (each getdents call reads some). */
static int read_names(int fd, char seen[NFILES], int max_calls)
{
	char buf[1024];
	int n = 0;
	for (int c = 0; c < max_calls; c++) {
		long len = SYS(getdents64(fd, buf, sizeof(buf)));
		if (len == 0)
			break;
		for (long off = 0; off < len;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			if (d->d_name[0] == 'f') {
				int i = atoi(d->d_name + 1);
				CHECK(i >= 0 && i < NFILES && !seen[i], "entry %s read twice", d->d_name);
				seen[i] = 1;
				n++;
			}
			off += d->d_reclen;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	char seen[NFILES] = { 0 }, name[32];
	test_init(argc, argv);
	const char *dir = test_path("dir");
	SYS(mkdir(dir, 0755));
	int fd = (int)SYS(open(dir, O_RDONLY | O_DIRECTORY));
	fd_move(fd, 10);
	for (int i = 0; i < NFILES; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		SYS(close((int)SYS(openat(10, name, O_CREAT | O_WRONLY, 0644))));
	}
	int first = read_names(10, seen, 3);
	off_t pos = lseek(10, 0, SEEK_CUR);
	struct stat before;
	SYS(fstat(10, &before));
	test_ready();
	test_waitsig();

	struct stat st;
	SYS(fstat(10, &st));
	CHECK(st.st_ino == before.st_ino && S_ISDIR(st.st_mode), "fd 10 is another file");
	CHECK(lseek(10, 0, SEEK_CUR) == pos, "the directory position moved");
	int rest = read_names(10, seen, 1000);
	CHECK(first + rest == NFILES, "read %d entries before and %d after, not %d in all", first,
	      rest, NFILES);
	SYS(faccessat(10, "f7", F_OK, 0));
	for (int i = 0; i < NFILES; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		unlinkat(10, name, 0);
	}
	rmdir(dir);
	pass();
}
