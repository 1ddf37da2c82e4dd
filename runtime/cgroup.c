/* The container's cgroup handle: finding the hierarchies from mountinfo,
 * resolving cgroupsPath, creating, entering, listing and removing the
 * directories. Resources live in cgroup-res.c, the freezer and signals in
 * cgroup-freeze.c, statistics and event fds in cgroup-stats.c. */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "util.h"

/* ---- small file helpers shared by the cgroup files ---- */

int rt_cg_read(const char *dir, const char *file, char **out,
	       struct rt_err **err)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file);
	size_t len = 0;
	if (rt_read_file(path, out, &len, err) < 0)
		return -1;
	if (len > 0 && (*out)[len - 1] == '\n')
		(*out)[len - 1] = '\0';
	return 0;
}

int rt_cg_write(const char *dir, const char *file, const char *value,
		struct rt_err **err)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file);
	return rt_write_file(path, value, strlen(value), err);
}

bool rt_cg_exists(const char *dir, const char *file)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

int rt_cg_read_u64(const char *dir, const char *file, uint64_t *out,
		   struct rt_err **err)
{
	cleanup_free char *s = NULL;
	if (rt_cg_read(dir, file, &s, err) < 0)
		return -1;
	if (strcmp(s, "max") == 0) {
		*out = UINT64_MAX;
		return 0;
	}
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || (*end != '\0' && *end != '\n'))
		return rt_err_set(err, 0, "%s/%s: not a number: '%s'", dir,
				  file, s);
	*out = v;
	return 0;
}

bool rt_cg_keyed(const char *text, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);
	const char *p = text;
	while (p && *p) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ') {
			*out = strtoull(p + klen + 1, NULL, 10);
			return true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

bool rt_cg_name_has(const char *name, const char *ctrl)
{
	size_t len = strlen(ctrl);
	for (const char *p = name; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == len && strncmp(p, ctrl, len) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

const char *rt_cg_unified_path(const struct rt_cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		if (strcmp(cg->names[i], RT_CG_UNIFIED) == 0)
			return cg->paths[i];
	return NULL;
}

const char *rt_cg_v1_path(const struct rt_cgroup *cg, const char *ctrl)
{
	for (size_t i = 0; i < cg->n; i++)
		if (strcmp(cg->names[i], RT_CG_UNIFIED) != 0 &&
		    rt_cg_name_has(cg->names[i], ctrl))
			return cg->paths[i];
	return NULL;
}

int rt_cg_ancestors(const char *dir, char ***out, struct rt_err **err)
{
	struct stat st;
	if (stat(dir, &st) < 0)
		return rt_err_set(err, errno, "stat '%s'", dir);
	cleanup_strv char **up = NULL; /* bottom-up */
	cleanup_free char *p = xstrdup(dir);
	for (;;) {
		char *slash = strrchr(p, '/');
		if (slash == NULL || slash == p)
			break;
		*slash = '\0';
		struct stat pst;
		if (stat(p, &pst) < 0)
			return rt_err_set(err, errno, "stat '%s'", p);
		if (pst.st_dev != st.st_dev)
			break;
		rt_strv_push(&up, p);
	}
	size_t n = rt_strv_len(up);
	char **down = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		down[i] = steal_pointer(&up[n - 1 - i]);
	*out = down;
	return 0;
}

/* ---- hierarchies: /proc/self/mountinfo joined with /proc/self/cgroup ---- */

struct hier {
	char *name; /* "cpu,cpuacct", "name=systemd", "unified" */
	char *mnt;  /* mount point */
	char *root; /* the mount's root inside the hierarchy */
	char *own;  /* ferry's own cgroup in the hierarchy */
};

struct hiers {
	struct hier *v;
	size_t n;
};

static void hiers_free(struct hiers *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].mnt);
		free(h->v[i].root);
		free(h->v[i].own);
	}
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

