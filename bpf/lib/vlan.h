/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 802.1Q and 802.1ad (QinQ) tags on the external link, for both hooks
 * (doc/design/link-types.md, "Tagged frames on an untagged parent"):
 *
 * - `--vlan 7` / `--vlan 100.7`: the interface fcnat is given carries the
 *   internet on a VLAN, and its kernel has no VLAN device for it (no 8021q,
 *   or a DSA port). The stack treats the interface as an untagged Ethernet
 *   link; the TC programs take the tags off what arrives (ctx_tc.h), put
 *   them on what leaves, and XDP parses and writes them in the frame.
 * - XDP's FIB naming a VLAN sub-interface (`-i wan0.7` in XDP mode): the
 *   frame is sent from the sub-interface's real device with its tag.
 *
 * Written by user space, live (.bss: never pinned, rewritten at each start
 * and re-attach). A tag is kept as TPID << 16 | VID (host order), the
 * priority and DEI bits left out: they say nothing about whose frame it is.
 */
#ifndef FC_BPF_VLAN_H
#define FC_BPF_VLAN_H

#include "common.h"

#define FC_VLAN_TAGS_MAX	2
#define FC_VLAN_VID_MASK	0x0fff
#define FC_VLAN_HLEN		4

/* The interface whose frames carry fc_vlan_tags (outer first, 0 after the
 * last; the first 0: none). */
volatile __u32 fc_vlan_ifindex;
volatile __u32 fc_vlan_tags[FC_VLAN_TAGS_MAX];

static __always_inline __u32 vlan_tag(__u16 tpid, __u16 tci)
{
	return (__u32)tpid << 16 | (tci & FC_VLAN_VID_MASK);
}

static __always_inline int vlan_is_tpid(__u16 tpid)
{
	return tpid == ETH_P_8021Q || tpid == ETH_P_8021AD;
}

#endif /* FC_BPF_VLAN_H */
