/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rules the datapath and user space must apply alike: the keys of mappings,
 * which ports are ours,
 * the idx-th of them, port blocks and deterministic NAT's port ranges,
 * whether a mapping is alive, a subscriber's pool slot.
 * Pure functions of their arguments (no maps, no helpers, no libc), compiled
 * into the BPF programs and into the daemon, so the sweeper, the port-mapping
 * server and the datapath cannot disagree.
 *
 * Times are CLOCK_MONOTONIC_COARSE ns (the datapath's fc_now()), only ever
 * added to, never subtracted from: a machine that booted a minute ago has a
 * "now" smaller than a timeout, and now - timeout would wrap.
 */
#ifndef FCNAT_RULES_H
#define FCNAT_RULES_H

#include <fcnat/types.h>

#ifdef __bpf__
#define FC_RULE static __always_inline
#else
#define FC_RULE static inline
#endif

/* The key of an internal endpoint (of family) whose mapping is in the
 * external port space of ext_family: NAT44 and NAT66 map into their own
 * family, NAT64 an IPv6 endpoint into IPv4's. */
FC_RULE void fc_int_endpoint_key(struct fc_endpoint_key *k, __u8 family, __u8 ext_family,
				 __u8 proto, const union fc_addr *addr, __be16 port)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->side = FC_SIDE_INTERNAL;
	k->family = family;
	k->ext_family = ext_family;
	k->proto = proto;
	k->port = port;
	k->addr = *addr;
}

/* The key of an external endpoint: its family is the port space's. */
FC_RULE void fc_ext_endpoint_key(struct fc_endpoint_key *k, __u8 family, __u8 proto,
				 const union fc_addr *addr, __be16 port)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->side = FC_SIDE_EXTERNAL;
	k->family = family;
	k->proto = proto;
	k->port = port;
	k->addr = *addr;
}

/* Where a protocol's settings sit in per-protocol arrays (FC_SUB_*): ICMP
 * (and ICMPv6 echo, normalised to it) last. */
FC_RULE __u32 fc_proto_slot(__u8 proto)
{
	return proto == FC_PROTO_TCP ? FC_SUB_TCP : proto == FC_PROTO_UDP ? FC_SUB_UDP : FC_SUB_ICMP;
}

/* Is the protocol translated at all (it has ports)? */
FC_RULE int fc_proto_nat_on(const struct fc_config *cfg, __u8 proto)
{
	return cfg->ports[fc_proto_slot(proto)].nr != 0;
}

/* Is port (host order) in one of the protocol's external port ranges? */
FC_RULE int fc_port_in_range(const struct fc_config *cfg, __u8 proto, __u16 port)
{
	const struct fc_port_set *s = &cfg->ports[fc_proto_slot(proto)];

	for (__u32 i = 0; i < FC_MAX_PORT_RANGES; i++) {
		if (i >= s->nr)
			break;
		if (port >= s->r[i].first && port <= s->r[i].last)
			return 1;
	}
	return 0;
}

/* The idx-th port of the protocol's ranges taken together (idx < total);
 * 0 past the end. */
FC_RULE __u16 fc_port_at(const struct fc_config *cfg, __u8 proto, __u32 idx)
{
	const struct fc_port_set *s = &cfg->ports[fc_proto_slot(proto)];

	for (__u32 i = 0; i < FC_MAX_PORT_RANGES; i++) {
		__u32 size;

		if (i >= s->nr)
			break;
		size = (__u32)s->r[i].last - s->r[i].first + 1;
		if (idx < size)
			return s->r[i].first + idx;
		idx -= size;
	}
	return 0;
}

/* Network to host byte order, without libc or BPF helpers. */
FC_RULE __u32 fc_ntohl(__be32 x)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap32((__u32)x);
#else
	return (__u32)x;
#endif
}

/* Port blocks (FC_CFG_PORT_BLOCKS): the first port of block index. */
FC_RULE __u16 fc_block_first_port(const struct fc_config *cfg, __u32 index)
{
	return cfg->ports[FC_SUB_TCP].r[0].first + index * cfg->block_size;
}