#define cleanup_hiers __attribute__((cleanup(hiers_free)))

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (char *r = s; *r;) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' &&
		    r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 +
				      (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/* Every controller of a v1 hierarchy from /proc/self/cgroup appears in the
 * mount's super options ("rw,cpu,cpuacct", "rw,name=systemd"). */
static bool opts_cover(const char *opts, const char *ctrls)
{
	if (*ctrls == '\0')
		return false;
	cleanup_free char *c = xstrdup(ctrls);
	char *save = NULL;
	for (char *t = strtok_r(c, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (!rt_cg_name_has(opts, t))
			return false;
	return true;
}

static bool hiers_have(const struct hiers *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->v[i].name, name) == 0)
			return true;
	return false;
}

static void hiers_add(struct hiers *h, const char *name, const char *mnt,
		      const char *root, const char *own)
{
	h->v = xrealloc(h->v, (h->n + 1) * sizeof(*h->v));
	h->v[h->n++] = (struct hier){ xstrdup(name), xstrdup(mnt),
				      xstrdup(root), xstrdup(own) };
}

/* One line of /proc/self/cgroup: "ID:controllers:path". */
struct own_cg {
	char *ctrls;
	char *path;
};

static int read_own_cgroups(struct own_cg **out, size_t *n, struct rt_err **err)
{
	cleanup_free char *text = NULL;
	if (rt_read_file("/proc/self/cgroup", &text, NULL, err) < 0)
		return -1;
	struct own_cg *v = NULL;
	size_t cnt = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL)
			continue;
		*c2 = '\0';
		v = xrealloc(v, (cnt + 1) * sizeof(*v));
		v[cnt++] = (struct own_cg){ xstrdup(c1 + 1), xstrdup(c2 + 1) };
	}
	*out = v;
	*n = cnt;
	return 0;
}

static void own_cgroups_free(struct own_cg *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].ctrls);
		free(v[i].path);
	}
	free(v);
}

/* Fields of a mountinfo line: 4 root, 5 mount point, then after "-":
 * fstype, source, super options. */
static void parse_mount_line(char *line, struct hiers *h,
			     const struct own_cg *own, size_t n_own)
{
	char *f[64];
	size_t nf = 0;
	char *save = NULL;
	for (char *t = strtok_r(line, " ", &save); t && nf < ARRAY_SIZE(f);
	     t = strtok_r(NULL, " ", &save))
		f[nf++] = t;
	size_t dash = 6;
	while (dash < nf && strcmp(f[dash], "-") != 0)
		dash++;
	if (nf < 6 || dash + 3 >= nf)
		return;
	const char *fstype = f[dash + 1], *opts = f[dash + 3];
	unescape_octal(f[3]);
	unescape_octal(f[4]);
	if (strcmp(fstype, "cgroup2") == 0) {
		for (size_t i = 0; i < n_own; i++)
			if (own[i].ctrls[0] == '\0' && !hiers_have(h, RT_CG_UNIFIED))
				hiers_add(h, RT_CG_UNIFIED, f[4], f[3], own[i].path);
		return;
	}
	if (strcmp(fstype, "cgroup") != 0)
		return;
	for (size_t i = 0; i < n_own; i++)
		if (opts_cover(opts, own[i].ctrls) && !hiers_have(h, own[i].ctrls))
			hiers_add(h, own[i].ctrls, f[4], f[3], own[i].path);
}

static int find_hierarchies(struct hiers *h, struct rt_err **err)
{
	struct own_cg *own = NULL;
	size_t n_own = 0;
	if (read_own_cgroups(&own, &n_own, err) < 0)
		return -1;
	cleanup_free char *text = NULL;
	if (rt_read_file("/proc/self/mountinfo", &text, NULL, err) < 0) {
		own_cgroups_free(own, n_own);
		return -1;
	}
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		parse_mount_line(line, h, own, n_own);
	own_cgroups_free(own, n_own);
	if (h->n == 0)
		return rt_err_set(err, 0, "no cgroup hierarchy is mounted "
					  "(see /proc/self/mountinfo)");
	return 0;
}

static enum rt_cgroup_layout layout_of(const struct hiers *h)
{
	bool v1_ctrl = false, v2 = false;
	for (size_t i = 0; i < h->n; i++) {
		if (strcmp(h->v[i].name, RT_CG_UNIFIED) == 0)
			v2 = true;
		else if (!rt_has_prefix(h->v[i].name, "name="))
			v1_ctrl = true;
	}
	if (v1_ctrl)
		return v2 ? RT_CGROUP_HYBRID : RT_CGROUP_V1;
	return v2 ? RT_CGROUP_V2 : RT_CGROUP_V1;
}

