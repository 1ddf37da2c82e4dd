/* ferry: global flags and the command table. The only place that prints
 * errors and chooses the exit status. */
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "context.h"
#include "log.h"
#include "util.h"

#define FERRY_VERSION "0.1.0"
#define FERRY_SPEC_VERSION "1.2.0"

static const struct rt_cmd *const commands[] = {
	&rt_cmd_create, &rt_cmd_start, &rt_cmd_run, &rt_cmd_state, &rt_cmd_kill,
	&rt_cmd_delete, &rt_cmd_list, &rt_cmd_ps, &rt_cmd_exec, &rt_cmd_pause,
	&rt_cmd_resume, &rt_cmd_events, &rt_cmd_update, &rt_cmd_spec,
	&rt_cmd_features, &rt_cmd_checkpoint, &rt_cmd_restore, &rt_cmd_check,
	&rt_cmd_inspect,
};

static void print_version(void)
{
	const struct scmp_version *v = seccomp_version();
	printf("ferry version %s\nspec: %s\nlibseccomp: %u.%u.%u\n", FERRY_VERSION,
	       FERRY_SPEC_VERSION, v->major, v->minor, v->micro);
}

static void print_help(void)
{
	printf("NAME:\n   ferry - an OCI container runtime that can move running containers\n\n"
	       "USAGE:\n   ferry [global options] command [command options] [arguments...]\n\n"
	       "COMMANDS:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		printf("   %-10s %s\n", commands[i]->name, commands[i]->summary);
	printf("   %-10s %s\n", "help", "show the help of ferry or of one command");
	printf("\nGLOBAL OPTIONS:\n"
	       "   --root value        state directory (default: " RT_DEFAULT_ROOT ")\n"
	       "   --log value         log file (default: stderr)\n"
	       "   --log-format value  text or json (default: text)\n"
	       "   --debug             log debug messages\n"
	       "   --systemd-cgroup    use the systemd cgroup driver (not supported)\n"
	       "   --rootless value    true, false or auto (default: auto)\n"
	       "   --version, -v       print the version\n"
	       "   --help, -h          show help\n");
}

struct globals {
	struct rt_context ctx;
	const char *log, *log_format;
	bool version, help;
};

/* "--flag value" or "--flag=value"; advances *i past what it used. */
static const char *flag_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (a[0] == '-' && a[1] == '-')
		a += 2;
	else
		a += 1;
	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0' || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static bool is_flag(const char *arg, const char *name)
{
	const char *a = arg[0] == '-' && arg[1] == '-' ? arg + 2 : arg + 1;
	return strcmp(a, name) == 0;
}

static int parse_globals(int argc, char **argv, struct globals *g, struct rt_err **err)
{
	int i;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *v;
		if ((v = flag_value(argc, argv, &i, "root")))
			g->ctx.root = v;
		else if ((v = flag_value(argc, argv, &i, "log-format")))
			g->log_format = v;
		else if ((v = flag_value(argc, argv, &i, "log")))
			g->log = v;
		else if ((v = flag_value(argc, argv, &i, "rootless")))
			g->ctx.rootless = v;
		else if ((v = flag_value(argc, argv, &i, "criu")))
			; /* runc's flag; ferry has its own checkpoint engine */
		else if (is_flag(argv[i], "debug"))
			g->ctx.debug = true;
		else if (is_flag(argv[i], "systemd-cgroup"))
			g->ctx.systemd_cgroup = true;
		else if (is_flag(argv[i], "version") || strcmp(argv[i], "-v") == 0)
			g->version = true;
		else if (is_flag(argv[i], "help") || strcmp(argv[i], "-h") == 0)
			g->help = true;
		else
			return rt_err_set(err, 0, "unknown global flag '%s'", argv[i]);
	}
	return i;
}

static int check_globals(const struct globals *g, struct rt_err **err)
{
	if (g->log_format && strcmp(g->log_format, "text") != 0 &&
	    strcmp(g->log_format, "json") != 0)
		return rt_err_set(err, 0, "--log-format: \"%s\" is not text or json",
				  g->log_format);
	if (g->ctx.systemd_cgroup)
		return rt_err_set(err, 0, "--systemd-cgroup: the systemd cgroup driver "
				  "is not supported; use cgroupfs");
	if (strcmp(g->ctx.rootless, "true") == 0 && geteuid() != 0)
		return rt_err_set(err, 0, "--rootless: rootless containers are not "
				  "supported yet; run ferry as root");
	return 0;
}

static const struct rt_cmd *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static int fail(struct rt_err *err)
{
	rt_log(RT_LOG_ERROR, "%s", err->msg);
	rt_err_free(err);
	return 1;
}

int main(int argc, char **argv)
{
	struct globals g = { .ctx = { .root = RT_DEFAULT_ROOT, .rootless = "auto" } };
	struct rt_err *err = NULL;
	int first = parse_globals(argc, argv, &g, &err);
	if (first < 0)
		return fail(err);
	if (rt_log_open(g.log, g.log_format, g.ctx.debug) < 0)
		fprintf(stderr, "ferry: cannot open log file '%s'\n", g.log);
	if (g.version)
		return print_version(), 0;
	if (g.help || first >= argc)
		return print_help(), 0;
	if (strcmp(argv[first], "help") == 0) {
		const struct rt_cmd *c = first + 1 < argc ? find_command(argv[first + 1]) : NULL;
		if (first + 1 < argc && c == NULL) {
			rt_err_set(&err, 0, "no such command \"%s\"", argv[first + 1]);
			return fail(err);
		}
		return c ? (rt_cmd_help(c), 0) : (print_help(), 0);
	}
	if (check_globals(&g, &err) < 0)
		return fail(err);
	const struct rt_cmd *cmd = find_command(argv[first]);
	if (cmd == NULL) {
		rt_err_set(&err, 0, "no such command \"%s\" (see 'ferry --help')", argv[first]);
		return fail(err);
	}
	optind = 1;
	int status = cmd->run(&g.ctx, cmd, argc - first, argv + first, &err);
	if (status < 0)
		return fail(err);
	return status;
}
