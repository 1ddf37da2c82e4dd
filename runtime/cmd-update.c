#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmd.h"
#include "container.h"
#include "util.h"

/* "512m", "1g", "1048576", "-1": bytes as runc's units.RAMInBytes reads them. */
static int parse_bytes(const char *flag, const char *s, int64_t *out, struct rt_err **err)
{
	if (strcmp(s, "-1") == 0) {
		*out = -1;
		return 0;
	}
	char *end = NULL;
	double v = strtod(s, &end);
	double mult = 1;
	switch (tolower((unsigned char)*end)) {
	case 'k': mult = 1024.0; break;
	case 'm': mult = 1024.0 * 1024; break;
	case 'g': mult = 1024.0 * 1024 * 1024; break;
	case 't': mult = 1024.0 * 1024 * 1024 * 1024; break;
	case 'b': case '\0': break;
	default: end = NULL;
	}
	if (end && *end && tolower((unsigned char)*end) != 'b') {
		end++;
		if (*end && strcasecmp(end, "b") != 0 && strcasecmp(end, "ib") != 0)
			end = NULL;
	}
	if (end == NULL || end == s || v < 0)
		return rt_err_set(err, 0, "invalid value \"%s\" for flag %s", s, flag);
	*out = (int64_t)(v * mult);
	return 0;
}

static int parse_u64(const char *flag, const char *s, uint64_t *out, struct rt_err **err)
{
	long long v;
	if (rt_parse_int64(s, &v) < 0 || v < 0)
		return rt_err_set(err, 0, "invalid value \"%s\" for flag %s", s, flag);
	*out = (uint64_t)v;
	return 0;
}

static int read_resources(const char *path, struct oci_resources **res, struct rt_err **err)
{
	cleanup_free char *buf = NULL;
	size_t len;
	int r = strcmp(path, "-") == 0 ? rt_read_fd(STDIN_FILENO, "stdin", &buf, &len, err)
				       : rt_read_file(path, &buf, &len, err);
	if (r < 0)
		return -1;
	return oci_resources_parse(buf, len, res, err) < 0 ? rt_err_wrap(err, "%s", path) : 0;
}

static int apply_flag(int c, const char *arg, struct oci_resources *r, struct rt_err **err)
{
	long long v;
	switch (c) {
	case 'm': r->has_memory_limit = true;
		return parse_bytes("--memory", arg, &r->memory_limit, err);
	case 'R': r->has_memory_reservation = true;
		return parse_bytes("--memory-reservation", arg, &r->memory_reservation, err);
	case 'W': r->has_memory_swap = true;
		return parse_bytes("--memory-swap", arg, &r->memory_swap, err);
	case 's': r->has_cpu_shares = true;
		return parse_u64("--cpu-share", arg, &r->cpu_shares, err);
	case 'P': r->has_cpu_period = true;
		return parse_u64("--cpu-period", arg, &r->cpu_period, err);
	case 'Q':
		if (rt_parse_int64(arg, &v) < 0)
			return rt_err_set(err, 0, "invalid value \"%s\" for flag --cpu-quota", arg);
		r->has_cpu_quota = true;
		r->cpu_quota = v;
		return 0;
	case 'C': free(r->cpuset_cpus); r->cpuset_cpus = xstrdup(arg); return 0;
	case 'M': free(r->cpuset_mems); r->cpuset_mems = xstrdup(arg); return 0;
	case 'p':
		if (rt_parse_int64(arg, &v) < 0)
			return rt_err_set(err, 0, "invalid value \"%s\" for flag --pids-limit", arg);
		r->has_pids_limit = true;
		r->pids_limit = v;
		return 0;
	case 'w': {
		uint64_t w = 0;
		if (parse_u64("--blkio-weight", arg, &w, err) < 0)
			return -1;
		r->has_blkio_weight = true;
		r->blkio_weight = (uint16_t)w;
		return 0;
	}
	case 'k': case 'K':
		return 0; /* kernel memory limits: deprecated, ignored like runc */
	}
	return rt_err_set(err, 0, "update: unsupported flag (real-time and RDT "
			  "limits are not supported by ferry)");
}

static int run(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
	       char **argv, struct rt_err **err)
{
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, 'r' },
		{ "memory", required_argument, NULL, 'm' },
		{ "memory-reservation", required_argument, NULL, 'R' },
		{ "memory-swap", required_argument, NULL, 'W' },
		{ "kernel-memory", required_argument, NULL, 'k' },
		{ "kernel-memory-tcp", required_argument, NULL, 'K' },
		{ "cpu-share", required_argument, NULL, 's' },
		{ "cpu-period", required_argument, NULL, 'P' },
		{ "cpu-quota", required_argument, NULL, 'Q' },
		{ "cpu-rt-period", required_argument, NULL, 'x' },
		{ "cpu-rt-runtime", required_argument, NULL, 'x' },
		{ "cpuset-cpus", required_argument, NULL, 'C' },
		{ "cpuset-mems", required_argument, NULL, 'M' },
		{ "pids-limit", required_argument, NULL, 'p' },
		{ "blkio-weight", required_argument, NULL, 'w' },
		{ "l3-cache-schema", required_argument, NULL, 'x' },
		{ "mem-bw-schema", required_argument, NULL, 'x' },
		RT_HELP_OPTION,
		{ 0 },
	};
	struct oci_resources *res = xcalloc(1, sizeof(*res));
	int c, ret = 0;
	while (ret == 0 && (c = rt_cmd_getopt(self, argc, argv, "r:h", opts, err)) != -1) {
		if (c == 'h') {
			rt_cmd_help(self);
			oci_resources_free(res);
			return 0;
		}
		if (c == '?')
			ret = -1;
		else if (c == 'r') {
			oci_resources_free(res);
			res = NULL;
			ret = read_resources(optarg, &res, err);
		} else
			ret = apply_flag(c, optarg, res, err);
	}
	if (ret == 0)
		ret = rt_cmd_nargs(self, argc, 1, 1, err);
	if (ret == 0)
		ret = rt_container_update(ctx, argv[optind], res, err);
	oci_resources_free(res);
	return ret;
}

const struct rt_cmd rt_cmd_update = {
	.name = "update",
	.summary = "change the resource limits of a running container",
	.usage = "[command options] <container-id>",
	.flags = "   --resources value, -r value  linux.resources JSON file (\"-\" for stdin)\n"
		 "   --memory value               memory limit (e.g. 512m, -1 for none)\n"
		 "   --memory-reservation value   memory soft limit\n"
		 "   --memory-swap value          memory + swap limit\n"
		 "   --cpu-share value            CPU shares (relative weight)\n"
		 "   --cpu-period value           CPU CFS period in microseconds\n"
		 "   --cpu-quota value            CPU CFS quota in microseconds (-1 for none)\n"
		 "   --cpuset-cpus value          CPUs allowed (e.g. 0-1)\n"
		 "   --cpuset-mems value          memory nodes allowed\n"
		 "   --pids-limit value           maximum number of tasks (-1 for none)\n"
		 "   --blkio-weight value         block I/O weight (10-1000)\n",
	.run = run,
};
