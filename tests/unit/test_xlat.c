// SPDX-License-Identifier: GPL-2.0
/*
 * The NAT64 translation layer on its own (bpf/lib/xlat.h, xlat_icmp.h,
 * nat64_addr.h), through the xlat probe programs: a packet built with
 * pkt.c goes in, the whole translated packet coming out is compared byte
 * for byte (every header, every checksum) with the expected packet built
 * independently, from scratch, by pkt.c. Test names carry the RFC section.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_profile.h"
#include "fixture.h"
#include "harness.h"
#include "pkt.h"
#include "xlat_probe.h"
#include "xlat_probe.skel.h"
#include "xlat_probe_xdp.skel.h"

#define C6	"2001:db8:1::2"		/* IPv6-only client */
#define S4	"203.0.113.5"		/* IPv4 server ... */
#define S6	"64:ff9b::cb00:7105"	/* ... as the client sees it */
#define R4	"203.0.113.254"		/* IPv4 router on the path */
#define R4_6	"64:ff9b::cb00:71fe"
#define EXT4	"192.0.2.1"		/* the NAT's external address */
#define CPORT	4000
#define EPORT	20001
#define IP_ID	0x4242
#define DF	0x4000
#define MF	0x2000

enum probe_prog { P_6TO4, P_4TO6, P_XDP_6TO4, P_XDP_4TO6, P_ADDR };

static struct xlat_probe *tc_probe;
static struct xlat_probe_xdp *xdp_probe;

/* What the translation is told (struct xlat_params). */
struct xlat_req {
	const char *out_s, *out_d, *in_s, *in_d;
	uint16_t out_sport, out_dport, in_sport, in_dport;
	uint16_t mtu4, mtu6;
};

static void addr_fill(uint8_t out[16], const char *a)
{
	memset(out, 0, 16);
	if (!a)
		return;
	if (strchr(a, ':')) {
		ip6(a, out);
	} else {
		uint32_t v = ip4(a);

		memcpy(out, &v, 4);
	}
}

/*
 * The probes put every translation in one program. In the bounded-loops
 * profile (src/bpf_profile.h) that is past the verifier's million
 * instructions, while the datapath's own programs, which split the work,
 * load: NAT64 through them is tested in test_nat64.c in every profile.
 * Elsewhere a probe that does not load fails the test.
 */
static int probe_load(void)
{
	if (!tc_probe)
		tc_probe = FC_OPEN_AND_LOAD(xlat_probe, "xlat probe");
	if (!xdp_probe)
		xdp_probe = FC_OPEN_AND_LOAD(xlat_probe_xdp, "xlat XDP probe");
	return tc_probe && xdp_probe ? 0 : -1;
}

static bool probe_too_big_here(void)
{
	static int answer = -1;
	struct fc_bpf_profile p;

	if (answer < 0)
		answer = probe_load() && bpf_profile_get(&p) == 0 && p.bounded_loops;
	return answer;
}

#define NEED_PROBE()								\
	do {									\
		if (probe_too_big_here())					\
			SKIP("the xlat probe is past the verifier's limit in the "	\
			     "bounded-loops profile (NAT64: test_nat64.c)");		\
	} while (0)

static int probe_fds(enum probe_prog prog, int *prog_fd, int *in_fd, int *out_fd)
{
	if (probe_load())
		return -1;
	if (prog >= P_XDP_6TO4 && prog <= P_XDP_4TO6) {
		*prog_fd = bpf_program__fd(prog == P_XDP_6TO4 ? xdp_probe->progs.probe_6to4
							      : xdp_probe->progs.probe_4to6);
		*in_fd = bpf_map__fd(xdp_probe->maps.probe_in);
		*out_fd = bpf_map__fd(xdp_probe->maps.probe_out);
		return 0;
	}
	*prog_fd = bpf_program__fd(prog == P_6TO4 ? tc_probe->progs.probe_6to4 :
				   prog == P_4TO6 ? tc_probe->progs.probe_4to6 :
				   tc_probe->progs.probe_nat64_addr);
	*in_fd = bpf_map__fd(tc_probe->maps.probe_in);
	*out_fd = bpf_map__fd(tc_probe->maps.probe_out);
	return 0;
}

/* One run of a probe program: in goes through, out and o come back. */
static int probe_run(enum probe_prog prog, const struct xlat_probe_in *pin, const uint8_t *pkt,
		     size_t len, struct xlat_probe_out *o, uint8_t *out, size_t *out_len)
{
	int prog_fd, in_fd, out_fd;
	__u32 zero = 0;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len,
		    .data_out = out, .data_size_out = PKT_MAX, .repeat = 1);

	if (probe_fds(prog, &prog_fd, &in_fd, &out_fd) ||
	    bpf_map_update_elem(in_fd, &zero, pin, BPF_ANY))
		return -1;
	memset(o, 0, sizeof(*o));
	if (bpf_map_update_elem(out_fd, &zero, o, BPF_ANY) ||
	    bpf_prog_test_run_opts(prog_fd, &opts))
		return -1;
	*out_len = opts.data_size_out;
	return bpf_map_lookup_elem(out_fd, &zero, o);
}

static int xlat_run(enum probe_prog prog, const struct xlat_req *rq, const uint8_t *pkt, size_t len,
		    struct xlat_probe_out *o, uint8_t *out, size_t *out_len)
{
	struct xlat_probe_in pin = {};

	addr_fill(pin.out_saddr, rq->out_s);
	addr_fill(pin.out_daddr, rq->out_d);
	addr_fill(pin.in_saddr, rq->in_s);
	addr_fill(pin.in_daddr, rq->in_d);
	pin.out_sport = htons(rq->out_sport);
	pin.out_dport = htons(rq->out_dport);
	pin.in_sport = htons(rq->in_sport);
	pin.in_dport = htons(rq->in_dport);
	pin.ip_id = htons(IP_ID);
	pin.mtu4 = rq->mtu4;
	pin.mtu6 = rq->mtu6;
	return probe_run(prog, &pin, pkt, len, o, out, out_len);
}

/* Translate `in` and compare with `want` (NULL: expect the verdict only). */
static void expect_xlat(enum probe_prog prog, const struct xlat_req *rq, const struct pkt_spec *in,
			int verdict, const struct pkt_spec *want)
{
	uint8_t pkt[PKT_MAX], out[PKT_MAX], exp[PKT_MAX];
	struct xlat_probe_out o;
	size_t len = pkt_build(in, pkt), out_len, exp_len;

	ASSERT_EQ(xlat_run(prog, rq, pkt, len, &o, out, &out_len), 0, "probe run");
	ASSERT_EQ(o.parse, 0, "parsed");
	ASSERT_EQ(o.verdict, verdict, "verdict");
	if (!want)
		return;
	exp_len = pkt_build(want, exp);
	ASSERT_PKT_EQ(out, out_len, exp, exp_len, "translated packet");
}

/* The usual request for an outbound packet: client -> server's mapping. */
static const struct xlat_req out_req = {
	.out_s = EXT4, .out_d = S4, .out_sport = EPORT,
};
/* ... and for an inbound one: server -> mapping -> client. */
static const struct xlat_req in_req = {
	.out_s = S6, .out_d = C6, .out_dport = CPORT,
};

/* RFC 6052 §2.4: the examples table, 192.0.2.33 under each prefix length,
 * both ways (synthesis §2.2, extraction §2.3). */
TEST(rfc6052_s2_4_examples_all_prefix_lengths)
{
	NEED_PROBE();
	static const struct {

		const char *prefix;
		unsigned int len;
		const char *addr;
	} ex[] = {
		{ "2001:db8::", 32, "2001:db8:c000:221::" },
		{ "2001:db8:100::", 40, "2001:db8:1c0:2:21::" },
		{ "2001:db8:122::", 48, "2001:db8:122:c000:2:2100::" },
		{ "2001:db8:122:300::", 56, "2001:db8:122:3c0:0:221::" },
		{ "2001:db8:122:344::", 64, "2001:db8:122:344:c0:2:2100::" },
		{ "2001:db8:122:344::", 96, "2001:db8:122:344::192.0.2.33" },
	};
	uint8_t dummy[64] = {}, out[PKT_MAX], want[16];
	struct xlat_probe_in pin;
	struct xlat_probe_out o;
	size_t out_len;

	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		memset(&pin, 0, sizeof(pin));
		ip6(ex[i].prefix, pin.prefix);
		pin.prefix_len = ex[i].len;
		pin.v4 = ip4("192.0.2.33");
		ip6(ex[i].addr, pin.v6);
		ip6(ex[i].addr, want);
		ASSERT_EQ(probe_run(P_ADDR, &pin, dummy, sizeof(dummy), &o, out, &out_len), 0, "run");
		ASSERT_EQ(o.synth_ret, 0, ex[i].addr);
		ASSERT_TRUE(!memcmp(o.v6, want, 16), ex[i].addr);
		ASSERT_EQ(o.match, 1, ex[i].addr);
		ASSERT_EQ(o.extract_ret, 0, ex[i].addr);
		ASSERT_EQ(o.v4, ip4("192.0.2.33"), ex[i].addr);
	}
}

/* Addresses outside the prefix are not extracted; lengths RFC 6052 does
 * not define are refused. */
