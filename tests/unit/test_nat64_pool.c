// SPDX-License-Identifier: GPL-2.0
/*
 * NAT64 address mapping (--nat64-pool4, --nat64-static, --nat64-allow)
 * through the real TC programs: each IPv6 host is mapped one-to-one onto an
 * IPv4 address, ports and ICMP identifiers untouched (RFC 6146 with port
 * preservation; the headers per RFC 7915, the addresses per RFC 6052).
 * Every expected packet is built from scratch by pkt_build from what the
 * RFCs say the translation is: the IPv6 host's address replaced by its
 * IPv4 one, the IPv4 peer under 64:ff9b::/96, the ports as sent.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <bpf/bpf.h>

#include "nat64_expect.h"
#include "nat64_pool.h"

#define POOL_ONE	"203.0.113.9"	/* a /32 pool: the one address */
#define POOL_30		"203.0.113.8/30"
#define STATIC_V4	"203.0.113.20"	/* outside the pools above */

static int p64_out_fd(void)
{
	return bpf_map__fd(fx.loader.skel->maps.fc_p64_out);
}

static int p64_in_fd(void)
{
	return bpf_map__fd(fx.loader.skel->maps.fc_p64_in);
}

/* --nat64 with the well-known prefix, and the address-mapping options. */
static void pool_on(const char *pool4, const char *statics, const char *allow)
{
	char err[160];

	nat64_prefix_set();
	if ((pool4 && nat64_pool_option(&fx.opts.nat64pool, FC_NAT64_OPT_POOL4, pool4, err,
					 sizeof(err))) ||
	    (statics && nat64_pool_option(&fx.opts.nat64pool, FC_NAT64_OPT_STATIC, statics, err,
					  sizeof(err))) ||
	    (allow && nat64_pool_option(&fx.opts.nat64pool, FC_NAT64_OPT_ALLOW, allow, err,
					sizeof(err)))) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	fixture_apply(&fx);
}

/* Forwarded to SERVER_1 (a known neighbour behind ext0): its MACs, and the
 * hop limit decremented into the TTL. Other destinations: the kernel
 * resolves the MACs after the redirect, the frame keeps the ones it had. */
static void forwarded(struct pkt_spec *s, int to_server1)
{
	s->ttl = 63;
	if (to_server1) {
		s->smac = FX_EXT0_MAC;
		s->dmac = FX_SERVER1_MAC;
	}
}

/* The IPv4 address host is mapped onto (0: none), and whether the entry
 * pointing back agrees. */
static uint32_t mapped4(const char *host)
{
	union fc_addr k = {};
	struct fc_nat64_map out, in;

	ip6(host, k.v6);
	if (bpf_map_lookup_elem(p64_out_fd(), &k, &out) ||
	    bpf_map_lookup_elem(p64_in_fd(), &out.peer.v4, &in) || memcmp(in.peer.v6, k.v6, 16))
		return 0;
	return out.peer.v4;
}

static const char *str4(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* RFC 6146 §3.5.1 with address mapping: the first packet maps the host
 * onto the pool's address; the packet leaves from it, port kept, no port
 * mapping (fc_bindings) and no session made. */
TEST(nat64_pool4_udp_out_address_mapped_port_kept)
{
	struct pkt_spec in = pkt_udp(CLIENT6_A, 25000, SERVER_1_64, 7000);
	struct pkt_spec want = pkt_udp(POOL_ONE, 25000, SERVER_1, 7000);

	pool_on(POOL_ONE "/32", NULL, NULL);
	forwarded(&want, 1);
	EXPECT_OUT(&in, &want, "UDP 6->4 from the pool address, port kept");
	ASSERT_EQ(mapped4(CLIENT6_A), ip4(POOL_ONE), "host mapped onto the pool address, both ways");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_POOL_MAPPED), 1, "nat64_pool_mapped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_OUT), 1, "nat64_out");
	ASSERT_EQ(nr_bindings(&fx), 0, "no port mapping");
	ASSERT_EQ(nr_sessions(&fx), 0, "no session");
	EXPECT_OUT(&in, &want, "again: the same address");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_POOL_MAPPED), 1, "mapped once");
}

/* Inbound to the host's address: the reply, and (endpoint-independent
 * filtering: the address is the host's) an IPv4 host it never sent to, on
 * any port; the source under the prefix (RFC 6052), the ports as sent. */
