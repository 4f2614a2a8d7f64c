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
 */
#ifndef FC_BPF_OFFLOAD_H
#define FC_BPF_OFFLOAD_H

#include "offload4.h"
#include "offload6.h"

static __always_inline int offload_ingress(struct ctx_buff *ctx)
{
	struct fc_pkt p = {};
	int ret;

	ret = parse_ipv4(ctx, &p);
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
