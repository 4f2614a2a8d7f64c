/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deterministic NAT (RFC 7422): the formula that maps each address of an
 * internal prefix to (pool address, port range) and back. The datapath
 * (bpf/lib/binding.h, nat_ext_addr4 in bpf/lib/subscriber.h) computes the
 * same from struct fc_config; `fcnat lookup` and `show subscribers` use
 * this. doc/design/cgnat.md explains the formula.
 */
#ifndef FC_DETERMINISTIC_H
#define FC_DETERMINISTIC_H

#include <stdbool.h>
#include <stddef.h>

#include <fcnat/types.h>

#include "options.h"

struct fc_det_plan {
	__be32 base;		/* the internal prefix */
	unsigned int len;
	__u32 count;		/* M: internal addresses, 2^(32 - len) */
	__u32 nr_pool;		/* N: pool addresses */
	__be32 pool[FC_POOL_MAX];	/* in the order fc_pool holds them */
	__u32 per_addr;		/* K = ceil(M / N): subscribers sharing one address */
	__u32 first, last;	/* the port range, P = last - first + 1 ports */
	__u32 ports;		/* ports per subscriber: floor(P / K) */
};

/* What one subscriber gets. */
struct fc_det_entry {
	__be32 internal;
	__be32 external;
	__u16 first, last;	/* its ports, inclusive */
};

/* Work out the plan of o (which has --deterministic); 0, or -1 with a
 * message in err when it cannot hold (no pool, several port ranges, the
 * prefix too large for pool x ports). */
int det_plan(const struct fc_options *o, struct fc_det_plan *p, char *err, size_t errlen);

/* The plan's part of the datapath's configuration (FC_CFG_DETERMINISTIC,
 * det_*; nr_pool stays the caller's). */
void det_config(const struct fc_det_plan *p, struct fc_config *cfg);

/* internal -> its entry; -1 if outside the prefix. The datapath's own
 * rules (include/fcnat/rules.h) on det_config's configuration, so what
 * `fcnat lookup` says is what packets get. */
int det_forward(const struct fc_det_plan *p, __be32 internal, struct fc_det_entry *e);
/* (external, port) -> the entry that owns it; -1 if no subscriber does (not
 * a pool address, outside the range, or one of the ports left over). */
int det_reverse(const struct fc_det_plan *p, __be32 external, __u16 port, struct fc_det_entry *e);

/* fcnat lookup ADDR [PORT] */
int lookup_main(const struct fc_options *o);

#endif