TEST(nat64_pool4_udp_in_reply_and_stranger_whole_packets)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25001, SERVER_1_64, 7000);
	struct pkt_spec out4 = pkt_udp(POOL_ONE, 25001, SERVER_1, 7000);
	struct pkt_spec reply = pkt_udp(SERVER_1, 7000, POOL_ONE, 25001);
	struct pkt_spec reply6 = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25001);
	struct pkt_spec other = pkt_udp(STRANGER, 5353, POOL_ONE, 9999);
	struct pkt_spec other6 = pkt_udp(STRANGER_64, 5353, CLIENT6_A, 9999);

	pool_on(POOL_ONE "/32", NULL, NULL);
	forwarded(&out4, 1);
	EXPECT_OUT(&out, &out4, "out");
	EXPECT_EXT(&reply, &reply6, TC_ACT_OK, "reply 4->6 to the host");
	EXPECT_EXT(&other, &other6, TC_ACT_OK, "another IPv4 host, another port");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 2, "nat64_in");
}

/* TCP ports and ICMP echo identifiers are not translated either way. */
TEST(nat64_pool4_tcp_and_echo_identifier_untouched)
{
	struct pkt_spec syn = pkt_tcp(CLIENT6_A, 40000, SERVER_1_64, 80, 0x02);
	struct pkt_spec syn4 = pkt_tcp(POOL_ONE, 40000, SERVER_1, 80, 0x02);
	struct pkt_spec synack = pkt_tcp(SERVER_1, 80, POOL_ONE, 40000, 0x12);
	struct pkt_spec synack6 = pkt_tcp(SERVER_1_64, 80, CLIENT6_A, 40000, 0x12);
	struct pkt_spec req = pkt_echo(CLIENT6_A, SERVER_1_64, IPPROTO_ICMPV6, 128, 0x4242);
	struct pkt_spec req4 = pkt_echo(POOL_ONE, SERVER_1, IPPROTO_ICMP, 8, 0x4242);
	struct pkt_spec rep = pkt_echo(SERVER_1, POOL_ONE, IPPROTO_ICMP, 0, 0x4242);
	struct pkt_spec rep6 = pkt_echo(SERVER_1_64, CLIENT6_A, IPPROTO_ICMPV6, 129, 0x4242);

	pool_on(POOL_ONE "/32", NULL, NULL);
	forwarded(&syn4, 1);
	forwarded(&req4, 1);
	EXPECT_OUT(&syn, &syn4, "SYN 6->4, port kept");
	EXPECT_EXT(&synack, &synack6, TC_ACT_OK, "SYN-ACK 4->6");
	EXPECT_OUT(&req, &req4, "echo request 6->4, identifier kept");
	EXPECT_EXT(&rep, &rep6, TC_ACT_OK, "echo reply 4->6");
	ASSERT_EQ(nr_bindings(&fx), 0, "no port or identifier mapping");
}

/* One host, one address: two hosts get two addresses of the pool. */
TEST(nat64_pool4_two_hosts_two_addresses_of_the_pool)
{
	struct pkt_spec a = pkt_udp(CLIENT6_A, 25002, SERVER_1_64, 7000);
	struct pkt_spec b = pkt_udp(CLIENT6_B, 25002, SERVER_1_64, 7000);
	struct pkt_spec a4 = pkt_udp(NULL, 25002, SERVER_1, 7000);
	struct pkt_spec b4 = pkt_udp(NULL, 25002, SERVER_1, 7000);
	char sa[INET_ADDRSTRLEN], sb[INET_ADDRSTRLEN];
	struct run_result r;
	uint32_t ma, mb, base = ntohl(ip4("203.0.113.8"));

	pool_on(POOL_30, NULL, NULL);
	ASSERT_EQ(run_lan(&a, &r), 0, "A's first packet");
	ASSERT_EQ(run_lan(&b, &r), 0, "B's first packet");
	ma = mapped4(CLIENT6_A);
	mb = mapped4(CLIENT6_B);
	ASSERT_EQ(ntohl(ma) >> 2, base >> 2, "A's address in 203.0.113.8/30");
	ASSERT_EQ(ntohl(mb) >> 2, base >> 2, "B's address in 203.0.113.8/30");
	ASSERT_NE(ma, mb, "two addresses");
	a4.saddr = str4(ma, sa);
	b4.saddr = str4(mb, sb);
	forwarded(&a4, 1);
	forwarded(&b4, 1);
	EXPECT_OUT(&a, &a4, "A from its address");
	EXPECT_OUT(&b, &b4, "B from its address");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_POOL_MAPPED), 2, "two mapped");
}

