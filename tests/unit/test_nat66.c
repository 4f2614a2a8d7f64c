// SPDX-License-Identifier: GPL-2.0
/*
 * NAT66 packet-in/packet-out tests through BPF_PROG_TEST_RUN: the real TC
 * programs with NAT66 on, every output packet compared whole (headers,
 * extension headers, checksums computed from scratch by pkt_build), and the
 * maps. The behaviour is NAT44's (RFC 4787, 5382, 5508 requirements, named
 * in the tests) on the external IPv6 address, plus what is IPv6's own:
 * extension headers, ICMPv6 errors and Packet Too Big, neighbour discovery
 * and link-local traffic left alone, 32-bit fragment identifications.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "fcnat_tc.skel.h"
#include "fixture.h"
#include "harness.h"

static void nat66_on(void)
{
	fx.opts.nat66 = true;
	fixture_apply(&fx);
}

#define EXPECT_FROM(prog_fd, in, from, want, verdict, what) \
	EXPECT_SPEC_FROM(prog_fd, in, from, want, verdict, what)
#define EXPECT(prog_fd, in, want, verdict, what) \
	EXPECT_FROM(prog_fd, in, FORWARDED_FROM, want, verdict, what)
#define EXPECT_UNCHANGED(prog_fd, in, verdict, what) EXPECT(prog_fd, in, in, verdict, what)

static struct pkt_spec echo6(const char *sa, const char *da, uint8_t type, uint16_t id)
{
	struct pkt_spec s = { .proto = IPPROTO_ICMPV6, .saddr = sa, .daddr = da,
			      .icmp_type = type, .icmp_seq = 3, .payload_len = 56 };

	if (type == 128)
		s.sport = id;
	else
		s.dport = id;
	return s;
}

static struct pkt_spec error6(const char *sa, const char *da, uint8_t type, uint8_t code,
			      const struct pkt_spec *quote)
{
	return (struct pkt_spec){ .proto = IPPROTO_ICMPV6, .saddr = sa, .daddr = da,
				  .icmp_type = type, .icmp_code = code, .quote = quote };
}

/* The external port (ICMPv6: id) an outbound packet got; 0 on failure. */
static uint16_t out_port(const struct pkt_spec *in)
{
	struct run_result r;
	size_t l4 = 14 + 40 + 8 * in->nr_ext;

	if (run_spec(fx.egress_fd, in, &r) || r.ret != TC_ACT_OK ||
	    r.out_len < l4 + 8)
		return 0;
	if (in->proto == IPPROTO_ICMPV6)
		return (r.out[l4 + 4] << 8) | r.out[l4 + 5];
	return (r.out[l4] << 8) | r.out[l4 + 1];
}

TEST(rfc4787_req1_nat66_udp_out_whole_packet_and_state)
{
	struct pkt_spec in = pkt_udp(CLIENT6_A, 25000, SERVER6_1, 7000);
	struct pkt_spec want = pkt_udp(EXT_ADDR6, 25000, SERVER6_1, 7000);
	struct fc_endpoint_key ik = fx_int_key(FC_AF_INET6, FC_AF_INET6, IPPROTO_UDP, CLIENT6_A, 25000);
	struct fc_endpoint_key ek = fx_ext_key(FC_AF_INET6, IPPROTO_UDP, EXT_ADDR6, 25000);
	struct fc_binding b, back;
	uint8_t ext[16], client[16];

	nat66_on();
	EXPECT(fx.egress_fd, &in, &want, TC_ACT_OK, "outbound UDP");
	ip6(EXT_ADDR6, ext);
	ip6(CLIENT6_A, client);
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "internal-side entry");
	ASSERT_EQ(memcmp(b.addr.v6, ext, 16), 0, "mapped to the external IPv6 address");
	ASSERT_EQ(b.family, FC_AF_INET6, "external family");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ek, &back), 0, "external-side entry");
	ASSERT_EQ(memcmp(back.addr.v6, client, 16), 0, "reverse address");
	ASSERT_EQ(ntohs(back.port), 25000, "reverse port");
	ASSERT_EQ(nr_bindings(&fx), 2, "one mapping");
	ASSERT_EQ(nr_sessions(&fx), 1, "one session");
	ASSERT_EQ(stat_get(&fx, FC_STAT_OUT_TRANSLATED), 1, "counted");
}

TEST(nat66_udp_in_whole_packet)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25000, SERVER6_1, 7000);
	struct pkt_spec in = pkt_udp(SERVER6_1, 7000, EXT_ADDR6, 25000);
	struct pkt_spec want = pkt_udp(SERVER6_1, 7000, CLIENT6_A, 25000);

	nat66_on();
	ASSERT_EQ(out_port(&out), 25000, "mapping");
	EXPECT(fx.ingress_fd, &in, &want, TC_ACT_OK, "inbound UDP");
	ASSERT_EQ(stat_get(&fx, FC_STAT_IN_TRANSLATED), 1, "counted");
}

