// SPDX-License-Identifier: GPL-2.0
/* The conntrack entries `fcnat offload` follows (offload_flows.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fcnat/offload.h>
#include "log.h"
#include "offload_flows.h"

/* Chains of a few at a million flows: fine for a walk each second. */
#define FO_BUCKETS_DEFAULT	65536
#define NSEC			1000000000ull
/* Refresh a conntrack entry when the timeout it holds runs below this (or
 * half its protocol's timeout, if less): what a stalled daemon may lose
 * before a busy flow's entry expires under it. doc/design/offload.md. */
#define FO_REFRESH_MARGIN_NS	(30 * NSEC)
/* Directions read from the maps per bpf_map_lookup_batch call. */
#define FO_BATCH		4096

struct fo_entry {
	struct fo_entry *next;
	struct ct_tuple orig, reply;
	__u16 zone;
	int tcp_state;		/* last known, -1: none seen */
	bool installed;		/* both directions are in the map */
	bool handed_back;	/* FIN/RST: never again for this entry */
	bool owed;		/* conntrack update owed (just offloaded) */
	bool marked;		/* named by the re-dump under way */
	bool queued;		/* in the install queue (t->queue[qidx]) */
	bool clash;		/* a direction is another zone's tuple too: the stack's */
	__u8 seen_dirs;		/* directions the scan of seen_gen found (bit per FO_DIR_*) */
	__u32 seen_gen;
	__u64 seen_last;	/* their latest last_seen_ns */
	__u64 seen_pkts, seen_bytes;	/* their fast path counters, summed, at that scan */
	__u64 pkts, bytes;		/* the same at the last complete scan */
	__u64 expires_ns;	/* when conntrack expires it, as last told or set (0: unknown) */
	__u32 qidx;
};

/*
 * An entry of a zone the offload does not follow: never offloaded, known
 * only so that a flow of the followed zone with the same tuple (either
 * direction) is not offloaded either while it lives: the datapath's key
 * has no zone (a packet's zone is whatever the ruleset sets before
 * conntrack), so the fast path could not tell their packets apart.
 * Hashed under both tuples.
 */
struct fo_slink {
	struct fo_slink *next;
	__u8 k;				/* which tuple: link[k] of its shadow */
};

struct fo_shadow {
	struct fo_slink link[2];	/* in the chains of its orig and reply tuples */
	struct ct_tuple t[2];		/* orig, reply */
	__u16 zone;
	bool marked;
};

#define SHADOW_OF(l)	((struct fo_shadow *)((char *)((l) - (l)->k) - offsetof(struct fo_shadow, link)))

struct fo_table {
	struct fo_table_cfg cfg;
	struct fo_entry **bucket;
	__u32 mask;
	unsigned long offloaded, handed_back;
	unsigned long owed;	/* entries with owed set: no walk when none */
	bool full_warned;
	/* The refresh round under way (fo_table_tick): the maps scanned once
	 * at its start, the walk resumed at cursor. */
	bool in_round, scanned, no_batch;
	__u32 gen, cursor;
	__u64 next_round;	/* no round before (see round_every) */
	__u32 pend_cursor;	/* fo_table_pending's, likewise */
	void *bkeys, *bvals;	/* FO_BATCH keys and values (IPv6 sizes) */
	/* Installs queued while held (fo_table_hold), written by
	 * fo_table_flush in batches: a burst of new flows costs a few
	 * bpf() calls, not two per flow. */
	struct fo_entry **queue;
	__u32 nqueued, qcap, holding;
	bool no_batch_update;	/* the kernel has no bpf_map_update_batch for it */
	__u32 ubatch;		/* directions per batch: FO_BATCH, or --max-flows if less */
	void *ukeys, *uvals;	/* a batch of reply, then original directions */
	bool *ok_r, *ok_o;	/* which went in */
	struct fo_entry **batch;	/* the flows of a batch */
	/* Other zones' entries (struct fo_shadow), allocated at the first. */
	struct fo_slink **shadow;
	unsigned long shadows, clashed;
	bool recheck;		/* a shadow left: clashed entries may go now */
	/* What the fast path carried (packets, bytes of both directions): of
	 * the flows offloaded now, summed by the last complete round
	 * (live_*), and of those gone since the start (gone_*). */
	__u64 live_pkts, live_bytes, sum_pkts, sum_bytes, gone_pkts, gone_bytes;
	bool rechecking;	/* the round under way tries them */
};

static __u32 tuple_hash(const struct fo_table *tb, const struct ct_tuple *t, __u16 zone)
{
	/* Not the zone: a map key has none, and fo_table_prune finds an
	 * entry by its tuple alone. */
	return ct_tuple_hash(t) & tb->mask;
}

static bool tuple_eq(const struct ct_tuple *a, const struct ct_tuple *b)
{
	return !memcmp(a->src6, b->src6, 16) && !memcmp(a->dst6, b->dst6, 16) &&
	       a->sport == b->sport && a->dport == b->dport && a->proto == b->proto &&
	       a->family == b->family;
}

