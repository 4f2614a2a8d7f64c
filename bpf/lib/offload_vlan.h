/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `fcnat offload --vlan ID` in TC (doc/design/offload.md, "VLAN tags
 * without a VLAN device"): the link's kernel has no VLAN device, so the
 * stack must see its frames untagged and they must leave tagged. The NAT
 * mode's tag handling (vlan_tc.h) at the link's ingress, before the
 * offload reads the frame, and at its egress, where the stack's frames
 * and the fast path's redirects both pass; counted in fo_stats.
 */
#ifndef FC_BPF_OFFLOAD_VLAN_H
#define FC_BPF_OFFLOAD_VLAN_H

#include "offload_maps.h"
#include "vlan_tc.h"

/* vlan_tc.h's answer as a verdict (FC_VLAN_GO stays: go on). Another
 * VLAN's frame is counted once, where it was seen first: count_foreign
 * is 0 behind XDP, which passed (and counted) it already. */
static __always_inline int fo_vlan_verdict(int v, int count_foreign)
{
	if (v == FC_VLAN_FOREIGN) {
		if (count_foreign)
			fo_stat_inc(FO_STAT_PASS_NOT_IP);
		return CTX_PASS;
	}
	if (v == FC_VLAN_BROKEN) {
		fo_stat_inc(FO_STAT_PASS_MALFORMED);
		return CTX_DROP;
	}
	return v;
}

#endif /* FC_BPF_OFFLOAD_VLAN_H */
