/* Checkpoint image files: header, crc32c-framed records, raw page files.
 * The format is described in image.h.
 *
 * Writers buffer up to WBUF_SIZE bytes (the buffer starts small and grows,
 * so the many small files of a dump cost no big allocation) and issue one
 * write(2) per buffer; a run of at least WBUF_DIRECT bytes goes to the
 * kernel straight from the caller's memory (writev with whatever is
 * buffered), so page data is never copied in user space, and page data
 * that sits in a pipe is spliced into the file (cr_img_splice_raw).
 *
 * Readers of record files never map the file (a file shrinking under a
 * mapping would be SIGBUS): they pread into a buffer that holds at least
 * the current record. A record's length is checked against
 * CR_IMG_MAX_RECORD and against what is left of the file before the buffer
 * grows, so memory stays bounded by the largest genuine record. Files are
 * opened O_NONBLOCK and must be regular, so a FIFO planted in an image
 * directory cannot hang a restore. */
#include "coordinator/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util.h"

#define WBUF_SIZE (256u << 10)
#define WBUF_START (16u << 10) /* at least CR_IMG_PAGE_SIZE: the pages header */
#define WBUF_DIRECT (64u << 10)
#define RBUF_SIZE (64u << 10)
#define REC_HDR 8 /* u32 type | u32 length */
#define REC_CRC 4
#define STR_NULL 0xffffffffu /* length of a string put as NULL */

struct cr_img {
	int fd;
	char *name;
	enum cr_img_kind kind;
	bool writing;
	bool failed; /* an error happened: the image is unusable */
	bool at_end; /* reader: the end record was read */
	uint8_t *buf;
	size_t cap;
	size_t start, end; /* reader: unconsumed bytes; writer: end = used */
	uint64_t size;     /* reader: file size at open */
	uint64_t pos;      /* reader: file offset of buf[end] */
	uint64_t raw;      /* writer: raw bytes written to a pages file */
	size_t index;      /* next record number */
};

static const char *const kind_names[CR_IMG_KINDS] = {
	[CR_IMG_INVENTORY] = "inventory", [CR_IMG_PSTREE] = "pstree",
	[CR_IMG_CORE] = "core",           [CR_IMG_MM] = "mm",
	[CR_IMG_PAGEMAP] = "pagemap",     [CR_IMG_PAGES] = "pages",
	[CR_IMG_FILES] = "files",         [CR_IMG_FILE_DATA] = "file-data",
};

const char *cr_img_kind_name(enum cr_img_kind k)
{
	if ((int)k <= 0 || k >= CR_IMG_KINDS)
		return "unknown";
	return kind_names[k];
}

static bool kind_valid(uint32_t k)
{
	return k > 0 && k < CR_IMG_KINDS;
}

/* ---- little-endian encoding ------------------------------------------- */

