/* Small yajl generator helpers shared by everything that writes JSON
 * (spec, features, state, events). */
#ifndef FERRY_OCI_JSON_GEN_H
#define FERRY_OCI_JSON_GEN_H

#include <stdbool.h>
#include <string.h>
#include <yajl/yajl_gen.h>

/* A string, or null for NULL. */
static inline void gen_str(yajl_gen g, const char *s)
{
	if (s == NULL) {
		yajl_gen_null(g);
		return;
	}
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static inline void gen_key_str(yajl_gen g, const char *key, const char *val)
{
	gen_str(g, key);
	gen_str(g, val);
}

static inline void gen_key_int(yajl_gen g, const char *key, long long val)
{
	gen_str(g, key);
	yajl_gen_integer(g, val);
}

static inline void gen_key_bool(yajl_gen g, const char *key, bool val)
{
	gen_str(g, key);
	yajl_gen_bool(g, val);
}

#endif