TEST(nat66_port_change_rewrites_checksum)
{
	struct pkt_spec a = pkt_udp(CLIENT6_A, 40000, SERVER6_1, 7000);
	struct pkt_spec want = pkt_udp(EXT_ADDR6, 0, SERVER6_1, 7000);
	struct pkt_spec back, back_want;
	uint16_t p;

	nat66_on();
	p = out_port(&a);
	ASSERT_TRUE(p >= 20000 && p <= 29999, "port from the range");
	want.sport = p;
	EXPECT(fx.egress_fd, &a, &want, TC_ACT_OK, "same mapping, whole packet");
	back = pkt_udp(SERVER6_1, 7000, EXT_ADDR6, p);
	back_want = pkt_udp(SERVER6_1, 7000, CLIENT6_A, 40000);
	EXPECT(fx.ingress_fd, &back, &back_want, TC_ACT_OK, "answer to the original port");
}

TEST(rfc4787_req1_nat66_eim_same_port_for_two_servers)
{
	struct pkt_spec a = pkt_udp(CLIENT6_A, 41000, SERVER6_1, 7000);
	struct pkt_spec b = pkt_udp(CLIENT6_A, 41000, SERVER6_2, 9999);
	uint16_t p1, p2;

	nat66_on();
	p1 = out_port(&a);
	p2 = out_port(&b);
	ASSERT_NE(p1, 0, "first mapping");
	ASSERT_EQ(p2, p1, "same external port towards a second server");
	ASSERT_EQ(nr_bindings(&fx), 2, "one mapping");
	ASSERT_EQ(nr_sessions(&fx), 2, "two sessions");
}

TEST(rfc4787_req8_nat66_eif_stranger_reaches_mapping)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25001, SERVER6_1, 7000);
	struct pkt_spec in = pkt_udp(STRANGER6, 5555, EXT_ADDR6, 25001);
	struct pkt_spec want = pkt_udp(STRANGER6, 5555, CLIENT6_A, 25001);

	nat66_on();
	ASSERT_EQ(out_port(&out), 25001, "mapping");
	EXPECT(fx.ingress_fd, &in, &want, TC_ACT_OK, "a host never contacted gets through");
	ASSERT_EQ(nr_sessions(&fx), 2, "session made for it");
}

TEST(rfc4787_req3_nat66_no_port_overloading)
{
	struct pkt_spec a = pkt_udp(CLIENT6_A, 25002, SERVER6_1, 7000);
	struct pkt_spec b = pkt_udp(CLIENT6_B, 25002, SERVER6_1, 7000);
	uint16_t pa, pb;

	nat66_on();
	pa = out_port(&a);
	pb = out_port(&b);
	ASSERT_EQ(pa, 25002, "first keeps its port");
	ASSERT_TRUE(pb != 25002 && pb >= 20000 && pb <= 29999, "second gets another");
}

TEST(rfc5382_req1_nat66_tcp_handshake_both_ways)
{
	struct pkt_spec syn = pkt_tcp(CLIENT6_A, 25003, SERVER6_1, 80, 0x02);
	struct pkt_spec syn_want = pkt_tcp(EXT_ADDR6, 25003, SERVER6_1, 80, 0x02);
	struct pkt_spec synack = pkt_tcp(SERVER6_1, 80, EXT_ADDR6, 25003, 0x12);
	struct pkt_spec synack_want = pkt_tcp(SERVER6_1, 80, CLIENT6_A, 25003, 0x12);

	nat66_on();
	EXPECT(fx.egress_fd, &syn, &syn_want, TC_ACT_OK, "SYN out");
	EXPECT(fx.ingress_fd, &synack, &synack_want, TC_ACT_OK, "SYN-ACK in");
}

TEST(rfc5382_req4_nat66_unsolicited_dropped)
{
	struct pkt_spec syn = pkt_tcp(STRANGER6, 1234, EXT_ADDR6, 25004, 0x02);
	struct run_result r;

	nat66_on();
	ASSERT_EQ(run_spec(fx.ingress_fd, &syn, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 1, "counted");
	ASSERT_EQ(nr_bindings(&fx) + nr_sessions(&fx), 0, "no state");
}

TEST(rfc5508_req1_nat66_icmpv6_echo_both_ways)
{
	struct pkt_spec req = echo6(CLIENT6_A, SERVER6_1, 128, 777);
	struct pkt_spec req_want, reply, reply_want;
	struct fc_endpoint_key ik = fx_int_key(FC_AF_INET6, FC_AF_INET6, FC_PROTO_ICMP, CLIENT6_A, 777);
	struct fc_binding b;
	uint16_t id;

	nat66_on();
	id = out_port(&req);
	ASSERT_TRUE(id >= 20000 && id <= 29999, "identifier mapped into the range");
	/* Keyed under the ICMP class, as NAT44 and NAT64 echo. */
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "mapping of the id");
	req_want = echo6(EXT_ADDR6, SERVER6_1, 128, id);
	EXPECT(fx.egress_fd, &req, &req_want, TC_ACT_OK, "echo request, whole packet");
	reply = echo6(SERVER6_1, EXT_ADDR6, 129, id);
	reply_want = echo6(SERVER6_1, CLIENT6_A, 129, 777);
	EXPECT(fx.ingress_fd, &reply, &reply_want, TC_ACT_OK, "echo reply, whole packet");
}

