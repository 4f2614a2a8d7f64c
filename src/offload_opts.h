/* SPDX-License-Identifier: GPL-2.0 */
/* `fcnat offload`'s command line (doc/design/offload.md, fcnat(8)). */
#ifndef FC_OFFLOAD_OPTS_H
#define FC_OFFLOAD_OPTS_H

#include <stdbool.h>
#include <linux/types.h>

#include "vlan.h"

#define FO_IFS_MAX	16

struct fo_opts {
	const char *ifs[FO_IFS_MAX];
	int nr_ifs;
	const char *stats_file;
	__u32 max_flows;
	bool mark_filter;
	__u32 mark_value, mark_mask;
	__u16 zone;		/* --ct-zone */
	struct fc_vlan_spec vlan;	/* --vlan, of ifs[vlan_if] */
	int vlan_if;
	bool verbose;
	bool xdp;		/* --mode xdp */
	bool keep_state;	/* --keep-state: exit without detaching */
	bool took_over;		/* the maps were a kept instance's */
	char bpffs[256];	/* --bpffs */
	const char *metrics;	/* --metrics ADDR:PORT */
	bool detach;		/* --detach: remove a kept instance */
	__u32 xdp_mode;		/* XDP_FLAGS_DRV_MODE, _SKB_MODE, 0: native, else generic */
};

/* argv[0] is "offload". 0, 1 after --help (printed), -1 on an error (said). */
int offload_parse_opts(int argc, char **argv, struct fo_opts *o);

#endif
