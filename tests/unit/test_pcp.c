// SPDX-License-Identifier: GPL-2.0
/*
 * The NAT-PMP/PCP server's lifetime table against the real bindings map:
 * requests go through pcp_answer() (what the socket path calls once a
 * client is accepted), address events through pcp_state_lost() (what
 * main.c calls), expiry through pcp_tick(). No sockets: no --pcp-if.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <bpf/bpf.h>
#include <fcnat/rules.h>

#include "fixture.h"
#include "gc.h"
#include "harness.h"
#include "nat64_expect.h"
#include "pcp.h"
#include "pcp_codec.h"

#define SEC_NS 1000000000ULL
#define HOST(i) htonl(0xc0a84d00U + 2 + (i))	/* 192.168.77.2 + i */

static struct pcp_server *server(unsigned int max_per_host)
{
	struct fc_pcp_opts po = fx.opts.pcp;
	struct pcp_server *s;

	po.nr_ifs = 0;
	po.max_per_host = max_per_host;
	po.min_lifetime = 60;
	po.max_lifetime = 600;
	s = pcp_open(&po, &fx.cfg, &fx.opts.nat64pool, fx.opts.nat66);
	if (s)
		pcp_attach_maps(s, fx.bindings_fd, fx.sessions_fd,
				&(struct ext_addr_maps){ loader_pool_fd(&fx.loader),
							 loader_pool_index_fd(&fx.loader),
							 loader_subscribers_fd(&fx.loader) });
	return s;
}

/* A NAT-PMP UDP mapping request (RFC 6886 §3.3); its result code, and the
 * external port granted in *ext (may be NULL). -1: no or a bad answer. */
static int natpmp_map(struct pcp_server *s, __be32 host, __u16 int_port, __u32 lifetime,
		      __u16 *ext)
{
	__u8 in[12] = { 0, 1, 0, 0, int_port >> 8, int_port, 0, 0,
			lifetime >> 24, lifetime >> 16, lifetime >> 8, lifetime };
	__u8 out[PCP_MAX_MSG + 4];
	struct pcp_host h = pcp_host4(host);

	if (pcp_answer(s, &h, 1, in, sizeof(in), out) != 16 || out[1] != 129)
		return -1;
	if (ext)
		*ext = out[10] << 8 | out[11];
	return out[2] << 8 | out[3];
}

struct census {
	__be32 host;		/* 0: every host */
	unsigned int pcp;	/* internal entries flagged FC_BINDING_PCP */
	unsigned int other;	/* the rest of the internal entries */
	unsigned int pcp_without_expiry;
};

static int count_one(void *ctx, const void *key, const void *value)
{
	struct census *c = ctx;
	const struct fc_endpoint_key *k = key;
	const struct fc_binding *b = value;

	if (k->side != FC_SIDE_INTERNAL || (c->host && k->addr.v4 != c->host))
		return 0;
	if (b->flags & FC_BINDING_PCP) {
		c->pcp++;
		c->pcp_without_expiry += !b->pcp_expires_s;
	} else {
		c->other++;
	}
	return 0;
}

static struct census census(__be32 host)
{
	struct census c = { .host = host };

	map_walk(fx.bindings_fd, sizeof(struct fc_endpoint_key), sizeof(struct fc_binding),
		 count_one, &c);
	return c;
}

