/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IPv6 <-> IPv4 packet translation in place (RFC 7915 §4 and §5), for NAT64
 * (doc/design/nat64.md). Stateless: the caller (the stateful layer) has
 * parsed the packet (parse_ipv6 / parse_ipv4), found its mapping and says
 * what the translated addresses and ports are (struct xlat_params); these
 * functions rebuild the IP header, translate ICMP, fix every checksum and
 * resize the packet through the ctx layer, in TC and XDP alike.
 *
 * TTL and hop limit are copied, not decremented: decrementing (and the
 * time exceeded when it runs out) is the forwarder's, before translation,
 * as for any forwarded packet.
 *
 * On a verdict other than XLAT_OK the packet must not be sent: it is
 * untouched for every verdict except XLAT_NO_ROOM.
 */
#ifndef FC_BPF_XLAT_H
#define FC_BPF_XLAT_H

#include "xlat_icmp.h"

/* TCP and UDP: the pseudo-header change (offload-aware) and new ports,
 * before the packet is resized (offsets of the original). */
static __always_inline int xlat_l4_tcpudp(struct ctx_buff *ctx, const struct fc_pkt *p,
					  __u32 pseudo_diff, const struct xlat_addrs *a)
{
	__u64 flags = p->csum_udp ? BPF_F_MARK_MANGLED_0_ : 0;

	if (ctx_l4_csum_diff(ctx, p->csum_off, pseudo_diff, flags | BPF_F_PSEUDO_HDR_))
		return -1;
	if (a->sport && a->sport != p->sport &&
	    (ctx_l4_csum_replace(ctx, p->csum_off, p->sport, a->sport, flags | 2) ||
	     ctx_store(ctx, p->l4_off, &a->sport, 2)))
		return -1;
	if (a->dport && a->dport != p->dport &&
	    (ctx_l4_csum_replace(ctx, p->csum_off, p->dport, a->dport, flags | 2) ||
	     ctx_store(ctx, p->l4_off + 2, &a->dport, 2)))
		return -1;
	return 0;
}

/* ICMP <-> ICMPv6 echo header (RFC 7915 §4.2, §5.2): type, identifier,
 * and the checksum with the ICMPv6 pseudo-header (pseudo: its sum, added
 * or taken away by the caller). */
static __always_inline void xlat_echo_hdr(__u8 *h, __u8 type, const struct xlat_addrs *a,
					  int request, __u32 pseudo)
{
	__u8 old[8];
	__u16 check;
	__u32 diff;

	__builtin_memcpy(old, h, sizeof(old));
	__builtin_memcpy(&check, h + 2, sizeof(check));
	old[2] = 0;
	old[3] = 0;
	h[0] = type;
	h[2] = 0;
	h[3] = 0;
	if (request && a->sport)
		__builtin_memcpy(h + 4, &a->sport, 2);
	else if (!request && a->dport)
		__builtin_memcpy(h + 4, &a->dport, 2);
	diff = bpf_csum_diff((__be32 *)old, 8, (__be32 *)h, 8, pseudo);
	check = xlat_csum_apply(check, diff);
	__builtin_memcpy(h + 2, &check, sizeof(check));
}

/*
 * IPv6 -> IPv4 (RFC 7915 §5.1): p from parse_ipv6 (FC_PARSE_OK). The
 * extension headers are dropped (a routing header with segments left, AH,
 * or anything after the fragment header refuse the packet); TOS = traffic
 * class; TTL = hop limit; a fragment header becomes the IPv4 fragment
 * fields (§5.1.1), else DF is set above 1260 bytes and clear below with
 * prm->ip_id; ICMPv6 becomes ICMP (errors with their quote, xlat_icmp.h).
 * Every other protocol is translated as is (§5.5).
 */
