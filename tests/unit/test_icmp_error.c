// SPDX-License-Identifier: GPL-2.0
/*
 * ICMP error translation (RFC 5508 REQ-3/REQ-4/REQ-5):
 * outer header, quoted IPv4 header and quoted transport header rewritten;
 * every checksum compared with one computed from scratch.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "fixture.h"
#include "harness.h"

static struct pkt_spec udp(const char *sa, uint16_t sp, const char *da, uint16_t dp)
{
	return (struct pkt_spec){ .proto = IPPROTO_UDP, .saddr = sa, .sport = sp,
				  .daddr = da, .dport = dp, .payload_len = 40 };
}

static struct pkt_spec tcp_syn(const char *sa, uint16_t sp, const char *da, uint16_t dp)
{
	return (struct pkt_spec){ .proto = IPPROTO_TCP, .saddr = sa, .sport = sp,
				  .daddr = da, .dport = dp, .tcp_flags = 0x02, .tcp_seq = 77 };
}

static struct pkt_spec error(const char *sa, const char *da, uint8_t type, uint8_t code,
			     const struct pkt_spec *quote)
{
	return (struct pkt_spec){ .proto = IPPROTO_ICMP, .saddr = sa, .daddr = da,
				  .icmp_type = type, .icmp_code = code, .quote = quote };
}

#define EXPECT(prog_fd, in, from, want, verdict, what) \
	EXPECT_SPEC_FROM(prog_fd, in, from, want, verdict, what)

/* Create a mapping with an outbound packet; returns the external port. */
static uint16_t map_out(const struct pkt_spec *s)
{
	struct run_result r;

	if (run_spec(fx.egress_fd, s, &r) || r.ret != TC_ACT_OK)
		return 0;
	return s->proto == IPPROTO_ICMP ? (r.out[38] << 8) | r.out[39] : (r.out[34] << 8) | r.out[35];
}

TEST(rfc5508_req3_inbound_port_unreachable_translated)
{
	struct pkt_spec sent = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec seen = udp(EXT_ADDR, 25000, SERVER_1, 7000);
	struct pkt_spec in = error(SERVER_1, EXT_ADDR, 3, 3, &seen);
	struct pkt_spec want = error(SERVER_1, CLIENT_A, 3, 3, &sent);

	ASSERT_EQ(map_out(&sent), 25000, "mapping");
	EXPECT(fx.ingress_fd, &in, FORWARDED_FROM, &want, TC_ACT_OK, "port unreachable");
	ASSERT_EQ(stat_get(&fx, FC_STAT_ICMP_ERROR_TRANSLATED), 1, "counted");
}

TEST(rfc5508_inbound_error_with_port_change_and_8_byte_quote)
{
	struct pkt_spec sent = udp(CLIENT_A, 40000, SERVER_1, 7000);
	uint16_t p = map_out(&sent);
	struct pkt_spec seen = udp(EXT_ADDR, p, SERVER_1, 7000);
	struct pkt_spec in = error("198.51.100.77", EXT_ADDR, 11, 0, &seen);
	struct pkt_spec want = error("198.51.100.77", CLIENT_A, 11, 0, &sent);

	ASSERT_NE(p, 0, "mapping");
	in.quote_l4_len = want.quote_l4_len = 8;	/* RFC 792 minimum */
	EXPECT(fx.ingress_fd, &in, FORWARDED_FROM, &want, TC_ACT_OK, "time exceeded, short quote");
}

TEST(rfc5508_inbound_error_tcp_quote_with_and_without_checksum)
{
	struct pkt_spec sent = tcp_syn(CLIENT_A, 40001, SERVER_1, 80);
	uint16_t p = map_out(&sent);
	struct pkt_spec seen = tcp_syn(EXT_ADDR, p, SERVER_1, 80);
	struct pkt_spec in = error(SERVER_1, EXT_ADDR, 3, 10, &seen);
	struct pkt_spec want = error(SERVER_1, CLIENT_A, 3, 10, &sent);

	ASSERT_NE(p, 0, "mapping");
	EXPECT(fx.ingress_fd, &in, FORWARDED_FROM, &want, TC_ACT_OK, "whole TCP header quoted");
	/* With only 8 bytes the TCP checksum is not in the quote: the
	 * expected quote then carries the translated packet's checksum. */
	in.quote_l4_len = 8;
	{
		struct run_result r;
		uint8_t w[PKT_MAX];
		size_t wl;

		want.quote_l4_len = 8;
		wl = pkt_build(&want, w);
		ASSERT_EQ(run_spec(fx.ingress_fd, &in, &r), 0, "test run");
		ASSERT_EQ(r.ret, TC_ACT_OK, "verdict");
		ASSERT_PKT_EQ(r.out, r.out_len, w, wl, "8-byte TCP quote");
	}
}

