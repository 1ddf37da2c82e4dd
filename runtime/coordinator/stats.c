/* Timings and counts of a dump or restore, as JSON (yajl); read back by
 * `ferry inspect`. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "coordinator/describe.h"
#include "coordinator/internal.h"
#include "util.h"

static void put(yajl_gen g, const char *key, uint64_t v)
{
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
	yajl_gen_integer(g, (long long)v);
}

int cr_stats_write(int dirfd, const char *name, const struct cr_stats *st,
		   struct rt_err **err)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (g == NULL)
		return rt_err_set(err, ENOMEM, "write '%s'", name);
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	put(g, "freezing_time", st->freezing_time_us);
	put(g, "frozen_time", st->frozen_time_us);
	put(g, "memdump_time", st->memdump_time_us);
	put(g, "memwrite_time", st->memwrite_time_us);
	put(g, "pages_scanned", st->pages_scanned);
	put(g, "pages_written", st->pages_written);
	put(g, "pages_in_parent", st->pages_in_parent);
	put(g, "pages_deduplicated", st->pages_deduplicated);
	put(g, "parent_pages_freed", st->parent_pages_freed);
	put(g, "restore_time", st->restore_time_us);
	put(g, "pages_restored", st->pages_restored);
	put(g, "tree_walks", st->tree_walks);
	yajl_gen_map_close(g);
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	int ret = 0;
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || rt_write_all(fd, buf, len) < 0)
		ret = rt_err_set(err, errno, "write '%s'", name);
	if (fd >= 0)
		close(fd);
	yajl_gen_free(g);
	return ret;
}

#define STATS_MAX (64u << 10)

/* The file's text, at most STATS_MAX bytes; 0 and *text NULL if absent. */
static int read_stats(int dirfd, const char *name, char **text, struct rt_err **err)
{
	*text = NULL;
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 0;
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return rt_err_set(err, errno, "open '%s'", name);
	if (!S_ISREG(st.st_mode) || st.st_size > STATS_MAX)
		return rt_err_set(err, 0, "'%s': not a regular file of at most %u bytes",
				  name, STATS_MAX);
	cleanup_free char *buf = xmalloc((size_t)st.st_size + 1);
	size_t len = 0;
	for (ssize_t n; len < (size_t)st.st_size; len += (size_t)n) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			n = 0;
		else if (n <= 0)
			return rt_err_set(err, n < 0 ? errno : 0, "read '%s'", name);
	}
	buf[len] = '\0';
	*text = steal_pointer(&buf);
	return 0;
}

int cr_stats_describe(int dirfd, const char *name, const char *key,
		      struct cr_desc *d, struct rt_err **err)
{
	cleanup_free char *text = NULL;
	char msg[128] = "";
	if (read_stats(dirfd, name, &text, err) < 0)
		return -1;
	if (text == NULL)
		return 0;
	yajl_val v = yajl_tree_parse(text, msg, sizeof(msg));
	if (v == NULL || !YAJL_IS_OBJECT(v)) {
		msg[strcspn(msg, "\n")] = '\0';
		yajl_tree_free(v);
		return rt_err_set(err, 0, "'%s': not a JSON object%s%s", name,
				  *msg ? ": " : "", msg);
	}
	int ret = 0;
	cr_desc_map(d, key);
	for (size_t i = 0; i < v->u.object.len && ret == 0; i++) {
		yajl_val x = v->u.object.values[i];
		if (!YAJL_IS_INTEGER(x) || YAJL_GET_INTEGER(x) < 0)
			ret = rt_err_set(err, 0, "'%s': \"%s\" is not a count", name,
					 v->u.object.keys[i]);
		else
			cr_desc_int(d, v->u.object.keys[i], YAJL_GET_INTEGER(x));
	}
	cr_desc_end_map(d);
	yajl_tree_free(v);
	return ret;
}