/* RFC 6146 §3.5.1.1: no mapping can be made (the pool's one address is
 * taken): the packet is discarded and answered with ICMPv6 Destination
 * Unreachable, Address Unreachable (1/3) from the gateway's address on
 * int0, quoting the packet; counted. */
TEST(nat64_pool4_exhausted_answered_address_unreachable_1_3)
{
	struct pkt_spec first = pkt_udp(CLIENT6_B, 25003, SERVER_1_64, 7000);
	struct pkt_spec refused = pkt_udp(CLIENT6_A, 25003, SERVER_1_64, 7000);
	struct pkt_spec err = { .proto = IPPROTO_ICMPV6, .saddr = "fd00:77::1",
				.daddr = CLIENT6_A, .icmp_type = 1, .icmp_code = 3,
				.quote = &refused, .ttl = 64, .smac = FX_INT0_MAC,
				.dmac = FX_CLIENT_A_MAC };
	struct run_result r;

	pool_on(POOL_ONE "/32", NULL, NULL);
	ASSERT_EQ(ipv6_side_up(0), 0, "IPv6 side set up");
	ASSERT_EQ(run_lan(&first, &r), 0, "B takes the address");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "B translated");
	EXPECT_LAN(&refused, &err, TC_ACT_REDIRECT, "A: pool exhausted, address unreachable");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_POOL_EXHAUSTED), 1, "nat64_pool_exhausted");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DISCARD_ICMP_SENT), 1, "nat64_discard_icmp_sent");
	ASSERT_EQ(mapped4(CLIENT6_A), 0, "A not mapped");
	ASSERT_EQ(mapped4(CLIENT6_B), ip4(POOL_ONE), "B keeps it");
	ASSERT_EQ(nr_bindings(&fx), 0, "no port mapping instead");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 side removed");
}

/* A static entry is reachable from IPv4 first (no packet of the host
 * before): UDP and an echo request reach the host, its echo reply leaves
 * from the static address with the identifier kept. */
TEST(nat64_static_reached_inbound_first)
{
	struct pkt_spec in = pkt_udp(STRANGER, 5000, STATIC_V4, 53);
	struct pkt_spec in6 = pkt_udp(STRANGER_64, 5000, CLIENT6_B, 53);
	struct pkt_spec req = pkt_echo(STRANGER, STATIC_V4, IPPROTO_ICMP, 8, 0x0777);
	struct pkt_spec req6 = pkt_echo(STRANGER_64, CLIENT6_B, IPPROTO_ICMPV6, 128, 0x0777);
	struct pkt_spec rep6 = pkt_echo(CLIENT6_B, STRANGER_64, IPPROTO_ICMPV6, 129, 0x0777);
	struct pkt_spec rep4 = pkt_echo(STATIC_V4, STRANGER, IPPROTO_ICMP, 0, 0x0777);

	pool_on(NULL, CLIENT6_B "=" STATIC_V4, NULL);
	ASSERT_EQ(mapped4(CLIENT6_B), ip4(STATIC_V4), "static entry written both ways");
	EXPECT_EXT(&in, &in6, TC_ACT_OK, "UDP 4->6 to the static host, no packet of it before");
	EXPECT_EXT(&req, &req6, TC_ACT_OK, "echo request 4->6, identifier kept");
	forwarded(&rep4, 0);
	EXPECT_OUT(&rep6, &rep4, "the host's echo reply 6->4 from the static address");
	ASSERT_EQ(nr_bindings(&fx), 0, "no port mapping");
}

/* Without a pool, static entries and NAPT64 side by side: a host with a
 * static entry is address-mapped, the others keep the port-translating
 * mode on the external address. */
TEST(nat64_static_next_to_napt64)
{
	struct pkt_spec a = pkt_udp(CLIENT6_A, 25004, SERVER_1_64, 7000);
	struct pkt_spec a4 = pkt_udp(EXT_ADDR, 25004, SERVER_1, 7000);
	struct pkt_spec b = pkt_udp(CLIENT6_B, 25004, SERVER_1_64, 7000);
	struct pkt_spec b4 = pkt_udp(STATIC_V4, 25004, SERVER_1, 7000);

	pool_on(NULL, CLIENT6_B "=" STATIC_V4, NULL);
	forwarded(&a4, 1);
	forwarded(&b4, 1);
	EXPECT_OUT(&a, &a4, "A: NAPT64 on the external address (port 25004 free)");
	EXPECT_OUT(&b, &b4, "B: its static address, port kept");
	ASSERT_EQ(nr_bindings(&fx), 2, "one port mapping (A's), two entries");
	ASSERT_EQ(mapped4(CLIENT6_A), 0, "A not address-mapped");
}

