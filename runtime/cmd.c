#include "cmd.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

void rt_cmd_help(const struct rt_cmd *cmd)
{
	printf("NAME:\n   ferry %s - %s\n\nUSAGE:\n   ferry %s %s\n", cmd->name,
	       cmd->summary, cmd->name, cmd->usage);
	if (cmd->flags && *cmd->flags)
		printf("\nOPTIONS:\n%s", cmd->flags);
	printf("   --help, -h  show help\n");
}

/* runc parses flags the way Go does: a long flag may follow one dash
 * ("-no-subreaper", as containerd's shim passes it to restore). The
 * argument at optind when it is exactly one of longopts after one dash
 * (with "=VALUE" or not): that option, getopt_long's way; 0 when it is
 * not one ('?' and err when it is, but wrongly used). */
static int single_dash_long(const struct rt_cmd *cmd, int argc, char **argv,
			    const struct option *longopts, struct rt_err **err)
{
	const char *a = optind < argc ? argv[optind] : NULL;
	if (a == NULL || a[0] != '-' || a[1] == '-' || a[1] == '\0' || a[2] == '\0')
		return 0;
	size_t len = strcspn(a + 1, "=");
	const char *eq = a[1 + len] == '=' ? a + 2 + len : NULL;
	for (const struct option *o = longopts; o && o->name; o++) {
		if (strlen(o->name) != len || strncmp(o->name, a + 1, len) != 0)
			continue;
		optind++;
		optarg = (char *)eq;
		if (o->has_arg == no_argument && eq) {
			rt_err_set(err, 0, "%s: flag '-%s' takes no value", cmd->name, o->name);
			return '?';
		}
		if (o->has_arg == required_argument && !eq) {
			if (optind >= argc) {
				rt_err_set(err, 0, "%s: flag '%s' needs a value", cmd->name, a);
				return '?';
			}
			optarg = argv[optind++];
		}
		if (o->flag) {
			*o->flag = o->val;
			return 0;
		}
		return o->val;
	}
	return 0;
}

int rt_cmd_getopt(const struct rt_cmd *cmd, int argc, char **argv,
		  const char *shortopts, const struct option *longopts,
		  struct rt_err **err)
{
	int single = single_dash_long(cmd, argc, argv, longopts, err);
	if (single != 0)
		return single;
	cleanup_free char *opts = xasprintf("+:%s", shortopts);
	int c = getopt_long(argc, argv, opts, longopts, NULL);
	if (c == '?') {
		rt_err_set(err, 0, "%s: unknown flag '%s' (see 'ferry %s --help')",
			   cmd->name, argv[optind - 1], cmd->name);
		return '?';
	}
	if (c == ':') {
		rt_err_set(err, 0, "%s: flag '%s' needs a value", cmd->name,
			   argv[optind - 1]);
		return '?';
	}
	return c;
}

int rt_cmd_nargs(const struct rt_cmd *cmd, int argc, int min, int max,
		 struct rt_err **err)
{
	int n = argc - optind;
	if (n >= min && (max < 0 || n <= max))
		return 0;
	if (min == max)
		return rt_err_set(err, 0, "\"%s\" requires exactly %d argument(s)",
				  cmd->name, min);
	if (n < min)
		return rt_err_set(err, 0, "\"%s\" requires a minimum of %d argument(s)",
				  cmd->name, min);
	return rt_err_set(err, 0, "\"%s\" requires a maximum of %d argument(s)",
			  cmd->name, max);
}

int rt_cmd_int(const char *flag, const char *value, int *out, struct rt_err **err)
{
	long long v;
	if (rt_parse_int64(value, &v) < 0 || v < -2147483648LL || v > 2147483647LL)
		return rt_err_set(err, 0, "invalid value \"%s\" for flag %s", value, flag);
	*out = (int)v;
	return 0;
}

int rt_cmd_id_only(const struct rt_cmd *cmd, int argc, char **argv,
		   const char **id, struct rt_err **err)
{
	static const struct option opts[] = { RT_HELP_OPTION, { 0 } };
	int c;
	while ((c = rt_cmd_getopt(cmd, argc, argv, "h", opts, err)) != -1) {
		if (c != 'h')
			return -1;
		rt_cmd_help(cmd);
		return 1;
	}
	if (rt_cmd_nargs(cmd, argc, 1, 1, err) < 0)
		return -1;
	*id = argv[optind];
	return 0;
}

int rt_cmd_empty_ns(const struct rt_cmd *cmd, const char *ns, struct rt_err **err)
{
	static const char *const known[] = { "pid", "ipc", "mount", "uts", "user", "cgroup" };
	if (strcmp(ns, "network") == 0)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (strcmp(ns, known[i]) == 0)
			return rt_err_set(err, 0, "%s: --empty-ns %s: only the network namespace "
					  "can be left empty", cmd->name, ns);
	return rt_err_set(err, 0, "%s: --empty-ns: unknown namespace \"%s\"", cmd->name, ns);
}
