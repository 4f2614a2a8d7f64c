// SPDX-License-Identifier: GPL-2.0
/*
 * The paired external address of an internal host, read from the maps the
 * datapath decides with (ext_addr.h). Reads only: the datapath makes and
 * stores the pairing with the host's first mapping; until then the rule
 * alone gives the same address it will choose.
 */
#include <string.h>
#include <bpf/bpf.h>

#include <fcnat/rules.h>

#include "ext_addr.h"

static int pool_at(int pool_fd, __u32 idx, __be32 *a)
{
	return pool_fd >= 0 && bpf_map_lookup_elem(pool_fd, &idx, a) == 0 && *a ? 0 : -1;
}

__be32 ext_addr4_of(const struct fc_config *cfg, const struct ext_addr_maps *m, __u8 family,
		    const union fc_addr *host)
{
	union fc_addr addr;
	struct fc_subscriber_key k;
	struct fc_subscriber sub;
	__u32 n = cfg->nr_pool, idx;
	__be32 a;

	/* Zeroed whole: the hash reads all 16 bytes, and an initializer naming
	 * .v4 leaves the rest unspecified (clang left garbage there). */
	memset(&addr, 0, sizeof(addr));
	if (family == FC_AF_INET6)
		addr = *host;
	else
		addr.v4 = host->v4;
	if (cfg->flags & FC_CFG_DETERMINISTIC) {
		if (!n || n > FC_POOL_MAX || fc_det_index(cfg, family, &addr, &idx))
			return 0;
		return pool_at(m->pool, fc_det_pool_slot(cfg, idx), &a) ? 0 : a;
	}
	if (!n)
		return cfg->ext_addr4;
	if (m->subscribers >= 0 && m->pool_index >= 0) {
		memset(&k, 0, sizeof(k));
		k.family = family;
		k.addr = addr;
		if (bpf_map_lookup_elem(m->subscribers, &k, &sub) == 0 && sub.ext_addr4 &&
		    bpf_map_lookup_elem(m->pool_index, &sub.ext_addr4, &idx) == 0)
			return sub.ext_addr4;
	}
	if (n > FC_POOL_MAX)
		return 0;
	return pool_at(m->pool, fc_subscriber_hash(family, &addr) % n, &a) ? 0 : a;
}