int rt_cgroup_detect(enum rt_cgroup_layout *out, struct rt_err **err)
{
	cleanup_hiers struct hiers h = { 0 };
	if (find_hierarchies(&h, err) < 0)
		return -1;
	*out = layout_of(&h);
	return 0;
}

const char *rt_cgroup_layout_name(enum rt_cgroup_layout l)
{
	switch (l) {
	case RT_CGROUP_V1:
		return "v1";
	case RT_CGROUP_V2:
		return "v2";
	case RT_CGROUP_HYBRID:
		return "hybrid";
	}
	return "unknown";
}

/* ---- resolving cgroupsPath ---- */

/* "/a//b/./c/" -> "/a/b/c"; ".." is refused so a path cannot leave the
 * hierarchy (or ferry's own cgroup). */
static int normalize(const char *in, char **out, struct rt_err **err)
{
	cleanup_free char *copy = xstrdup(in);
	cleanup_free char *res = xstrdup("");
	char *save = NULL;
	for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (strcmp(t, ".") == 0)
			continue;
		if (strcmp(t, "..") == 0)
			return rt_err_set(err, 0, "cgroupsPath '%s': '..' is not allowed", in);
		char *next = xasprintf("%s/%s", res, t);
		free(res);
		res = next;
	}
	if (res[0] == '\0')
		return rt_err_set(err, 0, "cgroupsPath '%s' names a hierarchy root", in);
	*out = steal_pointer(&res);
	return 0;
}

