/* config.json "linux.seccomp": actions, operators, architectures and flags
 * checked by name here; syscall names are resolved by the runtime. */
#include <stdlib.h>
#include <string.h>

#include "oci/config-internal.h"
#include "util.h"

static const struct {
	const char *name;
	enum oci_seccomp_action action;
} actions[] = {
	{"SCMP_ACT_KILL", OCI_SCMP_KILL},
	{"SCMP_ACT_KILL_THREAD", OCI_SCMP_KILL},
	{"SCMP_ACT_KILL_PROCESS", OCI_SCMP_KILL_PROCESS},
	{"SCMP_ACT_TRAP", OCI_SCMP_TRAP},
	{"SCMP_ACT_ERRNO", OCI_SCMP_ERRNO},
	{"SCMP_ACT_TRACE", OCI_SCMP_TRACE},
	{"SCMP_ACT_ALLOW", OCI_SCMP_ALLOW},
	{"SCMP_ACT_LOG", OCI_SCMP_LOG},
	{"SCMP_ACT_NOTIFY", OCI_SCMP_NOTIFY},
};

static const struct {
	const char *name;
	enum oci_seccomp_op op;
} ops[] = {
	{"SCMP_CMP_NE", OCI_SCMP_CMP_NE},
	{"SCMP_CMP_LT", OCI_SCMP_CMP_LT},
	{"SCMP_CMP_LE", OCI_SCMP_CMP_LE},
	{"SCMP_CMP_EQ", OCI_SCMP_CMP_EQ},
	{"SCMP_CMP_GE", OCI_SCMP_CMP_GE},
	{"SCMP_CMP_GT", OCI_SCMP_CMP_GT},
	{"SCMP_CMP_MASKED_EQ", OCI_SCMP_CMP_MASKED_EQ},
};

static const char *const arches[] = {
	"SCMP_ARCH_X86",	 "SCMP_ARCH_X86_64",	"SCMP_ARCH_X32",
	"SCMP_ARCH_ARM",	 "SCMP_ARCH_AARCH64",	"SCMP_ARCH_MIPS",
	"SCMP_ARCH_MIPS64",	 "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
	"SCMP_ARCH_MIPSEL64",	 "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
	"SCMP_ARCH_PPC64",	 "SCMP_ARCH_PPC64LE",	"SCMP_ARCH_S390",
	"SCMP_ARCH_S390X",	 "SCMP_ARCH_PARISC",	"SCMP_ARCH_PARISC64",
	"SCMP_ARCH_RISCV64",	 "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
	"SCMP_ARCH_SH",		 "SCMP_ARCH_SHEB",
};

