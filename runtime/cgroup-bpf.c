/* cgroup2 has no devices controller: device access is decided by a
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup. The program
 * is assembled here from the OCI rules, loaded with bpf(2) and attached with
 * BPF_F_ALLOW_MULTI, so a parent's filter keeps applying as well.
 *
 * Generated program, for rules checked last-to-first:
 *	r2 = ctx->access_type; r3 = r2 & 0xffff (type); r4 = r2 >> 16 (access)
 *	r5 = ctx->major; r6 = ctx->minor
 *	per rule: if type, access, major or minor do not match goto next;
 *	          r0 = allow ? 1 : 0; exit
 *	r0 = 0; exit		(nothing matched: deny)
 * An access matches a rule when every requested bit is in the rule's
 * access ("rw" covers a read-only open). A type 'a' rule matches everything,
 * so the rules before it are never consulted and are not emitted. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "util.h"

struct prog {
	struct bpf_insn *v;
	size_t n, cap;
};

static void emit(struct prog *p, struct bpf_insn insn)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n++] = insn;
}

static struct bpf_insn ldx_w(int dst, int src, int16_t off)
{
	return (struct bpf_insn){ .code = BPF_LDX | BPF_W | BPF_MEM,
				  .dst_reg = dst, .src_reg = src, .off = off };
}

static struct bpf_insn alu_imm(int op, int dst, int32_t imm)
{
	return (struct bpf_insn){ .code = BPF_ALU64 | op | BPF_K,
				  .dst_reg = dst, .imm = imm };
}

static struct bpf_insn mov_reg(int dst, int src)
{
	return (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_X,
				  .dst_reg = dst, .src_reg = src };
}

/* if (dst != imm) goto +off; off is patched once the target is known */
static struct bpf_insn jne_imm(int dst, int32_t imm)
{
	return (struct bpf_insn){ .code = BPF_JMP | BPF_JNE | BPF_K,
				  .dst_reg = dst, .imm = imm };
}

static struct bpf_insn exit_insn(void)
{
	return (struct bpf_insn){ .code = BPF_JMP | BPF_EXIT };
}

static int32_t access_bits(const char *access)
{
	int32_t bits = 0;
	for (const char *c = access; *c; c++)
		bits |= *c == 'r' ? BPF_DEVCG_ACC_READ
		      : *c == 'w' ? BPF_DEVCG_ACC_WRITE
		      : *c == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
	return bits;
}

static int check_rule(const struct oci_device_rule *d, size_t i,
		      struct rt_err **err)
{
	if (d->type != 'a' && d->type != 'c' && d->type != 'b')
		return rt_err_set(err, 0, "devices[%zu]: type '%c' cannot be "
					  "filtered on cgroup v2", i, d->type);
	if (d->major > INT32_MAX || d->minor > INT32_MAX)
		return rt_err_set(err, 0, "devices[%zu]: device number out of range", i);
	return 0;
}

/* Emit one rule; returns true when the rule matches everything. */
static bool emit_rule(struct prog *p, const struct oci_device_rule *d)
{
	size_t jumps[4], nj = 0;
	if (d->type != 'a') {
		int32_t type = d->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK;
		jumps[nj++] = p->n;
		emit(p, jne_imm(BPF_REG_3, type));
		int32_t acc = access_bits(d->access);
		const int32_t all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE |
				    BPF_DEVCG_ACC_MKNOD;
		if ((acc & all) != all) { /* requested & ~allowed must be 0 */
			emit(p, mov_reg(BPF_REG_7, BPF_REG_4));
			emit(p, alu_imm(BPF_AND, BPF_REG_7, ~acc & all));
			jumps[nj++] = p->n;
			emit(p, jne_imm(BPF_REG_7, 0));
		}
		if (d->major >= 0) {
			jumps[nj++] = p->n;
			emit(p, jne_imm(BPF_REG_5, (int32_t)d->major));
		}
		if (d->minor >= 0) {
			jumps[nj++] = p->n;
			emit(p, jne_imm(BPF_REG_6, (int32_t)d->minor));
		}
	}
	emit(p, alu_imm(BPF_MOV, BPF_REG_0, d->allow ? 1 : 0));
	emit(p, exit_insn());
	for (size_t j = 0; j < nj; j++)
		p->v[jumps[j]].off = (int16_t)(p->n - jumps[j] - 1);
	return nj == 0;
}

