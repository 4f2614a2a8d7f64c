// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the command line. The input, split on NUL, is fcnat's argv
 * after argv[0]; options_parse() must return, never crash, leak or exit. */
#include "lf_args.h"
#include "log.h"
#include "options.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	lf_scratch_enter();
	fc_log_level = FC_LOG_ERR;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const head[] = { "fcnat" };
	static struct fc_options o;
	struct lf_argv a;
	enum fc_parse_result r;

	lf_argv_make(&a, head, 1, data, size);
	if (lf_argv_local(&a)) {
		options_defaults(&o);
		r = options_parse(a.argc, a.argv, &o);
		if (r != FC_OPTS_RUN && r != FC_OPTS_EXIT_OK && r != FC_OPTS_USAGE)
			abort();
		/* What a run needs was checked. */
		if (r == FC_OPTS_RUN && o.cmd == FC_CMD_RUN && !o.ifname[0])
			abort();
	}
	lf_argv_free(&a);
	return 0;
}
