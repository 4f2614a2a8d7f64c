// SPDX-License-Identifier: GPL-2.0
/* The carrier-grade options (doc/design/cgnat.md): pool, scope, limits per
 * subscriber, port blocks. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "option_values.h"
#include "options_int.h"
#include "prefix.h"

/* --pool, --internal-prefix, --exclude: one prefix into its list. */
int add_cgnat_prefix(struct fc_options *o, int id, const char *spec, char *err,
			    size_t errlen)
{
	struct fc_cgnat_opts *c = &o->cgnat;
	struct fc_prefix4 *list = id == OPT_POOL ? c->pool :
				  id == OPT_INTERNAL_PREFIX ? c->internal : c->exclude;
	unsigned int *nr = id == OPT_POOL ? &c->nr_pool :
			   id == OPT_INTERNAL_PREFIX ? &c->nr_internal : &c->nr_exclude;
	unsigned int max = id == OPT_POOL ? FC_MAX_POOL_PREFIXES : FC_MAX_SCOPE_PREFIXES;
	const char *opt = id == OPT_POOL ? "--pool" :
			  id == OPT_INTERNAL_PREFIX ? "--internal" : "--exclude";
	struct fc_prefix4 p;

	if (id == OPT_INTERNAL_PREFIX && parse_prefix4(spec, &p) && !strchr(spec, '.') &&
	    !strchr(spec, ':')) {
		/* fcnat before einat's meaning took this name: say where it went. */
		snprintf(err, errlen, "invalid network '%s': --internal takes internal networks "
			 "(CIDR) as in einat; internal interfaces are --lan-if", spec);
		return -1;
	}
	if (parse_prefix4(spec, &p)) {
		snprintf(err, errlen, "invalid prefix '%s': expected ADDR or ADDR/LEN with the host "
			 "bits zero, e.g. 203.0.113.0/28", spec);
		return -1;
	}
	if (id == OPT_POOL && (p.len < 32 - 12 || !p.addr || (ntohl(p.addr) >> 28) >= 14)) {
		snprintf(err, errlen, "invalid pool prefix '%s': expected unicast addresses, "
			 "at most %d in a prefix (/%d)", spec, FC_POOL_MAX, 32 - 12);
		return -1;
	}
	if (*nr >= max) {
		snprintf(err, errlen, "too many %s prefixes (at most %u)", opt, max);
		return -1;
	}
	list[(*nr)++] = p;
	return 0;
}

/* "N" for every protocol, or "tcp=N,udp=N,icmp=N" (others keep theirs). */
int parse_sub_limit(struct fc_options *o, const char *value, char *err, size_t errlen)
{
	static const char *const names[FC_SUB_PROTOS] = { "tcp", "udp", "icmp" };
	char buf[128], *tok, *save, *eq;
	unsigned int v;

	if (!parse_uint(value, 0, 65535, &v)) {
		for (int i = 0; i < FC_SUB_PROTOS; i++)
			o->cgnat.limit[i] = v;
		return 0;
	}
	if (strlen(value) >= sizeof(buf))
		goto bad;
	strcpy(buf, value);
	for (tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
		int i;

		eq = strchr(tok, '=');
		if (!eq)
			goto bad;
		*eq = '\0';
		for (i = 0; i < FC_SUB_PROTOS && strcmp(tok, names[i]); i++)
			;
		if (i == FC_SUB_PROTOS || parse_uint(eq + 1, 0, 65535, &v))
			goto bad;
		o->cgnat.limit[i] = v;
	}
	return 0;
bad:
	snprintf(err, errlen, "invalid limit '%s': expected N or tcp=N,udp=N,icmp=N "
		 "with N from 0 (no limit) to 65535", value);
	return -1;
}

bool cgnat_subscribers_on(const struct fc_cgnat_opts *c)
{
	return c->nr_pool || c->limit[FC_SUB_TCP] || c->limit[FC_SUB_UDP] || c->limit[FC_SUB_ICMP] ||
	       c->block_size;
}

int port_blocks_check(const struct fc_options *o, char *err, size_t errlen)
{
	const struct fc_cgnat_opts *c = &o->cgnat;
	unsigned int ports;

	if (!c->block_size) {
		if (c->max_blocks) {
			snprintf(err, errlen, "--max-port-blocks needs --port-block-size");
			return -1;
		}
		return 0;
	}
	if (c->det_on) {
		snprintf(err, errlen, "--port-block-size and --deterministic exclude each other "
			 "(deterministic NAT gives each subscriber one fixed range)");
		return -1;
	}
	if (o->nr_port_ranges != 1) {
		snprintf(err, errlen, "--port-block-size needs exactly one port range (--ports "
			 "FIRST-LAST), got %u", o->nr_port_ranges);
		return -1;
	}
	ports = o->port_ranges[0].last - o->port_ranges[0].first + 1;
	if (c->block_size > ports) {
		snprintf(err, errlen, "--port-block-size %u is larger than the port range (%u ports)",
			 c->block_size, ports);
		return -1;
	}
	return 0;
}

/* Do two IPv4 prefixes share an address? */
static bool prefixes_overlap(__be32 a, unsigned int alen, __be32 b, unsigned int blen)
{
	return prefix_match(&a, &b, alen < blen ? alen : blen);
}

int nat64_pool_vs_pool_check(const struct fc_options *o, char *err, size_t errlen)
{
	const struct fc_nat64_pool_opts *p = &o->nat64pool;
	const struct fc_cgnat_opts *c = &o->cgnat;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	/* An address is a NAT64 host's or the subscribers' to share, never
	 * both: inbound packets to it could not say whose they are. */
	for (unsigned int i = 0; i < c->nr_pool; i++) {
		inet_ntop(AF_INET, &c->pool[i].addr, b, sizeof(b));
		if (p->pool4 && prefixes_overlap(p->pool4, p->pool4_len, c->pool[i].addr,
						     c->pool[i].len)) {
			inet_ntop(AF_INET, &p->pool4, a, sizeof(a));
			snprintf(err, errlen, "--nat64-pool4 %s/%u overlaps --pool %s/%u: an "
				 "address is a NAT64 host's or the subscribers', not both",
				 a, p->pool4_len, b, c->pool[i].len);
			return -1;
		}
		for (unsigned int j = 0; j < p->nr_static; j++) {
			if (!prefixes_overlap(p->statics[j].v4, 32, c->pool[i].addr, c->pool[i].len))
				continue;
			inet_ntop(AF_INET, &p->statics[j].v4, a, sizeof(a));
			snprintf(err, errlen, "--nat64-static: %s is in --pool %s/%u: an address is "
				 "a NAT64 host's or the subscribers', not both", a, b, c->pool[i].len);
			return -1;
		}
	}
	return 0;
}

int pool_addresses(const struct fc_cgnat_opts *c, __be32 *out, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->nr_pool; i++) {
		__u32 first = ntohl(c->pool[i].addr);
		__u64 count = 1ULL << (32 - c->pool[i].len);

		for (__u64 k = 0; k < count; k++) {
			__u32 a = first + (__u32)k;
			bool dup = false;

			/* A duplicate is in an earlier prefix (one prefix has none). */
			for (unsigned int j = 0; j < i && !dup; j++)
				dup = a - ntohl(c->pool[j].addr) < (1ULL << (32 - c->pool[j].len));
			if (dup)
				continue;
			if (n >= max)
				return -1;
			out[n++] = htonl(a);
		}
	}
	return n;
}
