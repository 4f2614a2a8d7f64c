/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAT64 in the fast path (XDP): the established hit path both ways,
 * translated by the same layer as in TC (xlat.h) and sent straight out of
 * the interface the FIB names. doc/design/nat64.md, "The fast path".
 *
 *   out: IPv6 TCP, UDP or echo request from inside to the prefix, through
 *        its mapping (made here as nat64_out makes it: nat64_out_map) ->
 *        IPv4 out of the external interface;
 *   in:  IPv4 TCP, UDP or echo reply to a NAT64 mapping (nat4_fast_in
 *        found it, EIF as NAT44) -> IPv6 to the host.
 *
 * What it cannot finish goes to the stack UNTOUCHED (CTX_PASS, counted
 * under why), where the TC programs translate it as in TC mode: fragments,
 * ICMP errors and other ICMP, extension headers and IPv4 options, tagged
 * frames inbound, hop limit or TTL expiring, too big for the egress (or a
 * DF-clear packet that TC splits), no neighbour entry, address mapping
 * (--nat64-pool4, --nat64-static), hairpinning, UDP without checksum,
 * refusals that TC answers with an ICMP error. Every decision to pass is
 * taken before the packet is changed.
 *
 * Both halves are BPF functions of their own working in the NAT64 scratch
 * (nat64.h): the packet, the translation's parameters and the route live
 * off the 512-byte stack, as in TC.
 */
#ifndef FC_BPF_FWD64_H
#define FC_BPF_FWD64_H

#include "nat64.h"

/*
 * The part every fast-path entry starts with is fwd.h's; the refusals it
 * shares with this file are here (fwd.h includes this file).
 *
 * The NAT refused the packet. Refusals answered with an ICMP error go to the
 * stack untouched: the TC program it meets next refuses it again, counts
 * it, and answers (refuse.h: XDP has no way to send the error back). The
 * rest are dropped here as TC would, with the same counters.
 */
static __always_inline int fast_refused(const struct fc_config *cfg, const struct fc_pkt *p,
					int why)
{
	if (refusal_answered(why)) {
		if (why == FC_STAT_DROP_SUBSCRIBER_LIMIT || why == FC_STAT_DROP_PORT_BLOCK_LIMIT)
			subscriber_unrefuse(cfg, p->family, &p->saddr);
		return fast_pass(FC_STAT_FAST_PASS_SLOW_PATH);
	}
	stat_inc(why);
	return CTX_DROP;
}

/* The route of a translated packet of len bytes (fib: zeroed, with its
 * addresses set), as fast_route looks it up, without the hop cache (a
 * mapping's hop is keyed by an IPv4 peer: NAT44's). FC_STAT_MAX, or why
 * the packet is left to the stack. */
static __always_inline int fast_route_xlat(struct ctx_buff *ctx, struct bpf_fib_lookup *fib,
					   __u8 family, __u8 proto, __u32 len)
{
	int why;

	fib->family = family;
	fib->l4_protocol = proto;
	fib->tot_len = len;
	fib->ifindex = ctx_ifindex(ctx);
	why = fast_fib_why(ctx_fib_lookup(ctx, fib));
	return why != FC_STAT_MAX ? why : fast_egress_why(ctx, fib);
}

/* The translated frame out of fib->ifindex: its link-layer header for that
 * interface, the route's MACs. It came with a plain Ethernet header (both
 * halves check): a constant, so the verifier of a CPU without unaligned
 * access sees the protocol field aligned. */
static __always_inline int fast_send64(struct ctx_buff *ctx, const struct nat64_scratch *s,
				       enum fc_stat translated, enum fc_stat fast)
{
	if (ctx_l2_out(ctx, ETH_HLEN, &s->fib))
		return nat64_drop(FC_STAT_DROP_MALFORMED);
	stat_inc(translated);
	stat_inc(fast);
	stat_inc(FC_STAT_FAST_REDIRECTED);
	return ctx_redirect_out(ctx, &s->fib);
}

/* What the outbound fast path takes: TCP, UDP or an echo request, whole,
 * behind a plain Ethernet header, with no extension header. */
