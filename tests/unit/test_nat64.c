// SPDX-License-Identifier: GPL-2.0
/*
 * Stateful NAT64 (RFC 6146) packet by packet through the real TC programs:
 * IPv6 to 64:ff9b::/96 on the internal interface's ingress (fc_tc_lan_ingress
 * on int0, whose FIB routes the IPv4 servers out of ext0) becomes IPv4 from
 * the external address and is redirected; IPv4 to a NAT64 mapping on the
 * external ingress becomes IPv6 for the stack. Every output packet is
 * compared whole against one pkt_build made from scratch (checksums
 * included); the one field chosen at random, the IPv4 Identification of a
 * DF-clear packet (RFC 6864), is read from the output and put into the
 * expected header, whose checksum pkt_build then computes itself.
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "nat64_expect.h"

/* ext0 and SERVER_1's MACs (xdp_fixture_setup): a translated packet to a
 * known neighbour leaves with the FIB's MACs (route.h); to one without an
 * entry (STRANGER) the kernel resolves them after the redirect. */

static void to_server1(struct pkt_spec *s)
{
	s->smac = FX_EXT0_MAC;
	s->dmac = FX_SERVER1_MAC;
}

static void nat64_on(void)
{
	nat64_prefix_set();
	fixture_apply(&fx);
}

static int lan_fd(void)
{
	return bpf_program__fd(fx.loader.skel->progs.fc_tc_lan_ingress);
}

/* An outbound packet through int0; the external port (ICMP: id) it got. */
static uint16_t out64(const struct pkt_spec *in)
{
	struct run_result r;

	if (run_lan(in, &r) || r.ret != TC_ACT_REDIRECT || r.out_len < 14 + 20 + 8)
		return 0;
	if (in->proto == IPPROTO_ICMPV6)
		return (r.out[38] << 8) | r.out[39];
	return (r.out[34] << 8) | r.out[35];
}

#define EXPECT_IN(in, want, verdict, what)					\
	do {									\
		struct run_result _r;						\
		uint8_t _w[PKT_MAX];						\
		size_t _wl = pkt_build(want, _w);				\
		ASSERT_EQ(run_spec(fx.ingress_fd, in, &_r), 0, what ": test run"); \
		ASSERT_EQ(_r.ret, verdict, what ": verdict");			\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what);		\
	} while (0)

TEST(rfc6146_s3_5_1_udp_out_whole_packet_and_bib_families)
{
	struct pkt_spec in = pkt_udp(CLIENT6_A, 25000, SERVER_1_64, 7000);
	struct pkt_spec want = pkt_udp(EXT_ADDR, 25000, SERVER_1, 7000);
	struct fc_endpoint_key ik = fx_int_key(FC_AF_INET6, FC_AF_INET, IPPROTO_UDP, CLIENT6_A, 25000);
	struct fc_endpoint_key ek = fx_ext_key(FC_AF_INET, IPPROTO_UDP, EXT_ADDR, 25000);
	struct fc_binding b, back;
	uint8_t client[16];

	nat64_on();
	want.ttl = 63;	/* the hop limit, decremented: we forward it */
	to_server1(&want);
	EXPECT_OUT(&in, &want, "outbound UDP 6->4");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "internal-side entry (family 6)");
	ASSERT_EQ(b.family, FC_AF_INET, "its external family is 4");
	ASSERT_EQ(b.addr.v4, ip4(EXT_ADDR), "on the external IPv4 address");
	ASSERT_EQ(ntohs(b.port), 25000, "port kept (in range)");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ek, &back), 0, "external-side entry (family 4)");
	ASSERT_EQ(back.family, FC_AF_INET6, "its internal family is 6");
	ip6(CLIENT6_A, client);
	ASSERT_EQ(memcmp(back.addr.v6, client, 16), 0, "points back at the IPv6 host");
	ASSERT_EQ(nr_bindings(&fx), 2, "one mapping");
	ASSERT_EQ(nr_sessions(&fx), 1, "one session");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_OUT), 1, "counted");
}

TEST(rfc6146_nat44_and_nat64_share_one_port_space)
{
	struct pkt_spec v4 = pkt_udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec v6 = pkt_udp(CLIENT6_A, 25000, SERVER_1_64, 7000);
	uint8_t buf[PKT_MAX];
	struct run_result r;
	struct fc_endpoint_key k4, k6;
	struct fc_binding b4, b6;
	uint16_t p6;

	nat64_on();
	ASSERT_EQ(run_prog(fx.egress_fd, buf, pkt_build(&v4, buf), &r), 0, "NAT44 run");
	ASSERT_EQ((r.out[34] << 8) | r.out[35], 25000, "NAT44 keeps 25000");
	p6 = out64(&v6);
	ASSERT_EQ(p6 != 0 && p6 != 25000, 1, "NAT64 gets another port");
	k4 = fx_ext_key(FC_AF_INET, IPPROTO_UDP, EXT_ADDR, 25000);
	k6 = fx_ext_key(FC_AF_INET, IPPROTO_UDP, EXT_ADDR, p6);
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &k4, &b4), 0, "NAT44 external entry");
	ASSERT_EQ(b4.family, FC_AF_INET, "owned by the IPv4 host");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &k6, &b6), 0, "NAT64 external entry");
	ASSERT_EQ(b6.family, FC_AF_INET6, "owned by the IPv6 host");
	ASSERT_EQ(nr_bindings(&fx), 4, "two mappings");
}

TEST(rfc4787_req1_nat64_eim_same_port_to_two_servers)
{
	struct pkt_spec a = pkt_udp(CLIENT6_A, 25001, SERVER_1_64, 7000);
	struct pkt_spec b = pkt_udp(CLIENT6_A, 25001, SERVER_2_64, 7001);
	uint16_t pa, pb;

	nat64_on();
	pa = out64(&a);
	pb = out64(&b);
	ASSERT_EQ(pa != 0, 1, "first mapped");
	ASSERT_EQ(pb, pa, "same external port for both destinations");
	ASSERT_EQ(nr_bindings(&fx), 2, "one mapping");
	ASSERT_EQ(nr_sessions(&fx), 2, "two sessions");
}

TEST(rfc4787_req8_nat64_eif_stranger_reaches_mapping_whole_packet)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25002, SERVER_1_64, 7000);
	struct pkt_spec in = pkt_udp(STRANGER, 9999, EXT_ADDR, 25002);
	struct pkt_spec want = pkt_udp(STRANGER_64, 9999, CLIENT6_A, 25002);

	nat64_on();
	ASSERT_EQ(out64(&out), 25002, "mapping");
	EXPECT_IN(&in, &want, TC_ACT_OK, "unsolicited IPv4 host, full cone");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 1, "counted");
}

TEST(rfc6146_unsolicited_ipv4_to_unmapped_port_dropped)
{
	struct pkt_spec in = pkt_udp(STRANGER, 9999, EXT_ADDR, 25003);

	nat64_on();
	EXPECT_IN(&in, &in, TC_ACT_SHOT, "no mapping");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 1, "counted");
}

TEST(rfc6146_s3_5_2_tcp_both_ways_whole_packets)
{
	struct pkt_spec syn = pkt_tcp(CLIENT6_A, 25004, SERVER_1_64, 80, 0x02);
	struct pkt_spec syn4 = pkt_tcp(EXT_ADDR, 25004, SERVER_1, 80, 0x02);
	struct pkt_spec synack = pkt_tcp(SERVER_1, 80, EXT_ADDR, 25004, 0x12);
	struct pkt_spec synack6 = pkt_tcp(SERVER_1_64, 80, CLIENT6_A, 25004, 0x12);

	nat64_on();
	syn4.ttl = 63;
	to_server1(&syn4);
	EXPECT_OUT(&syn, &syn4, "SYN 6->4");
	EXPECT_IN(&synack, &synack6, TC_ACT_OK, "SYN-ACK 4->6");
}

TEST(rfc6146_s3_5_3_icmp_echo_both_ways_id_mapped)
{
	struct pkt_spec req = pkt_echo(CLIENT6_A, SERVER_1_64, IPPROTO_ICMPV6, 128, 0x4242);
	struct pkt_spec req4, rep, rep6;
	struct run_result r;
	uint16_t id;

	nat64_on();
	ASSERT_EQ(run_lan(&req, &r), 0, "echo request run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "redirected");
	id = (r.out[38] << 8) | r.out[39];
	req4 = pkt_echo(EXT_ADDR, SERVER_1, IPPROTO_ICMP, 8, id);
	req4.ttl = 63;
	to_server1(&req4);
	EXPECT_OUT(&req, &req4, "echo request 6->4");	/* the same mapping again */
	rep = pkt_echo(SERVER_1, EXT_ADDR, IPPROTO_ICMP, 0, id);
	rep6 = pkt_echo(SERVER_1_64, CLIENT6_A, IPPROTO_ICMPV6, 129, 0x4242);
	EXPECT_IN(&rep, &rep6, TC_ACT_OK, "echo reply 4->6, id put back");
	ASSERT_EQ(nr_bindings(&fx), 2, "one ICMP mapping");
}

/* RFC 6146 §3.5.3: an ICMPv4 query's identifier is looked up in the BIB
 * whatever its type: an echo request from any IPv4 host (EIF) to a NAT64
 * ICMP mapping goes to the IPv6 host with the internal identifier, and the
 * host's echo reply leaves from the external address with the external
 * one. It went to the gateway's own stack before. A request to an
 * identifier with no mapping stays the gateway's (a ping of the router). */
TEST(rfc6146_s3_5_3_icmpv4_echo_request_to_nat64_mapping_reaches_host)
{
	struct pkt_spec req = pkt_echo(CLIENT6_A, SERVER_1_64, IPPROTO_ICMPV6, 128, 0x4343);
	struct pkt_spec in, in6, rep6, rep4, unmapped;
	struct run_result r;
	uint8_t sent[PKT_MAX];
	size_t sent_len;
	uint16_t id;

	nat64_on();
	ASSERT_EQ(run_lan(&req, &r), 0, "host's echo request out (makes the mapping)");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "redirected");
	id = (r.out[38] << 8) | r.out[39];
	in = pkt_echo(STRANGER, EXT_ADDR, IPPROTO_ICMP, 8, id);
	in6 = pkt_echo(STRANGER_64, CLIENT6_A, IPPROTO_ICMPV6, 128, 0x4343);
	EXPECT_IN(&in, &in6, TC_ACT_OK, "echo request 4->6 to the host, id put back");
	rep6 = pkt_echo(CLIENT6_A, STRANGER_64, IPPROTO_ICMPV6, 129, 0x4343);
	rep4 = pkt_echo(EXT_ADDR, STRANGER, IPPROTO_ICMP, 0, id);
	rep4.ttl = 63;
	EXPECT_OUT(&rep6, &rep4, "the host's echo reply 6->4, external id");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 1, "request translated in");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_OUT), 2, "request and reply out");
	unmapped = pkt_echo(STRANGER, EXT_ADDR, IPPROTO_ICMP, 8, id + 1);
	ASSERT_EQ(run_spec(fx.ingress_fd, &unmapped, &r), 0, "echo request, no mapping");
	ASSERT_EQ(r.ret, TC_ACT_OK, "to the gateway's stack");
	sent_len = pkt_build(&unmapped, sent);
	ASSERT_PKT_EQ(r.out, r.out_len, sent, sent_len, "untouched");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 1, "not translated");
}

TEST(rfc6146_s3_4_icmp_error_in_quote_put_back)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25005, SERVER_1_64, 7000);
	struct pkt_spec q4 = pkt_udp(EXT_ADDR, 25005, SERVER_1, 7000);
	struct pkt_spec q6 = pkt_udp(CLIENT6_A, 25005, SERVER_1_64, 7000);
	struct pkt_spec err = { .proto = IPPROTO_ICMP, .saddr = SERVER_1, .daddr = EXT_ADDR,
				.icmp_type = 3, .icmp_code = 3, .quote = &q4 };
	struct pkt_spec want = { .proto = IPPROTO_ICMPV6, .saddr = SERVER_1_64,
				 .daddr = CLIENT6_A, .icmp_type = 1, .icmp_code = 4,
				 .quote = &q6 };

	nat64_on();
	ASSERT_EQ(out64(&out), 25005, "mapping");
	q4.ttl = 63;
	q6.ttl = 63;	/* the quote's TTL is its hop limit, not decremented */
	EXPECT_IN(&err, &want, TC_ACT_OK, "port unreachable -> ICMPv6 1/4");
	ASSERT_EQ(stat_get(&fx, FC_STAT_ICMP_ERROR_TRANSLATED), 1, "counted");
}

TEST(rfc7915_s4_2_frag_needed_becomes_packet_too_big_mtu_plus_20)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25006, SERVER_1_64, 7000);
	struct pkt_spec q4 = pkt_udp(EXT_ADDR, 25006, SERVER_1, 7000);
	struct pkt_spec q6 = pkt_udp(CLIENT6_A, 25006, SERVER_1_64, 7000);
	struct pkt_spec err = { .proto = IPPROTO_ICMP, .saddr = SERVER_1, .daddr = EXT_ADDR,
				.icmp_type = 3, .icmp_code = 4, .icmp_mtu = 1400, .quote = &q4 };
	struct pkt_spec want = { .proto = IPPROTO_ICMPV6, .saddr = SERVER_1_64,
				 .daddr = CLIENT6_A, .icmp_type = 2, .icmp_mtu = 1420,
				 .quote = &q6 };

	nat64_on();
	ASSERT_EQ(out64(&out), 25006, "mapping");
	q4.ttl = q6.ttl = 63;
	EXPECT_IN(&err, &want, TC_ACT_OK, "fragmentation needed 1400 -> packet too big 1420");
}

TEST(rfc6146_s3_4_icmpv6_error_out_quote_put_back)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25007, SERVER_1_64, 7000);
	struct pkt_spec q6 = pkt_udp(STRANGER_64, 9999, CLIENT6_A, 25007);
	struct pkt_spec q4 = pkt_udp(STRANGER, 9999, EXT_ADDR, 25007);
	struct pkt_spec in = pkt_udp(STRANGER, 9999, EXT_ADDR, 25007);
	struct pkt_spec err = { .proto = IPPROTO_ICMPV6, .saddr = CLIENT6_A,
				.daddr = STRANGER_64, .icmp_type = 1, .icmp_code = 4,
				.quote = &q6 };
	struct pkt_spec want = { .proto = IPPROTO_ICMP, .saddr = EXT_ADDR, .daddr = STRANGER,
				 .icmp_type = 3, .icmp_code = 3, .quote = &q4, .ttl = 63 };
	struct run_result r;

	nat64_on();
	q4.ip_id_zero = 1;	/* a quoted header rebuilt from IPv6 has no ID to carry */
	ASSERT_EQ(out64(&out), 25007, "mapping");
	ASSERT_EQ(run_spec(fx.ingress_fd, &in, &r), 0, "stranger's packet in (EIF session)");
	ASSERT_EQ(r.ret, TC_ACT_OK, "admitted");
	EXPECT_OUT(&err, &want, "port unreachable from the host -> ICMP 3/3");
}

