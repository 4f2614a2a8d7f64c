// SPDX-License-Identifier: GPL-2.0
/*
 * The NAT-PMP/PCP lifetime table and the mappings it owns in the bindings
 * map (pcp_table.h): creating, adopting, renewing, deleting, expiring and
 * releasing them, the two always in agreement. No sockets, no wire format.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <bpf/bpf.h>

#include <fcnat/rules.h>

#include "gc.h"
#include "log.h"
#include "stats.h"
#include "pcp_table.h"

#define NS 1000000000ULL

/* ---- the bindings map ---- */

static __u32 random32(void)
{
	__u32 v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (__u32)rand();
	return v;
}

/* The entries of a host's mapping: the internal endpoint's key (its
 * family's, in the port space of ext_family: NAT44 and NAT64 in IPv4's,
 * NAT66 in IPv6's), the external one's. */
static void int_key(struct fc_endpoint_key *k, __u8 proto, const struct pcp_host *h,
		    __u8 ext_family, __u16 port)
{
	fc_int_endpoint_key(k, h->family, ext_family, proto, &h->addr, htons(port));
}

static void ext_key(struct fc_endpoint_key *k, __u8 proto, __u8 family, const union fc_addr *addr,
		    __be16 port)
{
	union fc_addr a;

	/* Zeroed past an IPv4 address: the key is hashed whole. */
	memset(&a, 0, sizeof(a));
	if (family == FC_AF_INET6)
		a = *addr;
	else
		a.v4 = addr->v4;
	fc_ext_endpoint_key(k, family, proto, &a, port);
}

/* The external entry of the mapping whose internal entry is b. */
static void ext_key_of(struct fc_endpoint_key *k, __u8 proto, const struct fc_binding *b)
{
	ext_key(k, proto, b->family, &b->addr, b->port);
}

/* Does an external entry still name host:port? */
static bool points_back(const struct fc_binding *back, const struct pcp_host *h, __u16 port)
{
	return back->family == h->family && !memcmp(&back->addr, &h->addr, sizeof(h->addr)) &&
	       back->port == htons(port);
}

static const char *host_str(const struct pcp_host *h, char *buf, size_t len)
{
	return inet_ntop(h->family == FC_AF_INET6 ? AF_INET6 : AF_INET, &h->addr, buf, len);
}

struct session_flush {
	int fd;
	__u8 proto;
	__u8 family;		/* the external endpoint's */
	__be16 port;
	union fc_addr addr;
};

static int flush_session(void *ctx, const void *key, const void *value)
{
	const struct session_flush *f = ctx;
	const struct fc_session_key *k = key;

	if (k->family == f->family && k->proto == f->proto && k->ext_port == f->port &&
	    (f->family == FC_AF_INET6 ? !memcmp(&k->ext_addr, &f->addr, sizeof(f->addr))
				      : k->ext_addr.v4 == f->addr.v4))
		bpf_map_delete_elem(f->fd, k);
	return 0;
}

/* Remove a mapping, internal side first, its external side only if it
 * still points back, then its sessions (doc/design/expiry.md's order). */
static void binding_remove(struct pcp_table *t, __u8 proto, const struct pcp_host *h,
			   __u16 int_port, const struct fc_binding *b)
{
	struct fc_endpoint_key ik, ek;
	struct fc_binding back;
	struct session_flush f = {
		.fd = t->sessions_fd, .proto = proto, .family = b->family, .port = b->port,
		.addr = b->addr,
	};

	int_key(&ik, proto, h, b->family, int_port);
	bpf_map_delete_elem(t->bindings_fd, &ik);
	ext_key_of(&ek, proto, b);
	if (bpf_map_lookup_elem(t->bindings_fd, &ek, &back) == 0 && points_back(&back, h, int_port))
		bpf_map_delete_elem(t->bindings_fd, &ek);
	map_walk(t->sessions_fd, sizeof(struct fc_session_key), sizeof(struct fc_session),
		 flush_session, &f);
}

