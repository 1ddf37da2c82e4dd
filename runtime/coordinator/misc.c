/* Per-process odds and ends (misc-PID.img): umask, personality, cwd and
 * root (chroot), rlimits, identity (uids, gids, groups, capabilities,
 * securebits, no_new_privs) and prctl flags (child subreaper, pdeathsig,
 * timer slack, THP disable, dumpable). Identity is restored late, by
 * injection, because dropping privileges ends what the coordinator may make
 * the task do; the prctl flags that a credential change resets (pdeathsig,
 * dumpable) come after it.
 *
 * rlimits are read from /proc/PID/limits: prlimit() on another process
 * needs CAP_SYS_RESOURCE when its uids differ from ours, which some hosts
 * withhold even from root. They are restored from inside the task, which
 * starts with the runtime's limits: a limit may be lowered, but a hard
 * limit above the runtime's cannot be raised without CAP_SYS_RESOURCE, and
 * that is refused by name. */
#include <errno.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "coordinator/describe.h"
#include "coordinator/internal.h"
#include "util.h"

#define NGROUPS_MAX_IMG 65536
#define NRLIM 16

struct misc {
	uint32_t umask, personality, nnp;
	uint32_t uid[4], gid[4];
	uint32_t ngroups, *groups;
	uint64_t cap[5]; /* inheritable permitted effective bounding ambient */
	char *cwd, *root;
	struct rlimit rlim[NRLIM];
	uint32_t securebits;
	/* prctl flags of the leader */
	uint32_t subreaper, pdeathsig, thp_disable, dumpable;
	uint64_t timerslack;
};

static void misc_free(struct misc *m)
{
	if (m == NULL)
		return;
	free(m->groups);
	free(m->cwd);
	free(m->root);
	free(m);
}

static int parse_status(pid_t pid, const char *st, struct misc *m, struct rt_err **err)
{
	static const char *const caps[5] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	const char *f;
	if (!(f = cr_status_field(st, "Umask")))
		return rt_err_set(err, 0, "pid %d: no Umask in its status", pid);
	m->umask = (uint32_t)strtoul(f, NULL, 8);
	f = cr_status_field(st, "NoNewPrivs");
	m->nnp = f ? (uint32_t)atoi(f) : 0;
	if (!(f = cr_status_field(st, "Uid")) ||
	    sscanf(f, "%u %u %u %u", &m->uid[0], &m->uid[1], &m->uid[2], &m->uid[3]) != 4 ||
	    !(f = cr_status_field(st, "Gid")) ||
	    sscanf(f, "%u %u %u %u", &m->gid[0], &m->gid[1], &m->gid[2], &m->gid[3]) != 4)
		return rt_err_set(err, 0, "pid %d: unreadable Uid/Gid", pid);
	for (int i = 0; i < 5; i++) {
		f = cr_status_field(st, caps[i]);
		m->cap[i] = f ? strtoull(f, NULL, 16) : 0;
	}
	f = cr_status_field(st, "Groups");
	while (f && *f && *f != '\n') {
		char *end;
		unsigned long g = strtoul(f, &end, 10);
		if (end == f)
			break;
		m->groups = xrealloc(m->groups, (m->ngroups + 1) * sizeof(uint32_t));
		m->groups[m->ngroups++] = (uint32_t)g;
		f = end + strspn(end, " ");
	}
	return 0;
}

/* /proc/PID/limits names, in RLIMIT_* order. */
static const char *const limits_names[NRLIM] = {
	"Max cpu time", "Max file size", "Max data size", "Max stack size",
	"Max core file size", "Max resident set", "Max processes", "Max open files",
	"Max locked memory", "Max address space", "Max file locks",
	"Max pending signals", "Max msgqueue size", "Max nice priority",
	"Max realtime priority", "Max realtime timeout",
};