TEST(nat66_extension_headers_walked_both_ways)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25005, SERVER6_1, 7000);
	struct pkt_spec out_want = pkt_udp(EXT_ADDR6, 25005, SERVER6_1, 7000);
	struct pkt_spec in = pkt_udp(SERVER6_1, 7000, EXT_ADDR6, 25005);
	struct pkt_spec in_want = pkt_udp(SERVER6_1, 7000, CLIENT6_A, 25005);

	nat66_on();
	out.nr_ext = out_want.nr_ext = 2;
	out.ext_hdrs[0] = out_want.ext_hdrs[0] = 0;	/* hop-by-hop */
	out.ext_hdrs[1] = out_want.ext_hdrs[1] = 60;	/* destination options */
	in.nr_ext = in_want.nr_ext = 2;
	in.ext_hdrs[0] = in_want.ext_hdrs[0] = 43;	/* routing, 0 segments left */
	in.ext_hdrs[1] = in_want.ext_hdrs[1] = 60;
	EXPECT(fx.egress_fd, &out, &out_want, TC_ACT_OK, "hop-by-hop + dest options out");
	EXPECT(fx.ingress_fd, &in, &in_want, TC_ACT_OK, "routing + dest options in");
}

TEST(nat66_too_long_extension_chain_dropped_outbound_passed_inbound)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25006, SERVER6_1, 7000);
	struct pkt_spec in = pkt_udp(SERVER6_1, 7000, EXT_ADDR6, 25006);
	struct run_result r;

	nat66_on();
	out.nr_ext = in.nr_ext = 6;	/* beyond FC_IP6_EXT_MAX_HDRS */
	for (int i = 0; i < 6; i++)
		out.ext_hdrs[i] = in.ext_hdrs[i] = 60;
	ASSERT_EQ(run_spec(fx.egress_fd, &out, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "never leaves with the internal source");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSUPPORTED_PROTO), 1, "counted");
	EXPECT_UNCHANGED(fx.ingress_fd, &in, TC_ACT_OK, "inbound: the stack's");
}

/* ---- ICMPv6 errors (RFC 5508 REQ-3/REQ-4 for IPv6) ---------------------- */

TEST(rfc5508_req3_nat66_inbound_port_unreachable_translated)
{
	struct pkt_spec sent = pkt_udp(CLIENT6_A, 25010, SERVER6_1, 7000);
	struct pkt_spec seen = pkt_udp(EXT_ADDR6, 25010, SERVER6_1, 7000);
	struct pkt_spec in = error6(SERVER6_1, EXT_ADDR6, 1, 4, &seen);
	struct pkt_spec want = error6(SERVER6_1, CLIENT6_A, 1, 4, &sent);

	nat66_on();
	ASSERT_EQ(out_port(&sent), 25010, "mapping");
	EXPECT(fx.ingress_fd, &in, &want, TC_ACT_OK, "port unreachable");
	ASSERT_EQ(stat_get(&fx, FC_STAT_ICMP_ERROR_TRANSLATED), 1, "counted");
}

TEST(rfc5508_req3_nat66_packet_too_big_translated_mtu_kept)
{
	struct pkt_spec sent = pkt_tcp(CLIENT6_A, 40020, SERVER6_1, 443, 0x10);
	struct pkt_spec seen, in, want;
	uint16_t p;

	nat66_on();
	sent.payload_len = want.payload_len = 1200;
	p = out_port(&sent);
	ASSERT_NE(p, 0, "mapping");
	seen = sent;
	seen.saddr = EXT_ADDR6;
	seen.sport = p;
	in = error6("2001:db8:200::fe", EXT_ADDR6, 2, 0, &seen);
	want = error6("2001:db8:200::fe", CLIENT6_A, 2, 0, &sent);
	in.icmp_mtu = want.icmp_mtu = 1280;
	/* An error carries as much of the packet as fits in 1280 bytes. */
	in.quote_l4_len = want.quote_l4_len = 1280 - 40 - 8 - 40;
	EXPECT(fx.ingress_fd, &in, &want, TC_ACT_OK, "packet too big, MTU 1280");
}

TEST(rfc5508_nat66_time_exceeded_about_echo_with_short_quote)
{
	struct pkt_spec sent = echo6(CLIENT6_A, SERVER6_2, 128, 4242);
	struct pkt_spec seen, in, want;
	uint16_t id;

	nat66_on();
	id = out_port(&sent);
	ASSERT_NE(id, 0, "mapping");
	seen = echo6(EXT_ADDR6, SERVER6_2, 128, id);
	in = error6("2001:db8:200::1", EXT_ADDR6, 3, 0, &seen);
	want = error6("2001:db8:200::1", CLIENT6_A, 3, 0, &sent);
	in.quote_l4_len = want.quote_l4_len = 8;
	EXPECT(fx.ingress_fd, &in, &want, TC_ACT_OK, "time exceeded, 8-byte quote");
}

TEST(rfc5508_nat66_parameter_problem_with_extension_header_in_quote)
{
	struct pkt_spec sent = pkt_udp(CLIENT6_A, 25011, SERVER6_1, 7000);
	struct pkt_spec seen = pkt_udp(EXT_ADDR6, 25011, SERVER6_1, 7000);
	struct pkt_spec in, want;

	nat66_on();
	sent.nr_ext = seen.nr_ext = 1;
	sent.ext_hdrs[0] = seen.ext_hdrs[0] = 60;
	ASSERT_EQ(out_port(&sent), 25011, "mapping");
	in = error6(SERVER6_1, EXT_ADDR6, 4, 1, &seen);
	want = error6(SERVER6_1, CLIENT6_A, 4, 1, &sent);
	in.icmp_pointer = want.icmp_pointer = 40;
	EXPECT(fx.ingress_fd, &in, &want, TC_ACT_OK, "parameter problem, pointer kept");
}

