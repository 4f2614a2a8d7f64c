// SPDX-License-Identifier: GPL-2.0
/*
 * NAT44 packet-in/packet-out tests through BPF_PROG_TEST_RUN. Each builds a
 * packet, runs the real TC program, and compares the whole output packet
 * (headers and checksums, computed from scratch by pkt_build) and the maps.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "fcnat_tc.skel.h"
#include "fixture.h"
#include "kernel_features.h"
#include "harness.h"
#include "spec4.h"
#include <fcnat/rules.h>

/* The transitory timeout as stored: up to a grace later (coarse refresh,
 * doc/design/expiry.md), never earlier. */
#define TRANS_STORED_MAX (240 * SEC_NS + fc_refresh_grace(240 * SEC_NS))

#define SEC_NS 1000000000ULL

/* The internal side's mapping: 0 and *b if present. */
static int lookup_mapping(int proto, const char *addr, uint16_t port, struct fc_binding *b)
{
	struct fc_endpoint_key k = fx_int_key(FC_AF_INET, FC_AF_INET, proto, addr, port);

	return bpf_map_lookup_elem(fx.bindings_fd, &k, b);
}

static int lookup_session(int proto, uint16_t ext_port, const char *remote, uint16_t remote_port,
			  struct fc_session *s)
{
	struct fc_session_key k;

	memset(&k, 0, sizeof(k));
	k.family = FC_AF_INET;
	k.proto = proto;
	k.ext_addr.v4 = ip4(EXT_ADDR);
	k.ext_port = htons(ext_port);
	k.remote_addr.v4 = ip4(remote);
	k.remote_port = htons(remote_port);
	return bpf_map_lookup_elem(fx.sessions_fd, &k, s);
}

/* Run `in` through prog and require exactly `want` out, with verdict. */
#define EXPECT_PACKET(prog_fd, in, want, verdict, what) \
	EXPECT_SPEC_FROM(prog_fd, in, FORWARDED_FROM, want, verdict, what)

/* Run `in` and require it to come out unchanged with verdict. */
#define EXPECT_UNCHANGED(prog_fd, in, verdict, what) EXPECT_PACKET(prog_fd, in, in, verdict, what)

/* Outbound packet, returns its external port (0 on failure). */
static uint16_t out_port(const struct pkt_spec *in)
{
	struct run_result r;

	if (run_spec(fx.egress_fd, in, &r) || r.ret != TC_ACT_OK || r.out_len < 14 + 20 + 8)
		return 0;
	return in->proto == IPPROTO_ICMP ? (r.out[14 + 20 + 4] << 8) | r.out[14 + 20 + 5]
					 : (r.out[14 + 20] << 8) | r.out[14 + 20 + 1];
}

TEST(rfc4787_req1_udp_snat_preserves_port_in_range)
{
	struct pkt_spec in = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec want = udp(EXT_ADDR, 25000, SERVER_1, 7000);
	struct fc_binding b, back;
	struct fc_endpoint_key ek = fx_ext_key(FC_AF_INET, IPPROTO_UDP, EXT_ADDR, 25000);
	struct fc_session s;

	EXPECT_PACKET(fx.egress_fd, &in, &want, TC_ACT_OK, "outbound UDP");
	ASSERT_EQ(lookup_mapping(IPPROTO_UDP, CLIENT_A, 25000, &b), 0, "internal-side entry");
	ASSERT_EQ(b.addr.v4, ip4(EXT_ADDR), "mapped address");
	ASSERT_EQ(ntohs(b.port), 25000, "mapped port");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ek, &back), 0, "external-side entry");
	ASSERT_EQ(back.addr.v4, ip4(CLIENT_A), "reverse address");
	ASSERT_EQ(ntohs(back.port), 25000, "reverse port");
	ASSERT_EQ(lookup_session(IPPROTO_UDP, 25000, SERVER_1, 7000, &s), 0, "session");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 2, "binding entries");
	ASSERT_EQ(stat_get(&fx, FC_STAT_OUT_TRANSLATED), 1, "translated_out");
}

TEST(rfc4787_req1_udp_one_mapping_for_every_destination)
{
	struct pkt_spec a = udp(CLIENT_A, 40000, SERVER_1, 7000);
	struct pkt_spec b = udp(CLIENT_A, 40000, SERVER_2, 9999);
	uint16_t p1 = out_port(&a), p2 = out_port(&b);
	struct fc_session s;

	ASSERT_TRUE(p1 >= 20000 && p1 <= 29999, "port in the range");
	ASSERT_EQ(p2, p1, "same external port for a second destination");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 2, "one mapping");
	ASSERT_EQ(map_count(fx.sessions_fd, sizeof(struct fc_session_key)), 2, "two sessions");
	ASSERT_EQ(lookup_session(IPPROTO_UDP, p1, SERVER_2, 9999, &s), 0, "second session");
}

TEST(rfc4787_req3_no_port_overloading_on_collision)
{
	struct pkt_spec a = udp(CLIENT_A, 25001, SERVER_1, 7000);
	struct pkt_spec b = udp(CLIENT_B, 25001, SERVER_1, 7000);
	uint16_t pa = out_port(&a), pb = out_port(&b);

	ASSERT_EQ(pa, 25001, "first keeps its port");
	ASSERT_NE(pb, 25001, "second gets another port");
	ASSERT_TRUE(pb >= 20000 && pb <= 29999, "second port in the range");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 4, "two mappings");
}

TEST(port_outside_range_is_mapped_into_range)
{
	struct pkt_spec a = udp(CLIENT_A, 40000, SERVER_1, 7000);
	struct pkt_spec low = udp(CLIENT_A, 123, SERVER_1, 123);
	uint16_t p = out_port(&a), pl = out_port(&low);

	ASSERT_TRUE(p >= 20000 && p <= 29999, "high port mapped into the range");
	ASSERT_TRUE(pl >= 20000 && pl <= 29999, "low port mapped into the range");
}

