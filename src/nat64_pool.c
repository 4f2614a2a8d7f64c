// SPDX-License-Identifier: GPL-2.0
/*
 * NAT64 address mapping, user space's half (doc/design/nat64.md, "Address
 * mapping"): the options, the static entries and allowed prefixes written
 * into the maps the datapath reads (bpf/lib/nat64_pool.h), the sweeper of
 * idle dynamic mappings, and the walk `show` lists them with.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include <fcnat/types.h>
#include "fcnat_tc.skel.h"
#include "gc.h"
#include "loader.h"
#include "log.h"
#include "nat64_pool.h"
#include "prefix.h"

void nat64_pool_defaults(struct fc_nat64_pool_opts *p)
{
	memset(p, 0, sizeof(*p));
	p->timeout_s = FC_NAT64_POOL_TIMEOUT_DEFAULT;
}

bool nat64_pool_on(const struct fc_nat64_pool_opts *p)
{
	return p->pool_set || p->nr_static || p->nr_allow;
}

bool nat64_pool_allows(const struct fc_nat64_pool_opts *p, const __u8 v6[16])
{
	if (!p->nr_allow)
		return true;
	for (unsigned int i = 0; i < p->nr_allow; i++)
		if (prefix_match(v6, p->allow[i].addr, p->allow[i].len))
			return true;
	return false;
}

bool nat64_pool_is_static(const struct fc_nat64_pool_opts *p, const __u8 v6[16])
{
	for (unsigned int i = 0; i < p->nr_static; i++)
		if (!memcmp(p->statics[i].v6, v6, 16))
			return true;
	return false;
}

const char *nat64_pool_not_port_mapped(const struct fc_nat64_pool_opts *p, const __u8 v6[16])
{
	/* With a pool every IPv6 host is address-mapped, never port-mapped;
	 * a --nat64-static host is address-mapped too. */
	if (p->pool_set)
		return "an IPv6 server is not port-mapped with --nat64-pool4 (publish it "
		       "with --nat64-static)";
	if (nat64_pool_is_static(p, v6))
		return "the IPv6 server is already published by --nat64-static";
	if (!nat64_pool_allows(p, v6))
		return "the IPv6 server is outside --nat64-allow";
	return NULL;
}

/* "ADDR/LEN" or "ADDR" (the whole length); host bits must be zero. */
static int parse_prefix(int af, const char *spec, void *addr, unsigned int *len)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned int max = af == AF_INET ? 32 : 128;
	unsigned long l = max;
	__u8 *b = addr;

	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf))
		return -1;
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		errno = 0;
		l = strtoul(slash, &end, 10);
		if (!*slash || *end || errno || l > max)
			return -1;
	}
	if (inet_pton(af, buf, addr) != 1)
		return -1;
	for (unsigned int i = l; i < max; i++)
		if (b[i / 8] & (0x80 >> (i % 8)))
			return -1;
	*len = (unsigned int)l;
	return 0;
}

static int add_allow(struct fc_nat64_pool_opts *p, const char *tok, char *err, size_t errlen)
{
	struct fc_nat64_prefix6 a = {};

	if (parse_prefix(AF_INET6, tok, a.addr, &a.len)) {
		snprintf(err, errlen, "--nat64-allow: invalid IPv6 prefix '%s' (ADDR/LEN, host "
			 "bits zero)", tok);
		return -1;
	}
	if (p->nr_allow >= FC_NAT64_ALLOW_MAX) {
		snprintf(err, errlen, "--nat64-allow: more than %d prefixes", FC_NAT64_ALLOW_MAX);
		return -1;
	}
	p->allow[p->nr_allow++] = a;
	return 0;
}

