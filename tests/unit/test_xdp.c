// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP fast path through BPF_PROG_TEST_RUN: whole frames in and out
 * (MACs from the FIB, TTL, every checksum recomputed from scratch by
 * pkt_build), verdicts and counters. The private namespace of the test run
 * holds two veths whose addresses and static neighbours the programs' FIB
 * lookups route through:
 *
 *   ext0 198.51.100.1/24 (EXT_ADDR)   SERVER_1, SERVER_2 known; STRANGER not
 *   int0 192.168.77.1/24              CLIENT_A, CLIENT_B known
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fcnat_xdp.skel.h"
#include "fcnat_tc.skel.h"
#include "fixture.h"
#include <fcnat/rules.h>
#include "harness.h"

#define XDP_DROP_	1
#define XDP_PASS_	2
#define XDP_REDIRECT_	4


static struct pkt_spec udp4(const char *sa, uint16_t sp, const char *da, uint16_t dp)
{
	return (struct pkt_spec){ .proto = IPPROTO_UDP, .saddr = sa, .sport = sp,
				  .daddr = da, .dport = dp, .payload_len = 22 };
}

#define XDP_EXPECT(prog_fd, ifindex, in, want, verdict, what)		\
	do {								\
		struct run_result _r;					\
		uint8_t _i[PKT_MAX], _w[PKT_MAX];			\
		size_t _il = pkt_build(in, _i), _wl = pkt_build(want, _w); \
		ASSERT_EQ(run_xdp(prog_fd, _i, _il, ifindex, &_r), 0, what ": test run"); \
		ASSERT_EQ(_r.ret, verdict, what ": verdict");		\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what);	\
	} while (0)

#define XDP_OUT(in, want, verdict, what) \
	XDP_EXPECT(fx.xdp_int_fd, fx.int_ifindex, in, want, verdict, what)
#define XDP_IN(in, want, verdict, what) \
	XDP_EXPECT(fx.xdp_ext_fd, fx.ext_ifindex, in, want, verdict, what)

TEST(xdp_udp_out_translated_and_redirected_to_next_hop)
{
	struct pkt_spec in = udp4(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec want = fx_hop(udp4(EXT_ADDR, 25000, SERVER_1, 7000), FX_EXT0_MAC, FX_SERVER1_MAC);

	XDP_OUT(&in, &want, XDP_REDIRECT_, "outbound UDP");
	ASSERT_EQ(stat_get(&fx, FC_STAT_OUT_TRANSLATED), 1, "translated_out");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_REDIRECTED), 1, "fast_redirected");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 2, "one mapping");
}

