// zdtm-desc: a private file mapping: modified pages keep our data, clean pages still show the file
// zdtm-disturb: printf 'XX' | dd of=$DIR/zdtm-mmap-file-private-data bs=1 seek=$((4096 * 3)) conv=notrunc 2>/dev/null
#include "lib.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGES 16
#define PG 4096

int main(int argc, char **argv)
{
	test_init(argc, argv);
	static char file[PAGES * PG];
	const char *path = test_path("data");
	int fd = (int)SYS(open(path, O_RDWR | O_CREAT | O_TRUNC, 0644));
	datagen(file, sizeof(file), 7);
	xwrite(fd, file, sizeof(file));
	char *m = mmap(NULL, sizeof(file), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED, "mmap: %m");
	SYS(close(fd));
	/* Even pages are written (now anonymous copies); odd pages are only read,
	 * so they stay backed by the page cache. */
	for (int i = 0; i < PAGES; i++) {
		if (i % 2 == 0)
			datagen(m + i * PG, PG, 1000 + (uint64_t)i);
		else
			CHECK(m[i * PG] == file[i * PG], "page %d does not show the file", i);
	}
	test_ready();
	test_waitsig();

	for (int i = 0; i < PAGES; i++) {
		bool same = i % 2 ? !memcmp(m + i * PG, file + i * PG, PG)
				  : datachk(m + i * PG, PG, 1000 + (uint64_t)i) < 0;
		CHECK(same, "%s page %d differs", i % 2 ? "clean" : "modified", i);
	}
	/* The file itself never saw our private writes. */
	static char now[PAGES * PG];
	fd = (int)SYS(open(path, O_RDONLY));
	xread(fd, now, sizeof(now));
	close(fd);
	CHECK(!memcmp(now, file, sizeof(now)), "the file changed under a private mapping");
	unlink(path);
	pass();
}