TEST(rfc5508_req3_inbound_frag_needed_keeps_mtu)
{
	struct pkt_spec sent = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec seen = udp(EXT_ADDR, 25000, SERVER_1, 7000);
	struct pkt_spec in = error("198.51.100.254", EXT_ADDR, 3, 4, &seen);
	struct pkt_spec want = error("198.51.100.254", CLIENT_A, 3, 4, &sent);

	in.icmp_mtu = want.icmp_mtu = 1400;
	ASSERT_EQ(map_out(&sent), 25000, "mapping");
	EXPECT(fx.ingress_fd, &in, FORWARDED_FROM, &want, TC_ACT_OK, "fragmentation needed, MTU 1400");
}

TEST(rfc5508_inbound_error_about_echo_request)
{
	struct pkt_spec sent = { .proto = IPPROTO_ICMP, .saddr = CLIENT_A, .daddr = SERVER_2,
				 .icmp_type = 8, .sport = 777, .icmp_seq = 1, .payload_len = 32 };
	uint16_t id = map_out(&sent);
	struct pkt_spec seen = sent;
	struct pkt_spec in, want;

	ASSERT_NE(id, 0, "mapping");
	seen.saddr = EXT_ADDR;
	seen.sport = id;
	in = error("198.51.100.77", EXT_ADDR, 11, 0, &seen);
	want = error("198.51.100.77", CLIENT_A, 11, 0, &sent);
	EXPECT(fx.ingress_fd, &in, FORWARDED_FROM, &want, TC_ACT_OK, "time exceeded for a ping");
}

TEST(rfc4884_extended_error_translated)
{
	struct pkt_spec sent = udp(CLIENT_A, 25000, SERVER_1, 33434);
	struct pkt_spec seen = udp(EXT_ADDR, 25000, SERVER_1, 33434);
	struct pkt_spec in = error("198.51.100.77", EXT_ADDR, 11, 0, &seen);
	struct pkt_spec want = error("198.51.100.77", CLIENT_A, 11, 0, &sent);

	/* Quote padded to 128 bytes, then 20 bytes of extension structure. */
	in.rfc4884_words = want.rfc4884_words = 32;
	in.ext_len = want.ext_len = 20;
	ASSERT_EQ(map_out(&sent), 25000, "mapping");
	EXPECT(fx.ingress_fd, &in, FORWARDED_FROM, &want, TC_ACT_OK, "RFC 4884 error");
}

TEST(rfc4787_req12_error_does_not_remove_mapping)
{
	struct pkt_spec sent = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec seen = udp(EXT_ADDR, 25000, SERVER_1, 7000);
	struct pkt_spec in = error(SERVER_1, EXT_ADDR, 3, 3, &seen);
	struct pkt_spec later = udp(STRANGER, 9, EXT_ADDR, 25000);
	struct pkt_spec later_want = udp(STRANGER, 9, CLIENT_A, 25000);
	struct run_result r;

	ASSERT_EQ(map_out(&sent), 25000, "mapping");
	ASSERT_EQ(run_spec(fx.ingress_fd, &in, &r), 0, "error in");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 2, "mapping still there");
	EXPECT(fx.ingress_fd, &later, FORWARDED_FROM, &later_want, TC_ACT_OK, "still reachable");
}

TEST(inbound_error_without_mapping_dropped)
{
	struct pkt_spec seen = udp(EXT_ADDR, 25999, SERVER_1, 7000);
	struct pkt_spec in = error(SERVER_1, EXT_ADDR, 3, 3, &seen);
	struct run_result r;

	ASSERT_EQ(run_spec(fx.ingress_fd, &in, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_ICMP_NO_MAPPING), 1, "counted");
}

TEST(inbound_error_about_gateway_own_traffic_passes)
{
	struct pkt_spec seen = udp(EXT_ADDR, 45000, SERVER_1, 53);
	struct pkt_spec in = error(SERVER_1, EXT_ADDR, 3, 3, &seen);

	EXPECT(fx.ingress_fd, &in, FORWARDED_FROM, &in, TC_ACT_OK, "error about port 45000");
}

