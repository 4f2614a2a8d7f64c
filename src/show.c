// SPDX-License-Identifier: GPL-2.0
/*
 * fcnat show mappings|sessions, fcnat stats: read a running (or kept)
 * instance's pinned maps and print them as text or JSON (json-c). Read
 * only: the datapath and the daemon are never disturbed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include "epset.h"
#include "gc.h"
#include "log.h"
#include "pin.h"
#include "show.h"
#include "nat64_pool.h"
#include "sync.h"
#include "stats.h"

struct instance {
	struct fc_pin pin;
	int bindings_fd, sessions_fd, stats_fd, config_fd, pool_fd, subscribers_fd;
	int p64_out_fd, p64_in_fd;	/* NAT64 address mapping */
	struct fc_config cfg;
	__u64 now;
};

static void addr_str(const union fc_addr *a, __u8 family, char *out, size_t len)
{
	if (family == FC_AF_INET6)
		inet_ntop(AF_INET6, a->v6, out, len);
	else
		inet_ntop(AF_INET, &a->v4, out, len);
}

const char *tcp_state_name(__u32 seen)
{
	if (seen & FC_TCP_RST)
		return "reset";
	if ((seen & FC_TCP_FIN_OUT) && (seen & FC_TCP_FIN_IN))
		return "closed";
	if (seen & (FC_TCP_FIN_OUT | FC_TCP_FIN_IN))
		return "closing";
	if (((seen & FC_TCP_SYN_OUT) && (seen & FC_TCP_SYN_IN)) ||
	    ((seen & FC_TCP_ACK_OUT) && (seen & FC_TCP_ACK_IN)))
		return "established";
	if (seen & FC_TCP_SYN_OUT)
		return "syn-sent";
	if (seen & FC_TCP_SYN_IN)
		return "syn-received";
	return "new";
}

static double seconds_until(__u64 when, __u64 now)
{
	return when > now ? (double)(when - now) / 1e9 : 0.0;
}

static int open_instance(struct instance *in, const struct fc_options *o)
{
	__u32 zero = 0;

	memset(in, 0, sizeof(*in));
	in->bindings_fd = in->sessions_fd = in->stats_fd = in->config_fd = -1;
	in->pool_fd = in->subscribers_fd = -1;
	in->p64_out_fd = in->p64_in_fd = -1;
	if (pin_open_ro(&in->pin, o->bpffs, o->ifname))
		return -1;
	in->bindings_fd = pin_map_fd(&in->pin, "fc_bindings");
	in->sessions_fd = pin_map_fd(&in->pin, "fc_sessions");
	in->stats_fd = pin_map_fd(&in->pin, "fc_stats");
	in->config_fd = pin_map_fd(&in->pin, "fc_config");
	in->pool_fd = pin_map_fd(&in->pin, "fc_pool");
	in->subscribers_fd = pin_map_fd(&in->pin, "fc_subscribers");
	in->p64_out_fd = pin_map_fd(&in->pin, "fc_p64_out");
	in->p64_in_fd = pin_map_fd(&in->pin, "fc_p64_in");
	if (in->bindings_fd < 0 || in->sessions_fd < 0 || in->stats_fd < 0 || in->config_fd < 0 ||
	    in->pool_fd < 0 || in->subscribers_fd < 0 || in->p64_out_fd < 0 || in->p64_in_fd < 0 ||
	    bpf_map_lookup_elem(in->config_fd, &zero, &in->cfg)) {
		fc_err("cannot read the pinned maps in %s: %s", in->pin.dir, strerror(errno));
		return -1;
	}
	in->now = gc_now_ns();
	return 0;
}

