// SPDX-License-Identifier: GPL-2.0
/*
 * The NAT-PMP/PCP wire codec alone (src/pcp_codec.c): a table of requests
 * and what pcp_parse() makes of them, then responses byte for byte.
 */
#include <arpa/inet.h>
#include <string.h>

#include "harness.h"
#include "pcp_codec.h"

#define CLIENT4 htonl(0xc0a84d02U)	/* 192.168.77.2 */
#define OTHER4 htonl(0xc0a84d03U)
#define CLIENT (&(struct pcp_host){ .family = FC_AF_INET, .addr.v4 = CLIENT4 })
#define OTHER (&(struct pcp_host){ .family = FC_AF_INET, .addr.v4 = OTHER4 })
#define EXT (&(struct pcp_host){ .family = FC_AF_INET, .addr.v4 = htonl(0xc6336401) })

/* A PCP header from 192.168.77.2, opcode data and options appended. */
static size_t pcp_req(__u8 *p, __u8 version, __u8 opcode, __u32 lifetime)
{
	memset(p, 0, PCP_MAX_MSG + 4);
	p[0] = version;
	p[1] = opcode;
	p[4] = lifetime >> 24, p[5] = lifetime >> 16, p[6] = lifetime >> 8, p[7] = lifetime;
	p[18] = p[19] = 0xff;
	memcpy(p + 20, &(__be32){ CLIENT4 }, 4);
	return PCP_HDR_LEN;
}

/* MAP opcode data at p + 24: nonce "NNN...", proto, ports. */
static size_t map_body(__u8 *p, __u8 proto, __u16 int_port, __u16 suggested)
{
	memset(p + 24, 'N', PCP_NONCE_LEN);
	p[36] = proto;
	p[40] = int_port >> 8, p[41] = int_port;
	p[42] = suggested >> 8, p[43] = suggested;
	return PCP_HDR_LEN + PCP_MAP_LEN;
}

