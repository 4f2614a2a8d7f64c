// SPDX-License-Identifier: GPL-2.0
/*
 * The TC fast path (TC mode with --lan-if) through BPF_PROG_TEST_RUN:
 * fc_tc_int_ingress translates outbound packets and redirects them out of
 * the external interface with the next hop's MACs and the TTL decremented;
 * fc_tc_ingress does the same for inbound packets towards an internal
 * interface; what the fast path cannot finish goes to the stack untouched
 * (outbound) or translated as without it (inbound), counted. Same private
 * namespace as test_xdp.c:
 *
 *   ext0 198.51.100.1/24 (EXT_ADDR)   SERVER_1, SERVER_2 known; STRANGER not
 *   int0 192.168.77.1/24              CLIENT_A, CLIENT_B known
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fcnat_tc.skel.h"
#include "fixture.h"
#include "harness.h"

/* ctx_tc.h's FC_MARK_FAST_OUT */
#define MARK_FAST_OUT	0x5fc0fa57


static struct pkt_spec udp4(const char *sa, uint16_t sp, const char *da, uint16_t dp)
{
	return (struct pkt_spec){ .proto = IPPROTO_UDP, .saddr = sa, .sport = sp,
				  .daddr = da, .dport = dp, .payload_len = 22 };
}

/* Run on the ingress of ifindex (received there), with a mark. */
static int run_in(int prog_fd, int ifindex, const struct pkt_spec *in, __u32 *mark,
		  struct run_result *r)
{
	struct __sk_buff ctx = { .ifindex = ifindex, .ingress_ifindex = ifindex,
				 .mark = mark ? *mark : 0 };
	uint8_t buf[PKT_MAX];
	int err = run_prog_ctx(prog_fd, buf, pkt_build(in, buf), &ctx, r);

	if (mark)
		*mark = ctx.mark;
	return err;
}

#define TC_EXPECT(prog_fd, ifindex, in, want, verdict, what)		\
	do {								\
		struct run_result _r;					\
		uint8_t _w[PKT_MAX];					\
		size_t _wl = pkt_build(want, _w);			\
		ASSERT_EQ(run_in(prog_fd, ifindex, in, NULL, &_r), 0, what ": test run"); \
		ASSERT_EQ(_r.ret, verdict, what ": verdict");		\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what);	\
	} while (0)

#define FAST_OUT(in, want, verdict, what) \
	TC_EXPECT(fx.fast_int_fd, fx.int_ifindex, in, want, verdict, what)
#define FAST_IN(in, want, verdict, what) \
	TC_EXPECT(fx.fast_ingress_fd, fx.ext_ifindex, in, want, verdict, what)

/* Each fallback: the packet goes to the stack unchanged, counted. */
#define FAST_OUT_PASSES(in, stat, what)					\
	do {								\
		FAST_OUT(in, in, TC_ACT_OK, what);			\
		ASSERT_EQ(stat_get(&fx, stat), 1, what ": counted");	\
	} while (0)

TEST(tc_fast_udp_out_translated_and_redirected_to_next_hop)
{
	struct pkt_spec in = udp4(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec want = fx_hop(udp4(EXT_ADDR, 25000, SERVER_1, 7000), FX_EXT0_MAC, FX_SERVER1_MAC);

	FAST_OUT(&in, &want, TC_ACT_REDIRECT, "outbound UDP");
	ASSERT_EQ(stat_get(&fx, FC_STAT_OUT_TRANSLATED), 1, "translated_out");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_REDIRECTED), 1, "fast_redirected");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 2, "one mapping");
	ASSERT_EQ(map_count(fx.sessions_fd, sizeof(struct fc_session_key)), 1, "one session");
}

TEST(tc_fast_out_marked_so_the_external_egress_leaves_it_alone)
{
	struct pkt_spec in = udp4(CLIENT_A, 40000, SERVER_1, 7000);
	struct run_result r, e;
	__u32 mark = 0;
	struct __sk_buff ctx = { .ifindex = fx.ext_ifindex, .ingress_ifindex = fx.int_ifindex };

	/* Port 40000 is outside the range: translated to another one. */
	ASSERT_EQ(run_in(fx.fast_int_fd, fx.int_ifindex, &in, &mark, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "redirected");
	ASSERT_EQ(mark, MARK_FAST_OUT, "marked");
	/* The redirect crosses the external egress: not translated again (a
	 * second mapping, for EXT_ADDR:port, would be made), mark cleared. */
	ctx.mark = mark;
	ASSERT_EQ(run_prog_ctx(fx.fast_egress_fd, r.out, r.out_len, &ctx, &e), 0, "egress run");
	ASSERT_EQ(e.ret, TC_ACT_OK, "egress verdict");
	ASSERT_PKT_EQ(e.out, e.out_len, r.out, r.out_len, "egress leaves it as it is");
	ASSERT_EQ(ctx.mark, 0, "mark cleared");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 2, "still one mapping");
	ASSERT_EQ(stat_get(&fx, FC_STAT_OUT_TRANSLATED), 1, "translated once");
}

