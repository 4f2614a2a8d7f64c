/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `fcnat offload`'s pinned state (doc/design/offload.md, "Restart"): its
 * maps under bpffs through the NAT mode's pin.c (fc_meta records what made
 * them and where the programs are), and taking over the programs a killed
 * or --keep-state instance left attached, so that packets never meet an
 * interface without the datapath across a restart.
 */
#ifndef FC_OFFLOAD_PIN_H
#define FC_OFFLOAD_PIN_H

#include <stdbool.h>
#include <linux/types.h>

#include "pin.h"

/* The default root; one directory per network namespace under it. */
#define FO_PIN_ROOT_DEFAULT "/sys/fs/bpf/fcnat-offload"

/* fc_meta.hairpin[] records the offload's interfaces; flags: */
#define FO_META_XDP_DRV	(1u << 8)	/* native XDP */
#define FO_META_XDP_SKB	(1u << 9)	/* generic XDP */
#define FO_META_VLAN	(1u << 10)	/* --vlan: fo_tc_egress (and behind XDP fo_tc_vlan_in) */

/* Open (locked: one offload per namespace) or read-only (show). */
int fo_pin_open(struct fc_pin *p, const char *root);

/* `fcnat offload --detach`: remove what a kept instance left (its programs,
 * if they are still ours, and its pins), whatever its layout. 0 when done
 * or there was nothing, else 1 with a message logged. */
int fo_pin_detach(const char *root);
int fo_pin_open_ro(struct fc_pin *p, const char *root);
/* Is this namespace's offload state under root? Quiet, unlike the above. */
bool fo_pin_present(const char *root);

/* The TC filter fcnat offload puts on ingress, and its takeover: 0 when
 * none is there, 1 when one of ours (program name and maps) runs there,
 * -EEXIST when another filter holds its place. */
#define FO_TC_HANDLE	0xf0
#define FO_TC_PRIORITY	1
int fo_tc_ours(int ifindex, __u32 flows_map_id);
/* The same for the --vlan programs (fo_tc_egress on egress, fo_tc_vlan_in
 * on ingress behind XDP), known by name and fo_stats (stats_map_id). */
int fo_tc_ours_at(int ifindex, bool egress, const char *name, __u32 map_id);

/* The XDP program on ifindex, if it is ours (fo_xdp on our maps): its fd
 * (caller closes) and *mode its XDP_FLAGS_*_MODE; 0 when there is none;
 * -EEXIST for someone else's. */
int fo_xdp_ours(int ifindex, __u32 flows_map_id, __u32 *mode);

/* The id of the map behind fd, 0 if unknown. */
__u32 fo_map_id(int fd);

/* One -i interface's attachment. */
struct fo_iface {
	int ifindex;
	__u32 xdp_flags;	/* XDP: attached with these */
	bool hook_created;	/* the clsact qdisc is ours to remove */
	bool took_over;		/* replaced a kept instance's program */
	bool vlan;		/* --vlan: fo_tc_egress on egress; XDP: fo_tc_vlan_in on ingress */
};

/*
 * Attach the TC program (clsact ingress, FO_TC_HANDLE/FO_TC_PRIORITY) or
 * the XDP one (mode: XDP_FLAGS_*_MODE, 0: native, else generic) to i,
 * replacing in place the program of a kept instance that works on the
 * map flows_map_id; meta: that instance's record (whether the qdisc is
 * its, then ours), or NULL.
 */
int fo_attach_tc(struct fo_iface *i, int prog_fd, __u32 flows_map_id, const struct fc_meta *meta);
int fo_attach_xdp(struct fo_iface *i, const char *name, int prog_fd, __u32 mode,
		  __u32 flows_map_id);
void fo_detach(const struct fo_iface *i);

/*
 * --vlan on i: fo_tc_egress on its egress and, in XDP mode (i->xdp_flags
 * set), fo_tc_vlan_in on its TC ingress (vlan_in_fd), each replacing a
 * kept instance's in place (known by stats_map_id). Sets i->vlan.
 */
int fo_attach_vlan(struct fo_iface *i, int egress_fd, int vlan_in_fd, __u32 stats_map_id,
		   const struct fc_meta *meta);

/* Record ifs in meta (fc_meta.hairpin[]), to be found by the next start. */
void fo_meta_record(struct fc_meta *meta, const struct fo_iface *ifs, int n);

/* Detach what a kept instance left on interfaces this start does not use
 * (only programs of ours, on flows_map_id). */
void fo_detach_stale(const struct fc_meta *meta, const struct fo_iface *ifs, int n,
		     __u32 flows_map_id, __u32 stats_map_id);

#endif