TEST(rfc6052_s2_2_outside_prefix_and_bad_length)
{
	NEED_PROBE();
	uint8_t dummy[64] = {}, out[PKT_MAX];
	struct xlat_probe_in pin = {};
	struct xlat_probe_out o;
	size_t out_len;

	ip6("64:ff9b::", pin.prefix);
	pin.prefix_len = 96;
	ip6("64:ff9c::c000:221", pin.v6);
	pin.v4 = ip4("192.0.2.33");
	ASSERT_EQ(probe_run(P_ADDR, &pin, dummy, sizeof(dummy), &o, out, &out_len), 0, "run");
	ASSERT_EQ(o.match, 0, "other prefix does not match");
	ASSERT_EQ(o.extract_ret, -1, "not extracted");
	ip6("64:ff9b::c000:221", pin.v6);
	ASSERT_EQ(probe_run(P_ADDR, &pin, dummy, sizeof(dummy), &o, out, &out_len), 0, "run");
	ASSERT_EQ(o.extract_ret, 0, "well-known prefix extracted");
	ASSERT_EQ(o.v4, ip4("192.0.2.33"), "embedded address");
	pin.prefix_len = 80;
	ASSERT_EQ(probe_run(P_ADDR, &pin, dummy, sizeof(dummy), &o, out, &out_len), 0, "run");
	ASSERT_EQ(o.synth_ret, -1, "/80 refused");
	ASSERT_EQ(o.extract_ret, -1, "/80 refused");
}

/* RFC 7915 §5.1: UDP, TOS from the traffic class, TTL = hop limit, DF
 * clear up to 1260 bytes with the given ID; pseudo-header checksum change
 * and the NAT's source port in one. */
TEST(rfc7915_s5_1_udp_6to4)
{
	NEED_PROBE();
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = CPORT,
			       .dport = 53, .ttl = 17, .tclass = 0xb8, .flow_label = 0x12345,
			       .payload_len = 33 };
	struct pkt_spec want = { .proto = IPPROTO_UDP, .saddr = EXT4, .daddr = S4, .sport = EPORT,
				 .dport = 53, .ttl = 17, .tclass = 0xb8, .ip_id = IP_ID,
				 .payload_len = 33 };

	expect_xlat(P_6TO4, &out_req, &in, PROBE_XLAT_OK, &want);
}

/* RFC 7915 §4.1: traffic class from TOS, flow label 0, hop limit = TTL. */
TEST(rfc7915_s4_1_udp_4to6)
{
	NEED_PROBE();
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = S4, .daddr = EXT4, .sport = 53,
			       .dport = EPORT, .ttl = 33, .tclass = 0x2e, .frag = DF,
			       .payload_len = 40 };
	struct pkt_spec want = { .proto = IPPROTO_UDP, .saddr = S6, .daddr = C6, .sport = 53,
				 .dport = CPORT, .ttl = 33, .tclass = 0x2e, .payload_len = 40 };

	expect_xlat(P_4TO6, &in_req, &in, PROBE_XLAT_OK, &want);
}

TEST(rfc7915_s5_1_tcp_6to4)
{
	NEED_PROBE();
	static const uint8_t opts[] = { 2, 4, 0x05, 0xa0, 1, 3, 3, 7 };
	struct pkt_spec in = { .proto = IPPROTO_TCP, .saddr = C6, .daddr = S6, .sport = CPORT,
			       .dport = 443, .tcp_flags = 0x02, .tcp_seq = 1000,
			       .tcp_opts = opts, .tcp_opts_len = sizeof(opts), .payload_len = 5 };
	struct pkt_spec want = { .proto = IPPROTO_TCP, .saddr = EXT4, .daddr = S4, .sport = EPORT,
				 .dport = 443, .tcp_flags = 0x02, .tcp_seq = 1000, .ip_id = IP_ID,
				 .tcp_opts = opts, .tcp_opts_len = sizeof(opts), .payload_len = 5 };

	expect_xlat(P_6TO4, &out_req, &in, PROBE_XLAT_OK, &want);
}

TEST(rfc7915_s4_1_tcp_4to6)
{
	NEED_PROBE();
	struct pkt_spec in = { .proto = IPPROTO_TCP, .saddr = S4, .daddr = EXT4, .sport = 443,
			       .dport = EPORT, .tcp_flags = 0x12, .tcp_seq = 7, .tcp_ack = 1001,
			       .frag = DF, .payload_len = 100 };
	struct pkt_spec want = { .proto = IPPROTO_TCP, .saddr = S6, .daddr = C6, .sport = 443,
				 .dport = CPORT, .tcp_flags = 0x12, .tcp_seq = 7, .tcp_ack = 1001,
				 .payload_len = 100 };

	expect_xlat(P_4TO6, &in_req, &in, PROBE_XLAT_OK, &want);
}

/* RFC 7915 §5.2: echo request 128 -> 8, the ICMPv6 pseudo-header taken out
 * of the checksum, the identifier mapped. */
TEST(rfc7915_s5_2_echo_request_6to4)
{
	NEED_PROBE();
	struct pkt_spec in = { .proto = IPPROTO_ICMPV6, .saddr = C6, .daddr = S6,
			       .icmp_type = 128, .sport = 0x77, .icmp_seq = 3, .payload_len = 56 };
	struct pkt_spec want = { .proto = IPPROTO_ICMP, .saddr = EXT4, .daddr = S4, .icmp_type = 8,
				 .sport = EPORT, .icmp_seq = 3, .ip_id = IP_ID, .payload_len = 56 };

	expect_xlat(P_6TO4, &out_req, &in, PROBE_XLAT_OK, &want);
}

/* RFC 7915 §4.2: echo reply 0 -> 129, the pseudo-header added. */
TEST(rfc7915_s4_2_echo_reply_4to6)
{
	NEED_PROBE();
	struct pkt_spec in = { .proto = IPPROTO_ICMP, .saddr = S4, .daddr = EXT4, .icmp_type = 0,
			       .dport = EPORT, .icmp_seq = 3, .payload_len = 56 };
	struct pkt_spec want = { .proto = IPPROTO_ICMPV6, .saddr = S6, .daddr = C6,
				 .icmp_type = 129, .dport = CPORT, .icmp_seq = 3, .payload_len = 56 };

	expect_xlat(P_4TO6, &in_req, &in, PROBE_XLAT_OK, &want);
}

TEST(rfc7915_s5_2_echo_reply_6to4_and_request_4to6)
{
	NEED_PROBE();
	struct pkt_spec in6 = { .proto = IPPROTO_ICMPV6, .saddr = C6, .daddr = S6,
				.icmp_type = 129, .dport = 0x99, .icmp_seq = 9, .payload_len = 8 };
	struct pkt_spec want4 = { .proto = IPPROTO_ICMP, .saddr = EXT4, .daddr = S4, .icmp_type = 0,
				  .dport = 0x99, .icmp_seq = 9, .ip_id = IP_ID, .payload_len = 8 };
	struct pkt_spec in4 = { .proto = IPPROTO_ICMP, .saddr = S4, .daddr = EXT4, .icmp_type = 8,
				.sport = 0x55, .icmp_seq = 1, .payload_len = 8 };
	struct pkt_spec want6 = { .proto = IPPROTO_ICMPV6, .saddr = S6, .daddr = C6,
				  .icmp_type = 128, .sport = 0x55, .icmp_seq = 1, .payload_len = 8 };
	struct xlat_req rq4 = { .out_s = EXT4, .out_d = S4 }, rq6 = { .out_s = S6, .out_d = C6 };

	expect_xlat(P_6TO4, &rq4, &in6, PROBE_XLAT_OK, &want4);
	if (test_failed)
		return;
	expect_xlat(P_4TO6, &rq6, &in4, PROBE_XLAT_OK, &want6);
}

/* RFC 7915 §5.2 / §4.2: informational messages without a twin are dropped. */
TEST(rfc7915_s5_2_s4_2_informational_dropped)
{
	NEED_PROBE();
	struct pkt_spec ns = { .proto = IPPROTO_ICMPV6, .saddr = C6, .daddr = S6, .icmp_type = 135,
			       .payload_len = 16 };
	struct pkt_spec ts = { .proto = IPPROTO_ICMP, .saddr = S4, .daddr = EXT4, .icmp_type = 13,
			       .payload_len = 12 };

	expect_xlat(P_6TO4, &out_req, &ns, PROBE_XLAT_DROP, NULL);
	if (test_failed)
		return;
	expect_xlat(P_4TO6, &in_req, &ts, PROBE_XLAT_DROP, NULL);
}

/* RFC 7915 §5.1: above 1260 bytes DF is set (Identification 0). */
TEST(rfc7915_s5_1_df_set_above_1260)
{
	NEED_PROBE();
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = CPORT,
			       .dport = 53, .payload_len = 1233 };
	struct pkt_spec want = { .proto = IPPROTO_UDP, .saddr = EXT4, .daddr = S4, .sport = EPORT,
				 .dport = 53, .frag = DF, .ip_id_zero = 1, .payload_len = 1233 };
	struct pkt_spec in_at = in, want_at = want;

	expect_xlat(P_6TO4, &out_req, &in, PROBE_XLAT_OK, &want);	/* 20+8+1233 = 1261 */
	if (test_failed)
		return;
	in_at.payload_len = want_at.payload_len = 1232;			/* 1260: DF clear */
	want_at.frag = 0;
	want_at.ip_id_zero = 0;
	want_at.ip_id = IP_ID;
	expect_xlat(P_6TO4, &out_req, &in_at, PROBE_XLAT_OK, &want_at);
}

