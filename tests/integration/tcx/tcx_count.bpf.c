// SPDX-License-Identifier: GPL-2.0
/*
 * test_tcx.py's "other TC user": counts every packet, and the IPv4 packets
 * that carry the watched address (slot FC_PEER_WATCH, set by tcx_peer) as
 * source or destination, then passes the packet on down the chain
 * (TCX_NEXT), as a well-behaved TCX program does.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "tcx_peer.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FC_PEER_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} peer_count SEC(".maps");

static __always_inline void bump(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&peer_count, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("tc")
int peer_count_prog(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u32 slot = FC_PEER_WATCH;
	__u64 *watch;

	bump(FC_PEER_ALL);
	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	watch = bpf_map_lookup_elem(&peer_count, &slot);
	if (watch && *watch && (ip->saddr == (__u32)*watch || ip->daddr == (__u32)*watch))
		bump(FC_PEER_SEEN);
	return -1;	/* TCX_NEXT */
}

char LICENSE[] SEC("license") = "GPL";
