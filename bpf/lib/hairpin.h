/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hairpinning (RFC 4787 REQ-9, RFC 5382 REQ-8) without routing tricks, on
 * the ingress of internal interfaces and of lo.
 *
 * A packet from inside to the external address and a mapped port of the
 * range never needs to leave: its source becomes the sender's mapping and
 * its destination the mapped host, and it is sent straight to that host
 * (FIB lookup, bpf_redirect_neigh). The stack would drop it otherwise: its
 * new source is one of the gateway's own addresses. The mapped host's
 * answer comes back the same way, so both see each other's external
 * endpoints. A process on the gateway reaches a mapped host the same way
 * from lo; the host's answer to it gets its mapping as source and is handed
 * to the stack through lo. See doc/design/hairpin.md.
 *
 * One engine for both families: NAT66 (nat6_hairpin) runs the same steps
 * with FC_AF_INET6, a constant, so NAT44's path compiles as before.
 */
#ifndef FC_BPF_HAIRPIN_H
#define FC_BPF_HAIRPIN_H

#include "nat6.h"

/* Forward a packet just rewritten to daddr, bypassing the stack: the FIB
 * of the family (a constant: each family's path compiles to its own). */
static __always_inline int hairpin_forward(struct ctx_buff *ctx, const struct fc_pkt *p,
					   __u8 family, const union fc_addr *saddr,
					   const union fc_addr *daddr)
{
	struct bpf_fib_lookup fib = {};
	long ret;

	fib.l4_protocol = p->proto;
	/* With a length the lookup also checks the egress MTU. */
	fib.tot_len = ctx_is_gso(ctx) ? 0 : p->l3_end - p->l3_off;
	fib.ifindex = ctx_ifindex(ctx);
	if (family == FC_AF_INET6) {
		fib.family = AF_INET6_;
		__builtin_memcpy(fib.ipv6_src, saddr->v6, 16);
		__builtin_memcpy(fib.ipv6_dst, daddr->v6, 16);
	} else {
		fib.family = AF_INET_;
		fib.ipv4_src = saddr->v4;
		fib.ipv4_dst = daddr->v4;
	}
	ret = ctx_fib_lookup(ctx, &fib);
	/* No neighbour entry yet is fine: bpf_redirect_neigh resolves it. */
	if (ret != BPF_FIB_LKUP_RET_SUCCESS && ret != BPF_FIB_LKUP_RET_NO_NEIGH) {
		stat_inc(FC_STAT_DROP_HAIRPIN_NO_ROUTE);
		return CTX_DROP;
	}
	if (ctx_l2_push(ctx, p->l3_off)) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	}
	stat_inc(FC_STAT_HAIRPIN_TRANSLATED);
	return ret == BPF_FIB_LKUP_RET_SUCCESS ? ctx_redirect_out(ctx, &fib)
					       : ctx_redirect_resolve(ctx, &fib);
}

/* Rewrite source and destination endpoints in one go. */
static __always_inline int rewrite_both(struct ctx_buff *ctx, const struct fc_pkt *p, __u8 family,
					const union fc_addr *saddr, __be16 sport,
					const union fc_addr *daddr, __be16 dport)
{
	if (rewrite_ports(ctx, p, sport, dport) ||
	    rewrite_addr(ctx, p, family, 0, &p->saddr, saddr) ||
	    rewrite_addr(ctx, p, family, 1, &p->daddr, daddr))
		return -1;
	return 0;
}

/*
 * The answer of an internal host to a gateway process that reached it
 * through the host's mapping: show the mapping as its source, hand it to
 * the stack through lo. Anything else to the gateway passes untouched.
 */
static __always_inline int hairpin_to_gateway(struct ctx_buff *ctx, const struct fc_config *cfg,
					      const struct fc_pkt *p)
{
	struct fc_endpoint_key key;
	struct fc_session_key skey;
	struct fc_binding *b;
	struct fc_session *s;
	__u64 now = fc_now();

	fc_int_endpoint_key(&key, FC_AF_INET, FC_AF_INET, p->proto, &p->saddr, p->sport);
	b = bpf_map_lookup_elem(&fc_bindings, &key);
	if (!b)
		return CTX_PASS;
	session_key(&skey, FC_AF_INET, p->proto, &b->addr, b->port, &p->daddr, p->dport);
	s = bpf_map_lookup_elem(&fc_sessions, &skey);
	if (!s || s->expires_ns <= now)
		return CTX_PASS;
	session_update(cfg, p->proto, s, tcp_bits(p, FC_DIR_OUT), now);
	if (b->last_out_ns != now)
		b->last_out_ns = now;
	if (rewrite_l4_field(ctx, p, l4_port_off(p, 0), p->sport, b->port) ||
	    rewrite_addr4(ctx, p, 0, p->saddr.v4, b->addr.v4) || ctx_l2_push(ctx, p->l3_off)) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	}
	stat_inc(FC_STAT_HAIRPIN_TO_GATEWAY);
	return ctx_redirect_local(ctx);
}

