// zdtm-desc: a unix dgram socket connected to a named socket outside the container is connected to it again (--ext-unix-sk)
// zdtm: flags=--ext-unix-sk outside=dgram
// zdtm-disturb: gdb_do 'set $a = (short *)malloc(16)' 'set *$a = 0' 'call (int)connect(10, $a, 16)'
#include "lib.h"

#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Has the peer outside printed line (it logs every datagram as a line)?
 * It runs on its own: give it up to 10 s. */
static bool logged(const char *log, const char *line)
{
	static char buf[65536];
	char want[128];
	snprintf(want, sizeof(want), "\n%s\n", line);
	for (int i = 0; i < 500; i++) {
		if (strstr(read_text(log, buf, sizeof(buf)), want))
			return true;
		nanosleep(&(struct timespec){ .tv_nsec = 20000000 }, NULL);
	}
	return false;
}

static char peer_log[256]; /* $ZDTM_OUTSIDE.log: what the peer received */

static socklen_t addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	strncpy(a->sun_path, path, sizeof(a->sun_path) - 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1);
}

static void say(int fd, const char *what)
{
	char msg[64];
	snprintf(msg, sizeof(msg), "%s, fd %d", what, fd);
	ssize_t n = send(fd, msg, strlen(msg), MSG_NOSIGNAL);
	CHECK(n == (ssize_t)strlen(msg), "send '%s' to the peer outside: %m", msg);
	CHECK(logged(peer_log, msg), "the peer outside never received '%s'", msg);
}

/* fd is connected to peer (and named name, if not NULL) */
static void check_names(int fd, const struct sockaddr_un *peer, socklen_t pl, const char *name)
{
	struct sockaddr_un got, self;
	socklen_t gl = sizeof(got), sl = name ? addr(&self, name) : sizeof(sa_family_t);
	SYS(getpeername(fd, (struct sockaddr *)&got, &gl));
	CHECK(gl == pl && !memcmp(&got, peer, pl), "fd %d is connected to another name", fd);
	gl = sizeof(got);
	SYS(getsockname(fd, (struct sockaddr *)&got, &gl));
	CHECK(gl == sl && (!name || !memcmp(&got, &self, sl)), "fd %d has another name", fd);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	/* run.sh and standalone.sh start the peer for the outside= option */
	const char *peer = getenv("ZDTM_OUTSIDE");
	if (!peer || strlen(peer) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		skip("no peer outside the container in $ZDTM_OUTSIDE");
	snprintf(peer_log, sizeof(peer_log), "%s.log", peer);
	struct sockaddr_un sa, self;
	socklen_t len = addr(&sa, peer), sl = addr(&self, test_path("self"));
	/* 10: unnamed, as a /dev/log client is; 11: bound to a name of its own */
	fd_move((int)SYS(socket(AF_UNIX, SOCK_DGRAM, 0)), 10);
	fd_move((int)SYS(socket(AF_UNIX, SOCK_DGRAM, 0)), 11);
	SYS(bind(11, (struct sockaddr *)&self, sl));
	SYS(connect(10, (struct sockaddr *)&sa, len));
	SYS(connect(11, (struct sockaddr *)&sa, len));
	say(10, "before");
	say(11, "before");
	test_ready();
	test_waitsig();

	check_names(10, &sa, len, NULL);
	check_names(11, &sa, len, test_path("self"));
	say(10, "after");
	say(11, "after");
	unlink(self.sun_path);
	pass();
}