/* --nat64-allow: a source outside the prefixes is dropped and counted,
 * making no state; one inside is translated. A static host is allowed. */
TEST(nat64_allow_only_listed_sources_translated)
{
	struct pkt_spec a = pkt_udp(CLIENT6_A, 25005, SERVER_1_64, 7000);
	struct pkt_spec a4 = pkt_udp(POOL_ONE, 25005, SERVER_1, 7000);
	struct pkt_spec b = pkt_udp(CLIENT6_B, 25005, SERVER_1_64, 7000);
	struct pkt_spec other = pkt_udp("fd00:99::5", 25005, SERVER_1_64, 7000);
	struct pkt_spec b4 = pkt_udp(STATIC_V4, 25005, SERVER_1, 7000);

	pool_on(POOL_ONE "/32", CLIENT6_B "=" STATIC_V4, "fd00:77::2/127");
	forwarded(&a4, 1);
	forwarded(&b4, 1);
	EXPECT_LAN(&other, &other, TC_ACT_SHOT, "fd00:99::5 not allowed: dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_NOT_ALLOWED), 1, "nat64_drop_not_allowed");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_POOL_MAPPED), 0, "no address taken for it");
	EXPECT_OUT(&a, &a4, "fd00:77::2 in fd00:77::2/127: translated");
	EXPECT_OUT(&b, &b4, "fd00:77::3 in fd00:77::2/127 too, static");
}

/* --nat64-allow applies to NAPT64 as well (no pool, no static). */
TEST(nat64_allow_applies_to_napt64)
{
	struct pkt_spec a = pkt_udp(CLIENT6_A, 25006, SERVER_1_64, 7000);
	struct pkt_spec a4 = pkt_udp(EXT_ADDR, 25006, SERVER_1, 7000);
	struct pkt_spec b = pkt_udp(CLIENT6_B, 25006, SERVER_1_64, 7000);

	pool_on(NULL, NULL, CLIENT6_A "/128");
	forwarded(&a4, 1);
	EXPECT_LAN(&b, &b, TC_ACT_SHOT, "B not allowed");
	ASSERT_EQ(nr_bindings(&fx), 0, "no mapping for B");
	EXPECT_OUT(&a, &a4, "A allowed, NAPT64");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_NOT_ALLOWED), 1, "nat64_drop_not_allowed");
}

/* Idle expiry: a dynamic mapping unused for the timeout is removed by the
 * sweeper (both entries; the address free for another host), a static
 * one never; a live one stays. */
TEST(nat64_pool4_idle_mapping_expires_static_stays)
{
	struct pkt_spec a = pkt_udp(CLIENT6_A, 25007, SERVER_1_64, 7000);
	struct pkt_spec b = pkt_udp(CLIENT6_B, 25007, SERVER_1_64, 7000);
	struct nat64_pool_sweep_result res;
	struct run_result r;
	uint32_t pool = ip4(POOL_ONE);

	fx.opts.nat64pool.timeout_s = 60;
	pool_on(POOL_ONE "/32", "fd00:77::9=" STATIC_V4, NULL);
	ASSERT_EQ(run_lan(&a, &r), 0, "A maps");
	ASSERT_EQ(mapped4(CLIENT6_A), pool, "A has the address");
	ASSERT_EQ(nat64_pool_sweep(p64_out_fd(), p64_in_fd(), &fx.cfg, gc_now_ns() + 30ULL * 1000000000,
				   &res), 0, "sweep at 30 s");
	ASSERT_EQ(res.expired, 0, "nothing idle yet");
	ASSERT_EQ(res.live, 2, "A's and the static one live");
	ASSERT_EQ(nat64_pool_sweep(p64_out_fd(), p64_in_fd(), &fx.cfg, gc_now_ns() + 62ULL * 1000000000,
				   &res), 0, "sweep at 62 s");
	ASSERT_EQ(res.expired, 1, "A's expired");
	ASSERT_EQ(mapped4(CLIENT6_A), 0, "A's host entry gone");
	ASSERT_EQ(bpf_map_lookup_elem(p64_in_fd(), &pool, &(struct fc_nat64_map){}) != 0, 1,
		  "the address free");
	ASSERT_EQ(mapped4("fd00:77::9"), ip4(STATIC_V4), "static entry stays");
	ASSERT_EQ(run_lan(&b, &r), 0, "B's first packet");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "B translated");
	ASSERT_EQ(mapped4(CLIENT6_B), pool, "B gets the freed address");
}

