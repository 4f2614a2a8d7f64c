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
 */
#ifndef FC_BPF_HAIRPIN_H
#define FC_BPF_HAIRPIN_H

#include "nat4.h"

/* Forward a packet just rewritten to daddr, bypassing the stack. */
static __always_inline int hairpin_forward(struct ctx_buff *ctx, const struct fc_pkt *p,
					   __be32 saddr, __be32 daddr)
{
	struct bpf_fib_lookup fib = {};
	long ret;

	fib.family = AF_INET_;
	fib.l4_protocol = p->proto;
	/* With a length the lookup also checks the egress MTU. */
	fib.tot_len = ctx_is_gso(ctx) ? 0 : p->l3_end - p->l3_off;
	fib.ifindex = ctx_ifindex(ctx);
	fib.ipv4_src = saddr;
	fib.ipv4_dst = daddr;
	ret = ctx_fib_lookup(ctx, &fib);
	/* No neighbour entry yet is fine: bpf_redirect_neigh resolves it. */
	if (ret != BPF_FIB_LKUP_RET_SUCCESS && ret != BPF_FIB_LKUP_RET_NO_NEIGH) {
		stat_inc(FC_STAT_DROP_HAIRPIN_NO_ROUTE);
		return CTX_DROP;
	}
	stat_inc(FC_STAT_HAIRPIN_TRANSLATED);
	return ret == BPF_FIB_LKUP_RET_SUCCESS ? ctx_redirect_out(ctx, &fib)
					       : ctx_redirect_resolve(ctx, &fib);
}

/* Rewrite source and destination endpoints in one go. */
static __always_inline int rewrite_both(struct ctx_buff *ctx, const struct fc_pkt *p,
					__be32 saddr, __be16 sport, __be32 daddr, __be16 dport)
{
	if (rewrite_l4_field(ctx, p, l4_port_off(p, 0), p->sport, sport) ||
	    rewrite_l4_field(ctx, p, l4_port_off(p, 1), p->dport, dport) ||
	    rewrite_addr4(ctx, p, 0, p->saddr.v4, saddr) ||
	    rewrite_addr4(ctx, p, 1, p->daddr.v4, daddr))
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

	int_endpoint_key(&key, FC_AF_INET, FC_AF_INET, p->proto, &p->saddr, p->sport);
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
	    rewrite_addr4(ctx, p, 0, p->saddr.v4, b->addr.v4)) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	}
	stat_inc(FC_STAT_HAIRPIN_TO_GATEWAY);
	return ctx_redirect_local(ctx);
}

/* A packet from inside to the external address that hairpinning may turn
 * around: TCP or UDP with ports, not a fragment. */
static __always_inline int hairpin_candidate(const struct fc_config *cfg, const struct fc_pkt *p)
{
	return ext_addr4_is_ours(cfg, p->daddr.v4) && p->has_l4 && !p->is_fragment &&
	       (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP);
}

/*
 * Both ends of a hairpinned packet: the sender's external view (*src,
 * *sport: its mapping, made if needed; a gateway process gets one only for
 * a source port of the range, as on the external interface, otherwise it
 * keeps its own address and port) and the mapped endpoint it goes to (*ext).
 * FC_STAT_MAX, or the reason to drop.
 */
static __always_inline int hairpin_lookup(const struct fc_config *cfg, const struct fc_pkt *p,
					  int from_gateway, __u64 now, union fc_addr *src,
					  __be16 *sport, struct fc_binding **ext)
{
	struct fc_binding *b;
	int why;

	*src = p->saddr;
	*sport = p->sport;
	if (!from_gateway || (p->saddr.v4 == cfg->ext_addr4 &&
			      port_in_range(cfg, bpf_ntohs(p->sport)))) {
		why = snat_lookup(cfg, p, from_gateway ? FC_BINDING_ROUTER : 0, now, &b);
		if (why != FC_STAT_MAX)
			return why;
		*src = b->addr;
		*sport = b->port;
	}
	why = dnat_lookup(cfg, p, src, *sport, now, ext);
	/* An IPv4 host to a NAT64 mapping's external endpoint: the IPv6
	 * host is not reachable by hairpinning (not translated here). */
	if (why == FC_STAT_MAX && (*ext)->family != FC_AF_INET)
		return FC_STAT_NAT64_DROP_UNTRANSLATABLE;
	return why;
}

/*
 * A parsed packet to the external address, on the ingress of an internal
 * interface (from_gateway == 0) or of lo (from_gateway == 1: the sender is a
 * process on the gateway).
 */
static __always_inline int nat4_hairpin_parsed(struct ctx_buff *ctx, const struct fc_config *cfg,
					       struct fc_pkt *p, int from_gateway)
{
	struct fc_binding *ext;
	union fc_addr src;
	__be16 sport;
	int why;

	if (!hairpin_candidate(cfg, p))
		return CTX_PASS;	/* pings, errors, fragments: the gateway's */
	if (!from_gateway && (cfg->flags & FC_CFG_SCOPE) &&
	    !scope_match(FC_SCOPE_INTERNAL, p->family, &p->saddr))
		return CTX_PASS;	/* not a subscriber: not the NAT's business */
	if (!port_in_range(cfg, bpf_ntohs(p->dport)))
		return from_gateway ? CTX_PASS : hairpin_to_gateway(ctx, cfg, p);

	why = hairpin_lookup(cfg, p, from_gateway, fc_now(), &src, &sport, &ext);
	if (why != FC_STAT_MAX) {
		stat_inc(why);
		if (!from_gateway && refusal_answered(why))
			return refuse_with_icmp(ctx, cfg, p);
		return CTX_DROP;
	}

	if (ext->flags & FC_BINDING_ROUTER) {
		/* The mapped endpoint is a gateway process. With lo hairpinned
		 * (accept_local set there), it sees the sender's mapping as
		 * source, handed up through lo; otherwise the real source, as
		 * a local one arriving here would be a martian. */
		if (!from_gateway && (cfg->flags & FC_CFG_HAIRPIN_LO)) {
			if (rewrite_both(ctx, p, src.v4, sport, ext->addr.v4, ext->port)) {
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
	if (rewrite_both(ctx, p, src.v4, sport, ext->addr.v4, ext->port) ||
	    (!from_gateway && ipv4_dec_ttl(ctx, p))) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	}
	fc_log(cfg, 4, "hairpin -> %pI4:%u", &ext->addr.v4, bpf_ntohs(ext->port));
	return hairpin_forward(ctx, p, src.v4, ext->addr.v4);
}

/* Ingress of an internal interface (from_gateway == 0) or of lo
 * (from_gateway == 1). */
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
	return nat4_hairpin_parsed(ctx, cfg, &p, from_gateway);
}

#endif /* FC_BPF_HAIRPIN_H */