/* Flag both sides of an existing mapping as ours. */
static int binding_adopt(struct pcp_table *t, __u8 proto, const struct pcp_host *h,
			 __u16 int_port, __u8 origin, struct fc_binding *b)
{
	struct fc_endpoint_key ik, ek;
	struct fc_binding back;

	ext_key_of(&ek, proto, b);
	if (bpf_map_lookup_elem(t->bindings_fd, &ek, &back) || !points_back(&back, h, int_port))
		return -ENOENT;	/* a half-mapping: let the sweeper have it */
	back.flags |= FC_BINDING_STATIC | FC_BINDING_PCP | origin;
	if (gc_binding_write(t->bindings_fd, &ek, &back, BPF_EXIST))
		return -errno;
	int_key(&ik, proto, h, b->family, int_port);
	b->flags |= FC_BINDING_STATIC | FC_BINDING_PCP | origin;
	if (gc_binding_write(t->bindings_fd, &ik, b, BPF_EXIST))
		return -errno;
	return 0;
}

/* The other way: a mapping of ours that no table entry will keep becomes
 * an ordinary one, idle from now, the sweeper's again. Internal side first
 * (it decides whether the mapping lives), then the external side if it
 * points back. */
static void binding_release(struct pcp_table *t, __u8 proto, const struct pcp_host *h,
			    __u8 ext_family, __u16 int_port, __u64 now)
{
	struct fc_endpoint_key ik, ek;
	struct fc_binding b, back;
	char a[INET6_ADDRSTRLEN];

	int_key(&ik, proto, h, ext_family, int_port);
	if (bpf_map_lookup_elem(t->bindings_fd, &ik, &b) || !(b.flags & FC_BINDING_PCP))
		return;
	b.flags &= ~(FC_BINDING_STATIC | FC_BINDING_PCP | FC_BINDING_UPNP);
	b.pcp_expires_s = 0;
	b.last_out_ns = now;
	gc_binding_write(t->bindings_fd, &ik, &b, BPF_EXIST);
	ext_key_of(&ek, proto, &b);
	if (bpf_map_lookup_elem(t->bindings_fd, &ek, &back) == 0 && points_back(&back, h, int_port) &&
	    (back.flags & FC_BINDING_PCP)) {
		back.flags &= ~(FC_BINDING_STATIC | FC_BINDING_PCP | FC_BINDING_UPNP);
		gc_binding_write(t->bindings_fd, &ek, &back, BPF_EXIST);
	}
	fc_debug("pcp: the %s mapping of %s:%u lost its lifetime: idle timeout from now",
		 proto_name(proto), host_str(h, a, sizeof(a)), int_port);
}

/* Publish a mapping's expiry in its internal entry, for `fcnat show`. */
static void binding_publish_expiry(struct pcp_table *t, const struct pcp_mapping *m)
{
	struct fc_endpoint_key ik;
	struct fc_binding b;
	__u32 sec = (m->expires_ns + NS - 1) / NS;

	int_key(&ik, m->proto, &m->host, m->ext.family, m->int_port);
	if (bpf_map_lookup_elem(t->bindings_fd, &ik, &b) || !(b.flags & FC_BINDING_PCP) ||
	    b.pcp_expires_s == sec)
		return;
	b.pcp_expires_s = sec;
	gc_binding_write(t->bindings_fd, &ik, &b, BPF_EXIST);
}

/* ---- the lifetime table ---- */

struct pcp_mapping *pcp_table_find(struct pcp_table *t, __u8 proto, const struct pcp_host *h,
				   __u8 ext_family, __u16 port)
{
	for (unsigned int i = 0; i < t->nr_table; i++) {
		struct pcp_mapping *m = &t->table[i];

		if (m->proto == proto && m->int_port == port && m->ext.family == ext_family &&
		    pcp_host_eq(&m->host, h))
			return m;
	}
	return NULL;
}

