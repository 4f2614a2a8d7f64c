// SPDX-License-Identifier: GPL-2.0
/*
 * NAT64 in the XDP fast path (bpf/lib/fwd64.h) through BPF_PROG_TEST_RUN on
 * the XDP programs: IPv6 to 64:ff9b::/96 on int0 (fc_xdp_int) leaves as
 * IPv4 out of ext0, IPv4 to a NAT64 mapping on ext0 (fc_xdp_ext) leaves as
 * IPv6 to the host behind int0, both with the next hop's MACs and the hop
 * limit / TTL one less. Every output is compared whole with a packet
 * pkt_build makes from the RFC 7915 rules (addresses under the prefix, TTL
 * = hop limit, traffic class = TOS, checksums from scratch); the IPv4
 * Identification of a DF-clear packet, chosen at random, is read from the
 * output. What the fast path cannot finish must pass untouched (XDP_PASS)
 * and be counted under why; TC translates it then (test_nat64.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "nat64_expect.h"

#define XDP_DROP_	1
#define XDP_PASS_	2
#define XDP_REDIRECT_	4

/* NAT64 on, the IPv6 network behind int0 routed (mtu6: its route's MTU,
 * 0: int0's). */
static int xnat64_on(int mtu6)
{
	nat64_prefix_set();
	fixture_apply(&fx);
	return ipv6_side_up(mtu6);
}

/* in through the program; its verdict and output. */
static int xrun(int prog_fd, int ifindex, const struct pkt_spec *in, struct run_result *r)
{
	uint8_t buf[PKT_MAX];

	return run_xdp(prog_fd, buf, pkt_build(in, buf), ifindex, r);
}

/* Outbound on int0: redirected, and want exactly (its IPv4 ID taken from
 * the output). */
#define XOUT(in, want, what)							\
	do {									\
		struct run_result _r;						\
		uint8_t _w[PKT_MAX];						\
		size_t _wl;							\
		ASSERT_EQ(xrun(fx.xdp_int_fd, fx.int_ifindex, in, &_r), 0, what ": run"); \
		ASSERT_EQ(_r.ret, XDP_REDIRECT_, what ": redirected");	\
		ASSERT_EQ(_r.out_len > 34, 1, what ": output");		\
		take_ip_id(&_r, want);						\
		_wl = pkt_build(want, _w);					\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what);		\
	} while (0)

/* On ext0 (ext) or int0: verdict, and want exactly. */
#define XRUN(ext, in, want, verdict, what)					\
	do {									\
		struct run_result _r;						\
		uint8_t _w[PKT_MAX];						\
		size_t _wl = pkt_build(want, _w);				\
		ASSERT_EQ(xrun((ext) ? fx.xdp_ext_fd : fx.xdp_int_fd,		\
			       (ext) ? fx.ext_ifindex : fx.int_ifindex, in, &_r), 0, what ": run"); \
		ASSERT_EQ(_r.ret, verdict, what ": verdict");			\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what);		\
	} while (0)

#define XIN(in, want, what)	XRUN(1, in, want, XDP_REDIRECT_, what)
/* Left to the stack and TC: untouched, counted under why. */
#define XPASS(ext, in, why, what)						\
	do {									\
		uint64_t _before = stat_get(&fx, why);				\
		XRUN(ext, in, in, XDP_PASS_, what);				\
		ASSERT_EQ(stat_get(&fx, why), _before + 1, what ": counted");	\
	} while (0)

/* As the gateway forwards it: out of ext0 to SERVER_1, out of int0 to
 * CLIENT6_A; TTL (hop limit) 63. */
static struct pkt_spec to_server1(struct pkt_spec s)
{
	return fx_hop(s, FX_EXT0_MAC, FX_SERVER1_MAC);
}

static struct pkt_spec to_client6(struct pkt_spec s)
{
	return fx_hop(s, FX_INT0_MAC, FX_CLIENT_A_MAC);
}

/* The external port (ICMP: identifier) an outbound packet got in XDP. */
static uint16_t xout_port(const struct pkt_spec *in)
{
	struct run_result r;

	if (xrun(fx.xdp_int_fd, fx.int_ifindex, in, &r) || r.ret != XDP_REDIRECT_ ||
	    r.out_len < 14 + 20 + 8)
		return 0;
	if (in->proto == IPPROTO_ICMPV6)
		return (r.out[38] << 8) | r.out[39];
	return (r.out[34] << 8) | r.out[35];
}