static int parse_limit_value(const char **p, uint64_t *v)
{
	const char *s = *p + strspn(*p, " ");
	char *end;
	if (strncmp(s, "unlimited", 9) == 0) {
		*v = RLIM_INFINITY;
		*p = s + 9;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno != 0 || (*end != ' ' && *end != '\n' && *end != '\0'))
		return -1;
	*p = end;
	return 0;
}

/* Every limit from /proc/PID/limits: a header line, then one line per
 * limit, "NAME  SOFT  HARD  [UNITS]", SOFT and HARD a number or
 * "unlimited". Each name must be found exactly once. */
static int read_limits(struct cr_dtask *t, struct rlimit rlim[NRLIM], struct rt_err **err)
{
	cleanup_free char *buf = NULL;
	bool seen[NRLIM] = { false };
	pid_t pid = t->hpid;
	if (cr_task_read(t, "limits", &buf, err) < 0)
		return -1;
	for (const char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		for (int r = 0; r < NRLIM; r++) {
			size_t n = strlen(limits_names[r]);
			if (strncmp(l, limits_names[r], n) != 0 || l[n] != ' ')
				continue;
			const char *p = l + n;
			uint64_t cur, max;
			if (seen[r] || parse_limit_value(&p, &cur) < 0 ||
			    parse_limit_value(&p, &max) < 0)
				return rt_err_set(err, 0, "pid %d: unreadable line of "
						  "/proc/%d/limits: '%.*s'", pid, pid,
						  (int)strcspn(l, "\n"), l);
			rlim[r].rlim_cur = cur;
			rlim[r].rlim_max = max;
			seen[r] = true;
		}
	}
	for (int r = 0; r < NRLIM; r++)
		if (!seen[r])
			return rt_err_set(err, 0, "pid %d: no '%s' in /proc/%d/limits", pid,
					  limits_names[r], pid);
	return 0;
}

static int read_misc(struct cr_dtask *t, struct misc *m, struct rt_err **err)
{
	pid_t pid = t->hpid;
	cleanup_free char *pers = NULL, *cwd = NULL;
	const char *st = cr_task_status(t, err), *root = cr_task_root(t, err);
	if (st == NULL || root == NULL || parse_status(pid, st, m, err) < 0 ||
	    cr_task_read(t, "personality", &pers, err) < 0 ||
	    cr_proc_link(pid, "cwd", &cwd, err) < 0)
		return -1;
	m->personality = (uint32_t)strtoul(pers, NULL, 16);
	/* Both links read as paths from the root of the task's mount
	 * namespace, where the restore agent starts: root is what to chroot
	 * to, and the cwd is taken relative to it. */
	if (root[0] != '/')
		return rt_err_set(err, EOPNOTSUPP, "pid %d: its root '%s' is not reachable "
				  "from its mount namespace's root", pid, root);
	m->cwd = cr_path_in_root(root, cwd);
	m->root = xstrdup(root);
	return read_limits(t, m->rlim, err);
}

/* Flags only the task itself can tell (prctl): queries (query.c). */
enum { Q_SECUREBITS, Q_SUBREAPER, Q_PDEATHSIG, Q_THP_DISABLE, Q_DUMPABLE, NQ };
static const struct cr_qcall prctl_q[NQ] = {
	[Q_SECUREBITS] = { SYS_prctl, { PR_GET_SECUREBITS }, -1, 0 },
	[Q_SUBREAPER] = { SYS_prctl, { PR_GET_CHILD_SUBREAPER }, 1, sizeof(int) },
	[Q_PDEATHSIG] = { SYS_prctl, { PR_GET_PDEATHSIG }, 1, sizeof(int) },
	[Q_THP_DISABLE] = { SYS_prctl, { PR_GET_THP_DISABLE }, -1, 0 },
	[Q_DUMPABLE] = { SYS_prctl, { PR_GET_DUMPABLE }, -1, 0 },
};
static const char *const prctl_names[NQ] = {
	"PR_GET_SECUREBITS", "PR_GET_CHILD_SUBREAPER", "PR_GET_PDEATHSIG",
	"PR_GET_THP_DISABLE", "PR_GET_DUMPABLE",
};

