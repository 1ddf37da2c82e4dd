/* Shared by the config.json parser files (config*.c) only: JSON paths for
 * error messages, typed accessors over the yajl tree, and the section parsers
 * each file exports to the others. */
#ifndef FERRY_OCI_CONFIG_INTERNAL_H
#define FERRY_OCI_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "oci/config.h"

/* Deeper documents are refused before yajl builds (and recursively frees) a
 * tree: config.json is at most ~6 levels deep. */
#define OCI_JSON_MAX_DEPTH 128

/* A JSON path as a chain of frames on the parser's stack. It costs nothing
 * until an error renders it. NULL is the document itself. */
struct jpath {
	const struct jpath *up;
	const char *key; /* member name; NULL for an array element */
	size_t index;
	bool map; /* key of a free-form map: rendered as ["key"] */
};

#define JP_KEY(p, k) (&(const struct jpath){.up = (p), .key = (k)})
#define JP_IDX(p, i) (&(const struct jpath){.up = (p), .index = (i)})
#define JP_MAP(p, k) (&(const struct jpath){.up = (p), .key = (k), .map = true})

/* "linux.namespaces[2].type", "annotations[\"k\"]"; "" for the document. */
char *oci_jp_str(const struct jpath *p);
/* Set *err to "PATH: message" and return -1. */
int oci_jp_err(struct rt_err **err, const struct jpath *p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Parse text into a tree whose root is an object. */
int oci_json_parse(const char *json, size_t len, yajl_val *root,
		   struct rt_err **err);

/* A member of obj; NULL when absent or JSON null. The last one wins when a
 * key repeats, as in Go's encoding/json. */
yajl_val oci_jget(yajl_val obj, const char *key);
/* Absent, null, "", [] or {}. */
bool oci_jempty(yajl_val v);

/* Typed readers of a value known to be present, p being its path. */
int oci_jobj(const struct jpath *p, yajl_val v, struct rt_err **err);
int oci_jarr(const struct jpath *p, yajl_val v, size_t *n,
	     struct rt_err **err);
int oci_jstr(const struct jpath *p, yajl_val v, char **out,
	     struct rt_err **err);
int oci_jabs(const struct jpath *p, yajl_val v, char **out,
	     struct rt_err **err);
int oci_jbool(const struct jpath *p, yajl_val v, bool *out,
	      struct rt_err **err);
int oci_jint(const struct jpath *p, yajl_val v, int64_t min, int64_t max,
	     int64_t *out, struct rt_err **err);
int oci_juint(const struct jpath *p, yajl_val v, uint64_t max, uint64_t *out,
	      struct rt_err **err);
/* Array of strings -> NULL-terminated vector (NULL when empty). */
int oci_jstrv(const struct jpath *p, yajl_val v, char ***out,
	      struct rt_err **err);
/* Object of string values -> parallel key/value vectors. Keys must not be
 * empty; for a repeated key the last value wins. */
int oci_jmap(const struct jpath *p, yajl_val v, char ***keys, char ***values,
	     size_t *n, struct rt_err **err);

/* The same, looked up as member key of obj (p is obj's path). Absent or
 * null members leave *out untouched and *has false. */
int oci_jf_req(const struct jpath *p, yajl_val obj, const char *key,
	       yajl_val *out, struct rt_err **err);
int oci_jf_str(const struct jpath *p, yajl_val obj, const char *key,
	       char **out, struct rt_err **err);
int oci_jf_bool(const struct jpath *p, yajl_val obj, const char *key,
		bool *out, struct rt_err **err);
int oci_jf_int(const struct jpath *p, yajl_val obj, const char *key,
	       int64_t min, int64_t max, bool *has, int64_t *out,
	       struct rt_err **err);
int oci_jf_uint(const struct jpath *p, yajl_val obj, const char *key,
		uint64_t max, bool *has, uint64_t *out, struct rt_err **err);
int oci_jf_strv(const struct jpath *p, yajl_val obj, const char *key,
		char ***out, struct rt_err **err);

/* Members that ferry knows but cannot apply, refused when not empty. */
struct oci_refused {
	const char *key;
	const char *what; /* plural noun: "AppArmor profiles" */
};
int oci_jrefuse(const struct jpath *p, yajl_val obj,
		const struct oci_refused *tab, size_t n, struct rt_err **err);

/* Largest uid/gid: (uid_t)-1 means "unchanged" to set*id(2). */
#define OCI_ID_MAX 4294967294ULL

/* An env array: strings of the form NAME=value. */
int oci_parse_env(const struct jpath *p, yajl_val v, char ***env,
		  struct rt_err **err);

/* Section parsers, each in the file named after its section. */
int oci_parse_process(const struct jpath *p, yajl_val v,
		      struct oci_process **out, struct rt_err **err);
int oci_parse_mounts(const struct jpath *p, yajl_val v, struct oci_config *c,
		     struct rt_err **err);
void oci_mounts_free(struct oci_mount *m, size_t n);
/* "rprivate" -> MS_PRIVATE | MS_REC; 0 when unknown. */
unsigned long oci_propagation_from_name(const char *name);
int oci_parse_linux(const struct jpath *p, yajl_val v, struct oci_linux *l,
		    struct rt_err **err);
void oci_linux_clear(struct oci_linux *l);
int oci_parse_resources(const struct jpath *p, yajl_val v,
			struct oci_resources **out, struct rt_err **err);
int oci_parse_seccomp(const struct jpath *p, yajl_val v,
		      struct oci_seccomp **out, struct rt_err **err);
void oci_seccomp_free(struct oci_seccomp *s);

#endif
