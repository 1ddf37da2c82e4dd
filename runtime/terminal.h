/* Pseudo-terminals for the container process and the console socket
 * protocol runc's callers speak (the pty master is sent with SCM_RIGHTS). */
#ifndef FERRY_TERMINAL_H
#define FERRY_TERMINAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* Open a pty pair through the /dev/ptmx the caller sees (the container's
 * after pivot_root). The slave is opened through the master (TIOCGPTPEER),
 * so no path lookup in the container can substitute it. */
int rt_pty_open(int *master, int *slave, unsigned rows, unsigned cols,
		struct rt_err **err);

/* Bind the pty's slave over /dev/console (created if missing), so the
 * container's console is its terminal, as runc provides it. */
int rt_pty_bind_console(int master, struct rt_err **err);

/* The same from outside: over the /dev/console of pid's mount namespace
 * (a restored container's, whose init no longer runs our code), by a child
 * that joins it. */
int rt_pty_bind_console_in(pid_t pid, int master, struct rt_err **err);

/* Make fd the controlling terminal and stdin/stdout/stderr. */
int rt_pty_become_console(int slave, struct rt_err **err);

int rt_send_fd(int sock, int fd, const char *name, struct rt_err **err);
int rt_recv_fd(int sock, int *fd, struct rt_err **err);

/* Connect to a console socket path (a unix stream socket). */
int rt_console_socket_connect(const char *path, struct rt_err **err);

/* Give `to` the window size of `from` (both terminals). */
void rt_pty_copy_winsize(int from, int to);

#endif
