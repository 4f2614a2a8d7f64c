// SPDX-License-Identifier: GPL-2.0
/*
 * NAT-PMP (RFC 6886, version 0) and PCP (RFC 6887, version 2) on UDP 5351
 * of the internal interfaces, in the daemon's poll loop. The wire format is
 * pcp_codec.c's; this file holds the lifetime table, the policy and the
 * sockets.
 *
 * A mapping asked for is an ordinary mapping of the bindings map, flagged
 * FC_BINDING_STATIC | FC_BINDING_PCP: the datapath translates it like any
 * other, the sweeper leaves it alone, and this file deletes it when its
 * lifetime ends (table below, one entry per mapping). Every mapping flagged
 * FC_BINDING_PCP has a table entry, and the other way round: what loses its
 * entry (address events, refusals) is released to an ordinary mapping with
 * an idle timeout. An internal endpoint that already has a mapping keeps it
 * (endpoint-independent mapping): the request only makes it last. See
 * doc/design/port-mapping.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/random.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "gc.h"
#include "log.h"
#include "stats.h"
#include "pcp.h"
#include "pcp_codec.h"

#define PCP_SERVER_PORT 5351
#define PCP_CLIENT_PORT 5350	/* announcements go to 224.0.0.1:5350 */
#define RATE_SLOTS 256
#define ANNOUNCE_COUNT 10	/* RFC 6886 §3.2.1: ten times, 250 ms doubling */
#define ANNOUNCE_FIRST_GAP_NS 250000000ULL
#define NETS_MAX 64
#define NETS_REFRESH_NS 1000000000ULL
#define NS 1000000000ULL

struct pcp_mapping {
	__u8 proto;
	bool has_nonce;
	__u16 int_port;		/* host order */
	__u16 ext_port;
	__be32 int_addr;
	__be32 ext_addr;
	__u64 expires_ns;
	__u8 nonce[PCP_NONCE_LEN];
};

struct rate_slot {
	__be32 addr;
	__u64 last_ns;
	double tokens;
};

struct local_net {
	int ifindex;
	__be32 addr;
	__be32 mask;
};

struct pcp_iface {
	int ifindex;
	int fd;
};

struct pcp_server {
	struct fc_pcp_opts po;
	const struct fc_config *cfg;
	int bindings_fd;
	int sessions_fd;
	unsigned int nr_ifs;
	struct pcp_iface ifs[FC_MAX_IFACES];
	struct local_net nets[NETS_MAX];
	unsigned int nr_nets;
	__u64 nets_at_ns;
	struct pcp_mapping table[PCP_TABLE_MAX];
	unsigned int nr_table;
	struct rate_slot rate[RATE_SLOTS];
	__u64 epoch_start_ns;
	unsigned int announce_left;
	__u64 announce_next_ns;
	__u64 announce_gap_ns;
};

static __u32 epoch_s(const struct pcp_server *s)
{
	return (gc_now_ns() - s->epoch_start_ns) / NS;
}

/* ---- the bindings map ---- */

static bool port_in_ranges(const struct fc_config *cfg, __u16 port)
{
	for (unsigned int i = 0; i < cfg->nr_port_ranges && i < FC_MAX_PORT_RANGES; i++)
		if (port >= cfg->port_ranges[i].first && port <= cfg->port_ranges[i].last)
			return true;
	return false;
}

static __u16 port_at(const struct fc_config *cfg, __u32 idx)
{
	for (unsigned int i = 0; i < cfg->nr_port_ranges && i < FC_MAX_PORT_RANGES; i++) {
		__u32 size = (__u32)cfg->port_ranges[i].last - cfg->port_ranges[i].first + 1;

		if (idx < size)
			return cfg->port_ranges[i].first + idx;
		idx -= size;
	}
	return 0;
}

static __u32 random32(void)
{
	__u32 v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (__u32)rand();
	return v;
}

struct session_flush {
	int fd;
	__u8 proto;
	__be32 addr;
	__be16 port;
};

static int flush_session(void *ctx, const void *key, const void *value)
{
	const struct session_flush *f = ctx;
	const struct fc_session_key *k = key;

	if (k->family == FC_AF_INET && k->proto == f->proto && k->ext_port == f->port &&
	    k->ext_addr.v4 == f->addr)
		bpf_map_delete_elem(f->fd, k);
	return 0;
}

/* Remove a mapping, internal side first, its external side only if it
 * still points back, then its sessions (doc/design/expiry.md's order). */
