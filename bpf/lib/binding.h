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

static long port_claim_attempt(__u64 attempt, void *data)
{
	struct port_claim *c = data;
	const struct fc_config *cfg = config_get();
	__u16 port;
	long err;

	if (!cfg || !cfg->port_total)
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
	struct fc_event ev = {
		.time_ns = now,
		.type = FC_EVENT_MAPPING_CREATE,
		.family = int_key->family,
		.proto = int_key->proto,
		.flags = int_val->flags,
		.int_port = int_key->port,
		.ext_port = int_val->port,
		.int_addr = int_key->addr,
		.ext_addr = int_val->addr,
		.ext_family = int_val->family,
	};

	if (bpf_ringbuf_output(&fc_events, &ev, sizeof(ev), 0))
		stat_inc(FC_STAT_EVENTS_LOST);
}

enum fc_bind_result {
	FC_BIND_OK,
	FC_BIND_EXHAUSTED,
	FC_BIND_FULL,
};

/*
 * Find the mapping of an internal endpoint, creating it if there is none,
 * on ext_addr of family ext_family: the external port space is that
 * address's (NAT64 maps an IPv6 internal endpoint into IPv4's). On success
 * *out points at the internal-side entry.
 */
static __always_inline int binding_get_or_create(const struct fc_config *cfg,
						 const struct fc_endpoint_key *int_key,
						 __u8 ext_family, const union fc_addr *ext_addr,
						 __u8 flags,
						 __u64 now, struct fc_binding **out)
{
	struct fc_binding int_val = {};
	struct port_claim c = {};
	__u16 int_port = bpf_ntohs(int_key->port);
	long err;

	*out = bpf_map_lookup_elem(&fc_bindings, int_key);
	if (*out)
		return FC_BIND_OK;

	endpoint_key(&c.ext_key, FC_SIDE_EXTERNAL, ext_family, int_key->proto, ext_addr, 0);
	c.ext_val.addr = int_key->addr;
	c.ext_val.port = int_key->port;
	c.ext_val.family = int_key->family;
	c.ext_val.flags = flags;
	c.preferred = may_preserve_port(cfg, int_port) ? int_port : 0;
	bpf_loop(FC_PORT_ATTEMPTS, port_claim_attempt, &c, 0);
	if (!c.claimed)
		return c.full ? FC_BIND_FULL : FC_BIND_EXHAUSTED;

	int_val.addr = *ext_addr;
	int_val.port = bpf_htons(c.claimed);
	int_val.family = ext_family;
	int_val.flags = flags;
	int_val.last_out_ns = now;
	err = bpf_map_update_elem(&fc_bindings, int_key, &int_val, BPF_NOEXIST);
	if (err) {
		/* Lost a race for this internal endpoint, or the table is
		 * full: give the port back either way. */
		bpf_map_delete_elem(&fc_bindings, &c.ext_key);
		if (err != -EEXIST)
			return FC_BIND_FULL;
	} else {
		stat_inc(FC_STAT_MAPPING_CREATED);
		if (cfg->flags & FC_CFG_EVENTS)
			event_mapping_created(int_key, &int_val, now);
	}
	*out = bpf_map_lookup_elem(&fc_bindings, int_key);
	return *out ? FC_BIND_OK : FC_BIND_FULL;
}

#endif /* FC_BPF_BINDING_H */