/* RFC 7915 §5.1.1: an ICMPv6 error carried in an (atomic) fragment keeps
 * the fragment header's Identification, low 16 bits, as UDP, TCP and echo
 * do; DF clear, offset and MF copied (0). */
TEST(rfc7915_s5_1_1_icmpv6_error_in_atomic_fragment_keeps_id_low_16_bits)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25033, SERVER_1_64, 7000);
	struct pkt_spec q6 = pkt_udp(STRANGER_64, 9999, CLIENT6_A, 25033);
	struct pkt_spec q4 = pkt_udp(STRANGER, 9999, EXT_ADDR, 25033);
	struct pkt_spec in = pkt_udp(STRANGER, 9999, EXT_ADDR, 25033);
	struct pkt_spec err = { .proto = IPPROTO_ICMPV6, .saddr = CLIENT6_A,
				.daddr = STRANGER_64, .icmp_type = 1, .icmp_code = 4,
				.quote = &q6, .nr_ext = 1, .ext_hdrs = { 44 },
				.frag6 = 0, .frag6_id = 0xabcd9876 };
	struct pkt_spec want = { .proto = IPPROTO_ICMP, .saddr = EXT_ADDR, .daddr = STRANGER,
				 .icmp_type = 3, .icmp_code = 3, .quote = &q4, .ttl = 63,
				 .ip_id = 0x9876, .frag = 0 };
	struct run_result r;
	uint8_t w[PKT_MAX];
	size_t wl;

	nat64_on();
	q4.ip_id_zero = 1;	/* a quoted header rebuilt from IPv6 has no ID to carry */
	ASSERT_EQ(out64(&out), 25033, "mapping");
	ASSERT_EQ(run_spec(fx.ingress_fd, &in, &r), 0, "stranger's packet in (EIF session)");
	ASSERT_EQ(r.ret, TC_ACT_OK, "admitted");
	/* Not EXPECT_OUT: the Identification is the point, not taken from
	 * the output. */
	ASSERT_EQ(run_lan(&err, &r), 0, "error out: test run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "error out: redirected");
	wl = pkt_build(&want, w);
	ASSERT_PKT_EQ(r.out, r.out_len, w, wl,
		      "port unreachable in an atomic fragment -> ICMP 3/3, ID 0x9876");
}

TEST(rfc6146_never_leak_untranslatable_to_prefix_dropped)
{
	struct pkt_spec gre = { .proto = 47, .saddr = CLIENT6_A, .daddr = SERVER_1_64,
				.payload_len = 20 };
	struct pkt_spec ns = pkt_echo(CLIENT6_A, SERVER_1_64, IPPROTO_ICMPV6, 135, 0);
	struct pkt_spec other = pkt_udp(CLIENT6_A, 25008, SERVER6_1, 7000);
	struct run_result r;
	uint8_t buf[PKT_MAX];
	size_t len;

	nat64_on();
	ASSERT_EQ(run_lan(&gre, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "protocol without ports to the prefix: dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSUPPORTED_PROTO), 1, "counted");
	ASSERT_EQ(run_lan(&ns, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "ICMPv6 informational to the prefix: dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_ICMP_UNSUPPORTED), 1, "counted");
	len = pkt_build(&other, buf);
	ASSERT_EQ(run_lan(&other, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_OK, "IPv6 outside the prefix: the stack's");
	ASSERT_PKT_EQ(r.out, r.out_len, buf, len, "untouched");
	ASSERT_EQ(nr_bindings(&fx), 0, "no mapping made");
}

TEST(rfc6146_nat64_off_ipv6_to_prefix_untouched)
{
	struct pkt_spec in = pkt_udp(CLIENT6_A, 25009, SERVER_1_64, 7000);
	struct run_result r;
	uint8_t buf[PKT_MAX];
	size_t len = pkt_build(&in, buf);

	fixture_apply(&fx);
	ASSERT_EQ(run_lan(&in, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_OK, "passed");
	ASSERT_PKT_EQ(r.out, r.out_len, buf, len, "untouched");
}

TEST(rfc6146_hop_limit_1_left_to_the_stack)
{
	struct pkt_spec in = pkt_udp(CLIENT6_A, 25010, SERVER_1_64, 7000);
	struct run_result r;

	nat64_on();
	in.ttl = 1;
	ASSERT_EQ(run_lan(&in, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_OK, "the stack sends time exceeded");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_PASS_HOP_LIMIT), 1, "counted");
	ASSERT_EQ(nr_bindings(&fx), 0, "no mapping made");
}

/* XDP translates NAT64 itself (test_xdp_nat64.c), but not without an IPv6
 * route to the host: untouched to TC (and the stack), never dropped as
 * unsolicited. */
TEST(rfc4787_req8_nat64_xdp_without_ipv6_route_leaves_nat64_mapping_to_tc)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25011, SERVER_1_64, 7000);
	struct pkt_spec in = pkt_udp(STRANGER, 9999, EXT_ADDR, 25011);
	struct run_result r;
	uint8_t buf[PKT_MAX];
	size_t len = pkt_build(&in, buf);

	nat64_on();
	ASSERT_EQ(out64(&out), 25011, "mapping");
	ASSERT_EQ(run_xdp(fx.xdp_ext_fd, buf, len, fx.ext_ifindex, &r), 0, "XDP run");
	ASSERT_EQ(r.ret, 2 /* XDP_PASS */, "passed to TC, not dropped as unsolicited");
	ASSERT_PKT_EQ(r.out, r.out_len, buf, len, "untouched");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 0, "not counted as unsolicited");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_PASS_NO_ROUTE), 1, "fast_pass_no_route");
}

/* RFC 4787 REQ-9/9a with RFC 6146 §3.8: an IPv4 LAN host reaches an IPv6
 * host's NAT64 mapping at the external address, as from outside. The
 * packet gets the sender's own NAT44 mapping (EIM: the one it uses
 * outside), then RFC 7915 §4: from that mapping under the prefix (RFC 6052
 * §2.2, /96: the IPv4 address in the last 32 bits) to the mapped IPv6
 * endpoint, traffic class = TOS, flow label 0, hop limit = TTL - 1, out of
 * int0 to the host's MAC. The answer to the sender's mapping under the
 * prefix goes the reverse way (RFC 7915 §5.1: TTL = hop limit - 1, DF
 * clear, random ID), from the NAT64 mapping to the IPv4 host. */
#define EXT_ADDR_64	"64:ff9b::198.51.100.1"
TEST(rfc4787_req9_rfc6146_s3_8_ipv4_host_to_nat64_mapping_udp_both_ways)
{
	struct pkt_spec a6_out = pkt_udp(CLIENT6_A, 25012, SERVER_1_64, 7000);
	struct pkt_spec v4_to_a6 = pkt_udp(CLIENT_A, 25612, EXT_ADDR, 25012);
	struct pkt_spec at_a6 = pkt_udp(EXT_ADDR_64, 25612, CLIENT6_A, 25012);
	struct pkt_spec a6_to_v4 = pkt_udp(CLIENT6_A, 25012, EXT_ADDR_64, 25612);
	struct pkt_spec at_v4 = pkt_udp(EXT_ADDR, 25012, CLIENT_A, 25612);
	struct fc_endpoint_key ik = fx_int_key(FC_AF_INET, FC_AF_INET, IPPROTO_UDP, CLIENT_A, 25612);
	struct fc_binding b;

	nat64_on();
	ASSERT_EQ(ipv6_side_up(1500), 0, "IPv6 side set up");
	ASSERT_EQ(out64(&a6_out), 25012, "the IPv6 host's NAT64 mapping");
	at_a6 = fx_hop(at_a6, FX_INT0_MAC, FX_CLIENT_A_MAC);
	at_v4 = fx_hop(at_v4, FX_INT0_MAC, FX_CLIENT_A_MAC);
	v4_to_a6.tclass = at_a6.tclass = 0x28;	/* TOS copied to the traffic class */
	EXPECT_LAN(&v4_to_a6, &at_a6, TC_ACT_REDIRECT, "IPv4 host -> NAT64 mapping: IPv6 to the host");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "the IPv4 host's own NAT44 mapping");
	ASSERT_EQ(b.family, FC_AF_INET, "in the IPv4 space");
	ASSERT_EQ(ntohs(b.port), 25612, "its port, shown to the IPv6 host");
	EXPECT_OUT(&a6_to_v4, &at_v4, "IPv6 host's answer -> IPv4 host from the NAT64 mapping");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TRANSLATED), 2, "hairpin_translated, both ways");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_OUT), 1, "only the first packet left");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_UNTRANSLATABLE), 0, "nothing refused");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 side removed");
}

/* The same on the TC fast path's program (TC mode, --lan-if int0): the
 * IPv4 host's packet to the NAT64 mapping is translated and sent to the
 * IPv6 host, never out of the external interface. */
TEST(rfc4787_req9_rfc6146_s3_8_ipv4_host_to_nat64_mapping_on_tc_fast_path)
{
	struct pkt_spec a6_out = pkt_udp(CLIENT6_A, 25015, SERVER_1_64, 7000);
	struct pkt_spec v4_to_a6 = pkt_udp(CLIENT_A, 25615, EXT_ADDR, 25015);
	struct pkt_spec at_a6 = fx_hop(pkt_udp(EXT_ADDR_64, 25615, CLIENT6_A, 25015), FX_INT0_MAC,
				       FX_CLIENT_A_MAC);
	struct __sk_buff ctx = { .ifindex = fx.int_ifindex, .ingress_ifindex = fx.int_ifindex };
	struct run_result r;
	uint8_t buf[PKT_MAX], want[PKT_MAX];
	size_t len;

	nat64_on();
	ASSERT_EQ(ipv6_side_up(1500), 0, "IPv6 side set up");
	ASSERT_EQ(out64(&a6_out), 25015, "the IPv6 host's NAT64 mapping");
	ASSERT_EQ(run_prog_ctx(fx.fast_int_fd, buf, pkt_build(&v4_to_a6, buf), &ctx, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "redirected");
	len = pkt_build(&at_a6, want);
	ASSERT_PKT_EQ(r.out, r.out_len, want, len, "IPv6 to the host, from the sender's mapping");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TRANSLATED), 1, "hairpin_translated");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 side removed");
}

/* The same for TCP, started from the IPv6 side (RFC 6146 §3.8, RFC 5382
 * REQ-8): an IPv6 host's SYN to an IPv4 host's NAT44 mapping under the
 * prefix gets the IPv6 host's NAT64 mapping, becomes IPv4 (RFC 7915 §5.1)
 * to the IPv4 host's internal endpoint; its SYN-ACK to that NAT64 mapping
 * comes back as IPv6 from the NAT44 mapping under the prefix. A port with
 * no mapping stays unsolicited. */
TEST(rfc5382_req8_rfc6146_s3_8_ipv6_host_to_nat44_mapping_tcp_both_ways)
{
	struct pkt_spec a4_out = pkt_tcp(CLIENT_A, 25620, SERVER_1, 7000, 0x02);
	struct pkt_spec syn = pkt_tcp(CLIENT6_A, 25021, EXT_ADDR_64, 25620, 0x02);
	struct pkt_spec syn4 = pkt_tcp(EXT_ADDR, 25021, CLIENT_A, 25620, 0x02);
	struct pkt_spec synack = pkt_tcp(CLIENT_A, 25620, EXT_ADDR, 25021, 0x12);
	struct pkt_spec synack6 = pkt_tcp(EXT_ADDR_64, 25620, CLIENT6_A, 25021, 0x12);
	struct pkt_spec nowhere = pkt_tcp(CLIENT6_A, 25021, EXT_ADDR_64, 25629, 0x02);
	struct run_result r;
	uint8_t buf[PKT_MAX];

	nat64_on();
	ASSERT_EQ(ipv6_side_up(1500), 0, "IPv6 side set up");
	ASSERT_EQ(run_prog(fx.egress_fd, buf, pkt_build(&a4_out, buf), &r), 0, "NAT44 run");
	ASSERT_EQ((r.out[34] << 8) | r.out[35], 25620, "the IPv4 host's NAT44 mapping");
	syn4 = fx_hop(syn4, FX_INT0_MAC, FX_CLIENT_A_MAC);
	synack6 = fx_hop(synack6, FX_INT0_MAC, FX_CLIENT_A_MAC);
	EXPECT_OUT(&syn, &syn4, "IPv6 SYN -> NAT44 mapping: IPv4 to the host");
	EXPECT_LAN(&synack, &synack6, TC_ACT_REDIRECT, "IPv4 SYN-ACK -> NAT64 mapping: IPv6");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TRANSLATED), 2, "hairpin_translated, both ways");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_OUT), 0, "nothing left for the outside");
	ASSERT_EQ(run_lan(&nowhere, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "to a port without a mapping: dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 1, "drop_unsolicited");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 side removed");
}

/* A locked-MTU route to SERVER_1 on ext0; taken away before the next test
 * even if this one stops at an assertion (other tests route SERVER_1 by
 * ext0's own MTU). */
static int server1_route_mtu(int mtu)
{
	char cmd[128];

	fixture_defer(&fx, "ip route del " SERVER_1 "/32 dev ext0 2>/dev/null");
	snprintf(cmd, sizeof(cmd), "ip route replace " SERVER_1 "/32 dev ext0 mtu lock %d", mtu);
	return system(cmd);
}

/* The Fragmentation Needed fcnat answers the IPv4 packet `in` with: from
 * the external address (the gateway's on the route back) to the sender,
 * DF, id 0, TTL 64, quoting the first 548 bytes of the packet (576 in all), out of ext0
 * with the FIB's MACs. */
static struct pkt_spec frag_needed(const struct pkt_spec *in, uint16_t mtu)
{
	return (struct pkt_spec){ .proto = IPPROTO_ICMP, .saddr = EXT_ADDR, .daddr = in->saddr,
				  .icmp_type = 3, .icmp_code = 4, .icmp_mtu = mtu, .quote = in,
				  .quote_l4_len = 548 - 20, .frag = 0x4000, .ip_id_zero = 1,
				  .ttl = 64, .smac = FX_EXT0_MAC, .dmac = FX_SERVER1_MAC };
}

/* RFC 7915 §4 / §4.1: DF set and too big for the IPv6 next hop: dropped,
 * and Fragmentation Needed goes to the IPv4 sender with the MTU that
 * becomes the route's as IPv6 (1280 - 20). A packet that fits exactly is
 * translated. */
