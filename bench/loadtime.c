// SPDX-License-Identifier: GPL-2.0
/*
 * Program load time: open + load of the TC skeleton (BTF, maps, the
 * verifier on every program), then of the XDP skeleton on the TC object's
 * maps, as fcnat does at start. Prints the median of RUNS starts in ms.
 * NAT44 and NAT66 are one set of programs (the family is a run-time
 * option), so this is the cost of either.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "loader.h"
#include "log.h"

#define RUNS 9

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	double tc[RUNS], xdp[RUNS];
	struct fc_options o;

	fc_log_level = FC_LOG_WARN;
	loader_setup_libbpf_log(false, false);
	options_defaults(&o);
	for (int i = 0; i < RUNS; i++) {
		struct fc_loader l = {};
		double t0 = now_ms(), t1;

		if (loader_load(&l, &o)) {
			fprintf(stderr, "loading the TC programs failed (root?)\n");
			return 1;
		}
		t1 = now_ms();
		if (loader_xdp_load(&l, 1, NULL, 0)) {
			fprintf(stderr, "loading the XDP programs failed\n");
			return 1;
		}
		tc[i] = t1 - t0;
		xdp[i] = now_ms() - t1;
		loader_destroy(&l);
	}
	qsort(tc, RUNS, sizeof(double), cmp);
	qsort(xdp, RUNS, sizeof(double), cmp);
	printf("program load time, median of %d: TC skeleton open+load %.1f ms, "
	       "XDP skeleton open+load %.1f ms\n", RUNS, tc[RUNS / 2], xdp[RUNS / 2]);
	return 0;
}
