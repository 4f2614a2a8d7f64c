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
#include <net/if.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "fcnat_tc.skel.h"
#include "fixture.h"
#include "harness.h"
#include "options.h"

/* The IPv4 servers seen from the IPv6 side (RFC 6052 /96). */
#define SERVER_1_64	"64:ff9b::198.51.100.2"
#define SERVER_2_64	"64:ff9b::198.51.100.3"
#define STRANGER_64	"64:ff9b::198.51.100.4"

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
	char err[128];
	unsigned int len;

	fx.opts.nat64 = true;
	if (parse_nat64_prefix("64:ff9b::/96", fx.opts.nat64_prefix, &len, err, sizeof(err)))
		abort();
	fx.opts.nat64_prefix_len = len;
	fixture_apply(&fx);
}

static int lan_fd(void)
{
	return bpf_program__fd(fx.loader.skel->progs.fc_tc_lan_ingress);
}

/* Received on int0 (an internal interface). */
static int run_lan(const struct pkt_spec *in, struct run_result *r)
{
	struct __sk_buff ctx = { .ifindex = fx.int_ifindex, .ingress_ifindex = fx.int_ifindex };
	uint8_t buf[PKT_MAX];

	return run_prog_ctx(lan_fd(), buf, pkt_build(in, buf), &ctx, r);
}

static int run_spec(int prog_fd, const struct pkt_spec *in, struct run_result *r)
{
	uint8_t buf[PKT_MAX];

	return run_prog_from(prog_fd, buf, pkt_build(in, buf), FORWARDED_FROM, r);
}

static struct pkt_spec udp(const char *sa, uint16_t sp, const char *da, uint16_t dp)
{
	return (struct pkt_spec){ .proto = IPPROTO_UDP, .saddr = sa, .sport = sp,
				  .daddr = da, .dport = dp, .payload_len = 30 };
}

static struct pkt_spec tcp(const char *sa, uint16_t sp, const char *da, uint16_t dp, uint8_t flags)
{
	return (struct pkt_spec){ .proto = IPPROTO_TCP, .saddr = sa, .sport = sp,
				  .daddr = da, .dport = dp, .tcp_flags = flags,
				  .tcp_seq = 1000, .tcp_ack = flags & 0x10 ? 2000 : 0,
				  .payload_len = 10 };
}

static struct pkt_spec echo(const char *sa, const char *da, uint8_t proto, uint8_t type,
			    uint16_t id)
{
	struct pkt_spec s = { .proto = proto, .saddr = sa, .daddr = da, .icmp_type = type,
			      .icmp_seq = 3, .payload_len = 56 };

	if (type == 128 || type == 8)
		s.sport = id;
	else
		s.dport = id;
	return s;
}

/* The IPv4 Identification the translator chose (0 as ip_id_zero). */
static void take_ip_id(const struct run_result *r, struct pkt_spec *want)
{
	uint16_t id = (r->out[18] << 8) | r->out[19];

	want->ip_id = id;
	want->ip_id_zero = id == 0;
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

/* Run an outbound packet on int0, expect a redirect and want (its IPv4 ID
 * taken from the output). */
#define EXPECT_OUT(in, want, what)						\
	do {									\
		struct run_result _r;						\
		uint8_t _w[PKT_MAX];						\
		size_t _wl;							\
		ASSERT_EQ(run_lan(in, &_r), 0, what ": test run");		\
		ASSERT_EQ(_r.ret, TC_ACT_REDIRECT, what ": redirected");	\
		ASSERT_EQ(_r.out_len > 20, 1, what ": output");		\
		take_ip_id(&_r, want);						\
		_wl = pkt_build(want, _w);					\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what);		\
	} while (0)

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
	struct pkt_spec in = udp(CLIENT6_A, 25000, SERVER_1_64, 7000);
	struct pkt_spec want = udp(EXT_ADDR, 25000, SERVER_1, 7000);
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
	struct pkt_spec v4 = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec v6 = udp(CLIENT6_A, 25000, SERVER_1_64, 7000);
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
	struct pkt_spec a = udp(CLIENT6_A, 25001, SERVER_1_64, 7000);
	struct pkt_spec b = udp(CLIENT6_A, 25001, SERVER_2_64, 7001);
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
	struct pkt_spec out = udp(CLIENT6_A, 25002, SERVER_1_64, 7000);
	struct pkt_spec in = udp(STRANGER, 9999, EXT_ADDR, 25002);
	struct pkt_spec want = udp(STRANGER_64, 9999, CLIENT6_A, 25002);

	nat64_on();
	ASSERT_EQ(out64(&out), 25002, "mapping");
	EXPECT_IN(&in, &want, TC_ACT_OK, "unsolicited IPv4 host, full cone");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_IN), 1, "counted");
}

