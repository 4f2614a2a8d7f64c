/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stateful NAT64 (RFC 6146), full cone: IPv6-only hosts reach IPv4 ones
 * under the RFC 6052 prefix (fc_config nat64_prefix), through the NAT44
 * engine's mappings and sessions with an IPv6 internal endpoint and an
 * IPv4 external one, in the one IPv4 port space NAT44 uses; the packets
 * are translated by the RFC 7915 layer (xlat.h). doc/design/nat64.md.
 *
 *   out: internal interface ingress (nat64_out): IPv6 to the prefix ->
 *        mapping (EIM), session, hop limit - 1, xlat_6to4, sent out of the
 *        interface the IPv4 FIB names (its source is the gateway's own
 *        address: the stack would take it for a martian).
 *   in:  external interface ingress, nat4_ingress found a mapping whose
 *        internal side is IPv6 (nat64_in): EIF as NAT44, xlat_4to6, and
 *        the IPv6 stack routes it to the host (TC_ACT_OK after the
 *        protocol change), decrementing the hop limit as for any packet.
 *
 * nat4_ingress hands a NAT64 mapping over with FC_NAT64_PENDING; the TC
 * entry points (bpf/fcnat_tc.bpf.c) call the halves here, each a BPF
 * function of its own (stack, below).
 */
#ifndef FC_BPF_NAT64_H
#define FC_BPF_NAT64_H

#include "nat4.h"
#include "nat6.h"
#include "hairpin.h"
#include "route.h"
#include "nat64_addr.h"
#include "nat64_discard.h"
#include "nat64_pool.h"
#include "xlat.h"


/*
 * The packet, the translation parameters and a quote, per CPU: the BPF
 * stack (512 bytes for a whole call chain) cannot hold them next to the
 * translation layer's own frame. The NAT64 halves are BPF functions of
 * their own, called from thin entry points, for the same reason. (Map
 * names stay within 15 characters: the kernel's limit, and fc_meta's
 * record of the pinned maps.)
 */
/*
 * RFC 7915 §4.1: an IPv4 packet with DF clear (or a fragment) that would
 * be larger than lowest-ipv6-mtu as IPv6 is split so that every piece,
 * with its fragment header, is at most that (--nat64-lowest-mtu, 1280 by
 * default: the IPv6 minimum MTU), so nat64_piece_data() IPv4 payload
 * bytes per piece, a multiple of 8. Payloads up to NAT64_SPLIT_DATA_MAX
 * (two pieces of the smallest size: a 1500-byte IPv4 MTU) are split,
 * bigger ones are not. The frame copy has room for a piece read from
 * anywhere a piece may start (the verifier bounds start and size apart).
 */
#define IPV4_HLEN_MAX		60
#define NAT64_LOWEST_IPV6_MTU	IPV6_MIN_MTU
#define NAT64_PIECE_DATA	(NAT64_LOWEST_IPV6_MTU - IPV6_HLEN - FRAG6_HLEN)
#define NAT64_SPLIT_PIECES	2
#define NAT64_SPLIT_DATA_MAX	(NAT64_SPLIT_PIECES * NAT64_PIECE_DATA)
#define NAT64_SPLIT_FRAME_MAX	(ETH_HLEN + IPV4_HLEN_MAX + NAT64_SPLIT_DATA_MAX)
#define NAT64_SPLIT_COPY	(ETH_HLEN + IPV4_HLEN_MAX + 2 * NAT64_SPLIT_DATA_MAX)

struct nat64_scratch {
	struct fc_pkt p;
	struct xlat_params prm;
	struct fc_quote q;
	struct fc_frag_key train;	/* an inbound first fragment's */
	__u32 mtu;			/* too big: the route's MTU; unreachable: the code */
	__u32 sum_len;			/* nat64_split_udp_csum's length, read back */
	/* nat64_out_xlat's route: off the stack, which a chain of BPF
	 * functions shares (512 bytes, each frame rounded to 32 on 6.1). */
	struct bpf_fib_lookup fib;
	/* Not cleared per packet: a copy of a frame being split. */
	__u8 frame[NAT64_SPLIT_COPY];
};

/* nat64_out_xlat: too big for the IPv4 route (s->mtu); the caller answers,
 * on a stack frame of its own. */
#define FC_NAT64_TOO_BIG	(-64)
/* nat64_out_xlat: no IPv4 route; the ICMPv6 Destination Unreachable code
 * to answer with is in s->mtu (from nat64_route4), the caller answers. */
#define FC_NAT64_UNREACH	(-66)
/* nat64_route4's fib->mtu_result for a route refusal not answered. */
#define NAT64_SILENT		0xffff

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nat64_scratch);
} fc_nat64_tmp SEC(".maps");

static __always_inline struct nat64_scratch *nat64_scratch_get(void)
{
	__u32 zero = 0;
	struct nat64_scratch *s = bpf_map_lookup_elem(&fc_nat64_tmp, &zero);

	if (s)
		__builtin_memset(s, 0, offsetof(struct nat64_scratch, frame));
	return s;
}

static __always_inline int nat64_drop(enum fc_stat why)
{
	stat_inc(why);
	return CTX_DROP;
}

/* A refusal of the translation layer, counted; never sent as it is. */
static __always_inline int nat64_xlat_refused(int verdict)
{
	return nat64_drop(verdict == XLAT_NO_ROOM ? FC_STAT_NAT64_DROP_NO_ROOM
						  : FC_STAT_NAT64_DROP_UNTRANSLATABLE);
}

/*
 * Where an IPv4 packet from src to dst of tot_len bytes goes (the IPv4 FIB
 * as for a packet received on this interface; the mark, and so policy
 * routing on it, is not looked at). FC_STAT_MAX if it can be sent out of
 * fib->ifindex (*resolve: the kernel must resolve the next hop's MAC
 * address), else the reason to drop it: unlike NAT44's fast path, NAT64
 * has no stack to fall back on (the source is the gateway's own address).
 * Too big (FC_STAT_NAT64_DROP_MTU): the route's MTU is in fib->mtu_result.
 */
static __always_inline void nat64_fib4_fill(struct ctx_buff *ctx, __be32 src, __be32 dst,
					    __u8 proto, __u32 tot_len, struct bpf_fib_lookup *fib)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = AF_INET_;
	fib->l4_protocol = proto;
	fib->tot_len = tot_len;
	fib->ifindex = ctx_ifindex(ctx);
	fib->ipv4_src = src;
	fib->ipv4_dst = dst;
}