TEST(rfc5508_req4_nat66_outbound_error_from_internal_host)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25012, SERVER6_1, 7000);
	struct pkt_spec came = pkt_udp(SERVER6_1, 7000, CLIENT6_A, 25012);	/* as delivered */
	struct pkt_spec seen = pkt_udp(SERVER6_1, 7000, EXT_ADDR6, 25012);	/* as sent */
	struct pkt_spec in = error6(CLIENT6_A, SERVER6_1, 1, 4, &came);
	struct pkt_spec want = error6(EXT_ADDR6, SERVER6_1, 1, 4, &seen);

	nat66_on();
	ASSERT_EQ(out_port(&out), 25012, "mapping and session");
	EXPECT(fx.egress_fd, &in, &want, TC_ACT_OK, "port unreachable from inside");
}

TEST(rfc5508_nat66_error_without_mapping_dropped_or_passed)
{
	struct pkt_spec seen = pkt_udp(EXT_ADDR6, 25013, SERVER6_1, 7000);
	struct pkt_spec in = error6(SERVER6_1, EXT_ADDR6, 1, 4, &seen);
	struct pkt_spec inner = pkt_udp(SERVER6_1, 7000, CLIENT6_A, 25099);
	struct pkt_spec out = error6(CLIENT6_A, SERVER6_1, 1, 4, &inner);
	struct run_result r;

	nat66_on();
	ASSERT_EQ(run_spec(fx.ingress_fd, &in, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "inbound error about no mapping dropped");
	ASSERT_EQ(run_spec(fx.egress_fd, &out, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "outbound error about no mapping never leaks");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_ICMP_NO_MAPPING), 2, "counted");
}

/* ---- what NAT66 never touches ---------------------------------------- */

TEST(nat66_neighbour_discovery_mld_and_link_local_untouched)
{
	/* Neighbour solicitation to the solicited-node group, and one for
	 * NUD straight to the external address; advertisement back; router
	 * solicitation; MLDv2 report; link-local UDP: the gateway's own on
	 * the way out, anyone's on the way in. */
	struct pkt_spec ns = { .proto = IPPROTO_ICMPV6, .saddr = "fe80::1", .daddr = "ff02::1:ff00:1",
			       .icmp_type = 135, .payload_len = 16, .ttl = 255 };
	struct pkt_spec nud = { .proto = IPPROTO_ICMPV6, .saddr = SERVER6_1, .daddr = EXT_ADDR6,
				.icmp_type = 135, .payload_len = 16, .ttl = 255 };
	struct pkt_spec na = { .proto = IPPROTO_ICMPV6, .saddr = EXT_ADDR6, .daddr = SERVER6_1,
			       .icmp_type = 136, .payload_len = 16, .ttl = 255 };
	struct pkt_spec rs = { .proto = IPPROTO_ICMPV6, .saddr = "fe80::2", .daddr = "ff02::2",
			       .icmp_type = 133, .payload_len = 4, .ttl = 255 };
	struct pkt_spec mld = { .proto = IPPROTO_ICMPV6, .saddr = "fe80::2", .daddr = "ff02::16",
				.icmp_type = 143, .payload_len = 20, .ttl = 1,
				.nr_ext = 1, .ext_hdrs = { 0 } };
	struct pkt_spec ll = pkt_udp("fe80::5", 25020, "fe80::6", 25020);

	nat66_on();
	EXPECT_UNCHANGED(fx.ingress_fd, &ns, TC_ACT_OK, "NS in");
	EXPECT_FROM(fx.egress_fd, &ns, LOCAL_ORIGIN, &ns, TC_ACT_OK, "NS out");
	EXPECT_UNCHANGED(fx.ingress_fd, &nud, TC_ACT_OK, "NS to the external address");
	EXPECT_FROM(fx.egress_fd, &na, LOCAL_ORIGIN, &na, TC_ACT_OK, "NA from the gateway");
	EXPECT_FROM(fx.egress_fd, &rs, LOCAL_ORIGIN, &rs, TC_ACT_OK, "RS");
	EXPECT_FROM(fx.egress_fd, &mld, LOCAL_ORIGIN, &mld, TC_ACT_OK, "MLD report");
	EXPECT_FROM(fx.egress_fd, &ll, LOCAL_ORIGIN, &ll, TC_ACT_OK, "link-local UDP out");
	EXPECT_UNCHANGED(fx.ingress_fd, &ll, TC_ACT_OK, "link-local UDP in");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PASS_IPV6_LINK), 8, "each counted");
	ASSERT_EQ(nr_bindings(&fx) + nr_sessions(&fx), 0, "no state");
}

/* Found by the fuzzer: forwarded packets are judged by their addresses, not
 * their ICMPv6 type. An internal host's informational message of a type
 * above echo, or its multicast datagram (multicast routing), would leave
 * with its internal source: they are dropped. Link-scope packets a router
 * never forwards are dropped too. */
