/* state.json: written whole and atomically, read back with every field
 * checked, so a truncated or hand-edited file gives an error naming the file
 * and the field instead of a half-filled struct. */
#include "oci/state.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "oci/json-gen.h"
#include "util.h"

/* Far above any real state.json; refuses to slurp a runaway file. */
#define STATE_MAX_BYTES (16u << 20)

/* ---- UTF-8 ---------------------------------------------------------------
 * JSON strings must be UTF-8. A state file we could not read back would be
 * worse than an error at write time; the public document, like Go's encoder,
 * replaces each bad byte with U+FFFD instead. */

/* Length of the valid UTF-8 sequence at s, or 0 when it is not one
 * (overlong forms, surrogates and values above U+10FFFF are invalid). */
static size_t utf8_seq_len(const unsigned char *s)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t n;
	uint32_t cp, min;
	if ((c & 0xe0) == 0xc0) {
		n = 2, cp = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, cp = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = utf8_seq_len(p);
		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

static char *utf8_sanitize(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = xmalloc(strlen(s) * 3 + 1), *o = out;
	while (*p) {
		size_t n = utf8_seq_len(p);
		if (n == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
			continue;
		}
		memcpy(o, p, n);
		o += n;
		p += n;
	}
	*o = '\0';
	return out;
}

/* ---- generation ---------------------------------------------------------- */

static void gen_key(yajl_gen g, const char *key) { gen_str(g, key); }

/* Copy the generator's buffer out (with yajl's final newline); frees g. */
static char *gen_take(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	char *out = xmalloc(len + 1);
	memcpy(out, buf, len);
	out[len] = '\0';
	yajl_gen_free(g);
	return out;
}

static yajl_gen gen_new(const char *indent)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (g == NULL)
		abort();
	if (indent) {
		yajl_gen_config(g, yajl_gen_beautify, 1);
		yajl_gen_config(g, yajl_gen_indent_string, indent);
	}
	return g;
}

/* Every string the private document holds, with its field name, so that an
 * unwritable one is reported before anything touches the disk. */
static int check_strings(const char *path, const struct oci_state *s,
			 struct rt_err **err)
{
	const struct {
		const char *field, *val;
	} req[] = {
		{ "ociVersion", s->oci_version }, { "id", s->id },
		{ "bundle", s->bundle },          { "rootfs", s->rootfs },
		{ "created", s->created },
	};
	for (size_t i = 0; i < ARRAY_SIZE(req); i++) {
		if (req[i].val == NULL)
			return rt_err_set(err, 0, "'%s': field '%s' is not set",
					  path, req[i].field);
		if (!utf8_valid(req[i].val))
			return rt_err_set(err, 0, "'%s': field '%s' is not valid UTF-8",
					  path, req[i].field);
	}
	if (s->owner && !utf8_valid(s->owner))
		return rt_err_set(err, 0, "'%s': field 'owner' is not valid UTF-8",
				  path);
	for (size_t i = 0; i < s->n_annotations; i++) {
		const char *k = s->annotation_keys[i], *v = s->annotation_values[i];
		if (k == NULL || v == NULL || !utf8_valid(k) || !utf8_valid(v))
			return rt_err_set(err, 0, "'%s': field 'annotations' entry %zu "
					  "is not a valid UTF-8 string pair", path, i);
	}
	if (s->cgroup_rel && !utf8_valid(s->cgroup_rel))
		return rt_err_set(err, 0, "'%s': field 'cgroup.rel' is not valid UTF-8",
				  path);
	for (size_t i = 0; i < s->n_cgroups; i++) {
		const char *n = s->cgroup_names[i], *p = s->cgroup_paths[i];
		if (n == NULL || p == NULL || !utf8_valid(n) || !utf8_valid(p))
			return rt_err_set(err, 0, "'%s': field 'cgroup.hierarchies[%zu]' "
					  "is not a valid UTF-8 name and path", path, i);
	}
	return 0;
}

