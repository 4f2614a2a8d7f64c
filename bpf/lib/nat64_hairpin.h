/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hairpinning from an IPv4 host to a NAT64 mapping (RFC 4787 REQ-9 with
 * RFC 6146 §3.8): an IPv6-only server published on the external IPv4
 * address (--forward, PCP, or its own traffic's mapping) is reached by the
 * LAN's IPv4 hosts at that address, as from outside. The reverse way (an
 * IPv6 host to an IPv4 host's NAT44 mapping under the prefix) is
 * nat64_hairpin's (nat64.h). doc/design/nat64.md, "Hairpinning".
 */
#ifndef FC_BPF_NAT64_HAIRPIN_H
#define FC_BPF_NAT64_HAIRPIN_H

#include "nat64.h"

/* The IPv6 route to the mapped host for the translated packet (its length,
 * a GSO packet's segment's, checks the MTU: gso.h). FC_STAT_MAX, the
 * reason to drop, or FC_STAT_NAT64_DROP_MTU with the MTU in s->mtu. */
static __always_inline int nat64_hairpin4_route(struct ctx_buff *ctx, struct nat64_scratch *s,
						int *resolve)
{
	struct bpf_fib_lookup *fib = &s->fib;
	long ret;

	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = AF_INET6_;
	fib->l4_protocol = s->p.proto;
	fib->tot_len = gso_route_len(ctx, &s->p, IPV6_HLEN, xlat_4to6_len(&s->p));
	fib->ifindex = ctx_ifindex(ctx);
	__builtin_memcpy(fib->ipv6_src, s->prm.out.saddr.v6, 16);
	__builtin_memcpy(fib->ipv6_dst, s->prm.out.daddr.v6, 16);
	ret = ctx_fib_lookup(ctx, fib);
	if (ret == BPF_FIB_LKUP_RET_FRAG_NEEDED) {
		s->mtu = fib->mtu_result >= IPV6_MIN_MTU ? fib->mtu_result : IPV6_MIN_MTU;
		return FC_STAT_NAT64_DROP_MTU;
	}
	if (ret != BPF_FIB_LKUP_RET_SUCCESS && ret != BPF_FIB_LKUP_RET_NO_NEIGH)
		return FC_STAT_DROP_HAIRPIN_NO_ROUTE;
	*resolve = ret == BPF_FIB_LKUP_RET_NO_NEIGH;
	return FC_STAT_MAX;
}

/*
 * After nat_hairpin_parsed said FC_HAIRPIN_NAT64_PENDING: an IPv4 host's
 * TCP or UDP packet to the external address and port of a NAT64 mapping.
 * hairpin_lookup made (or found) the sender's NAT44 mapping and admitted
 * it as the NAT64 mapping's remote (EIF, session kept): the packet goes
 * on as if it had left through the sender's mapping and come back in
 * from outside. Source: the sender's external address under the prefix
 * (RFC 6052) and its external port (RFC 4787 REQ-9a); destination: the
 * mapped IPv6 endpoint; TTL - 1 as hop limit; RFC 7915 §4 translation;
 * straight to the host (IPv6 FIB), as the other hairpins. Its own BPF
 * function: the translation's frame does not fit under the hairpin's.
 */
static __noinline __attribute__((unused)) int nat64_hairpin4(struct ctx_buff *ctx)
{
	const struct fc_config *cfg = config_get();
	struct fc_endpoint_key key;
	struct nat64_scratch *s;
	struct fc_binding *b;
	int why, r, resolve = 0;

	s = nat64_scratch_get();
	if (!cfg || !s || parse_ipv4(ctx, &s->p) != FC_PARSE_OK)
		return nat64_drop(FC_STAT_DROP_MALFORMED);	/* parsed once already */
	s->prm.tos = cfg->nat64_tos;
	/* The two ends hairpin_lookup found, looked up again (the stack
	 * leaves no room to hand them over). */
	fc_int_endpoint_key(&key, FC_AF_INET, FC_AF_INET, nat_proto(FC_AF_INET, s->p.proto),
			 &s->p.saddr, s->p.sport);
	b = bpf_map_lookup_elem(&fc_bindings, &key);
	if (!b || b->family != FC_AF_INET)
		return nat64_drop(FC_STAT_DROP_UNSOLICITED);
	s->prm.out.sport = b->port;
	/* RFC 6052 §3.1: not under the Well-Known Prefix if not global. */
	if (nat64_wkp_non_global(cfg, b->addr.v4) ||
	    nat64_synthesize(cfg, b->addr.v4, s->prm.out.saddr.v6))
		return nat64_drop(FC_STAT_NAT64_DROP_UNTRANSLATABLE);
	fc_ext_endpoint_key(&key, FC_AF_INET, nat_proto(FC_AF_INET, s->p.proto), &s->p.daddr,
			 s->p.dport);
	b = bpf_map_lookup_elem(&fc_bindings, &key);
	if (!b || b->family != FC_AF_INET6)
		return nat64_drop(FC_STAT_DROP_UNSOLICITED);	/* gone since */
	s->prm.out.daddr = b->addr;
	s->prm.out.dport = b->port;
	if (nat64_ttl(ctx, &s->p) <= 1)
		/* Expires here: dropped, counted (the IPv4 hairpin's rule). */
		return nat64_drop(FC_STAT_NAT64_DROP_TTL);
	if (nat64_udp_zero_refused(ctx, cfg, s))
		return nat64_drop(FC_STAT_NAT64_DROP_UDP_ZERO_CSUM);
	why = nat64_hairpin4_route(ctx, s, &resolve);
	if (why == FC_STAT_NAT64_DROP_MTU)
		return nat64_too_big_in(ctx, s, s->mtu, nat64_df(ctx, s));
	if (why != FC_STAT_MAX)
		return nat64_drop(why);
	/* The hop limit is the TTL (RFC 7915 §4.1): decremented first. */
	if (ipv4_dec_ttl(ctx, &s->p))
		return nat64_drop(FC_STAT_DROP_MALFORMED);
	r = xlat_4to6_as(ctx, &s->p, &s->prm, 0);	/* TCP and UDP only */
	if (r != XLAT_OK)
		return nat64_xlat_refused(r);
	if (ctx_l2_push(ctx, s->p.l3_off))
		return nat64_drop(FC_STAT_NAT64_DROP_NO_ROOM);
	stat_inc(FC_STAT_HAIRPIN_TRANSLATED);
	return resolve ? ctx_redirect_resolve(ctx, &s->fib) : ctx_redirect_out(ctx, &s->fib);
}

#endif /* FC_BPF_NAT64_HAIRPIN_H */
