/* The text of /proc/PID/maps and smaps: mappings and their VmFlags, for
 * the dump (mem.c), the restore's view of the agent (mem-restore.c) and
 * inspect's names of the flags (mem-inspect.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "coordinator/mem.h"
#include "util.h"

/* One maps line (l up to nl, or to its end) into m. */
static int maps_line(const char *l, const char *nl, struct cr_vma *m, struct rt_err **err)
{
	char perms[8] = "";
	unsigned maj, min;
	int pos = 0;
	*m = (struct cr_vma){ 0 };
	if (sscanf(l, "%lx-%lx %7s %lx %x:%x %lu %n", &m->start, &m->end, perms, &m->pgoff, &maj,
		   &min, &m->ino, &pos) < 7)
		return rt_err_set(err, 0, "unparsable maps line '%.*s'",
				  (int)(nl && nl - l < 80 ? nl - l : 80), l);
	if (nl && l + pos > nl) /* " %n" ran past an unnamed mapping's line */
		pos = (int)(nl - l);
	size_t plen = nl ? (size_t)(nl - (l + pos)) : strlen(l + pos);
	m->path = xstrndup(l + pos, plen);
	m->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		  (perms[2] == 'x' ? PROT_EXEC : 0);
	m->shared = perms[3] == 's';
	m->pgoff /= CR_PAGE;
	return 0;
}

/* A mapping's first line in maps and smaps starts with its address in
 * lowercase hex; smaps' field lines start with a capital ("Rss:"). */
static bool is_maps_line(const char *l)
{
	return (l[0] >= '0' && l[0] <= '9') || (l[0] >= 'a' && l[0] <= 'f');
}

int cr_parse_maps(const char *text, struct cr_vma **out, size_t *n,
		  struct rt_err **err)
{
	struct cr_vma *v = NULL;
	size_t cnt = 0, cap = 0;
	for (const char *l = text; l && *l;) {
		const char *nl = strchr(l, '\n');
		if (is_maps_line(l)) {
			if (cnt == cap)
				v = xrealloc(v, (cap = cap * 2 + 32) * sizeof(*v));
			if (maps_line(l, nl, &v[cnt], err) < 0) {
				cr_vmas_free(v, cnt);
				return -1;
			}
			cnt++;
		} else if (cnt > 0 && strncmp(l, "VmFlags:", 8) == 0) {
			v[cnt - 1].flags = cr_vmflags_parse(l + 8);
		}
		l = nl ? nl + 1 : NULL;
	}
	*out = v;
	*n = cnt;
	return 0;
}

static const struct {
	char code[3];
	uint32_t flag;
} vmflag_codes[] = {
	{ "lo", CR_VMF_LOCKED }, { "lf", CR_VMF_LOCKONFAULT }, { "dc", CR_VMF_DONTFORK },
	{ "wf", CR_VMF_WIPEONFORK }, { "dd", CR_VMF_DONTDUMP }, { "hg", CR_VMF_HUGEPAGE },
	{ "nh", CR_VMF_NOHUGEPAGE }, { "mg", CR_VMF_MERGEABLE }, { "nr", CR_VMF_NORESERVE },
	{ "sr", CR_VMF_SEQUENTIAL }, { "rr", CR_VMF_RANDOM }, { "sl", CR_VMF_SEALED },
};

uint32_t cr_vmflags_parse(const char *value)
{
	uint32_t f = 0;
	for (const char *p = value; p[0] && p[0] != '\n';) {
		p += strspn(p, " ");
		size_t n = strcspn(p, " \n");
		for (size_t i = 0; n == 2 && i < ARRAY_SIZE(vmflag_codes); i++)
			if (strncmp(p, vmflag_codes[i].code, 2) == 0)
				f |= vmflag_codes[i].flag;
		p += n;
	}
	return f;
}

void cr_vmflags_names(uint32_t flags, char *buf, size_t len)
{
	size_t w = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(vmflag_codes); i++)
		if ((flags & vmflag_codes[i].flag) && w + 4 < len)
			w += (size_t)snprintf(buf + w, len - w, "%s%s", w ? " " : "",
					      vmflag_codes[i].code);
}

void cr_vmas_free(struct cr_vma *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}
