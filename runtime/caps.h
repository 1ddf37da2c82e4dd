#ifndef FERRY_CAPS_H
#define FERRY_CAPS_H

#include "error.h"
#include "oci/config.h"

/* Drop every capability not in the bounding set (needs CAP_SETPCAP, so
 * before the uid change). */
int rt_caps_drop_bounding(const struct oci_caps *caps, struct rt_err **err);
/* Set effective/permitted/inheritable and raise the ambient set (after the
 * uid change, with PR_SET_KEEPCAPS in effect across it). */
int rt_caps_apply(const struct oci_caps *caps, struct rt_err **err);

#endif
