/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAT64 address mapping (nat64-bpf's and tayga's mode; doc/design/nat64.md,
 * "Address mapping"): an IPv6 host mapped one-to-one onto an IPv4 address,
 * ports and ICMP identifiers untouched. Two hash maps hold each mapping once
 * per direction: fc_p64_out (IPv6 host -> IPv4 address) and fc_p64_in (IPv4
 * address -> IPv6 host); fc_p64_allow is the LPM trie of the IPv6 sources
 * NAT64 translates (--nat64-allow). Part of the pinned-map layout.
 */
#ifndef FCNAT_NAT64_POOL_H
#define FCNAT_NAT64_POOL_H

#include "types.h"

/* Entries per direction (dynamic and static together): a /16 pool. */
#define FC_NAT64_MAP_MAX	65536
/* The largest --nat64-pool4 (a /16): offsets fit the probe arithmetic. */
#define FC_NAT64_POOL_MIN_LEN	16
/* Allowed IPv6 source prefixes (--nat64-allow). */
#define FC_NAT64_ALLOW_MAX	256
/* Addresses a new host's allocation looks at, from a hash of the host
 * on: a pool of up to this many is exhausted exactly when full. */
#define FC_NAT64_PROBES		256

enum fc_nat64_map_flags {
	FC_NAT64_MAP_STATIC = 1 << 0,	/* --nat64-static: never expires */
};

/* The value of both maps: the other side's address (the IPv4 one in .v4)
 * and when a packet last used this direction (CLOCK_MONOTONIC_COARSE ns,
 * written at most once a second). A mapping is idle when neither direction
 * was used for fc_config.nat64_pool_timeout_ns. */
struct fc_nat64_map {
	union fc_addr peer;
	__u64 seen_ns;
	__u8 flags;		/* enum fc_nat64_map_flags */
	__u8 pad0[7];
};

struct fc_nat64_allow_key {
	__u32 prefixlen;	/* of the IPv6 prefix: 0..128 */
	__u8 addr[16];
};

#endif /* FCNAT_NAT64_POOL_H */
