#include "seccomp-profile.h"

#include <ctype.h>
#include <errno.h>
#include <seccomp.h>
#include <string.h>

#include "util.h"

static uint32_t scmp_action(enum oci_seccomp_action a, bool has_errno,
			    unsigned errno_ret)
{
	switch (a) {
	case OCI_SCMP_KILL:
		return SCMP_ACT_KILL_THREAD;
	case OCI_SCMP_KILL_PROCESS:
		return SCMP_ACT_KILL_PROCESS;
	case OCI_SCMP_TRAP:
		return SCMP_ACT_TRAP;
	case OCI_SCMP_ERRNO:
		return SCMP_ACT_ERRNO(has_errno ? errno_ret : EPERM);
	case OCI_SCMP_TRACE:
		return SCMP_ACT_TRACE(has_errno ? errno_ret : EPERM);
	case OCI_SCMP_LOG:
		return SCMP_ACT_LOG;
	case OCI_SCMP_NOTIFY: /* refused by the config parser */
	case OCI_SCMP_ALLOW:
		break;
	}
	return SCMP_ACT_ALLOW;
}

static enum scmp_compare scmp_op(enum oci_seccomp_op op)
{
	static const enum scmp_compare ops[] = {
		[OCI_SCMP_CMP_NE] = SCMP_CMP_NE,
		[OCI_SCMP_CMP_LT] = SCMP_CMP_LT,
		[OCI_SCMP_CMP_LE] = SCMP_CMP_LE,
		[OCI_SCMP_CMP_EQ] = SCMP_CMP_EQ,
		[OCI_SCMP_CMP_GE] = SCMP_CMP_GE,
		[OCI_SCMP_CMP_GT] = SCMP_CMP_GT,
		[OCI_SCMP_CMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
	};
	return ops[op];
}

static int add_arch(scmp_filter_ctx ctx, const char *name, struct rt_err **err)
{
	char lower[64];
	const char *s = rt_has_prefix(name, "SCMP_ARCH_") ? name + 10 : name;
	size_t i;
	for (i = 0; s[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (char)tolower((unsigned char)s[i]);
	lower[i] = '\0';
	uint32_t arch = seccomp_arch_resolve_name(lower);
	if (arch == 0)
		return rt_err_set(err, 0, "linux.seccomp.architectures: unknown "
				  "architecture \"%s\"", name);
	int r = seccomp_arch_add(ctx, arch);
	if (r < 0 && r != -EEXIST)
		return rt_err_set(err, -r, "seccomp: add architecture %s", name);
	return 0;
}

static int set_flag(scmp_filter_ctx ctx, const char *flag, struct rt_err **err)
{
	enum scmp_filter_attr attr;
	if (strcmp(flag, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
		attr = SCMP_FLTATR_CTL_TSYNC;
	else if (strcmp(flag, "SECCOMP_FILTER_FLAG_LOG") == 0)
		attr = SCMP_FLTATR_CTL_LOG;
	else if (strcmp(flag, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
		attr = SCMP_FLTATR_CTL_SSB;
	else
		return rt_err_set(err, 0, "linux.seccomp.flags: unsupported flag "
				  "\"%s\"", flag);
	int r = seccomp_attr_set(ctx, attr, 1);
	if (r < 0)
		return rt_err_set(err, -r, "linux.seccomp.flags: set %s", flag);
	return 0;
}

/* Conditions on one argument index are ANDed by libseccomp only when they
 * name different arguments; repeated indexes become one rule each (runc's
 * reading of the spec). */
static bool repeated_index(const struct oci_seccomp_rule *r)
{
	for (size_t i = 0; i < r->n_args; i++)
		for (size_t j = i + 1; j < r->n_args; j++)
			if (r->args[i].index == r->args[j].index)
				return true;
	return false;
}

static struct scmp_arg_cmp arg_cmp(const struct oci_seccomp_arg *a)
{
	struct scmp_arg_cmp c = {
		.arg = a->index,
		.op = scmp_op(a->op),
		.datum_a = a->value,
		.datum_b = a->value_two,
	};
	return c;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr,
		    const struct oci_seccomp_rule *r, const char *name,
		    struct rt_err **err)
{
	struct scmp_arg_cmp cmps[6];
	int ret = 0;
	if (r->n_args > 6)
		return rt_err_set(err, 0, "seccomp rule for %s: more than 6 "
				  "argument conditions", name);
	if (r->n_args == 0) {
		ret = seccomp_rule_add(ctx, action, nr, 0);
	} else if (repeated_index(r)) {
		for (size_t i = 0; i < r->n_args && ret == 0; i++) {
			cmps[0] = arg_cmp(&r->args[i]);
			ret = seccomp_rule_add_array(ctx, action, nr, 1, cmps);
		}
	} else {
		for (size_t i = 0; i < r->n_args; i++)
			cmps[i] = arg_cmp(&r->args[i]);
		ret = seccomp_rule_add_array(ctx, action, nr,
					     (unsigned)r->n_args, cmps);
	}
	if (ret < 0)
		return rt_err_set(err, -ret, "seccomp: add rule for %s", name);
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, const struct oci_seccomp *sc,
		     uint32_t def, struct rt_err **err)
{
	for (size_t i = 0; i < sc->n_rules; i++) {
		const struct oci_seccomp_rule *r = &sc->rules[i];
		uint32_t action = scmp_action(r->action, r->has_errno_ret,
					      r->errno_ret);
		if (action == def)
			continue; /* libseccomp refuses rules equal to the default */
		for (size_t j = 0; r->names && r->names[j]; j++) {
			int nr = seccomp_syscall_resolve_name(r->names[j]);
			if (nr == __NR_SCMP_ERROR)
				continue;
			if (add_rule(ctx, action, nr, r, r->names[j], err) < 0)
				return -1;
		}
	}
	return 0;
}

int rt_seccomp_load(const struct oci_seccomp *sc, struct rt_err **err)
{
	uint32_t def = scmp_action(sc->default_action, sc->has_default_errno_ret,
				   sc->default_errno_ret);
	scmp_filter_ctx ctx = seccomp_init(def);
	if (ctx == NULL)
		return rt_err_set(err, EINVAL, "seccomp_init");
	int ret = 0;
	for (size_t i = 0; sc->architectures && sc->architectures[i] && ret == 0; i++)
		ret = add_arch(ctx, sc->architectures[i], err);
	for (size_t i = 0; sc->flags && sc->flags[i] && ret == 0; i++)
		ret = set_flag(ctx, sc->flags[i], err);
	/* The filter is for the container process, not for our own calls. */
	if (ret == 0)
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (ret == 0)
		ret = add_rules(ctx, sc, def, err);
	if (ret == 0) {
		int r = seccomp_load(ctx);
		if (r < 0)
			ret = rt_err_set(err, -r, "load the seccomp filter");
	}
	seccomp_release(ctx);
	return ret;
}