static bool is_systemd_style(const char *p)
{
	if (p[0] == '/')
		return false;
	const char *c1 = strchr(p, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	return c2 != NULL && strchr(c2 + 1, ':') == NULL;
}

/* ferry's own cgroup as seen below the hierarchy's mount point. */
static int own_below_mount(const struct hier *h, const char **out,
			   struct rt_err **err)
{
	const char *own = h->own;
	if (strcmp(h->root, "/") == 0) {
		*out = strcmp(own, "/") == 0 ? "" : own;
		return 0;
	}
	size_t rl = strlen(h->root);
	if (strncmp(own, h->root, rl) != 0 || (own[rl] != '\0' && own[rl] != '/'))
		return rt_err_set(err, 0,
				  "cgroup '%s' of hierarchy '%s' is outside its "
				  "mount '%s' (root '%s')",
				  own, h->name, h->mnt, h->root);
	*out = own + rl;
	return 0;
}

static struct rt_cgroup *cgroup_new(enum rt_cgroup_layout layout, size_t n)
{
	struct rt_cgroup *cg = xcalloc(1, sizeof(*cg));
	cg->layout = layout;
	cg->n = n;
	cg->names = xcalloc(n + 1, sizeof(char *));
	cg->paths = xcalloc(n + 1, sizeof(char *));
	return cg;
}

/* Relative cgroupsPath: below ferry's own cgroup in every hierarchy. rel
 * becomes the full path when ferry sits at the same place everywhere, else
 * the relative path itself (no leading '/'). */
static int resolve_relative(struct rt_cgroup *cg, const struct hiers *h,
			    const char *norm, struct rt_err **err)
{
	const char *first = NULL;
	bool same = true;
	for (size_t i = 0; i < h->n; i++) {
		const char *own = NULL;
		if (own_below_mount(&h->v[i], &own, err) < 0)
			return rt_err_wrap(err, "resolve relative cgroupsPath '%s'",
					   norm + 1);
		cg->names[i] = xstrdup(h->v[i].name);
		cg->paths[i] = xasprintf("%s%s%s", h->v[i].mnt, own, norm);
		if (first == NULL)
			first = own;
		else if (strcmp(first, own) != 0)
			same = false;
	}
	cg->rel = same ? xasprintf("%s%s", first ? first : "", norm)
		       : xstrdup(norm + 1);
	return 0;
}

int rt_cgroup_resolve(const char *cgroups_path, const char *id,
		      struct rt_cgroup **out, struct rt_err **err)
{
	cleanup_free char *given = NULL;
	if (cgroups_path == NULL || cgroups_path[0] == '\0') {
		if (id == NULL || id[0] == '\0' || strchr(id, '/') ||
		    strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
			return rt_err_set(err, 0, "container id '%s' cannot name a cgroup",
					  id ? id : "");
		given = xasprintf("/ferry/%s", id);
	} else {
		given = xstrdup(cgroups_path);
	}
	if (is_systemd_style(given))
		return rt_err_set(err, 0,
				  "cgroupsPath '%s': the systemd cgroup driver "
				  "(slice:prefix:name) is not supported; use a "
				  "cgroupfs path such as '/ferry/ID'",
				  given);
	cleanup_free char *norm = NULL;
	if (normalize(given, &norm, err) < 0)
		return -1;
	cleanup_hiers struct hiers h = { 0 };
	if (find_hierarchies(&h, err) < 0)
		return -1;
	cleanup_cgroup struct rt_cgroup *cg = cgroup_new(layout_of(&h), h.n);
	if (given[0] == '/') {
		for (size_t i = 0; i < h.n; i++) {
			cg->names[i] = xstrdup(h.v[i].name);
			cg->paths[i] = xasprintf("%s%s", h.v[i].mnt, norm);
		}
		cg->rel = steal_pointer(&norm);
	} else if (resolve_relative(cg, &h, norm, err) < 0) {
		return -1;
	}
	*out = steal_pointer(&cg);
	return 0;
}

struct rt_cgroup *rt_cgroup_from_parts(enum rt_cgroup_layout layout, size_t n,
				       char *const *names, char *const *paths,
				       const char *rel)
{
	struct rt_cgroup *cg = cgroup_new(layout, n);
	for (size_t i = 0; i < n; i++) {
		cg->names[i] = xstrdup(names[i]);
		cg->paths[i] = xstrdup(paths[i]);
	}
	cg->rel = xstrdup(rel ? rel : "");
	return cg;
}

void rt_cgroup_free(struct rt_cgroup *cg)
{
	if (cg == NULL)
		return;
	for (size_t i = 0; i < cg->n; i++) {
		free(cg->names[i]);
		free(cg->paths[i]);
	}
	free(cg->names);
	free(cg->paths);
	free(cg->rel);
	free(cg);
}

void rt_cgroup_freep(struct rt_cgroup **cg)
{
	rt_cgroup_free(*cg);
	*cg = NULL;
}

/* ---- creating ---- */

/* mkdir -p that records every directory it made, top-down. A parent can
 * vanish under us (another ferry destroying the last container removes an
 * empty "/ferry"): then the walk starts again. */
static int mkdir_tracked(const char *path, char ***created, struct rt_err **err)
{
	cleanup_free char *p = xstrdup(path);
	for (int attempt = 0;; attempt++) {
		char *s = p + 1;
		for (;; s++) {
			if (*s != '/' && *s != '\0')
				continue;
			char c = *s;
			*s = '\0';
			int r = mkdir(p, 0755), e = errno;
			if (r == 0)
				rt_strv_push(created, p);
			else if (e != EEXIST && (e != ENOENT || attempt >= 5))
				return rt_err_set(err, e, "mkdir '%s'", p);
			*s = c;
			if (r < 0 && e == ENOENT)
				break;
			if (c == '\0')
				return 0;
		}
	}
}

/* A new v1 cpuset has empty cpus and mems, and nothing can enter it until
 * they are set: copy them from the parent, top-down. */
static int cpuset_inherit(const char *dir, struct rt_err **err)
{
	cleanup_strv char **chain = NULL;
	if (rt_cg_ancestors(dir, &chain, err) < 0)
		return -1;
	rt_strv_push(&chain, dir);
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	for (size_t i = 1; chain[i]; i++) {
		for (size_t f = 0; f < ARRAY_SIZE(files); f++) {
			cleanup_free char *cur = NULL, *up = NULL;
			if (rt_cg_read(chain[i], files[f], &cur, err) < 0)
				return -1;
			if (cur[0] != '\0')
				continue;
			if (rt_cg_read(chain[i - 1], files[f], &up, err) < 0 ||
			    rt_cg_write(chain[i], files[f], up, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* Pure v2: offer every controller the root has to the new cgroup, so that
 * memory and pids figures exist even without limits. A controller that
 * cannot be enabled here is reported later only if a resource needs it. */
static void v2_enable_all(const char *dir)
{
	cleanup_strv char **up = NULL;
	cleanup_free char *ctrls = NULL;
	struct rt_err *e = NULL;
	if (rt_cg_ancestors(dir, &up, &e) < 0 || up[0] == NULL ||
	    rt_cg_read(up[0], "cgroup.controllers", &ctrls, &e) < 0) {
		rt_err_free(e);
		return;
	}
	char *save = NULL;
	for (char *t = strtok_r(ctrls, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		struct rt_err *e2 = NULL;
		rt_cg_v2_enable(dir, t, &e2);
		rt_err_free(e2);
	}
}

static void remove_created(char **created)
{
	for (size_t n = rt_strv_len(created); n > 0; n--)
		rmdir(created[n - 1]);
}

static int create_dirs(const struct rt_cgroup *cg, char ***created,
		       struct rt_err **err)
{
	for (size_t i = 0; i < cg->n; i++) {
		bool unified = strcmp(cg->names[i], RT_CG_UNIFIED) == 0;
		if (mkdir_tracked(cg->paths[i], created, err) < 0)
			return rt_err_wrap(err, "create cgroup");
		if (!unified && rt_cg_name_has(cg->names[i], "cpuset") &&
		    cpuset_inherit(cg->paths[i], err) < 0)
			return rt_err_wrap(err, "create cgroup");
		if (unified && cg->layout == RT_CGROUP_V2)
			v2_enable_all(cg->paths[i]);
	}
	return 0;
}

int rt_cgroup_create(struct rt_cgroup *cg, const struct oci_resources *res,
		     struct rt_err **err)
{
	cleanup_strv char **created = NULL;
	int r = create_dirs(cg, &created, err);
	if (r == 0 && res != NULL)
		r = rt_cg_apply(cg, res, err);
	if (r < 0)
		remove_created(created);
	return r;
}

int rt_cgroup_update(const struct rt_cgroup *cg, const struct oci_resources *res,
		     struct rt_err **err)
{
	for (size_t i = 0; i < cg->n; i++) {
		struct stat st;
		if (stat(cg->paths[i], &st) < 0)
			return rt_err_set(err, errno, "update cgroup '%s'",
					  cg->paths[i]);
	}
	return res ? rt_cg_apply(cg, res, err) : 0;
}

int rt_cgroup_enter(const struct rt_cgroup *cg, pid_t pid, struct rt_err **err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (size_t i = 0; i < cg->n; i++)
		if (rt_cg_write(cg->paths[i], "cgroup.procs", buf, err) < 0)
			return rt_err_wrap(err, "move pid %d into cgroup", (int)pid);
	return 0;
}

/* ---- listing ---- */

struct pidvec {
	pid_t *v;
	size_t n, cap;
};

static int collect_procs(const char *dir, struct pidvec *pv, struct rt_err **err)
{
	cleanup_free char *path = xasprintf("%s/cgroup.procs", dir);
	cleanup_free char *text = NULL;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) /* a cgroup removed while we walk holds no process */
		return errno == ENOENT || errno == ENODEV
			       ? 0
			       : rt_err_set(err, errno, "open '%s'", path);
	if (rt_read_fd(fd, path, &text, NULL, err) < 0)
		return -1;
	for (char *p = text; *p;) {
		char *end = NULL;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pv->n == pv->cap) {
			pv->cap = pv->cap ? pv->cap * 2 : 64;
			pv->v = xrealloc(pv->v, pv->cap * sizeof(pid_t));
		}
		pv->v[pv->n++] = (pid_t)v;
		p = end;
		while (*p == '\n')
			p++;
	}
	cleanup_closedir DIR *d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : rt_err_set(err, errno, "opendir '%s'", dir);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
		if (collect_procs(sub, pv, err) < 0)
			return -1;
	}
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

int rt_cgroup_pids(const struct rt_cgroup *cg, pid_t **pids, size_t *n,
		   struct rt_err **err)
{
	struct pidvec pv = { 0 };
	for (size_t i = 0; i < cg->n; i++) {
		if (collect_procs(cg->paths[i], &pv, err) < 0) {
			free(pv.v);
			return -1;
		}
	}
	if (pv.n > 0)
		qsort(pv.v, pv.n, sizeof(pid_t), cmp_pid);
	size_t u = 0;
	for (size_t i = 0; i < pv.n; i++)
		if (u == 0 || pv.v[u - 1] != pv.v[i])
			pv.v[u++] = pv.v[i];
	*pids = pv.v ? pv.v : xcalloc(1, sizeof(pid_t));
	*n = u;
	return 0;
}

/* ---- removing ---- */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* v1 freezer states are per cgroup: thawing a parent leaves a child that
 * was frozen itself FROZEN. */
static void thaw_v1_tree(const char *dir)
{
	cleanup_free char *state = NULL;
	if (rt_cg_read(dir, "freezer.state", &state, NULL) == 0 &&
	    strcmp(state, "THAWED") != 0)
		rt_cg_write(dir, "freezer.state", "THAWED", NULL);
	cleanup_closedir DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
		thaw_v1_tree(sub);
	}
}

/* Kill what is left and wait for the cgroup to empty. Thawing matters on
 * v1: a task frozen by freezer.state does not die of SIGKILL until thawed
 * (cgroup2's freezer lets SIGKILL through). */
static int kill_and_wait(const struct rt_cgroup *cg, struct rt_err **err)
{
	int64_t deadline = now_ms() + RT_CG_EMPTY_TIMEOUT_MS;
	for (int round = 0;; round++) {
		cleanup_free pid_t *pids = NULL;
		size_t n = 0;
		if (rt_cgroup_pids(cg, &pids, &n, err) < 0)
			return -1;
		if (n == 0)
			return 0;
		/* Survivors of the cgroup-wide kill (say, moved out of the
		 * unified mirror but still in a v1 hierarchy) are killed by pid. */
		for (size_t i = 0; round > 0 && i < n; i++)
			kill(pids[i], SIGKILL);
		if (now_ms() > deadline)
			return rt_err_set(err, EBUSY,
					  "%zu processes (first: %d) still in "
					  "cgroup '%s' after %d ms",
					  n, (int)pids[0], cg->rel,
					  RT_CG_EMPTY_TIMEOUT_MS);
		struct rt_err *e = NULL;
		rt_cgroup_signal_all(cg, SIGKILL, &e);
		rt_err_free(e);
		e = NULL;
		rt_cgroup_freeze(cg, false, &e);
		rt_err_free(e);
		const char *fz = rt_cg_v1_path(cg, "freezer");
		if (fz)
			thaw_v1_tree(fz);
		sleep_ms(10);
	}
}

/* rmdir dir after its children. A cgroup whose last task is still exiting
 * reports EBUSY for a moment: wait_busy retries for up to 2 s. */
static int rmdir_tree(const char *dir, bool wait_busy, struct rt_err **err)
{
	{
		cleanup_closedir DIR *d = opendir(dir);
		if (d == NULL)
			return errno == ENOENT ? 0
					       : rt_err_set(err, errno, "opendir '%s'", dir);
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
			if (rmdir_tree(sub, wait_busy, err) < 0)
				return -1;
		}
	}
	for (int tries = 0;; tries++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY || !wait_busy || tries >= 200)
			return rt_err_set(err, errno, "rmdir '%s'", dir);
		sleep_ms(10);
	}
}

static bool any_exists(const struct rt_cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		if (access(cg->paths[i], F_OK) == 0)
			return true;
	return false;
}

/* The default "/ferry/ID" leaves "/ferry" behind; remove it when empty. */
static void remove_default_parent(const struct rt_cgroup *cg)
{
	if (!rt_has_prefix(cg->rel, "/ferry/") || strchr(cg->rel + 7, '/'))
		return;
	for (size_t i = 0; i < cg->n; i++) {
		cleanup_free char *parent = xstrdup(cg->paths[i]);
		char *slash = strrchr(parent, '/');
		if (slash == NULL || strcmp(slash + 1, cg->rel + 7) != 0)
			continue;
		*slash = '\0';
		rmdir(parent); /* EBUSY / ENOTEMPTY: other containers */
	}
}

int rt_cgroup_destroy(const struct rt_cgroup *cg, struct rt_err **err)
{
	int r = 0;
	if (any_exists(cg) && kill_and_wait(cg, err) < 0)
		r = -1;
	/* still busy after the kill failed: no point in waiting per directory */
	for (size_t i = 0; i < cg->n; i++)
		if (rmdir_tree(cg->paths[i], r == 0, err) < 0)
			r = -1;
	remove_default_parent(cg);
	return r < 0 ? rt_err_wrap(err, "destroy cgroup '%s'", cg->rel) : 0;
}