/* RFC 7915 §4.2/§4.3 through the address mapping: an ICMPv4 error about
 * the host's packet becomes ICMPv6 (3/3 -> 1/4) to the host, its quote
 * the packet as the host sent it (ports as they were). */
TEST(nat64_pool4_icmp_error_in_quote_translated)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25008, SERVER_1_64, 7000);
	struct pkt_spec q4 = pkt_udp(POOL_ONE, 25008, SERVER_1, 7000);
	struct pkt_spec q6 = pkt_udp(CLIENT6_A, 25008, SERVER_1_64, 7000);
	struct pkt_spec err = { .proto = IPPROTO_ICMP, .saddr = SERVER_1, .daddr = POOL_ONE,
				.icmp_type = 3, .icmp_code = 3, .quote = &q4 };
	struct pkt_spec want = { .proto = IPPROTO_ICMPV6, .saddr = SERVER_1_64,
				 .daddr = CLIENT6_A, .icmp_type = 1, .icmp_code = 4,
				 .quote = &q6 };
	struct run_result r;

	pool_on(POOL_ONE "/32", NULL, NULL);
	ASSERT_EQ(run_lan(&out, &r), 0, "mapping");
	q4.ttl = q6.ttl = 63;
	EXPECT_EXT(&err, &want, TC_ACT_OK, "port unreachable -> ICMPv6 1/4");
	ASSERT_EQ(stat_get(&fx, FC_STAT_ICMP_ERROR_TRANSLATED), 1, "counted");
}

/* RFC 7915 §4.1: IPv4 fragments to an address-mapped host, the first one
 * not seen yet: the address alone says where each goes, so a middle
 * fragment is translated at once (Fragment Header with the IPv4 ID, its
 * offset and M), with no train record. */
TEST(nat64_pool4_fragment_translated_without_its_first)
{
	struct pkt_spec mid = pkt_udp(SERVER_1, 0, STATIC_V4, 0);
	struct pkt_spec mid6 = pkt_udp(SERVER_1_64, 0, CLIENT6_B, 0);

	pool_on(NULL, CLIENT6_B "=" STATIC_V4, NULL);
	mid.ip_id = 0x4343;
	mid.frag = 0x2000 | 9;		/* MF, offset 72 */
	mid.payload_len = mid6.payload_len = 72;
	mid6.nr_ext = 1;
	mid6.ext_hdrs[0] = 44;
	mid6.frag6 = 72 | 1;
	mid6.frag6_id = 0x4343;
	EXPECT_EXT(&mid, &mid6, TC_ACT_OK, "middle fragment first");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_TRANSLATED), 1, "fragments_translated");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_HELD), 0, "not held");
}

/* The IPv6 network behind int0 with CLIENT6_B a known neighbour too (the
 * hairpinned packets are sent straight to the host, IPv6 FIB). */
static int two_hosts_up(void)
{
	if (ipv6_side_up(0))
		return -1;
	fixture_defer(&fx, "ip -6 neigh del " CLIENT6_B " dev int0 2>/dev/null");
	return system("ip -6 neigh replace " CLIENT6_B
		      " lladdr 02:00:00:00:02:03 dev int0 nud permanent");
}

/* Hairpinned to an IPv6 host on int0: hop limit - 1, the gateway's int0
 * MAC as source, the host's as destination. */
static void to_host(struct pkt_spec *s, const uint8_t *mac)
{
	s->ttl = 63;
	s->smac = FX_INT0_MAC;
	s->dmac = mac;
}

/* RFC 6146 §3.8 to an address-mapped host: CLIENT6_A (port-translated,
 * NAPT64) sends to the prefix-embedded address of CLIENT6_B's static
 * entry. As if translated out and back in: A's mapping on the external
 * address (port kept: free) under the prefix as source, B's IPv6 address
 * as destination, B's port as sent (the address alone names B), hop limit
 * - 1, straight to B. B's answer to A's mapping under the prefix comes
 * back from B's address under the prefix to A's own endpoint. */
