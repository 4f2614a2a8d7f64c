/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAT64 address mapping (doc/design/nat64.md, "Address mapping"): an IPv6
 * host gets an IPv4 address of its own, one-to-one, and keeps its ports and
 * ICMP identifiers (nat64-bpf's and tayga's dynamic pool; RFC 6146 with
 * port preservation). Configured hosts (--nat64-static) hold their address
 * for good and are reachable inbound first; with --nat64-pool4 every other
 * source gets a free address of the pool on its first packet, until it has
 * been idle for fc_config.nat64_pool_timeout_ns (the sweeper removes it,
 * src/nat64_pool.c). A source with an address mapping never gets a port
 * mapping (nat64.h asks here first); without a pool, sources that have no
 * static entry stay with the stateful NAPT64.
 *
 * Only lookups and the allocation are here: nat64.h translates with the
 * addresses these give and the ports left as they are (0 in xlat_params).
 */
#ifndef FC_BPF_NAT64_POOL_H
#define FC_BPF_NAT64_POOL_H

#include <fcnat/nat64_pool.h>

#include "common.h"
#include "loop.h"
#include "maps.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FC_NAT64_MAP_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, union fc_addr);		/* the IPv6 host */
	__type(value, struct fc_nat64_map);	/* peer.v4: its IPv4 address */
} fc_p64_out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FC_NAT64_MAP_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __be32);			/* the IPv4 address */
	__type(value, struct fc_nat64_map);	/* peer: the IPv6 host */
} fc_p64_in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, FC_NAT64_ALLOW_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fc_nat64_allow_key);
	__type(value, __u8);
} fc_p64_allow SEC(".maps");

/* nat64_pool_out: the source has no address mapping and gets none (no
 * pool): the port-translating NAPT64 takes it. */
#define NAT64_POOL_NONE		(FC_STAT_MAX + 1)

/* May NAT64 translate packets from this IPv6 source (--nat64-allow)? */
static __always_inline int nat64_allowed(const struct fc_config *cfg, const union fc_addr *src)
{
	struct fc_nat64_allow_key k;

	if (!(cfg->flags & FC_CFG_NAT64_ALLOW))
		return 1;
	k.prefixlen = 128;
	__builtin_memcpy(k.addr, src->v6, 16);
	return bpf_map_lookup_elem(&fc_p64_allow, &k) != NULL;
}

/* Used now: written at most once a second, so that a busy mapping does not
 * bounce its cache line between CPUs on every packet. */
static __always_inline void nat64_map_touch(struct fc_nat64_map *m, __u64 now)
{
	if (now > m->seen_ns + NSEC_PER_SEC)
		m->seen_ns = now;
}

/* The IPv6 host mapped onto the IPv4 address v4, if any (used: touched). */
static __always_inline int nat64_pool_in_host(const struct fc_config *cfg, __be32 v4,
					      union fc_addr *host)
{
	struct fc_nat64_map *m;
	__be32 key = v4;

	if (!(cfg->flags & FC_CFG_NAT64_ADDRMAP))
		return 0;
	m = bpf_map_lookup_elem(&fc_p64_in, &key);
	if (!m)
		return 0;
	nat64_map_touch(m, fc_now());
	*host = m->peer;
	return 1;
}

/* Is v4 in the pool (--nat64-pool4)? */
static __always_inline int nat64_pool4_has(const struct fc_config *cfg, __be32 v4)
{
	__u32 len = cfg->nat64_pool4_len;

	if (!(cfg->flags & FC_CFG_NAT64_POOL4) || len < FC_NAT64_POOL_MIN_LEN || len > 32)
		return 0;
	return !((bpf_ntohl(v4) ^ bpf_ntohl(cfg->nat64_pool4)) >> (32 - len));
}

/* Is v4 an address of the address mapping: 1 if a host is mapped onto it
 * (hairpinned to that host, nat64_hairpin_mapped), -1 if it is a free
 * address of the pool (nobody to deliver to), 0 if neither. */
static __always_inline int nat64_pool_is_ours(const struct fc_config *cfg, __be32 v4)
{
	__be32 key = v4;

	if (!(cfg->flags & FC_CFG_NAT64_ADDRMAP))
		return 0;
	if (bpf_map_lookup_elem(&fc_p64_in, &key))
		return 1;
	return nat64_pool4_has(cfg, v4) ? -1 : 0;
}

/* One allocation: the IPv6 host and where in the pool its probe starts.
 * Scalars only (a global function's argument, lib/loop.h). */
struct nat64_probe {
	__u32 host[4];
	__u64 now;
	__u32 base;		/* the pool's first address, host order */
	__u32 mask;		/* its size - 1 */
	__u32 start;
	__be32 got;		/* out: the address claimed, 0 none */
};

/* Claim the i-th address from the start: the IPv4-side entry, inserted
 * only if the address is free, is what claims it (as BPF_NOEXIST claims a
 * port), so two CPUs never hand one address to two hosts. */
