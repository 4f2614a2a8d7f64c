// SPDX-License-Identifier: GPL-2.0
/*
 * Hairpinning (RFC 4787 REQ-9, RFC 5382 REQ-8) packet by packet: the
 * programs on internal interfaces and lo translate both ends and redirect.
 * The private namespace of the test run has int0 with 192.168.77.1/24, so
 * the FIB knows the way to the internal hosts.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "fcnat_tc.skel.h"
#include "fixture.h"
#include "harness.h"

static int lan_fd(void)
{
	return bpf_program__fd(fx.loader.skel->progs.fc_tc_lan_ingress);
}

static int lo_fd(void)
{
	return bpf_program__fd(fx.loader.skel->progs.fc_tc_lo_ingress);
}

/* Sent to CLIENT_B (or A) out of int0: the FIB knows their MACs (static
 * neighbours), so the frame carries them and int0's. */
static struct pkt_spec to_b(struct pkt_spec s)
{
	s.smac = FX_INT0_MAC;
	s.dmac = FX_CLIENT_B_MAC;
	return s;
}

/* Run on an internal interface (int0) or on lo. */
static int run_on(int prog_fd, const char *dev, const struct pkt_spec *in, struct run_result *r)
{
	struct __sk_buff ctx = { .ifindex = if_nametoindex(dev) };
	uint8_t buf[PKT_MAX];

	ctx.ingress_ifindex = ctx.ifindex;
	return run_prog_ctx(prog_fd, buf, pkt_build(in, buf), &ctx, r);
}

#define EXPECT_ON(prog_fd, dev, in, want, verdict, what)		\
	do {								\
		struct run_result _r;					\
		uint8_t _w[PKT_MAX];					\
		size_t _wl = pkt_build(want, _w);			\
		ASSERT_EQ(run_on(prog_fd, dev, in, &_r), 0, what ": test run"); \
		ASSERT_EQ(_r.ret, verdict, what ": verdict");		\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what);	\
	} while (0)

/* A mapping made by an outbound packet through the external egress. */
static uint16_t map_out(const char *client, uint16_t port)
{
	struct pkt_spec s = pkt_udp(client, port, SERVER_1, 7000);
	uint8_t buf[PKT_MAX];
	struct run_result r;

	if (run_prog(fx.egress_fd, buf, pkt_build(&s, buf), &r) || r.ret != TC_ACT_OK)
		return 0;
	return (r.out[34] << 8) | r.out[35];
}

TEST(rfc4787_req9_udp_hairpin_translates_both_ends_and_redirects)
{
	struct pkt_spec a_to_b = pkt_udp(CLIENT_A, 25600, EXT_ADDR, 25500);
	struct pkt_spec want = to_b(pkt_udp(EXT_ADDR, 25600, CLIENT_B, 25500));
	struct pkt_spec b_to_a = pkt_udp(CLIENT_B, 25500, EXT_ADDR, 25600);
	struct pkt_spec back = pkt_udp(EXT_ADDR, 25500, CLIENT_A, 25600);

	ASSERT_EQ(map_out(CLIENT_B, 25500), 25500, "B's mapping");
	want.ttl = 63;		/* forwarded */
	EXPECT_ON(lan_fd(), "int0", &a_to_b, &want, TC_ACT_REDIRECT, "A to B's mapping");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TRANSLATED), 1, "counted");
	/* A got a mapping of its own (EIM: the one it would use outside). */
	ASSERT_EQ(map_out(CLIENT_A, 25600), 25600, "A's mapping, reused outside");
	back.ttl = 63;
	back.smac = FX_INT0_MAC;
	back.dmac = FX_CLIENT_A_MAC;
	EXPECT_ON(lan_fd(), "int0", &b_to_a, &back, TC_ACT_REDIRECT, "B's answer to A's mapping");
}