TEST(rfc6146_unsolicited_ipv4_to_unmapped_port_dropped)
{
	struct pkt_spec in = udp(STRANGER, 9999, EXT_ADDR, 25003);

	nat64_on();
	EXPECT_IN(&in, &in, TC_ACT_SHOT, "no mapping");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 1, "counted");
}

TEST(rfc6146_s3_5_2_tcp_both_ways_whole_packets)
{
	struct pkt_spec syn = tcp(CLIENT6_A, 25004, SERVER_1_64, 80, 0x02);
	struct pkt_spec syn4 = tcp(EXT_ADDR, 25004, SERVER_1, 80, 0x02);
	struct pkt_spec synack = tcp(SERVER_1, 80, EXT_ADDR, 25004, 0x12);
	struct pkt_spec synack6 = tcp(SERVER_1_64, 80, CLIENT6_A, 25004, 0x12);

	nat64_on();
	syn4.ttl = 63;
	to_server1(&syn4);
	EXPECT_OUT(&syn, &syn4, "SYN 6->4");
	EXPECT_IN(&synack, &synack6, TC_ACT_OK, "SYN-ACK 4->6");
}

TEST(rfc6146_s3_5_3_icmp_echo_both_ways_id_mapped)
{
	struct pkt_spec req = echo(CLIENT6_A, SERVER_1_64, IPPROTO_ICMPV6, 128, 0x4242);
	struct pkt_spec req4, rep, rep6;
	struct run_result r;
	uint16_t id;

	nat64_on();
	ASSERT_EQ(run_lan(&req, &r), 0, "echo request run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "redirected");
	id = (r.out[38] << 8) | r.out[39];
	req4 = echo(EXT_ADDR, SERVER_1, IPPROTO_ICMP, 8, id);
	req4.ttl = 63;
	to_server1(&req4);
	EXPECT_OUT(&req, &req4, "echo request 6->4");	/* the same mapping again */
	rep = echo(SERVER_1, EXT_ADDR, IPPROTO_ICMP, 0, id);
	rep6 = echo(SERVER_1_64, CLIENT6_A, IPPROTO_ICMPV6, 129, 0x4242);
	EXPECT_IN(&rep, &rep6, TC_ACT_OK, "echo reply 4->6, id put back");
	ASSERT_EQ(nr_bindings(&fx), 2, "one ICMP mapping");
}

TEST(rfc6146_s3_4_icmp_error_in_quote_put_back)
{
	struct pkt_spec out = udp(CLIENT6_A, 25005, SERVER_1_64, 7000);
	struct pkt_spec q4 = udp(EXT_ADDR, 25005, SERVER_1, 7000);
	struct pkt_spec q6 = udp(CLIENT6_A, 25005, SERVER_1_64, 7000);
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
	struct pkt_spec out = udp(CLIENT6_A, 25006, SERVER_1_64, 7000);
	struct pkt_spec q4 = udp(EXT_ADDR, 25006, SERVER_1, 7000);
	struct pkt_spec q6 = udp(CLIENT6_A, 25006, SERVER_1_64, 7000);
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
	struct pkt_spec out = udp(CLIENT6_A, 25007, SERVER_1_64, 7000);
	struct pkt_spec q6 = udp(STRANGER_64, 9999, CLIENT6_A, 25007);
	struct pkt_spec q4 = udp(STRANGER, 9999, EXT_ADDR, 25007);
	struct pkt_spec in = udp(STRANGER, 9999, EXT_ADDR, 25007);
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

TEST(rfc6146_never_leak_untranslatable_to_prefix_dropped)
{
	struct pkt_spec gre = { .proto = 47, .saddr = CLIENT6_A, .daddr = SERVER_1_64,
				.payload_len = 20 };
	struct pkt_spec ns = echo(CLIENT6_A, SERVER_1_64, IPPROTO_ICMPV6, 135, 0);
	struct pkt_spec other = udp(CLIENT6_A, 25008, SERVER6_1, 7000);
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
	struct pkt_spec in = udp(CLIENT6_A, 25009, SERVER_1_64, 7000);
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
	struct pkt_spec in = udp(CLIENT6_A, 25010, SERVER_1_64, 7000);
	struct run_result r;

	nat64_on();
	in.ttl = 1;
	ASSERT_EQ(run_lan(&in, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_OK, "the stack sends time exceeded");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_PASS_HOP_LIMIT), 1, "counted");
	ASSERT_EQ(nr_bindings(&fx), 0, "no mapping made");
}

TEST(rfc4787_req8_nat64_xdp_fast_path_leaves_nat64_mappings_to_tc)
{
	struct pkt_spec out = udp(CLIENT6_A, 25011, SERVER_1_64, 7000);
	struct pkt_spec in = udp(STRANGER, 9999, EXT_ADDR, 25011);
	struct run_result r;
	uint8_t buf[PKT_MAX];
	size_t len = pkt_build(&in, buf);

	nat64_on();
	ASSERT_EQ(out64(&out), 25011, "mapping");
	ASSERT_EQ(run_xdp(fx.xdp_ext_fd, buf, len, fx.ext_ifindex, &r), 0, "XDP run");
	ASSERT_EQ(r.ret, 2 /* XDP_PASS */, "passed to TC, not dropped as unsolicited");
	ASSERT_PKT_EQ(r.out, r.out_len, buf, len, "untouched");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 0, "not counted as unsolicited");
}