TEST(xdp_udp_in_eif_translated_and_redirected_to_host)
{
	struct pkt_spec out = udp4(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec out_want = fx_hop(udp4(EXT_ADDR, 25000, SERVER_1, 7000), FX_EXT0_MAC, FX_SERVER1_MAC);
	/* SERVER_2 was never contacted: endpoint-independent filtering. */
	struct pkt_spec in = udp4(SERVER_2, 9000, EXT_ADDR, 25000);
	struct pkt_spec want = fx_hop(udp4(SERVER_2, 9000, CLIENT_A, 25000), FX_INT0_MAC, FX_CLIENT_A_MAC);

	XDP_OUT(&out, &out_want, XDP_REDIRECT_, "outbound");
	XDP_IN(&in, &want, XDP_REDIRECT_, "inbound from a new host");
	ASSERT_EQ(stat_get(&fx, FC_STAT_IN_TRANSLATED), 1, "translated_in");
}

TEST(xdp_port_change_rewrites_checksums_and_shares_state_with_tc)
{
	struct pkt_spec a = udp4(CLIENT_A, 40000, SERVER_1, 7000);
	struct run_result r;
	uint8_t buf[PKT_MAX];
	size_t len = pkt_build(&a, buf);
	uint16_t port;

	/* Port 40000 is outside the range: a new one is picked. */
	ASSERT_EQ(run_xdp(fx.xdp_int_fd, buf, len, fx.int_ifindex, &r), 0, "run");
	ASSERT_EQ(r.ret, XDP_REDIRECT_, "verdict");
	port = (r.out[34] << 8) | r.out[35];
	ASSERT_TRUE(port >= 20000 && port <= 29999, "port in range");
	{
		struct pkt_spec want = fx_hop(udp4(EXT_ADDR, port, SERVER_1, 7000), FX_EXT0_MAC,
					   FX_SERVER1_MAC);
		uint8_t w[PKT_MAX];
		size_t wl = pkt_build(&want, w);

		ASSERT_PKT_EQ(r.out, r.out_len, w, wl, "translated with new port");
	}
	/* The TC program sees the mapping XDP made: one engine, one state. */
	{
		struct pkt_spec reply = udp4(SERVER_1, 7000, EXT_ADDR, port);
		struct pkt_spec want = udp4(SERVER_1, 7000, CLIENT_A, 40000);
		struct run_result t;
		uint8_t i[PKT_MAX], w[PKT_MAX];
		size_t il = pkt_build(&reply, i), wl = pkt_build(&want, w);

		ASSERT_EQ(run_prog(fx.ingress_fd, i, il, &t), 0, "tc run");
		ASSERT_EQ(t.ret, TC_ACT_OK, "tc verdict");
		ASSERT_PKT_EQ(t.out, t.out_len, w, wl, "TC ingress translates XDP's mapping");
	}
}

TEST(xdp_udp_zero_checksum_stays_zero)
{
	struct pkt_spec in = udp4(CLIENT_A, 40001, SERVER_1, 7000);
	struct pkt_spec want;
	struct run_result r;
	uint8_t buf[PKT_MAX];
	size_t len;
	uint16_t port;

	in.udp_no_csum = 1;
	len = pkt_build(&in, buf);
	ASSERT_EQ(run_xdp(fx.xdp_int_fd, buf, len, fx.int_ifindex, &r), 0, "run");
	ASSERT_EQ(r.ret, XDP_REDIRECT_, "verdict");
	port = (r.out[34] << 8) | r.out[35];
	want = fx_hop(udp4(EXT_ADDR, port, SERVER_1, 7000), FX_EXT0_MAC, FX_SERVER1_MAC);
	want.udp_no_csum = 1;
	{
		uint8_t w[PKT_MAX];
		size_t wl = pkt_build(&want, w);

		ASSERT_PKT_EQ(r.out, r.out_len, w, wl, "checksum still zero");
	}
}

TEST(xdp_tcp_syn_both_ways)
{
	struct pkt_spec out = { .proto = IPPROTO_TCP, .saddr = CLIENT_A, .sport = 26000,
				.daddr = SERVER_1, .dport = 443, .tcp_flags = 0x02,
				.tcp_seq = 1000, .payload_len = 0 };
	struct pkt_spec out_want = out, in, in_want;

	out_want.saddr = EXT_ADDR;
	out_want = fx_hop(out_want, FX_EXT0_MAC, FX_SERVER1_MAC);
	XDP_OUT(&out, &out_want, XDP_REDIRECT_, "SYN out");
	in = (struct pkt_spec){ .proto = IPPROTO_TCP, .saddr = SERVER_1, .sport = 443,
				.daddr = EXT_ADDR, .dport = 26000, .tcp_flags = 0x12,
				.tcp_seq = 5000, .tcp_ack = 1001 };
	in_want = in;
	in_want.daddr = CLIENT_A;
	in_want = fx_hop(in_want, FX_INT0_MAC, FX_CLIENT_A_MAC);
	XDP_IN(&in, &in_want, XDP_REDIRECT_, "SYN-ACK in");
}

TEST(xdp_icmp_echo_both_ways)
{
	struct pkt_spec req = { .proto = IPPROTO_ICMP, .saddr = CLIENT_A, .daddr = SERVER_1,
				.icmp_type = 8, .sport = 0x4242, .icmp_seq = 1, .payload_len = 56 };
	struct pkt_spec req_want, rep, rep_want;
	struct fc_binding b;
	struct fc_endpoint_key k = fx_int_key(FC_AF_INET, FC_AF_INET, IPPROTO_ICMP, CLIENT_A, 0x4242);

	{
		struct run_result r;
		uint8_t buf[PKT_MAX];
		size_t len = pkt_build(&req, buf);

		ASSERT_EQ(run_xdp(fx.xdp_int_fd, buf, len, fx.int_ifindex, &r), 0, "run");
		ASSERT_EQ(r.ret, XDP_REDIRECT_, "echo request verdict");
	}
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &k, &b), 0, "echo mapping");
	req_want = fx_hop(req, FX_EXT0_MAC, FX_SERVER1_MAC);
	req_want.saddr = EXT_ADDR;
	req_want.sport = ntohs(b.port);
	XDP_OUT(&req, &req_want, XDP_REDIRECT_, "echo request (mapping exists)");
	rep = (struct pkt_spec){ .proto = IPPROTO_ICMP, .saddr = SERVER_1, .daddr = EXT_ADDR,
				 .icmp_type = 0, .dport = ntohs(b.port), .icmp_seq = 1,
				 .payload_len = 56 };
	rep_want = fx_hop(rep, FX_INT0_MAC, FX_CLIENT_A_MAC);
	rep_want.daddr = CLIENT_A;
	rep_want.dport = 0x4242;
	XDP_IN(&rep, &rep_want, XDP_REDIRECT_, "echo reply");
}

