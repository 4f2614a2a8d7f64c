/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The offload datapath caches each flow's next hop (struct fo_nh); this
 * tells it when to stop trusting the cache: any route, rule, neighbour,
 * address or link change in the namespace bumps fo_nh_gen, and every flow
 * looks its next hop up again on its next packet (doc/design/offload.md).
 */
#ifndef FC_OFFLOAD_NH_H
#define FC_OFFLOAD_NH_H

#include <stdbool.h>
#include <linux/types.h>

/* An rtnetlink socket on those groups (non-blocking), or -errno. */
int fo_nh_open(void);

/* Drain it; true if anything came (or was lost: ENOBUFS). */
bool fo_nh_changed(int fd);

/* The next generation after gen: never 0 (0 turns the cache off). */
static inline __u32 fo_nh_next(__u32 gen)
{
	return gen + 1 ? gen + 1 : 1;
}

#endif