static void binding_remove(struct pcp_server *s, __u8 proto, __be32 int_addr, __u16 int_port,
			   const struct fc_binding *b)
{
	struct fc_endpoint_key ik, ek;
	struct fc_binding back;
	struct session_flush f = {
		.fd = s->sessions_fd, .proto = proto, .addr = b->addr.v4, .port = b->port,
	};

	gc_endpoint_key4(&ik, FC_SIDE_INTERNAL, proto, int_addr, int_port);
	bpf_map_delete_elem(s->bindings_fd, &ik);
	gc_endpoint_key4(&ek, FC_SIDE_EXTERNAL, proto, b->addr.v4, ntohs(b->port));
	if (bpf_map_lookup_elem(s->bindings_fd, &ek, &back) == 0 && back.addr.v4 == int_addr &&
	    back.port == htons(int_port))
		bpf_map_delete_elem(s->bindings_fd, &ek);
	map_walk(s->sessions_fd, sizeof(struct fc_session_key), sizeof(struct fc_session),
		 flush_session, &f);
}

/* Flag both sides of an existing mapping as ours. */
static int binding_adopt(struct pcp_server *s, __u8 proto, __be32 int_addr, __u16 int_port,
			 struct fc_binding *b)
{
	struct fc_endpoint_key ik, ek;
	struct fc_binding back;

	gc_endpoint_key4(&ek, FC_SIDE_EXTERNAL, proto, b->addr.v4, ntohs(b->port));
	if (bpf_map_lookup_elem(s->bindings_fd, &ek, &back) || back.addr.v4 != int_addr ||
	    back.port != htons(int_port))
		return -ENOENT;	/* a half-mapping: let the sweeper have it */
	back.flags |= FC_BINDING_STATIC | FC_BINDING_PCP;
	if (gc_binding_write(s->bindings_fd, &ek, &back, BPF_EXIST))
		return -errno;
	gc_endpoint_key4(&ik, FC_SIDE_INTERNAL, proto, int_addr, int_port);
	b->flags |= FC_BINDING_STATIC | FC_BINDING_PCP;
	if (gc_binding_write(s->bindings_fd, &ik, b, BPF_EXIST))
		return -errno;
	return 0;
}

/* The other way: a mapping of ours that no table entry will keep becomes
 * an ordinary one, idle from now, the sweeper's again. Internal side first
 * (it decides whether the mapping lives), then the external side if it
 * points back. */
static void binding_release(struct pcp_server *s, __u8 proto, __be32 int_addr, __u16 int_port,
			    __u64 now)
{
	struct fc_endpoint_key ik, ek;
	struct fc_binding b, back;

	gc_endpoint_key4(&ik, FC_SIDE_INTERNAL, proto, int_addr, int_port);
	if (bpf_map_lookup_elem(s->bindings_fd, &ik, &b) || !(b.flags & FC_BINDING_PCP))
		return;
	b.flags &= ~(FC_BINDING_STATIC | FC_BINDING_PCP);
	b.pcp_expires_s = 0;
	b.last_out_ns = now;
	gc_binding_write(s->bindings_fd, &ik, &b, BPF_EXIST);
	gc_endpoint_key4(&ek, FC_SIDE_EXTERNAL, proto, b.addr.v4, ntohs(b.port));
	if (bpf_map_lookup_elem(s->bindings_fd, &ek, &back) == 0 && back.addr.v4 == int_addr &&
	    back.port == htons(int_port) && (back.flags & FC_BINDING_PCP)) {
		back.flags &= ~(FC_BINDING_STATIC | FC_BINDING_PCP);
		gc_binding_write(s->bindings_fd, &ek, &back, BPF_EXIST);
	}
	fc_debug("pcp: the %s mapping of %s:%u lost its lifetime: idle timeout from now",
		 proto_name(proto), inet_ntoa((struct in_addr){ int_addr }), int_port);
}

/* Publish a mapping's expiry in its internal entry, for `fcnat show`. */
static void binding_publish_expiry(struct pcp_server *s, __u8 proto, __be32 int_addr,
				   __u16 int_port, __u64 expires_ns)
{
	struct fc_endpoint_key ik;
	struct fc_binding b;
	__u32 sec = (expires_ns + NS - 1) / NS;

	gc_endpoint_key4(&ik, FC_SIDE_INTERNAL, proto, int_addr, int_port);
	if (bpf_map_lookup_elem(s->bindings_fd, &ik, &b) || !(b.flags & FC_BINDING_PCP) ||
	    b.pcp_expires_s == sec)
		return;
	b.pcp_expires_s = sec;
	gc_binding_write(s->bindings_fd, &ik, &b, BPF_EXIST);
}

/* ---- the lifetime table ---- */

static struct pcp_mapping *table_find(struct pcp_server *s, __u8 proto, __be32 addr, __u16 port)
{
	for (unsigned int i = 0; i < s->nr_table; i++) {
		struct pcp_mapping *m = &s->table[i];

		if (m->proto == proto && m->int_addr == addr && m->int_port == port)
			return m;
	}
	return NULL;
}