static void close_instance(struct instance *in)
{
	int fds[] = { in->bindings_fd, in->sessions_fd, in->stats_fd, in->config_fd, in->pool_fd,
		      in->subscribers_fd, in->p64_out_fd, in->p64_in_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	pin_close(&in->pin);
}

/* ---- collecting ---------------------------------------------------------- */

struct row {
	/* int_family: the internal endpoint's; ext_family: the external
	 * endpoint's and the remote's (NAT64: IPv6 inside, IPv4 outside). */
	__u8 proto, int_family, ext_family, has_internal;
	__u16 int_port, ext_port, remote_port;
	union fc_addr int_addr, ext_addr, remote_addr;
	__u64 expires_ns;
	__u64 sessions;		/* mappings */
	__u32 tcp_seen;		/* sessions */
	__u8 flags;		/* mappings: enum fc_binding_flags */
	__u8 addr_only;		/* a NAT64 address mapping: no ports, proto "ip" */
};

struct rows {
	struct row *v;
	size_t n, cap;
};

static struct row *rows_add(struct rows *r)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct row *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		r->v = v;
		r->cap = cap;
	}
	memset(&r->v[r->n], 0, sizeof(r->v[0]));
	return &r->v[r->n++];
}

struct collect {
	const struct instance *in;
	const struct fc_options *o;
	struct epset per_mapping;	/* external endpoint -> live sessions */
	struct rows rows;
	unsigned long mappings, sessions;
	/* stats: external ports in use per (address, protocol) */
	struct epset ports_used;
};

/* Is a (network order) in prefix p (--internal's filter)? */
static bool in_prefix(const struct fc_prefix4 *p, __be32 a)
{
	__u32 mask = p->len ? 0xffffffffU << (32 - p->len) : 0;

	return ((ntohl(a) ^ ntohl(p->addr)) & mask) == 0;
}

static bool match(const struct fc_options *o, __u8 proto, __u8 int_family,
		  const union fc_addr *int_addr, bool has_internal, __u16 ext_port)
{
	if (o->filter_proto && proto != o->filter_proto)
		return false;
	if (o->filter_internal_set && (!has_internal || int_family != FC_AF_INET ||
				       !in_prefix(&o->filter_internal, int_addr->v4)))
		return false;
	if (o->filter_external && ext_port != o->filter_external)
		return false;
	return true;
}

static int count_session(void *ctx, const void *key, const void *value)
{
	struct collect *c = ctx;
	const struct fc_session_key *k = key;
	const struct fc_session *v = value;
	struct fc_endpoint_key ek;

	if (v->expires_ns <= c->in->now)
		return 0;	/* expired, not swept yet */
	c->sessions++;
	fc_ext_endpoint_key(&ek, k->family, k->proto, &k->ext_addr, k->ext_port);
	return epset_add(&c->per_mapping, &ek, 1);
}

static int collect_mapping(void *ctx, const void *key, const void *value)
{
	struct collect *c = ctx;
	const struct fc_endpoint_key *k = key;
	const struct fc_binding *b = value;
	struct fc_endpoint_key ek;
	__u64 until, n = 0;
	struct row *r;

	if (k->side != FC_SIDE_INTERNAL)
		return 0;
	if (!fc_mapping_alive(&c->in->cfg, k->proto, b, c->in->now))
		return 0;	/* expired, not swept yet */
	until = b->last_out_ns + fc_mapping_base_timeout(&c->in->cfg, k->proto);
	if (b->sessions_until_ns > until)
		until = b->sessions_until_ns;
	/* NAT-PMP/PCP: the granted lifetime, published by the daemon. */
	if (b->flags & FC_BINDING_PCP)
		until = (__u64)b->pcp_expires_s * 1000000000ULL;
	if (!(b->flags & FC_BINDING_STATIC) && until <= c->in->now)
		return 0;	/* expired, not swept yet */
	c->mappings++;
	fc_ext_endpoint_key(&ek, b->family, k->proto, &b->addr, b->port);
	epset_get(&c->per_mapping, &ek, &n);
	/* Port utilisation: one external port per mapping; the address and
	 * protocol in the key, port 0. */
	ek.port = 0;
	if (epset_add(&c->ports_used, &ek, 1))
		return -ENOMEM;
	if (!match(c->o, k->proto, k->family, &k->addr, true, ntohs(b->port)))
		return 0;
	r = rows_add(&c->rows);
	if (!r)
		return -ENOMEM;
	r->proto = k->proto;
	r->int_family = k->family;
	r->ext_family = b->family;
	r->has_internal = 1;
	r->int_addr = k->addr;
	r->int_port = ntohs(k->port);
	r->ext_addr = b->addr;
	r->ext_port = ntohs(b->port);
	r->expires_ns = until;
	r->sessions = n;
	r->flags = b->flags;
	return 0;
}

