/* runtime/coordinator/image.c: crc32c on known vectors (both paths), round
 * trips of every field type, many and large records, raw page files, and
 * every kind of damage a file can take (truncation at every byte, every
 * single-bit flip, wrong magic/version/kind, oversize lengths, trailing
 * bytes), then the fuzz corpus tests/fuzz/image/ replayed through the fuzz
 * harness. Files go to a fresh directory under $TMPDIR (or /tmp). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coordinator/image.h"
#include "tap.h"
#include "util.h"

#define FUZZ_IMAGE_NO_MAIN
#include "fuzz-image.c"

static int dirfd_ = -1;

/* ---- helpers ----------------------------------------------------------- */

/* A new file each time: rewriting with O_TRUNC makes ext4 flush on close
 * (auto_da_alloc), which the damage loops would pay thousands of times. */
static void put_file(const char *name, const void *data, size_t len)
{
	unlinkat(dirfd_, name, 0);
	cleanup_close int fd = openat(dirfd_, name,
				      O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 || rt_write_all(fd, data, len) < 0)
		abort();
}

static uint8_t *get_file(const char *name, size_t *len)
{
	cleanup_close int fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		abort();
	uint8_t *d = xmalloc((size_t)st.st_size);
	if (rt_read_all(fd, d, (size_t)st.st_size) != st.st_size)
		abort();
	*len = (size_t)st.st_size;
	return d;
}

/* The message of err (or "(none)"), then free it. */
static char *take_msg(struct rt_err **err)
{
	char *m = xstrdup(*err && (*err)->msg ? (*err)->msg : "(none)");
	rt_err_free(*err);
	*err = NULL;
	return m;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((seed + i) * 2654435761u >> 13);
}

/* The small sample file the damage tests work on. */
static void write_sample(const char *name)
{
	cleanup_err struct rt_err *err = NULL;
	struct cr_img *img;
	if (cr_img_create(dirfd_, name, CR_IMG_CORE, &img, &err) < 0)
		abort();
	struct cr_rec r;
	cr_rec_init(&r, 1);
	cr_put_u8(&r, 7);
	cr_put_u32(&r, 0xdeadbeef);
	cr_put_u64(&r, 1ull << 40);
	cr_put_i64(&r, -5);
	cr_put_str(&r, "abc");
	cr_put_bytes(&r, "\x01\x00\x03", 3);
	cr_put_str(&r, NULL);
	int ret = cr_img_write(img, &r, &err);
	cr_rec_free(&r);
	cr_rec_init(&r, 2);
	cr_put_u64(&r, 42);
	ret |= cr_img_write(img, &r, &err);
	cr_rec_free(&r);
	cr_rec_init(&r, 3); /* empty payload */
	ret |= cr_img_write(img, &r, &err);
	if (ret < 0 || cr_img_close(img, &err) < 0)
		abort();
}

static int read_sample_rec0(struct cr_img *img, struct rt_err **err)
{
	struct cr_rd r;
	uint8_t u8;
	uint32_t u32;
	uint64_t u64;
	int64_t i64;
	const void *p;
	size_t n;
	cleanup_free char *s = NULL, *snull = NULL;
	if (cr_img_expect(img, 1, &r, err) < 0 ||
	    cr_get_u8(&r, "u8", &u8, err) < 0 ||
	    cr_get_u32(&r, "u32", &u32, err) < 0 ||
	    cr_get_u64(&r, "u64", &u64, err) < 0 ||
	    cr_get_i64(&r, "i64", &i64, err) < 0 ||
	    cr_get_str(&r, "s", &s, 16, err) < 0 ||
	    cr_get_bytes(&r, "b", &p, &n, 16, err) < 0 ||
	    cr_get_str(&r, "snull", &snull, 16, err) < 0 || cr_rd_done(&r, err) < 0)
		return -1;
	if (u8 != 7 || u32 != 0xdeadbeef || u64 != 1ull << 40 || i64 != -5 ||
	    strcmp(s, "abc") != 0 || n != 3 || memcmp(p, "\x01\x00\x03", 3) != 0 ||
	    snull != NULL)
		return -2;
	return 0;
}

/* -1 with *err on a detected problem, -2 for wrong values read without
 * error (damage that got through), 0 when all is as written. */
static int read_sample(const char *name, struct rt_err **err)
{
	cleanup_img struct cr_img *img = NULL;
	if (cr_img_open(dirfd_, name, CR_IMG_CORE, &img, err) < 0)
		return -1;
	int ret = read_sample_rec0(img, err);
	if (ret < 0)
		return ret;
	struct cr_rd r;
	uint64_t v;
	if (cr_img_expect(img, 2, &r, err) < 0 || cr_get_u64(&r, "v", &v, err) < 0 ||
	    cr_rd_done(&r, err) < 0 || cr_img_expect(img, 3, &r, err) < 0 ||
	    cr_rd_done(&r, err) < 0)
		return -1;
	if (v != 42)
		return -2;
	ret = cr_img_next(img, &r, err);
	return ret < 0 ? -1 : ret == 0 ? 0 : -2;
}

/* Write a record file of `kind` holding records of the given types, each
 * with payload u32 index. */