TEST(low_port_in_range_not_preserved_unless_configured)
{
	struct pkt_spec a = udp(CLIENT_A, 500, SERVER_1, 7000);
	struct pkt_spec b = udp(CLIENT_B, 501, SERVER_1, 7000);
	uint16_t p;

	fx.opts.nr_port_ranges = 1;
	fx.opts.port_ranges[0] = (struct fc_port_range){ 500, 600 };
	fixture_apply(&fx);
	p = out_port(&a);
	ASSERT_TRUE(p >= 500 && p <= 600, "in range");
	fx.opts.preserve_low_ports = true;
	fixture_apply(&fx);
	/* A free low port: A's random one may have been 501. */
	b.sport = p == 501 ? 502 : 501;
	ASSERT_EQ(out_port(&b), b.sport, "preserved once configured");
}

TEST(configured_port_ranges_are_honoured)
{
	struct pkt_spec a = udp(CLIENT_A, 40000, SERVER_1, 7000);
	uint16_t p;

	fx.opts.nr_port_ranges = 2;
	fx.opts.port_ranges[0] = (struct fc_port_range){ 30000, 30000 };
	fx.opts.port_ranges[1] = (struct fc_port_range){ 31000, 31001 };
	fixture_apply(&fx);
	for (int i = 0; i < 3; i++) {
		a.sport = 40000 + i;
		p = out_port(&a);
		ASSERT_TRUE(p == 30000 || p == 31000 || p == 31001, "port from the configured ranges");
	}
}

TEST(ports_exhausted_refuses_new_flow_without_leaking)
{
	struct pkt_spec a = udp(CLIENT_A, 40000, SERVER_1, 7000);
	struct run_result r;

	fx.opts.nr_port_ranges = 1;
	fx.opts.port_ranges[0] = (struct fc_port_range){ 30000, 30001 };
	fixture_apply(&fx);
	ASSERT_NE(out_port(&a), 0, "first mapping");
	a.sport = 40001;
	ASSERT_NE(out_port(&a), 0, "second mapping");
	a.sport = 40002;
	ASSERT_EQ(run_spec(fx.egress_fd, &a, &r), 0, "test run");
	/* Refused, never sent untranslated: it came back to its sender as an
	 * ICMP error instead (test_cgnat.c checks that error byte by byte). */
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "third flow refused, answered");
	ASSERT_EQ(r.out[14 + 9], IPPROTO_ICMP, "turned into an ICMP error");
	ASSERT_EQ(memcmp(r.out + 14 + 16, &(uint32_t){ ip4(CLIENT_A) }, 4), 0, "to its sender");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_PORTS_EXHAUSTED), 1, "counted");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 4, "no half mapping left");
	a.sport = 40000;
	ASSERT_NE(out_port(&a), 0, "existing flow still translated");
}

TEST(rfc4787_req8_udp_eif_inbound_from_never_contacted_host)
{
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec in = udp(STRANGER, 5555, EXT_ADDR, 25000);
	struct pkt_spec want = udp(STRANGER, 5555, CLIENT_A, 25000);
	struct fc_session s;

	ASSERT_EQ(out_port(&out), 25000, "mapping");
	EXPECT_PACKET(fx.ingress_fd, &in, &want, TC_ACT_OK, "inbound from a new host");
	ASSERT_EQ(lookup_session(IPPROTO_UDP, 25000, STRANGER, 5555, &s), 0, "session for it");
	ASSERT_EQ(stat_get(&fx, FC_STAT_IN_TRANSLATED), 1, "translated_in");
}

TEST(udp_reply_from_contacted_server_translated)
{
	struct pkt_spec out = udp(CLIENT_A, 40000, SERVER_1, 7000);
	uint16_t p = out_port(&out);
	struct pkt_spec in = udp(SERVER_1, 7000, EXT_ADDR, p);
	struct pkt_spec want = udp(SERVER_1, 7000, CLIENT_A, 40000);

	ASSERT_NE(p, 0, "mapping");
	EXPECT_PACKET(fx.ingress_fd, &in, &want, TC_ACT_OK, "reply");
}

TEST(udp_zero_checksum_stays_zero_both_ways)
{
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec out_want = udp(EXT_ADDR, 25000, SERVER_1, 7000);
	struct pkt_spec in = udp(SERVER_2, 53, EXT_ADDR, 25000);
	struct pkt_spec in_want = udp(SERVER_2, 53, CLIENT_A, 25000);

	out.udp_no_csum = out_want.udp_no_csum = 1;
	in.udp_no_csum = in_want.udp_no_csum = 1;
	EXPECT_PACKET(fx.egress_fd, &out, &out_want, TC_ACT_OK, "outbound");
	EXPECT_PACKET(fx.ingress_fd, &in, &in_want, TC_ACT_OK, "inbound");
}

TEST(udp_port_change_rewrites_checksum)
{
	/* Colliding port forces a different one: port and address both change. */
	struct pkt_spec a = udp(CLIENT_A, 25002, SERVER_1, 7000);
	struct pkt_spec b = udp(CLIENT_B, 25002, SERVER_1, 7000);
	struct pkt_spec want;
	uint16_t pb;

	ASSERT_EQ(out_port(&a), 25002, "first");
	pb = out_port(&b);
	ASSERT_NE(pb, 0, "second mapped");
	fixture_reset(&fx);
	ASSERT_EQ(out_port(&a), 25002, "first again");
	want = udp(EXT_ADDR, pb, SERVER_1, 7000);
	/* The allocator is random: rerun until the same port comes out is not
	 * needed: compare against whatever port it chose. */
	{
		struct run_result r;
		uint8_t w[PKT_MAX];
		size_t wl;

		ASSERT_EQ(run_spec(fx.egress_fd, &b, &r), 0, "test run");
		ASSERT_EQ(r.ret, TC_ACT_OK, "verdict");
		want.sport = (r.out[34] << 8) | r.out[35];
		ASSERT_NE(want.sport, 25002, "moved");
		wl = pkt_build(&want, w);
		ASSERT_PKT_EQ(r.out, r.out_len, w, wl, "rewritten port and checksum");
	}
}

