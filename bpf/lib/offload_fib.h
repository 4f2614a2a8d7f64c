/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What both families of the offload datapath share (offload4.h,
 * offload6.h): passing to the stack with a reason, and the FIB lookup that
 * decides whether a translated packet can leave here or is the stack's.
 */
#ifndef FC_BPF_OFFLOAD_FIB_H
#define FC_BPF_OFFLOAD_FIB_H

#include "csum.h"
#include "offload_maps.h"

static __always_inline int fo_pass(enum fo_stat why)
{
	fo_stat_inc(why);
	return CTX_PASS;
}

/* The FIB's next hop for the translated packet, as the stack would route
 * it from this interface (MTU checked); fib holds family, addresses and
 * protocol. FO_STAT_MAX: send it. */
static __always_inline int fo_fib(struct ctx_buff *ctx, const struct fc_pkt *p,
				  struct bpf_fib_lookup *fib)
{
	long ret;

	/* A GSO packet's length says nothing of its segments': checked below. */
	fib->tot_len = ctx_is_gso(ctx) ? 0 : p->l3_end - p->l3_off;
	fib->ifindex = ctx_ifindex(ctx);
	ret = ctx_fib_lookup(ctx, fib);
	switch (ret) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		break;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		return FO_STAT_PASS_NO_NEIGH;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return FO_STAT_PASS_MTU;
	case BPF_FIB_LKUP_RET_NOT_FWDED:
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		return FO_STAT_PASS_LOCAL;
	default:
		return FO_STAT_PASS_NO_ROUTE;
	}
	/* Only between the interfaces given: XDP can send nowhere else, and
	 * a flow routed elsewhere (a tunnel, a VPN) is the stack's. */
	if (!ctx_can_send(ctx, fib->ifindex))
		return FO_STAT_PASS_OTHER_IF;
	if (ctx_is_gso(ctx) && !ctx_gso_fits(ctx, fib->ifindex))
		return FO_STAT_PASS_MTU;
	return FO_STAT_MAX;
}

/* Rewrite the ports conntrack's NAT changes (a no-op where it changes
 * nothing); TCP and UDP have them at the same offsets. */
static __always_inline int fo_rewrite_ports(struct ctx_buff *ctx, const struct fc_pkt *p,
					    __be16 sport, __be16 dport)
{
	return rewrite_l4_field(ctx, p, p->l4_off + offsetof(struct udphdr, source), p->sport,
				sport) ||
	       rewrite_l4_field(ctx, p, p->l4_off + offsetof(struct udphdr, dest), p->dport,
				dport);
}

#endif /* FC_BPF_OFFLOAD_FIB_H */
