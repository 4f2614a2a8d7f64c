// SPDX-License-Identifier: GPL-2.0
/*
 * Static forwards are mappings like any other, made at start instead of by
 * a first packet, and flagged FC_BINDING_STATIC so they never expire: the
 * datapath needs nothing new. Inbound packets to the external port reach the
 * internal endpoint (EIF), and that endpoint's own outbound packets use the
 * same external port (EIM).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "forward.h"
#include "gc.h"
#include "log.h"
#include "ports.h"

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

int forward_parse(const char *spec, struct fc_forward *f, char *err, size_t errlen)
{
	char buf[128], *proto, *ext, *dash, *in, *port;
	unsigned int first, last, iport;
	struct in_addr a;

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
	    inet_pton(AF_INET, in, &a) != 1 || a.s_addr == 0)
		goto bad;
	f->ext_first = first;
	f->ext_last = last;
	f->int_addr = a.s_addr;
	f->int_port = iport;
	return 0;
bad:
	snprintf(err, errlen, "invalid forward '%s': expected PROTO:EXT_PORT[-LAST]=ADDR:PORT "
		 "with PROTO udp or tcp, e.g. udp:25000=192.168.1.10:3074", spec);
	return -1;
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
			if (g->int_addr == f->int_addr && f->int_port <= g->int_port + m &&
			    g->int_port <= f->int_port + n) {
				snprintf(err, errlen, "forwards %s:%u and %s:%u go to the same internal "
					 "endpoint", pn, f->ext_first, pn, g->ext_first);
				return -1;
			}
		}
	}
	return 0;
}

static int install_one(int fd, __u8 proto, __be32 ext_addr, __u16 ext_port,
		       __be32 int_addr, __u16 int_port)
{
	struct fc_endpoint_key ek, ik, old_ek;
	struct fc_binding ev = { .family = FC_AF_INET, .flags = FC_BINDING_STATIC };
	struct fc_binding iv = { .family = FC_AF_INET, .flags = FC_BINDING_STATIC };
	struct fc_binding cur;
	char a[INET_ADDRSTRLEN];

	gc_endpoint_key4(&ek, FC_SIDE_EXTERNAL, proto, ext_addr, ext_port);
	ev.addr.v4 = int_addr;
	ev.port = htons(int_port);
	if (bpf_map_update_elem(fd, &ek, &ev, BPF_NOEXIST)) {
		if (errno != EEXIST)
			return -errno;
		/* Ours already (a restart over kept state), or a live mapping's. */
		if (bpf_map_lookup_elem(fd, &ek, &cur) == 0 && cur.addr.v4 != int_addr) {
			inet_ntop(AF_INET, &cur.addr.v4, a, sizeof(a));
			fc_err("forward %s:%u: the port is held by a live mapping of %s:%u",
			       proto == FC_PROTO_TCP ? "tcp" : "udp", ext_port, a, ntohs(cur.port));
			return -EADDRINUSE;
		}
		if (bpf_map_update_elem(fd, &ek, &ev, BPF_EXIST))
			return -errno;
	}
	/* The internal endpoint may have had a dynamic mapping: its external
	 * port goes back, the forward's becomes its only one. */
	gc_endpoint_key4(&ik, FC_SIDE_INTERNAL, proto, int_addr, int_port);
	if (bpf_map_lookup_elem(fd, &ik, &cur) == 0 &&
	    (cur.port != htons(ext_port) || cur.addr.v4 != ext_addr)) {
		struct fc_binding back;

		gc_endpoint_key4(&old_ek, FC_SIDE_EXTERNAL, proto, cur.addr.v4, ntohs(cur.port));
		if (bpf_map_lookup_elem(fd, &old_ek, &back) == 0 && back.addr.v4 == int_addr &&
		    back.port == htons(int_port))
			bpf_map_delete_elem(fd, &old_ek);
	}
	iv.addr.v4 = ext_addr;
	iv.port = htons(ext_port);
	if (bpf_map_update_elem(fd, &ik, &iv, BPF_ANY))
		return -errno;
	return 0;
}

int forwards_install(int bindings_fd, const struct fc_options *o, __be32 ext_addr)
{
	unsigned int n = 0;

	if (!ext_addr)
		return 0;
	for (unsigned int i = 0; i < o->nr_forwards; i++) {
		const struct fc_forward *f = &o->forwards[i];

		for (unsigned int p = f->ext_first; p <= f->ext_last; p++) {
			int err = install_one(bindings_fd, f->proto, ext_addr, p, f->int_addr,
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
		fc_info("%u static forward(s) installed", n);
	return 0;
}
