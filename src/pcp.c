// SPDX-License-Identifier: GPL-2.0
/*
 * NAT-PMP (RFC 6886, version 0) and PCP (RFC 6887, version 2) on UDP 5351
 * of the internal interfaces, in the daemon's poll loop.
 *
 * A mapping asked for is an ordinary mapping of the bindings map, flagged
 * FC_BINDING_STATIC | FC_BINDING_PCP: the datapath translates it like any
 * other, the sweeper leaves it alone, and this file deletes it when its
 * lifetime ends (table below, one entry per mapping). An internal endpoint
 * that already has a mapping keeps it (endpoint-independent mapping): the
 * request only makes it last. See doc/design/port-mapping.md.
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

#define PCP_SERVER_PORT 5351
#define PCP_CLIENT_PORT 5350	/* announcements go to 224.0.0.1:5350 */
#define PCP_MAX_MSG 1100	/* RFC 6887 §7 */
#define PCP_HDR_LEN 24
#define PCP_MAP_LEN 36
#define PCP_PEER_LEN 56
#define PCP_VERSION 2
#define NATPMP_VERSION 0
#define NONCE_LEN 12

enum pcp_opcode { PCP_OP_ANNOUNCE = 0, PCP_OP_MAP = 1, PCP_OP_PEER = 2 };

enum pcp_result {
	PCP_SUCCESS = 0,
	PCP_UNSUPP_VERSION = 1,
	PCP_NOT_AUTHORIZED = 2,
	PCP_MALFORMED_REQUEST = 3,
	PCP_UNSUPP_OPCODE = 4,
	PCP_UNSUPP_OPTION = 5,
	PCP_MALFORMED_OPTION = 6,
	PCP_NETWORK_FAILURE = 7,
	PCP_NO_RESOURCES = 8,
	PCP_UNSUPP_PROTOCOL = 9,
	PCP_USER_EX_QUOTA = 10,
	PCP_CANNOT_PROVIDE_EXTERNAL = 11,
	PCP_ADDRESS_MISMATCH = 12,
};

enum pcp_option { PCP_OPT_THIRD_PARTY = 1, PCP_OPT_PREFER_FAILURE = 2, PCP_OPT_FILTER = 3 };

enum natpmp_result {
	PMP_SUCCESS = 0,
	PMP_UNSUPP_VERSION = 1,
	PMP_REFUSED = 2,
	PMP_NETWORK_FAILURE = 3,
	PMP_NO_RESOURCES = 4,
	PMP_UNSUPP_OPCODE = 5,
};

/* How long a client should take an error as lasting (RFC 6887 §7.4:
 * "long" and "short" lifetime errors). */
#define PCP_LONG_ERROR_S 1800
#define PCP_SHORT_ERROR_S 30

#define PCP_TABLE_MAX 4096	/* mappings with a lifetime, all clients */
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
	__u8 nonce[NONCE_LEN];
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

/* ---- byte order helpers ---- */

static __u16 get16(const __u8 *p)
{
	return (__u16)p[0] << 8 | p[1];
}

