// SPDX-License-Identifier: GPL-2.0
/*
 * The IPv6 parser (parse_ipv6, bpf/lib/parse.h) on its own, through a probe
 * program that keeps what it parsed: the extension header walk (RFC 8200
 * §4), fragments (§4.5, RFC 6946 atomic fragments), ICMPv6 echo, and the
 * ways a hostile header can lie about lengths.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fixture.h"
#include "harness.h"
#include "parse_probe.h"
#include "parse_probe.skel.h"
#include "pkt.h"

#define C6 "2001:db8:1::2"
#define S6 "2001:db8:2::5"

static struct parse_probe *probe;

static int probe_run(const uint8_t *pkt, size_t len, struct parse_probe_result *res)
{
	uint8_t out[PKT_MAX];
	__u32 zero = 0;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out));

	if (!probe) {
		probe = FC_OPEN_AND_LOAD(parse_probe, "parse probe");
		if (!probe)
			return -1;
	}
	memset(res, 0xee, sizeof(*res));
	if (bpf_prog_test_run_opts(bpf_program__fd(probe->progs.probe_parse_ipv6), &opts))
		return -1;
	return bpf_map_lookup_elem(bpf_map__fd(probe->maps.probe_result), &zero, res);
}

static int parse_spec(const struct pkt_spec *s, struct parse_probe_result *r, uint8_t *buf,
		      size_t *len)
{
	*len = pkt_build(s, buf);
	return probe_run(buf, *len, r);
}

TEST(parse6_udp_fields)
{
	struct pkt_spec s = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = 4000,
			      .dport = 53, .ttl = 17, .payload_len = 10 };
	struct parse_probe_result r;
	uint8_t buf[PKT_MAX], a[16];
	size_t len;

	ASSERT_EQ(parse_spec(&s, &r, buf, &len), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_OK, "verdict");
	ASSERT_EQ(r.family, 6, "family");
	ASSERT_EQ(r.proto, IPPROTO_UDP, "proto");
	ASSERT_EQ(r.l4_off, 14 + 40, "l4 offset");
	ASSERT_EQ(r.l3_end, len, "datagram end");
	ASSERT_EQ(r.has_l4, 1, "has l4");
	ASSERT_EQ(r.is_fragment, 0, "not a fragment");
	ASSERT_EQ(ntohs(r.sport), 4000, "sport");
	ASSERT_EQ(ntohs(r.dport), 53, "dport");
	ASSERT_EQ(r.csum_off, 14 + 40 + 6, "udp checksum offset");
	ASSERT_EQ(r.csum_pseudo, 1, "pseudo-header");
	ASSERT_EQ(r.hop_limit, 17, "hop limit");
	ip6(C6, a);
	ASSERT_TRUE(!memcmp(r.saddr, a, 16), "source address");
	ip6(S6, a);
	ASSERT_TRUE(!memcmp(r.daddr, a, 16), "destination address");
}

/* RFC 8200 §4: hop-by-hop, routing and destination options are walked past
 * to the transport header. */
TEST(parse6_ext_chain_walked)
{
	struct pkt_spec s = { .proto = IPPROTO_TCP, .saddr = C6, .daddr = S6, .sport = 4000,
			      .dport = 80, .tcp_flags = 0x02, .nr_ext = 3,
			      .ext_hdrs = { 0, 43, 60 } };
	struct parse_probe_result r;
	uint8_t buf[PKT_MAX];
	size_t len;

	ASSERT_EQ(parse_spec(&s, &r, buf, &len), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_OK, "verdict");
	ASSERT_EQ(r.proto, IPPROTO_TCP, "proto after the chain");
	ASSERT_EQ(r.l4_off, 14 + 40 + 24, "l4 offset");
	ASSERT_EQ(r.csum_off, 14 + 40 + 24 + 16, "tcp checksum offset");
	ASSERT_EQ(ntohs(r.dport), 80, "dport");
	ASSERT_EQ(r.has_l4, 1, "has l4");
}

TEST(parse6_ext_chain_too_long_left_alone)
{
	struct pkt_spec s = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = 1,
			      .dport = 2, .nr_ext = 5, .ext_hdrs = { 60, 60, 60, 60, 60 } };
	struct parse_probe_result r;
	uint8_t buf[PKT_MAX];
	size_t len;

	ASSERT_EQ(parse_spec(&s, &r, buf, &len), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_EXT_UNSUPPORTED, "verdict");
	ASSERT_EQ(r.has_l4, 0, "no l4");
}

