/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Carrier-grade NAT: the address pool with paired pooling, the per-subscriber
 * entry (paired address, mapping counts, limits), the internal scope and the
 * excluded destinations. See doc/design/cgnat.md.
 *
 * nat_ext_addr4() is THE answer to "which external IPv4 address does this
 * internal host use": every outbound path asks it when it makes a mapping
 * (NAT44 now, NAT64 with an IPv6 internal address later), and the stateless
 * paths (non-first fragments) ask it too. Without a pool it is the external
 * interface's address, exactly as before.
 */
#ifndef FC_BPF_SUBSCRIBER_H
#define FC_BPF_SUBSCRIBER_H

#include "maps.h"
#include "parse.h"
#include <fcnat/rules.h>

/* Pool addresses by index, for the choice; and by address, for inbound
 * packets ("is this one of ours?"). Written by user space at start. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FC_POOL_MAX);
	__type(key, __u32);
	__type(value, __be32);
} fc_pool SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FC_POOL_MAX);
	__type(key, __be32);
	__type(value, __u32);
} fc_pool_index SEC(".maps");

/* One entry per internal host with mappings; sized like fc_bindings by the
 * loader (every subscriber has at least one mapping). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fc_subscriber_key);
	__type(value, struct fc_subscriber);
} fc_subscribers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, FC_SCOPE_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fc_scope_key);
	__type(value, __u32);
} fc_scope SEC(".maps");

static const struct fc_subscriber fc_subscriber_zero;

/* Does the NAT44 datapath have an external address to work with? */
static __always_inline int nat4_has_addr(const struct fc_config *cfg)
{
	return cfg->ext_addr4 || cfg->nr_pool;
}

/* Is a an external address of ours: the interface's or one of the pool? */
static __always_inline int ext_addr4_is_ours(const struct fc_config *cfg, __be32 a)
{
	if (a == cfg->ext_addr4 && a)
		return 1;
	return cfg->nr_pool && bpf_map_lookup_elem(&fc_pool_index, &a);
}

/* A pool address that is not the interface's: nothing but mappings lives
 * there, so what is not translated must not reach the stack (it would
 * route it back out). */
static __always_inline int ext_addr4_pool_only(const struct fc_config *cfg, __be32 a)
{
	return cfg->nr_pool && a != cfg->ext_addr4;
}

static __always_inline int scope_match(__u8 kind, __u8 family, const union fc_addr *a)
{
	struct fc_scope_key k = {
		.prefixlen = FC_SCOPE_KEY_BITS + (family == FC_AF_INET6 ? 128 : 32),
		.kind = kind,
		.family = family,
		.addr = *a,
	};

	return bpf_map_lookup_elem(&fc_scope, &k) != NULL;
}

/*
 * Is this outbound packet the NAT's business? Its source must lie in the
 * internal prefixes (when configured) and its destination outside the
 * excluded ones. FC_STAT_MAX if so, else the counter of why not.
 */
static __always_inline int nat_scope_check(const struct fc_config *cfg, const struct fc_pkt *p)
{
	if ((cfg->flags & FC_CFG_SCOPE) && !scope_match(FC_SCOPE_INTERNAL, p->family, &p->saddr))
		return FC_STAT_PASS_OUT_OF_SCOPE;
	if ((cfg->flags & FC_CFG_EXCLUDE) && scope_match(FC_SCOPE_EXCLUDE, p->family, &p->daddr))
		return FC_STAT_PASS_EXCLUDED;
	return FC_STAT_MAX;
}

static __always_inline void subscriber_key(struct fc_subscriber_key *k, __u8 family,
					   const union fc_addr *addr)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = family;
	k->addr = *addr;
}

/* A subscriber's slot for a protocol class. */
static __always_inline __u32 sub_proto_slot(__u8 proto)
{
	return proto == FC_PROTO_TCP ? FC_SUB_TCP : proto == FC_PROTO_UDP ? FC_SUB_UDP : FC_SUB_ICMP;
}

/*
 * The subscriber entry of an internal host, made if create is set and there
 * is none (BPF_NOEXIST: a CPU racing us makes it first, we use theirs).
 * NULL when subscriber state is off or the table is full.
 */