struct fo_table *fo_table_new(const struct fo_table_cfg *cfg)
{
	struct fo_table *t = calloc(1, sizeof(*t));
	__u32 n = cfg->buckets ? cfg->buckets : FO_BUCKETS_DEFAULT;

	if (!t || (n & (n - 1)))
		goto fail;
	t->cfg = *cfg;
	t->mask = n - 1;
	t->bucket = calloc(n, sizeof(*t->bucket));
	t->bkeys = malloc(FO_BATCH * sizeof(struct fo_key6));
	t->bvals = malloc(FO_BATCH * sizeof(struct fo_flow6));
	/* No more flows are ever queued than --max-flows. */
	t->ubatch = cfg->max_flows && cfg->max_flows < FO_BATCH ? cfg->max_flows : FO_BATCH;
	t->ukeys = malloc(t->ubatch * sizeof(struct fo_key6));
	t->uvals = malloc(t->ubatch * sizeof(struct fo_flow6));
	t->ok_r = malloc(t->ubatch * sizeof(*t->ok_r));
	t->ok_o = malloc(t->ubatch * sizeof(*t->ok_o));
	t->batch = malloc(t->ubatch * sizeof(*t->batch));
	if (!t->bucket || !t->bkeys || !t->bvals || !t->ukeys || !t->uvals || !t->ok_r ||
	    !t->ok_o || !t->batch)
		goto fail;
	return t;
fail:
	if (t) {
		free(t->bucket);
		free(t->bkeys);
		free(t->bvals);
		free(t->ukeys);
		free(t->uvals);
		free(t->ok_r);
		free(t->ok_o);
		free(t->batch);
	}
	free(t);
	return NULL;
}

/* A packet matching tuple `in` leaves as the other direction's tuple
 * reversed: conntrack's NAT, whatever kind it is. */
static void make_dir4(const struct ct_tuple *in, const struct ct_tuple *other, __u8 dir,
		      struct fo_key4 *k, struct fo_flow4 *f)
{
	memset(k, 0, sizeof(*k));
	k->saddr = in->src;
	k->daddr = in->dst;
	k->sport = in->sport;
	k->dport = in->dport;
	k->proto = in->proto;
	memset(f, 0, sizeof(*f));
	f->saddr = other->dst;
	f->daddr = other->src;
	f->sport = other->dport;
	f->dport = other->sport;
	f->dir = dir;
}

static void make_dir6(const struct ct_tuple *in, const struct ct_tuple *other, __u8 dir,
		      struct fo_key6 *k, struct fo_flow6 *f)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->saddr, in->src6, 16);
	memcpy(k->daddr, in->dst6, 16);
	k->sport = in->sport;
	k->dport = in->dport;
	k->proto = in->proto;
	memset(f, 0, sizeof(*f));
	memcpy(f->saddr, other->dst6, 16);
	memcpy(f->daddr, other->src6, 16);
	f->sport = other->dport;
	f->dport = other->sport;
	f->dir = dir;
}

/* Both directions' keys and values, of the entry's family. */
struct fo_dirs {
	int fd;
	union {
		struct {
			struct fo_key4 ko, kr;
			struct fo_flow4 fo, fr;
		} v4;
		struct {
			struct fo_key6 ko, kr;
			struct fo_flow6 fo, fr;
		} v6;
	};
	void *ko, *kr, *fo, *fr;
};

static void dirs_of(const struct fo_table *t, const struct fo_entry *e, struct fo_dirs *d)
{
	if (e->orig.family == AF_INET6) {
		d->fd = t->cfg.map6_fd;
		make_dir6(&e->orig, &e->reply, FO_DIR_ORIG, &d->v6.ko, &d->v6.fo);
		make_dir6(&e->reply, &e->orig, FO_DIR_REPLY, &d->v6.kr, &d->v6.fr);
		d->v6.fo.rev = d->v6.kr;
		d->v6.fr.rev = d->v6.ko;
		d->ko = &d->v6.ko, d->kr = &d->v6.kr, d->fo = &d->v6.fo, d->fr = &d->v6.fr;
	} else {
		d->fd = t->cfg.map_fd;
		make_dir4(&e->orig, &e->reply, FO_DIR_ORIG, &d->v4.ko, &d->v4.fo);
		make_dir4(&e->reply, &e->orig, FO_DIR_REPLY, &d->v4.kr, &d->v4.fr);
		d->v4.fo.rev = d->v4.kr;
		d->v4.fr.rev = d->v4.ko;
		d->ko = &d->v4.ko, d->kr = &d->v4.kr, d->fo = &d->v4.fo, d->fr = &d->v4.fr;
	}
}

/* Both directions' last packet, from the datapath's entries: -ENOENT when
 * one is gone (the datapath saw FIN or RST). */