static __always_inline int nat64_route4(struct ctx_buff *ctx, __be32 src, __be32 dst,
					__u8 proto, __u32 tot_len, struct bpf_fib_lookup *fib,
					int *resolve)
{
	const struct fc_config *cfg;
	long ret;

	nat64_fib4_fill(ctx, src, dst, proto, tot_len, fib);
	ret = ctx_fib_lookup(ctx, fib);
	switch (ret) {
	case BPF_FIB_LKUP_RET_SUCCESS:
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		*resolve = ret == BPF_FIB_LKUP_RET_NO_NEIGH;
		break;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return FC_STAT_NAT64_DROP_MTU;
	case BPF_FIB_LKUP_RET_NOT_FWDED:
		/* The FIB says this for a destination of the gateway's own
		 * (the local table: local, broadcast) and for one no route
		 * leads to at all. The main table alone tells them apart: a
		 * local address is in the local table only, but some route
		 * of the main table (its subnet's, a default) covers it,
		 * whereas "no route" finds nothing there either. The
		 * external address is known without asking. */
		cfg = config_get();
		/* 6.1's verifier does not know the lookup never fails. */
		if (cfg && ext_addr4_is_ours(cfg, dst))
			return FC_STAT_NAT64_DROP_TO_GATEWAY;
		nat64_fib4_fill(ctx, src, dst, proto, 0, fib);
		ret = ctx_fib_lookup_main(ctx, fib);
		if (ret == BPF_FIB_LKUP_RET_SUCCESS || ret == BPF_FIB_LKUP_RET_NO_NEIGH ||
		    ret == BPF_FIB_LKUP_RET_FRAG_NEEDED)
			return FC_STAT_NAT64_DROP_TO_GATEWAY;
		fib->mtu_result = ICMPV6_NOROUTE;
		return FC_STAT_NAT64_DROP_NO_ROUTE;
	case BPF_FIB_LKUP_RET_UNREACHABLE:
		/* An unreachable route: what the stack answers with host
		 * unreachable, as ICMPv6 (no route to destination). */
		fib->mtu_result = ICMPV6_NOROUTE;
		return FC_STAT_NAT64_DROP_NO_ROUTE;
	case BPF_FIB_LKUP_RET_PROHIBIT:
		fib->mtu_result = ICMPV6_ADM_PROHIBITED;
		return FC_STAT_NAT64_DROP_NO_ROUTE;
	default:
		/* Blackhole routes are silent (as in the stack), and so is
		 * forwarding switched off. */
		fib->mtu_result = NAT64_SILENT;
		return FC_STAT_NAT64_DROP_NO_ROUTE;
	}
	return FC_STAT_MAX;
}

/*
 * The IPv4 length the route must take for p once translated: the packet's,
 * or for a GSO packet its segments' (the network and transport headers and
 * gso_size, as Linux's forwarding checks one, skb_gso_validate_network_len;
 * bpf_skb_change_proto keeps gso_size, so each IPv4 segment is its IPv6
 * one less 20 bytes, the last no longer than the others).
 */
static __always_inline __u32 nat64_out_len(struct ctx_buff *ctx, const struct fc_pkt *p)
{
	return gso_route_len(ctx, p, IPV4_HLEN, xlat_6to4_len(p));
}

/*
 * 6 -> 4, too big for the IPv4 route of MTU mtu4 (RFC 7915 §5.1, RFC 4443
 * §3.2): Packet Too Big to the IPv6 sender with mtu4 + 20, never below
 * 1280. A packet of 1280 bytes or less leaves with DF clear and would be
 * fragmented by an IPv4 router, but NAT64 sends it itself and does not
 * fragment: below an IPv4 MTU of 1260 it is dropped and counted, with no
 * error (the host cannot go below 1280).
 */
static __always_inline int nat64_too_big4(struct ctx_buff *ctx, const struct nat64_scratch *s)
{
	/* A GSO packet's segments are the packets its sender sent. */
	if (nat64_out_len(ctx, &s->p) + IPV6_HLEN - IPV4_HLEN <= IPV6_MIN_MTU)
		return CTX_DROP;
	return icmp6_error_reply(ctx, config_get(), &s->p,
				 FC_ICMP_WHAT(ICMPV6_PKT_TOOBIG, 0, FC_STAT_NAT64_PTB_SENT),
				 bpf_htonl(xlat_ptb_mtu(s->mtu)));
}

/* The hop limit of a forwarded packet, decremented (nat64_out checked it
 * is above 1); IPv6 has no header checksum, CHECKSUM_COMPLETE follows. */
static __always_inline int nat64_dec_hop_limit(struct ctx_buff *ctx, const struct fc_pkt *p)
{
	__u8 hl = p->hop_limit - 1;

	return ctx_store_rcsum(ctx, p->l3_off + offsetof(struct ipv6hdr, hop_limit), &hl, 1);
}

/* The translated packet leaves by route.h's means: the FIB's MACs (or the
 * kernel resolving them), marked so that nat4_egress lets it pass. */
static __always_inline int nat64_send(struct ctx_buff *ctx, const struct fc_pkt *p,
				      const struct bpf_fib_lookup *fib, int resolve,
				      enum fc_stat translated)
{
	if (ctx_l2_push(ctx, p->l3_off))
		return nat64_drop(FC_STAT_NAT64_DROP_NO_ROOM);
	stat_inc(translated);
	ctx_mark_translated(ctx);
	return resolve ? ctx_redirect_resolve(ctx, fib) : ctx_redirect_out(ctx, fib);
}

/*
 * The outbound tail, its own BPF function (stack): route the IPv4 packet
 * s->prm describes, decrement the hop limit, translate, send. Too big for
 * the route: counted, FC_NAT64_TOO_BIG with the MTU in s->mtu.
 */
static __noinline int nat64_out_xlat(struct ctx_buff *ctx, struct nat64_scratch *s, __u8 proto4,
				     enum fc_stat translated)
{
	struct bpf_fib_lookup *fib = &s->fib;
	struct fc_pkt *p = &s->p;
	const struct xlat_params *prm = &s->prm;
	int why, r, resolve = 0;

	why = nat64_route4(ctx, prm->out.saddr.v4, prm->out.daddr.v4, proto4, nat64_out_len(ctx, p),
			   fib, &resolve);
	if (why == FC_STAT_NAT64_DROP_MTU) {
		stat_inc(why);
		s->mtu = fib->mtu_result;
		return FC_NAT64_TOO_BIG;
	}
	if (why == FC_STAT_NAT64_DROP_NO_ROUTE && fib->mtu_result != NAT64_SILENT) {
		stat_inc(why);
		s->mtu = fib->mtu_result;
		return FC_NAT64_UNREACH;
	}
	if (why != FC_STAT_MAX)
		return nat64_drop(why);
	if (nat64_dec_hop_limit(ctx, p))
		return nat64_drop(FC_STAT_DROP_MALFORMED);
	r = xlat_6to4(ctx, p, prm);
	if (r != XLAT_OK)
		return nat64_xlat_refused(r);
	return nat64_send(ctx, p, fib, resolve, translated);
}

/*
 * What nat64_out_xlat left to its caller, one frame up, to answer: too
 * big (Packet Too Big), or no IPv4 route (RFC 7915 §5.4: Destination
 * Unreachable, code in s->mtu, to the sender, rate-limited; never about
 * an ICMPv6 message, which §5.4 spares).
 */
