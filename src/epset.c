// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "epset.h"

static size_t hash_key(const struct fc_endpoint_key *k)
{
	/* FNV-1a over the key bytes; padding is always zeroed by callers. */
	const unsigned char *p = (const unsigned char *)k;
	__u64 h = 1469598103934665603ULL;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return (size_t)h;
}

void epset_init(struct epset *s)
{
	memset(s, 0, sizeof(*s));
}

void epset_free(struct epset *s)
{
	free(s->slots);
	epset_init(s);
}

void epset_clear(struct epset *s)
{
	if (s->slots)
		memset(s->slots, 0, s->cap * sizeof(*s->slots));
	s->len = 0;
}

static struct epset_slot *find(const struct epset *s, const struct fc_endpoint_key *k)
{
	size_t i = hash_key(k) & (s->cap - 1);

	while (s->slots[i].used && memcmp(&s->slots[i].key, k, sizeof(*k)))
		i = (i + 1) & (s->cap - 1);
	return &s->slots[i];
}

static int grow(struct epset *s)
{
	struct epset old = *s;
	size_t cap = s->cap ? s->cap * 2 : 1024;

	s->slots = calloc(cap, sizeof(*s->slots));
	if (!s->slots) {
		*s = old;
		return -ENOMEM;
	}
	s->cap = cap;
	s->len = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].used)
			*find(s, &old.slots[i].key) = old.slots[i], s->len++;
	free(old.slots);
	return 0;
}

/* k's slot, made with value 0 if k is new; NULL if the set cannot grow. */
static struct epset_slot *slot_of(struct epset *s, const struct fc_endpoint_key *k)
{
	struct epset_slot *slot;

	if ((s->len + 1) * 2 > s->cap && grow(s))
		return NULL;
	slot = find(s, k);
	if (!slot->used) {
		slot->used = 1;
		slot->key = *k;
		slot->value = 0;
		s->len++;
	}
	return slot;
}

int epset_put_max(struct epset *s, const struct fc_endpoint_key *k, __u64 value)
{
	struct epset_slot *slot = slot_of(s, k);

	if (!slot)
		return -ENOMEM;
	if (value > slot->value)
		slot->value = value;
	return 0;
}

int epset_add(struct epset *s, const struct fc_endpoint_key *k, __u64 delta)
{
	struct epset_slot *slot = slot_of(s, k);

	if (!slot)
		return -ENOMEM;
	slot->value += delta;
	return 0;
}

int epset_get(const struct epset *s, const struct fc_endpoint_key *k, __u64 *value)
{
	const struct epset_slot *slot;

	if (!s->cap)
		return 0;
	slot = find(s, k);
	if (!slot->used)
		return 0;
	*value = slot->value;
	return 1;
}