TEST(nat66_forwarded_never_passes_as_link_traffic)
{
	struct pkt_spec info = { .proto = IPPROTO_ICMPV6, .saddr = CLIENT6_A, .daddr = SERVER6_1,
				 .icmp_type = 161, .payload_len = 16 };
	struct pkt_spec na = { .proto = IPPROTO_ICMPV6, .saddr = CLIENT6_A, .daddr = SERVER6_1,
			       .icmp_type = 136, .payload_len = 16, .ttl = 255 };
	struct pkt_spec mc = pkt_udp(CLIENT6_A, 25021, "ff05::fb", 5353);
	struct pkt_spec ll = pkt_udp("fe80::5", 25020, "fe80::6", 25020);
	const struct pkt_spec *all[] = { &info, &na, &mc, &ll };
	struct run_result r;

	nat66_on();
	for (unsigned int i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		ASSERT_EQ(run_spec(fx.egress_fd, all[i], &r), 0, "test run");
		ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped, not passed with its source");
	}
	ASSERT_EQ(stat_get(&fx, FC_STAT_PASS_IPV6_LINK), 0, "none passed as link traffic");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_ICMP_UNSUPPORTED) +
		  stat_get(&fx, FC_STAT_DROP_UNSUPPORTED_PROTO), 4, "each drop counted");
	ASSERT_EQ(nr_bindings(&fx) + nr_sessions(&fx), 0, "no state");
}

TEST(nat66_off_leaves_ipv6_alone)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25022, SERVER6_1, 7000);

	EXPECT_UNCHANGED(fx.egress_fd, &out, TC_ACT_OK, "NAT44 only: IPv6 passes");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PASS_NOT_IPV4), 1, "counted");
	ASSERT_EQ(nr_bindings(&fx), 0, "no state");
}

TEST(nat66_internal_icmpv6_other_than_echo_dropped)
{
	struct pkt_spec reply = echo6(CLIENT6_A, SERVER6_1, 129, 99);
	struct run_result r;

	nat66_on();
	ASSERT_EQ(run_spec(fx.egress_fd, &reply, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "echo reply from inside never leaks");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_ICMP_UNSUPPORTED), 1, "counted");
}

TEST(nat66_gateway_own_traffic)
{
	struct pkt_spec in_range = pkt_udp(EXT_ADDR6, 25023, SERVER6_1, 7000);
	struct pkt_spec service = pkt_udp(EXT_ADDR6, 53, SERVER6_1, 7000);
	struct fc_endpoint_key ik = fx_int_key(FC_AF_INET6, FC_AF_INET6, IPPROTO_UDP, EXT_ADDR6, 25023);
	struct fc_binding b;

	nat66_on();
	EXPECT_FROM(fx.egress_fd, &in_range, LOCAL_ORIGIN, &in_range, TC_ACT_OK,
		    "gateway socket on a port of the range");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "mapped");
	ASSERT_EQ(b.flags & FC_BINDING_ROUTER, FC_BINDING_ROUTER, "as the gateway's");
	EXPECT_FROM(fx.egress_fd, &service, LOCAL_ORIGIN, &service, TC_ACT_OK,
		    "a gateway service keeps its port");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PASS_NOT_OURS), 1, "counted");
}

/* ---- fragments (RFC 4787 REQ-13/14 for IPv6) ------------------------- */

static void frag6(struct pkt_spec *s, uint16_t off_mf, uint32_t id)
{
	s->nr_ext = 1;
	s->ext_hdrs[0] = 44;
	s->frag6 = off_mf;
	s->frag6_id = id;
}

TEST(rfc4787_req13_nat66_outbound_non_first_fragment_statelessly)
{
	struct pkt_spec frag = pkt_udp(CLIENT6_A, 0, SERVER6_1, 0);
	struct pkt_spec want = pkt_udp(EXT_ADDR6, 0, SERVER6_1, 0);

	nat66_on();
	frag6(&frag, 1448, 0xabcd0001);
	frag6(&want, 1448, 0xabcd0001);
	EXPECT(fx.egress_fd, &frag, &want, TC_ACT_OK, "last fragment, no first seen");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_TRANSLATED), 1, "counted");
}

TEST(rfc4787_req13_nat66_inbound_fragments_follow_first_by_32bit_id)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25030, SERVER6_1, 7000);
	struct pkt_spec first = pkt_udp(SERVER6_1, 7000, EXT_ADDR6, 25030);
	struct pkt_spec first_want = pkt_udp(SERVER6_1, 7000, CLIENT6_A, 25030);
	struct pkt_spec rest = pkt_udp(SERVER6_1, 0, EXT_ADDR6, 0);
	struct pkt_spec rest_want = pkt_udp(SERVER6_1, 0, CLIENT6_A, 0);
	struct pkt_spec other = pkt_udp(SERVER6_1, 0, EXT_ADDR6, 0);

	nat66_on();
	ASSERT_EQ(out_port(&out), 25030, "mapping");
	frag6(&first, 1, 0x11114242);
	frag6(&first_want, 1, 0x11114242);
	frag6(&rest, 1232, 0x11114242);
	frag6(&rest_want, 1232, 0x11114242);
	EXPECT(fx.ingress_fd, &first, &first_want, TC_ACT_OK, "first fragment");
	EXPECT(fx.ingress_fd, &rest, &rest_want, TC_ACT_OK, "last fragment of the train");
	/* Same low 16 bits of the identification, another train. */
	frag6(&other, 1232, 0x22224242);
	EXPECT_UNCHANGED(fx.ingress_fd, &other, TC_ACT_OK, "other train left to the stack");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_TRANSLATED), 1, "one follower translated");
}

