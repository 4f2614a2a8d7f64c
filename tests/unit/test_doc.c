// SPDX-License-Identifier: GPL-2.0
/*
 * The docs against the code: every "`fc_name` N B" that
 * doc/design/architecture.md states is compared with sizeof of that struct
 * of include/fcnat/types.h, and each size is printed.
 */
#include <regex.h>
#include <stdlib.h>
#include <fcnat/types.h>

#include <fcnat/nat64_pool.h>

#include "harness.h"

#ifndef FC_SOURCE_DIR
#define FC_SOURCE_DIR "."
#endif

#define SIZE_OF(s) { #s, sizeof(struct s) }

static const struct {
	const char *name;
	size_t size;
} shared_structs[] = {
	SIZE_OF(fc_endpoint_key), SIZE_OF(fc_hop), SIZE_OF(fc_binding),
	SIZE_OF(fc_session_key), SIZE_OF(fc_session), SIZE_OF(fc_frag_key),
	SIZE_OF(fc_frag), SIZE_OF(fc_subscriber_key), SIZE_OF(fc_subscriber),
	SIZE_OF(fc_block_key), SIZE_OF(fc_block), SIZE_OF(fc_block_free_args),
	SIZE_OF(fc_scope_key), SIZE_OF(fc_release_args), SIZE_OF(fc_event),
	SIZE_OF(fc_port_range), SIZE_OF(fc_config), SIZE_OF(fc_nat64_map),
	SIZE_OF(fc_nat64_allow_key),
};

static long struct_size(const char *name)
{
	for (size_t i = 0; i < sizeof(shared_structs) / sizeof(shared_structs[0]); i++)
		if (!strcmp(shared_structs[i].name, name))
			return (long)shared_structs[i].size;
	return -1;
}

static char *read_doc(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = calloc(1, n + 1)) && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

TEST(doc_architecture_struct_sizes_match_types_h)
{
	const char *path = FC_SOURCE_DIR "/doc/design/architecture.md";
	char *doc = read_doc(path), *at;
	regex_t re;
	regmatch_t m[3];
	int stated = 0, wrong = 0;

	ASSERT_TRUE(doc != NULL, "doc/design/architecture.md readable");
	ASSERT_EQ(regcomp(&re, "`(fc_[a-z0-9_]+)` ([0-9]+) B", REG_EXTENDED), 0, "regex");
	for (at = doc; !regexec(&re, at, 3, m, 0); at += m[0].rm_eo) {
		char name[64] = "";
		long doc_size = strtol(at + m[2].rm_so, NULL, 10), real;
		int len = m[1].rm_eo - m[1].rm_so;

		if (len < (int)sizeof(name))
			memcpy(name, at + m[1].rm_so, len);
		real = struct_size(name);
		printf("    struct %-18s sizeof %4ld, the doc says %ld\n", name, real, doc_size);
		stated++;
		if (real != doc_size) {
			fprintf(stderr, "    %s: %s is %ld bytes, the doc says %ld\n", path, name,
				real, doc_size);
			wrong++;
		}
	}
	regfree(&re);
	free(doc);
	ASSERT_TRUE(stated >= 7, "the doc's state table states the sizes of the map types");
	ASSERT_EQ(wrong, 0, "sizes the doc gets wrong");
}