static void le32_put(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void le64_put(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64_get(const uint8_t *p)
{
	return (uint64_t)le32_get(p) | (uint64_t)le32_get(p + 4) << 32;
}

/* ---- crc32c ------------------------------------------------------------ */

#define CRC32C_POLY 0x82f63b78u /* reflected Castagnoli polynomial */

static uint32_t crc_table[8][256];
static uint32_t (*crc_fn)(uint32_t, const uint8_t *, size_t);
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

/* Both paths work on the inverted state; cr_crc32c() does the inversion. */
static uint32_t crc32c_slice8(uint32_t c, const uint8_t *p, size_t n)
{
	uint32_t(*t)[256] = crc_table;
	for (; n >= 8; p += 8, n -= 8) {
		uint32_t lo = le32_get(p) ^ c, hi = le32_get(p + 4);
		c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^
		    t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
		    t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
		    t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
	}
	while (n--)
		c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const uint8_t *p, size_t n)
{
	uint64_t c = crc;
	for (; n > 0 && ((uintptr_t)p & 7) != 0; n--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	for (; n >= 8; p += 8, n -= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
	}
	for (; n > 0; n--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}
#endif

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc_table[0][i] = c;
	}
	for (int k = 1; k < 8; k++)
		for (int i = 0; i < 256; i++)
			crc_table[k][i] = (crc_table[k - 1][i] >> 8) ^
					  crc_table[0][crc_table[k - 1][i] & 0xff];
	crc_fn = crc32c_slice8;
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("sse4.2"))
		crc_fn = crc32c_sse42;
#endif
}

uint32_t cr_crc32c(uint32_t crc, const void *p, size_t n)
{
	pthread_once(&crc_once, crc_init);
	return ~crc_fn(~crc, p, n);
}

uint32_t cr_crc32c_sw(uint32_t crc, const void *p, size_t n)
{
	pthread_once(&crc_once, crc_init);
	return ~crc32c_slice8(~crc, p, n);
}

const char *cr_crc32c_impl(void)
{
	pthread_once(&crc_once, crc_init);
	return crc_fn == crc32c_slice8 ? "slicing-by-8" : "sse4.2";
}

/* ---- errors ------------------------------------------------------------ */

__attribute__((format(printf, 4, 5))) static int
img_err(const struct cr_img *img, struct rt_err **err, int code,
	const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	return rt_err_set(err, code, "'%s': %s", img->name, msg);
}

/* An error about record r (index and type known). */
__attribute__((format(printf, 3, 4))) static int
rec_err(const struct cr_rd *r, struct rt_err **err, const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	return rt_err_set(err, 0, "'%s': record %zu (type %u): %s",
			  r->img->name, r->index, r->type, msg);
}

/* ---- records under construction ---------------------------------------- */

void cr_rec_init(struct cr_rec *r, uint32_t type)
{
	*r = (struct cr_rec){ .type = type };
}

void cr_rec_free(struct cr_rec *r)
{
	free(r->buf);
	*r = (struct cr_rec){ .type = r->type };
}

/* Room for n more bytes, or NULL once the record is oversized. */
static uint8_t *rec_grow(struct cr_rec *r, size_t n)
{
	if (r->len > CR_IMG_MAX_RECORD || n > CR_IMG_MAX_RECORD - r->len) {
		r->len = (size_t)CR_IMG_MAX_RECORD + 1;
		return NULL;
	}
	if (r->len + n > r->cap) {
		size_t cap = r->cap ? r->cap : 256;
		while (cap < r->len + n)
			cap *= 2;
		r->buf = xrealloc(r->buf, cap);
		r->cap = cap;
	}
	uint8_t *p = r->buf + r->len;
	r->len += n;
	return p;
}

void cr_put_u8(struct cr_rec *r, uint8_t v)
{
	uint8_t *p = rec_grow(r, 1);
	if (p)
		*p = v;
}

void cr_put_u32(struct cr_rec *r, uint32_t v)
{
	uint8_t *p = rec_grow(r, 4);
	if (p)
		le32_put(p, v);
}

void cr_put_u64(struct cr_rec *r, uint64_t v)
{
	uint8_t *p = rec_grow(r, 8);
	if (p)
		le64_put(p, v);
}

void cr_put_i64(struct cr_rec *r, int64_t v)
{
	cr_put_u64(r, (uint64_t)v);
}

void cr_put_bytes(struct cr_rec *r, const void *p, size_t n)
{
	if (n > CR_IMG_MAX_RECORD) {
		r->len = (size_t)CR_IMG_MAX_RECORD + 1; /* oversized */
		return;
	}
	uint8_t *d = rec_grow(r, 4 + n);
	if (d == NULL)
		return;
	le32_put(d, (uint32_t)n);
	if (n)
		memcpy(d + 4, p, n);
}

void cr_put_str(struct cr_rec *r, const char *s)
{
	if (s == NULL)
		cr_put_u32(r, STR_NULL);
	else
		cr_put_bytes(r, s, strlen(s));
}

/* ---- writing ----------------------------------------------------------- */

/* Write the buffer, then p[0..n), in as few syscalls as the kernel allows. */
static int wr_flush_with(struct cr_img *img, const void *p, size_t n,
			 struct rt_err **err)
{
	struct iovec iov[2] = {
		{ .iov_base = img->buf, .iov_len = img->end },
		{ .iov_base = (void *)p, .iov_len = n },
	};
	struct iovec *v = iov;
	int cnt = 2;
	while (cnt > 0) {
		if (v->iov_len == 0) {
			v++, cnt--;
			continue;
		}
		ssize_t w = writev(img->fd, v, cnt);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			img->failed = true;
			return img_err(img, err, w < 0 ? errno : EIO, "write");
		}
		for (size_t done = (size_t)w; done > 0;) {
			size_t k = done < v->iov_len ? done : v->iov_len;
			v->iov_base = (uint8_t *)v->iov_base + k;
			v->iov_len -= k;
			done -= k;
			if (v->iov_len == 0)
				v++, cnt--;
		}
	}
	img->end = 0;
	return 0;
}