TEST(rfc4787_req14_nat66_fragment_before_first_held_and_reinjected)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25031, SERVER6_1, 7000);
	struct pkt_spec first = pkt_udp(SERVER6_1, 7000, EXT_ADDR6, 25031);
	struct pkt_spec rest = pkt_udp(SERVER6_1, 0, EXT_ADDR6, 0);
	struct pkt_spec rest_want = pkt_udp(SERVER6_1, 0, CLIENT6_A, 0);
	struct run_result r;

	nat66_on();
	ASSERT_EQ(out_port(&out), 25031, "mapping");
	frag6(&first, 1, 0x77);
	frag6(&rest, 1232, 0x77);
	frag6(&rest_want, 1232, 0x77);
	EXPECT_UNCHANGED(fx.ingress_fd, &rest, TC_ACT_OK, "early fragment, passed and held");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_HELD), 1, "held");
	ASSERT_EQ(run_spec(fx.ingress_fd, &first, &r), 0, "first fragment");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "sent on as a copy ahead of the held one");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_REINJECTED), 1, "held copy re-injected");
	EXPECT(fx.ingress_fd, &rest, &rest_want, TC_ACT_OK, "re-injected fragment now translated");
}

TEST(nat66_and_nat44_share_nothing_but_the_engine)
{
	struct pkt_spec v6 = pkt_udp(CLIENT6_A, 25040, SERVER6_1, 7000);
	struct pkt_spec v4 = { .proto = IPPROTO_UDP, .saddr = CLIENT_A, .sport = 25040,
			       .daddr = SERVER_1, .dport = 7000, .payload_len = 30 };
	struct pkt_spec v4_want = v4;

	nat66_on();
	ASSERT_EQ(out_port(&v6), 25040, "IPv6 mapping keeps its port");
	/* The IPv4 port space is another: the same port is free there. */
	v4_want.saddr = EXT_ADDR;
	EXPECT(fx.egress_fd, &v4, &v4_want, TC_ACT_OK, "IPv4 keeps the same port too");
	ASSERT_EQ(nr_bindings(&fx), 4, "two mappings");
}

/* ---- expiry: the sweeper serves IPv6 mappings as IPv4 ones ------------ */

TEST(gc_rfc4787_req5_nat66_mapping_kept_then_expires)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25050, SERVER6_1, 7000);
	struct gc_result res;
	uint64_t t;

	nat66_on();
	ASSERT_EQ(out_port(&out), 25050, "mapping");
	t = now_ns();
	ASSERT_EQ(fixture_sweep(&fx, t, &res), 0, "sweep");
	ASSERT_EQ(res.mappings_live, 1, "live mapping");
	ASSERT_EQ(res.orphans_removed, 0, "both halves found each other");
	ASSERT_EQ(nr_bindings(&fx), 2, "kept");
	ASSERT_EQ(fixture_sweep(&fx, t + 301 * 1000000000ULL, &res), 0, "sweep");
	ASSERT_EQ(res.mappings_expired, 1, "expired after the UDP timeout");
	ASSERT_EQ(nr_bindings(&fx) + nr_sessions(&fx), 0, "all gone, port free");
}

/*
 * NAT66 hairpinning: IPv6 from inside to the external IPv6 address and a
 * mapped port, on the ingress of the internal interface int0 (the hairpin
 * program, and the TC fast path's program of --lan-if), is sent straight
 * to the mapped host with both ends translated. Each test gives int0
 * fd00:77::1/64 and the MACs of CLIENT6_A and CLIENT6_B, and turns IPv6
 * forwarding on, for the FIB; and takes them away again (test_nat64.c's
 * tests expect the namespace without them, and make the same).
 */
static int lan6_down(void)
{
	return system("ip -6 neigh del " CLIENT6_A " dev int0 2>/dev/null; "
		      "ip -6 neigh del " CLIENT6_B " dev int0 2>/dev/null; "
		      "ip -6 addr del fd00:77::1/64 dev int0 2>/dev/null; "
		      "sysctl -qw net.ipv6.conf.all.forwarding=0");
}

static int lan6_up(void)
{
	lan6_down();	/* whatever a failed test left */
	return system("ip -6 addr add fd00:77::1/64 dev int0 nodad && "
		      "ip -6 neigh add " CLIENT6_A " lladdr 02:00:00:00:02:02 dev int0 nud permanent && "
		      "ip -6 neigh add " CLIENT6_B " lladdr 02:00:00:00:02:03 dev int0 nud permanent && "
		      "sysctl -qw net.ipv6.conf.all.forwarding=1");
}

static int run_int0(int prog_fd, const struct pkt_spec *in, struct run_result *r)
{
	struct __sk_buff ctx = { .ifindex = fx.int_ifindex, .ingress_ifindex = fx.int_ifindex };
	uint8_t buf[PKT_MAX];

	return run_prog_ctx(prog_fd, buf, pkt_build(in, buf), &ctx, r);
}

#define EXPECT_INT0(prog_fd, in, want, verdict, what)			\
	do {								\
		struct run_result _r;					\
		uint8_t _w[PKT_MAX];					\
		size_t _wl = pkt_build(want, _w);			\
		ASSERT_EQ(run_int0(prog_fd, in, &_r), 0, what ": test run"); \
		ASSERT_EQ(_r.ret, verdict, what ": verdict");		\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what);	\
	} while (0)

/* Sent out of int0 to a client: the FIB's MACs, the hop limit down by one. */
static struct pkt_spec to_client(struct pkt_spec s, const uint8_t *mac)
{
	s.smac = FX_INT0_MAC;
	s.dmac = mac;
	s.ttl = 63;
	return s;
}