/* A NAT64 address mapping (src/nat64_pool.c) as a row: all protocols,
 * no ports. */
static int collect_addrmap(void *ctx, const struct nat64_pool_row *m)
{
	struct collect *c = ctx;
	struct row *r;

	c->mappings++;
	if (c->o->filter_proto || c->o->filter_internal_set || c->o->filter_external)
		return 0;
	r = rows_add(&c->rows);
	if (!r)
		return -ENOMEM;
	r->int_family = FC_AF_INET6;
	r->ext_family = FC_AF_INET;
	r->has_internal = 1;
	memcpy(r->int_addr.v6, m->v6, 16);
	r->ext_addr.v4 = m->v4;
	r->expires_ns = m->expires_ns;
	r->flags = m->is_static ? FC_BINDING_STATIC : 0;
	r->addr_only = 1;
	return 0;
}

static int collect_session(void *ctx, const void *key, const void *value)
{
	struct collect *c = ctx;
	const struct fc_session_key *k = key;
	const struct fc_session *v = value;
	struct fc_endpoint_key ek;
	struct fc_binding b = {};
	struct row *r;
	bool has_internal;

	if (v->expires_ns <= c->in->now)
		return 0;
	fc_ext_endpoint_key(&ek, k->family, k->proto, &k->ext_addr, k->ext_port);
	has_internal = bpf_map_lookup_elem(c->in->bindings_fd, &ek, &b) == 0;
	if (!match(c->o, k->proto, b.family, &b.addr, has_internal, ntohs(k->ext_port)))
		return 0;
	r = rows_add(&c->rows);
	if (!r)
		return -ENOMEM;
	r->proto = k->proto;
	r->ext_family = k->family;
	r->has_internal = has_internal;
	if (has_internal) {
		/* The external entry names the internal endpoint, in its own
		 * family. */
		r->int_family = b.family;
		r->int_addr = b.addr;
		r->int_port = ntohs(b.port);
	}
	r->ext_addr = k->ext_addr;
	r->ext_port = ntohs(k->ext_port);
	r->remote_addr = k->remote_addr;
	r->remote_port = ntohs(k->remote_port);
	r->expires_ns = v->expires_ns;
	r->tcp_seen = v->tcp_seen;
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int d;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	d = memcmp(&x->int_addr, &y->int_addr, sizeof(x->int_addr));
	if (d)
		return d;
	if (x->int_port != y->int_port)
		return x->int_port - y->int_port;
	if (x->ext_family != y->ext_family)	/* an IPv6 endpoint's NAT64 mapping first */
		return x->ext_family - y->ext_family;
	if (x->ext_port != y->ext_port)
		return x->ext_port - y->ext_port;
	d = memcmp(&x->remote_addr, &y->remote_addr, sizeof(x->remote_addr));
	return d ? d : x->remote_port - y->remote_port;
}

static int collect_all(struct collect *c, const struct instance *in, const struct fc_options *o,
		       bool sessions)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->in = in;
	c->o = o;
	epset_init(&c->per_mapping);
	epset_init(&c->ports_used);
	err = map_walk(in->sessions_fd, sizeof(struct fc_session_key), sizeof(struct fc_session),
		       count_session, c);
	if (!err && sessions)
		err = map_walk(in->sessions_fd, sizeof(struct fc_session_key),
			       sizeof(struct fc_session), collect_session, c);
	if (!err && !sessions)
		err = map_walk(in->bindings_fd, sizeof(struct fc_endpoint_key),
			       sizeof(struct fc_binding), collect_mapping, c);
	if (!err && !sessions && in->p64_out_fd >= 0)
		err = nat64_pool_walk(in->p64_out_fd, in->p64_in_fd, &in->cfg, in->now,
				      collect_addrmap, c);
	if (err) {
		fc_err("reading the maps in %s: %s", in->pin.dir, strerror(-err));
		return err;
	}
	if (c->rows.n)	/* no rows: v is NULL, which qsort() must not get */
		qsort(c->rows.v, c->rows.n, sizeof(struct row), row_cmp);
	return 0;
}

static void collect_free(struct collect *c)
{
	epset_free(&c->per_mapping);
	epset_free(&c->ports_used);
	free(c->rows.v);
}

