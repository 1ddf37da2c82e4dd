#include "process.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "seccomp-profile.h"
#include "util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *env_get(char *const *env, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

static bool is_executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

int rt_process_lookup(const struct oci_process *p, char **path,
		      struct rt_err **err)
{
	const char *name = p->args[0];
	if (strchr(name, '/')) {
		struct stat st;
		if (stat(name, &st) < 0)
			return rt_err_set(err, errno, "exec: \"%s\": stat %s",
					  name, name);
		if (S_ISDIR(st.st_mode))
			return rt_err_set(err, EISDIR, "exec: \"%s\"", name);
		*path = xstrdup(name);
		return 0;
	}
	const char *env_path = env_get(p->env, "PATH");
	cleanup_free char *dirs = xstrdup(env_path ? env_path : DEFAULT_PATH);
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		cleanup_free char *cand = xasprintf("%s/%s", *d ? d : ".", name);
		if (is_executable(cand)) {
			*path = steal_pointer(&cand);
			return 0;
		}
	}
	return rt_err_set(err, 0, "exec: \"%s\": executable file not found in $PATH",
			  name);
}

int rt_process_limits(const struct oci_process *p, bool has_personality,
		      unsigned long pers, struct rt_err **err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = { .rlim_cur = p->rlimits[i].soft,
				     .rlim_max = p->rlimits[i].hard };
		if (setrlimit(p->rlimits[i].resource, &rl) < 0)
			return rt_err_set(err, errno,
					  "process.rlimits[%zu]: setrlimit(%d, "
					  "soft %llu, hard %llu)", i,
					  p->rlimits[i].resource,
					  (unsigned long long)rl.rlim_cur,
					  (unsigned long long)rl.rlim_max);
	}
	if (p->has_oom_score_adj) {
		char buf[16];
		int n = snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
		struct rt_err *e = NULL;
		if (rt_write_file("/proc/self/oom_score_adj", buf, (size_t)n, &e) < 0) {
			rt_err_free(e);
			return rt_err_set(err, errno, "process.oomScoreAdj: set %d",
					  p->oom_score_adj);
		}
	}
	if (has_personality && personality(pers) < 0)
		return rt_err_set(err, errno, "linux.personality: set %#lx", pers);
	return 0;
}

static int set_user(const struct oci_user *u, struct rt_err **err)
{
	if (setgroups(u->n_additional_gids, u->additional_gids) < 0 &&
	    !(errno == EPERM && u->n_additional_gids == 0))
		return rt_err_set(err, errno, "process.user.additionalGids: setgroups");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return rt_err_set(err, errno, "process.user.gid: setresgid(%u)",
				  (unsigned)u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return rt_err_set(err, errno, "process.user.uid: setresuid(%u)",
				  (unsigned)u->uid);
	return 0;
}

static int load_seccomp(const struct oci_seccomp *sc, struct rt_err **err)
{
	if (sc == NULL)
		return 0;
	return rt_seccomp_load(sc, err) < 0 ? rt_err_wrap(err, "linux.seccomp") : 0;
}

int rt_process_identity(const struct oci_process *p,
			const struct oci_seccomp *seccomp, struct rt_err **err)
{
	if (chdir(p->cwd) < 0)
		return rt_err_set(err, errno, "process.cwd: chdir '%s'", p->cwd);
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return rt_err_set(err, errno, "process.noNewPrivileges");
	/* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
	 * while we still have it. With it, load as late as possible so the
	 * filter constrains as little of our own set-up as possible. */
	if (!p->no_new_privileges && load_seccomp(seccomp, err) < 0)
		return -1;
	if (p->has_caps && rt_caps_drop_bounding(&p->caps, err) < 0)
		return rt_err_wrap(err, "process.capabilities.bounding");
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return rt_err_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
	if (set_user(&p->user, err) < 0)
		return -1;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return rt_err_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
	if (p->has_caps && rt_caps_apply(&p->caps, err) < 0)
		return rt_err_wrap(err, "process.capabilities");
	if (p->no_new_privileges && load_seccomp(seccomp, err) < 0)
		return -1;
	if (p->user.has_umask)
		umask(p->user.umask);
	else
		umask(022);
	return 0;
}

static char *home_of(uid_t uid)
{
	cleanup_fclose FILE *f = fopen("/etc/passwd", "re");
	if (f == NULL)
		return NULL;
	cleanup_free char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		/* name:pw:uid:gid:gecos:home:shell */
		char *fields[7] = { 0 };
		char *save = NULL, *s = line;
		int n = 0;
		for (char *t = strsep(&s, ":"); t && n < 7; t = strsep(&s, ":"))
			fields[n++] = t;
		(void)save;
		if (n < 6)
			continue;
		long long v;
		if (rt_parse_int64(fields[2], &v) == 0 && (uid_t)v == uid)
			return xstrdup(fields[5]);
	}
	return NULL;
}

char **rt_process_env(const struct oci_process *p)
{
	char **env = rt_strv_dup(p->env);
	if (env_get(env, "HOME") == NULL) {
		cleanup_free char *home = home_of(p->user.uid);
		cleanup_free char *kv = xasprintf("HOME=%s", home ? home : "/");
		rt_strv_push(&env, kv);
	}
	return env;
}