TEST(rfc5382_req1_tcp_eim_and_translation)
{
	struct pkt_spec syn = tcp(CLIENT_A, 25010, SERVER_1, 80, 0x02);
	struct pkt_spec syn_want = tcp(EXT_ADDR, 25010, SERVER_1, 80, 0x02);
	struct pkt_spec synack = tcp(SERVER_1, 80, EXT_ADDR, 25010, 0x12);
	struct pkt_spec synack_want = tcp(SERVER_1, 80, CLIENT_A, 25010, 0x12);
	struct pkt_spec syn2 = tcp(CLIENT_A, 25010, SERVER_2, 443, 0x02);

	EXPECT_PACKET(fx.egress_fd, &syn, &syn_want, TC_ACT_OK, "SYN out");
	EXPECT_PACKET(fx.ingress_fd, &synack, &synack_want, TC_ACT_OK, "SYN-ACK in");
	ASSERT_EQ(out_port(&syn2), 25010, "same mapping towards a second server");
}

TEST(rfc5382_req5_tcp_established_timeout_after_syn_both_ways)
{
	struct pkt_spec syn = tcp(CLIENT_A, 40000, SERVER_1, 80, 0x02);
	uint16_t p = out_port(&syn);
	struct pkt_spec synack = tcp(SERVER_1, 80, EXT_ADDR, p, 0x12);
	struct pkt_spec fin_out = tcp(CLIENT_A, 40000, SERVER_1, 80, 0x11);
	struct pkt_spec fin_in = tcp(SERVER_1, 80, EXT_ADDR, p, 0x11);
	struct run_result r;
	struct fc_session s;
	uint64_t t0;

	ASSERT_EQ(lookup_session(IPPROTO_TCP, p, SERVER_1, 80, &s), 0, "session after SYN");
	t0 = now_ns();
	ASSERT_TRUE(s.expires_ns <= t0 + TRANS_STORED_MAX, "SYN only: transitory timeout");
	ASSERT_EQ(run_spec(fx.ingress_fd, &synack, &r), 0, "SYN-ACK");
	ASSERT_EQ(lookup_session(IPPROTO_TCP, p, SERVER_1, 80, &s), 0, "session");
	ASSERT_TRUE(s.expires_ns >= t0 + 7440 * SEC_NS - 5 * SEC_NS, "established: >= 2 h 4 min");
	ASSERT_EQ(s.tcp_seen & (FC_TCP_SYN_OUT | FC_TCP_SYN_IN), FC_TCP_SYN_OUT | FC_TCP_SYN_IN,
		  "SYN seen both ways");
	ASSERT_EQ(out_port(&fin_out), p, "FIN out");
	ASSERT_EQ(run_spec(fx.ingress_fd, &fin_in, &r), 0, "FIN in");
	ASSERT_EQ(lookup_session(IPPROTO_TCP, p, SERVER_1, 80, &s), 0, "session");
	ASSERT_TRUE(s.expires_ns <= now_ns() + TRANS_STORED_MAX, "FIN both ways: transitory");
}

TEST(tcp_rst_moves_session_to_transitory)
{
	struct pkt_spec syn = tcp(CLIENT_A, 40000, SERVER_1, 80, 0x02);
	uint16_t p = out_port(&syn);
	struct pkt_spec synack = tcp(SERVER_1, 80, EXT_ADDR, p, 0x12);
	struct pkt_spec rst = tcp(SERVER_1, 80, EXT_ADDR, p, 0x04);
	struct run_result r;
	struct fc_session s;

	ASSERT_EQ(run_spec(fx.ingress_fd, &synack, &r), 0, "SYN-ACK");
	ASSERT_EQ(run_spec(fx.ingress_fd, &rst, &r), 0, "RST");
	ASSERT_EQ(r.ret, TC_ACT_OK, "RST delivered");
	ASSERT_EQ(lookup_session(IPPROTO_TCP, p, SERVER_1, 80, &s), 0, "session kept");
	ASSERT_TRUE(s.expires_ns <= now_ns() + TRANS_STORED_MAX, "transitory after RST");
}

/*
 * Coarse refresh (doc/design/expiry.md): a packet pushes its session's
 * expiry to at least now + timeout, never less (RFC 4787 REQ-5's floor
 * holds), and writes it only when the stored one is outside
 * [now + timeout, now + timeout + grace]: the packets within a grace of
 * the write leave the entry's line clean.
 */
TEST(coarse_refresh_session_expiry_never_early_written_once_per_grace)
{
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	uint64_t udp_t = fx.cfg.timeout_ns[FC_TIMEOUT_UDP], grace = fc_refresh_grace(udp_t);
	uint64_t t0, t1, written;
	struct fc_session_key k;
	struct fc_session s;
	uint16_t p;

	ASSERT_EQ(grace, udp_t / 64 < FC_REFRESH_MAX_NS ? udp_t / 64 : FC_REFRESH_MAX_NS,
		  "grace: a 64th of the timeout, at most FC_REFRESH_MAX_NS");
	t0 = now_ns();
	p = out_port(&out);
	t1 = now_ns();
	ASSERT_EQ(lookup_session(IPPROTO_UDP, p, SERVER_1, 7000, &s), 0, "session");
	ASSERT_TRUE(s.expires_ns >= t0 + udp_t, "never before now + timeout");
	ASSERT_TRUE(s.expires_ns <= t1 + udp_t + grace, "at most a grace after");
	written = s.expires_ns;
	ASSERT_EQ(out_port(&out), p, "second packet");
	ASSERT_EQ(lookup_session(IPPROTO_UDP, p, SERVER_1, 7000, &s), 0, "session");
	/* Unless the clock moved past the window meanwhile (a slow VM). */
	if (now_ns() + udp_t <= written)
		ASSERT_EQ(s.expires_ns, written, "within the grace: not written again");

	/* Stored expiry too early for this packet (its last write a grace
	 * ago and more): written, to now + timeout at least. */
	ASSERT_EQ(bpf_map_get_next_key(fx.sessions_fd, NULL, &k), 0, "session key");
	s.expires_ns = now_ns() + udp_t - 2 * grace - 1;
	ASSERT_EQ(bpf_map_update_elem(fx.sessions_fd, &k, &s, BPF_EXIST), 0, "age the session");
	t0 = now_ns();
	ASSERT_EQ(out_port(&out), p, "third packet");
	ASSERT_EQ(lookup_session(IPPROTO_UDP, p, SERVER_1, 7000, &s), 0, "session");
	ASSERT_TRUE(s.expires_ns >= t0 + udp_t, "aged: pushed to now + timeout at least");

	/* Stored expiry later than the window (the timeout was shortened):
	 * brought back within it. */
	s.expires_ns = now_ns() + udp_t + 10 * grace + SEC_NS;
	ASSERT_EQ(bpf_map_update_elem(fx.sessions_fd, &k, &s, BPF_EXIST), 0, "push it out");
	ASSERT_EQ(out_port(&out), p, "fourth packet");
	t1 = now_ns();
	ASSERT_EQ(lookup_session(IPPROTO_UDP, p, SERVER_1, 7000, &s), 0, "session");
	ASSERT_TRUE(s.expires_ns <= t1 + udp_t + grace, "beyond the window: back within it");
}