static __always_inline int xlat_6to4(struct ctx_buff *ctx, const struct fc_pkt *p,
				     const struct xlat_params *prm)
{
	__be32 a4[2] = { prm->out.saddr.v4, prm->out.daddr.v4 };
	__be16 eth_type = bpf_htons(ETH_P_IP), id;
	struct ipv6hdr ip6;
	struct iphdr ip4;
	__u8 icmp[8] = {};
	__u32 l4_len = p->l3_end - p->l4_off, tot, pseudo;
	__u16 frag;
	__u8 proto4 = p->proto;
	int r, is_icmp = p->proto == IPPROTO_ICMPV6;

	if (p->family != FC_AF_INET6 || ctx_load(ctx, p->l3_off, &ip6, sizeof(ip6)))
		return XLAT_MALFORMED;
	r = xlat_check_ext6(ctx, p->l3_off + IPV6_HLEN, ip6.nexthdr, p->l4_off);
	if (r)
		return r;
	tot = IPV4_HLEN + l4_len;
	if (tot > 0xffff)
		return XLAT_MALFORMED;

	if (is_icmp) {
		proto4 = IPPROTO_ICMP;
		if (p->is_fragment)
			return XLAT_UNSUPPORTED;	/* §1.2: fragmented ICMP is not translated */
		if (l4_len < sizeof(icmp) || ctx_load(ctx, p->l4_off, icmp, sizeof(icmp)))
			return XLAT_MALFORMED;
		if (icmp[0] < ICMPV6_ECHO_REQUEST)
			return xlat_icmp6_err_to4(ctx, p, prm, &ip6, icmp);
		if (icmp[0] != ICMPV6_ECHO_REQUEST && icmp[0] != ICMPV6_ECHO_REPLY)
			return XLAT_DROP;	/* MLD, ND, unknown informational */
		pseudo = xlat_pseudo6_sum(p->saddr.v6, p->daddr.v6, l4_len, IPPROTO_ICMPV6, 1, 0);
		xlat_echo_hdr(icmp, icmp[0] == ICMPV6_ECHO_REQUEST ? ICMP_ECHO : ICMP_ECHOREPLY,
			      &prm->out, icmp[0] == ICMPV6_ECHO_REQUEST, pseudo);
	} else if (p->has_l4 && (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP)) {
		pseudo = bpf_csum_diff((__be32 *)p->saddr.v6, 16, a4, 4, 0);
		pseudo = bpf_csum_diff((__be32 *)p->daddr.v6, 16, a4 + 1, 4, pseudo);
		if (xlat_l4_tcpudp(ctx, p, pseudo, &prm->out))
			return XLAT_MALFORMED;
	}

	xlat_frag4_fields(p->frag_hdr_off != 0, p->frag_id, p->frag_off, tot, prm->ip_id, &id, &frag);
	xlat_build_ip4(&ip4, xlat_tos_out(prm->tos, xlat_tclass(&ip6)), tot, id, frag, ip6.hop_limit,
		       proto4, prm->out.saddr.v4, prm->out.daddr.v4);

	if (ctx_change_l3(ctx, FC_AF_INET, (int)IPV4_HLEN - (int)(p->l4_off - p->l3_off)))
		return XLAT_NO_ROOM;
	if (xlat_set_eth_type(ctx, p->l3_off, &eth_type) ||
	    ctx_store_rcsum(ctx, p->l3_off, &ip4, sizeof(ip4)))
		return XLAT_NO_ROOM;
	if (is_icmp && ctx_store_rcsum(ctx, p->l3_off + IPV4_HLEN, icmp, sizeof(icmp)))
		return XLAT_NO_ROOM;
	return XLAT_OK;
}

/*
 * IPv4 -> IPv6 (RFC 7915 §4.1): p from parse_ipv4 (FC_PARSE_OK). Options
 * are dropped (an unexpired source route refuses the packet); traffic
 * class = TOS, flow label 0, hop limit = TTL; a fragment header is added
 * when, and only when, the packet is a fragment (DF plays no part: the
 * RFC forbids one on whole packets). A UDP datagram without checksum gets
 * one computed (§4.5); a fragment of one cannot and is refused
 * (XLAT_UDP_NO_CSUM). ICMP becomes ICMPv6 (errors with their quote);
 * with_icmp 0 (a constant) leaves ICMP out of the code: XLAT_UNSUPPORTED,
 * for callers that translate only TCP and UDP (nat64_hairpin4).
 */