TEST(tc_fast_in_eif_translated_and_redirected_to_host)
{
	struct pkt_spec out = udp4(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec out_want = fx_hop(udp4(EXT_ADDR, 25000, SERVER_1, 7000), FX_EXT0_MAC, FX_SERVER1_MAC);
	/* SERVER_2 was never contacted: endpoint-independent filtering. */
	struct pkt_spec in = udp4(SERVER_2, 9000, EXT_ADDR, 25000);
	struct pkt_spec want = fx_hop(udp4(SERVER_2, 9000, CLIENT_A, 25000), FX_INT0_MAC, FX_CLIENT_A_MAC);

	FAST_OUT(&out, &out_want, TC_ACT_REDIRECT, "outbound");
	FAST_IN(&in, &want, TC_ACT_REDIRECT, "inbound from a new host");
	ASSERT_EQ(stat_get(&fx, FC_STAT_IN_TRANSLATED), 1, "translated_in");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_REDIRECTED), 2, "both redirected");
}

TEST(tc_fast_tcp_syn_both_ways)
{
	struct pkt_spec out = { .proto = IPPROTO_TCP, .saddr = CLIENT_A, .sport = 26000,
				.daddr = SERVER_1, .dport = 443, .tcp_flags = 0x02,
				.tcp_seq = 1000 };
	struct pkt_spec out_want = out, in, in_want;

	out_want.saddr = EXT_ADDR;
	out_want = fx_hop(out_want, FX_EXT0_MAC, FX_SERVER1_MAC);
	FAST_OUT(&out, &out_want, TC_ACT_REDIRECT, "SYN out");
	in = (struct pkt_spec){ .proto = IPPROTO_TCP, .saddr = SERVER_1, .sport = 443,
				.daddr = EXT_ADDR, .dport = 26000, .tcp_flags = 0x12,
				.tcp_seq = 5000, .tcp_ack = 1001 };
	in_want = in;
	in_want.daddr = CLIENT_A;
	in_want = fx_hop(in_want, FX_INT0_MAC, FX_CLIENT_A_MAC);
	FAST_IN(&in, &in_want, TC_ACT_REDIRECT, "SYN-ACK in");
}

TEST(tc_fast_hairpin_between_internal_hosts)
{
	struct pkt_spec b_out = udp4(CLIENT_B, 25100, SERVER_1, 7000);
	struct pkt_spec b_want = fx_hop(udp4(EXT_ADDR, 25100, SERVER_1, 7000), FX_EXT0_MAC, FX_SERVER1_MAC);
	struct pkt_spec in = udp4(CLIENT_A, 25200, EXT_ADDR, 25100);
	struct pkt_spec want = fx_hop(udp4(EXT_ADDR, 25200, CLIENT_B, 25100), FX_INT0_MAC, FX_CLIENT_B_MAC);

	FAST_OUT(&b_out, &b_want, TC_ACT_REDIRECT, "B maps its port");
	FAST_OUT(&in, &want, TC_ACT_REDIRECT, "A -> B hairpinned");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TRANSLATED), 1, "hairpin_translated");
}

TEST(tc_fast_no_neighbour_passes_untouched_and_creates_nothing)
{
	struct pkt_spec in = udp4(CLIENT_A, 25000, STRANGER, 7000);

	FAST_OUT_PASSES(&in, FC_STAT_FAST_PASS_NO_NEIGH, "no neighbour");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 0, "no mapping yet");
}

TEST(tc_fast_too_big_for_egress_passes_untouched)
{
	struct pkt_spec in = udp4(CLIENT_A, 25000, SERVER_1, 7000);

	if (system("ip link set ext0 mtu 1280"))
		FAIL("cannot set the MTU");
	in.payload_len = 1300;
	in.frag = 0x4000;	/* DF: the stack answers frag-needed */
	FAST_OUT_PASSES(&in, FC_STAT_FAST_PASS_MTU, "oversize DF");
	if (system("ip link set ext0 mtu 1500"))
		FAIL("cannot restore the MTU");
}

/* A GSO packet (gso_size as GRO or a TSO sender leaves it), run on int0's
 * ingress. */