static void write_types(const char *name, enum cr_img_kind kind,
			const uint32_t *types, size_t n)
{
	cleanup_err struct rt_err *err = NULL;
	struct cr_img *img;
	if (cr_img_create(dirfd_, name, kind, &img, &err) < 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct cr_rec r;
		cr_rec_init(&r, types[i]);
		cr_put_u32(&r, (uint32_t)i);
		int ret = cr_img_write(img, &r, &err);
		cr_rec_free(&r);
		if (ret < 0)
			abort();
	}
	if (cr_img_close(img, &err) < 0)
		abort();
}

/* Open name as kind and return the error message of the open. */
static char *open_msg(const char *name, enum cr_img_kind kind)
{
	struct rt_err *err = NULL;
	cleanup_img struct cr_img *img = NULL;
	if (cr_img_open(dirfd_, name, kind, &img, &err) == 0)
		return xstrdup("(opened)");
	return take_msg(&err);
}

/* Open as core and read records with next() to the end: the message of
 * the first error, or "(ok)". */
static char *read_all_msg(const char *name)
{
	struct rt_err *err = NULL;
	cleanup_img struct cr_img *img = NULL;
	if (cr_img_open(dirfd_, name, CR_IMG_CORE, &img, &err) < 0)
		return take_msg(&err);
	struct cr_rd r;
	int ret;
	while ((ret = cr_img_next(img, &r, &err)) == 1)
		;
	return ret == 0 ? xstrdup("(ok)") : take_msg(&err);
}

/* A hand-made record file: the header and then raw record bytes. */
static void put_crafted(const char *name, uint32_t version, uint32_t kind,
			const void *recs, size_t n)
{
	uint8_t *d = xcalloc(1, CR_IMG_HEADER_SIZE + n);
	memcpy(d, CR_IMG_MAGIC, 8);
	for (int i = 0; i < 4; i++) {
		d[8 + i] = (uint8_t)(version >> (8 * i));
		d[12 + i] = (uint8_t)(kind >> (8 * i));
	}
	if (n)
		memcpy(d + CR_IMG_HEADER_SIZE, recs, n);
	put_file(name, d, CR_IMG_HEADER_SIZE + n);
	free(d);
}

/* Raw record bytes: type, len, payload, crc (computed unless bad). */
static size_t craft_rec(uint8_t *out, uint32_t type, uint32_t len,
			const void *payload, size_t plen, bool crc)
{
	for (int i = 0; i < 4; i++) {
		out[i] = (uint8_t)(type >> (8 * i));
		out[4 + i] = (uint8_t)(len >> (8 * i));
	}
	memcpy(out + 8, payload, plen);
	uint32_t c = crc ? cr_crc32c(0, out, 8 + plen) : 0;
	for (int i = 0; i < 4; i++)
		out[8 + plen + i] = (uint8_t)(c >> (8 * i));
	return 12 + plen;
}

/* ---- crc32c ------------------------------------------------------------ */

static void test_crc32c(void)
{
	static const struct {
		const char *what;
		uint8_t data[32];
		size_t n;
		uint32_t crc;
	} v[] = { /* RFC 3720 B.4 and the classic check value */
		{ "\"123456789\"", "123456789", 9, 0xe3069283 },
		{ "empty", "", 0, 0 },
		{ "32 zeros", { 0 }, 32, 0x8a9136aa },
	};
	uint8_t ones[32], inc[32], dec[32];
	for (int i = 0; i < 32; i++)
		ones[i] = 0xff, inc[i] = (uint8_t)i, dec[i] = (uint8_t)(31 - i);

	printf("# cr_crc32c uses %s\n", cr_crc32c_impl());
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		TAP_OK(cr_crc32c(0, v[i].data, v[i].n) == v[i].crc,
		       "crc32c(%s) = %#x", v[i].what, v[i].crc);
		TAP_OK(cr_crc32c_sw(0, v[i].data, v[i].n) == v[i].crc,
		       "crc32c_sw(%s) = %#x", v[i].what, v[i].crc);
	}
	TAP_OK(cr_crc32c(0, ones, 32) == 0x62a8ab43 &&
		       cr_crc32c_sw(0, ones, 32) == 0x62a8ab43,
	       "crc32c(32 x 0xff), both paths");
	TAP_OK(cr_crc32c(0, inc, 32) == 0x46dd794e &&
		       cr_crc32c_sw(0, inc, 32) == 0x46dd794e,
	       "crc32c(0..31), both paths");
	TAP_OK(cr_crc32c(0, dec, 32) == 0x113fdb5c &&
		       cr_crc32c_sw(0, dec, 32) == 0x113fdb5c,
	       "crc32c(31..0), both paths");

	/* every length and alignment, and chaining at every split */
	uint8_t buf[1100];
	fill(buf, sizeof(buf), 1);
	int bad = 0, badchain = 0;
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n + off <= 1024 + 64; n++)
			bad += cr_crc32c(0, buf + off, n) != cr_crc32c_sw(0, buf + off, n);
	uint32_t whole = cr_crc32c(0, buf, 300);
	for (size_t k = 0; k <= 300; k++) {
		badchain += cr_crc32c(cr_crc32c(0, buf, k), buf + k, 300 - k) != whole;
		badchain += cr_crc32c_sw(cr_crc32c_sw(0, buf, k), buf + k, 300 - k) != whole;
	}
	TAP_OK(bad == 0, "crc32c: both paths agree on every length 0..1088 at 8 alignments");
	TAP_OK(badchain == 0, "crc32c: chaining gives the one-shot value at every split");
}

/* ---- round trips ------------------------------------------------------- */