/* ---- printing ------------------------------------------------------------ */

static void endpoint_str(const union fc_addr *a, __u8 family, __u16 port, char *out, size_t len)
{
	char s[INET6_ADDRSTRLEN];

	addr_str(a, family, s, sizeof(s));
	snprintf(out, len, "%s:%u", s, port);
}

static void json_add_addr(json_object *o, const char *key, const union fc_addr *a, __u8 family)
{
	char s[INET6_ADDRSTRLEN];

	addr_str(a, family, s, sizeof(s));
	json_object_object_add(o, key, json_object_new_string(s));
}

/* Seconds with millisecond precision, printed as such. */
static json_object *json_seconds(double v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.3f", v);
	return json_object_new_double_s(v, buf);
}

static void print_json(json_object *root)
{
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

/* Who ends a mapping: the configuration (a forward), the port-mapping
 * server (its lifetime; "upnp" when UPnP IGD asked for it, "pcp" for
 * NAT-PMP and PCP), or its traffic going idle. */
static const char *mapping_owner(__u8 flags)
{
	if (flags & FC_BINDING_UPNP)
		return "upnp";
	if (flags & FC_BINDING_PCP)
		return "pcp";
	return flags & FC_BINDING_STATIC ? "forward" : "traffic";
}

static bool row_permanent(const struct row *x)
{
	if (x->flags & FC_BINDING_PCP)
		return !x->expires_ns;
	return x->flags & FC_BINDING_STATIC;
}

static void print_rows(const struct collect *c, const struct instance *in, bool sessions,
		       bool json)
{
	json_object *arr = json ? json_object_new_array() : NULL;
	char i[64], e[64], r[64];

	if (!json) {
		if (sessions)
			printf("%-5s %-21s %-21s %-21s %-12s %s\n", "PROTO", "INTERNAL", "EXTERNAL",
			       "REMOTE", "STATE", "EXPIRES");
		else
			printf("%-5s %-21s %-21s %-8s %s\n", "PROTO", "INTERNAL", "EXTERNAL",
			       "SESSIONS", "EXPIRES");
	}
	for (size_t n = 0; n < c->rows.n; n++) {
		const struct row *x = &c->rows.v[n];
		double left = seconds_until(x->expires_ns, in->now);
		const char *state = x->proto == FC_PROTO_TCP ? tcp_state_name(x->tcp_seen) : "active";

		if (json) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "proto", json_object_new_string(
					       x->addr_only ? "ip" : proto_name(x->proto)));
			if (x->addr_only) {
				json_add_addr(o, "internal_addr", &x->int_addr, x->int_family);
				json_object_object_add(o, "internal_port", NULL);
			} else if (x->has_internal) {
				json_add_addr(o, "internal_addr", &x->int_addr, x->int_family);
				json_object_object_add(o, "internal_port",
						       json_object_new_int(x->int_port));
			} else {
				json_object_object_add(o, "internal_addr", NULL);
				json_object_object_add(o, "internal_port", NULL);
			}
			json_add_addr(o, "external_addr", &x->ext_addr, x->ext_family);
			json_object_object_add(o, "external_port", x->addr_only ? NULL :
					       json_object_new_int(x->ext_port));
			if (sessions) {
				json_add_addr(o, "remote_addr", &x->remote_addr, x->ext_family);
				json_object_object_add(o, "remote_port",
						       json_object_new_int(x->remote_port));
				json_object_object_add(o, "state", json_object_new_string(state));
			} else {
				json_object_object_add(o, "sessions",
						       json_object_new_int64(x->sessions));
				json_object_object_add(o, "static", json_object_new_boolean(
						       !!(x->flags & FC_BINDING_STATIC)));
			}
			if (!sessions)
				json_object_object_add(o, "owner", json_object_new_string(
						       x->addr_only ? (x->flags & FC_BINDING_STATIC ?
								       "nat64-static" : "nat64-pool")
								    : mapping_owner(x->flags)));
			/* None: a forward, or (a bug) a NAT-PMP/PCP mapping
			 * without a lifetime. */
			json_object_object_add(o, "expires_in",
					       row_permanent(x) ? NULL : json_seconds(left));
			json_object_array_add(arr, o);
			continue;
		}
		if (x->addr_only) {
			addr_str(&x->int_addr, x->int_family, i, sizeof(i));
			addr_str(&x->ext_addr, x->ext_family, e, sizeof(e));
		} else {
			if (x->has_internal)
				endpoint_str(&x->int_addr, x->int_family, x->int_port, i,
					     sizeof(i));
			else
				snprintf(i, sizeof(i), "-");
			endpoint_str(&x->ext_addr, x->ext_family, x->ext_port, e, sizeof(e));
		}
		if (sessions) {
			endpoint_str(&x->remote_addr, x->ext_family, x->remote_port, r, sizeof(r));
			printf("%-5s %-21s %-21s %-21s %-12s %.0fs\n", proto_name(x->proto), i, e, r,
			       state, left);
		} else if (row_permanent(x)) {
			printf("%-5s %-21s %-21s %-8llu static\n",
			       x->addr_only ? "ip" : proto_name(x->proto), i, e,
			       (unsigned long long)x->sessions);
		} else {
			printf("%-5s %-21s %-21s %-8llu %.0fs\n",
			       x->addr_only ? "ip" : proto_name(x->proto), i, e,
			       (unsigned long long)x->sessions, left);
		}
	}
	if (json)
		print_json(arr);
}