struct pcp_mapping *pcp_table_find_ext(struct pcp_table *t, __u8 proto, __be32 ext_addr,
				       __u16 ext_port)
{
	for (unsigned int i = 0; i < t->nr_table; i++) {
		struct pcp_mapping *m = &t->table[i];

		/* ext_addr 0 (none) matches nothing: not a stale entry's 0. */
		if (m->proto == proto && m->ext_port == ext_port && m->ext.family == FC_AF_INET &&
		    m->ext.addr.v4 == ext_addr && ext_addr)
			return m;
	}
	return NULL;
}

struct pcp_mapping *pcp_table_nth4(struct pcp_table *t, unsigned long n)
{
	for (unsigned int i = 0; i < t->nr_table; i++)
		if (t->table[i].ext.family == FC_AF_INET && n-- == 0)
			return &t->table[i];
	return NULL;
}

unsigned int pcp_table_count4(const struct pcp_table *t)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < t->nr_table; i++)
		n += t->table[i].ext.family == FC_AF_INET;
	return n;
}

__be32 pcp_table_ext_addr(const struct pcp_table *t, const struct pcp_host *h)
{
	return ext_addr4_of(t->cfg, &t->addr_maps, h->family, &h->addr);
}

/* The external address of h's mappings of family: IPv4 (NAT44, NAT64: the
 * paired one), or the interface's IPv6 one (NAT66). False: none yet. */
static bool ext_addr_for(const struct pcp_table *t, const struct pcp_host *h, __u8 family,
			 struct pcp_host *ext)
{
	static const union fc_addr none;

	memset(ext, 0, sizeof(*ext));
	ext->family = family;
	if (family == FC_AF_INET6) {
		ext->addr = t->cfg->ext_addr6;
		return memcmp(&ext->addr, &none, sizeof(none));
	}
	ext->addr.v4 = pcp_table_ext_addr(t, h);
	return ext->addr.v4;
}

static void table_drop(struct pcp_table *t, struct pcp_mapping *m)
{
	*m = t->table[--t->nr_table];
}

static unsigned int table_count_host(const struct pcp_table *t, const struct pcp_host *h)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < t->nr_table; i++)
		n += pcp_host_eq(&t->table[i].host, h);
	return n;
}

/* ---- mapping requests, shared by NAT-PMP and PCP ---- */

/* May one more table entry be made for host? The only gate to the table:
 * every entry is made after it said MAP_OK. */
static enum map_status table_admits(const struct pcp_table *t, const struct pcp_host *host)
{
	if (table_count_host(t, host) >= t->max_per_host)
		return MAP_QUOTA;
	if (t->nr_table >= PCP_TABLE_MAX)
		return MAP_NO_RESOURCES;
	return MAP_OK;
}

/* Claim ext_port for the request: external side first (that insert owns
 * the port), then the internal side. 1: claimed, 0: port taken, -1: the
 * table is full, -2: the internal endpoint got a mapping meanwhile. */
static int claim(struct pcp_table *t, const struct map_req *r, const struct pcp_host *ext,
		 __u16 port)
{
	struct fc_endpoint_key ek, ik;
	struct fc_binding ev = { .family = r->host.family,
				 .flags = FC_BINDING_STATIC | FC_BINDING_PCP | r->origin };
	struct fc_binding iv = ev;

	ext_key(&ek, r->proto, ext->family, &ext->addr, htons(port));
	ev.addr = r->host.addr;
	ev.port = htons(r->int_port);
	if (bpf_map_update_elem(t->bindings_fd, &ek, &ev, BPF_NOEXIST))
		return errno == EEXIST ? 0 : -1;
	int_key(&ik, r->proto, &r->host, ext->family, r->int_port);
	iv.family = ext->family;
	iv.addr = ext->addr;
	iv.port = htons(port);
	iv.last_out_ns = gc_now_ns();
	if (bpf_map_update_elem(t->bindings_fd, &ik, &iv, BPF_NOEXIST)) {
		int err = errno;

		bpf_map_delete_elem(t->bindings_fd, &ek);
		return err == EEXIST ? -2 : -1;
	}
	return 1;
}