TEST(pcp_codec_requests_parse_to_what_the_rfcs_say)
{
	__u8 p[PCP_MAX_MSG + 4];
	struct pcp_request r;
	size_t n;

	/* NAT-PMP as natpmpc sends it: map UDP 8080, suggest 25100, 3600 s. */
	memcpy(p, "\x00\x01\x00\x00\x1f\x90\x62\x0c\x00\x00\x0e\x10", 12);
	pcp_parse(p, 12, CLIENT, &r);
	ASSERT_EQ(r.kind, NATPMP_REQ_MAP, "natpmp map");
	ASSERT_EQ(r.proto, 17, "udp");
	ASSERT_EQ(r.int_port, 8080, "internal port");
	ASSERT_EQ(r.suggested, 25100, "suggested");
	ASSERT_EQ(r.lifetime, 3600, "lifetime");
	pcp_parse(p, 11, CLIENT, &r);
	ASSERT_EQ(r.kind, PCP_REQ_DROP, "short natpmp map: dropped");
	pcp_parse((const __u8 *)"\x00\x00", 2, CLIENT, &r);
	ASSERT_EQ(r.kind, NATPMP_REQ_ADDRESS, "natpmp address");
	pcp_parse((const __u8 *)"\x00\x03", 2, CLIENT, &r);
	ASSERT_EQ(r.kind, NATPMP_REQ_BAD_OPCODE, "natpmp opcode 3");
	pcp_parse((const __u8 *)"\x00\x81", 2, CLIENT, &r);
	ASSERT_EQ(r.kind, PCP_REQ_DROP, "a response: dropped");
	pcp_parse((const __u8 *)"\x02", 1, CLIENT, &r);
	ASSERT_EQ(r.kind, PCP_REQ_DROP, "one byte: dropped");

	/* PCP MAP with THIRD_PARTY and PREFER_FAILURE, both echoed. */
	pcp_req(p, 2, PCP_OP_MAP, 600);
	n = map_body(p, 17, 8080, 25200);
	memcpy(p + n, "\x01\x00\x00\x10", 4);
	p[n + 14] = p[n + 15] = 0xff;
	memcpy(p + n + 16, &(__be32){ OTHER4 }, 4);
	memcpy(p + n + 20, "\x02\x00\x00\x00", 4);
	pcp_parse(p, n + 24, CLIENT, &r);
	ASSERT_EQ(r.kind, PCP_REQ, "pcp map");
	ASSERT_TRUE(r.third_party && r.third_party_host.family == FC_AF_INET &&
		    r.third_party_host.addr.v4 == OTHER4, "third party");
	ASSERT_TRUE(r.prefer_failure, "prefer failure");
	ASSERT_EQ(r.echo_len, 24, "both options echoed");
	ASSERT_EQ(r.int_port, 8080, "internal port");
	ASSERT_EQ(r.suggested, 25200, "suggested");
	ASSERT_TRUE(r.nonce == p + 24, "nonce");
	/* The same from another address: ADDRESS_MISMATCH. */
	pcp_parse(p, n + 24, OTHER, &r);
	ASSERT_EQ(r.error, PCP_ADDRESS_MISMATCH, "client field is not the source");
	/* A second PREFER_FAILURE: MALFORMED_OPTION. */
	memcpy(p + n + 24, "\x02\x00\x00\x00", 4);
	pcp_parse(p, n + 28, CLIENT, &r);
	ASSERT_EQ(r.error, PCP_MALFORMED_OPTION, "duplicate option");
	/* FILTER: not offered (full cone). An optional one (>= 128) skipped. */
	memcpy(p + n, "\x03\x00\x00\x14", 4);
	memset(p + n + 4, 0, 20);
	pcp_parse(p, n + 24, CLIENT, &r);
	ASSERT_EQ(r.error, PCP_UNSUPP_OPTION, "filter");
	p[n] = 0xc8;
	pcp_parse(p, n + 24, CLIENT, &r);
	ASSERT_EQ(r.kind, PCP_REQ, "optional option skipped");
	ASSERT_EQ(r.echo_len, 0, "and not echoed");
	/* Wrong versions, lengths, opcodes, protocols. */
	pcp_req(p, 3, PCP_OP_MAP, 600);
	pcp_parse(p, 60, CLIENT, &r);
	ASSERT_EQ(r.error, PCP_UNSUPP_VERSION, "version 3");
	ASSERT_EQ(r.raw_len, PCP_HDR_LEN, "answered with the header only");
	pcp_req(p, 2, PCP_OP_MAP, 600);
	pcp_parse(p, 58, CLIENT, &r);
	ASSERT_EQ(r.error, PCP_MALFORMED_REQUEST, "not a multiple of 4");
	pcp_parse(p, 1104, CLIENT, &r);
	ASSERT_EQ(r.error, PCP_MALFORMED_REQUEST, "over 1100 bytes");
	pcp_parse(p, 56, CLIENT, &r);
	ASSERT_EQ(r.error, PCP_MALFORMED_REQUEST, "MAP data cut short");
	pcp_req(p, 2, 5, 600);
	pcp_parse(p, 24, CLIENT, &r);
	ASSERT_EQ(r.error, PCP_UNSUPP_OPCODE, "opcode 5");
	pcp_req(p, 2, PCP_OP_MAP, 600);
	n = map_body(p, 1, 8080, 0);
	pcp_parse(p, n, CLIENT, &r);
	ASSERT_EQ(r.error, PCP_UNSUPP_PROTOCOL, "icmp");
	n = map_body(p, 0, 8080, 0);
	pcp_parse(p, n, CLIENT, &r);
	ASSERT_EQ(r.error, PCP_MALFORMED_REQUEST, "protocol 0 with a port");
}