TEST(xdp_hairpin_between_internal_hosts)
{
	struct pkt_spec b_out = udp4(CLIENT_B, 25100, SERVER_1, 7000);
	struct pkt_spec b_want = fx_hop(udp4(EXT_ADDR, 25100, SERVER_1, 7000), FX_EXT0_MAC, FX_SERVER1_MAC);
	/* A reaches B at B's external endpoint; B sees A's. */
	struct pkt_spec in = udp4(CLIENT_A, 25200, EXT_ADDR, 25100);
	struct pkt_spec want = fx_hop(udp4(EXT_ADDR, 25200, CLIENT_B, 25100), FX_INT0_MAC, FX_CLIENT_B_MAC);

	XDP_OUT(&b_out, &b_want, XDP_REDIRECT_, "B maps its port");
	XDP_OUT(&in, &want, XDP_REDIRECT_, "A -> B hairpinned");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TRANSLATED), 1, "hairpin_translated");
}

/* Each fallback: the frame goes to the stack unchanged, counted. */
#define XDP_PASSES(fd, ifindex, in, stat, what)				\
	do {								\
		XDP_EXPECT(fd, ifindex, in, in, XDP_PASS_, what);	\
		ASSERT_EQ(stat_get(&fx, stat), 1, what ": counted");	\
	} while (0)

TEST(xdp_no_neighbour_passes_untouched_and_creates_nothing)
{
	struct pkt_spec in = udp4(CLIENT_A, 25000, STRANGER, 7000);

	XDP_PASSES(fx.xdp_int_fd, fx.int_ifindex, &in, FC_STAT_FAST_PASS_NO_NEIGH, "no neighbour");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 0, "no mapping yet");
}

TEST(xdp_too_big_for_egress_passes_untouched)
{
	struct pkt_spec in = udp4(CLIENT_A, 25000, SERVER_1, 7000);

	if (system("ip link set ext0 mtu 1280"))
		FAIL("cannot set the MTU");
	in.payload_len = 1300;
	in.frag = 0x4000;	/* DF: the stack answers frag-needed */
	XDP_PASSES(fx.xdp_int_fd, fx.int_ifindex, &in, FC_STAT_FAST_PASS_MTU, "oversize DF");
	if (system("ip link set ext0 mtu 1500"))
		FAIL("cannot restore the MTU");
}