/* RFC 6146 §3.5.1, RFC 7915 §5.1 and §4.1: UDP out and back in, both in
 * XDP, never through TC (the fast-path counters). */
TEST(xdp_nat64_rfc6146_s3_5_1_udp_out_and_in_whole_packets)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25100, SERVER_1_64, 7000);
	struct pkt_spec out4 = to_server1(pkt_udp(EXT_ADDR, 25100, SERVER_1, 7000));
	struct pkt_spec in = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25100);
	struct pkt_spec in6 = to_client6(pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25100));

	ASSERT_EQ(xnat64_on(0), 0, "NAT64 and the IPv6 side up");
	XOUT(&out, &out4, "UDP 6->4 in XDP");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_NAT64_OUT), 1, "fast_nat64_out");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_OUT), 1, "nat64_out");
	ASSERT_EQ(nr_bindings(&fx), 2, "one mapping, made in XDP");
	ASSERT_EQ(nr_sessions(&fx), 1, "one session");
	XIN(&in, &in6, "UDP 4->6 in XDP");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_NAT64_IN), 1, "fast_nat64_in");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 1, "nat64_in");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_REDIRECTED), 2, "both redirected");
}

/* RFC 4787 REQ-8 (EIF) through a NAT64 mapping: a host never contacted. */
TEST(xdp_nat64_rfc4787_req8_eif_stranger_in)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25101, SERVER_1_64, 7000);
	struct pkt_spec in = pkt_udp(SERVER_2, 9999, EXT_ADDR, 25101);
	struct pkt_spec in6 = to_client6(pkt_udp(SERVER_2_64, 9999, CLIENT6_A, 25101));

	ASSERT_EQ(xnat64_on(0), 0, "NAT64 and the IPv6 side up");
	ASSERT_EQ(xout_port(&out), 25101, "mapping");
	XIN(&in, &in6, "unsolicited host, full cone");
}

/* RFC 6146 §3.5.2: TCP, the SYN out and the SYN-ACK in. */
TEST(xdp_nat64_rfc6146_s3_5_2_tcp_both_ways_whole_packets)
{
	struct pkt_spec syn = pkt_tcp(CLIENT6_A, 25102, SERVER_1_64, 80, 0x02);
	struct pkt_spec syn4 = to_server1(pkt_tcp(EXT_ADDR, 25102, SERVER_1, 80, 0x02));
	struct pkt_spec synack = pkt_tcp(SERVER_1, 80, EXT_ADDR, 25102, 0x12);
	struct pkt_spec synack6 = to_client6(pkt_tcp(SERVER_1_64, 80, CLIENT6_A, 25102, 0x12));

	ASSERT_EQ(xnat64_on(0), 0, "NAT64 and the IPv6 side up");
	XOUT(&syn, &syn4, "SYN 6->4");
	XIN(&synack, &synack6, "SYN-ACK 4->6");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_NAT64_OUT), 1, "fast_nat64_out");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_NAT64_IN), 1, "fast_nat64_in");
}

/* RFC 6146 §3.5.3, RFC 7915 §4.2/§5.2: echo request out (type 128 -> 8,
 * identifier mapped), echo reply in (0 -> 129, identifier put back). */
TEST(xdp_nat64_rfc6146_s3_5_3_echo_request_out_reply_in)
{
	struct pkt_spec req = pkt_echo(CLIENT6_A, SERVER_1_64, IPPROTO_ICMPV6, 128, 0x4242);
	struct pkt_spec req4, rep, rep6;
	struct run_result r;
	uint16_t id;

	ASSERT_EQ(xnat64_on(0), 0, "NAT64 and the IPv6 side up");
	ASSERT_EQ(xrun(fx.xdp_int_fd, fx.int_ifindex, &req, &r), 0, "first request");
	ASSERT_EQ(r.ret, XDP_REDIRECT_, "redirected");
	id = (r.out[38] << 8) | r.out[39];
	req4 = to_server1(pkt_echo(EXT_ADDR, SERVER_1, IPPROTO_ICMP, 8, id));
	XOUT(&req, &req4, "echo request 6->4");
	rep = pkt_echo(SERVER_1, EXT_ADDR, IPPROTO_ICMP, 0, id);
	rep6 = to_client6(pkt_echo(SERVER_1_64, CLIENT6_A, IPPROTO_ICMPV6, 129, 0x4242));
	XIN(&rep, &rep6, "echo reply 4->6");
	ASSERT_EQ(nr_bindings(&fx), 2, "one ICMP mapping");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_NAT64_OUT), 2, "both requests in XDP");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_NAT64_IN), 1, "the reply in XDP");
}

