/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fragments (RFC 4787 REQ-13/14). Only a first fragment carries ports.
 *
 * Outbound, the external address depends on the internal address alone, so
 * a non-first fragment is translated without state, in any order.
 *
 * Inbound, the internal address comes from the mapping the first fragment's
 * port names; it is remembered per (remote, id, protocol) for the fragments
 * that follow. A fragment that comes before its first fragment is copied
 * into a small hold (at most FC_FRAG_HOLD_SLOTS per train, frag_hold_ns()
 * old) and also passed to the stack, which owns it if the train turns out
 * to be the gateway's own. When the first fragment is translated, the held
 * copies are fed back into ingress, where the remembered translation now
 * applies. See doc/design/fragments.md.
 */
#ifndef FC_BPF_FRAG_H
#define FC_BPF_FRAG_H

#include "csum.h"
#include "maps.h"

/* Reassembly gives up after 30 s on Linux; trains are usually done in ms. */
#define FC_FRAG_TIMEOUT_NS	(30 * NSEC_PER_SEC)
#define FC_FRAG_HOLD_NS		(2 * NSEC_PER_SEC)	/* RFC 6146 §4 FRAGMENT_MIN */
#define FC_FRAG_HOLD_SLOTS	4
#define FC_FRAG_HOLD_BYTES	1520	/* an Ethernet frame of MTU 1500, rounded */

struct frag_wait {
	__u64 first_seen_ns;
	__u32 count;		/* slots claimed */
	__u32 pad0;
};

struct frag_held_key {
	struct fc_frag_key train;
	__u32 slot;
	__u32 pad0;
};

struct frag_held {
	__u32 len;
	__u32 pad0;
	__u8 data[FC_FRAG_HOLD_BYTES];
};

/* Trains waiting for their first fragment, and their held fragments. LRU:
 * a hold that is never claimed simply ages out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, struct fc_frag_key);
	__type(value, struct frag_wait);
} fc_frag_wait SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, struct frag_held_key);
	__type(value, struct frag_held);
} fc_frag_held SEC(".maps");

/* A zeroed value to insert from: too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct frag_held);
} fc_frag_scratch SEC(".maps");

static __always_inline void frag_key(struct fc_frag_key *k, const struct fc_pkt *p)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = p->family;
	k->proto = p->proto;
	k->frag_id = p->family == FC_AF_INET6 ? p->frag_id : (__be32)p->ip_id;
	k->remote = p->saddr;
	k->ext_addr = p->daddr;
}

/* An inbound first fragment was translated to int_addr, of int_family
 * (FC_AF_INET6 behind an IPv4 train: NAT64 translates the followers). */
static __always_inline void frag_remember(const struct fc_frag_key *k, __u8 int_family,
					  const union fc_addr *int_addr, __u64 now)
{
	struct fc_frag v = { .int_addr = *int_addr, .expires_ns = now + FC_FRAG_TIMEOUT_NS,
			     .int_family = int_family };

	bpf_map_update_elem(&fc_frags, k, &v, BPF_ANY);
}

/* An inbound non-first fragment: its train's translation, or NULL. */
static __always_inline const struct fc_frag *frag_find(const struct fc_pkt *p, __u64 now)
{
	struct fc_frag_key k;
	struct fc_frag *v;

	frag_key(&k, p);
	v = bpf_map_lookup_elem(&fc_frags, &k);
	return v && v->expires_ns > now ? v : NULL;
}

/* How long an early fragment waits for its first: --fragment-hold (RFC
 * 6146 §3.4: at least FRAGMENT_MIN, configurable), 2 s by default. */
static __always_inline __u64 frag_hold_ns(void)
{
	const struct fc_config *cfg = config_get();

	return cfg && cfg->frag_hold_ns ? cfg->frag_hold_ns : FC_FRAG_HOLD_NS;
}

/* Keep a copy of a fragment that came before its first fragment.
 * Returns 0 when held. */
static __always_inline int frag_hold(struct ctx_buff *ctx, const struct fc_pkt *p, __u64 now)
{
	struct frag_wait fresh = { .first_seen_ns = now };
	struct frag_held_key hk = {};
	struct frag_wait *w;
	struct frag_held *h;
	__u32 zero = 0, len = ctx_len(ctx), slot;
	void *blank;

	if (len > FC_FRAG_HOLD_BYTES || len < p->l3_off + sizeof(struct iphdr))
		return -1;
	frag_key(&hk.train, p);
	w = bpf_map_lookup_elem(&fc_frag_wait, &hk.train);
	/* Added, not subtracted: another CPU may have stamped the train with
	 * a clock read after ours, and now - first_seen_ns would wrap. */
	if (w && now > w->first_seen_ns + frag_hold_ns()) {
		/* A stale train with a reused id: start over. */
		w->first_seen_ns = now;
		w->count = 0;
	}
	if (!w) {
		bpf_map_update_elem(&fc_frag_wait, &hk.train, &fresh, BPF_NOEXIST);
		w = bpf_map_lookup_elem(&fc_frag_wait, &hk.train);
		if (!w)
			return -1;
	}
	slot = __sync_fetch_and_add(&w->count, 1);
	if (slot >= FC_FRAG_HOLD_SLOTS)
		return -1;
	hk.slot = slot;
	blank = bpf_map_lookup_elem(&fc_frag_scratch, &zero);
	if (!blank || bpf_map_update_elem(&fc_frag_held, &hk, blank, BPF_ANY))
		return -1;
	h = bpf_map_lookup_elem(&fc_frag_held, &hk);
	if (!h || !FC_IN_RANGE(len, 1, FC_FRAG_HOLD_BYTES) || ctx_load(ctx, 0, h->data, len))
		return -1;
	h->len = len;
	return 0;
}

/*
 * The first fragment of a train has just been translated in ctx. If copies
 * of later fragments wait, send the first fragment on as a copy, then turn
 * ctx into each held fragment in turn and feed it back to ingress, where
 * the train's translation now applies. Returns 1 when ctx was used up that
 * way (the caller drops it), 0 when nothing waited.
 */
static __always_inline int frag_release(struct ctx_buff *ctx, const struct fc_frag_key *train,
					__u64 now)
{
	struct frag_held_key hk = { .train = *train };
	struct frag_wait *w = bpf_map_lookup_elem(&fc_frag_wait, train);
	__u32 count;

	if (!w)
		return 0;
	count = w->count;
	if (now > w->first_seen_ns + frag_hold_ns() || count == 0) {
		bpf_map_delete_elem(&fc_frag_wait, train);
		return 0;
	}
	if (ctx_reinject(ctx))
		return 0;	/* keep the first fragment at least */
	for (__u32 i = 0; i < FC_FRAG_HOLD_SLOTS; i++) {
		struct frag_held *h;
		__u32 len;

		if (i >= count)
			break;
		hk.slot = i;
		h = bpf_map_lookup_elem(&fc_frag_held, &hk);
		if (!h)
			continue;
		len = h->len;
		if (FC_IN_RANGE(len, sizeof(struct iphdr), FC_FRAG_HOLD_BYTES) &&
		    !ctx_resize(ctx, len) && !ctx_store(ctx, 0, h->data, len) && !ctx_reinject(ctx))
			stat_inc(FC_STAT_FRAGMENT_REINJECTED);
		bpf_map_delete_elem(&fc_frag_held, &hk);
	}
	bpf_map_delete_elem(&fc_frag_wait, train);
	return 1;
}

#endif /* FC_BPF_FRAG_H */