/* The ports the request may get: every port of the ranges, or with
 * deterministic NAT only the host's own [first, first + total) -- any other
 * port of its pool address is another subscriber's (RFC 7422). */
struct port_space {
	bool det;
	__u16 first;
	__u32 total;
};

static __u8 req_ext_family(const struct map_req *r)
{
	return r->ext_family == FC_AF_INET6 ? FC_AF_INET6 : FC_AF_INET;
}

static struct port_space port_space(const struct fc_config *cfg, const struct map_req *r)
{
	struct port_space ps = { .total = cfg->ports[fc_proto_slot(r->proto)].total };
	__u32 idx;

	if ((cfg->flags & FC_CFG_DETERMINISTIC) && cfg->nr_pool && req_ext_family(r) == FC_AF_INET &&
	    !fc_det_index(cfg, r->host.family, &r->host.addr, &idx)) {
		ps.det = true;
		ps.first = fc_det_first_port(cfg, idx);
		ps.total = cfg->det_ports;
	}
	return ps;
}

static bool space_has(const struct fc_config *cfg, const struct port_space *ps, __u8 proto,
		      __u16 p)
{
	if (ps->det)
		return p >= ps->first && (__u32)(p - ps->first) < ps->total;
	return fc_port_in_range(cfg, proto, p);
}

static __u16 space_at(const struct fc_config *cfg, const struct port_space *ps, __u8 proto,
		      __u32 i)
{
	return ps->det ? ps->first + i : fc_port_at(cfg, proto, i);
}

/* Find a port: the suggested one, the internal one, random probes, then
 * every port of the space from a random start. */
static int create(struct pcp_table *t, const struct map_req *r, const struct pcp_host *ext,
		  __u16 *out)
{
	const struct fc_config *cfg = t->cfg;
	struct port_space ps = port_space(cfg, r);
	__u32 total = ps.total, start;
	int ret;

	if (r->suggested && space_has(cfg, &ps, r->proto, r->suggested)) {
		ret = claim(t, r, ext, r->suggested);
		if (ret)
			return ret < 0 ? ret : (*out = r->suggested, 1);
	}
	if (r->prefer_failure && r->suggested)
		return 0;
	if (space_has(cfg, &ps, r->proto, r->int_port) && r->int_port != r->suggested) {
		ret = claim(t, r, ext, r->int_port);
		if (ret)
			return ret < 0 ? ret : (*out = r->int_port, 1);
	}
	if (!total)
		return 0;
	for (int i = 0; i < 64; i++) {
		__u16 p = space_at(cfg, &ps, r->proto, random32() % total);

		ret = p ? claim(t, r, ext, p) : 0;
		if (ret)
			return ret < 0 ? ret : (*out = p, 1);
	}
	start = random32() % total;
	for (__u32 i = 0; i < total; i++) {
		__u16 p = space_at(cfg, &ps, r->proto, (start + i) % total);

		ret = p ? claim(t, r, ext, p) : 0;
		if (ret)
			return ret < 0 ? ret : (*out = p, 1);
	}
	return 0;
}

/* A mapping exists for the request's internal endpoint (b). With a table
 * entry (m) the request renews it; without one (made by the host's own
 * traffic, or released by an address event) it is adopted under the same
 * limits as a new one, and an FC_BINDING_PCP mapping the limits refuse is
 * released: no mapping of ours stays without an entry. */
static enum map_status map_existing(struct pcp_table *t, const struct map_req *r,
				    struct pcp_mapping *m, struct fc_binding *b)
{
	enum map_status st;

	if (m) {
		if ((b->flags & FC_BINDING_PCP) && m->has_nonce && r->nonce &&
		    memcmp(m->nonce, r->nonce, PCP_NONCE_LEN))
			return MAP_REFUSED;
		if (b->flags & FC_BINDING_PCP)
			return MAP_OK;
		/* The entry outlived its mapping and traffic made another one:
		 * the entry is counted already. */
		return binding_adopt(t, r->proto, &r->host, r->int_port, r->origin, b) ?
			       MAP_NO_RESOURCES : MAP_OK;
	}
	st = table_admits(t, &r->host);
	if (st == MAP_OK && binding_adopt(t, r->proto, &r->host, r->int_port, r->origin, b))
		st = MAP_NO_RESOURCES;
	if (st != MAP_OK)
		binding_release(t, r->proto, &r->host, req_ext_family(r), r->int_port, gc_now_ns());
	return st;
}