TEST(pcp_address_flap_then_renewals_keep_the_per_host_limit)
{
	struct pcp_server *s = server(4);
	__u16 ext[4], again;
	struct census c;

	ASSERT_TRUE(s, "server");
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(natpmp_map(s, HOST(0), 1000 + i, 300, &ext[i]), PMP_SUCCESS, "mapped");
	ASSERT_EQ(natpmp_map(s, HOST(0), 1004, 300, NULL), PMP_NO_RESOURCES, "fifth: quota");
	/* The external address goes and comes back: main.c calls this twice. */
	pcp_state_lost(s);
	pcp_state_lost(s);
	c = census(HOST(0));
	ASSERT_EQ(c.pcp, 0, "no mapping of ours without a lifetime");
	ASSERT_EQ(c.other, 4, "released to ordinary mappings, still there");
	ASSERT_EQ(pcp_nr_mappings(s), 0, "table emptied with the epoch");
	/* A new epoch: the host asks for four others, then renews the old four
	 * (the renewal storm). The limit holds across both. */
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(natpmp_map(s, HOST(0), 2000 + i, 300, NULL), PMP_SUCCESS, "new epoch");
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(natpmp_map(s, HOST(0), 1000 + i, 300, NULL), PMP_NO_RESOURCES,
			  "renewal past the limit");
	c = census(HOST(0));
	ASSERT_EQ(c.pcp, 4, "exactly the limit is ours");
	ASSERT_EQ(c.pcp_without_expiry, 0, "each with its expiry published");
	ASSERT_EQ(pcp_nr_mappings(s), 4, "table agrees with the map");
	/* One deleted: a renewal of an old one re-adopts it, same port. */
	ASSERT_EQ(natpmp_map(s, HOST(0), 2000, 0, NULL), PMP_SUCCESS, "delete");
	ASSERT_EQ(natpmp_map(s, HOST(0), 1000, 300, &again), PMP_SUCCESS, "re-adopted");
	ASSERT_EQ(again, ext[0], "the same external port after the flap");
	/* Past every lifetime: nothing of ours is left behind. */
	pcp_tick(s, gc_now_ns() + 700 * SEC_NS);
	ASSERT_EQ(census(0).pcp, 0, "all expired");
	ASSERT_EQ(pcp_nr_mappings(s), 0, "table empty");
	pcp_close(s);
}

TEST(pcp_address_flap_then_renewal_storm_never_overflows_the_table)
{
	struct pcp_server *s = server(65535);
	unsigned int refused = 0;
	struct census c;

	ASSERT_TRUE(s, "server");
	/* The table full, from 16 hosts. */
	for (int i = 0; i < PCP_TABLE_MAX; i++)
		ASSERT_EQ(natpmp_map(s, HOST(i % 16), 1000 + i / 16, 300, NULL), PMP_SUCCESS,
			  "filling the table");
	ASSERT_EQ(natpmp_map(s, HOST(16), 1000, 300, NULL), PMP_NO_RESOURCES, "table full");
	pcp_state_lost(s);
	/* The new epoch fills it again with other ports, then every old
	 * mapping is renewed: none of them fits. */
	for (int i = 0; i < PCP_TABLE_MAX; i++)
		ASSERT_EQ(natpmp_map(s, HOST(i % 16), 3000 + i / 16, 300, NULL), PMP_SUCCESS,
			  "refilling");
	for (int i = 0; i < PCP_TABLE_MAX; i++)
		refused += natpmp_map(s, HOST(i % 16), 1000 + i / 16, 300, NULL) ==
			   PMP_NO_RESOURCES;
	ASSERT_EQ(refused, PCP_TABLE_MAX, "every renewal past the table refused");
	ASSERT_EQ(pcp_nr_mappings(s), PCP_TABLE_MAX, "table at its bound");
	c = census(0);
	ASSERT_EQ(c.pcp, PCP_TABLE_MAX, "the map agrees");
	ASSERT_EQ(c.other, PCP_TABLE_MAX, "the old ones are ordinary mappings");
	pcp_tick(s, gc_now_ns() + 700 * SEC_NS);
	ASSERT_EQ(census(0).pcp, 0, "all expired, none orphaned");
	pcp_close(s);
}

/* A mapping flagged FC_BINDING_PCP that has no table entry (how the old
 * flap left them): a request adopts it under the limit or releases it. */
TEST(pcp_mapping_without_an_entry_is_adopted_or_released)
{
	struct pcp_server *s = server(1);
	struct fc_endpoint_key ik;
	struct fc_binding b;
	__u16 ext;

	ASSERT_TRUE(s, "server");
	ASSERT_EQ(natpmp_map(s, HOST(0), 1000, 300, &ext), PMP_SUCCESS, "mapped");
	ASSERT_EQ(natpmp_map(s, HOST(0), 1001, 300, NULL), PMP_NO_RESOURCES, "limit 1");
	/* Make 1001 an entry-less mapping of ours: map it, forget the table. */
	pcp_state_lost(s);
	ASSERT_EQ(natpmp_map(s, HOST(0), 1001, 300, NULL), PMP_SUCCESS, "1001 mapped");
	gc_endpoint_key4(&ik, FC_SIDE_INTERNAL, FC_PROTO_UDP, HOST(0), 1000);
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "1000 still there");
	b.flags |= FC_BINDING_STATIC | FC_BINDING_PCP;
	ASSERT_EQ(bpf_map_update_elem(fx.bindings_fd, &ik, &b, BPF_EXIST), 0, "flag it");
	ASSERT_EQ(natpmp_map(s, HOST(0), 1000, 300, NULL), PMP_NO_RESOURCES, "over the limit");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "kept for its traffic");
	ASSERT_EQ(b.flags & FC_BINDING_PCP, 0, "but released: not ours");
	ASSERT_EQ(pcp_nr_mappings(s), 1, "the table holds only 1001");
	pcp_close(s);
}