static void gen_private(yajl_gen g, const struct oci_state *s)
{
	yajl_gen_map_open(g);
	gen_key_str(g, "ociVersion", s->oci_version);
	gen_key_str(g, "id", s->id);
	gen_key_int(g, "pid", s->pid);
	gen_key_int(g, "pidStartTime", (long long)s->pid_start_time);
	gen_key_str(g, "bundle", s->bundle);
	gen_key_str(g, "rootfs", s->rootfs);
	gen_key_str(g, "created", s->created);
	gen_key_str(g, "owner", s->owner ? s->owner : "");
	gen_key(g, "annotations");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < s->n_annotations; i++)
		gen_key_str(g, s->annotation_keys[i], s->annotation_values[i]);
	yajl_gen_map_close(g);

	gen_key(g, "cgroup");
	yajl_gen_map_open(g);
	gen_key_int(g, "layout", s->cgroup_layout);
	gen_key_str(g, "rel", s->cgroup_rel);
	gen_key(g, "hierarchies");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < s->n_cgroups; i++) {
		yajl_gen_map_open(g);
		gen_key_str(g, "name", s->cgroup_names[i]);
		gen_key_str(g, "path", s->cgroup_paths[i]);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);

	gen_key_bool(g, "terminal", s->terminal);
	gen_key_bool(g, "rootless", s->rootless);
	gen_key_bool(g, "restored", s->restored);
	yajl_gen_map_close(g);
}

int oci_state_write(const char *path, const struct oci_state *s,
		    struct rt_err **err)
{
	if (s->pid_start_time > (unsigned long long)LLONG_MAX)
		return rt_err_set(err, 0, "'%s': field 'pidStartTime' is out of range",
				  path);
	if (check_strings(path, s, err) < 0)
		return -1;
	yajl_gen g = gen_new("  ");
	gen_private(g, s);
	cleanup_free char *json = gen_take(g);
	return rt_write_file_atomic(path, json, strlen(json), 0600, err);
}

/* ---- reading ------------------------------------------------------------- */

struct rd {
	const char *path;
	struct rt_err **err;
};

/* Field names are "prefix.key" ("cgroup.rel"); prefix may be NULL. */
__attribute__((format(printf, 4, 5))) static int
rd_fail(struct rd *r, const char *prefix, const char *key, const char *fmt, ...)
{
	cleanup_free char *what = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		abort();
	va_end(ap);
	return rt_err_set(r->err, 0, "'%s': field '%s%s%s' %s", r->path,
			  prefix ? prefix : "", prefix ? "." : "", key, what);
}

