/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Conntrack flow offload: forward the packets of a flow netfilter has
 * accepted and conntrack has established, with conntrack's NAT applied,
 * straight out of the interface the FIB names (doc/design/offload.md).
 *
 * It decides nothing: a packet of a flow user space has not offloaded goes
 * to the stack untouched, and so does every packet the fast path cannot
 * finish as the stack would (fragments, IP options, TTL expiring, no
 * neighbour yet, too big, for the router itself), counted by reason. TCP
 * FIN and RST end the offload of their flow here, at once: conntrack sees
 * the close and the rest of the flow, and its timers run as usual.
 * Written against ctx_* only (one source for the TC and XDP entry points);
 * every decision to pass is taken before the packet changes.
 */
#ifndef FC_BPF_OFFLOAD_H
#define FC_BPF_OFFLOAD_H

#include "csum.h"
#include "offload_maps.h"

#define FO_AF_INET	2

static __always_inline int fo_pass(enum fo_stat why)
{
	fo_stat_inc(why);
	return CTX_PASS;
}

/* The FIB's next hop for the translated packet, as the stack would route
 * it from this interface (MTU checked). FO_STAT_MAX: send it. */
static __always_inline int fo_route(struct ctx_buff *ctx, const struct fc_pkt *p,
				    const struct fo_flow4 *f, struct bpf_fib_lookup *fib)
{
	long ret;

	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = FO_AF_INET;
	fib->l4_protocol = p->proto;
	/* A GSO packet's length says nothing of its segments': checked below. */
	fib->tot_len = ctx_is_gso(ctx) ? 0 : p->l3_end - p->l3_off;
	fib->ifindex = ctx_ifindex(ctx);
	fib->ipv4_src = f->saddr;
	fib->ipv4_dst = f->daddr;
	ret = ctx_fib_lookup(ctx, fib);
	switch (ret) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		break;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		return FO_STAT_PASS_NO_NEIGH;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return FO_STAT_PASS_MTU;
	case BPF_FIB_LKUP_RET_NOT_FWDED:
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		return FO_STAT_PASS_LOCAL;
	default:
		return FO_STAT_PASS_NO_ROUTE;
	}
	/* Only between the interfaces given: XDP can send nowhere else, and
	 * a flow routed elsewhere (a tunnel, a VPN) is the stack's. */
	if (!ctx_can_send(ctx, fib->ifindex))
		return FO_STAT_PASS_OTHER_IF;
	if (ctx_is_gso(ctx) && !ctx_gso_fits(ctx, fib->ifindex))
		return FO_STAT_PASS_MTU;
	return FO_STAT_MAX;
}

/* Rewrite what conntrack's NAT changes (a no-op field by field where it
 * changes nothing). */
static __always_inline int fo_rewrite(struct ctx_buff *ctx, const struct fc_pkt *p,
				      const struct fo_flow4 *f)
{
	__u32 sport_off = p->l4_off + offsetof(struct udphdr, source);
	__u32 dport_off = p->l4_off + offsetof(struct udphdr, dest);

	return rewrite_l4_field(ctx, p, sport_off, p->sport, f->sport) ||
	       rewrite_l4_field(ctx, p, dport_off, p->dport, f->dport) ||
	       rewrite_addr4(ctx, p, 0, p->saddr.v4, f->saddr) ||
	       rewrite_addr4(ctx, p, 1, p->daddr.v4, f->daddr);
}

/* A FIN or RST: both directions leave the fast path now (user space sees
 * the entries gone and stops refreshing the conntrack entry). */
static __always_inline int fo_hand_back(const struct fo_key4 *key, struct fo_flow4 *f)
{
	struct fo_key4 rev = f->rev;

	bpf_map_delete_elem(&fo_flows4, key);
	bpf_map_delete_elem(&fo_flows4, &rev);
	return fo_pass(FO_STAT_PASS_FIN_RST);
}

static __always_inline int offload_ingress(struct ctx_buff *ctx)
{
	struct bpf_fib_lookup fib;
	struct fc_pkt p = {};
	struct fo_flow4 *f;
	struct fo_key4 key = {};
	pkt_iphdr *iph;
	int ret, why;

	ret = parse_ipv4(ctx, &p);
	if (ret == FC_PARSE_NOT_IPV4)
		return fo_pass(FO_STAT_PASS_NOT_IP);
	if (ret != FC_PARSE_OK)
		return fo_pass(FO_STAT_PASS_MALFORMED);
	if (p.proto != IPPROTO_TCP && p.proto != IPPROTO_UDP)
		return fo_pass(FO_STAT_PASS_OTHER_PROTO);
	if (!p.has_l4 || p.is_fragment)
		return fo_pass(FO_STAT_PASS_FRAGMENT);

	key.saddr = p.saddr.v4;
	key.daddr = p.daddr.v4;
	key.sport = p.sport;
	key.dport = p.dport;
	key.proto = p.proto;
	f = bpf_map_lookup_elem(&fo_flows4, &key);
	if (!f)
		return fo_pass(FO_STAT_PASS_NOT_OFFLOADED);
	if (p.proto == IPPROTO_TCP && (p.tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST)))
		return fo_hand_back(&key, f);

	iph = ctx_ptr(ctx, p.l3_off, sizeof(*iph));
	if (!iph)
		return fo_pass(FO_STAT_PASS_MALFORMED);
	if (iph->ihl != 5)
		return fo_pass(FO_STAT_PASS_IP_OPTIONS);
	if (iph->ttl <= 1)
		return fo_pass(FO_STAT_PASS_TTL);
	if (!ctx_fast_ok(ctx))
		return fo_pass(FO_STAT_PASS_MARK);
	why = fo_route(ctx, &p, f, &fib);
	if (why != FO_STAT_MAX)
		return fo_pass(why);

	/* Seen, then counted: conntrack's timeout follows last_seen_ns. */
	f->last_seen_ns = bpf_ktime_get_ns();
	__sync_fetch_and_add(&f->packets, 1);
	__sync_fetch_and_add(&f->bytes, p.l3_end - p.l3_off);

	if (fo_rewrite(ctx, &p, f) || ipv4_dec_ttl(ctx, &p) ||
	    ctx_l2_out(ctx, p.l3_off, &fib))
		return CTX_DROP;	/* the packet may be half rewritten */
	fo_stat_inc(FO_STAT_FORWARDED);
	return ctx_redirect_out(ctx, &fib);
}

#endif /* FC_BPF_OFFLOAD_H */