/* NAT-PMP's external address answer (RFC 6886 §3.2) for host, 0: none. */
static __be32 natpmp_address(struct pcp_server *s, __be32 host)
{
	__u8 in[2] = { 0, 0 }, out[PCP_MAX_MSG + 4];
	struct pcp_host h = pcp_host4(host);
	__be32 a;

	if (pcp_answer(s, &h, 1, in, sizeof(in), out) != 12 || out[1] != 128 || out[3])
		return 0;
	memcpy(&a, out + 8, 4);
	return a;
}

/* A PCP MAP for UDP int_port (RFC 6887 §11.1); the external address of a
 * success, 0: anything else. */
static __be32 pcp_map_addr(struct pcp_server *s, __be32 host, __u16 int_port)
{
	__u8 in[60] = { 2, 1 }, out[PCP_MAX_MSG + 4];
	struct pcp_host h = pcp_host4(host);
	__be32 a;

	in[4 + 2] = 0x0e;	/* lifetime 3600 */
	in[4 + 3] = 0x10;
	in[8 + 10] = in[8 + 11] = 0xff;	/* client ::ffff:host */
	memcpy(in + 8 + 12, &host, 4);
	memset(in + 24, 0x5a, 12);	/* nonce */
	in[36] = FC_PROTO_UDP;
	in[40] = int_port >> 8;
	in[41] = int_port;
	if (pcp_answer(s, &h, 1, in, sizeof(in), out) != 60 || out[1] != 0x81 || out[3])
		return 0;
	memcpy(&a, out + 56, 4);
	return a;
}

static __be32 internal_side_addr(__be32 host, __u16 port)
{
	struct fc_endpoint_key ik;
	struct fc_binding b;

	gc_endpoint_key4(&ik, FC_SIDE_INTERNAL, FC_PROTO_UDP, host, port);
	return bpf_map_lookup_elem(fx.bindings_fd, &ik, &b) ? 0 : b.addr.v4;
}

/* RFC 4787 REQ-2, RFC 6888 REQ-2, RFC 6887 §11.3: with a pool a host's
 * NAT-PMP/PCP mappings and address answers give its paired pool address
 * (the one its traffic leaves with), never the interface's. */
TEST(rfc6888_req2_pcp_and_natpmp_use_the_paired_pool_address)
{
	union fc_addr a0 = {}, a1 = {};
	struct fc_subscriber_key k = { .family = FC_AF_INET };
	struct fc_subscriber sub = {};
	__be32 want0, want1, other;
	struct pcp_server *s;

	fx.opts.cgnat.nr_pool = 1;
	ASSERT_EQ(parse_prefix4("203.0.113.0/30", &fx.opts.cgnat.pool[0]), 0, "pool");
	fixture_apply(&fx);
	s = server(16);
	ASSERT_TRUE(s, "server");
	a0.v4 = HOST(0);
	a1.v4 = HOST(1);
	/* No subscriber entry yet: the hash slot, what the datapath picks. */
	want0 = htonl(0xcb007100U + fc_subscriber_hash(FC_AF_INET, &a0) % 4);
	ASSERT_EQ(natpmp_address(s, HOST(0)), want0, "NAT-PMP address: the hash slot");
	ASSERT_EQ(natpmp_map(s, HOST(0), 5000, 300, NULL), PMP_SUCCESS, "NAT-PMP map");
	ASSERT_EQ(internal_side_addr(HOST(0), 5000), want0, "NAT-PMP mapping on the pool address");
	ASSERT_EQ(pcp_map_addr(s, HOST(0), 5001), want0, "PCP MAP answer: the same address");
	ASSERT_EQ(internal_side_addr(HOST(0), 5001), want0, "PCP mapping on the pool address");
	/* A subscriber entry pairing HOST(1) elsewhere in the pool wins (as
	 * in the datapath: a pairing made before a pool change is kept). */
	want1 = htonl(0xcb007100U + fc_subscriber_hash(FC_AF_INET, &a1) % 4);
	other = htonl(0xcb007100U + (ntohl(want1) + 1) % 4);
	k.addr = a1;
	sub.ext_addr4 = other;
	ASSERT_EQ(bpf_map_update_elem(loader_subscribers_fd(&fx.loader), &k, &sub, BPF_ANY), 0,
		  "subscriber entry");
	ASSERT_EQ(natpmp_address(s, HOST(1)), other, "the entry's address");
	ASSERT_EQ(pcp_map_addr(s, HOST(1), 6000), other, "PCP MAP on the entry's address");
	/* An entry's address no longer in the pool: the hash again. */
	sub.ext_addr4 = htonl(0xc6336401U);	/* 198.51.100.1 */
	ASSERT_EQ(bpf_map_update_elem(loader_subscribers_fd(&fx.loader), &k, &sub, BPF_ANY), 0,
		  "stale entry");
	ASSERT_EQ(natpmp_address(s, HOST(1)), want1, "stale pairing ignored");
	bpf_map_delete_elem(loader_subscribers_fd(&fx.loader), &k);
	pcp_close(s);
}

