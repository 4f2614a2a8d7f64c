/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ICMP errors (destination unreachable, time exceeded, parameter problem)
 * quote the packet that caused them. For a translated flow the quote carries
 * the other side's view of the endpoint, so both the outer header and the
 * quoted IP and transport headers are rewritten (RFC 5508 REQ-3/REQ-4,
 * RFC 7857), with every checksum kept right: outer IPv4, ICMP (which
 * covers the quote), quoted IPv4 and, when the quote holds it, the quoted
 * transport checksum.
 */
#ifndef FC_BPF_ICMP_ERROR_H
#define FC_BPF_ICMP_ERROR_H

#include "csum.h"

/* The packet quoted inside an ICMP error. */
struct fc_quote {
	__u32 l3_off;
	__u32 l4_off;
	__u32 csum_off;		/* quoted L4 checksum, 0 if not in the quote */
	union fc_addr saddr;
	union fc_addr daddr;
	__be16 sport;		/* ICMP echo: the id, as in struct fc_pkt */
	__be16 dport;
	__u8 proto;
	__u8 csum_pseudo;
	__u8 csum_udp;
};

static __always_inline int icmp_is_error(__u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB;
}

/*
 * The quoted transport header at q->l4_off, of protocol q->proto (either
 * family): at least its first 8 bytes must be in the quote (RFC 792,
 * RFC 4443 §3: as much as fits, always more than that).
 */
static __always_inline int parse_quote_l4(struct ctx_buff *ctx, struct fc_quote *q, __u32 quote_end)
{
	__u32 csum_at = 0;
	__u8 *l4;

	if (q->l4_off + 8 > quote_end)
		return -1;
	l4 = ctx_ptr(ctx, q->l4_off, 8);
	if (!l4)
		return -1;

	switch (q->proto) {
	case IPPROTO_TCP:
		csum_at = offsetof(struct tcphdr, check);
		q->csum_pseudo = 1;
		break;
	case IPPROTO_UDP:
		csum_at = offsetof(struct udphdr, check);
		q->csum_pseudo = 1;
		q->csum_udp = 1;
		break;
	case IPPROTO_ICMP:
		csum_at = offsetof(struct icmphdr, checksum);
		break;
	case IPPROTO_ICMPV6:
		csum_at = offsetof(struct icmp6hdr, icmp6_cksum);
		q->csum_pseudo = 1;
		break;
	default:
		return -1;
	}
	if (q->proto == IPPROTO_ICMP) {
		if (l4[0] == ICMP_ECHO)
			q->sport = *(__be16 *)(l4 + 4);
		else if (l4[0] == ICMP_ECHOREPLY)
			q->dport = *(__be16 *)(l4 + 4);
		else
			return -1;	/* errors about errors are not answered */
	} else if (q->proto == IPPROTO_ICMPV6) {
		if (l4[0] == ICMPV6_ECHO_REQUEST)
			q->sport = *(__be16 *)(l4 + 4);
		else if (l4[0] == ICMPV6_ECHO_REPLY)
			q->dport = *(__be16 *)(l4 + 4);
		else
			return -1;
	} else {
		q->sport = *(__be16 *)l4;
		q->dport = *(__be16 *)(l4 + 2);
	}
	/* A quote may stop short of the TCP checksum (8 bytes is enough). */
	if (q->l4_off + csum_at + 2 <= quote_end)
		q->csum_off = q->l4_off + csum_at;
	return 0;
}

/*
 * Parse the quote of the ICMP error in p. The quote ends at the end of the
 * datagram or, with RFC 4884 extensions, where the ICMP length field says.
 * At least 8 bytes of the quoted transport header are required (RFC 792).
 */
static __always_inline int parse_icmp4_quote(struct ctx_buff *ctx, const struct fc_pkt *p,
					     struct fc_quote *q)
{
	pkt_icmphdr *ih;
	pkt_iphdr *iph;
	__u32 quote_end, ihl_len;

	ctx_linearize(ctx, FC_ICMP_ERR_HDR_MAX);
	ih = ctx_ptr(ctx, p->l4_off, sizeof(*ih));
	if (!ih)
		return -1;
	q->l3_off = p->l4_off + sizeof(*ih);
	/* RFC 4884: octet 5 is the quote's length in 32-bit words, or 0. */
	quote_end = ((__u8 *)ih)[5] ? q->l3_off + ((__u8 *)ih)[5] * 4 : p->l3_end;
	if (quote_end > p->l3_end)
		return -1;

	iph = ctx_ptr(ctx, q->l3_off, sizeof(*iph));
	if (!iph)
		return -1;
	ihl_len = iph->ihl * 4;
	if (iph->version != 4 || ihl_len < sizeof(*iph) ||
	    (bpf_ntohs(iph->frag_off) & IP_OFFSET))
		return -1;
	q->proto = iph->protocol;
	q->saddr.v4 = iph->saddr;
	q->daddr.v4 = iph->daddr;
	q->l4_off = q->l3_off + ihl_len;
	return parse_quote_l4(ctx, q, quote_end);
}