static __always_inline int nat64_out_answer(struct ctx_buff *ctx, struct nat64_scratch *s, int r)
{
	if (r == FC_NAT64_TOO_BIG)
		return nat64_too_big4(ctx, s);
	if (r != FC_NAT64_UNREACH)
		return r;
	if (s->p.proto == IPPROTO_ICMPV6)
		return CTX_DROP;
	return nat64_answer6(ctx, &s->p, NAT64_ANSWER(ICMPV6_DEST_UNREACH, s->mtu & 0xff), 0);
}

/*
 * An ICMPv6 error from an internal host about a packet NAT64 brought in:
 * its quote goes from the synthesized remote to the internal endpoint.
 * The mapping of that endpoint gives the IPv4 quote back its external
 * endpoint (the quote as the remote sent it), the outer source is the
 * external address, the destination the remote's IPv4 address.
 */
static __noinline int nat64_out_icmp_error_map(struct ctx_buff *ctx, const struct fc_config *cfg,
					       struct nat64_scratch *s, __be32 dst4)
{
	struct fc_endpoint_key key;
	struct fc_session_key skey;
	union fc_addr remote = {};
	struct fc_binding *b;

	if (parse_icmp_quote(ctx, &s->p, FC_AF_INET6, &s->q) ||
	    nat64_extract(cfg, s->q.saddr.v6, &remote.v4))
		return FC_STAT_DROP_MALFORMED;
	if (nat64_pool_out_find(cfg, &s->q.daddr, &s->prm.out.saddr.v4)) {
		/* An address-mapped host: addresses only, the ports kept. */
		s->prm.out.daddr.v4 = dst4;
		s->prm.in.saddr.v4 = remote.v4;
		s->prm.in.daddr.v4 = s->prm.out.saddr.v4;
		return FC_STAT_MAX;
	}
	fc_int_endpoint_key(&key, FC_AF_INET6, FC_AF_INET, nat_proto(FC_AF_INET6, s->q.proto),
			 &s->q.daddr, s->q.dport);
	b = bpf_map_lookup_elem(&fc_bindings, &key);
	if (!b || b->family != FC_AF_INET)
		return FC_STAT_DROP_ICMP_NO_MAPPING;
	session_key(&skey, FC_AF_INET, key.proto, &b->addr, b->port, &remote, s->q.sport);
	if (!bpf_map_lookup_elem(&fc_sessions, &skey))
		return FC_STAT_DROP_ICMP_NO_MAPPING;
	s->prm.out.saddr.v4 = b->addr.v4;
	s->prm.out.daddr.v4 = dst4;
	s->prm.in.saddr.v4 = remote.v4;
	s->prm.in.daddr.v4 = b->addr.v4;
	s->prm.in.dport = b->port;
	return FC_STAT_MAX;
}

/* The lookups in a frame of their own, gone before the translation's
 * (whose chain, with xlat_sum_step for an RFC 4884 extension, has no 160
 * bytes to spare). */
static __noinline int nat64_out_icmp_error(struct ctx_buff *ctx, const struct fc_config *cfg,
					   struct nat64_scratch *s, __be32 dst4)
{
	int r = nat64_out_icmp_error_map(ctx, cfg, s, dst4);

	if (r != FC_STAT_MAX)
		return nat64_drop(r);
	stat_inc(FC_STAT_ICMP_ERROR_TRANSLATED);
	r = nat64_out_xlat(ctx, s, IPPROTO_ICMP, FC_STAT_NAT64_OUT);
	/* Never an error about an error (RFC 4443 §2.4 (e)). */
	return r == FC_NAT64_TOO_BIG || r == FC_NAT64_UNREACH ? CTX_DROP : r;
}

/*
 * An IPv6 host's echo reply to a request nat64_in brought in through its
 * mapping (RFC 6146 §3.5.3): the identifier is the mapping's internal
 * one, and goes out as the external one, from the external address. A
 * reply with no mapping is dropped and counted, as before.
 */
static __noinline int nat64_out_echo_reply(struct ctx_buff *ctx, struct nat64_scratch *s,
					   __be32 dst4)
{
	struct fc_endpoint_key key;
	struct fc_binding *b;
	int r;

	/* An address-mapped host answers with its identifier kept. */
	if (!nat64_pool_out_find(config_get(), &s->p.saddr, &s->prm.out.saddr.v4)) {
		fc_int_endpoint_key(&key, FC_AF_INET6, FC_AF_INET, FC_PROTO_ICMP, &s->p.saddr,
				 s->p.dport);
		b = bpf_map_lookup_elem(&fc_bindings, &key);
		if (!b || b->family != FC_AF_INET)
			return nat64_drop(FC_STAT_DROP_ICMP_UNSUPPORTED);
		s->prm.out.saddr.v4 = b->addr.v4;
		s->prm.out.dport = b->port;
	}
	s->prm.out.daddr.v4 = dst4;
	s->prm.ip_id = bpf_get_prandom_u32();
	r = nat64_out_xlat(ctx, s, IPPROTO_ICMP, FC_STAT_NAT64_OUT);
	return nat64_out_answer(ctx, s, r);
}

/*
 * The mapping of the packet's source (EIM: one for every destination) on
 * an external IPv4 address, and its session with the IPv4 remote dst4;
 * s->prm.out's source. FC_STAT_MAX, or the reason to drop.
 */
static __noinline int nat64_out_map(const struct fc_config *cfg, struct nat64_scratch *s,
				    __be32 dst4)
{
	union fc_addr unused = {}, dst6;
	struct fc_subscriber *sub;
	struct fc_binding *b;
	int why;

	if (!s->p.has_l4) {
		/* A non-first fragment: addresses only, no state (the IPv4
		 * destination reassembles it with its first), from the
		 * external address the host's first fragment got. */
		sub = subscriber_get(cfg, FC_AF_INET6, &s->p.saddr, 0, 0);
		s->prm.out.saddr.v4 = nat_ext_addr4(cfg, FC_AF_INET6, &s->p.saddr, sub);
		return s->prm.out.saddr.v4 ? FC_STAT_MAX : FC_STAT_DROP_NO_EXT_ADDR;
	}
	/* The session is with the IPv4 remote; the layer needs the packet's
	 * own IPv6 destination back for the pseudo-header. The external IPv4
	 * address is binding_create's choice (nat_ext_addr4: the interface's,
	 * or the subscriber's paired pool address), as for NAT44. */
	dst6 = s->p.daddr;
	__builtin_memset(&s->p.daddr, 0, sizeof(s->p.daddr));
	s->p.daddr.v4 = dst4;
	why = snat_lookup_af(cfg, &s->p, FC_AF_INET6, FC_AF_INET, &unused, 0,
			     fc_now(), &b);
	s->p.daddr = dst6;
	if (why != FC_STAT_MAX)
		return why;
	s->prm.out.saddr.v4 = b->addr.v4;
	s->prm.out.sport = b->port;
	return FC_STAT_MAX;
}

/* nat64_hairpin: the mapped endpoint is an IPv4 host (a NAT44 mapping);
 * s->prm.out describes the IPv4 packet for nat64_out_xlat, which the
 * caller runs on its own frame. */
