// SPDX-License-Identifier: GPL-2.0
/*
 * One sweep walks the sessions, then the mappings, in batches
 * (BPF_MAP_LOOKUP_BATCH). The datapath keeps writing meanwhile, so every
 * deletion re-reads its entry first and gives up if a packet revived it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "gc.h"
#include "log.h"

#define GC_BATCH 1024

__u64 gc_now_ns(void)
{
	struct timespec ts;

	/* The datapath's clock, fc_now(): bpf_ktime_get_coarse_ns(). */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int gc_binding_write(int fd, const struct fc_endpoint_key *k, struct fc_binding *v, __u64 flags)
{
	/* Read back from the map, the hop may be half of a datapath write. */
	memset(&v->hop, 0, sizeof(v->hop));
	return bpf_map_update_elem(fd, k, v, flags);
}

void gc_init(struct gc_state *g)
{
	epset_init(&g->live);
	epset_init(&g->orphans);
	epset_init(&g->orphans_next);
	g->on_delete = NULL;
	g->on_delete_ctx = NULL;
	g->release_fd = -1;
	g->subscribers_fd = -1;
	epset_init(&g->idle_subscribers);
	epset_init(&g->idle_next);
	g->blocks_fd = -1;
	g->block_free_fd = -1;
	epset_init(&g->blocks_used);
}

void gc_free(struct gc_state *g)
{
	epset_free(&g->live);
	epset_free(&g->orphans);
	epset_free(&g->orphans_next);
	epset_free(&g->idle_subscribers);
	epset_free(&g->idle_next);
	epset_free(&g->blocks_used);
}

long gc_release(int release_fd, __u8 family, const union fc_addr *addr, __u8 proto, int delta)
{
	struct fc_release_args a = { .proto = proto, .delta = delta };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &a, .ctx_size_in = sizeof(a));

	a.key.family = family;
	a.key.addr = *addr;
	/* A syscall program: its context is copied back to ctx_in. */
	if (bpf_prog_test_run_opts(release_fd, &opts))
		return -errno;
	if (opts.retval == (__u32)-2)
		return -EAGAIN;	/* lost every compare-and-swap to the datapath */
	if (opts.retval)
		return -ENOENT;
	return a.result;
}

/* A deleted mapping's count goes back to its subscriber. */
static void release_mapping(int release_fd, const struct fc_endpoint_key *k,
			    const struct fc_binding *v)
{
	long left;

	if (release_fd < 0 || !(v->flags & FC_BINDING_COUNTED))
		return;
	for (int tries = 0; tries < 4; tries++) {
		left = gc_release(release_fd, k->family, &k->addr, k->proto, -1);
		if (left != -EAGAIN)
			break;
	}
	if (left < 0 && left != -ENOENT)
		fc_warn("releasing a subscriber's mapping count: %s", strerror((int)-left));
}

int map_walk(int fd, size_t ksz, size_t vsz, map_walk_fn fn, void *ctx)
{
	char keys[GC_BATCH * sizeof(struct fc_session_key)];
	char values[GC_BATCH * sizeof(struct fc_binding)];
	__u32 in_batch, out_batch, count;
	void *in = NULL;
	int err;

	/* Larger values (subscriber entries) come in smaller batches. */
	__u32 batch = sizeof(values) / vsz < GC_BATCH ? sizeof(values) / vsz : GC_BATCH;

	if (ksz > sizeof(struct fc_session_key) || !vsz || vsz > sizeof(values))
		return -EINVAL;
	do {
		count = batch;
		err = bpf_map_lookup_batch(fd, in, &out_batch, keys, values, &count, NULL);
		if (err && errno != ENOENT)
			return -errno;
		for (__u32 i = 0; i < count; i++) {
			int ret = fn(ctx, keys + i * ksz, values + i * vsz);

			if (ret)
				return ret;
		}
		in_batch = out_batch;
		in = &in_batch;
	} while (!err);
	return 0;
}

struct sweep {
	struct gc_state *g;
	int bindings_fd;
	int sessions_fd;
	const struct fc_config *cfg;
	__u64 now;
	struct gc_result *res;
};