/* RFC 7915 §5.1.1: the fragment header becomes the IPv4 fragment fields:
 * ID its low 16 bits, MF and offset carried, DF clear. First fragment. */
TEST(rfc7915_s5_1_1_first_fragment_6to4)
{
	NEED_PROBE();
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = CPORT,
			       .dport = 53, .nr_ext = 1, .ext_hdrs = { 44 }, .frag6 = 1,
			       .frag6_id = 0xabcd1234, .payload_len = 64 };
	struct pkt_spec want = { .proto = IPPROTO_UDP, .saddr = EXT4, .daddr = S4, .sport = EPORT,
				 .dport = 53, .frag = MF, .ip_id = 0x1234, .payload_len = 64 };

	expect_xlat(P_6TO4, &out_req, &in, PROBE_XLAT_OK, &want);
}

TEST(rfc7915_s5_1_1_non_first_fragment_6to4)
{
	NEED_PROBE();
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .nr_ext = 1,
			       .ext_hdrs = { 44 }, .frag6 = 1232, .frag6_id = 0xabcd1234,
			       .payload_len = 100 };
	struct pkt_spec want = { .proto = IPPROTO_UDP, .saddr = EXT4, .daddr = S4,
				 .frag = 1232 / 8, .ip_id = 0x1234, .payload_len = 100 };

	expect_xlat(P_6TO4, &out_req, &in, PROBE_XLAT_OK, &want);
}

/* RFC 7915 §4.1: a fragment header carries an IPv4 fragment's ID, offset
 * and MF: first fragment (checksum updated for the pseudo-header). */
TEST(rfc7915_s4_1_first_fragment_4to6)
{
	NEED_PROBE();
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = S4, .daddr = EXT4, .sport = 53,
			       .dport = EPORT, .frag = MF, .ip_id = 0x5151, .payload_len = 64 };
	struct pkt_spec want = { .proto = IPPROTO_UDP, .saddr = S6, .daddr = C6, .sport = 53,
				 .dport = CPORT, .nr_ext = 1, .ext_hdrs = { 44 }, .frag6 = 1,
				 .frag6_id = 0x5151, .payload_len = 64 };

	expect_xlat(P_4TO6, &in_req, &in, PROBE_XLAT_OK, &want);
}

TEST(rfc7915_s4_1_non_first_fragment_4to6)
{
	NEED_PROBE();
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = S4, .daddr = EXT4, .frag = 185,
			       .ip_id = 0x5151, .payload_len = 72 };
	struct pkt_spec want = { .proto = IPPROTO_UDP, .saddr = S6, .daddr = C6, .nr_ext = 1,
				 .ext_hdrs = { 44 }, .frag6 = 185 * 8, .frag6_id = 0x5151,
				 .payload_len = 72 };
	struct xlat_req rq = { .out_s = S6, .out_d = C6 };

	expect_xlat(P_4TO6, &rq, &in, PROBE_XLAT_OK, &want);
}

/* RFC 7915 §4: DF plays no part in whether a fragment header is added;
 * only real fragments get one (DF set or clear, whole packets get none). */
TEST(rfc7915_s4_no_fragment_header_for_whole_packets)
{
	NEED_PROBE();
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = S4, .daddr = EXT4, .sport = 53,
			       .dport = EPORT, .payload_len = 1400 };
	struct pkt_spec want = { .proto = IPPROTO_UDP, .saddr = S6, .daddr = C6, .sport = 53,
				 .dport = CPORT, .payload_len = 1400 };

	expect_xlat(P_4TO6, &in_req, &in, PROBE_XLAT_OK, &want);	/* DF clear */
	if (test_failed)
		return;
	in.frag = DF;
	expect_xlat(P_4TO6, &in_req, &in, PROBE_XLAT_OK, &want);	/* DF set */
}

/* RFC 7915 §5.1: hop-by-hop, routing (no segments left) and destination
 * options headers are dropped. */
TEST(rfc7915_s5_1_extension_headers_dropped)
{
	NEED_PROBE();
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = CPORT,
			       .dport = 53, .nr_ext = 3, .ext_hdrs = { 0, 43, 60 },
			       .payload_len = 10 };
	struct pkt_spec want = { .proto = IPPROTO_UDP, .saddr = EXT4, .daddr = S4, .sport = EPORT,
				 .dport = 53, .ip_id = IP_ID, .payload_len = 10 };

	expect_xlat(P_6TO4, &out_req, &in, PROBE_XLAT_OK, &want);
}

/* RFC 7915 §5.1: a routing header with segments left is not translated. */
TEST(rfc7915_s5_1_routing_header_segments_left_refused)
{
	NEED_PROBE();
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = CPORT,
			       .dport = 53, .nr_ext = 1, .ext_hdrs = { 43 }, .rh_segleft = 2,
			       .payload_len = 10 };

	expect_xlat(P_6TO4, &out_req, &in, PROBE_XLAT_SEGMENTS_LEFT, NULL);
}

/* RFC 7915 §5.1: an extension header after the fragment header: dropped. */
TEST(rfc7915_s5_1_extension_header_after_fragment_refused)
{
	NEED_PROBE();
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = CPORT,
			       .dport = 53, .nr_ext = 2, .ext_hdrs = { 44, 60 }, .frag6 = 1,
			       .payload_len = 10 };

	expect_xlat(P_6TO4, &out_req, &in, PROBE_XLAT_UNSUPPORTED, NULL);
}

/* RFC 7915 §4.1: IPv4 options are not translated. */
TEST(rfc7915_s4_1_options_dropped)
{
	NEED_PROBE();
	static const uint8_t rr[] = { 7, 7, 4, 0, 0, 0, 0 };	/* record route */
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = S4, .daddr = EXT4, .sport = 53,
			       .dport = EPORT, .ihl = 8, .ip_opts = rr, .ip_opts_len = sizeof(rr),
			       .payload_len = 20 };
	struct pkt_spec want = { .proto = IPPROTO_UDP, .saddr = S6, .daddr = C6, .sport = 53,
				 .dport = CPORT, .payload_len = 20 };

	expect_xlat(P_4TO6, &in_req, &in, PROBE_XLAT_OK, &want);
}

/* RFC 7915 §4.1: an unexpired source route refuses the packet; an expired
 * one is just an option. */
TEST(rfc7915_s4_1_unexpired_source_route_refused)
{
	NEED_PROBE();
	static const uint8_t lsrr[] = { 1, 131, 7, 4, 10, 0, 0, 1 };
	static const uint8_t done[] = { 1, 137, 7, 8, 10, 0, 0, 1 };
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = S4, .daddr = EXT4, .sport = 53,
			       .dport = EPORT, .ihl = 7, .ip_opts = lsrr, .ip_opts_len = sizeof(lsrr),
			       .payload_len = 20 };
	struct pkt_spec want = { .proto = IPPROTO_UDP, .saddr = S6, .daddr = C6, .sport = 53,
				 .dport = CPORT, .payload_len = 20 };

	expect_xlat(P_4TO6, &in_req, &in, PROBE_XLAT_SOURCE_ROUTE, NULL);
	if (test_failed)
		return;
	in.ip_opts = done;
	expect_xlat(P_4TO6, &in_req, &in, PROBE_XLAT_OK, &want);
}

/* RFC 7915 §4.5: IPv4 UDP without checksum gets one computed; a fragment
 * of one cannot and is refused. */
TEST(rfc7915_s4_5_udp_zero_checksum)
{
	NEED_PROBE();
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = S4, .daddr = EXT4, .sport = 53,
			       .dport = EPORT, .udp_no_csum = 1, .payload_len = 131 };
	struct pkt_spec want = { .proto = IPPROTO_UDP, .saddr = S6, .daddr = C6, .sport = 53,
				 .dport = CPORT, .payload_len = 131 };

	expect_xlat(P_4TO6, &in_req, &in, PROBE_XLAT_OK, &want);
	if (test_failed)
		return;
	in.frag = MF;
	expect_xlat(P_4TO6, &in_req, &in, PROBE_XLAT_UDP_NO_CSUM, NULL);
}

/* RFC 7915 §1.2: fragmented ICMP is not translated. */
TEST(rfc7915_s1_2_fragmented_icmp_refused)
{
	NEED_PROBE();
	struct pkt_spec in4 = { .proto = IPPROTO_ICMP, .saddr = S4, .daddr = EXT4, .icmp_type = 8,
				.frag = MF, .payload_len = 64 };
	struct pkt_spec in6 = { .proto = IPPROTO_ICMPV6, .saddr = C6, .daddr = S6, .icmp_type = 128,
				.nr_ext = 1, .ext_hdrs = { 44 }, .frag6 = 1, .payload_len = 64 };

	expect_xlat(P_4TO6, &in_req, &in4, PROBE_XLAT_UNSUPPORTED, NULL);
	if (test_failed)
		return;
	expect_xlat(P_6TO4, &out_req, &in6, PROBE_XLAT_UNSUPPORTED, NULL);
}