TEST(rfc5508_req4_outbound_error_from_internal_host_translated)
{
	struct pkt_spec sent = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec arrived = udp(STRANGER, 5555, CLIENT_A, 25000);	/* after DNAT */
	struct pkt_spec was = udp(STRANGER, 5555, EXT_ADDR, 25000);	/* as the stranger sent it */
	struct pkt_spec out = error(CLIENT_A, STRANGER, 3, 3, &arrived);
	struct pkt_spec want = error(EXT_ADDR, STRANGER, 3, 3, &was);

	ASSERT_EQ(map_out(&sent), 25000, "mapping");
	EXPECT(fx.ingress_fd, &was, FORWARDED_FROM, &arrived, TC_ACT_OK, "the stranger's packet in");
	EXPECT(fx.egress_fd, &out, FORWARDED_FROM, &want, TC_ACT_OK, "port unreachable from inside");
}

/* Found by the fuzzer: only the quote's destination is rewritten, so an
 * error from inside quoting a packet from another internal host left with
 * that host's address in it. Such a packet never came in through the
 * mapping (its source has no session with it): dropped, counted. */
TEST(outbound_error_quoting_internal_source_dropped_not_leaked)
{
	struct pkt_spec sent = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec reply = udp(SERVER_1, 7000, EXT_ADDR, 25000);
	struct pkt_spec forged = udp(CLIENT_B, 7000, CLIENT_A, 25000);
	struct pkt_spec out = error(CLIENT_A, SERVER_1, 3, 3, &forged);
	struct run_result r;

	ASSERT_EQ(map_out(&sent), 25000, "mapping");
	ASSERT_EQ(run_spec(fx.ingress_fd, &reply, &r), 0, "reply in");
	ASSERT_EQ(r.ret, TC_ACT_OK, "reply translated");
	ASSERT_EQ(run_spec(fx.egress_fd, &out, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_ICMP_NO_MAPPING), 1, "counted");
	ASSERT_EQ(stat_get(&fx, FC_STAT_ICMP_ERROR_TRANSLATED), 0, "not translated");
}

/* The same error about a remote the mapping never heard from. */
TEST(outbound_error_about_packet_without_session_dropped)
{
	struct pkt_spec sent = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec never = udp(STRANGER, 5555, CLIENT_A, 25000);
	struct pkt_spec out = error(CLIENT_A, STRANGER, 3, 3, &never);
	struct run_result r;

	ASSERT_EQ(map_out(&sent), 25000, "mapping");
	ASSERT_EQ(run_spec(fx.egress_fd, &out, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_ICMP_NO_MAPPING), 1, "counted");
}

TEST(outbound_error_without_mapping_dropped_not_leaked)
{
	struct pkt_spec arrived = udp(STRANGER, 5555, CLIENT_A, 26000);
	struct pkt_spec out = error(CLIENT_A, STRANGER, 3, 3, &arrived);
	struct run_result r;

	ASSERT_EQ(run_spec(fx.egress_fd, &out, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_ICMP_NO_MAPPING), 1, "counted");
}

TEST(gateway_error_about_inbound_translated_packet_gets_external_quote)
{
	struct pkt_spec sent = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec arrived = udp(SERVER_1, 7000, CLIENT_A, 25000);
	struct pkt_spec was = udp(SERVER_1, 7000, EXT_ADDR, 25000);
	struct pkt_spec out = error(EXT_ADDR, SERVER_1, 3, 4, &arrived);
	struct pkt_spec want = error(EXT_ADDR, SERVER_1, 3, 4, &was);

	/* E.g. "fragmentation needed" from the gateway itself when the
	 * internal link's MTU is smaller than the external one. */
	out.icmp_mtu = want.icmp_mtu = 1280;
	ASSERT_EQ(map_out(&sent), 25000, "mapping");
	EXPECT(fx.egress_fd, &out, LOCAL_ORIGIN, &want, TC_ACT_OK, "gateway's own error");
}

TEST(malformed_quote_from_inside_dropped)
{
	struct pkt_spec bad = { .proto = IPPROTO_ICMP, .saddr = CLIENT_A, .daddr = SERVER_1,
				.icmp_type = 3, .icmp_code = 3, .payload_len = 28 };
	struct run_result r;

	ASSERT_EQ(run_spec(fx.egress_fd, &bad, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_MALFORMED), 1, "counted");
}