void gc_endpoint_key4(struct fc_endpoint_key *k, __u8 side, __u8 proto, __be32 addr,
		      __u16 port)
{
	memset(k, 0, sizeof(*k));
	k->side = side;
	k->family = FC_AF_INET;
	/* An IPv4 internal endpoint is only ever mapped into IPv4 (NAT44). */
	if (side == FC_SIDE_INTERNAL)
		k->ext_family = FC_AF_INET;
	k->proto = proto;
	k->addr.v4 = addr;
	k->port = htons(port);
}

static int sweep_session(void *ctx, const void *key, const void *value)
{
	struct sweep *s = ctx;
	const struct fc_session_key *k = key;
	const struct fc_session *v = value;
	struct fc_endpoint_key ek;
	struct fc_session fresh;

	if (v->expires_ns > s->now) {
		s->res->sessions_live++;
		fc_ext_endpoint_key(&ek, k->family, k->proto, &k->ext_addr, k->ext_port);
		return epset_put_max(&s->g->live, &ek, v->expires_ns);
	}
	/* Expired when copied out; a packet may have revived it since. */
	if (bpf_map_lookup_elem(s->sessions_fd, k, &fresh) == 0 && fresh.expires_ns <= s->now &&
	    bpf_map_delete_elem(s->sessions_fd, k) == 0)
		s->res->sessions_expired++;
	return 0;
}

/* The (address, block) key of the sweeper's set of used blocks. */
static void block_set_key(struct fc_endpoint_key *e, __be32 addr, __u32 index)
{
	memset(e, 0, sizeof(*e));
	e->side = 0xfe;
	e->family = FC_AF_INET;
	e->port = (__be16)index;
	e->addr.v4 = addr;
}

/* A live mapping on external endpoint k: its block (if any) is in use.
 * (Noted from the internal side, which decides whether a mapping lives; a
 * half-made one fc_block_free finds by itself.) */
static int note_block_used(struct sweep *s, const struct fc_endpoint_key *k)
{
	struct fc_endpoint_key e;
	__u16 port = ntohs(k->port), first = s->cfg->ports[FC_SUB_TCP].r[0].first;

	if (!(s->cfg->flags & FC_CFG_PORT_BLOCKS) || s->g->blocks_fd < 0 ||
	    k->family != FC_AF_INET || !s->cfg->block_size || port < first)
		return 0;
	block_set_key(&e, k->addr.v4, (port - first) / s->cfg->block_size);
	return epset_put_max(&s->g->blocks_used, &e, 1);
}

static void sweep_internal(struct sweep *s, const struct fc_endpoint_key *k,
			   const struct fc_binding *v)
{
	struct fc_endpoint_key ek;
	struct fc_binding fresh, back;
	__u64 until;

	/* The value's family is the external address's (NAT64 maps IPv6
	 * endpoints to IPv4 ones). */
	fc_ext_endpoint_key(&ek, v->family, k->proto, &v->addr, v->port);
	if (epset_get(&s->g->live, &ek, &until)) {
		/* Sessions keep it alive: publish their latest expiry, so the
		 * datapath admits new remotes (EIF) for as long as that. */
		s->res->mappings_live++;
		note_block_used(s, &ek);
		if (until != v->sessions_until_ns &&
		    bpf_map_lookup_elem(s->bindings_fd, k, &fresh) == 0) {
			fresh.sessions_until_ns = until;
			gc_binding_write(s->bindings_fd, k, &fresh, BPF_EXIST);
		}
		return;
	}
	if (fc_mapping_alive(s->cfg, k->proto, v, s->now)) {
		s->res->mappings_live++;
		note_block_used(s, &ek);
		return;
	}
	if (bpf_map_lookup_elem(s->bindings_fd, k, &fresh) ||
	    fc_mapping_alive(s->cfg, k->proto, &fresh, s->now)) {
		s->res->mappings_live++;
		note_block_used(s, &ek);
		return;
	}
	/* Internal side first, so no new packet finds the mapping; then
	 * the external side, which frees the port. */
	if (bpf_map_delete_elem(s->bindings_fd, k))
		return;
	if (bpf_map_lookup_elem(s->bindings_fd, &ek, &back) == 0 && back.family == k->family &&
	    back.port == k->port && !memcmp(&back.addr, &k->addr, sizeof(back.addr)))
		bpf_map_delete_elem(s->bindings_fd, &ek);
	release_mapping(s->g->release_fd, k, &fresh);
	s->res->mappings_expired++;
	if (s->g->on_delete)
		s->g->on_delete(s->g->on_delete_ctx, k, &fresh);
}

