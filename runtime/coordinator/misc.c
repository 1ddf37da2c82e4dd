/* Per-process odds and ends (misc-PID.img): umask, personality, cwd and
 * root, rlimits, and identity (uids, gids, groups, capabilities,
 * no_new_privs). Seccomp filters are refused. Identity is restored last,
 * by injection, because dropping privileges ends what the coordinator may
 * make the task do. */
#include <errno.h>
#include <linux/capability.h>
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
	if ((f = cr_status_field(st, "Seccomp")) && atoi(f) != 0)
		return rt_err_set(err, EOPNOTSUPP, "pid %d uses seccomp (mode %d): "
				  "not supported yet", pid, atoi(f));
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

static int read_misc(pid_t pid, struct misc *m, struct rt_err **err)
{
	cleanup_free char *st = NULL, *pers = NULL, *root = NULL, *cwd = NULL;
	if (cr_proc_read(pid, "status", &st, err) < 0 || parse_status(pid, st, m, err) < 0 ||
	    cr_proc_read(pid, "personality", &pers, err) < 0 ||
	    cr_proc_link(pid, "root", &root, err) < 0 || cr_proc_link(pid, "cwd", &cwd, err) < 0)
		return -1;
	m->personality = (uint32_t)strtoul(pers, NULL, 16);
	m->cwd = cr_path_in_root(root, cwd);
	m->root = xstrdup("/");
	for (int r = 0; r < NRLIM; r++)
		if (prlimit(pid, r, NULL, &m->rlim[r]) < 0)
			return rt_err_set(err, errno, "pid %d: read rlimit %d", pid, r);
	return 0;
}

static int dump_misc(struct cr_dump_ctx *c, struct cr_dtask *t, struct rt_err **err)
{
	struct misc m = { 0 };
	int ret = read_misc(t->hpid, &m, err);
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

/* setgroups, setresgid, setresuid keeping caps, then capset. */
static int set_identity(struct cr_rtask *t, struct misc *m, struct rt_err **err)
{
	struct cr_inj *j = &t->inj;
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)m->cap[2], (uint32_t)m->cap[1], (uint32_t)m->cap[0] },
		{ (uint32_t)(m->cap[2] >> 32), (uint32_t)(m->cap[1] >> 32),
		  (uint32_t)(m->cap[0] >> 32) },
	};
	for (int cap = 0; cap < 64; cap++)
		if (!(m->cap[3] & (1ull << cap)) &&
		    prctl(PR_CAPBSET_READ, cap) == 1 &&
		    cr_inj_ok(j, "drop a bounding capability", SYS_prctl, PR_CAPBSET_DROP,
			      cap, 0, 0, 0, 0, NULL, err) < 0)
			return -1;
	if (cr_mem_write(t->hpid, t->helper, m->groups, m->ngroups * 4, err) < 0 ||
	    cr_inj_ok(j, "setgroups", SYS_setgroups, m->ngroups, (long)t->helper, 0, 0,
		      0, 0, NULL, err) < 0 ||
	    cr_inj_ok(j, "setresgid", SYS_setresgid, m->gid[0], m->gid[1], m->gid[2], 0,
		      0, 0, NULL, err) < 0 ||
	    cr_inj_ok(j, "setfsgid", SYS_setfsgid, m->gid[3], 0, 0, 0, 0, 0, NULL, err) < 0 ||
	    cr_inj_ok(j, "PR_SET_KEEPCAPS", SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0, 0,
		      NULL, err) < 0 ||
	    cr_inj_ok(j, "setresuid", SYS_setresuid, m->uid[0], m->uid[1], m->uid[2], 0,
		      0, 0, NULL, err) < 0 ||
	    cr_inj_ok(j, "setfsuid", SYS_setfsuid, m->uid[3], 0, 0, 0, 0, 0, NULL, err) < 0 ||
	    cr_mem_write(t->hpid, t->helper, &h, sizeof(h), err) < 0 ||
	    cr_mem_write(t->hpid, t->helper + 64, d, sizeof(d), err) < 0 ||
	    cr_inj_ok(j, "capset", SYS_capset, (long)t->helper, (long)t->helper + 64, 0,
		      0, 0, 0, NULL, err) < 0 ||
	    cr_inj_ok(j, "PR_SET_KEEPCAPS", SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0, 0,
		      NULL, err) < 0)
		return -1;
	for (int cap = 0; cap < 64; cap++)
		if ((m->cap[4] & (1ull << cap)) &&
		    cr_inj_ok(j, "raise an ambient capability", SYS_prctl, PR_CAP_AMBIENT,
			      PR_CAP_AMBIENT_RAISE, cap, 0, 0, 0, NULL, err) < 0)
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
	for (int r = 0; r < NRLIM; r++)
		if (cr_mem_write(t->hpid, t->helper, &m->rlim[r], sizeof(m->rlim[r]), err) < 0 ||
		    cr_inj_ok(j, "prlimit", SYS_prlimit64, 0, r, (long)t->helper, 0, 0, 0,
			      NULL, err) < 0)
			return rt_err_wrap(err, "pid %d: rlimit %d", t->vpid, r);
	struct misc cur = { 0 };
	cleanup_free char *st = NULL;
	int ret = cr_proc_read(t->hpid, "status", &st, err);
	if (ret == 0)
		ret = parse_status(t->vpid, st, &cur, err);
	if (ret == 0 && !same_identity(&cur, m))
		ret = set_identity(t, m, err);
	free(cur.groups);
	if (ret == 0 && m->nnp)
		ret = cr_inj_ok(j, "PR_SET_NO_NEW_PRIVS", SYS_prctl, PR_SET_NO_NEW_PRIVS, 1,
				0, 0, 0, 0, NULL, err);
	return ret;
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
	cr_desc_bool(d, "no_new_privs", m->nnp);
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
		cr_desc_end_map(d);
	}
	release_misc(t);
	return ret;
}

const struct cr_resource cr_res_misc = {
	.name = "process attributes",
	.dump = dump_misc,
	.prepare = load_misc,
	.morph = morph_misc,
	.release = release_misc,
	.describe = describe_misc,
};