/* The external addresses: the interface's (if it has one), then the pool's
 * in pool order, each once. NULL on error; *n set. */
static struct fc_addr_usage *external_addrs(int pool_fd, const struct fc_config *cfg,
					    unsigned int *n)
{
	struct fc_addr_usage *v = calloc(cfg->nr_pool + 1, sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	if (cfg->ext_addr4)
		v[(*n)++].addr = cfg->ext_addr4;
	for (__u32 i = 0; pool_fd >= 0 && i < cfg->nr_pool && i < FC_POOL_MAX; i++) {
		__be32 a;

		if (bpf_map_lookup_elem(pool_fd, &i, &a) || a == cfg->ext_addr4)
			continue;
		v[(*n)++].addr = a;
	}
	return v;
}

static const __u8 usage_protos[FC_SUMMARY_PROTOS] = { FC_PROTO_TCP, FC_PROTO_UDP, FC_PROTO_ICMP };

/* Fill each address's used ports from the collected mappings. */
static void usage_fill(const struct collect *c, struct fc_addr_usage *v, unsigned int n)
{
	for (unsigned int a = 0; a < n; a++) {
		/* Keys compare all 16 bytes: { .v4 = x } would leave 12 unspecified. */
		union fc_addr addr = {};

		addr.v4 = v[a].addr;
		for (int i = 0; i < FC_SUMMARY_PROTOS; i++) {
			struct fc_endpoint_key k;

			fc_ext_endpoint_key(&k, FC_AF_INET, usage_protos[i], &addr, 0);
			v[a].ports_used[i] = 0;
			epset_get(&c->ports_used, &k, &v[a].ports_used[i]);
		}
	}
}

/* Used ports per (address, protocol), in a fixed protocol order. */
static int port_usage(const struct collect *c, const struct instance *in, json_object *arr)
{
	unsigned int n;
	struct fc_addr_usage *v = external_addrs(in->pool_fd, &in->cfg, &n);
	char s[INET_ADDRSTRLEN];

	if (!v)
		return -ENOMEM;
	usage_fill(c, v, n);
	for (unsigned int a = 0; a < n; a++) {
		inet_ntop(AF_INET, &v[a].addr, s, sizeof(s));
		for (int i = 0; i < FC_SUMMARY_PROTOS; i++) {
			__u64 used = v[a].ports_used[i];
			__u32 total = in->cfg.ports[fc_proto_slot(usage_protos[i])].total;
			double pct = total ? 100.0 * used / total : 0;

			if (arr) {
				json_object *o = json_object_new_object();

				json_object_object_add(o, "address", json_object_new_string(s));
				json_object_object_add(o, "proto",
						       json_object_new_string(proto_name(usage_protos[i])));
				json_object_object_add(o, "used", json_object_new_int64(used));
				json_object_object_add(o, "total",
						       json_object_new_int64(total));
				json_object_object_add(o, "utilisation",
						       json_object_new_double(pct / 100));
				json_object_object_add(o, "pool", json_object_new_boolean(
						       v[a].addr != in->cfg.ext_addr4));
				json_object_array_add(arr, o);
			} else {
				printf("  %-15s %-4s %llu of %u (%.2f%%)\n", s,
				       proto_name(usage_protos[i]), (unsigned long long)used,
				       total, pct);
			}
		}
	}
	free(v);
	return 0;
}

/* ---- subscribers --------------------------------------------------------- */

struct sub_row {
	struct fc_subscriber_key key;
	struct fc_subscriber v;
};

struct sub_rows {
	struct sub_row *v;
	size_t n, cap;
	const struct fc_options *o;
};

static int collect_subscriber(void *ctx, const void *key, const void *value)
{
	struct sub_rows *r = ctx;
	const struct fc_subscriber_key *k = key;

	if (r->o && r->o->filter_internal_set &&
	    (k->family != FC_AF_INET || !in_prefix(&r->o->filter_internal, k->addr.v4)))
		return 0;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct sub_row *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n].key = *k;
	r->v[r->n].v = *(const struct fc_subscriber *)value;
	r->n++;
	return 0;
}

