// SPDX-License-Identifier: GPL-2.0
/* Test runner: `unit_tests [FILTER]` runs the tests whose name
 * contains FILTER. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fcnat_tc.skel.h"
#include "fixture.h"
#include "harness.h"
#include "log.h"

struct test_case test_cases[MAX_TESTS];
int nr_test_cases;
bool test_failed;
bool test_skipped;
int assertions;

bool pkt_equal(const void *got, size_t got_len, const void *want, size_t want_len,
	       const char *what)
{
	const uint8_t *g = got, *w = want;
	size_t n = got_len > want_len ? got_len : want_len;

	if (got_len == want_len && !memcmp(got, want, got_len))
		return true;
	fprintf(stderr, "    %s: packets differ (got %zu bytes, want %zu)\n", what, got_len, want_len);
	fprintf(stderr, "    offset  got want\n");
	for (size_t i = 0; i < n; i++) {
		int gi = i < got_len ? g[i] : -1, wi = i < want_len ? w[i] : -1;

		if (gi != wi)
			fprintf(stderr, "    %6zu   %02x   %02x\n", i, gi & 0xff, wi & 0xff);
	}
	return false;
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int passed = 0, failed = 0, skipped = 0;

	fc_log_level = FC_LOG_WARN;
	loader_setup_libbpf_log(false, false);
	/* A private network namespace: packets the datapath re-injects
	 * (bpf_clone_redirect to the test skb's device, lo) stay in here, and
	 * the veths xdp_fixture_setup() makes (int0 carries the internal
	 * network, so FIB lookups towards internal hosts find a route). */
	if (unshare(CLONE_NEWNET) || system("ip link set lo up")) {
		fprintf(stderr, "cannot set up a private network namespace: %s\n", strerror(errno));
		return 1;
	}
	if (fixture_load(&fx, 0, 0)) {
		fprintf(stderr, "cannot load the datapath (are you root?)\n");
		return 1;
	}
	if (xdp_fixture_setup(&fx)) {
		fprintf(stderr, "cannot set up the XDP fixture\n");
		return 1;
	}
	if (tc_fast_fixture_setup(&fx)) {
		fprintf(stderr, "cannot load the TC fast path\n");
		return 1;
	}
	for (int i = 0; i < nr_test_cases; i++) {
		int before = assertions;
		const char *verdict;

		if (filter && !strstr(test_cases[i].name, filter))
			continue;
		fixture_reset(&fx);
		test_failed = false;
		test_skipped = false;
		test_cases[i].fn();
		if (!test_failed && !test_skipped && assertions == before) {
			fprintf(stderr, "    %s: ended without checking anything\n", test_cases[i].name);
			test_failed = true;
		}
		if (test_failed) {
			verdict = "FAIL";
			failed++;
		} else if (test_skipped) {
			verdict = "skip";
			skipped++;
		} else {
			verdict = "ok  ";
			passed++;
		}
		printf("%s %s\n", verdict, test_cases[i].name);
	}
	fixture_run_deferred(&fx);
	tc_fast_fixture_unload(&fx);
	fixture_unload(&fx);
	printf("\n%d passed, %d failed, %d skipped, %d assertions\n", passed, failed, skipped,
	       assertions);
	return failed || !passed ? 1 : 0;
}
