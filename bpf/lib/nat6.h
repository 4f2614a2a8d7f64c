/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAT66: the same full-cone translation as NAT44 (EIM and EIF for UDP, TCP
 * and ICMPv6 echo, port ranges, timeouts, TCP state, ICMPv6 errors,
 * fragments) on the external interface's global IPv6 address. Only the
 * decisions that belong to IPv6 are here -- which packets are NAT traffic
 * at all, and the address rewrite without a header checksum; the lookups,
 * sessions, quote rewriting and fragment trains are nat4.h's family-generic
 * core, called with FC_AF_INET6 (doc/design/ipv6.md).
 *
 * Never touched, either way: link-local, multicast, unspecified and
 * loopback addresses, and the ICMPv6 messages of the link itself
 * (neighbour and router discovery, MLD, redirects): they are the stack's.
 */
#ifndef FC_BPF_NAT6_H
#define FC_BPF_NAT6_H

#include "nat4.h"

/* Addresses that never cross a router: ::, ::1, fe80::/10, ff00::/8 (a
 * multicast destination, of any scope, is never ours to translate). */
static __always_inline int ipv6_addr_local_scope(const union fc_addr *a)
{
	if (a->v6[0] == 0xff)
		return 1;
	if (a->v6[0] == 0xfe && (a->v6[1] & 0xc0) == 0x80)
		return 1;
	return !(a->v6w[0] | a->v6w[1] | a->v6w[2]) &&
	       (a->v6w[3] == 0 || a->v6w[3] == bpf_htonl(1));
}

/* ICMPv6 informational messages other than echo: MLD (130-132, 143),
 * router and neighbour discovery and redirect (133-137), router
 * renumbering, node information, inverse ND, SEND, RPL... all of the link,
 * or of the gateway itself. */
static __always_inline int icmp6_is_link_msg(__u8 type)
{
	return type > ICMPV6_ECHO_REPLY;
}

/*
 * Not NAT traffic at all: the stack's, untouched. A forwarded packet is
 * judged by its addresses only: one with global addresses on both sides
 * crossed the router, so whatever its ICMPv6 type it is an internal host's
 * and is translated or dropped, never passed with its source (a host could
 * otherwise leak its address in any informational type above 129).
 */
static __always_inline int nat6_link_only(const struct fc_pkt *p, int forwarded)
{
	return ipv6_addr_local_scope(&p->saddr) || ipv6_addr_local_scope(&p->daddr) ||
	       (!forwarded && p->proto == IPPROTO_ICMPV6 && p->has_l4 &&
		icmp6_is_link_msg(p->icmp_type));
}

/*
 * Outbound, on the external interface's egress, after the stack routed it
 * (and decremented the hop limit). As for NAT44, anything an internal host
 * sends that cannot be translated is dropped, never sent with its internal
 * source; the gateway's own packets are translated only from the external
 * address and a port of the range, or when they are ICMPv6 errors about a
 * packet translated inbound.
 */
static __always_inline int nat6_egress(struct ctx_buff *ctx)
{
	const struct fc_config *cfg = config_get();
	struct fc_binding *b;
	struct fc_pkt p = {};
	__u8 flags = 0;
	int ret, why;

	if (!cfg || !(cfg->flags & FC_CFG_NAT66)) {
		stat_inc(FC_STAT_PASS_NOT_IPV4);
		return CTX_PASS;
	}
	ret = parse_ipv6(ctx, &p);
	if (ret == FC_PARSE_NOT_IPV4) {
		stat_inc(FC_STAT_PASS_NOT_IPV4);
		return CTX_PASS;
	}
	if (ret != FC_PARSE_MALFORMED && nat6_link_only(&p, ctx_forwarded(ctx))) {
		if (ctx_forwarded(ctx)) {
			/* A router forwards no link-scope packet; one with a
			 * multicast destination (multicast routing) would
			 * leave with an internal source: no NAT for these. */
			stat_inc(FC_STAT_DROP_UNSUPPORTED_PROTO);
			return CTX_DROP;
		}
		stat_inc(FC_STAT_PASS_IPV6_LINK);
		return CTX_PASS;
	}

	if (!ctx_forwarded(ctx)) {
		if (ret == FC_PARSE_OK && p.proto == IPPROTO_ICMPV6 && p.has_l4 &&
		    icmp6_is_error(p.icmp_type))
			return nat_egress_icmp_error(ctx, &p, FC_AF_INET6, 0);
		if (ret != FC_PARSE_OK || !is_ext_addr(cfg, FC_AF_INET6, &p.saddr) || !p.has_l4 ||
		    (p.proto == IPPROTO_ICMPV6 && p.icmp_type != ICMPV6_ECHO_REQUEST) ||
		    !fc_port_in_range(cfg, p.proto, bpf_ntohs(p.sport))) {
			stat_inc(FC_STAT_PASS_NOT_OURS);
			return CTX_PASS;
		}
		flags = FC_BINDING_ROUTER;
	} else if (ret == FC_PARSE_EXT_UNSUPPORTED) {
		stat_inc(FC_STAT_DROP_UNSUPPORTED_PROTO);
		return CTX_DROP;
	} else if (ret != FC_PARSE_OK) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	} else if (!ext_addr_set(cfg, FC_AF_INET6)) {
		stat_inc(FC_STAT_DROP_NO_EXT_ADDR);
		return CTX_DROP;
	}

	ret = nat_egress_proto(ctx, cfg, &p, FC_AF_INET6);
	if (ret != FC_EGRESS_TRANSLATE)
		return ret;
	if (!p.has_l4) {
		/* A non-first fragment: address only, no state needed. */
		if (rewrite_addr6(ctx, &p, 0, &p.saddr, &cfg->ext_addr6)) {
			stat_inc(FC_STAT_DROP_FRAGMENT);
			return CTX_DROP;
		}
		stat_inc(FC_STAT_FRAGMENT_TRANSLATED);
		return CTX_PASS;
	}

	why = snat_lookup_af(cfg, &p, FC_AF_INET6, FC_AF_INET6, &cfg->ext_addr6, flags,
			     fc_now(), &b);
	if (why != FC_STAT_MAX) {
		stat_inc(why);
		return CTX_DROP;
	}
	fc_log(cfg, 4, "out %pI6:%u -> %u", p.saddr.v6, bpf_ntohs(p.sport), bpf_ntohs(b->port));
	if (rewrite_l4_field(ctx, &p, l4_port_off(&p, 0), p.sport, b->port) ||
	    rewrite_addr6(ctx, &p, 0, &p.saddr, &b->addr)) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	}
	stat_inc(FC_STAT_OUT_TRANSLATED);
	return CTX_PASS;
}