static void table_drop(struct pcp_server *s, struct pcp_mapping *m)
{
	*m = s->table[--s->nr_table];
}

static unsigned int table_count_host(const struct pcp_server *s, __be32 addr)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < s->nr_table; i++)
		n += s->table[i].int_addr == addr;
	return n;
}

/* ---- mapping requests, shared by NAT-PMP and PCP ---- */

enum map_status {
	MAP_OK,
	MAP_NO_EXTERNAL,	/* no external address yet */
	MAP_NO_RESOURCES,	/* no free port, table full */
	MAP_QUOTA,		/* --pcp-max-per-host reached */
	MAP_REFUSED,		/* a static forward's, or another nonce's */
	MAP_PORT_UNAVAILABLE,	/* PREFER_FAILURE and the suggested port is not given */
};

/* May one more table entry be made for host? The only gate to the table:
 * every entry is made after it said MAP_OK. */
static enum map_status table_admits(const struct pcp_server *s, __be32 host)
{
	if (table_count_host(s, host) >= s->po.max_per_host)
		return MAP_QUOTA;
	if (s->nr_table >= PCP_TABLE_MAX)
		return MAP_NO_RESOURCES;
	return MAP_OK;
}

struct map_req {
	__u8 proto;
	__be32 int_addr;
	__u16 int_port;
	__u16 suggested;	/* 0: none */
	__u32 lifetime;		/* granted, > 0 */
	bool prefer_failure;
	const __u8 *nonce;	/* PCP only */
};

struct map_ans {
	__be32 ext_addr;
	__u16 ext_port;
	__u32 lifetime;
};

/* Claim ext_port for the request: external side first (that insert owns
 * the port), then the internal side. 1: claimed, 0: port taken, -1: the
 * table is full, -2: the internal endpoint got a mapping meanwhile. */
static int claim(struct pcp_server *s, const struct map_req *r, __be32 ext, __u16 port)
{
	struct fc_endpoint_key ek, ik;
	struct fc_binding ev = { .family = FC_AF_INET, .flags = FC_BINDING_STATIC | FC_BINDING_PCP };
	struct fc_binding iv = ev;

	gc_endpoint_key4(&ek, FC_SIDE_EXTERNAL, r->proto, ext, port);
	ev.addr.v4 = r->int_addr;
	ev.port = htons(r->int_port);
	if (bpf_map_update_elem(s->bindings_fd, &ek, &ev, BPF_NOEXIST))
		return errno == EEXIST ? 0 : -1;
	gc_endpoint_key4(&ik, FC_SIDE_INTERNAL, r->proto, r->int_addr, r->int_port);
	iv.addr.v4 = ext;
	iv.port = htons(port);
	iv.last_out_ns = gc_now_ns();
	if (bpf_map_update_elem(s->bindings_fd, &ik, &iv, BPF_NOEXIST)) {
		int err = errno;

		bpf_map_delete_elem(s->bindings_fd, &ek);
		return err == EEXIST ? -2 : -1;
	}
	return 1;
}

/* Find a port: the suggested one, the internal one, random probes, then
 * every port of the ranges from a random start. */