static void nat66_hairpin_udp_both_ways(int prog_fd)
{
	struct pkt_spec b_out = pkt_udp(CLIENT6_B, 25500, SERVER6_1, 7000);
	struct pkt_spec a_to_b = pkt_udp(CLIENT6_A, 25600, EXT_ADDR6, 25500);
	struct pkt_spec want = to_client(pkt_udp(EXT_ADDR6, 25600, CLIENT6_B, 25500), FX_CLIENT_B_MAC);
	struct pkt_spec b_to_a = pkt_udp(CLIENT6_B, 25500, EXT_ADDR6, 25600);
	struct pkt_spec back = to_client(pkt_udp(EXT_ADDR6, 25500, CLIENT6_A, 25600), FX_CLIENT_A_MAC);
	struct pkt_spec a_out = pkt_udp(CLIENT6_A, 25600, SERVER6_2, 7000);
	struct fc_endpoint_key ik = fx_int_key(FC_AF_INET6, FC_AF_INET6, IPPROTO_UDP, CLIENT6_A, 25600);
	struct fc_binding b;
	uint8_t ext[16];

	nat66_on();
	ASSERT_EQ(lan6_up(), 0, "int0 with IPv6");
	ASSERT_EQ(out_port(&b_out), 25500, "B's mapping, through the external egress");
	EXPECT_INT0(prog_fd, &a_to_b, &want, TC_ACT_REDIRECT, "A to B's mapping");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TRANSLATED), 1, "counted");
	/* A got its mapping (EIM: the one it has outside too) and a session
	 * on it; B's mapping a session with A's external endpoint. */
	ip6(EXT_ADDR6, ext);
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "A's mapping made");
	ASSERT_EQ(memcmp(b.addr.v6, ext, 16), 0, "on the external IPv6 address");
	ASSERT_EQ(ntohs(b.port), 25600, "A's port kept");
	ASSERT_EQ(nr_bindings(&fx), 4, "two mappings, two entries each");
	ASSERT_EQ(nr_sessions(&fx), 3, "B-server, A-B's mapping, B-A's mapping");
	EXPECT_INT0(prog_fd, &b_to_a, &back, TC_ACT_REDIRECT, "B's answer to A's mapping");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TRANSLATED), 2, "counted");
	ASSERT_EQ(nr_sessions(&fx), 3, "the same sessions, refreshed");
	ASSERT_EQ(out_port(&a_out), 25600, "A's mapping, reused outside");
	ASSERT_EQ(lan6_down(), 0, "int0 back without IPv6");
}

TEST(rfc4787_req9_nat66_udp_hairpin_translates_both_ends_and_redirects)
{
	nat66_hairpin_udp_both_ways(fx.lan_fd);
}

TEST(rfc4787_req9_nat66_udp_hairpin_on_tc_fast_path_program)
{
	nat66_hairpin_udp_both_ways(fx.fast_int_fd);
}

TEST(rfc5382_req8_nat66_tcp_hairpin_translates_both_ends)
{
	struct pkt_spec b_out = pkt_tcp(CLIENT6_B, 25500, SERVER6_1, 80, 0x02);
	struct pkt_spec syn = pkt_tcp(CLIENT6_A, 40000, EXT_ADDR6, 25500, 0x02);
	struct pkt_spec want = syn, synack, synack_want;
	struct fc_endpoint_key ik = fx_int_key(FC_AF_INET6, FC_AF_INET6, IPPROTO_TCP, CLIENT6_A, 40000);
	struct fc_binding b;
	uint16_t a_port;

	nat66_on();
	ASSERT_EQ(lan6_up(), 0, "int0 with IPv6");
	{
		struct run_result r;

		ASSERT_EQ(run_int0(fx.lan_fd, &syn, &r), 0, "test run");
		ASSERT_EQ(r.ret, TC_ACT_SHOT, "no TCP mapping of B yet: unsolicited");
	}
	ASSERT_EQ(out_port(&b_out), 25500, "B's TCP mapping");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "A's mapping (made on the first try)");
	a_port = ntohs(b.port);
	ASSERT_TRUE(a_port >= 20000 && a_port <= 29999, "A's port 40000 moved into the range");
	want.saddr = EXT_ADDR6;
	want.sport = a_port;
	want.daddr = CLIENT6_B;
	want = to_client(want, FX_CLIENT_B_MAC);
	EXPECT_INT0(fx.lan_fd, &syn, &want, TC_ACT_REDIRECT, "SYN hairpinned");
	synack = pkt_tcp(CLIENT6_B, 25500, EXT_ADDR6, a_port, 0x12);
	synack_want = to_client(pkt_tcp(EXT_ADDR6, 25500, CLIENT6_A, 40000, 0x12), FX_CLIENT_A_MAC);
	EXPECT_INT0(fx.lan_fd, &synack, &synack_want, TC_ACT_REDIRECT, "SYN-ACK back to A");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TRANSLATED), 2, "counted");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 1, "the early SYN");
	ASSERT_EQ(lan6_down(), 0, "int0 back without IPv6");
}