static void want_misc(struct cr_dump_ctx *c, struct cr_dtask *t)
{
	for (int i = 0; i < NQ; i++)
		cr_query_want(t, &prctl_q[i]);
}

static int read_prctl(struct cr_dtask *t, struct misc *m, struct rt_err **err)
{
	long v[NQ];
	int iv[NQ] = { 0 };
	for (int i = 0; i < NQ; i++)
		if (cr_query(t, prctl_names[i], &prctl_q[i], &iv[i], &v[i], err) < 0)
			return -1;
	m->securebits = (uint32_t)v[Q_SECUREBITS];
	m->subreaper = (uint32_t)iv[Q_SUBREAPER];
	m->pdeathsig = (uint32_t)iv[Q_PDEATHSIG];
	m->thp_disable = (uint32_t)v[Q_THP_DISABLE];
	m->dumpable = (uint32_t)v[Q_DUMPABLE];
	/* the same field as PR_GET_TIMERSLACK, without injecting */
	cleanup_free char *slack = NULL;
	long ts;
	if (cr_task_read(t, "timerslack_ns", &slack, NULL) == 0)
		ts = strtol(slack, NULL, 10);
	else if (cr_inj_ok(&t->inj, "PR_GET_TIMERSLACK", SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0,
			   0, 0, &ts, err) < 0)
		return -1;
	m->timerslack = (uint64_t)ts;
	return 0;
}

static int dump_misc(struct cr_dump_ctx *c, struct cr_dtask *t, struct rt_err **err)
{
	struct misc m = { 0 };
	int ret = read_misc(t, &m, err);
	if (ret == 0)
		ret = read_prctl(t, &m, err);
	struct cr_rec r;
	cr_rec_init(&r, CR_R_MISC);
	cr_put_u32(&r, m.umask);
	cr_put_u32(&r, m.personality);
	cr_put_u32(&r, m.nnp);
	for (int i = 0; i < 4; i++) {
		cr_put_u32(&r, m.uid[i]);
		cr_put_u32(&r, m.gid[i]);
	}
	cr_put_u32(&r, m.ngroups);
	for (uint32_t i = 0; i < m.ngroups; i++)
		cr_put_u32(&r, m.groups[i]);
	for (int i = 0; i < 5; i++)
		cr_put_u64(&r, m.cap[i]);
	cr_put_str(&r, m.cwd);
	cr_put_str(&r, m.root);
	for (int i = 0; i < NRLIM; i++) {
		cr_put_u64(&r, m.rlim[i].rlim_cur);
		cr_put_u64(&r, m.rlim[i].rlim_max);
	}
	cr_put_u32(&r, m.securebits);
	cr_put_u32(&r, m.subreaper);
	cr_put_u32(&r, m.pdeathsig);
	cr_put_u64(&r, m.timerslack);
	cr_put_u32(&r, m.thp_disable);
	cr_put_u32(&r, m.dumpable);
	free(m.groups);
	free(m.cwd);
	free(m.root);
	char name[64];
	snprintf(name, sizeof(name), "misc-%d.img", t->vpid);
	struct cr_img *img = NULL;
	if (ret == 0 && cr_img_create(c->o->images_dirfd, name, CR_IMG_CORE, &img, err) == 0) {
		ret = cr_img_write(img, &r, err);
		if (ret < 0)
			cr_img_abort(img);
		else
			ret = cr_img_close(img, err);
	} else {
		ret = -1;
	}
	cr_rec_free(&r);
	return ret;
}