TEST(parse6_first_fragment)
{
	struct pkt_spec s = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = 4000,
			      .dport = 53, .nr_ext = 1, .ext_hdrs = { 44 }, .frag6 = 1,
			      .frag6_id = 0xa1b2c3d4, .payload_len = 64 };
	struct parse_probe_result r;
	uint8_t buf[PKT_MAX];
	size_t len;

	ASSERT_EQ(parse_spec(&s, &r, buf, &len), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_OK, "verdict");
	ASSERT_EQ(r.is_fragment, 1, "fragment");
	ASSERT_EQ(r.has_l4, 1, "first fragment has ports");
	ASSERT_EQ(r.frag_hdr_off, 14 + 40, "fragment header offset");
	ASSERT_EQ(ntohl(r.frag_id), 0xa1b2c3d4, "identification");
	ASSERT_EQ(r.frag_off, 1, "offset 0, M set");
	ASSERT_EQ(ntohs(r.ip_id), 0xc3d4, "low half of the identification");
	ASSERT_EQ(r.l4_off, 14 + 48, "l4 offset");
	ASSERT_EQ(ntohs(r.sport), 4000, "sport");
}

TEST(parse6_non_first_fragment_has_no_ports)
{
	struct pkt_spec s = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .nr_ext = 1,
			      .ext_hdrs = { 44 }, .frag6 = 1232, .payload_len = 40 };
	struct parse_probe_result r;
	uint8_t buf[PKT_MAX];
	size_t len;

	ASSERT_EQ(parse_spec(&s, &r, buf, &len), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_OK, "verdict");
	ASSERT_EQ(r.is_fragment, 1, "fragment");
	ASSERT_EQ(r.has_l4, 0, "no ports");
	ASSERT_EQ(r.frag_off, 1232, "offset, last fragment");
	ASSERT_EQ(r.proto, IPPROTO_UDP, "proto from the fragment header");
}

/* RFC 6946: an atomic fragment (offset 0, M clear) is a whole datagram. */
TEST(parse6_atomic_fragment_is_whole)
{
	struct pkt_spec s = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = 7,
			      .dport = 9, .nr_ext = 1, .ext_hdrs = { 44 }, .frag6 = 0 };
	struct parse_probe_result r;
	uint8_t buf[PKT_MAX];
	size_t len;

	ASSERT_EQ(parse_spec(&s, &r, buf, &len), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_OK, "verdict");
	ASSERT_EQ(r.is_fragment, 0, "not a fragment train");
	ASSERT_EQ(r.has_l4, 1, "ports");
	ASSERT_EQ(r.frag_hdr_off, 14 + 40, "fragment header still located");
}

TEST(parse6_icmpv6_echo_ids)
{
	struct pkt_spec req = { .proto = IPPROTO_ICMPV6, .saddr = C6, .daddr = S6,
				.icmp_type = 128, .sport = 0x4242, .icmp_seq = 1 };
	struct pkt_spec rep = { .proto = IPPROTO_ICMPV6, .saddr = S6, .daddr = C6,
				.icmp_type = 129, .dport = 0x4343, .icmp_seq = 1 };
	struct parse_probe_result r;
	uint8_t buf[PKT_MAX];
	size_t len;

	ASSERT_EQ(parse_spec(&req, &r, buf, &len), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_OK, "request verdict");
	ASSERT_EQ(r.proto, IPPROTO_ICMPV6, "proto");
	ASSERT_EQ(r.icmp_type, 128, "type");
	ASSERT_EQ(ntohs(r.sport), 0x4242, "request id is the source side");
	ASSERT_EQ(r.csum_pseudo, 1, "ICMPv6 checksum covers the pseudo-header");
	ASSERT_EQ(r.csum_off, 14 + 40 + 2, "checksum offset");
	ASSERT_EQ(parse_spec(&rep, &r, buf, &len), 0, "probe run");
	ASSERT_EQ(ntohs(r.dport), 0x4343, "reply id is the destination side");
	ASSERT_EQ(r.sport, 0, "reply has no source id");
}

TEST(parse6_esp_has_no_ports)
{
	struct pkt_spec s = { .proto = IPPROTO_ESP, .saddr = C6, .daddr = S6, .payload_len = 32 };
	struct parse_probe_result r;
	uint8_t buf[PKT_MAX];
	size_t len;

	ASSERT_EQ(parse_spec(&s, &r, buf, &len), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_OK, "verdict");
	ASSERT_EQ(r.proto, IPPROTO_ESP, "proto");
	ASSERT_EQ(r.has_l4, 0, "no ports");
}

