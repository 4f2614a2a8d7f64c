/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fragments (RFC 4787 REQ-13/14). Only a first fragment carries ports.
 *
 * Outbound, the external address depends on the internal address alone, so
 * a non-first fragment is translated without state, in any order.
 * Inbound, the internal address comes from the mapping the first fragment's
 * port names; it is remembered per (remote, id, protocol) for the fragments
 * that follow. A fragment that arrives before its first fragment cannot be
 * placed and is left to the stack (doc/design/fragments.md).
 */
#ifndef FC_BPF_FRAG_H
#define FC_BPF_FRAG_H

#include "csum.h"
#include "maps.h"

/* Reassembly gives up after 30 s on Linux; trains are usually done in ms. */
#define FC_FRAG_TIMEOUT_NS (30 * NSEC_PER_SEC)

static __always_inline void frag_key(struct fc_frag_key *k, const struct fc_pkt *p)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = p->family;
	k->proto = p->proto;
	k->ip_id = p->ip_id;
	k->remote = p->saddr;
	k->ext_addr = p->daddr;
}

/* An inbound first fragment was translated to int_addr. */
static __always_inline void frag_remember(const struct fc_pkt *p, const union fc_addr *int_addr,
					  __u64 now)
{
	struct fc_frag_key k;
	struct fc_frag v = { .int_addr = *int_addr, .expires_ns = now + FC_FRAG_TIMEOUT_NS };

	frag_key(&k, p);
	bpf_map_update_elem(&fc_frags, &k, &v, BPF_ANY);
}

/* An inbound non-first fragment: the internal address, or NULL. */
static __always_inline const struct fc_frag *frag_find(const struct fc_pkt *p, __u64 now)
{
	struct fc_frag_key k;
	struct fc_frag *v;

	frag_key(&k, p);
	v = bpf_map_lookup_elem(&fc_frags, &k);
	return v && v->expires_ns > now ? v : NULL;
}

#endif /* FC_BPF_FRAG_H */