/* RFC 7915 §4.1/§5.1: the TOS and traffic class as --nat64-tos sets them,
 * a DF-set packet's DF (over 1260 bytes as IPv4: DF set, ID 0 allowed). */
TEST(xdp_nat64_rfc7915_tos_and_df_as_tc)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25103, SERVER_1_64, 7000);
	struct pkt_spec out4 = to_server1(pkt_udp(EXT_ADDR, 25103, SERVER_1, 7000));
	struct pkt_spec in = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25103);
	struct pkt_spec in6 = to_client6(pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25103));

	ASSERT_EQ(xnat64_on(0), 0, "NAT64 and the IPv6 side up");
	out.tclass = 0xb8;
	out.payload_len = out4.payload_len = 1300;	/* 1328 as IPv4: DF */
	out4.tclass = 0xb8;	/* IPv4: the TOS byte */
	out4.frag = 0x4000;
	XOUT(&out, &out4, "traffic class -> TOS, DF over 1260");
	in.tclass = 0x28;
	in.frag = 0x4000;
	in6.tclass = 0x28;
	XIN(&in, &in6, "TOS -> traffic class, DF dropped, flow label 0");
}

/* Not to the prefix, or NAT64 off: IPv6 passes as before. */
TEST(xdp_nat64_other_ipv6_and_nat64_off_pass)
{
	struct pkt_spec other = pkt_udp(CLIENT6_A, 25104, "2001:db8::9", 7000);
	struct pkt_spec to64 = pkt_udp(CLIENT6_A, 25104, SERVER_1_64, 7000);

	fixture_apply(&fx);
	XPASS(0, &to64, FC_STAT_FAST_PASS_NOT_IPV4, "NAT64 off");
	ASSERT_EQ(xnat64_on(0), 0, "NAT64 and the IPv6 side up");
	XPASS(0, &other, FC_STAT_FAST_PASS_NOT_IPV4, "not to the prefix");
	ASSERT_EQ(nr_bindings(&fx), 0, "no mapping");
}

/* RFC 7915 §5.1.1 / §4.1: fragments are TC's, either way. */
TEST(xdp_nat64_fragments_pass_untouched)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25105, SERVER_1_64, 7000);
	struct pkt_spec frag6 = pkt_udp(CLIENT6_A, 25105, SERVER_1_64, 7000);
	struct pkt_spec frag4 = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25105);

	ASSERT_EQ(xnat64_on(0), 0, "NAT64 and the IPv6 side up");
	ASSERT_EQ(xout_port(&out), 25105, "mapping");
	frag6.ext_hdrs[0] = 44;
	frag6.nr_ext = 1;
	frag6.frag6 = 1;	/* first fragment, M set */
	XPASS(0, &frag6, FC_STAT_FAST_PASS_SLOW_PATH, "IPv6 first fragment");
	frag4.frag = 0x2000;	/* MF */
	XPASS(1, &frag4, FC_STAT_FAST_PASS_SLOW_PATH, "IPv4 first fragment");
}

/* Extension headers and other ICMPv6: TC's. */
TEST(xdp_nat64_extension_header_and_echo_reply_out_pass)
{
	struct pkt_spec dopt = pkt_udp(CLIENT6_A, 25106, SERVER_1_64, 7000);
	struct pkt_spec rep = pkt_echo(CLIENT6_A, SERVER_1_64, IPPROTO_ICMPV6, 129, 0x77);

	ASSERT_EQ(xnat64_on(0), 0, "NAT64 and the IPv6 side up");
	dopt.ext_hdrs[0] = 60;
	dopt.nr_ext = 1;
	XPASS(0, &dopt, FC_STAT_FAST_PASS_SLOW_PATH, "destination options");
	XPASS(0, &rep, FC_STAT_FAST_PASS_SLOW_PATH, "echo reply from inside");
	ASSERT_EQ(nr_bindings(&fx), 0, "no mapping made");
}