TEST(rfc7915_s4_1_df_too_big_for_the_ipv6_route_frag_needed_mtu_minus_20)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25013, SERVER_1_64, 7000);
	struct pkt_spec big = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25013);
	struct pkt_spec fits = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25013);
	struct pkt_spec fits6 = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25013);
	struct pkt_spec err;

	nat64_on();
	ASSERT_EQ(ipv6_side_up(1280), 0, "IPv6 route set up");
	ASSERT_EQ(out64(&out), 25013, "mapping");
	big.frag = 0x4000;
	big.payload_len = 1280 - 40 - 8 + 1;	/* one byte over as IPv6 */
	err = frag_needed(&big, 1260);
	EXPECT_EXT(&big, &err, TC_ACT_REDIRECT, "too big, DF: frag needed 1260");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_MTU), 1, "nat64_drop_mtu");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_MTU_DF_CLEAR), 0, "DF was set");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_FRAG_NEEDED_SENT), 1, "nat64_frag_needed_sent");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 0, "not translated");
	fits.frag = 0x4000;
	fits.payload_len = fits6.payload_len = 1280 - 40 - 8;
	EXPECT_IN(&fits, &fits6, TC_ACT_OK, "exactly 1280 as IPv6: translated");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 route removed");
}

/* The same for a GSO packet from the IPv4 side (the server's TSO, GRO on
 * ext0): its segments, 20 + 20 + 1360 bytes, are 1420 as IPv6, too big for
 * a 1400-byte IPv6 route: Fragmentation Needed 1380, quoting the GSO
 * packet's first 548 bytes (its headers as they came, RFC 1812 4.3.2.3). */
TEST(rfc7915_s4_1_gso_segments_too_big_for_the_ipv6_route_frag_needed)
{
	struct pkt_spec syn = pkt_tcp(CLIENT6_A, 25043, SERVER_1_64, 80, 0x02);
	struct pkt_spec big = pkt_tcp(SERVER_1, 80, EXT_ADDR, 25043, 0x10);
	struct __sk_buff ctx = { .ifindex = fx.ext_ifindex, .ingress_ifindex = fx.ext_ifindex,
				 .gso_size = 1360, .gso_segs = 2 };
	struct pkt_spec err;
	struct run_result r;
	uint8_t buf[PKT_MAX], w[PKT_MAX];
	size_t wl;

	nat64_on();
	ASSERT_EQ(ipv6_side_up(1400), 0, "IPv6 route of MTU 1400 set up");
	ASSERT_EQ(out64(&syn), 25043, "mapping");
	big.frag = 0x4000;
	big.payload_len = 1400;		/* segments of 1360 and 40 */
	err = frag_needed(&big, 1380);
	ASSERT_EQ(run_prog_ctx(fx.ingress_fd, buf, pkt_build(&big, buf), &ctx, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "answered");
	wl = pkt_build(&err, w);
	ASSERT_PKT_EQ(r.out, r.out_len, w, wl, "Fragmentation Needed 1380");
	ASSERT_EQ(ctx.gso_segs, 0, "the error is no GSO packet");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_FRAG_NEEDED_SENT), 1, "nat64_frag_needed_sent");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 0, "not translated");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 route removed");
}

/* RFC 7915 §4.1: only an IPv4 fragment gets a fragment header, so a whole
 * DF-clear packet of up to 1260 bytes is 1280 bytes or less as IPv6 and is
 * translated whole (it was split when the test counted the 8 bytes of a
 * fragment header it would not get): 1253 and 1260 bytes, on a 1280 route. */
TEST(rfc7915_s4_1_df_clear_up_to_1260_bytes_translated_whole_not_split)
{
	static const size_t tot4[] = { 1253, 1260 };
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25031, SERVER_1_64, 7000);

	nat64_on();
	ASSERT_EQ(ipv6_side_up(1280), 0, "IPv6 route of MTU 1280 set up");
	ASSERT_EQ(out64(&out), 25031, "mapping");
	for (size_t i = 0; i < sizeof(tot4) / sizeof(tot4[0]); i++) {
		struct pkt_spec in = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25031);
		struct pkt_spec in6 = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25031);

		in.payload_len = in6.payload_len = tot4[i] - 20 - 8;
		EXPECT_IN(&in, &in6, TC_ACT_OK, "DF clear, fits 1280 as IPv6: one packet, no fragment header");
	}
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_SPLIT), 0, "nothing split");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_MTU), 0, "nothing dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 2, "both translated");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 route removed");
}

/* RFC 7915 §4.1 MUST: a fragment with DF set is not fragmented further. A
 * first fragment too big for the IPv6 route is answered with Fragmentation
 * Needed, the MTU counting the fragment header it gets (1280 - 28); a
 * non-first one is dropped and counted, unanswered (no ICMP error about a
 * non-first fragment, RFC 1122 §3.2.2). Neither is split. */
TEST(rfc7915_s4_1_df_set_fragment_too_big_frag_needed_not_split)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25032, SERVER_1_64, 7000);
	struct pkt_spec first = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25032);
	struct pkt_spec small = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25032);
	struct pkt_spec mid = pkt_udp(SERVER_1, 0, EXT_ADDR, 0);
	struct pkt_spec err;
	struct run_result r;

	nat64_on();
	ASSERT_EQ(ipv6_side_up(1280), 0, "IPv6 route of MTU 1280 set up");
	ASSERT_EQ(out64(&out), 25032, "mapping");
	first.frag = 0x4000 | 0x2000;	/* DF, MF, offset 0 */
	first.ip_id = 0x4531;
	first.payload_len = 1300;
	err = frag_needed(&first, 1252);
	EXPECT_EXT(&first, &err, TC_ACT_REDIRECT, "DF first fragment too big: frag needed 1252");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_FRAG_NEEDED_SENT), 1, "nat64_frag_needed_sent");

	small.frag = 0x2000;		/* a train that fits, DF clear */
	small.ip_id = mid.ip_id = 0x4532;
	small.payload_len = 64;
	ASSERT_EQ(run_ext(&small, &r), 0, "small first fragment");
	ASSERT_EQ(r.ret, TC_ACT_OK, "translated, train recorded");
	mid.frag = 0x4000 | 0x2000 | 9;	/* DF, MF, offset 72 */
	mid.payload_len = 1400;
	ASSERT_EQ(run_ext(&mid, &r), 0, "DF non-first fragment too big");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_SPLIT), 0, "nothing split");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_MTU), 2, "both counted as too big");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_FRAG_NEEDED_SENT), 1, "no error about the non-first");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 route removed");
}

/* Frames fcnat feeds back into ext0's ingress (ctx_reinject), read from a
 * packet socket on ext0: IPv4 from src with IPv4 Identification id only. */
static int ext0_tap(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = fx.ext_ifindex };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static ssize_t tap_next(int fd, const char *src, uint16_t id, uint8_t *buf, size_t size)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint32_t want_src = ip4(src);

	while (poll(&pfd, 1, 2000) > 0) {
		ssize_t n = recv(fd, buf, size, 0);

		if (n < 34)
			continue;
		if (buf[12] == 0x08 && buf[13] == 0x00 && !memcmp(buf + 26, &want_src, 4) &&
		    ((buf[18] << 8) | buf[19]) == id)
			return n;
	}
	return -1;
}

/* The IPv4 fragment RFC 791 makes of the IPv4 frame orig (Ethernet +
 * 20-byte header + payload): payload bytes [start, start + size), at
 * offset base + start / 8, MF as given; header checksum from scratch. */
static size_t ip4_piece(const uint8_t *orig, uint16_t base, size_t start, size_t size, int mf,
			uint8_t *out)
{
	uint32_t sum = 0;
	uint16_t fo = (base + start / 8) | (mf ? 0x2000 : 0);

	memcpy(out, orig, 34);
	out[16] = (20 + size) >> 8;
	out[17] = (20 + size) & 0xff;
	out[20] = fo >> 8;
	out[21] = fo & 0xff;
	out[24] = out[25] = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (out[14 + i] << 8) | out[15 + i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	out[24] = ~sum >> 8;
	out[25] = ~sum & 0xff;
	memcpy(out + 34, orig + 34 + start, size);
	return 34 + size;
}

/* The IPv6 fragment of the IPv6 frame whole6 (Ethernet + 40-byte header +
 * transport datagram): datagram bytes [start, start + size) behind a
 * fragment header (next header nh, offset start, M, Identification id). */
static size_t ip6_piece(const uint8_t *whole6, size_t start, size_t size, int m, uint32_t id,
			uint8_t nh, uint8_t *out)
{
	uint16_t fo = start | (m ? 1 : 0);

	memcpy(out, whole6, 54);
	out[18] = (8 + size) >> 8;
	out[19] = (8 + size) & 0xff;
	out[20] = 44;
	out[54] = nh;
	out[55] = 0;
	out[56] = fo >> 8;
	out[57] = fo & 0xff;
	out[58] = id >> 24;
	out[59] = id >> 16;
	out[60] = id >> 8;
	out[61] = id;
	memcpy(out + 62, whole6 + 54 + start, size);
	return 62 + size;
}

/* Run a frame as received on ext0. */
static int run_ext_raw(const uint8_t *frame, size_t len, struct run_result *r)
{
	struct __sk_buff ctx = { .ifindex = fx.ext_ifindex, .ingress_ifindex = fx.ext_ifindex };
	uint8_t buf[PKT_MAX];

	memcpy(buf, frame, len);
	return run_prog_ctx(fx.ingress_fd, buf, len, &ctx, r);
}

/* RFC 7915 §4.1: DF clear and larger than 1280 bytes as IPv6. The packet
 * is split into IPv4 fragments of 1232 payload bytes (1280 - 40 - 8) fed
 * back into ext0's ingress, first piece first; there each becomes an IPv6
 * fragment of at most 1280 bytes: the first through the mapping (port,
 * the UDP checksum of the whole datagram), the second through the train
 * the first recorded. Whole packets compared at both steps. */
TEST(rfc7915_s4_1_df_clear_over_1280_split_into_1280_byte_ipv6_fragments)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25014, SERVER_1_64, 7000);
	struct pkt_spec big = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25014);
	struct pkt_spec big6 = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25014);
	uint8_t orig[PKT_MAX], whole6[PKT_MAX], got[PKT_MAX], want[PKT_MAX];
	size_t orig_len, want_len, data_len;
	ssize_t n;
	struct run_result r;
	int tap;

	nat64_on();
	ASSERT_EQ(out64(&out), 25014, "mapping");
	big.payload_len = big6.payload_len = 1300;
	big.ip_id = 0x4321;
	orig_len = pkt_build(&big, orig);
	pkt_build(&big6, whole6);
	data_len = orig_len - 34;		/* 1308: UDP header and payload */
	tap = ext0_tap();
	ASSERT_EQ(tap >= 0, 1, "packet socket on ext0");
	ASSERT_EQ(run_ext(&big, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "the carrier dropped, its pieces fed back");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_SPLIT), 1, "nat64_split");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_FRAG_NEEDED_SENT), 0, "no error");

	n = tap_next(tap, SERVER_1, 0x4321, got, sizeof(got));
	want_len = ip4_piece(orig, 0, 0, 1232, 1, want);
	ASSERT_PKT_EQ(got, n < 0 ? 0 : (size_t)n, want, want_len, "piece 1: MF, offset 0");
	ASSERT_EQ(run_ext_raw(got, n, &r), 0, "piece 1 through ingress");
	ASSERT_EQ(r.ret, TC_ACT_OK, "to the IPv6 stack");
	want_len = ip6_piece(whole6, 0, 1232, 1, 0x4321, IPPROTO_UDP, want);
	ASSERT_PKT_EQ(r.out, r.out_len, want, want_len, "piece 1 as IPv6: 1280 bytes");
	ASSERT_EQ(r.out_len, 14 + 1280, "exactly 1280");

	n = tap_next(tap, SERVER_1, 0x4321, got, sizeof(got));
	want_len = ip4_piece(orig, 0, 1232, data_len - 1232, 0, want);
	ASSERT_PKT_EQ(got, n < 0 ? 0 : (size_t)n, want, want_len, "piece 2: offset 154");
	ASSERT_EQ(run_ext_raw(got, n, &r), 0, "piece 2 through ingress");
	ASSERT_EQ(r.ret, TC_ACT_OK, "to the IPv6 stack");
	want_len = ip6_piece(whole6, 1232, data_len - 1232, 0, 0x4321, IPPROTO_UDP, want);
	ASSERT_PKT_EQ(r.out, r.out_len, want, want_len, "piece 2 as IPv6");
	close(tap);
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 1, "first piece through the mapping");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_TRANSLATED), 1, "second through the train");
}

/* A fragment too big as IPv6 is split the same way into smaller fragments
 * of its train: offsets from its own, MF kept on the last piece when the
 * fragment had it. */
TEST(rfc7915_s4_1_big_non_first_fragment_split_keeps_offset_and_mf)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25015, SERVER_1_64, 7000);
	struct pkt_spec first = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25015);
	struct pkt_spec mid = pkt_udp(SERVER_1, 0, EXT_ADDR, 0);
	uint8_t orig[PKT_MAX], got[PKT_MAX], want[PKT_MAX];
	size_t orig_len, want_len;
	ssize_t n;
	struct run_result r;
	int tap;

	nat64_on();
	ASSERT_EQ(out64(&out), 25015, "mapping");
	first.frag = 0x2000;
	first.ip_id = mid.ip_id = 0x4422;
	first.payload_len = 64;
	ASSERT_EQ(run_ext(&first, &r), 0, "small first fragment");
	ASSERT_EQ(r.ret, TC_ACT_OK, "translated, train recorded");
	mid.frag = 0x2000 | 9;		/* MF, offset 72 */
	mid.payload_len = 1400;
	orig_len = pkt_build(&mid, orig);
	tap = ext0_tap();
	ASSERT_EQ(tap >= 0, 1, "packet socket on ext0");
	ASSERT_EQ(run_ext(&mid, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "the carrier dropped");
	n = tap_next(tap, SERVER_1, 0x4422, got, sizeof(got));
	want_len = ip4_piece(orig, 9, 0, 1232, 1, want);
	ASSERT_PKT_EQ(got, n < 0 ? 0 : (size_t)n, want, want_len, "piece 1: offset 72, MF");
	n = tap_next(tap, SERVER_1, 0x4422, got, sizeof(got));
	want_len = ip4_piece(orig, 9, 1232, orig_len - 34 - 1232, 1, want);
	ASSERT_PKT_EQ(got, n < 0 ? 0 : (size_t)n, want, want_len, "piece 2: offset 72 + 1232, MF kept");
	close(tap);
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_SPLIT), 1, "nat64_split");
}

/* What cannot be split (ICMP: fragmented ICMP is not translated, RFC
 * 7915 §1.2) is translated whole when it fits the IPv6 route; when it does
 * not, it is dropped, counted, and the sender told the route's MTU - 28
 * (deviation: Fragmentation Needed for DF clear). A DF-clear echo reply of
 * 1328 bytes to a NAT64 ICMP mapping, on a 1280 route. */
