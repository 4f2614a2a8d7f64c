// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <bpf/bpf.h>

#include "zipf.h"

/*
 * ZIPF_DRAWS flow numbers with P(rank k) ~ 1/k^ZIPF_S over nflows ranks
 * (inverse of the cumulative distribution, fixed seed: every run and line
 * sends the same sequence), rank k being flow (k * 2654435761) % nflows (a
 * permutation: the multiplier is odd and no multiple of 5, so prime to
 * 10^n), so the popular flows are spread over endpoints and remotes.
 */
int zipf_table_fill(int fd, __u32 nflows)
{
	double *cdf = malloc(sizeof(double) * nflows), sum = 0;
	__u32 *draws = malloc(sizeof(__u32) * ZIPF_DRAWS);
	unsigned short seed[3] = { 0x5eed, 0xf00d, 0x1234 };
	int err = 0;

	if (!cdf || !draws || !nflows) {
		free(cdf);
		free(draws);
		return -1;
	}
	for (__u32 k = 0; k < nflows; k++)
		cdf[k] = sum += 1.0 / pow(k + 1, ZIPF_S);
	for (__u32 i = 0; i < ZIPF_DRAWS; i++) {
		double u = erand48(seed) * sum;
		__u32 lo = 0, hi = nflows - 1;

		while (lo < hi) {
			__u32 mid = lo + (hi - lo) / 2;

			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		draws[i] = (__u32)(((__u64)lo * 2654435761u) % nflows);
	}
	for (__u32 i = 0; i < ZIPF_DRAWS && !err; i++)
		err = bpf_map_update_elem(fd, &i, &draws[i], BPF_ANY);
	free(cdf);
	free(draws);
	return err ? -1 : 0;
}