#define FC_NAT64_HAIRPIN4	(-65)

/*
 * RFC 6146 §3.8, hairpinning: an IPv6 host to an external IPv4 address
 * under the prefix and a port of a mapping. The source becomes the
 * sender's mapping (nat64_out_map made it: s->prm.out), the destination
 * the mapped endpoint, admitted as any remote (EIF, its session kept).
 * Another IPv6 host's NAT64 mapping: as if translated out and back in,
 * without ever building the IPv4 packet: from the sender's mapping under
 * the prefix, hop limit - 1, straight to that host (IPv6 FIB), as NAT66
 * hairpinning does. An IPv4 host's NAT44 mapping (RFC 4787 REQ-9): the
 * packet is translated to IPv4 as if it came back in from outside, from
 * the sender's mapping to the IPv4 host's internal endpoint
 * (FC_NAT64_HAIRPIN4). Anything but TCP and UDP to the gateway's own
 * address stays dropped. An address-mapped sender (pooled: its address
 * and its own port, s->prm.out) reaches NAT64 mappings only: an IPv4
 * host would answer its pool address, which leads nowhere from the LAN.
 */
static __noinline int nat64_hairpin(struct ctx_buff *ctx, const struct fc_config *cfg,
				    struct nat64_scratch *s, __be32 dst4, int pooled)
{
	union fc_addr src4 = {}, src6 = {}, dst6;
	struct fc_binding *ext;
	int why;

	if (!s->p.has_l4 || s->p.is_fragment ||
	    (s->p.proto != IPPROTO_TCP && s->p.proto != IPPROTO_UDP) ||
	    !fc_port_in_range(cfg, s->p.proto, bpf_ntohs(s->p.dport)))
		return nat64_drop(FC_STAT_NAT64_DROP_TO_GATEWAY);
	src4.v4 = s->prm.out.saddr.v4;
	if (nat64_synthesize(cfg, src4.v4, src6.v6))
		return nat64_drop(FC_STAT_NAT64_DROP_UNTRANSLATABLE);
	/* The inbound half looks the IPv4 destination up, as nat4_ingress
	 * would; the packet's own goes back for the rewrite. */
	dst6 = s->p.daddr;
	__builtin_memset(&s->p.daddr, 0, sizeof(s->p.daddr));
	s->p.daddr.v4 = dst4;
	why = dnat_lookup_af(cfg, &s->p, 0, FC_AF_INET, &src4, s->prm.out.sport, fc_now(), &ext);
	s->p.daddr = dst6;
	if (why != FC_STAT_MAX)
		return nat64_drop(why);
	if (ext->flags & FC_BINDING_ROUTER)
		/* A gateway process's mapping: its packets come from lo. */
		return nat64_drop(FC_STAT_NAT64_DROP_TO_GATEWAY);
	if (ext->family == FC_AF_INET) {
		if (pooled)
			return nat64_drop(FC_STAT_NAT64_DROP_TO_GATEWAY);
		s->prm.out.daddr.v4 = ext->addr.v4;
		s->prm.out.dport = ext->port;
		return FC_NAT64_HAIRPIN4;
	}
	if (rewrite_both(ctx, &s->p, FC_AF_INET6, &src6, s->prm.out.sport, &ext->addr, ext->port) ||
	    nat64_dec_hop_limit(ctx, &s->p))
		return nat64_drop(FC_STAT_DROP_MALFORMED);
	return hairpin_forward(ctx, &s->p, FC_AF_INET6, &src6, &ext->addr);
}

/*
 * RFC 6146 §3.8 to an address-mapped host (--nat64-pool4, --nat64-static):
 * an IPv6 host to the prefix-embedded address of another one. As if
 * translated out and back in: the sender's mapping (s->prm.out: its
 * address-mapped address with its own port or identifier, or its NAPT64
 * mapping) under the prefix as source, the host mapped onto dst4 as
 * destination with the port kept (the address alone names it: no session
 * to consult, EIF), hop limit - 1, straight to that host (IPv6 FIB). TCP,
 * UDP and echo (the identifier travels as a port does: a request keeps
 * the sender's mapped one, a reply the one it answers). Fragments, which
 * a port rewrite cannot follow, are dropped.
 */
static __noinline int nat64_hairpin_mapped(struct ctx_buff *ctx, const struct fc_config *cfg,
					   struct nat64_scratch *s, __be32 dst4)
{
	union fc_addr src6 = {}, host = {};
	__be16 sport = s->prm.out.sport ? s->prm.out.sport : s->p.sport;

	if (!s->p.has_l4 || s->p.is_fragment)
		return nat64_drop(FC_STAT_NAT64_DROP_TO_GATEWAY);
	if (!nat64_pool_in_host(cfg, dst4, &host))
		return nat64_drop(FC_STAT_DROP_UNSOLICITED);	/* gone since */
	if (nat64_synthesize(cfg, s->prm.out.saddr.v4, src6.v6))
		return nat64_drop(FC_STAT_NAT64_DROP_UNTRANSLATABLE);
	if (rewrite_both(ctx, &s->p, FC_AF_INET6, &src6, sport, &host, s->p.dport) ||
	    nat64_dec_hop_limit(ctx, &s->p))
		return nat64_drop(FC_STAT_DROP_MALFORMED);
	return hairpin_forward(ctx, &s->p, FC_AF_INET6, &src6, &host);
}

/*
 * Outbound, on the ingress of an internal interface: IPv6 to the NAT64
 * prefix. Everything to the prefix is translated or dropped and counted,
 * never routed on as IPv6 (it would leave with the internal source); the
 * rest passes untouched.
 */
