/* A foreground `run` or `exec`: forward signals to the container process,
 * relay its pty if it has one, and collect its exit status. */
#ifndef FERRY_FOREGROUND_H
#define FERRY_FOREGROUND_H

#include <sys/types.h>

#include "error.h"

/* Call before the process is created: blocks the signals that will be
 * forwarded (so none is lost in between) and makes us a subreaper. */
void rt_foreground_prepare(void);

/* Wait for pid (our child or an orphan we reap as subreaper). master is the
 * pty master to relay to our stdio, or -1. Returns the exit status as a
 * shell reports it: the code, or 128 + signal. */
int rt_foreground_wait(pid_t pid, int master, int *status, struct rt_err **err);

#endif