/* RFC 7422: with deterministic NAT a NAT-PMP/PCP mapping lies in the host's
 * own ports on its own pool address (any other port there is another
 * subscriber's). 192.168.77.2 + i is at i = 2 + i of 192.168.77.0/28, over
 * 2 pool addresses and ports 20000-20063: 8 ports each. */
TEST(rfc7422_natpmp_mapping_in_the_hosts_deterministic_ports)
{
	struct pcp_server *s;
	__u16 ext;

	fx.opts.nr_port_ranges = 1;
	fx.opts.port_ranges[0] = (struct fc_port_range){ 20000, 20063 };
	fx.opts.cgnat.det_on = true;
	ASSERT_EQ(parse_prefix4("192.168.77.0/28", &fx.opts.cgnat.det), 0, "det prefix");
	fx.opts.cgnat.nr_pool = 1;
	ASSERT_EQ(parse_prefix4("203.0.113.0/31", &fx.opts.cgnat.pool[0]), 0, "pool");
	fixture_apply(&fx);
	s = server(16);
	ASSERT_TRUE(s, "server");
	/* HOST(1) = 192.168.77.3: i = 3, 203.0.113.1, ports 20008-20015. */
	ASSERT_EQ(natpmp_address(s, HOST(1)), htonl(0xcb007101U), "its deterministic address");
	for (int j = 0; j < 8; j++) {
		ASSERT_EQ(natpmp_map(s, HOST(1), 30000 + j, 300, &ext), PMP_SUCCESS, "mapped");
		ASSERT_TRUE(ext >= 20008 && ext <= 20015, "in the host's ports");
		ASSERT_EQ(internal_side_addr(HOST(1), 30000 + j), htonl(0xcb007101U),
			  "on its pool address");
	}
	ASSERT_EQ(natpmp_map(s, HOST(1), 30008, 300, NULL), PMP_NO_RESOURCES,
		  "its ports used up: nobody else's taken");
	pcp_close(s);
}

/* A PCP MAP (RFC 6887 §11.1) for UDP int_port from the IPv6 host v6 (its
 * own address in the client field), suggesting sugg_addr (::ffff:0.0.0.0:
 * an IPv4 external address, no preference, NAT64's case; ::, an IPv6 one,
 * NAT66's) and ext_port. The result code; the external endpoint of a
 * success in ext (16 bytes), *ext_port. -1: no or a bad answer. */
static int pcp_map6_sugg(struct pcp_server *s, const char *v6, __u16 int_port, __u32 lifetime,
			 __u16 suggested, const char *sugg_addr, __u8 *ext, __u16 *ext_port)
{
	__u8 in[60] = { 2, 1 }, out[PCP_MAX_MSG + 4];
	struct pcp_host h = { .family = FC_AF_INET6 };

	if (inet_pton(AF_INET6, v6, h.addr.v6) != 1 || inet_pton(AF_INET6, sugg_addr, in + 44) != 1)
		return -1;
	in[4] = lifetime >> 24, in[5] = lifetime >> 16, in[6] = lifetime >> 8, in[7] = lifetime;
	memcpy(in + 8, h.addr.v6, 16);
	memset(in + 24, 0x5a, 12);	/* nonce */
	in[36] = FC_PROTO_UDP;
	in[40] = int_port >> 8, in[41] = int_port;
	in[42] = suggested >> 8, in[43] = suggested;
	if (pcp_answer(s, &h, 1, in, sizeof(in), out) != 60 || out[1] != 0x81)
		return -1;
	if (ext)
		memcpy(ext, out + 44, 16);
	if (ext_port)
		*ext_port = out[42] << 8 | out[43];
	return out[3];
}