static int add_static(struct fc_nat64_pool_opts *p, const char *tok, char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + INET_ADDRSTRLEN + 2], *eq;
	struct fc_nat64_static s = {};

	snprintf(buf, sizeof(buf), "%s", tok);
	eq = strchr(buf, '=');
	if (eq)
		*eq++ = '\0';
	if (!eq || inet_pton(AF_INET6, buf, s.v6) != 1 || inet_pton(AF_INET, eq, &s.v4) != 1 ||
	    !s.v4) {
		snprintf(err, errlen, "--nat64-static: invalid entry '%s' (IPV6=IPV4)", tok);
		return -1;
	}
	if (p->nr_static >= FC_NAT64_STATIC_MAX) {
		snprintf(err, errlen, "--nat64-static: more than %d entries", FC_NAT64_STATIC_MAX);
		return -1;
	}
	p->statics[p->nr_static++] = s;
	return 0;
}

int nat64_pool_option(struct fc_nat64_pool_opts *p, enum fc_nat64_pool_opt which,
		      const char *value, char *err, size_t errlen)
{
	char buf[4096], *tok, *save, *end;
	unsigned long v;

	switch (which) {
	case FC_NAT64_OPT_POOL4:
		if (parse_prefix(AF_INET, value, &p->pool4, &p->pool4_len) ||
		    p->pool4_len < FC_NAT64_POOL_MIN_LEN || !p->pool4) {
			snprintf(err, errlen, "--nat64-pool4: invalid IPv4 prefix '%s' (ADDR/LEN, "
				 "LEN %d to 32, host bits zero)", value, FC_NAT64_POOL_MIN_LEN);
			return -1;
		}
		p->pool_set = true;
		return 0;
	case FC_NAT64_OPT_TIMEOUT:
		errno = 0;
		v = strtoul(value, &end, 10);
		if (!*value || *end || errno || v < 1 || v > 7 * 86400) {
			snprintf(err, errlen, "--nat64-pool4-timeout: invalid seconds '%s' (1 to "
				 "604800)", value);
			return -1;
		}
		p->timeout_s = (unsigned int)v;
		return 0;
	case FC_NAT64_OPT_ALLOW:
	case FC_NAT64_OPT_STATIC:
		snprintf(buf, sizeof(buf), "%s", value);
		for (tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save))
			if ((which == FC_NAT64_OPT_ALLOW ? add_allow : add_static)(p, tok, err, errlen))
				return -1;
		return 0;
	}
	snprintf(err, errlen, "unknown NAT64 address-mapping option");
	return -1;
}

int nat64_pool_check(const struct fc_nat64_pool_opts *p, bool nat64, char *err, size_t errlen)
{
	if (nat64_pool_on(p) && !nat64) {
		snprintf(err, errlen, "--nat64-pool4, --nat64-allow and --nat64-static need --nat64");
		return -1;
	}
	for (unsigned int i = 0; i < p->nr_static; i++) {
		for (unsigned int j = 0; j < i; j++) {
			if (!memcmp(p->statics[i].v6, p->statics[j].v6, 16) ||
			    p->statics[i].v4 == p->statics[j].v4) {
				char a[INET_ADDRSTRLEN];

				inet_ntop(AF_INET, &p->statics[i].v4, a, sizeof(a));
				snprintf(err, errlen, "--nat64-static: entry %u (%s) repeats an "
					 "address of entry %u", i + 1, a, j + 1);
				return -1;
			}
		}
	}
	return 0;
}

void nat64_pool_fill_config(const struct fc_nat64_pool_opts *p, struct fc_config *cfg)
{
	if (p->pool_set || p->nr_static)
		cfg->flags |= FC_CFG_NAT64_ADDRMAP;
	if (p->pool_set) {
		cfg->flags |= FC_CFG_NAT64_POOL4;
		cfg->nat64_pool4 = p->pool4;
		cfg->nat64_pool4_len = p->pool4_len;
	}
	if (p->nr_allow)
		cfg->flags |= FC_CFG_NAT64_ALLOW;
	cfg->nat64_pool_timeout_ns = (__u64)p->timeout_s * 1000000000ULL;
}