static __always_inline int nat64_fast_eligible6(const struct fc_pkt *p)
{
	if (!p->has_l4 || p->is_fragment || p->l3_off != ETH_HLEN ||
	    p->l4_off != ETH_HLEN + IPV6_HLEN)
		return 0;
	return p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP ||
	       (p->proto == IPPROTO_ICMPV6 && p->icmp_type == ICMPV6_ECHO_REQUEST);
}

/* The outbound tail, its own BPF function (the 512-byte stack: the mapping's
 * chain runs beside it, not under it): route s->prm's IPv4 packet,
 * translate, send. */
static __noinline int nat64_fast_out_send(struct ctx_buff *ctx, struct nat64_scratch *s)
{
	int ret, why;

	s->fib.ipv4_src = s->prm.out.saddr.v4;
	s->fib.ipv4_dst = s->prm.out.daddr.v4;
	why = fast_route_xlat(ctx, &s->fib, AF_INET_,
			      s->p.proto == IPPROTO_ICMPV6 ? IPPROTO_ICMP : s->p.proto,
			      xlat_6to4_len(&s->p));
	if (why != FC_STAT_MAX)
		return fast_pass(why);	/* too big: TC sends Packet Too Big */

	s->prm.ip_id = bpf_get_prandom_u32();
	if (nat64_dec_hop_limit(ctx, &s->p))
		return nat64_drop(FC_STAT_DROP_MALFORMED);
	ret = xlat_6to4(ctx, &s->p, &s->prm);
	if (ret != XLAT_OK)
		return nat64_xlat_refused(ret);
	return fast_send64(ctx, s, FC_STAT_NAT64_OUT, FC_STAT_FAST_NAT64_OUT);
}

/*
 * Outbound, on an internal interface: IPv6 to the NAT64 prefix, the whole
 * of nat64_out's hit path (what TC would check and drop, it leaves to TC
 * to drop and count). IPv6 not to the prefix passes as before
 * (fast_pass_not_ipv4).
 */
static __noinline __attribute__((unused)) int nat64_fast_out(struct ctx_buff *ctx)
{
	const struct fc_config *cfg = config_get();
	struct nat64_scratch *s;
	__be32 dst4 = 0;	/* nat64_extract writes it byte by byte */
	int ret, why;

	if (!cfg || !(cfg->flags & FC_CFG_NAT64))
		return fast_pass(FC_STAT_FAST_PASS_NOT_IPV4);
	s = nat64_scratch_get();
	if (!s)
		return fast_pass(FC_STAT_FAST_PASS_SLOW_PATH);
	ret = parse_ipv6(ctx, &s->p);
	if (ret == FC_PARSE_NOT_IPV4 || nat64_extract(cfg, s->p.daddr.v6, &dst4))
		return fast_pass(FC_STAT_FAST_PASS_NOT_IPV4);
	/* Address mapping and hairpinning are TC's; so is everything TC
	 * drops (and counts) rather than translates. */
	if (ret != FC_PARSE_OK || !nat64_fast_eligible6(&s->p) ||
	    (cfg->flags & FC_CFG_NAT64_ADDRMAP) || ipv6_addr_local_scope(&s->p.saddr) ||
	    nat64_wkp_non_global(cfg, dst4) || !nat64_allowed(cfg, &s->p.saddr) ||
	    ext_addr4_is_ours(cfg, dst4))
		return fast_pass(FC_STAT_FAST_PASS_SLOW_PATH);
	if (s->p.hop_limit <= 1)
		return fast_pass(FC_STAT_FAST_PASS_TTL);

	/* The mapping first, as nat64_out makes it (a packet left to TC
	 * below finds it there). */
	why = nat64_out_map(cfg, s, dst4);
	if (why != FC_STAT_MAX)
		return fast_refused(cfg, &s->p, why);
	s->prm.tos = cfg->nat64_tos;
	s->prm.out.daddr.v4 = dst4;
	return nat64_fast_out_send(ctx, s);
}

/*
 * Inbound, on the external interface: nat4_fast_in admitted an IPv4 TCP,
 * UDP or echo reply packet (not a fragment, TTL above 1) to a mapping whose
 * internal endpoint is IPv6 (FC_FAST_NAT64; looked up again here, the
 * stack having no room to hand it over). The remote is seen under the
 * prefix; the packet goes straight to the host with its hop limit one less
 * than the TTL it came with, as the IPv6 stack forwards it in TC mode.
 */