TEST(rfc7915_s4_df_clear_not_splittable_too_big_frag_needed_mtu_minus_28)
{
	struct pkt_spec req = pkt_echo(CLIENT6_A, SERVER_1_64, IPPROTO_ICMPV6, 128, 0x4343);
	struct pkt_spec big;
	struct pkt_spec err;
	struct run_result r;
	uint16_t id;

	nat64_on();
	ASSERT_EQ(ipv6_side_up(1280), 0, "IPv6 route set up");
	ASSERT_EQ(run_lan(&req, &r), 0, "echo request run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "echo request translated: ICMP mapping");
	id = (r.out[38] << 8) | r.out[39];
	big = pkt_echo(SERVER_1, EXT_ADDR, IPPROTO_ICMP, 0, id);
	big.payload_len = 1300;
	err = frag_needed(&big, 1252);
	EXPECT_EXT(&big, &err, TC_ACT_REDIRECT, "too big, DF clear, ICMP: frag needed 1252");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_SPLIT), 0, "not split");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_MTU), 1, "nat64_drop_mtu");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_MTU_DF_CLEAR), 1, "nat64_drop_mtu_df_clear");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_FRAG_NEEDED_SENT), 1, "nat64_frag_needed_sent");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 route removed");
}

/*
 * Run `in` (DF clear, too big as IPv6) into ext0 and follow its split: two
 * IPv4 pieces read from ext0, each the fragment RFC 791 makes of plain4
 * (the datagram with a 20-byte header and its UDP checksum as the pieces
 * must carry it) with `piece` payload bytes in the first, then each run
 * through ingress and compared with the IPv6 fragment of want6 (the whole
 * datagram as IPv6, RFC 7915 §4.1) with Identification id.
 */
static void split_check(int tap, const struct pkt_spec *in, const struct pkt_spec *plain4,
			const struct pkt_spec *want6, size_t piece, uint16_t id)
{
	uint8_t orig[PKT_MAX], whole6[PKT_MAX], got[PKT_MAX], want[PKT_MAX];
	size_t data_len, want_len;
	struct run_result r;
	ssize_t n;

	data_len = pkt_build(plain4, orig) - 34;
	pkt_build(want6, whole6);
	ASSERT_EQ(run_ext(in, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "the carrier dropped, its pieces fed back");
	for (int k = 0; k < 2; k++) {
		size_t start = k ? piece : 0, size = k ? data_len - piece : piece;

		n = tap_next(tap, SERVER_1, id, got, sizeof(got));
		want_len = ip4_piece(orig, 0, start, size, !k, want);
		ASSERT_PKT_EQ(got, n < 0 ? 0 : (size_t)n, want, want_len, "IPv4 piece");
		ASSERT_EQ(run_ext_raw(got, n, &r), 0, "the piece through ingress");
		ASSERT_EQ(r.ret, TC_ACT_OK, "to the IPv6 stack");
		want_len = ip6_piece(whole6, start, size, !k, id, IPPROTO_UDP, want);
		ASSERT_PKT_EQ(r.out, r.out_len, want, want_len, "the piece as IPv6");
		ASSERT_TRUE(r.out_len <= 14 + piece + 48, "within lowest-ipv6-mtu");
	}
}

/* The tap is closed whatever split_check found. */
static void split_in_two(const struct pkt_spec *in, const struct pkt_spec *plain4,
			 const struct pkt_spec *want6, size_t piece, uint16_t id)
{
	int tap = ext0_tap();

	ASSERT_TRUE(tap >= 0, "packet socket on ext0");
	split_check(tap, in, plain4, want6, piece, id);
	close(tap);
}

/* RFC 7915 §4.5 with §4.1: a whole DF-clear UDP datagram without checksum
 * too big as IPv6 gets its checksum first (as IPv4: the pieces carry it)
 * and is then split; each piece becomes an IPv6 fragment, the first with
 * the checksum of the whole datagram as IPv6 (built from scratch). */
TEST(rfc7915_s4_1_s4_5_udp_zero_checksum_given_one_then_split)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25026, SERVER_1_64, 7000);
	struct pkt_spec big = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25026);
	struct pkt_spec plain = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25026);
	struct pkt_spec big6 = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25026);

	nat64_on();
	ASSERT_EQ(out64(&out), 25026, "mapping");
	big.payload_len = plain.payload_len = big6.payload_len = 1300;
	big.ip_id = plain.ip_id = 0x4777;
	big.udp_no_csum = 1;
	split_in_two(&big, &plain, &big6, 1232, 0x4777);
	if (test_failed)
		return;
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_SPLIT), 1, "nat64_split");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 1, "first piece through the mapping");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_TRANSLATED), 1, "second through the train");
}

/* RFC 7915 §4.1: IPv4 options are not translated, so a DF-clear packet
 * with options is split as well, its pieces without them (20-byte
 * headers; a record-route option here). */
TEST(rfc7915_s4_1_df_clear_with_options_split_without_them)
{
	static const uint8_t rr[8] = { 7, 7, 4, 0, 0, 0, 0, 1 };	/* record route, NOP */
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25027, SERVER_1_64, 7000);
	struct pkt_spec big = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25027);
	struct pkt_spec plain = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25027);
	struct pkt_spec big6 = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25027);

	nat64_on();
	ASSERT_EQ(out64(&out), 25027, "mapping");
	big.payload_len = plain.payload_len = big6.payload_len = 1400;
	big.ip_id = plain.ip_id = 0x4778;
	big.ihl = 7;
	big.ip_opts = rr;
	big.ip_opts_len = sizeof(rr);
	split_in_two(&big, &plain, &big6, 1232, 0x4778);
	if (test_failed)
		return;
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_SPLIT), 1, "nat64_split");
}

/* RFC 7915 §4.1, lowest-ipv6-mtu "a user-defined length": with
 * --nat64-lowest-mtu 1500 a DF-clear packet of 1480 bytes (1500 as IPv6)
 * is translated whole, and a bigger one is split into pieces of
 * (1500 - 40 - 8) & ~7 = 1448 payload bytes, each at most 1500 as IPv6. */
TEST(rfc7915_s4_lowest_ipv6_mtu_configured_1500)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25028, SERVER_1_64, 7000);
	struct pkt_spec fits = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25028);
	struct pkt_spec fits6 = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25028);
	struct pkt_spec big = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25028);
	struct pkt_spec big6 = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25028);

	fx.opts.nat64_lowest_mtu = 1500;
	nat64_on();
	ASSERT_EQ(out64(&out), 25028, "mapping");
	fits.payload_len = fits6.payload_len = 1480 - 20 - 8;
	EXPECT_IN(&fits, &fits6, TC_ACT_OK, "1500 bytes as IPv6: whole, no fragment header");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_SPLIT), 0, "not split");
	big.payload_len = big6.payload_len = 1500;
	big.ip_id = 0x4779;
	split_in_two(&big, &big, &big6, 1448, 0x4779);
	if (test_failed)
		return;
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_SPLIT), 1, "nat64_split");
}

/* RFC 7915 §4.5's other choice, --nat64-udp-zero-checksum drop: a whole
 * IPv4 UDP datagram without checksum is dropped and counted
 * (nat64_drop_udp_zero_checksum), nothing sent; one with a checksum is
 * translated as ever. */
TEST(rfc7915_s4_5_udp_zero_checksum_dropped_when_configured)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25029, SERVER_1_64, 7000);
	struct pkt_spec zero = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25029);
	struct pkt_spec sum = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25029);
	struct pkt_spec sum6 = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25029);
	struct run_result r;

	fx.opts.nat64_udp0_drop = true;
	nat64_on();
	ASSERT_EQ(out64(&out), 25029, "mapping");
	zero.udp_no_csum = 1;
	ASSERT_EQ(run_ext(&zero, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "no checksum: dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_UDP_ZERO_CSUM), 1, "nat64_drop_udp_zero_checksum");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 0, "not translated");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DISCARD_ICMP_SENT), 0, "nothing sent");
	EXPECT_IN(&sum, &sum6, TC_ACT_OK, "with a checksum: translated");
}

/* The errors share --refused-icmp-rate's per-CPU bucket (refuse.h). */
TEST(rfc7915_s4_frag_needed_rate_limited)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25016, SERVER_1_64, 7000);
	struct pkt_spec big = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25016);
	struct run_result r;

	fx.opts.cgnat.refuse_icmp_rate = 1;	/* a burst of one */
	nat64_on();
	ASSERT_EQ(ipv6_side_up(1280), 0, "IPv6 route set up");
	ASSERT_EQ(out64(&out), 25016, "mapping");
	big.frag = 0x4000;
	big.payload_len = 1300;
	ASSERT_EQ(run_ext(&big, &r), 0, "first");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "answered");
	EXPECT_EXT(&big, &big, TC_ACT_SHOT, "second at once: over the rate, dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_FRAG_NEEDED_SENT), 1, "one sent");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_ICMP_RATELIMITED), 1, "one rate-limited");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_MTU), 2, "both dropped, counted");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 route removed");
}

/* RFC 7915 §5.1 / RFC 4443 §3.2: an IPv6 packet too big for the IPv4 route
 * once translated: Packet Too Big to the host with the IPv4 MTU + 20, from
 * the gateway's address on int0, quoting as much as fits 1280 bytes
 * (RFC 4443 §2.4 (c)): 1232. */
TEST(rfc7915_s5_1_too_big_for_ipv4_route_packet_too_big_mtu_plus_20)
{
	struct pkt_spec big = pkt_udp(CLIENT6_A, 25017, SERVER_1_64, 7000);
	struct pkt_spec ptb = { .proto = IPPROTO_ICMPV6, .saddr = "fd00:77::1",
				.daddr = CLIENT6_A, .icmp_type = 2, .icmp_mtu = 1420,
				.quote = &big, .quote_l4_len = 1232 - 40, .ttl = 64,
				.smac = FX_INT0_MAC, .dmac = FX_CLIENT_A_MAC };
	struct pkt_spec fits = pkt_udp(CLIENT6_A, 25017, SERVER_1_64, 7000);
	struct pkt_spec fits4 = pkt_udp(EXT_ADDR, 25017, SERVER_1, 7000);
	struct run_result r;
	uint8_t w[PKT_MAX];
	size_t wl;

	nat64_on();
	ASSERT_EQ(ipv6_side_up(1500), 0, "IPv6 side set up");
	ASSERT_EQ(server1_route_mtu(1400), 0,
		  "a 1400-byte IPv4 route");
	big.payload_len = 1400 - 28 + 1;	/* 1401 bytes as IPv4 */
	ASSERT_EQ(run_lan(&big, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "answered");
	wl = pkt_build(&ptb, w);
	ASSERT_PKT_EQ(r.out, r.out_len, w, wl, "Packet Too Big 1420");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_MTU), 1, "nat64_drop_mtu");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_PTB_SENT), 1, "nat64_packet_too_big_sent");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_OUT), 0, "not sent on");
	/* 1400 as IPv4: fits, and leaves with DF set (over 1260). */
	fits.payload_len = fits4.payload_len = 1400 - 28;
	fits4.ttl = 63;
	fits4.frag = 0x4000;
	to_server1(&fits4);
	EXPECT_OUT(&fits, &fits4, "exactly 1400 as IPv4: translated");
	ASSERT_EQ(system("ip route del " SERVER_1 "/32 dev ext0"), 0, "route removed");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 side removed");
}

/* A GSO packet (TCP from a host with TSO, or after GRO) through
 * BPF_PROG_TEST_RUN with gso_size in its context: what is checked against
 * the IPv4 route is each segment once translated (RFC 7915 §5.1 is per
 * packet, and the segments are the packets the host sent), 20 + 20 + 1300
 * = 1340 bytes here, not the whole 1440. */
static int run_lan_gso(const struct pkt_spec *in, __u32 gso_size, struct run_result *r,
		       struct __sk_buff *ctx)
{
	uint8_t buf[PKT_MAX];

	*ctx = (struct __sk_buff){ .ifindex = fx.int_ifindex, .ingress_ifindex = fx.int_ifindex,
				   .gso_size = gso_size, .gso_segs = 2 };
	return run_prog_ctx(lan_fd(), buf, pkt_build(in, buf), ctx, r);
}

/* Segments too big for a 1300-byte route: Packet Too Big with 1320 (RFC
 * 4443 §3.2), quoting the first 1232 bytes (§2.4 (c)): the IPv6 and TCP
 * headers as the GSO packet carries them (the payload length the whole
 * packet's, as Linux's own forwarding quotes one) and the start of the
 * first segment's payload. The error is a plain packet (no GSO left). */
TEST(rfc7915_s5_1_gso_segments_too_big_for_ipv4_route_packet_too_big)
{
	struct pkt_spec syn = pkt_tcp(CLIENT6_A, 25041, SERVER_1_64, 80, 0x02);
	struct pkt_spec big = pkt_tcp(CLIENT6_A, 25041, SERVER_1_64, 80, 0x10);
	struct pkt_spec ptb = { .proto = IPPROTO_ICMPV6, .saddr = "fd00:77::1",
				.daddr = CLIENT6_A, .icmp_type = 2, .icmp_mtu = 1320,
				.quote = &big, .quote_l4_len = 1232 - 40, .ttl = 64,
				.smac = FX_INT0_MAC, .dmac = FX_CLIENT_A_MAC };
	struct __sk_buff ctx;
	struct run_result r;
	uint8_t w[PKT_MAX];
	size_t wl;

	nat64_on();
	ASSERT_EQ(ipv6_side_up(1500), 0, "IPv6 side set up");
	ASSERT_EQ(out64(&syn), 25041, "mapping");
	ASSERT_EQ(server1_route_mtu(1300), 0, "a 1300-byte IPv4 route");
	big.tcp_seq = 1001;
	big.payload_len = 1400;		/* segments of 1300 and 100 */
	ASSERT_EQ(run_lan_gso(&big, 1300, &r, &ctx), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "answered");
	wl = pkt_build(&ptb, w);
	ASSERT_PKT_EQ(r.out, r.out_len, w, wl, "Packet Too Big 1320");
	/* test_run gives gso_segs back, not gso_size: skb_gso_reset zeroes both. */
	ASSERT_EQ(ctx.gso_segs, 0, "the error is no GSO packet");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_MTU), 1, "nat64_drop_mtu");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_PTB_SENT), 1, "nat64_packet_too_big_sent");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_OUT), 1, "only the SYN sent on");
}

/* Segments that fit a 1400-byte route pass, translated, though the whole
 * packet (1440 bytes as IPv4) would not: the GSO packet leaves as one,
 * to be cut by the device. (That bpf_skb_change_proto keeps gso_size, so
 * each IPv4 segment is its IPv6 one less 20 bytes, test_run cannot show:
 * it gives gso_size back as it was given; the integration test does.) */