static __always_inline int xlat_4to6_as(struct ctx_buff *ctx, const struct fc_pkt *p,
					const struct xlat_params *prm, const int with_icmp)
{
	struct {
		struct ipv6hdr ip;
		struct frag_hdr fh;
	} h6 = {};
	__be16 eth_type = bpf_htons(ETH_P_IPV6);
	struct iphdr ip4;
	__u8 icmp[8] = {};
	__u32 l4_len = p->l3_end - p->l4_off, pseudo, hdr_new, sum;
	__u16 fo, udp_check = 1;
	__u8 proto6 = p->proto;
	int r, is_icmp = p->proto == IPPROTO_ICMP;

	if (p->family != FC_AF_INET || ctx_load(ctx, p->l3_off, &ip4, sizeof(ip4)))
		return XLAT_MALFORMED;
	r = xlat_check_opt4(ctx, p->l3_off + IPV4_HLEN, p->l4_off);
	if (r)
		return r;
	fo = bpf_ntohs(ip4.frag_off);

	if (is_icmp) {
		proto6 = IPPROTO_ICMPV6;
		if (!with_icmp)
			return XLAT_UNSUPPORTED;
		if (p->is_fragment)
			return XLAT_UNSUPPORTED;
		if (l4_len < sizeof(icmp) || ctx_load(ctx, p->l4_off, icmp, sizeof(icmp)))
			return XLAT_MALFORMED;
		if (icmp[0] == ICMP_DEST_UNREACH || icmp[0] == ICMP_TIME_EXCEEDED ||
		    icmp[0] == ICMP_PARAMETERPROB)
			return xlat_icmp4_err_to6(ctx, p, prm, &ip4, icmp);
		if (icmp[0] != ICMP_ECHO && icmp[0] != ICMP_ECHOREPLY)
			return XLAT_DROP;	/* obsolete, single hop, other errors */
		pseudo = xlat_pseudo6_sum(prm->out.saddr.v6, prm->out.daddr.v6, l4_len,
					  IPPROTO_ICMPV6, 0, 0);
		xlat_echo_hdr(icmp, icmp[0] == ICMP_ECHO ? ICMPV6_ECHO_REQUEST : ICMPV6_ECHO_REPLY,
			      &prm->out, icmp[0] == ICMP_ECHO, pseudo);
	} else if (p->has_l4 && (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP)) {
		if (p->proto == IPPROTO_UDP) {
			if (ctx_load(ctx, p->csum_off, &udp_check, sizeof(udp_check)))
				return XLAT_MALFORMED;
			if (!udp_check && p->is_fragment)
				return XLAT_UDP_NO_CSUM;
		}
		pseudo = bpf_csum_diff(&ip4.saddr, 8, (__be32 *)&prm->out.saddr, 32, 0);
		if (xlat_l4_tcpudp(ctx, p, pseudo, &prm->out))
			return XLAT_MALFORMED;
	}

	hdr_new = IPV6_HLEN + (p->is_fragment ? FRAG6_HLEN : 0);
	xlat_build_ip6(&h6.ip, xlat_tclass_out(prm->tos, ip4.tos), l4_len + hdr_new - IPV6_HLEN,
		       p->is_fragment ? NEXTHDR_FRAGMENT : proto6, ip4.ttl, prm->out.saddr.v6,
		       prm->out.daddr.v6);
	if (p->is_fragment)
		xlat_build_frag6(&h6.fh, proto6, ip4.id, fo);

	if (ctx_change_l3(ctx, FC_AF_INET6, (int)hdr_new - (int)(p->l4_off - p->l3_off)))
		return XLAT_NO_ROOM;
	if (xlat_set_eth_type(ctx, p->l3_off, &eth_type))
		return XLAT_NO_ROOM;
	if (p->is_fragment)
		r = ctx_store_rcsum(ctx, p->l3_off, &h6, sizeof(h6));
	else
		r = ctx_store_rcsum(ctx, p->l3_off, &h6, IPV6_HLEN);
	if (r)
		return XLAT_NO_ROOM;
	if (is_icmp && ctx_store_rcsum(ctx, p->l3_off + hdr_new, icmp, sizeof(icmp)))
		return XLAT_NO_ROOM;
	if (!udp_check) {
		/* §4.5: compute the checksum IPv6 requires, over the whole
		 * datagram (its field is zero, as the sum needs it). */
		sum = xlat_pseudo6_sum(prm->out.saddr.v6, prm->out.daddr.v6, l4_len, IPPROTO_UDP, 0, 0);
		if (xlat_sum_range(ctx, p->l3_off + hdr_new, p->l3_off + hdr_new + l4_len, sum, &sum))
			return XLAT_NO_ROOM;
		udp_check = ~csum_fold32(sum);
		if (!udp_check)
			udp_check = 0xffff;
		if (ctx_store_rcsum(ctx, p->l3_off + hdr_new + offsetof(struct udphdr, check),
				    &udp_check, sizeof(udp_check)))
			return XLAT_NO_ROOM;
	}
	return XLAT_OK;
}