/*
 * ICMPv6 errors -> ICMPv4 (RFC 7915 §5.2, §5.3), each type and code: the
 * client answers a packet the server sent it (UDP S6:53 -> C6:4000); the
 * quote becomes what the server sent (S4:53 -> EXT4:20001, the stateful
 * layer's inner endpoint), with its checksum and the outer one right.
 */
static void err_6to4(uint8_t t6, uint8_t c6, uint32_t rest6, uint16_t prm_mtu4, int verdict,
		     uint8_t t4, uint8_t c4, uint16_t mtu4, uint8_t ptr4)
{
	struct pkt_spec q6 = { .proto = IPPROTO_UDP, .saddr = S6, .daddr = C6, .sport = 53,
			       .dport = CPORT, .ttl = 50, .tclass = 0x20, .payload_len = 20 };
	struct pkt_spec in = { .proto = IPPROTO_ICMPV6, .saddr = C6, .daddr = S6, .icmp_type = t6,
			       .icmp_code = c6, .quote = &q6, .ttl = 64,
			       .icmp_mtu = t6 == 2 ? rest6 : 0, .icmp_pointer = t6 == 4 ? rest6 : 0 };
	struct pkt_spec q4 = { .proto = IPPROTO_UDP, .saddr = S4, .daddr = EXT4, .sport = 53,
			       .dport = EPORT, .ttl = 50, .tclass = 0x20, .ip_id_zero = 1,
			       .payload_len = 20 };
	struct pkt_spec want = { .proto = IPPROTO_ICMP, .saddr = EXT4, .daddr = S4, .icmp_type = t4,
				 .icmp_code = c4, .quote = &q4, .ttl = 64, .ip_id = IP_ID,
				 .icmp_mtu = mtu4, .icmp_pointer = ptr4 };
	struct xlat_req rq = { .out_s = EXT4, .out_d = S4, .in_s = S4, .in_d = EXT4,
			       .in_dport = EPORT, .mtu4 = prm_mtu4 };

	expect_xlat(P_6TO4, &rq, &in, verdict, verdict == PROBE_XLAT_OK ? &want : NULL);
	if (test_failed)
		fprintf(stderr, "    ICMPv6 %u/%u (%u)\n", t6, c6, rest6);
}

#define ERR_6TO4(t6, c6, rest6, m4, v, t4, c4, mtu4, ptr4)			\
	do {									\
		err_6to4(t6, c6, rest6, m4, v, t4, c4, mtu4, ptr4);		\
		if (test_failed)						\
			return;							\
	} while (0)

TEST(rfc7915_s5_2_destination_unreachable_codes)
{
	NEED_PROBE();
	ERR_6TO4(1, 0, 0, 0, PROBE_XLAT_OK, 3, 1, 0, 0);	/* no route -> host unreachable */
	ERR_6TO4(1, 1, 0, 0, PROBE_XLAT_OK, 3, 10, 0, 0);	/* admin prohibited */
	ERR_6TO4(1, 2, 0, 0, PROBE_XLAT_OK, 3, 1, 0, 0);	/* beyond scope */
	ERR_6TO4(1, 3, 0, 0, PROBE_XLAT_OK, 3, 1, 0, 0);	/* address unreachable */
	ERR_6TO4(1, 4, 0, 0, PROBE_XLAT_OK, 3, 3, 0, 0);	/* port unreachable */
	ERR_6TO4(1, 5, 0, 0, PROBE_XLAT_DROP, 0, 0, 0, 0);	/* unknown codes */
	ERR_6TO4(1, 6, 0, 0, PROBE_XLAT_DROP, 0, 0, 0, 0);
}

/* Packet Too Big -> Fragmentation Needed, MTU - 20, within the IPv4 next
 * hop's MTU when the caller knows it. */
TEST(rfc7915_s5_2_packet_too_big_mtu)
{
	NEED_PROBE();
	ERR_6TO4(2, 0, 1400, 0, PROBE_XLAT_OK, 3, 4, 1380, 0);
	ERR_6TO4(2, 0, 1280, 0, PROBE_XLAT_OK, 3, 4, 1260, 0);
	ERR_6TO4(2, 0, 1500, 1000, PROBE_XLAT_OK, 3, 4, 1000, 0);
	ERR_6TO4(2, 0, 65535, 0, PROBE_XLAT_OK, 3, 4, 65515, 0);
}

TEST(rfc7915_s5_2_time_exceeded)
{
	NEED_PROBE();
	ERR_6TO4(3, 0, 0, 0, PROBE_XLAT_OK, 11, 0, 0, 0);
	ERR_6TO4(3, 1, 0, 0, PROBE_XLAT_OK, 11, 1, 0, 0);
}

/* Parameter Problem: the pointer table (Figure 6); code 1 -> protocol
 * unreachable; code 2 and unmappable pointers dropped. */
TEST(rfc7915_s5_2_parameter_problem_pointers)
{
	NEED_PROBE();
	ERR_6TO4(4, 0, 0, 0, PROBE_XLAT_OK, 12, 0, 0, 0);	/* version */
	ERR_6TO4(4, 0, 1, 0, PROBE_XLAT_OK, 12, 0, 0, 1);	/* traffic class */
	ERR_6TO4(4, 0, 4, 0, PROBE_XLAT_OK, 12, 0, 0, 2);	/* payload length */
	ERR_6TO4(4, 0, 5, 0, PROBE_XLAT_OK, 12, 0, 0, 2);
	ERR_6TO4(4, 0, 6, 0, PROBE_XLAT_OK, 12, 0, 0, 9);	/* next header */
	ERR_6TO4(4, 0, 7, 0, PROBE_XLAT_OK, 12, 0, 0, 8);	/* hop limit */
	ERR_6TO4(4, 0, 8, 0, PROBE_XLAT_OK, 12, 0, 0, 12);	/* source */
	ERR_6TO4(4, 0, 23, 0, PROBE_XLAT_OK, 12, 0, 0, 12);
	ERR_6TO4(4, 0, 24, 0, PROBE_XLAT_OK, 12, 0, 0, 16);	/* destination */
	ERR_6TO4(4, 0, 39, 0, PROBE_XLAT_OK, 12, 0, 0, 16);
	ERR_6TO4(4, 0, 2, 0, PROBE_XLAT_DROP, 0, 0, 0, 0);	/* flow label: n/a */
	ERR_6TO4(4, 0, 40, 0, PROBE_XLAT_DROP, 0, 0, 0, 0);
	ERR_6TO4(4, 1, 6, 0, PROBE_XLAT_OK, 3, 2, 0, 0);	/* unrecognized next header */
	ERR_6TO4(4, 2, 40, 0, PROBE_XLAT_DROP, 0, 0, 0, 0);	/* unrecognized option */
	ERR_6TO4(5, 0, 0, 0, PROBE_XLAT_DROP, 0, 0, 0, 0);	/* unknown error type */
}

/*
 * ICMPv4 errors -> ICMPv6 (RFC 7915 §4.2, §4.3), from a router on the
 * IPv4 path (its address synthesized, as traceroute6 shows it), about a
 * packet the client sent (EXT4:20001 -> S4:53), put back to what the
 * client sent (C6:4000 -> S6:53).
 */
static void err_4to6(uint8_t t4, uint8_t c4, uint16_t mtu4, uint8_t ptr4, uint16_t inner_payload,
		     uint16_t prm_mtu6, int verdict, uint8_t t6, uint8_t c6, uint32_t rest6)
{
	struct pkt_spec q4 = { .proto = IPPROTO_UDP, .saddr = EXT4, .daddr = S4, .sport = EPORT,
			       .dport = 53, .ttl = 1, .tclass = 0x48, .frag = DF,
			       .payload_len = inner_payload };
	struct pkt_spec in = { .proto = IPPROTO_ICMP, .saddr = R4, .daddr = EXT4, .icmp_type = t4,
			       .icmp_code = c4, .quote = &q4, .quote_l4_len = 8 + 20, .ttl = 250,
			       .icmp_mtu = mtu4, .icmp_pointer = ptr4 };
	struct pkt_spec q6 = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = CPORT,
			       .dport = 53, .ttl = 1, .tclass = 0x48, .payload_len = inner_payload };
	struct pkt_spec want = { .proto = IPPROTO_ICMPV6, .saddr = R4_6, .daddr = C6,
				 .icmp_type = t6, .icmp_code = c6, .quote = &q6,
				 .quote_l4_len = 8 + 20, .ttl = 250,
				 .icmp_mtu = t6 == 2 ? rest6 : 0, .icmp_pointer = t6 == 4 ? rest6 : 0 };
	struct xlat_req rq = { .out_s = R4_6, .out_d = C6, .in_s = C6, .in_d = S6,
			       .in_sport = CPORT, .mtu6 = prm_mtu6 };

	expect_xlat(P_4TO6, &rq, &in, verdict, verdict == PROBE_XLAT_OK ? &want : NULL);
	if (test_failed)
		fprintf(stderr, "    ICMP %u/%u\n", t4, c4);
}

