/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The offload datapath for IPv6 (doc/design/offload.md): as offload4.h,
 * on 128-bit tuples. IPv6 has no header checksum: the addresses' change
 * goes into the TCP/UDP checksum through its pseudo-header (RFC 8200 8.1),
 * the hop limit into nothing but CHECKSUM_COMPLETE's skb->csum.
 */
#ifndef FC_BPF_OFFLOAD6_H
#define FC_BPF_OFFLOAD6_H

#include "offload_fib.h"

#define FO_AF_INET6	10

/*
 * The fixed header and a TCP or UDP header right behind it; FO_STAT_MAX
 * when that is what p holds, else why the packet is the stack's. Any
 * extension header sends it there: hop-by-hop options are for every router
 * to read, a routing header changes the destination, a fragment header
 * means reassembly (RFC 8200 4); flows carry none of them in practice.
 */
static __always_inline int fo_parse6(struct ctx_buff *ctx, struct fc_pkt *p)
{
	__u32 l2;
	int r = parse_ipv6_fixed_tagged(ctx, p, &l2, 1);	/* a --vlan link's tags: ctx_vlan_l2 */

	if (r == FC_PARSE_NOT_IPV4)
		return FO_STAT_PASS_NOT_IP;
	if (r != FC_PARSE_OK)
		return FO_STAT_PASS_MALFORMED;	/* a jumbogram too: the stack's */
	switch (p->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		break;
	case NEXTHDR_FRAGMENT:
		return FO_STAT_PASS_FRAGMENT;
	case NEXTHDR_HOP:
	case NEXTHDR_ROUTING:
	case NEXTHDR_DEST:
	case NEXTHDR_AUTH:
		return FO_STAT_PASS_IP_OPTIONS;
	default:
		return FO_STAT_PASS_OTHER_PROTO;
	}
	if (parse_l4(ctx, p) != FC_PARSE_OK)
		return FO_STAT_PASS_MALFORMED;
	return FO_STAT_MAX;
}

static __always_inline int fo_hand_back6(const struct fo_key6 *key, struct fo_flow6 *f)
{
	struct fo_key6 rev = f->rev;

	bpf_map_delete_elem(&fo_flows6, key);
	bpf_map_delete_elem(&fo_flows6, &rev);
	return fo_pass(FO_STAT_PASS_FIN_RST);
}

static __always_inline int offload_ingress6(struct ctx_buff *ctx)
{
	struct bpf_fib_lookup fib;
	struct fc_pkt p = {};
	struct fo_flow6 *f;
	struct fo_key6 key = {};
	union fc_addr to;
	int why, cached;
	__u64 now;

	why = fo_parse6(ctx, &p);
	if (why != FO_STAT_MAX)
		return fo_pass(why);
	__builtin_memcpy(key.saddr, p.saddr.v6, 16);
	__builtin_memcpy(key.daddr, p.daddr.v6, 16);
	key.sport = p.sport;
	key.dport = p.dport;
	key.proto = p.proto;
	f = bpf_map_lookup_elem(&fo_flows6, &key);
	if (!f)
		return fo_pass(FO_STAT_PASS_NOT_OFFLOADED);
	if (p.proto == IPPROTO_TCP && (p.tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST)))
		return fo_hand_back6(&key, f);
	if (p.hop_limit <= 1)
		return fo_pass(FO_STAT_PASS_TTL);	/* the stack sends time exceeded */
	if (!ctx_fast_ok(ctx))
		return fo_pass(FO_STAT_PASS_MARK);
	__builtin_memset(&fib, 0, sizeof(fib));
	fib.family = FO_AF_INET6;
	fib.l4_protocol = p.proto;
	__builtin_memcpy(fib.ipv6_src, f->saddr, 16);
	__builtin_memcpy(fib.ipv6_dst, f->daddr, 16);
	now = bpf_ktime_get_ns();
	cached = fo_nh_get(ctx, &p, &f->nh, &fib, now);
	if (!cached) {
		why = fo_fib(ctx, &p, &fib);
		if (why != FO_STAT_MAX)
			return fo_pass(why);
		fo_nh_put(ctx, &p, &f->nh, &fib, now);
	}

	f->last_seen_ns = now;
	__sync_fetch_and_add(&f->packets, 1);
	__sync_fetch_and_add(&f->bytes, p.l3_end - p.l3_off);

	if (rewrite_ports(ctx, &p, f->sport, f->dport))
		return CTX_DROP;
	__builtin_memcpy(to.v6, f->saddr, 16);
	if (rewrite_addr6(ctx, &p, 0, &p.saddr, &to))
		return CTX_DROP;
	__builtin_memcpy(to.v6, f->daddr, 16);
	if (rewrite_addr6(ctx, &p, 1, &p.daddr, &to) || ipv6_dec_hop_limit(ctx, &p) ||
	    ctx_l2_out(ctx, p.l3_off, &fib))
		return CTX_DROP;	/* the packet may be half rewritten */
	fo_stat_inc(FO_STAT_FORWARDED);
	if (cached)
		fo_stat_inc(FO_STAT_NH_CACHED);
	fo_stat_inc(FO_STAT_FORWARDED6);
	return ctx_redirect_out(ctx, &fib);
}

#endif /* FC_BPF_OFFLOAD6_H */
