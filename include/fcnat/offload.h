/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Conntrack flow offload (`fcnat offload`, doc/design/offload.md): the
 * types the offload datapath (bpf/lib/offload.h) and user space
 * (src/offload.c) share. Netfilter decides which flows pass and how they
 * are translated; user space copies each forwarded, established flow's two
 * directions from conntrack into fo_flows4, and the datapath forwards
 * their packets with the same translation.
 */
#ifndef FCNAT_OFFLOAD_H
#define FCNAT_OFFLOAD_H

#include <linux/types.h>

/* A packet as it arrives: one conntrack tuple (addresses and ports in
 * network order). 16 bytes, no hole, so keys hash the same on both sides. */
struct fo_key4 {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad[3];
};

#define FO_DIR_ORIG	0	/* the direction that opened the flow */
#define FO_DIR_REPLY	1

/*
 * The next hop a FIB lookup gave a flow's direction, kept until anything
 * that could change it happens (user space bumps fo_nh_gen on each route,
 * rule, neighbour or link change), and a second at most (what no event
 * says: a sysctl, a change while no daemon runs): until then a packet
 * costs no lookup. Written by the datapath only; gen 0 while written.
 */
struct fo_nh {
	__u32 gen;		/* fo_nh_gen it was found under; 0: none */
	__u32 ifindex;
	__u32 stamp;		/* bpf_ktime_get_ns() >> 20 (about ms) when found */
	__u16 max_len;		/* the longest IP packet the lookup let through (MTU) */
	__u8 smac[6];
	__u8 dmac[6];
	__u8 pad[6];
};

#define FO_NH_MAX_AGE	1024	/* stamp units: about a second */

/*
 * One direction of an offloaded flow: what its packets leave with (the
 * other direction's tuple, reversed: that is how conntrack's NAT maps
 * them), and its traffic. last_seen_ns is bpf_ktime_get_ns()
 * (CLOCK_MONOTONIC); user space refreshes the conntrack timeout from it.
 * packets/bytes: atomic adds (two CPUs may carry one direction).
 */
struct fo_flow4 {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 dir;		/* FO_DIR_* */
	__u8 pad[3];
	struct fo_key4 rev;	/* the other direction's key (FIN/RST drop both) */
	__u64 last_seen_ns;
	__u64 packets;
	__u64 bytes;		/* IP length, as conntrack's accounting counts */
	struct fo_nh nh;
};

/* The same for IPv6: 40 bytes, no hole. */
struct fo_key6 {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* One direction of an offloaded IPv6 flow, as fo_flow4. */
struct fo_flow6 {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u8 dir;
	__u8 pad[3];
	struct fo_key6 rev;
	__u64 last_seen_ns;
	__u64 packets;
	__u64 bytes;		/* IPv6 header and payload */
	struct fo_nh nh;
};

/* Why a packet went where it went; per-CPU counters, names in src/offload_stats.c. */
enum fo_stat {
	FO_STAT_FORWARDED,		/* carried by the fast path */
	FO_STAT_PASS_NOT_OFFLOADED,	/* no offloaded flow: the stack's */
	FO_STAT_PASS_NOT_IP,		/* neither IPv4 nor IPv6 (ARP, ...) */
	FO_STAT_PASS_OTHER_PROTO,	/* not TCP or UDP (ICMP, ICMPv6, ...) */
	FO_STAT_PASS_FRAGMENT,
	FO_STAT_PASS_IP_OPTIONS,	/* IPv4 options, IPv6 extension headers */
	FO_STAT_PASS_MALFORMED,
	FO_STAT_PASS_TTL,		/* TTL or hop limit <= 1: the stack sends time exceeded */
	FO_STAT_PASS_FIN_RST,		/* the flow is handed back to conntrack */
	FO_STAT_PASS_NO_NEIGH,		/* the stack resolves the next hop */
	FO_STAT_PASS_MTU,		/* too big for the egress: fragment or ICMP */
	FO_STAT_PASS_GSO_MTU,		/* GSO packet whose segments are too big for the egress */
	FO_STAT_PASS_NO_ROUTE,		/* unreachable, blackhole, prohibit */
	FO_STAT_PASS_LOCAL,		/* for the router itself, or not forwarding */
	FO_STAT_PASS_MARK,		/* marked: policy routing the FIB would not see */
	FO_STAT_PASS_OTHER_IF,		/* routed out of an interface not given with -i */
	FO_STAT_FORWARDED6,		/* of FORWARDED, the IPv6 packets */
	FO_STAT_NH_CACHED,		/* of FORWARDED, sent to the cached next hop */
	FO_STAT_MAX
};

#endif /* FCNAT_OFFLOAD_H */
