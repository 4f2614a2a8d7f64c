// SPDX-License-Identifier: GPL-2.0
/* `fcnat offload`'s TC entry points: the ingress of each interface given
 * with -i (bpf/lib/offload.h), and with --vlan the tags of that link
 * (bpf/lib/offload_vlan.h). */
#include "lib/ctx_tc.h"
#include "lib/offload.h"
#include "lib/offload_vlan.h"

SEC("tc")
int fo_tc_ingress(struct __sk_buff *ctx)
{
	int ret = fo_vlan_verdict(tc_vlan_in(ctx), 1);

	return ret == FC_VLAN_GO ? offload_ingress(ctx) : ret;
}

/* --mode xdp with --vlan: the frames XDP left to the stack lose the tags
 * here (nothing else to do: XDP offloaded what it could). */
SEC("tc")
int fo_tc_vlan_in(struct __sk_buff *ctx)
{
	int ret = fo_vlan_verdict(tc_vlan_in(ctx), 0);

	return ret == FC_VLAN_GO ? CTX_PASS : ret;
}

/* --vlan: the egress of the link; what leaves gets the tags (the stack's
 * frames, ARP and neighbour discovery included, and the fast path's
 * redirects), what another VLAN device tagged already is left alone. */
SEC("tc")
int fo_tc_egress(struct __sk_buff *ctx)
{
	if (tc_vlan_foreign_out(ctx))
		return CTX_PASS;
	return fo_vlan_verdict(tc_vlan_out(ctx), 0) == CTX_DROP ? CTX_DROP : CTX_PASS;
}

char LICENSE[] SEC("license") = "GPL";