static int last_seen(const struct fo_table *t, const struct fo_entry *e, __u64 *last)
{
	struct fo_dirs d;
	__u64 a, b;

	dirs_of(t, e, &d);
	if (bpf_map_lookup_elem(d.fd, d.ko, d.fo) || bpf_map_lookup_elem(d.fd, d.kr, d.fr))
		return -ENOENT;
	if (e->orig.family == AF_INET6)
		a = d.v6.fo.last_seen_ns, b = d.v6.fr.last_seen_ns;
	else
		a = d.v4.fo.last_seen_ns, b = d.v4.fr.last_seen_ns;
	*last = a > b ? a : b;
	return 0;
}

static bool shadowed(const struct fo_table *t, const struct ct_tuple *x);
struct fo_shadow;
static void shadow_free(struct fo_table *t, struct fo_shadow *s);

/* Queue e's two directions for the next flush (at once when not held). */
static int install(struct fo_table *t, struct fo_entry *e)
{
	if (e->queued || e->installed)
		return 0;
	if (t->offloaded + t->nqueued >= t->cfg.max_flows) {
		if (!t->full_warned)
			fc_warn("offload: %u flows offloaded, the most --max-flows allows: "
				"further flows stay with the stack", t->cfg.max_flows);
		t->full_warned = true;
		return -ENOSPC;
	}
	if (t->nqueued == t->qcap) {
		__u32 cap = t->qcap ? t->qcap * 2 : 256;
		struct fo_entry **q = realloc(t->queue, cap * sizeof(*q));

		if (!q)
			return -ENOMEM;
		t->queue = q;
		t->qcap = cap;
	}
	e->qidx = t->nqueued;
	t->queue[t->nqueued++] = e;
	e->queued = true;
	if (!t->holding)
		fo_table_flush(t);
	return 0;
}

static void installed(struct fo_table *t, struct fo_entry *e)
{
	e->installed = true;
	if (!e->owed)
		t->owed++;
	e->owed = true;
	t->offloaded++;
}

/*
 * Write n directions (keys and values packed in ukeys/uvals) into the map;
 * ok[i] says which went in. A batch stops at the first that fails: that
 * one is marked failed and the rest goes in another call. Where the kernel
 * has no batch update for the map, one call each.
 */
static void put_dirs(struct fo_table *t, int fd, size_t ksz, size_t vsz, __u32 n, bool *ok)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	__u32 i = 0;

	while (i < n) {
		__u32 cnt = n - i;

		if (t->no_batch_update) {
			ok[i] = !bpf_map_update_elem(fd, (char *)t->ukeys + i * ksz,
						     (char *)t->uvals + i * vsz, BPF_ANY);
			i++;
			continue;
		}
		if (!bpf_map_update_batch(fd, (char *)t->ukeys + i * ksz, (char *)t->uvals + i * vsz,
					  &cnt, &opts)) {
			memset(ok + i, 1, n - i);
			return;
		}
		if (errno == EINVAL || errno == EOPNOTSUPP || errno == 524 /* ENOTSUPP */) {
			/* No batch update for this map here (what went in
			 * before the refusal is written again: BPF_ANY). */
			t->no_batch_update = true;
			continue;
		}
		if (cnt >= n - i) {
			/* Refused as a whole (the kernel wrote no count back):
			 * none of them went in. */
			memset(ok + i, 0, n - i);
			fc_debug("offload: installing flows: %s", strerror(errno));
			return;
		}
		memset(ok + i, 1, cnt);
		i += cnt;
		ok[i++] = false;
		fc_debug("offload: installing a flow: %s", strerror(errno));
	}
}

/* Install the queued entries of one family (up to t->ubatch) from q. */
static void flush_some(struct fo_table *t, struct fo_entry **q, __u32 n, bool v6)
{
	size_t ksz = v6 ? sizeof(struct fo_key6) : sizeof(struct fo_key4);
	size_t vsz = v6 ? sizeof(struct fo_flow6) : sizeof(struct fo_flow4);
	int fd = v6 ? t->cfg.map6_fd : t->cfg.map_fd;
	bool *ok_r = t->ok_r, *ok_o = t->ok_o;
	struct fo_dirs d;

	/* The reply directions first: a flow is offloaded when its opening
	 * direction's entry appears, and then both ways work. */
	for (__u32 i = 0; i < n; i++) {
		dirs_of(t, q[i], &d);
		memcpy((char *)t->ukeys + i * ksz, d.kr, ksz);
		memcpy((char *)t->uvals + i * vsz, d.fr, vsz);
	}
	put_dirs(t, fd, ksz, vsz, n, ok_r);
	for (__u32 i = 0, k = 0; i < n; i++) {
		if (!ok_r[i])
			continue;
		dirs_of(t, q[i], &d);
		memcpy((char *)t->ukeys + k * ksz, d.ko, ksz);
		memcpy((char *)t->uvals + k * vsz, d.fo, vsz);
		k++;
	}
	{
		__u32 k = 0;

		for (__u32 i = 0; i < n; i++)
			k += ok_r[i];
		put_dirs(t, fd, ksz, vsz, k, ok_o);
	}
	for (__u32 i = 0, k = 0; i < n; i++) {
		if (!ok_r[i])
			continue;
		if (ok_o[k++]) {
			installed(t, q[i]);
			continue;
		}
		dirs_of(t, q[i], &d);
		bpf_map_delete_elem(fd, d.kr);	/* no half flow */
	}
}