static void test_fields(void)
{
	cleanup_err struct rt_err *err = NULL;
	struct cr_img *img;
	TAP_OK(cr_img_create(dirfd_, "fields.img", CR_IMG_MM, &img, &err) == 0,
	       "create a record file");
	uint8_t bin[1000];
	fill(bin, sizeof(bin), 7);
	struct cr_rec r;
	cr_rec_init(&r, 5);
	cr_put_u8(&r, 0);
	cr_put_u8(&r, 255);
	cr_put_u32(&r, 0);
	cr_put_u32(&r, UINT32_MAX);
	cr_put_u64(&r, UINT64_MAX);
	cr_put_u64(&r, 0x0102030405060708ull);
	cr_put_i64(&r, INT64_MIN);
	cr_put_i64(&r, -1);
	cr_put_i64(&r, INT64_MAX);
	cr_put_bytes(&r, NULL, 0);
	cr_put_bytes(&r, bin, sizeof(bin));
	cr_put_str(&r, NULL);
	cr_put_str(&r, "");
	cr_put_str(&r, "h\xc3\xa9llo");
	TAP_OK(cr_img_write(img, &r, &err) == 0, "write a record with every field type");
	cr_rec_free(&r);
	TAP_OK(cr_img_close(img, &err) == 0, "close");

	/* the encoding is little-endian and does not depend on the host */
	size_t flen;
	cleanup_free uint8_t *raw = get_file("fields.img", &flen);
	const uint8_t *pl = raw + CR_IMG_HEADER_SIZE + 8;
	TAP_OK(memcmp(pl + 2 + 8 + 8, "\x08\x07\x06\x05\x04\x03\x02\x01", 8) == 0,
	       "u64 is stored little-endian");

	cleanup_img struct cr_img *rd = NULL;
	TAP_OK(cr_img_open(dirfd_, "fields.img", CR_IMG_MM, &rd, &err) == 0,
	       "open it");
	struct cr_rd d;
	TAP_OK(cr_img_next(rd, &d, &err) == 1 && d.type == 5 && d.index == 0,
	       "next: record 0, type 5");
	uint8_t a8 = 1, b8 = 0;
	uint32_t a32 = 1, b32 = 0;
	uint64_t a64 = 0, b64 = 0;
	int64_t i1 = 0, i2 = 0, i3 = 0;
	const void *p1 = NULL, *p2 = NULL;
	size_t n1 = 1, n2 = 0;
	cleanup_free char *s1 = NULL, *s2 = NULL, *s3 = NULL;
	int ok = cr_get_u8(&d, "a8", &a8, &err) == 0 &&
		 cr_get_u8(&d, "b8", &b8, &err) == 0 &&
		 cr_get_u32(&d, "a32", &a32, &err) == 0 &&
		 cr_get_u32(&d, "b32", &b32, &err) == 0 &&
		 cr_get_u64(&d, "a64", &a64, &err) == 0 &&
		 cr_get_u64(&d, "b64", &b64, &err) == 0 &&
		 cr_get_i64(&d, "i1", &i1, &err) == 0 &&
		 cr_get_i64(&d, "i2", &i2, &err) == 0 &&
		 cr_get_i64(&d, "i3", &i3, &err) == 0 &&
		 cr_get_bytes(&d, "p1", &p1, &n1, 0, &err) == 0 &&
		 cr_get_bytes(&d, "p2", &p2, &n2, 1000, &err) == 0 &&
		 cr_get_str(&d, "s1", &s1, 0, &err) == 0 &&
		 cr_get_str(&d, "s2", &s2, 0, &err) == 0 &&
		 cr_get_str(&d, "s3", &s3, 6, &err) == 0;
	TAP_OK(ok, "read every field back");
	TAP_OK(a8 == 0 && b8 == 255, "u8 0 and 255");
	TAP_OK(a32 == 0 && b32 == UINT32_MAX, "u32 0 and max");
	TAP_OK(a64 == UINT64_MAX && b64 == 0x0102030405060708ull, "u64 max and a pattern");
	TAP_OK(i1 == INT64_MIN && i2 == -1 && i3 == INT64_MAX, "i64 min, -1, max");
	TAP_OK(n1 == 0 && n2 == 1000 && memcmp(p2, bin, 1000) == 0,
	       "bytes: empty and 1000 binary bytes");
	TAP_OK(s1 == NULL, "str NULL comes back NULL");
	TAP_STREQ(s2, "", "str \"\" comes back empty, not NULL");
	TAP_STREQ(s3, "h\xc3\xa9llo", "str UTF-8");
	TAP_OK(cr_rd_done(&d, &err) == 0, "every field consumed");
	TAP_OK(cr_img_next(rd, &d, &err) == 0 && err == NULL, "then a clean end");
	TAP_OK(cr_img_next(rd, &d, &err) == 0, "and the end stays");
}

/* Many records of random sizes straddle the reader's buffer; a big one
 * goes around the writer's buffer. */