static int create(struct pcp_server *s, const struct map_req *r, __be32 ext, __u16 *out)
{
	const struct fc_config *cfg = s->cfg;
	__u32 total = cfg->port_total, start;
	int ret;

	if (r->suggested && port_in_ranges(cfg, r->suggested)) {
		ret = claim(s, r, ext, r->suggested);
		if (ret)
			return ret < 0 ? ret : (*out = r->suggested, 1);
	}
	if (r->prefer_failure && r->suggested)
		return 0;
	if (port_in_ranges(cfg, r->int_port) && r->int_port != r->suggested) {
		ret = claim(s, r, ext, r->int_port);
		if (ret)
			return ret < 0 ? ret : (*out = r->int_port, 1);
	}
	if (!total)
		return 0;
	for (int i = 0; i < 64; i++) {
		__u16 p = port_at(cfg, random32() % total);

		ret = p ? claim(s, r, ext, p) : 0;
		if (ret)
			return ret < 0 ? ret : (*out = p, 1);
	}
	start = random32() % total;
	for (__u32 i = 0; i < total; i++) {
		__u16 p = port_at(cfg, (start + i) % total);

		ret = p ? claim(s, r, ext, p) : 0;
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
static enum map_status map_existing(struct pcp_server *s, const struct map_req *r,
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
		return binding_adopt(s, r->proto, r->int_addr, r->int_port, b) ? MAP_NO_RESOURCES :
										  MAP_OK;
	}
	st = table_admits(s, r->int_addr);
	if (st == MAP_OK && binding_adopt(s, r->proto, r->int_addr, r->int_port, b))
		st = MAP_NO_RESOURCES;
	if (st != MAP_OK)
		binding_release(s, r->proto, r->int_addr, r->int_port, gc_now_ns());
	return st;
}

static enum map_status map_request(struct pcp_server *s, const struct map_req *r,
				   struct map_ans *a)
{
	__be32 ext = s->cfg->ext_addr4;
	__u64 now = gc_now_ns();
	struct fc_endpoint_key ik;
	struct fc_binding b;
	struct pcp_mapping *m;
	enum map_status st;
	__u16 port;
	int tries = 0, ret;

	if (!ext)
		return MAP_NO_EXTERNAL;
again:
	gc_endpoint_key4(&ik, FC_SIDE_INTERNAL, r->proto, r->int_addr, r->int_port);
	m = table_find(s, r->proto, r->int_addr, r->int_port);
	if (bpf_map_lookup_elem(s->bindings_fd, &ik, &b) == 0) {
		a->ext_addr = b.addr.v4;
		a->ext_port = ntohs(b.port);
		a->lifetime = r->lifetime;
		if (r->prefer_failure && r->suggested && r->suggested != a->ext_port)
			return MAP_PORT_UNAVAILABLE;
		if ((b.flags & FC_BINDING_STATIC) && !(b.flags & FC_BINDING_PCP))
			return MAP_OK;	/* a static forward: permanent anyway */
		st = map_existing(s, r, m, &b);
		if (st != MAP_OK)
			return st;
		port = a->ext_port;
		ext = a->ext_addr;
	} else {
		/* An entry without a mapping (flushed with its address) is
		 * made again in its place; anything else is a new entry. */
		st = m ? MAP_OK : table_admits(s, r->int_addr);
		if (st != MAP_OK)
			return st;
		ret = create(s, r, ext, &port);
		if (ret == -2 && tries++ < 3)
			goto again;	/* the datapath made one meanwhile: use it */
		if (ret == 0 && r->prefer_failure)
			return MAP_PORT_UNAVAILABLE;
		if (ret <= 0)
			return MAP_NO_RESOURCES;
		a->ext_addr = ext;
		a->ext_port = port;
		a->lifetime = r->lifetime;
		fc_debug("pcp: mapped %s %s:%u to external port %u for %us", proto_name(r->proto),
			 inet_ntoa((struct in_addr){ r->int_addr }), r->int_port, port, r->lifetime);
	}
	if (!m) {
		m = &s->table[s->nr_table++];	/* table_admits said there is room */
		memset(m, 0, sizeof(*m));
		m->proto = r->proto;
		m->int_addr = r->int_addr;
		m->int_port = r->int_port;
	}
	m->ext_addr = ext;
	m->ext_port = port;
	m->expires_ns = now + (__u64)r->lifetime * NS;
	if (r->nonce && !m->has_nonce) {
		memcpy(m->nonce, r->nonce, PCP_NONCE_LEN);
		m->has_nonce = true;
	}
	binding_publish_expiry(s, r->proto, r->int_addr, r->int_port, m->expires_ns);
	return MAP_OK;
}

/* Lifetime 0: delete. A static forward is refused; a dynamic mapping the
 * client did not ask for is left to its idle timeout. */
static enum map_status unmap_request(struct pcp_server *s, __u8 proto, __be32 int_addr,
				     __u16 int_port, const __u8 *nonce)
{
	struct fc_endpoint_key ik;
	struct fc_binding b;
	struct pcp_mapping *m = table_find(s, proto, int_addr, int_port);

	gc_endpoint_key4(&ik, FC_SIDE_INTERNAL, proto, int_addr, int_port);
	if (bpf_map_lookup_elem(s->bindings_fd, &ik, &b)) {
		if (m)
			table_drop(s, m);
		return MAP_OK;
	}
	if ((b.flags & FC_BINDING_STATIC) && !(b.flags & FC_BINDING_PCP))
		return MAP_REFUSED;
	if (!(b.flags & FC_BINDING_PCP)) {
		if (m)
			table_drop(s, m);	/* its mapping is traffic's now */
		return MAP_OK;
	}
	if (m && m->has_nonce && nonce && memcmp(m->nonce, nonce, PCP_NONCE_LEN))
		return MAP_REFUSED;
	binding_remove(s, proto, int_addr, int_port, &b);
	if (m)
		table_drop(s, m);
	fc_debug("pcp: deleted the %s mapping of %s:%u", proto_name(proto),
		 inet_ntoa((struct in_addr){ int_addr }), int_port);
	return MAP_OK;
}

/* Internal port 0 and lifetime 0: every mapping of the host for proto. */
static void unmap_all(struct pcp_server *s, __u8 proto, __be32 int_addr)
{
	for (unsigned int i = 0; i < s->nr_table;) {
		struct pcp_mapping *m = &s->table[i];

		if (m->proto == proto && m->int_addr == int_addr) {
			unsigned int n = s->nr_table;

			unmap_request(s, proto, int_addr, m->int_port, NULL);
			if (s->nr_table < n)
				continue;	/* slot i now holds another entry */
		}
		i++;
	}
}

static __u32 grant(const struct pcp_server *s, __u32 requested)
{
	if (requested < s->po.min_lifetime)
		return s->po.min_lifetime;
	if (requested > s->po.max_lifetime)
		return s->po.max_lifetime;
	return requested;
}

/* ---- NAT-PMP ---- */

static size_t natpmp_answer(struct pcp_server *s, const struct pcp_request *r, __u8 *out)
{
	__u32 epoch = epoch_s(s);
	struct map_ans a = {};
	enum map_status st;
	__u16 result;

	switch (r->kind) {
	case NATPMP_REQ_ADDRESS:
		return natpmp_build_address(out, s->cfg->ext_addr4 ? PMP_SUCCESS : PMP_NETWORK_FAILURE,
					    epoch, s->cfg->ext_addr4);
	case NATPMP_REQ_BAD_OPCODE:
		return natpmp_build_bad_opcode(out, r, epoch);
	default:
		break;
	}
	if (r->lifetime == 0) {
		if (r->int_port == 0) {
			unmap_all(s, r->proto, r->src);
			st = MAP_OK;
		} else {
			st = unmap_request(s, r->proto, r->src, r->int_port, NULL);
		}
		return natpmp_build_map(out, r, st == MAP_OK ? PMP_SUCCESS : PMP_REFUSED, epoch, 0, 0);
	}
	if (r->int_port == 0)	/* "all ports" is not offered */
		return natpmp_build_map(out, r, PMP_REFUSED, epoch, 0, 0);
	st = map_request(s, &(struct map_req){
		.proto = r->proto, .int_addr = r->src, .int_port = r->int_port,
		.suggested = r->suggested, .lifetime = grant(s, r->lifetime),
	}, &a);
	switch (st) {
	case MAP_OK:
		return natpmp_build_map(out, r, PMP_SUCCESS, epoch, a.ext_port, a.lifetime);
	case MAP_NO_EXTERNAL:
		result = PMP_NETWORK_FAILURE;
		break;
	case MAP_REFUSED:
		result = PMP_REFUSED;
		break;
	default:
		result = PMP_NO_RESOURCES;
	}
	return natpmp_build_map(out, r, result, epoch, 0, 0);
}

/* ---- PCP ---- */

static bool addr_allowed(struct pcp_server *s, __be32 a, int ifindex);

static __u8 pcp_result_of(enum map_status st)
{
	switch (st) {
	case MAP_OK:
		return PCP_SUCCESS;
	case MAP_NO_EXTERNAL:
		return PCP_NETWORK_FAILURE;
	case MAP_QUOTA:
		return PCP_USER_EX_QUOTA;
	case MAP_REFUSED:
		return PCP_NOT_AUTHORIZED;
	case MAP_PORT_UNAVAILABLE:
		return PCP_CANNOT_PROVIDE_EXTERNAL;
	default:
		return PCP_NO_RESOURCES;
	}
}

/* PEER with lifetime 0 never deletes: the mapping as it is. */
static size_t pcp_peer_report(struct pcp_server *s, const struct pcp_request *r, __be32 int_addr,
			      __u32 epoch, __u8 *out)
{
	struct fc_endpoint_key ik;
	struct fc_binding b;
	struct pcp_mapping *m = table_find(s, r->proto, int_addr, r->int_port);
	__u64 now = gc_now_ns();

	gc_endpoint_key4(&ik, FC_SIDE_INTERNAL, r->proto, int_addr, r->int_port);
	if (bpf_map_lookup_elem(s->bindings_fd, &ik, &b))
		return pcp_build_success(out, r, epoch, 0, true, 0, 0);
	return pcp_build_success(out, r, epoch,
				 m && m->expires_ns > now ? (m->expires_ns - now) / NS : 0,
				 false, ntohs(b.port), b.addr.v4);
}

static size_t pcp_answer_pcp(struct pcp_server *s, const struct pcp_request *r, int ifindex,
			     __u8 *out)
{
	__u32 epoch = epoch_s(s);
	__be32 int_addr = r->src;
	struct map_ans a = {};
	enum map_status st;

	if (r->kind == PCP_REQ_ERROR)
		return pcp_build_error(out, r, r->error, epoch);
	if (r->third_party) {
		if (!s->po.third_party || !addr_allowed(s, r->third_party_addr, ifindex))
			return pcp_build_error(out, r, PCP_NOT_AUTHORIZED, epoch);
		int_addr = r->third_party_addr;
	}
	/* ANNOUNCE: lifetime 0, the epoch: "I am here, with this state". */
	if (r->opcode == PCP_OP_ANNOUNCE)
		return pcp_build_success(out, r, epoch, 0, true, 0, 0);
	if (r->prefer_failure && r->sugg_addr && r->sugg_addr != s->cfg->ext_addr4)
		return pcp_build_error(out, r, PCP_CANNOT_PROVIDE_EXTERNAL, epoch);
	if (r->opcode == PCP_OP_MAP && r->lifetime == 0) {
		if (r->int_port == 0) {
			unmap_all(s, r->proto, int_addr);
			st = MAP_OK;
		} else {
			st = unmap_request(s, r->proto, int_addr, r->int_port, r->nonce);
		}
		if (st != MAP_OK)
			return pcp_build_error(out, r, PCP_NOT_AUTHORIZED, epoch);
		/* Deleted: lifetime 0, the request's external fields kept. */
		return pcp_build_success(out, r, epoch, 0, true, 0, 0);
	}
	if (r->int_port == 0)	/* no "all ports" */
		return pcp_build_error(out, r, PCP_NOT_AUTHORIZED, epoch);
	if (r->opcode == PCP_OP_PEER && r->lifetime == 0)
		return pcp_peer_report(s, r, int_addr, epoch, out);
	st = map_request(s, &(struct map_req){
		.proto = r->proto, .int_addr = int_addr, .int_port = r->int_port,
		.suggested = r->suggested, .lifetime = grant(s, r->lifetime),
		.prefer_failure = r->prefer_failure, .nonce = r->nonce,
	}, &a);
	if (st != MAP_OK)
		return pcp_build_error(out, r, pcp_result_of(st), epoch);
	return pcp_build_success(out, r, epoch, a.lifetime, false, a.ext_port, a.ext_addr);
}

size_t pcp_answer(struct pcp_server *s, __be32 src, int ifindex, const __u8 *in, size_t len,
		  __u8 *out)
{
	struct pcp_request r;

	pcp_parse(in, len, src, &r);
	switch (r.kind) {
	case PCP_REQ_DROP:
		return 0;
	case NATPMP_REQ_ADDRESS:
	case NATPMP_REQ_MAP:
	case NATPMP_REQ_BAD_OPCODE:
		return natpmp_answer(s, &r, out);
	default:
		return pcp_answer_pcp(s, &r, ifindex, out);
	}
}

/* ---- who may ask ---- */

static void refresh_nets(struct pcp_server *s)
{
	struct ifaddrs *ifa, *i;

	s->nets_at_ns = gc_now_ns();
	if (getifaddrs(&ifa))
		return;
	s->nr_nets = 0;
	for (i = ifa; i && s->nr_nets < NETS_MAX; i = i->ifa_next) {
		int idx;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask)
			continue;
		idx = if_nametoindex(i->ifa_name);
		for (unsigned int k = 0; k < s->nr_ifs; k++) {
			if (s->ifs[k].ifindex != idx)
				continue;
			s->nets[s->nr_nets].ifindex = idx;
			s->nets[s->nr_nets].addr = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
			s->nets[s->nr_nets].mask =
				((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr;
			s->nr_nets++;
			break;
		}
	}
	freeifaddrs(ifa);
}

/* A host of one of ifindex's subnets: not the gateway's own address, nor
 * the subnet's broadcast or (wider than /31) network address. */
static bool nets_match(const struct pcp_server *s, __be32 a, int ifindex)
{
	for (unsigned int i = 0; i < s->nr_nets; i++) {
		const struct local_net *n = &s->nets[i];
		bool point_to_point = ntohl(n->mask) >= 0xfffffffeU;

		if (n->ifindex == ifindex && (a & n->mask) == (n->addr & n->mask) && a != n->addr &&
		    (a | n->mask) != 0xffffffffU && (point_to_point || (a & ~n->mask)))
			return true;
	}
	return false;
}

/* On-link on the interface the request came in on, or --pcp-allow. */
static bool addr_allowed(struct pcp_server *s, __be32 a, int ifindex)
{
	__u32 h = ntohl(a);

	if (!h || h == 0xffffffffU || IN_MULTICAST(h) || (h >> 24) == 127)
		return false;
	for (unsigned int i = 0; i < s->po.nr_allow; i++) {
		const struct fc_prefix4 *p = &s->po.allow[i];
		__u32 mask = p->len ? 0xffffffffU << (32 - p->len) : 0;

		if ((h & mask) == ntohl(p->addr))
			return true;
	}
	if (nets_match(s, a, ifindex))
		return true;
	/* An address added a moment ago: look again, at most once a second. */
	if (gc_now_ns() - s->nets_at_ns < NETS_REFRESH_NS)
		return false;
	refresh_nets(s);
	return nets_match(s, a, ifindex);
}

/* Token bucket per client address: --pcp-rate a second, bursts of twice that. */
static bool rate_ok(struct pcp_server *s, __be32 a)
{
	struct rate_slot *r = &s->rate[(ntohl(a) * 2654435761U) >> 24];
	__u64 now = gc_now_ns();
	double burst = 2.0 * s->po.rate;

	if (r->addr != a || !r->last_ns) {
		r->addr = a;
		r->tokens = burst;
	} else {
		r->tokens += (double)(now - r->last_ns) / NS * s->po.rate;
		if (r->tokens > burst)
			r->tokens = burst;
	}
	r->last_ns = now;
	if (r->tokens < 1.0)
		return false;
	r->tokens -= 1.0;
	return true;
}

/* ---- sockets ---- */

void pcp_receive(struct pcp_server *s, int fd)
{
	__u8 in[PCP_MAX_MSG + 4], out[PCP_MAX_MSG + 4];
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct sockaddr_in from;
	struct iovec iov = { .iov_base = in, .iov_len = sizeof(in) };
	struct msghdr mh = {
		.msg_name = &from, .msg_namelen = sizeof(from),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct in_pktinfo *pi = NULL;
	struct cmsghdr *c;
	ssize_t len;
	size_t n;

	for (int budget = 64; budget > 0; budget--) {
		mh.msg_namelen = sizeof(from);
		mh.msg_controllen = sizeof(cbuf);
		mh.msg_flags = 0;
		len = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (len < 0)
			return;
		pi = NULL;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
				pi = (struct in_pktinfo *)CMSG_DATA(c);
		/* Unicast to one of our addresses, from an accepted client,
		 * within its rate; anything else gets no answer at all. */
		if (!pi || from.sin_family != AF_INET || IN_MULTICAST(ntohl(pi->ipi_addr.s_addr)) ||
		    !addr_allowed(s, from.sin_addr.s_addr, pi->ipi_ifindex) ||
		    !rate_ok(s, from.sin_addr.s_addr))
			continue;
		if ((mh.msg_flags & MSG_TRUNC) || len > PCP_MAX_MSG)
			len = PCP_MAX_MSG + 4;	/* oversized: malformed */
		n = pcp_answer(s, from.sin_addr.s_addr, pi->ipi_ifindex, in, len, out);
		if (!n)
			continue;
		{
			char rbuf[CMSG_SPACE(sizeof(struct in_pktinfo))] = {};
			struct iovec riov = { .iov_base = out, .iov_len = n };
			struct msghdr rh = {
				.msg_name = &from, .msg_namelen = sizeof(from),
				.msg_iov = &riov, .msg_iovlen = 1,
				.msg_control = rbuf, .msg_controllen = sizeof(rbuf),
			};
			struct cmsghdr *rc = CMSG_FIRSTHDR(&rh);
			struct in_pktinfo rpi = { .ipi_spec_dst = pi->ipi_addr };

			/* Answer from the address the client sent to. */
			rc->cmsg_level = IPPROTO_IP;
			rc->cmsg_type = IP_PKTINFO;
			rc->cmsg_len = CMSG_LEN(sizeof(rpi));
			memcpy(CMSG_DATA(rc), &rpi, sizeof(rpi));
			if (sendmsg(fd, &rh, MSG_DONTWAIT) < 0)
				fc_debug("pcp: answering %s: %s", inet_ntoa(from.sin_addr),
					 strerror(errno));
		}
	}
}

static int open_socket(const char *ifname, int ifindex)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PCP_SERVER_PORT) };
	struct ip_mreqn mr = { .imr_ifindex = ifindex };
	int one = 1, zero = 0, fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* One socket per interface on 0.0.0.0:5351: SO_BINDTODEVICE keeps
	 * each to its interface, and the gateway's other addresses out. */
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname)) ||
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof(zero)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