void fo_table_hold(struct fo_table *t)
{
	t->holding++;
}

void fo_table_flush(struct fo_table *t)
{
	struct fo_entry **batch = t->batch;

	if (t->holding)
		t->holding--;
	if (t->holding)
		return;
	for (int v6 = 0; v6 < 2; v6++) {
		__u32 n = 0;

		for (__u32 i = 0; i < t->nqueued; i++) {
			struct fo_entry *e = t->queue[i];

			if (!e || (e->orig.family == AF_INET6) != v6)
				continue;
			/* A shadow may have come since it was queued. */
			if (shadowed(t, &e->orig) || shadowed(t, &e->reply)) {
				if (!e->clash)
					t->clashed++;
				e->clash = true;
				continue;
			}
			batch[n++] = e;
			if (n == t->ubatch) {
				flush_some(t, batch, n, v6);
				n = 0;
			}
		}
		if (n)
			flush_some(t, batch, n, v6);
	}
	for (__u32 i = 0; i < t->nqueued; i++)
		if (t->queue[i])
			t->queue[i]->queued = false;
	t->nqueued = 0;
}

static void unqueue(struct fo_table *t, struct fo_entry *e)
{
	if (!e->queued)
		return;
	t->queue[e->qidx] = NULL;
	e->queued = false;
}

static void uninstall(struct fo_table *t, struct fo_entry *e)
{
	struct fo_dirs d;

	unqueue(t, e);
	if (e->owed)
		t->owed--;
	e->owed = false;
	if (!e->installed)
		return;
	dirs_of(t, e, &d);
	/* The opening direction first: the reverse of install. */
	bpf_map_delete_elem(d.fd, d.ko);
	bpf_map_delete_elem(d.fd, d.kr);
	e->installed = false;
	t->offloaded--;
	/* Its traffic as the last round saw it (a round's worth may be
	 * missing): a new install starts from zero. */
	t->gone_pkts += e->pkts;
	t->gone_bytes += e->bytes;
	e->pkts = e->bytes = 0;
}

static void table_free(struct fo_table *t, bool flows_too)
{
	if (!t)
		return;
	for (__u32 i = 0; i <= t->mask; i++) {
		while (t->bucket[i]) {
			struct fo_entry *e = t->bucket[i];

			t->bucket[i] = e->next;
			if (flows_too)
				uninstall(t, e);
			free(e);
		}
	}
	if (t->shadow)
		for (__u32 i = 0; i <= t->mask; i++)
			while (t->shadow[i])
				shadow_free(t, SHADOW_OF(t->shadow[i]));
	free(t->shadow);
	free(t->queue);
	free(t->bucket);
	free(t->bkeys);
	free(t->bvals);
	free(t->ukeys);
	free(t->uvals);
	free(t->ok_r);
	free(t->ok_o);
	free(t->batch);
	free(t);
}

void fo_table_free(struct fo_table *t)
{
	table_free(t, true);
}

void fo_table_release(struct fo_table *t)
{
	table_free(t, false);
}

/* Does an installed entry own this direction of the map? key is the
 * packet's tuple as it arrives, rev the other direction's. */
static bool owned(struct fo_table *t, const struct ct_tuple *key, const struct ct_tuple *rev,
		  __u8 dir)
{
	const struct ct_tuple *orig = dir == FO_DIR_ORIG ? key : rev;
	const struct ct_tuple *reply = dir == FO_DIR_ORIG ? rev : key;

	for (struct fo_entry *e = t->bucket[tuple_hash(t, orig, 0)]; e; e = e->next)
		if (e->installed && tuple_eq(&e->orig, orig) && tuple_eq(&e->reply, reply))
			return true;
	return false;
}

static void tuple4(struct ct_tuple *t, const struct fo_key4 *k)
{
	memset(t, 0, sizeof(*t));
	t->src = k->saddr;
	t->dst = k->daddr;
	t->sport = k->sport;
	t->dport = k->dport;
	t->proto = k->proto;
	t->family = AF_INET;
}

static void tuple6(struct ct_tuple *t, const struct fo_key6 *k)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->src6, k->saddr, 16);
	memcpy(t->dst6, k->daddr, 16);
	t->sport = k->sport;
	t->dport = k->dport;
	t->proto = k->proto;
	t->family = AF_INET6;
}

/* Delete the map's entries no installed flow owns; the keys first, then
 * the deletions (a walk that deletes as it goes starts over). */
