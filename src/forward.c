// SPDX-License-Identifier: GPL-2.0
/*
 * Static forwards are mappings like any other, made at start instead of by
 * a first packet, and flagged FC_BINDING_STATIC so they never expire: the
 * datapath needs nothing new. Inbound packets to the external port reach the
 * internal endpoint (EIF), and that endpoint's own outbound packets use the
 * same external port (EIM). An IPv6 internal endpoint is a NAT64 mapping
 * (an IPv6-only server published on the IPv4 side): the same two entries,
 * keyed as the datapath's NAT64 makes them (fcnat/rules.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include <fcnat/rules.h>

#include "forward.h"
#include "log.h"
#include "ports.h"
#include "prefix.h"

static int parse_port(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -1;
	*out = v;
	return 0;
}

/* "192.168.1.10", or "[2001:db8::10]" (NAT64); not the unspecified one. */
static int parse_target(char *s, struct fc_forward *f)
{
	size_t n = strlen(s);
	static const union fc_addr zero;

	memset(&f->int_addr, 0, sizeof(f->int_addr));
	if (n > 2 && s[0] == '[' && s[n - 1] == ']') {
		s[n - 1] = '\0';
		f->int_family = FC_AF_INET6;
		if (inet_pton(AF_INET6, s + 1, f->int_addr.v6) != 1)
			return -1;
	} else {
		f->int_family = FC_AF_INET;
		if (inet_pton(AF_INET, s, &f->int_addr.v4) != 1)
			return -1;
	}
	return memcmp(&f->int_addr, &zero, sizeof(zero)) ? 0 : -1;
}

int forward_parse(const char *spec, struct fc_forward *f, char *err, size_t errlen)
{
	char buf[128], *proto, *ext, *dash, *in, *port;
	unsigned int first, last, iport;

	if (strlen(spec) >= sizeof(buf))
		goto bad;
	strcpy(buf, spec);
	proto = buf;
	ext = strchr(buf, ':');
	if (!ext)
		goto bad;
	*ext++ = '\0';
	in = strchr(ext, '=');
	if (!in)
		goto bad;
	*in++ = '\0';
	port = strrchr(in, ':');
	if (!port)
		goto bad;
	*port++ = '\0';
	dash = strchr(ext, '-');
	if (dash)
		*dash++ = '\0';

	if (!strcmp(proto, "udp"))
		f->proto = FC_PROTO_UDP;
	else if (!strcmp(proto, "tcp"))
		f->proto = FC_PROTO_TCP;
	else
		goto bad;
	if (parse_port(ext, &first) || (dash ? parse_port(dash, &last) : (last = first, 0)) ||
	    last < first || parse_port(port, &iport) || iport + (last - first) > 65535 ||
	    parse_target(in, f))
		goto bad;
	f->ext_first = first;
	f->ext_last = last;
	f->int_port = iport;
	return 0;
bad:
	snprintf(err, errlen, "invalid forward '%s': expected PROTO:EXT_PORT[-LAST]=ADDR:PORT "
		 "with PROTO udp or tcp, e.g. udp:25000=192.168.1.10:3074, or an IPv6 ADDR "
		 "in brackets (NAT64, NAT66), e.g. tcp:8080=[2001:db8::10]:80", spec);
	return -1;
}

/* Where a forward to an IPv6 server could not work: a message, or NULL.
 * It is published through NAT64 on the IPv4 address and through NAT66 on
 * the IPv6 one, whichever runs; NAT64's is a port mapping of the
 * port-translating NAT64. */
static const char *nat64_target_problem(const struct fc_options *o, const struct fc_forward *f)
{
	if (!o->nat64 && !o->nat66)
		return "an IPv6 server needs --nat64 or --nat66";
	if (!o->nat64)
		return NULL;
	if (prefix_match(f->int_addr.v6, o->nat64_prefix, o->nat64_prefix_len))
		return "the IPv6 server is under the NAT64 prefix (an IPv4 host's address)";
	return nat64_pool_not_port_mapped(&o->nat64pool, f->int_addr.v6);
}

static int in_ranges(const struct fc_options *o, __u8 proto, unsigned int port)
{
	unsigned int nr;
	const struct fc_port_range *r = ports_of_proto(o, proto, &nr);

	for (unsigned int i = 0; i < nr; i++)
		if (port >= r[i].first && port <= r[i].last)
			return 1;
	return 0;
}

int forwards_check(const struct fc_options *o, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < o->nr_forwards; i++) {
		const struct fc_forward *f = &o->forwards[i];
		const char *pn = f->proto == FC_PROTO_TCP ? "tcp" : "udp";
		const char *problem = f->int_family == FC_AF_INET6 ? nat64_target_problem(o, f) : NULL;

		if (problem) {
			snprintf(err, errlen, "forward %s:%u: %s", pn, f->ext_first, problem);
			return -1;
		}
		/* Inbound packets are only translated on ports of the range. */
		for (unsigned int p = f->ext_first; p <= f->ext_last; p++) {
			if (!in_ranges(o, f->proto, p)) {
				snprintf(err, errlen, "forward %s:%u: port %u is outside the NAT's "
					 "%s port ranges (--ports, --%s-ports)", pn, f->ext_first, p, pn,
					 pn);
				return -1;
			}
		}
		for (unsigned int j = 0; j < i; j++) {
			const struct fc_forward *g = &o->forwards[j];
			unsigned int n = f->ext_last - f->ext_first, m = g->ext_last - g->ext_first;

			if (g->proto != f->proto)
				continue;
			if (f->ext_first <= g->ext_last && g->ext_first <= f->ext_last) {
				snprintf(err, errlen, "forwards %s:%u and %s:%u use the same external "
					 "port", pn, f->ext_first, pn, g->ext_first);
				return -1;
			}
			/* One internal endpoint has one mapping (EIM). */
			if (g->int_family == f->int_family &&
			    !memcmp(&g->int_addr, &f->int_addr, sizeof(f->int_addr)) &&
			    f->int_port <= g->int_port + m &&
			    g->int_port <= f->int_port + n) {
				snprintf(err, errlen, "forwards %s:%u and %s:%u go to the same internal "
					 "endpoint", pn, f->ext_first, pn, g->ext_first);
				return -1;
			}
		}
	}
	return 0;
}

