/* JSON plumbing for the config.json parser: text checks before yajl, JSON
 * paths for messages, and typed readers that refuse wrong types and
 * out-of-range numbers with the path of the offending value. */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/config-internal.h"
#include "util.h"

static void jp_print(FILE *f, const struct jpath *p)
{
	if (p == NULL)
		return;
	jp_print(f, p->up);
	if (p->map) {
		fputs("[\"", f);
		for (const unsigned char *s = (const unsigned char *)p->key;
		     *s; s++) {
			if (*s < 0x20 || *s == 0x7f)
				fprintf(f, "\\x%02x", *s);
			else if (*s == '"' || *s == '\\')
				fprintf(f, "\\%c", *s);
			else
				fputc(*s, f);
		}
		fputs("\"]", f);
	} else if (p->key) {
		fprintf(f, "%s%s", p->up ? "." : "", p->key);
	} else {
		fprintf(f, "[%zu]", p->index);
	}
}

char *oci_jp_str(const struct jpath *p)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	if (f == NULL)
		abort();
	jp_print(f, p);
	if (fclose(f) != 0)
		abort();
	return s;
}

int oci_jp_err(struct rt_err **err, const struct jpath *p, const char *fmt,
	       ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	cleanup_free char *path = oci_jp_str(p);
	if (path[0] == '\0')
		return rt_err_set(err, 0, "%s", msg);
	return rt_err_set(err, 0, "%s: %s", path, msg);
}

/* yajl decodes "\u0000" into a NUL that would silently cut a C string short
 * ("/bin/sh\u0000x"), keeps comments that Go's decoder refuses, and frees its
 * tree recursively; catch all three on the raw text. */
static int check_text(const char *s, size_t len, struct rt_err **err)
{
	const char *nul = memchr(s, '\0', len);
	if (nul)
		return rt_err_set(err, 0, "invalid JSON: NUL byte at offset %zu",
				  (size_t)(nul - s));
	size_t depth = 0;
	bool in_str = false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '"') {
				in_str = false;
			} else if (c == '\\' && i + 1 < len) {
				if (s[i + 1] == 'u' && len - i >= 6 &&
				    memcmp(s + i + 2, "0000", 4) == 0)
					return rt_err_set(
						err, 0,
						"invalid JSON: \\u0000 in a string at offset %zu",
						i);
				i++;
			}
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '/') {
			return rt_err_set(err, 0,
					  "invalid JSON: comments are not allowed (offset %zu)",
					  i);
		} else if (c == '[' || c == '{') {
			if (++depth > OCI_JSON_MAX_DEPTH)
				return rt_err_set(err, 0,
						  "invalid JSON: nested deeper than %d levels",
						  OCI_JSON_MAX_DEPTH);
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return 0;
}

/* yajl's verbose error is "what\n   snippet\n   (right here) ---^\n": keep
 * the first line and the snippet on one line. */
