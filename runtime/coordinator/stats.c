/* Timings and counts of a dump or restore, as JSON (yajl). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

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
	put(g, "restore_time", st->restore_time_us);
	put(g, "pages_restored", st->pages_restored);
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