TEST(rfc5382_req3_tcp_eif_inbound_syn_from_new_host)
{
	struct pkt_spec syn = tcp(CLIENT_A, 25020, SERVER_1, 80, 0x02);
	struct pkt_spec in = tcp(STRANGER, 6000, EXT_ADDR, 25020, 0x02);
	struct pkt_spec want = tcp(STRANGER, 6000, CLIENT_A, 25020, 0x02);

	ASSERT_EQ(out_port(&syn), 25020, "mapping");
	EXPECT_PACKET(fx.ingress_fd, &in, &want, TC_ACT_OK, "inbound SYN through the mapping");
}

TEST(rfc5508_req1_icmp_echo_id_mapped_and_reply_translated)
{
	struct pkt_spec req = echo(CLIENT_A, SERVER_1, 8, 1234);
	uint16_t id = out_port(&req);
	struct pkt_spec req_want = echo(EXT_ADDR, SERVER_1, 8, id);
	struct pkt_spec reply = echo(SERVER_1, EXT_ADDR, 0, id);
	struct pkt_spec reply_want = echo(SERVER_1, CLIENT_A, 0, 1234);
	struct pkt_spec req2 = echo(CLIENT_A, SERVER_2, 8, 1234);

	ASSERT_TRUE(id >= 20000 && id <= 29999, "identifier mapped into the range");
	fixture_reset(&fx);
	/* Same again with the whole packets compared; the id is preserved
	 * when it is inside the range. */
	req = echo(CLIENT_A, SERVER_1, 8, 21234);
	req_want = echo(EXT_ADDR, SERVER_1, 8, 21234);
	reply = echo(SERVER_1, EXT_ADDR, 0, 21234);
	reply_want = echo(SERVER_1, CLIENT_A, 0, 21234);
	EXPECT_PACKET(fx.egress_fd, &req, &req_want, TC_ACT_OK, "echo request out");
	EXPECT_PACKET(fx.ingress_fd, &reply, &reply_want, TC_ACT_OK, "echo reply in");
	req2.sport = 21234;
	ASSERT_EQ(out_port(&req2), 21234, "same identifier to another host (EIM)");
}

TEST(icmp_echo_id_change_rewrites_checksum)
{
	struct pkt_spec a = echo(CLIENT_A, SERVER_1, 8, 1);
	struct run_result r;
	struct pkt_spec want;
	uint8_t w[PKT_MAX];
	size_t wl;

	ASSERT_EQ(run_spec(fx.egress_fd, &a, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_OK, "verdict");
	want = echo(EXT_ADDR, SERVER_1, 8, (r.out[38] << 8) | r.out[39]);
	ASSERT_NE(want.sport, 1, "id moved into the range");
	wl = pkt_build(&want, w);
	ASSERT_PKT_EQ(r.out, r.out_len, w, wl, "echo with new id");
}

TEST(inbound_port_outside_range_passes_untouched)
{
	struct pkt_spec in = tcp(SERVER_1, 5000, EXT_ADDR, 22, 0x02);

	EXPECT_UNCHANGED(fx.ingress_fd, &in, TC_ACT_OK, "inbound to port 22");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PASS_OUT_OF_RANGE), 1, "counted");
	ASSERT_EQ(map_count(fx.sessions_fd, sizeof(struct fc_session_key)), 0, "no state");
}

TEST(rfc5382_req4_unsolicited_inbound_dropped_and_creates_nothing)
{
	struct pkt_spec in = udp(STRANGER, 5000, EXT_ADDR, 25555);
	struct pkt_spec syn = tcp(STRANGER, 5000, EXT_ADDR, 25555, 0x02);

	EXPECT_UNCHANGED(fx.ingress_fd, &in, TC_ACT_SHOT, "UDP to an unmapped port of the range");
	EXPECT_UNCHANGED(fx.ingress_fd, &syn, TC_ACT_SHOT, "SYN to an unmapped port of the range");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 2, "counted");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 0, "no mapping");
	ASSERT_EQ(map_count(fx.sessions_fd, sizeof(struct fc_session_key)), 0, "no session");
}

TEST(inbound_echo_request_and_other_hosts_pass_untouched)
{
	struct pkt_spec ping = echo(SERVER_1, EXT_ADDR, 8, 25000);
	struct pkt_spec other = udp(SERVER_1, 5000, "198.51.100.9", 25000);

	EXPECT_UNCHANGED(fx.ingress_fd, &ping, TC_ACT_OK, "ping of the gateway");
	EXPECT_UNCHANGED(fx.ingress_fd, &other, TC_ACT_OK, "not our address");
}

/*
 * The datapath reads the real clock, which may have started a minute ago: a
 * time 10 minutes back would lie before boot. So an idle mapping is made by
 * a 1 s UDP timeout and a last packet at boot (time 0), which every uptime
 * over a second has left behind.
 */