static int yajl_error(char *eb, struct rt_err **err)
{
	char *nl = strchr(eb, '\n');
	if (nl == NULL)
		return rt_err_set(err, 0, "invalid JSON: %s",
				  eb[0] ? eb : "parse failed");
	*nl = '\0';
	char *snip = nl + 1;
	char *end = strchr(snip, '\n');
	if (end)
		*end = '\0';
	while (isspace((unsigned char)*snip))
		snip++;
	end = snip + strlen(snip);
	while (end > snip && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (*snip == '\0')
		return rt_err_set(err, 0, "invalid JSON: %s", eb);
	return rt_err_set(err, 0, "invalid JSON: %s (near '%s')", eb, snip);
}

int oci_json_parse(const char *json, size_t len, yajl_val *root,
		   struct rt_err **err)
{
	if (check_text(json, len, err) < 0)
		return -1;
	cleanup_free char *text = xmalloc(len + 1);
	memcpy(text, json, len);
	text[len] = '\0';
	char eb[1024] = "";
	yajl_val v = yajl_tree_parse(text, eb, sizeof(eb));
	if (v == NULL)
		return yajl_error(eb, err);
	if (!YAJL_IS_OBJECT(v)) {
		yajl_tree_free(v);
		return rt_err_set(err, 0, "the JSON document must be an object");
	}
	*root = v;
	return 0;
}

yajl_val oci_jget(yajl_val obj, const char *key)
{
	yajl_val found = NULL;
	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			found = obj->u.object.values[i];
	return YAJL_IS_NULL(found) ? NULL : found;
}

bool oci_jempty(yajl_val v)
{
	if (v == NULL || YAJL_IS_NULL(v))
		return true;
	if (YAJL_IS_STRING(v))
		return v->u.string[0] == '\0';
	if (YAJL_IS_ARRAY(v))
		return v->u.array.len == 0;
	if (YAJL_IS_OBJECT(v))
		return v->u.object.len == 0;
	return false;
}

int oci_jobj(const struct jpath *p, yajl_val v, struct rt_err **err)
{
	if (!YAJL_IS_OBJECT(v))
		return oci_jp_err(err, p, "must be an object");
	return 0;
}

int oci_jarr(const struct jpath *p, yajl_val v, size_t *n,
	     struct rt_err **err)
{
	if (!YAJL_IS_ARRAY(v))
		return oci_jp_err(err, p, "must be an array");
	*n = v->u.array.len;
	return 0;
}

int oci_jstr(const struct jpath *p, yajl_val v, char **out,
	     struct rt_err **err)
{
	if (!YAJL_IS_STRING(v))
		return oci_jp_err(err, p, "must be a string");
	free(*out);
	*out = xstrdup(v->u.string);
	return 0;
}

int oci_jabs(const struct jpath *p, yajl_val v, char **out,
	     struct rt_err **err)
{
	if (!YAJL_IS_STRING(v))
		return oci_jp_err(err, p, "must be a string");
	if (v->u.string[0] != '/')
		return oci_jp_err(err, p, "must be an absolute path, not \"%s\"",
				  v->u.string);
	return oci_jstr(p, v, out, err);
}

int oci_jbool(const struct jpath *p, yajl_val v, bool *out,
	      struct rt_err **err)
{
	if (YAJL_IS_TRUE(v))
		*out = true;
	else if (YAJL_IS_FALSE(v))
		*out = false;
	else
		return oci_jp_err(err, p, "must be a boolean");
	return 0;
}

/* yajl keeps every number's text; reading it ourselves covers the full
 * uint64 range (yajl's own integer stops at INT64_MAX) and refuses
 * fractions and exponents the way Go does for integer fields. */
static int jnumber(const struct jpath *p, yajl_val v, bool *neg,
		   uint64_t *mag, bool *overflow, struct rt_err **err)
{
	if (!YAJL_IS_NUMBER(v))
		return oci_jp_err(err, p, "must be an integer");
	const char *s = v->u.number.r;
	*neg = *s == '-';
	if (*neg)
		s++;
	if (*s == '\0')
		return oci_jp_err(err, p, "must be an integer");
	*mag = 0;
	*overflow = false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return oci_jp_err(err, p, "must be an integer, not %s",
					  v->u.number.r);
		unsigned d = (unsigned)(*s - '0');
		if (*mag > (UINT64_MAX - d) / 10)
			*overflow = true;
		else
			*mag = *mag * 10 + d;
	}
	return 0;
}

