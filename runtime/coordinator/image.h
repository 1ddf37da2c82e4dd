/* Checkpoint images: one directory per checkpoint, one file per resource
 * kind and task ("core-42.img", "mm-42.img", ...).
 *
 * Every record file starts with a 32-byte header:
 *   magic "FERRYIMG" | u32 format version | u32 file kind | u64 reserved | u64 reserved
 * followed by records:
 *   u32 type | u32 payload length | payload | u32 crc32c(type, length, payload)
 * and, written by cr_img_close, an end record (type CR_IMG_REC_END, payload
 * u64 number of records before it), so a file cut at a record boundary is
 * refused as truncated rather than read as a shorter, valid image.
 * Payloads are built field by field with the put_ / get_ helpers below
 * (little-endian integers, length-prefixed byte strings), never by copying C
 * structs, so the on-disk format does not depend on compiler layout. A reader
 * states which record type it expects and every length is bounded before
 * anything is allocated: a truncated, corrupted or hostile image gives an
 * error naming the file and the record index, never a crash or a hang.
 *
 * Page contents live in raw page files ("pages-42.img"): the same 32-byte
 * header padded to 4096 bytes, then whole pages, so they can be written with
 * one write per run of pages, streamed, compressed, and mapped. */
#ifndef FERRY_CR_IMAGE_H
#define FERRY_CR_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define CR_IMG_MAGIC "FERRYIMG"
#define CR_IMG_VERSION 1
#define CR_IMG_HEADER_SIZE 32
#define CR_IMG_PAGE_SIZE 4096
#define CR_IMG_MAX_RECORD (64u << 20) /* no record is bigger: a bound for readers */
#define CR_IMG_REC_END 0xffffffffu     /* reserved: the end record */

/* What a file holds; checked on open so a file renamed to the wrong name
 * is refused. */
enum cr_img_kind {
	CR_IMG_INVENTORY = 1, /* checkpoint-wide facts: root pid, kernel, cpu */
	CR_IMG_PSTREE,        /* the task tree */
	CR_IMG_CORE,          /* per task: threads' registers, signals, identity */
	CR_IMG_MM,            /* per task: mm fields and VMAs */
	CR_IMG_PAGEMAP,       /* per task: which pages are in the page file */
	CR_IMG_PAGES,         /* per task: raw pages */
	CR_IMG_FILES,         /* per task: the fd table */
	CR_IMG_FILE_DATA,     /* shared objects: files, pipes, sockets, ... */
	CR_IMG_KINDS
};

const char *cr_img_kind_name(enum cr_img_kind k);

/* ---- writing ---------------------------------------------------------- */

struct cr_img; /* an open image file */

/* Create dir/name with the header for kind (O_EXCL: images are never
 * overwritten in place). */
int cr_img_create(int dirfd, const char *name, enum cr_img_kind kind,
		  struct cr_img **out, struct rt_err **err);

/* A record under construction. A put_ that would make the payload larger
 * than CR_IMG_MAX_RECORD copies nothing and marks the record oversized
 * (len > CR_IMG_MAX_RECORD): cr_img_write then refuses it. */
struct cr_rec {
	uint32_t type;
	uint8_t *buf;
	size_t len, cap;
};

void cr_rec_init(struct cr_rec *r, uint32_t type);
void cr_rec_free(struct cr_rec *r);
void cr_put_u8(struct cr_rec *r, uint8_t v);
void cr_put_u32(struct cr_rec *r, uint32_t v);
void cr_put_u64(struct cr_rec *r, uint64_t v);
void cr_put_i64(struct cr_rec *r, int64_t v);
void cr_put_bytes(struct cr_rec *r, const void *p, size_t n); /* u32 length + bytes */
void cr_put_str(struct cr_rec *r, const char *s);             /* NULL allowed */

int cr_img_write(struct cr_img *img, const struct cr_rec *r, struct rt_err **err);
/* Raw data after the (page-padded) header of a CR_IMG_PAGES file, appended;
 * callers write whole pages (cr_img_close checks the total). */