static yajl_val obj_get(yajl_val obj, const char *key)
{
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

static int rd_present(struct rd *r, yajl_val obj, const char *prefix,
		      const char *key, yajl_val *out)
{
	*out = obj_get(obj, key);
	if (*out == NULL)
		return rd_fail(r, prefix, key, "is missing");
	return 0;
}

static int rd_string(struct rd *r, yajl_val obj, const char *prefix,
		     const char *key, bool nullable, char **out)
{
	yajl_val v;
	if (rd_present(r, obj, prefix, key, &v) < 0)
		return -1;
	if (nullable && YAJL_IS_NULL(v)) {
		*out = NULL;
		return 0;
	}
	if (!YAJL_IS_STRING(v))
		return rd_fail(r, prefix, key, "must be a string");
	*out = xstrdup(v->u.string);
	return 0;
}

static int rd_path(struct rd *r, yajl_val obj, const char *key, char **out)
{
	if (rd_string(r, obj, NULL, key, false, out) < 0)
		return -1;
	if ((*out)[0] != '/')
		return rd_fail(r, NULL, key, "must be an absolute path, not '%s'",
			       *out);
	return 0;
}

static int rd_int(struct rd *r, yajl_val obj, const char *prefix,
		  const char *key, long long min, long long max, long long *out)
{
	yajl_val v;
	if (rd_present(r, obj, prefix, key, &v) < 0)
		return -1;
	if (!YAJL_IS_NUMBER(v))
		return rd_fail(r, prefix, key, "must be a number");
	if (!YAJL_IS_INTEGER(v))
		return rd_fail(r, prefix, key, "must be an integer, not %s",
			       v->u.number.r);
	if (v->u.number.i < min || v->u.number.i > max)
		return rd_fail(r, prefix, key, "is out of range (%lld)",
			       v->u.number.i);
	*out = v->u.number.i;
	return 0;
}

static int rd_bool(struct rd *r, yajl_val obj, const char *key, bool *out)
{
	yajl_val v;
	if (rd_present(r, obj, NULL, key, &v) < 0)
		return -1;
	if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
		return rd_fail(r, NULL, key, "must be a boolean");
	*out = YAJL_IS_TRUE(v);
	return 0;
}

static int rd_annotations(struct rd *r, yajl_val root, struct oci_state *s)
{
	yajl_val v = obj_get(root, "annotations");
	if (v == NULL || YAJL_IS_NULL(v))
		return 0;
	if (!YAJL_IS_OBJECT(v))
		return rd_fail(r, NULL, "annotations", "must be an object");
	size_t n = v->u.object.len;
	s->annotation_keys = xcalloc(n + 1, sizeof(char *));
	s->annotation_values = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const char *k = v->u.object.keys[i];
		if (!YAJL_IS_STRING(v->u.object.values[i])) {
			cleanup_free char *f = xasprintf("annotations[\"%s\"]", k);
			return rd_fail(r, NULL, f, "must be a string");
		}
		s->annotation_keys[i] = xstrdup(k);
		s->annotation_values[i] = xstrdup(v->u.object.values[i]->u.string);
		s->n_annotations++;
	}
	return 0;
}

static int rd_hierarchies(struct rd *r, yajl_val cg, struct oci_state *s)
{
	yajl_val v;
	if (rd_present(r, cg, "cgroup", "hierarchies", &v) < 0)
		return -1;
	if (!YAJL_IS_ARRAY(v))
		return rd_fail(r, "cgroup", "hierarchies", "must be an array");
	size_t n = v->u.array.len;
	s->cgroup_names = xcalloc(n + 1, sizeof(char *));
	s->cgroup_paths = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		yajl_val h = v->u.array.values[i];
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "cgroup.hierarchies[%zu]", i);
		if (!YAJL_IS_OBJECT(h))
			return rd_fail(r, NULL, prefix, "must be an object");
		/* Count first: the freeing code walks n_cgroups entries. */
		s->n_cgroups++;
		if (rd_string(r, h, prefix, "name", false, &s->cgroup_names[i]) < 0 ||
		    rd_string(r, h, prefix, "path", false, &s->cgroup_paths[i]) < 0)
			return -1;
	}
	return 0;
}

static int rd_cgroup(struct rd *r, yajl_val root, struct oci_state *s)
{
	yajl_val cg;
	long long layout;
	if (rd_present(r, root, NULL, "cgroup", &cg) < 0)
		return -1;
	if (!YAJL_IS_OBJECT(cg))
		return rd_fail(r, NULL, "cgroup", "must be an object");
	if (rd_int(r, cg, "cgroup", "layout", 0, INT_MAX, &layout) < 0)
		return -1;
	s->cgroup_layout = (int)layout;
	if (rd_string(r, cg, "cgroup", "rel", true, &s->cgroup_rel) < 0)
		return -1;
	return rd_hierarchies(r, cg, s);
}

