/* runtime/coordinator/mem-maps.c: the mappings of /proc/PID/maps and
 * smaps texts, with smaps' VmFlags, and the flag names inspect prints.
 * The texts are as this kernel writes them (6.18): an unnamed mapping's
 * line ends after its inode, field lines start with a capital, and some
 * of them ("Anonymous:") start with a capital hex digit. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "coordinator/mem.h"
#include "tap.h"
#include "util.h"

static const char smaps[] =
	"55d0c0a00000-55d0c0a02000 r--p 00000000 fd:01 1234567                    /usr/bin/payload\n"
	"Size:                  8 kB\n"
	"KernelPageSize:        4 kB\n"
	"Rss:                   8 kB\n"
	"Anonymous:             0 kB\n"
	"THPeligible:           0\n"
	"VmFlags: rd mr mw me sd \n"
	"55d0c0a02000-55d0c0a05000 rw-p 00002000 fd:01 1234567                    /usr/bin/payload\n"
	"Size:                 12 kB\n"
	"Anonymous:            12 kB\n"
	"VmFlags: rd wr mr mw me ac sd \n"
	"7f0000000000-7f0000100000 rw-p 00000000 00:00 0 \n"
	"Size:               1024 kB\n"
	"Anonymous:          1024 kB\n"
	"VmFlags: rd wr mr mw me lo ac dc hg nr sd \n"
	"7f0000200000-7f0000201000 rw-s 00000000 00:01 4242                       /dev/zero (deleted)\n"
	"Size:                  4 kB\n"
	"VmFlags: rd wr sh mr mw me ms dd sd \n"
	"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
	"Size:                132 kB\n"
	"VmFlags: rd wr mr mw me gd ac sl \n";

int main(void)
{
	struct cr_vma *v = NULL;
	size_t n = 0;
	struct rt_err *e = NULL;
	TAP_OK(cr_parse_maps(smaps, &v, &n, &e) == 0 && n == 5, "smaps: five mappings (%zu)", n);
	if (n == 5) {
		TAP_OK(v[0].start == 0x55d0c0a00000 && v[0].end == 0x55d0c0a02000 &&
			       v[0].prot == PROT_READ && !v[0].shared && v[0].ino == 1234567 &&
			       strcmp(v[0].path, "/usr/bin/payload") == 0 && v[0].flags == 0,
		       "a file mapping: range, prot, inode, path, no flags of ours");
		TAP_OK(v[1].pgoff == 2 && v[1].prot == (PROT_READ | PROT_WRITE),
		       "its data: offset in pages (%lu)", v[1].pgoff);
		TAP_OK(v[2].path[0] == '\0' && v[2].ino == 0 &&
			       v[2].flags == (CR_VMF_LOCKED | CR_VMF_DONTFORK | CR_VMF_HUGEPAGE |
					      CR_VMF_NORESERVE),
		       "an unnamed mapping: empty path, VmFlags lo dc hg nr (%#x)", v[2].flags);
		TAP_OK(v[3].shared && v[3].ino == 4242 &&
			       strcmp(v[3].path, "/dev/zero (deleted)") == 0 &&
			       v[3].flags == CR_VMF_DONTDUMP,
		       "shared anonymous memory: path as the kernel names it, dd");
		TAP_OK(strcmp(v[4].path, "[stack]") == 0 && v[4].flags == CR_VMF_SEALED,
		       "the stack, sealed");
	}
	cr_vmas_free(v, n);

	/* maps has the same lines without the fields */
	const char maps[] = "00400000-00401000 r-xp 00000000 fd:01 99 /bin/x\n"
			    "00600000-00601000 rw-p 00000000 00:00 0\n";
	TAP_OK(cr_parse_maps(maps, &v, &n, &e) == 0 && n == 2 && v[1].path[0] == '\0' &&
		       v[0].prot == (PROT_READ | PROT_EXEC),
	       "maps: two mappings, the second unnamed");
	cr_vmas_free(v, n);

	TAP_OK(cr_parse_maps("00400000 nonsense\n", &v, &n, &e) < 0 && e &&
		       strcmp(e->msg, "unparsable maps line '00400000 nonsense'") == 0,
	       "a broken line is refused: %s", e ? e->msg : "(accepted)");
	rt_err_free(e);

	char names[64];
	cr_vmflags_names(CR_VMF_LOCKED | CR_VMF_MERGEABLE | CR_VMF_SEALED, names, sizeof(names));
	TAP_STREQ(names, "lo mg sl", "flag names in smaps' spelling");
	TAP_OK(cr_vmflags_parse(" rd wr uw lo xx \n") == CR_VMF_LOCKED,
	       "unknown and our own flags (uw) are not taken");
	return tap_done();
}
