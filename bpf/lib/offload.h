/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Conntrack flow offload: forward the packets of a flow netfilter has
 * accepted and conntrack has established, with conntrack's NAT applied,
 * straight out of the interface the FIB names (doc/design/offload.md).
 *
 * It decides nothing: a packet of a flow user space has not offloaded goes
 * to the stack untouched, and so does every packet the fast path cannot
 * finish as the stack would (fragments, IP options or extension headers,
 * TTL or hop limit expiring, no neighbour yet, too big, for the router
 * itself), counted by reason. TCP FIN and RST end the offload of their flow
 * here, at once: conntrack sees the close and the rest of the flow, and its
 * timers run as usual. Written against ctx_* only (one source for the TC
 * and XDP entry points); every decision to pass is taken before the packet
 * changes.
 *
 * A --vlan link (tags on the wire, no VLAN device: vlan.h): XDP parses its
 * frames with the tags and lays out the header for the egress
 * (ctx_l2_out); TC takes them off before this runs and puts them on at
 * the link's egress (fo_vlan_verdict below, vlan_tc.h).
 */
#ifndef FC_BPF_OFFLOAD_H
#define FC_BPF_OFFLOAD_H

#include "offload4.h"
#include "offload6.h"

static __always_inline int offload_ingress(struct ctx_buff *ctx)
{
	struct fc_pkt p = {};
	int ret;

	/* XDP on a --vlan link reads the tags in the frame (ctx_xdp.h's
	 * ctx_vlan_l2: exactly the link's, else not ours); TC finds them off
	 * already (vlan_tc.h). */
	ret = parse_ipv4_tagged(ctx, &p, 1);
	if (ret == FC_PARSE_NOT_IPV4)
		return offload_ingress6(ctx);
	if (ret != FC_PARSE_OK)
		return fo_pass(FO_STAT_PASS_MALFORMED);
	if (p.proto != IPPROTO_TCP && p.proto != IPPROTO_UDP)
		return fo_pass(FO_STAT_PASS_OTHER_PROTO);
	if (!p.has_l4 || p.is_fragment)
		return fo_pass(FO_STAT_PASS_FRAGMENT);
	return offload_ingress4(ctx, &p);
}

#endif /* FC_BPF_OFFLOAD_H */