static __always_inline long nat64_probe_one(__u64 i, struct nat64_probe *st)
{
	struct fc_nat64_map v = {};
	__be32 a;

	if (!st)
		return 1;
	a = bpf_htonl(st->base + ((st->start + (__u32)i) & st->mask));
	__builtin_memcpy(v.peer.v6w, st->host, 16);
	v.seen_ns = st->now;
	if (bpf_map_update_elem(&fc_p64_in, &a, &v, BPF_NOEXIST))
		return 0;	/* taken (or the table is full): the next one */
	st->got = a;
	return 1;
}

FC_LOOP_DEFINE(nat64_probe, struct nat64_probe, nat64_probe_one)

/* Where a host's probe starts: a hash of its address, so that hosts spread
 * over the pool and one keeps finding the same free address after an
 * expiry while it is free. */
static __always_inline __u32 nat64_probe_start(const union fc_addr *host)
{
	__u32 h = host->v6w[0] ^ host->v6w[1] ^ host->v6w[2] ^ host->v6w[3];

	h ^= h >> 16;
	h *= 0x45d9f3bU;
	h ^= h >> 16;
	return h;
}

/* The IPv4 address the IPv6 host *host already has, if any (used:
 * touched). For what answers a packet that came in through the mapping
 * (echo replies, ICMPv6 errors): they make none. */
static __always_inline int nat64_pool_out_find(const struct fc_config *cfg,
					       const union fc_addr *host, __be32 *v4)
{
	struct fc_nat64_map *m;
	union fc_addr key = *host;

	if (!cfg || !(cfg->flags & FC_CFG_NAT64_ADDRMAP))
		return 0;
	m = bpf_map_lookup_elem(&fc_p64_out, &key);
	if (!m)
		return 0;
	nat64_map_touch(m, fc_now());
	*v4 = m->peer.v4;
	return 1;
}

/*
 * 6 -> 4: the IPv4 address of the IPv6 source *src (a copy: a map key),
 * made from the pool on its first packet. FC_STAT_MAX with *v4 set;
 * NAT64_POOL_NONE if the source stays with NAPT64; FC_STAT_NAT64_POOL_
 * EXHAUSTED if no address was free (RFC 6146 §3.5.1.1: the caller answers
 * with ICMPv6 Destination Unreachable, address unreachable).
 */
static __noinline int nat64_pool_out(const struct fc_config *cfg, const union fc_addr *src,
				     __be32 *v4)
{
	struct nat64_probe st = {};
	struct fc_nat64_map v = {}, *m;
	union fc_addr key = *src;
	__u32 len = cfg->nat64_pool4_len, n;
	__u64 now = fc_now();

	if (!(cfg->flags & FC_CFG_NAT64_ADDRMAP))
		return NAT64_POOL_NONE;
	m = bpf_map_lookup_elem(&fc_p64_out, &key);
	if (m) {
		nat64_map_touch(m, now);
		*v4 = m->peer.v4;
		return FC_STAT_MAX;
	}
	if (!(cfg->flags & FC_CFG_NAT64_POOL4))
		return NAT64_POOL_NONE;
	if (len < FC_NAT64_POOL_MIN_LEN || len > 32)
		return FC_STAT_NAT64_POOL_EXHAUSTED;	/* user space checked it */
	n = 1U << (32 - len);
	__builtin_memcpy(st.host, key.v6w, 16);
	st.now = now;
	st.base = bpf_ntohl(cfg->nat64_pool4);
	st.mask = n - 1;
	st.start = nat64_probe_start(&key);
	nat64_probe_loop(n < FC_NAT64_PROBES ? n : FC_NAT64_PROBES, &st);
	if (!st.got)
		return FC_STAT_NAT64_POOL_EXHAUSTED;
	v.peer.v4 = st.got;
	v.seen_ns = now;
	if (bpf_map_update_elem(&fc_p64_out, &key, &v, BPF_NOEXIST)) {
		/* Another CPU mapped this host meanwhile: its address
		 * stands, ours goes back (or the table is full). */
		bpf_map_delete_elem(&fc_p64_in, &st.got);
		m = bpf_map_lookup_elem(&fc_p64_out, &key);
		if (!m)
			return FC_STAT_NAT64_POOL_EXHAUSTED;
		*v4 = m->peer.v4;
		return FC_STAT_MAX;
	}
	stat_inc(FC_STAT_NAT64_POOL_MAPPED);
	*v4 = st.got;
	return FC_STAT_MAX;
}

/* Inbound, on the external interface's ingress before NAT44: is this IPv4
 * packet to an address-mapped host (nat64_in translates it)? */
static __noinline __attribute__((unused)) int nat64_pool_claims(struct ctx_buff *ctx)
{
	const struct fc_config *cfg = config_get();
	struct fc_nat64_map *m;
	__be32 dst = 0;
	__u32 l2;

	if (!cfg || !(cfg->flags & FC_CFG_NAT64) || !(cfg->flags & FC_CFG_NAT64_ADDRMAP))
		return 0;
	if (parse_l2(ctx, &l2) != bpf_htons(ETH_P_IP) ||
	    ctx_load(ctx, l2 + offsetof(struct iphdr, daddr), &dst, sizeof(dst)))
		return 0;
	m = bpf_map_lookup_elem(&fc_p64_in, &dst);
	return m != NULL;
}

#endif /* FC_BPF_NAT64_POOL_H */