static bool in_pool(const struct fc_config *cfg, __be32 v4)
{
	__u32 len = cfg->nat64_pool4_len;

	if (!(cfg->flags & FC_CFG_NAT64_POOL4) || len < FC_NAT64_POOL_MIN_LEN || len > 32)
		return false;
	return !((ntohl(v4) ^ ntohl(cfg->nat64_pool4)) >> (32 - len));
}

/* ---- the static entries and the allowed prefixes ------------------------- */

static const struct fc_nat64_static *static_of_v6(const struct fc_nat64_pool_opts *p,
						 const __u8 v6[16])
{
	for (unsigned int i = 0; i < p->nr_static; i++)
		if (!memcmp(p->statics[i].v6, v6, 16))
			return &p->statics[i];
	return NULL;
}

/* Keys of a map, gathered before any is deleted (a walk that deletes as
 * it goes loses its place). */
struct keys {
	void *v;
	size_t n, cap, ksz;
};

static int keys_add(struct keys *k, const void *key)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		void *v = realloc(k->v, cap * k->ksz);

		if (!v)
			return -ENOMEM;
		k->v = v;
		k->cap = cap;
	}
	memcpy((char *)k->v + k->n++ * k->ksz, key, k->ksz);
	return 0;
}

struct stale {
	const struct fc_nat64_pool_opts *p;
	struct keys out, in;
};

/* A static entry no longer configured, or one whose address changed. */
static int stale_out(void *ctx, const void *key, const void *value)
{
	struct stale *s = ctx;
	const struct fc_nat64_map *m = value;
	const struct fc_nat64_static *st = static_of_v6(s->p, key);

	if ((m->flags & FC_NAT64_MAP_STATIC) && (!st || st->v4 != m->peer.v4))
		return keys_add(&s->out, key);
	return 0;
}

static int stale_in(void *ctx, const void *key, const void *value)
{
	struct stale *s = ctx;
	const struct fc_nat64_map *m = value;
	const struct fc_nat64_static *st = static_of_v6(s->p, m->peer.v6);
	__be32 v4;

	memcpy(&v4, key, sizeof(v4));
	if ((m->flags & FC_NAT64_MAP_STATIC) && (!st || st->v4 != v4))
		return keys_add(&s->in, key);
	return 0;
}

static int write_static(int out_fd, int in_fd, const struct fc_nat64_static *st)
{
	struct fc_nat64_map v = { .flags = FC_NAT64_MAP_STATIC }, old;
	union fc_addr host = {};
	__be32 v4 = st->v4;

	memcpy(host.v6, st->v6, 16);
	/* A dynamic mapping either side had goes: the host keeps one address,
	 * the address one host. */
	if (!bpf_map_lookup_elem(out_fd, &host, &old) && old.peer.v4 != v4)
		bpf_map_delete_elem(in_fd, &old.peer.v4);
	if (!bpf_map_lookup_elem(in_fd, &v4, &old) && memcmp(old.peer.v6, host.v6, 16))
		bpf_map_delete_elem(out_fd, &old.peer);
	v.peer.v4 = v4;
	if (bpf_map_update_elem(out_fd, &host, &v, BPF_ANY))
		return -errno;
	memset(&v.peer, 0, sizeof(v.peer));
	memcpy(v.peer.v6, st->v6, 16);
	if (bpf_map_update_elem(in_fd, &v4, &v, BPF_ANY))
		return -errno;
	return 0;
}

static void allow_key(struct fc_nat64_allow_key *k, const __u8 addr[16], unsigned int len)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = len;
	memcpy(k->addr, addr, 16);
}

static bool allow_wanted(const struct fc_nat64_pool_opts *p, const struct fc_nat64_allow_key *k)
{
	struct fc_nat64_allow_key w;

	for (unsigned int i = 0; i < p->nr_allow + p->nr_static; i++) {
		if (i < p->nr_allow)
			allow_key(&w, p->allow[i].addr, p->allow[i].len);
		else
			allow_key(&w, p->statics[i - p->nr_allow].v6, 128);
		if (!memcmp(&w, k, sizeof(w)))
			return true;
	}
	return false;
}