#define ERR_4TO6(t4, c4, mtu4, ptr4, ipl, m6, v, t6, c6, rest6)		\
	do {									\
		err_4to6(t4, c4, mtu4, ptr4, ipl, m6, v, t6, c6, rest6);	\
		if (test_failed)						\
			return;							\
	} while (0)

TEST(rfc7915_s4_2_destination_unreachable_codes)
{
	NEED_PROBE();
	static const uint8_t no_route[] = { 0, 1, 5, 6, 7, 8, 11, 12 };
	static const uint8_t prohibited[] = { 9, 10, 13, 15 };

	for (size_t i = 0; i < sizeof(no_route); i++)
		ERR_4TO6(3, no_route[i], 0, 0, 20, 0, PROBE_XLAT_OK, 1, 0, 0);
	for (size_t i = 0; i < sizeof(prohibited); i++)
		ERR_4TO6(3, prohibited[i], 0, 0, 20, 0, PROBE_XLAT_OK, 1, 1, 0);
	ERR_4TO6(3, 3, 0, 0, 20, 0, PROBE_XLAT_OK, 1, 4, 0);		/* port */
	ERR_4TO6(3, 2, 0, 0, 20, 0, PROBE_XLAT_OK, 4, 1, 6);		/* protocol -> next header */
	ERR_4TO6(3, 14, 0, 0, 20, 0, PROBE_XLAT_DROP, 0, 0, 0);	/* precedence violation */
	ERR_4TO6(3, 16, 0, 0, 20, 0, PROBE_XLAT_DROP, 0, 0, 0);
}

/* Fragmentation Needed -> Packet Too Big: MTU + 20, never below 1280,
 * within the IPv6 next hop's; MTU 0: the RFC 1191 plateau below the
 * quoted packet's length. */
TEST(rfc7915_s4_2_fragmentation_needed_mtu)
{
	NEED_PROBE();
	ERR_4TO6(3, 4, 1400, 0, 20, 0, PROBE_XLAT_OK, 2, 0, 1420);
	ERR_4TO6(3, 4, 1000, 0, 20, 0, PROBE_XLAT_OK, 2, 0, 1280);
	ERR_4TO6(3, 4, 1480, 0, 20, 1450, PROBE_XLAT_OK, 2, 0, 1450);
	ERR_4TO6(3, 4, 0, 0, 1472, 0, PROBE_XLAT_OK, 2, 0, 1492 + 20);	/* tot 1500 */
	ERR_4TO6(3, 4, 0, 0, 1000, 0, PROBE_XLAT_OK, 2, 0, 1280);	/* 1006 + 20 < 1280 */
}

TEST(rfc7915_s4_2_time_exceeded)
{
	NEED_PROBE();
	ERR_4TO6(11, 0, 0, 0, 20, 0, PROBE_XLAT_OK, 3, 0, 0);
	ERR_4TO6(11, 1, 0, 0, 20, 0, PROBE_XLAT_OK, 3, 1, 0);
}

/* Parameter Problem: the pointer table (Figure 3); code 1 and unmappable
 * pointers dropped; other types without a twin dropped. */
TEST(rfc7915_s4_2_parameter_problem_pointers)
{
	NEED_PROBE();
	ERR_4TO6(12, 0, 0, 0, 20, 0, PROBE_XLAT_OK, 4, 0, 0);
	ERR_4TO6(12, 0, 0, 1, 20, 0, PROBE_XLAT_OK, 4, 0, 1);
	ERR_4TO6(12, 0, 0, 2, 20, 0, PROBE_XLAT_OK, 4, 0, 4);
	ERR_4TO6(12, 0, 0, 3, 20, 0, PROBE_XLAT_OK, 4, 0, 4);
	ERR_4TO6(12, 0, 0, 8, 20, 0, PROBE_XLAT_OK, 4, 0, 7);
	ERR_4TO6(12, 0, 0, 9, 20, 0, PROBE_XLAT_OK, 4, 0, 6);
	ERR_4TO6(12, 0, 0, 12, 20, 0, PROBE_XLAT_OK, 4, 0, 8);
	ERR_4TO6(12, 0, 0, 15, 20, 0, PROBE_XLAT_OK, 4, 0, 8);
	ERR_4TO6(12, 0, 0, 16, 20, 0, PROBE_XLAT_OK, 4, 0, 24);
	ERR_4TO6(12, 2, 0, 19, 20, 0, PROBE_XLAT_OK, 4, 0, 24);	/* bad length */
	ERR_4TO6(12, 0, 0, 4, 20, 0, PROBE_XLAT_DROP, 0, 0, 0);	/* ID: n/a */
	ERR_4TO6(12, 0, 0, 10, 20, 0, PROBE_XLAT_DROP, 0, 0, 0);	/* checksum: n/a */
	ERR_4TO6(12, 0, 0, 20, 20, 0, PROBE_XLAT_DROP, 0, 0, 0);	/* options */
	ERR_4TO6(12, 1, 0, 0, 20, 0, PROBE_XLAT_DROP, 0, 0, 0);	/* missing option */
	ERR_4TO6(4, 0, 0, 0, 20, 0, PROBE_XLAT_DROP, 0, 0, 0);	/* source quench */
	ERR_4TO6(5, 0, 0, 0, 20, 0, PROBE_XLAT_DROP, 0, 0, 0);	/* redirect */
}

/* RFC 7915 §4.3: an ICMPv6 error may not exceed 1280 bytes (RFC 4443
 * §2.4 (c)): a long quote is cut, the checksum over what remains. */
TEST(rfc7915_s4_3_long_quote_cut_to_1280)
{
	NEED_PROBE();
	struct pkt_spec q4 = { .proto = IPPROTO_UDP, .saddr = EXT4, .daddr = S4, .sport = EPORT,
			       .dport = 53, .payload_len = 1400 };
	struct pkt_spec in = { .proto = IPPROTO_ICMP, .saddr = R4, .daddr = EXT4, .icmp_type = 3,
			       .icmp_code = 3, .quote = &q4 };
	struct pkt_spec q6 = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = CPORT,
			       .dport = 53, .payload_len = 1400 };
	struct pkt_spec want = { .proto = IPPROTO_ICMPV6, .saddr = R4_6, .daddr = C6,
				 .icmp_type = 1, .icmp_code = 4, .quote = &q6,
				 .quote_l4_len = 1280 - 40 - 8 - 40 };
	struct xlat_req rq = { .out_s = R4_6, .out_d = C6, .in_s = C6, .in_d = S6,
			       .in_sport = CPORT };

	expect_xlat(P_4TO6, &rq, &in, PROBE_XLAT_OK, &want);
}

/* Quoted TCP (whole header: its checksum follows) and quoted echo (type
 * and identifier mapped) both ways. */
TEST(rfc7915_s4_3_s5_3_quoted_tcp_and_echo)
{
	NEED_PROBE();
	struct pkt_spec qt6 = { .proto = IPPROTO_TCP, .saddr = S6, .daddr = C6, .sport = 443,
				.dport = CPORT, .tcp_flags = 0x12, .tcp_seq = 5, .payload_len = 12 };
	struct pkt_spec in6 = { .proto = IPPROTO_ICMPV6, .saddr = C6, .daddr = S6, .icmp_type = 1,
				.icmp_code = 4, .quote = &qt6 };
	struct pkt_spec qt4 = { .proto = IPPROTO_TCP, .saddr = S4, .daddr = EXT4, .sport = 443,
				.dport = EPORT, .tcp_flags = 0x12, .tcp_seq = 5, .ip_id_zero = 1,
				.payload_len = 12 };
	struct pkt_spec want4 = { .proto = IPPROTO_ICMP, .saddr = EXT4, .daddr = S4, .icmp_type = 3,
				  .icmp_code = 3, .quote = &qt4, .ip_id = IP_ID };
	struct xlat_req rq4 = { .out_s = EXT4, .out_d = S4, .in_s = S4, .in_d = EXT4,
				.in_dport = EPORT };
	struct pkt_spec qe4 = { .proto = IPPROTO_ICMP, .saddr = EXT4, .daddr = S4, .icmp_type = 8,
				.sport = EPORT, .icmp_seq = 4, .payload_len = 32 };
	struct pkt_spec in4 = { .proto = IPPROTO_ICMP, .saddr = R4, .daddr = EXT4, .icmp_type = 11,
				.quote = &qe4 };
	struct pkt_spec qe6 = { .proto = IPPROTO_ICMPV6, .saddr = C6, .daddr = S6, .icmp_type = 128,
				.sport = 0x1d, .icmp_seq = 4, .payload_len = 32 };
	struct pkt_spec want6 = { .proto = IPPROTO_ICMPV6, .saddr = R4_6, .daddr = C6,
				  .icmp_type = 3, .quote = &qe6 };
	struct xlat_req rq6 = { .out_s = R4_6, .out_d = C6, .in_s = C6, .in_d = S6,
				.in_sport = 0x1d };

	expect_xlat(P_6TO4, &rq4, &in6, PROBE_XLAT_OK, &want4);
	if (test_failed)
		return;
	expect_xlat(P_4TO6, &rq6, &in4, PROBE_XLAT_OK, &want6);
}