static int wr_append(struct cr_img *img, const void *p, size_t n, struct rt_err **err)
{
	if (n == 0)
		return 0;
	while (n < WBUF_DIRECT && n > img->cap - img->end && img->cap < WBUF_SIZE) {
		img->cap *= 2;
		img->buf = xrealloc(img->buf, img->cap);
	}
	if (n < WBUF_DIRECT && n <= img->cap - img->end) {
		memcpy(img->buf + img->end, p, n);
		img->end += n;
		return 0;
	}
	return wr_flush_with(img, p, n, err);
}

int cr_img_create(int dirfd, const char *name, enum cr_img_kind kind,
		  struct cr_img **out, struct rt_err **err)
{
	if (!kind_valid(kind))
		return rt_err_set(err, EINVAL, "create '%s': image kind %d",
				  name, (int)kind);
	int fd = openat(dirfd, name,
			O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return rt_err_set(err, errno, "create '%s'", name);

	struct cr_img *img = xcalloc(1, sizeof(*img));
	img->fd = fd;
	img->name = xstrdup(name);
	img->kind = kind;
	img->writing = true;
	img->cap = WBUF_START;
	img->buf = xmalloc(img->cap);

	/* header (and, for pages, its padding) goes out with the first flush */
	size_t hlen = kind == CR_IMG_PAGES ? CR_IMG_PAGE_SIZE : CR_IMG_HEADER_SIZE;
	memset(img->buf, 0, hlen);
	memcpy(img->buf, CR_IMG_MAGIC, 8);
	le32_put(img->buf + 8, CR_IMG_VERSION);
	le32_put(img->buf + 12, kind);
	img->end = hlen;
	*out = img;
	return 0;
}

static int wr_check(struct cr_img *img, bool raw, struct rt_err **err)
{
	if (!img->writing)
		return img_err(img, err, 0, "write to an image open for reading");
	if (img->failed)
		return img_err(img, err, 0, "write after an earlier error");
	if (raw && img->kind != CR_IMG_PAGES)
		return img_err(img, err, 0, "raw data in a %s file",
			       cr_img_kind_name(img->kind));
	if (!raw && img->kind == CR_IMG_PAGES)
		return img_err(img, err, 0, "a record in a pages file");
	return 0;
}

static int wr_record(struct cr_img *img, uint32_t type, const uint8_t *p,
		     size_t len, struct rt_err **err)
{
	uint8_t hdr[REC_HDR], crc[REC_CRC];
	le32_put(hdr, type);
	le32_put(hdr + 4, (uint32_t)len);
	le32_put(crc, cr_crc32c(cr_crc32c(0, hdr, sizeof(hdr)), p, len));
	if (wr_append(img, hdr, sizeof(hdr), err) < 0 ||
	    wr_append(img, p, len, err) < 0 ||
	    wr_append(img, crc, sizeof(crc), err) < 0)
		return -1;
	img->index++;
	return 0;
}

int cr_img_write(struct cr_img *img, const struct cr_rec *r, struct rt_err **err)
{
	if (wr_check(img, false, err) < 0)
		return -1;
	if (r->type == CR_IMG_REC_END)
		return img_err(img, err, 0, "record type %#x is reserved",
			       r->type);
	if (r->len > CR_IMG_MAX_RECORD)
		return img_err(img, err, 0,
			       "record %zu (type %u) is larger than %u bytes",
			       img->index, r->type, CR_IMG_MAX_RECORD);
	return wr_record(img, r->type, r->buf, r->len, err);
}

int cr_img_write_raw(struct cr_img *img, const void *p, size_t n,
		     struct rt_err **err)
{
	if (wr_check(img, true, err) < 0)
		return -1;
	if (n == 0)
		return 0;
	if (wr_append(img, p, n, err) < 0)
		return -1;
	img->raw += n;
	return 0;
}

int cr_img_splice_raw(struct cr_img *img, int pipe_fd, size_t n, struct rt_err **err)
{
	if (wr_check(img, true, err) < 0)
		return -1;
	if (img->end > 0 && wr_flush_with(img, NULL, 0, err) < 0)
		return -1;
	while (n > 0) {
		ssize_t k = splice(pipe_fd, NULL, img->fd, NULL, n, SPLICE_F_MOVE);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			img->failed = true;
			return img_err(img, err, k < 0 ? errno : EIO, "splice %zu bytes of pages",
				       n);
		}
		n -= (size_t)k;
		img->raw += (uint64_t)k;
	}
	return 0;
}