static int get_misc(struct cr_rd *r, struct misc *m, struct rt_err **err)
{
	if (cr_get_u32(r, "umask", &m->umask, err) < 0 ||
	    cr_get_u32(r, "personality", &m->personality, err) < 0 ||
	    cr_get_u32(r, "nnp", &m->nnp, err) < 0)
		return -1;
	for (int i = 0; i < 4; i++)
		if (cr_get_u32(r, "uid", &m->uid[i], err) < 0 ||
		    cr_get_u32(r, "gid", &m->gid[i], err) < 0)
			return -1;
	if (cr_get_u32(r, "ngroups", &m->ngroups, err) < 0)
		return -1;
	if (m->ngroups > NGROUPS_MAX_IMG)
		return rt_err_set(err, 0, "misc image: %u groups", m->ngroups);
	m->groups = xcalloc(m->ngroups + 1, sizeof(uint32_t));
	for (uint32_t i = 0; i < m->ngroups; i++)
		if (cr_get_u32(r, "group", &m->groups[i], err) < 0)
			return -1;
	for (int i = 0; i < 5; i++)
		if (cr_get_u64(r, "cap", &m->cap[i], err) < 0)
			return -1;
	if (cr_get_str(r, "cwd", &m->cwd, 4096, err) < 0 ||
	    cr_get_str(r, "root", &m->root, 4096, err) < 0)
		return -1;
	for (int i = 0; i < NRLIM; i++)
		if (cr_get_u64(r, "rlim", (uint64_t *)&m->rlim[i].rlim_cur, err) < 0 ||
		    cr_get_u64(r, "rlim", (uint64_t *)&m->rlim[i].rlim_max, err) < 0)
			return -1;
	if (cr_get_u32(r, "securebits", &m->securebits, err) < 0 ||
	    cr_get_u32(r, "subreaper", &m->subreaper, err) < 0 ||
	    cr_get_u32(r, "pdeathsig", &m->pdeathsig, err) < 0 ||
	    cr_get_u64(r, "timerslack", &m->timerslack, err) < 0 ||
	    cr_get_u32(r, "thp_disable", &m->thp_disable, err) < 0 ||
	    cr_get_u32(r, "dumpable", &m->dumpable, err) < 0)
		return -1;
	if (m->pdeathsig > CR_NSIG || m->dumpable > 2)
		return rt_err_set(err, 0, "misc image: pdeathsig %u, dumpable %u",
				  m->pdeathsig, m->dumpable);
	return cr_rd_done(r, err);
}

static int load_misc(struct cr_restore_ctx *c, struct cr_rtask *t, struct rt_err **err)
{
	char name[64];
	snprintf(name, sizeof(name), "misc-%d.img", t->vpid);
	cleanup_img struct cr_img *img = NULL;
	struct cr_rd r;
	struct misc *m = xcalloc(1, sizeof(*m));
	t->misc = m;
	if (cr_img_open(c->o->images_dirfd, name, CR_IMG_CORE, &img, err) < 0 ||
	    cr_img_expect(img, CR_R_MISC, &r, err) < 0 || get_misc(&r, m, err) < 0 ||
	    cr_img_end(img, err) < 0)
		return -1;
	if (!m->cwd || !m->root || m->cwd[0] != '/')
		return rt_err_set(err, 0, "%s: bad cwd or root", name);
	return 0;
}

static int inj_path(struct cr_rtask *t, const char *what, long nr, const char *path,
		    struct rt_err **err)
{
	if (cr_mem_write(t->hpid, t->helper, path, strlen(path) + 1, err) < 0)
		return -1;
	if (cr_inj_ok(&t->inj, what, nr, (long)t->helper, 0, 0, 0, 0, 0, NULL, err) < 0)
		return rt_err_wrap(err, "'%s'", path);
	return 0;
}

static const char *rlim_value(uint64_t v, char buf[32])
{
	if (v == RLIM_INFINITY)
		return "unlimited";
	snprintf(buf, 32, "%llu", (unsigned long long)v);
	return buf;
}

/* The task's current limit, read from here (no injection) while it still
 * has our credentials; from inside it otherwise. */
static int current_rlimit(struct cr_rtask *t, int r, struct rlimit *cur, struct rt_err **err)
{
	if (prlimit(t->hpid, r, NULL, cur) == 0)
		return 0;
	if (cr_inj_ok(&t->inj, "prlimit64 (read)", SYS_prlimit64, 0, r, 0, (long)t->helper, 0, 0,
		      NULL, err) < 0)
		return -1;
	return cr_mem_read(t->hpid, t->helper, cur, sizeof(*cur), err);
}