TEST(xdp_ttl_expiring_passes_untouched)
{
	struct pkt_spec in = udp4(CLIENT_A, 25000, SERVER_1, 7000);

	in.ttl = 1;
	XDP_PASSES(fx.xdp_int_fd, fx.int_ifindex, &in, FC_STAT_FAST_PASS_TTL, "TTL 1");
}

TEST(xdp_between_internal_hosts_is_not_nat)
{
	struct pkt_spec in = udp4(CLIENT_A, 25000, CLIENT_B, 7000);

	XDP_PASSES(fx.xdp_int_fd, fx.int_ifindex, &in, FC_STAT_FAST_PASS_NOT_NAT, "LAN to LAN");
}

TEST(xdp_to_the_gateway_passes_untouched)
{
	struct pkt_spec in = udp4(CLIENT_A, 25000, "192.168.77.1", 53);
	struct pkt_spec wan = udp4(SERVER_1, 5000, EXT_ADDR, 22);

	XDP_PASSES(fx.xdp_int_fd, fx.int_ifindex, &in, FC_STAT_FAST_PASS_TO_GATEWAY, "to the LAN address");
	XDP_EXPECT(fx.xdp_ext_fd, fx.ext_ifindex, &wan, &wan, XDP_PASS_, "port outside the range");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_PASS_TO_GATEWAY), 2, "both counted");
}

TEST(xdp_fragments_and_icmp_errors_left_to_tc)
{
	struct pkt_spec frag = udp4(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec q = udp4(EXT_ADDR, 25000, SERVER_1, 7000);
	struct pkt_spec err = { .proto = IPPROTO_ICMP, .saddr = SERVER_1, .daddr = EXT_ADDR,
				.icmp_type = 3, .icmp_code = 3, .quote = &q };

	frag.frag = 0x2000;	/* first fragment, MF */
	XDP_EXPECT(fx.xdp_int_fd, fx.int_ifindex, &frag, &frag, XDP_PASS_, "fragment");
	XDP_EXPECT(fx.xdp_ext_fd, fx.ext_ifindex, &err, &err, XDP_PASS_, "ICMP error");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_PASS_SLOW_PATH), 2, "fast_pass_slow_path");
}

TEST(xdp_not_ipv4_passes_untouched)
{
	struct pkt_spec arp = { .ethertype = 0x0806, .payload_len = 28 };

	XDP_PASSES(fx.xdp_ext_fd, fx.ext_ifindex, &arp, FC_STAT_FAST_PASS_NOT_IPV4, "ARP");
}

TEST(xdp_rfc5382_req4_unsolicited_inbound_dropped)
{
	struct pkt_spec in = udp4(SERVER_1, 5000, EXT_ADDR, 25000);
	struct run_result r;
	uint8_t buf[PKT_MAX];
	size_t len = pkt_build(&in, buf);

	ASSERT_EQ(run_xdp(fx.xdp_ext_fd, buf, len, fx.ext_ifindex, &r), 0, "run");
	ASSERT_EQ(r.ret, XDP_DROP_, "verdict");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 1, "drop_unsolicited");
	ASSERT_EQ(map_count(fx.sessions_fd, sizeof(struct fc_session_key)), 0, "no state");
}

/*
 * The route cache (bpf/lib/route.h): the FIB's answer rides in the
 * mapping's entry -- outbound in the internal side's, inbound in the
 * external side's -- and is reused for the same peer until it expires or
 * fc_config.route_gen moves on.
 */
static int hop_of(int side, const char *addr, uint16_t port, struct fc_hop *h)
{
	struct fc_endpoint_key k;
	struct fc_binding b;

	gc_endpoint_key4(&k, side, FC_PROTO_UDP, ip4(addr), port);
	if (bpf_map_lookup_elem(fx.bindings_fd, &k, &b))
		return -1;
	*h = b.hop;
	return 0;
}

