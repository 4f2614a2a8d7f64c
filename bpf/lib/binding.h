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

#include "maps.h"
#include "subscriber.h"

/* Random probes after the preferred port; at 90% occupancy the chance that
 * all of them miss is 0.9^64, about 0.1%. */
#define FC_PORT_ATTEMPTS 64

static __always_inline int port_in_range(const struct fc_config *cfg, __u16 port)
{
	for (int i = 0; i < FC_MAX_PORT_RANGES; i++) {
		if (i >= cfg->nr_port_ranges)
			break;
		if (port >= cfg->port_ranges[i].first && port <= cfg->port_ranges[i].last)
			return 1;
	}
	return 0;
}

/* The idx-th port of the ranges taken together (idx < port_total). */
static __always_inline __u16 port_at(const struct fc_config *cfg, __u32 idx)
{
	for (int i = 0; i < FC_MAX_PORT_RANGES; i++) {
		__u32 size;

		if (i >= cfg->nr_port_ranges)
			break;
		size = (__u32)cfg->port_ranges[i].last - cfg->port_ranges[i].first + 1;
		if (idx < size)
			return cfg->port_ranges[i].first + idx;
		idx -= size;
	}
	return 0;
}

static __always_inline int may_preserve_port(const struct fc_config *cfg, __u16 port)
{
	if (port < 1024 && !(cfg->flags & FC_CFG_PRESERVE_LOW_PORTS))
		return 0;
	return port_in_range(cfg, port);
}

static __always_inline __u64 mapping_base_timeout(const struct fc_config *cfg, __u8 proto)
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

/* b is the internal-side entry of a mapping of protocol proto. */
static __always_inline int mapping_alive(const struct fc_config *cfg, __u8 proto,
					 const struct fc_binding *b, __u64 now)
{
	return (b->flags & FC_BINDING_STATIC) ||
	       now < b->last_out_ns + mapping_base_timeout(cfg, proto) ||
	       now < b->sessions_until_ns;
}

static __always_inline void endpoint_key(struct fc_endpoint_key *k, __u8 side, __u8 family,
					 __u8 proto, const union fc_addr *addr, __be16 port)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->side = side;
	k->family = family;
	k->proto = proto;
	k->port = port;
	k->addr = *addr;
}

