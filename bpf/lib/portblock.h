/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Port-block allocation (RFC 7753 style, doc/design/cgnat.md): a subscriber
 * takes ports from blocks of its paired address that it holds alone; a new
 * block is claimed (BPF_NOEXIST in fc_port_blocks) when its blocks are
 * full, up to cfg->block_max. One event per block, not per mapping. The
 * sweeper frees a block no mapping uses through fc_block_free.
 */
#ifndef FC_BPF_PORTBLOCK_H
#define FC_BPF_PORTBLOCK_H

#include "maps.h"
#include <fcnat/rules.h>
#include "subscriber.h"

/* Sized like the mapping table by the loader: a block lives only while a
 * mapping uses it (and a sweep longer). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fc_block_key);
	__type(value, struct fc_block);
} fc_port_blocks SEC(".maps");

/* One event per block: ports [first, last] of ext_addr4 to owner. */
static __always_inline void event_block(const struct fc_config *cfg, __u8 type,
					const struct fc_subscriber_key *owner,
					const struct fc_block_key *key, __u64 now)
{
	struct fc_event *ev;
	__u16 first;

	if (!(cfg->flags & FC_CFG_EVENTS))
		return;
	ev = bpf_ringbuf_reserve(&fc_events, sizeof(*ev), 0);
	if (!ev) {
		stat_inc(FC_STAT_EVENTS_LOST);
		return;
	}
	first = fc_block_first_port(cfg, key->index);
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->time_ns = now;
	ev->type = type;
	ev->family = owner->family;
	ev->int_addr = owner->addr;
	ev->ext_family = FC_AF_INET;
	ev->ext_addr.v4 = key->ext_addr4;
	ev->ext_port = bpf_htons(first);
	ev->ext_port_last = bpf_htons(first + cfg->block_size - 1);
	bpf_ringbuf_submit(ev, 0);
}

#endif /* FC_BPF_PORTBLOCK_H */
