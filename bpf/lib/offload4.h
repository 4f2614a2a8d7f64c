/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The offload datapath for IPv4 (doc/design/offload.md): a packet of an
 * offloaded flow leaves with conntrack's NAT, the TTL one less and the
 * FIB's next hop; anything it cannot finish as the stack would goes to the
 * stack untouched, counted by reason.
 */
#ifndef FC_BPF_OFFLOAD4_H
#define FC_BPF_OFFLOAD4_H

#include "offload_fib.h"

#define FO_AF_INET	2

/* A FIN or RST: both directions leave the fast path now (user space sees
 * the entries gone and stops refreshing the conntrack entry). */
static __always_inline int fo_hand_back4(const struct fo_key4 *key, struct fo_flow4 *f)
{
	struct fo_key4 rev = f->rev;

	bpf_map_delete_elem(&fo_flows4, key);
	bpf_map_delete_elem(&fo_flows4, &rev);
	return fo_pass(FO_STAT_PASS_FIN_RST);
}

/* p: parsed by parse_ipv4, a TCP or UDP packet that is no fragment. */
static __always_inline int offload_ingress4(struct ctx_buff *ctx, struct fc_pkt *p)
{
	struct bpf_fib_lookup fib;
	struct fo_flow4 *f;
	struct fo_key4 key = {};
	pkt_iphdr *iph;
	int why, cached;
	__u64 now;

	key.saddr = p->saddr.v4;
	key.daddr = p->daddr.v4;
	key.sport = p->sport;
	key.dport = p->dport;
	key.proto = p->proto;
	f = bpf_map_lookup_elem(&fo_flows4, &key);
	if (!f)
		return fo_pass(FO_STAT_PASS_NOT_OFFLOADED);
	if (p->proto == IPPROTO_TCP && (p->tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST)))
		return fo_hand_back4(&key, f);

	iph = ctx_ptr(ctx, p->l3_off, sizeof(*iph));
	if (!iph)
		return fo_pass(FO_STAT_PASS_MALFORMED);
	if (iph->ihl != 5)
		return fo_pass(FO_STAT_PASS_IP_OPTIONS);
	if (iph->ttl <= 1)
		return fo_pass(FO_STAT_PASS_TTL);
	if (!ctx_fast_ok(ctx))
		return fo_pass(FO_STAT_PASS_MARK);
	__builtin_memset(&fib, 0, sizeof(fib));
	fib.family = FO_AF_INET;
	fib.l4_protocol = p->proto;
	fib.ipv4_src = f->saddr;
	fib.ipv4_dst = f->daddr;
	now = bpf_ktime_get_ns();
	cached = fo_nh_get(ctx, p, &f->nh, &fib, now);
	if (!cached) {
		why = fo_fib(ctx, p, &fib);
		if (why != FO_STAT_MAX)
			return fo_pass(why);
		fo_nh_put(ctx, p, &f->nh, &fib, now);
	}

	/* Seen, then counted: conntrack's timeout follows last_seen_ns. */
	f->last_seen_ns = now;
	__sync_fetch_and_add(&f->packets, 1);
	__sync_fetch_and_add(&f->bytes, p->l3_end - p->l3_off);

	if (rewrite_ports(ctx, p, f->sport, f->dport) ||
	    rewrite_addr4(ctx, p, 0, p->saddr.v4, f->saddr) ||
	    rewrite_addr4(ctx, p, 1, p->daddr.v4, f->daddr) || ipv4_dec_ttl(ctx, p) ||
	    ctx_l2_out(ctx, p->l3_off, &fib))
		return CTX_DROP;	/* the packet may be half rewritten */
	fo_stat_inc(FO_STAT_FORWARDED);
	if (cached)
		fo_stat_inc(FO_STAT_NH_CACHED);
	return ctx_redirect_out(ctx, &fib);
}

#endif /* FC_BPF_OFFLOAD4_H */