TEST(rfc7915_s5_1_gso_segments_that_fit_translated_whole)
{
	struct pkt_spec syn = pkt_tcp(CLIENT6_A, 25042, SERVER_1_64, 80, 0x02);
	struct pkt_spec big = pkt_tcp(CLIENT6_A, 25042, SERVER_1_64, 80, 0x10);
	struct pkt_spec big4 = pkt_tcp(EXT_ADDR, 25042, SERVER_1, 80, 0x10);
	struct __sk_buff ctx;
	struct run_result r;
	uint8_t w[PKT_MAX];
	size_t wl;

	nat64_on();
	ASSERT_EQ(ipv6_side_up(1500), 0, "IPv6 side set up");
	ASSERT_EQ(out64(&syn), 25042, "mapping");
	ASSERT_EQ(server1_route_mtu(1400), 0, "a 1400-byte IPv4 route");
	big.tcp_seq = big4.tcp_seq = 1001;
	big.payload_len = big4.payload_len = 1400;
	big4.ttl = 63;
	big4.frag = 0x4000;
	to_server1(&big4);
	ASSERT_EQ(run_lan_gso(&big, 1300, &r, &ctx), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "sent on");
	take_ip_id(&r, &big4);
	wl = pkt_build(&big4, w);
	ASSERT_PKT_EQ(r.out, r.out_len, w, wl, "translated whole");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_MTU), 0, "nothing too big");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_PTB_SENT), 0, "no error");
}

/* Packets of 1280 bytes or less cannot go smaller: below an IPv4 MTU of
 * 1260 they are dropped and counted, with no Packet Too Big. */
TEST(rfc7915_s5_1_small_packet_too_big_for_tiny_ipv4_mtu_dropped_no_error)
{
	struct pkt_spec p = pkt_udp(CLIENT6_A, 25018, SERVER_1_64, 7000);

	nat64_on();
	ASSERT_EQ(server1_route_mtu(1000), 0,
		  "a 1000-byte IPv4 route");
	p.payload_len = 1100;
	{
		struct run_result r;

		ASSERT_EQ(run_lan(&p, &r), 0, "test run");
		ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped");
	}
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_MTU), 1, "nat64_drop_mtu");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_PTB_SENT), 0, "no error");
	ASSERT_EQ(system("ip route del " SERVER_1 "/32 dev ext0"), 0, "route removed");
}

/* An ICMPv6 error too big for the IPv4 route is not answered (RFC 4443
 * §2.4 (e)). */
TEST(rfc4443_s2_4_e_error_too_big_never_answered)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25019, SERVER_1_64, 7000);
	struct pkt_spec in = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25019);
	struct pkt_spec err = { .proto = IPPROTO_ICMPV6, .saddr = CLIENT6_A,
				.daddr = SERVER_1_64, .icmp_type = 1, .icmp_code = 4,
				.quote = &in };
	struct pkt_spec back = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25019);
	struct run_result r;

	nat64_on();
	ASSERT_EQ(out64(&out), 25019, "mapping");
	ASSERT_EQ(run_spec(fx.ingress_fd, &back, &r), 0, "reply in");
	ASSERT_EQ(server1_route_mtu(1300), 0,
		  "a 1300-byte IPv4 route");
	in.payload_len = 1400;
	ASSERT_EQ(run_lan(&err, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped, not answered");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_MTU), 1, "nat64_drop_mtu");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_PTB_SENT), 0, "no error about an error");
	ASSERT_EQ(system("ip route del " SERVER_1 "/32 dev ext0"), 0, "route removed");
}

static struct fc_frag_key frag_train(uint16_t id, const char *remote)
{
	struct fc_frag_key k;
	uint16_t nid = htons(id);

	memset(&k, 0, sizeof(k));
	k.family = FC_AF_INET;
	k.proto = IPPROTO_UDP;
	k.frag_id = nid;		/* widened, as frag.h does */
	k.remote.v4 = ip4(remote);
	k.ext_addr.v4 = ip4(EXT_ADDR);
	return k;
}

/* RFC 7915 §4.1: an IPv4 fragment train to a NAT64 mapping. The first
 * fragment goes through the mapping (port) and gets a fragment header
 * (ID, offset 0, M); it leaves a record (internal family 6) by which the
 * middle and last fragments, which carry no port, follow it. */
TEST(rfc7915_s4_1_nat64_in_first_middle_last_fragments)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25020, SERVER_1_64, 7000);
	struct pkt_spec first = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25020);
	struct pkt_spec first6 = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25020);
	struct pkt_spec rest = pkt_udp(SERVER_1, 0, EXT_ADDR, 0);
	struct pkt_spec rest6 = pkt_udp(SERVER_1_64, 0, CLIENT6_A, 0);
	struct fc_frag_key k = frag_train(0x4242, SERVER_1);
	struct fc_frag f;
	uint8_t client[16];

	nat64_on();
	ASSERT_EQ(out64(&out), 25020, "mapping");
	first.frag = 0x2000;		/* MF, offset 0 */
	first.ip_id = rest.ip_id = 0x4242;
	first.payload_len = first6.payload_len = 64;
	first6.nr_ext = rest6.nr_ext = 1;
	first6.ext_hdrs[0] = rest6.ext_hdrs[0] = 44;
	first6.frag6 = 1;		/* offset 0, M */
	first6.frag6_id = rest6.frag6_id = 0x4242;
	EXPECT_IN(&first, &first6, TC_ACT_OK, "first fragment");
	ASSERT_EQ(bpf_map_lookup_elem(bpf_map__fd(fx.loader.skel->maps.fc_frags), &k, &f), 0,
		  "train recorded");
	ASSERT_EQ(f.int_family, FC_AF_INET6, "for NAT64");
	ip6(CLIENT6_A, client);
	ASSERT_EQ(memcmp(f.int_addr.v6, client, 16), 0, "to the IPv6 host");

	rest.frag = 0x2000 | 9;		/* MF, offset 72 */
	rest.payload_len = rest6.payload_len = 72;
	rest6.frag6 = 72 | 1;
	EXPECT_IN(&rest, &rest6, TC_ACT_OK, "middle fragment");
	rest.frag = 18;			/* last, offset 144 */
	rest.payload_len = rest6.payload_len = 30;
	rest6.frag6 = 144;
	EXPECT_IN(&rest, &rest6, TC_ACT_OK, "last fragment");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 1, "first counted as nat64_in");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_TRANSLATED), 2, "followers as fragments");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_FRAGMENT), 0, "none refused");
}

/* No state from unsolicited packets: a first fragment to no mapping is
 * dropped and leaves no record; a non-first fragment of no known train is
 * the stack's (held as NAT44 holds it, passed unchanged), never
 * translated. */
TEST(rfc6146_unsolicited_fragments_no_state_not_translated)
{
	struct pkt_spec first = pkt_udp(STRANGER, 9999, EXT_ADDR, 25021);
	struct pkt_spec rest = pkt_udp(STRANGER, 0, EXT_ADDR, 0);

	nat64_on();
	first.frag = 0x2000;
	rest.frag = 9;
	first.ip_id = rest.ip_id = 0x5353;
	rest.payload_len = 40;
	EXPECT_IN(&first, &first, TC_ACT_SHOT, "unsolicited first fragment");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 1, "drop_unsolicited");
	ASSERT_EQ(map_count(bpf_map__fd(fx.loader.skel->maps.fc_frags),
			    sizeof(struct fc_frag_key)), 0, "no train recorded");
	ASSERT_EQ(nr_bindings(&fx), 0, "no mapping");
	EXPECT_IN(&rest, &rest, TC_ACT_OK, "unknown follower: the stack's, unchanged");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PASS_FRAGMENT), 1, "pass_fragment");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_TRANSLATED), 0, "not translated");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 0, "nothing into IPv6");
}

/* RFC 4787 REQ-14 for NAT64: a follower that comes before its first
 * fragment is held; the first fragment, translated, goes on as a copy, and
 * the held copy is fed back in, where the train's record now translates it
 * to IPv6. */
TEST(rfc4787_req14_nat64_follower_before_first_held_and_reinjected)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25022, SERVER_1_64, 7000);
	struct pkt_spec first = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25022);
	struct pkt_spec rest = pkt_udp(SERVER_1, 0, EXT_ADDR, 0);
	struct pkt_spec rest6 = pkt_udp(SERVER_1_64, 0, CLIENT6_A, 0);
	struct run_result r;

	nat64_on();
	ASSERT_EQ(out64(&out), 25022, "mapping");
	first.frag = 0x2000;
	rest.frag = 9;			/* last fragment, arriving first */
	first.ip_id = rest.ip_id = 0x5454;
	rest.payload_len = rest6.payload_len = 40;
	EXPECT_IN(&rest, &rest, TC_ACT_OK, "early fragment: held, passed");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_HELD), 1, "held");
	ASSERT_EQ(run_spec(fx.ingress_fd, &first, &r), 0, "first fragment");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "original used up by the re-injection");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 1, "first fragment translated");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_REINJECTED), 1, "held copy re-injected");
	/* What comes back through ingress now finds the train's record. */
	rest6.nr_ext = 1;
	rest6.ext_hdrs[0] = 44;
	rest6.frag6 = 72;
	rest6.frag6_id = 0x5454;
	EXPECT_IN(&rest, &rest6, TC_ACT_OK, "re-injected fragment, as IPv6");
}

/* The train a follower waits in (fc_frag_wait), made older by age_ns. */
static int frag_wait_age(uint64_t age_ns)
{
	struct bpf_map *wait = bpf_object__find_map_by_name(fx.loader.skel->obj, "fc_frag_wait");
	struct {
		uint64_t first_seen_ns;
		uint32_t count, pad0;
	} w;
	uint8_t key[64];

	if (!wait || bpf_map__value_size(wait) != sizeof(w) ||
	    bpf_map_get_next_key(bpf_map__fd(wait), NULL, key) ||
	    bpf_map_lookup_elem(bpf_map__fd(wait), key, &w))
		return -1;
	w.first_seen_ns -= age_ns;
	return bpf_map_update_elem(bpf_map__fd(wait), key, &w, BPF_EXIST);
}

/* RFC 6146 §3.4: fragments may arrive over at least FRAGMENT_MIN (2 s),
 * and the interval SHOULD be configurable: --fragment-hold. A follower
 * held 3 s (its train's stamp moved back) is still re-injected with
 * --fragment-hold 10, and is not with the default 2 s. */
TEST(rfc6146_s3_4_fragment_hold_configurable)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25023, SERVER_1_64, 7000);
	struct pkt_spec first = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25023);
	struct pkt_spec rest = pkt_udp(SERVER_1, 0, EXT_ADDR, 0);
	struct run_result r;

	fx.opts.frag_hold_s = 10;
	nat64_on();
	ASSERT_EQ(out64(&out), 25023, "mapping");
	first.frag = 0x2000;
	rest.frag = 9;
	first.ip_id = rest.ip_id = 0x5455;
	rest.payload_len = 40;
	EXPECT_IN(&rest, &rest, TC_ACT_OK, "early fragment: held, passed");
	ASSERT_EQ(frag_wait_age(3000000000ULL), 0, "held 3 s");
	ASSERT_EQ(run_spec(fx.ingress_fd, &first, &r), 0, "first fragment");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "--fragment-hold 10: the held copy re-injected");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_REINJECTED), 1, "fragment_reinjected");

	fx.opts.frag_hold_s = 2;
	fixture_apply(&fx);
	first.ip_id = rest.ip_id = 0x5456;
	EXPECT_IN(&rest, &rest, TC_ACT_OK, "early fragment: held, passed");
	ASSERT_EQ(frag_wait_age(3000000000ULL), 0, "held 3 s");
	ASSERT_EQ(run_spec(fx.ingress_fd, &first, &r), 0, "first fragment");
	ASSERT_EQ(r.ret, TC_ACT_OK, "default 2 s: too late, only the first goes on");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_REINJECTED), 1, "nothing more re-injected");
}

/* RFC 7915 §5.1.1, stateful: outbound IPv6 fragments. The first goes
 * through the mapping (port), the next with addresses only; both carry
 * the fragment header's ID (low 16 bits), offset and MF, DF clear. */
TEST(rfc7915_s5_1_1_nat64_out_first_and_non_first_fragments)
{
	struct pkt_spec first = pkt_udp(CLIENT6_A, 25023, SERVER_1_64, 7000);
	struct pkt_spec first4 = pkt_udp(EXT_ADDR, 25023, SERVER_1, 7000);
	struct pkt_spec rest = pkt_udp(CLIENT6_A, 0, SERVER_1_64, 0);
	struct pkt_spec rest4 = pkt_udp(EXT_ADDR, 0, SERVER_1, 0);

	nat64_on();
	first.nr_ext = rest.nr_ext = 1;
	first.ext_hdrs[0] = rest.ext_hdrs[0] = 44;
	first.frag6 = 1;		/* offset 0, M */
	first.frag6_id = rest.frag6_id = 0xabcd5555;
	first.payload_len = first4.payload_len = 64;
	first4.frag = 0x2000;
	first4.ip_id = rest4.ip_id = 0x5555;
	first4.ttl = rest4.ttl = 63;
	to_server1(&first4);
	to_server1(&rest4);
	EXPECT_OUT(&first, &first4, "first fragment 6->4");
	rest.frag6 = 72;		/* last, offset 72 */
	rest.payload_len = rest4.payload_len = 40;
	rest4.frag = 9;
	EXPECT_OUT(&rest, &rest4, "last fragment 6->4");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_OUT), 1, "first counted as nat64_out");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_TRANSLATED), 1, "follower as a fragment");
}

TEST(rfc6146_nat64_mapping_on_a_pool_address_and_back)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25014, SERVER_1_64, 7000);
	struct fc_prefix4 *pool = &fx.opts.cgnat.pool[fx.opts.cgnat.nr_pool++];
	struct pkt_spec in, want = pkt_udp(STRANGER_64, 9999, CLIENT6_A, 25014);
	char a[INET_ADDRSTRLEN];
	struct run_result r;
	uint32_t first = ntohl(ip4("203.0.113.0")), got;
	uint16_t port;

	ASSERT_EQ(parse_prefix4("203.0.113.0/30", pool), 0, "pool prefix");
	nat64_on();
	ASSERT_EQ(run_lan(&out, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "translated");
	memcpy(&got, r.out + 26, 4);
	got = ntohl(got);
	ASSERT_EQ(got >= first && got <= first + 3, 1, "source is a pool address (paired pooling)");
	port = (r.out[34] << 8) | r.out[35];
	got = htonl(got);
	inet_ntop(AF_INET, &got, a, sizeof(a));
	in = pkt_udp(STRANGER, 9999, a, port);
	EXPECT_IN(&in, &want, TC_ACT_OK, "inbound to the pool address reaches the IPv6 host");
}

/* Found by the fuzzer: a transport header the parser refuses (here a TCP
 * data offset below 20 bytes) is no reason to let the IPv6 stack forward
 * the packet to the prefix with its internal source. */
