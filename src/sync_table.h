/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the state sync last told its peer (or learned from it), per
 * mapping and per session: the scan compares the maps with it to find what
 * changed. Open addressing, linear probing, backward-shift deletion.
 */
#ifndef FC_SYNC_TABLE_H
#define FC_SYNC_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <fcnat/types.h>

enum sync_kind {
	SYNC_KIND_MAP = 1,	/* key: the mapping's internal-side endpoint key */
	SYNC_KIND_SESSION = 2,	/* key: struct fc_session_key */
};

#define SYNC_KEY_MAX 40

struct sync_ent {
	__u8 kind;		/* 0: free slot */
	bool learned;		/* installed from the peer, untouched here since */
	__u32 gen;		/* the scan that saw it last */
	__u8 key[SYNC_KEY_MAX];
	/* Map: last_out_ns and the external endpoint as last sent; session:
	 * expires_ns and tcp_seen. */
	__u64 ts;
	__u64 ts2;		/* map: sessions_until_ns */
	union fc_addr ext;
	__u16 ext_port;
	__u32 tcp_seen;
};

struct sync_table {
	struct sync_ent *e;
	size_t cap;		/* power of two */
	size_t len;
};

void sync_table_free(struct sync_table *t);
/* The entry of (kind, key), made (zeroed but for kind and key, *made set)
 * if absent; NULL without memory. */
struct sync_ent *sync_table_get(struct sync_table *t, __u8 kind, const void *key, bool *made);
struct sync_ent *sync_table_find(const struct sync_table *t, __u8 kind, const void *key);
void sync_table_del(struct sync_table *t, struct sync_ent *e);

#endif
