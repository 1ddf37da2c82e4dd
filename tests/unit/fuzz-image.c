/* Fuzz harness for the image reader (runtime/coordinator/image.c): each
 * input is opened as every image kind and read to the end, every record
 * through every field getter; a crash, a sanitizer report, a hang or a
 * broken invariant (abort) is a finding.
 *
 * Each input runs twice: as given, and with every record checksum it frames
 * recomputed, so the fuzzer gets past the crc32c into the field parsers
 * without having to learn checksums.
 *
 * With libFuzzer (hack/fuzz.sh does this):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZ_WITH_LIBFUZZER \
 *     -std=gnu11 -D_GNU_SOURCE -I. -Iruntime runtime/coordinator/image.c \
 *     runtime/error.c runtime/util.c tests/unit/fuzz-image.c \
 *     -o build/fuzz/fuzz-image
 *   build/fuzz/fuzz-image -max_len=16384 CORPUS_DIR
 * Without it, the same file builds with gcc into a program that replays the
 * files (or directories of files) named on its command line; test-image.c
 * includes it (with FUZZ_IMAGE_NO_MAIN) to replay tests/fuzz/image/. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "coordinator/image.h"
#include "util.h"

#define FZ_CHECK(cond)                                                         \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "invariant failed: %s (%s:%d)\n",      \
				#cond, __FILE__, __LINE__);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* The input lives in a memfd, opened by name through /proc/self/fd. */
static int fz_memfd = -1, fz_procfd = -1;
static char fz_name[16];

static void fz_setup(void)
{
	if (fz_memfd >= 0)
		return;
	fz_memfd = memfd_create("fuzz-image", MFD_CLOEXEC);
	fz_procfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FZ_CHECK(fz_memfd >= 0 && fz_procfd >= 0);
	snprintf(fz_name, sizeof(fz_name), "%d", fz_memfd);
}

static void fz_load(const uint8_t *data, size_t size)
{
	FZ_CHECK(ftruncate(fz_memfd, 0) == 0);
	FZ_CHECK(pwrite(fz_memfd, data, size, 0) == (ssize_t)size);
}

/* Every failure sets an error that names the file; success sets none. */
static void fz_err(int ret, struct rt_err **err)
{
	if (ret < 0) {
		FZ_CHECK(*err != NULL && (*err)->msg != NULL);
		FZ_CHECK(strstr((*err)->msg, fz_name) != NULL);
	} else {
		FZ_CHECK(*err == NULL);
	}
	rt_err_free(*err);
	*err = NULL;
}

static uint32_t fz_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Recompute the checksum of every record the framing finds. */
static void fz_fix_crcs(uint8_t *d, size_t size)
{
	size_t off = CR_IMG_HEADER_SIZE;
	while (off <= size && size - off >= 12) {
		uint32_t len = fz_le32(d + off + 4);
		if (len > size - off - 12)
			break;
		uint32_t crc = cr_crc32c(0, d + off, 8 + (size_t)len);
		for (int i = 0; i < 4; i++)
			d[off + 8 + len + i] = (uint8_t)(crc >> (8 * i));
		off += 12 + (size_t)len;
	}
}

/* One getter; returns its result after checking what it handed back. */
static int fz_get(struct cr_rd *r, unsigned op, size_t max)
{
	struct rt_err *err = NULL;
	size_t before = r->off;
	uint8_t u8;
	uint32_t u32;
	uint64_t u64;
	int64_t i64;
	const void *p;
	size_t n;
	char *s = NULL;
	int ret;
	switch (op % 6) {
	case 0: ret = cr_get_u8(r, "u8", &u8, &err); break;
	case 1: ret = cr_get_u32(r, "u32", &u32, &err); break;
	case 2: ret = cr_get_u64(r, "u64", &u64, &err); break;
	case 3: ret = cr_get_i64(r, "i64", &i64, &err); break;
	case 4:
		ret = cr_get_bytes(r, "bytes", &p, &n, max, &err);
		if (ret == 0)
			FZ_CHECK(n <= max && (const uint8_t *)p >= r->p &&
				 (const uint8_t *)p + n <= r->p + r->len);
		break;
	default:
		ret = cr_get_str(r, "str", &s, max, &err);
		if (ret == 0 && s)
			FZ_CHECK(strlen(s) <= max);
		free(s);
		break;
	}
	fz_err(ret, &err);
	if (ret < 0)
		FZ_CHECK(r->off == before);
	else
		FZ_CHECK(r->off > before && r->off <= r->len);
	return ret;
}

/* Read the payload again and again: one getter type per pass, then mixed
 * sequences, with a small and a large bound for byte runs. */