/* A quoted fragment keeps its fragment fields, both ways. */
TEST(rfc7915_s4_3_s5_3_quoted_fragment)
{
	NEED_PROBE();
	struct pkt_spec qf4 = { .proto = IPPROTO_UDP, .saddr = EXT4, .daddr = S4, .sport = EPORT,
				.dport = 53, .frag = MF, .ip_id = 0x6789, .ttl = 1, .payload_len = 40 };
	struct pkt_spec in4 = { .proto = IPPROTO_ICMP, .saddr = R4, .daddr = EXT4, .icmp_type = 11,
				.quote = &qf4 };
	struct pkt_spec qf6 = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = CPORT,
				.dport = 53, .nr_ext = 1, .ext_hdrs = { 44 }, .frag6 = 1,
				.frag6_id = 0x6789, .ttl = 1, .payload_len = 40 };
	struct pkt_spec want6 = { .proto = IPPROTO_ICMPV6, .saddr = R4_6, .daddr = C6,
				  .icmp_type = 3, .quote = &qf6 };
	struct xlat_req rq6 = { .out_s = R4_6, .out_d = C6, .in_s = C6, .in_d = S6,
				.in_sport = CPORT };
	struct pkt_spec q6 = { .proto = IPPROTO_UDP, .saddr = S6, .daddr = C6, .sport = 53,
			       .dport = CPORT, .nr_ext = 1, .ext_hdrs = { 44 }, .frag6 = 1,
			       .frag6_id = 0x00014321, .payload_len = 40 };
	struct pkt_spec in6 = { .proto = IPPROTO_ICMPV6, .saddr = C6, .daddr = S6, .icmp_type = 2,
				.icmp_mtu = 1300, .quote = &q6 };
	struct pkt_spec q4 = { .proto = IPPROTO_UDP, .saddr = S4, .daddr = EXT4, .sport = 53,
			       .dport = EPORT, .frag = MF, .ip_id = 0x4321, .payload_len = 40 };
	struct pkt_spec want4 = { .proto = IPPROTO_ICMP, .saddr = EXT4, .daddr = S4, .icmp_type = 3,
				  .icmp_code = 4, .icmp_mtu = 1300 - 28, .quote = &q4,
				  .ip_id = IP_ID };
	struct xlat_req rq4 = { .out_s = EXT4, .out_d = S4, .in_s = S4, .in_d = EXT4,
				.in_dport = EPORT };

	expect_xlat(P_4TO6, &rq6, &in4, PROBE_XLAT_OK, &want6);
	if (test_failed)
		return;
	expect_xlat(P_6TO4, &rq4, &in6, PROBE_XLAT_OK, &want4);
}

/* RFC 7915 §4.3/§5.3 (and RFC 1812 §4.3.2.7): an error about an error is
 * not translated. */
TEST(rfc7915_s4_3_s5_3_error_about_error_refused)
{
	NEED_PROBE();
	struct pkt_spec qq = { .proto = IPPROTO_UDP, .saddr = EXT4, .daddr = S4, .sport = 1,
			       .dport = 2 };
	struct pkt_spec qerr4 = { .proto = IPPROTO_ICMP, .saddr = EXT4, .daddr = S4, .icmp_type = 3,
				  .icmp_code = 3, .quote = &qq };
	struct pkt_spec in4 = { .proto = IPPROTO_ICMP, .saddr = R4, .daddr = EXT4, .icmp_type = 11,
				.quote = &qerr4 };
	struct pkt_spec qq6 = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = 1,
				.dport = 2 };
	struct pkt_spec qerr6 = { .proto = IPPROTO_ICMPV6, .saddr = S6, .daddr = C6, .icmp_type = 1,
				  .quote = &qq6 };
	struct pkt_spec in6 = { .proto = IPPROTO_ICMPV6, .saddr = C6, .daddr = S6, .icmp_type = 3,
				.quote = &qerr6 };

	expect_xlat(P_4TO6, &in_req, &in4, PROBE_XLAT_UNSUPPORTED, NULL);
	if (test_failed)
		return;
	expect_xlat(P_6TO4, &out_req, &in6, PROBE_XLAT_UNSUPPORTED, NULL);
}

/* Hostile quotes: every cut of an ICMP error (outer lengths fixed up so
 * the parser takes it) gives a verdict, and whatever is translated is a
 * consistent packet: never a crash, never a read past the quote. */
TEST(hostile_truncated_quotes_both_ways)
{
	NEED_PROBE();
	struct pkt_spec qt6 = { .proto = IPPROTO_TCP, .saddr = S6, .daddr = C6, .sport = 443,
				.dport = CPORT, .nr_ext = 1, .ext_hdrs = { 60 }, .payload_len = 12 };
	struct pkt_spec e6 = { .proto = IPPROTO_ICMPV6, .saddr = C6, .daddr = S6, .icmp_type = 1,
			       .icmp_code = 4, .quote = &qt6 };
	struct pkt_spec qt4 = { .proto = IPPROTO_TCP, .saddr = EXT4, .daddr = S4, .sport = EPORT,
				.dport = 80, .ihl = 6, .payload_len = 12 };
	struct pkt_spec e4 = { .proto = IPPROTO_ICMP, .saddr = R4, .daddr = EXT4, .icmp_type = 3,
			       .icmp_code = 1, .quote = &qt4 };
	struct xlat_req rq4 = { .out_s = EXT4, .out_d = S4, .in_s = S4, .in_d = EXT4 };
	struct xlat_req rq6 = { .out_s = R4_6, .out_d = C6, .in_s = C6, .in_d = S6 };
	uint8_t pkt[PKT_MAX], out[PKT_MAX];
	struct xlat_probe_out o;
	size_t full, len, out_len;
	int ok = 0, bad = 0;

	full = pkt_build(&e6, pkt);
	for (len = 14 + 40 + 8; len <= full; len++) {
		pkt[18] = (len - 54) >> 8;	/* payload length */
		pkt[19] = (len - 54) & 0xff;
		ASSERT_EQ(xlat_run(P_6TO4, &rq4, pkt, len, &o, out, &out_len), 0, "run");
		ASSERT_TRUE(o.verdict == PROBE_XLAT_OK || o.verdict == PROBE_XLAT_MALFORMED,
			    "verdict of a cut ICMPv6 error");
		if (o.verdict == PROBE_XLAT_OK) {
			ok++;
			ASSERT_EQ((out[16] << 8) | out[17], out_len - 14, "IPv4 total length");
		} else {
			bad++;
		}
	}
	/* Cut inside the quoted IPv6 header or its extension: malformed. */
	ASSERT_EQ(bad, 48, "cuts before the quoted transport header");
	ASSERT_TRUE(ok > 0, "cuts in the transport header translate");

	ok = bad = 0;
	full = pkt_build(&e4, pkt);
	for (len = 14 + 20 + 8; len <= full; len++) {
		pkt[16] = (len - 14) >> 8;	/* total length */
		pkt[17] = (len - 14) & 0xff;
		pkt[24] = pkt[25] = 0;		/* header checksum: not checked here */
		ASSERT_EQ(xlat_run(P_4TO6, &rq6, pkt, len, &o, out, &out_len), 0, "run");
		ASSERT_TRUE(o.verdict == PROBE_XLAT_OK || o.verdict == PROBE_XLAT_MALFORMED,
			    "verdict of a cut ICMP error");
		if (o.verdict == PROBE_XLAT_OK) {
			ok++;
			ASSERT_EQ((out[18] << 8) | out[19], out_len - 14 - 40, "IPv6 payload length");
		} else {
			bad++;
		}
	}
	ASSERT_EQ(bad, 24, "cuts before the quoted transport header");
	ASSERT_TRUE(ok > 0, "cuts in the transport header translate");
}

/* Lengths that lie inside the quote. */
TEST(hostile_quote_lengths_lie)
{
	NEED_PROBE();
	struct pkt_spec q4 = { .proto = IPPROTO_UDP, .saddr = EXT4, .daddr = S4, .sport = 1,
			       .dport = 2, .payload_len = 8 };
	struct pkt_spec e4 = { .proto = IPPROTO_ICMP, .saddr = R4, .daddr = EXT4, .icmp_type = 3,
			       .icmp_code = 1, .quote = &q4 };
	struct pkt_spec q6 = { .proto = IPPROTO_UDP, .saddr = S6, .daddr = C6, .sport = 1,
			       .dport = 2, .nr_ext = 1, .ext_hdrs = { 60 }, .payload_len = 8 };
	struct pkt_spec e6 = { .proto = IPPROTO_ICMPV6, .saddr = C6, .daddr = S6, .icmp_type = 1,
			       .quote = &q6 };
	uint8_t pkt[PKT_MAX], out[PKT_MAX];
	struct xlat_probe_out o;
	size_t len, out_len;

	len = pkt_build(&e4, pkt);
	pkt[42] = 0x4f;				/* quoted IHL 60: past the quote */
	ASSERT_EQ(xlat_run(P_4TO6, &in_req, pkt, len, &o, out, &out_len), 0, "run");
	ASSERT_EQ(o.verdict, PROBE_XLAT_MALFORMED, "quoted IHL past the quote");
	pkt[42] = 0x45;
	pkt[44] = 0;				/* quoted total length 4 < IHL */
	pkt[45] = 4;
	ASSERT_EQ(xlat_run(P_4TO6, &in_req, pkt, len, &o, out, &out_len), 0, "run");
	ASSERT_EQ(o.verdict, PROBE_XLAT_MALFORMED, "quoted total length below IHL");
	pkt[42] = 0x65;				/* not IPv4 */
	ASSERT_EQ(xlat_run(P_4TO6, &in_req, pkt, len, &o, out, &out_len), 0, "run");
	ASSERT_EQ(o.verdict, PROBE_XLAT_MALFORMED, "quoted version 6 in ICMPv4");

	len = pkt_build(&e6, pkt);
	pkt[62 + 4] = 0;			/* quoted payload length 4 < its 8-byte ext */
	pkt[62 + 5] = 4;
	ASSERT_EQ(xlat_run(P_6TO4, &out_req, pkt, len, &o, out, &out_len), 0, "run");
	ASSERT_EQ(o.verdict, PROBE_XLAT_MALFORMED, "quoted payload length below its ext");
	pkt[62 + 5] = 16;
	pkt[62 + 40 + 1] = 200;			/* ext header length past the quote */
	ASSERT_EQ(xlat_run(P_6TO4, &out_req, pkt, len, &o, out, &out_len), 0, "run");
	ASSERT_EQ(o.verdict, PROBE_XLAT_MALFORMED, "quoted ext header past the quote");
}

