// SPDX-License-Identifier: GPL-2.0
/* The Zipf flow sequence of the benchmarks' Zipf sets (bench/zipf.c). */
#ifndef FC_BENCH_ZIPF_H
#define FC_BENCH_ZIPF_H

#include <linux/types.h>

#define ZIPF_S 1.0
#define ZIPF_DRAWS (1 << 20)	/* bench_xdp.bpf.c's gen_zipf_table */

/* Write ZIPF_DRAWS Zipf-distributed flow numbers below nflows into the
 * array map fd (key i -> draw i). 0 or -1. */
int zipf_table_fill(int fd, __u32 nflows);

#endif