int nat64_pool_write(int out_fd, int in_fd, int allow_fd, const struct fc_nat64_pool_opts *p)
{
	struct stale s = { .p = p, .out = { .ksz = sizeof(union fc_addr) },
			   .in = { .ksz = sizeof(__be32) } };
	struct fc_nat64_allow_key k, next;
	void *prev = NULL;
	__u8 one = 1;
	int err;

	for (unsigned int i = 0; i < p->nr_static; i++) {
		err = write_static(out_fd, in_fd, &p->statics[i]);
		if (err)
			return err;
	}
	/* The allowed prefixes, and every static host: configured by address,
	 * it is meant to be translated. */
	for (unsigned int i = 0; p->nr_allow && i < p->nr_allow + p->nr_static; i++) {
		if (i < p->nr_allow)
			allow_key(&k, p->allow[i].addr, p->allow[i].len);
		else
			allow_key(&k, p->statics[i - p->nr_allow].v6, 128);
		if (bpf_map_update_elem(allow_fd, &k, &one, BPF_ANY))
			return -errno;
	}
	/* What a kept state or the configuration before a reload left. */
	while (bpf_map_get_next_key(allow_fd, prev, &next) == 0) {
		if ((!p->nr_allow || !allow_wanted(p, &next)) &&
		    bpf_map_delete_elem(allow_fd, &next) == 0) {
			prev = NULL;
			continue;
		}
		k = next;
		prev = &k;
	}
	err = map_walk(out_fd, sizeof(union fc_addr), sizeof(struct fc_nat64_map), stale_out, &s);
	if (!err)
		err = map_walk(in_fd, sizeof(__be32), sizeof(struct fc_nat64_map), stale_in, &s);
	for (size_t i = 0; !err && i < s.out.n; i++)
		bpf_map_delete_elem(out_fd, (char *)s.out.v + i * s.out.ksz);
	for (size_t i = 0; !err && i < s.in.n; i++)
		bpf_map_delete_elem(in_fd, (char *)s.in.v + i * s.in.ksz);
	free(s.out.v);
	free(s.in.v);
	return err;
}

/* ---- expiry and listing --------------------------------------------------- */

struct walk {
	int out_fd, in_fd;
	const struct fc_config *cfg;
	__u64 now;
	struct keys dead_out, dead_in;
	unsigned long live;
	nat64_pool_row_fn fn;
	void *ctx;
};

/* When a dynamic mapping ends: its last use either way, plus the timeout. */
static __u64 expiry_of(const struct walk *w, const struct fc_nat64_map *out, __be32 v4)
{
	struct fc_nat64_map in;
	__u64 seen = out->seen_ns;

	if (!bpf_map_lookup_elem(w->in_fd, &v4, &in) && in.seen_ns > seen)
		seen = in.seen_ns;
	return seen + w->cfg->nat64_pool_timeout_ns;
}

static int sweep_out(void *ctx, const void *key, const void *value)
{
	struct walk *w = ctx;
	const struct fc_nat64_map *m = value;

	if (m->flags & FC_NAT64_MAP_STATIC) {
		w->live++;
		return 0;
	}
	if (expiry_of(w, m, m->peer.v4) > w->now && in_pool(w->cfg, m->peer.v4)) {
		w->live++;
		return 0;
	}
	return keys_add(&w->dead_out, key) ?: keys_add(&w->dead_in, &m->peer.v4);
}

/* An address claimed whose host entry is missing (a sweep interrupted, or
 * an allocation lost its race and is being undone): gone once idle. */
