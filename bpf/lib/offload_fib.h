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
#include "gso.h"

static __always_inline int fo_pass(enum fo_stat why)
{
	fo_stat_inc(why);
	return CTX_PASS;
}

/* Bumped by user space on every route, rule, neighbour or link change
 * (src/offload_nh.c); 0: no cache (nobody follows the changes). .bss, so
 * each object has its own: user space bumps both. */
volatile __u32 fo_nh_gen;

#define fo_barrier()	asm volatile("" ::: "memory")

/* The cached next hop into fib, if still good for this packet: nothing
 * changed since it was found, and the packet is no longer than one the
 * lookup let through (a GSO packet: one segment, gso.h). */
static __always_inline int fo_nh_get(struct ctx_buff *ctx, const struct fc_pkt *p,
				     const struct fo_nh *nh, struct bpf_fib_lookup *fib, __u64 now)
{
	__u32 gen = fo_nh_gen;
	__u16 max_len;

	if (!gen || *(volatile __u32 *)&nh->gen != gen ||
	    (__u32)(now >> 20) - nh->stamp >= FO_NH_MAX_AGE)
		return 0;
	fo_barrier();
	fib->ifindex = nh->ifindex;
	max_len = nh->max_len;
	__builtin_memcpy(fib->smac, nh->smac, 6);
	__builtin_memcpy(fib->dmac, nh->dmac, 6);
	fo_barrier();
	/* A writer zeroes gen first: a copy torn by one is not used. */
	if (*(volatile __u32 *)&nh->gen != gen)
		return 0;
	/* max_len: the longest packet (a GSO packet's segment) the FIB
	 * let through to this hop. */
	return gso_route_len_same(ctx, p) <= max_len;
}

static __always_inline int fo_mac_eq(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] &&
	       a[5] == b[5];
}

/* Keep what a lookup found for the next packets. */
static __always_inline void fo_nh_put(struct ctx_buff *ctx, const struct fc_pkt *p,
				      struct fo_nh *nh, const struct bpf_fib_lookup *fib, __u64 now)
{
	__u32 gen = fo_nh_gen, len = gso_route_len_same(ctx, p);

	if (!gen)
		return;
	if (nh->gen == gen && nh->ifindex == fib->ifindex &&
	    fo_mac_eq(nh->dmac, fib->dmac) &&
	    (__u32)(now >> 20) - nh->stamp < FO_NH_MAX_AGE) {
		if (len > nh->max_len)
			nh->max_len = len;	/* the same hop: a longer packet fits */
		return;
	}
	*(volatile __u32 *)&nh->gen = 0;
	fo_barrier();
	nh->ifindex = fib->ifindex;
	nh->stamp = now >> 20;
	nh->max_len = len;
	__builtin_memcpy(nh->smac, fib->smac, 6);
	__builtin_memcpy(nh->dmac, fib->dmac, 6);
	fo_barrier();
	*(volatile __u32 *)&nh->gen = gen;
}

/* The FIB's next hop for the translated packet, as the stack would route
 * it from this interface (MTU checked); fib holds family, addresses and
 * protocol. FO_STAT_MAX: send it. */
static __always_inline int fo_fib(struct ctx_buff *ctx, const struct fc_pkt *p,
				  struct bpf_fib_lookup *fib)
{
	long ret;

	/* A GSO packet's length says nothing of its segments': one is given
	 * (with none, the FIB checks no route MTU and passes any GSO packet). */
	fib->tot_len = gso_route_len_same(ctx, p);
	fib->ifindex = ctx_ifindex(ctx);
	ret = ctx_fib_lookup(ctx, fib);
	switch (ret) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		break;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		return FO_STAT_PASS_NO_NEIGH;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return ctx_is_gso(ctx) ? FO_STAT_PASS_GSO_MTU : FO_STAT_PASS_MTU;
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
	return FO_STAT_MAX;
}

#endif /* FC_BPF_OFFLOAD_FIB_H */
