/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --vlan: the 802.1Q / 802.1ad tags the external interface's frames carry
 * on the wire while its kernel sees an untagged link (no VLAN device: a
 * kernel without 8021q, a DSA port). The datapath takes them off what
 * arrives and puts them on what leaves (bpf/lib/vlan.h,
 * doc/design/link-types.md).
 */
#ifndef FC_VLAN_H
#define FC_VLAN_H

#include <stddef.h>
#include <linux/types.h>

#define FC_VLAN_TAGS	2

struct fc_vlan_spec {
	unsigned int n;			/* 0: none */
	__u32 tag[FC_VLAN_TAGS];	/* outer first: TPID << 16 | VID */
};

/* "7": one 802.1Q tag; "100.7": QinQ, an 802.1ad (S-tag) outer 100 and an
 * 802.1Q (C-tag) inner 7. VIDs 1-4094. 0, or -1 with a message in err. */
int vlan_parse(const char *spec, struct fc_vlan_spec *v, char *err, size_t errlen);

/* "802.1Q 7", "802.1ad 100 + 802.1Q 7". */
const char *vlan_str(const struct fc_vlan_spec *v, char *buf, size_t len);

struct fc_loader;
/* Tell the TC programs (and the XDP ones, if loaded) which interface's
 * frames carry v's tags: before load (the initial .bss) or live. */
void vlan_write(struct fc_loader *l, int ifindex, const struct fc_vlan_spec *v);

/*
 * XDP mode with -i on a VLAN sub-interface (wan0.7) and no --vlan: the XDP
 * programs read its frames, tagged, on its real device and send them from
 * there (bpf/lib/ctx_xdp.h). Writes the XDP programs' tables (after
 * loader_xdp_load) and returns the interface to attach the external XDP
 * program to: the real device, or ext_ifindex when it is not a VLAN
 * device.
 */
int vlan_xdp_ext(struct fc_loader *l, int ext_ifindex, const struct fc_vlan_spec *given);

#endif