void pcp_attach_maps(struct pcp_server *s, int bindings_fd, int sessions_fd)
{
	s->bindings_fd = bindings_fd;
	s->sessions_fd = sessions_fd;
}

struct pcp_server *pcp_open(const struct fc_pcp_opts *po, const struct fc_config *cfg)
{
	struct pcp_server *s = calloc(1, sizeof(*s));

	if (!s) {
		fc_err("pcp: out of memory");
		return NULL;
	}
	s->po = *po;
	s->cfg = cfg;
	s->bindings_fd = s->sessions_fd = -1;
	for (unsigned int i = 0; i < po->nr_ifs; i++) {
		int idx = if_nametoindex(po->ifs[i]), fd;

		if (!idx) {
			fc_err("--pcp-if: no such interface: %s", po->ifs[i]);
			goto fail;
		}
		fd = open_socket(po->ifs[i], idx);
		if (fd < 0) {
			fc_err("--pcp-if %s: cannot listen on UDP port %d: %s", po->ifs[i],
			       PCP_SERVER_PORT, strerror(-fd));
			goto fail;
		}
		s->ifs[s->nr_ifs].ifindex = idx;
		s->ifs[s->nr_ifs].fd = fd;
		s->nr_ifs++;
	}
	refresh_nets(s);
	pcp_state_lost(s);	/* a new epoch, announced */
	return s;
fail:
	pcp_close(s);
	return NULL;
}