/* Each limit that differs in one prlimit64(0, ...) from inside the task:
 * lowering always works; a hard limit above the task's current one (the
 * runtime's) needs CAP_SYS_RESOURCE. */
static int restore_rlimits(struct cr_rtask *t, const struct misc *m, struct rt_err **err)
{
	static const char *const names[NRLIM] = {
		"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE",
		"RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",
		"RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",
		"RLIMIT_RTPRIO", "RLIMIT_RTTIME",
	};
	for (int r = 0; r < NRLIM; r++) {
		struct rlimit cur;
		long ret;
		char b1[32], b2[32];
		if (current_rlimit(t, r, &cur, err) < 0)
			return rt_err_wrap(err, "pid %d: %s", t->vpid, names[r]);
		if (cur.rlim_cur == m->rlim[r].rlim_cur && cur.rlim_max == m->rlim[r].rlim_max)
			continue;
		if (cr_mem_write(t->hpid, t->helper, &m->rlim[r], sizeof(m->rlim[r]), err) < 0 ||
		    cr_inj_call(&t->inj, SYS_prlimit64, 0, r, (long)t->helper, 0, 0, 0, &ret,
				err) < 0)
			return -1;
		if (ret == -EPERM && m->rlim[r].rlim_max > cur.rlim_max)
			return rt_err_set(err, EPERM, "pid %d: %s: the checkpoint's hard limit "
					  "%s is above this restore's %s, and raising a hard "
					  "limit needs CAP_SYS_RESOURCE, which we do not have",
					  t->vpid, names[r], rlim_value(m->rlim[r].rlim_max, b1),
					  rlim_value(cur.rlim_max, b2));
		if (ret < 0)
			return rt_err_set(err, (int)-ret, "pid %d: set %s to %s/%s", t->vpid,
					  names[r], rlim_value(m->rlim[r].rlim_cur, b1),
					  rlim_value(m->rlim[r].rlim_max, b2));
	}
	return 0;
}

static int set_securebits(struct cr_rtask *t, uint32_t bits, struct rt_err **err)
{
	if (cr_inj_ok(&t->inj, "PR_SET_SECUREBITS", SYS_prctl, PR_SET_SECUREBITS, bits, 0, 0,
		      0, 0, NULL, err) < 0)
		return rt_err_wrap(err, "securebits %#x", bits);
	return 0;
}

static int set_ids(struct cr_rtask *t, const struct misc *m, struct rt_err **err)
{
	struct cr_inj *j = &t->inj;
	if (cr_mem_write(t->hpid, t->helper, m->groups, m->ngroups * 4, err) < 0 ||
	    cr_inj_ok(j, "setgroups", SYS_setgroups, m->ngroups, (long)t->helper, 0, 0, 0, 0,
		      NULL, err) < 0 ||
	    cr_inj_ok(j, "setresgid", SYS_setresgid, m->gid[0], m->gid[1], m->gid[2], 0, 0, 0,
		      NULL, err) < 0 ||
	    cr_inj_ok(j, "setfsgid", SYS_setfsgid, m->gid[3], 0, 0, 0, 0, 0, NULL, err) < 0 ||
	    cr_inj_ok(j, "setresuid", SYS_setresuid, m->uid[0], m->uid[1], m->uid[2], 0, 0, 0,
		      NULL, err) < 0 ||
	    cr_inj_ok(j, "setfsuid", SYS_setfsuid, m->uid[3], 0, 0, 0, 0, 0, NULL, err) < 0)
		return -1;
	return 0;
}

#define AMBIENT_BITS (SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)