/* Hop limit 1 out, TTL 1 in: expiring here, the stack's (and TC's). */
TEST(xdp_nat64_hop_limit_and_ttl_1_pass)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25107, SERVER_1_64, 7000);
	struct pkt_spec hl1 = out;
	struct pkt_spec ttl1 = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25107);

	ASSERT_EQ(xnat64_on(0), 0, "NAT64 and the IPv6 side up");
	hl1.ttl = 1;
	XPASS(0, &hl1, FC_STAT_FAST_PASS_TTL, "hop limit 1");
	ASSERT_EQ(nr_bindings(&fx), 0, "no mapping made for it");
	ASSERT_EQ(xout_port(&out), 25107, "mapping");
	ttl1.ttl = 1;
	XPASS(1, &ttl1, FC_STAT_FAST_PASS_TTL, "TTL 1");
}

/* Too big for the egress: TC answers (Packet Too Big, Fragmentation
 * Needed) or splits a DF-clear packet (RFC 7915 §4.1). */
TEST(xdp_nat64_too_big_pass)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25108, SERVER_1_64, 7000);
	struct pkt_spec big6 = out;
	struct pkt_spec df = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25108);
	struct pkt_spec nodf = df;
	char cmd[128];

	ASSERT_EQ(xnat64_on(1280), 0, "NAT64, the IPv6 route of MTU 1280");
	ASSERT_EQ(xout_port(&out), 25108, "mapping");
	df.frag = 0x4000;
	df.payload_len = 1280 - 40 - 8 + 1;	/* one byte over as IPv6 */
	XPASS(1, &df, FC_STAT_FAST_PASS_MTU, "DF, too big for the IPv6 route");
	nodf.payload_len = 1280 - 40 - 8 + 1;
	XPASS(1, &nodf, FC_STAT_FAST_PASS_MTU, "DF clear over 1280 as IPv6: TC splits");
	fixture_defer(&fx, "ip route del " SERVER_1 "/32 dev ext0 2>/dev/null");
	snprintf(cmd, sizeof(cmd), "ip route replace " SERVER_1 "/32 dev ext0 mtu lock 1000");
	ASSERT_EQ(system(cmd), 0, "IPv4 route of MTU 1000");
	big6.payload_len = 1000;	/* 1028 as IPv4 */
	XPASS(0, &big6, FC_STAT_FAST_PASS_MTU, "too big for the IPv4 route");
}

/* No neighbour entry for the next hop: the stack resolves it. */
TEST(xdp_nat64_no_neighbour_pass)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25109, STRANGER_64, 7000);

	ASSERT_EQ(xnat64_on(0), 0, "NAT64 and the IPv6 side up");
	XPASS(0, &out, FC_STAT_FAST_PASS_NO_NEIGH, "STRANGER has no neighbour entry");
	ASSERT_EQ(nr_bindings(&fx), 2, "the mapping made, as TC would, for TC to find");
}

/* No mapping inbound: dropped as unsolicited, as TC drops it. */
TEST(xdp_nat64_no_mapping_in_dropped_as_tc)
{
	struct pkt_spec in = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25110);

	ASSERT_EQ(xnat64_on(0), 0, "NAT64 and the IPv6 side up");
	XRUN(1, &in, &in, XDP_DROP_, "unsolicited");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 1, "drop_unsolicited");
}

/* One engine, one state: TC translates the reply to a mapping XDP made,
 * as it would its own (hop limit left to the stack). */
TEST(xdp_nat64_mapping_made_in_xdp_used_by_tc)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25111, SERVER_1_64, 7000);
	struct pkt_spec in = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25111);
	struct pkt_spec in6 = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25111);

	ASSERT_EQ(xnat64_on(0), 0, "NAT64 and the IPv6 side up");
	ASSERT_EQ(xout_port(&out), 25111, "mapping made in XDP");
	EXPECT_EXT(&in, &in6, TC_ACT_OK, "TC ingress translates it");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_NAT64_IN), 0, "not by XDP");
}