TEST(rfc4787_req9_nat66_hairpin_to_unmapped_port_of_range_dropped)
{
	struct pkt_spec in = pkt_udp(CLIENT6_A, 25600, EXT_ADDR6, 25999);
	struct run_result r;

	nat66_on();
	ASSERT_EQ(lan6_up(), 0, "int0 with IPv6");
	ASSERT_EQ(run_int0(fx.lan_fd, &in, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 1, "counted as unsolicited");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TRANSLATED), 0, "not hairpinned");
	ASSERT_EQ(nr_sessions(&fx), 1, "only A's session towards the port (A's mapping is EIM's)");
	ASSERT_EQ(lan6_down(), 0, "int0 back without IPv6");
}

TEST(nat66_hairpin_decrements_hop_limit_and_answers_expiry_with_time_exceeded)
{
	struct pkt_spec b_out = pkt_udp(CLIENT6_B, 25500, SERVER6_1, 7000);
	struct pkt_spec two = pkt_udp(CLIENT6_A, 25600, EXT_ADDR6, 25500);
	struct pkt_spec two_want = to_client(pkt_udp(EXT_ADDR6, 25600, CLIENT6_B, 25500), FX_CLIENT_B_MAC);
	struct pkt_spec one, te;

	nat66_on();
	ASSERT_EQ(lan6_up(), 0, "int0 with IPv6");
	ASSERT_EQ(out_port(&b_out), 25500, "B's mapping");
	two.ttl = 2;
	two_want.ttl = 1;
	EXPECT_INT0(fx.lan_fd, &two, &two_want, TC_ACT_REDIRECT, "hop limit 2: forwarded with 1");
	one = two;
	one.ttl = 1;
	/* RFC 4443 §3.3: from the gateway's address on int0, quoting the
	 * packet as A sent it; sent back out of int0 to A. */
	te = error6("fd00:77::1", CLIENT6_A, 3, 0, &one)	/* time exceeded, hop limit */;
	te.smac = FX_INT0_MAC;
	te.dmac = FX_CLIENT_A_MAC;
	EXPECT_INT0(fx.lan_fd, &one, &te, TC_ACT_REDIRECT, "hop limit 1: time exceeded");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TIME_EXCEEDED), 1, "counted");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TRANSLATED), 1, "only the first hairpinned");
	ASSERT_EQ(lan6_down(), 0, "int0 back without IPv6");
}

TEST(rfc7857_s12_nat66_echo_to_external_address_is_the_gateways)
{
	struct pkt_spec b_ping = echo6(CLIENT6_B, SERVER6_1, 128, 25500);
	struct pkt_spec a_ping = echo6(CLIENT6_A, EXT_ADDR6, 128, 25500);

	nat66_on();
	ASSERT_EQ(lan6_up(), 0, "int0 with IPv6");
	ASSERT_EQ(out_port(&b_ping), 25500, "B's echo id mapping");
	/* A request names no host behind a shared address: the gateway
	 * answers it, whatever its id (doc/design/hairpin.md). */
	EXPECT_INT0(fx.lan_fd, &a_ping, &a_ping, TC_ACT_OK, "ping of the external address");
	ASSERT_EQ(nr_bindings(&fx), 2, "no mapping made for A");
	ASSERT_EQ(lan6_down(), 0, "int0 back without IPv6");
}

TEST(nat66_hairpin_leaves_other_ipv6_alone)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25600, SERVER6_1, 53);
	struct pkt_spec svc = pkt_udp(CLIENT6_A, 5353, EXT_ADDR6, 53);
	struct pkt_spec ll = pkt_udp("fe80::2", 25600, EXT_ADDR6, 25500);

	nat66_on();
	ASSERT_EQ(lan6_up(), 0, "int0 with IPv6");
	EXPECT_INT0(fx.lan_fd, &out, &out, TC_ACT_OK, "to the outside: routed as usual");
	EXPECT_INT0(fx.lan_fd, &svc, &svc, TC_ACT_OK, "to a gateway service (port outside the range)");
	EXPECT_INT0(fx.lan_fd, &ll, &ll, TC_ACT_OK, "link-local source: the gateway's");
	ASSERT_EQ(nr_bindings(&fx), 0, "no mapping made");
	ASSERT_EQ(lan6_down(), 0, "int0 back without IPv6");
}

TEST(nat66_hairpin_to_gateway_process_mapping_delivers_locally)
{
	struct pkt_spec gw_out = pkt_udp(EXT_ADDR6, 25030, SERVER6_1, 7000);
	struct pkt_spec a = pkt_udp(CLIENT6_A, 25600, EXT_ADDR6, 25030);
	struct fc_endpoint_key ik = fx_int_key(FC_AF_INET6, FC_AF_INET6, IPPROTO_UDP, EXT_ADDR6, 25030);
	struct fc_binding b;
	struct run_result r;
	uint8_t buf[PKT_MAX];

	nat66_on();
	ASSERT_EQ(lan6_up(), 0, "int0 with IPv6");
	ASSERT_EQ(run_prog_from(fx.egress_fd, buf, pkt_build(&gw_out, buf), LOCAL_ORIGIN, &r), 0,
		  "gateway process out");
	ASSERT_EQ(r.ret, TC_ACT_OK, "sent");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "the process's mapping");
	ASSERT_EQ(b.flags & FC_BINDING_ROUTER, FC_BINDING_ROUTER, "marked as the gateway's");
	/* Up the stack to the process, with A's real source (no lo variant
	 * for IPv6). */
	EXPECT_INT0(fx.lan_fd, &a, &a, TC_ACT_OK, "A to the process's mapping");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TRANSLATED), 1, "counted");
	ASSERT_EQ(lan6_down(), 0, "int0 back without IPv6");
}