static void img_free(struct cr_img *img)
{
	if (img->fd >= 0)
		close(img->fd);
	free(img->buf);
	free(img->name);
	free(img);
}

int cr_img_close(struct cr_img *img, struct rt_err **err)
{
	if (!img->writing) {
		img_free(img);
		return 0;
	}
	int ret = 0;
	if (img->failed) {
		ret = img_err(img, err, 0, "not written completely");
	} else if (img->kind == CR_IMG_PAGES) {
		if (img->raw % CR_IMG_PAGE_SIZE != 0)
			ret = img_err(img, err, 0,
				      "%llu bytes of pages is not a whole number of pages",
				      (unsigned long long)img->raw);
	} else {
		uint8_t count[8];
		le64_put(count, img->index);
		ret = wr_record(img, CR_IMG_REC_END, count, sizeof(count), err);
	}
	if (ret == 0 && img->end > 0)
		ret = wr_flush_with(img, NULL, 0, err);
	int fd = steal_fd(&img->fd);
	if (close(fd) < 0 && ret == 0)
		ret = img_err(img, err, errno, "close");
	img_free(img);
	return ret;
}

void cr_img_abort(struct cr_img *img)
{
	if (img)
		img_free(img);
}

void cr_img_closep(struct cr_img **img)
{
	cr_img_abort(*img);
	*img = NULL;
}

int cr_img_fd(const struct cr_img *img)
{
	return img->fd;
}

const char *cr_img_name(const struct cr_img *img)
{
	return img->name;
}

/* ---- reading ----------------------------------------------------------- */

/* Bytes of the file not yet consumed. */
static uint64_t rd_left(const struct cr_img *img)
{
	return (img->size - img->pos) + (img->end - img->start);
}

/* Try to have `need` unconsumed bytes in the buffer; fewer only at the end
 * of the file. Callers bound need by rd_left() before calling. */
static int rd_fill(struct cr_img *img, size_t need, struct rt_err **err)
{
	size_t have = img->end - img->start;
	if (have >= need)
		return 0;
	memmove(img->buf, img->buf + img->start, have);
	img->start = 0;
	img->end = have;
	if (need > img->cap) {
		img->buf = xrealloc(img->buf, need);
		img->cap = need;
	}
	while (img->end < need && img->pos < img->size) {
		uint64_t room = img->cap - img->end, left = img->size - img->pos;
		size_t want = (size_t)(room < left ? room : left);
		ssize_t n = pread(img->fd, img->buf + img->end, want,
				  (off_t)img->pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			img->failed = true;
			return img_err(img, err, errno, "read");
		}
		if (n == 0) /* the file shrank: what is missing is truncated */
			img->size = img->pos;
		img->end += (size_t)n;
		img->pos += (uint64_t)n;
	}
	return 0;
}