/* Bounding set, then groups, gids and uids with SECBIT_NO_SETUID_FIXUP so
 * the uid change keeps every capability (CAP_SETPCAP included), then the
 * dumped securebits, capset, ambient set. A securebit forbidding ambient
 * raises waits until the ambient set is in place, which then needs
 * CAP_SETPCAP in the dumped effective set. The task (the runtime's agent)
 * starts with securebits 0. */
static int set_identity(struct cr_rtask *t, struct misc *m, struct rt_err **err)
{
	struct cr_inj *j = &t->inj;
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)m->cap[2], (uint32_t)m->cap[1], (uint32_t)m->cap[0] },
		{ (uint32_t)(m->cap[2] >> 32), (uint32_t)(m->cap[1] >> 32),
		  (uint32_t)(m->cap[0] >> 32) },
	};
	bool late_bits = m->cap[4] != 0 && (m->securebits & AMBIENT_BITS);
	for (int cap = 0; cap < 64; cap++)
		if (!(m->cap[3] & (1ull << cap)) &&
		    prctl(PR_CAPBSET_READ, cap) == 1 &&
		    cr_inj_ok(j, "drop a bounding capability", SYS_prctl, PR_CAPBSET_DROP,
			      cap, 0, 0, 0, 0, NULL, err) < 0)
			return -1;
	if (set_securebits(t, SECBIT_NO_SETUID_FIXUP | SECBIT_KEEP_CAPS, err) < 0 ||
	    set_ids(t, m, err) < 0 ||
	    set_securebits(t, late_bits ? m->securebits & ~AMBIENT_BITS : m->securebits,
			   err) < 0 ||
	    cr_mem_write(t->hpid, t->helper, &h, sizeof(h), err) < 0 ||
	    cr_mem_write(t->hpid, t->helper + 64, d, sizeof(d), err) < 0 ||
	    cr_inj_ok(j, "capset", SYS_capset, (long)t->helper, (long)t->helper + 64, 0,
		      0, 0, 0, NULL, err) < 0)
		return -1;
	for (int cap = 0; cap < 64; cap++)
		if ((m->cap[4] & (1ull << cap)) &&
		    cr_inj_ok(j, "raise an ambient capability", SYS_prctl, PR_CAP_AMBIENT,
			      PR_CAP_AMBIENT_RAISE, cap, 0, 0, 0, NULL, err) < 0)
			return -1;
	if (late_bits && set_securebits(t, m->securebits, err) < 0)
		return -1;
	return 0;
}

static bool same_identity(const struct misc *a, const struct misc *b)
{
	return memcmp(a->uid, b->uid, sizeof(a->uid)) == 0 &&
	       memcmp(a->gid, b->gid, sizeof(a->gid)) == 0 &&
	       memcmp(a->cap, b->cap, sizeof(a->cap)) == 0 && a->ngroups == b->ngroups &&
	       (a->ngroups == 0 || memcmp(a->groups, b->groups, a->ngroups * 4) == 0);
}

/* The task's identity as /proc shows it now, and its securebits. */
static int current_identity(struct cr_rtask *t, struct misc *cur, struct rt_err **err)
{
	cleanup_free char *st = NULL;
	long v;
	if (cr_proc_read(t->hpid, "status", &st, err) < 0 ||
	    parse_status(t->vpid, st, cur, err) < 0 ||
	    cr_inj_ok(&t->inj, "PR_GET_SECUREBITS", SYS_prctl, PR_GET_SECUREBITS, 0, 0, 0,
		      0, 0, &v, err) < 0)
		return -1;
	cur->securebits = (uint32_t)v;
	return 0;
}

