/* Checkpoint-wide facts (inventory.img) and the machine checks a restore
 * makes against them: same kernel build (vDSO bytes), same XCR0 and xstate
 * size. Also the small /proc helpers every resource file uses. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "coordinator/describe.h"
#include "coordinator/internal.h"
#include "util.h"

uint64_t cr_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t cr_hash64(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

int cr_proc_read(pid_t pid, const char *file, char **buf, struct rt_err **err)
{
	char path[96];
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	return rt_read_file(path, buf, NULL, err);
}

const char *cr_status_field(const char *status, const char *key)
{
	size_t kl = strlen(key);
	for (const char *l = status; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, kl) == 0 && l[kl] == ':')
			return l + kl + 1 + strspn(l + kl + 1, " \t");
	return NULL;
}

int cr_proc_link(pid_t pid, const char *link, char **out, struct rt_err **err)
{
	char path[96], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, link);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return rt_err_set(err, errno, "readlink '%s'", path);
	buf[n] = '\0';
	*out = xstrdup(buf);
	return 0;
}

char *cr_path_in_root(const char *root, const char *path)
{
	size_t rl = strlen(root);
	if (strcmp(root, "/") == 0 || path[0] != '/')
		return xstrdup(path);
	if (strncmp(path, root, rl) == 0 && (path[rl] == '/' || path[rl] == '\0'))
		return xstrdup(path[rl] ? path + rl : "/");
	return xstrdup(path);
}

/* Our own [vdso]: the kernel maps the same one into every process. */
int cr_vdso_self(struct cr_vdso_info *v, struct rt_err **err)
{
	memset(v, 0, sizeof(*v));
	v->start = getauxval(AT_SYSINFO_EHDR);
	cleanup_free char *maps = NULL;
	if (v->start == 0 || rt_read_file("/proc/self/maps", &maps, NULL, err) < 0)
		return v->start ? -1 : rt_err_set(err, 0, "this process has no vDSO");
	for (char *l = maps; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		unsigned long s, e;
		if (sscanf(l, "%lx-%lx", &s, &e) == 2 && s == v->start)
			v->size = e - s;
	}
	if (v->size == 0)
		return rt_err_set(err, 0, "[vdso] at %#lx not found in /proc/self/maps",
				  v->start);
	const uint8_t *b = (const uint8_t *)v->start;
	v->hash = cr_hash64(b, v->size);
	for (size_t i = 0; i + 1 < v->size; i++)
		if (b[i] == 0x0f && b[i + 1] == 0x05) {
			v->gadget_off = i;
			return 0;
		}
	return rt_err_set(err, 0, "no syscall instruction in the vDSO");
}

static uint64_t xcr0(void)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

int cr_inventory_write(struct cr_dump_ctx *c, struct rt_err **err)
{
	struct utsname u;
	uname(&u);
	struct cr_img *img = NULL;
	if (cr_img_create(c->o->images_dirfd, "inventory.img", CR_IMG_INVENTORY,
			  &img, err) < 0)
		return -1;
	struct cr_rec r;
	cr_rec_init(&r, CR_R_INVENTORY);
	cr_put_u32(&r, (uint32_t)c->tasks[0].vpid);
	cr_put_u64(&r, c->vdso.size);
	cr_put_u64(&r, c->vdso.hash);
	cr_put_u64(&r, xcr0());
	cr_put_u64(&r, c->tasks[0].thr[0].xlen);
	cr_put_str(&r, u.release);
	int ret = cr_img_write(img, &r, err);
	cr_rec_free(&r);
	cr_rec_init(&r, CR_R_LINEAGE);
	cr_put_u8(&r, c->o->pre_dump);
	cr_put_bytes(&r, c->id, sizeof(c->id));
	cr_put_bytes(&r, c->parent_id, c->parent_ok ? sizeof(c->parent_id) : 0);
	if (ret == 0)
		ret = cr_img_write(img, &r, err);
	cr_rec_free(&r);
	if (ret < 0) {
		cr_img_abort(img);
		return -1;
	}
	return cr_img_close(img, err);
}

/* The lineage record after the inventory; images from before it have
 * none: a full dump with no id and no parent. */