TEST(rfc6146_never_leak_malformed_transport_to_prefix_dropped)
{
	struct pkt_spec in = pkt_tcp(CLIENT6_A, 25015, SERVER_1_64, 80, 0x10);
	struct __sk_buff ctx = { .ifindex = fx.int_ifindex, .ingress_ifindex = fx.int_ifindex };
	uint8_t buf[PKT_MAX];
	struct run_result r;
	size_t len;

	nat64_on();
	len = pkt_build(&in, buf);
	buf[14 + 40 + 12] = 0x40;	/* data offset 4 words */
	ASSERT_EQ(run_prog_ctx(lan_fd(), buf, len, &ctx, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped, not passed to the IPv6 stack");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_MALFORMED), 1, "counted as malformed");
	ASSERT_EQ(nr_bindings(&fx), 0, "no mapping made");
}

/* ---- one IPv6 endpoint, a NAT66 mapping and a NAT64 mapping ----------- */

/* The dual-stack gateway: NAT66 on the external IPv6 address, NAT64 on the
 * IPv4 one. */
static void dual_on(void)
{
	fx.opts.nat66 = true;
	nat64_on();
}

/* Outbound IPv6 to a native IPv6 server: NAT66 on ext0's egress. */
#define EXPECT_OUT66(in, want, what)						\
	do {									\
		struct run_result _r;						\
		uint8_t _w[PKT_MAX];						\
		size_t _wl = pkt_build(want, _w);				\
		ASSERT_EQ(run_spec(fx.egress_fd, in, &_r), 0, what ": test run"); \
		ASSERT_EQ(_r.ret, TC_ACT_OK, what ": verdict");		\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what);		\
	} while (0)

/* The mapping of CLIENT6_A:port in ext_family's space: its internal entry
 * names ext_addr:port, and the external entry points back. */
static void check_dual_entry(int ext_family, const char *ext_addr, uint16_t port)
{
	struct fc_endpoint_key ik = fx_int_key(FC_AF_INET6, ext_family, IPPROTO_UDP, CLIENT6_A,
					       port);
	struct fc_endpoint_key ek = fx_ext_key(ext_family, IPPROTO_UDP, ext_addr, port);
	struct fc_binding b, back;
	uint8_t client[16];

	ip6(CLIENT6_A, client);
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "internal entry");
	ASSERT_EQ(b.family, ext_family, "internal entry: external family");
	if (ext_family == FC_AF_INET) {
		ASSERT_EQ(b.addr.v4, ip4(ext_addr), "internal entry: external IPv4 address");
	} else {
		uint8_t a[16];

		ip6(ext_addr, a);
		ASSERT_EQ(memcmp(b.addr.v6, a, 16), 0, "internal entry: external IPv6 address");
	}
	ASSERT_EQ(ntohs(b.port), port, "internal entry: external port");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ek, &back), 0, "external entry");
	ASSERT_EQ(back.family, FC_AF_INET6, "external entry: internal family");
	ASSERT_EQ(memcmp(back.addr.v6, client, 16), 0, "external entry points back at the host");
	ASSERT_EQ(ntohs(back.port), port, "external entry: internal port");
}

/* The fuzzer once found NAT64 reusing an endpoint's NAT66 mapping (and
 * sending IPv4 with part of the IPv6 external address); then one internal
 * key held one mapping and the second family was refused. The key carries
 * the external family now: one host, one socket, both servers. */
TEST(rfc6146_rfc4787_req1_one_ipv6_endpoint_nat66_and_nat64_mappings_both_ways)
{
	struct pkt_spec o66 = pkt_udp(CLIENT6_A, 25010, SERVER6_1, 7000);
	struct pkt_spec o66_want = pkt_udp(EXT_ADDR6, 25010, SERVER6_1, 7000);
	struct pkt_spec o64 = pkt_udp(CLIENT6_A, 25010, SERVER_1_64, 7000);
	struct pkt_spec o64_want = pkt_udp(EXT_ADDR, 25010, SERVER_1, 7000);
	struct pkt_spec i66 = pkt_udp(SERVER6_1, 7000, EXT_ADDR6, 25010);
	struct pkt_spec i66_want = pkt_udp(SERVER6_1, 7000, CLIENT6_A, 25010);
	struct pkt_spec i64 = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25010);
	struct pkt_spec i64_want = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25010);
	/* Full cone, each: strangers reach the host through either. */
	struct pkt_spec s66 = pkt_udp(STRANGER6, 9000, EXT_ADDR6, 25010);
	struct pkt_spec s66_want = pkt_udp(STRANGER6, 9000, CLIENT6_A, 25010);
	struct pkt_spec s64 = pkt_udp(STRANGER, 9000, EXT_ADDR, 25010);
	struct pkt_spec s64_want = pkt_udp(STRANGER_64, 9000, CLIENT6_A, 25010);

	dual_on();
	o64_want.ttl = 63;	/* NAT64 forwards it itself */
	to_server1(&o64_want);
	EXPECT_OUT66(&o66, &o66_want, "NAT66 out");
	EXPECT_OUT(&o64, &o64_want, "NAT64 out, same source port");
	/* The same again: each finds its own mapping, none is made. */
	EXPECT_OUT66(&o66, &o66_want, "NAT66 out again");
	EXPECT_OUT(&o64, &o64_want, "NAT64 out again");
	ASSERT_EQ(nr_bindings(&fx), 4, "two mappings, two entries each");
	ASSERT_EQ(nr_sessions(&fx), 2, "one session each");
	ASSERT_EQ(stat_get(&fx, FC_STAT_MAPPING_CREATED), 2, "two made");
	check_dual_entry(FC_AF_INET6, EXT_ADDR6, 25010);
	check_dual_entry(FC_AF_INET, EXT_ADDR, 25010);

	EXPECT_IN(&i66, &i66_want, TC_ACT_OK, "NAT66 reply");
	EXPECT_IN(&i64, &i64_want, TC_ACT_OK, "NAT64 reply");
	EXPECT_IN(&s66, &s66_want, TC_ACT_OK, "NAT66 stranger (EIF)");
	EXPECT_IN(&s64, &s64_want, TC_ACT_OK, "NAT64 stranger (EIF)");
	ASSERT_EQ(nr_sessions(&fx), 4, "the strangers' sessions too");
	ASSERT_EQ(stat_get(&fx, FC_STAT_OUT_TRANSLATED), 2, "NAT66 out counted");
	ASSERT_EQ(stat_get(&fx, FC_STAT_IN_TRANSLATED), 2, "NAT66 in counted");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_OUT), 2, "NAT64 out counted");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 2, "NAT64 in counted");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 0, "nothing refused");
}

/* The other order (NAT64 first), and each mapping's port its own: the
 * IPv4 port is taken by a NAT44 host, the IPv6 one is free. */
TEST(rfc6146_nat64_mapping_first_then_nat66_each_its_own_port)
{
	struct pkt_spec v4 = pkt_udp(CLIENT_A, 25011, SERVER_1, 7000);
	struct pkt_spec o64 = pkt_udp(CLIENT6_A, 25011, SERVER_1_64, 7000);
	struct pkt_spec o66 = pkt_udp(CLIENT6_A, 25011, SERVER6_1, 7000);
	struct pkt_spec o66_want = pkt_udp(EXT_ADDR6, 25011, SERVER6_1, 7000);
	struct pkt_spec i64, i64_want = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25011);
	struct fc_endpoint_key ik = fx_int_key(FC_AF_INET6, FC_AF_INET, IPPROTO_UDP, CLIENT6_A,
					       25011);
	struct fc_binding b;
	uint8_t buf[PKT_MAX];
	struct run_result r;
	uint16_t p4;

	dual_on();
	ASSERT_EQ(run_prog(fx.egress_fd, buf, pkt_build(&v4, buf), &r), 0, "NAT44 run");
	ASSERT_EQ((r.out[34] << 8) | r.out[35], 25011, "the NAT44 host keeps 25011");
	p4 = out64(&o64);
	ASSERT_EQ(p4 != 0 && p4 != 25011, 1, "NAT64 gets another IPv4 port");
	EXPECT_OUT66(&o66, &o66_want, "NAT66 keeps 25011 in the IPv6 space");
	ASSERT_EQ(nr_bindings(&fx), 6, "three mappings");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "NAT64 entry kept");
	ASSERT_EQ(ntohs(b.port), p4, "on its own port");
	check_dual_entry(FC_AF_INET6, EXT_ADDR6, 25011);
	i64 = pkt_udp(SERVER_1, 7000, EXT_ADDR, p4);
	EXPECT_IN(&i64, &i64_want, TC_ACT_OK, "NAT64 reply still reaches the host");
}

/* The session of CLIENT6_A's mapping on ext_addr:port with remote. */
static int dual_session(int ext_family, const char *ext_addr, const char *remote, uint16_t port,
			struct fc_session *s)
{
	struct fc_session_key k;

	memset(&k, 0, sizeof(k));
	k.family = ext_family;
	k.proto = IPPROTO_UDP;
	k.ext_port = htons(port);
	k.remote_port = htons(7000);
	if (ext_family == FC_AF_INET6) {
		ip6(ext_addr, k.ext_addr.v6);
		ip6(remote, k.remote_addr.v6);
	} else {
		k.ext_addr.v4 = ip4(ext_addr);
		k.remote_addr.v4 = ip4(remote);
	}
	return bpf_map_lookup_elem(fx.sessions_fd, &k, s);
}

/* When a mapping of this endpoint is dead: its last packet out and its
 * session both past. */
static uint64_t dual_dead_at(int ext_family, const char *ext_addr, const char *remote,
			     uint16_t port)
{
	struct fc_endpoint_key ik = fx_int_key(FC_AF_INET6, ext_family, IPPROTO_UDP, CLIENT6_A,
					       port);
	struct fc_binding b;
	struct fc_session s;
	uint64_t t;

	if (bpf_map_lookup_elem(fx.bindings_fd, &ik, &b) ||
	    dual_session(ext_family, ext_addr, remote, port, &s))
		return 0;
	t = b.last_out_ns + fx.cfg.timeout_ns[FC_TIMEOUT_UDP];
	return s.expires_ns > t ? s.expires_ns : t;
}

/* The sweeper frees each mapping of the endpoint by itself: the NAT64 one,
 * made first, expires first; the NAT66 one stays and still works. */
TEST(gc_rfc4787_req5_nat64_and_nat66_mappings_of_one_endpoint_expire_apart)
{
	struct pkt_spec o64 = pkt_udp(CLIENT6_A, 25012, SERVER_1_64, 7000);
	struct pkt_spec o66 = pkt_udp(CLIENT6_A, 25012, SERVER6_1, 7000);
	struct pkt_spec o66_want = pkt_udp(EXT_ADDR6, 25012, SERVER6_1, 7000);
	struct pkt_spec i66 = pkt_udp(SERVER6_1, 7000, EXT_ADDR6, 25012);
	struct pkt_spec i66_want = pkt_udp(SERVER6_1, 7000, CLIENT6_A, 25012);
	struct pkt_spec i64 = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25012);
	struct fc_endpoint_key ik64 = fx_int_key(FC_AF_INET6, FC_AF_INET, IPPROTO_UDP, CLIENT6_A,
						 25012);
	struct fc_binding b;
	struct gc_result res;
	uint64_t dead64, dead66;
	struct run_result r;

	uint64_t t64;

	dual_on();
	ASSERT_EQ(out64(&o64), 25012, "NAT64 mapping");
	/* The datapath's clock is coarse (a tick of 1-10 ms): let it move on,
	 * so the two mappings have different ages. */
	t64 = now_ns();
	while (now_ns() == t64)
		;
	EXPECT_OUT66(&o66, &o66_want, "NAT66 mapping");
	dead64 = dual_dead_at(FC_AF_INET, EXT_ADDR, SERVER_1, 25012);
	dead66 = dual_dead_at(FC_AF_INET6, EXT_ADDR6, SERVER6_1, 25012);
	ASSERT_TRUE(dead64 && dead66, "both mappings and sessions there");
	ASSERT_TRUE(dead64 < dead66, "the NAT64 one, made first, dies first");

	ASSERT_EQ(fixture_sweep(&fx, dead64 - 1, &res), 0, "sweep just before");
	ASSERT_EQ(res.mappings_live, 2, "both live");
	ASSERT_EQ(res.orphans_removed, 0, "every half found its twin");
	ASSERT_EQ(fixture_sweep(&fx, dead64, &res), 0, "sweep at the NAT64 mapping's end");
	ASSERT_EQ(res.mappings_expired, 1, "one expired");
	ASSERT_EQ(res.mappings_live, 1, "one live");
	ASSERT_EQ(res.sessions_expired, 1, "its session went");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik64, &b), -ENOENT, "the NAT64 one gone");
	ASSERT_EQ(nr_bindings(&fx), 2, "both its entries gone, the NAT66 ones kept");
	check_dual_entry(FC_AF_INET6, EXT_ADDR6, 25012);
	ASSERT_EQ(run_spec(fx.ingress_fd, &i64, &r), 0, "NAT64 reply: test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "NAT64 reply: no mapping any more");
	EXPECT_IN(&i66, &i66_want, TC_ACT_OK, "NAT66 reply still reaches the host");

	ASSERT_EQ(fixture_sweep(&fx, dead66 + 1000000000ULL, &res), 0, "sweep after the NAT66 one");
	ASSERT_EQ(res.mappings_expired, 1, "the other expired");
	ASSERT_EQ(nr_bindings(&fx) + nr_sessions(&fx), 0, "all gone");
}

/* An external address that goes away takes its own family's mappings
 * with it (gc_flush_addr), not the endpoint's other one. */
TEST(nat64_and_nat66_mappings_of_one_endpoint_flushed_apart)
{
	struct pkt_spec o66 = pkt_udp(CLIENT6_A, 25013, SERVER6_1, 7000);
	struct pkt_spec o66_want = pkt_udp(EXT_ADDR6, 25013, SERVER6_1, 7000);
	struct pkt_spec o64 = pkt_udp(CLIENT6_A, 25013, SERVER_1_64, 7000);
	struct pkt_spec i64 = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25013);
	struct pkt_spec i64_want = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25013);
	struct gc_flush_result fr;
	union fc_addr a6 = {}, a4 = {};

	dual_on();
	EXPECT_OUT66(&o66, &o66_want, "NAT66 mapping");
	ASSERT_EQ(out64(&o64), 25013, "NAT64 mapping");
	ip6(EXT_ADDR6, a6.v6);
	ASSERT_EQ(gc_flush_addr(fx.bindings_fd, fx.sessions_fd, -1, FC_AF_INET6, &a6, &fr), 0,
		  "flush the IPv6 address");
	ASSERT_EQ(fr.mappings, 1, "one mapping flushed");
	ASSERT_EQ(fr.sessions, 1, "its session");
	ASSERT_EQ(nr_bindings(&fx), 2, "the NAT64 mapping's entries kept");
	check_dual_entry(FC_AF_INET, EXT_ADDR, 25013);
	EXPECT_IN(&i64, &i64_want, TC_ACT_OK, "NAT64 reply still reaches the host");
	a4.v4 = ip4(EXT_ADDR);
	ASSERT_EQ(gc_flush_addr(fx.bindings_fd, fx.sessions_fd, -1, FC_AF_INET, &a4, &fr), 0,
		  "flush the IPv4 address");
	ASSERT_EQ(fr.mappings, 1, "the other flushed");
	ASSERT_EQ(nr_bindings(&fx) + nr_sessions(&fx), 0, "all gone");
}