static void fz_fields(struct cr_rd *r)
{
	for (unsigned pass = 0; pass < 8; pass++) {
		r->off = 0;
		size_t max = pass & 1 ? 16 : CR_IMG_MAX_RECORD;
		for (unsigned step = 0;; step++) {
			unsigned op = pass < 6	    ? pass
				      : pass == 6 ? step
				      : r->off < r->len ? r->p[r->off]
							: 0;
			if (fz_get(r, op, max) < 0)
				break;
		}
		struct rt_err *err = NULL;
		int ret = cr_rd_done(r, &err);
		FZ_CHECK((ret == 0) == (r->off == r->len));
		fz_err(ret, &err);
	}
}

static void fz_records(struct cr_img *img, size_t size)
{
	struct rt_err *err = NULL;
	struct cr_rd r;
	size_t n = 0;
	int ret;
	while ((ret = cr_img_next(img, &r, &err)) == 1) {
		FZ_CHECK(r.len <= CR_IMG_MAX_RECORD && r.p != NULL);
		FZ_CHECK(r.index == n && r.type != CR_IMG_REC_END);
		FZ_CHECK(++n <= size / 12);
		fz_fields(&r);
	}
	fz_err(ret, &err);
	/* an end, like an error, stays */
	FZ_CHECK(cr_img_next(img, &r, &err) == ret);
	fz_err(ret, &err);
}

/* cr_img_end() first (a record where the end should be is consumed), then
 * expect() of types 0, 1, 2, 3, 0, ... until it fails. */
static void fz_expect(struct cr_img *img)
{
	struct rt_err *err = NULL;
	struct cr_rd r;
	fz_err(cr_img_end(img, &err), &err);
	for (uint32_t i = 0;; i++) {
		int ret = cr_img_expect(img, i % 4, &r, &err);
		fz_err(ret, &err);
		if (ret < 0)
			break;
		FZ_CHECK(r.type == i % 4);
	}
}

static void fz_pages(struct cr_img *img, size_t size)
{
	struct rt_err *err = NULL;
	uint8_t page[CR_IMG_PAGE_SIZE];
	FZ_CHECK(cr_img_fd(img) >= 0 && size >= CR_IMG_PAGE_SIZE);
	uint64_t data = size - CR_IMG_PAGE_SIZE;
	uint64_t offs[] = { 0, 1, data, data - 1, UINT64_MAX - 1 };
	for (size_t i = 0; i < ARRAY_SIZE(offs); i++) {
		for (size_t n = 0; n <= sizeof(page); n += sizeof(page) / 2) {
			int ret = cr_img_read_raw(img, offs[i], page, n, &err);
			FZ_CHECK((ret == 0) == (offs[i] <= data && n <= data - offs[i]));
			fz_err(ret, &err);
		}
	}
}

static void fz_run(size_t size)
{
	for (int k = 1; k < CR_IMG_KINDS; k++) {
		struct rt_err *err = NULL;
		cleanup_img struct cr_img *img = NULL;
		int ret = cr_img_open(fz_procfd, fz_name, k, &img, &err);
		fz_err(ret, &err);
		if (ret < 0) {
			FZ_CHECK(img == NULL);
			continue;
		}
		if (k == CR_IMG_PAGES) {
			fz_pages(img, size);
			continue;
		}
		fz_records(img, size);
		cr_img_closep(&img);
		FZ_CHECK(cr_img_open(fz_procfd, fz_name, k, &img, &err) == 0);
		fz_expect(img);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_setup();
	fz_load(data, size);
	fz_run(size);

	cleanup_free uint8_t *fixed = xmalloc(size);
	memcpy(fixed, data, size);
	fz_fix_crcs(fixed, size);
	if (size > 0 && memcmp(fixed, data, size) != 0) {
		fz_load(fixed, size);
		fz_run(size);
	}
	return 0;
}

#ifndef FUZZ_WITH_LIBFUZZER
/* Replay a file, or every file in a directory; returns how many ran, or -1
 * (with a message on stderr) when one cannot be read. */
static int fuzz_image_replay(const char *path)
{
	cleanup_err struct rt_err *err = NULL;
	cleanup_closedir DIR *d = opendir(path);
	if (d == NULL) {
		cleanup_free char *buf = NULL;
		size_t len;
		if (rt_read_file(path, &buf, &len, &err) < 0) {
			fprintf(stderr, "%s\n", err->msg);
			return -1;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
		return 1;
	}
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		cleanup_free char *p = xasprintf("%s/%s", path, e->d_name);
		int k = fuzz_image_replay(p);
		if (k < 0)
			return -1;
		n += k;
	}
	return n;
}

#ifndef FUZZ_IMAGE_NO_MAIN
int main(int argc, char **argv)
{
	int n = 0;
	for (int i = 1; i < argc; i++) {
		int k = fuzz_image_replay(argv[i]);
		if (k < 0)
			return 1;
		n += k;
	}
	printf("%d input(s) ran\n", n);
	return 0;
}
#endif
#endif