int cr_img_write_raw(struct cr_img *img, const void *p, size_t n,
		     struct rt_err **err);
/* The same, moving n bytes out of a pipe with splice(2): page data that
 * never passes through the caller's memory. */
int cr_img_splice_raw(struct cr_img *img, int pipe_fd, size_t n,
		      struct rt_err **err);
/* Flush, write the end record, close; frees img even on error, after which
 * the file is incomplete. */
int cr_img_close(struct cr_img *img, struct rt_err **err);
/* Close without checking (error paths). */
void cr_img_abort(struct cr_img *img);

/* ---- reading ---------------------------------------------------------- */

int cr_img_open(int dirfd, const char *name, enum cr_img_kind kind,
		struct cr_img **out, struct rt_err **err);

/* A record being read: get_ helpers fail (return -1, set *err naming the
 * file, record index, type and field) when the payload is too short. */
struct cr_rd {
	const struct cr_img *img;
	uint32_t type;
	size_t index; /* 0-based record number in the file */
	const uint8_t *p;
	size_t len, off;
};

/* Next record: 1 and *r filled; 0 at a clean end of file; -1 on error
 * (truncation, bad checksum, oversize length). r->p stays valid until the
 * next call. */
int cr_img_next(struct cr_img *img, struct cr_rd *r, struct rt_err **err);
/* Next record, which must be of type `type`; end of file is an error. */
int cr_img_expect(struct cr_img *img, uint32_t type, struct cr_rd *r,
		  struct rt_err **err);
/* The file must end here: its end record is next. For readers that know
 * how many records to expect, so a file with more is refused too. */
int cr_img_end(struct cr_img *img, struct rt_err **err);

int cr_get_u8(struct cr_rd *r, const char *field, uint8_t *v, struct rt_err **err);
int cr_get_u32(struct cr_rd *r, const char *field, uint32_t *v, struct rt_err **err);
int cr_get_u64(struct cr_rd *r, const char *field, uint64_t *v, struct rt_err **err);
int cr_get_i64(struct cr_rd *r, const char *field, int64_t *v, struct rt_err **err);
/* Points into the record (no copy); at most max bytes or an error. */
int cr_get_bytes(struct cr_rd *r, const char *field, const void **p, size_t *n,
		 size_t max, struct rt_err **err);
/* A malloc'd NUL-terminated copy (NULL if put as NULL); embedded NULs are
 * an error. */
int cr_get_str(struct cr_rd *r, const char *field, char **s, size_t max,
	       struct rt_err **err);
/* Every field consumed? (trailing bytes mean a newer writer: an error) */
int cr_rd_done(struct cr_rd *r, struct rt_err **err);

/* n bytes of raw data of a CR_IMG_PAGES file, at byte offset `offset` from
 * the start of the data (file offset CR_IMG_PAGE_SIZE + offset); reading
 * past the end is an error. */
int cr_img_read_raw(struct cr_img *img, uint64_t offset, void *p, size_t n,
		    struct rt_err **err);
/* The fd of an image (for mmap/pread/splice of a pages file, whose data
 * starts at file offset CR_IMG_PAGE_SIZE). A writer buffers: do not write
 * to its fd directly. */
int cr_img_fd(const struct cr_img *img);
const char *cr_img_name(const struct cr_img *img);

void cr_img_closep(struct cr_img **img); /* reader close; a writer is aborted */
#define cleanup_img __attribute__((cleanup(cr_img_closep)))

/* CRC-32C (Castagnoli), zlib-style: start with 0, chain by passing the
 * previous result. Uses the CPU's crc32 instruction when it has one. */
uint32_t cr_crc32c(uint32_t crc, const void *p, size_t n);
/* The portable slicing-by-8 path, and which path cr_crc32c takes
 * ("sse4.2" or "slicing-by-8"): for tests and diagnostics. */
uint32_t cr_crc32c_sw(uint32_t crc, const void *p, size_t n);
const char *cr_crc32c_impl(void);

#endif