/*
 * RFC 7915 §4.4 / §5.4 and RFC 6146: the packets NAT64 discards are
 * answered (nat64_discard.h). Each expected error is built from the RFC
 * text: from the gateway's address on the route back to the sender,
 * DF / id 0 / TTL 64 for IPv4 (hop limit 64 for IPv6), quoting the
 * discarded packet as it arrived.
 */
static struct pkt_spec answer4(const struct pkt_spec *in, uint8_t type, uint8_t code)
{
	return (struct pkt_spec){ .proto = IPPROTO_ICMP, .saddr = EXT_ADDR, .daddr = in->saddr,
				  .icmp_type = type, .icmp_code = code, .quote = in,
				  .frag = 0x4000, .ip_id_zero = 1, .ttl = 64,
				  .smac = FX_EXT0_MAC, .dmac = FX_SERVER1_MAC };
}

static struct pkt_spec answer6(const struct pkt_spec *in, uint8_t type, uint8_t code)
{
	return (struct pkt_spec){ .proto = IPPROTO_ICMPV6, .saddr = "fd00:77::1",
				  .daddr = in->saddr, .icmp_type = type, .icmp_code = code,
				  .quote = in, .ttl = 64, .smac = FX_INT0_MAC,
				  .dmac = FX_CLIENT_A_MAC };
}

/* RFC 7915 §4.1: an unexpired source route option (LSRR, pointer within
 * it): not translated, ICMPv4 Destination Unreachable, Source Route
 * Failed (3/5) to the sender; an expired one is dropped with the other
 * options and the packet translated. */
TEST(rfc7915_s4_1_s4_4_unexpired_source_route_answered_3_5)
{
	static const uint8_t lsrr[] = { 131, 7, 4, 192, 0, 2, 77 };
	static const uint8_t done[] = { 131, 7, 8, 192, 0, 2, 77 };	/* pointer past it */
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25040, SERVER_1_64, 7000);
	struct pkt_spec in = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25040);
	struct pkt_spec expired = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25040);
	struct pkt_spec in6 = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25040);
	struct pkt_spec err;

	nat64_on();
	ASSERT_EQ(out64(&out), 25040, "mapping");
	in.ihl = expired.ihl = 7;
	in.ip_opts = lsrr;
	expired.ip_opts = done;
	in.ip_opts_len = expired.ip_opts_len = sizeof(lsrr);
	err = answer4(&in, 3, 5);
	EXPECT_EXT(&in, &err, TC_ACT_REDIRECT, "unexpired LSRR: source route failed");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DISCARD_ICMP_SENT), 1, "nat64_discard_icmp_sent");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_UNTRANSLATABLE), 1, "counted untranslatable");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 0, "not translated");
	EXPECT_IN(&expired, &in6, TC_ACT_OK, "expired LSRR: option dropped, translated");
}

/* RFC 7915 §4.1 MUST: the translator is a router; a TTL that expires here
 * is answered with ICMPv4 Time Exceeded (11/0), not left to the IPv6
 * stack (its Hop Limit Exceeded would go to the synthesized source). An
 * ICMP error with TTL 1 is dropped unanswered (§4.4). */
TEST(rfc7915_s4_1_ttl_1_answered_time_exceeded_11_0)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25041, SERVER_1_64, 7000);
	struct pkt_spec in = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25041);
	struct pkt_spec two = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25041);
	struct pkt_spec two6 = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25041);
	struct pkt_spec quoted = pkt_udp(EXT_ADDR, 25041, SERVER_1, 7000);
	struct pkt_spec unreach = { .proto = IPPROTO_ICMP, .saddr = SERVER_1, .daddr = EXT_ADDR,
				    .icmp_type = 3, .icmp_code = 3, .quote = &quoted, .ttl = 1 };
	struct pkt_spec err;

	nat64_on();
	ASSERT_EQ(out64(&out), 25041, "mapping");
	in.ttl = 1;
	err = answer4(&in, 11, 0);
	EXPECT_EXT(&in, &err, TC_ACT_REDIRECT, "TTL 1: time exceeded");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_TTL), 1, "nat64_drop_ttl");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DISCARD_ICMP_SENT), 1, "nat64_discard_icmp_sent");
	EXPECT_EXT(&unreach, &unreach, TC_ACT_SHOT, "ICMP error with TTL 1: dropped, unanswered");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_TTL), 2, "counted");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DISCARD_ICMP_SENT), 1, "no error about an error");
	two.ttl = two6.ttl = 2;
	EXPECT_IN(&two, &two6, TC_ACT_OK, "TTL 2: translated, hop limit 2 for the stack to decrement");
}

/* RFC 7915 §5.1: a routing header with segments left: not translated,
 * ICMPv6 Parameter Problem 4/0 pointing at the Segments Left byte (40 +
 * 3 after a routing header right after the fixed header; 48 + 3 behind a
 * hop-by-hop header); no mapping made. With none left it is dropped and
 * the packet translated. */
TEST(rfc7915_s5_1_segments_left_answered_parameter_problem_pointer)
{
	struct pkt_spec rh = pkt_udp(CLIENT6_A, 25042, SERVER_1_64, 7000);
	struct pkt_spec hop_rh = pkt_udp(CLIENT6_A, 25042, SERVER_1_64, 7000);
	struct pkt_spec none = pkt_udp(CLIENT6_A, 25042, SERVER_1_64, 7000);
	struct pkt_spec none4 = pkt_udp(EXT_ADDR, 25042, SERVER_1, 7000);
	struct pkt_spec err;

	nat64_on();
	ASSERT_EQ(ipv6_side_up(1500), 0, "IPv6 side set up");
	rh.ext_hdrs[0] = 43;
	rh.nr_ext = 1;
	rh.rh_segleft = 1;
	err = answer6(&rh, 4, 0);
	err.icmp_pointer = 43;
	EXPECT_LAN(&rh, &err, TC_ACT_REDIRECT, "segments left 1: parameter problem, pointer 43");
	hop_rh.ext_hdrs[0] = 0;
	hop_rh.ext_hdrs[1] = 43;
	hop_rh.nr_ext = 2;
	hop_rh.rh_segleft = 2;
	err = answer6(&hop_rh, 4, 0);
	err.icmp_pointer = 51;
	EXPECT_LAN(&hop_rh, &err, TC_ACT_REDIRECT, "behind hop-by-hop: pointer 51");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DISCARD_ICMP_SENT), 2, "nat64_discard_icmp_sent");
	ASSERT_EQ(nr_bindings(&fx), 0, "no mapping made");
	none.ext_hdrs[0] = 43;
	none.nr_ext = 1;
	none4.ttl = 63;
	to_server1(&none4);
	EXPECT_OUT(&none, &none4, "segments left 0: header dropped, translated");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 side removed");
}

/* RFC 6146 §3.4: a protocol other than TCP, UDP and ICMPv6 is discarded
 * and answered with ICMPv6 Destination Unreachable, Port Unreachable. */
TEST(rfc6146_s3_4_other_protocol_answered_port_unreachable_1_4)
{
	struct pkt_spec gre = { .proto = 47, .saddr = CLIENT6_A, .daddr = SERVER_1_64,
				.payload_len = 20 };
	struct pkt_spec err = answer6(&gre, 1, 4);

	nat64_on();
	ASSERT_EQ(ipv6_side_up(1500), 0, "IPv6 side set up");
	EXPECT_LAN(&gre, &err, TC_ACT_REDIRECT, "GRE to the prefix: port unreachable");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSUPPORTED_PROTO), 1, "drop_unsupported_protocol");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DISCARD_ICMP_SENT), 1, "nat64_discard_icmp_sent");
	ASSERT_EQ(nr_bindings(&fx), 0, "no mapping made");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 side removed");
}

/* RFC 6146 §3.5.1.1 (and §3.5.2.1, §3.5.3): when no BIB entry can be made
 * (here the subscriber's UDP limit), the packet is discarded and answered
 * with ICMPv6 Destination Unreachable, Address Unreachable (1/3). */
TEST(rfc6146_s3_5_1_1_no_mapping_possible_answered_address_unreachable_1_3)
{
	struct pkt_spec first = pkt_udp(CLIENT6_A, 25043, SERVER_1_64, 7000);
	struct pkt_spec second = pkt_udp(CLIENT6_A, 25044, SERVER_1_64, 7000);
	struct pkt_spec err = answer6(&second, 1, 3);

	fx.opts.cgnat.limit[FC_SUB_UDP] = 1;
	nat64_on();
	ASSERT_EQ(ipv6_side_up(1500), 0, "IPv6 side set up");
	ASSERT_EQ(out64(&first), 25043, "first mapping");
	EXPECT_LAN(&second, &err, TC_ACT_REDIRECT, "second: refused, address unreachable");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_SUBSCRIBER_LIMIT), 1, "drop_subscriber_limit");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DISCARD_ICMP_SENT), 1, "nat64_discard_icmp_sent");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 side removed");
}

/* RFC 7915 §5.4: an IPv6 packet the translator discards for want of an
 * IPv4 route is answered with ICMPv6 Destination Unreachable, as the
 * IPv4 stack answers what it cannot forward: no route at all (the FIB's
 * "not forwarded", which the main table confirms) and an unreachable
 * route with code 0 (no route to destination), a prohibit route with 1
 * (administratively prohibited); a blackhole route silently; an ICMPv6
 * message never (§5.4 spares them). A destination of the gateway's own
 * (a second address of ext0) is "not forwarded" too: while the kernel
 * keeps its local table merged into main (no ip rules of the operator's)
 * nothing tells it from no route, and it is answered 1/0 as well (true
 * for NAT64, which never delivers to the gateway); once a rule unmerges
 * them, the main table has a route for it (its subnet's) and it is
 * dropped unanswered (doc/design/nat64.md, "No IPv4 route"). */
TEST(rfc7915_s5_4_no_ipv4_route_answered_destination_unreachable)
{
	struct pkt_spec none = pkt_udp(CLIENT6_A, 25070, "64:ff9b::203.0.113.77", 53);
	struct pkt_spec unreach = pkt_udp(CLIENT6_A, 25071, "64:ff9b::203.0.113.100", 53);
	struct pkt_spec prohib = pkt_tcp(CLIENT6_A, 25072, "64:ff9b::203.0.113.200", 80, 0x02);
	struct pkt_spec hole = pkt_udp(CLIENT6_A, 25073, "64:ff9b::203.0.113.150", 53);
	struct pkt_spec local = pkt_udp(CLIENT6_A, 25074, "64:ff9b::198.51.100.9", 53);
	struct pkt_spec ping = pkt_echo(CLIENT6_A, "64:ff9b::203.0.113.77", IPPROTO_ICMPV6, 128,
					0x4244);
	struct pkt_spec err_none = answer6(&none, 1, 0);
	struct pkt_spec err_unreach = answer6(&unreach, 1, 0);
	struct pkt_spec err_prohib = answer6(&prohib, 1, 1);
	struct pkt_spec err_local = answer6(&local, 1, 0);

	nat64_on();
	ASSERT_EQ(ipv6_side_up(1500), 0, "IPv6 side set up");
	fixture_defer(&fx, "ip route del unreachable 203.0.113.100/32 2>/dev/null; "
			   "ip route del prohibit 203.0.113.200/32 2>/dev/null; "
			   "ip route del blackhole 203.0.113.150/32 2>/dev/null; "
			   "ip rule del pref 1000 2>/dev/null; "
			   "ip addr del 198.51.100.9/24 dev ext0 2>/dev/null");
	ASSERT_EQ(system("ip route add unreachable 203.0.113.100/32 && "
			 "ip route add prohibit 203.0.113.200/32 && "
			 "ip route add blackhole 203.0.113.150/32 && "
			 "ip addr add 198.51.100.9/24 dev ext0"), 0, "routes and a second address");
	EXPECT_LAN(&none, &err_none, TC_ACT_REDIRECT, "no route: 1/0");
	EXPECT_LAN(&unreach, &err_unreach, TC_ACT_REDIRECT, "unreachable route: 1/0");
	EXPECT_LAN(&prohib, &err_prohib, TC_ACT_REDIRECT, "prohibit route: 1/1");
	EXPECT_LAN(&hole, &hole, TC_ACT_SHOT, "blackhole route: dropped, silent");
	EXPECT_LAN(&ping, &ping, TC_ACT_SHOT, "echo request, no route: dropped, silent");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_NO_ROUTE), 5, "nat64_drop_no_route");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DISCARD_ICMP_SENT), 3, "nat64_discard_icmp_sent");
	EXPECT_LAN(&local, &err_local, TC_ACT_REDIRECT, "own address, tables merged: 1/0");
	ASSERT_EQ(system("ip rule add pref 1000 lookup 100"), 0, "an ip rule: local table apart");
	EXPECT_LAN(&local, &local, TC_ACT_SHOT, "own address, tables apart: dropped, silent");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_TO_GATEWAY), 1, "nat64_drop_to_gateway");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DISCARD_ICMP_SENT), 4, "no error for it");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 side removed");
}

/* RFC 6146 §3.5.2.2 (as RFC 5382 REQ-4 for NAT44): an inbound SYN to the
 * external address and a port with no TCP BIB entry (here one with only a
 * UDP mapping) is dropped silently, creating no state; never answered,
 * which the RFC allows (the security policy drops externally initiated
 * connections). */
TEST(rfc6146_s3_5_2_2_unsolicited_inbound_syn_dropped_silently)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25045, SERVER_1_64, 7000);
	struct pkt_spec syn = pkt_tcp(STRANGER, 4444, EXT_ADDR, 25045, 0x02);
	struct pkt_spec syn2 = pkt_tcp(STRANGER, 4444, EXT_ADDR, 25046, 0x02);
	int before;

	nat64_on();
	ASSERT_EQ(out64(&out), 25045, "a UDP mapping on that port");
	before = nr_bindings(&fx);
	EXPECT_EXT(&syn, &syn, TC_ACT_SHOT, "SYN to the UDP mapping's port: dropped");
	EXPECT_EXT(&syn2, &syn2, TC_ACT_SHOT, "SYN to an unused port: dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 2, "drop_unsolicited");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DISCARD_ICMP_SENT), 0, "nothing sent");
	ASSERT_EQ(nr_bindings(&fx), before, "no state made");
}

/* RFC 6146 §3.4 (RFC 7915 §4.5 defers to it for a stateful translator):
 * IPv4 UDP fragments without checksum are reassembled to compute it or,
 * without the resources for that, silently discarded. fcnat does not
 * reassemble: the first fragment is dropped, counted, nothing is sent. */