/* A packet from inside to the external address of its family that
 * hairpinning may turn around: TCP or UDP with ports, not a fragment. */
static __always_inline int hairpin_candidate(const struct fc_config *cfg, const struct fc_pkt *p,
					     __u8 family)
{
	return is_ext_addr(cfg, family, &p->daddr) && p->has_l4 && !p->is_fragment &&
	       (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP);
}

/* hairpin_lookup: the mapped endpoint is a NAT64 mapping's IPv6 host (no
 * fc_stat). Both mappings are made and their sessions kept. */
#define FC_HAIRPIN_NAT64	(FC_STAT_MAX + 1)

/* nat_hairpin_parsed's verdict for it, never returned to the kernel: the
 * entry point calls nat64_hairpin4 (nat64_hairpin.h), whose translation
 * needs a stack frame of its own. */
#define FC_HAIRPIN_NAT64_PENDING	0x6465

/*
 * Both ends of a hairpinned packet: the sender's external view (*src,
 * *sport: its mapping, made if needed; a gateway process gets one only for
 * a source port of the range, as on the external interface, otherwise it
 * keeps its own address and port) and the mapped endpoint it goes to (*ext).
 * The lookups are those of the external interface's two directions, in the
 * packet's family (IPv6: NAT66's, on the external IPv6 address; there is no
 * gateway-process variant). FC_STAT_MAX, or the reason to drop.
 */
static __always_inline int hairpin_lookup(const struct fc_config *cfg, const struct fc_pkt *p,
					  __u8 family, int from_gateway, __u64 now,
					  union fc_addr *src, __be16 *sport, struct fc_binding **ext)
{
	struct fc_binding *b;
	int why;

	if (family == FC_AF_INET6) {
		why = snat_lookup_af(cfg, p, FC_AF_INET6, FC_AF_INET6, &cfg->ext_addr6, 0, now, &b);
		if (why != FC_STAT_MAX)
			return why;
		*src = b->addr;
		*sport = b->port;
		return dnat_lookup_af(cfg, p, FC_AF_INET6, FC_AF_INET6, src, *sport, now, ext);
	}
	*src = p->saddr;
	*sport = p->sport;
	if (!from_gateway || (p->saddr.v4 == cfg->ext_addr4 &&
			      fc_port_in_range(cfg, p->proto, bpf_ntohs(p->sport)))) {
		why = snat_lookup(cfg, p, from_gateway ? FC_BINDING_ROUTER : 0, now, &b);
		if (why != FC_STAT_MAX)
			return why;
		*src = b->addr;
		*sport = b->port;
	}
	why = dnat_lookup(cfg, p, src, *sport, now, ext);
	/* An IPv4 host to a NAT64 mapping's external endpoint: translated
	 * to IPv6 on a frame of its own (nat64_hairpin4). A gateway process
	 * has no IPv6 view of itself to show: not reached. */
	if (why == FC_STAT_MAX && (*ext)->family != FC_AF_INET)
		return from_gateway ? FC_STAT_NAT64_DROP_UNTRANSLATABLE : FC_HAIRPIN_NAT64;
	return why;
}

/* A hairpinned packet crosses the gateway as a router: the TTL or hop
 * limit goes down by one (callers checked it is above 1). */
static __always_inline int hairpin_dec_ttl(struct ctx_buff *ctx, const struct fc_pkt *p,
					   __u8 family)
{
	if (family == FC_AF_INET6)
		return ipv6_dec_hop_limit(ctx, p);
	return ipv4_dec_ttl(ctx, p);
}

/*
 * A parsed packet of family to the external address, on the ingress of an
 * internal interface (from_gateway == 0) or of lo (from_gateway == 1: the
 * sender is a process on the gateway; IPv4 only).
 */
static __always_inline int nat_hairpin_parsed(struct ctx_buff *ctx, const struct fc_config *cfg,
					      struct fc_pkt *p, __u8 family, int from_gateway)
{
	struct fc_binding *ext;
	union fc_addr src;
	__be16 sport;
	int why;

	if (!hairpin_candidate(cfg, p, family))
		return CTX_PASS;	/* pings, errors, fragments: the gateway's */
	if (family == FC_AF_INET && !from_gateway && (cfg->flags & FC_CFG_SCOPE) &&
	    !scope_match(FC_SCOPE_INTERNAL, p->family, &p->saddr))
		return CTX_PASS;	/* not a subscriber: not the NAT's business */
	if (!fc_port_in_range(cfg, p->proto, bpf_ntohs(p->dport)))
		/* The gateway's own service. (No IPv6 gateway process
		 * reaches a host through its mapping: no lo variant.) */
		return from_gateway || family == FC_AF_INET6 ? CTX_PASS
							     : hairpin_to_gateway(ctx, cfg, p);

