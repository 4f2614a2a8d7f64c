/* SPDX-License-Identifier: GPL-2.0 */
/* A small open-addressing table from endpoint keys to u64, for the sweeper. */
#ifndef FC_EPSET_H
#define FC_EPSET_H

#include <stddef.h>
#include <fcnat/types.h>

struct epset_slot {
	struct fc_endpoint_key key;
	__u64 value;
	int used;
};

struct epset {
	struct epset_slot *slots;
	size_t cap;	/* power of two */
	size_t len;
};

void epset_init(struct epset *s);
void epset_free(struct epset *s);
void epset_clear(struct epset *s);
/* Keep the larger of the stored value and value; -ENOMEM on failure. */
int epset_put_max(struct epset *s, const struct fc_endpoint_key *k, __u64 value);
/* Add delta to the stored value (0 if absent); -ENOMEM on failure. */
int epset_add(struct epset *s, const struct fc_endpoint_key *k, __u64 delta);
/* 1 and *value if present, else 0. */
int epset_get(const struct epset *s, const struct fc_endpoint_key *k, __u64 *value);

#endif