TEST(rfc6146_s3_4_udp_zero_checksum_first_fragment_silently_discarded)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25047, SERVER_1_64, 7000);
	struct pkt_spec first = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25047);
	struct run_result r;

	nat64_on();
	ASSERT_EQ(out64(&out), 25047, "mapping");
	first.frag = 0x2000;	/* MF, offset 0 */
	first.ip_id = 0x4600;
	first.udp_no_csum = 1;
	ASSERT_EQ(run_ext(&first, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "UDP without checksum, first fragment: dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_FRAGMENT), 1, "nat64_drop_fragment");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DISCARD_ICMP_SENT), 0, "nothing sent");
}

/* RFC 7915 §1.2: fragmented ICMP is not translated; §4.4: the discarded
 * packet is answered with ICMPv4 3/13 (it is no ICMP error). */
TEST(rfc7915_s1_2_s4_4_fragmented_echo_reply_to_mapping_answered_3_13)
{
	struct pkt_spec req = pkt_echo(CLIENT6_A, SERVER_1_64, IPPROTO_ICMPV6, 128, 0x4747);
	struct pkt_spec first, err;
	struct run_result r;
	uint16_t id;

	nat64_on();
	ASSERT_EQ(run_lan(&req, &r), 0, "echo request run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "redirected");
	id = (r.out[38] << 8) | r.out[39];
	first = pkt_echo(SERVER_1, EXT_ADDR, IPPROTO_ICMP, 0, id);
	first.frag = 0x2000;	/* MF, offset 0 */
	first.ip_id = 0x4700;
	err = answer4(&first, 3, 13);
	EXPECT_EXT(&first, &err, TC_ACT_REDIRECT, "fragmented echo reply: 3/13");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_FRAGMENT), 1, "nat64_drop_fragment");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DISCARD_ICMP_SENT), 1, "nat64_discard_icmp_sent");
}

/* RFC 6146 §3.8: hairpinning. CLIENT6_B reaches CLIENT6_A's NAT64 mapping
 * through the prefix and the external address: as if translated to IPv4
 * and back, B's packet arrives from B's mapping under the prefix to A's
 * internal endpoint (hop limit - 1), sent straight to A; A's answer to
 * B's mapping comes back the same way. Each side's mapping keeps its
 * session with the other's (EIF). */
TEST(rfc6146_s3_8_hairpinning_between_nat64_mappings_both_ways)
{
	struct pkt_spec a_out = pkt_udp(CLIENT6_A, 25050, SERVER_1_64, 7000);
	struct pkt_spec b_to_a = pkt_udp(CLIENT6_B, 25051, EXT_ADDR_64, 25050);
	struct pkt_spec at_a = pkt_udp(EXT_ADDR_64, 25051, CLIENT6_A, 25050);
	struct pkt_spec a_to_b = pkt_udp(CLIENT6_A, 25050, EXT_ADDR_64, 25051);
	struct pkt_spec at_b = pkt_udp(EXT_ADDR_64, 25050, CLIENT6_B, 25051);
	struct pkt_spec b_nowhere = pkt_udp(CLIENT6_B, 25051, EXT_ADDR_64, 25059);
	struct run_result r;

	nat64_on();
	ASSERT_EQ(ipv6_side_up(1500), 0, "IPv6 side set up");
	fixture_defer(&fx, "ip -6 neigh del " CLIENT6_B " dev int0 2>/dev/null");
	ASSERT_EQ(system("ip -6 neigh replace " CLIENT6_B
			 " lladdr 02:00:00:00:02:03 dev int0 nud permanent"), 0, "B's neighbour");
	ASSERT_EQ(out64(&a_out), 25050, "A's mapping");
	at_a.ttl = at_b.ttl = 63;
	at_a.smac = at_b.smac = FX_INT0_MAC;
	at_a.dmac = FX_CLIENT_A_MAC;
	at_b.dmac = FX_CLIENT_B_MAC;
	EXPECT_LAN(&b_to_a, &at_a, TC_ACT_REDIRECT, "B -> A's mapping: from B's mapping to A");
	EXPECT_LAN(&a_to_b, &at_b, TC_ACT_REDIRECT, "A -> B's mapping: from A's mapping to B");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TRANSLATED), 2, "hairpin_translated");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_OUT), 1, "only A's first packet left");
	ASSERT_EQ(run_lan(&b_nowhere, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "to a port without a mapping: dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 1, "drop_unsolicited");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 side removed");
}

/* RFC 6052 §3.1: the Well-Known Prefix does not carry non-global IPv4
 * addresses; a translator drops packets with such an address under it,
 * both ways, and makes no state for them. Under a network-specific prefix
 * the same IPv4 addresses are translated. */
TEST(rfc6052_s3_1_wkp_with_non_global_ipv4_address_dropped_both_ways)
{
	static const char *const non_global[] = {
		"64:ff9b::10.1.2.3", "64:ff9b::172.16.0.9", "64:ff9b::192.168.1.1",
		"64:ff9b::100.64.0.1", "64:ff9b::127.0.0.1", "64:ff9b::169.254.1.1",
		"64:ff9b::0.1.2.3", "64:ff9b::192.0.0.170", "64:ff9b::224.0.0.251",
		"64:ff9b::255.255.255.255",
	};
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25060, SERVER_1_64, 7000);
	struct pkt_spec in = pkt_udp("10.9.9.9", 7000, EXT_ADDR, 25060);
	struct run_result r;
	unsigned int i;
	char err[128];
	unsigned int len;

	nat64_on();
	for (i = 0; i < sizeof(non_global) / sizeof(non_global[0]); i++) {
		struct pkt_spec p = pkt_udp(CLIENT6_A, 25061, non_global[i], 7000);

		ASSERT_EQ(run_lan(&p, &r), 0, "run");
		ASSERT_EQ(r.ret, TC_ACT_SHOT, non_global[i]);
	}
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_UNTRANSLATABLE), i, "nat64_drop_untranslatable");
	ASSERT_EQ(nr_bindings(&fx), 0, "no mapping made");
	/* Inbound from a private IPv4 host to a live mapping: dropped. */
	ASSERT_EQ(out64(&out), 25060, "a mapping to a global server");
	ASSERT_EQ(run_ext(&in, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "from 10.9.9.9 under the WKP: dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_UNTRANSLATABLE), i + 1, "counted");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 0, "nothing translated inbound");

	/* A network-specific prefix: 10.1.2.3 is translated (a mapping). */
	if (parse_nat64_prefix("2001:db8:64::/96", fx.opts.nat64_prefix, &len, err, sizeof(err)))
		abort();
	fx.opts.nat64_prefix_len = len;
	fixture_apply(&fx);
	out = pkt_udp(CLIENT6_A, 25062, "2001:db8:64::10.1.2.3", 7000);
	ASSERT_EQ(run_lan(&out, &r), 0, "run");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_UNTRANSLATABLE), i + 1, "not refused");
	ASSERT_EQ(nr_bindings(&fx), 4, "a mapping made for the private address (two entries each)");
}

/* RFC 7915 §5.1: a packet with an illegal source address (unspecified,
 * loopback, multicast; link local, which no router forwards) is silently
 * dropped: nothing sent back, no mapping made. */
TEST(rfc7915_s5_1_illegal_source_address_silently_dropped)
{
	static const char *const bad[] = { "::", "::1", "ff02::1", "ff0e::5", "fe80::2" };
	struct run_result r;
	unsigned int i;

	nat64_on();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pkt_spec p = pkt_udp(bad[i], 25070, SERVER_1_64, 7000);

		ASSERT_EQ(run_lan(&p, &r), 0, "run");
		ASSERT_EQ(r.ret, TC_ACT_SHOT, bad[i]);
	}
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_UNTRANSLATABLE), i, "nat64_drop_untranslatable");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DISCARD_ICMP_SENT), 0, "nothing sent");
	ASSERT_EQ(nr_bindings(&fx), 0, "no mapping made");
}

/* RFC 7915 §4.2: IGMP is single hop and not translated. With NAT64 on,
 * IGMP to the external address reaches the gateway untouched, never the
 * IPv6 side. */
TEST(rfc7915_s4_2_igmp_not_translated)
{
	struct pkt_spec igmp = { .proto = 2, .saddr = SERVER_1, .daddr = EXT_ADDR, .ttl = 1,
				 .payload_len = 8 };

	nat64_on();
	EXPECT_EXT(&igmp, &igmp, TC_ACT_OK, "IGMP to the gateway, untouched");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 0, "nothing translated");
}

/* RFC 6146 §3.1: one BIB per protocol. Host B's TCP mapping holds
 * external port 25091; host A's UDP from port 25091 still gets external
 * port 25091 (the UDP BIB is another table), and inbound UDP and TCP to
 * that port reach A and B, each through its own protocol's mapping. */
TEST(rfc6146_s3_1_one_bib_per_protocol)
{
	struct pkt_spec t = pkt_tcp(CLIENT6_B, 25091, SERVER_1_64, 7000, 0x02);
	struct pkt_spec u = pkt_udp(CLIENT6_A, 25091, SERVER_1_64, 7000);
	struct pkt_spec u_in = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25091);
	struct pkt_spec u_at_a = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25091);
	struct pkt_spec t_in = pkt_tcp(SERVER_1, 7000, EXT_ADDR, 25091, 0x12);
	struct pkt_spec t_at_b = pkt_tcp(SERVER_1_64, 7000, CLIENT6_B, 25091, 0x12);

	nat64_on();
	ASSERT_EQ(out64(&t), 25091, "B's TCP mapping");
	ASSERT_EQ(out64(&u), 25091, "A's UDP mapping: the same port, another BIB");
	ASSERT_EQ(nr_bindings(&fx), 4, "two mappings (two entries each)");
	EXPECT_IN(&u_in, &u_at_a, TC_ACT_OK, "UDP to 25091 reaches A");
	EXPECT_IN(&t_in, &t_at_b, TC_ACT_OK, "TCP to 25091 reaches B");
}

/* RFC 7915 §5.1 and §4.1 SHOULD, --nat64-tos: the traffic class is not
 * copied but the IPv4 TOS set to the configured value, and the IPv4 TOS
 * not copied but the traffic class set to zero. Without the option both
 * are copied. */
TEST(rfc7915_s4_1_s5_1_tos_and_traffic_class_overridden_with_nat64_tos)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25095, SERVER_1_64, 7000);
	struct pkt_spec out4 = pkt_udp(EXT_ADDR, 25095, SERVER_1, 7000);
	struct pkt_spec in = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25095);
	struct pkt_spec in6 = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25095);

	out.tclass = 0xb8;
	in.tclass = 0x2e;
	out4.ttl = 63;
	to_server1(&out4);
	nat64_on();
	out4.tclass = 0xb8;
	EXPECT_OUT(&out, &out4, "default: traffic class 0xb8 copied to the TOS");
	in6.tclass = 0x2e;
	EXPECT_IN(&in, &in6, TC_ACT_OK, "default: TOS 0x2e copied to the traffic class");

	fx.opts.nat64_tos = 0x20;
	fixture_apply(&fx);
	out4.tclass = 0x20;
	EXPECT_OUT(&out, &out4, "--nat64-tos 32: TOS 0x20 whatever the traffic class");
	in6.tclass = 0;
	EXPECT_IN(&in, &in6, TC_ACT_OK, "--nat64-tos 32: traffic class 0 whatever the TOS");
}

/* RFC 6146 §4 ICMP_DEFAULT (60 s) by default: a NAT64 echo mapping is
 * still there 59 s after its request and gone 61 s after it. */
TEST(gc_rfc6146_s4_icmp_default_60s_nat64_echo_mapping)
{
	struct pkt_spec req = pkt_echo(CLIENT6_A, SERVER_1_64, IPPROTO_ICMPV6, 128, 0x4848);
	struct gc_result res;
	struct run_result r;
	uint64_t t0, t1;

	nat64_on();
	ASSERT_EQ(fx.opts.timeout_s[FC_TIMEOUT_ICMP], 60, "ICMP timeout 60 s by default");
	t0 = now_ns();
	ASSERT_EQ(run_lan(&req, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "echo request translated");
	t1 = now_ns();
	ASSERT_EQ(fixture_sweep(&fx, t0 + 59000000000ULL, &res), 0, "sweep at 59 s");
	ASSERT_EQ(res.mappings_live, 1, "alive at 59 s");
	ASSERT_EQ(res.mappings_expired, 0, "none expired at 59 s");
	ASSERT_EQ(fixture_sweep(&fx, t1 + 61000000000ULL, &res), 0, "sweep at 61 s");
	ASSERT_EQ(res.mappings_expired, 1, "expired at 61 s");
	ASSERT_EQ(nr_bindings(&fx), 0, "both entries gone");
}

/* RFC 7915 §5.1: the Identification of a DF-clear packet comes from a
 * fragment identification algorithm: fcnat's is random per packet (RFC
 * 7739 §5.1), so four packets of one flow do not all carry one value. */
TEST(rfc7915_s5_1_identification_not_one_value_for_a_flow)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25097, SERVER_1_64, 7000);
	struct run_result r;
	uint16_t id[4];
	int i;

	nat64_on();
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(run_lan(&out, &r), 0, "run");
		ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "translated");
		ASSERT_EQ(r.out[14 + 6] & 0x40, 0, "DF clear (60 bytes)");
		id[i] = (r.out[18] << 8) | r.out[19];
	}
	ASSERT_TRUE(!(id[0] == id[1] && id[1] == id[2] && id[2] == id[3]),
		    "not one Identification for all");
}

/* RFC 7915 §4.2: the Packet Too Big's MTU is the least of the advertised
 * MTU + 20 and the IPv6 next hop's: a Fragmentation Needed of 1400 to a
 * host behind a 1300-byte IPv6 route becomes Packet Too Big 1300 (1420
 * with the route's MTU above it). */
TEST(rfc7915_s4_2_packet_too_big_mtu_within_the_ipv6_next_hop)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25098, SERVER_1_64, 7000);
	struct pkt_spec q4 = pkt_udp(EXT_ADDR, 25098, SERVER_1, 7000);
	struct pkt_spec q6 = pkt_udp(CLIENT6_A, 25098, SERVER_1_64, 7000);
	struct pkt_spec err = { .proto = IPPROTO_ICMP, .saddr = SERVER_1, .daddr = EXT_ADDR,
				.icmp_type = 3, .icmp_code = 4, .icmp_mtu = 1400, .quote = &q4 };
	struct pkt_spec want = { .proto = IPPROTO_ICMPV6, .saddr = SERVER_1_64,
				 .daddr = CLIENT6_A, .icmp_type = 2, .icmp_mtu = 1300,
				 .quote = &q6 };

	nat64_on();
	ASSERT_EQ(ipv6_side_up(1300), 0, "IPv6 route of MTU 1300 set up");
	ASSERT_EQ(out64(&out), 25098, "mapping");
	q4.ttl = q6.ttl = 63;
	EXPECT_IN(&err, &want, TC_ACT_OK, "fragmentation needed 1400 -> packet too big 1300");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 route removed");
	ASSERT_EQ(ipv6_side_up(1500), 0, "IPv6 route of MTU 1500 set up");
	want.icmp_mtu = 1420;
	EXPECT_IN(&err, &want, TC_ACT_OK, "fragmentation needed 1400 -> packet too big 1420");
	ASSERT_EQ(ipv6_side_down(), 0, "IPv6 route removed");
}