static int assemble(const struct oci_device_rule *rules, size_t n,
		    struct prog *p, struct rt_err **err)
{
	for (size_t i = 0; i < n; i++)
		if (check_rule(&rules[i], i, err) < 0)
			return -1;
	emit(p, ldx_w(BPF_REG_2, BPF_REG_1,
		      offsetof(struct bpf_cgroup_dev_ctx, access_type)));
	emit(p, mov_reg(BPF_REG_3, BPF_REG_2));
	emit(p, alu_imm(BPF_AND, BPF_REG_3, 0xffff));
	emit(p, mov_reg(BPF_REG_4, BPF_REG_2));
	emit(p, alu_imm(BPF_RSH, BPF_REG_4, 16));
	emit(p, ldx_w(BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major)));
	emit(p, ldx_w(BPF_REG_6, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor)));
	for (size_t i = n; i > 0; i--)
		if (emit_rule(p, &rules[i - 1]))
			return 0; /* the rest would be unreachable: the verifier refuses that */
	emit(p, alu_imm(BPF_MOV, BPF_REG_0, 0));
	emit(p, exit_insn());
	return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int load(const struct prog *p, struct rt_err **err)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)p->v;
	a.insn_cnt = (uint32_t)p->n;
	a.license = (uint64_t)(uintptr_t) "GPL";
	int fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd;
	int e = errno;
	if (e != EINVAL && e != EACCES)
		return rt_err_set(err, e, "load device filter (%zu instructions)", p->n);
	/* Load again with the verifier's log to say why. */
	cleanup_free char *log = xcalloc(1, 65536);
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = 65536;
	a.log_level = 1;
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd;
	size_t len = strlen(log);
	while (len > 0 && log[len - 1] == '\n')
		log[--len] = '\0';
	char *last = strrchr(log, '\n');
	return rt_err_set(err, e, "load device filter: verifier: %s",
			  last ? last + 1 : log);
}

/* Ids of the device programs attached to the cgroup itself. */
static int attached(int cgfd, uint32_t *ids, uint32_t *n, const char *dir,
		    struct rt_err **err)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)cgfd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = *n;
	if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
		return rt_err_set(err, errno, "query device filters of '%s'", dir);
	*n = a.query.prog_cnt < *n ? a.query.prog_cnt : *n;
	return 0;
}

static int detach(int cgfd, uint32_t id, const char *dir, struct rt_err **err)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_id = id;
	cleanup_close int pfd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
	if (pfd < 0)
		return errno == ENOENT ? 0
				       : rt_err_set(err, errno, "open device filter %u", id);
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgfd;
	a.attach_bpf_fd = (uint32_t)pfd;
	a.attach_type = BPF_CGROUP_DEVICE;
	if (sys_bpf(BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
		return rt_err_set(err, errno, "detach device filter %u from '%s'", id, dir);
	return 0;
}

int rt_cg_bpf_set_devices(const char *dir, const struct oci_device_rule *rules,
			  size_t n, struct rt_err **err)
{
	struct prog p = { 0 };
	int r = assemble(rules, n, &p, err);
	cleanup_close int pfd = r < 0 ? -1 : load(&p, err);
	free(p.v);
	if (pfd < 0)
		return -1;
	cleanup_close int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return rt_err_set(err, errno, "open '%s'", dir);
	uint32_t old[64], n_old = ARRAY_SIZE(old);
	if (attached(cgfd, old, &n_old, dir, err) < 0)
		return -1;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgfd;
	a.attach_bpf_fd = (uint32_t)pfd;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
		return rt_err_set(err, errno, "attach device filter to '%s'", dir);
	/* The new filter is in place; the old ones can go (both applied in
	 * the meantime, which only ever denied more). */
	for (uint32_t i = 0; i < n_old; i++)
		if (detach(cgfd, old[i], dir, err) < 0)
			return -1;
	return 0;
}