static int open_regular(int dirfd, const char *name, uint64_t *size,
			struct rt_err **err)
{
	cleanup_close int fd = openat(dirfd, name,
				      O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return rt_err_set(err, errno, "open '%s'", name);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return rt_err_set(err, errno, "stat '%s'", name);
	if (!S_ISREG(st.st_mode))
		return rt_err_set(err, 0, "'%s': not a regular file", name);
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return rt_err_set(err, errno, "fcntl '%s'", name);
	*size = (uint64_t)st.st_size;
	return steal_fd(&fd);
}

static int check_header(const struct cr_img *img, const uint8_t *h,
			size_t got, enum cr_img_kind want, struct rt_err **err)
{
	if (memcmp(h, CR_IMG_MAGIC, got < 8 ? got : 8) != 0)
		return img_err(img, err, 0, "not a ferry image (bad magic)");
	if (got < CR_IMG_HEADER_SIZE)
		return img_err(img, err, 0, "truncated header (%zu of %d bytes)",
			       got, CR_IMG_HEADER_SIZE);
	uint32_t version = le32_get(h + 8), kind = le32_get(h + 12);
	if (version != CR_IMG_VERSION)
		return img_err(img, err, 0,
			       "image format version %u, this ferry reads %d",
			       version, CR_IMG_VERSION);
	if (kind != want) {
		if (!kind_valid(kind))
			return img_err(img, err, 0,
				       "holds records of unknown kind %u, expected %s",
				       kind, cr_img_kind_name(want));
		return img_err(img, err, 0, "holds %s records, expected %s",
			       cr_img_kind_name(kind), cr_img_kind_name(want));
	}
	if (le64_get(h + 16) != 0 || le64_get(h + 24) != 0)
		return img_err(img, err, 0, "reserved header fields are not zero");
	return 0;
}

/* A pages file: header, zero padding to a page, whole pages. */
static int open_pages(struct cr_img *img, struct rt_err **err)
{
	uint8_t h[CR_IMG_PAGE_SIZE];
	size_t got = img->size < sizeof(h) ? (size_t)img->size : sizeof(h);
	ssize_t n;
	do
		n = pread(img->fd, h, got, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return img_err(img, err, errno, "read");
	got = (size_t)n;
	if (check_header(img, h, got, CR_IMG_PAGES, err) < 0)
		return -1;
	if (got < CR_IMG_PAGE_SIZE)
		return img_err(img, err, 0, "truncated header (%zu of %d bytes)",
			       got, CR_IMG_PAGE_SIZE);
	for (size_t i = CR_IMG_HEADER_SIZE; i < CR_IMG_PAGE_SIZE; i++)
		if (h[i] != 0)
			return img_err(img, err, 0, "header padding is not zero");
	if (img->size % CR_IMG_PAGE_SIZE != 0)
		return img_err(img, err, 0,
			       "truncated: %llu bytes after the last whole page",
			       (unsigned long long)(img->size % CR_IMG_PAGE_SIZE));
	return 0;
}

static int open_records(struct cr_img *img, enum cr_img_kind kind,
			struct rt_err **err)
{
	img->cap = img->size < RBUF_SIZE ? (size_t)img->size : RBUF_SIZE;
	if (img->cap < CR_IMG_HEADER_SIZE)
		img->cap = CR_IMG_HEADER_SIZE;
	img->buf = xmalloc(img->cap);
	if (rd_fill(img, CR_IMG_HEADER_SIZE, err) < 0)
		return -1;
	size_t got = img->end - img->start;
	if (check_header(img, img->buf, got, kind, err) < 0)
		return -1;
	img->start += CR_IMG_HEADER_SIZE;
	return 0;
}

int cr_img_open(int dirfd, const char *name, enum cr_img_kind kind,
		struct cr_img **out, struct rt_err **err)
{
	if (!kind_valid(kind))
		return rt_err_set(err, EINVAL, "open '%s': image kind %d", name,
				  (int)kind);
	uint64_t size = 0;
	int fd = open_regular(dirfd, name, &size, err);
	if (fd < 0)
		return -1;
	cleanup_img struct cr_img *img = xcalloc(1, sizeof(*img));
	img->fd = fd;
	img->name = xstrdup(name);
	img->kind = kind;
	img->size = size;
	int r = kind == CR_IMG_PAGES ? open_pages(img, err)
				     : open_records(img, kind, err);
	if (r < 0)
		return -1;
	*out = steal_pointer(&img);
	return 0;
}

/* The end record: its count must match, and nothing may follow it. */
static int rd_end(struct cr_img *img, const struct cr_rd *r, struct rt_err **err)
{
	if (r->len != 8)
		return rec_err(r, err, "end record of %zu bytes, expected 8", r->len);
	uint64_t count = le64_get(r->p);
	if (count != r->index)
		return rec_err(r, err, "end record counts %llu records, found %zu",
			       (unsigned long long)count, r->index);
	uint64_t left = rd_left(img);
	if (left > 0)
		return img_err(img, err, 0, "%llu bytes after the end record",
			       (unsigned long long)left);
	img->at_end = true;
	return 0;
}

static int rd_record(struct cr_img *img, struct cr_rd *r, struct rt_err **err)
{
	*r = (struct cr_rd){ .img = img, .index = img->index };
	if (rd_fill(img, REC_HDR, err) < 0)
		return -1;
	size_t have = img->end - img->start;
	if (have == 0)
		return rt_err_set(err, 0, "'%s': record %zu: truncated file (no end record)",
				  img->name, r->index);
	if (have < REC_HDR)
		return rt_err_set(err, 0, "'%s': record %zu: truncated header (%zu of %d bytes)",
				  img->name, r->index, have, REC_HDR);
	const uint8_t *h = img->buf + img->start;
	r->type = le32_get(h);
	uint32_t len = le32_get(h + 4);
	uint64_t left = rd_left(img) - REC_HDR;
	if (len > CR_IMG_MAX_RECORD)
		return rec_err(r, err, "length %u exceeds the limit of %u bytes",
			       len, CR_IMG_MAX_RECORD);
	if (len > left)
		return rec_err(r, err, "truncated payload (length %u, %llu bytes left)",
			       len, (unsigned long long)left);
	if (left - len < REC_CRC)
		return rec_err(r, err, "truncated checksum");
	size_t total = REC_HDR + (size_t)len + REC_CRC;
	if (rd_fill(img, total, err) < 0)
		return -1;
	if (img->end - img->start < total) /* the file shrank while we read */
		return rec_err(r, err, "truncated payload");
	h = img->buf + img->start;
	if (cr_crc32c(0, h, REC_HDR + len) != le32_get(h + REC_HDR + len))
		return rec_err(r, err, "checksum mismatch");
	img->start += total;
	r->p = h + REC_HDR;
	r->len = len;
	return 1;
}

int cr_img_next(struct cr_img *img, struct cr_rd *r, struct rt_err **err)
{
	if (img->writing || img->kind == CR_IMG_PAGES)
		return img_err(img, err, 0, "no records to read in this file");
	if (img->failed)
		return img_err(img, err, 0, "unreadable after an earlier error");
	if (img->at_end)
		return 0;
	struct cr_rd rec;
	if (rd_record(img, &rec, err) < 0) {
		img->failed = true;
		return -1;
	}
	if (rec.type == CR_IMG_REC_END) {
		if (rd_end(img, &rec, err) < 0) {
			img->failed = true;
			return -1;
		}
		return 0;
	}
	img->index++;
	*r = rec;
	return 1;
}

int cr_img_expect(struct cr_img *img, uint32_t type, struct cr_rd *r,
		  struct rt_err **err)
{
	size_t index = img->index;
	struct cr_rd rec;
	int ret = cr_img_next(img, &rec, err);
	if (ret < 0)
		return -1;
	if (ret == 0)
		return rt_err_set(err, 0, "'%s': record %zu: end of file, expected type %u",
				  img->name, index, type);
	if (rec.type != type)
		return rt_err_set(err, 0, "'%s': record %zu: type %u, expected type %u",
				  img->name, index, rec.type, type);
	*r = rec;
	return 0;
}

int cr_img_end(struct cr_img *img, struct rt_err **err)
{
	size_t index = img->index;
	struct cr_rd rec;
	int ret = cr_img_next(img, &rec, err);
	if (ret < 0)
		return -1;
	if (ret > 0)
		return rt_err_set(err, 0, "'%s': record %zu: type %u where the file "
				  "should end", img->name, index, rec.type);
	return 0;
}

/* ---- fields ------------------------------------------------------------ */

static const char *fname(const char *field)
{
	return field ? field : "?";
}

static int get_fixed(struct cr_rd *r, const char *field, size_t n,
		     const uint8_t **p, struct rt_err **err)
{
	if (r->len - r->off < n)
		return rec_err(r, err, "field '%s' truncated", fname(field));
	*p = r->p + r->off;
	r->off += n;
	return 0;
}

int cr_get_u8(struct cr_rd *r, const char *field, uint8_t *v, struct rt_err **err)
{
	const uint8_t *p = NULL;
	if (get_fixed(r, field, 1, &p, err) < 0)
		return -1;
	*v = *p;
	return 0;
}

int cr_get_u32(struct cr_rd *r, const char *field, uint32_t *v, struct rt_err **err)
{
	const uint8_t *p = NULL;
	if (get_fixed(r, field, 4, &p, err) < 0)
		return -1;
	*v = le32_get(p);
	return 0;
}

int cr_get_u64(struct cr_rd *r, const char *field, uint64_t *v, struct rt_err **err)
{
	const uint8_t *p = NULL;
	if (get_fixed(r, field, 8, &p, err) < 0)
		return -1;
	*v = le64_get(p);
	return 0;
}

int cr_get_i64(struct cr_rd *r, const char *field, int64_t *v, struct rt_err **err)
{
	uint64_t u;
	if (cr_get_u64(r, field, &u, err) < 0)
		return -1;
	*v = (int64_t)u;
	return 0;
}

/* A length-prefixed run: *len is STR_NULL for a NULL string (allowed only
 * when null_ok), else the run is bounds-checked and consumed. */
static int get_run(struct cr_rd *r, const char *field, bool null_ok,
		   const uint8_t **p, uint32_t *len, size_t max,
		   struct rt_err **err)
{
	if (r->len - r->off < 4)
		return rec_err(r, err, "field '%s' truncated", fname(field));
	uint32_t n = le32_get(r->p + r->off);
	if (n == STR_NULL && null_ok) {
		r->off += 4;
		*len = n;
		return 0;
	}
	if (n > max)
		return rec_err(r, err, "field '%s' is %u bytes, at most %zu allowed",
			       fname(field), n, max);
	if (n > r->len - r->off - 4)
		return rec_err(r, err, "field '%s' truncated", fname(field));
	*p = r->p + r->off + 4;
	*len = n;
	r->off += 4 + (size_t)n;
	return 0;
}

int cr_get_bytes(struct cr_rd *r, const char *field, const void **p, size_t *n,
		 size_t max, struct rt_err **err)
{
	const uint8_t *q = NULL;
	uint32_t len = 0;
	if (get_run(r, field, false, &q, &len, max, err) < 0)
		return -1;
	*p = q;
	*n = len;
	return 0;
}

int cr_get_str(struct cr_rd *r, const char *field, char **s, size_t max,
	       struct rt_err **err)
{
	size_t off = r->off;
	const uint8_t *q = NULL;
	uint32_t len = 0;
	if (get_run(r, field, true, &q, &len, max, err) < 0)
		return -1;
	if (len == STR_NULL) {
		*s = NULL;
		return 0;
	}
	if (memchr(q, 0, len) != NULL) {
		r->off = off;
		return rec_err(r, err, "field '%s' contains a NUL byte",
			       fname(field));
	}
	*s = xstrndup((const char *)q, len);
	return 0;
}

int cr_rd_done(struct cr_rd *r, struct rt_err **err)
{
	if (r->off != r->len)
		return rec_err(r, err, "%zu trailing bytes (written by a newer ferry?)",
			       r->len - r->off);
	return 0;
}

/* ---- raw pages --------------------------------------------------------- */

int cr_img_read_raw(struct cr_img *img, uint64_t offset, void *p, size_t n,
		    struct rt_err **err)
{
	if (img->writing || img->kind != CR_IMG_PAGES)
		return img_err(img, err, 0, "no raw data to read in this file");
	uint64_t data = img->size - CR_IMG_PAGE_SIZE;
	if (offset > data || n > data - offset)
		return img_err(img, err, 0,
			       "%zu bytes at offset %llu are past the end of the data (%llu bytes)",
			       n, (unsigned long long)offset,
			       (unsigned long long)data);
	uint8_t *d = p;
	uint64_t at = CR_IMG_PAGE_SIZE + offset;
	while (n > 0) {
		ssize_t k = pread(img->fd, d, n, (off_t)at);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return img_err(img, err, errno, "read at %llu",
				       (unsigned long long)at);
		if (k == 0)
			return img_err(img, err, 0, "truncated at %llu",
				       (unsigned long long)at);
		d += k;
		at += (uint64_t)k;
		n -= (size_t)k;
	}
	return 0;
}
