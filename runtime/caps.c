#include "caps.h"

#include <errno.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "util.h"

int rt_caps_drop_bounding(const struct oci_caps *caps, struct rt_err **err)
{
	int last = oci_cap_last();
	for (int cap = 0; cap <= last; cap++) {
		if (caps->bounding & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return rt_err_set(err, errno, "drop %s from the bounding set",
					  oci_cap_name(cap));
	}
	return 0;
}

static void set_flag(cap_t c, cap_flag_t flag, uint64_t mask, int last)
{
	for (int cap = 0; cap <= last; cap++) {
		if (!(mask & (1ULL << cap)))
			continue;
		cap_value_t v = cap;
		cap_set_flag(c, flag, 1, &v, CAP_SET);
	}
}

int rt_caps_apply(const struct oci_caps *caps, struct rt_err **err)
{
	int last = oci_cap_last();
	cap_t c = cap_init();
	if (c == NULL)
		return rt_err_set(err, errno, "cap_init");
	set_flag(c, CAP_EFFECTIVE, caps->effective, last);
	set_flag(c, CAP_PERMITTED, caps->permitted, last);
	set_flag(c, CAP_INHERITABLE, caps->inheritable, last);
	int r = cap_set_proc(c);
	int e = errno;
	cap_free(c);
	if (r < 0)
		return rt_err_set(err, e, "set capabilities (effective %#llx, "
				  "permitted %#llx, inheritable %#llx)",
				  (unsigned long long)caps->effective,
				  (unsigned long long)caps->permitted,
				  (unsigned long long)caps->inheritable);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return rt_err_set(err, errno, "clear the ambient set");
	for (int cap = 0; cap <= last; cap++) {
		if (!(caps->ambient & (1ULL << cap)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return rt_err_set(err, errno,
					  "raise %s in the ambient set (it must "
					  "also be permitted and inheritable)",
					  oci_cap_name(cap));
	}
	return 0;
}
