// SPDX-License-Identifier: GPL-2.0
/*
 * fcnat show mappings|sessions|subscribers, fcnat stats: read a running
 * (or kept) instance's pinned maps and print them as text or JSON (json-c).
 * Read only: the datapath and the daemon are never disturbed. Here: opening
 * the instance, the mappings and sessions listing, and the dispatch;
 * show_stats.c and show_subscribers.c print the rest.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include "gc.h"
#include "log.h"
#include "nat64_pool.h"
#include "prefix.h"
#include "show_int.h"
#include "stats.h"

void show_addr_str(const union fc_addr *a, __u8 family, char *out, size_t len)
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

/* Is a (network order) in prefix p (--internal's filter)? */
bool show_in_prefix(const struct fc_prefix4 *p, __be32 a)
{
	return prefix_match(&a, &p->addr, p->len);
}

static bool match(const struct fc_options *o, __u8 proto, __u8 int_family,
		  const union fc_addr *int_addr, bool has_internal, __u16 ext_port)
{
	if (o->filter_proto && proto != o->filter_proto)
		return false;
	if (o->filter_internal_set && (!has_internal || int_family != FC_AF_INET ||
				       !show_in_prefix(&o->filter_internal, int_addr->v4)))
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

int show_collect(struct collect *c, const struct instance *in, const struct fc_options *o,
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

void show_collect_free(struct collect *c)
{
	epset_free(&c->per_mapping);
	epset_free(&c->ports_used);
	free(c->rows.v);
}

/* ---- printing ------------------------------------------------------------ */

static void endpoint_str(const union fc_addr *a, __u8 family, __u16 port, char *out, size_t len)
{
	char s[INET6_ADDRSTRLEN];

	show_addr_str(a, family, s, sizeof(s));
	snprintf(out, len, "%s:%u", s, port);
}

static void json_add_addr(json_object *o, const char *key, const union fc_addr *a, __u8 family)
{
	char s[INET6_ADDRSTRLEN];

	show_addr_str(a, family, s, sizeof(s));
	json_object_object_add(o, key, json_object_new_string(s));
}

/* Seconds with millisecond precision, printed as such. */
static json_object *json_seconds(double v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.3f", v);
	return json_object_new_double_s(v, buf);
}

void show_print_json(json_object *root)
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
			show_addr_str(&x->int_addr, x->int_family, i, sizeof(i));
			show_addr_str(&x->ext_addr, x->ext_family, e, sizeof(e));
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
		show_print_json(arr);
}

int show_main(const struct fc_options *o)
{
	struct instance in;
	struct collect c;
	int err;

	if (o->cmd == FC_CMD_STATS && !pin_ro_exists(o->bpffs, o->ifname)) {
		int shown = show_stats_offload_only(o);

		if (shown)
			return shown > 0 ? FC_EXIT_OK : FC_EXIT_FAIL;
	}
	if (open_instance(&in, o)) {
		close_instance(&in);
		return FC_EXIT_FAIL;
	}
	if (o->cmd == FC_CMD_STATS) {
		err = show_stats(&in, o);
	} else if (o->cmd == FC_CMD_SHOW_SUBSCRIBERS) {
		err = show_subscribers(&in, o);
	} else {
		bool sessions = o->cmd == FC_CMD_SHOW_SESSIONS;

		err = show_collect(&c, &in, o, sessions);
		if (!err) {
			print_rows(&c, &in, sessions, o->json);
			show_collect_free(&c);
		}
	}
	close_instance(&in);
	return err ? FC_EXIT_FAIL : FC_EXIT_OK;
}
