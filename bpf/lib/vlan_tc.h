/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --vlan on TC (vlan.h): the external interface is, to the stack, an
 * untagged Ethernet link, and its frames on the wire carry the configured
 * tags. So at its ingress a frame with exactly those tags loses them before
 * anything reads it (a kernel without 8021q would drop a tagged frame:
 * PACKET_OTHERHOST), and at its egress every untagged frame the stack sends
 * (ARP and IPv6 neighbour discovery included) gets them, after the
 * translation. Frames with other tags, or none, belong to someone else:
 * passed untouched either way.
 *
 * On ingress the kernel has moved the outer tag out of the frame already
 * (skb_vlan_untag, or the NIC's VLAN offload: skb->vlan_*); a QinQ frame's
 * inner tag is still in it, and under BPF_PROG_TEST_RUN both are.
 * bpf_skb_vlan_pop takes the offloaded one first, then the next in the
 * frame; bpf_skb_vlan_push offloads the new tag (the device or the stack
 * writes it into the frame), moving an offloaded one into the frame first.
 */
#ifndef FC_BPF_VLAN_TC_H
#define FC_BPF_VLAN_TC_H

#include "parse.h"
#include "vlan.h"

/* What tc_vlan_in and tc_vlan_out answer besides a verdict; each mode
 * counts the last two its own way (the NAT mode: vlan_nat.h). */
#define FC_VLAN_GO	(-1)	/* the frame is the datapath's to read (or send) */
#define FC_VLAN_FOREIGN	(-2)	/* another VLAN's frame, or untagged: pass it untouched */
#define FC_VLAN_BROKEN	(-3)	/* the tags could not be taken off or put on: drop it */

static __always_inline int vlan_tc_ours(const struct __sk_buff *skb)
{
	return fc_vlan_tags[0] && skb->ifindex == fc_vlan_ifindex;
}

/*
 * Ingress of the --vlan interface: FC_VLAN_GO when the frame is the
 * datapath's to read (no --vlan, or its tags matched and are gone now),
 * FC_VLAN_FOREIGN for another VLAN's frame (or an untagged one),
 * FC_VLAN_BROKEN when the tags could not be taken off.
 */
static __noinline int tc_vlan_in(struct __sk_buff *skb)
{
	__u32 n = 0;

	if (!skb || !vlan_tc_ours(skb))
		return FC_VLAN_GO;
	if (skb->vlan_present) {
		if (vlan_tag(bpf_ntohs((__u16)skb->vlan_proto), skb->vlan_tci) != fc_vlan_tags[0])
			goto foreign;
		n = 1;
	}
	ctx_linearize(skb, ETH_HLEN + FC_VLAN_TAGS_MAX * FC_VLAN_HLEN);
	for (int i = 0; i < FC_VLAN_TAGS_MAX; i++) {
		__be16 *t = ctx_ptr(skb, 12 + i * FC_VLAN_HLEN, FC_VLAN_HLEN);

		if (!t || !vlan_is_tpid(bpf_ntohs(t[0])))
			break;
		if (n >= FC_VLAN_TAGS_MAX ||
		    vlan_tag(bpf_ntohs(t[0]), bpf_ntohs(t[1])) != fc_vlan_tags[n])
			goto foreign;
		n++;
	}
	if (n < FC_VLAN_TAGS_MAX && fc_vlan_tags[n & 1])
		goto foreign;	/* fewer tags than ours (untagged included) */
	for (__u32 i = 0; i < FC_VLAN_TAGS_MAX; i++) {
		if (i >= n)
			break;
		if (bpf_skb_vlan_pop(skb))
			return FC_VLAN_BROKEN;
	}
	return FC_VLAN_GO;
foreign:
	return FC_VLAN_FOREIGN;
}

/* Egress of the external interface, before the translation: 1 for a frame
 * tagged already (another VLAN device's on this link), to leave alone. */
static __noinline int tc_vlan_foreign_out(struct __sk_buff *skb)
{
	__be16 *type;

	if (!skb || !vlan_tc_ours(skb))
		return 0;
	if (skb->vlan_present)
		return 1;
	type = ctx_ptr(skb, 12, sizeof(*type));
	return type && vlan_is_tpid(bpf_ntohs(*type));
}

/* Egress, after the datapath let the frame go: our tags on, the inner one
 * first. FC_VLAN_GO, or FC_VLAN_BROKEN. */
static __noinline int tc_vlan_out(struct __sk_buff *skb)
{
	__u32 outer = fc_vlan_tags[0], inner = fc_vlan_tags[1];

	if (!skb || !vlan_tc_ours(skb))
		return FC_VLAN_GO;
	if ((inner && bpf_skb_vlan_push(skb, bpf_htons(inner >> 16), inner & FC_VLAN_VID_MASK)) ||
	    bpf_skb_vlan_push(skb, bpf_htons(outer >> 16), outer & FC_VLAN_VID_MASK))
		return FC_VLAN_BROKEN;
	return FC_VLAN_GO;
}

#endif /* FC_BPF_VLAN_TC_H */