void pcp_close(struct pcp_server *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; i < s->nr_ifs; i++)
		close(s->ifs[i].fd);
	free(s);
}

int pcp_poll_fds(const struct pcp_server *s, int *fds, int max)
{
	int n = 0;

	for (unsigned int i = 0; s && i < s->nr_ifs && n < max; i++)
		fds[n++] = s->ifs[i].fd;
	return n;
}

void pcp_state_lost(struct pcp_server *s)
{
	__u64 now = gc_now_ns();

	/* The lifetimes go with the epoch (RFC 6887 §14.1, RFC 6886 §3.6):
	 * what is still in the maps (the address flapped, or the flush of
	 * the old one comes next) becomes an ordinary mapping, idle from now.
	 * Clients see the new epoch and ask again; a request re-adopts a
	 * mapping under the limits every new one meets. */
	for (unsigned int i = 0; i < s->nr_table && s->bindings_fd >= 0; i++)
		binding_release(s, s->table[i].proto, s->table[i].int_addr, s->table[i].int_port,
				now);
	s->nr_table = 0;
	s->epoch_start_ns = now;
	s->announce_left = ANNOUNCE_COUNT;
	s->announce_next_ns = s->epoch_start_ns;
	s->announce_gap_ns = ANNOUNCE_FIRST_GAP_NS;
}