static int hop_set(int side, const char *addr, uint16_t port, const struct fc_hop *h)
{
	struct fc_endpoint_key k;
	struct fc_binding b;

	gc_endpoint_key4(&k, side, FC_PROTO_UDP, ip4(addr), port);
	if (bpf_map_lookup_elem(fx.bindings_fd, &k, &b))
		return -1;
	b.hop = *h;
	return bpf_map_update_elem(fx.bindings_fd, &k, &b, BPF_EXIST);
}

static const uint8_t SERVER1_NEW_MAC[6] = { 0x02, 0, 0, 0, 0x01, 0x42 };

TEST(xdp_route_cache_outbound_hop_kept_in_mapping)
{
	struct pkt_spec in = udp4(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec want = fx_hop(udp4(EXT_ADDR, 25000, SERVER_1, 7000), FX_EXT0_MAC, FX_SERVER1_MAC);
	uint64_t before;
	struct fc_hop h;

	/* The first packet has no mapping to keep the hop in yet; the
	 * second keeps it; the third and fourth use it. Same frame out. */
	XDP_OUT(&in, &want, XDP_REDIRECT_, "first");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_FIB_LOOKUP), 1, "first: FIB");
	XDP_OUT(&in, &want, XDP_REDIRECT_, "second");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_FIB_LOOKUP), 2, "second: FIB");
	before = now_ns();
	ASSERT_EQ(hop_of(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "mapping");
	ASSERT_EQ(h.peer, ip4(SERVER_1), "hop: peer");
	ASSERT_EQ(h.in_ifindex, fx.int_ifindex, "hop: in");
	ASSERT_EQ(h.out_ifindex, fx.ext_ifindex, "hop: out");
	ASSERT_TRUE(!memcmp(h.dmac, FX_SERVER1_MAC, 6), "hop: next hop's MAC");
	ASSERT_TRUE(!memcmp(h.smac, FX_EXT0_MAC, 6), "hop: ext0's MAC");
	ASSERT_EQ(h.gen, fx.cfg.route_gen, "hop: generation");
	ASSERT_EQ(h.seq % 2, 0, "hop: published");
	ASSERT_EQ(h.ok_len, 20 + 8 + 22, "hop: checked length");
	ASSERT_TRUE(h.expires_ns > before && h.expires_ns <= before + FC_HOP_TTL_NS + 10000000,
		    "hop: expires within FC_HOP_TTL_NS");
	XDP_OUT(&in, &want, XDP_REDIRECT_, "third");
	XDP_OUT(&in, &want, XDP_REDIRECT_, "fourth");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_FIB_LOOKUP), 2, "third, fourth: cached");
	ASSERT_EQ(stat_get(&fx, FC_STAT_OUT_TRANSLATED), 4, "translated_out");
}

TEST(xdp_route_cache_inbound_hop_kept_in_external_entry)
{
	struct pkt_spec out = udp4(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec out_want = fx_hop(udp4(EXT_ADDR, 25000, SERVER_1, 7000), FX_EXT0_MAC, FX_SERVER1_MAC);
	struct pkt_spec in = udp4(SERVER_1, 7000, EXT_ADDR, 25000);
	struct pkt_spec want = fx_hop(udp4(SERVER_1, 7000, CLIENT_A, 25000), FX_INT0_MAC, FX_CLIENT_A_MAC);
	struct fc_hop h;

	XDP_OUT(&out, &out_want, XDP_REDIRECT_, "outbound");
	XDP_IN(&in, &want, XDP_REDIRECT_, "inbound 1");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_FIB_LOOKUP), 2, "FIB each way");
	ASSERT_EQ(hop_of(FC_SIDE_EXTERNAL, EXT_ADDR, 25000, &h), 0, "external entry");
	ASSERT_EQ(h.peer, ip4(SERVER_1), "hop: the remote source");
	ASSERT_EQ(h.out_ifindex, fx.int_ifindex, "hop: out of int0");
	ASSERT_TRUE(!memcmp(h.dmac, FX_CLIENT_A_MAC, 6), "hop: the host's MAC");
	XDP_IN(&in, &want, XDP_REDIRECT_, "inbound 2");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_FIB_LOOKUP), 2, "inbound 2: cached");
}

