// SPDX-License-Identifier: GPL-2.0
/*
 * fcnat show subscribers: the per-subscriber table (mapping counts,
 * refusals) with each subscriber's external address and own port ranges
 * (deterministic NAT, port blocks).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include <fcnat/rules.h>
#include "gc.h"
#include "log.h"
#include "show_int.h"
#include "stats.h"

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
	    (k->family != FC_AF_INET || !show_in_prefix(&r->o->filter_internal, k->addr.v4)))
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

int show_subscribers(const struct instance *in, const struct fc_options *o)
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

		show_addr_str(&x->key.addr, x->key.family, a, sizeof(a));
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
				json_object_object_add(m, proto_name(show_usage_protos[p]),
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
		show_print_json(arr);
	free(r.v);
	return 0;
}