static void age_udp_mappings_past_timeout(void)
{
	fx.opts.timeout_s[FC_TIMEOUT_UDP] = 1;
	fixture_apply(&fx);
	ASSERT_TRUE(now_ns() > 2 * SEC_NS, "the clock is past boot + the 1 s timeout");
}

TEST(expired_mapping_no_longer_translates)
{
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec in = udp(STRANGER, 5555, EXT_ADDR, 25000);
	struct fc_endpoint_key ik = fx_int_key(FC_AF_INET, FC_AF_INET, IPPROTO_UDP, CLIENT_A, 25000);
	struct fc_binding b;

	age_udp_mappings_past_timeout();
	ASSERT_EQ(out_port(&out), 25000, "mapping");
	/* Age it: last outbound packet at boot, no live session. */
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "read");
	b.last_out_ns = 0;
	b.sessions_until_ns = 0;
	ASSERT_EQ(bpf_map_update_elem(fx.bindings_fd, &ik, &b, BPF_EXIST), 0, "age");
	EXPECT_UNCHANGED(fx.ingress_fd, &in, TC_ACT_SHOT, "new remote, expired mapping");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 1, "counted as unsolicited");
	/* A session that is still live keeps the mapping usable (REQ-5):
	 * the sweeper publishes it in sessions_until_ns. */
	b.sessions_until_ns = now_ns() + 60 * SEC_NS;
	ASSERT_EQ(bpf_map_update_elem(fx.bindings_fd, &ik, &b, BPF_EXIST), 0, "publish session");
	{
		struct pkt_spec want = udp(STRANGER, 5555, CLIENT_A, 25000);

		EXPECT_PACKET(fx.ingress_fd, &in, &want, TC_ACT_OK, "mapping alive through a session");
	}
}

TEST(expired_session_of_expired_mapping_not_translated)
{
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec reply = udp(SERVER_1, 7000, EXT_ADDR, 25000);
	struct fc_endpoint_key ik = fx_int_key(FC_AF_INET, FC_AF_INET, IPPROTO_UDP, CLIENT_A, 25000);
	struct fc_session_key sk;
	struct fc_session s;
	struct fc_binding b;

	age_udp_mappings_past_timeout();
	ASSERT_EQ(out_port(&out), 25000, "mapping");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "read");
	b.last_out_ns = 0;
	ASSERT_EQ(bpf_map_update_elem(fx.bindings_fd, &ik, &b, BPF_EXIST), 0, "age mapping");
	ASSERT_EQ(bpf_map_get_next_key(fx.sessions_fd, NULL, &sk), 0, "session key");
	ASSERT_EQ(bpf_map_lookup_elem(fx.sessions_fd, &sk, &s), 0, "session");
	s.expires_ns = 1;	/* ended just after boot */
	ASSERT_EQ(bpf_map_update_elem(fx.sessions_fd, &sk, &s, BPF_EXIST), 0, "age session");
	EXPECT_UNCHANGED(fx.ingress_fd, &reply, TC_ACT_SHOT, "late reply");
}

TEST(outbound_refreshes_mapping)
{
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct fc_endpoint_key ik = fx_int_key(FC_AF_INET, FC_AF_INET, IPPROTO_UDP, CLIENT_A, 25000);
	struct fc_binding b;
	uint64_t before;

	ASSERT_EQ(out_port(&out), 25000, "mapping");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "read");
	b.last_out_ns = 1;
	ASSERT_EQ(bpf_map_update_elem(fx.bindings_fd, &ik, &b, BPF_EXIST), 0, "age");
	before = now_ns();
	ASSERT_EQ(out_port(&out), 25000, "same mapping reused");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "read again");
	ASSERT_TRUE(b.last_out_ns >= before, "refreshed by the outbound packet (REQ-6)");
}

/* Run a packet the gateway itself sends; require it unchanged. */
#define EXPECT_LOCAL_UNCHANGED(spec, what)				\
	do {								\
		struct run_result _r;					\
		uint8_t _b[PKT_MAX];					\
		size_t _l = pkt_build(spec, _b);			\
		ASSERT_EQ(run_prog_from(fx.egress_fd, _b, _l, LOCAL_ORIGIN, &_r), 0, what); \
		ASSERT_EQ(_r.ret, TC_ACT_OK, what ": verdict");		\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _b, _l, what);	\
	} while (0)

TEST(router_originated_outside_range_passes_untouched)
{
	struct pkt_spec dns = udp(EXT_ADDR, 45000, SERVER_1, 53);
	struct pkt_spec err = { .proto = IPPROTO_ICMP, .saddr = EXT_ADDR, .daddr = SERVER_1,
				.icmp_type = 11, .payload_len = 28 };
	struct pkt_spec other = udp("198.51.100.5", 25000, SERVER_1, 53);

	EXPECT_LOCAL_UNCHANGED(&dns, "gateway's own DNS query");
	EXPECT_LOCAL_UNCHANGED(&err, "gateway's own time exceeded");
	EXPECT_LOCAL_UNCHANGED(&other, "gateway's own packet from a secondary address");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 0, "no mapping");
}

TEST(router_originated_in_range_translated_like_forwarded)
{
	struct pkt_spec a = udp(CLIENT_A, 25030, SERVER_1, 7000);
	struct pkt_spec gw = udp(EXT_ADDR, 25030, SERVER_1, 7000);
	uint8_t buf[PKT_MAX];
	struct run_result r;
	struct fc_binding b;
	uint16_t p;

	ASSERT_EQ(out_port(&a), 25030, "internal host holds 25030");
	ASSERT_EQ(run_prog_from(fx.egress_fd, buf, pkt_build(&gw, buf), LOCAL_ORIGIN, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_OK, "verdict");
	p = (r.out[34] << 8) | r.out[35];
	ASSERT_TRUE(p != 25030 && p >= 20000 && p <= 29999, "gateway socket gets another port");
	ASSERT_EQ(lookup_mapping(IPPROTO_UDP, EXT_ADDR, 25030, &b), 0, "mapping of the gateway socket");
	ASSERT_EQ(b.flags & FC_BINDING_ROUTER, FC_BINDING_ROUTER, "marked as the gateway's");
}

TEST(internal_unsupported_protocol_dropped_not_leaked)
{
	struct pkt_spec gre = { .proto = 47, .saddr = CLIENT_A, .daddr = SERVER_1, .payload_len = 24 };
	struct run_result r;

	ASSERT_EQ(run_spec(fx.egress_fd, &gre, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSUPPORTED_PROTO), 1, "counted");
}

TEST(rfc4787_req13_outbound_non_first_fragment_translated_statelessly)
{
	struct pkt_spec frag = udp(CLIENT_A, 0, SERVER_1, 0);
	struct pkt_spec want = udp(EXT_ADDR, 0, SERVER_1, 0);

	/* Offset 800 bytes, before any first fragment was seen (REQ-14). */
	frag.frag = want.frag = 100;
	EXPECT_PACKET(fx.egress_fd, &frag, &want, TC_ACT_OK, "non-first fragment");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_TRANSLATED), 1, "counted");
}

