/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ICMP errors NAT64 answers packets it discards with (RFC 7915 §4.4,
 * §5.4; RFC 6146 §3.4, §3.5): built by refuse.h's builders, which share
 * one rate limit (--refused-icmp-rate), counted as nat64_discard_icmp_sent.
 *
 *   4 -> 6: unexpired source route (§4.1)      ICMPv4 3/5
 *           TTL expiring here (§4.1 MUST)      ICMPv4 11/0
 *           fragmented ICMP, first fragment    ICMPv4 3/13 (§1.2, §4.4's default)
 *   6 -> 4: routing header, segments left      ICMPv6 4/0, pointer (§5.1)
 *           protocol other than TCP/UDP/ICMPv6 ICMPv6 1/4 (RFC 6146 §3.4)
 *           no mapping can be made             ICMPv6 1/3 (RFC 6146 §3.5.1.1)
 *           no IPv4 route, unreachable route   ICMPv6 1/0 (§5.4, as the stack's
 *           prohibit route                     ICMPv6 1/1  unreachable/prohibit)
 *
 * Never about an ICMP error (RFC 7915 §4.4, RFC 4443 §2.4 (e)), nor about
 * a non-first fragment (RFC 1122 §3.2.2); §5.4 also spares every other
 * ICMPv6 message but the source-routed one.
 */
#ifndef FC_BPF_NAT64_DISCARD_H
#define FC_BPF_NAT64_DISCARD_H

#include "refuse.h"

#define ICMP_SR_FAILED		5	/* Destination Unreachable: source route failed */
#define ICMPV6_NOROUTE		0	/* Destination Unreachable codes (RFC 4443 §3.1) */
#define ICMPV6_ADM_PROHIBITED	1
#define ICMPV6_ADDR_UNREACH	3
#define ICMPV6_PORT_UNREACH	4

#define NAT64_ANSWER(type, code) FC_ICMP_WHAT(type, code, FC_STAT_NAT64_DISCARD_ICMP_SENT)

/*
 * Where the Segments Left byte of the first routing header with segments
 * left is, from the start of the IPv6 header (the Parameter Problem
 * pointer, RFC 7915 §5.1); 0 if there is none. Only the headers the
 * translator drops are walked: whatever follows them is not a routing
 * header it could pass.
 */
static __always_inline __u32 nat64_segments_left_ptr(struct ctx_buff *ctx, const struct fc_pkt *p)
{
	__u32 off = p->l3_off + sizeof(struct ipv6hdr);
	__u8 nh, h[4];
	int i;

	if (p->l4_off <= off ||
	    ctx_load(ctx, p->l3_off + offsetof(struct ipv6hdr, nexthdr), &nh, 1))
		return 0;
#pragma unroll
	for (i = 0; i < FC_IP6_EXT_MAX_HDRS; i++) {
		if (off >= p->l4_off || ctx_load(ctx, off, h, sizeof(h)))
			return 0;
		if (nh == NEXTHDR_ROUTING && h[3])
			return off + 3 - p->l3_off;
		if (nh != NEXTHDR_ROUTING && nh != NEXTHDR_HOP && nh != NEXTHDR_DEST)
			return 0;
		nh = h[0];
		off += ((__u32)h[1] + 1) * 8;
	}
	return 0;
}

/* The IPv4 packet's TTL (0 if it cannot be read: not answered). */
static __always_inline __u8 nat64_ttl(struct ctx_buff *ctx, const struct fc_pkt *p)
{
	__u8 ttl = 0;

	ctx_load(ctx, p->l3_off + offsetof(struct iphdr, ttl), &ttl, 1);
	return ttl;
}

/* 4 -> 6: the IPv4 sender is told (first fragments and whole packets that
 * are no ICMP error); the error leaves by the external interface's egress,
 * where nat4_egress must let it pass. */
static __always_inline int nat64_answer4(struct ctx_buff *ctx, const struct fc_pkt *p,
					 int is_error, __u32 what)
{
	if (is_error || !p->has_l4)
		return CTX_DROP;
	ctx_mark_translated(ctx);
	return icmp4_error_reply(ctx, config_get(), p, what, 0);
}

/* 6 -> 4: the IPv6 sender is told (info: the 4 bytes after the checksum,
 * network order), about anything but a non-first fragment; the caller
 * spares ICMPv6 messages. */
static __always_inline int nat64_answer6(struct ctx_buff *ctx, const struct fc_pkt *p, __u32 what,
					 __u32 info)
{
	if (p->frag_off & IP6_OFFSET)
		return CTX_DROP;
	return icmp6_error_reply(ctx, config_get(), p, what, info);
}

#endif /* FC_BPF_NAT64_DISCARD_H */