TEST(rfc5382_req8_tcp_hairpin_translates_both_ends)
{
	struct pkt_spec syn = { .proto = IPPROTO_TCP, .saddr = CLIENT_A, .sport = 40000,
				.daddr = EXT_ADDR, .dport = 25500, .tcp_flags = 0x02, .tcp_seq = 9 };
	struct pkt_spec want = syn;
	struct run_result r;

	ASSERT_NE(map_out(CLIENT_B, 25500), 0, "B's UDP mapping is not B's TCP one");
	ASSERT_EQ(run_on(lan_fd(), "int0", &syn, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "no TCP mapping of B yet: unsolicited");
	{
		struct pkt_spec out = syn;
		uint8_t buf[PKT_MAX];

		out.saddr = CLIENT_B;
		out.sport = 25500;
		out.daddr = SERVER_1;
		out.dport = 80;
		ASSERT_EQ(run_prog(fx.egress_fd, buf, pkt_build(&out, buf), &r), 0, "B's TCP out");
	}
	ASSERT_EQ(run_on(lan_fd(), "int0", &syn, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "redirected");
	want.saddr = EXT_ADDR;
	want.sport = (r.out[34] << 8) | r.out[35];	/* A's port 40000 moved into the range */
	want.daddr = CLIENT_B;
	want.ttl = 63;
	want = to_b(want);
	ASSERT_TRUE(want.sport >= 20000 && want.sport <= 29999, "A's external port");
	{
		uint8_t w[PKT_MAX];
		size_t wl = pkt_build(&want, w);

		ASSERT_PKT_EQ(r.out, r.out_len, w, wl, "SYN hairpinned");
	}
}

TEST(hairpin_to_unmapped_port_of_range_dropped)
{
	struct pkt_spec in = pkt_udp(CLIENT_A, 25600, EXT_ADDR, 25999);
	struct run_result r;

	ASSERT_EQ(run_on(lan_fd(), "int0", &in, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), 1, "counted as unsolicited");
}

TEST(hairpin_leaves_other_traffic_alone)
{
	struct pkt_spec out = pkt_udp(CLIENT_A, 25600, SERVER_1, 53);
	struct pkt_spec dns = pkt_udp(CLIENT_A, 5353, EXT_ADDR, 53);
	struct pkt_spec ping = { .proto = IPPROTO_ICMP, .saddr = CLIENT_A, .daddr = EXT_ADDR,
				 .icmp_type = 8, .sport = 99, .payload_len = 20 };

	EXPECT_ON(lan_fd(), "int0", &out, &out, TC_ACT_OK, "to the outside: routed as usual");
	EXPECT_ON(lan_fd(), "int0", &dns, &dns, TC_ACT_OK, "to a gateway service");
	EXPECT_ON(lan_fd(), "int0", &ping, &ping, TC_ACT_OK, "ping of the external address");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 0, "no mapping made");
}

TEST(gateway_process_reaches_mapped_host_and_gets_its_answer)
{
	struct pkt_spec gw = pkt_udp(EXT_ADDR, 45000, EXT_ADDR, 25500);	/* port outside the range */
	struct pkt_spec gw_want = to_b(pkt_udp(EXT_ADDR, 45000, CLIENT_B, 25500));
	struct pkt_spec answer = pkt_udp(CLIENT_B, 25500, EXT_ADDR, 45000);
	struct pkt_spec answer_want = pkt_udp(EXT_ADDR, 25500, EXT_ADDR, 45000);
	struct run_result r;
	uint8_t w[PKT_MAX];
	size_t wl;

	ASSERT_EQ(map_out(CLIENT_B, 25500), 25500, "B's mapping");
	/* Sent by the gateway: no TTL decrement, source kept. */
	EXPECT_ON(lo_fd(), "lo", &gw, &gw_want, TC_ACT_REDIRECT, "gateway process to B");
	/* B's answer: its mapping as source, handed to the stack through lo
	 * (zero destination MAC, lo's own). */
	ASSERT_EQ(run_on(lan_fd(), "int0", &answer, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "redirected to lo");
	wl = pkt_build(&answer_want, w);
	memset(w, 0, 6);
	ASSERT_PKT_EQ(r.out, r.out_len, w, wl, "answer as the process expects it");
	ASSERT_EQ(stat_get(&fx, FC_STAT_HAIRPIN_TO_GATEWAY), 1, "counted");
	/* Without that exchange, B to the gateway's port 45000 is left alone. */
	answer.sport = 25501;
	EXPECT_ON(lan_fd(), "int0", &answer, &answer, TC_ACT_OK, "unrelated packet to the gateway");
}

TEST(gateway_process_with_port_in_range_uses_its_mapping)
{
	struct pkt_spec gw = pkt_udp(EXT_ADDR, 25030, EXT_ADDR, 25500);
	struct pkt_spec want = to_b(pkt_udp(EXT_ADDR, 25030, CLIENT_B, 25500));
	struct fc_endpoint_key k = { .side = FC_SIDE_INTERNAL, .family = FC_AF_INET,
				     .ext_family = FC_AF_INET, .proto = IPPROTO_UDP };
	struct fc_binding b;

	ASSERT_EQ(map_out(CLIENT_B, 25500), 25500, "B's mapping");
	EXPECT_ON(lo_fd(), "lo", &gw, &want, TC_ACT_REDIRECT, "gateway process to B");
	k.addr.v4 = ip4(EXT_ADDR);
	k.port = htons(25030);
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &k, &b), 0, "the process got a mapping");
	ASSERT_EQ(b.flags & FC_BINDING_ROUTER, FC_BINDING_ROUTER, "marked as the gateway's");
}

