/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The length a route must take for a packet: its own, or for a GSO packet
 * one segment's. A GSO packet is cut to gso_size only on its way out, so
 * its own length says nothing about whether it fits: Linux's forwarding
 * checks one segment against the route's MTU (ip_exceeds_mtu,
 * ip6_pkt_too_big: skb_gso_validate_network_len).
 *
 * The FIB lookup checks the route's MTU (ip_mtu_from_fib_result,
 * ip6_mtu_from_fib6: a locked route MTU, a learnt path MTU, else the
 * device's, as forwarding takes it) only when given a tot_len, so it is
 * given this one. With none it checks the device MTU alone and lets any
 * GSO packet through (is_skb_forwardable), and so does bpf_check_mtu
 * without BPF_MTU_CHK_SEGS. With SEGS that helper checks the segments
 * against the device's MTU, never a route's, and measures them from the
 * skb's transport header, which a packet may not have set (test_run's do
 * not: every GSO packet over the device MTU fails): not used.
 */
#ifndef FC_BPF_GSO_H
#define FC_BPF_GSO_H

#include "parse.h"

/* For p leaving with an IP header of l3_hlen bytes and len bytes in all
 * (after any translation; gso_size is kept by it): len, or one segment's
 * (l3_hlen, the transport header and gso_size; the last segment is no
 * longer than the others). */
static __always_inline __u32 gso_route_len(struct ctx_buff *ctx, const struct fc_pkt *p,
					   __u32 l3_hlen, __u32 len)
{
	__u32 gso = ctx_gso_size(ctx), seg, l4 = sizeof(struct udphdr);
	__u8 doff;

	if (!gso)
		return len;
	if (p->proto == IPPROTO_TCP) {
		if (ctx_load(ctx, p->l4_off + 12, &doff, 1))
			return len;
		l4 = (doff >> 4) * 4;
	}
	seg = l3_hlen + l4 + gso;
	return seg < len ? seg : len;
}

/* The same for p leaving as it came (NAT44, NAT66, forwarding). */
static __always_inline __u32 gso_route_len_same(struct ctx_buff *ctx, const struct fc_pkt *p)
{
	return gso_route_len(ctx, p, p->l4_off - p->l3_off, p->l3_end - p->l3_off);
}

#endif /* FC_BPF_GSO_H */