struct port_claim {
	struct fc_endpoint_key ext_key;	/* port filled in per attempt */
	struct fc_binding ext_val;	/* points back at the internal endpoint */
	__u16 preferred;		/* host order, 0 = none */
	__u16 claimed;			/* host order, 0 = not yet */
	int full;			/* the table refused an insert */
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

static long port_claim_attempt(__u64 attempt, void *data)
{
	struct port_claim *c = port_claim_get();
	const struct fc_config *cfg = config_get();
	__u16 port;
	long err;

	if (!c || !cfg || !cfg->port_total)
		return 1;
	if (attempt == 0 && c->preferred)
		port = c->preferred;
	else
		port = port_at(cfg, bpf_get_prandom_u32() % cfg->port_total);
	if (!port)
		return 1;

	c->ext_key.port = bpf_htons(port);
	err = bpf_map_update_elem(&fc_bindings, &c->ext_key, &c->ext_val, BPF_NOEXIST);
	if (err == 0) {
		c->claimed = port;
		return 1;
	}
	if (err != -EEXIST) {
		c->full = 1;
		return 1;
	}
	return 0;
}

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

enum fc_bind_result {
	FC_BIND_OK,
	FC_BIND_EXHAUSTED,
	FC_BIND_FULL,
	FC_BIND_LIMIT,		/* the subscriber is at its limit */
	FC_BIND_NO_ADDR,	/* no external address to map to */
};

/*
 * Make the mapping of an internal endpoint that has none, in the external
 * port space of ext_family (NAT64 maps an IPv6 internal endpoint into
 * IPv4's): its external address (IPv4: nat_ext_addr4, the interface's or
 * the subscriber's paired pool address, a gateway process keeping the
 * interface's; IPv6: ext6, the interface's), one mapping taken from the
 * subscriber's allowance, then a port. FC_BIND_OK when the internal-side
 * entry is there (made here, or by a CPU that won the race). A global
 * function: the verifier checks it once, not once for every state of every
 * caller, and its stack is its own.
 */
__noinline int binding_create(const struct fc_endpoint_key *int_key, __u32 ext_family,
			      const union fc_addr *ext6, __u32 flags, __u64 now)
{
	const struct fc_config *cfg = config_get();
	struct port_claim *c = port_claim_get();
	struct fc_subscriber *sub = NULL;
	union fc_addr ext_addr = {};
	__u16 int_port;
	__u32 slot;
	long err;

	if (!c || !cfg || !int_key || !ext6)
		return FC_BIND_FULL;
	int_port = bpf_ntohs(int_key->port);
	slot = sub_proto_slot(int_key->proto);
	if (!(flags & FC_BINDING_ROUTER) && (cfg->flags & FC_CFG_SUBSCRIBERS)) {
		sub = subscriber_get(cfg, int_key->family, &int_key->addr, 1, now);
		if (!sub)
			return FC_BIND_FULL;
	}
	if (ext_family == FC_AF_INET6) {
		if (!(ext6->v6w[0] | ext6->v6w[1] | ext6->v6w[2] | ext6->v6w[3]))
			return FC_BIND_NO_ADDR;
		ext_addr = *ext6;
	} else {
		__be32 a4 = flags & FC_BINDING_ROUTER ? cfg->ext_addr4 :
			    nat_ext_addr4(cfg, int_key->family, &int_key->addr, sub);

		if (!a4)
			return FC_BIND_NO_ADDR;
		__builtin_memset(&ext_addr, 0, sizeof(ext_addr));
		ext_addr.v4 = a4;
	}
	if (sub) {
		if (subscriber_take(cfg, sub, slot))
			return FC_BIND_LIMIT;
		flags |= FC_BINDING_COUNTED;
	}

	__builtin_memset(c, 0, sizeof(*c));
	c->ext_key.side = FC_SIDE_EXTERNAL;
	c->ext_key.family = ext_family;
	c->ext_key.proto = int_key->proto;
	c->ext_key.addr = ext_addr;	/* all 16 bytes count: an IPv4 one is zero-padded */
	c->ext_val.addr = int_key->addr;
	c->ext_val.port = int_key->port;
	c->ext_val.family = int_key->family;
	c->ext_val.flags = flags;
	c->preferred = may_preserve_port(cfg, int_port) ? int_port : 0;
	bpf_loop(FC_PORT_ATTEMPTS, port_claim_attempt, NULL, 0);
	if (!c->claimed) {
		if (sub)
			subscriber_untake(sub, slot);
		return c->full ? FC_BIND_FULL : FC_BIND_EXHAUSTED;
	}

	/* c->ext_val is inserted: it becomes the internal side's value,
	 * which names the external endpoint and its family. */
	c->ext_val.addr = c->ext_key.addr;
	c->ext_val.family = ext_family;
	c->ext_val.port = bpf_htons(c->claimed);
	c->ext_val.last_out_ns = now;
	err = bpf_map_update_elem(&fc_bindings, int_key, &c->ext_val, BPF_NOEXIST);
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
 * Find the mapping of an internal endpoint, creating it if there is none
 * in the port space of ext_family (ext6: the IPv6 external address; the
 * IPv4 one is chosen per subscriber). On success *out points at the
 * internal-side entry.
 */
static __always_inline int binding_get_or_create(const struct fc_config *cfg,
						 const struct fc_endpoint_key *int_key,
						 __u8 ext_family, const union fc_addr *ext6,
						 __u8 flags,
						 __u64 now, struct fc_binding **out)
{
	int ret;

	*out = bpf_map_lookup_elem(&fc_bindings, int_key);
	if (*out)
		return FC_BIND_OK;
	ret = binding_create(int_key, ext_family, ext6, flags, now);
	if (ret != FC_BIND_OK)
		return ret;
	*out = bpf_map_lookup_elem(&fc_bindings, int_key);
	return *out ? FC_BIND_OK : FC_BIND_FULL;
}

#endif /* FC_BPF_BINDING_H */
