// zdtm-desc: resource limits (soft and hard, several resources) are kept
// zdtm-disturb: prlimit --pid $PID --nofile=100:1000
#include "lib.h"

#include <sys/resource.h>

static const struct {
	int res;
	struct rlimit lim;
} set[] = {
	{ RLIMIT_NOFILE, { 512, 1000 } },     { RLIMIT_CORE, { 0, RLIM_INFINITY } },
	{ RLIMIT_CPU, { 3600, 7200 } },       { RLIMIT_FSIZE, { 1 << 30, RLIM_INFINITY } },
	{ RLIMIT_MSGQUEUE, { 8192, 16384 } }, { RLIMIT_NICE, { 0, 5 } },
	{ RLIMIT_SIGPENDING, { 1000, 2000 } },
};

int main(int argc, char **argv)
{
	static struct rlimit before[RLIM_NLIMITS];
	test_init(argc, argv);
	/* Only ever lower a hard limit: raising it needs CAP_SYS_RESOURCE. */
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		struct rlimit old, lim = set[i].lim;
		SYS(getrlimit(set[i].res, &old));
		if (lim.rlim_max > old.rlim_max)
			lim.rlim_max = old.rlim_max;
		if (lim.rlim_cur > lim.rlim_max)
			lim.rlim_cur = lim.rlim_max;
		CHECK(setrlimit(set[i].res, &lim) == 0, "setrlimit %d: %m", set[i].res);
	}
	for (int r = 0; r < RLIM_NLIMITS; r++)
		SYS(getrlimit(r, &before[r]));
	test_ready();
	test_waitsig();

	for (int r = 0; r < RLIM_NLIMITS; r++) {
		struct rlimit now;
		SYS(getrlimit(r, &now));
		CHECK(now.rlim_cur == before[r].rlim_cur && now.rlim_max == before[r].rlim_max,
		      "limit %d is %llu/%llu, was %llu/%llu", r, (unsigned long long)now.rlim_cur,
		      (unsigned long long)now.rlim_max, (unsigned long long)before[r].rlim_cur,
		      (unsigned long long)before[r].rlim_max);
	}
	pass();
}
