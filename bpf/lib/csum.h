/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checksum-carrying header rewrites: each store of an address, port or ICMP
 * identifier updates the IPv4 header checksum and the L4 checksum
 * incrementally (RFC 1624). A UDP checksum of zero means "none" and stays
 * zero (BPF_F_MARK_MANGLED_0 also turns a computed zero into 0xffff).
 */
#ifndef FC_BPF_CSUM_H
#define FC_BPF_CSUM_H

#include "parse.h"

static __always_inline __u64 l4_csum_flags(const struct fc_pkt *p, __u32 size)
{
	return size | (p->csum_udp ? BPF_F_MARK_MANGLED_0_ : 0);
}

/* Rewrite the IPv4 source (which == 0) or destination address. */
static __always_inline int rewrite_addr4(struct ctx_buff *ctx, const struct fc_pkt *p,
					 int which, __be32 from, __be32 to)
{
	__u32 off = p->l3_off + (which == 0 ? offsetof(struct iphdr, saddr)
					    : offsetof(struct iphdr, daddr));

	if (from == to)
		return 0;
	if (p->has_l4 && p->csum_pseudo &&
	    ctx_l4_csum_replace(ctx, p->csum_off, from, to,
				l4_csum_flags(p, sizeof(to)) | BPF_F_PSEUDO_HDR_))
		return -1;
	if (ctx_l3_csum_replace(ctx, p->l3_off + offsetof(struct iphdr, check),
				from, to, sizeof(to)))
		return -1;
	return ctx_store(ctx, off, &to, sizeof(to));
}

/* Rewrite a 16-bit field covered by the L4 checksum (port, ICMP id). */
static __always_inline int rewrite_l4_field(struct ctx_buff *ctx, const struct fc_pkt *p,
					    __u32 off, __be16 from, __be16 to)
{
	if (from == to)
		return 0;
	if (ctx_l4_csum_replace(ctx, p->csum_off, from, to, l4_csum_flags(p, sizeof(to))))
		return -1;
	return ctx_store(ctx, off, &to, sizeof(to));
}

#endif /* FC_BPF_CSUM_H */
