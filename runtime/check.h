/* `ferry check`: probe, on the running kernel, every mechanism the runtime
 * and the checkpoint coordinator use, and say for each whether it is
 * supported, missing (and what ferry does instead) or broken (present but
 * not behaving as documented). Each probe is cheap (a few ms at most) and
 * removes what it creates: child processes, fds, sockets, cgroups. */
#ifndef FERRY_CHECK_H
#define FERRY_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

enum rt_check_status {
	RT_CHECK_SUPPORTED,
	RT_CHECK_MISSING,
	RT_CHECK_BROKEN,
};

struct rt_check_result {
	const char *name;     /* stable key: "children-file", "pagemap-scan", ... */
	const char *what;     /* the mechanism, for people */
	enum rt_check_status status;
	char *detail;         /* what the probe saw */
	const char *fallback; /* what ferry does when it is not supported */
	unsigned long long elapsed_us;
};

struct rt_check_report {
	size_t n;
	struct rt_check_result *r;
	size_t count[3]; /* by status */
};

struct rt_check_opts {
	/* Walk process trees by PPid even when the children file exists
	 * (env FERRY_FORCE_PPID_WALK=1): children-file then reports "missing"
	 * and verifies the fallback walk instead. */
	bool force_ppid_walk;
	/* Probe only the checks named here, NULL-terminated (NULL: all). */
	char *const *only;
};

/* Run the probes. Fails only when nothing could be probed (e.g. an unknown
 * name in opts->only); a probe that fails is a "broken" result. */
int rt_check_run(const struct rt_check_opts *opts, struct rt_check_report **out,
		 struct rt_err **err);

/* Every probe's name, NULL-terminated, in report order. */
const char *const *rt_check_names(void);

const char *rt_check_status_name(enum rt_check_status s);

/* "name  status  detail" lines plus a closing count line, and the same as
 * one JSON object {"checks": [{name, what, status, detail, fallback}...],
 * "supported": N, "missing": N, "broken": N}. Both end with a newline. */
char *rt_check_format_text(const struct rt_check_report *rep);
char *rt_check_format_json(const struct rt_check_report *rep);

/* For `ferry features`: "io.github.ferry.check.NAME" = status pairs,
 * key, value, key, value, ..., NULL (free with rt_strv_free). */
char **rt_check_annotations(const struct rt_check_report *rep);

void rt_check_report_free(struct rt_check_report *rep);
void rt_check_report_freep(struct rt_check_report **rep);
#define cleanup_check_report __attribute__((cleanup(rt_check_report_freep)))

#endif