TEST(pcp_codec_responses_byte_for_byte)
{
	__u8 p[PCP_MAX_MSG + 4], out[PCP_MAX_MSG + 4];
	static const __u8 addr_want[12] = { 0, 0x80, 0, 0, 0, 0, 0, 7, 198, 51, 100, 1 };
	static const __u8 map_want[16] = { 0, 0x81, 0, 0, 0, 0, 0, 7, 0x1f, 0x90, 0x62, 0x0c,
					   0, 0, 0x0e, 0x10 };
	struct pcp_request r;
	size_t n;

	ASSERT_PKT_EQ(out, natpmp_build_address(out, PMP_SUCCESS, 7, htonl(0xc6336401)),
		      addr_want, sizeof(addr_want), "natpmp address");
	pcp_parse((const __u8 *)"\x00\x01\x00\x00\x1f\x90\x62\x0c\x00\x00\x0e\x10", 12, CLIENT, &r);
	ASSERT_PKT_EQ(out, natpmp_build_map(out, &r, PMP_SUCCESS, 7, 25100, 3600), map_want,
		      sizeof(map_want), "natpmp map");

	pcp_req(p, 2, PCP_OP_MAP, 600);
	n = map_body(p, 17, 8080, 25200);
	pcp_parse(p, n, CLIENT, &r);
	ASSERT_EQ(pcp_build_success(out, &r, 7, 600, 25201, EXT), 60, "len");
	ASSERT_EQ(out[1], 0x81, "R bit");
	ASSERT_EQ(out[3], PCP_SUCCESS, "result");
	ASSERT_EQ(out[7], 600 & 0xff, "lifetime");
	ASSERT_EQ(out[11], 7, "epoch");
	ASSERT_TRUE(!memcmp(out + 24, p + 24, 18), "nonce, protocol, internal port kept");
	ASSERT_EQ(out[42] << 8 | out[43], 25201, "assigned port");
	ASSERT_EQ(out[58], 100, "assigned address");
	/* An error copies the request and sets the server fields. */
	n = pcp_build_error(out, &r, PCP_USER_EX_QUOTA, 9);
	ASSERT_EQ(n, 60, "error length");
	ASSERT_EQ(out[3], PCP_USER_EX_QUOTA, "error result");
	ASSERT_EQ(out[4] << 24 | out[5] << 16 | out[6] << 8 | out[7], PCP_SHORT_ERROR_S,
		  "a short error");
	ASSERT_TRUE(!memcmp(out + 24, p + 24, 36), "the request's data back");
	ASSERT_EQ(pcp_build_announce(out, 3), PCP_HDR_LEN, "announce");
	ASSERT_EQ(out[1], 0x80, "announce opcode");
}

/* A PCP header from the IPv6 host fd00:77::2 (RFC 6887 §7.1: its own
 * address in the client field, not IPv4-mapped). */
static const __u8 client6[16] = { 0xfd, 0, 0, 0x77, [15] = 2 };

static size_t pcp_req6(__u8 *p, __u8 opcode, __u32 lifetime)
{
	pcp_req(p, 2, opcode, lifetime);
	memcpy(p + 8, client6, 16);
	return PCP_HDR_LEN;
}

