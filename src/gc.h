/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The expiry sweeper: deletes expired sessions and the mappings nothing
 * keeps alive any more. See doc/design/expiry.md for why it lives in user
 * space and how it stays out of the datapath's way.
 */
#ifndef FC_GC_H
#define FC_GC_H

#include <fcnat/types.h>
#include <fcnat/rules.h>
#include "epset.h"

/* Told about every mapping the sweeper deletes (internal-side key and
 * value), e.g. for the event log. */
typedef void (*gc_mapping_deleted_fn)(void *ctx, const struct fc_endpoint_key *k,
				      const struct fc_binding *v);

struct gc_state {
	struct epset live;		/* external endpoint -> latest session expiry */
	struct epset orphans;		/* half-mappings seen last sweep */
	struct epset orphans_next;
	gc_mapping_deleted_fn on_delete;	/* optional */
	void *on_delete_ctx;
	/* Carrier-grade NAT (-1: none): the fc_release program that gives a
	 * deleted FC_BINDING_COUNTED mapping's count back, and the subscriber
	 * table, whose entries without mappings for two sweeps go. */
	int release_fd;
	int subscribers_fd;
	struct epset idle_subscribers;	/* no mappings at the last sweep */
	struct epset idle_next;
	/* Port blocks (-1: none): the block table and fc_block_free, which
	 * frees a block the walk found no mapping in. */
	int blocks_fd;
	int block_free_fd;
	struct epset blocks_used;	/* (address, block) with a mapping this sweep */
};

struct gc_result {
	unsigned long sessions_live;
	unsigned long sessions_expired;
	unsigned long mappings_live;
	unsigned long mappings_expired;
	unsigned long orphans_removed;
	unsigned long subscribers_live;
	unsigned long subscribers_removed;
	unsigned long blocks_live;
	unsigned long blocks_freed;
};

void gc_init(struct gc_state *g);
void gc_free(struct gc_state *g);
int gc_sweep(struct gc_state *g, int bindings_fd, int sessions_fd,
	     const struct fc_config *cfg, __u64 now_ns, struct gc_result *res);
__u64 gc_now_ns(void);
/* Write a binding value (BPF_EXIST, BPF_ANY...) read from the map earlier:
 * its cached route (struct fc_hop) is cleared, never written back. */
int gc_binding_write(int fd, const struct fc_endpoint_key *k, struct fc_binding *v, __u64 flags);

/* A key for an IPv4 endpoint of either side (internal: of its NAT44
 * mapping); port in host order. */
void gc_endpoint_key4(struct fc_endpoint_key *k, __u8 side, __u8 proto, __be32 addr,
		      __u16 port);

struct gc_flush_result {
	unsigned long mappings;
	unsigned long sessions;
};

/* Delete every mapping and session on external address addr (gone from
 * the interface). Call after the datapath stopped using it. release_fd:
 * the fc_release program, -1 if none. */
int gc_flush_addr(int bindings_fd, int sessions_fd, int release_fd, __u8 family,
		  const union fc_addr *addr, struct gc_flush_result *res);

/* Change a subscriber's count of proto's mappings by delta (compare-and-swap
 * in BPF; clamped at 0). Returns the count after, or -errno (-ENOENT: no such
 * subscriber; -EAGAIN: the datapath kept changing it, try again). */
long gc_release(int release_fd, __u8 family, const union fc_addr *addr, __u8 proto, int delta);

/* Port blocks: ask fc_block_free to free one; enum fc_block_free_result or
 * -errno. */
long gc_block_free(int block_free_fd, const struct fc_block_key *key, __u64 now_ns);

/* Every entry of a bindings or sessions map, read in batches; fn returning
 * non-zero stops the walk with that value. */
typedef int (*map_walk_fn)(void *ctx, const void *key, const void *value);
int map_walk(int fd, size_t ksz, size_t vsz, map_walk_fn fn, void *ctx);

#endif
