// SPDX-License-Identifier: GPL-2.0
/*
 * Port ranges per protocol (einat's tcp_ranges, udp_ranges, icmp_ranges;
 * --tcp-ports, --udp-ports, --icmp-ids): each protocol takes its external
 * ports (ICMP: echo identifiers, RFC 5508 REQ-1) from its own ranges, and a
 * protocol with none is not translated at all but left to the stack, whose
 * masquerade takes it ("mixed NAT"). Each range is one port wide, so the
 * expected packet is the RFC's translation with that port, written out
 * here, not read back from the datapath.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "fcnat_tc.skel.h"
#include "fixture.h"
#include "harness.h"
#include "spec4.h"

#define TCP_PORT	30000
#define UDP_PORT	31000
#define ICMP_ID		32000

/* slot gets the one port `port`, or none (0: its NAT off). */
static void set_ports(unsigned int slot, uint16_t port)
{
	struct fc_proto_ports *p = &fx.opts.proto_ports[slot];

	memset(p, 0, sizeof(*p));
	p->set = true;
	p->off = !port;
	p->nr = port ? 1 : 0;
	p->r[0] = (struct fc_port_range){ port, port };
}

static void three_ranges(void)
{
	set_ports(FC_SUB_TCP, TCP_PORT);
	set_ports(FC_SUB_UDP, UDP_PORT);
	set_ports(FC_SUB_ICMP, ICMP_ID);
	fixture_apply(&fx);
}

TEST(proto_ports_tcp_flow_gets_a_port_of_the_tcp_range)
{
	struct pkt_spec in = tcp(CLIENT_A, 40000, SERVER_1, 80, 0x02);
	struct pkt_spec want = tcp(EXT_ADDR, TCP_PORT, SERVER_1, 80, 0x02);
	struct pkt_spec reply = tcp(SERVER_1, 80, EXT_ADDR, TCP_PORT, 0x12);
	struct pkt_spec reply_want = tcp(SERVER_1, 80, CLIENT_A, 40000, 0x12);

	three_ranges();
	EXPECT_SPEC_FROM(fx.egress_fd, &in, FORWARDED_FROM, &want, TC_ACT_OK, "SYN out");
	EXPECT_SPEC_FROM(fx.ingress_fd, &reply, FORWARDED_FROM, &reply_want, TC_ACT_OK, "SYN-ACK in");
}

TEST(proto_ports_udp_flow_gets_a_port_of_the_udp_range)
{
	struct pkt_spec in = udp(CLIENT_A, 40000, SERVER_1, 7000);
	struct pkt_spec want = udp(EXT_ADDR, UDP_PORT, SERVER_1, 7000);
	/* The TCP range's port is not UDP's: inbound UDP there is not ours. */
	struct pkt_spec stray = udp(SERVER_1, 7000, EXT_ADDR, TCP_PORT);

	three_ranges();
	EXPECT_SPEC_FROM(fx.egress_fd, &in, FORWARDED_FROM, &want, TC_ACT_OK, "UDP out");
	EXPECT_SPEC_FROM(fx.ingress_fd, &stray, FORWARDED_FROM, &stray, TC_ACT_OK,
			 "UDP to a TCP port: the gateway's, untouched");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PASS_OUT_OF_RANGE), 1, "counted as out of UDP's range");
}

TEST(proto_ports_icmp_echo_gets_an_id_of_the_icmp_range)
{
	struct pkt_spec in = echo(CLIENT_A, SERVER_1, 8, 4242);
	struct pkt_spec want = echo(EXT_ADDR, SERVER_1, 8, ICMP_ID);
	struct pkt_spec reply = echo(SERVER_1, EXT_ADDR, 0, ICMP_ID);
	struct pkt_spec reply_want = echo(SERVER_1, CLIENT_A, 0, 4242);

	three_ranges();
	EXPECT_SPEC_FROM(fx.egress_fd, &in, FORWARDED_FROM, &want, TC_ACT_OK, "echo out");
	EXPECT_SPEC_FROM(fx.ingress_fd, &reply, FORWARDED_FROM, &reply_want, TC_ACT_OK, "reply in");
}

TEST(proto_ports_empty_udp_range_leaves_udp_to_the_stack)
{
	/* What nftables masquerade left at TC egress (its source already the
	 * external address), and a LAN host's packet with no masquerade. */
	struct pkt_spec masq = udp(EXT_ADDR, 51000, SERVER_1, 7000);
	struct pkt_spec lan = udp(CLIENT_A, 40000, SERVER_1, 7000);
	struct pkt_spec reply = udp(SERVER_1, 7000, EXT_ADDR, 51000);
	struct pkt_spec t = tcp(CLIENT_A, 40000, SERVER_1, 80, 0x02);
	struct pkt_spec t_want = tcp(EXT_ADDR, TCP_PORT, SERVER_1, 80, 0x02);
	/* A port-unreachable the LAN host sends about a masqueraded flow,
	 * already rewritten by conntrack: not ours to drop. */
	struct pkt_spec quoted = udp(EXT_ADDR, 51000, SERVER_1, 7000);
	struct pkt_spec err = { .proto = IPPROTO_ICMP, .saddr = EXT_ADDR, .daddr = SERVER_1,
				.icmp_type = 3, .icmp_code = 3, .quote = &quoted };

	set_ports(FC_SUB_TCP, TCP_PORT);
	set_ports(FC_SUB_UDP, 0);
	fixture_apply(&fx);
	EXPECT_SPEC_FROM(fx.egress_fd, &masq, FORWARDED_FROM, &masq, TC_ACT_OK, "masqueraded UDP");
	EXPECT_SPEC_FROM(fx.egress_fd, &lan, FORWARDED_FROM, &lan, TC_ACT_OK, "LAN UDP untouched");
	EXPECT_SPEC_FROM(fx.ingress_fd, &reply, FORWARDED_FROM, &reply, TC_ACT_OK,
			 "inbound UDP: conntrack's to undo");
	EXPECT_SPEC_FROM(fx.egress_fd, &err, FORWARDED_FROM, &err, TC_ACT_OK,
			 "ICMP error about a UDP flow");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PASS_PROTO), 4, "each counted as left to the stack");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 0, "no UDP mapping");
	EXPECT_SPEC_FROM(fx.egress_fd, &t, FORWARDED_FROM, &t_want, TC_ACT_OK, "TCP still NATed");
	ASSERT_EQ(stat_get(&fx, FC_STAT_OUT_TRANSLATED), 1, "one translated: the TCP SYN");
}

TEST(proto_ports_empty_icmp_range_leaves_pings_to_the_stack)
{
	struct pkt_spec in = echo(CLIENT_A, SERVER_1, 8, 4242);
	struct pkt_spec reply = echo(SERVER_1, EXT_ADDR, 0, 4242);

	set_ports(FC_SUB_ICMP, 0);
	fixture_apply(&fx);
	EXPECT_SPEC_FROM(fx.egress_fd, &in, FORWARDED_FROM, &in, TC_ACT_OK, "echo untouched");
	EXPECT_SPEC_FROM(fx.ingress_fd, &reply, FORWARDED_FROM, &reply, TC_ACT_OK,
			 "echo reply untouched");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PASS_PROTO), 2, "both counted");
}