static unsigned long prune_map(struct fo_table *t, int fd, bool v6)
{
	size_t ksz = v6 ? sizeof(struct fo_key6) : sizeof(struct fo_key4), n = 0, cap = 0;
	union {
		struct fo_key4 k4;
		struct fo_key6 k6;
	} key, next;
	union {
		struct fo_flow4 f4;
		struct fo_flow6 f6;
	} val;
	char *gone = NULL;
	void *prev = NULL;

	if (fd < 0)
		return 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct ct_tuple a, b;
		__u8 dir;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &val))
			continue;
		if (v6) {
			tuple6(&a, &key.k6);
			tuple6(&b, &val.f6.rev);
			dir = val.f6.dir;
		} else {
			tuple4(&a, &key.k4);
			tuple4(&b, &val.f4.rev);
			dir = val.f4.dir;
		}
		if (owned(t, &a, &b, dir))
			continue;
		if (n == cap) {
			char *more = realloc(gone, (cap = cap ? cap * 2 : 256) * ksz);

			if (!more)
				break;
			gone = more;
		}
		memcpy(gone + n++ * ksz, &key, ksz);
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, gone + i * ksz);
	free(gone);
	return n;
}

/* ---- Other zones' entries ------------------------------------------------ */

/* Is x either tuple of another zone's entry? */
static bool shadowed(const struct fo_table *t, const struct ct_tuple *x)
{
	if (!t->shadows)
		return false;
	for (const struct fo_slink *l = t->shadow[tuple_hash(t, x, 0)]; l; l = l->next)
		if (tuple_eq(&SHADOW_OF(l)->t[l->k], x))
			return true;
	return false;
}

static struct fo_shadow *shadow_find(const struct fo_table *t, const struct ct_tuple *orig,
				     __u16 zone)
{
	if (!t->shadows)
		return NULL;
	for (struct fo_slink *l = t->shadow[tuple_hash(t, orig, 0)]; l; l = l->next) {
		struct fo_shadow *s = SHADOW_OF(l);

		if (l->k == 0 && s->zone == zone && tuple_eq(&s->t[0], orig))
			return s;
	}
	return NULL;
}

static void shadow_free(struct fo_table *t, struct fo_shadow *s)
{
	for (int k = 0; k < 2; k++) {
		struct fo_slink **pp = &t->shadow[tuple_hash(t, &s->t[k], 0)];

		while (*pp && *pp != &s->link[k])
			pp = &(*pp)->next;
		if (*pp)
			*pp = s->link[k].next;
	}
	free(s);
	t->shadows--;
	if (t->clashed)
		t->recheck = true;	/* the next round offloads what it blocked */
}

static struct fo_entry **find(struct fo_table *t, const struct ct_tuple *orig, __u16 zone);

/* An installed flow whose direction is tuple x (read back from the map:
 * the key is the tuple as it arrives) leaves the fast path: x is another
 * zone's too. */
static void clash_out(struct fo_table *t, const struct ct_tuple *x)
{
	struct fo_dirs d;
	struct fo_entry e = { .orig = *x, .reply = *x }, **pp;
	struct ct_tuple orig;
	__u8 dir;

	dirs_of(t, &e, &d);
	if (bpf_map_lookup_elem(d.fd, d.ko, d.fo))
		return;
	if (x->family == AF_INET6) {
		dir = d.v6.fo.dir;
		tuple6(&orig, dir == FO_DIR_ORIG ? &d.v6.ko : &d.v6.fo.rev);
	} else {
		dir = d.v4.fo.dir;
		tuple4(&orig, dir == FO_DIR_ORIG ? &d.v4.ko : &d.v4.fo.rev);
	}
	pp = find(t, &orig, t->cfg.zone);
	if (!*pp)
		return;
	uninstall(t, *pp);
	if (!(*pp)->clash)
		t->clashed++;
	(*pp)->clash = true;
	fc_debug("offload: a flow's tuple is in conntrack zone %u and another: the stack's",
		 t->cfg.zone);
}

/* Another zone's entry, as conntrack reports it. */
static void shadow_apply(struct fo_table *t, const struct ct_entry *c)
{
	struct fo_shadow *s = shadow_find(t, &c->orig, c->zone);

	if (c->event == CT_EV_DESTROY) {
		if (s)
			shadow_free(t, s);
		return;
	}
	if (s) {
		s->marked = true;
		if (!c->has_reply || tuple_eq(&s->t[1], &c->reply))
			return;
		shadow_free(t, s);	/* its NAT changed: hashed anew */
	}
	if (!t->shadow && !(t->shadow = calloc(t->mask + 1, sizeof(*t->shadow))))
		goto nomem;
	s = calloc(1, sizeof(*s));
	if (!s)
		goto nomem;
	s->t[0] = c->orig;
	s->t[1] = c->has_reply ? c->reply : c->orig;
	s->zone = c->zone;
	s->marked = true;
	for (int k = 0; k < 2; k++) {
		struct fo_slink **head = &t->shadow[tuple_hash(t, &s->t[k], 0)];

		s->link[k].k = k;
		s->link[k].next = *head;
		*head = &s->link[k];
	}
	t->shadows++;
	for (int k = 0; k < 2; k++)
		clash_out(t, &s->t[k]);
	return;
nomem:
	/* Not knowing it could let its packets meet a flow of ours. */
	fc_warn("offload: out of memory for another conntrack zone's entry");
}

unsigned long fo_table_prune(struct fo_table *t)
{
	return prune_map(t, t->cfg.map_fd, false) + prune_map(t, t->cfg.map6_fd, true);
}

