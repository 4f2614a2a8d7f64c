/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checksum-carrying header rewrites: each store of an address, port or ICMP
 * identifier updates the IPv4 header checksum and the L4 checksum
 * incrementally (RFC 1624). A UDP checksum of zero means "none" and stays
 * zero (BPF_F_MARK_MANGLED_0 also turns a computed zero into 0xffff).
 */
#ifndef FC_BPF_CSUM_H
#define FC_BPF_CSUM_H

#include "csum_math.h"
#include "parse.h"

static __always_inline int addr_eq(__u8 family, const union fc_addr *a, const union fc_addr *b)
{
	if (family == FC_AF_INET6)
		return a->v6w[0] == b->v6w[0] && a->v6w[1] == b->v6w[1] &&
		       a->v6w[2] == b->v6w[2] && a->v6w[3] == b->v6w[3];
	return a->v4 == b->v4;
}

static __always_inline __u64 l4_csum_flags(const struct fc_pkt *p, __u32 size)
{
	return size | (p->csum_udp ? BPF_F_MARK_MANGLED_0_ : 0);
}

/*
 * Rewrite the IPv4 source (which == 0) or destination address. The L4
 * checksum goes through the ctx layer (offload-aware); the IPv4 header is
 * written in place. Packet pointers die with every helper that may change
 * the packet, so they are taken after it.
 */
static __always_inline int rewrite_addr4(struct ctx_buff *ctx, const struct fc_pkt *p,
					 int which, __be32 from, __be32 to)
{
	pkt_iphdr *iph;

	if (from == to)
		return 0;
	if (p->has_l4 && p->csum_pseudo &&
	    ctx_l4_csum_replace(ctx, p->csum_off, from, to,
				l4_csum_flags(p, sizeof(to)) | BPF_F_PSEUDO_HDR_))
		return -1;
	iph = ctx_ptr(ctx, p->l3_off, sizeof(*iph));
	if (!iph)
		return -1;
	iph->check = csum_replace4(iph->check, from, to);
	if (which == 0)
		iph->saddr = to;
	else
		iph->daddr = to;
	return 0;
}

/*
 * Rewrite the IPv6 source (which == 0) or destination address. IPv6 has no
 * header checksum; the L4 checksum's pseudo-header covers all 128 bits, so
 * it takes their whole difference in one offload-aware update.
 */
static __always_inline int rewrite_addr6(struct ctx_buff *ctx, const struct fc_pkt *p,
					 int which, const union fc_addr *from,
					 const union fc_addr *to)
{
	__u32 off = p->l3_off + (which == 0 ? offsetof(struct ipv6hdr, saddr)
					    : offsetof(struct ipv6hdr, daddr));
	union fc_addr old = *from, new = *to;	/* from may point into the packet */
	__u8 *field;

	if (addr_eq(FC_AF_INET6, &old, &new))
		return 0;
	if (p->has_l4 && p->csum_pseudo &&
	    ctx_l4_csum_replace(ctx, p->csum_off, 0, csum_diff16(old.v6w, new.v6w),
				l4_csum_flags(p, 4) | BPF_F_PSEUDO_HDR_))
		return -1;
	field = ctx_ptr(ctx, off, 16);
	if (!field)
		return -1;
	__builtin_memcpy(field, new.v6, 16);
	return 0;
}

/* An address of either family; family is a constant at every call, so
 * each path compiles to its own family's rewrite only. */
static __always_inline int rewrite_addr(struct ctx_buff *ctx, const struct fc_pkt *p, __u8 family,
					int which, const union fc_addr *from,
					const union fc_addr *to)
{
	if (family == FC_AF_INET6)
		return rewrite_addr6(ctx, p, which, from, to);
	return rewrite_addr4(ctx, p, which, from->v4, to->v4);
}

/* Rewrite a 16-bit field covered by the L4 checksum (port, ICMP id). */
static __always_inline int rewrite_l4_field(struct ctx_buff *ctx, const struct fc_pkt *p,
					    __u32 off, __be16 from, __be16 to)
{
	__be16 *field;

	if (from == to)
		return 0;
	if (ctx_l4_csum_replace(ctx, p->csum_off, from, to, l4_csum_flags(p, sizeof(to))))
		return -1;
	field = ctx_ptr(ctx, off, sizeof(*field));
	if (!field)
		return -1;
	*field = to;
	if (p->proto == IPPROTO_ICMP) {
		/* An incremental update yields 0x0000 where the message
		 * (echo, id and sequence 0, no data) sums to +0 and only
		 * 0xffff verifies; 0xffff verifies wherever 0x0000 does
		 * (both are zero in one's complement). Found by the fuzzer. */
		__sum16 *csum = ctx_ptr(ctx, p->csum_off, sizeof(*csum));

		if (csum && !*csum)
			*csum = 0xffff;
	}
	return 0;
}

/* Rewrite the packet's ports, or its echo id on the side that carries it;
 * a no-op for a port that does not change. */
static __always_inline int rewrite_ports(struct ctx_buff *ctx, const struct fc_pkt *p,
					 __be16 sport, __be16 dport)
{
	return rewrite_l4_field(ctx, p, l4_port_off(p, 0), p->sport, sport) ||
	       rewrite_l4_field(ctx, p, l4_port_off(p, 1), p->dport, dport);
}

/* Forwarding decrements the TTL; returns -1 when it would reach zero. */
static __always_inline int ipv4_dec_ttl(struct ctx_buff *ctx, const struct fc_pkt *p)
{
	pkt_iphdr *iph = ctx_ptr(ctx, p->l3_off, sizeof(*iph));
	__u16 old;

	if (!iph || iph->ttl <= 1)
		return -1;
	/* TTL and protocol share one 16-bit word of the checksum. */
	old = *(__u16 *)&iph->ttl;
	iph->ttl--;
	iph->check = csum_replace2(iph->check, old, *(__u16 *)&iph->ttl);
	return 0;
}

/* The same for IPv6's hop limit, which no checksum covers: a
 * CHECKSUM_COMPLETE packet's skb->csum follows the change. */
static __always_inline int ipv6_dec_hop_limit(struct ctx_buff *ctx, const struct fc_pkt *p)
{
	pkt_ipv6hdr *ip6h = ctx_ptr(ctx, p->l3_off, sizeof(*ip6h));
	__u8 hl;

	if (!ip6h || ip6h->hop_limit <= 1)
		return -1;
	hl = ip6h->hop_limit - 1;
	return ctx_store_rcsum(ctx, p->l3_off + offsetof(struct ipv6hdr, hop_limit), &hl, 1);
}

#endif /* FC_BPF_CSUM_H */