/*
 * Inbound, on the external interface's ingress, before routing: to the
 * external IPv6 address and a live mapping, the internal endpoint becomes
 * the destination, from any remote (EIF); other packets to ports of the
 * range are dropped; everything else -- neighbour discovery to the
 * external address included -- passes untouched.
 */
static __always_inline int nat6_ingress(struct ctx_buff *ctx)
{
	const struct fc_config *cfg = config_get();
	struct fc_binding *ext;
	struct fc_frag_key train;
	struct fc_pkt p = {};
	__u64 now;
	int ret, why;

	if (!cfg || !(cfg->flags & FC_CFG_NAT66)) {
		stat_inc(FC_STAT_PASS_NOT_IPV4);
		return CTX_PASS;
	}
	ret = parse_ipv6(ctx, &p);
	if (ret == FC_PARSE_NOT_IPV4) {
		stat_inc(FC_STAT_PASS_NOT_IPV4);
		return CTX_PASS;
	}
	/* Inbound, neighbour unreachability probes come unicast to the
	 * external address itself: ICMPv6 types above echo stay the stack's. */
	if (ret != FC_PARSE_MALFORMED && nat6_link_only(&p, 0)) {
		stat_inc(FC_STAT_PASS_IPV6_LINK);
		return CTX_PASS;
	}
	if (ret != FC_PARSE_OK || !is_ext_addr(cfg, FC_AF_INET6, &p.daddr)) {
		stat_inc(FC_STAT_PASS_NOT_OURS);
		return CTX_PASS;
	}
	if (p.proto == IPPROTO_ICMPV6 && p.has_l4 && icmp6_is_error(p.icmp_type))
		return nat_ingress_icmp_error(ctx, cfg, &p, FC_AF_INET6);
	if (p.is_fragment && !p.has_l4)
		return nat_ingress_fragment(ctx, cfg, &p, FC_AF_INET6);
	if (!(p.proto == IPPROTO_TCP || p.proto == IPPROTO_UDP ||
	      (p.proto == IPPROTO_ICMPV6 && p.icmp_type == ICMPV6_ECHO_REPLY)) || !p.has_l4) {
		stat_inc(FC_STAT_PASS_PROTO);
		return CTX_PASS;
	}
	if (!fc_proto_nat_on(cfg, p.proto)) {
		stat_inc(FC_STAT_PASS_PROTO);	/* its NAT is off: the stack's */
		return CTX_PASS;
	}
	if (!fc_port_in_range(cfg, p.proto, bpf_ntohs(p.dport))) {
		stat_inc(FC_STAT_PASS_OUT_OF_RANGE);
		return CTX_PASS;
	}

	now = fc_now();
	why = dnat_lookup_af(cfg, &p, FC_AF_INET6, FC_AF_INET6, &p.saddr, p.sport, now, &ext);
	if (why != FC_STAT_MAX) {
		stat_inc(why);
		return CTX_DROP;
	}
	if (p.is_fragment) {
		frag_key(&train, &p);
		frag_remember(&train, FC_AF_INET6, &ext->addr, now);
	}
	fc_log(cfg, 4, "in %u -> %pI6:%u", bpf_ntohs(p.dport), ext->addr.v6, bpf_ntohs(ext->port));
	if (rewrite_l4_field(ctx, &p, l4_port_off(&p, 1), p.dport, ext->port) ||
	    rewrite_addr6(ctx, &p, 1, &p.daddr, &ext->addr)) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	}
	stat_inc(FC_STAT_IN_TRANSLATED);
	if (p.is_fragment && frag_release(ctx, &train, now))
		return CTX_DROP;	/* sent on as a copy, ahead of its followers */
	return CTX_PASS;
}

/* The entry points' family dispatch: is this an IPv6 frame? */
static __always_inline int ctx_is_ipv6(struct ctx_buff *ctx)
{
	__u32 l2;

	return parse_l2(ctx, &l2) == bpf_htons(ETH_P_IPV6);
}

#endif /* FC_BPF_NAT6_H */