	why = hairpin_lookup(cfg, p, family, from_gateway, fc_now(), &src, &sport, &ext);
	if (why == FC_HAIRPIN_NAT64)
		return FC_HAIRPIN_NAT64_PENDING;
	if (why != FC_STAT_MAX) {
		stat_inc(why);
		if (family == FC_AF_INET && !from_gateway && refusal_answered(why))
			return refuse_with_icmp(ctx, cfg, p);
		return CTX_DROP;
	}

	if (ext->flags & FC_BINDING_ROUTER) {
		/* The mapped endpoint is a gateway process. With lo hairpinned
		 * (accept_local set there; IPv4), it sees the sender's mapping
		 * as source, handed up through lo; otherwise the real source,
		 * as a local one arriving here would be a martian. */
		if (family == FC_AF_INET && !from_gateway && (cfg->flags & FC_CFG_HAIRPIN_LO)) {
			if (rewrite_both(ctx, p, family, &src, sport, &ext->addr, ext->port) ||
			    ctx_l2_push(ctx, p->l3_off)) {
				stat_inc(FC_STAT_DROP_MALFORMED);
				return CTX_DROP;
			}
			stat_inc(FC_STAT_HAIRPIN_TO_GATEWAY);
			return ctx_redirect_local(ctx);
		}
		if (rewrite_l4_field(ctx, p, l4_port_off(p, 1), p->dport, ext->port)) {
			stat_inc(FC_STAT_DROP_MALFORMED);
			return CTX_DROP;
		}
		stat_inc(FC_STAT_HAIRPIN_TRANSLATED);
		return CTX_PASS;
	}
	if (family == FC_AF_INET6 && p->hop_limit <= 1)
		/* Expires here, as forwarded: Time Exceeded to the sender,
		 * about the packet as it sent it (RFC 4443 §3.3). */
		return icmp6_error_reply(ctx, cfg, p,
					 FC_ICMP_WHAT(ICMPV6_TIME_EXCEED, ICMPV6_EXC_HOPLIMIT,
						      FC_STAT_HAIRPIN_TIME_EXCEEDED), 0);
	if (rewrite_both(ctx, p, family, &src, sport, &ext->addr, ext->port) ||
	    (!from_gateway && hairpin_dec_ttl(ctx, p, family))) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	}
	if (family == FC_AF_INET6)
		fc_log(cfg, 4, "hairpin -> %pI6:%u", ext->addr.v6, bpf_ntohs(ext->port));
	else
		fc_log(cfg, 4, "hairpin -> %pI4:%u", &ext->addr.v4, bpf_ntohs(ext->port));
	return hairpin_forward(ctx, p, family, &src, &ext->addr);
}

/* IPv4, on the ingress of an internal interface (from_gateway == 0) or of
 * lo (from_gateway == 1). */
static __always_inline int nat4_hairpin(struct ctx_buff *ctx, int from_gateway)
{
	const struct fc_config *cfg = config_get();
	struct fc_pkt p = {};

	if (!cfg || !(cfg->flags & FC_CFG_NAT44) || !nat4_has_addr(cfg))
		return CTX_PASS;
	if (from_gateway && ctx_redirected_local(ctx))
		return CTX_PASS;	/* translated already, on its way up */
	if (parse_ipv4(ctx, &p) != FC_PARSE_OK || !ext_addr4_is_ours(cfg, p.daddr.v4))
		return CTX_PASS;	/* not for an external address: routed as usual */
	return nat_hairpin_parsed(ctx, cfg, &p, FC_AF_INET, from_gateway);
}

/* nat6_hairpin: not to the external IPv6 address; the caller goes on
 * (NAT64). Never returned to the kernel. */
#define FC_HAIRPIN_NOT_OURS	0x6666

/*
 * IPv6, on the ingress of an internal interface, with NAT66 on: to the
 * external IPv6 address. Anything else is FC_HAIRPIN_NOT_OURS, found from
 * the destination address alone (the NAT64 half parses the rest). Packets
 * from a link-scope source or from the external address itself are left
 * to the stack, as before hairpinning.
 */
static __always_inline int nat6_hairpin(struct ctx_buff *ctx)
{
	const struct fc_config *cfg = config_get();
	struct fc_pkt p = {};
	union fc_addr dst;
	__u32 l2;

	if (!cfg || !(cfg->flags & FC_CFG_NAT66) || !ext_addr_set(cfg, FC_AF_INET6) ||
	    parse_l2(ctx, &l2) != bpf_htons(ETH_P_IPV6) ||
	    ctx_load(ctx, l2 + offsetof(struct ipv6hdr, daddr), dst.v6, 16) ||
	    !is_ext_addr(cfg, FC_AF_INET6, &dst))
		return FC_HAIRPIN_NOT_OURS;
	if (parse_ipv6(ctx, &p) != FC_PARSE_OK || ipv6_addr_local_scope(&p.saddr) ||
	    is_ext_addr(cfg, FC_AF_INET6, &p.saddr))
		return CTX_PASS;	/* the gateway's to judge */
	return nat_hairpin_parsed(ctx, cfg, &p, FC_AF_INET6, 0);
}

#endif /* FC_BPF_HAIRPIN_H */
