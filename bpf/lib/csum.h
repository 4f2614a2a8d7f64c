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
	struct iphdr *iph;

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
	return 0;
}

/* Forwarding decrements the TTL; returns -1 when it would reach zero. */
static __always_inline int ipv4_dec_ttl(struct ctx_buff *ctx, const struct fc_pkt *p)
{
	struct iphdr *iph = ctx_ptr(ctx, p->l3_off, sizeof(*iph));
	__u16 old;

	if (!iph || iph->ttl <= 1)
		return -1;
	/* TTL and protocol share one 16-bit word of the checksum. */
	old = *(__u16 *)&iph->ttl;
	iph->ttl--;
	iph->check = csum_replace2(iph->check, old, *(__u16 *)&iph->ttl);
	return 0;
}

#endif /* FC_BPF_CSUM_H */