TEST(parse6_not_ipv6)
{
	struct pkt_spec s = { .proto = IPPROTO_UDP, .saddr = "192.0.2.1", .daddr = "192.0.2.2",
			      .sport = 1, .dport = 2 };
	struct parse_probe_result r;
	uint8_t buf[PKT_MAX];
	size_t len;

	ASSERT_EQ(parse_spec(&s, &r, buf, &len), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_NOT_IP, "IPv4 is not ours here");
}

/* Every length field a sender controls, lying: each one is refused. */
TEST(parse6_lying_lengths_malformed)
{
	struct pkt_spec s = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = 1,
			      .dport = 2, .nr_ext = 2, .ext_hdrs = { 0, 60 }, .payload_len = 8 };
	struct parse_probe_result r;
	uint8_t buf[PKT_MAX], bad[PKT_MAX];
	size_t len;

	ASSERT_EQ(parse_spec(&s, &r, buf, &len), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_OK, "the honest packet parses");

	/* Payload length beyond the frame. */
	memcpy(bad, buf, len);
	bad[14 + 4] = 0x05;
	ASSERT_EQ(probe_run(bad, len, &r), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_MALFORMED, "payload length too long");

	/* Payload length 0: a jumbogram. */
	memcpy(bad, buf, len);
	bad[14 + 4] = bad[14 + 5] = 0;
	ASSERT_EQ(probe_run(bad, len, &r), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_MALFORMED, "jumbogram");

	/* An extension header claiming to run past the datagram. */
	memcpy(bad, buf, len);
	bad[14 + 40 + 8 + 1] = 200;
	ASSERT_EQ(probe_run(bad, len, &r), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_MALFORMED, "extension header past the end");

	/* Version 4 in an IPv6 frame. */
	memcpy(bad, buf, len);
	bad[14] = 0x40;
	ASSERT_EQ(probe_run(bad, len, &r), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_MALFORMED, "wrong version");

	/* Cut inside the first extension header, the length saying so.
	 * (A frame cut inside the fixed header the kernel's test run itself
	 * refuses, so it cannot be shown here.) */
	memcpy(bad, buf, len);
	bad[14 + 4] = 0;
	bad[14 + 5] = 4;
	ASSERT_EQ(probe_run(bad, 14 + 40 + 4, &r), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_MALFORMED, "truncated extension header");
}

TEST(parse6_two_fragment_headers_malformed)
{
	struct pkt_spec s = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = 1,
			      .dport = 2, .nr_ext = 2, .ext_hdrs = { 44, 44 }, .frag6 = 1 };
	struct parse_probe_result r;
	uint8_t buf[PKT_MAX];
	size_t len;

	ASSERT_EQ(parse_spec(&s, &r, buf, &len), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_MALFORMED, "verdict");
}

TEST(parse6_truncated_tcp_malformed)
{
	struct pkt_spec s = { .proto = IPPROTO_TCP, .saddr = C6, .daddr = S6, .sport = 1,
			      .dport = 2, .tcp_flags = 0x02 };
	struct parse_probe_result r;
	uint8_t buf[PKT_MAX];
	size_t len;

	len = pkt_build(&s, buf);
	/* Claim and carry only 12 bytes of the 20-byte TCP header. */
	buf[14 + 4] = 0;
	buf[14 + 5] = 12;
	ASSERT_EQ(probe_run(buf, 14 + 40 + 12, &r), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_MALFORMED, "verdict");
	(void)len;
}

/* A transport header cut by the datagram's own length, the rest of it in
 * the frame's padding: malformed, never read from the padding. */
TEST(parse6_transport_header_past_payload_length_malformed)
{
	struct pkt_spec s = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = 1,
			      .dport = 2, .payload_len = 16 };
	struct parse_probe_result r;
	uint8_t buf[PKT_MAX];
	size_t len;

	len = pkt_build(&s, buf);
	buf[14 + 4] = 0;
	buf[14 + 5] = 4;	/* 4 of UDP's 8 header bytes in the datagram */
	ASSERT_EQ(probe_run(buf, len, &r), 0, "probe run");
	ASSERT_EQ(r.ret, PROBE_PARSE_MALFORMED, "verdict");
}