/* Store a 16-bit word of the quote and carry it into the ICMP checksum. */
static __always_inline int quote_store16(struct ctx_buff *ctx, const struct fc_pkt *p,
					 __u32 off, __be16 to)
{
	__be16 *field = ctx_ptr(ctx, off, sizeof(*field));
	__u16 *icmp_csum = ctx_ptr(ctx, p->csum_off, sizeof(*icmp_csum));

	if (!field || !icmp_csum)
		return -1;
	*icmp_csum = csum_replace2(*icmp_csum, *field, to);
	*field = to;
	return 0;
}

static __always_inline int quote_store32(struct ctx_buff *ctx, const struct fc_pkt *p,
					 __u32 off, __be32 to)
{
	pkt_be32 *field = ctx_ptr(ctx, off, sizeof(*field));
	__u16 *icmp_csum = ctx_ptr(ctx, p->csum_off, sizeof(*icmp_csum));

	if (!field || !icmp_csum)
		return -1;
	*icmp_csum = csum_replace4(*icmp_csum, *field, to);
	*field = to;
	return 0;
}

/*
 * Store a quoted IPv6 address and carry its change into the ICMPv6
 * checksum (IPv6 has no header checksum of its own).
 */
static __always_inline int quote_store_addr6(struct ctx_buff *ctx, const struct fc_pkt *p,
					     __u32 off, const union fc_addr *from,
					     const union fc_addr *to)
{
	__u8 *field = ctx_ptr(ctx, off, 16);
	__u16 *icmp_csum = ctx_ptr(ctx, p->csum_off, sizeof(*icmp_csum));

	if (!field || !icmp_csum)
		return -1;
	*icmp_csum = csum_replace4(*icmp_csum, 0, csum_diff16(from->v6w, to->v6w));
	__builtin_memcpy(field, to->v6, 16);
	return 0;
}

/*
 * Rewrite the quoted source (dst == 0) or destination endpoint to
 * (addr, port); family is the quote's, a constant at every call. The quoted
 * transport checksum changes first, since it is itself covered by the ICMP
 * checksum.
 */
static __always_inline int quote_rewrite(struct ctx_buff *ctx, const struct fc_pkt *p,
					 const struct fc_quote *q, __u8 family, int dst,
					 const union fc_addr *addr, __be16 port)
{
	const union fc_addr *from_addr = dst ? &q->daddr : &q->saddr;
	__be16 from_port = dst ? q->dport : q->sport;
	int addr_changes;
	__u32 port_off, addr_off;
	pkt_iphdr *iph;
	__u16 *l4_csum;

	addr_changes = !addr_eq(family, from_addr, addr);
	port_off = FC_L4_PORT_OFF(q, dst);

	if (q->csum_off) {
		__u16 sum, fresh;

		l4_csum = ctx_ptr(ctx, q->csum_off, sizeof(*l4_csum));
		if (!l4_csum)
			return -1;
		sum = fresh = *l4_csum;
		if (!(q->csum_udp && sum == 0)) {	/* UDP without checksum */
			if (q->csum_pseudo && family == FC_AF_INET6)
				fresh = csum_replace4(fresh, 0, csum_diff16(from_addr->v6w, addr->v6w));
			else if (q->csum_pseudo)
				fresh = csum_replace4(fresh, from_addr->v4, addr->v4);
			fresh = csum_replace2(fresh, from_port, port);
			if (q->csum_udp && fresh == 0)
				fresh = 0xffff;
			if (fresh != sum && quote_store16(ctx, p, q->csum_off, fresh))
				return -1;
		}
	}
	if (port != from_port && quote_store16(ctx, p, port_off, port))
		return -1;
	if (!addr_changes)
		return 0;
	if (family == FC_AF_INET6) {
		union fc_addr old = *from_addr;

		addr_off = q->l3_off + (dst ? offsetof(struct ipv6hdr, daddr)
					    : offsetof(struct ipv6hdr, saddr));
		return quote_store_addr6(ctx, p, addr_off, &old, addr);
	}
	addr_off = q->l3_off + (dst ? offsetof(struct iphdr, daddr) : offsetof(struct iphdr, saddr));
	iph = ctx_ptr(ctx, q->l3_off, sizeof(*iph));
	if (!iph)
		return -1;
	if (quote_store16(ctx, p, q->l3_off + offsetof(struct iphdr, check),
			  csum_replace4(iph->check, from_addr->v4, addr->v4)) ||
	    quote_store32(ctx, p, addr_off, addr->v4))
		return -1;
	return 0;
}

#endif /* FC_BPF_ICMP_ERROR_H */