TEST(rfc6146_s3_8_napt64_host_to_static_host_and_back)
{
	struct pkt_spec a_to_b = pkt_udp(CLIENT6_A, 25009, "64:ff9b::" STATIC_V4, 53);
	struct pkt_spec at_b = pkt_udp("64:ff9b::198.51.100.1", 25009, CLIENT6_B, 53);
	struct pkt_spec b_to_a = pkt_udp(CLIENT6_B, 53, "64:ff9b::198.51.100.1", 25009);
	struct pkt_spec at_a = pkt_udp("64:ff9b::" STATIC_V4, 53, CLIENT6_A, 25009);

	pool_on(NULL, CLIENT6_B "=" STATIC_V4, NULL);
	ASSERT_EQ(two_hosts_up(), 0, "IPv6 side set up");
	to_host(&at_b, FX_CLIENT_B_MAC);
	to_host(&at_a, FX_CLIENT_A_MAC);
	EXPECT_LAN(&a_to_b, &at_b, TC_ACT_REDIRECT, "A -> B's static address: to B");
	ASSERT_EQ(nr_bindings(&fx), 2, "A's NAPT64 mapping (both sides)");
	EXPECT_LAN(&b_to_a, &at_a, TC_ACT_REDIRECT, "B -> A's mapping: to A");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TRANSLATED), 2, "hairpin_translated");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_OUT), 0, "nothing left as IPv4");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 side removed");
}

/* Both hosts address-mapped: CLIENT6_A gets the pool's address on its
 * first packet, which is to B's static address; ports and echo
 * identifiers are kept both ways (no state but the two address mappings),
 * so ICMP echo hairpins too (RFC 7857 §12 with RFC 6146 §3.8). */
TEST(rfc6146_s3_8_rfc7857_s12_pooled_host_to_static_host_udp_and_echo_both_ways)
{
	struct pkt_spec a_to_b = pkt_udp(CLIENT6_A, 25010, "64:ff9b::" STATIC_V4, 53);
	struct pkt_spec at_b = pkt_udp("64:ff9b::" POOL_ONE, 25010, CLIENT6_B, 53);
	struct pkt_spec b_to_a = pkt_udp(CLIENT6_B, 53, "64:ff9b::" POOL_ONE, 25010);
	struct pkt_spec at_a = pkt_udp("64:ff9b::" STATIC_V4, 53, CLIENT6_A, 25010);
	struct pkt_spec req = pkt_echo(CLIENT6_A, "64:ff9b::" STATIC_V4, IPPROTO_ICMPV6, 128, 0x4243);
	struct pkt_spec req_at_b = pkt_echo("64:ff9b::" POOL_ONE, CLIENT6_B, IPPROTO_ICMPV6, 128,
					    0x4243);
	struct pkt_spec rep = pkt_echo(CLIENT6_B, "64:ff9b::" POOL_ONE, IPPROTO_ICMPV6, 129, 0x4243);
	struct pkt_spec rep_at_a = pkt_echo("64:ff9b::" STATIC_V4, CLIENT6_A, IPPROTO_ICMPV6, 129,
					    0x4243);

	pool_on(POOL_ONE "/32", CLIENT6_B "=" STATIC_V4, NULL);
	ASSERT_EQ(two_hosts_up(), 0, "IPv6 side set up");
	to_host(&at_b, FX_CLIENT_B_MAC);
	to_host(&req_at_b, FX_CLIENT_B_MAC);
	to_host(&at_a, FX_CLIENT_A_MAC);
	to_host(&rep_at_a, FX_CLIENT_A_MAC);
	EXPECT_LAN(&a_to_b, &at_b, TC_ACT_REDIRECT, "UDP A -> B from A's pool address");
	ASSERT_EQ(mapped4(CLIENT6_A), ip4(POOL_ONE), "A mapped onto the pool address");
	EXPECT_LAN(&b_to_a, &at_a, TC_ACT_REDIRECT, "UDP B -> A's pool address: to A");
	EXPECT_LAN(&req, &req_at_b, TC_ACT_REDIRECT, "echo request A -> B, identifier kept");
	EXPECT_LAN(&rep, &rep_at_a, TC_ACT_REDIRECT, "echo reply B -> A, identifier kept");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TRANSLATED), 4, "hairpin_translated");
	ASSERT_EQ(nr_bindings(&fx), 0, "no port mapping");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 side removed");
}

