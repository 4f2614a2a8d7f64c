// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the metrics endpoint's own part of HTTP
 * (src/metrics_http.c). The input is a raw request: its request line is
 * split as libmicrohttpd hands it over (method, path without the query),
 * then routed; every header value, and the whole input, is escaped as a
 * label value and unescaped again, with buffers of every size from 0 up.
 *
 * Checked (abort on violation, besides ASan/UBSan):
 *   - a scrape only for GET or HEAD of "/metrics" or "/"; 405 only for
 *     one of those paths; the answer is one of the three;
 *   - the escaped label holds no raw '"' or newline, unescapes to the
 *     input, has the length returned; cut outputs are NUL-terminated
 *     prefixes of the whole one.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_http.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "lf_http: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();					\
		}							\
	} while (0)

static bool is_scrape_path(const char *p)
{
	return !strcmp(p, "/metrics") || !strcmp(p, "/");
}

static void check_route(const char *method, const char *path)
{
	enum metrics_answer a = metrics_route(method, path);
	bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");

	switch (a) {
	case METRICS_SCRAPE:
		CHECK(get && is_scrape_path(path));
		break;
	case METRICS_BAD_METHOD:
		CHECK(!get && is_scrape_path(path));
		break;
	case METRICS_NOT_FOUND:
		CHECK(!is_scrape_path(path));
		break;
	default:
		CHECK(!"an answer outside the enum");
	}
}

static void check_escape(const char *in)
{
	size_t inlen = strlen(in), want = inlen, n, j = 0;
	char *full, *cut;

	for (size_t i = 0; i < inlen; i++)
		want += in[i] == '\\' || in[i] == '"' || in[i] == '\n';
	full = malloc(want + 1);
	CHECK(full);
	n = metrics_escape_label(full, want + 1, in);
	CHECK(n == want && strlen(full) == want);
	for (size_t i = 0; i < n; i++, j++) {
		CHECK(full[i] != '\n' && full[i] != '"');
		if (full[i] == '\\') {
			i++;
			CHECK(i < n);
			CHECK(full[i] == '\\' || full[i] == '"' || full[i] == 'n');
			CHECK(in[j] == (full[i] == 'n' ? '\n' : full[i]));
		} else {
			CHECK(in[j] == full[i]);
		}
	}
	CHECK(j == inlen);
	/* Every cut size, each in a buffer of exactly that size (ASan sees
	 * a write past it). */
	for (size_t size = 0; size <= want && size < 64; size++) {
		cut = malloc(size ? size : 1);
		CHECK(cut);
		CHECK(metrics_escape_label(cut, size, in) == want);
		if (size) {
			CHECK(strlen(cut) == size - 1);
			CHECK(!memcmp(cut, full, size - 1));
		}
		free(cut);
	}
	free(full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *req = malloc(size + 1), *line, *sp1, *sp2, *q, *next;

	if (!req)
		return 0;
	memcpy(req, data, size);
	req[size] = '\0';	/* an embedded NUL ends the request, as a C string */
	check_escape(req);

	/* The request line: METHOD SP URL [SP VERSION]. */
	line = req;
	next = strchr(line, '\n');
	if (next)
		*next++ = '\0';
	sp1 = strchr(line, ' ');
	if (sp1) {
		*sp1 = '\0';
		sp2 = strchr(sp1 + 1, ' ');
		if (sp2)
			*sp2 = '\0';
		q = strchr(sp1 + 1, '?');
		if (q)
			*q = '\0';
		check_route(line, sp1 + 1);
	} else {
		check_route(line, "/metrics");
		check_route("GET", line);
	}
	/* Header values, as a label would carry them. */
	while (next && *next) {
		char *colon, *end = strchr(next, '\n');

		if (end)
			*end++ = '\0';
		colon = strchr(next, ':');
		if (colon)
			check_escape(colon + 1);
		next = end;
	}
	free(req);
	return 0;
}