unsigned int pcp_nr_mappings(const struct pcp_server *s)
{
	return s->nr_table;
}

/* NAT-PMP's external address response and PCP's ANNOUNCE response, both
 * unsolicited, to 224.0.0.1:5350 on every interface (RFC 6886 §3.2.1,
 * RFC 6887 §14.1). */
static void announce(struct pcp_server *s)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PCP_CLIENT_PORT),
				  .sin_addr.s_addr = htonl(INADDR_ALLHOSTS_GROUP) };
	__u8 pmp[12], pcp[PCP_HDR_LEN];
	__u32 epoch = epoch_s(s);

	natpmp_build_address(pmp, PMP_SUCCESS, epoch, s->cfg->ext_addr4);
	pcp_build_announce(pcp, epoch);
	for (unsigned int i = 0; i < s->nr_ifs; i++) {
		sendto(s->ifs[i].fd, pmp, sizeof(pmp), MSG_DONTWAIT, (struct sockaddr *)&to,
		       sizeof(to));
		sendto(s->ifs[i].fd, pcp, sizeof(pcp), MSG_DONTWAIT, (struct sockaddr *)&to,
		       sizeof(to));
	}
}

int pcp_timeout_ms(const struct pcp_server *s, uint64_t now_ns)
{
	if (!s || !s->announce_left || !s->cfg->ext_addr4)
		return -1;
	if (s->announce_next_ns <= now_ns)
		return 0;
	return (s->announce_next_ns - now_ns) / 1000000 + 1;
}

