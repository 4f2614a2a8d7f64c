/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The offload datapath's state (doc/design/offload.md): the offloaded
 * flows, one entry per direction (IPv4 and IPv6 in maps of their own), and the per-reason counters. A plain
 * hash, not LRU: an entry lives exactly as long as conntrack's, and user
 * space (src/offload.c) is the only one that adds or removes them, but for
 * FIN/RST, which the datapath hands back itself.
 */
#ifndef FC_BPF_OFFLOAD_MAPS_H
#define FC_BPF_OFFLOAD_MAPS_H

#include "common.h"
#include <fcnat/offload.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);	/* set at load: --max-flows x 2 */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fo_key4);
	__type(value, struct fo_flow4);
} fo_flows4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);	/* set at load: --max-flows x 2 */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fo_key6);
	__type(value, struct fo_flow6);
} fo_flows6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FO_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} fo_stats SEC(".maps");

static __always_inline void fo_stat_inc(enum fo_stat stat)
{
	__u32 key = stat;
	__u64 *v = bpf_map_lookup_elem(&fo_stats, &key);

	if (v)
		*v += 1;	/* per-CPU slot: no atomic needed */
}

#endif /* FC_BPF_OFFLOAD_MAPS_H */
