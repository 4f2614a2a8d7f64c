// SPDX-License-Identifier: GPL-2.0
/*
 * Deterministic NAT (RFC 7422) in user space: the plan, both directions of
 * the formula, and `fcnat lookup`. The daemon is not needed: everything
 * follows from the configuration.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <fcnat/rules.h>

#include "deterministic.h"

int det_plan(const struct fc_options *o, struct fc_det_plan *p, char *err, size_t errlen)
{
	const struct fc_cgnat_opts *c = &o->cgnat;
	__u64 m, k, ports;
	int n;

	memset(p, 0, sizeof(*p));
	if (!c->det_on) {
		snprintf(err, errlen, "no deterministic NAT configured (--deterministic PREFIX)");
		return -1;
	}
	if (!c->nr_pool) {
		snprintf(err, errlen, "--deterministic needs the external addresses: --pool PREFIX");
		return -1;
	}
	n = pool_addresses(c, p->pool, FC_POOL_MAX);
	if (n <= 0) {
		snprintf(err, errlen, "--pool: more than %d addresses", FC_POOL_MAX);
		return -1;
	}
	if (o->nr_port_ranges != 1) {
		snprintf(err, errlen, "--deterministic needs exactly one port range (--ports FIRST-LAST), "
			 "got %u", o->nr_port_ranges);
		return -1;
	}
	p->base = c->det.addr;
	p->len = c->det.len;
	p->nr_pool = n;
	p->first = o->port_ranges[0].first;
	p->last = o->port_ranges[0].last;
	m = 1ULL << (32 - p->len);
	k = (m + n - 1) / n;
	ports = (p->last - p->first + 1) / k;
	if (ports < 1) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &p->base, a, sizeof(a));
		snprintf(err, errlen, "--deterministic %s/%u: %llu internal addresses do not fit "
			 "%d pool address(es) x %u ports (%llu per address need at least 1 port "
			 "each): use a smaller prefix, a larger pool or a larger port range",
			 a, p->len, (unsigned long long)m, n, p->last - p->first + 1,
			 (unsigned long long)k);
		return -1;
	}
	p->count = m;
	p->per_addr = k;
	p->ports = ports;
	return 0;
}

void det_config(const struct fc_det_plan *p, struct fc_config *cfg)
{
	cfg->flags |= FC_CFG_DETERMINISTIC;
	cfg->det_base = p->base;
	cfg->det_count = p->count;
	cfg->det_ports = p->ports;
	cfg->det_first = p->first;
}

int det_forward(const struct fc_det_plan *p, __be32 internal, struct fc_det_entry *e)
{
	struct fc_config cfg = { .nr_pool = p->nr_pool };
	union fc_addr a = { .v4 = internal };
	__u32 i;

	det_config(p, &cfg);
	if (!p->nr_pool || fc_det_index(&cfg, FC_AF_INET, &a, &i))
		return -1;
	e->internal = internal;
	e->external = p->pool[fc_det_pool_slot(&cfg, i)];
	e->first = fc_det_first_port(&cfg, i);
	e->last = e->first + p->ports - 1;
	return 0;
}

int det_reverse(const struct fc_det_plan *p, __be32 external, __u16 port, struct fc_det_entry *e)
{
	__u32 x, slot, i;

	for (x = 0; x < p->nr_pool && p->pool[x] != external; x++)
		;
	if (x == p->nr_pool || port < p->first || port > p->last)
		return -1;
	slot = (port - p->first) / p->ports;
	if (slot >= p->per_addr)
		return -1;	/* the P mod K ports at the top are nobody's */
	i = slot * p->nr_pool + x;
	if (i >= p->count)
		return -1;	/* the last slot is not full: M is not a multiple of N */
	return det_forward(p, htonl(ntohl(p->base) + i), e);
}

static void print_entry(const struct fc_det_entry *e, int port, bool json)
{
	char in[INET_ADDRSTRLEN], ext[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &e->internal, in, sizeof(in));
	inet_ntop(AF_INET, &e->external, ext, sizeof(ext));
	if (json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "internal", json_object_new_string(in));
		json_object_object_add(o, "external", json_object_new_string(ext));
		if (port >= 0)
			json_object_object_add(o, "port", json_object_new_int(port));
		json_object_object_add(o, "port_first", json_object_new_int(e->first));
		json_object_object_add(o, "port_last", json_object_new_int(e->last));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else if (port >= 0) {
		printf("%s port %d: internal %s (ports %u-%u of %s)\n", ext, port, in, e->first,
		       e->last, ext);
	} else {
		printf("%s: external %s ports %u-%u\n", in, ext, e->first, e->last);
	}
}

int lookup_main(const struct fc_options *o)
{
	struct fc_det_plan *p = calloc(1, sizeof(*p));
	struct fc_det_entry e;
	struct in_addr a;
	char err[512];
	int ret = FC_EXIT_FAIL;

	if (!p)
		return FC_EXIT_FAIL;
	if (det_plan(o, p, err, sizeof(err))) {
		fprintf(stderr, "fcnat: error: lookup: %s\n", err);
		ret = FC_EXIT_USAGE;
		goto out;
	}
	if (inet_pton(AF_INET, o->lookup_addr, &a) != 1) {
		fprintf(stderr, "fcnat: error: lookup: invalid IPv4 address '%s'\n", o->lookup_addr);
		ret = FC_EXIT_USAGE;
		goto out;
	}
	if (o->lookup_port >= 0) {
		if (det_reverse(p, a.s_addr, o->lookup_port, &e)) {
			fprintf(stderr, "fcnat: %s port %d belongs to no subscriber (pool %u "
				"address(es), ports %u-%u, %u per subscriber)\n", o->lookup_addr,
				o->lookup_port, p->nr_pool, p->first, p->last, p->ports);
			goto out;
		}
	} else if (det_forward(p, a.s_addr, &e)) {
		char b[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &p->base, b, sizeof(b));
		fprintf(stderr, "fcnat: %s is outside the deterministic prefix %s/%u\n",
			o->lookup_addr, b, p->len);
		goto out;
	}
	print_entry(&e, o->lookup_port, o->json);
	ret = FC_EXIT_OK;
out:
	free(p);
	return ret;
}