void pcp_tick(struct pcp_server *s, uint64_t now_ns)
{
	if (!s)
		return;
	/* Nothing to announce without an address: wait for one. */
	if (s->announce_left && s->cfg->ext_addr4 && s->announce_next_ns <= now_ns) {
		announce(s);
		s->announce_left--;
		s->announce_next_ns = now_ns + s->announce_gap_ns;
		s->announce_gap_ns *= 2;
	}
	for (unsigned int i = 0; i < s->nr_table;) {
		struct pcp_mapping *m = &s->table[i];
		struct fc_endpoint_key ik;
		struct fc_binding b;

		if (m->expires_ns > now_ns) {
			i++;
			continue;
		}
		gc_endpoint_key4(&ik, FC_SIDE_INTERNAL, m->proto, m->int_addr, m->int_port);
		if (bpf_map_lookup_elem(s->bindings_fd, &ik, &b) == 0 && (b.flags & FC_BINDING_PCP))
			binding_remove(s, m->proto, m->int_addr, m->int_port, &b);
		fc_debug("pcp: the %s mapping of %s:%u expired", proto_name(m->proto),
			 inet_ntoa((struct in_addr){ m->int_addr }), m->int_port);
		table_drop(s, m);
	}
	if (now_ns - s->nets_at_ns >= NETS_REFRESH_NS)
		refresh_nets(s);
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
	b.flags &= ~(FC_BINDING_STATIC | FC_BINDING_PCP);
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
