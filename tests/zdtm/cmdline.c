// zdtm-desc: /proc/self/cmdline and environ are kept, including an argv rewritten in place
// zdtm: args=first,second-arg env=ZDTM_CMDLINE=some=value
// zdtm-disturb: gdb_do 'set *(char *)(((long *)*(long *)&saved_argv)[1]) = 88'
#include "lib.h"

#include <fcntl.h>
#include <unistd.h>

char **saved_argv;

static size_t read_all(const char *path, char *buf, size_t size)
{
	int fd = (int)SYS(open(path, O_RDONLY));
	size_t n = 0;
	for (ssize_t r; (r = read(fd, buf + n, size - n)) > 0;)
		n += (size_t)r;
	close(fd);
	return n;
}

int main(int argc, char **argv)
{
	static char cmd[4096], env[65536], now[65536];
	test_init(argc, argv);
	CHECK(argc >= 3, "usage: %s ARG1 ARG2 (with ZDTM_CMDLINE set)", argv[0]);
	saved_argv = argv;
	/* Like setproctitle: rewrite argv[2] in place (same length). */
	memset(argv[2], 'Z', strlen(argv[2]));
	size_t cmd_n = read_all("/proc/self/cmdline", cmd, sizeof(cmd));
	size_t env_n = read_all("/proc/self/environ", env, sizeof(env));
	CHECK(memmem(cmd, cmd_n, "ZZZ", 3), "/proc/self/cmdline does not show the rewrite");
	CHECK(memmem(env, env_n, "ZDTM_CMDLINE=", 13), "ZDTM_CMDLINE is not in the environment");
	test_ready();
	test_waitsig();

	size_t n = read_all("/proc/self/cmdline", now, sizeof(now));
	CHECK(n == cmd_n && !memcmp(now, cmd, n), "/proc/self/cmdline changed");
	n = read_all("/proc/self/environ", now, sizeof(now));
	CHECK(n == env_n && !memcmp(now, env, n), "/proc/self/environ changed");
	pass();
}