static int sub_row_cmp(const void *a, const void *b)
{
	const struct sub_row *x = a, *y = b;

	if (x->key.family != y->key.family)
		return x->key.family - y->key.family;
	return memcmp(&x->key.addr, &y->key.addr, sizeof(x->key.addr));
}

/* Deterministic NAT: the subscriber's own ports, by the datapath's rules
 * (include/fcnat/rules.h) over the running configuration. */
static bool sub_det_ports(const struct fc_config *cfg, const struct fc_subscriber_key *k,
			  unsigned int *first, unsigned int *last)
{
	__u32 i;

	if (!(cfg->flags & FC_CFG_DETERMINISTIC) || !cfg->nr_pool ||
	    fc_det_index(cfg, k->family, &k->addr, &i))
		return false;
	*first = fc_det_first_port(cfg, i);
	*last = *first + cfg->det_ports - 1;
	return true;
}

/* Port blocks: the subscriber's blocks as port ranges, in port order. */
static unsigned int sub_blocks(const struct fc_config *cfg, const struct fc_subscriber *v,
			       unsigned int *first, unsigned int *last, unsigned int max)
{
	unsigned int n = 0;

	if (!(cfg->flags & FC_CFG_PORT_BLOCKS) || !cfg->block_size)
		return 0;
	for (int j = 0; j < FC_MAX_PORT_BLOCKS && n < max; j++) {
		unsigned int b = v->blocks[j], k;

		if (!b || b > cfg->block_count)
			continue;
		for (k = n; k > 0 && first[k - 1] > fc_block_first_port(cfg, b - 1); k--) {
			first[k] = first[k - 1];
			last[k] = last[k - 1];
		}
		first[k] = fc_block_first_port(cfg, b - 1);
		last[k] = first[k] + cfg->block_size - 1;
		n++;
	}
	return n;
}