TEST(xdp_route_cache_other_peer_asks_fib_and_leaves_live_hop)
{
	struct pkt_spec to1 = udp4(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec want1 = fx_hop(udp4(EXT_ADDR, 25000, SERVER_1, 7000), FX_EXT0_MAC, FX_SERVER1_MAC);
	struct pkt_spec to2 = udp4(CLIENT_A, 25000, SERVER_2, 7000);
	static const uint8_t server2_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x03 };
	struct pkt_spec want2 = fx_hop(udp4(EXT_ADDR, 25000, SERVER_2, 7000), FX_EXT0_MAC, server2_mac);
	struct fc_hop h;

	XDP_OUT(&to1, &want1, XDP_REDIRECT_, "to SERVER_1");
	XDP_OUT(&to1, &want1, XDP_REDIRECT_, "to SERVER_1, kept");
	XDP_OUT(&to2, &want2, XDP_REDIRECT_, "to SERVER_2: its own next hop");
	XDP_OUT(&to2, &want2, XDP_REDIRECT_, "to SERVER_2 again");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_FIB_LOOKUP), 4, "SERVER_2 never from the cache");
	ASSERT_EQ(hop_of(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "mapping");
	ASSERT_EQ(h.peer, ip4(SERVER_1), "the live hop stays SERVER_1's");
	XDP_OUT(&to1, &want1, XDP_REDIRECT_, "to SERVER_1 once more");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_FIB_LOOKUP), 4, "SERVER_1 still cached");
}

/* Delete the UDP session towards remote_port (host order); 0 if there was one. */
static int session_drop(uint16_t remote_port)
{
	struct fc_session_key k, next;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fx.sessions_fd, prev, &next)) {
		k = next;
		prev = &k;
		if (k.proto == IPPROTO_UDP && k.remote_port == htons(remote_port))
			return bpf_map_delete_elem(fx.sessions_fd, &k);
	}
	return -1;
}

/*
 * The session shortcut (bpf/lib/sess_hint.h): once a packet has refreshed
 * its session a grace ahead, the next packets of the mapping to the same
 * remote endpoint skip the session lookup (seen here by deleting the
 * session: it is not made again); another remote port, or the same one
 * once the hint is stale, looks its session up (and makes it) as before. A
 * live hint is not taken over by another port (one write per grace, not per
 * packet, for a mapping that talks to many ports of a host).
 */