static __noinline __attribute__((unused)) int nat64_fast_in(struct ctx_buff *ctx)
{
	const struct fc_config *cfg = config_get();
	struct nat64_scratch *s = nat64_scratch_get();
	struct fc_endpoint_key key;
	struct fc_binding *ext;
	__be16 udp_check = 1;
	pkt_iphdr *iph;
	__u8 hl;
	int r, why;

	if (!cfg || !s || (cfg->flags & FC_CFG_NAT64_ADDRMAP) ||
	    parse_ipv4_tagged(ctx, &s->p, 1) != FC_PARSE_OK)
		return fast_pass(FC_STAT_FAST_PASS_SLOW_PATH);
	fc_ext_endpoint_key(&key, FC_AF_INET, s->p.proto, &s->p.daddr, s->p.dport);
	ext = bpf_map_lookup_elem(&fc_bindings, &key);
	if (!ext || ext->family != FC_AF_INET6)
		return fast_pass(FC_STAT_FAST_PASS_SLOW_PATH);	/* gone since */
	/* Room for the IPv6 header is made behind a plain Ethernet header
	 * (ctx_change_l3); IPv4 options are TC's to drop or refuse. */
	if (s->p.l3_off != ETH_HLEN || s->p.l4_off != ETH_HLEN + IPV4_HLEN)
		return fast_pass(FC_STAT_FAST_PASS_SLOW_PATH);
	iph = ctx_ptr(ctx, s->p.l3_off, sizeof(*iph));
	if (!iph)
		return fast_pass(FC_STAT_FAST_PASS_SLOW_PATH);
	hl = iph->ttl - 1;	/* above 1: nat4_fast_in checked */
	/* A UDP datagram without checksum gets one summed over all of it
	 * (RFC 7915 §4.5): TC's. */
	if (s->p.proto == IPPROTO_UDP &&
	    (ctx_load(ctx, s->p.csum_off, &udp_check, sizeof(udp_check)) || !udp_check))
		return fast_pass(FC_STAT_FAST_PASS_SLOW_PATH);
	if (nat64_wkp_non_global(cfg, s->p.saddr.v4) ||
	    nat64_synthesize(cfg, s->p.saddr.v4, s->prm.out.saddr.v6))
		return fast_pass(FC_STAT_FAST_PASS_SLOW_PATH);
	/* DF clear and over lowest-ipv6-mtu as IPv6: TC splits it (RFC 7915 §4.1). */
	if (xlat_4to6_len(&s->p) > nat64_lowest_mtu(cfg) && !nat64_df(ctx, s))
		return fast_pass(FC_STAT_FAST_PASS_MTU);
	__builtin_memcpy(s->fib.ipv6_src, s->prm.out.saddr.v6, 16);
	__builtin_memcpy(s->fib.ipv6_dst, ext->addr.v6, 16);
	why = fast_route_xlat(ctx, &s->fib, AF_INET6_,
			      s->p.proto == IPPROTO_ICMP ? IPPROTO_ICMPV6 : s->p.proto,
			      xlat_4to6_len(&s->p));
	if (why != FC_STAT_MAX)
		return fast_pass(why);	/* too big: TC sends Fragmentation Needed */

	s->prm.tos = cfg->nat64_tos;
	s->prm.out.daddr = ext->addr;
	s->prm.out.dport = ext->port;	/* an echo reply's identifier too */
	r = xlat_4to6(ctx, &s->p, &s->prm);
	if (r == XLAT_NO_ROOM)
		return nat64_drop(FC_STAT_NAT64_DROP_NO_ROOM);
	if (r != XLAT_OK)
		return fast_pass(FC_STAT_FAST_PASS_SLOW_PATH);	/* untouched (xlat.h) */
	if (ctx_store(ctx, s->p.l3_off + offsetof(struct ipv6hdr, hop_limit), &hl, 1))
		return nat64_drop(FC_STAT_DROP_MALFORMED);
	return fast_send64(ctx, s, FC_STAT_NAT64_IN, FC_STAT_FAST_NAT64_IN);
}

#endif /* FC_BPF_FWD64_H */
