// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "sync_table.h"

static size_t key_len(__u8 kind)
{
	return kind == SYNC_KIND_MAP ? sizeof(struct fc_endpoint_key) :
	       sizeof(struct fc_session_key);
}

static size_t hash(__u8 kind, const void *key)
{
	const __u8 *p = key;
	__u64 h = 1469598103934665603ULL ^ kind;	/* FNV-1a */

	for (size_t i = 0; i < key_len(kind); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29));
}

void sync_table_free(struct sync_table *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

static bool same(const struct sync_ent *e, __u8 kind, const void *key)
{
	return e->kind == kind && !memcmp(e->key, key, key_len(kind));
}

struct sync_ent *sync_table_find(const struct sync_table *t, __u8 kind, const void *key)
{
	if (!t->cap)
		return NULL;
	for (size_t i = hash(kind, key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (!t->e[i].kind)
			return NULL;
		if (same(&t->e[i], kind, key))
			return &t->e[i];
	}
}

static int grow(struct sync_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024;
	struct sync_ent *e = calloc(cap, sizeof(*e)), *old = t->e;

	if (!e)
		return -1;
	for (size_t j = 0; j < t->cap; j++) {
		size_t i;

		if (!old[j].kind)
			continue;
		for (i = hash(old[j].kind, old[j].key) & (cap - 1); e[i].kind; i = (i + 1) & (cap - 1))
			;
		e[i] = old[j];
	}
	free(old);
	t->e = e;
	t->cap = cap;
	return 0;
}

struct sync_ent *sync_table_get(struct sync_table *t, __u8 kind, const void *key, bool *made)
{
	struct sync_ent *e = sync_table_find(t, kind, key);
	size_t i;

	*made = false;
	if (e)
		return e;
	if ((t->len + 1) * 2 > t->cap && grow(t))
		return NULL;
	for (i = hash(kind, key) & (t->cap - 1); t->e[i].kind; i = (i + 1) & (t->cap - 1))
		;
	e = &t->e[i];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	memcpy(e->key, key, key_len(kind));
	t->len++;
	*made = true;
	return e;
}

void sync_table_del(struct sync_table *t, struct sync_ent *e)
{
	size_t i = e - t->e, j = i, mask = t->cap - 1;

	t->e[i].kind = 0;
	t->len--;
	/* Move back every later entry of the run whose home slot is not
	 * between the hole and it, so lookups never stop early at the hole. */
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!t->e[j].kind)
			return;
		home = hash(t->e[j].kind, t->e[j].key) & mask;
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			t->e[i] = t->e[j];
			t->e[j].kind = 0;
			i = j;
		}
	}
}