static const char *const filter_flags[] = {
	"SECCOMP_FILTER_FLAG_TSYNC",
	"SECCOMP_FILTER_FLAG_LOG",
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW",
	"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

/* SECCOMP_RET_DATA is 16 bits; larger values would wrap silently. */
#define ERRNO_RET_MAX 65535

static bool in_list(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static int parse_action(const struct jpath *p, yajl_val v,
			enum oci_seccomp_action *out, struct rt_err **err)
{
	if (!YAJL_IS_STRING(v))
		return oci_jp_err(err, p, "must be a string");
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
		if (strcmp(actions[i].name, v->u.string) != 0)
			continue;
		if (actions[i].action == OCI_SCMP_NOTIFY)
			return oci_jp_err(err, p,
					  "SCMP_ACT_NOTIFY is not supported by ferry (no seccomp notify listener)");
		*out = actions[i].action;
		return 0;
	}
	return oci_jp_err(err, p, "unknown seccomp action \"%s\"",
			  v->u.string);
}

/* An errno return only means something to SCMP_ACT_ERRNO and _TRACE. */
static int parse_errno_ret(const struct jpath *p, yajl_val obj,
			   const char *key, enum oci_seccomp_action action,
			   bool *has, unsigned *out, struct rt_err **err)
{
	uint64_t x;
	if (oci_jf_uint(p, obj, key, ERRNO_RET_MAX, has, &x, err) < 0)
		return -1;
	if (!*has)
		return 0;
	if (action != OCI_SCMP_ERRNO && action != OCI_SCMP_TRACE)
		return oci_jp_err(err, JP_KEY(p, key),
				  "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno return");
	*out = (unsigned)x;
	return 0;
}

static int parse_arg(const struct jpath *p, yajl_val v,
		     struct oci_seccomp_arg *a, struct rt_err **err)
{
	yajl_val idx, val, op;
	uint64_t x;
	if (oci_jobj(p, v, err) < 0 ||
	    oci_jf_req(p, v, "index", &idx, err) < 0 ||
	    oci_juint(JP_KEY(p, "index"), idx, 5, &x, err) < 0)
		return -1;
	a->index = (unsigned)x;
	if (oci_jf_req(p, v, "value", &val, err) < 0 ||
	    oci_juint(JP_KEY(p, "value"), val, UINT64_MAX, &a->value, err) < 0 ||
	    oci_jf_uint(p, v, "valueTwo", UINT64_MAX, NULL, &a->value_two,
			err) < 0)
		return -1;
	if (oci_jf_req(p, v, "op", &op, err) < 0)
		return -1;
	if (!YAJL_IS_STRING(op))
		return oci_jp_err(err, JP_KEY(p, "op"), "must be a string");
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
		if (strcmp(ops[i].name, op->u.string) == 0) {
			a->op = ops[i].op;
			return 0;
		}
	return oci_jp_err(err, JP_KEY(p, "op"),
			  "unknown seccomp operator \"%s\"", op->u.string);
}

static int parse_args(const struct jpath *p, yajl_val v,
		      struct oci_seccomp_rule *r, struct rt_err **err)
{
	size_t n;
	if (oci_jarr(p, v, &n, err) < 0)
		return -1;
	r->args = xcalloc(n, sizeof(struct oci_seccomp_arg));
	r->n_args = n;
	for (size_t i = 0; i < n; i++)
		if (parse_arg(JP_IDX(p, i), v->u.array.values[i], &r->args[i],
			      err) < 0)
			return -1;
	return 0;
}

static int parse_rule(const struct jpath *p, yajl_val v,
		      struct oci_seccomp_rule *r, struct rt_err **err)
{
	yajl_val names, action, args;
	if (oci_jobj(p, v, err) < 0)
		return -1;
	names = oci_jget(v, "names");
	if (names == NULL || !YAJL_IS_ARRAY(names) || names->u.array.len == 0)
		return oci_jp_err(err, JP_KEY(p, "names"),
				  "must be a non-empty array of strings");
	if (oci_jstrv(JP_KEY(p, "names"), names, &r->names, err) < 0)
		return -1;
	for (size_t i = 0; r->names[i]; i++)
		if (r->names[i][0] == '\0')
			return oci_jp_err(err, JP_IDX(JP_KEY(p, "names"), i),
					  "must not be empty");
	if (oci_jf_req(p, v, "action", &action, err) < 0 ||
	    parse_action(JP_KEY(p, "action"), action, &r->action, err) < 0)
		return -1;
	if (parse_errno_ret(p, v, "errnoRet", r->action, &r->has_errno_ret,
			    &r->errno_ret, err) < 0)
		return -1;
	if ((args = oci_jget(v, "args")) &&
	    parse_args(JP_KEY(p, "args"), args, r, err) < 0)
		return -1;
	return 0;
}

static int parse_rules(const struct jpath *p, yajl_val v,
		       struct oci_seccomp *s, struct rt_err **err)
{
	size_t n;
	if (oci_jarr(p, v, &n, err) < 0)
		return -1;
	s->rules = xcalloc(n, sizeof(struct oci_seccomp_rule));
	s->n_rules = n;
	for (size_t i = 0; i < n; i++)
		if (parse_rule(JP_IDX(p, i), v->u.array.values[i], &s->rules[i],
			       err) < 0)
			return -1;
	return 0;
}

static int check_names(const struct jpath *p, char **v,
		       const char *const *known, size_t n, const char *what,
		       struct rt_err **err)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!in_list(known, n, v[i]))
			return oci_jp_err(err, JP_IDX(p, i), "unknown %s \"%s\"",
					  what, v[i]);
	return 0;
}

static const struct oci_refused seccomp_refused[] = {
	{"listenerPath", "seccomp notify listeners"},
};

static int parse_seccomp_fields(const struct jpath *p, yajl_val v,
				struct oci_seccomp *s, struct rt_err **err)
{
	yajl_val def, x;
	if (oci_jobj(p, v, err) < 0 ||
	    oci_jrefuse(p, v, seccomp_refused, ARRAY_SIZE(seccomp_refused),
			err) < 0)
		return -1;
	if (oci_jf_req(p, v, "defaultAction", &def, err) < 0 ||
	    parse_action(JP_KEY(p, "defaultAction"), def, &s->default_action,
			 err) < 0)
		return -1;
	if (parse_errno_ret(p, v, "defaultErrnoRet", s->default_action,
			    &s->has_default_errno_ret, &s->default_errno_ret,
			    err) < 0)
		return -1;
	if (oci_jf_strv(p, v, "architectures", &s->architectures, err) < 0 ||
	    check_names(JP_KEY(p, "architectures"), s->architectures, arches,
			ARRAY_SIZE(arches), "architecture", err) < 0)
		return -1;
	if (oci_jf_strv(p, v, "flags", &s->flags, err) < 0 ||
	    check_names(JP_KEY(p, "flags"), s->flags, filter_flags,
			ARRAY_SIZE(filter_flags), "seccomp flag", err) < 0)
		return -1;
	if ((x = oci_jget(v, "syscalls")) &&
	    parse_rules(JP_KEY(p, "syscalls"), x, s, err) < 0)
		return -1;
	return 0;
}

int oci_parse_seccomp(const struct jpath *p, yajl_val v,
		      struct oci_seccomp **out, struct rt_err **err)
{
	struct oci_seccomp *s = xcalloc(1, sizeof(*s));
	if (parse_seccomp_fields(p, v, s, err) < 0) {
		oci_seccomp_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void oci_seccomp_free(struct oci_seccomp *s)
{
	if (s == NULL)
		return;
	rt_strv_free(s->architectures);
	rt_strv_free(s->flags);
	for (size_t i = 0; i < s->n_rules; i++) {
		rt_strv_free(s->rules[i].names);
		free(s->rules[i].args);
	}
	free(s->rules);
	free(s);
}
