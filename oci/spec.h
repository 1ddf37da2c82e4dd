/* `ferry spec` and `ferry features`: documents ferry generates. */
#ifndef FERRY_OCI_SPEC_H
#define FERRY_OCI_SPEC_H

#include <stdbool.h>

#include "error.h"

/* The default config.json runc writes (rootless: user namespace with the
 * caller's uid/gid mapped to 0, no network namespace, no cgroup resources). */
char *oci_spec_default(bool rootless, uid_t uid, gid_t gid);

/* The runtime-spec features document describing this build. */
char *oci_features_json(void);

#endif
