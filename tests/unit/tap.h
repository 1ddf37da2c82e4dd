/* A minimal TAP producer for ferry's unit tests: each check prints
 * "ok N - name" or "not ok N - name" with what was expected and found;
 * tap_done() prints the plan and returns the exit status. */
#ifndef FERRY_TAP_H
#define FERRY_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define TAP_OK(cond, ...)                                                      \
	do {                                                                   \
		int _tap_ok = !!(cond);                                        \
		tap_n++;                                                       \
		if (_tap_ok) {                                                    \
			printf("ok %d - ", tap_n);                             \
		} else {                                                       \
			tap_failed++;                                          \
			printf("not ok %d - ", tap_n);                         \
		}                                                              \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
		if (!_tap_ok)                                                  \
			printf("#   failed: %s (%s:%d)\n", #cond, __FILE__,    \
			       __LINE__);                                      \
		fflush(stdout);                                                \
	} while (0)

#define TAP_STREQ(a, b, ...)                                                   \
	do {                                                                   \
		const char *_a = (a), *_b = (b);                               \
		int _eq = _a && _b && strcmp(_a, _b) == 0;                     \
		TAP_OK(_eq, __VA_ARGS__);                                      \
		if (!_eq)                                                      \
			printf("#   got:      '%s'\n#   expected: '%s'\n",     \
			       _a ? _a : "(null)", _b ? _b : "(null)");        \
	} while (0)

#define TAP_SKIP(reason, ...)                                                  \
	do {                                                                   \
		tap_n++;                                                       \
		printf("ok %d - ", tap_n);                                     \
		printf(__VA_ARGS__);                                           \
		printf(" # SKIP %s\n", reason);                                \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