TEST(xdp_session_shortcut_only_for_the_session_just_refreshed)
{
	struct pkt_spec to1 = udp4(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec want1 = fx_hop(udp4(EXT_ADDR, 25000, SERVER_1, 7000), FX_EXT0_MAC, FX_SERVER1_MAC);
	struct pkt_spec to2 = udp4(CLIENT_A, 25000, SERVER_1, 7001);
	struct pkt_spec want2 = fx_hop(udp4(EXT_ADDR, 25000, SERVER_1, 7001), FX_EXT0_MAC, FX_SERVER1_MAC);
	size_t ks = sizeof(struct fc_session_key);
	uint32_t now_u;
	struct fc_hop h;

	XDP_OUT(&to1, &want1, XDP_REDIRECT_, "first: mapping and session");
	XDP_OUT(&to1, &want1, XDP_REDIRECT_, "second: hop and hint kept");
	ASSERT_EQ(hop_of(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "mapping");
	ASSERT_EQ(h.sess_rport, htons(7000), "hint: the remote port");
	ASSERT_NE(h.sess_until, 0, "hint: set");
	ASSERT_EQ(session_drop(7000), 0, "session deleted behind the hint");
	XDP_OUT(&to1, &want1, XDP_REDIRECT_, "third: translated from the mapping alone");
	ASSERT_EQ(map_count(fx.sessions_fd, ks), 0, "third: no session lookup, none made");

	XDP_OUT(&to2, &want2, XDP_REDIRECT_, "another remote port");
	ASSERT_EQ(map_count(fx.sessions_fd, ks), 1, "its session made");
	ASSERT_EQ(hop_of(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "mapping");
	ASSERT_EQ(h.sess_rport, htons(7000), "the live hint stays the first port's");

	/* A stale hint (its time passed) is not used, and is taken over. */
	now_u = (uint32_t)(now_ns() >> FC_CLOCK_UNIT_SHIFT);
	h.sess_until = now_u - 1;
	ASSERT_EQ(hop_set(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "hint in the past");
	XDP_OUT(&to1, &want1, XDP_REDIRECT_, "stale hint");
	ASSERT_EQ(map_count(fx.sessions_fd, ks), 2, "stale hint: session made again");
	ASSERT_EQ(hop_of(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "mapping");
	ASSERT_EQ(h.sess_rport, htons(7000), "hint renewed");
	h.sess_until = now_u - 1;
	ASSERT_EQ(hop_set(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "hint in the past");
	XDP_OUT(&to2, &want2, XDP_REDIRECT_, "the other port, hint stale");
	ASSERT_EQ(hop_of(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "mapping");
	ASSERT_EQ(h.sess_rport, htons(7001), "stale hint taken over by the other port");
	ASSERT_EQ(session_drop(7000), 0, "first port's session deleted");
	XDP_OUT(&to1, &want1, XDP_REDIRECT_, "first port, hint the other's");
	ASSERT_EQ(map_count(fx.sessions_fd, ks), 2, "looked up and made again");

	/* One from far ahead (a wrapped clock) is not used either. */
	ASSERT_EQ(session_drop(7000), 0, "and again");
	ASSERT_EQ(hop_of(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "mapping");
	h.sess_rport = htons(7000);
	h.sess_until = (uint32_t)(now_ns() >> FC_CLOCK_UNIT_SHIFT) + (1u << 30);
	ASSERT_EQ(hop_set(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "hint far ahead");
	XDP_OUT(&to1, &want1, XDP_REDIRECT_, "hint far ahead");
	ASSERT_EQ(map_count(fx.sessions_fd, ks), 2, "far-ahead hint: session made again");
}

TEST(xdp_route_cache_stale_on_route_gen_expiry_and_half_written)
{
	struct pkt_spec in = udp4(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec want = fx_hop(udp4(EXT_ADDR, 25000, SERVER_1, 7000), FX_EXT0_MAC, FX_SERVER1_MAC);
	struct pkt_spec want_new = fx_hop(udp4(EXT_ADDR, 25000, SERVER_1, 7000), FX_EXT0_MAC,
					  SERVER1_NEW_MAC);
	struct fc_hop h;

	XDP_OUT(&in, &want, XDP_REDIRECT_, "first");
	XDP_OUT(&in, &want, XDP_REDIRECT_, "second: hop kept");
	/* The neighbour moves: the cached hop still names the old MAC ... */
	if (system("ip neigh replace " SERVER_1 " lladdr 02:00:00:00:01:42 dev ext0 nud permanent"))
		FAIL("cannot change the neighbour");
	/* ... however long ip(8) took (seconds in an emulated VM): the hop's
	 * own expiry is not what this part tests. */
	ASSERT_EQ(hop_of(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "mapping");
	h.expires_ns = now_ns() + 60ULL * 1000000000ULL;
	ASSERT_EQ(hop_set(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "hop held");
	XDP_OUT(&in, &want, XDP_REDIRECT_, "cached: old MAC");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_FIB_LOOKUP), 2, "no FIB");
	/* ... until user space says routes changed. */
	fx.cfg.route_gen++;
	ASSERT_EQ(loader_write_config(&fx.loader, &fx.cfg), 0, "route_gen moved on");
	XDP_OUT(&in, &want_new, XDP_REDIRECT_, "new generation: new MAC");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_FIB_LOOKUP), 3, "FIB again");
	XDP_OUT(&in, &want_new, XDP_REDIRECT_, "cached again");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_FIB_LOOKUP), 3, "kept again");

	/* Expired: asked again, and kept with a new expiry. */
	ASSERT_EQ(hop_of(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "mapping");
	h.expires_ns = now_ns() - 1;
	ASSERT_EQ(hop_set(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "expire it");
	XDP_OUT(&in, &want_new, XDP_REDIRECT_, "expired");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_FIB_LOOKUP), 4, "expired: FIB");
	ASSERT_EQ(hop_of(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "mapping");
	ASSERT_TRUE(h.expires_ns > now_ns(), "renewed");

	/* Half written by another CPU (seq odd): neither used nor touched. */
	h.seq |= 1;
	ASSERT_EQ(hop_set(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "claim it");
	XDP_OUT(&in, &want_new, XDP_REDIRECT_, "being written");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_FIB_LOOKUP), 5, "being written: FIB");
	ASSERT_EQ(hop_of(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "mapping");
	ASSERT_EQ(h.seq % 2, 1, "left to its writer");

	if (system("ip neigh replace " SERVER_1 " lladdr 02:00:00:00:01:02 dev ext0 nud permanent"))
		FAIL("cannot restore the neighbour");
}

TEST(xdp_route_cache_longer_packet_asks_fib_for_the_mtu)
{
	struct pkt_spec in = udp4(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec want = fx_hop(udp4(EXT_ADDR, 25000, SERVER_1, 7000), FX_EXT0_MAC, FX_SERVER1_MAC);
	struct pkt_spec big = in;

	XDP_OUT(&in, &want, XDP_REDIRECT_, "first");
	XDP_OUT(&in, &want, XDP_REDIRECT_, "second: hop kept for 50 bytes");
	/* The MTU shrinks without a route event reaching anyone: a longer
	 * packet than the hop was checked for goes to the FIB, which says
	 * too big. */
	if (system("ip link set ext0 mtu 1280"))
		FAIL("cannot set the MTU");
	big.payload_len = 1300;
	big.frag = 0x4000;
	XDP_EXPECT(fx.xdp_int_fd, fx.int_ifindex, &big, &big, XDP_PASS_, "oversize DF");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_PASS_MTU), 1, "fast_pass_mtu");
	if (system("ip link set ext0 mtu 1500"))
		FAIL("cannot restore the MTU");
}

TEST(xdp_route_cache_user_space_writes_clear_the_hop)
{
	struct pkt_spec in = udp4(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec want = fx_hop(udp4(EXT_ADDR, 25000, SERVER_1, 7000), FX_EXT0_MAC, FX_SERVER1_MAC);
	struct fc_endpoint_key k;
	struct fc_binding b;
	struct fc_hop h, zero = {};

	XDP_OUT(&in, &want, XDP_REDIRECT_, "first");
	XDP_OUT(&in, &want, XDP_REDIRECT_, "second");
	ASSERT_EQ(hop_of(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "mapping");
	ASSERT_TRUE(h.expires_ns != 0, "a hop");
	gc_endpoint_key4(&k, FC_SIDE_INTERNAL, FC_PROTO_UDP, ip4(CLIENT_A), 25000);
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &k, &b), 0, "read");
	ASSERT_EQ(gc_binding_write(fx.bindings_fd, &k, &b, BPF_EXIST), 0, "write back");
	ASSERT_EQ(hop_of(FC_SIDE_INTERNAL, CLIENT_A, 25000, &h), 0, "mapping");
	ASSERT_TRUE(!memcmp(&h, &zero, sizeof(h)), "hop cleared");
	XDP_OUT(&in, &want, XDP_REDIRECT_, "after the write");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_FIB_LOOKUP), 3, "FIB again");
}