long gc_block_free(int block_free_fd, const struct fc_block_key *key, __u64 now_ns)
{
	struct fc_block_free_args a = { .key = *key, .now_ns = now_ns };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &a, .ctx_size_in = sizeof(a));

	if (bpf_prog_test_run_opts(block_free_fd, &opts))
		return -errno;
	return a.result;
}

/* A block no mapping used in this sweep's walk: fc_block_free checks
 * again, port by port, and frees it (and reports it) if that holds. */
static int sweep_block(void *ctx, const void *key, const void *value)
{
	struct sweep *s = ctx;
	const struct fc_block_key *k = key;
	struct fc_endpoint_key e;
	__u64 seen;
	long r;

	block_set_key(&e, k->ext_addr4, k->index);
	if (epset_get(&s->g->blocks_used, &e, &seen)) {
		s->res->blocks_live++;
		return 0;
	}
	r = gc_block_free(s->g->block_free_fd, k, s->now);
	if (r == FC_BLOCK_FREED)
		s->res->blocks_freed++;
	else if (r != FC_BLOCK_GONE)
		s->res->blocks_live++;
	if (r < 0)
		fc_warn("freeing a port block: %s", strerror((int)-r));
	return 0;
}

/* An external entry must have an internal twin that points back at it.
 * Creation makes the external one first, so a lone one is only an orphan
 * if it is still alone one sweep later. */
static int sweep_external(struct sweep *s, const struct fc_endpoint_key *k,
			  const struct fc_binding *v)
{
	struct fc_endpoint_key ik;
	struct fc_binding twin;
	__u64 seen;

	/* The internal endpoint's family; its mapping in this port space. */
	fc_int_endpoint_key(&ik, v->family, k->family, k->proto, &v->addr, v->port);
	if (bpf_map_lookup_elem(s->bindings_fd, &ik, &twin) == 0 &&
	    twin.port == k->port && !memcmp(&twin.addr, &k->addr, sizeof(twin.addr)))
		return 0;
	if (epset_get(&s->g->orphans, k, &seen)) {
		if (bpf_map_delete_elem(s->bindings_fd, k) == 0)
			s->res->orphans_removed++;
		return 0;
	}
	return epset_put_max(&s->g->orphans_next, k, 1);
}

static int sweep_binding(void *ctx, const void *key, const void *value)
{
	struct sweep *s = ctx;
	const struct fc_endpoint_key *k = key;

	if (k->side == FC_SIDE_INTERNAL) {
		sweep_internal(s, k, value);
		return 0;
	}
	return sweep_external(s, k, value);
}

/* The subscriber key, in the sweeper's endpoint-set key. */
static void idle_key(struct fc_endpoint_key *e, const struct fc_subscriber_key *k)
{
	memset(e, 0, sizeof(*e));
	e->side = 0xff;
	e->family = k->family;
	e->addr = k->addr;
}

/* An entry without mappings goes when it had none at the last sweep as
 * well: one just made for a first mapping has its count at once, and a
 * subscriber that comes back later gets the same paired address anyway
 * (it is a hash of its address). */
static int sweep_subscriber(void *ctx, const void *key, const void *value)
{
	struct sweep *s = ctx;
	const struct fc_subscriber_key *k = key;
	const struct fc_subscriber *v = value;
	struct fc_endpoint_key e;
	struct fc_subscriber fresh;
	__u64 seen;

	if (v->mappings[FC_SUB_TCP] || v->mappings[FC_SUB_UDP] || v->mappings[FC_SUB_ICMP] ||
	    v->port_blocks) {
		s->res->subscribers_live++;
		return 0;
	}
	idle_key(&e, k);
	if (!epset_get(&s->g->idle_subscribers, &e, &seen))
		return epset_put_max(&s->g->idle_next, &e, 1);
	if (bpf_map_lookup_elem(s->g->subscribers_fd, k, &fresh) == 0 &&
	    !fresh.mappings[FC_SUB_TCP] && !fresh.mappings[FC_SUB_UDP] &&
	    !fresh.mappings[FC_SUB_ICMP] && !fresh.port_blocks && bpf_map_delete_elem(s->g->subscribers_fd, k) == 0)
		s->res->subscribers_removed++;
	return 0;
}