/*
 * Deterministic NAT (RFC 7422): the position of internal host (family,
 * addr) in the deterministic prefix, into *idx; -1 if it lies outside (it
 * then has no external address at all: its ports would be someone else's).
 */
FC_RULE int fc_det_index(const struct fc_config *cfg, __u8 family, const union fc_addr *addr,
			 __u32 *idx)
{
	__u32 i;

	if (family != FC_AF_INET)
		return -1;
	i = fc_ntohl(addr->v4) - fc_ntohl(cfg->det_base);	/* wraps below the base */
	if (i >= cfg->det_count)
		return -1;
	*idx = i;
	return 0;
}

/* ... the slot of its external address in fc_pool (cfg->nr_pool > 0) ... */
FC_RULE __u32 fc_det_pool_slot(const struct fc_config *cfg, __u32 idx)
{
	return idx % cfg->nr_pool;
}

/* ... and the first of its det_ports ports (cfg->nr_pool > 0). */
FC_RULE __u32 fc_det_first_port(const struct fc_config *cfg, __u32 idx)
{
	return cfg->det_first + (idx / cfg->nr_pool) * cfg->det_ports;
}

/* How long a mapping of protocol proto lives after its last outbound
 * packet, sessions aside (RFC 4787 REQ-5). */
FC_RULE __u64 fc_mapping_base_timeout(const struct fc_config *cfg, __u8 proto)
{
	switch (proto) {
	case FC_PROTO_UDP:
		return cfg->timeout_ns[FC_TIMEOUT_UDP];
	case FC_PROTO_ICMP:
		return cfg->timeout_ns[FC_TIMEOUT_ICMP];
	default:
		return cfg->timeout_ns[FC_TIMEOUT_TCP_TRANS];
	}
}

/* b is the internal-side entry of a mapping of protocol proto: alive at now
 * if static, recently used outbound, or kept by a session whose expiry the
 * sweeper published in sessions_until_ns. */
FC_RULE int fc_mapping_alive(const struct fc_config *cfg, __u8 proto,
			     const struct fc_binding *b, __u64 now)
{
	return (b->flags & FC_BINDING_STATIC) ||
	       now < b->last_out_ns + fc_mapping_base_timeout(cfg, proto) ||
	       now < b->sessions_until_ns;
}

/*
 * Coarse refresh (doc/design/expiry.md "Coarse refresh"): a session used at
 * now is kept until at least now + timeout and at most that + the grace, so
 * a packet writes its expiry only when the stored one is outside that
 * window: a flow's hot line is dirtied once per grace, not per packet. The
 * grace is a 64th of the timeout (a 1 s timeout in a test: 15 ms), at most
 * FC_REFRESH_MAX_NS.
 */
#define FC_REFRESH_MAX_NS	(1000ULL * 1000 * 1000)
#define FC_CLOCK_UNIT_SHIFT	20	/* 2^20 ns, about 1 ms: fc_hop.sess_until */

FC_RULE __u64 fc_refresh_grace(__u64 timeout)
{
	__u64 g = timeout >> 6;

	return g < FC_REFRESH_MAX_NS ? g : FC_REFRESH_MAX_NS;
}

/* Mixes every bit of an internal address into 32 (murmur3's finaliser per
 * word): consecutive subscriber addresses land on unrelated pool slots. The
 * words are read in host byte order, so the value differs between little-
 * and big-endian machines (each agrees with itself, which is what counts). */
FC_RULE __u32 fc_subscriber_hash(__u8 family, const union fc_addr *a)
{
	__u32 h = family;

	for (int i = 0; i < 4; i++) {
		__u32 w = a->v6w[i];

		w ^= w >> 16;
		w *= 0x85ebca6b;
		w ^= w >> 13;
		w *= 0xc2b2ae35;
		w ^= w >> 16;
		h = (h ^ w) * 0x9e3779b1;
		h ^= h >> 15;
	}
	return h;
}

#endif