TEST(rfc4787_req9_ipv4_host_to_nat64_mapping_not_hairpinned)
{
	struct pkt_spec out = udp(CLIENT6_A, 25012, SERVER_1_64, 7000);
	struct pkt_spec hp = udp(CLIENT_A, 4000, EXT_ADDR, 25012);
	struct run_result r;
	uint8_t buf[PKT_MAX];
	struct __sk_buff ctx = { .ifindex = fx.int_ifindex, .ingress_ifindex = fx.int_ifindex };

	nat64_on();
	ASSERT_EQ(out64(&out), 25012, "mapping");
	ASSERT_EQ(run_prog_ctx(lan_fd(), buf, pkt_build(&hp, buf), &ctx, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped, never rewritten with a bogus IPv4 address");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_UNTRANSLATABLE), 1, "counted");
}

TEST(rfc7915_s4_1_nat64_in_too_big_for_the_ipv6_route_dropped_counted)
{
	struct pkt_spec out = udp(CLIENT6_A, 25013, SERVER_1_64, 7000);
	struct pkt_spec big = udp(SERVER_1, 7000, EXT_ADDR, 25013);
	struct pkt_spec fits = udp(SERVER_1, 7000, EXT_ADDR, 25013);
	struct pkt_spec fits6 = udp(SERVER_1_64, 7000, CLIENT6_A, 25013);
	struct run_result r;

	nat64_on();
	/* The internal IPv6 network behind int0, on a 1280-byte route (locked:
	 * the FIB helper reads a route MTU only then, else the device MTU). */
	ASSERT_EQ(system("ip -6 addr add fd00:77::1/64 dev int0 nodad && "
			 "ip -6 route add " CLIENT6_A "/128 dev int0 mtu lock 1280 && "
			 "sysctl -qw net.ipv6.conf.all.forwarding=1"), 0, "IPv6 route set up");
	ASSERT_EQ(out64(&out), 25013, "mapping");
	big.payload_len = 1280 - 40 - 8 + 1;	/* one byte over as IPv6 */
	{
		struct __sk_buff ctx = { .ifindex = fx.ext_ifindex,
					 .ingress_ifindex = fx.ext_ifindex };
		uint8_t buf[PKT_MAX];

		ASSERT_EQ(run_prog_ctx(fx.ingress_fd, buf, pkt_build(&big, buf), &ctx, &r), 0,
			  "run on ext0");
	}
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped, never sent to be refused by the stack");
	ASSERT_EQ(stat_get(&fx, FC_STAT_NAT64_DROP_MTU), 1, "counted");
	fits.payload_len = fits6.payload_len = 1280 - 40 - 8;
	EXPECT_IN(&fits, &fits6, TC_ACT_OK, "exactly 1280 as IPv6: translated");
	ASSERT_EQ(system("ip -6 route del " CLIENT6_A "/128 dev int0 && "
			 "ip -6 addr del fd00:77::1/64 dev int0 && "
			 "sysctl -qw net.ipv6.conf.all.forwarding=0"), 0, "IPv6 route removed");
}

TEST(rfc6146_nat64_mapping_on_a_pool_address_and_back)
{
	struct pkt_spec out = udp(CLIENT6_A, 25014, SERVER_1_64, 7000);
	struct fc_prefix4 *pool = &fx.opts.cgnat.pool[fx.opts.cgnat.nr_pool++];
	struct pkt_spec in, want = udp(STRANGER_64, 9999, CLIENT6_A, 25014);
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
	in = udp(STRANGER, 9999, a, port);
	EXPECT_IN(&in, &want, TC_ACT_OK, "inbound to the pool address reaches the IPv6 host");
}

/* Found by the fuzzer: a transport header the parser refuses (here a TCP
 * data offset below 20 bytes) is no reason to let the IPv6 stack forward
 * the packet to the prefix with its internal source. */
TEST(rfc6146_never_leak_malformed_transport_to_prefix_dropped)
{
	struct pkt_spec in = tcp(CLIENT6_A, 25015, SERVER_1_64, 80, 0x10);
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
	struct pkt_spec o66 = udp(CLIENT6_A, 25010, SERVER6_1, 7000);
	struct pkt_spec o66_want = udp(EXT_ADDR6, 25010, SERVER6_1, 7000);
	struct pkt_spec o64 = udp(CLIENT6_A, 25010, SERVER_1_64, 7000);
	struct pkt_spec o64_want = udp(EXT_ADDR, 25010, SERVER_1, 7000);
	struct pkt_spec i66 = udp(SERVER6_1, 7000, EXT_ADDR6, 25010);
	struct pkt_spec i66_want = udp(SERVER6_1, 7000, CLIENT6_A, 25010);
	struct pkt_spec i64 = udp(SERVER_1, 7000, EXT_ADDR, 25010);
	struct pkt_spec i64_want = udp(SERVER_1_64, 7000, CLIENT6_A, 25010);
	/* Full cone, each: strangers reach the host through either. */
	struct pkt_spec s66 = udp(STRANGER6, 9000, EXT_ADDR6, 25010);
	struct pkt_spec s66_want = udp(STRANGER6, 9000, CLIENT6_A, 25010);
	struct pkt_spec s64 = udp(STRANGER, 9000, EXT_ADDR, 25010);
	struct pkt_spec s64_want = udp(STRANGER_64, 9000, CLIENT6_A, 25010);

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
	struct pkt_spec v4 = udp(CLIENT_A, 25011, SERVER_1, 7000);
	struct pkt_spec o64 = udp(CLIENT6_A, 25011, SERVER_1_64, 7000);
	struct pkt_spec o66 = udp(CLIENT6_A, 25011, SERVER6_1, 7000);
	struct pkt_spec o66_want = udp(EXT_ADDR6, 25011, SERVER6_1, 7000);
	struct pkt_spec i64, i64_want = udp(SERVER_1_64, 7000, CLIENT6_A, 25011);
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
	i64 = udp(SERVER_1, 7000, EXT_ADDR, p4);
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
	struct pkt_spec o64 = udp(CLIENT6_A, 25012, SERVER_1_64, 7000);
	struct pkt_spec o66 = udp(CLIENT6_A, 25012, SERVER6_1, 7000);
	struct pkt_spec o66_want = udp(EXT_ADDR6, 25012, SERVER6_1, 7000);
	struct pkt_spec i66 = udp(SERVER6_1, 7000, EXT_ADDR6, 25012);
	struct pkt_spec i66_want = udp(SERVER6_1, 7000, CLIENT6_A, 25012);
	struct pkt_spec i64 = udp(SERVER_1, 7000, EXT_ADDR, 25012);
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
	struct pkt_spec o66 = udp(CLIENT6_A, 25013, SERVER6_1, 7000);
	struct pkt_spec o66_want = udp(EXT_ADDR6, 25013, SERVER6_1, 7000);
	struct pkt_spec o64 = udp(CLIENT6_A, 25013, SERVER_1_64, 7000);
	struct pkt_spec i64 = udp(SERVER_1, 7000, EXT_ADDR, 25013);
	struct pkt_spec i64_want = udp(SERVER_1_64, 7000, CLIENT6_A, 25013);
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