static int print_subscribers(const struct instance *in, const struct fc_options *o)
{
	struct sub_rows r = { .o = o };
	json_object *arr = o->json ? json_object_new_array() : NULL;
	char a[INET6_ADDRSTRLEN], e[INET_ADDRSTRLEN];
	int err;

	err = map_walk(in->subscribers_fd, sizeof(struct fc_subscriber_key),
		       sizeof(struct fc_subscriber), collect_subscriber, &r);
	if (err) {
		fc_err("reading the subscribers in %s: %s", in->pin.dir, strerror(-err));
		free(r.v);
		json_object_put(arr);
		return err;
	}
	if (r.n)
		qsort(r.v, r.n, sizeof(r.v[0]), sub_row_cmp);
	if (!arr)
		printf("%-39s %-15s %6s %6s %6s %8s %s\n", "SUBSCRIBER", "EXTERNAL", "TCP", "UDP",
		       "ICMP", "REFUSED", "PORTS");
	for (size_t i = 0; i < r.n; i++) {
		const struct sub_row *x = &r.v[i];
		__be32 ext = in->cfg.nr_pool ? x->v.ext_addr4 : in->cfg.ext_addr4;
		unsigned int first[FC_MAX_PORT_BLOCKS], last[FC_MAX_PORT_BLOCKS], nr = 0;
		char ports[FC_MAX_PORT_BLOCKS * 12 + 2] = "-";
		size_t used = 0;

		addr_str(&x->key.addr, x->key.family, a, sizeof(a));
		inet_ntop(AF_INET, &ext, e, sizeof(e));
		if (sub_det_ports(&in->cfg, &x->key, &first[0], &last[0]))
			nr = 1;
		nr += sub_blocks(&in->cfg, &x->v, first + nr, last + nr, FC_MAX_PORT_BLOCKS - nr);
		for (unsigned int k = 0; k < nr && used < sizeof(ports); k++)
			used += snprintf(ports + used, sizeof(ports) - used, "%s%u-%u", k ? "," : "",
					 first[k], last[k]);
		if (arr) {
			json_object *j = json_object_new_object(), *m = json_object_new_object();
			json_object *pr = json_object_new_array();

			json_object_object_add(j, "internal_addr", json_object_new_string(a));
			json_object_object_add(j, "external_addr", ext ? json_object_new_string(e) : NULL);
			for (unsigned int k = 0; k < nr; k++) {
				json_object *one = json_object_new_object();

				json_object_object_add(one, "first", json_object_new_int(first[k]));
				json_object_object_add(one, "last", json_object_new_int(last[k]));
				json_object_array_add(pr, one);
			}
			/* Its own ports (deterministic range or port blocks);
			 * empty: it shares the range. */
			json_object_object_add(j, "port_ranges", pr);
			for (int p = 0; p < FC_SUB_PROTOS; p++)
				json_object_object_add(m, proto_name(usage_protos[p]),
						       json_object_new_int64(x->v.mappings[p]));
			json_object_object_add(j, "mappings", m);
			json_object_object_add(j, "refused", json_object_new_int64(x->v.refused));
			json_object_array_add(arr, j);
		} else {
			printf("%-39s %-15s %6u %6u %6u %8llu %s\n", a, ext ? e : "-",
			       x->v.mappings[FC_SUB_TCP], x->v.mappings[FC_SUB_UDP],
			       x->v.mappings[FC_SUB_ICMP], (unsigned long long)x->v.refused, ports);
		}
	}
	if (arr)
		print_json(arr);
	free(r.v);
	return 0;
}

static unsigned long count_entries(int fd, size_t ksz)
{
	char key[64], next[64];
	unsigned long n = 0;
	void *prev = NULL;

	while (fd >= 0 && bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, ksz);
		prev = key;
		n++;
	}
	return n;
}

/* How the datapath is attached: TCX links or clsact filters (tc_attach.h). */
static const char *attach_name(const struct instance *in)
{
	if (!(in->pin.meta.flags & FC_META_ATTACHED))
		return "none";
	return in->pin.meta.flags & FC_META_TCX ? "tcx" : "clsact";
}

/* The interface an instance is on: -i, else its state directory's name
 * (where ':' stands for a VLAN's '.'). */
static const char *instance_ifname(const struct instance *in, const struct fc_options *o,
				   char *out, size_t len)
{
	const char *base = strrchr(in->pin.dir, '/');

	const char *name = o->ifname[0] ? o->ifname : base ? base + 1 : in->pin.dir;
	size_t n = strnlen(name, len - 1);

	memcpy(out, name, n);
	out[n] = '\0';
	for (char *p = out; *p; p++)
		if (*p == ':')
			*p = '.';
	return out;
}

