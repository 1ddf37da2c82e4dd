/* Fuzz harness for the config.json parsers: each input goes through the
 * config, lone process and lone resources parsers; a crash, a sanitizer
 * report or a broken invariant (abort) is a finding.
 *
 * With libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZ_WITH_LIBFUZZER \
 *     -std=gnu11 -D_GNU_SOURCE -I. -Iruntime oci/config*.c runtime/error.c \
 *     runtime/util.c tests/unit/fuzz-config.c $(pkg-config --libs yajl) \
 *     -o build/fuzz-config
 *   build/fuzz-config -max_len=8192 CORPUS_DIR
 * Without it, the same file builds with gcc into a program that replays the
 * files named on its command line (e.g. a crash file libFuzzer wrote). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/config.h"
#include "util.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "invariant failed: %s (%s:%d)\n",      \
				#cond, __FILE__, __LINE__);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* What the runtime relies on from any config the parser accepts. */
static void check_config(const struct oci_config *c)
{
	CHECK(c->oci_version && c->root.path && c->root.path[0]);
	for (size_t i = 0; i < c->n_mounts; i++)
		CHECK(c->mounts[i].destination &&
		      c->mounts[i].destination[0] == '/');
	for (int k = 0; k < OCI_HOOK_KINDS; k++)
		for (size_t i = 0; i < c->hooks[k].n; i++)
			CHECK(c->hooks[k].hooks[i].path[0] == '/');
	for (size_t i = 0; i < c->linux_.n_namespaces; i++)
		CHECK(oci_ns_name(c->linux_.namespaces[i].type) != NULL);
	for (size_t i = 0; i < c->n_annotations; i++)
		CHECK(c->annotation_keys[i] && c->annotation_values[i]);
}

static void check_process(const struct oci_process *p)
{
	CHECK(p->args && p->args[0] && p->cwd && p->cwd[0] == '/');
	for (size_t i = 0; p->env && p->env[i]; i++)
		CHECK(strchr(p->env[i], '=') != NULL);
	for (size_t i = 0; i < p->n_rlimits; i++)
		CHECK(p->rlimits[i].soft <= p->rlimits[i].hard);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct rt_err *err = NULL;

	struct oci_config *c = NULL;
	if (oci_config_parse(text, size, &c, &err) == 0) {
		CHECK(c != NULL && err == NULL);
		check_config(c);
		if (c->process)
			check_process(c->process);
		oci_config_free(c);
	} else {
		CHECK(c == NULL && err != NULL && err->msg != NULL);
		rt_err_free(err);
		err = NULL;
	}

	struct oci_process *p = NULL;
	if (oci_process_parse(text, size, &p, &err) == 0) {
		check_process(p);
		oci_process_free(p);
	} else {
		CHECK(p == NULL && err != NULL);
		rt_err_free(err);
		err = NULL;
	}

	struct oci_resources *r = NULL;
	if (oci_resources_parse(text, size, &r, &err) == 0) {
		for (size_t i = 0; i < r->n_devices; i++)
			CHECK(strspn(r->devices[i].access, "rwm") ==
			      strlen(r->devices[i].access));
		oci_resources_free(r);
	} else {
		CHECK(r == NULL && err != NULL);
		rt_err_free(err);
	}
	return 0;
}

#ifndef FUZZ_WITH_LIBFUZZER
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		cleanup_err struct rt_err *err = NULL;
		cleanup_free char *buf = NULL;
		size_t len;
		if (rt_read_file(argv[i], &buf, &len, &err) < 0) {
			fprintf(stderr, "%s\n", err->msg);
			return 1;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	}
	printf("%d input(s) ran\n", argc - 1);
	return 0;
}
#endif