int gc_sweep(struct gc_state *g, int bindings_fd, int sessions_fd,
	     const struct fc_config *cfg, __u64 now_ns, struct gc_result *res)
{
	struct sweep s = {
		.g = g, .bindings_fd = bindings_fd, .sessions_fd = sessions_fd,
		.cfg = cfg, .now = now_ns, .res = res,
	};
	struct epset tmp;
	int err;

	memset(res, 0, sizeof(*res));
	epset_clear(&g->live);
	epset_clear(&g->orphans_next);
	epset_clear(&g->blocks_used);
	err = map_walk(sessions_fd, sizeof(struct fc_session_key), sizeof(struct fc_session),
		       sweep_session, &s);
	if (!err)
		err = map_walk(bindings_fd, sizeof(struct fc_endpoint_key),
			       sizeof(struct fc_binding), sweep_binding, &s);
	if (!err && g->blocks_fd >= 0 && g->block_free_fd >= 0 &&
	    (cfg->flags & FC_CFG_PORT_BLOCKS))
		err = map_walk(g->blocks_fd, sizeof(struct fc_block_key), sizeof(struct fc_block),
			       sweep_block, &s);
	if (!err && g->subscribers_fd >= 0) {
		epset_clear(&g->idle_next);
		err = map_walk(g->subscribers_fd, sizeof(struct fc_subscriber_key),
			       sizeof(struct fc_subscriber), sweep_subscriber, &s);
		tmp = g->idle_subscribers;
		g->idle_subscribers = g->idle_next;
		g->idle_next = tmp;
	}
	if (err)
		return err;
	tmp = g->orphans;
	g->orphans = g->orphans_next;
	g->orphans_next = tmp;
	return 0;
}

/* ---- flushing a vanished external address -------------------------------- */

struct flush {
	int bindings_fd;
	int sessions_fd;
	int release_fd;
	__u8 family;
	union fc_addr addr;
	struct gc_flush_result *res;
};

static int flush_session(void *ctx, const void *key, const void *value)
{
	struct flush *f = ctx;
	const struct fc_session_key *k = key;

	if (k->family == f->family && !memcmp(&k->ext_addr, &f->addr, sizeof(f->addr)) &&
	    bpf_map_delete_elem(f->sessions_fd, k) == 0)
		f->res->sessions++;
	return 0;
}

static int flush_binding(void *ctx, const void *key, const void *value)
{
	struct flush *f = ctx;
	const struct fc_endpoint_key *k = key;
	const struct fc_binding *v = value;

	if (k->side == FC_SIDE_INTERNAL) {
		/* Its external twin is met (or was met) in the same walk. The
		 * value names the external side, in its own family (NAT64:
		 * not the key's). */
		if (v->family == f->family && !memcmp(&v->addr, &f->addr, sizeof(f->addr)) &&
		    bpf_map_delete_elem(f->bindings_fd, k) == 0) {
			release_mapping(f->release_fd, k, v);
			f->res->mappings++;
		}
	} else if (k->family == f->family && !memcmp(&k->addr, &f->addr, sizeof(f->addr))) {
		bpf_map_delete_elem(f->bindings_fd, k);
	}
	return 0;
}

int gc_flush_addr(int bindings_fd, int sessions_fd, int release_fd, __u8 family,
		  const union fc_addr *addr, struct gc_flush_result *res)
{
	struct flush f = {
		.bindings_fd = bindings_fd, .sessions_fd = sessions_fd, .release_fd = release_fd,
		.family = family, .addr = *addr, .res = res,
	};
	int err;

	memset(res, 0, sizeof(*res));
	err = map_walk(sessions_fd, sizeof(struct fc_session_key), sizeof(struct fc_session),
		       flush_session, &f);
	if (!err)
		err = map_walk(bindings_fd, sizeof(struct fc_endpoint_key),
			       sizeof(struct fc_binding), flush_binding, &f);
	return err;
}