static int print_stats(const struct instance *in, const struct fc_options *o)
{
	char ifname[IF_NAMESIZE + 1];
	json_object *sync;
	__u64 counters[FC_STAT_MAX];
	struct collect c;
	int err;

	err = stats_read(in->stats_fd, counters);
	if (err) {
		fc_err("reading the counters in %s: %s", in->pin.dir, strerror(-err));
		return err;
	}
	err = collect_all(&c, in, o, false);
	if (err)
		return err;
	sync = sync_status_query(instance_ifname(in, o, ifname, sizeof(ifname)));
	if (o->json) {
		json_object *root = json_object_new_object();
		json_object *cnt = json_object_new_object();
		json_object *ports = json_object_new_array();

		for (int k = 0; k < FC_STAT_MAX; k++)
			json_object_object_add(cnt, stat_name(k), json_object_new_int64(counters[k]));
		for (int k = 0; k < FC_DSTAT_NR; k++)
			json_object_object_add(cnt, dstat_name(k),
					       json_object_new_int64(in->pin.meta.counters[k]));
		json_object_object_add(root, "counters", cnt);
		json_object_object_add(root, "attach", json_object_new_string(attach_name(in)));
		json_object_object_add(root, "mappings", json_object_new_int64(c.mappings));
		json_object_object_add(root, "sessions", json_object_new_int64(c.sessions));
		json_object_object_add(root, "subscribers", json_object_new_int64(
			count_entries(in->subscribers_fd, sizeof(struct fc_subscriber_key))));
		port_usage(&c, in, ports);
		json_object_object_add(root, "ports", ports);
		if (sync)
			json_object_object_add(root, "sync", sync);
		print_json(root);
	} else {
		printf("attach %s\n", attach_name(in));
		printf("mappings %lu\nsessions %lu\nsubscribers %lu\nports in use:\n", c.mappings,
		       c.sessions, count_entries(in->subscribers_fd, sizeof(struct fc_subscriber_key)));
		port_usage(&c, in, NULL);
		printf("counters:\n");
		for (int k = 0; k < FC_STAT_MAX; k++)
			printf("  %-28s %llu\n", stat_name(k), (unsigned long long)counters[k]);
		for (int k = 0; k < FC_DSTAT_NR; k++)
			printf("  %-28s %llu\n", dstat_name(k),
			       (unsigned long long)in->pin.meta.counters[k]);
		if (sync) {
			/* HA state sync: the daemon's, asked over its socket. */
			printf("sync:\n");
			json_object_object_foreach(sync, key, val)
				printf("  %-28s %s\n", key, val ? json_object_get_string(val) : "-");
			json_object_put(sync);
		}
	}
	collect_free(&c);
	return 0;
}

int summary_read(int bindings_fd, int sessions_fd, int pool_fd, int subscribers_fd,
		 const struct fc_config *cfg, struct fc_summary *out)
{
	struct instance in = {
		.bindings_fd = bindings_fd, .sessions_fd = sessions_fd, .cfg = *cfg,
		.now = gc_now_ns(), .p64_out_fd = -1, .p64_in_fd = -1,	/* port mappings only */
	};
	struct fc_options none;
	struct collect c;
	int err;

	memset(&none, 0, sizeof(none));
	memset(out, 0, sizeof(*out));
	snprintf(in.pin.dir, sizeof(in.pin.dir), "(live maps)");
	err = collect_all(&c, &in, &none, false);
	if (err)
		return err;
	out->mappings = c.mappings;
	out->sessions = c.sessions;
	out->subscribers = count_entries(subscribers_fd, sizeof(struct fc_subscriber_key));
	out->addrs = external_addrs(pool_fd, cfg, &out->nr_addrs);
	if (out->addrs)
		usage_fill(&c, out->addrs, out->nr_addrs);
	collect_free(&c);
	return out->addrs ? 0 : -ENOMEM;
}

void summary_free(struct fc_summary *s)
{
	free(s->addrs);
	s->addrs = NULL;
	s->nr_addrs = 0;
}

const char *summary_proto_name(int i)
{
	static const char *const names[FC_SUMMARY_PROTOS] = { "tcp", "udp", "icmp" };

	return i >= 0 && i < FC_SUMMARY_PROTOS ? names[i] : "?";
}

int show_main(const struct fc_options *o)
{
	struct instance in;
	struct collect c;
	int err;

	if (open_instance(&in, o)) {
		close_instance(&in);
		return FC_EXIT_FAIL;
	}
	if (o->cmd == FC_CMD_STATS) {
		err = print_stats(&in, o);
	} else if (o->cmd == FC_CMD_SHOW_SUBSCRIBERS) {
		err = print_subscribers(&in, o);
	} else {
		bool sessions = o->cmd == FC_CMD_SHOW_SESSIONS;

		err = collect_all(&c, &in, o, sessions);
		if (!err) {
			print_rows(&c, &in, sessions, o->json);
			collect_free(&c);
		}
	}
	close_instance(&in);
	return err ? FC_EXIT_FAIL : FC_EXIT_OK;
}
