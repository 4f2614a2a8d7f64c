/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which external IPv4 address an internal host uses, asked from user space
 * (NAT-PMP, PCP, UPnP IGD): the datapath's own answer (nat_ext_addr4 in
 * bpf/lib/subscriber.h, doc/design/cgnat.md), so a host's port mappings
 * sit on the address its traffic leaves with (RFC 4787 REQ-2, RFC 6888).
 */
#ifndef FC_EXT_ADDR_H
#define FC_EXT_ADDR_H

#include <fcnat/types.h>

/* The datapath's maps the answer is read from; -1: not open (yet), read
 * as empty. */
struct ext_addr_maps {
	int pool;		/* fc_pool */
	int pool_index;		/* fc_pool_index */
	int subscribers;	/* fc_subscribers */
};

#define EXT_ADDR_MAPS_NONE ((struct ext_addr_maps){ -1, -1, -1 })

/* host's (family's: IPv4, or IPv6 for NAT64) external address: deterministic NAT's slot; else its subscriber
 * entry's, while still in the pool; else the pool slot its address hashes
 * to; without a pool cfg->ext_addr4. 0: none (no address yet, outside the
 * deterministic prefix). */
__be32 ext_addr4_of(const struct fc_config *cfg, const struct ext_addr_maps *m, __u8 family,
		    const union fc_addr *host);

#endif
