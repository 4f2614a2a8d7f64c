/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ICMPv6 errors (destination unreachable, packet too big, time exceeded,
 * parameter problem: RFC 4443 §3) quote the packet that caused them, like
 * ICMP errors do: the quote is found here, and rewritten by the shared
 * quote_rewrite() of icmp_error.h. The quoted IPv6 header may carry
 * extension headers; they are walked with the same bounded step as the
 * outer header's (parse.h). The ICMPv6 checksum covers a pseudo-header, so
 * the outer address rewrite updates it too (rewrite_addr6).
 */
#ifndef FC_BPF_ICMP6_ERROR_H
#define FC_BPF_ICMP6_ERROR_H

#include "icmp_error.h"

static __always_inline int icmp6_is_error(__u8 type)
{
	return type == ICMPV6_DEST_UNREACH || type == ICMPV6_PKT_TOOBIG ||
	       type == ICMPV6_TIME_EXCEED || type == ICMPV6_PARAMPROB;
}

/*
 * Parse the quote of the ICMPv6 error in p. It ends at the end of the
 * datagram or, for the two types with an RFC 4884 length (destination
 * unreachable, time exceeded: octet 4, in 64-bit words), where that says.
 * Packet Too Big's MTU and Parameter Problem's pointer sit in the same
 * octets and are left as they are.
 */
static __always_inline int parse_icmp6_quote(struct ctx_buff *ctx, const struct fc_pkt *p,
					     struct fc_quote *q)
{
	struct fc_pkt in = {};	/* the quoted header walk */
	pkt_icmp6hdr *ih;
	pkt_ipv6hdr *ip6h;
	__u32 quote_end = p->l3_end;
	int r;

	ctx_linearize(ctx, FC_ICMP_ERR_HDR_MAX);
	ih = ctx_ptr(ctx, p->l4_off, sizeof(*ih));
	if (!ih)
		return -1;
	q->l3_off = p->l4_off + sizeof(*ih);
	if ((ih->icmp6_type == ICMPV6_DEST_UNREACH || ih->icmp6_type == ICMPV6_TIME_EXCEED) &&
	    ((__u8 *)ih)[4])
		quote_end = q->l3_off + ((__u8 *)ih)[4] * 8;
	if (quote_end > p->l3_end)
		return -1;

	ip6h = ctx_ptr(ctx, q->l3_off, sizeof(*ip6h));
	if (!ip6h || ip6h->version != 6 || q->l3_off + sizeof(*ip6h) > quote_end)
		return -1;
	/* Both addresses in one copy by the kernel: fewer registers held
	 * across the walk below than 32 bytes of loads (the egress program's
	 * stack is at its limit). */
	_Static_assert(__builtin_offsetof(struct fc_quote, daddr) == __builtin_offsetof(struct fc_quote, saddr) + 16 &&
		       __builtin_offsetof(struct ipv6hdr, daddr) == __builtin_offsetof(struct ipv6hdr, saddr) + 16,
		       "quoted addresses are copied in one piece");
	if (ctx_load(ctx, q->l3_off + offsetof(struct ipv6hdr, saddr), &q->saddr, 32))
		return -1;
	in.proto = ip6h->nexthdr;
	in.l4_off = q->l3_off + sizeof(*ip6h);
	in.l3_end = quote_end;
	r = ipv6_ext_walk(ctx, &in);
	/* Too long a chain, or a non-first fragment: no ports to go by. */
	if (r != 1 || in.l4_off > q->l3_off + FC_IP_HDR_MAX || (in.frag_off & IP6_OFFSET))
		return -1;
	q->proto = in.proto;
	q->l4_off = in.l4_off;
	return parse_quote_l4(ctx, q, quote_end);
}

/* The quote of an ICMP (family FC_AF_INET) or ICMPv6 error. */
static __always_inline int parse_icmp_quote(struct ctx_buff *ctx, const struct fc_pkt *p,
					    __u8 family, struct fc_quote *q)
{
	if (family == FC_AF_INET6)
		return parse_icmp6_quote(ctx, p, q);
	return parse_icmp4_quote(ctx, p, q);
}

#endif /* FC_BPF_ICMP6_ERROR_H */
