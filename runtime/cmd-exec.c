#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "container.h"
#include "util.h"

struct exec_flags {
	struct rt_exec_opts o;
	const char *process_file;
	char **env;
	gid_t *gids;
	size_t n_gids;
};

static int parse_user(const char *s, struct rt_exec_opts *o, struct rt_err **err)
{
	char *end = NULL;
	unsigned long uid = strtoul(s, &end, 10);
	unsigned long gid = 0;
	if (end == s || (*end && *end != ':'))
		return rt_err_set(err, 0, "--user: \"%s\" is not uid[:gid]", s);
	if (*end == ':') {
		const char *g = end + 1;
		gid = strtoul(g, &end, 10);
		if (end == g || *end)
			return rt_err_set(err, 0, "--user: \"%s\" is not uid[:gid]", s);
	}
	o->has_user = true;
	o->uid = (uid_t)uid;
	o->gid = (gid_t)gid;
	return 0;
}

static int apply(int c, const char *arg, struct exec_flags *f, struct rt_err **err)
{
	long long v;
	int cap;
	switch (c) {
	case 'S': f->o.console_socket = arg; return 0;
	case 'w': f->o.cwd = arg; return 0;
	case 'e': rt_strv_push(&f->env, arg); return 0;
	case 't': f->o.tty = true; return 0;
	case 'u': return parse_user(arg, &f->o, err);
	case 'g':
		if (rt_parse_int64(arg, &v) < 0 || v < 0)
			return rt_err_set(err, 0, "--additional-gids: \"%s\" is not a gid", arg);
		f->gids = xrealloc(f->gids, (f->n_gids + 1) * sizeof(gid_t));
		f->gids[f->n_gids++] = (gid_t)v;
		return 0;
	case 'p': f->process_file = arg; return 0;
	case 'd': f->o.detach = true; return 0;
	case 'P': f->o.pid_file = arg; return 0;
	case 'n': f->o.no_new_privs = true; return 0;
	case 'i': f->o.ignore_paused = true; return 0;
	case 'c':
		if ((cap = oci_cap_from_name(arg)) < 0)
			return rt_err_set(err, 0, "--cap: unknown capability \"%s\"", arg);
		f->o.add_caps |= 1ULL << cap;
		return 0;
	case 'f': return rt_cmd_int("--preserve-fds", arg, &f->o.preserve_fds, err);
	case 'l': case 'a':
		if (*arg)
			return rt_err_set(err, 0, "exec: SELinux and AppArmor labels are "
					  "not supported by ferry");
		return 0;
	}
	return -1;
}

static int load_process(struct exec_flags *f, struct rt_err **err)
{
	cleanup_free char *buf = NULL;
	size_t len;
	if (rt_read_file(f->process_file, &buf, &len, err) < 0)
		return -1;
	if (oci_process_parse(buf, len, &f->o.process, err) < 0)
		return rt_err_wrap(err, "--process '%s'", f->process_file);
	return 0;
}

static int run_exec(const struct rt_context *ctx, struct exec_flags *f, int argc,
		    char **argv, struct rt_err **err)
{
	f->o.id = argv[optind];
	if (f->process_file) {
		if (load_process(f, err) < 0)
			return -1;
	} else if (argc - optind < 2) {
		return rt_err_set(err, 0, "exec: a command or --process is required");
	}
	f->o.args = &argv[optind + 1];
	f->o.env = f->env;
	f->o.additional_gids = f->gids;
	f->o.n_additional_gids = f->n_gids;
	int status;
	if (rt_container_exec(ctx, &f->o, &status, err) < 0)
		return -1;
	return status;
}

static int run(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
	       char **argv, struct rt_err **err)
{
	static const struct option opts[] = {
		{ "console-socket", required_argument, NULL, 'S' },
		{ "cwd", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' },
		{ "tty", no_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' },
		{ "additional-gids", required_argument, NULL, 'g' },
		{ "process", required_argument, NULL, 'p' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'P' },
		{ "process-label", required_argument, NULL, 'l' },
		{ "apparmor", required_argument, NULL, 'a' },
		{ "no-new-privs", no_argument, NULL, 'n' },
		{ "cap", required_argument, NULL, 'c' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ "ignore-paused", no_argument, NULL, 'i' },
		RT_HELP_OPTION,
		{ 0 },
	};
	struct exec_flags f = { 0 };
	bool help = false;
	int c, ret = 0;
	while (ret == 0 && !help &&
	       (c = rt_cmd_getopt(self, argc, argv, "e:tu:g:p:dc:h", opts, err)) != -1) {
		if (c == 'h')
			help = true;
		else
			ret = apply(c, optarg, &f, err);
	}
	if (help)
		rt_cmd_help(self);
	else if (ret == 0)
		ret = rt_cmd_nargs(self, argc, 1, -1, err);
	if (!help && ret == 0)
		ret = run_exec(ctx, &f, argc, argv, err); /* the process's exit status */
	rt_strv_free(f.env);
	free(f.gids);
	oci_process_free(f.o.process);
	return ret;
}

const struct rt_cmd rt_cmd_exec = {
	.name = "exec",
	.summary = "run a new process inside a container",
	.usage = "[command options] <container-id> <command> [command options]  ||  -p process.json <container-id>",
	.flags = "   --console-socket value     unix socket that receives the pty master\n"
		 "   --cwd value                working directory in the container\n"
		 "   --env value, -e value      set an environment variable (repeatable)\n"
		 "   --tty, -t                  allocate a pseudo-TTY\n"
		 "   --user value, -u value     uid[:gid] to run as\n"
		 "   --additional-gids value, -g value  additional gid (repeatable)\n"
		 "   --process value, -p value  process.json describing the process\n"
		 "   --detach, -d               detach from the process\n"
		 "   --pid-file value           file to write the process's pid to\n"
		 "   --no-new-privs             set no_new_privs\n"
		 "   --cap value, -c value      add a capability (repeatable)\n"
		 "   --preserve-fds value       pass N extra file descriptors\n"
		 "   --ignore-paused            exec even if the container is paused\n",
	.run = run,
};
