/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The metrics endpoint's own part of HTTP, free of I/O so that the unit
 * tests and tests/fuzz/lf_http.c call it alone: which answer a request
 * gets, and the label escaping of the exposition format. libmicrohttpd
 * parses the request (src/metrics.c).
 */
#ifndef FC_METRICS_HTTP_H
#define FC_METRICS_HTTP_H

#include <stddef.h>

enum metrics_answer {
	METRICS_SCRAPE,		/* 200, the exposition */
	METRICS_NOT_FOUND,	/* 404 */
	METRICS_BAD_METHOD,	/* 405, Allow: GET, HEAD */
};

/* The answer to `method` on `path` (the URL without its query, as
 * libmicrohttpd hands it over): GET or HEAD of "/metrics" or "/" scrape. */
enum metrics_answer metrics_route(const char *method, const char *path);

/*
 * `in` as a label value of the text exposition format: backslash, double
 * quote and newline escaped as \\, \" and \n. Writes at most `size` bytes,
 * NUL included; returns the length of the whole escaped value (as
 * snprintf), so a result >= size means it was cut.
 */
size_t metrics_escape_label(char *out, size_t size, const char *in);

#endif