static __always_inline struct fc_subscriber *subscriber_get(const struct fc_config *cfg,
							    __u8 family, const union fc_addr *addr,
							    int create, __u64 now)
{
	struct fc_subscriber_key k;
	struct fc_subscriber *s;

	if (!(cfg->flags & FC_CFG_SUBSCRIBERS))
		return NULL;
	subscriber_key(&k, family, addr);
	s = bpf_map_lookup_elem(&fc_subscribers, &k);
	if (s || !create)
		return s;
	/* From a zeroed constant: the callers' stack is short. */
	if (bpf_map_update_elem(&fc_subscribers, &k, &fc_subscriber_zero, BPF_NOEXIST) == 0) {
		s = bpf_map_lookup_elem(&fc_subscribers, &k);
		if (s)
			s->first_ns = now;
		return s;
	}
	return bpf_map_lookup_elem(&fc_subscribers, &k);
}

/*
 * The external IPv4 address for internal host (family, addr): paired
 * pooling (RFC 4787 REQ-2, RFC 6888 REQ-2). Without a pool, the interface's
 * address. With one, the address the subscriber entry sub (NULL: none)
 * already pairs it with, while that is still in the pool; else the pool
 * slot its address hashes to -- a pure function of the address, so every
 * path, every CPU, a re-made entry and a restart all agree. 0: none.
 */
static __always_inline __be32 nat_ext_addr4(const struct fc_config *cfg, __u8 family,
					    const union fc_addr *addr, struct fc_subscriber *sub)
{
	__u32 idx, n = cfg->nr_pool;
	__be32 *a, paired;

	if (cfg->flags & FC_CFG_DETERMINISTIC) {
		/* A function of the address alone, the entry only mirrors it. */
		if (!n || n > FC_POOL_MAX || fc_det_index(cfg, family, addr, &idx))
			return 0;
		idx = fc_det_pool_slot(cfg, idx);
		a = bpf_map_lookup_elem(&fc_pool, &idx);
		if (!a)
			return 0;
		if (sub && sub->ext_addr4 != *a)
			sub->ext_addr4 = *a;
		return *a;
	}
	if (!n)
		return cfg->ext_addr4;
	if (sub) {
		paired = sub->ext_addr4;
		if (paired && bpf_map_lookup_elem(&fc_pool_index, &paired))
			return paired;
	}
	if (n > FC_POOL_MAX)
		return 0;
	idx = fc_subscriber_hash(family, addr) % n;
	a = bpf_map_lookup_elem(&fc_pool, &idx);
	if (!a)
		return 0;
	if (sub && sub->ext_addr4 != *a)
		sub->ext_addr4 = *a;	/* racing CPUs write the same value */
	return *a;
}

/*
 * Take one mapping of protocol slot from the subscriber's allowance: 0, or
 * -1 at its limit (counted in the entry). The count is reserved with one
 * atomic add, so racing CPUs can never both take the last one.
 */
static __always_inline int subscriber_take(const struct fc_config *cfg, struct fc_subscriber *sub,
					   __u32 slot)
{
	__u32 limit, old;

	if (slot >= FC_SUB_PROTOS)
		return -1;
	limit = cfg->sub_limit[slot];
	old = __sync_fetch_and_add(&sub->mappings[slot], 1);
	if (limit && (__s32)old >= (__s32)limit) {
		__sync_fetch_and_add(&sub->mappings[slot], -1);
		__sync_fetch_and_add(&sub->refused, 1);
		return -1;
	}
	return 0;
}

/* Give back what subscriber_take took (the mapping was not made). */
static __always_inline void subscriber_untake(struct fc_subscriber *sub, __u32 slot)
{
	if (slot < FC_SUB_PROTOS)
		__sync_fetch_and_add(&sub->mappings[slot], -1);
}

/* A refusal the fast path leaves to TC, which counts it again: take back
 * this one's count in the subscriber entry. */
static __always_inline void subscriber_unrefuse(const struct fc_config *cfg, __u8 family,
						const union fc_addr *addr)
{
	struct fc_subscriber *sub = subscriber_get(cfg, family, addr, 0, 0);

	if (sub)
		__sync_fetch_and_add(&sub->refused, -1);
}

#endif /* FC_BPF_SUBSCRIBER_H */