bool fo_eligible(const struct fo_table *t, const struct ct_entry *e, int tcp_state)
{
	if (!e->has_orig || !e->has_reply || !e->has_status || e->orig.proto != e->reply.proto ||
	    e->orig.family != e->reply.family)
		return false;
	if (!(e->status & IPS_ASSURED) || (e->status & (IPS_DYING | IPS_SEQ_ADJUST)) ||
	    e->has_helper)
		return false;
	if (e->has_tcp_state)
		tcp_state = e->tcp_state;
	if (e->orig.proto == IPPROTO_TCP && tcp_state != TCP_CONNTRACK_ESTABLISHED)
		return false;
	if (t->cfg.mark_filter && (e->mark & t->cfg.mark_mask) != t->cfg.mark_value)
		return false;
	return e->zone == t->cfg.zone;
}

static struct fo_entry **find(struct fo_table *t, const struct ct_tuple *orig, __u16 zone)
{
	struct fo_entry **pp = &t->bucket[tuple_hash(t, orig, zone)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->zone == zone && tuple_eq(&(*pp)->orig, orig))
			return pp;
	return pp;
}

static void drop(struct fo_table *t, struct fo_entry **pp)
{
	struct fo_entry *e = *pp;

	uninstall(t, e);
	if (e->clash)
		t->clashed--;
	*pp = e->next;
	free(e);
}

/* Offload e unless a direction of it is another zone's tuple too. */
static void try_install(struct fo_table *t, struct fo_entry *e)
{
	bool clash = shadowed(t, &e->orig) || shadowed(t, &e->reply);

	if (clash != e->clash)
		t->clashed += clash ? 1 : -1;
	e->clash = clash;
	if (!clash)
		install(t, e);
}

void fo_table_apply(struct fo_table *t, const struct ct_entry *c)
{
	struct fo_entry **pp, *e;
	int state;

	if (!c->has_orig)
		return;		/* not TCP/UDP over IPv4 or IPv6: never ours */
	if (c->zone != t->cfg.zone) {
		shadow_apply(t, c);
		return;
	}
	pp = find(t, &c->orig, c->zone);
	e = *pp;
	if (c->event == CT_EV_DESTROY) {
		if (e)
			drop(t, pp);
		return;
	}
	state = e ? e->tcp_state : -1;
	if (!fo_eligible(t, c, state)) {
		/* Closing, a NAT change, a mark that no longer matches: the
		 * stack has the flow again (and the entry is forgotten, so a
		 * later eligible state offloads it anew). */
		if (e)
			drop(t, pp);
		return;
	}
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e) {
			fc_warn("offload: out of memory: a flow stays with the stack");
			return;
		}
		e->orig = c->orig;
		e->reply = c->reply;
		e->zone = c->zone;
		e->tcp_state = -1;
		e->next = t->bucket[tuple_hash(t, &c->orig, c->zone)];
		t->bucket[tuple_hash(t, &c->orig, c->zone)] = e;
	}
	if (c->has_tcp_state)
		e->tcp_state = c->tcp_state;
	/* What conntrack holds now: the refresh rule's starting point. It
	 * says whole seconds, rounded down; the echo of our own update (up to
	 * a second under what we set) leaves our exact figure. */
	if (c->has_timeout) {
		struct timespec ts;
		__u64 ev;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ev = ts.tv_sec * NSEC + ts.tv_nsec + (__u64)c->timeout * NSEC;
		if (!(ev <= e->expires_ns && ev + NSEC > e->expires_ns))
			e->expires_ns = ev;
	}
	e->marked = true;
	if (!tuple_eq(&e->reply, &c->reply)) {
		uninstall(t, e);	/* the NAT changed: the old one must not go on */
		e->reply = c->reply;
	}
	if (!e->installed && !e->handed_back)
		try_install(t, e);
}

void fo_table_mark(struct fo_table *t)
{
	for (__u32 i = 0; i <= t->mask; i++) {
		for (struct fo_entry *e = t->bucket[i]; e; e = e->next)
			e->marked = false;
		for (struct fo_slink *l = t->shadow ? t->shadow[i] : NULL; l; l = l->next)
			SHADOW_OF(l)->marked = false;
	}
}

void fo_table_sweep(struct fo_table *t)
{
	struct fo_shadow **gone = NULL;
	size_t n = 0, cap = 0;

	for (__u32 i = 0; i <= t->mask; i++) {
		struct fo_entry **pp = &t->bucket[i];

		while (*pp) {
			if ((*pp)->marked)
				pp = &(*pp)->next;
			else
				drop(t, pp);
		}
	}
	/* Other zones' entries the dump did not name: found first (each
	 * once, at its original tuple's link), then freed. */
	for (__u32 i = 0; t->shadow && i <= t->mask; i++)
		for (struct fo_slink *l = t->shadow[i]; l; l = l->next) {
			if (l->k || SHADOW_OF(l)->marked)
				continue;
			if (n == cap) {
				struct fo_shadow **more = realloc(gone, (cap = cap ? cap * 2 : 64) *
								   sizeof(*gone));

				if (!more)
					break;
				gone = more;
			}
			gone[n++] = SHADOW_OF(l);
		}
	for (size_t i = 0; i < n; i++)
		shadow_free(t, gone[i]);
	free(gone);
}

