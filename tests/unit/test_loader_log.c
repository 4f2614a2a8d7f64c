// SPDX-License-Identifier: GPL-2.0
/*
 * A rejected program's verifier log, as fcnat prints it: its end (where the
 * failing instruction and the reason are), and how much was left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "loader.h"

/* libbpf's message: a header line, the BEGIN marker, nr log lines, END. */
static char *verifier_message(int nr)
{
	size_t len = 256 + (size_t)nr * 32;
	char *msg = malloc(len);
	size_t n;

	n = snprintf(msg, len, "libbpf: prog 'fc_tc_egress': -- BEGIN PROG LOAD LOG --\n");
	for (int i = 1; i <= nr; i++)
		n += snprintf(msg + n, len - n, "log line %d\n", i);
	snprintf(msg + n, len - n, "-- END PROG LOAD LOG --\n");
	return msg;
}

static char *printed(const char *msg, int nr_lines)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	loader_print_log_tail(f, msg, strstr(msg, "-- BEGIN PROG LOAD LOG --"), nr_lines);
	fclose(f);
	return out;
}

TEST(verifier_log_end_printed_with_what_was_left_out)
{
	char *msg = verifier_message(100), *out = printed(msg, 40);

	ASSERT_TRUE(strstr(out, "fcnat: libbpf: prog 'fc_tc_egress': -- BEGIN PROG LOAD LOG --\n") ==
		    out, "the BEGIN line first");
	ASSERT_TRUE(strstr(out, "... 60 lines of the verifier's log left out") != NULL,
		    "says 60 lines were cut");
	ASSERT_TRUE(strstr(out, "log line 60\n") == NULL, "line 60 cut");
	ASSERT_TRUE(strstr(out, "\nlog line 61\n") != NULL, "line 61 kept");
	ASSERT_TRUE(strstr(out, "\nlog line 100\n-- END PROG LOAD LOG --\n") != NULL,
		    "the last line and END kept");
	free(out);
	free(msg);
}

TEST(verifier_log_short_enough_printed_whole)
{
	char *msg = verifier_message(10), *out = printed(msg, 40);

	ASSERT_TRUE(strstr(out, "left out") == NULL, "nothing said cut");
	ASSERT_TRUE(strstr(out, "\nlog line 1\n") != NULL, "first line kept");
	ASSERT_TRUE(strstr(out, "\nlog line 10\n-- END PROG LOAD LOG --\n") != NULL, "last kept");
	free(out);
	free(msg);
}