/* The MTU helpers' input: the size a packet will have once translated. */
TEST(rfc7915_s4_1_translated_length_for_mtu_checks)
{
	NEED_PROBE();
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = S4, .daddr = EXT4, .sport = 53,
			       .dport = EPORT, .ihl = 6, .payload_len = 1452 };
	uint8_t pkt[PKT_MAX], out[PKT_MAX];
	struct xlat_probe_out o;
	size_t len = pkt_build(&in, pkt), out_len;

	ASSERT_EQ(xlat_run(P_4TO6, &in_req, pkt, len, &o, out, &out_len), 0, "run");
	ASSERT_EQ(o.len_before, 40 + 8 + 1452, "IPv6 size of a 1484-byte IPv4 packet");
	ASSERT_EQ(out_len - 14, 40 + 8 + 1452, "and what came out");
	in.frag = MF;
	in.ihl = 5;
	len = pkt_build(&in, pkt);
	ASSERT_EQ(xlat_run(P_4TO6, &in_req, pkt, len, &o, out, &out_len), 0, "run");
	ASSERT_EQ(o.len_before, 40 + 8 + 8 + 1452, "a fragment grows by 28");
}

/* The same layer over the XDP ctx layer (bpf_xdp_adjust_head, software
 * checksums): UDP both ways, and an ICMP error. */
TEST(xdp_udp_both_ways)
{
	NEED_PROBE();
	struct pkt_spec in6 = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = CPORT,
				.dport = 53, .ttl = 9, .tclass = 0x10, .payload_len = 77 };
	struct pkt_spec want4 = { .proto = IPPROTO_UDP, .saddr = EXT4, .daddr = S4, .sport = EPORT,
				  .dport = 53, .ttl = 9, .tclass = 0x10, .ip_id = IP_ID,
				  .payload_len = 77 };
	struct pkt_spec in4 = { .proto = IPPROTO_UDP, .saddr = S4, .daddr = EXT4, .sport = 53,
				.dport = EPORT, .ttl = 9, .ihl = 6, .payload_len = 77 };
	struct pkt_spec want6 = { .proto = IPPROTO_UDP, .saddr = S6, .daddr = C6, .sport = 53,
				  .dport = CPORT, .ttl = 9, .payload_len = 77 };

	expect_xlat(P_XDP_6TO4, &out_req, &in6, PROBE_XLAT_OK, &want4);
	if (test_failed)
		return;
	expect_xlat(P_XDP_4TO6, &in_req, &in4, PROBE_XLAT_OK, &want6);
}

TEST(xdp_icmp_error_and_zero_checksum)
{
	NEED_PROBE();
	struct pkt_spec q4 = { .proto = IPPROTO_UDP, .saddr = EXT4, .daddr = S4, .sport = EPORT,
			       .dport = 53, .payload_len = 20 };
	struct pkt_spec in = { .proto = IPPROTO_ICMP, .saddr = R4, .daddr = EXT4, .icmp_type = 3,
			       .icmp_code = 4, .icmp_mtu = 1400, .quote = &q4 };
	struct pkt_spec q6 = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = CPORT,
			       .dport = 53, .payload_len = 20 };
	struct pkt_spec want = { .proto = IPPROTO_ICMPV6, .saddr = R4_6, .daddr = C6,
				 .icmp_type = 2, .icmp_mtu = 1420, .quote = &q6 };
	struct xlat_req rq = { .out_s = R4_6, .out_d = C6, .in_s = C6, .in_d = S6,
			       .in_sport = CPORT };
	struct pkt_spec z4 = { .proto = IPPROTO_UDP, .saddr = S4, .daddr = EXT4, .sport = 53,
			       .dport = EPORT, .udp_no_csum = 1, .payload_len = 99 };
	struct pkt_spec z6 = { .proto = IPPROTO_UDP, .saddr = S6, .daddr = C6, .sport = 53,
			       .dport = CPORT, .payload_len = 99 };

	expect_xlat(P_XDP_4TO6, &rq, &in, PROBE_XLAT_OK, &want);
	if (test_failed)
		return;
	expect_xlat(P_XDP_4TO6, &in_req, &z4, PROBE_XLAT_OK, &z6);
}

/*
 * RFC 4884 extensions, RFC 7915 §4.2 / §5.2: the length attribute is
 * adjusted to the translated original datagram field, which is zero
 * padded to the new family's word (RFC 4884 §4.1: 32 bits in ICMPv4, 64
 * in ICMPv6) and to at least 128 octets, and the extension structure
 * follows it unchanged. ICMPv4 -> ICMPv6: a field of exactly the quoted
 * packet (128 octets, 32 words) becomes 148 octets of IPv6 quote padded to
 * 152 (19 64-bit words), then the 20 bytes of extension.
 */
TEST(rfc7915_s4_2_rfc4884_time_exceeded_length_adjusted_extension_kept)
{
	NEED_PROBE();
	struct pkt_spec q4 = { .proto = IPPROTO_UDP, .saddr = EXT4, .daddr = S4, .sport = EPORT,
			       .dport = 53, .ttl = 1, .frag = DF, .payload_len = 128 - 28 };
	struct pkt_spec in = { .proto = IPPROTO_ICMP, .saddr = R4, .daddr = EXT4, .icmp_type = 11,
			       .quote = &q4, .ttl = 250, .rfc4884_words = 128 / 4, .ext_len = 20 };
	struct pkt_spec q6 = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = CPORT,
			       .dport = 53, .ttl = 1, .payload_len = 128 - 28 };
	struct pkt_spec want = { .proto = IPPROTO_ICMPV6, .saddr = R4_6, .daddr = C6,
				 .icmp_type = 3, .quote = &q6, .ttl = 250,
				 .rfc4884_words = 152 / 8, .ext_len = 20 };
	struct xlat_req rq = { .out_s = R4_6, .out_d = C6, .in_s = C6, .in_d = S6,
			       .in_sport = CPORT };

	expect_xlat(P_4TO6, &rq, &in, PROBE_XLAT_OK, &want);
	expect_xlat(P_XDP_4TO6, &rq, &in, PROBE_XLAT_OK, &want);
}

/* ICMPv6 -> ICMPv4: a 128-octet field (16 64-bit words) of IPv6 quote
 * becomes 108 octets of IPv4 quote, padded to the 128-octet minimum (32
 * 32-bit words), then the 24 bytes of extension. */
TEST(rfc7915_s5_2_rfc4884_unreachable_length_adjusted_padded_to_128_extension_kept)
{
	NEED_PROBE();
	struct pkt_spec q6 = { .proto = IPPROTO_UDP, .saddr = S6, .daddr = C6, .sport = 53,
			       .dport = CPORT, .ttl = 50, .payload_len = 128 - 48 };
	struct pkt_spec in = { .proto = IPPROTO_ICMPV6, .saddr = C6, .daddr = S6, .icmp_type = 1,
			       .icmp_code = 4, .quote = &q6, .ttl = 64,
			       .rfc4884_words = 128 / 8, .ext_len = 24 };
	struct pkt_spec q4 = { .proto = IPPROTO_UDP, .saddr = S4, .daddr = EXT4, .sport = 53,
			       .dport = EPORT, .ttl = 50, .ip_id_zero = 1, .payload_len = 128 - 48 };
	struct pkt_spec want = { .proto = IPPROTO_ICMP, .saddr = EXT4, .daddr = S4, .icmp_type = 3,
				 .icmp_code = 3, .quote = &q4, .ttl = 64, .ip_id = IP_ID,
				 .rfc4884_words = 128 / 4, .ext_len = 24 };
	struct xlat_req rq = { .out_s = EXT4, .out_d = S4, .in_s = S4, .in_d = EXT4,
			       .in_dport = EPORT };

	expect_xlat(P_6TO4, &rq, &in, PROBE_XLAT_OK, &want);
	expect_xlat(P_XDP_6TO4, &rq, &in, PROBE_XLAT_OK, &want);
}