/* The same for an IPv4 external address: its last 4 bytes in *ext4. */
static int pcp_map6(struct pcp_server *s, const char *v6, __u16 int_port, __u32 lifetime,
		    __u16 suggested, __be32 *ext4, __u16 *ext_port)
{
	__u8 ext[16];
	int ret = pcp_map6_sugg(s, v6, int_port, lifetime, suggested, "::ffff:0.0.0.0", ext,
				ext_port);

	if (ext4)
		memcpy(ext4, ext + 12, 4);
	return ret;
}

/* RFC 6887 §11.3 with RFC 6146: an IPv6 host behind NAT64 maps a port on
 * the IPv4 external address. The mapping is NAT64's own (the entries a
 * first packet would make), so any IPv4 host reaches the IPv6 host
 * through it before it sent anything (the whole packet compared with one
 * built from RFC 7915), and a delete takes it away. */
TEST(rfc6887_pcp_map_from_an_ipv6_host_is_a_nat64_mapping)
{
	struct fc_endpoint_key ik, ek;
	union fc_addr a6 = {}, ext = {};
	struct fc_binding b;
	struct pcp_server *s;
	__be32 ext4;
	__u16 port;

	nat64_prefix_set();
	fixture_apply(&fx);
	s = server(16);
	ASSERT_TRUE(s, "server");
	ASSERT_EQ(pcp_map6(s, CLIENT6_A, 5353, 600, 25353, &ext4, &port), PCP_SUCCESS, "mapped");
	ASSERT_EQ(ext4, ip4(EXT_ADDR), "on the external IPv4 address, ::ffff:-mapped");
	ASSERT_EQ(port, 25353, "the suggested port");

	inet_pton(AF_INET6, CLIENT6_A, a6.v6);
	ext.v4 = ext4;
	fc_int_endpoint_key(&ik, FC_AF_INET6, FC_AF_INET, FC_PROTO_UDP, &a6, htons(5353));
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "NAT64's internal entry");
	ASSERT_TRUE(b.family == FC_AF_INET && b.addr.v4 == ext4 && b.port == htons(25353),
		    "naming the IPv4 endpoint");
	ASSERT_TRUE(b.flags & FC_BINDING_PCP, "a PCP mapping");
	fc_ext_endpoint_key(&ek, FC_AF_INET, FC_PROTO_UDP, &ext, htons(25353));
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ek, &b), 0, "the external entry");
	ASSERT_TRUE(b.family == FC_AF_INET6 && !memcmp(b.addr.v6, a6.v6, 16), "naming the host");

	{
		struct pkt_spec in = pkt_udp(STRANGER, 9999, EXT_ADDR, 25353);
		struct pkt_spec want = pkt_udp(STRANGER_64, 9999, CLIENT6_A, 5353);

		EXPECT_EXT(&in, &want, TC_ACT_OK, "any IPv4 host reaches the IPv6 host");
	}
	ASSERT_EQ(pcp_map6(s, CLIENT6_A, 5353, 0, 0, NULL, NULL), PCP_SUCCESS, "deleted");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), -ENOENT, "internal entry gone");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ek, &b), -ENOENT, "external entry gone");
	pcp_close(s);
}

/* Where NAT64 does not port-map an IPv6 host, PCP says so: no NAT64 at
 * all, a host address-mapped by --nat64-static (its every port is
 * reachable already), one outside --nat64-allow. */