static int sweep_orphan(void *ctx, const void *key, const void *value)
{
	struct walk *w = ctx;
	const struct fc_nat64_map *m = value;
	struct fc_nat64_map out;
	__be32 v4;

	memcpy(&v4, key, sizeof(v4));
	if (m->flags & FC_NAT64_MAP_STATIC)
		return 0;
	if (!bpf_map_lookup_elem(w->out_fd, &m->peer, &out) && out.peer.v4 == v4)
		return 0;
	if (m->seen_ns + w->cfg->nat64_pool_timeout_ns > w->now)
		return 0;
	return keys_add(&w->dead_in, &v4);
}

int nat64_pool_sweep(int out_fd, int in_fd, const struct fc_config *cfg, __u64 now_ns,
		     struct nat64_pool_sweep_result *res)
{
	struct walk w = { .out_fd = out_fd, .in_fd = in_fd, .cfg = cfg, .now = now_ns,
			  .dead_out = { .ksz = sizeof(union fc_addr) },
			  .dead_in = { .ksz = sizeof(__be32) } };
	int err;

	memset(res, 0, sizeof(*res));
	err = map_walk(out_fd, sizeof(union fc_addr), sizeof(struct fc_nat64_map), sweep_out, &w);
	if (!err)
		err = map_walk(in_fd, sizeof(__be32), sizeof(struct fc_nat64_map), sweep_orphan,
			       &w);
	/* The host side first: from then on the host's next packet makes a
	 * new mapping (maybe the same address, once it is free again). */
	for (size_t i = 0; !err && i < w.dead_out.n; i++)
		if (bpf_map_delete_elem(out_fd, (char *)w.dead_out.v + i * w.dead_out.ksz) == 0)
			res->expired++;
	for (size_t i = 0; !err && i < w.dead_in.n; i++)
		bpf_map_delete_elem(in_fd, (char *)w.dead_in.v + i * w.dead_in.ksz);
	res->live = w.live;
	free(w.dead_out.v);
	free(w.dead_in.v);
	return err;
}

static int list_out(void *ctx, const void *key, const void *value)
{
	struct walk *w = ctx;
	const struct fc_nat64_map *m = value;
	struct nat64_pool_row r = { .v4 = m->peer.v4, .is_static = m->flags & FC_NAT64_MAP_STATIC };

	memcpy(r.v6, key, 16);
	if (!r.is_static) {
		r.expires_ns = expiry_of(w, m, m->peer.v4);
		if (r.expires_ns <= w->now)
			return 0;	/* expired, not swept yet */
	}
	return w->fn(w->ctx, &r);
}

int nat64_pool_walk(int out_fd, int in_fd, const struct fc_config *cfg, __u64 now_ns,
		    nat64_pool_row_fn fn, void *ctx)
{
	struct walk w = { .out_fd = out_fd, .in_fd = in_fd, .cfg = cfg, .now = now_ns,
			  .fn = fn, .ctx = ctx };

	return map_walk(out_fd, sizeof(union fc_addr), sizeof(struct fc_nat64_map), list_out, &w);
}

/* ---- the daemon's calls ---------------------------------------------------- */

int nat64_pool_install(struct fc_loader *l, const struct fc_options *o)
{
	int err = nat64_pool_write(bpf_map__fd(l->skel->maps.fc_p64_out),
				   bpf_map__fd(l->skel->maps.fc_p64_in),
				   bpf_map__fd(l->skel->maps.fc_p64_allow), &o->nat64pool);

	if (err)
		fc_err("writing the NAT64 static mappings and allowed prefixes: %s",
		       strerror(-err));
	return err;
}

void nat64_pool_sweep_loader(struct fc_loader *l, const struct fc_config *cfg)
{
	struct nat64_pool_sweep_result res;

	if (!l->skel)
		return;
	if (nat64_pool_sweep(bpf_map__fd(l->skel->maps.fc_p64_out),
			     bpf_map__fd(l->skel->maps.fc_p64_in), cfg, gc_now_ns(), &res)) {
		fc_warn("NAT64 address-mapping sweep failed: %s", strerror(errno));
		return;
	}
	if (res.expired)
		fc_debug("sweep: %lu NAT64 address mappings live; %lu expired", res.live,
			 res.expired);
}
