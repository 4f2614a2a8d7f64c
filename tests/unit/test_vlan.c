// SPDX-License-Identifier: GPL-2.0
/*
 * --vlan (bpf/lib/vlan.h, vlan_tc.h, ctx_xdp.h): 802.1Q and QinQ tags on the
 * external link's frames. Whole frames in and out: the expected ones are
 * pkt_build's (checksums from scratch) with the tags written as IEEE 802.1Q
 * lays them out: after the source MAC, TPID (0x8100 C-tag, 0x88a8 S-tag,
 * outer first) and TCI (PCP 3 bits, DEI 1, VID 12), then the Ethernet type.
 *
 * TC: BPF_PROG_TEST_RUN hands the program the frame as it is, tags in it
 * (where the kernel would have moved the outer one into skb->vlan_tci
 * already); the ingress program takes them off. The tags the egress
 * program puts on are offloaded (skb->vlan_*), which the test run does not
 * return: the integration tests see them on the wire
 * (tests/integration/test_link_vlan_tags.py). XDP writes them in the frame.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <bpf/bpf.h>

#include "fcnat_tc.skel.h"
#include "fcnat_xdp.skel.h"
#include "fixture.h"
#include "harness.h"
#include "vlan.h"

#define XDP_PASS_	2
#define XDP_REDIRECT_	4
#define LO_IFINDEX	1	/* where BPF_PROG_TEST_RUN runs TC programs */

struct tag {
	uint16_t tpid, tci;
};

/* pkt_build's frame with tags (outer first) after the MACs. */
static size_t tagged_build(const struct pkt_spec *s, const struct tag *tags, int n, uint8_t *buf)
{
	size_t len = pkt_build(s, buf);

	memmove(buf + 12 + 4 * n, buf + 12, len - 12);
	for (int i = 0; i < n; i++) {
		uint16_t be[2] = { htons(tags[i].tpid), htons(tags[i].tci) };

		memcpy(buf + 12 + 4 * i, be, 4);
	}
	return len + 4 * n;
}

/* Run in (with in_tags) through the program; want (with want_tags) out. */
#define EXPECT_TAGGED(run, in, in_tags, n_in, want, want_tags, n_want, verdict, what) \
	do {									\
		struct run_result _r;						\
		uint8_t _i[PKT_MAX], _w[PKT_MAX];				\
		size_t _il = tagged_build(in, in_tags, n_in, _i);		\
		size_t _wl = tagged_build(want, want_tags, n_want, _w);	\
		ASSERT_EQ(run, 0, what ": test run");				\
		ASSERT_EQ(_r.ret, verdict, what ": verdict");			\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what);		\
	} while (0)
#define TC_RUN(fd)		run_prog(fd, _i, _il, &_r)
#define XDP_RUN(fd, ifindex)	run_xdp(fd, _i, _il, ifindex, &_r)

static const struct tag DOT1Q_7[] = { { 0x8100, 7 } };
/* PCP 5 on the wire: not part of the VLAN's identity. */
static const struct tag DOT1Q_7_PCP5[] = { { 0x8100, 0xa007 } };
static const struct tag DOT1Q_8[] = { { 0x8100, 8 } };
static const struct tag QINQ_100_7[] = { { 0x88a8, 100 }, { 0x8100, 7 } };
static const struct tag QINQ_101_7[] = { { 0x88a8, 101 }, { 0x8100, 7 } };

static struct pkt_spec udp4(const char *sa, uint16_t sp, const char *da, uint16_t dp)
{
	return (struct pkt_spec){ .proto = IPPROTO_UDP, .saddr = sa, .sport = sp,
				  .daddr = da, .dport = dp, .payload_len = 22 };
}

static void vlan_on(int ifindex, const char *spec)
{
	struct fc_vlan_spec v;
	char err[256];

	if (vlan_parse(spec, &v, err, sizeof(err)))
		fprintf(stderr, "    %s\n", err);
	vlan_write(&fx.loader, ifindex, &v);
}

/* A mapping CLIENT_A:port -> EXT_ADDR:port, made by the untagged egress. */
static int map_port(uint16_t port)
{
	struct pkt_spec out = udp4(CLIENT_A, port, SERVER_1, 7000);
	struct run_result r;

	return run_spec(fx.egress_fd, &out, &r) || r.ret != TC_ACT_OK ? -1 : 0;
}