/* ICMP errors either way (their quotes translated too, RFC 7915 §4.2/§5.2):
 * TC's. */
TEST(xdp_nat64_icmp_errors_pass_untouched)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25112, SERVER_1_64, 7000);
	struct pkt_spec sent4 = pkt_udp(EXT_ADDR, 25112, SERVER_1, 7000);
	struct pkt_spec from_server = pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25112);
	struct pkt_spec err4 = { .proto = IPPROTO_ICMP, .saddr = SERVER_1, .daddr = EXT_ADDR,
				 .icmp_type = 3, .icmp_code = 3, .quote = &sent4 };
	struct pkt_spec err6 = { .proto = IPPROTO_ICMPV6, .saddr = CLIENT6_A,
				 .daddr = SERVER_1_64, .icmp_type = 1, .icmp_code = 4,
				 .quote = &from_server };

	ASSERT_EQ(xnat64_on(0), 0, "NAT64 and the IPv6 side up");
	ASSERT_EQ(xout_port(&out), 25112, "mapping");
	XPASS(1, &err4, FC_STAT_FAST_PASS_SLOW_PATH, "ICMPv4 port unreachable in");
	XPASS(0, &err6, FC_STAT_FAST_PASS_SLOW_PATH, "ICMPv6 port unreachable out");
}

/* NAT64 without NAT44 (--nat66 --nat64, say): the inbound half still finds
 * NAT64's mappings, as nat4_ingress does; IPv4 from inside is not
 * translated. */
TEST(xdp_nat64_without_nat44_both_ways)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25113, SERVER_1_64, 7000);
	struct pkt_spec out4 = to_server1(pkt_udp(EXT_ADDR, 25113, SERVER_1, 7000));
	struct pkt_spec in = pkt_udp(SERVER_1, 7000, EXT_ADDR, 25113);
	struct pkt_spec in6 = to_client6(pkt_udp(SERVER_1_64, 7000, CLIENT6_A, 25113));
	struct pkt_spec v4 = pkt_udp(CLIENT_A, 25113, SERVER_1, 7000);

	fx.opts.nat44 = false;
	ASSERT_EQ(xnat64_on(0), 0, "NAT64 alone and the IPv6 side up");
	XOUT(&out, &out4, "UDP 6->4");
	XIN(&in, &in6, "UDP 4->6");
	XRUN(0, &v4, &v4, XDP_PASS_, "IPv4 from inside: not NAT44's to translate");
	ASSERT_EQ(stat_get(&fx, FC_STAT_OUT_TRANSLATED), 0, "no NAT44");
}

/* RFC 4787 REQ-9 with RFC 6146 §3.8: an IPv4 host's packet to a NAT64
 * mapping at the external address is TC's (the translation does not fit
 * fc_xdp_int's stack): XDP passes it untouched, counted, and the TC
 * program behind it translates it to the IPv6 host. */
TEST(xdp_nat64_ipv4_host_to_nat64_mapping_passed_to_tc_and_translated)
{
	struct pkt_spec out = pkt_udp(CLIENT6_A, 25130, SERVER_1_64, 7000);
	struct pkt_spec v4_to_a6 = pkt_udp(CLIENT_A, 25630, EXT_ADDR, 25130);
	struct pkt_spec at_a6 = to_client6(pkt_udp("64:ff9b::198.51.100.1", 25630, CLIENT6_A, 25130));

	ASSERT_EQ(xnat64_on(0), 0, "IPv6 side set up");
	ASSERT_EQ(xout_port(&out), 25130, "the IPv6 host's mapping, made in XDP");
	XPASS(0, &v4_to_a6, FC_STAT_FAST_PASS_SLOW_PATH, "IPv4 host -> NAT64 mapping: to TC");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_UNTRANSLATABLE), 0, "not refused");
	EXPECT_LAN(&v4_to_a6, &at_a6, TC_ACT_REDIRECT, "TC: IPv6 to the host");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TRANSLATED), 1, "hairpin_translated");
}
