/* The verbs. Each cmd-*.c only turns flags into one call below it and
 * returns the process exit status (0 on success), or -1 with *err set. */
#ifndef FERRY_CMD_H
#define FERRY_CMD_H

#include <getopt.h>
#include <stdbool.h>

#include "context.h"
#include "error.h"

struct rt_cmd {
	const char *name;
	const char *summary;
	const char *usage; /* after "ferry NAME " */
	const char *flags; /* help text for the flags, one per line */
	int (*run)(const struct rt_context *ctx, const struct rt_cmd *self, int argc,
		   char **argv, struct rt_err **err);
};

extern const struct rt_cmd rt_cmd_create, rt_cmd_start, rt_cmd_run, rt_cmd_state,
	rt_cmd_kill, rt_cmd_delete, rt_cmd_list, rt_cmd_ps, rt_cmd_exec, rt_cmd_pause,
	rt_cmd_resume, rt_cmd_events, rt_cmd_update, rt_cmd_spec, rt_cmd_features,
	rt_cmd_checkpoint, rt_cmd_restore, rt_cmd_check, rt_cmd_inspect;

void rt_cmd_help(const struct rt_cmd *cmd);

/* getopt_long over argv (argv[0] is the verb); stops at the first operand.
 * Returns the option, -1 at the end, or '?' after setting *err. --help is
 * handled by the caller through 'h'. */
int rt_cmd_getopt(const struct rt_cmd *cmd, int argc, char **argv,
		  const char *shortopts, const struct option *longopts,
		  struct rt_err **err);

/* Check the number of operands left after the options. */
/* checkpoint/restore --empty-ns NS (runc's flag): "network" is the only
 * namespace that can be left empty, as with runc and CRIU. ferry never
 * saves a network namespace's configuration (interfaces, addresses,
 * routes): restore makes the one config.json asks for, with loopback up,
 * as create does, and whatever set it up the first time (a CNI plugin, a
 * hook) sets it up again. So "network" changes nothing; anything else is
 * refused. */
int rt_cmd_empty_ns(const struct rt_cmd *cmd, const char *ns, struct rt_err **err);
int rt_cmd_nargs(const struct rt_cmd *cmd, int argc, int min, int max,
		 struct rt_err **err);

int rt_cmd_int(const char *flag, const char *value, int *out, struct rt_err **err);

struct rt_create_opts;
/* create's flags, shared with run (which passes detach and keep). Returns 1
 * after printing --help. */
int rt_cmd_create_flags(const struct rt_cmd *cmd, int argc, char **argv,
			struct rt_create_opts *o, bool *detach, bool *keep,
			struct rt_err **err);

/* The usual shape of a verb that takes only an id: parse --help and one
 * operand. Returns 1 after --help. */
int rt_cmd_id_only(const struct rt_cmd *cmd, int argc, char **argv,
		   const char **id, struct rt_err **err);

#define RT_HELP_OPTION { "help", no_argument, NULL, 'h' }

#endif