TEST(rfc6887_pcp_from_ipv6_not_authorized_where_nat64_does_not_port_map)
{
	struct pcp_server *s;
	char err[128];

	fixture_apply(&fx);
	s = server(16);
	ASSERT_TRUE(s, "server");
	ASSERT_EQ(pcp_map6(s, CLIENT6_A, 5353, 600, 0, NULL, NULL), PCP_NOT_AUTHORIZED,
		  "without NAT64");
	pcp_close(s);

	nat64_prefix_set();
	ASSERT_EQ(nat64_pool_option(&fx.opts.nat64pool, FC_NAT64_OPT_STATIC,
				    CLIENT6_A "=203.0.113.20", err, sizeof(err)), 0, err);
	ASSERT_EQ(nat64_pool_option(&fx.opts.nat64pool, FC_NAT64_OPT_ALLOW, "fd00:77::/64", err,
				    sizeof(err)), 0, err);
	fixture_apply(&fx);
	s = server(16);
	ASSERT_TRUE(s, "server");
	ASSERT_EQ(pcp_map6(s, CLIENT6_A, 5353, 600, 0, NULL, NULL), PCP_NOT_AUTHORIZED,
		  "an address-mapped host");
	ASSERT_EQ(pcp_map6(s, "fd00:78::2", 5353, 600, 0, NULL, NULL), PCP_NOT_AUTHORIZED,
		  "outside --nat64-allow");
	ASSERT_EQ(pcp_map6(s, "fd00:77::3", 5353, 600, 0, NULL, NULL), PCP_SUCCESS,
		  "an allowed, port-translated host");
	pcp_close(s);
	nat64_pool_defaults(&fx.opts.nat64pool);
}

/* NAT66 (RFC 6887 §11.1: an IPv6 suggested external address, :: for no
 * preference): a port of the IPv6 external address, the datapath's own
 * NAT66 entries, reached by any IPv6 host before the host sent anything;
 * next to it the same endpoint's NAT64 mapping, asked with ::ffff:0.0.0.0,
 * each deleted on its own. */
TEST(rfc6887_pcp_map_from_an_ipv6_host_nat66_and_nat64_side_by_side)
{
	struct fc_endpoint_key ik;
	union fc_addr a6 = {};
	struct fc_binding b;
	struct pcp_server *s;
	__u8 ext[16], want[16];
	__be32 ext4;
	__u16 port;

	nat64_prefix_set();
	fx.opts.nat66 = true;
	fixture_apply(&fx);
	s = server(16);
	ASSERT_TRUE(s, "server");
	ASSERT_EQ(pcp_map6_sugg(s, CLIENT6_A, 5353, 600, 25360, "::", ext, &port), PCP_SUCCESS,
		  "NAT66 mapped");
	inet_pton(AF_INET6, EXT_ADDR6, want);
	ASSERT_TRUE(!memcmp(ext, want, 16), "on the external IPv6 address");
	ASSERT_EQ(port, 25360, "the suggested port");
	inet_pton(AF_INET6, CLIENT6_A, a6.v6);
	fc_int_endpoint_key(&ik, FC_AF_INET6, FC_AF_INET6, FC_PROTO_UDP, &a6, htons(5353));
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "NAT66's internal entry");
	ASSERT_TRUE(b.family == FC_AF_INET6 && !memcmp(b.addr.v6, want, 16) &&
		    b.port == htons(25360), "naming the IPv6 endpoint");
	{
		struct pkt_spec in = pkt_udp(STRANGER6, 5555, EXT_ADDR6, 25360);
		struct pkt_spec out = pkt_udp(STRANGER6, 5555, CLIENT6_A, 5353);

		EXPECT_EXT(&in, &out, TC_ACT_OK, "any IPv6 host reaches it");
	}
	ASSERT_EQ(pcp_map6(s, CLIENT6_A, 5353, 600, 25361, &ext4, &port), PCP_SUCCESS,
		  "NAT64 mapped too");
	ASSERT_TRUE(ext4 == ip4(EXT_ADDR) && port == 25361, "on the IPv4 address");
	ASSERT_EQ(pcp_nr_mappings(s), 2, "two entries, one endpoint");
	ASSERT_EQ(pcp_map6_sugg(s, CLIENT6_A, 5353, 0, 0, "::", NULL, NULL), PCP_SUCCESS,
		  "NAT66 one deleted");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), -ENOENT, "its entry gone");
	ASSERT_EQ(pcp_nr_mappings(s), 1, "the NAT64 one kept");
	fc_int_endpoint_key(&ik, FC_AF_INET6, FC_AF_INET, FC_PROTO_UDP, &a6, htons(5353));
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "and its entry");
	pcp_close(s);
}
