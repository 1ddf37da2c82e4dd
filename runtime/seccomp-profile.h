#ifndef FERRY_SECCOMP_PROFILE_H
#define FERRY_SECCOMP_PROFILE_H

#include "error.h"
#include "oci/config.h"

/* Build the filter from linux.seccomp with libseccomp and load it into the
 * calling thread. Syscall names this libseccomp does not know are skipped,
 * as runc does, so one profile can serve several kernels. */
int rt_seccomp_load(const struct oci_seccomp *sc, struct rt_err **err);

#endif
