// SPDX-License-Identifier: GPL-2.0
/* Logging to stderr, one line per message, prefixed so it greps well. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

enum fc_log_level fc_log_level = FC_LOG_INFO;

void fc_log_msg(enum fc_log_level level, const char *fmt, ...)
{
	static const char *const tag[] = {
		[FC_LOG_ERR] = "error: ",
		[FC_LOG_WARN] = "warning: ",
		[FC_LOG_INFO] = "",
		[FC_LOG_DEBUG] = "debug: ",
	};
	va_list ap;

	if (level > fc_log_level)
		return;
	fprintf(stderr, "fcnat: %s", tag[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void fc_fault_point(const char *name)
{
	const char *want = getenv("FCNAT_FAULT_POINT");

	if (want && !strcmp(want, name))
		raise(SIGKILL);
}
