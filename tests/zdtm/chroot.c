// zdtm-desc: a chroot'ed test keeps its root directory (and its cwd inside it)
// zdtm: caps=CAP_SYS_CHROOT chroot=zdtm-chroot
// zdtm-disturb: mkdir -p "$ZDTM_DIR/zdtm-chroot/sub$ZDTM_DIR" && chmod 1777 "$ZDTM_DIR/zdtm-chroot/sub$ZDTM_DIR" && gdb_call '(int)chroot("sub")'
/* The chroot is <files dir>/zdtm-chroot; the files dir is made again inside
 * it, so the test still finds its result path after chroot(). The harness
 * reads ready/result under <files dir>/zdtm-chroot<files dir>. */
#include "lib.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		CHECK(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %m", path);
		*p = '/';
	}
	CHECK(mkdir(path, 01777) == 0 || errno == EEXIST, "mkdir %s: %m", path);
	SYS(chmod(path, 01777));
}

int main(int argc, char **argv)
{
	char root[PATH_MAX], inner[2 * PATH_MAX];
	test_init(argc, argv);
	const char *dir = getenv("ZDTM_DIR") ? getenv("ZDTM_DIR") : "/tmp";
	snprintf(root, sizeof(root), "%s/zdtm-chroot", dir);
	snprintf(inner, sizeof(inner), "%s%s", root, dir);
	mkdir_p(inner);
	struct stat want;
	SYS(stat(root, &want));
	SYS(chdir(root));
	SYS(chroot("."));
	test_ready();
	test_waitsig();

	struct stat st;
	SYS(stat("/", &st));
	CHECK(st.st_ino == want.st_ino && st.st_dev == want.st_dev, "/ is no longer %s", root);
	SYS(stat(".", &st));
	CHECK(st.st_ino == want.st_ino && st.st_dev == want.st_dev, "the cwd moved");
	SYS(stat("/..", &st));
	CHECK(st.st_ino == want.st_ino, "/.. leads out of the chroot");
	pass();
}
