/* `ferry spec` and `ferry features`: documents ferry generates. */
#ifndef FERRY_OCI_SPEC_H
#define FERRY_OCI_SPEC_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* The default config.json runc writes, byte for byte (tab-indented, no final
 * newline; rootless: user namespace with uid/gid (runc uses the effective
 * ids) mapped to 0, no network namespace, no cgroup resources). Like runc, a
 * cgroup namespace is added only when /sys/fs/cgroup is cgroup2. */
char *oci_spec_default(bool rootless, uid_t uid, gid_t gid);

/* The runtime-spec features document describing this build, indented by four
 * spaces like `runc features`, without the final newline runc prints. */
char *oci_features_json(void);
/* The same with more annotations: key, value, key, value, ..., NULL (or
 * NULL for none), merged in key order. */
char *oci_features_json_annotated(char *const *extra);

#endif