static __noinline __attribute__((unused)) int nat64_out(struct ctx_buff *ctx)
{
	const struct fc_config *cfg = config_get();
	struct nat64_scratch *s;
	enum fc_stat translated;
	__be32 dst4;
	__u32 ptr;
	int ret, why, pooled, to_mapped;

	if (!cfg || !(cfg->flags & FC_CFG_NAT64))
		return CTX_PASS;
	s = nat64_scratch_get();
	if (!s)
		return CTX_PASS;
	s->prm.tos = cfg->nat64_tos;
	ret = parse_ipv6(ctx, &s->p);
	if (ret == FC_PARSE_NOT_IPV4)
		return CTX_PASS;
	/* The addresses are read before anything else can be found wrong
	 * (all zero if the fixed header itself is cut short or lies about
	 * its length: the stack drops that). */
	if (nat64_extract(cfg, s->p.daddr.v6, &dst4))
		return CTX_PASS;	/* not to the prefix */
	if (ret == FC_PARSE_MALFORMED)
		/* The IPv6 stack would forward it (it does not read the
		 * transport header), to the prefix, with the internal source. */
		return nat64_drop(FC_STAT_DROP_MALFORMED);
	if (ret != FC_PARSE_OK)
		return nat64_drop(FC_STAT_DROP_UNSUPPORTED_PROTO);
	if (ipv6_addr_local_scope(&s->p.saddr) || nat64_wkp_non_global(cfg, dst4))
		return nat64_drop(FC_STAT_NAT64_DROP_UNTRANSLATABLE);
	if (!nat64_allowed(cfg, &s->p.saddr))
		return nat64_drop(FC_STAT_NAT64_DROP_NOT_ALLOWED);
	if (s->p.hop_limit <= 1) {
		/* Expires here: the stack answers with Time Exceeded (when it
		 * has a route to the prefix) and sends nothing on. */
		stat_inc(FC_STAT_NAT64_PASS_HOP_LIMIT);
		return CTX_PASS;
	}
	/* Not translated, before any state is made for it (RFC 7915 §5.1:
	 * a routing header with segments left; Parameter Problem pointing
	 * at that byte, but never about an ICMPv6 error). */
	ptr = nat64_segments_left_ptr(ctx, &s->p);
	if (ptr) {
		stat_inc(FC_STAT_NAT64_DROP_UNTRANSLATABLE);
		if (s->p.proto == IPPROTO_ICMPV6 && icmp6_is_error(s->p.icmp_type))
			return CTX_DROP;
		return nat64_answer6(ctx, &s->p, NAT64_ANSWER(ICMPV6_PARAMPROB, 0), bpf_htonl(ptr));
	}

	switch (s->p.proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		break;
	case IPPROTO_ICMPV6:
		if (s->p.has_l4 && icmp6_is_error(s->p.icmp_type))
			return nat64_out_icmp_error(ctx, cfg, s, dst4);
		if (s->p.has_l4 && s->p.icmp_type == ICMPV6_ECHO_REPLY) {
			if (nat64_pool_is_ours(cfg, dst4) <= 0)
				return nat64_out_echo_reply(ctx, s, dst4);
			/* To an address-mapped host's request: from the
			 * sender's own address mapping (a NAPT64 host cannot
			 * have been reached by one: a request to the external
			 * address is the gateway's). */
			if (!nat64_pool_out_find(cfg, &s->p.saddr, &s->prm.out.saddr.v4))
				return nat64_drop(FC_STAT_DROP_ICMP_UNSUPPORTED);
			return nat64_hairpin_mapped(ctx, cfg, s, dst4);
		}
		if (s->p.has_l4 && s->p.icmp_type != ICMPV6_ECHO_REQUEST)
			return nat64_drop(FC_STAT_DROP_ICMP_UNSUPPORTED);
		break;
	default:
		/* RFC 6146 §3.4: Port Unreachable (no translation for it). */
		stat_inc(FC_STAT_DROP_UNSUPPORTED_PROTO);
		return nat64_answer6(ctx, &s->p, NAT64_ANSWER(ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH),
				     0);
	}

	/* To an address-mapped host: hairpinned below; to a free address of
	 * the pool: nobody to deliver to, and no state made for it. */
	to_mapped = nat64_pool_is_ours(cfg, dst4);
	if (to_mapped < 0)
		return nat64_drop(FC_STAT_DROP_UNSOLICITED);
	/* An address mapping (the source's, or a new one of the pool) first;
	 * a source that has none and gets none goes on with NAPT64. */
	why = nat64_pool_out(cfg, &s->p.saddr, &s->prm.out.saddr.v4);
	pooled = why != NAT64_POOL_NONE;
	if (!pooled)
		why = nat64_out_map(cfg, s, dst4);
	if (why != FC_STAT_MAX) {
		stat_inc(why);
		/* No mapping can be made (RFC 6146 §3.5.1.1, §3.5.2.1,
		 * §3.5.3: Address Unreachable), the refusals NAT44 answers
		 * and an exhausted pool. */
		if (!refusal_answered(why) && why != FC_STAT_NAT64_POOL_EXHAUSTED)
			return CTX_DROP;
		return nat64_answer6(ctx, &s->p, NAT64_ANSWER(ICMPV6_DEST_UNREACH, ICMPV6_ADDR_UNREACH),
				     0);
	}
	if (to_mapped)
		return nat64_hairpin_mapped(ctx, cfg, s, dst4);
	translated = s->p.has_l4 ? FC_STAT_NAT64_OUT : FC_STAT_FRAGMENT_TRANSLATED;
	s->prm.out.daddr.v4 = dst4;
	if (ext_addr4_is_ours(cfg, dst4)) {
		if (pooled)
			s->prm.out.sport = s->p.sport;	/* its port is its own */
		ret = nat64_hairpin(ctx, cfg, s, dst4, pooled);
		if (ret != FC_NAT64_HAIRPIN4)
			return ret;
		translated = FC_STAT_HAIRPIN_TRANSLATED;
	}
	s->prm.ip_id = bpf_get_prandom_u32();
	ret = nat64_out_xlat(ctx, s, s->p.proto == IPPROTO_ICMPV6 ? IPPROTO_ICMP : s->p.proto,
			     translated);
	return nat64_out_answer(ctx, s, ret);
}

/* The MTU of the IPv6 route to s->prm.out.daddr (at least 1280) if a
 * packet of tot_len bytes does not fit it, else 0. */