static int get_lineage(struct cr_img *img, struct cr_lineage *l, struct rt_err **err)
{
	struct cr_rd r;
	const void *id, *pid;
	size_t id_len, pid_len;
	uint8_t pre;
	memset(l, 0, sizeof(*l));
	int k = cr_img_next(img, &r, err);
	if (k <= 0)
		return k;
	if (r.type != CR_R_LINEAGE || cr_get_u8(&r, "pre_dump", &pre, err) < 0 ||
	    cr_get_bytes(&r, "id", &id, &id_len, CR_DUMP_ID_LEN, err) < 0 ||
	    cr_get_bytes(&r, "parent id", &pid, &pid_len, CR_DUMP_ID_LEN, err) < 0 ||
	    cr_rd_done(&r, err) < 0)
		return rt_err_set(err, 0, "inventory.img: record %zu is not a lineage", r.index);
	if (id_len != CR_DUMP_ID_LEN || (pid_len != 0 && pid_len != CR_DUMP_ID_LEN) || pre > 1)
		return rt_err_set(err, 0, "inventory.img: record %zu: bad lineage", r.index);
	l->pre_dump = pre;
	memcpy(l->id, id, id_len);
	l->has_parent = pid_len != 0;
	memcpy(l->parent_id, pid, pid_len);
	return cr_img_end(img, err);
}

struct inventory {
	uint32_t root;
	uint64_t vdso_size, vdso_hash, xcr0, xstate_size;
	char *kernel;
	struct cr_lineage lineage;
};

/* inventory.img, checked for itself; the caller frees v->kernel. */
static int read_inventory(int dirfd, struct inventory *v, struct rt_err **err)
{
	cleanup_img struct cr_img *img = NULL;
	struct cr_rd r;
	if (cr_img_open(dirfd, "inventory.img", CR_IMG_INVENTORY, &img, err) < 0 ||
	    cr_img_expect(img, CR_R_INVENTORY, &r, err) < 0 ||
	    cr_get_u32(&r, "root", &v->root, err) < 0 ||
	    cr_get_u64(&r, "vdso_size", &v->vdso_size, err) < 0 ||
	    cr_get_u64(&r, "vdso_hash", &v->vdso_hash, err) < 0 ||
	    cr_get_u64(&r, "xcr0", &v->xcr0, err) < 0 ||
	    cr_get_u64(&r, "xstate_size", &v->xstate_size, err) < 0 ||
	    cr_get_str(&r, "kernel", &v->kernel, 256, err) < 0 || cr_rd_done(&r, err) < 0 ||
	    get_lineage(img, &v->lineage, err) < 0)
		return -1;
	if (v->root == 0 || v->xstate_size == 0 || v->xstate_size > CR_XSTATE_MAX)
		return rt_err_set(err, 0, "inventory.img: bad root pid %u or xstate "
				  "size %lu", v->root, (unsigned long)v->xstate_size);
	return 0;
}

int cr_lineage_read(int dirfd, struct cr_lineage *l, struct rt_err **err)
{
	struct inventory v = { 0 };
	int ret = read_inventory(dirfd, &v, err);
	free(v.kernel);
	*l = v.lineage;
	return ret;
}

