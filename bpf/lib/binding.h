/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mappings (bindings) and external port allocation.
 *
 * A mapping is created by claiming its external endpoint with a BPF_NOEXIST
 * insert, then publishing the internal endpoint the same way. Two CPUs racing
 * for one internal endpoint both may claim a port; the loser of the second
 * insert gives its port back and uses the winner's mapping, so no port is
 * handed out twice and none leaks (doc/design/port-allocation.md).
 */
#ifndef FC_BPF_BINDING_H
#define FC_BPF_BINDING_H

#include "loop.h"
#include "maps.h"
#include "portblock.h"
#include "subscriber.h"
#include <fcnat/rules.h>

/* Random probes after the preferred port; at 90% occupancy the chance that
 * all of them miss is 0.9^64, about 0.1%. */
#define FC_PORT_ATTEMPTS 64

static __always_inline int may_preserve_port(const struct fc_config *cfg, __u8 proto,
					     __u16 port)
{
	if (port < 1024 && !(cfg->flags & FC_CFG_PRESERVE_LOW_PORTS))
		return 0;
	return fc_port_in_range(cfg, proto, port);
}

struct port_claim {
	/* binding_create's internal endpoint, copied: as a map key, 6.1's
	 * verifier takes the stack or map memory, not a global function's
	 * argument. Read from here, it costs no stack either. */
	struct fc_endpoint_key int_key;
	struct fc_endpoint_key ext_key;	/* port filled in per attempt */
	struct fc_binding ext_val;	/* points back at the internal endpoint */
	__u16 preferred;		/* host order, 0 = none */
	__u16 claimed;			/* host order, 0 = not yet */
	int full;			/* the table refused an insert */
	/* The subscriber's own ports (deterministic NAT): range_size ports
	 * from range_first, probed in turn from range_start; 0: the ranges
	 * (walked from range_start too when smaller than the attempts). */
	__u16 range_first;
	__u16 range_size;
	__u32 range_start;
	/* Port blocks: the subscriber's blocks[0..nr_blocks) (block
	 * indexes), probed in turn from range_start; slots: where each sits
	 * in the subscriber entry, to check after a claim that it still does
	 * (the sweeper may have taken it meanwhile). */
	__u32 nr_blocks;
	__u16 blocks[FC_MAX_PORT_BLOCKS];
	__u8 slots[FC_MAX_PORT_BLOCKS];
	__u32 raw[FC_MAX_PORT_BLOCKS];	/* the entry's slots, as read */
	struct fc_subscriber_key sub_key;
	/* A new block being looked for. */
	struct fc_block_key bkey;
	struct fc_block bval;
	__u32 bstart;
	__u32 new_block;		/* index + 1 once claimed */
};

/* The claim in progress, per CPU: a mapping is made within one program run
 * (no nesting on a CPU), and the datapath's stack is too short to hold it
 * next to everything else. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct port_claim);
} fc_claim SEC(".maps");

static __always_inline struct port_claim *port_claim_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&fc_claim, &zero);
}

/* Is the claim's j-th block still the subscriber's? */
static __always_inline int claim_block_held(struct port_claim *c, __u64 j)
{
	struct fc_subscriber *sub;
	__u32 slot;

	if (j >= FC_MAX_PORT_BLOCKS)
		return 0;
	slot = c->slots[j];
	if (slot >= FC_MAX_PORT_BLOCKS)
		return 0;
	sub = bpf_map_lookup_elem(&fc_subscribers, &c->sub_key);
	return sub && sub->blocks[slot] == (__u32)c->blocks[j] + 1;
}

static __always_inline long port_claim_try(__u64 attempt, struct fc_loop_none *unused)
{
	struct port_claim *c = port_claim_get();
	const struct fc_config *cfg = config_get();
	__u64 j = 0;
	__u16 port;
	int err;

	if (!c || !cfg)
		return 1;
	if (c->nr_blocks) {
		/* 64-bit: the verifier loses the bounds of a 32-bit division. */
		__u64 size = cfg->block_size, t;

		if (!size)
			return 1;
		t = ((__u64)c->range_start + attempt) % ((__u64)c->nr_blocks * size);
		j = t / size;
		if (j >= FC_MAX_PORT_BLOCKS)
			return 1;
		port = fc_block_first_port(cfg, c->blocks[j]) + (__u16)(t % size);
	} else if (attempt == 0 && c->preferred)
		port = c->preferred;
	else if (c->range_size)
		port = c->range_first + (c->range_start + (__u32)attempt) % c->range_size;
	else {
		/* The protocol's own ports; none: its NAT is off, nothing to
		 * claim. (Read here only: a register kept live from the top
		 * spills the block index above, whose bound 6.1's verifier
		 * then loses.) */
		__u32 total = cfg->ports[fc_proto_slot(c->ext_key.proto)].total, idx;

		/* Ranges smaller than the attempts are walked from a random
		 * start (RFC 6056 §3.3.1), so their last free port is found:
		 * independent draws missed it one time in 60 at 16 ports. */
		if (total < FC_PORT_ATTEMPTS)
			idx = total ? (c->range_start + (__u32)attempt) % total : 0;
		else
			idx = bpf_get_prandom_u32() % total;
		port = total ? fc_port_at(cfg, c->ext_key.proto, idx) : 0;
	}
	if (!port)
		return 1;

	c->ext_key.port = bpf_htons(port);
	err = FC_MAP_ERR(bpf_map_update_elem(&fc_bindings, &c->ext_key, &c->ext_val, BPF_NOEXIST));
	if (err == 0) {
		/* Taken from a block the sweeper freed meanwhile: give it back
		 * (fc_block_free clears the slot, then looks for mappings). */
		if (c->nr_blocks && !claim_block_held(c, j)) {
			bpf_map_delete_elem(&fc_bindings, &c->ext_key);
			return 0;
		}
		c->claimed = port;
		return 1;
	}
	if (err != -EEXIST) {
		c->full = 1;
		return 1;
	}
	return 0;
}