static int run_out_gso(const struct pkt_spec *in, __u32 gso_size, struct run_result *r)
{
	struct __sk_buff ctx = { .ifindex = fx.int_ifindex, .ingress_ifindex = fx.int_ifindex,
				 .gso_size = gso_size, .gso_segs = 2 };
	uint8_t buf[PKT_MAX];

	return run_prog_ctx(fx.fast_int_fd, buf, pkt_build(in, buf), &ctx, r);
}

static int server1_route_mtu(int mtu)
{
	char cmd[128];

	fixture_defer(&fx, "ip route del " SERVER_1 "/32 dev ext0 2>/dev/null");
	snprintf(cmd, sizeof(cmd), "ip route replace " SERVER_1 "/32 dev ext0 mtu lock %d", mtu);
	return system(cmd);
}

/* Segments of 20 + 20 + 1000 bytes do not fit a 1000-byte route, though
 * the device takes 1500 and the FIB, asked with no length, would let any
 * GSO packet through: the packet goes to the stack untouched, which
 * answers Fragmentation Needed as Linux's forwarding does (RFC 1191 §4,
 * RFC 1812 4.2.2.5), counted as fast_pass_gso_mtu. */
TEST(tc_fast_gso_segments_too_big_for_the_route_pass_untouched)
{
	struct pkt_spec syn = pkt_tcp(CLIENT_A, 26100, SERVER_1, 443, 0x02);
	struct pkt_spec syn_want = fx_hop(pkt_tcp(EXT_ADDR, 26100, SERVER_1, 443, 0x02),
					  FX_EXT0_MAC, FX_SERVER1_MAC);
	struct pkt_spec big = pkt_tcp(CLIENT_A, 26100, SERVER_1, 443, 0x10);
	struct run_result r;
	uint8_t w[PKT_MAX];
	size_t wl;

	FAST_OUT(&syn, &syn_want, TC_ACT_REDIRECT, "SYN out");
	ASSERT_EQ(server1_route_mtu(1000), 0, "a 1000-byte route");
	big.frag = 0x4000;
	big.payload_len = 1500;		/* segments of 1000 and 500 */
	ASSERT_EQ(run_out_gso(&big, 1000, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_OK, "left to the stack");
	wl = pkt_build(&big, w);
	ASSERT_PKT_EQ(r.out, r.out_len, w, wl, "untouched");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_PASS_GSO_MTU), 1, "fast_pass_gso_mtu");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_PASS_MTU), 0, "not fast_pass_mtu");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_REDIRECTED), 1, "only the SYN redirected");
}

/* Segments of 20 + 20 + 900 bytes fit the 1000-byte route though the
 * whole packet (1540 bytes) does not: translated and sent on whole, to be
 * cut by the device. */
TEST(tc_fast_gso_segments_that_fit_the_route_translated_whole)
{
	struct pkt_spec syn = pkt_tcp(CLIENT_A, 26101, SERVER_1, 443, 0x02);
	struct pkt_spec syn_want = fx_hop(pkt_tcp(EXT_ADDR, 26101, SERVER_1, 443, 0x02),
					  FX_EXT0_MAC, FX_SERVER1_MAC);
	struct pkt_spec big = pkt_tcp(CLIENT_A, 26101, SERVER_1, 443, 0x10);
	struct pkt_spec want = pkt_tcp(EXT_ADDR, 26101, SERVER_1, 443, 0x10);
	struct run_result r;
	uint8_t w[PKT_MAX];
	size_t wl;

	FAST_OUT(&syn, &syn_want, TC_ACT_REDIRECT, "SYN out");
	ASSERT_EQ(server1_route_mtu(1000), 0, "a 1000-byte route");
	big.frag = want.frag = 0x4000;
	big.payload_len = want.payload_len = 1500;	/* segments of 900 and 600 */
	want = fx_hop(want, FX_EXT0_MAC, FX_SERVER1_MAC);
	ASSERT_EQ(run_out_gso(&big, 900, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "redirected");
	wl = pkt_build(&want, w);
	ASSERT_PKT_EQ(r.out, r.out_len, w, wl, "translated whole");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_PASS_GSO_MTU), 0, "nothing too big");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_REDIRECTED), 2, "both redirected");
}

TEST(tc_fast_ttl_expiring_passes_untouched)
{
	struct pkt_spec in = udp4(CLIENT_A, 25000, SERVER_1, 7000);

	in.ttl = 1;
	FAST_OUT_PASSES(&in, FC_STAT_FAST_PASS_TTL, "TTL 1");
}