TEST(vlan_tc_ingress_dot1q_tag_taken_off_and_dnat_applied)
{
	struct pkt_spec in = udp4(STRANGER, 9000, EXT_ADDR, 25000);
	struct pkt_spec want = udp4(STRANGER, 9000, CLIENT_A, 25000);

	vlan_on(LO_IFINDEX, "7");
	ASSERT_EQ(map_port(25000), 0, "mapping made by the egress");
	ASSERT_EQ(stat_get(&fx, FC_STAT_OUT_TRANSLATED), 1, "egress translated");
	EXPECT_TAGGED(TC_RUN(fx.ingress_fd), &in, DOT1Q_7, 1, &want, NULL, 0, TC_ACT_OK,
		      "802.1Q 7 in: untagged, translated (EIF)");
	EXPECT_TAGGED(TC_RUN(fx.ingress_fd), &in, DOT1Q_7_PCP5, 1, &want, NULL, 0, TC_ACT_OK,
		      "802.1Q 7 with priority 5 in");
	ASSERT_EQ(stat_get(&fx, FC_STAT_IN_TRANSLATED), 2, "translated_in");
}

TEST(vlan_tc_ingress_qinq_tags_taken_off_and_dnat_applied)
{
	struct pkt_spec in = udp4(SERVER_1, 7000, EXT_ADDR, 25010);
	struct pkt_spec want = udp4(SERVER_1, 7000, CLIENT_A, 25010);

	vlan_on(LO_IFINDEX, "100.7");
	ASSERT_EQ(map_port(25010), 0, "mapping made by the egress");
	EXPECT_TAGGED(TC_RUN(fx.ingress_fd), &in, QINQ_100_7, 2, &want, NULL, 0, TC_ACT_OK,
		      "802.1ad 100 + 802.1Q 7 in: untagged, translated");
	ASSERT_EQ(stat_get(&fx, FC_STAT_IN_TRANSLATED), 1, "translated_in");
}

TEST(vlan_tc_ingress_other_tags_or_none_pass_untouched)
{
	struct pkt_spec in = udp4(SERVER_1, 7000, EXT_ADDR, 25020);

	vlan_on(LO_IFINDEX, "100.7");
	ASSERT_EQ(map_port(25020), 0, "mapping made by the egress");
	EXPECT_TAGGED(TC_RUN(fx.ingress_fd), &in, QINQ_101_7, 2, &in, QINQ_101_7, 2, TC_ACT_OK,
		      "another outer VLAN");
	EXPECT_TAGGED(TC_RUN(fx.ingress_fd), &in, DOT1Q_7, 1, &in, DOT1Q_7, 1, TC_ACT_OK,
		      "the inner tag alone");
	EXPECT_TAGGED(TC_RUN(fx.ingress_fd), &in, NULL, 0, &in, NULL, 0, TC_ACT_OK, "untagged");
	vlan_on(LO_IFINDEX, "7");
	EXPECT_TAGGED(TC_RUN(fx.ingress_fd), &in, DOT1Q_8, 1, &in, DOT1Q_8, 1, TC_ACT_OK,
		      "VLAN 8 on a VLAN 7 link");
	EXPECT_TAGGED(TC_RUN(fx.ingress_fd), &in, QINQ_100_7, 2, &in, QINQ_100_7, 2, TC_ACT_OK,
		      "two tags on a one-tag link");
	ASSERT_EQ(stat_get(&fx, FC_STAT_IN_TRANSLATED), 0, "nothing translated");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PASS_NOT_IPV4), 5, "each passed, counted");
}

TEST(vlan_tc_egress_tagged_frame_of_another_vlan_untouched)
{
	/* An already tagged frame leaving (another VLAN device's on this
	 * link): not ours to translate. */
	struct pkt_spec out = udp4(CLIENT_A, 25030, SERVER_1, 7000);

	vlan_on(LO_IFINDEX, "7");
	EXPECT_TAGGED(TC_RUN(fx.egress_fd), &out, DOT1Q_8, 1, &out, DOT1Q_8, 1, TC_ACT_OK,
		      "tagged frame out");
	ASSERT_EQ(stat_get(&fx, FC_STAT_OUT_TRANSLATED), 0, "not translated");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 0, "no mapping");
}