static int rd_state(struct rd *r, yajl_val root, struct oci_state *s)
{
	long long pid, start;
	if (rd_string(r, root, NULL, "ociVersion", false, &s->oci_version) < 0 ||
	    rd_string(r, root, NULL, "id", false, &s->id) < 0 ||
	    rd_int(r, root, NULL, "pid", 0, INT_MAX, &pid) < 0 ||
	    rd_int(r, root, NULL, "pidStartTime", 0, LLONG_MAX, &start) < 0 ||
	    rd_path(r, root, "bundle", &s->bundle) < 0 ||
	    rd_path(r, root, "rootfs", &s->rootfs) < 0 ||
	    rd_string(r, root, NULL, "created", false, &s->created) < 0 ||
	    rd_string(r, root, NULL, "owner", false, &s->owner) < 0)
		return -1;
	if (s->id[0] == '\0')
		return rd_fail(r, NULL, "id", "is empty");
	s->pid = (pid_t)pid;
	s->pid_start_time = (unsigned long long)start;
	if (rd_annotations(r, root, s) < 0 || rd_cgroup(r, root, s) < 0)
		return -1;
	if (rd_bool(r, root, "terminal", &s->terminal) < 0 ||
	    rd_bool(r, root, "rootless", &s->rootless) < 0 ||
	    rd_bool(r, root, "restored", &s->restored) < 0)
		return -1;
	return 0;
}

static void yajl_tree_freep(yajl_val *v) { yajl_tree_free(*v); }