TEST(tc_fast_marked_packet_left_to_the_stack)
{
	struct pkt_spec in = udp4(CLIENT_A, 25000, SERVER_1, 7000);
	struct run_result r;
	uint8_t w[PKT_MAX];
	size_t wl = pkt_build(&in, w);
	__u32 mark = 7;		/* someone's policy routing */

	ASSERT_EQ(run_in(fx.fast_int_fd, fx.int_ifindex, &in, &mark, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_OK, "to the stack");
	ASSERT_PKT_EQ(r.out, r.out_len, w, wl, "untouched");
	ASSERT_EQ(mark, 7, "mark kept");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_PASS_SLOW_PATH), 1, "counted");
}

TEST(tc_fast_between_internal_hosts_is_not_nat)
{
	struct pkt_spec in = udp4(CLIENT_A, 25000, CLIENT_B, 7000);

	FAST_OUT_PASSES(&in, FC_STAT_FAST_PASS_NOT_NAT, "LAN to LAN");
}

TEST(tc_fast_to_the_gateway_passes_untouched)
{
	struct pkt_spec in = udp4(CLIENT_A, 25000, "192.168.77.1", 53);

	FAST_OUT_PASSES(&in, FC_STAT_FAST_PASS_TO_GATEWAY, "to the LAN address");
}

TEST(tc_fast_external_address_as_source_left_to_the_stack)
{
	struct pkt_spec in = udp4(EXT_ADDR, 25000, SERVER_1, 7000);

	FAST_OUT_PASSES(&in, FC_STAT_FAST_PASS_SLOW_PATH, "spoofed external source");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 0, "no mapping");
}

TEST(tc_fast_inbound_fallbacks_translated_for_the_stack)
{
	struct pkt_spec out = udp4(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec out_want = fx_hop(udp4(EXT_ADDR, 25000, SERVER_1, 7000), FX_EXT0_MAC, FX_SERVER1_MAC);
	struct pkt_spec in = udp4(SERVER_1, 7000, EXT_ADDR, 25000);
	struct pkt_spec want = udp4(SERVER_1, 7000, CLIENT_A, 25000);

	FAST_OUT(&out, &out_want, TC_ACT_REDIRECT, "outbound");
	/* TTL 1: translated, up the stack (which sends time exceeded). */
	in.ttl = 1;
	want.ttl = 1;
	FAST_IN(&in, &want, TC_ACT_OK, "inbound TTL 1");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_PASS_TTL), 1, "counted");
	/* A first fragment: translated, up the stack (its train follows it). */
	in.ttl = want.ttl = 64;
	in.frag = want.frag = 0x2000;
	FAST_IN(&in, &want, TC_ACT_OK, "inbound first fragment");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_PASS_SLOW_PATH), 1, "counted");
	ASSERT_EQ(stat_get(&fx, FC_STAT_IN_TRANSLATED), 2, "both translated");
}

TEST(tc_fast_off_without_internal_interfaces)
{
	struct pkt_spec out = udp4(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec in = udp4(SERVER_1, 7000, EXT_ADDR, 25000);
	struct pkt_spec want = udp4(SERVER_1, 7000, CLIENT_A, 25000);
	uint8_t buf[PKT_MAX];
	struct run_result r;

	/* The fixture's own programs: loaded without --lan-if. */
	ASSERT_EQ(run_prog(fx.egress_fd, buf, pkt_build(&out, buf), &r), 0, "egress run");
	ASSERT_EQ(r.ret, TC_ACT_OK, "translated, the stack forwards");
	TC_EXPECT(fx.ingress_fd, fx.ext_ifindex, &in, &want, TC_ACT_OK, "inbound up the stack");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_REDIRECTED), 0, "no fast path");
}

/* einat's empty udp_ranges: UDP is the stack's NAT's (nftables masquerade),
 * so the fast path must not take it past netfilter, either way. */
TEST(tc_fast_protocol_without_ports_goes_to_the_stack)
{
	struct pkt_spec out = udp4(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec in = udp4(SERVER_1, 7000, EXT_ADDR, 25000);

	fx.opts.proto_ports[FC_SUB_UDP] = (struct fc_proto_ports){ .set = true, .off = true };
	fixture_apply(&fx);
	FAST_OUT_PASSES(&out, FC_STAT_FAST_PASS_NOT_NAT, "outbound UDP, its NAT off");
	FAST_IN(&in, &in, TC_ACT_OK, "inbound UDP to the external address");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PASS_PROTO), 1, "left to the stack, counted");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 0, "no mapping");
}