/* An address-mapped host to a NAPT64 host's mapping on the external
 * address (the reply half of the test above, started by B): B (static)
 * reaches A's mapping, from its own address under the prefix, its port
 * kept. */
TEST(rfc6146_s3_8_static_host_to_napt64_mapping)
{
	struct pkt_spec a_out = pkt_udp(CLIENT6_A, 25011, SERVER_1_64, 7000);
	struct pkt_spec b_to_a = pkt_udp(CLIENT6_B, 4000, "64:ff9b::198.51.100.1", 25011);
	struct pkt_spec at_a = pkt_udp("64:ff9b::" STATIC_V4, 4000, CLIENT6_A, 25011);
	struct run_result r;

	pool_on(NULL, CLIENT6_B "=" STATIC_V4, NULL);
	ASSERT_EQ(two_hosts_up(), 0, "IPv6 side set up");
	ASSERT_EQ(run_lan(&a_out, &r), 0, "A's mapping");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "A translated out");
	to_host(&at_a, FX_CLIENT_A_MAC);
	EXPECT_LAN(&b_to_a, &at_a, TC_ACT_REDIRECT, "B -> A's mapping, B's port kept");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TRANSLATED), 1, "hairpin_translated");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 side removed");
}

/* A free address of the pool is nobody's: dropped, counted, and no
 * mapping made for the sender; never sent out as IPv4 to ourselves. */
TEST(nat64_pool4_to_free_pool_address_dropped_no_state)
{
	struct pkt_spec to_free = pkt_udp(CLIENT6_A, 25012, "64:ff9b::203.0.113.10", 53);

	pool_on(POOL_30, NULL, NULL);
	EXPECT_LAN(&to_free, &to_free, TC_ACT_SHOT, "to a free pool address: dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 1, "drop_unsolicited");
	ASSERT_EQ(mapped4(CLIENT6_A), 0, "no address taken for it");
}

/* The options: what is refused and why (src/nat64_pool.c). */
TEST(nat64_pool_options_validated)
{
	struct fc_nat64_pool_opts p;
	char err[200];

	nat64_pool_defaults(&p);
	ASSERT_EQ(p.timeout_s, 7200, "default timeout");
	ASSERT_EQ(nat64_pool_option(&p, FC_NAT64_OPT_POOL4, "203.0.113.0/24", err, sizeof(err)), 0,
		  "a /24");
	ASSERT_EQ(p.pool4_len, 24, "its length");
	ASSERT_EQ(nat64_pool_option(&p, FC_NAT64_OPT_POOL4, "203.0.113.1/24", err, sizeof(err)), -1,
		  "host bits set");
	ASSERT_EQ(nat64_pool_option(&p, FC_NAT64_OPT_POOL4, "10.0.0.0/8", err, sizeof(err)), -1,
		  "bigger than a /16");
	ASSERT_EQ(nat64_pool_option(&p, FC_NAT64_OPT_STATIC, "fd00::1=203.0.113.5 fd00::2=203.0.113.6",
				    err, sizeof(err)), 0, "two static entries");
	ASSERT_EQ(p.nr_static, 2, "both");
	ASSERT_EQ(nat64_pool_option(&p, FC_NAT64_OPT_STATIC, "fd00::3", err, sizeof(err)), -1,
		  "no =V4");
	ASSERT_EQ(nat64_pool_check(&p, true, err, sizeof(err)), 0, "distinct");
	ASSERT_EQ(nat64_pool_option(&p, FC_NAT64_OPT_STATIC, "fd00::4=203.0.113.5", err, sizeof(err)),
		  0, "a third, same IPv4 address");
	ASSERT_EQ(nat64_pool_check(&p, true, err, sizeof(err)), -1, "repeated address refused");
	ASSERT_EQ(nat64_pool_check(&p, false, err, sizeof(err)), -1, "without --nat64 refused");
	ASSERT_EQ(nat64_pool_option(&p, FC_NAT64_OPT_ALLOW, "fd00::/8,2001:db8::/32", err,
				    sizeof(err)), 0, "two prefixes");
	ASSERT_EQ(p.nr_allow, 2, "both");
	ASSERT_EQ(nat64_pool_option(&p, FC_NAT64_OPT_ALLOW, "fd00::1/8", err, sizeof(err)), -1,
		  "host bits set");
}