TEST(rfc4787_req13_inbound_fragments_follow_first_fragment)
{
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec first = udp(SERVER_1, 7000, EXT_ADDR, 25000);
	struct pkt_spec first_want = udp(SERVER_1, 7000, CLIENT_A, 25000);
	struct pkt_spec rest = udp(SERVER_1, 0, EXT_ADDR, 0);
	struct pkt_spec rest_want = udp(SERVER_1, 0, CLIENT_A, 0);
	struct pkt_spec other = udp(SERVER_2, 0, EXT_ADDR, 0);

	ASSERT_EQ(out_port(&out), 25000, "mapping");
	first.frag = first_want.frag = 0x2000;		/* MF, offset 0 */
	first.ip_id = first_want.ip_id = 0x4242;
	rest.frag = rest_want.frag = 0x2000 | 185;	/* MF, offset 1480 */
	rest.ip_id = rest_want.ip_id = 0x4242;
	EXPECT_PACKET(fx.ingress_fd, &first, &first_want, TC_ACT_OK, "first fragment");
	EXPECT_PACKET(fx.ingress_fd, &rest, &rest_want, TC_ACT_OK, "following fragment");
	rest.frag = rest_want.frag = 370;		/* last */
	EXPECT_PACKET(fx.ingress_fd, &rest, &rest_want, TC_ACT_OK, "last fragment");
	/* Another train (other source) is not ours to place. */
	other.frag = 185;
	other.ip_id = 0x4242;
	EXPECT_UNCHANGED(fx.ingress_fd, &other, TC_ACT_OK, "unknown train left to the stack");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PASS_FRAGMENT), 1, "counted");
}

static size_t held_count(void)
{
	struct bpf_map *m = bpf_object__find_map_by_name(fx.loader.skel->obj, "fc_frag_held");

	return m ? map_count(bpf_map__fd(m), bpf_map__key_size(m)) : 999;
}

TEST(rfc4787_req14_inbound_fragment_before_first_is_held_and_reinjected)
{
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec first = udp(SERVER_1, 7000, EXT_ADDR, 25000);
	struct pkt_spec rest = udp(SERVER_1, 0, EXT_ADDR, 0);
	struct run_result r;

	ASSERT_EQ(out_port(&out), 25000, "mapping");
	first.frag = 0x2000;
	rest.frag = 185;		/* last fragment, arriving first */
	first.ip_id = rest.ip_id = 0x5151;
	/* Held as a copy, and passed on to the stack unchanged. */
	EXPECT_UNCHANGED(fx.ingress_fd, &rest, TC_ACT_OK, "early fragment");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_HELD), 1, "held");
	ASSERT_EQ(held_count(), 1, "one copy kept");
	/* The first fragment goes on as a copy ahead of the held one. */
	ASSERT_EQ(run_spec(fx.ingress_fd, &first, &r), 0, "first fragment");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "original used up by the re-injection");
	ASSERT_EQ(stat_get(&fx, FC_STAT_IN_TRANSLATED), 1, "first fragment translated");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_REINJECTED), 1, "held copy re-injected");
	ASSERT_EQ(held_count(), 0, "hold emptied");
	/* What comes back through ingress now finds the train's translation. */
	{
		struct pkt_spec want = udp(SERVER_1, 0, CLIENT_A, 0);

		want.frag = 185;
		want.ip_id = 0x5151;
		EXPECT_PACKET(fx.ingress_fd, &rest, &want, TC_ACT_OK, "re-injected fragment");
	}
}

/*
 * A train stamped by another CPU whose clock read came after ours (here a
 * second after, so the test does not hang on timing): its first_seen_ns is
 * ahead of this CPU's now. The hold compares by addition, so the train is
 * young, not "now - first_seen" wrapped to a huge age and thrown away.
 */
TEST(rfc4787_req14_train_stamped_ahead_of_this_cpu_is_still_reinjected)
{
	struct bpf_map *wait = bpf_object__find_map_by_name(fx.loader.skel->obj, "fc_frag_wait");
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec first = udp(SERVER_1, 7000, EXT_ADDR, 25000);
	struct pkt_spec rest = udp(SERVER_1, 0, EXT_ADDR, 0);
	struct {
		uint64_t first_seen_ns;
		uint32_t count, pad0;
	} w;
	uint8_t key[64];
	struct run_result r;

	ASSERT_TRUE(wait != NULL, "fc_frag_wait");
	ASSERT_EQ(bpf_map__value_size(wait), sizeof(w), "struct frag_wait's size");
	ASSERT_EQ(out_port(&out), 25000, "mapping");
	first.frag = 0x2000;
	rest.frag = 185;
	first.ip_id = rest.ip_id = 0x5252;
	EXPECT_UNCHANGED(fx.ingress_fd, &rest, TC_ACT_OK, "early fragment");
	ASSERT_EQ(held_count(), 1, "one copy kept");
	ASSERT_EQ(bpf_map_get_next_key(bpf_map__fd(wait), NULL, key), 0, "the train's entry");
	ASSERT_EQ(bpf_map_lookup_elem(bpf_map__fd(wait), key, &w), 0, "read it");
	w.first_seen_ns = now_ns() + SEC_NS;
	ASSERT_EQ(bpf_map_update_elem(bpf_map__fd(wait), key, &w, BPF_EXIST), 0, "stamp ahead");
	ASSERT_EQ(run_spec(fx.ingress_fd, &first, &r), 0, "first fragment");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "original used up by the re-injection");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_REINJECTED), 1, "held copy re-injected");
	ASSERT_EQ(held_count(), 0, "hold emptied");
}