static __u32 get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(__u8 *p, __u32 v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* ::ffff:a.b.c.d, the form PCP carries IPv4 addresses in (RFC 6887 §5). */
static bool get_mapped4(const __u8 *p, __be32 *a)
{
	static const __u8 prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (memcmp(p, prefix, sizeof(prefix)))
		return false;
	memcpy(a, p + 12, 4);
	return true;
}

static bool all_zero(const __u8 *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static void put_mapped4(__u8 *p, __be32 a)
{
	memset(p, 0, 10);
	p[10] = p[11] = 0xff;
	memcpy(p + 12, &a, 4);
}

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

/* Flag both sides of an existing (dynamic) mapping as ours. */
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

static enum map_status map_request(struct pcp_server *s, const struct map_req *r,
				   struct map_ans *a)
{
	__be32 ext = s->cfg->ext_addr4;
	__u64 now = gc_now_ns();
	struct fc_endpoint_key ik;
	struct fc_binding b;
	struct pcp_mapping *m;
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
		if (b.flags & FC_BINDING_PCP) {
			if (m && m->has_nonce && r->nonce && memcmp(m->nonce, r->nonce, NONCE_LEN))
				return MAP_REFUSED;
		} else {
			/* A dynamic mapping (EIM): it becomes ours, same port. */
			if (!m && table_count_host(s, r->int_addr) >= s->po.max_per_host)
				return MAP_QUOTA;
			if (!m && s->nr_table >= PCP_TABLE_MAX)
				return MAP_NO_RESOURCES;
			if (binding_adopt(s, r->proto, r->int_addr, r->int_port, &b))
				return MAP_NO_RESOURCES;
		}
		port = a->ext_port;
		ext = a->ext_addr;
	} else {
		if (table_count_host(s, r->int_addr) >= s->po.max_per_host)
			return MAP_QUOTA;
		if (s->nr_table >= PCP_TABLE_MAX)
			return MAP_NO_RESOURCES;
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
		m = &s->table[s->nr_table++];
		memset(m, 0, sizeof(*m));
		m->proto = r->proto;
		m->int_addr = r->int_addr;
		m->int_port = r->int_port;
	}
	m->ext_addr = ext;
	m->ext_port = port;
	m->expires_ns = now + (__u64)r->lifetime * NS;
	if (r->nonce && !m->has_nonce) {
		memcpy(m->nonce, r->nonce, NONCE_LEN);
		m->has_nonce = true;
	}
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
	if (!(b.flags & FC_BINDING_PCP))
		return MAP_OK;
	if (m && m->has_nonce && nonce && memcmp(m->nonce, nonce, NONCE_LEN))
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

static size_t natpmp_handle(struct pcp_server *s, __be32 src, const __u8 *in, size_t len,
			    __u8 *out)
{
	__u8 op = in[1];
	__u16 int_port, suggested;
	__u32 lifetime;
	struct map_ans a = {};
	enum map_status st;
	__u16 result;

	if (op == 0) {
		out[0] = NATPMP_VERSION;
		out[1] = 128;
		put16(out + 2, s->cfg->ext_addr4 ? PMP_SUCCESS : PMP_NETWORK_FAILURE);
		put32(out + 4, epoch_s(s));
		memcpy(out + 8, &s->cfg->ext_addr4, 4);
		return 12;
	}
	if (op != 1 && op != 2) {
		/* The request comes back with the response bit and result 5. */
		size_t n = len < 8 ? 8 : len;

		memset(out, 0, 8);
		memcpy(out, in, len);
		out[1] |= 128;
		put16(out + 2, PMP_UNSUPP_OPCODE);
		put32(out + 4, epoch_s(s));
		return n;
	}
	if (len < 12)
		return 0;	/* too short to be a mapping request: ignored */
	int_port = get16(in + 4);
	suggested = get16(in + 6);
	lifetime = get32(in + 8);
	out[0] = NATPMP_VERSION;
	out[1] = 128 + op;
	put32(out + 4, epoch_s(s));
	put16(out + 8, int_port);
	put16(out + 10, 0);
	put32(out + 12, 0);
	if (lifetime == 0) {
		if (int_port == 0) {
			unmap_all(s, op == 1 ? FC_PROTO_UDP : FC_PROTO_TCP, src);
			st = MAP_OK;
		} else {
			st = unmap_request(s, op == 1 ? FC_PROTO_UDP : FC_PROTO_TCP, src, int_port,
					   NULL);
		}
		put16(out + 2, st == MAP_OK ? PMP_SUCCESS : PMP_REFUSED);
		return 16;
	}
	if (int_port == 0) {
		put16(out + 2, PMP_REFUSED);	/* "all ports" is not offered */
		return 16;
	}
	st = map_request(s, &(struct map_req){
		.proto = op == 1 ? FC_PROTO_UDP : FC_PROTO_TCP, .int_addr = src,
		.int_port = int_port, .suggested = suggested, .lifetime = grant(s, lifetime),
	}, &a);
	switch (st) {
	case MAP_OK:
		result = PMP_SUCCESS;
		put16(out + 10, a.ext_port);
		put32(out + 12, a.lifetime);
		break;
	case MAP_NO_EXTERNAL:
		result = PMP_NETWORK_FAILURE;
		break;
	case MAP_REFUSED:
		result = PMP_REFUSED;
		break;
	default:
		result = PMP_NO_RESOURCES;
	}
	put16(out + 2, result);
	return 16;
}

/* ---- PCP ---- */

static bool error_is_long(__u8 result)
{
	return result != PCP_NETWORK_FAILURE && result != PCP_NO_RESOURCES &&
	       result != PCP_USER_EX_QUOTA && result != PCP_CANNOT_PROVIDE_EXTERNAL;
}

/* An error response: the request copied (up to 1100 bytes, padded to a
 * multiple of 4), the header's server fields set (RFC 6887 §7.2). */
static size_t pcp_error(const struct pcp_server *s, const __u8 *in, size_t len, __u8 result,
			__u8 *out)
{
	size_t n = len > PCP_MAX_MSG ? PCP_MAX_MSG : len;

	memset(out, 0, PCP_MAX_MSG);
	memcpy(out, in, n);
	if (n < PCP_HDR_LEN)
		n = PCP_HDR_LEN;
	n = (n + 3) & ~(size_t)3;
	if (n > PCP_MAX_MSG)
		n = PCP_MAX_MSG;
	out[0] = PCP_VERSION;
	out[1] = 0x80 | (in[1] & 0x7f);
	out[2] = 0;
	out[3] = result;
	put32(out + 4, error_is_long(result) ? PCP_LONG_ERROR_S : PCP_SHORT_ERROR_S);
	put32(out + 8, epoch_s(s));
	memset(out + 12, 0, 12);
	return n;
}

static bool addr_allowed(struct pcp_server *s, __be32 a, int ifindex);

struct pcp_opts_seen {
	bool third_party;
	bool prefer_failure;
	__be32 third_party_addr;
	size_t echo_len;	/* the options to repeat in a success response */
	__u8 echo[PCP_MAX_MSG];
};

/* Options after the opcode data: 0 or a result code. */
static __u8 pcp_parse_options(const __u8 *p, size_t len, __u8 opcode, struct pcp_opts_seen *o)
{
	size_t off = 0;

	memset(o, 0, sizeof(*o));
	while (off < len) {
		__u8 code;
		size_t olen, padded;

		if (len - off < 4)
			return PCP_MALFORMED_OPTION;
		code = p[off];
		olen = get16(p + off + 2);
		padded = (olen + 3) & ~(size_t)3;
		if (padded > len - off - 4)
			return PCP_MALFORMED_OPTION;
		switch (code) {
		case PCP_OPT_THIRD_PARTY:
			if (opcode == PCP_OP_ANNOUNCE || olen != 16 || o->third_party)
				return PCP_MALFORMED_OPTION;
			if (!get_mapped4(p + off + 4, &o->third_party_addr))
				return PCP_MALFORMED_OPTION;	/* NAT44: IPv4 only */
			o->third_party = true;
			break;
		case PCP_OPT_PREFER_FAILURE:
			if (opcode != PCP_OP_MAP || olen != 0 || o->prefer_failure)
				return PCP_MALFORMED_OPTION;
			o->prefer_failure = true;
			break;
		default:
			/* FILTER (3) included: full cone has no per-mapping
			 * filter. 0-127 must be understood, 128-255 may be
			 * skipped (§7.3). */
			if (code < 128)
				return PCP_UNSUPP_OPTION;
			off += 4 + padded;
			continue;
		}
		memcpy(o->echo + o->echo_len, p + off, 4 + padded);
		o->echo_len += 4 + padded;
		off += 4 + padded;
	}
	return 0;
}

static size_t pcp_handle(struct pcp_server *s, __be32 src, int ifindex, const __u8 *in,
			 size_t len, __u8 *out)
{
	static struct pcp_opts_seen opts;
	__u8 opcode = in[1] & 0x7f, proto, result = PCP_SUCCESS;
	size_t body, n;
	__be32 client, int_addr, sugg_addr = 0;
	__u16 int_port, suggested;
	__u32 lifetime;
	struct map_ans a = {};
	enum map_status st = MAP_OK;

	if (in[0] != PCP_VERSION)
		return pcp_error(s, in, len < PCP_HDR_LEN ? len : PCP_HDR_LEN, PCP_UNSUPP_VERSION,
				 out);
	if (len < PCP_HDR_LEN || len > PCP_MAX_MSG || len % 4)
		return pcp_error(s, in, len, PCP_MALFORMED_REQUEST, out);
	if (!get_mapped4(in + 8, &client) || client != src)
		return pcp_error(s, in, len, PCP_ADDRESS_MISMATCH, out);
	switch (opcode) {
	case PCP_OP_ANNOUNCE:
		body = 0;
		break;
	case PCP_OP_MAP:
		body = PCP_MAP_LEN;
		break;
	case PCP_OP_PEER:
		body = PCP_PEER_LEN;
		break;
	default:
		return pcp_error(s, in, len, PCP_UNSUPP_OPCODE, out);
	}
	if (len < PCP_HDR_LEN + body)
		return pcp_error(s, in, len, PCP_MALFORMED_REQUEST, out);
	result = pcp_parse_options(in + PCP_HDR_LEN + body, len - PCP_HDR_LEN - body, opcode,
				   &opts);
	if (result)
		return pcp_error(s, in, len, result, out);
	lifetime = get32(in + 4);
	int_addr = src;
	if (opts.third_party) {
		if (!s->po.third_party || !addr_allowed(s, opts.third_party_addr, ifindex))
			return pcp_error(s, in, len, PCP_NOT_AUTHORIZED, out);
		int_addr = opts.third_party_addr;
	}

	/* The success response: header, the request's opcode data with the
	 * assigned fields filled in below, the options we acted on. */
	memset(out, 0, PCP_HDR_LEN + body);
	out[0] = PCP_VERSION;
	out[1] = 0x80 | opcode;
	put32(out + 8, epoch_s(s));
	memcpy(out + PCP_HDR_LEN, in + PCP_HDR_LEN, body);
	memcpy(out + PCP_HDR_LEN + body, opts.echo, opts.echo_len);
	n = PCP_HDR_LEN + body + opts.echo_len;
	if (opcode == PCP_OP_ANNOUNCE)
		return n;	/* lifetime 0, epoch: "I am here, with this state" */

	proto = in[36];
	int_port = get16(in + 40);
	suggested = get16(in + 42);
	if (!all_zero(in + 44, 16) && !get_mapped4(in + 44, &sugg_addr))
		sugg_addr = htonl(INADDR_BROADCAST);	/* IPv6: never ours */
	if (proto == 0 && int_port)
		return pcp_error(s, in, len, PCP_MALFORMED_REQUEST, out);
	if (opcode == PCP_OP_PEER) {
		__be32 peer;

		if (!proto || !int_port || !get16(in + 60) || !get_mapped4(in + 64, &peer) ||
		    !peer)
			return pcp_error(s, in, len, PCP_MALFORMED_REQUEST, out);
	}
	if (proto != FC_PROTO_TCP && proto != FC_PROTO_UDP)
		return pcp_error(s, in, len, PCP_UNSUPP_PROTOCOL, out);
	if (opts.prefer_failure && sugg_addr && sugg_addr != s->cfg->ext_addr4)
		return pcp_error(s, in, len, PCP_CANNOT_PROVIDE_EXTERNAL, out);

	if (opcode == PCP_OP_MAP && lifetime == 0) {
		if (int_port == 0)
			unmap_all(s, proto, int_addr);
		else
			st = unmap_request(s, proto, int_addr, int_port, in + 24);
		if (st != MAP_OK)
			return pcp_error(s, in, len, PCP_NOT_AUTHORIZED, out);
		/* Deleted: lifetime 0, the request's external fields kept. */
		return n;
	}
	if (int_port == 0)
		return pcp_error(s, in, len, PCP_NOT_AUTHORIZED, out);	/* no "all ports" */
	if (opcode == PCP_OP_PEER && lifetime == 0) {
		/* PEER never deletes: report the mapping as it is. */
		struct fc_endpoint_key ik;
		struct fc_binding b;
		struct pcp_mapping *m = table_find(s, proto, int_addr, int_port);

		gc_endpoint_key4(&ik, FC_SIDE_INTERNAL, proto, int_addr, int_port);
		if (bpf_map_lookup_elem(s->bindings_fd, &ik, &b) == 0) {
			__u64 now = gc_now_ns();

			put16(out + 42, ntohs(b.port));
			put_mapped4(out + 44, b.addr.v4);
			if (m && m->expires_ns > now)
				put32(out + 4, (m->expires_ns - now) / NS);
		}
		return n;
	}
	st = map_request(s, &(struct map_req){
		.proto = proto, .int_addr = int_addr, .int_port = int_port,
		.suggested = suggested, .lifetime = grant(s, lifetime),
		.prefer_failure = opts.prefer_failure, .nonce = in + 24,
	}, &a);
	switch (st) {
	case MAP_OK:
		break;
	case MAP_NO_EXTERNAL:
		return pcp_error(s, in, len, PCP_NETWORK_FAILURE, out);
	case MAP_QUOTA:
		return pcp_error(s, in, len, PCP_USER_EX_QUOTA, out);
	case MAP_REFUSED:
		return pcp_error(s, in, len, PCP_NOT_AUTHORIZED, out);
	case MAP_PORT_UNAVAILABLE:
		return pcp_error(s, in, len, PCP_CANNOT_PROVIDE_EXTERNAL, out);
	default:
		return pcp_error(s, in, len, PCP_NO_RESOURCES, out);
	}
	put32(out + 4, a.lifetime);
	put16(out + 42, a.ext_port);
	put_mapped4(out + 44, a.ext_addr);
	return n;
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

static bool nets_match(const struct pcp_server *s, __be32 a, int ifindex)
{
	for (unsigned int i = 0; i < s->nr_nets; i++) {
		const struct local_net *n = &s->nets[i];

		if (n->ifindex == ifindex && (a & n->mask) == (n->addr & n->mask) && a != n->addr &&
		    (a | n->mask) != 0xffffffffU)
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
		/* Shorter than 2 bytes, or a response (R bit): dropped
		 * (RFC 6886 §3.1, RFC 6887 §8.3). */
		if (len < 2 || (in[1] & 0x80))
			continue;
		if ((mh.msg_flags & MSG_TRUNC) || len > PCP_MAX_MSG)
			len = PCP_MAX_MSG + 4;	/* oversized: malformed below */
		if (in[0] == NATPMP_VERSION)
			n = natpmp_handle(s, from.sin_addr.s_addr, in, len > PCP_MAX_MSG ? PCP_MAX_MSG : len,
					  out);
		else
			n = pcp_handle(s, from.sin_addr.s_addr, pi->ipi_ifindex, in, len, out);
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
			if (sendmsg(fd, &rh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
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
	s->nr_table = 0;
	s->epoch_start_ns = gc_now_ns();
	s->announce_left = ANNOUNCE_COUNT;
	s->announce_next_ns = s->epoch_start_ns;
	s->announce_gap_ns = ANNOUNCE_FIRST_GAP_NS;
}

/* NAT-PMP's external address response and PCP's ANNOUNCE response, both
 * unsolicited, to 224.0.0.1:5350 on every interface (RFC 6886 §3.2.1,
 * RFC 6887 §14.1). */
static void announce(struct pcp_server *s)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PCP_CLIENT_PORT),
				  .sin_addr.s_addr = htonl(INADDR_ALLHOSTS_GROUP) };
	__u8 pmp[12] = { NATPMP_VERSION, 128 }, pcp[PCP_HDR_LEN] = { PCP_VERSION, 0x80 };
	__u32 epoch = epoch_s(s);

	put32(pmp + 4, epoch);
	memcpy(pmp + 8, &s->cfg->ext_addr4, 4);
	put32(pcp + 8, epoch);
	for (unsigned int i = 0; i < s->nr_ifs; i++) {
		sendto(s->ifs[i].fd, pmp, sizeof(pmp), MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&to,
		       sizeof(to));
		sendto(s->ifs[i].fd, pcp, sizeof(pcp), MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&to,
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
