/* `ferry inspect`: what a resource's describe callback writes. Each
 * resource reads its images with the same loader restore uses and emits
 * what they hold as keys of the task's JSON object; inspect.c turns the
 * document into text when asked. The helpers hide yajl and never fail
 * (yajl only fails on misuse, which the tests would show). */
#ifndef FERRY_CR_DESCRIBE_H
#define FERRY_CR_DESCRIBE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct cr_desc; /* inspect.c: the document being written */

/* key is NULL inside an array, the member's name inside an object. */
void cr_desc_map(struct cr_desc *d, const char *key);
void cr_desc_end_map(struct cr_desc *d);
void cr_desc_array(struct cr_desc *d, const char *key);
void cr_desc_end_array(struct cr_desc *d);
void cr_desc_int(struct cr_desc *d, const char *key, int64_t v);
/* Above INT64_MAX (RLIM_INFINITY) a string: "unlimited". */
void cr_desc_uint(struct cr_desc *d, const char *key, uint64_t v);
void cr_desc_bool(struct cr_desc *d, const char *key, bool v);
void cr_desc_null(struct cr_desc *d, const char *key);
/* NULL gives null. */
void cr_desc_str(struct cr_desc *d, const char *key, const char *s);
/* Addresses and masks as "0x..." strings: readable, and exact in jq. */
void cr_desc_hex(struct cr_desc *d, const char *key, uint64_t v);
__attribute__((format(printf, 3, 4))) void
cr_desc_strf(struct cr_desc *d, const char *key, const char *fmt, ...);

/* Checkpoint-wide parts (the per-task ones are cr_resource.describe):
 * inventory.c writes "inventory", with how this machine compares, and
 * returns the image's root pid; stats.c writes the JSON stats file `name`
 * as member `key`, and nothing when the file is absent. */
int cr_inventory_describe(int dirfd, struct cr_desc *d, pid_t *root,
			  struct rt_err **err);
int cr_stats_describe(int dirfd, const char *name, const char *key,
		      struct cr_desc *d, struct rt_err **err);

/* inspect-text.c: the tree view of a cr_inspect JSON document. */
int cr_inspect_text(const char *json, char **out, struct rt_err **err);

/* "SIGTERM" for 15, "SIGRT3" for 37, "SIG70" out of range. */
const char *cr_signal_name(int sig, char buf[16]);

#endif