static void test_many_records(void)
{
	cleanup_err struct rt_err *err = NULL;
	struct cr_img *img;
	enum { N = 3000 };
	static uint8_t big[3 << 20];
	fill(big, sizeof(big), 99);
	size_t sizes[N];
	int ret = cr_img_create(dirfd_, "many.img", CR_IMG_FILE_DATA, &img, &err);
	for (size_t i = 0; i < N && ret == 0; i++) {
		sizes[i] = i == 1000 ? sizeof(big) : rng() % 4000;
		struct cr_rec r;
		cr_rec_init(&r, (uint32_t)(i % 7));
		cr_put_u64(&r, i);
		cr_put_bytes(&r, big + i, sizes[i] - (i == 1000 ? 1000 : 0));
		ret = cr_img_write(img, &r, &err);
		cr_rec_free(&r);
	}
	TAP_OK(ret == 0 && cr_img_close(img, &err) == 0,
	       "write %d records of 0..4000 bytes and one of 3 MiB", N);

	cleanup_img struct cr_img *rd = NULL;
	ret = cr_img_open(dirfd_, "many.img", CR_IMG_FILE_DATA, &rd, &err);
	size_t good = 0;
	struct cr_rd d;
	for (size_t i = 0; i < N && ret == 0; i++) {
		uint64_t idx;
		const void *p;
		size_t n, want = sizes[i] - (i == 1000 ? 1000 : 0);
		if (cr_img_expect(rd, (uint32_t)(i % 7), &d, &err) < 0 ||
		    cr_get_u64(&d, "idx", &idx, &err) < 0 ||
		    cr_get_bytes(&d, "data", &p, &n, SIZE_MAX, &err) < 0 ||
		    cr_rd_done(&d, &err) < 0)
			break;
		good += idx == i && d.index == i && n == want &&
			memcmp(p, big + i, n) == 0;
	}
	TAP_OK(good == N, "read all %d back in order (%zu right)", N, good);
	TAP_OK(cr_img_next(rd, &d, &err) == 0, "then the end");
	if (err)
		printf("#   %s\n", err->msg);
}

