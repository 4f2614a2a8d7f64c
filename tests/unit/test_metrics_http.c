// SPDX-License-Identifier: GPL-2.0
/* The metrics endpoint's routing and label escaping (src/metrics_http.c). */
#include <string.h>

#include "harness.h"
#include "metrics_http.h"

TEST(metrics_route_scrapes_get_and_head_of_metrics_and_root)
{
	ASSERT_EQ(metrics_route("GET", "/metrics"), METRICS_SCRAPE, "GET /metrics");
	ASSERT_EQ(metrics_route("HEAD", "/metrics"), METRICS_SCRAPE, "HEAD /metrics");
	ASSERT_EQ(metrics_route("GET", "/"), METRICS_SCRAPE, "GET /");
	ASSERT_EQ(metrics_route("GET", "/metrics/"), METRICS_NOT_FOUND, "GET /metrics/");
	ASSERT_EQ(metrics_route("GET", "/metricsx"), METRICS_NOT_FOUND, "GET /metricsx");
	ASSERT_EQ(metrics_route("GET", ""), METRICS_NOT_FOUND, "GET (empty)");
	ASSERT_EQ(metrics_route("get", "/metrics"), METRICS_BAD_METHOD, "get (methods are case-sensitive)");
	ASSERT_EQ(metrics_route("POST", "/metrics"), METRICS_BAD_METHOD, "POST /metrics");
	ASSERT_EQ(metrics_route("POST", "/other"), METRICS_NOT_FOUND, "POST /other");
}

TEST(metrics_escape_label_escapes_backslash_quote_newline)
{
	char out[32];

	ASSERT_EQ(metrics_escape_label(out, sizeof(out), "wan0"), 4, "plain length");
	ASSERT_TRUE(!strcmp(out, "wan0"), "plain unchanged");
	ASSERT_EQ(metrics_escape_label(out, sizeof(out), "a\"b\\c\nd"), 10, "escaped length");
	ASSERT_TRUE(!strcmp(out, "a\\\"b\\\\c\\nd"), "escaped text");
}

TEST(metrics_escape_label_cut_output_is_terminated_and_sized_like_snprintf)
{
	char out[4] = "xxx";

	ASSERT_EQ(metrics_escape_label(out, sizeof(out), "a\"bc"), 5, "whole length returned");
	ASSERT_TRUE(!strcmp(out, "a\\\""), "cut to 3 characters and a NUL");
	ASSERT_EQ(metrics_escape_label(out, 1, "abc"), 3, "size 1");
	ASSERT_EQ(out[0], '\0', "size 1 holds the NUL only");
	ASSERT_EQ(metrics_escape_label(NULL, 0, "abc"), 3, "size 0 writes nothing");
}
