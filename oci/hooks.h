/* Running OCI hooks: each hook is executed with its args and env, the OCI
 * state JSON on stdin, and its timeout; they run in order and the first
 * failure stops the list. */
#ifndef FERRY_OCI_HOOKS_H
#define FERRY_OCI_HOOKS_H

#include "error.h"
#include "oci/config.h"

/* Errors name the kind and the hook: "createRuntime hook[1] '/bin/x':
 * exited with status 3" or "... timed out after 5s" (the hook is killed). */
int oci_hooks_run(const struct oci_hook_list *list, enum oci_hook_kind kind,
		  const char *state_json, struct rt_err **err);

#endif