static void hex_id(const uint8_t *id, char out[2 * CR_DUMP_ID_LEN + 1])
{
	for (size_t i = 0; i < CR_DUMP_ID_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

/* The parents of a dump, each through the "parent" link of the one
 * before, each the dump its child names by id. */
static int open_layers(struct cr_restore_ctx *c, const struct cr_lineage *top,
		       struct rt_err **err)
{
	struct cr_lineage l = *top;
	c->layer[0] = c->o->images_dirfd;
	c->layer_pre_dump[0] = l.pre_dump;
	c->n_layers = 1;
	cleanup_free char *where = xstrdup("parent");
	while (l.has_parent) {
		char want[2 * CR_DUMP_ID_LEN + 1], got[2 * CR_DUMP_ID_LEN + 1];
		if (c->n_layers == CR_MAX_LAYERS)
			return rt_err_set(err, 0, "%s: more than %d dumps in the chain", where,
					  CR_MAX_LAYERS);
		int fd = openat(c->layer[c->n_layers - 1], "parent",
				O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			char to[4096];
			ssize_t n = readlinkat(c->layer[c->n_layers - 1], "parent", to,
					       sizeof(to) - 1);
			to[n < 0 ? 0 : n] = '\0';
			return rt_err_set(err, e, "some pages are in the parent dump '%s'%s%s%s",
					  where, n > 0 ? " (-> '" : "", to, n > 0 ? "')" : "");
		}
		c->layer[c->n_layers++] = fd;
		uint8_t id[CR_DUMP_ID_LEN];
		memcpy(id, l.parent_id, sizeof(id));
		if (cr_lineage_read(fd, &l, err) < 0)
			return rt_err_wrap(err, "the parent dump '%s'", where);
		c->layer_pre_dump[c->n_layers - 1] = l.pre_dump;
		hex_id(id, want);
		hex_id(l.id, got);
		if (memcmp(id, l.id, sizeof(id)) != 0)
			return rt_err_set(err, 0, "the parent dump '%s' is dump %s, not the dump "
					  "%s the image was made against", where, got, want);
		char *next = xasprintf("%s/parent", where);
		free(where);
		where = next;
	}
	return 0;
}

int cr_layers_open(struct cr_restore_ctx *c, struct rt_err **err)
{
	struct cr_lineage l;
	if (cr_lineage_read(c->o->images_dirfd, &l, err) < 0)
		return -1;
	return open_layers(c, &l, err);
}

void cr_layers_close(struct cr_restore_ctx *c)
{
	for (size_t i = 1; i < c->n_layers; i++)
		close(c->layer[i]);
	c->n_layers = 0;
}

/* Refuse images from another kernel build or CPU feature set. */
int cr_inventory_check(struct cr_restore_ctx *c, pid_t *root, size_t *xlen,
		       struct rt_err **err)
{
	struct inventory v = { 0 };
	int ret = read_inventory(c->o->images_dirfd, &v, err);
	if (ret == 0 && (v.vdso_size != c->vdso.size || v.vdso_hash != c->vdso.hash))
		ret = rt_err_set(err, 0, "the image comes from another kernel build "
				 "(%s): its vDSO differs from this machine's "
				 "(%lu bytes, hash %#lx, vs %lu bytes, hash %#lx)",
				 v.kernel ? v.kernel : "?", (unsigned long)v.vdso_size,
				 (unsigned long)v.vdso_hash, c->vdso.size,
				 (unsigned long)c->vdso.hash);
	else if (ret == 0 && v.xcr0 != xcr0())
		ret = rt_err_set(err, 0, "the image's CPU state (XCR0 %#lx) differs "
				 "from this machine's (%#lx)", (unsigned long)v.xcr0,
				 (unsigned long)xcr0());
	else if (ret == 0 && v.lineage.pre_dump)
		ret = rt_err_set(err, 0, "the image is a pre-dump (memory only): restore the "
				 "checkpoint made with --parent-path pointing at it");
	free(v.kernel);
	if (ret == 0)
		ret = open_layers(c, &v.lineage, err);
	if (ret < 0)
		return -1;
	*root = (pid_t)v.root;
	*xlen = v.xstate_size;
	return 0;
}

int cr_inventory_describe(int dirfd, struct cr_desc *d, pid_t *root,
			  struct rt_err **err)
{
	struct inventory v = { 0 };
	if (read_inventory(dirfd, &v, err) < 0) {
		free(v.kernel);
		return -1;
	}
	struct cr_vdso_info self;
	cleanup_err struct rt_err *e = NULL;
	bool same_kernel = cr_vdso_self(&self, &e) == 0 && self.size == v.vdso_size &&
			   self.hash == v.vdso_hash;
	cr_desc_map(d, "inventory");
	cr_desc_int(d, "root_pid", v.root);
	cr_desc_str(d, "kernel", v.kernel);
	cr_desc_uint(d, "vdso_size", v.vdso_size);
	cr_desc_hex(d, "vdso_hash", v.vdso_hash);
	cr_desc_hex(d, "xcr0", v.xcr0);
	cr_desc_uint(d, "xstate_size", v.xstate_size);
	char id[2 * CR_DUMP_ID_LEN + 1], parent[2 * CR_DUMP_ID_LEN + 1];
	hex_id(v.lineage.id, id);
	hex_id(v.lineage.parent_id, parent);
	cr_desc_bool(d, "pre_dump", v.lineage.pre_dump);
	cr_desc_str(d, "dump_id", id);
	cr_desc_str(d, "parent_dump_id", v.lineage.has_parent ? parent : NULL);
	/* What cr_inventory_check would say on this machine. */
	cr_desc_map(d, "this_machine");
	cr_desc_bool(d, "same_kernel_build", same_kernel);
	cr_desc_bool(d, "same_cpu_features", v.xcr0 == xcr0());
	cr_desc_end_map(d);
	cr_desc_end_map(d);
	free(v.kernel);
	*root = (pid_t)v.root;
	return 0;
}

unsigned long cr_auxv_vdso(const char *auxv, size_t len)
{
	for (size_t i = 0; i + 16 <= len; i += 16) {
		uint64_t a[2];
		memcpy(a, auxv + i, sizeof(a));
		if (a[0] == 33 /* AT_SYSINFO_EHDR */)
			return (unsigned long)a[1];
	}
	return 0;
}

/* The task's vDSO start, from its auxv. */
int cr_task_vdso(pid_t pid, unsigned long *vdso, struct rt_err **err)
{
	cleanup_free char *auxv = NULL;
	size_t len;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	if (rt_read_file(path, &auxv, &len, err) < 0)
		return -1;
	*vdso = cr_auxv_vdso(auxv, len);
	if (*vdso == 0)
		return rt_err_set(err, 0, "pid %d has no vDSO: cannot inject syscalls", pid);
	return 0;
}

