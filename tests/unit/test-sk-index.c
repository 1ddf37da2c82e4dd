/* sockets.c's per-dump table of which task holds which socket (the lookups
 * behind unix peers and listeners): for each socket inode the first holder,
 * tasks in tree order and then the lowest fd, zombies and other files left
 * out, built once and walked again only after cr_sk_fds_changed.
 *
 * The "tree" is this process and a forked child that holds sockets of its
 * own and one it shares with us; a zombie child stands for a dead task. */
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coordinator/sockets.h"
#include "tap.h"

#define CHILD_FD 900

static uint32_t ino_of(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? (uint32_t)st.st_ino : 0;
}

static bool holder_is(struct cr_dump_ctx *c, int fd, pid_t pid, int want_fd)
{
	const struct cr_sk_fd *s = cr_sk_fd_find(c, ino_of(fd));
	return s && s->hpid == pid && s->fd == want_fd;
}

int main(void)
{
	int shared[2], own[2], go[2], ready[2];
	char b;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, shared) < 0 ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, own) < 0 || pipe(go) < 0 || pipe(ready) < 0)
		return perror("socketpair"), 1;
	/* the child moves shared[1] to CHILD_FD and keeps what it inherited */
	pid_t child = fork();
	if (child == 0) {
		close(go[1]);
		if (dup2(shared[1], CHILD_FD) < 0 || close(shared[1]) < 0 ||
		    write(ready[1], "r", 1) != 1)
			_exit(1);
		if (read(go[0], &b, 1) < 0) /* until the parent is done */
			_exit(1);
		_exit(0);
	}
	if (read(ready[0], &b, 1) != 1)
		return perror("child"), 1;
	pid_t zombie = fork();
	if (zombie == 0)
		_exit(0);
	siginfo_t si;
	waitid(P_PID, (id_t)zombie, &si, WEXITED | WNOWAIT);
	close(go[0]);
	/* we hold shared[0] and own[], own[0] twice; shared[1] only the child */
	int dup_own = dup(own[0]);
	close(shared[1]);

	struct cr_dtask tasks[3] = {
		{.hpid = getpid()},
		{.hpid = zombie, .zombie = true},
		{.hpid = child},
	};
	struct cr_dump_ctx c = {.n = 3, .tasks = tasks};
	TAP_OK(holder_is(&c, shared[0], getpid(), shared[0]), "a socket of the first task");
	TAP_OK(holder_is(&c, own[0], getpid(), own[0] < dup_own ? own[0] : dup_own),
	       "a socket at two fds: the lowest");
	/* The child inherited own[] and shared[0] too: the first task wins. */
	const struct cr_sk_fd *s = cr_sk_fd_find(&c, ino_of(own[1]));
	TAP_OK(s && s->hpid == getpid(), "a socket several tasks hold: the first task's");
	s = cr_sk_fd_find(&c, 0);
	TAP_OK(s == NULL, "no socket with inode 0");
	size_t n;
	const struct cr_sk_fd *v = cr_sk_fds(&c, &n);
	bool once = true, child_has = false;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < i; k++)
			once &= v[k].ino != v[i].ino;
		child_has |= v[i].hpid == child && v[i].fd == CHILD_FD;
	}
	TAP_OK(once, "every socket listed once (%zu)", n);
	TAP_OK(child_has, "a socket only a later task holds, at its fd");
	TAP_OK(v[0].hpid == getpid(), "tasks in tree order");

	/* A new socket is not seen until the fds are said to have changed. */
	int late = socket(AF_UNIX, SOCK_DGRAM, 0);
	TAP_OK(cr_sk_fd_find(&c, ino_of(late)) == NULL, "the table is built once");
	cr_sk_fds_changed(&c);
	TAP_OK(holder_is(&c, late, getpid(), late), "walked again after cr_sk_fds_changed");
	/* The zombie's fds are gone anyway; a table with nothing is fine too. */
	struct cr_dtask dead = {.hpid = zombie, .zombie = true};
	struct cr_dump_ctx empty = {.n = 1, .tasks = &dead};
	TAP_OK(cr_sk_fd_find(&empty, ino_of(late)) == NULL, "zombies hold nothing");
	cr_sk_dump_free(&empty);
	cr_sk_dump_free(&c);
	TAP_OK(c.sk_index == NULL, "freed");

	close(go[1]);
	waitpid(child, NULL, 0);
	waitpid(zombie, NULL, 0);
	return tap_done();
}
