/* The machine check a restore makes (inventory.c): images from another
 * kernel build (the vDSO differs) or another CPU feature set (XCR0
 * differs) are refused with a message saying so, before any task is made,
 * and `ferry inspect` tells the same. A sleeping child is dumped with
 * cr_dump into a directory on /dev/shm; its inventory.img is then written
 * again with one field changed (the records are re-made through the image
 * writer, so the checksums are right and only the fact is wrong). Needs
 * root (ptrace). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coordinator/internal.h"
#include "tap.h"
#include "util.h"

static char dir[64];
static int dirfd_ = -1;

struct inv {
	uint32_t root;
	uint64_t vdso_size, vdso_hash, xcr0, xstate_size;
	char *kernel;
	const void *lineage;
	size_t lineage_len;
};

/* inventory.img again, with the fields of v and the original lineage
 * record's payload copied as it was. */
static int rewrite(const struct inv *v, const void *lineage, size_t len)
{
	struct rt_err *e = NULL;
	struct cr_img *img = NULL;
	unlinkat(dirfd_, "inventory.img", 0);
	if (cr_img_create(dirfd_, "inventory.img", CR_IMG_INVENTORY, &img, &e) < 0)
		return -1;
	struct cr_rec r;
	cr_rec_init(&r, CR_R_INVENTORY);
	cr_put_u32(&r, v->root);
	cr_put_u64(&r, v->vdso_size);
	cr_put_u64(&r, v->vdso_hash);
	cr_put_u64(&r, v->xcr0);
	cr_put_u64(&r, v->xstate_size);
	cr_put_str(&r, v->kernel);
	int ret = cr_img_write(img, &r, &e);
	cr_rec_free(&r);
	struct cr_rec l = { .type = CR_R_LINEAGE, .buf = xmalloc(len + 1), .len = len, .cap = len + 1 };
	memcpy(l.buf, lineage, len);
	if (ret == 0)
		ret = cr_img_write(img, &l, &e);
	cr_rec_free(&l);
	if (ret == 0)
		ret = cr_img_close(img, &e);
	else
		cr_img_abort(img);
	rt_err_free(e);
	return ret;
}

static int read_inventory(struct inv *v, uint8_t **lineage, size_t *len)
{
	struct rt_err *e = NULL;
	cleanup_img struct cr_img *img = NULL;
	struct cr_rd r;
	int ret = cr_img_open(dirfd_, "inventory.img", CR_IMG_INVENTORY, &img, &e) < 0 ||
			  cr_img_expect(img, CR_R_INVENTORY, &r, &e) < 0 ||
			  cr_get_u32(&r, "root", &v->root, &e) < 0 ||
			  cr_get_u64(&r, "vdso_size", &v->vdso_size, &e) < 0 ||
			  cr_get_u64(&r, "vdso_hash", &v->vdso_hash, &e) < 0 ||
			  cr_get_u64(&r, "xcr0", &v->xcr0, &e) < 0 ||
			  cr_get_u64(&r, "xstate_size", &v->xstate_size, &e) < 0 ||
			  cr_get_str(&r, "kernel", &v->kernel, 256, &e) < 0 ||
			  cr_img_expect(img, CR_R_LINEAGE, &r, &e) < 0
		  ? -1
		  : 0;
	if (ret == 0) {
		*len = r.len;
		*lineage = xmalloc(r.len + 1);
		memcpy(*lineage, r.p, r.len);
	}
	rt_err_free(e);
	return ret;
}

static pid_t sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

/* A restore of the images by a stand-in agent (a sleeping child: the
 * check must fail before the agent is asked anything); the error. */
static char *restore_error(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return xstrdup("socketpair failed");
	pid_t agent = sleeper();
	struct cr_restore_opts ro = { .images_dirfd = dirfd_, .agent_pid = agent,
				      .agent_fd = sv[0], .stdio = { -1, -1, -1 } };
	struct rt_err *e = NULL;
	int ret = cr_restore(&ro, NULL, &e);
	char *msg = xstrdup(ret == 0 ? "(restored)" : e->msg);
	rt_err_free(e);
	kill(agent, SIGKILL);
	waitpid(agent, NULL, 0);
	close(sv[0]);
	close(sv[1]);
	return msg;
}

static char *inspect_json(void)
{
	char *out = NULL;
	struct rt_err *e = NULL;
	if (cr_inspect(dir, CR_INSPECT_JSON, &out, &e) < 0) {
		out = xasprintf("inspect failed: %s", e->msg);
		rt_err_free(e);
	}
	return out;
}

int main(void)
{
	if (geteuid() != 0) {
		TAP_SKIP("needs root (ptrace)", "machine check");
		return tap_done();
	}
	snprintf(dir, sizeof(dir), "/dev/shm/ferry-test-inventory.XXXXXX");
	if (mkdtemp(dir) == NULL || (dirfd_ = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		abort();
	pid_t target = sleeper();
	struct cr_dump_opts o = { .root = target, .images_dirfd = dirfd_ };
	struct rt_err *e = NULL;
	int dumped = cr_dump(&o, NULL, &e);
	TAP_OK(dumped == 0, "dump a sleeping child (%s)", e ? e->msg : "ok");
	rt_err_free(e);
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);

	struct inv v = { 0 };
	uint8_t *lineage = NULL;
	size_t len = 0;
	bool read = dumped == 0 && read_inventory(&v, &lineage, &len) == 0;
	TAP_OK(read, "read inventory.img back");
	cleanup_free char *good = inspect_json();
	TAP_OK(strstr(good, "\"same_kernel_build\": true") &&
		       strstr(good, "\"same_cpu_features\": true"),
	       "inspect: this machine can restore the images as dumped");

	struct inv other = v;
	other.vdso_hash ^= 1;
	TAP_OK(read && rewrite(&other, lineage, len) == 0, "write an inventory from another kernel");
	cleanup_free char *kmsg = restore_error();
	TAP_OK(strstr(kmsg, "another kernel build") && strstr(kmsg, "vDSO"),
	       "restore refuses another kernel build: %s", kmsg);
	cleanup_free char *kjson = inspect_json();
	TAP_OK(strstr(kjson, "\"same_kernel_build\": false") != NULL,
	       "inspect says another kernel build");

	other = v;
	other.xcr0 ^= 1;
	TAP_OK(read && rewrite(&other, lineage, len) == 0, "write an inventory from another CPU");
	cleanup_free char *cmsg = restore_error();
	TAP_OK(strstr(cmsg, "CPU state") && strstr(cmsg, "XCR0"),
	       "restore refuses another CPU feature set: %s", cmsg);
	cleanup_free char *cjson = inspect_json();
	TAP_OK(strstr(cjson, "\"same_cpu_features\": false") != NULL,
	       "inspect says other CPU features");

	/* and the facts as they were restore the check's verdict */
	TAP_OK(read && rewrite(&v, lineage, len) == 0, "write the inventory as it was");
	cleanup_free char *again = inspect_json();
	TAP_OK(strstr(again, "\"same_kernel_build\": true") != NULL,
	       "inspect: restorable again");

	free(v.kernel);
	free(lineage);
	struct rt_err *re = NULL;
	close(dirfd_);
	rt_rm_rf(dir, &re);
	rt_err_free(re);
	return tap_done();
}