TEST(hairpin_to_gateway_process_mapping_delivers_locally)
{
	struct pkt_spec gw_out = pkt_udp(EXT_ADDR, 25030, SERVER_1, 7000);
	struct pkt_spec a = pkt_udp(CLIENT_A, 25600, EXT_ADDR, 25030);
	struct pkt_spec want = a;
	uint8_t buf[PKT_MAX];
	struct run_result r;

	/* A gateway process with a mapping of its own (port kept). */
	ASSERT_EQ(run_prog_from(fx.egress_fd, buf, pkt_build(&gw_out, buf), LOCAL_ORIGIN, &r), 0,
		  "gateway packet out");
	ASSERT_EQ((r.out[34] << 8) | r.out[35], 25030, "port kept");
	/* Delivered up the stack with the real source (a local one would be
	 * taken for a martian). */
	EXPECT_ON(lan_fd(), "int0", &a, &want, TC_ACT_OK, "A to the gateway's mapping");
}

TEST(rfc4787_req9_hairpin_to_gateway_process_with_lo_shows_sender_mapping)
{
	struct pkt_spec gw_out = pkt_udp(EXT_ADDR, 25030, SERVER_1, 7000);
	struct pkt_spec a = pkt_udp(CLIENT_A, 25600, EXT_ADDR, 25030);
	struct pkt_spec want = pkt_udp(EXT_ADDR, 25600, EXT_ADDR, 25030);
	struct __sk_buff ctx = { .ifindex = 1, .ingress_ifindex = 1, .mark = 0x5fc0ca1e };
	uint8_t buf[PKT_MAX], w[PKT_MAX];
	struct run_result r;
	size_t wl;

	strcpy(fx.opts.hairpin_ifs[0], "lo");
	fx.opts.nr_hairpin_ifs = 1;
	fixture_apply(&fx);
	ASSERT_EQ(fx.cfg.flags & FC_CFG_HAIRPIN_LO, FC_CFG_HAIRPIN_LO, "lo hairpinned");
	ASSERT_EQ(run_prog_from(fx.egress_fd, buf, pkt_build(&gw_out, buf), LOCAL_ORIGIN, &r), 0,
		  "gateway packet out");
	/* A's mapping as source, handed up through lo. */
	ASSERT_EQ(run_on(lan_fd(), "int0", &a, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "redirected to lo");
	wl = pkt_build(&want, w);
	memset(w, 0, 6);
	ASSERT_PKT_EQ(r.out, r.out_len, w, wl, "as the gateway process sees it");
	/* On lo, the marked packet is let through untouched, not translated
	 * again (its destination port is a mapped one). */
	{
		struct run_result r2;

		ASSERT_EQ(run_prog_ctx(lo_fd(), r.out, r.out_len, &ctx, &r2), 0, "lo ingress");
		ASSERT_EQ(r2.ret, TC_ACT_OK, "passed");
		ASSERT_PKT_EQ(r2.out, r2.out_len, r.out, r.out_len, "untouched");
	}
}
