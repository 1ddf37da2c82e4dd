// zdtm-desc: a non-root process (uid 1000 from config.json) keeps distinct real/effective/saved/fs ids and groups
// zdtm: user=1000:1000 caps=CAP_SETUID,CAP_SETGID args=1000
// zdtm-standalone: setpriv --reuid=1000 --regid=1000 --clear-groups --inh-caps=+setuid,+setgid --ambient-caps=+setuid,+setgid
// zdtm-disturb: gdb_call '(int)setresuid(-1, 1005, -1)'
#include "lib.h"

#include <grp.h>
#include <stdlib.h>
#include <sys/fsuid.h>
#include <unistd.h>

/* The Uid/Gid/Groups lines of /proc/self/status. */
static void ids(char *out, size_t size)
{
	char status[4096];
	read_text("/proc/self/status", status, sizeof(status));
	out[0] = 0;
	for (char *l = strtok(status, "\n"); l; l = strtok(NULL, "\n"))
		if (!strncmp(l, "Uid:", 4) || !strncmp(l, "Gid:", 4) || !strncmp(l, "Groups:", 7))
			snprintf(out + strlen(out), size - strlen(out), "%s\n", l);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (argc > 1)
		CHECK(getuid() == (uid_t)atoi(argv[1]), "started as uid %d, not %s", getuid(), argv[1]);
	CHECK(getuid() != 0, "started as root: run it as a user (config.json process.user)");
	uid_t u = getuid();
	gid_t groups[] = { 2000, 2001, 3000 };
	SYS(setgroups(3, groups));
	SYS(setresgid(u + 1, u + 2, u + 3));
	setfsgid(u + 3);
	SYS(setresuid(u, u + 4, u + 5));
	setfsuid(u + 5);
	char before[512], after[512];
	ids(before, sizeof(before));
	test_ready();
	test_waitsig();

	ids(after, sizeof(after));
	CHECK(!strcmp(before, after), "ids are now\n%swere\n%s", after, before);
	uid_t r, e, s;
	SYS(getresuid(&r, &e, &s));
	CHECK(r == u && e == u + 4 && s == u + 5, "getresuid says %d %d %d", r, e, s);
	CHECK(setfsuid((uid_t)-1) == (int)(u + 5), "fsuid is %d", setfsuid((uid_t)-1));
	pass();
}