static __always_inline __u32 nat64_fib6_mtu(struct ctx_buff *ctx, const struct nat64_scratch *s,
					     __u32 tot_len)
{
	struct bpf_fib_lookup fib = {};

	fib.family = AF_INET6_;
	fib.l4_protocol = s->p.proto;
	fib.tot_len = tot_len;
	fib.ifindex = ctx_ifindex(ctx);
	__builtin_memcpy(fib.ipv6_src, s->prm.out.saddr.v6, 16);
	__builtin_memcpy(fib.ipv6_dst, s->prm.out.daddr.v6, 16);
	if (ctx_fib_lookup(ctx, &fib) != BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return 0;
	return fib.mtu_result >= IPV6_MIN_MTU ? fib.mtu_result : IPV6_MIN_MTU;
}

/*
 * Would the translated packet be too big for the IPv6 route to the host?
 * An IPv4 packet grows by 20 bytes (28 as a fragment) and IPv6 routers
 * never fragment; the stack would answer with a Packet Too Big to a
 * synthesized address that no IPv6 route leads to. The route's MTU if it
 * is too big, else 0. A GSO packet's segments are checked (each grows by
 * 20 bytes, gso_size is kept: gso.h).
 */
static __always_inline __u32 nat64_too_big6(struct ctx_buff *ctx, const struct nat64_scratch *s)
{
	return nat64_fib6_mtu(ctx, s, gso_route_len(ctx, &s->p, IPV6_HLEN, xlat_4to6_len(&s->p)));
}

/* The IPv4 packet's DF bit, a fragment's too: a fragment with DF set is
 * not fragmented further (RFC 7915 §4.1 MUST: Fragmentation Needed). */
static __always_inline int nat64_df(struct ctx_buff *ctx, const struct nat64_scratch *s)
{
	__be16 frag = 0;

	if (ctx_load(ctx, s->p.l3_off + offsetof(struct iphdr, frag_off), &frag, sizeof(frag)))
		return 0;
	return !!(bpf_ntohs(frag) & IP_DF);
}

/* RFC 7915 §4.1's lowest-ipv6-mtu (--nat64-lowest-mtu, at least 1280). */
static __always_inline __u32 nat64_lowest_mtu(const struct fc_config *cfg)
{
	return cfg && cfg->nat64_lowest_mtu > NAT64_LOWEST_IPV6_MTU ? cfg->nat64_lowest_mtu
								    : NAT64_LOWEST_IPV6_MTU;
}

/* The IPv4 payload of a piece: as much as lowest-ipv6-mtu holds behind
 * the IPv6 and fragment headers, in 8-byte units, at most what is split. */
static __always_inline __u32 nat64_piece_data(const struct fc_config *cfg)
{
	__u32 d = (nat64_lowest_mtu(cfg) - IPV6_HLEN - FRAG6_HLEN) & ~7U;

	return d < NAT64_SPLIT_DATA_MAX ? d : NAT64_SPLIT_DATA_MAX;
}

/* Should this DF-clear packet be split (RFC 7915 §4.1), and can it be?
 * Not ICMP (fragmented ICMP is not translated, §1.2), not a fragment of a
 * UDP datagram without checksum (it cannot get one, §4.5: the layer
 * refuses it), no GSO, no payload bigger than two pieces. IPv4 options
 * are left out of the pieces (translation drops them anyway) and a whole
 * UDP datagram without checksum gets one first (nat64_split4). */
static __always_inline int nat64_want_split(struct ctx_buff *ctx, const struct fc_config *cfg,
					    const struct nat64_scratch *s)
{
	__be16 udp_check = 1;

	if (ctx_is_gso(ctx) || ctx_len(ctx) > NAT64_SPLIT_FRAME_MAX ||
	    s->p.l3_end - s->p.l4_off > NAT64_SPLIT_DATA_MAX)
		return 0;
	/* Only a fragment gets a fragment header (RFC 7915 §4.1): a whole
	 * packet of up to lowest-ipv6-mtu - 20 bytes fits as IPv6. */
	if (xlat_4to6_len(&s->p) <= nat64_lowest_mtu(cfg))
		return 0;
	if (s->p.proto != IPPROTO_TCP && s->p.proto != IPPROTO_UDP)
		return 0;
	if (s->p.proto == IPPROTO_UDP && s->p.has_l4 && s->p.is_fragment &&
	    (ctx_load(ctx, s->p.csum_off, &udp_check, sizeof(udp_check)) || !udp_check))
		return 0;
	return s->p.l3_off == ETH_HLEN || s->p.l3_off == 0;
}

/* nat64_split4: not split after all (an unexpired source route, which the
 * layer refuses with its ICMP error); the caller goes on as for any
 * packet. */
#define FC_NAT64_NOT_SPLIT	(-66)

#define NAT64_SUM_PIECES	((NAT64_SPLIT_DATA_MAX + 511) / 512)

/*
 * RFC 7915 §4.5 with §4.1: a whole UDP datagram without checksum gets one
 * before it is split (its fragments could not get one). Computed over the
 * copy in s->frame (the datagram at off, len bytes: bpf_csum_diff in
 * 512-byte steps, its most) and stored there, so the first piece carries
 * it; that piece's translation then adjusts it for the IPv6 pseudo-header
 * as for any UDP fragment. No callback: nat64_in's frame leaves no room.
 */
static __always_inline int nat64_split_udp_csum(struct nat64_scratch *s, __u32 off, __u32 len)
{
	__be32 ph[3] = { s->p.saddr.v4, s->p.daddr.v4,
			 bpf_htonl((IPPROTO_UDP << 16) | (len & 0xffff)) };
	__u32 sum, k, n;
	__be16 check;

	if (s->p.proto != IPPROTO_UDP || !s->p.has_l4 || s->p.is_fragment)
		return 0;
	if (!FC_IN_RANGE(off, ETH_HLEN, ETH_HLEN + IPV4_HLEN_MAX) ||
	    !FC_IN_RANGE(len, 8, NAT64_SPLIT_DATA_MAX))
		return -1;
	__builtin_memcpy(&check, s->frame + off + 6, sizeof(check));
	if (check)
		return 0;
	/* The sum runs to a 4-byte boundary: the bytes past the datagram
	 * (left from an earlier frame) count as zero. */
	__builtin_memset(s->frame + off + len, 0, 4);
	sum = bpf_csum_diff(NULL, 0, ph, sizeof(ph), 0);
	/* The loop's bound read back from memory: its tests then refine a
	 * value with no history, not the caller's length, and the verifier
	 * walks the pieces that follow once, not once per exit. */
	s->sum_len = len;
	asm volatile("" ::: "memory");
	len = s->sum_len;
	for (k = 0; k < NAT64_SUM_PIECES; k++) {
		if (k * 512 >= len)
			break;
		n = len - k * 512;
		n = n > 512 ? 512 : (n + 3) & ~3U;
		if (!FC_IN_RANGE(n, 4, 512))
			return -1;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)(s->frame + off + k * 512), n, sum);
	}
	check = ~csum_fold32(sum);
	if (!check)
		check = 0xffff;
	__builtin_memcpy(s->frame + off + 6, &check, sizeof(check));
	return 0;
}

/*
 * Split the IPv4 packet in ctx into IPv4 fragments of nat64_piece_data()
 * payload bytes (the last shorter; offsets and MF follow the packet's own,
 * so a fragment is split into smaller ones of the same train) and feed
 * each back into the external interface's ingress, first piece first:
 * there the first piece is translated through the mapping and records the
 * train, the others follow it through the fragment table, each now small
 * enough to become at most lowest-ipv6-mtu bytes of IPv6. The pieces have
 * no options (20-byte headers). The packet in hand is only the carrier
 * (as in frag_release): dropped.
 */