static __u32 base_timeout(const struct fo_table *t, const struct fo_entry *e)
{
	return e->orig.proto == IPPROTO_TCP ? t->cfg.tcp_timeout : t->cfg.udp_timeout;
}

/* Queue e's update; false when out is full. */
static bool owe(const struct fo_table *t, const struct fo_entry *e, __u32 timeout, char *out,
		size_t len, size_t *off, __u32 *seq)
{
	size_t n = ct_build_update(out + *off, len - *off, ++*seq, &e->orig, e->zone, timeout,
				   e->orig.proto == IPPROTO_TCP);

	*off += n;
	return n != 0;
}

size_t fo_table_pending(struct fo_table *t, void *out, size_t len, __u32 *seq)
{
	size_t off = 0;

	/* From where a full buffer stopped the last call: a burst of new
	 * flows is sent in one pass over the table, not one per buffer. */
	for (; t->pend_cursor <= t->mask && t->owed; t->pend_cursor++)
		for (struct fo_entry *e = t->bucket[t->pend_cursor]; e; e = e->next) {
			if (!e->installed || !e->owed)
				continue;
			if (!owe(t, e, base_timeout(t, e), out, len, &off, seq))
				return off;
			e->owed = false;
			t->owed--;
		}
	t->pend_cursor = 0;
	return off;
}

/*
 * The timeout (seconds) to send an entry now, 0 for none. want is the
 * expiry the stack would have given it: its last packet plus the
 * protocol's timeout. Conntrack holds expires <= want (it was set from an
 * earlier packet); that is fine until it runs low, so the update waits
 * until less than the margin is left, then sets want from the latest
 * packet: a busy flow's entry is written once per (timeout - margin), not
 * once a second, and an idle one's expiry lands on its last packet plus
 * the timeout, rounded up to the second: never early, at most a second
 * late. Unknown expiry (0): now.
 */
__u32 fo_refresh_timeout(__u64 base_ns, __u64 last, __u64 expires, __u64 now)
{
	__u64 margin = base_ns / 2 < FO_REFRESH_MARGIN_NS ? base_ns / 2 : FO_REFRESH_MARGIN_NS;
	__u64 want = last + base_ns;

	if (!last || want <= expires)
		return 0;	/* no packet in the offload, or conntrack has it already */
	if (expires > now + margin)
		return 0;	/* not low yet: later, from a later packet */
	return want > now ? (want - now + NSEC - 1) / NSEC : 1;
}

/* A direction the scan found: to its entry (key: the packet's tuple as it
 * arrives, rev: the other direction's). */
static void note_dir(struct fo_table *t, const struct ct_tuple *key, const struct ct_tuple *rev,
		     __u8 dir, __u64 last, __u64 pkts, __u64 bytes)
{
	const struct ct_tuple *orig = dir == FO_DIR_ORIG ? key : rev;
	const struct ct_tuple *reply = dir == FO_DIR_ORIG ? rev : key;

	for (struct fo_entry *e = t->bucket[tuple_hash(t, orig, 0)]; e; e = e->next) {
		if (!e->installed || !tuple_eq(&e->orig, orig) || !tuple_eq(&e->reply, reply))
			continue;
		if (e->seen_gen != t->gen) {
			e->seen_gen = t->gen;
			e->seen_dirs = 0;
			e->seen_last = 0;
			e->seen_pkts = e->seen_bytes = 0;
		}
		e->seen_pkts += pkts;
		e->seen_bytes += bytes;
		e->seen_dirs |= 1u << (dir & 1);
		if (last > e->seen_last)
			e->seen_last = last;
		return;
	}
}

/* Read a whole map in batches (a few syscalls for thousands of flows, where
 * a lookup per direction made the refresh cost most of a CPU at 10 000
 * flows). 0, or -errno: the caller falls back to lookups per entry. */
static int scan_map(struct fo_table *t, int fd, bool v6)
{
	size_t ksz = v6 ? sizeof(struct fo_key6) : sizeof(struct fo_key4);
	size_t vsz = v6 ? sizeof(struct fo_flow6) : sizeof(struct fo_flow4);
	__u64 tok_in[8], tok_out[8];	/* the batch position (a bucket for a hash) */
	void *in = NULL;

	for (;;) {
		__u32 n = FO_BATCH;
		int err = 0;

		if (bpf_map_lookup_batch(fd, in, tok_out, t->bkeys, t->bvals, &n, NULL))
			err = errno;
		if (err && err != ENOENT)
			return -err;
		for (__u32 i = 0; i < n; i++) {
			const void *k = (char *)t->bkeys + i * ksz, *v = (char *)t->bvals + i * vsz;
			struct ct_tuple a, b;

			if (v6) {
				const struct fo_flow6 *f = v;

				tuple6(&a, k);
				tuple6(&b, &f->rev);
				note_dir(t, &a, &b, f->dir, f->last_seen_ns, f->packets, f->bytes);
			} else {
				const struct fo_flow4 *f = v;

				tuple4(&a, k);
				tuple4(&b, &f->rev);
				note_dir(t, &a, &b, f->dir, f->last_seen_ns, f->packets, f->bytes);
			}
		}
		if (err == ENOENT)
			return 0;	/* the end */
		memcpy(tok_in, tok_out, sizeof(tok_in));
		in = tok_in;
	}
}

