/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `fcnat offload`'s view of conntrack (doc/design/offload.md): the entries
 * it follows, which of them are offloaded (both directions in the
 * datapath's fo_flows4 or fo_flows6), and what goes back to conntrack (timeouts). Fed
 * with decoded ctnetlink messages (ct_msg.h); no socket of its own: what
 * it has to send is queued in a buffer the caller sends.
 */
#ifndef FC_OFFLOAD_FLOWS_H
#define FC_OFFLOAD_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "ct_msg.h"

struct fo_table;

struct fo_table_cfg {
	int map_fd;		/* fo_flows4 */
	int map6_fd;		/* fo_flows6 */
	__u32 max_flows;	/* conntrack entries offloaded at once */
	__u32 tcp_timeout;	/* seconds: what a packet gives an established TCP entry */
	__u32 udp_timeout;	/* seconds: the same for an assured UDP one */
	bool mark_filter;	/* offload only entries with (mark & mask) == value */
	__u32 mark_value, mark_mask;
	__u32 buckets;		/* hash chains, a power of 2 (0: 65536) */
	__u16 zone;		/* the conntrack zone offloaded (--ct-zone; others never) */
};

struct fo_table *fo_table_new(const struct fo_table_cfg *cfg);
void fo_table_free(struct fo_table *t);	/* removes every offloaded flow from the map */
void fo_table_release(struct fo_table *t);	/* leaves them there (--keep-state) */

/* After the first dump of a start that took pinned maps over: delete the
 * directions no entry conntrack still has owns (flows it dropped while no
 * daemon was there). Returns how many. */
unsigned long fo_table_prune(struct fo_table *t);

/* Is this entry one to offload? (ASSURED, TCP ESTABLISHED, TCP/UDP,
 * NAT or not, no helper at work, the mark filter.) tcp_state: the entry's
 * last known TCP state when e carries none; -1: unknown. */
bool fo_eligible(const struct fo_table *t, const struct ct_entry *e, int tcp_state);

/* One conntrack message (dump or event): offload, update or stop. An
 * entry of another zone is never offloaded, and while it lives a flow of
 * the offloaded zone with one of its tuples is not either (the datapath's
 * key has no zone). */
void fo_table_apply(struct fo_table *t, const struct ct_entry *e);

/*
 * Between hold and flush, the flows fo_table_apply offloads are queued and
 * then written to the maps in batches (bpf_map_update_batch: every reply
 * direction, then every original one), a few bpf() calls for a recv()'s
 * worth of new flows. Without a hold each is written at once. Holds nest.
 */
void fo_table_hold(struct fo_table *t);
void fo_table_flush(struct fo_table *t);

/* A re-dump starts (events were lost): entries the dump does not name
 * again are dropped by fo_table_sweep(). */
void fo_table_mark(struct fo_table *t);
void fo_table_sweep(struct fo_table *t);

/*
 * Once a second, a refresh round: the maps are read (in batches), flows
 * the datapath handed back (FIN/RST) are forgotten, and each flow whose
 * conntrack timeout runs low while the offload carried packets past it
 * gets it set from its last packet (fo_refresh_timeout). The ctnetlink
 * updates go into out (ct_build_update, several messages); returns their
 * length. When out is full the round stops there: call again (with the
 * same now_ns) while fo_table_ticking() says the round goes on.
 */
size_t fo_table_tick(struct fo_table *t, __u64 now_ns, void *out, size_t len, __u32 *seq);
bool fo_table_ticking(const struct fo_table *t);

/* The refresh rule: the timeout in seconds to give an entry at now (0:
 * none yet), from the protocol's timeout, its last packet in the
 * offload (0: none) and when conntrack expires it (0: unknown). ns all. */
__u32 fo_refresh_timeout(__u64 base_ns, __u64 last, __u64 expires, __u64 now);

/* Updates owed right after offloading (TCP: be liberal), as fo_table_tick. */
size_t fo_table_pending(struct fo_table *t, void *out, size_t len, __u32 *seq);

unsigned long fo_table_offloaded(const struct fo_table *t);	/* flows, not directions */
unsigned long fo_table_handed_back(const struct fo_table *t);	/* by FIN/RST, so far */
/* What the fast path carried since the start (packets, and bytes of IP
 * header and payload as conntrack counts them; both directions), as of
 * the last refresh round that read the maps: monotonic but for a round's
 * worth of a flow that leaves (read no more). */
void fo_table_fast_path(const struct fo_table *t, __u64 *pkts, __u64 *bytes);
/* Entries of the offloaded zone kept with the stack: their tuple is another zone's too. */
unsigned long fo_table_zone_clashes(const struct fo_table *t);

#endif