static int read_text(const char *path, char **buf, struct rt_err **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_err_set(err, errno, "open '%s'", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return rt_err_set(err, errno, "stat '%s'", path);
	if (st.st_size > (off_t)STATE_MAX_BYTES)
		return rt_err_set(err, EFBIG, "'%s': %lld bytes", path,
				  (long long)st.st_size);
	size_t len;
	if (rt_read_fd(fd, path, buf, &len, err) < 0)
		return -1;
	if (len == 0)
		return rt_err_set(err, 0, "'%s': empty file", path);
	/* yajl reads up to the first NUL: a file cut there would parse. */
	if (strlen(*buf) != len)
		return rt_err_set(err, 0, "'%s': contains a NUL byte", path);
	return 0;
}

int oci_state_read(const char *path, struct oci_state **out,
		   struct rt_err **err)
{
	cleanup_free char *text = NULL;
	if (read_text(path, &text, err) < 0)
		return -1;
	char errbuf[256] = "";
	__attribute__((cleanup(yajl_tree_freep))) yajl_val root =
		yajl_tree_parse(text, errbuf, sizeof(errbuf));
	if (root == NULL) {
		errbuf[strcspn(errbuf, "\n")] = '\0';
		return rt_err_set(err, 0, "'%s': invalid JSON: %s", path,
				  errbuf[0] ? errbuf : "parse error");
	}
	if (!YAJL_IS_OBJECT(root))
		return rt_err_set(err, 0, "'%s': not a JSON object", path);
	struct rd r = { .path = path, .err = err };
	cleanup_state struct oci_state *s = xcalloc(1, sizeof(*s));
	if (rd_state(&r, root, s) < 0)
		return -1;
	*out = steal_pointer(&s);
	return 0;
}

void oci_state_free(struct oci_state *s)
{
	if (s == NULL)
		return;
	free(s->oci_version);
	free(s->id);
	free(s->bundle);
	free(s->rootfs);
	free(s->created);
	free(s->owner);
	for (size_t i = 0; i < s->n_annotations; i++) {
		free(s->annotation_keys[i]);
		free(s->annotation_values[i]);
	}
	free(s->annotation_keys);
	free(s->annotation_values);
	for (size_t i = 0; i < s->n_cgroups; i++) {
		free(s->cgroup_names[i]);
		free(s->cgroup_paths[i]);
	}
	free(s->cgroup_names);
	free(s->cgroup_paths);
	free(s->cgroup_rel);
	free(s);
}

void oci_state_freep(struct oci_state **s) { oci_state_free(*s); }

/* ---- the public document -------------------------------------------------- */

/* Output sink that escapes like Go's encoding/json, so `ferry state` prints
 * byte for byte what `runc state` prints: '<', '>', '&', U+2028 and U+2029
 * are \u-escaped and hex digits are lower case. Those bytes only occur
 * inside strings, and yajl hands each escape sequence over in one piece. */
struct go_out {
	char *buf;
	size_t len, cap;
};

static void go_out_put(struct go_out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->buf = xrealloc(o->buf, o->cap);
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* The escape Go writes for the character at u (len bytes), or NULL. */
static const char *go_escape(const unsigned char *u, size_t len, size_t *width)
{
	*width = 1;
	switch (u[0]) {
	case '<':
		return "\\u003c";
	case '>':
		return "\\u003e";
	case '&':
		return "\\u0026";
	}
	if (u[0] == 0xe2 && len >= 3 && u[1] == 0x80 &&
	    (u[2] == 0xa8 || u[2] == 0xa9)) {
		*width = 3;
		return u[2] == 0xa8 ? "\\u2028" : "\\u2029";
	}
	return NULL;
}

static void go_print(void *ctx, const char *s, size_t n)
{
	struct go_out *o = ctx;
	if (n == 6 && strncmp(s, "\\u00", 4) == 0) {
		char esc[6];
		for (size_t i = 0; i < 6; i++)
			esc[i] = (char)tolower((unsigned char)s[i]);
		go_out_put(o, esc, 6);
		return;
	}
	size_t run = 0, width;
	for (size_t i = 0; i < n; i += width) {
		const char *esc =
			go_escape((const unsigned char *)s + i, n - i, &width);
		if (esc == NULL)
			continue;
		go_out_put(o, s + run, i - run);
		go_out_put(o, esc, 6);
		run = i + width;
	}
	go_out_put(o, s + run, n - run);
}

static void gen_public_str(yajl_gen g, const char *key, const char *val)
{
	cleanup_free char *clean = utf8_sanitize(val ? val : "");
	gen_key_str(g, key, clean);
}

static int cmp_index_by_key(const void *a, const void *b, void *keys)
{
	char **k = keys;
	return strcmp(k[*(const size_t *)a], k[*(const size_t *)b]);
}

/* Go marshals a map with its keys sorted; so do we. */
static void gen_public_annotations(yajl_gen g, const struct oci_state *s)
{
	cleanup_free size_t *order = xcalloc(s->n_annotations, sizeof(size_t));
	for (size_t i = 0; i < s->n_annotations; i++)
		order[i] = i;
	qsort_r(order, s->n_annotations, sizeof(size_t), cmp_index_by_key,
		s->annotation_keys);
	gen_key(g, "annotations");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < s->n_annotations; i++) {
		cleanup_free char *k = utf8_sanitize(s->annotation_keys[order[i]]);
		gen_public_str(g, k, s->annotation_values[order[i]]);
	}
	yajl_gen_map_close(g);
}

/* The field order of runc's `state` output: annotations sit before owner. */
char *oci_state_public_json(const struct oci_state *s, const char *status,
			    bool pretty)
{
	struct go_out out = { 0 };
	yajl_gen g = gen_new(pretty ? "  " : NULL);
	yajl_gen_config(g, yajl_gen_print_callback, go_print, &out);
	yajl_gen_map_open(g);
	gen_public_str(g, "ociVersion", s->oci_version);
	gen_public_str(g, "id", s->id);
	bool stopped = status && strcmp(status, "stopped") == 0;
	gen_key_int(g, "pid", stopped ? 0 : s->pid);
	gen_public_str(g, "status", status);
	gen_public_str(g, "bundle", s->bundle);
	gen_public_str(g, "rootfs", s->rootfs);
	gen_public_str(g, "created", s->created);
	if (s->n_annotations > 0)
		gen_public_annotations(g, s);
	gen_public_str(g, "owner", s->owner);
	yajl_gen_map_close(g);
	yajl_gen_free(g);
	if (out.len > 0 && out.buf[out.len - 1] == '\n')
		out.buf[--out.len] = '\0'; /* runc prints no final newline */
	return out.buf;
}

/* Go's RFC3339Nano, as time.Time marshals: trailing zeros of the fraction
 * dropped, no fraction at all on a whole second. */
char *oci_state_now(void)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char date[32], frac[16] = "";
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	if (ts.tv_nsec != 0) {
		snprintf(frac, sizeof(frac), ".%09ld", ts.tv_nsec);
		size_t n = strlen(frac);
		while (frac[n - 1] == '0')
			frac[--n] = '\0';
	}
	return xasprintf("%s%sZ", date, frac);
}