/* ICMPv4 -> ICMPv6 over 1280 bytes with its extension (RFC 4443 §2.4 (c):
 * at most 1280; the extension is kept whole and the quote gives way, never
 * below RFC 4884's 128 octets): a
 * 1020-octet field (255 words) and 300 bytes of extension would be 1388
 * bytes as IPv6; the field is cut to 928 octets (116 64-bit words: 40 of
 * IPv6 header and 888 of the quoted datagram), the message is 1276 bytes. */
TEST(rfc7915_s4_2_rfc4884_over_1280_quote_cut_extension_kept)
{
	NEED_PROBE();
	struct pkt_spec q4 = { .proto = IPPROTO_UDP, .saddr = EXT4, .daddr = S4, .sport = EPORT,
			       .dport = 53, .ttl = 1, .frag = DF, .payload_len = 1020 - 28 };
	struct pkt_spec in = { .proto = IPPROTO_ICMP, .saddr = R4, .daddr = EXT4, .icmp_type = 11,
			       .quote = &q4, .ttl = 250, .rfc4884_words = 1020 / 4, .ext_len = 300 };
	struct pkt_spec q6 = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = CPORT,
			       .dport = 53, .ttl = 1, .payload_len = 1020 - 28,
			       .quote_l4_len = 888 };
	struct pkt_spec want = { .proto = IPPROTO_ICMPV6, .saddr = R4_6, .daddr = C6,
				 .icmp_type = 3, .quote = &q6, .quote_l4_len = 888, .ttl = 250,
				 .rfc4884_words = 928 / 8, .ext_len = 300 };
	struct xlat_req rq = { .out_s = R4_6, .out_d = C6, .in_s = C6, .in_d = S6,
			       .in_sport = CPORT };

	expect_xlat(P_4TO6, &rq, &in, PROBE_XLAT_OK, &want);
}

/* Where the extension cannot be translated it is dropped and the length
 * attribute left clear (a valid error without extensions, RFC 4884 §5):
 * ICMPv6 Packet Too Big has no length attribute (ICMPv4 Fragmentation
 * Needed does), and an extension longer than fcnat moves (384 bytes). */
TEST(rfc7915_s4_2_rfc4884_extension_dropped_where_it_cannot_be_carried)
{
	NEED_PROBE();
	struct pkt_spec q4 = { .proto = IPPROTO_UDP, .saddr = EXT4, .daddr = S4, .sport = EPORT,
			       .dport = 53, .ttl = 1, .frag = DF, .payload_len = 128 - 28 };
	struct pkt_spec fn = { .proto = IPPROTO_ICMP, .saddr = R4, .daddr = EXT4, .icmp_type = 3,
			       .icmp_code = 4, .icmp_mtu = 1400, .quote = &q4, .ttl = 250,
			       .rfc4884_words = 128 / 4, .ext_len = 20 };
	struct pkt_spec big = { .proto = IPPROTO_ICMP, .saddr = R4, .daddr = EXT4, .icmp_type = 11,
				.quote = &q4, .ttl = 250, .rfc4884_words = 128 / 4, .ext_len = 388 };
	struct pkt_spec q6 = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = CPORT,
			       .dport = 53, .ttl = 1, .payload_len = 128 - 28 };
	struct pkt_spec ptb = { .proto = IPPROTO_ICMPV6, .saddr = R4_6, .daddr = C6,
				.icmp_type = 2, .icmp_mtu = 1420, .quote = &q6, .ttl = 250 };
	struct pkt_spec te = { .proto = IPPROTO_ICMPV6, .saddr = R4_6, .daddr = C6,
			       .icmp_type = 3, .quote = &q6, .ttl = 250 };
	struct xlat_req rq = { .out_s = R4_6, .out_d = C6, .in_s = C6, .in_d = S6,
			       .in_sport = CPORT };

	expect_xlat(P_4TO6, &rq, &fn, PROBE_XLAT_OK, &ptb);
	expect_xlat(P_4TO6, &rq, &big, PROBE_XLAT_OK, &te);
}

/* Hostile RFC 4884 length attributes: one pointing past the packet (255
 * words) is not trusted; the rest of the packet is the quote, translated
 * as for an error without one, the attribute cleared. */
TEST(hostile_rfc4884_length_beyond_the_packet_ignored)
{
	NEED_PROBE();
	struct pkt_spec q4 = { .proto = IPPROTO_UDP, .saddr = EXT4, .daddr = S4, .sport = EPORT,
			       .dport = 53, .ttl = 1, .frag = DF, .payload_len = 40 };
	struct pkt_spec in = { .proto = IPPROTO_ICMP, .saddr = R4, .daddr = EXT4, .icmp_type = 11,
			       .quote = &q4, .ttl = 250 };
	struct pkt_spec q6 = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = CPORT,
			       .dport = 53, .ttl = 1, .payload_len = 40 };
	struct pkt_spec want = { .proto = IPPROTO_ICMPV6, .saddr = R4_6, .daddr = C6,
				 .icmp_type = 3, .quote = &q6, .ttl = 250 };
	struct xlat_req rq = { .out_s = R4_6, .out_d = C6, .in_s = C6, .in_d = S6,
			       .in_sport = CPORT };
	uint8_t pkt[PKT_MAX], out[PKT_MAX], exp[PKT_MAX], *icmp;
	size_t len = pkt_build(&in, pkt), out_len, exp_len = pkt_build(&want, exp);
	struct xlat_probe_out o;
	uint32_t sum = 0;

	/* The attribute set (octet 5), the ICMP checksum computed anew. */
	icmp = pkt + 14 + 20;
	icmp[5] = 255;
	icmp[2] = icmp[3] = 0;
	for (size_t i = 0; i + 1 < len - 34; i += 2)
		sum += (uint32_t)icmp[i] << 8 | icmp[i + 1];
	if ((len - 34) & 1)
		sum += (uint32_t)icmp[len - 35] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	icmp[2] = (uint8_t)(~sum >> 8);
	icmp[3] = (uint8_t)~sum;
	ASSERT_EQ(xlat_run(P_4TO6, &rq, pkt, len, &o, out, &out_len), 0, "probe run");
	ASSERT_EQ(o.verdict, PROBE_XLAT_OK, "verdict");
	ASSERT_PKT_EQ(out, out_len, exp, exp_len, "the rest is the quote, attribute cleared");
}

/*
 * RFC 7915 §4.2 and §5.2, every query and single-hop type the RFC names
 * for silent drop, and unknown types: ICMPv4 Source Quench (4), Redirect
 * (5), Alternate Host Address (6), Router Advertisement (9) and
 * Solicitation (10), Timestamp (13, 14), Information (15, 16), Address
 * Mask (17, 18), an unknown type; ICMPv6 MLD (130-132), Router and
 * Neighbor Discovery and Redirect (133-137), unknown informational types.
 */
TEST(rfc7915_s4_2_s5_2_every_single_hop_obsolete_and_unknown_type_dropped)
{
	NEED_PROBE();
	static const uint8_t v4[] = { 4, 5, 6, 9, 10, 13, 14, 15, 16, 17, 18, 42 };
	static const uint8_t v6[] = { 130, 131, 132, 133, 134, 135, 136, 137, 139, 200 };

	for (size_t i = 0; i < sizeof(v4); i++) {
		struct pkt_spec in = { .proto = IPPROTO_ICMP, .saddr = S4, .daddr = EXT4,
				       .icmp_type = v4[i], .payload_len = 20 };

		expect_xlat(P_4TO6, &in_req, &in, PROBE_XLAT_DROP, NULL);
		if (test_failed) {
			fprintf(stderr, "    ICMPv4 type %u\n", v4[i]);
			return;
		}
	}
	for (size_t i = 0; i < sizeof(v6); i++) {
		struct pkt_spec in = { .proto = IPPROTO_ICMPV6, .saddr = C6, .daddr = S6,
				       .icmp_type = v6[i], .payload_len = 20 };

		expect_xlat(P_6TO4, &out_req, &in, PROBE_XLAT_DROP, NULL);
		if (test_failed) {
			fprintf(stderr, "    ICMPv6 type %u\n", v6[i]);
			return;
		}
	}
}

/* RFC 7915 §5.1.1 with RFC 8021 §2: an atomic fragment (Fragment Header,
 * offset 0, M clear) is a whole datagram: IPv4 without fragmentation, its
 * Identification the low 16 bits of the fragment's, DF clear. */
TEST(rfc8021_rfc7915_s5_1_1_atomic_fragment_6to4_whole_datagram_id_low_16_bits)
{
	NEED_PROBE();
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = C6, .daddr = S6, .sport = CPORT,
			       .dport = 53, .nr_ext = 1, .ext_hdrs = { 44 }, .frag6 = 0,
			       .frag6_id = 0xabcd5678, .payload_len = 64 };
	struct pkt_spec want = { .proto = IPPROTO_UDP, .saddr = EXT4, .daddr = S4, .sport = EPORT,
				 .dport = 53, .frag = 0, .ip_id = 0x5678, .payload_len = 64 };

	expect_xlat(P_6TO4, &out_req, &in, PROBE_XLAT_OK, &want);
}