/*
 * MTU (RFC 7915 §4.1, §5.1; doc/design/nat64.md). An IPv4 packet grows by
 * 20 bytes (28 with a fragment header) as IPv6, and IPv6 routers never
 * fragment: the forwarder compares xlat_4to6_len() with the IPv6 egress
 * MTU first, and a packet with DF set that does not fit is answered with
 * Fragmentation Needed carrying xlat_frag_needed_mtu(); one with DF clear
 * cannot be fragmented here (the RFC's SHOULD-fragment-to-1280: one packet
 * in, one packet out) and gets the same answer. IPv6 packets shrink as IPv4; those over 1260
 * bytes leave with DF set, and one that does not fit the IPv4 egress is
 * answered with Packet Too Big carrying xlat_ptb_mtu().
 */
static __always_inline int xlat_4to6(struct ctx_buff *ctx, const struct fc_pkt *p,
				     const struct xlat_params *prm)
{
	return xlat_4to6_as(ctx, p, prm, 1);
}

static __always_inline __u32 xlat_4to6_len(const struct fc_pkt *p)
{
	return IPV6_HLEN + (p->is_fragment ? FRAG6_HLEN : 0) + (p->l3_end - p->l4_off);
}

static __always_inline __u32 xlat_6to4_len(const struct fc_pkt *p)
{
	return IPV4_HLEN + (p->l3_end - p->l4_off);
}

/* The MTU for an IPv4 sender whose packet does not fit an IPv6 next hop of
 * mtu6 (IPv4 bytes that become mtu6 IPv6 bytes). */
static __always_inline __u16 xlat_frag_needed_mtu(__u32 mtu6, int is_fragment)
{
	__u32 mtu = mtu6 - IPV6_HLEN + IPV4_HLEN - (is_fragment ? FRAG6_HLEN : 0);

	return mtu > 0xffff ? 0xffff : mtu;
}

/* The MTU for an IPv6 sender whose packet does not fit an IPv4 next hop of
 * mtu4: never below 1280 (packets up to 1280 become IPv4 with DF clear). */
static __always_inline __u32 xlat_ptb_mtu(__u32 mtu4)
{
	__u32 mtu = mtu4 + IPV6_HLEN - IPV4_HLEN;

	return mtu < IPV6_MIN_MTU ? IPV6_MIN_MTU : mtu;
}

#endif /* FC_BPF_XLAT_H */