int oci_jint(const struct jpath *p, yajl_val v, int64_t min, int64_t max,
	     int64_t *out, struct rt_err **err)
{
	bool neg, overflow;
	uint64_t mag;
	if (jnumber(p, v, &neg, &mag, &overflow, err) < 0)
		return -1;
	int64_t x = 0;
	bool ok = !overflow;
	if (ok && neg) {
		ok = mag <= (uint64_t)INT64_MAX + 1;
		x = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else if (ok) {
		ok = mag <= (uint64_t)INT64_MAX;
		x = (int64_t)mag;
	}
	if (!ok || x < min || x > max)
		return oci_jp_err(err, p,
				  "%s is out of range (%" PRId64 "..%" PRId64 ")",
				  v->u.number.r, min, max);
	*out = x;
	return 0;
}

int oci_juint(const struct jpath *p, yajl_val v, uint64_t max, uint64_t *out,
	      struct rt_err **err)
{
	bool neg, overflow;
	uint64_t mag;
	if (jnumber(p, v, &neg, &mag, &overflow, err) < 0)
		return -1;
	if (overflow || (neg && mag != 0) || mag > max)
		return oci_jp_err(err, p, "%s is out of range (0..%" PRIu64 ")",
				  v->u.number.r, max);
	*out = mag;
	return 0;
}

int oci_jstrv(const struct jpath *p, yajl_val v, char ***out,
	      struct rt_err **err)
{
	if (!YAJL_IS_ARRAY(v))
		return oci_jp_err(err, p, "must be an array of strings");
	size_t n = v->u.array.len;
	if (n == 0)
		return 0;
	cleanup_strv char **r = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		if (oci_jstr(JP_IDX(p, i), v->u.array.values[i], &r[i], err) < 0)
			return -1;
	rt_strv_free(*out);
	*out = steal_pointer(&r);
	return 0;
}

struct map_ent {
	const char *key;
	size_t index;
};

static int map_ent_cmp(const void *a, const void *b)
{
	const struct map_ent *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Marks all but the last occurrence of each key; sorting keeps a map with
 * many keys from costing n^2 comparisons. */
static bool *map_shadowed(yajl_val v)
{
	size_t n = v->u.object.len;
	bool *shadowed = xcalloc(n, sizeof(bool));
	cleanup_free struct map_ent *e = xcalloc(n, sizeof(*e));
	for (size_t i = 0; i < n; i++)
		e[i] = (struct map_ent){v->u.object.keys[i], i};
	qsort(e, n, sizeof(*e), map_ent_cmp);
	for (size_t i = 0; i + 1 < n; i++)
		if (strcmp(e[i].key, e[i + 1].key) == 0)
			shadowed[e[i].index] = true;
	return shadowed;
}

int oci_jmap(const struct jpath *p, yajl_val v, char ***keys, char ***values,
	     size_t *n, struct rt_err **err)
{
	if (!YAJL_IS_OBJECT(v))
		return oci_jp_err(err, p, "must be an object of strings");
	size_t len = v->u.object.len;
	cleanup_free bool *shadowed = map_shadowed(v);
	cleanup_strv char **k = xcalloc(len + 1, sizeof(char *));
	cleanup_strv char **val = xcalloc(len + 1, sizeof(char *));
	size_t m = 0;
	for (size_t i = 0; i < len; i++) {
		const char *key = v->u.object.keys[i];
		if (key[0] == '\0')
			return oci_jp_err(err, p, "keys must not be empty");
		if (shadowed[i])
			continue;
		if (oci_jstr(JP_MAP(p, key), v->u.object.values[i], &val[m],
			     err) < 0)
			return -1;
		k[m++] = xstrdup(key);
	}
	*keys = steal_pointer(&k);
	*values = steal_pointer(&val);
	*n = m;
	return 0;
}

int oci_jf_req(const struct jpath *p, yajl_val obj, const char *key,
	       yajl_val *out, struct rt_err **err)
{
	*out = oci_jget(obj, key);
	if (*out == NULL)
		return oci_jp_err(err, JP_KEY(p, key), "is required");
	return 0;
}

int oci_jf_str(const struct jpath *p, yajl_val obj, const char *key,
	       char **out, struct rt_err **err)
{
	yajl_val v = oci_jget(obj, key);
	return v ? oci_jstr(JP_KEY(p, key), v, out, err) : 0;
}

int oci_jf_bool(const struct jpath *p, yajl_val obj, const char *key,
		bool *out, struct rt_err **err)
{
	yajl_val v = oci_jget(obj, key);
	return v ? oci_jbool(JP_KEY(p, key), v, out, err) : 0;
}

int oci_jf_int(const struct jpath *p, yajl_val obj, const char *key,
	       int64_t min, int64_t max, bool *has, int64_t *out,
	       struct rt_err **err)
{
	yajl_val v = oci_jget(obj, key);
	if (has)
		*has = false;
	if (v == NULL)
		return 0;
	if (oci_jint(JP_KEY(p, key), v, min, max, out, err) < 0)
		return -1;
	if (has)
		*has = true;
	return 0;
}

int oci_jf_uint(const struct jpath *p, yajl_val obj, const char *key,
		uint64_t max, bool *has, uint64_t *out, struct rt_err **err)
{
	yajl_val v = oci_jget(obj, key);
	if (has)
		*has = false;
	if (v == NULL)
		return 0;
	if (oci_juint(JP_KEY(p, key), v, max, out, err) < 0)
		return -1;
	if (has)
		*has = true;
	return 0;
}

int oci_jf_strv(const struct jpath *p, yajl_val obj, const char *key,
		char ***out, struct rt_err **err)
{
	yajl_val v = oci_jget(obj, key);
	return v ? oci_jstrv(JP_KEY(p, key), v, out, err) : 0;
}

int oci_jrefuse(const struct jpath *p, yajl_val obj,
		const struct oci_refused *tab, size_t n, struct rt_err **err)
{
	for (size_t i = 0; i < n; i++)
		if (!oci_jempty(oci_jget(obj, tab[i].key)))
			return oci_jp_err(err, JP_KEY(p, tab[i].key),
					  "%s are not supported by ferry",
					  tab[i].what);
	return 0;
}
