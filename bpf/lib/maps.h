/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The datapath's state. Sizes here are defaults: the loader sets
 * max_entries from the configuration before load. Hash maps are not LRU on
 * purpose: a full table refuses new flows instead of silently evicting a
 * live one (doc/design/expiry.md).
 */
#ifndef FC_BPF_MAPS_H
#define FC_BPF_MAPS_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fc_config);
} fc_config SEC(".maps");

/* Each mapping twice: internal endpoint -> external, external -> internal. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 131072);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fc_endpoint_key);
	__type(value, struct fc_binding);
} fc_bindings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fc_session_key);
	__type(value, struct fc_session);
} fc_sessions SEC(".maps");

/* LRU on purpose here: losing a fragment train's state costs one datagram,
 * never a mapping, and needs no sweeping. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct fc_frag_key);
	__type(value, struct fc_frag);
} fc_frags SEC(".maps");

/* NAT events for the event log; written only when FC_CFG_EVENTS is set,
 * never waited on: a full buffer loses the event and counts it. The size is
 * set at load (--event-ring-kb); this is the default. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} fc_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FC_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} fc_stats SEC(".maps");

static __always_inline const struct fc_config *config_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&fc_config, &zero);
}

static __always_inline void stat_inc(enum fc_stat stat)
{
	__u32 key = stat;
	__u64 *v = bpf_map_lookup_elem(&fc_stats, &key);

	if (v)
		*v += 1;	/* per-CPU slot: no atomic needed */
}

/* bpf_printk gated by the run-time --bpf-log level. */
#define fc_log(cfg, level, fmt, ...)					\
	do {								\
		if (unlikely((cfg)->log_level >= (level)))		\
			bpf_printk("fcnat: " fmt, ##__VA_ARGS__);	\
	} while (0)

#endif /* FC_BPF_MAPS_H */