static __always_inline int nat64_split4_l2(struct ctx_buff *ctx, struct nat64_scratch *s,
					   __u32 piece, const __u32 l2)
{
	__u32 len = ctx_len(ctx), data_len, hlen, start, size, k;
	struct iphdr ip;
	__u16 frag0;

	hlen = s->p.l4_off - s->p.l3_off;
	if (len < l2 + IPV4_HLEN || !FC_IN_RANGE(len, IPV4_HLEN, NAT64_SPLIT_FRAME_MAX) ||
	    !FC_IN_RANGE(hlen, IPV4_HLEN, IPV4_HLEN_MAX) ||
	    !FC_IN_RANGE(piece, 8, NAT64_SPLIT_DATA_MAX) || ctx_load(ctx, 0, s->frame, len))
		return nat64_drop(FC_STAT_DROP_MALFORMED);
	data_len = s->p.l3_end - s->p.l4_off;
	if (data_len > len - l2 - hlen || nat64_split_udp_csum(s, l2 + hlen, data_len))
		return nat64_drop(FC_STAT_DROP_MALFORMED);
	__builtin_memcpy(&ip, s->frame + l2, sizeof(ip));
	*(__u8 *)&ip = 0x45;	/* version 4, IHL 5: the options stay behind */
	frag0 = bpf_ntohs(ip.frag_off);
	if ((frag0 & IP_OFFSET) * 8 + data_len > 0xffff)
		return nat64_drop(FC_STAT_DROP_MALFORMED);
	stat_inc(FC_STAT_NAT64_SPLIT);
	for (k = 0; k < NAT64_SPLIT_PIECES; k++) {
		start = k * piece;
		if (start >= data_len)
			break;
		size = data_len - start;
		if (size > piece)
			size = piece;
		ip.tot_len = bpf_htons(IPV4_HLEN + size);
		ip.frag_off = bpf_htons(((frag0 & IP_OFFSET) + start / 8) |
					(start + size < data_len || (frag0 & IP_MF) ? IP_MF : 0));
		ip.check = 0;
		ip.check = ~csum_fold32(bpf_csum_diff(NULL, 0, (__be32 *)&ip, sizeof(ip), 0));
		if (ctx_resize(ctx, l2 + IPV4_HLEN + size) ||
		    (l2 && ctx_store(ctx, 0, s->frame, l2)) ||
		    ctx_store(ctx, l2, &ip, sizeof(ip)) ||
		    /* 6.1's verifier loses "start < data_len" on the way:
		     * the offsets and the length it checks are bounded here. */
		    !FC_IN_RANGE(size, 1, NAT64_SPLIT_DATA_MAX) ||
		    start > NAT64_SPLIT_DATA_MAX || hlen > IPV4_HLEN_MAX ||
		    ctx_store(ctx, l2 + IPV4_HLEN, s->frame + l2 + hlen + start, size) ||
		    ctx_reinject(ctx))
			return nat64_drop(FC_STAT_NAT64_DROP_NO_ROOM);
	}
	return CTX_DROP;	/* the carrier: its pieces went on */
}

/* The frame's link-layer header (l3_off bytes: none or Ethernet) goes
 * with each piece; each length its own constant for the verifier. */
static __noinline int nat64_split4(struct ctx_buff *ctx, struct nat64_scratch *s)
{
	__u32 piece = nat64_piece_data(config_get());

	/* Options are left out of the pieces; an unexpired source route
	 * refuses the packet (§4.1), which the layer answers. */
	if (xlat_check_opt4(ctx, s->p.l3_off + IPV4_HLEN, s->p.l4_off) != XLAT_OK)
		return FC_NAT64_NOT_SPLIT;
	if (s->p.l3_off)
		return nat64_split4_l2(ctx, s, piece, ETH_HLEN);
	return nat64_split4_l2(ctx, s, piece, 0);
}

/*
 * 4 -> 6, too big for the IPv6 route of MTU mtu6 (RFC 7915 §4): dropped,
 * and the IPv4 sender is told with Fragmentation Needed (3/4), rate
 * limited. DF set: the MTU that becomes mtu6 as IPv6 (mtu6 - 20), as the
 * RFC requires. DF clear, or a fragment: the RFC's SHOULD (fragment to
 * fit) is not done here, one packet in, one out; the sender is told
 * mtu6 - 28, so that its fragments of that size fit with their fragment
 * header (Linux lowers the route's MTU for DF-clear traffic too and
 * fragments to it); so is a first fragment with DF set, which becomes IPv6
 * with a fragment header. A non-first fragment is dropped and counted, not
 * answered: no ICMP error about one (RFC 1122 §3.2.2), and it quotes no
 * ports a sender could match.
 */
static __always_inline int nat64_too_big_in(struct ctx_buff *ctx, const struct nat64_scratch *s,
					    __u32 mtu6, int df)
{
	stat_inc(FC_STAT_NAT64_DROP_MTU);
	if (!df)
		stat_inc(FC_STAT_NAT64_DROP_MTU_DF_CLEAR);
	if (!s->p.has_l4)
		return CTX_DROP;
	/* The error leaves by the external interface's egress, where
	 * nat4_egress must let it pass. */
	ctx_mark_translated(ctx);
	return icmp4_error_reply(ctx, config_get(), &s->p,
				 FC_ICMP_WHAT(ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED,
					      FC_STAT_NAT64_FRAG_NEEDED_SENT),
				 bpf_htonl(xlat_frag_needed_mtu(mtu6, !df || s->p.is_fragment)));
}

/* RFC 7915 §4.5: with --nat64-udp-zero-checksum drop, a whole IPv4 UDP
 * datagram without checksum is dropped and counted (the management
 * event), not given one. Fragments of one are refused either way. */
static __always_inline int nat64_udp_zero_refused(struct ctx_buff *ctx, const struct fc_config *cfg,
						  const struct nat64_scratch *s)
{
	__be16 check = 1;

	if (!(cfg->flags & FC_CFG_NAT64_UDP0_DROP) || s->p.proto != IPPROTO_UDP ||
	    !s->p.has_l4 || s->p.is_fragment)
		return 0;
	return !ctx_load(ctx, s->p.csum_off, &check, sizeof(check)) && !check;
}

/*
 * A non-first fragment of an IPv4 train whose first fragment went to a
 * NAT64 mapping (nat_ingress_fragment found the record): addresses only,
 * the host reassembles it with its first. FC_STAT_MAX, or the reason.
 */
static __always_inline int nat64_in_fragment(const struct fc_config *cfg,
					     struct nat64_scratch *s)
{
	const struct fc_frag *f = frag_find(&s->p, bpf_ktime_get_ns());

	if (!f || f->int_family != FC_AF_INET6)
		return FC_STAT_DROP_UNSOLICITED;	/* gone since */
	s->prm.out.daddr = f->int_addr;
	return FC_STAT_MAX;
}

/*
 * Inbound, after nat4_ingress said FC_NAT64_PENDING: the packet is to a
 * mapping whose internal endpoint is IPv6, and nat4_ingress admitted it
 * (EIF, session kept) or found the ICMP error's mapping. The remote is
 * seen under the prefix; the IPv6 stack routes the result to the host. An
 * ICMP error's quote becomes IPv6 as the host sent it, its outer source
 * the reporting router under the prefix (traceroute6 shows the IPv4 hops).
 */