/* The largest record allowed goes through; one byte more is refused. */
static void test_record_limit(void)
{
	cleanup_err struct rt_err *err = NULL;
	size_t big = CR_IMG_MAX_RECORD;
	uint8_t *p = mmap(NULL, big + 1, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		abort();
	struct cr_img *img;
	int ret = cr_img_create(dirfd_, "limit.img", CR_IMG_FILE_DATA, &img, &err);
	struct cr_rec r;
	cr_rec_init(&r, 1);
	cr_put_bytes(&r, p, big - 4);
	TAP_OK(r.len == big, "a record of exactly CR_IMG_MAX_RECORD bytes");
	ret |= cr_img_write(img, &r, &err);
	cr_put_u8(&r, 0);
	TAP_OK(r.len > big && cr_img_write(img, &r, &err) < 0,
	       "one byte more is refused: %s", err ? err->msg : "");
	rt_err_free(steal_pointer(&err));
	cr_rec_free(&r);
	cr_rec_init(&r, 1);
	cr_put_bytes(&r, p, big + 1);
	TAP_OK(r.len > big && r.buf == NULL, "an oversized put copies nothing");
	TAP_OK(cr_img_write(img, &r, &err) < 0, "and is refused");
	rt_err_free(steal_pointer(&err));
	cr_rec_free(&r);
	cr_rec_init(&r, CR_IMG_REC_END);
	TAP_OK(cr_img_write(img, &r, &err) < 0, "the end record type is reserved");
	rt_err_free(steal_pointer(&err));
	TAP_OK(ret == 0 && cr_img_close(img, &err) == 0, "close the file");

	cleanup_img struct cr_img *rd = NULL;
	struct cr_rd d;
	const void *q;
	size_t n = 0;
	TAP_OK(cr_img_open(dirfd_, "limit.img", CR_IMG_FILE_DATA, &rd, &err) == 0 &&
		       cr_img_next(rd, &d, &err) == 1 &&
		       cr_get_bytes(&d, "b", &q, &n, SIZE_MAX, &err) == 0 &&
		       n == big - 4 && memcmp(q, p, n) == 0 &&
		       cr_img_next(rd, &d, &err) == 0,
	       "the largest record reads back");
	munmap(p, big + 1);
}

/* ---- reader errors ----------------------------------------------------- */

static void test_messages(void)
{
	static const uint32_t two[] = { 2, 2, 2, 2, 2 };
	write_types("mm-42.img", CR_IMG_MM, two, 5);
	cleanup_err struct rt_err *err = NULL;
	cleanup_free char *m1 = NULL, *m2 = NULL, *m3 = NULL, *m4 = NULL,
			  *m5 = NULL, *m6 = NULL;

	/* record 3 has payload u32 3: asking for a u64 runs over */
	cleanup_img struct cr_img *img = NULL;
	struct cr_rd r;
	uint64_t v;
	int ret = cr_img_open(dirfd_, "mm-42.img", CR_IMG_MM, &img, &err);
	for (int i = 0; i < 4 && ret == 0; i++)
		ret = cr_img_expect(img, 2, &r, &err);
	TAP_OK(ret == 0 && cr_get_u64(&r, "vma.start", &v, &err) < 0 && r.off == 0,
	       "reading past the payload fails and consumes nothing");
	m1 = take_msg(&err);
	TAP_STREQ(m1, "'mm-42.img': record 3 (type 2): field 'vma.start' truncated",
		  "get_ names file, record, type and field");
	uint8_t b;
	TAP_OK(cr_get_u8(&r, "x", &b, &err) == 0 && cr_rd_done(&r, &err) < 0,
	       "one field read, three bytes left");
	m2 = take_msg(&err);
	TAP_STREQ(m2, "'mm-42.img': record 3 (type 2): 3 trailing bytes (written by a newer ferry?)",
		  "cr_rd_done refuses trailing bytes");
	TAP_OK(cr_img_expect(img, 9, &r, &err) < 0, "expect() of the wrong type fails");
	m3 = take_msg(&err);
	TAP_STREQ(m3, "'mm-42.img': record 4: type 2, expected type 9",
		  "expect() names what it found and wanted");
	cr_img_closep(&img);

	ret = cr_img_open(dirfd_, "mm-42.img", CR_IMG_MM, &img, &err);
	for (int i = 0; i < 5 && ret == 0; i++)
		ret = cr_img_expect(img, 2, &r, &err);
	TAP_OK(ret == 0 && cr_img_expect(img, 2, &r, &err) < 0, "expect() at the end fails");
	m4 = take_msg(&err);
	TAP_STREQ(m4, "'mm-42.img': record 5: end of file, expected type 2",
		  "expect() at the end says so");
	cr_img_closep(&img);

	cleanup_free char *m9 = NULL;
	ret = cr_img_open(dirfd_, "mm-42.img", CR_IMG_MM, &img, &err);
	for (int i = 0; i < 5 && ret == 0; i++)
		ret = cr_img_expect(img, 2, &r, &err);
	TAP_OK(ret == 0 && cr_img_end(img, &err) == 0, "cr_img_end() after the last record");
	cr_img_closep(&img);
	ret = cr_img_open(dirfd_, "mm-42.img", CR_IMG_MM, &img, &err);
	for (int i = 0; i < 4 && ret == 0; i++)
		ret = cr_img_expect(img, 2, &r, &err);
	TAP_OK(ret == 0 && cr_img_end(img, &err) < 0, "cr_img_end() with a record left fails");
	m9 = take_msg(&err);
	TAP_STREQ(m9, "'mm-42.img': record 4: type 2 where the file should end",
		  "and names the record");
	cr_img_closep(&img);

	/* flip a payload byte of record 3: each record is 8 + 4 + 4 bytes */
	size_t len;
	cleanup_free uint8_t *d = get_file("mm-42.img", &len);
	d[CR_IMG_HEADER_SIZE + 3 * 16 + 8] ^= 0x10;
	put_file("mm-42.img", d, len);
	ret = cr_img_open(dirfd_, "mm-42.img", CR_IMG_MM, &img, &err);
	for (int i = 0; i < 3 && ret == 0; i++)
		ret = cr_img_expect(img, 2, &r, &err);
	TAP_OK(ret == 0 && cr_img_next(img, &r, &err) < 0, "a damaged record is refused");
	m5 = take_msg(&err);
	TAP_STREQ(m5, "'mm-42.img': record 3 (type 2): checksum mismatch",
		  "checksum mismatch names file, record and type");
	TAP_OK(cr_img_next(img, &r, &err) < 0, "and the reader stays failed");
	m6 = take_msg(&err);
	TAP_STREQ(m6, "'mm-42.img': unreadable after an earlier error", "with a message");
}

/* Strings: embedded NUL, longer than max. */
static void test_strings(void)
{
	cleanup_err struct rt_err *err = NULL;
	cleanup_free char *s = NULL, *m7 = NULL, *m8 = NULL;
	cleanup_img struct cr_img *img = NULL;
	struct cr_img *wi;
	struct cr_rd r;
	struct cr_rec w;
	const void *p;
	size_t n;
	cr_rec_init(&w, 1);
	cr_put_bytes(&w, "a\0b", 3);
	cr_put_str(&w, "abcdef");
	int ret = cr_img_create(dirfd_, "str.img", CR_IMG_FILES, &wi, &err);
	ret |= cr_img_write(wi, &w, &err);
	ret |= cr_img_close(wi, &err);
	cr_rec_free(&w);
	ret |= cr_img_open(dirfd_, "str.img", CR_IMG_FILES, &img, &err);
	TAP_OK(ret == 0 && cr_img_next(img, &r, &err) == 1, "write and read a record of strings");
	TAP_OK(cr_get_str(&r, "path", &s, 100, &err) < 0 && s == NULL && r.off == 0,
	       "a string with an embedded NUL is refused");
	m7 = take_msg(&err);
	TAP_STREQ(m7, "'str.img': record 0 (type 1): field 'path' contains a NUL byte",
		  "and the message says so");
	TAP_OK(cr_get_bytes(&r, "raw", &p, &n, 3, &err) == 0 && n == 3,
	       "the same field reads as bytes");
	TAP_OK(cr_get_str(&r, "name", &s, 5, &err) < 0, "a string longer than max is refused");
	m8 = take_msg(&err);
	TAP_STREQ(m8, "'str.img': record 0 (type 1): field 'name' is 6 bytes, at most 5 allowed",
		  "and the message gives both sizes");
	TAP_OK(cr_get_str(&r, "name", &s, 6, &err) == 0 && strcmp(s, "abcdef") == 0,
	       "at max it is read");
}

static void test_header_errors(void)
{
	cleanup_free char *m1 = NULL, *m2 = NULL, *m3 = NULL, *m4 = NULL,
			  *m5 = NULL, *m6 = NULL, *m7 = NULL;
	put_file("core-42.img", "NOTFERRY and some more bytes here......", 40);
	m1 = open_msg("core-42.img", CR_IMG_CORE);
	TAP_STREQ(m1, "'core-42.img': not a ferry image (bad magic)", "wrong magic");

	put_crafted("core-42.img", 7, CR_IMG_CORE, NULL, 0);
	m2 = open_msg("core-42.img", CR_IMG_CORE);
	TAP_STREQ(m2, "'core-42.img': image format version 7, this ferry reads 1",
		  "wrong version");

	put_crafted("core-42.img", 1, CR_IMG_PAGEMAP, NULL, 0);
	m3 = open_msg("core-42.img", CR_IMG_CORE);
	TAP_STREQ(m3, "'core-42.img': holds pagemap records, expected core", "wrong kind");

	put_crafted("core-42.img", 1, 77, NULL, 0);
	m4 = open_msg("core-42.img", CR_IMG_CORE);
	TAP_STREQ(m4, "'core-42.img': holds records of unknown kind 77, expected core",
		  "unknown kind");

	put_file("core-42.img", "FERRYIMG\x01\0\0\0", 12);
	m5 = open_msg("core-42.img", CR_IMG_CORE);
	TAP_STREQ(m5, "'core-42.img': truncated header (12 of 32 bytes)", "short header");

	put_file("core-42.img", "", 0);
	m6 = open_msg("core-42.img", CR_IMG_CORE);
	TAP_STREQ(m6, "'core-42.img': truncated header (0 of 32 bytes)", "empty file");

	uint8_t h[CR_IMG_HEADER_SIZE] = "FERRYIMG\x01\0\0\0\x03\0\0\0";
	h[20] = 1;
	put_file("core-42.img", h, sizeof(h));
	m7 = open_msg("core-42.img", CR_IMG_CORE);
	TAP_STREQ(m7, "'core-42.img': reserved header fields are not zero", "reserved fields");

	cleanup_free char *m8 = NULL, *m9 = NULL;
	TAP_OK(mkfifoat(dirfd_, "fifo.img", 0600) == 0 || errno == EEXIST, "a FIFO named like an image");
	alarm(20); /* a FIFO must not block the open */
	m8 = open_msg("fifo.img", CR_IMG_CORE);
	alarm(0);
	TAP_STREQ(m8, "'fifo.img': not a regular file", "is refused without blocking");
	m9 = open_msg("nonexistent.img", CR_IMG_CORE);
	TAP_STREQ(m9, "open 'nonexistent.img': No such file or directory", "missing file");
}

static void test_framing_errors(void)
{
	uint8_t recs[256], payload[16] = { 0 };
	size_t n;
	cleanup_free char *m1 = NULL, *m2 = NULL, *m3 = NULL, *m4 = NULL,
			  *m5 = NULL, *m6 = NULL, *m7 = NULL, *m8 = NULL;

	/* a length of 4 GiB - 1 in a tiny file: refused before any allocation */
	struct mallinfo2 before = mallinfo2();
	n = craft_rec(recs, 4, UINT32_MAX, payload, 4, true);
	put_crafted("core-1.img", 1, CR_IMG_CORE, recs, n);
	m1 = read_all_msg("core-1.img");
	struct mallinfo2 after = mallinfo2();
	TAP_STREQ(m1, "'core-1.img': record 0 (type 4): length 4294967295 exceeds the limit of 67108864 bytes",
		  "oversize length");
	TAP_OK(after.hblkhd <= before.hblkhd + (1 << 20),
	       "no large allocation for it (%zu -> %zu mmapped bytes)",
	       before.hblkhd, after.hblkhd);

	n = craft_rec(recs, 4, CR_IMG_MAX_RECORD, payload, 4, true);
	put_crafted("core-1.img", 1, CR_IMG_CORE, recs, n);
	m2 = read_all_msg("core-1.img");
	TAP_STREQ(m2, "'core-1.img': record 0 (type 4): truncated payload (length 67108864, 8 bytes left)",
		  "length within the limit but beyond the file");

	n = craft_rec(recs, 4, 4, payload, 4, true);
	put_crafted("core-1.img", 1, CR_IMG_CORE, recs, n - 2);
	m3 = read_all_msg("core-1.img");
	TAP_STREQ(m3, "'core-1.img': record 0 (type 4): truncated checksum", "cut checksum");

	put_crafted("core-1.img", 1, CR_IMG_CORE, recs, 5);
	m4 = read_all_msg("core-1.img");
	TAP_STREQ(m4, "'core-1.img': record 0: truncated header (5 of 8 bytes)", "cut record header");

	put_crafted("core-1.img", 1, CR_IMG_CORE, recs, n);
	m5 = read_all_msg("core-1.img");
	TAP_STREQ(m5, "'core-1.img': record 1: truncated file (no end record)",
		  "a file cut at a record boundary");

	/* an end record with a valid checksum but the wrong count */
	uint8_t count[8] = { 5 };
	n += craft_rec(recs + n, CR_IMG_REC_END, 8, count, 8, true);
	put_crafted("core-1.img", 1, CR_IMG_CORE, recs, n);
	m6 = read_all_msg("core-1.img");
	TAP_STREQ(m6, "'core-1.img': record 1 (type 4294967295): end record counts 5 records, found 1",
		  "end record with the wrong count");

	count[0] = 1;
	n = craft_rec(recs, 4, 4, payload, 4, true);
	n += craft_rec(recs + n, CR_IMG_REC_END, 8, count, 8, true);
	put_crafted("core-1.img", 1, CR_IMG_CORE, recs, n);
	cleanup_free char *ok = read_all_msg("core-1.img");
	TAP_STREQ(ok, "(ok)", "a hand-made file reads");
	memcpy(recs + n, "junk", 4);
	put_crafted("core-1.img", 1, CR_IMG_CORE, recs, n + 4);
	m7 = read_all_msg("core-1.img");
	TAP_STREQ(m7, "'core-1.img': 4 bytes after the end record", "bytes after the end record");

	/* an aborted writer leaves a file that is refused */
	cleanup_err struct rt_err *err = NULL;
	struct cr_img *img;
	struct cr_rec r;
	cr_rec_init(&r, 1);
	cr_put_bytes(&r, recs, sizeof(recs));
	int ret = cr_img_create(dirfd_, "aborted.img", CR_IMG_CORE, &img, &err);
	for (int i = 0; i < 2000 && ret == 0; i++) /* more than is buffered */
		ret = cr_img_write(img, &r, &err);
	TAP_OK(ret == 0, "write 2000 records and abort");
	cr_rec_free(&r);
	cr_img_abort(img);
	m8 = read_all_msg("aborted.img");
	TAP_OK(strncmp(m8, "'aborted.img': record ", 22) == 0,
	       "an aborted file is not mistaken for a complete one: %s", m8);
}

/* Truncation at every byte and every single-bit flip of a small file:
 * each must be reported as an error, never read as valid data. */
static void test_damage(void)
{
	cleanup_err struct rt_err *err = NULL;
	write_sample("sample.img");
	TAP_OK(read_sample("sample.img", &err) == 0, "the undamaged sample reads");
	size_t len;
	cleanup_free uint8_t *d = get_file("sample.img", &len);

	int cut_ok = 0, cut_named = 0;
	for (size_t k = 0; k < len; k++) {
		put_file("cut.img", d, k);
		int ret = read_sample("cut.img", &err);
		cleanup_free char *m = take_msg(&err);
		cut_ok += ret == -1;
		cut_named += strstr(m, "'cut.img'") != NULL;
	}
	TAP_OK(cut_ok == (int)len && cut_named == (int)len,
	       "truncation at each of %zu offsets: an error naming the file", len);

	int flip_ok = 0, flip_named = 0;
	for (size_t bit = 0; bit < len * 8; bit++) {
		d[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		put_file("flip.img", d, len);
		d[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int ret = read_sample("flip.img", &err);
		cleanup_free char *m = take_msg(&err);
		flip_ok += ret == -1;
		flip_named += strstr(m, "'flip.img'") != NULL;
		if (ret != -1)
			printf("#   bit %zu: %s\n", bit, ret == 0 ? "not detected" : "wrong values");
	}
	TAP_OK(flip_ok == (int)len * 8 && flip_named == (int)len * 8,
	       "each of %zu single-bit flips: an error naming the file", len * 8);
}

/* ---- page files -------------------------------------------------------- */

static void test_pages(void)
{
	cleanup_err struct rt_err *err = NULL;
	enum { PG = CR_IMG_PAGE_SIZE, NP = 1 + 3 + 40 + 100 + 2 };
	static uint8_t data[NP * PG];
	fill(data, sizeof(data), 3);
	struct cr_img *img;
	int ret = cr_img_create(dirfd_, "pages-42.img", CR_IMG_PAGES, &img, &err);
	static const size_t runs[] = { 1, 3, 40, 100, 1, 1 };
	size_t at = 0;
	for (size_t i = 0; i < ARRAY_SIZE(runs) && ret == 0; i++) {
		ret = cr_img_write_raw(img, data + at, runs[i] * PG, &err);
		at += runs[i] * PG;
	}
	TAP_OK(ret == 0, "write runs of 1, 3, 40, 100, 1, 1 pages");
	struct cr_rec r;
	cr_rec_init(&r, 1);
	TAP_OK(cr_img_write(img, &r, &err) < 0, "a record in a pages file is refused");
	rt_err_free(steal_pointer(&err));
	TAP_OK(cr_img_close(img, &err) == 0, "close");

	size_t len;
	cleanup_free uint8_t *f = get_file("pages-42.img", &len);
	int zero = 1;
	for (size_t i = CR_IMG_HEADER_SIZE; i < PG; i++)
		zero &= f[i] == 0;
	TAP_OK(len == PG + sizeof(data), "file is one header page plus the data");
	TAP_OK(memcmp(f, CR_IMG_MAGIC, 8) == 0 && f[12] == CR_IMG_PAGES && zero,
	       "header, then zeros up to the first page boundary");
	TAP_OK(memcmp(f + PG, data, sizeof(data)) == 0, "data from offset 4096, in order");

	cleanup_img struct cr_img *rd = NULL;
	static uint8_t back[NP * PG];
	ret = cr_img_open(dirfd_, "pages-42.img", CR_IMG_PAGES, &rd, &err);
	for (size_t i = 0; i < NP && ret == 0; i++)
		ret = cr_img_read_raw(rd, (uint64_t)i * PG, back + i * PG, PG, &err);
	TAP_OK(ret == 0 && memcmp(back, data, sizeof(data)) == 0,
	       "read_raw gives every page back");
	TAP_OK(cr_img_read_raw(rd, 5 * PG, back, 100 * PG, &err) == 0 &&
		       memcmp(back, data + 5 * PG, 100 * PG) == 0,
	       "and a long run in one call");
	uint8_t pg[PG];
	TAP_OK(pread(cr_img_fd(rd), pg, PG, PG + 7 * PG) == PG &&
		       memcmp(pg, data + 7 * PG, PG) == 0,
	       "cr_img_fd: page i at 4096 + i * 4096");
	TAP_OK(cr_img_read_raw(rd, (NP - 1) * PG, pg, PG + 1, &err) < 0,
	       "read_raw past the end: %s", err ? err->msg : "");
	rt_err_free(steal_pointer(&err));
	TAP_OK(cr_img_read_raw(rd, UINT64_MAX - 10, pg, 100, &err) < 0,
	       "read_raw at an offset near 2^64 fails cleanly");
	rt_err_free(steal_pointer(&err));
	struct cr_rd d;
	TAP_OK(cr_img_next(rd, &d, &err) < 0, "next() on a pages file fails");
}

static void test_pages_errors(void)
{
	enum { PG = CR_IMG_PAGE_SIZE };
	cleanup_err struct rt_err *err = NULL;
	struct cr_img *img;
	uint8_t data[PG] = { 0 };
	size_t len;
	cleanup_free uint8_t *f = get_file("pages-42.img", &len);
	cleanup_free char *m1 = NULL, *m2 = NULL;
	put_file("pages-1.img", f, PG + 100);
	m1 = open_msg("pages-1.img", CR_IMG_PAGES);
	TAP_STREQ(m1, "'pages-1.img': truncated: 100 bytes after the last whole page",
		  "a pages file cut inside a page");
	f[100] = 1;
	put_file("pages-1.img", f, PG);
	m2 = open_msg("pages-1.img", CR_IMG_PAGES);
	TAP_STREQ(m2, "'pages-1.img': header padding is not zero", "dirt in the padding");
	int cut_ok = 0;
	for (size_t k = 0; k < PG; k++) {
		put_file("pages-1.img", f, k);
		cleanup_free char *m = open_msg("pages-1.img", CR_IMG_PAGES);
		cut_ok += strncmp(m, "'pages-1.img': ", 15) == 0;
	}
	TAP_OK(cut_ok == PG, "a pages header cut at each of 4096 offsets is refused");

	int ret = cr_img_create(dirfd_, "pages-2.img", CR_IMG_PAGES, &img, &err);
	TAP_OK(ret == 0 && cr_img_write_raw(img, data, 100, &err) == 0 &&
		       cr_img_close(img, &err) < 0,
	       "closing a pages file that ends inside a page fails: %s",
	       err ? err->msg : "");
	rt_err_free(steal_pointer(&err));
	ret = cr_img_create(dirfd_, "core-2.img", CR_IMG_CORE, &img, &err);
	TAP_OK(ret == 0 && cr_img_write_raw(img, data, PG, &err) < 0,
	       "raw data in a record file is refused");
	cr_img_abort(img);
}

static void test_create(void)
{
	cleanup_err struct rt_err *err = NULL;
	struct cr_img *img;
	TAP_OK(cr_img_create(dirfd_, "excl.img", CR_IMG_INVENTORY, &img, &err) == 0 &&
		       cr_img_close(img, &err) == 0,
	       "create and close an empty image");
	struct stat st;
	TAP_OK(fstatat(dirfd_, "excl.img", &st, 0) == 0 && (st.st_mode & 0777) == 0600,
	       "mode 0600");
	TAP_OK(cr_img_create(dirfd_, "excl.img", CR_IMG_INVENTORY, &img, &err) < 0 &&
		       err->code == EEXIST,
	       "creating it again is refused (O_EXCL)");
	TAP_STREQ(err ? err->msg : NULL, "create 'excl.img': File exists", "with a clear message");
	rt_err_free(steal_pointer(&err));
	cleanup_img struct cr_img *rd = NULL;
	struct cr_rd d;
	TAP_OK(cr_img_open(dirfd_, "excl.img", CR_IMG_INVENTORY, &rd, &err) == 0 &&
		       cr_img_next(rd, &d, &err) == 0,
	       "an empty image reads as no records");
	TAP_OK(cr_img_create(dirfd_, "k.img", CR_IMG_KINDS, &img, &err) < 0,
	       "an invalid kind is refused");
}

/* ---- fuzz corpus ------------------------------------------------------- */

/* From the source tree when run from it, else relative to the binary
 * (build/tests/test-image). */
static char *corpus_dir(void)
{
	char *dir = realpath("tests/fuzz/image", NULL);
	if (dir)
		return dir;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	cleanup_free char *p = xasprintf("%s/../../tests/fuzz/image", exe);
	return realpath(p, NULL);
}

static void test_corpus(const char *dir)
{
	if (dir == NULL) {
		TAP_SKIP("tests/fuzz/image not found", "replay the fuzz corpus");
		return;
	}
	int n = fuzz_image_replay(dir);
	TAP_OK(n > 0, "replayed %d fuzz corpus inputs from %s", n, dir);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	cleanup_free char *corpus = corpus_dir();
	cleanup_free char *dir = xasprintf("%s/ferry-test-image.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	dirfd_ = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	test_crc32c();
	test_fields();
	test_many_records();
	test_record_limit();
	test_messages();
	test_strings();
	test_header_errors();
	test_framing_errors();
	test_damage();
	test_pages();
	test_pages_errors();
	test_create();
	test_corpus(corpus);

	cleanup_err struct rt_err *err = NULL;
	close(dirfd_);
	if (rt_rm_rf(dir, &err) < 0)
		printf("# cleanup of %s failed\n", dir);
	return tap_done();
}