TEST(rfc4787_req14_hold_is_bounded_per_train)
{
	struct pkt_spec rest = udp(SERVER_1, 0, EXT_ADDR, 0);

	rest.ip_id = 0x6161;
	for (int i = 0; i < 6; i++) {
		rest.frag = 0x2000 | (185 * (i + 1));
		EXPECT_UNCHANGED(fx.ingress_fd, &rest, TC_ACT_OK, "early fragment");
	}
	ASSERT_EQ(stat_get(&fx, FC_STAT_FRAGMENT_HELD), 4, "four held");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_FRAGMENT_HOLD), 2, "the rest not held, counted");
}

TEST(internal_first_fragment_translated)
{
	struct pkt_spec first = udp(CLIENT_A, 25040, SERVER_1, 7000);
	struct pkt_spec want = udp(EXT_ADDR, 25040, SERVER_1, 7000);

	first.frag = want.frag = 0x2000;	/* MF, offset 0 */
	EXPECT_PACKET(fx.egress_fd, &first, &want, TC_ACT_OK, "first fragment");
}

TEST(ip_options_header_translated)
{
	struct pkt_spec in = udp(CLIENT_A, 25050, SERVER_1, 7000);
	struct pkt_spec want = udp(EXT_ADDR, 25050, SERVER_1, 7000);

	in.ihl = want.ihl = 7;
	EXPECT_PACKET(fx.egress_fd, &in, &want, TC_ACT_OK, "IHL 7");
}