static __noinline __attribute__((unused)) int nat64_in(struct ctx_buff *ctx)
{
	const struct fc_config *cfg = config_get();
	struct fc_endpoint_key key;
	struct nat64_scratch *s;
	struct fc_binding *ext;
	__u32 mtu6;
	__u64 now;
	__be16 port;
	int r, is_error, is_request, df, pooled;

	s = nat64_scratch_get();
	if (!cfg || !s || parse_ipv4(ctx, &s->p) != FC_PARSE_OK)
		return nat64_drop(FC_STAT_DROP_MALFORMED);	/* nat4_ingress parsed it */
	s->prm.tos = cfg->nat64_tos;
	if (nat64_synthesize(cfg, s->p.saddr.v4, s->prm.out.saddr.v6))
		return nat64_drop(FC_STAT_NAT64_DROP_UNTRANSLATABLE);
	is_error = s->p.proto == IPPROTO_ICMP && s->p.has_l4 && icmp_is_error(s->p.icmp_type);
	/* RFC 6052 §3.1 (nat64_wkp_non_global). An ICMP error from a
	 * privately numbered router is still translated: path MTU
	 * discovery and traceroute through such a path need it. */
	if (!is_error && nat64_wkp_non_global(cfg, s->p.saddr.v4))
		return nat64_drop(FC_STAT_NAT64_DROP_UNTRANSLATABLE);
	if (nat64_ttl(ctx, &s->p) <= 1) {
		/* RFC 7915 §4.1 MUST: the translator, a router, checks for
		 * zero and says so. Left to the IPv6 stack, Hop Limit
		 * Exceeded would go to the synthesized source, which no
		 * route leads back from: ICMPv4 Time Exceeded instead. */
		stat_inc(FC_STAT_NAT64_DROP_TTL);
		return nat64_answer4(ctx, &s->p, is_error, NAT64_ANSWER(ICMP_TIME_EXCEEDED, 0));
	}
	if (!s->p.has_l4) {
		/* A non-first fragment of a NAT64 train (an address-mapped
		 * host's needs no record: its address says where). */
		r = nat64_pool_in_host(cfg, s->p.daddr.v4, &s->prm.out.daddr) ?
			    FC_STAT_MAX : nat64_in_fragment(cfg, s);
		if (r != FC_STAT_MAX)
			return nat64_drop(r);
		df = nat64_df(ctx, s);
		if (!df && nat64_want_split(ctx, cfg, s)) {
			r = nat64_split4(ctx, s);
			if (r != FC_NAT64_NOT_SPLIT)
				return r;
		}
		mtu6 = nat64_too_big6(ctx, s);
		if (mtu6)
			return nat64_too_big_in(ctx, s, mtu6, df);
		r = xlat_4to6(ctx, &s->p, &s->prm);
		if (r != XLAT_OK)
			return nat64_drop(r == XLAT_NO_ROOM ? FC_STAT_NAT64_DROP_NO_ROOM
							    : FC_STAT_NAT64_DROP_FRAGMENT);
		stat_inc(FC_STAT_FRAGMENT_TRANSLATED);
		return CTX_PASS;
	}
	/* An echo request's identifier is the mapping's (the querier is
	 * outside, nat64_echo_request_mapped): it plays the port. */
	is_request = s->p.proto == IPPROTO_ICMP && s->p.icmp_type == ICMP_ECHO;
	if (is_error) {
		if (parse_icmp_quote(ctx, &s->p, FC_AF_INET, &s->q))
			return nat64_drop(FC_STAT_DROP_MALFORMED);
		fc_ext_endpoint_key(&key, FC_AF_INET, s->q.proto, &s->q.saddr, s->q.sport);
	} else {
		fc_ext_endpoint_key(&key, FC_AF_INET, s->p.proto, &s->p.daddr,
				 is_request ? s->p.sport : s->p.dport);
	}
	/* An address-mapped host: its address, the ports kept (0). */
	port = 0;
	pooled = nat64_pool_in_host(cfg, is_error ? s->q.saddr.v4 : s->p.daddr.v4,
				    &s->prm.out.daddr);
	if (!pooled) {
		ext = bpf_map_lookup_elem(&fc_bindings, &key);
		if (!ext || ext->family != FC_AF_INET6)
			return nat64_drop(FC_STAT_DROP_UNSOLICITED);	/* gone since */
		s->prm.out.daddr = ext->addr;
		port = ext->port;
	}
	if (is_error) {
		if (nat64_synthesize(cfg, s->q.daddr.v4, s->prm.in.daddr.v6))
			return nat64_drop(FC_STAT_NAT64_DROP_UNTRANSLATABLE);
		s->prm.in.saddr = s->prm.out.daddr;
		s->prm.in.sport = port;
		/* RFC 7915 §4.2: a Packet Too Big's MTU is no more than the
		 * IPv6 next hop's (the route to the host; 0: unknown). */
		s->prm.mtu6 = nat64_fib6_mtu(ctx, s, 0xffff);
	} else {
		if (is_request)
			s->prm.out.sport = port;
		else
			s->prm.out.dport = port;
		if (nat64_udp_zero_refused(ctx, cfg, s))
			return nat64_drop(FC_STAT_NAT64_DROP_UDP_ZERO_CSUM);
		df = nat64_df(ctx, s);
		if (!df && nat64_want_split(ctx, cfg, s)) {
			r = nat64_split4(ctx, s);
			if (r != FC_NAT64_NOT_SPLIT)
				return r;
		}
		mtu6 = nat64_too_big6(ctx, s);
		if (mtu6)
			return nat64_too_big_in(ctx, s, mtu6, df);
	}
	/* A first fragment: the train's followers go where it goes (RFC 7915
	 * §4.1: each becomes IPv6 with a fragment header). The key is the
	 * IPv4 packet's, made before it is translated. */
	if (s->p.is_fragment)
		frag_key(&s->train, &s->p);
	r = xlat_4to6(ctx, &s->p, &s->prm);
	if (r == XLAT_SOURCE_ROUTE) {
		/* RFC 7915 §4.1: not translated, Source Route Failed. */
		stat_inc(FC_STAT_NAT64_DROP_UNTRANSLATABLE);
		return nat64_answer4(ctx, &s->p, is_error,
				     NAT64_ANSWER(ICMP_DEST_UNREACH, ICMP_SR_FAILED));
	}
	if (r == XLAT_UDP_NO_CSUM) {
		/* UDP without checksum in fragments: RFC 6146 §3.4 (which
		 * RFC 7915 §4.5 defers to) wants it reassembled to compute
		 * the sum or, lacking the resources, silently discarded. */
		return nat64_drop(FC_STAT_NAT64_DROP_FRAGMENT);
	}
	if (r != XLAT_OK && s->p.is_fragment && r != XLAT_NO_ROOM) {
		/* A first fragment the layer refuses (ICMP, §1.2): §4.4's
		 * default answer. */
		stat_inc(FC_STAT_NAT64_DROP_FRAGMENT);
		return nat64_answer4(ctx, &s->p, is_error,
				     NAT64_ANSWER(ICMP_DEST_UNREACH, ICMP_PKT_FILTERED));
	}
	if (r != XLAT_OK)
		return nat64_xlat_refused(r);
	if (is_error)
		stat_inc(FC_STAT_ICMP_ERROR_TRANSLATED);
	stat_inc(FC_STAT_NAT64_IN);
	if (s->p.is_fragment && !pooled) {
		now = bpf_ktime_get_ns();
		frag_remember(&s->train, FC_AF_INET6, &s->prm.out.daddr, now);
		if (frag_release(ctx, &s->train, now))
			return CTX_DROP;	/* sent on as a copy, ahead of its followers */
	}
	return CTX_PASS;
}

#endif /* FC_BPF_NAT64_H */