TEST(vlan_tc_untagged_link_unaffected_by_another_vlan_link)
{
	struct pkt_spec in = udp4(SERVER_1, 7000, EXT_ADDR, 25040);
	struct pkt_spec want = udp4(SERVER_1, 7000, CLIENT_A, 25040);

	vlan_on(999, "7");
	ASSERT_EQ(map_port(25040), 0, "mapping made by the egress");
	EXPECT_TAGGED(TC_RUN(fx.ingress_fd), &in, NULL, 0, &want, NULL, 0, TC_ACT_OK,
		      "untagged in, on another interface than the VLAN link");
}

TEST(vlan_xdp_dot1q_out_tagged_and_in_untagged)
{
	struct pkt_spec out = udp4(CLIENT_A, 25100, SERVER_1, 7000);
	struct pkt_spec out_want = fx_hop(udp4(EXT_ADDR, 25100, SERVER_1, 7000), FX_EXT0_MAC,
					  FX_SERVER1_MAC);
	struct pkt_spec in = udp4(SERVER_2, 9000, EXT_ADDR, 25100);
	struct pkt_spec in_want = fx_hop(udp4(SERVER_2, 9000, CLIENT_A, 25100), FX_INT0_MAC,
					 FX_CLIENT_A_MAC);

	vlan_on(fx.ext_ifindex, "7");
	EXPECT_TAGGED(XDP_RUN(fx.xdp_int_fd, fx.int_ifindex), &out, NULL, 0, &out_want, DOT1Q_7, 1,
		      XDP_REDIRECT_, "out: translated, tag 7 pushed");
	EXPECT_TAGGED(XDP_RUN(fx.xdp_ext_fd, fx.ext_ifindex), &in, DOT1Q_7_PCP5, 1, &in_want, NULL,
		      0, XDP_REDIRECT_, "in: tag popped, translated (EIF)");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_REDIRECTED), 2, "both in XDP");
}

TEST(vlan_xdp_qinq_out_tagged_and_in_untagged)
{
	struct pkt_spec out = { .proto = IPPROTO_TCP, .saddr = CLIENT_A, .sport = 26000,
				.daddr = SERVER_1, .dport = 443, .tcp_flags = 0x02,
				.tcp_seq = 1000 };
	struct pkt_spec out_want = out, in, in_want;

	out_want.saddr = EXT_ADDR;
	out_want = fx_hop(out_want, FX_EXT0_MAC, FX_SERVER1_MAC);
	in = (struct pkt_spec){ .proto = IPPROTO_TCP, .saddr = SERVER_1, .sport = 443,
				.daddr = EXT_ADDR, .dport = 26000, .tcp_flags = 0x12,
				.tcp_seq = 5000, .tcp_ack = 1001 };
	in_want = in;
	in_want.daddr = CLIENT_A;
	in_want = fx_hop(in_want, FX_INT0_MAC, FX_CLIENT_A_MAC);

	vlan_on(fx.ext_ifindex, "100.7");
	EXPECT_TAGGED(XDP_RUN(fx.xdp_int_fd, fx.int_ifindex), &out, NULL, 0, &out_want, QINQ_100_7,
		      2, XDP_REDIRECT_, "SYN out: both tags pushed");
	EXPECT_TAGGED(XDP_RUN(fx.xdp_ext_fd, fx.ext_ifindex), &in, QINQ_100_7, 2, &in_want, NULL, 0,
		      XDP_REDIRECT_, "SYN-ACK in: both tags popped");
}

TEST(vlan_xdp_other_tags_or_none_passed_to_the_stack_untouched)
{
	struct pkt_spec out = udp4(CLIENT_A, 25110, SERVER_1, 7000);
	struct pkt_spec out_want = fx_hop(udp4(EXT_ADDR, 25110, SERVER_1, 7000), FX_EXT0_MAC,
					  FX_SERVER1_MAC);
	struct pkt_spec in = udp4(SERVER_1, 7000, EXT_ADDR, 25110);

	vlan_on(fx.ext_ifindex, "7");
	EXPECT_TAGGED(XDP_RUN(fx.xdp_int_fd, fx.int_ifindex), &out, NULL, 0, &out_want, DOT1Q_7, 1,
		      XDP_REDIRECT_, "mapping made");
	EXPECT_TAGGED(XDP_RUN(fx.xdp_ext_fd, fx.ext_ifindex), &in, DOT1Q_8, 1, &in, DOT1Q_8, 1,
		      XDP_PASS_, "VLAN 8");
	EXPECT_TAGGED(XDP_RUN(fx.xdp_ext_fd, fx.ext_ifindex), &in, QINQ_100_7, 2, &in, QINQ_100_7, 2,
		      XDP_PASS_, "two tags on a one-tag link");
	EXPECT_TAGGED(XDP_RUN(fx.xdp_ext_fd, fx.ext_ifindex), &in, NULL, 0, &in, NULL, 0, XDP_PASS_,
		      "untagged");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_PASS_NOT_IPV4), 3, "each passed, counted");
	ASSERT_EQ(stat_get(&fx, FC_STAT_IN_TRANSLATED), 0, "none translated");
}