static void addr_str(__u8 family, const union fc_addr *a, char *buf, size_t len)
{
	inet_ntop(family == FC_AF_INET6 ? AF_INET6 : AF_INET, a, buf, len);
}

/* The external endpoint's entry names the internal endpoint, the internal
 * endpoint's names the external one (EIM: its only mapping in that port
 * space). ext: the external address, of ext_family. */
static int install_one(int fd, const struct fc_forward *f, __u8 ext_family,
		       const union fc_addr *ext, __u16 ext_port, __u16 int_port)
{
	struct fc_endpoint_key ek, ik, old_ek;
	struct fc_binding ev = { .family = f->int_family, .flags = FC_BINDING_STATIC };
	struct fc_binding iv = { .family = ext_family, .flags = FC_BINDING_STATIC };
	struct fc_binding cur;
	char a[INET6_ADDRSTRLEN];
	const char *pn = f->proto == FC_PROTO_TCP ? "tcp" : "udp";

	fc_ext_endpoint_key(&ek, ext_family, f->proto, ext, htons(ext_port));
	ev.addr = f->int_addr;
	ev.port = htons(int_port);
	if (bpf_map_update_elem(fd, &ek, &ev, BPF_NOEXIST)) {
		if (errno != EEXIST)
			return -errno;
		/* Ours already (a restart over kept state), or a live mapping's. */
		if (bpf_map_lookup_elem(fd, &ek, &cur) == 0 &&
		    (cur.family != ev.family || memcmp(&cur.addr, &ev.addr, sizeof(ev.addr)))) {
			addr_str(cur.family, &cur.addr, a, sizeof(a));
			fc_err("forward %s:%u: the port is held by a live mapping of %s%s%s:%u", pn,
			       ext_port, cur.family == FC_AF_INET6 ? "[" : "", a,
			       cur.family == FC_AF_INET6 ? "]" : "", ntohs(cur.port));
			return -EADDRINUSE;
		}
		if (bpf_map_update_elem(fd, &ek, &ev, BPF_EXIST))
			return -errno;
	}
	/* The internal endpoint may have had a dynamic mapping: its external
	 * port goes back, the forward's becomes its only one. */
	fc_int_endpoint_key(&ik, f->int_family, ext_family, f->proto, &f->int_addr,
			    htons(int_port));
	if (bpf_map_lookup_elem(fd, &ik, &cur) == 0 &&
	    (cur.port != htons(ext_port) || memcmp(&cur.addr, ext, sizeof(*ext)))) {
		struct fc_binding back;

		fc_ext_endpoint_key(&old_ek, ext_family, f->proto, &cur.addr, cur.port);
		if (bpf_map_lookup_elem(fd, &old_ek, &back) == 0 && back.family == ev.family &&
		    !memcmp(&back.addr, &ev.addr, sizeof(ev.addr)) && back.port == ev.port)
			bpf_map_delete_elem(fd, &old_ek);
	}
	iv.addr = *ext;
	iv.port = htons(ext_port);
	if (bpf_map_update_elem(fd, &ik, &iv, BPF_ANY))
		return -errno;
	return 0;
}

/* The forwards whose external side is in ext_family's space: IPv4's
 * (NAT44, and NAT64 for IPv6 servers) or IPv6's (NAT66, IPv6 servers). */
static int install_family(int fd, const struct fc_options *o, __u8 ext_family,
			  const union fc_addr *ext)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < o->nr_forwards; i++) {
		const struct fc_forward *f = &o->forwards[i];

		if (ext_family == FC_AF_INET6 ? f->int_family != FC_AF_INET6 || !o->nat66 :
		    f->int_family == FC_AF_INET6 && !o->nat64)
			continue;
		for (unsigned int p = f->ext_first; p <= f->ext_last; p++) {
			int err = install_one(fd, f, ext_family, ext, p,
					      f->int_port + (p - f->ext_first));

			if (err) {
				if (err != -EADDRINUSE)
					fc_err("installing forward %u: %s", p, strerror(-err));
				return err;
			}
			n++;
		}
	}
	if (n)
		fc_info("%u static forward(s) installed%s", n,
			ext_family == FC_AF_INET6 ? " on the IPv6 address (NAT66)" : "");
	return 0;
}

int forwards_install(int bindings_fd, const struct fc_options *o, __be32 ext_addr)
{
	union fc_addr ext;

	if (!ext_addr)
		return 0;
	memset(&ext, 0, sizeof(ext));
	ext.v4 = ext_addr;
	return install_family(bindings_fd, o, FC_AF_INET, &ext);
}

int forwards_install6(int bindings_fd, const struct fc_options *o, const union fc_addr *ext6)
{
	static const union fc_addr none;

	if (!memcmp(ext6, &none, sizeof(none)))
		return 0;
	return install_family(bindings_fd, o, FC_AF_INET6, ext6);
}