FC_LOOP_DEFINE(port_claim, struct fc_loop_none, port_claim_try)

static __always_inline void event_mapping_created(const struct fc_endpoint_key *int_key,
						  const struct fc_binding *int_val, __u64 now)
{
	/* Written in place in the ring: no copy on the (small) stack. */
	struct fc_event *ev = bpf_ringbuf_reserve(&fc_events, sizeof(*ev), 0);

	if (!ev) {
		stat_inc(FC_STAT_EVENTS_LOST);
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->time_ns = now;
	ev->type = FC_EVENT_MAPPING_CREATE;
	ev->family = int_key->family;
	ev->proto = int_key->proto;
	ev->flags = int_val->flags;
	ev->int_port = int_key->port;
	ev->ext_port = int_val->port;
	ev->int_addr = int_key->addr;
	ev->ext_addr = int_val->addr;
	ev->ext_family = int_val->family;
	bpf_ringbuf_submit(ev, 0);
}

/* The j-th slot of the subscriber's blocks into the claim's list. */
static __always_inline long block_collect_one(__u64 j, struct fc_loop_none *unused)
{
	struct port_claim *c = port_claim_get();
	const struct fc_config *cfg = config_get();
	__u32 b, n;

	if (!c || !cfg || j >= FC_MAX_PORT_BLOCKS)
		return 1;
	b = c->raw[j];
	n = c->nr_blocks;
	if (!b || b > cfg->block_count || n >= FC_MAX_PORT_BLOCKS)
		return 0;
	c->blocks[n] = b - 1;
	c->slots[n] = j;
	c->nr_blocks = n + 1;
	return 0;
}

static __always_inline long block_take_try(__u64 attempt, struct fc_loop_none *unused)
{
	struct port_claim *c = port_claim_get();
	const struct fc_config *cfg = config_get();
	int err;

	if (!c || !cfg || !cfg->block_count)
		return 1;
	c->bkey.index = (c->bstart + (__u32)attempt) % cfg->block_count;
	err = FC_MAP_ERR(bpf_map_update_elem(&fc_port_blocks, &c->bkey, &c->bval, BPF_NOEXIST));
	if (err == 0) {
		c->new_block = c->bkey.index + 1;
		return 1;
	}
	return err == -EEXIST ? 0 : 1;
}

FC_LOOP_DEFINE(block_collect, struct fc_loop_none, block_collect_one)
FC_LOOP_DEFINE(block_take, struct fc_loop_none, block_take_try)

enum fc_bind_result {
	FC_BIND_OK,
	FC_BIND_EXHAUSTED,
	FC_BIND_FULL,
	FC_BIND_LIMIT,		/* the subscriber is at its limit */
	FC_BIND_NO_ADDR,	/* no external address to map to */
	FC_BIND_NOT_DETERMINISTIC,	/* deterministic NAT: outside its prefix */
	FC_BIND_BLOCK_LIMIT,	/* its blocks are full and it holds block_max */
};

/*
 * Port blocks: claim a port for c (its ext_key/ext_val set) in one of the
 * subscriber's blocks of address a, taking a new block when they are full.
 * FC_BIND_OK with c->claimed set, or why not.
 */
static __always_inline int blocks_claim(const struct fc_config *cfg, struct port_claim *c,
					struct fc_subscriber *sub, __be32 a, __u64 now)
{
	__u32 n = 0, size = cfg->block_size, old, j;

	if (!size || size > 65535)
		return FC_BIND_EXHAUSTED;
	/* Copied straight, then compacted in a callback: a loop that
	 * branches per slot would be verified once per combination. */
	for (j = 0; j < FC_MAX_PORT_BLOCKS; j++)
		c->raw[j] = sub->blocks[j];
	c->nr_blocks = 0;
	block_collect_loop(FC_MAX_PORT_BLOCKS, NULL);
	n = c->nr_blocks;
	if (n && n <= FC_MAX_PORT_BLOCKS) {
		c->nr_blocks = n;
		c->range_start = bpf_get_prandom_u32() % (n * size);
		port_claim_loop(n * size, NULL);
		if (c->claimed)
			return FC_BIND_OK;
		if (c->full)
			return FC_BIND_FULL;
	}

	/* All full (or none yet): one more block, if the limit allows. The
	 * reservation is one atomic: racing CPUs never pass the limit. */
	old = __sync_fetch_and_add(&sub->port_blocks, 1);
	if ((__s32)old >= (__s32)cfg->block_max) {
		__sync_fetch_and_add(&sub->port_blocks, -1);
		__sync_fetch_and_add(&sub->refused, 1);
		return FC_BIND_BLOCK_LIMIT;
	}
	c->bkey.ext_addr4 = a;
	c->bval.owner = c->sub_key;
	c->bval.alloc_ns = now;
	c->bstart = bpf_get_prandom_u32() % (cfg->block_count ? cfg->block_count : 1);
	c->new_block = 0;
	block_take_loop(cfg->block_count, NULL);
	if (!c->new_block) {
		__sync_fetch_and_add(&sub->port_blocks, -1);
		return FC_BIND_EXHAUSTED;
	}
	/* A free slot exists: the reservation counts it. */
	for (j = 0; j < FC_MAX_PORT_BLOCKS; j++)
		if (__sync_val_compare_and_swap(&sub->blocks[j], 0, c->new_block) == 0)
			break;
	if (j >= FC_MAX_PORT_BLOCKS) {
		bpf_map_delete_elem(&fc_port_blocks, &c->bkey);
		__sync_fetch_and_add(&sub->port_blocks, -1);
		return FC_BIND_EXHAUSTED;
	}
	stat_inc(FC_STAT_PORT_BLOCK_ALLOC);
	event_block(cfg, FC_EVENT_BLOCK_ALLOC, &c->sub_key, &c->bkey, now);

	c->nr_blocks = 1;
	c->blocks[0] = c->new_block - 1;
	c->slots[0] = j;
	c->range_start = bpf_get_prandom_u32() % size;
	port_claim_loop(size, NULL);
	if (c->claimed)
		return FC_BIND_OK;
	return c->full ? FC_BIND_FULL : FC_BIND_EXHAUSTED;
}

/*
 * Make the mapping of an internal endpoint that has none, in the external
 * port space of int_key->ext_family (NAT64 maps an IPv6 internal endpoint
 * into IPv4's): its external address (IPv4: nat_ext_addr4, the interface's or
 * the subscriber's paired pool address, a gateway process keeping the
 * interface's; IPv6: ext6, the interface's), one mapping taken from the
 * subscriber's allowance, then a port. FC_BIND_OK when the internal-side
 * entry is there (made here, or by a CPU that won the race). A global
 * function: the verifier checks it once, not once for every state of every
 * caller, and its stack is its own.
 */
__noinline int binding_create(const struct fc_endpoint_key *int_key_arg,
			      const union fc_addr *ext6, __u32 flags, __u64 now)
{
	const struct fc_config *cfg = config_get();
	struct port_claim *c = port_claim_get();
	const struct fc_endpoint_key *int_key;
	struct fc_subscriber *sub = NULL;
	__u32 slot, det_idx = 0, nr_attempts;
	__u16 int_port;
	int det, err;

	if (!c || !cfg || !int_key_arg || !ext6)
		return FC_BIND_FULL;
	/* The endpoint is read from the claim from here on: 6.1 counts this
	 * frame within the 512 bytes of the datapath's deepest chain, each
	 * frame rounded up to 32 (doc/design/kernel-compat.md). */
	__builtin_memset(c, 0, sizeof(*c));
	c->int_key = *int_key_arg;
	int_key = &c->int_key;
	slot = sub_proto_slot(int_key->proto);
	det = !!(cfg->flags & FC_CFG_DETERMINISTIC) && !(flags & FC_BINDING_ROUTER) &&
		 int_key->ext_family == FC_AF_INET;
	int_port = bpf_ntohs(int_key->port);
	if (det && (fc_det_index(cfg, int_key->family, &int_key->addr, &det_idx) || !cfg->nr_pool))
		return FC_BIND_NOT_DETERMINISTIC;
	if (!(flags & FC_BINDING_ROUTER) && (cfg->flags & FC_CFG_SUBSCRIBERS)) {
		sub = subscriber_get(cfg, int_key->family, &int_key->addr, 1, now);
		if (!sub)
			return FC_BIND_FULL;
	}
	/* The external address goes straight into the claim: the stack is
	 * short. */
	if (int_key->ext_family == FC_AF_INET6) {
		if (!(ext6->v6w[0] | ext6->v6w[1] | ext6->v6w[2] | ext6->v6w[3]))
			return FC_BIND_NO_ADDR;
		c->ext_key.addr = *ext6;
	} else {
		__be32 a4 = flags & FC_BINDING_ROUTER ? cfg->ext_addr4 :
			    nat_ext_addr4(cfg, int_key->family, &int_key->addr, sub);

		if (!a4)
			return FC_BIND_NO_ADDR;
		c->ext_key.addr.v4 = a4;	/* zero-padded by the memset */
	}
	if (sub) {
		if (subscriber_take(cfg, sub, slot))
			return FC_BIND_LIMIT;
		flags |= FC_BINDING_COUNTED;
	}
	nr_attempts = FC_PORT_ATTEMPTS;
	if (det) {
		/* Only the subscriber's own ports, every one of them probed
		 * once (from a random one on) before it counts as exhausted. */
		c->range_first = fc_det_first_port(cfg, det_idx);
		c->range_size = cfg->det_ports;
		c->range_start = bpf_get_prandom_u32() % c->range_size;
		nr_attempts = c->range_size + 1;
		if (int_port < c->range_first || int_port - c->range_first >= c->range_size)
			int_port = 0;
	}
	c->ext_key.side = FC_SIDE_EXTERNAL;
	c->ext_key.family = int_key->ext_family;
	c->ext_key.proto = int_key->proto;
	c->ext_val.addr = int_key->addr;
	c->ext_val.port = int_key->port;
	c->ext_val.family = int_key->family;
	c->ext_val.flags = flags;
	c->preferred = int_port && may_preserve_port(cfg, int_key->proto, int_port) ? int_port : 0;
	if ((cfg->flags & FC_CFG_PORT_BLOCKS) && sub && int_key->ext_family == FC_AF_INET) {
		int ret;

		subscriber_key(&c->sub_key, int_key->family, &int_key->addr);
		c->preferred = 0;
		ret = blocks_claim(cfg, c, sub, c->ext_key.addr.v4, now);
		if (ret != FC_BIND_OK) {
			subscriber_untake(sub, slot);
			return ret;
		}
	} else {
		if (!det)
			c->range_start = bpf_get_prandom_u32();
		port_claim_loop(nr_attempts, NULL);
	}
	if (!c->claimed) {
		if (sub)
			subscriber_untake(sub, slot);
		return c->full ? FC_BIND_FULL : FC_BIND_EXHAUSTED;
	}

	/* c->ext_val is inserted: it becomes the internal side's value,
	 * which names the external endpoint and its family. */
	c->ext_val.addr = c->ext_key.addr;
	c->ext_val.family = int_key->ext_family;
	c->ext_val.port = bpf_htons(c->claimed);
	c->ext_val.last_out_ns = now;
	err = FC_MAP_ERR(bpf_map_update_elem(&fc_bindings, int_key, &c->ext_val, BPF_NOEXIST));
	if (err) {
		/* Lost a race for this internal endpoint, or the table is
		 * full: give the port (and the count) back either way. */
		bpf_map_delete_elem(&fc_bindings, &c->ext_key);
		if (sub)
			subscriber_untake(sub, slot);
		if (err != -EEXIST)
			return FC_BIND_FULL;
	} else {
		stat_inc(FC_STAT_MAPPING_CREATED);
		if (cfg->flags & FC_CFG_EVENTS)
			event_mapping_created(int_key, &c->ext_val, now);
	}
	return FC_BIND_OK;
}

/*
 * Find the mapping of an internal endpoint in the port space its key names
 * (int_key->ext_family), creating it if there is none (ext6: the IPv6
 * external address; the IPv4 one is chosen per subscriber). An IPv6
 * endpoint has a mapping per family, NAT66's and NAT64's, each its own
 * entry. found: the caller's own lookup of int_key, if it made one (NULL:
 * none, or nothing found). On success *out points at the internal-side
 * entry.
 */
static __always_inline int binding_get_or_create(const struct fc_config *cfg,
						 const struct fc_endpoint_key *int_key,
						 const union fc_addr *ext6, __u8 flags, __u64 now,
						 struct fc_binding *found, struct fc_binding **out)
{
	int ret;

	*out = found ? found : bpf_map_lookup_elem(&fc_bindings, int_key);
	if (*out)
		return FC_BIND_OK;
	ret = binding_create(int_key, ext6, flags, now);
	if (ret != FC_BIND_OK)
		return ret;
	*out = bpf_map_lookup_elem(&fc_bindings, int_key);
	return *out ? FC_BIND_OK : FC_BIND_FULL;
}

#endif /* FC_BPF_BINDING_H */