TEST(pcp_codec_rfc6887_ipv6_client_of_a_nat64)
{
	struct pcp_host src6 = { .family = FC_AF_INET6 }, other6;
	static const __u8 mapped_any[16] = { [10] = 0xff, [11] = 0xff };
	static const __u8 mapped_ext[16] = { [10] = 0xff, [11] = 0xff, 198, 51, 100, 1 };
	static const __u8 native[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const __u8 peer6[16] = { 0, 0x64, 0xff, 0x9b, [12] = 192, 0, 2, 2 };
	__u8 p[PCP_MAX_MSG + 4], out[PCP_MAX_MSG + 4];
	struct pcp_request r;
	size_t n;

	memcpy(src6.addr.v6, client6, 16);
	other6 = src6;
	other6.addr.v6[15] = 3;

	/* MAP with the suggested external address in each form (§11.1):
	 * IPv4-mapped all-zeros and :: say "no preference" (an IPv4 one is
	 * all a NAT64 has), an IPv4-mapped address is a wish, a native IPv6
	 * one can never be given. */
	pcp_req6(p, PCP_OP_MAP, 600);
	n = map_body(p, 17, 8080, 25200);
	memcpy(p + 44, mapped_any, 16);
	pcp_parse(p, n, &src6, &r);
	ASSERT_EQ(r.kind, PCP_REQ, "map from an IPv6 client");
	ASSERT_EQ(r.sugg_addr, 0, "::ffff:0.0.0.0: no preference");
	ASSERT_EQ(r.sugg_family, FC_AF_INET, "but an IPv4 one: NAT64");
	ASSERT_TRUE(pcp_host_eq(&r.src, &src6), "the sender kept");
	memset(p + 44, 0, 16);
	pcp_parse(p, n, &src6, &r);
	ASSERT_EQ(r.sugg_addr, 0, ":: no preference");
	ASSERT_EQ(r.sugg_family, FC_AF_INET6, "of IPv6: NAT66");
	memcpy(p + 44, mapped_ext, 16);
	pcp_parse(p, n, &src6, &r);
	ASSERT_EQ(r.sugg_addr, htonl(0xc6336401), "an IPv4 wish");
	memcpy(p + 44, native, 16);
	pcp_parse(p, n, &src6, &r);
	ASSERT_EQ(r.sugg_addr, 0xffffffffU, "an IPv6 external address: never an IPv4 one");
	ASSERT_TRUE(r.sugg_family == FC_AF_INET6 && !memcmp(r.sugg6, native, 16), "the IPv6 wish");

	/* The client field must be the sender: another IPv6 host, or the
	 * sender's address written IPv4-mapped, is a mismatch (§8.1). */
	pcp_parse(p, n, &other6, &r);
	ASSERT_EQ(r.error, PCP_ADDRESS_MISMATCH, "another IPv6 host");
	memcpy(p + 8, mapped_ext, 16);
	pcp_parse(p, n, &src6, &r);
	ASSERT_EQ(r.error, PCP_ADDRESS_MISMATCH, "IPv4-mapped from an IPv6 sender");

	/* THIRD_PARTY names a host of the sender's family (§13.1). */
	pcp_req6(p, PCP_OP_MAP, 600);
	n = map_body(p, 17, 8080, 0);
	memcpy(p + n, "\x01\x00\x00\x10", 4);
	memcpy(p + n + 4, other6.addr.v6, 16);
	pcp_parse(p, n + 20, &src6, &r);
	ASSERT_EQ(r.kind, PCP_REQ, "third party IPv6");
	ASSERT_TRUE(r.third_party && pcp_host_eq(&r.third_party_host, &other6), "its host");
	memcpy(p + n + 4, mapped_ext, 16);
	pcp_parse(p, n + 20, &src6, &r);
	ASSERT_EQ(r.error, PCP_MALFORMED_OPTION, "an IPv4 third party from an IPv6 client");

	/* PEER: the remote peer as the client sees it, under the prefix. */
	pcp_req6(p, PCP_OP_PEER, 600);
	n = map_body(p, 17, 8080, 0);
	p[60] = 0x1b, p[61] = 0x58;
	memcpy(p + 64, peer6, 16);
	pcp_parse(p, PCP_HDR_LEN + PCP_PEER_LEN, &src6, &r);
	ASSERT_EQ(r.kind, PCP_REQ, "peer under the NAT64 prefix");
	ASSERT_EQ(r.peer_port, 7000, "peer port");

	/* NAT-PMP is IPv4's (RFC 6886): from an IPv6 sender, no answer. */
	pcp_parse((const __u8 *)"\x00\x00", 2, &src6, &r);
	ASSERT_EQ(r.kind, PCP_REQ_DROP, "nat-pmp address request over IPv6");

	/* The answer gives the IPv4 external endpoint, IPv4-mapped. */
	pcp_req6(p, PCP_OP_MAP, 600);
	n = map_body(p, 6, 8080, 0);
	memcpy(p + 44, mapped_any, 16);
	pcp_parse(p, n, &src6, &r);
	ASSERT_EQ(pcp_build_success(out, &r, 7, 600, 25201, EXT), 60, "len");
	ASSERT_TRUE(!memcmp(out + 44, mapped_ext, 16), "external address ::ffff:198.51.100.1");
	ASSERT_EQ(out[42] << 8 | out[43], 25201, "external port");
}