static int restore_identity(struct cr_rtask *t, struct misc *m, struct rt_err **err)
{
	struct misc cur = { 0 };
	int ret = current_identity(t, &cur, err);
	if (ret == 0 && (!same_identity(&cur, m) || cur.securebits != m->securebits))
		ret = set_identity(t, m, err);
	free(cur.groups);
	if (ret < 0)
		return -1;
	/* setfsuid/setfsgid report no failure: check what we got. */
	memset(&cur, 0, sizeof(cur));
	ret = current_identity(t, &cur, err);
	if (ret == 0 && (!same_identity(&cur, m) || cur.securebits != m->securebits))
		ret = rt_err_set(err, EPERM, "pid %d: its identity came out as uids %u/%u/%u/%u "
				 "gids %u/%u/%u/%u securebits %#x, not the checkpoint's",
				 t->vpid, cur.uid[0], cur.uid[1], cur.uid[2], cur.uid[3],
				 cur.gid[0], cur.gid[1], cur.gid[2], cur.gid[3],
				 cur.securebits);
	free(cur.groups);
	return ret;
}

/* What the task has now, from /proc (no injection), to skip the prctl
 * calls that would change nothing; -1 where it cannot be read. */
static void current_prctl(pid_t pid, long *timerslack, long *thp_disable)
{
	cleanup_free char *status = NULL, *slack = NULL;
	cleanup_err struct rt_err *e = NULL;
	*timerslack = *thp_disable = -1;
	if (cr_proc_read(pid, "timerslack_ns", &slack, &e) == 0)
		*timerslack = strtol(slack, NULL, 10);
	const char *thp = cr_proc_read(pid, "status", &status, &e) == 0
				  ? cr_status_field(status, "THP_enabled") : NULL;
	if (thp)
		*thp_disable = !strtol(thp, NULL, 10);
}

/* After the identity: a credential change resets pdeathsig and dumpable.
 * A new task is never a subreaper (the flag is not inherited). */
static int restore_prctl(struct cr_rtask *t, const struct misc *m, struct rt_err **err)
{
	struct cr_inj *j = &t->inj;
	long slack, thp;
	current_prctl(t->hpid, &slack, &thp);
	if ((m->nnp && cr_inj_ok(j, "PR_SET_NO_NEW_PRIVS", SYS_prctl, PR_SET_NO_NEW_PRIVS, 1,
				 0, 0, 0, 0, NULL, err) < 0) ||
	    (m->subreaper && cr_inj_ok(j, "PR_SET_CHILD_SUBREAPER", SYS_prctl,
				       PR_SET_CHILD_SUBREAPER, m->subreaper, 0, 0, 0, 0, NULL,
				       err) < 0) ||
	    (slack != (long)m->timerslack &&
	     cr_inj_ok(j, "PR_SET_TIMERSLACK", SYS_prctl, PR_SET_TIMERSLACK, (long)m->timerslack,
		       0, 0, 0, 0, NULL, err) < 0) ||
	    (thp != (long)m->thp_disable &&
	     cr_inj_ok(j, "PR_SET_THP_DISABLE", SYS_prctl, PR_SET_THP_DISABLE, m->thp_disable, 0,
		       0, 0, 0, NULL, err) < 0) ||
	    cr_inj_ok(j, "PR_SET_PDEATHSIG", SYS_prctl, PR_SET_PDEATHSIG, m->pdeathsig, 0,
		      0, 0, 0, NULL, err) < 0 ||
	    /* 2 (SUID_DUMP_ROOT) only comes from fs.suid_dumpable after a
	     * credential change, which set_identity made too */
	    (m->dumpable < 2 && cr_inj_ok(j, "PR_SET_DUMPABLE", SYS_prctl, PR_SET_DUMPABLE,
					  m->dumpable, 0, 0, 0, 0, NULL, err) < 0))
		return rt_err_wrap(err, "pid %d", t->vpid);
	return 0;
}

static int morph_misc(struct cr_restore_ctx *c, struct cr_rtask *t, struct rt_err **err)
{
	struct misc *m = t->misc;
	struct cr_inj *j = &t->inj;
	if (strcmp(m->root, "/") != 0 && inj_path(t, "chroot", SYS_chroot, m->root, err) < 0)
		return -1;
	if (inj_path(t, "chdir", SYS_chdir, m->cwd, err) < 0 ||
	    cr_inj_ok(j, "umask", SYS_umask, m->umask, 0, 0, 0, 0, 0, NULL, err) < 0 ||
	    cr_inj_ok(j, "personality", SYS_personality, m->personality, 0, 0, 0, 0, 0,
		      NULL, err) < 0)
		return -1;
	if (restore_rlimits(t, m, err) < 0 || restore_identity(t, m, err) < 0)
		return -1;
	return restore_prctl(t, m, err);
}

