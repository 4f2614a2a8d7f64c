// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "metrics_http.h"

enum metrics_answer metrics_route(const char *method, const char *path)
{
	if (strcmp(path, "/metrics") && strcmp(path, "/"))
		return METRICS_NOT_FOUND;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return METRICS_BAD_METHOD;
	return METRICS_SCRAPE;
}

size_t metrics_escape_label(char *out, size_t size, const char *in)
{
	size_t n = 0;

	for (; *in; in++) {
		char esc = *in == '\\' ? '\\' : *in == '"' ? '"' : *in == '\n' ? 'n' : 0;

		if (esc) {
			if (n + 1 < size)
				out[n] = '\\';
			n++;
		}
		if (n + 1 < size)
			out[n] = esc ? esc : *in;
		n++;
	}
	if (size)
		out[n < size ? n : size - 1] = '\0';
	return n;
}