TEST(internal_malformed_dropped)
{
	struct pkt_spec in = udp(CLIENT_A, 25000, SERVER_1, 7000);
	uint8_t buf[PKT_MAX];
	struct run_result r;
	size_t len = pkt_build(&in, buf);

	buf[14] = 0x44;		/* IHL 4 < 5 */
	ASSERT_EQ(run_prog(fx.egress_fd, buf, len, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "bad IHL dropped");
	len = pkt_build(&in, buf);
	buf[16] = 0x05;		/* total length beyond the packet */
	ASSERT_EQ(run_prog(fx.egress_fd, buf, len, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "bad total length dropped");
	len = pkt_build(&in, buf);
	ASSERT_EQ(run_prog(fx.egress_fd, buf, 14 + 20 + 4, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "truncated UDP header dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_MALFORMED), 3, "counted");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 0, "no state");
}

TEST(non_ipv4_passes_untouched)
{
	struct pkt_spec arp = { .ethertype = 0x0806, .payload_len = 28 };
	struct pkt_spec v6 = { .ethertype = 0x86dd, .payload_len = 48 };

	EXPECT_UNCHANGED(fx.egress_fd, &arp, TC_ACT_OK, "ARP out");
	EXPECT_UNCHANGED(fx.ingress_fd, &arp, TC_ACT_OK, "ARP in");
	EXPECT_UNCHANGED(fx.egress_fd, &v6, TC_ACT_OK, "IPv6 out");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PASS_NOT_IPV4), 3, "counted");
}

TEST(no_external_address_drops_internal_traffic)
{
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct run_result r;

	loader_fill_config(&fx.opts, 0, &fx.cfg);
	ASSERT_EQ(loader_write_config(&fx.loader, &fx.cfg), 0, "config without address");
	ASSERT_EQ(run_spec(fx.egress_fd, &out, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped rather than leaked");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_NO_EXT_ADDR), 1, "counted");
}

/* 16 mappings = 32 entries: 16 new flows admitted, 4 more refused. */
static void full_table_refuses(enum fc_prealloc prealloc, __u32 want_no_prealloc)
{
	struct fixture small;
	struct pkt_spec a = udp(CLIENT_A, 40000, SERVER_1, 7000);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct run_result r;
	int ok = 0;

	ASSERT_EQ(fixture_load_prealloc(&small, 16, 0, prealloc), 0, "small tables");
	ASSERT_EQ(bpf_obj_get_info_by_fd(small.bindings_fd, &info, &len), 0, "mapping table info");
	ASSERT_EQ(info.map_flags & BPF_F_NO_PREALLOC, want_no_prealloc, "the table's allocation");
	for (int i = 0; i < 20; i++) {
		a.sport = 40000 + i;
		if (run_spec(small.egress_fd, &a, &r) == 0 && r.ret == TC_ACT_OK)
			ok++;
	}
	ASSERT_EQ(ok, 16, "exactly the table's capacity admitted");
	ASSERT_EQ(stat_get(&small, FC_STAT_DROP_TABLE_FULL), 4, "the rest refused and counted");
	a.sport = 40000;
	ASSERT_EQ(run_spec(small.egress_fd, &a, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_OK, "first flow still translated (no eviction)");
	fixture_unload(&small);
}

TEST(full_table_refuses_new_mappings_without_eviction)
{
	/* auto: preallocated where the allocator refills at the tick (MIPS). */
	full_table_refuses(FC_PREALLOC_AUTO, features_cpu_tick_refill() ? 0 : BPF_F_NO_PREALLOC);
}

TEST(full_table_refuses_new_mappings_without_eviction_preallocated)
{
	full_table_refuses(FC_PREALLOC_YES, 0);
}

static const uint8_t syn_opts_ws7[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 };	/* MSS 1460, NOP, WS 7 */

TEST(rfc7857_tcp_rst_outside_window_keeps_session)
{
	struct pkt_spec syn = tcp(CLIENT_A, 40000, SERVER_1, 80, 0x02);
	struct pkt_spec synack, ack, rst;
	struct run_result r;
	struct fc_session s;
	uint16_t p;

	syn.tcp_opts = syn_opts_ws7;
	syn.tcp_opts_len = sizeof(syn_opts_ws7);
	p = out_port(&syn);
	ASSERT_NE(p, 0, "mapping");
	synack = tcp(SERVER_1, 80, EXT_ADDR, p, 0x12);
	synack.tcp_seq = 5000;
	ASSERT_EQ(run_spec(fx.ingress_fd, &synack, &r), 0, "SYN-ACK");
	/* The client acknowledges 5001 with a window of 100 << 7 bytes. */
	ack = tcp(CLIENT_A, 40000, SERVER_1, 80, 0x10);
	ack.tcp_ack = 5001;
	ack.tcp_win = 100;
	ASSERT_EQ(out_port(&ack), p, "ACK");
	ASSERT_EQ(lookup_session(IPPROTO_TCP, p, SERVER_1, 80, &s), 0, "session");
	ASSERT_EQ(s.wscale, 7, "window scale from the SYN");
	ASSERT_EQ(s.rcv_next, 5001, "receive window start");
	ASSERT_EQ(s.rcv_wnd, 100 << 7, "scaled receive window");

	rst = tcp(SERVER_1, 80, EXT_ADDR, p, 0x04);
	rst.tcp_seq = 5001 + (100 << 7) + 10;		/* just past the window */
	ASSERT_EQ(run_spec(fx.ingress_fd, &rst, &r), 0, "blind RST");
	ASSERT_EQ(r.ret, TC_ACT_OK, "still delivered: the host judges it too");
	ASSERT_EQ(stat_get(&fx, FC_STAT_TCP_RST_IGNORED), 1, "counted");
	ASSERT_EQ(lookup_session(IPPROTO_TCP, p, SERVER_1, 80, &s), 0, "session");
	ASSERT_EQ(s.tcp_seen & FC_TCP_RST, 0, "not reset");
	ASSERT_TRUE(s.expires_ns > now_ns() + 7000 * SEC_NS, "still established");

	rst.tcp_seq = 5001 + 1000;			/* inside the window */
	ASSERT_EQ(run_spec(fx.ingress_fd, &rst, &r), 0, "RST in window");
	ASSERT_EQ(lookup_session(IPPROTO_TCP, p, SERVER_1, 80, &s), 0, "session");
	ASSERT_EQ(s.tcp_seen & FC_TCP_RST, FC_TCP_RST, "reset seen");
	ASSERT_TRUE(s.expires_ns <= now_ns() + TRANS_STORED_MAX, "transitory");
}

TEST(rfc5382_tcp_simultaneous_open_reaches_established)
{
	struct pkt_spec syn_out = tcp(CLIENT_A, 25060, SERVER_1, 5000, 0x02);
	struct pkt_spec syn_in = tcp(SERVER_1, 5000, EXT_ADDR, 25060, 0x02);
	struct pkt_spec syn_in_want = tcp(SERVER_1, 5000, CLIENT_A, 25060, 0x02);
	struct fc_session s;

	ASSERT_EQ(out_port(&syn_out), 25060, "SYN out");
	EXPECT_PACKET(fx.ingress_fd, &syn_in, &syn_in_want, TC_ACT_OK, "crossing SYN in");
	ASSERT_EQ(lookup_session(IPPROTO_TCP, 25060, SERVER_1, 5000, &s), 0, "session");
	ASSERT_TRUE(s.expires_ns > now_ns() + 7000 * SEC_NS, "established");
}

TEST(rfc7857_tcp_new_syn_after_rst_can_become_established_again)
{
	struct pkt_spec syn = tcp(CLIENT_A, 40000, SERVER_1, 80, 0x02);
	uint16_t p = out_port(&syn);
	struct pkt_spec synack = tcp(SERVER_1, 80, EXT_ADDR, p, 0x12);
	struct pkt_spec rst = tcp(SERVER_1, 80, EXT_ADDR, p, 0x04);
	struct run_result r;
	struct fc_session s;

	ASSERT_NE(p, 0, "mapping");
	ASSERT_EQ(run_spec(fx.ingress_fd, &synack, &r), 0, "SYN-ACK");
	ASSERT_EQ(run_spec(fx.ingress_fd, &rst, &r), 0, "RST");
	ASSERT_EQ(lookup_session(IPPROTO_TCP, p, SERVER_1, 80, &s), 0, "session");
	ASSERT_TRUE(s.expires_ns <= now_ns() + TRANS_STORED_MAX, "transitory after RST");
	/* The same source port connects again. */
	ASSERT_EQ(out_port(&syn), p, "new SYN, same mapping");
	ASSERT_EQ(run_spec(fx.ingress_fd, &synack, &r), 0, "new SYN-ACK");
	ASSERT_EQ(lookup_session(IPPROTO_TCP, p, SERVER_1, 80, &s), 0, "session");
	ASSERT_EQ(s.tcp_seen & FC_TCP_RST, 0, "the old reset is forgotten");
	ASSERT_TRUE(s.expires_ns > now_ns() + 7000 * SEC_NS, "established again");
}

/* Found by the fuzzer: a reply translated to id 0, sequence 0 and no data
 * sums to +0, where only a checksum of 0xffff verifies; the incremental
 * update alone gave 0x0000. */
TEST(rfc5508_req1_echo_reply_translated_to_all_zero_keeps_a_valid_checksum)
{
	struct pkt_spec req = echo(CLIENT_A, SERVER_1, 8, 0);
	struct pkt_spec reply, want;
	uint16_t id;

	req.icmp_seq = 0;
	req.payload_len = 0;
	id = out_port(&req);
	ASSERT_NE(id, 0, "identifier 0 mapped into the range");
	reply = echo(SERVER_1, EXT_ADDR, 0, id);
	reply.icmp_seq = 0;
	reply.payload_len = 0;
	want = echo(SERVER_1, CLIENT_A, 0, 0);
	want.icmp_seq = 0;
	want.payload_len = 0;
	EXPECT_PACKET(fx.ingress_fd, &reply, &want, TC_ACT_OK, "all-zero echo reply, checksum 0xffff");
}