static void release_misc(struct cr_rtask *t)
{
	misc_free(t->misc);
	t->misc = NULL;
}

/* ---- inspect ---- */

static const char *const rlimit_names[NRLIM] = {
	"cpu", "fsize", "data", "stack", "core", "rss", "nproc", "nofile",
	"memlock", "as", "locks", "sigpending", "msgqueue", "nice", "rtprio", "rttime",
};

static void describe_ids(struct cr_desc *d, const char *key, const uint32_t v[4])
{
	cr_desc_map(d, key);
	cr_desc_int(d, "real", v[0]);
	cr_desc_int(d, "effective", v[1]);
	cr_desc_int(d, "saved", v[2]);
	cr_desc_int(d, "fs", v[3]);
	cr_desc_end_map(d);
}

static void describe_identity(struct cr_desc *d, const struct misc *m)
{
	static const char *const caps[5] = { "inheritable", "permitted", "effective",
					     "bounding", "ambient" };
	cr_desc_map(d, "identity");
	describe_ids(d, "uid", m->uid);
	describe_ids(d, "gid", m->gid);
	cr_desc_array(d, "groups");
	for (uint32_t i = 0; i < m->ngroups; i++)
		cr_desc_int(d, NULL, m->groups[i]);
	cr_desc_end_array(d);
	cr_desc_map(d, "capabilities");
	for (int i = 0; i < 5; i++)
		cr_desc_hex(d, caps[i], m->cap[i]);
	cr_desc_end_map(d);
	cr_desc_hex(d, "securebits", m->securebits);
	cr_desc_bool(d, "no_new_privs", m->nnp);
	cr_desc_end_map(d);
}

static void describe_prctl(struct cr_desc *d, const struct misc *m)
{
	char buf[16];
	cr_desc_map(d, "prctl");
	cr_desc_bool(d, "child_subreaper", m->subreaper);
	if (m->pdeathsig)
		cr_desc_str(d, "pdeathsig", cr_signal_name((int)m->pdeathsig, buf));
	else
		cr_desc_null(d, "pdeathsig");
	cr_desc_uint(d, "timerslack_ns", m->timerslack);
	cr_desc_bool(d, "thp_disable", m->thp_disable);
	cr_desc_int(d, "dumpable", m->dumpable);
	cr_desc_end_map(d);
}

static int describe_misc(struct cr_restore_ctx *c, struct cr_rtask *t,
			 struct cr_desc *d, struct rt_err **err)
{
	int ret = load_misc(c, t, err);
	const struct misc *m = t->misc;
	if (ret == 0) {
		describe_identity(d, m);
		cr_desc_map(d, "attributes");
		cr_desc_strf(d, "umask", "%04o", m->umask);
		cr_desc_hex(d, "personality", m->personality);
		cr_desc_str(d, "cwd", m->cwd);
		cr_desc_str(d, "root", m->root);
		cr_desc_map(d, "rlimits");
		for (int i = 0; i < NRLIM; i++) {
			cr_desc_map(d, rlimit_names[i]);
			cr_desc_uint(d, "soft", m->rlim[i].rlim_cur);
			cr_desc_uint(d, "hard", m->rlim[i].rlim_max);
			cr_desc_end_map(d);
		}
		cr_desc_end_map(d);
		describe_prctl(d, m);
		cr_desc_end_map(d);
	}
	release_misc(t);
	return ret;
}

const struct cr_resource cr_res_misc = {
	.name = "process attributes",
	.want = want_misc,
	.dump = dump_misc,
	.prepare = load_misc,
	.morph = morph_misc,
	.release = release_misc,
	.describe = describe_misc,
};