TEST(vlan_xdp_untagged_link_keeps_its_frames_untagged)
{
	struct pkt_spec out = udp4(CLIENT_A, 25120, SERVER_1, 7000);
	struct pkt_spec out_want = fx_hop(udp4(EXT_ADDR, 25120, SERVER_1, 7000), FX_EXT0_MAC,
					  FX_SERVER1_MAC);

	/* A tag on the internal side's frames is not ours to take. */
	vlan_on(fx.ext_ifindex, "7");
	EXPECT_TAGGED(XDP_RUN(fx.xdp_int_fd, fx.int_ifindex), &out, DOT1Q_7, 1, &out, DOT1Q_7, 1,
		      XDP_PASS_, "tagged frame from inside");
	vlan_on(999, "7");
	EXPECT_TAGGED(XDP_RUN(fx.xdp_int_fd, fx.int_ifindex), &out, NULL, 0, &out_want, NULL, 0,
		      XDP_REDIRECT_, "untagged out of an untagged link");
}

TEST(vlan_xdp_fib_egress_on_a_vlan_subinterface_tagged_for_its_real_device)
{
	/* bpf_fib_lookup names the VLAN device; the table says its real
	 * device and tag. ext0 plays both here (the devmap holds it). */
	struct pkt_spec out = udp4(CLIENT_A, 25130, SERVER_1, 7000);
	struct pkt_spec out_want = fx_hop(udp4(EXT_ADDR, 25130, SERVER_1, 7000), FX_EXT0_MAC,
					  FX_SERVER1_MAC);

	fx.loader.xskel->bss->fc_xdp_vlan_dev[0] = fx.ext_ifindex;
	fx.loader.xskel->bss->fc_xdp_vlan_lower[0] = fx.ext_ifindex;
	fx.loader.xskel->bss->fc_xdp_vlan_tag[0] = 0x8100u << 16 | 7;
	EXPECT_TAGGED(XDP_RUN(fx.xdp_int_fd, fx.int_ifindex), &out, NULL, 0, &out_want, DOT1Q_7, 1,
		      XDP_REDIRECT_, "out via a VLAN sub-interface");
	fx.loader.xskel->bss->fc_xdp_vlan_dev[0] = 0;
}

TEST(vlan_option_parsing)
{
	struct fc_vlan_spec v;
	char err[256];

	ASSERT_EQ(vlan_parse("7", &v, err, sizeof(err)), 0, "7");
	ASSERT_EQ(v.n, 1, "one tag");
	ASSERT_EQ(v.tag[0], 0x8100u << 16 | 7, "802.1Q 7");
	ASSERT_EQ(vlan_parse("100.4094", &v, err, sizeof(err)), 0, "100.4094");
	ASSERT_EQ(v.n, 2, "two tags");
	ASSERT_EQ(v.tag[0], 0x88a8u << 16 | 100, "802.1ad 100 outside");
	ASSERT_EQ(v.tag[1], 0x8100u << 16 | 4094, "802.1Q 4094 inside");
	ASSERT_EQ(vlan_parse("0", &v, err, sizeof(err)), -1, "0 (priority tag)");
	ASSERT_EQ(vlan_parse("4095", &v, err, sizeof(err)), -1, "4095 (reserved)");
	ASSERT_EQ(vlan_parse("1.2.3", &v, err, sizeof(err)), -1, "three tags");
	ASSERT_EQ(vlan_parse(".7", &v, err, sizeof(err)), -1, "no outer");
	ASSERT_EQ(v.n, 0, "nothing set on error");
}
