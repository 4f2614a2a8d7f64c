// SPDX-License-Identifier: GPL-2.0
/*
 * Links without a link-layer header (PPP, TUN, WireGuard, tunnels): the TC
 * programs read frames that start at the IP header on the interfaces user
 * space lists in fc_tc_l3_ifs (doc/design/link-types.md), whole packets in
 * and out as elsewhere.
 *
 * BPF_PROG_TEST_RUN runs a TC program on lo (ifindex 1), listed here as
 * such a link. It takes skb->protocol from bytes 12-13 of the data
 * (eth_type_trans), which the datapath reads as the family on a bare link:
 * in a bare IPv4 packet they are the source address's first two bytes, so
 * sources in 8.0.0.0/16 read as ETH_P_IP (0x0800); in IPv6, bytes 4-5 of
 * the source, so fd00:77:86dd::/48 reads as ETH_P_IPV6.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "fcnat_tc.skel.h"
#include "fixture.h"
#include "harness.h"

#define L3_CLIENT	"8.0.77.2"
#define L3_SERVER	"8.0.100.2"
#define L3_CLIENT6	"fd00:77:86dd::2"
#define LO_IFINDEX	1

static void bare_lo(void)
{
	int lo = LO_IFINDEX;

	loader_set_l3_links(&fx.loader, &lo, 1);
}

/* pkt_build's frame without its Ethernet header. */
static size_t bare_build(const struct pkt_spec *s, uint8_t *buf)
{
	size_t len = pkt_build(s, buf);

	memmove(buf, buf + 14, len - 14);
	return len - 14;
}

/* Run in as a bare-IP packet forwarded from FORWARDED_FROM and require
 * exactly want (bare too) out, with verdict. */
#define EXPECT_BARE(prog_fd, in, want, verdict, what)				\
	do {									\
		struct run_result _r;						\
		uint8_t _i[PKT_MAX], _w[PKT_MAX];				\
		size_t _il = bare_build(in, _i), _wl = bare_build(want, _w);	\
		ASSERT_EQ(run_prog(prog_fd, _i, _il, &_r), 0, what ": test run"); \
		ASSERT_EQ(_r.ret, verdict, what ": verdict");			\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what);		\
	} while (0)

static struct pkt_spec udp(const char *sa, uint16_t sp, const char *da, uint16_t dp)
{
	return (struct pkt_spec){ .proto = IPPROTO_UDP, .saddr = sa, .sport = sp,
				  .daddr = da, .dport = dp, .payload_len = 22 };
}

static struct pkt_spec tcp_syn(const char *sa, uint16_t sp, const char *da, uint16_t dp)
{
	return (struct pkt_spec){ .proto = IPPROTO_TCP, .saddr = sa, .sport = sp,
				  .daddr = da, .dport = dp, .tcp_flags = 0x02,
				  .tcp_seq = 1000, .payload_len = 0 };
}

TEST(bare_ip_link_udp_snat_at_offset_0_and_dnat_back)
{
	struct pkt_spec out = udp(L3_CLIENT, 25000, SERVER_1, 7000);
	struct pkt_spec out_want = udp(EXT_ADDR, 25000, SERVER_1, 7000);
	struct pkt_spec in = udp(L3_SERVER, 7000, EXT_ADDR, 25000);
	struct pkt_spec in_want = udp(L3_SERVER, 7000, L3_CLIENT, 25000);

	bare_lo();
	EXPECT_BARE(fx.egress_fd, &out, &out_want, TC_ACT_OK, "outbound UDP, bare IP");
	ASSERT_EQ(stat_get(&fx, FC_STAT_OUT_TRANSLATED), 1, "translated_out");
	/* EIF: another host reaches the mapping. */
	EXPECT_BARE(fx.ingress_fd, &in, &in_want, TC_ACT_OK, "inbound UDP, bare IP");
	ASSERT_EQ(stat_get(&fx, FC_STAT_IN_TRANSLATED), 1, "translated_in");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PASS_NOT_IPV4), 0, "nothing read as a non-IP frame");
}

TEST(bare_ip_link_tcp_snat_at_offset_0)
{
	struct pkt_spec out = tcp_syn(L3_CLIENT, 25010, SERVER_1, 80);
	struct pkt_spec want = tcp_syn(EXT_ADDR, 25010, SERVER_1, 80);

	bare_lo();
	EXPECT_BARE(fx.egress_fd, &out, &want, TC_ACT_OK, "outbound TCP SYN, bare IP");
	ASSERT_EQ(nr_sessions(&fx), 1, "one session");
}

TEST(bare_ip_link_nat66_udp_out)
{
	struct pkt_spec out = udp(L3_CLIENT6, 25020, SERVER6_1, 7000);
	struct pkt_spec want = udp(EXT_ADDR6, 25020, SERVER6_1, 7000);

	bare_lo();
	fx.opts.nat66 = true;
	fixture_apply(&fx);
	EXPECT_BARE(fx.egress_fd, &out, &want, TC_ACT_OK, "outbound IPv6 UDP, bare IP");
	ASSERT_EQ(stat_get(&fx, FC_STAT_OUT_TRANSLATED), 1, "translated_out");
}

TEST(ethernet_link_unchanged_when_another_link_is_bare)
{
	/* Only the listed interfaces are read as bare IP: lo's frames here
	 * are Ethernet frames, as in every other test. */
	struct pkt_spec out = udp(CLIENT_A, 25030, SERVER_1, 7000);
	struct pkt_spec want = udp(EXT_ADDR, 25030, SERVER_1, 7000);
	int others[] = { 999, 1000 };

	ASSERT_EQ(loader_set_l3_links(&fx.loader, others, 2), 0, "two other links listed");
	EXPECT_SPEC_FROM(fx.egress_fd, &out, FORWARDED_FROM, &want, TC_ACT_OK, "Ethernet UDP");
}

TEST(bare_ip_link_list_is_bounded)
{
	int many[9] = { 2, 3, 4, 5, 6, 7, 8, 9, 10 };

	ASSERT_EQ(loader_set_l3_links(&fx.loader, many, 9), -E2BIG, "nine links");
	ASSERT_EQ(loader_set_l3_links(&fx.loader, many, 8), 0, "eight links");
}