enum map_status pcp_table_map(struct pcp_table *t, const struct map_req *r, struct map_ans *a)
{
	struct pcp_host ext;
	__u64 now = gc_now_ns();
	char h[INET6_ADDRSTRLEN];
	struct fc_endpoint_key ik;
	struct fc_binding b;
	struct pcp_mapping *m;
	enum map_status st;
	__u16 port;
	int tries = 0, ret;

	/* The host's paired address: where its traffic goes out. */
	if (!ext_addr_for(t, &r->host, req_ext_family(r), &ext))
		return MAP_NO_EXTERNAL;
again:
	int_key(&ik, r->proto, &r->host, ext.family, r->int_port);
	m = pcp_table_find(t, r->proto, &r->host, ext.family, r->int_port);
	if (bpf_map_lookup_elem(t->bindings_fd, &ik, &b) == 0) {
		memset(&a->ext, 0, sizeof(a->ext));
		a->ext.family = b.family;
		a->ext.addr = b.addr;
		a->ext_port = ntohs(b.port);
		a->lifetime = r->lifetime;
		if (r->prefer_failure && r->suggested && r->suggested != a->ext_port)
			return MAP_PORT_UNAVAILABLE;
		if ((b.flags & FC_BINDING_STATIC) && !(b.flags & FC_BINDING_PCP))
			return MAP_OK;	/* a static forward: permanent anyway */
		st = map_existing(t, r, m, &b);
		if (st != MAP_OK)
			return st;
		port = a->ext_port;
		ext = a->ext;
	} else {
		/* An entry without a mapping (flushed with its address) is
		 * made again in its place; anything else is a new entry. */
		st = m ? MAP_OK : table_admits(t, &r->host);
		if (st != MAP_OK)
			return st;
		ret = create(t, r, &ext, &port);
		if (ret == -2 && tries++ < 3)
			goto again;	/* the datapath made one meanwhile: use it */
		if (ret == 0 && r->prefer_failure)
			return MAP_PORT_UNAVAILABLE;
		if (ret <= 0)
			return MAP_NO_RESOURCES;
		a->ext = ext;
		a->ext_port = port;
		a->lifetime = r->lifetime;
		fc_debug("pcp: mapped %s %s:%u to external port %u for %us", proto_name(r->proto),
			 host_str(&r->host, h, sizeof(h)), r->int_port, port, r->lifetime);
	}
	if (!m) {
		m = &t->table[t->nr_table++];	/* table_admits said there is room */
		memset(m, 0, sizeof(*m));
		m->proto = r->proto;
		m->host = r->host;
		m->int_port = r->int_port;
	}
	m->ext = ext;
	m->ext_port = port;
	m->expires_ns = now + (__u64)r->lifetime * NS;
	if (r->nonce && !m->has_nonce) {
		memcpy(m->nonce, r->nonce, PCP_NONCE_LEN);
		m->has_nonce = true;
	}
	if (r->origin & FC_BINDING_UPNP)
		m->upnp = true;
	if (r->desc)
		snprintf(m->desc, sizeof(m->desc), "%s", r->desc);
	binding_publish_expiry(t, m);
	return MAP_OK;
}

/* Lifetime 0: delete. A static forward is refused; a dynamic mapping the
 * client did not ask for is left to its idle timeout. */
