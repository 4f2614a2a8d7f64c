/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --vlan in the NAT mode's TC programs (vlan_tc.h): what the tags' handling
 * answered, as a verdict, counted in the NAT mode's stats.
 */
#ifndef FC_BPF_VLAN_NAT_H
#define FC_BPF_VLAN_NAT_H

#include "maps.h"
#include "vlan_tc.h"

/* FC_VLAN_GO stays (the caller goes on); the others become a verdict. */
static __always_inline int vlan_nat_verdict(int v)
{
	if (v == FC_VLAN_FOREIGN) {
		stat_inc(FC_STAT_PASS_NOT_IPV4);
		return CTX_PASS;
	}
	if (v == FC_VLAN_BROKEN) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	}
	return v;
}

#endif /* FC_BPF_VLAN_NAT_H */