/* Once per round: both directions' last packet of every flow. A map
 * that cannot be read in batches (a kernel without it, a partial read)
 * leaves the round to per-entry lookups. */
static void scan(struct fo_table *t)
{
	int r;

	t->gen++;
	t->scanned = false;
	if (t->no_batch || t->cfg.map_fd < 0)
		return;
	r = scan_map(t, t->cfg.map_fd, false);
	if (!r && t->cfg.map6_fd >= 0)
		r = scan_map(t, t->cfg.map6_fd, true);
	if (r == -EINVAL || r == -EOPNOTSUPP || r == -524 /* ENOTSUPP */)
		t->no_batch = true;
	t->scanned = !r;
}

/*
 * Seconds between rounds. Reading every direction costs about a second of
 * CPU per two million (the batch copy and a table lookup each, profiled at
 * 200 000 flows), so past 100 000 flows the rounds thin out, to at most a
 * third of the smallest margin: an entry's expiry can then not pass
 * between two rounds once it is within the margin, and an idle flow's
 * last packet is as old as it will get when its last update is written.
 * FIN/RST hand-backs are noticed as late (the datapath has let them go
 * at once; conntrack's close event drops them sooner).
 */
static __u64 round_every(const struct fo_table *t)
{
	__u32 tmin = t->cfg.tcp_timeout < t->cfg.udp_timeout ? t->cfg.tcp_timeout
							     : t->cfg.udp_timeout;
	__u64 margin = tmin / 2 < FO_REFRESH_MARGIN_NS / NSEC ? tmin / 2
							       : FO_REFRESH_MARGIN_NS / NSEC;
	__u64 k = t->offloaded / 100000 + 1, cap = margin / 3 ? margin / 3 : 1;

	return (k < cap ? k : cap) * NSEC;
}

size_t fo_table_tick(struct fo_table *t, __u64 now_ns, void *out, size_t len, __u32 *seq)
{
	size_t off = 0;

	if (!t->in_round) {
		if (now_ns < t->next_round)
			return 0;
		t->next_round = now_ns + round_every(t) - NSEC / 10;	/* the tick's jitter */
		scan(t);
		t->in_round = true;
		t->rechecking = t->recheck;
		t->recheck = false;
		t->sum_pkts = t->sum_bytes = 0;
		t->cursor = 0;
	}
	for (; t->cursor <= t->mask; t->cursor++)
		for (struct fo_entry *e = t->bucket[t->cursor]; e; e = e->next) {
			__u64 last;
			__u32 timeout;
			bool gone;

			if (e->clash && t->rechecking) {
				/* Another zone's entry left. Written after this
				 * round's scan: not looked at before the next. */
				try_install(t, e);
				continue;
			}
			if (!e->installed)
				continue;
			if (t->scanned) {
				gone = e->seen_gen != t->gen || e->seen_dirs != 3;
				last = e->seen_last;
				if (!gone) {
					e->pkts = e->seen_pkts;
					e->bytes = e->seen_bytes;
					t->sum_pkts += e->pkts;
					t->sum_bytes += e->bytes;
				}
			} else {
				gone = last_seen(t, e, &last) != 0;
			}
			if (gone) {
				/* The datapath saw FIN or RST: conntrack
				 * follows the close from here on. */
				uninstall(t, e);
				e->handed_back = true;
				t->handed_back++;
				continue;
			}
			timeout = fo_refresh_timeout((__u64)base_timeout(t, e) * NSEC, last,
						     e->expires_ns, now_ns);
			if (!timeout)
				continue;
			/* Full: the next call goes on from this bucket (the
			 * entries done in it are skipped: expiry set). */
			if (!owe(t, e, timeout, out, len, &off, seq))
				return off;
			e->expires_ns = now_ns + (__u64)timeout * NSEC;
		}
	t->in_round = false;
	if (t->scanned) {
		t->live_pkts = t->sum_pkts;
		t->live_bytes = t->sum_bytes;
	}
	return off;
}

bool fo_table_ticking(const struct fo_table *t)
{
	return t->in_round;
}

unsigned long fo_table_offloaded(const struct fo_table *t)
{
	return t->offloaded;
}

unsigned long fo_table_handed_back(const struct fo_table *t)
{
	return t->handed_back;
}

void fo_table_fast_path(const struct fo_table *t, __u64 *pkts, __u64 *bytes)
{
	*pkts = t->gone_pkts + t->live_pkts;
	*bytes = t->gone_bytes + t->live_bytes;
}

unsigned long fo_table_zone_clashes(const struct fo_table *t)
{
	return t->clashed;
}