enum map_status pcp_table_unmap(struct pcp_table *t, __u8 proto, const struct pcp_host *h,
				__u8 ext_family, __u16 int_port, const __u8 *nonce)
{
	struct fc_endpoint_key ik;
	struct fc_binding b;
	struct pcp_mapping *m = pcp_table_find(t, proto, h, ext_family, int_port);
	char a[INET6_ADDRSTRLEN];

	int_key(&ik, proto, h, ext_family, int_port);
	if (bpf_map_lookup_elem(t->bindings_fd, &ik, &b)) {
		if (m)
			table_drop(t, m);
		return MAP_OK;
	}
	if ((b.flags & FC_BINDING_STATIC) && !(b.flags & FC_BINDING_PCP))
		return MAP_REFUSED;
	if (!(b.flags & FC_BINDING_PCP)) {
		if (m)
			table_drop(t, m);	/* its mapping is traffic's now */
		return MAP_OK;
	}
	if (m && m->has_nonce && nonce && memcmp(m->nonce, nonce, PCP_NONCE_LEN))
		return MAP_REFUSED;
	binding_remove(t, proto, h, int_port, &b);
	if (m)
		table_drop(t, m);
	fc_debug("pcp: deleted the %s mapping of %s:%u", proto_name(proto),
		 host_str(h, a, sizeof(a)), int_port);
	return MAP_OK;
}

/* Internal port 0 and lifetime 0: every mapping of the host for proto. */
void pcp_table_unmap_all(struct pcp_table *t, __u8 proto, const struct pcp_host *h,
			 __u8 ext_family)
{
	for (unsigned int i = 0; i < t->nr_table;) {
		struct pcp_mapping *m = &t->table[i];

		if (m->proto == proto && m->ext.family == ext_family && pcp_host_eq(&m->host, h)) {
			unsigned int n = t->nr_table;

			pcp_table_unmap(t, proto, h, ext_family, m->int_port, NULL);
			if (t->nr_table < n)
				continue;	/* slot i now holds another entry */
		}
		i++;
	}
}

/* ---- expiry and release ---- */

void pcp_table_expire(struct pcp_table *t, __u64 now_ns)
{
	for (unsigned int i = 0; i < t->nr_table;) {
		struct pcp_mapping *m = &t->table[i];
		struct fc_endpoint_key ik;
		struct fc_binding b;
		char a[INET6_ADDRSTRLEN];

		if (m->expires_ns > now_ns) {
			i++;
			continue;
		}
		int_key(&ik, m->proto, &m->host, m->ext.family, m->int_port);
		if (bpf_map_lookup_elem(t->bindings_fd, &ik, &b) == 0 && (b.flags & FC_BINDING_PCP))
			binding_remove(t, m->proto, &m->host, m->int_port, &b);
		fc_debug("pcp: the %s mapping of %s:%u expired", proto_name(m->proto),
			 host_str(&m->host, a, sizeof(a)), m->int_port);
		table_drop(t, m);
	}
}

void pcp_table_release_all(struct pcp_table *t, __u64 now_ns)
{
	for (unsigned int i = 0; i < t->nr_table && t->bindings_fd >= 0; i++)
		binding_release(t, t->table[i].proto, &t->table[i].host, t->table[i].ext.family,
				t->table[i].int_port, now_ns);
	t->nr_table = 0;
}

struct leftovers {
	int fd;
	__u64 now;
	long n;
};

static int release_one(void *ctx, const void *key, const void *value)
{
	struct leftovers *l = ctx;
	const struct fc_endpoint_key *k = key;
	struct fc_binding b = *(const struct fc_binding *)value;

	if (!(b.flags & FC_BINDING_PCP))
		return 0;
	b.flags &= ~(FC_BINDING_STATIC | FC_BINDING_PCP | FC_BINDING_UPNP);
	b.pcp_expires_s = 0;
	if (k->side == FC_SIDE_INTERNAL) {
		b.last_out_ns = l->now;
		l->n++;
	}
	gc_binding_write(l->fd, k, &b, BPF_EXIST);
	return 0;
}

long pcp_release_leftovers(int bindings_fd, uint64_t now_ns)
{
	struct leftovers l = { .fd = bindings_fd, .now = now_ns };

	if (map_walk(bindings_fd, sizeof(struct fc_endpoint_key), sizeof(struct fc_binding),
		     release_one, &l))
		return -1;
	return l.n;
}
