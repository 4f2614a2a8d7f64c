// SPDX-License-Identifier: GPL-2.0
/*
 * Conntrack flow offload (`fcnat offload`, bpf/lib/offload.h) through
 * BPF_PROG_TEST_RUN: conntrack entries go in as ctnetlink would describe
 * them (src/offload_flows.c makes the datapath's two directions of each),
 * packets go in whole and must come out whole: the NAT conntrack chose
 * (RFC 3022 address and port translation) with checksums right (RFC 1624),
 * the TTL decremented (RFC 1812 5.3.1) and the next hop's MACs, or
 * untouched to the stack with the reason counted. Same namespace as
 * test_tc_fast.c:
 *
 *   ext0 198.51.100.1/24 (EXT_ADDR)   SERVER_1, SERVER_2 known; STRANGER not
 *   int0 192.168.77.1/24              CLIENT_A, CLIENT_B known
 *   fo_other0 10.99.99.1/24 (a veth)  OTHER known (not an offload interface)
 *
 * The offload interfaces are ext0 and int0. The XDP program (the same
 * source over ctx_xdp.h) runs the forwarding cases again.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <time.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <fcnat/offload.h>
#include "bpf_profile.h"
#include "ct_msg.h"
#include "fcnat_offload.skel.h"
#include "fcnat_offload_xdp.skel.h"
#include "fixture.h"
#include "harness.h"
#include "offload_flows.h"

#define OTHER	"10.99.99.2"

static struct fcnat_offload *skel;
static struct fcnat_offload_xdp *xskel;
static struct fo_table *table;

/* What `fcnat offload -i ext0 -i int0 --mode xdp` loads, without attaching. */
static int load(void)
{
	__u32 ifs[2] = { fx.ext_ifindex, fx.int_ifindex };

	if (system("ip link add fo_other0 type veth peer name fo_other1 && "
		   "ip link set fo_other0 up && ip link set fo_other1 up && "
		   "ip addr add 10.99.99.1/24 dev fo_other0 && "
		   "ip neigh add " OTHER " lladdr 02:00:00:00:09:02 dev fo_other0 nud permanent"))
		return -1;
	skel = fcnat_offload__open();
	if (!skel || bpf_profile_apply(skel->obj, &skel->rodata->fc_no_callbacks, "offload"))
		return -1;
	memcpy((void *)skel->rodata->fc_tc_fast_ifs, ifs, sizeof(ifs));
	if (fcnat_offload__load(skel))
		return -1;
	xskel = fcnat_offload_xdp__open();
	if (!xskel || bpf_profile_apply(xskel->obj, &xskel->rodata->fc_no_callbacks, "offload"))
		return -1;
	memcpy((void *)xskel->rodata->fc_xdp_ifs, ifs, sizeof(ifs));
	if (bpf_map__reuse_fd(xskel->maps.fo_flows4, bpf_map__fd(skel->maps.fo_flows4)) ||
	    bpf_map__reuse_fd(xskel->maps.fo_flows6, bpf_map__fd(skel->maps.fo_flows6)) ||
	    bpf_map__reuse_fd(xskel->maps.fo_stats, bpf_map__fd(skel->maps.fo_stats)) ||
	    fcnat_offload_xdp__load(xskel))
		return -1;
	for (int i = 0; i < 2; i++)
		if (bpf_map_update_elem(bpf_map__fd(xskel->maps.fc_xdp_tx), &ifs[i], &ifs[i], BPF_ANY))
			return -1;
	return 0;
}

/* --vlan on ifindex, in both objects (as src/offload.c writes it before
 * load); tags TPID << 16 | VID, 0: none. */
static void vlan_set(int ifindex, __u32 outer, __u32 inner)
{
	skel->bss->fc_vlan_tags[0] = xskel->bss->fc_vlan_tags[0] = outer;
	skel->bss->fc_vlan_tags[1] = xskel->bss->fc_vlan_tags[1] = inner;
	skel->bss->fc_vlan_ifindex = xskel->bss->fc_vlan_ifindex = outer ? ifindex : 0;
}

/* The datapath, loaded once in the test namespace; emptied per test. */
static int setup(void)
{
	int ncpu = libbpf_num_possible_cpus();

	if (!skel && load())
		return -1;
	fo_table_free(table);	/* removes its flows from the map */
	skel->bss->fo_nh_gen = xskel->bss->fo_nh_gen = 0;	/* no next hop cache */
	vlan_set(0, 0, 0);	/* no --vlan */
	table = fo_table_new(&(struct fo_table_cfg){
		.map_fd = bpf_map__fd(skel->maps.fo_flows4),
		.map6_fd = bpf_map__fd(skel->maps.fo_flows6), .max_flows = 16,
		.tcp_timeout = 432000, .udp_timeout = 120 });
	for (__u32 i = 0; i < FO_STAT_MAX; i++) {
		__u64 zero[ncpu > 0 ? ncpu : 1];

		memset(zero, 0, sizeof(zero));
		bpf_map_update_elem(bpf_map__fd(skel->maps.fo_stats), &i, zero, BPF_ANY);
	}
	return table ? 0 : -1;
}

static __u64 fo_stat(enum fo_stat s)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 v[ncpu > 0 ? ncpu : 1], sum = 0;
	__u32 key = s;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.fo_stats), &key, v))
		return ~0ull;
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

static struct ct_tuple tuple(__u8 proto, const char *src, __u16 sport, const char *dst,
			     __u16 dport)
{
	struct ct_tuple t = { .sport = htons(sport), .dport = htons(dport), .proto = proto };

	if (strchr(src, ':')) {
		t.family = AF_INET6;
		ip6(src, (uint8_t *)t.src6);
		ip6(dst, (uint8_t *)t.dst6);
	} else {
		t.family = AF_INET;
		t.src = ip4(src);
		t.dst = ip4(dst);
	}
	return t;
}

/* A conntrack entry as a dump or an event names it: established. */
static void ct_add(struct ct_tuple orig, struct ct_tuple reply)
{
	struct ct_entry e = {
		.event = CT_EV_NEW, .family = orig.family, .has_orig = true, .has_reply = true,
		.orig = orig, .reply = reply, .has_status = true,
		.status = IPS_ASSURED | IPS_CONFIRMED | IPS_SEEN_REPLY,
		.has_tcp_state = orig.proto == IPPROTO_TCP, .tcp_state = TCP_CONNTRACK_ESTABLISHED,
	};

	fo_table_apply(table, &e);
}

static struct pkt_spec udp(const char *sa, uint16_t sp, const char *da, uint16_t dp)
{
	return (struct pkt_spec){ .proto = IPPROTO_UDP, .saddr = sa, .sport = sp,
				  .daddr = da, .dport = dp, .payload_len = 32 };
}

static struct pkt_spec tcp(const char *sa, uint16_t sp, const char *da, uint16_t dp,
			   uint8_t flags)
{
	return (struct pkt_spec){ .proto = IPPROTO_TCP, .saddr = sa, .sport = sp, .daddr = da,
				  .dport = dp, .tcp_flags = flags, .tcp_seq = 1000,
				  .tcp_ack = 2000, .payload_len = 100 };
}

/* The packet as it leaves: one hop on, with the egress's MACs. */
static struct pkt_spec hop(struct pkt_spec s, const uint8_t *smac, const uint8_t *dmac)
{
	s = fx_hop(s, smac, dmac);
	s.ttl = 63;
	return s;
}

static int run_on(int ifindex, const struct pkt_spec *in, struct run_result *r)
{
	struct __sk_buff ctx = { .ifindex = ifindex, .ingress_ifindex = ifindex };
	uint8_t buf[PKT_MAX];

	return run_prog_ctx(bpf_program__fd(skel->progs.fo_tc_ingress), buf, pkt_build(in, buf),
			    &ctx, r);
}

static int run_xdp_on(int ifindex, const struct pkt_spec *in, struct run_result *r)
{
	uint8_t buf[PKT_MAX];

	return run_xdp(bpf_program__fd(xskel->progs.fo_xdp), buf, pkt_build(in, buf), ifindex, r);
}

/* The same through XDP: XDP_REDIRECT for a redirect, XDP_PASS for a pass. */
#define EXPECT_XDP(ifindex, in, want, verdict, what)			\
	do {								\
		struct run_result _r;					\
		uint8_t _w[PKT_MAX];					\
		size_t _wl = pkt_build(want, _w);			\
		ASSERT_EQ(run_xdp_on(ifindex, in, &_r), 0, what ": XDP test run");	\
		ASSERT_EQ(_r.ret, verdict, what ": XDP verdict");	\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what " (XDP)");	\
	} while (0)

#define EXPECT(ifindex, in, want, verdict, what)			\
	do {								\
		struct run_result _r;					\
		uint8_t _w[PKT_MAX];					\
		size_t _wl = pkt_build(want, _w);			\
		ASSERT_EQ(run_on(ifindex, in, &_r), 0, what ": test run");	\
		ASSERT_EQ(_r.ret, verdict, what ": verdict");		\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what);	\
	} while (0)

/* To the stack as it came, with the reason counted. */
#define PASSES(ifindex, in, stat, what)					\
	do {								\
		EXPECT(ifindex, in, in, TC_ACT_OK, what);		\
		ASSERT_EQ(fo_stat(stat), 1, what ": counted");		\
		ASSERT_EQ(fo_stat(FO_STAT_FORWARDED), 0, what ": not forwarded"); \
	} while (0)

#define SETUP()								\
	do {								\
		if (setup())						\
			FAIL("loading the offload datapath");		\
	} while (0)

/*
 * IPv6: ext0 2001:db8:100::1/64 (EXT_ADDR6) with SERVER6_1's MAC known,
 * int0 fd00:77::1/64 with CLIENT6_A's and CLIENT6_B's, forwarding on; all
 * taken away again before the next test, whatever this one's outcome.
 */
static int lan6_up(void)
{
	fixture_defer(&fx, "ip -6 addr del " EXT_ADDR6 "/64 dev ext0 2>/dev/null; "
			   "ip -6 addr del fd00:77::1/64 dev int0 2>/dev/null; "
			   "sysctl -qw net.ipv6.conf.all.forwarding=0");
	return system("ip -6 addr add " EXT_ADDR6 "/64 dev ext0 nodad && "
		      "ip -6 addr add fd00:77::1/64 dev int0 nodad && "
		      "ip -6 neigh replace " SERVER6_1 " lladdr 02:00:00:00:01:02 dev ext0 nud permanent && "
		      "ip -6 neigh replace " CLIENT6_A " lladdr 02:00:00:00:02:02 dev int0 nud permanent && "
		      "ip -6 neigh replace " CLIENT6_B " lladdr 02:00:00:00:02:03 dev int0 nud permanent && "
		      "sysctl -qw net.ipv6.conf.all.forwarding=1");
}

#define SETUP6()							\
	do {								\
		SETUP();						\
		if (lan6_up())						\
			FAIL("IPv6 on ext0 and int0");			\
	} while (0)

/*
 * One family's addresses, for the cases both families run alike: the
 * client behind int0 (CLIENT_A's MAC), the server behind ext0 (SERVER_1's),
 * the router's external address.
 */
struct fam {
	bool v6;
	const char *client, *server, *ext;
};

static const struct fam fam4 = { false, CLIENT_A, SERVER_1, EXT_ADDR };
static const struct fam fam6 = { true, CLIENT6_A, SERVER6_1, EXT_ADDR6 };

/* The datapath, and for IPv6 the addresses of that family too. */
#define SETUP_FAM(f)							\
	do {								\
		if ((f)->v6)						\
			SETUP6();					\
		else							\
			SETUP();					\
	} while (0)

/* Masquerade (SNAT to the router's address): client:25000 -> server:7000
 * leaves as ext:25001. */
static void masquerade_udp(const struct fam *f)
{
	ct_add(tuple(IPPROTO_UDP, f->client, 25000, f->server, 7000),
	       tuple(IPPROTO_UDP, f->server, 7000, f->ext, 25001));
}

static void masquerade_udp_case(const struct fam *f)
{
	struct pkt_spec out = udp(f->client, 25000, f->server, 7000);
	struct pkt_spec out_want = hop(udp(f->ext, 25001, f->server, 7000), FX_EXT0_MAC,
				       FX_SERVER1_MAC);
	struct pkt_spec in = udp(f->server, 7000, f->ext, 25001);
	struct pkt_spec in_want = hop(udp(f->server, 7000, f->client, 25000), FX_INT0_MAC,
				      FX_CLIENT_A_MAC);

	SETUP_FAM(f);
	masquerade_udp(f);
	ASSERT_EQ(fo_table_offloaded(table), 1, "one flow offloaded");
	EXPECT(fx.int_ifindex, &out, &out_want, TC_ACT_REDIRECT, "outbound, source translated");
	EXPECT(fx.ext_ifindex, &in, &in_want, TC_ACT_REDIRECT, "reply, destination translated");
	ASSERT_EQ(fo_stat(FO_STAT_FORWARDED), 2, "both forwarded");
	EXPECT_XDP(fx.int_ifindex, &out, &out_want, XDP_REDIRECT, "outbound");
	EXPECT_XDP(fx.ext_ifindex, &in, &in_want, XDP_REDIRECT, "reply");
	ASSERT_EQ(fo_stat(FO_STAT_FORWARDED), 4, "XDP counts in the same map");
	ASSERT_EQ(fo_stat(FO_STAT_FORWARDED6), f->v6 ? 4 : 0, "as IPv6, or none");
}

/* A port forward: server:40000 -> ext:8080 forwarded to client:80. */
static void dnat_port_forward_tcp_case(const struct fam *f, const char *client,
				       const uint8_t *client_mac)
{
	struct pkt_spec in = tcp(f->server, 40000, f->ext, 8080, 0x18);
	struct pkt_spec in_want = hop(tcp(f->server, 40000, client, 80, 0x18), FX_INT0_MAC,
				      client_mac);
	struct pkt_spec back = tcp(client, 80, f->server, 40000, 0x10);
	struct pkt_spec back_want = hop(tcp(f->ext, 8080, f->server, 40000, 0x10), FX_EXT0_MAC,
					FX_SERVER1_MAC);

	SETUP_FAM(f);
	ct_add(tuple(IPPROTO_TCP, f->server, 40000, f->ext, 8080),
	       tuple(IPPROTO_TCP, client, 80, f->server, 40000));
	EXPECT(fx.ext_ifindex, &in, &in_want, TC_ACT_REDIRECT, "inbound, destination forwarded");
	EXPECT(fx.int_ifindex, &back, &back_want, TC_ACT_REDIRECT, "reply, source restored");
	EXPECT_XDP(fx.ext_ifindex, &in, &in_want, XDP_REDIRECT, "inbound");
	EXPECT_XDP(fx.int_ifindex, &back, &back_want, XDP_REDIRECT, "reply");
}

static void fin_hands_back_case(const struct fam *f)
{
	struct pkt_spec fin = tcp(f->client, 25000, f->server, 80, 0x11);
	struct pkt_spec ack = tcp(f->server, 80, f->ext, 25000, 0x10);
	char buf[4096];
	__u32 seq = 0;

	SETUP_FAM(f);
	ct_add(tuple(IPPROTO_TCP, f->client, 25000, f->server, 80),
	       tuple(IPPROTO_TCP, f->server, 80, f->ext, 25000));
	PASSES(fx.int_ifindex, &fin, FO_STAT_PASS_FIN_RST, "FIN to the stack untouched");
	/* Both directions left at once: the other side's answer too. */
	EXPECT(fx.ext_ifindex, &ack, &ack, TC_ACT_OK, "the reply direction as well");
	ASSERT_EQ(fo_stat(FO_STAT_PASS_NOT_OFFLOADED), 1, "not offloaded any more");
	fo_table_tick(table, 0, buf, sizeof(buf), &seq);
	ASSERT_EQ(fo_table_offloaded(table), 0, "user space saw it");
	ASSERT_EQ(fo_table_handed_back(table), 1, "handed back");
	/* A later update of the same entry (still ESTABLISHED to conntrack
	 * until it sees the FIN) does not offload it again. */
	ct_add(tuple(IPPROTO_TCP, f->client, 25000, f->server, 80),
	       tuple(IPPROTO_TCP, f->server, 80, f->ext, 25000));
	ASSERT_EQ(fo_table_offloaded(table), 0, "not again");
}

TEST(offload_masquerade_udp_both_directions)
{
	masquerade_udp_case(&fam4);
}

TEST(offload_udp_zero_checksum_stays_zero)
{
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec want = hop(udp(EXT_ADDR, 25001, SERVER_1, 7000), FX_EXT0_MAC,
				   FX_SERVER1_MAC);

	SETUP();
	masquerade_udp(&fam4);
	/* RFC 768: zero means "no checksum"; a rewrite must not invent one. */
	out.udp_no_csum = want.udp_no_csum = 1;
	EXPECT(fx.int_ifindex, &out, &want, TC_ACT_REDIRECT, "no checksum, none made");
	EXPECT_XDP(fx.int_ifindex, &out, &want, XDP_REDIRECT, "no checksum, none made");
}

TEST(offload_dnat_port_forward_tcp_both_directions)
{
	dnat_port_forward_tcp_case(&fam4, CLIENT_A, FX_CLIENT_A_MAC);
}

TEST(offload_routed_flow_without_nat_only_forwarded)
{
	/* No NAT (reply tuple = original reversed): the same packet, a hop on. */
	struct pkt_spec in = udp(SERVER_1, 5000, CLIENT_B, 6000);
	struct pkt_spec want = hop(in, FX_INT0_MAC, fx_client_mac(CLIENT_B));

	SETUP();
	ct_add(tuple(IPPROTO_UDP, SERVER_1, 5000, CLIENT_B, 6000),
	       tuple(IPPROTO_UDP, CLIENT_B, 6000, SERVER_1, 5000));
	EXPECT(fx.ext_ifindex, &in, &want, TC_ACT_REDIRECT, "forwarded as it is");
}

TEST(offload_flow_not_offloaded_goes_to_stack)
{
	struct pkt_spec other = udp(CLIENT_A, 25002, SERVER_1, 7000);

	SETUP();
	masquerade_udp(&fam4);
	PASSES(fx.int_ifindex, &other, FO_STAT_PASS_NOT_OFFLOADED, "another flow");
}

TEST(offload_unassured_entry_not_offloaded)
{
	struct ct_entry e = {
		.event = CT_EV_NEW, .family = AF_INET, .has_orig = true, .has_reply = true,
		.orig = tuple(IPPROTO_TCP, CLIENT_A, 25000, SERVER_1, 80),
		.reply = tuple(IPPROTO_TCP, SERVER_1, 80, EXT_ADDR, 25000),
		.has_status = true, .status = IPS_CONFIRMED | IPS_SEEN_REPLY,
		.has_tcp_state = true, .tcp_state = TCP_CONNTRACK_SYN_RECV,
	};
	struct pkt_spec p = tcp(CLIENT_A, 25000, SERVER_1, 80, 0x10);

	SETUP();
	fo_table_apply(table, &e);
	ASSERT_EQ(fo_table_offloaded(table), 0, "a handshake is the stack's");
	e.status |= IPS_ASSURED;
	fo_table_apply(table, &e);
	ASSERT_EQ(fo_table_offloaded(table), 0, "assured, but not yet established");
	/* An update without protocol info (an ASSURED event) keeps the state
	 * known from before. */
	e.has_tcp_state = true;
	e.tcp_state = TCP_CONNTRACK_ESTABLISHED;
	fo_table_apply(table, &e);
	e.has_tcp_state = false;
	fo_table_apply(table, &e);
	ASSERT_EQ(fo_table_offloaded(table), 1, "established and assured");
	e.event = CT_EV_DESTROY;
	fo_table_apply(table, &e);
	ASSERT_EQ(fo_table_offloaded(table), 0, "destroyed: back to the stack");
	PASSES(fx.int_ifindex, &p, FO_STAT_PASS_NOT_OFFLOADED, "after the destroy event");
}

TEST(offload_fin_and_rst_hand_the_flow_back)
{
	fin_hands_back_case(&fam4);
}

TEST(offload_rst_hands_back)
{
	struct pkt_spec rst = tcp(SERVER_1, 80, EXT_ADDR, 25000, 0x04);

	SETUP();
	ct_add(tuple(IPPROTO_TCP, CLIENT_A, 25000, SERVER_1, 80),
	       tuple(IPPROTO_TCP, SERVER_1, 80, EXT_ADDR, 25000));
	rst.payload_len = 0;
	PASSES(fx.ext_ifindex, &rst, FO_STAT_PASS_FIN_RST, "RST to the stack untouched");
}

TEST(offload_ttl_1_goes_to_stack)
{
	struct pkt_spec p = udp(CLIENT_A, 25000, SERVER_1, 7000);

	SETUP();
	masquerade_udp(&fam4);
	p.ttl = 1;	/* the stack answers with time exceeded (RFC 1812 5.3.1) */
	PASSES(fx.int_ifindex, &p, FO_STAT_PASS_TTL, "TTL 1");
}

TEST(offload_ip_options_go_to_stack)
{
	static const uint8_t opts[4] = { 0x94, 0x04, 0, 0 };	/* router alert */
	struct pkt_spec p = udp(CLIENT_A, 25000, SERVER_1, 7000);

	SETUP();
	masquerade_udp(&fam4);
	p.ihl = 6;
	p.ip_opts = opts;
	p.ip_opts_len = sizeof(opts);
	PASSES(fx.int_ifindex, &p, FO_STAT_PASS_IP_OPTIONS, "options");
}

TEST(offload_fragments_go_to_stack)
{
	struct pkt_spec first = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec later = udp(CLIENT_A, 25000, SERVER_1, 7000);

	SETUP();
	masquerade_udp(&fam4);
	first.frag = 0x2000;	/* MF */
	PASSES(fx.int_ifindex, &first, FO_STAT_PASS_FRAGMENT, "first fragment");
	later.frag = 0x0010;	/* offset 128, no ports to match */
	later.proto = IPPROTO_UDP;
	EXPECT(fx.int_ifindex, &later, &later, TC_ACT_OK, "later fragment");
	ASSERT_EQ(fo_stat(FO_STAT_PASS_FRAGMENT), 2, "both counted");
}

TEST(offload_no_neighbour_goes_to_stack)
{
	struct pkt_spec p = udp(CLIENT_A, 25000, STRANGER, 7000);

	SETUP();
	ct_add(tuple(IPPROTO_UDP, CLIENT_A, 25000, STRANGER, 7000),
	       tuple(IPPROTO_UDP, STRANGER, 7000, EXT_ADDR, 25000));
	PASSES(fx.int_ifindex, &p, FO_STAT_PASS_NO_NEIGH, "the stack resolves it");
}

TEST(offload_for_the_router_goes_to_stack)
{
	/* An entry of the router's own traffic (its local address on both
	 * ends of conntrack's tuples): the FIB says local. */
	struct pkt_spec p = udp(SERVER_1, 53, EXT_ADDR, 33000);

	SETUP();
	ct_add(tuple(IPPROTO_UDP, EXT_ADDR, 33000, SERVER_1, 53),
	       tuple(IPPROTO_UDP, SERVER_1, 53, EXT_ADDR, 33000));
	PASSES(fx.ext_ifindex, &p, FO_STAT_PASS_LOCAL, "local delivery");
}

TEST(offload_routed_out_of_another_interface_goes_to_stack)
{
	struct pkt_spec p = udp(CLIENT_A, 25000, OTHER, 7000);

	SETUP();
	ct_add(tuple(IPPROTO_UDP, CLIENT_A, 25000, OTHER, 7000),
	       tuple(IPPROTO_UDP, OTHER, 7000, CLIENT_A, 25000));
	PASSES(fx.int_ifindex, &p, FO_STAT_PASS_OTHER_IF, "not one of -i's");
	EXPECT_XDP(fx.int_ifindex, &p, &p, XDP_PASS, "not one of -i's");
}

TEST(offload_xdp_fin_hands_back)
{
	struct pkt_spec fin = tcp(CLIENT_A, 25000, SERVER_1, 80, 0x11);

	SETUP();
	ct_add(tuple(IPPROTO_TCP, CLIENT_A, 25000, SERVER_1, 80),
	       tuple(IPPROTO_TCP, SERVER_1, 80, EXT_ADDR, 25000));
	EXPECT_XDP(fx.int_ifindex, &fin, &fin, XDP_PASS, "FIN to the stack untouched");
	ASSERT_EQ(fo_stat(FO_STAT_PASS_FIN_RST), 1, "counted");
	EXPECT_XDP(fx.int_ifindex, &fin, &fin, XDP_PASS, "and the flow is gone");
	ASSERT_EQ(fo_stat(FO_STAT_PASS_NOT_OFFLOADED), 1, "not offloaded any more");
}

TEST(offload_other_protocols_go_to_stack)
{
	struct pkt_spec p = { .proto = IPPROTO_ICMP, .saddr = CLIENT_A, .daddr = SERVER_1,
			      .icmp_type = 8, .sport = 7, .payload_len = 16 };

	SETUP();
	PASSES(fx.int_ifindex, &p, FO_STAT_PASS_OTHER_PROTO, "ICMP echo");
}

TEST(offload_counts_and_last_seen_for_the_timeout_refresh)
{
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct run_result r;
	char buf[4096];
	__u32 seq = 0;

	SETUP();
	masquerade_udp(&fam4);
	/* Just offloaded: the entry's timeout and TCP liberal flags are owed. */
	ASSERT_NE(fo_table_pending(table, buf, sizeof(buf), &seq), 0, "an update owed");
	ASSERT_EQ(fo_table_pending(table, buf, sizeof(buf), &seq), 0, "once");
	ASSERT_EQ(fo_table_tick(table, 1, buf, sizeof(buf), &seq), 0, "no packet: no refresh");
	ASSERT_EQ(run_on(fx.int_ifindex, &out, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "forwarded");
	ASSERT_NE(fo_table_tick(table, ~0ull >> 1, buf, sizeof(buf), &seq), 0, "refreshed");
	/* A round later (two seconds on): the packet is not written twice. */
	ASSERT_EQ(fo_table_tick(table, (~0ull >> 1) + 2000000000ull, buf, sizeof(buf), &seq), 0,
		  "once per packet seen");
}

/* The refresh rule (doc/design/offload.md, "Timeouts"): rows of the
 * protocol's timeout, the last packet, conntrack's expiry, now (seconds,
 * as ns below) and the timeout to send (0: none). */
TEST(offload_refresh_rule_writes_an_entry_once_per_timeout_not_once_a_second)
{
	static const struct {
		double base, last, expires, now;
		__u32 want;
		const char *what;
	} rows[] = {
		{ 120, 0, 1100, 1000, 0, "no packet in the offload: the stack's own timeout" },
		{ 120, 999.7, 0, 1000, 120, "expiry unknown: set at once, from the last packet" },
		{ 120, 1000, 1100, 1000, 0, "busy, 100 s left: not yet" },
		{ 120, 999, 1031, 1000, 0, "31 s left: above the 30 s margin" },
		{ 120, 997.5, 1020, 1000, 118, "20 s left: from the last packet, rounded up" },
		{ 120, 950, 1070, 1000, 0, "idle since the last refresh: conntrack has it" },
		{ 120, 950.5, 1070, 1065, 6, "half a second past what conntrack holds: never early" },
		{ 120, 980, 1001, 1000, 100, "1 s left, packets since: the full rest" },
		{ 10, 999, 1006, 1000, 0, "10 s timeout: margin 5 s, 6 left" },
		{ 10, 999, 1004, 1000, 9, "10 s timeout: 4 left" },
		{ 120, 800, 0, 1000, 1, "long idle, expiry unknown: expire now" },
		{ 432000, 1000, 1000 + 431000, 1000, 0, "TCP established: a day in, not yet" },
		{ 432000, 1000, 1020, 1000, 432000, "TCP, 20 s left: five days from the packet" },
	};
	const double ns = 1e9;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		ASSERT_EQ(fo_refresh_timeout(rows[i].base * ns, rows[i].last * ns,
					     rows[i].expires * ns, rows[i].now * ns),
			  rows[i].want, rows[i].what);
}

/* Conntrack's own word on the timeout (an event, a dump) is the expiry the
 * rule starts from: an entry told it has 100 s left is not written while
 * that is far off, then once, from its last packet. */
TEST(offload_event_timeout_spares_the_update)
{
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct ct_entry e = {
		.event = CT_EV_UPDATE, .family = AF_INET, .has_orig = true, .has_reply = true,
		.orig = tuple(IPPROTO_UDP, CLIENT_A, 25000, SERVER_1, 7000),
		.reply = tuple(IPPROTO_UDP, SERVER_1, 7000, EXT_ADDR, 25001),
		.has_status = true, .status = IPS_ASSURED | IPS_CONFIRMED | IPS_SEEN_REPLY,
		.has_timeout = true, .timeout = 100,
	};
	struct run_result r;
	struct timespec ts;
	char buf[4096];
	__u32 seq = 0;
	__u64 now;

	SETUP();
	masquerade_udp(&fam4);
	ASSERT_NE(fo_table_pending(table, buf, sizeof(buf), &seq), 0, "an update owed");
	fo_table_apply(table, &e);	/* 100 s left */
	ASSERT_EQ(run_on(fx.int_ifindex, &out, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "forwarded");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	ASSERT_EQ(fo_table_tick(table, now, buf, sizeof(buf), &seq), 0, "100 s left: no update");
	ASSERT_TRUE(!fo_table_ticking(table), "the round is over");
	ASSERT_EQ(fo_table_offloaded(table), 1, "both directions found by the batch read");
	/* 75 s on (the clock given, not waited), 25 s left: written from the
	 * packet, which asks for 120 from then. */
	ASSERT_NE(fo_table_tick(table, now + 75000000000ull, buf, sizeof(buf), &seq), 0,
		  "refreshed when it runs low");
	ASSERT_EQ(fo_table_tick(table, now + 76000000000ull, buf, sizeof(buf), &seq), 0,
		  "and not again");
}

TEST(offload_mark_filter_and_helpers)
{
	struct ct_entry e = {
		.event = CT_EV_NEW, .family = AF_INET, .has_orig = true, .has_reply = true,
		.orig = tuple(IPPROTO_UDP, CLIENT_A, 25000, SERVER_1, 7000),
		.reply = tuple(IPPROTO_UDP, SERVER_1, 7000, EXT_ADDR, 25000),
		.has_status = true, .status = IPS_ASSURED,
	};
	struct fo_table *t = fo_table_new(&(struct fo_table_cfg){
		.map_fd = -1, .map6_fd = -1, .max_flows = 1, .mark_filter = true, .mark_value = 0x10,
		.mark_mask = 0xf0 });

	ASSERT_TRUE(t, "table");
	ASSERT_TRUE(!fo_eligible(t, &e, -1), "mark 0 is not 0x10/0xf0");
	e.mark = 0x1f;
	ASSERT_TRUE(fo_eligible(t, &e, -1), "mark 0x1f is");
	e.has_helper = true;
	ASSERT_TRUE(!fo_eligible(t, &e, -1), "a helper must see the packets");
	e.has_helper = false;
	e.status |= IPS_SEQ_ADJUST;
	ASSERT_TRUE(!fo_eligible(t, &e, -1), "nor a flow whose sequence numbers NAT shifts");
	fo_table_free(t);
}

/* An entry of conntrack zone `zone`, with or without ASSURED, or its
 * destruction. */
static void ct_zone_entry(struct ct_tuple orig, struct ct_tuple reply, __u16 zone,
			  bool assured, enum ct_event ev)
{
	struct ct_entry e = {
		.event = ev, .family = orig.family, .has_orig = true, .has_reply = true,
		.orig = orig, .reply = reply, .has_status = true,
		.status = IPS_CONFIRMED | IPS_SEEN_REPLY | (assured ? IPS_ASSURED : 0),
		.zone = zone,
	};

	fo_table_apply(table, &e);
}

/*
 * Two zones (two LANs with the same addresses, say) may hold the same
 * tuples, and the datapath's key has no zone (a packet's zone is what the
 * ruleset sets before conntrack): zone 0's flow is offloaded only while no
 * other zone has one of its tuples, and zone 3's never is.
 */
TEST(offload_zones_identical_tuples_never_share_a_flow)
{
	struct ct_tuple o = tuple(IPPROTO_UDP, CLIENT_A, 25000, SERVER_1, 7000);
	struct ct_tuple r = tuple(IPPROTO_UDP, SERVER_1, 7000, EXT_ADDR, 25000);
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec want = hop(udp(EXT_ADDR, 25000, SERVER_1, 7000), FX_EXT0_MAC,
				   FX_SERVER1_MAC);
	char buf[4096];
	__u32 seq = 0;

	SETUP();
	/* Zone 3's entry, not yet assured, is there first. */
	ct_zone_entry(o, r, 3, false, CT_EV_NEW);
	ct_zone_entry(o, r, 0, true, CT_EV_NEW);
	ASSERT_EQ(fo_table_offloaded(table), 0, "zone 0's flow shares zone 3's tuples");
	ASSERT_EQ(fo_table_zone_clashes(table), 1, "counted as a clash");
	PASSES(fx.int_ifindex, &out, FO_STAT_PASS_NOT_OFFLOADED, "the stack tells them apart");
	ct_zone_entry(o, r, 3, true, CT_EV_UPDATE);
	ASSERT_EQ(fo_table_offloaded(table), 0, "zone 3's assured entry is not offloaded");
	/* Zone 3's entry goes: the next round offloads zone 0's. */
	ct_zone_entry(o, r, 3, true, CT_EV_DESTROY);
	fo_table_tick(table, 1, buf, sizeof(buf), &seq);
	ASSERT_EQ(fo_table_offloaded(table), 1, "offloaded once the tuple is zone 0's alone");
	ASSERT_EQ(fo_table_zone_clashes(table), 0, "no clash left");
	EXPECT(fx.int_ifindex, &out, &want, TC_ACT_REDIRECT, "forwarded");
	/* Zone 3 takes the same tuples again (its reply direction is zone 0's
	 * reply: the same NAT): zone 0's flow leaves the fast path at once. */
	ct_zone_entry(tuple(IPPROTO_UDP, CLIENT_B, 25000, SERVER_1, 7000), r, 3, false,
		      CT_EV_NEW);
	ASSERT_EQ(fo_table_offloaded(table), 0, "taken out by the other zone's new entry");
	EXPECT(fx.int_ifindex, &out, &out, TC_ACT_OK, "to the stack again");
}

/* --ct-zone 3: zone 3's flows are offloaded, zone 0's are not. */
TEST(offload_ct_zone_option_offloads_that_zone_only)
{
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec want = hop(udp(EXT_ADDR, 25000, SERVER_1, 7000), FX_EXT0_MAC,
				   FX_SERVER1_MAC);
	struct pkt_spec other = udp(CLIENT_B, 26000, SERVER_1, 7000);

	SETUP();
	fo_table_free(table);
	table = fo_table_new(&(struct fo_table_cfg){
		.map_fd = bpf_map__fd(skel->maps.fo_flows4),
		.map6_fd = bpf_map__fd(skel->maps.fo_flows6), .max_flows = 16,
		.tcp_timeout = 432000, .udp_timeout = 120, .zone = 3 });
	ASSERT_TRUE(table, "table for zone 3");
	ct_zone_entry(tuple(IPPROTO_UDP, CLIENT_A, 25000, SERVER_1, 7000),
		      tuple(IPPROTO_UDP, SERVER_1, 7000, EXT_ADDR, 25000), 3, true, CT_EV_NEW);
	ct_zone_entry(tuple(IPPROTO_UDP, CLIENT_B, 26000, SERVER_1, 7000),
		      tuple(IPPROTO_UDP, SERVER_1, 7000, EXT_ADDR, 26000), 0, true, CT_EV_NEW);
	ASSERT_EQ(fo_table_offloaded(table), 1, "one flow: zone 3's");
	EXPECT(fx.int_ifindex, &out, &want, TC_ACT_REDIRECT, "zone 3's forwarded");
	EXPECT(fx.int_ifindex, &other, &other, TC_ACT_OK, "zone 0's to the stack");
}

/*
 * Held, a burst of new flows is queued and written in batches at the flush
 * (every reply direction, then every original one): nothing before it, all
 * of them after it, and an entry destroyed while queued never.
 */
TEST(offload_installs_in_batches_between_hold_and_flush)
{
	struct pkt_spec a = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec b = udp(CLIENT_B, 26000, SERVER_1, 7000);
	struct pkt_spec c = udp(CLIENT_A, 27000, SERVER_1, 7000);
	struct run_result res;

	SETUP();
	fo_table_hold(table);
	ct_add(tuple(IPPROTO_UDP, CLIENT_A, 25000, SERVER_1, 7000),
	       tuple(IPPROTO_UDP, SERVER_1, 7000, EXT_ADDR, 25000));
	ct_add(tuple(IPPROTO_UDP, CLIENT_B, 26000, SERVER_1, 7000),
	       tuple(IPPROTO_UDP, SERVER_1, 7000, EXT_ADDR, 26000));
	ct_zone_entry(tuple(IPPROTO_UDP, CLIENT_A, 27000, SERVER_1, 7000),
		      tuple(IPPROTO_UDP, SERVER_1, 7000, EXT_ADDR, 27000), 0, true, CT_EV_NEW);
	ct_zone_entry(tuple(IPPROTO_UDP, CLIENT_A, 27000, SERVER_1, 7000),
		      tuple(IPPROTO_UDP, SERVER_1, 7000, EXT_ADDR, 27000), 0, true,
		      CT_EV_DESTROY);
	ASSERT_EQ(fo_table_offloaded(table), 0, "queued, not written yet");
	ASSERT_EQ(run_on(fx.int_ifindex, &a, &res), 0, "run");
	ASSERT_EQ(res.ret, TC_ACT_OK, "not in the map before the flush");
	fo_table_flush(table);
	ASSERT_EQ(fo_table_offloaded(table), 2, "both written at the flush");
	ASSERT_EQ(run_on(fx.int_ifindex, &a, &res), 0, "run");
	ASSERT_EQ(res.ret, TC_ACT_REDIRECT, "the first forwarded");
	ASSERT_EQ(run_on(fx.int_ifindex, &b, &res), 0, "run");
	ASSERT_EQ(res.ret, TC_ACT_REDIRECT, "the second forwarded");
	ASSERT_EQ(run_on(fx.int_ifindex, &c, &res), 0, "run");
	ASSERT_EQ(res.ret, TC_ACT_OK, "the one destroyed while queued never written");
}

/* ---- --vlan: tags on the wire, no VLAN device (IEEE 802.1Q, 802.1ad) ---- */

/* pkt_build's frame with tags (TPID, TCI; outer first) after the MACs. */
static size_t tagged(const struct pkt_spec *s, const __u16 (*tags)[2], int n, uint8_t *buf)
{
	size_t len = pkt_build(s, buf);

	memmove(buf + 12 + 4 * n, buf + 12, len - 12);
	for (int i = 0; i < n; i++) {
		__u16 be[2] = { htons(tags[i][0]), htons(tags[i][1]) };

		memcpy(buf + 12 + 4 * i, be, 4);
	}
	return len + 4 * n;
}

static const __u16 DOT1Q_7[][2] = { { 0x8100, 7 } };
static const __u16 DOT1Q_8[][2] = { { 0x8100, 8 } };
static const __u16 QINQ_100_7[][2] = { { 0x88a8, 100 }, { 0x8100, 7 } };

/* in (n_in tags) through TC (xdp 0) or XDP on ifindex: want (n_want tags). */
#define EXPECT_VLAN(xdp, ifx, in, in_tags, n_in, want, want_tags, n_want, verdict, what) \
	do {								\
		struct __sk_buff _c = { .ifindex = (ifx), .ingress_ifindex = (ifx) }; \
		struct run_result _r;					\
		uint8_t _i[PKT_MAX], _w[PKT_MAX];			\
		size_t _il = tagged(in, in_tags, n_in, _i);		\
		size_t _wl = tagged(want, want_tags, n_want, _w);	\
		ASSERT_EQ(xdp ? run_xdp(bpf_program__fd(xskel->progs.fo_xdp), _i, _il, (ifx), &_r) \
			      : run_prog_ctx(bpf_program__fd(skel->progs.fo_tc_ingress), _i, _il, \
					     &_c, &_r), 0, what ": test run");	\
		ASSERT_EQ(_r.ret, verdict, what ": verdict");		\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what);	\
	} while (0)

/*
 * `-i ext0 --vlan 7`: the masqueraded flow's reply arrives tagged 7 and
 * leaves to the LAN untagged, translated; its outbound packets leave ext0
 * tagged (XDP writes the tag into the frame; TC's egress program pushes
 * it, tested through the relay in test_offload_vlan.py).
 */
static void vlan_case(const __u16 (*tags)[2], int n)
{
	struct pkt_spec in = udp(SERVER_1, 7000, EXT_ADDR, 25001);
	struct pkt_spec in_want = hop(udp(SERVER_1, 7000, CLIENT_A, 25000), FX_INT0_MAC,
				      FX_CLIENT_A_MAC);
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec out_want = hop(udp(EXT_ADDR, 25001, SERVER_1, 7000), FX_EXT0_MAC,
				       FX_SERVER1_MAC);

	SETUP();
	vlan_set(fx.ext_ifindex, (__u32)tags[0][0] << 16 | tags[0][1],
		 n > 1 ? (__u32)tags[1][0] << 16 | tags[1][1] : 0);
	masquerade_udp(&fam4);
	EXPECT_VLAN(0, fx.ext_ifindex, &in, tags, n, &in_want, tags, 0, TC_ACT_REDIRECT,
		    "TC: tags off, reply translated to the LAN");
	EXPECT_VLAN(1, fx.ext_ifindex, &in, tags, n, &in_want, tags, 0, XDP_REDIRECT,
		    "XDP: tags off, reply translated to the LAN");
	EXPECT_VLAN(1, fx.int_ifindex, &out, tags, 0, &out_want, tags, n, XDP_REDIRECT,
		    "XDP: outbound translated, leaves ext0 tagged");
	EXPECT_VLAN(0, fx.int_ifindex, &out, tags, 0, &out_want, tags, 0, TC_ACT_REDIRECT,
		    "TC: outbound translated (ext0's egress program tags it)");
	ASSERT_EQ(fo_stat(FO_STAT_FORWARDED), 4, "all forwarded");
}

TEST(offload_vlan_dot1q_tagged_in_untagged_out_and_back)
{
	vlan_case(DOT1Q_7, 1);
}

TEST(offload_vlan_qinq_tagged_in_untagged_out_and_back)
{
	vlan_case(QINQ_100_7, 2);
}

/* Frames of another VLAN, and untagged ones, on the --vlan link: not the
 * offload's (the flow is offloaded: only the tags differ), untouched. */
TEST(offload_vlan_other_tags_or_none_untouched)
{
	struct pkt_spec in = udp(SERVER_1, 7000, EXT_ADDR, 25001);

	SETUP();
	vlan_set(fx.ext_ifindex, 0x8100u << 16 | 7, 0);
	masquerade_udp(&fam4);
	EXPECT_VLAN(0, fx.ext_ifindex, &in, DOT1Q_8, 1, &in, DOT1Q_8, 1, TC_ACT_OK,
		    "TC: VLAN 8 untouched");
	EXPECT_VLAN(0, fx.ext_ifindex, &in, DOT1Q_8, 0, &in, DOT1Q_8, 0, TC_ACT_OK,
		    "TC: untagged untouched");
	EXPECT_VLAN(0, fx.ext_ifindex, &in, QINQ_100_7, 2, &in, QINQ_100_7, 2, TC_ACT_OK,
		    "TC: QinQ around 7 untouched");
	EXPECT_VLAN(1, fx.ext_ifindex, &in, DOT1Q_8, 1, &in, DOT1Q_8, 1, XDP_PASS,
		    "XDP: VLAN 8 untouched");
	EXPECT_VLAN(1, fx.ext_ifindex, &in, DOT1Q_8, 0, &in, DOT1Q_8, 0, XDP_PASS,
		    "XDP: untagged untouched");
	ASSERT_EQ(fo_stat(FO_STAT_FORWARDED), 0, "none forwarded");
	ASSERT_EQ(fo_stat(FO_STAT_PASS_NOT_IP), 5, "each counted as not ours");
}

/* ct_parse_batch's callback: the last entry and how many. */
static int keep_one(const struct ct_entry *e, void *arg)
{
	struct {
		struct ct_entry e;
		int n;
	} *got = arg;

	got->e = *e;
	got->n++;
	return 0;
}

/* IPv6 (SETUP6): the cases above again, and what only IPv6 has. */
TEST(offload6_masquerade_udp_both_directions)
{
	/* RFC 8200 3: the hop limit one less; the checksum over the new
	 * pseudo-header (8.1), built from scratch by pkt_build. */
	masquerade_udp_case(&fam6);
}

TEST(offload6_dnat_port_forward_tcp_both_directions)
{
	dnat_port_forward_tcp_case(&fam6, CLIENT6_B, FX_CLIENT_B_MAC);
}

TEST(offload6_routed_flow_without_nat_only_forwarded)
{
	/* Plain IPv6 routing, the common case: no NAT, one hop on. */
	struct pkt_spec in = tcp(SERVER6_1, 443, CLIENT6_A, 50000, 0x10);
	struct pkt_spec want = hop(in, FX_INT0_MAC, FX_CLIENT_A_MAC);

	SETUP6();
	ct_add(tuple(IPPROTO_TCP, CLIENT6_A, 50000, SERVER6_1, 443),
	       tuple(IPPROTO_TCP, SERVER6_1, 443, CLIENT6_A, 50000));
	in.tclass = want.tclass = 0x28;
	in.flow_label = want.flow_label = 0x12345;	/* kept as they are */
	EXPECT(fx.ext_ifindex, &in, &want, TC_ACT_REDIRECT, "forwarded as it is");
	EXPECT_XDP(fx.ext_ifindex, &in, &want, XDP_REDIRECT, "forwarded as it is");
}

TEST(offload6_what_goes_to_the_stack)
{
	struct pkt_spec p = udp(CLIENT6_A, 25000, SERVER6_1, 7000);
	struct pkt_spec icmp = { .proto = IPPROTO_ICMPV6, .saddr = CLIENT6_A, .daddr = SERVER6_1,
				 .icmp_type = 128, .sport = 7, .payload_len = 16 };
	struct pkt_spec other = udp(CLIENT6_A, 25002, SERVER6_1, 7000);

	SETUP6();
	masquerade_udp(&fam6);
	p.ttl = 1;	/* the stack sends time exceeded (RFC 4443 3.3) */
	PASSES(fx.int_ifindex, &p, FO_STAT_PASS_TTL, "hop limit 1");
	p.ttl = 0;
	p.ext_hdrs[0] = 0;	/* hop-by-hop options: every router reads them */
	p.nr_ext = 1;
	PASSES(fx.int_ifindex, &p, FO_STAT_PASS_IP_OPTIONS, "hop-by-hop options");
	p.ext_hdrs[0] = 44;	/* a fragment: reassembly is the stack's */
	p.frag6 = 1;
	PASSES(fx.int_ifindex, &p, FO_STAT_PASS_FRAGMENT, "fragment header");
	PASSES(fx.int_ifindex, &icmp, FO_STAT_PASS_OTHER_PROTO, "ICMPv6 echo");
	PASSES(fx.int_ifindex, &other, FO_STAT_PASS_NOT_OFFLOADED, "another flow");
}

TEST(offload6_fin_hands_back_both_directions)
{
	fin_hands_back_case(&fam6);
}

TEST(offload6_timeout_refresh_names_the_ipv6_entry)
{
	struct pkt_spec out = udp(CLIENT6_A, 25000, SERVER6_1, 7000);
	struct ct_tuple want = tuple(IPPROTO_UDP, CLIENT6_A, 25000, SERVER6_1, 7000);
	struct run_result r;
	struct timespec ts;
	char buf[4096];
	__u32 seq = 0;
	size_t n;
	struct {
		struct ct_entry e;
		int n;
	} got = {};

	SETUP6();
	masquerade_udp(&fam6);
	ASSERT_NE(fo_table_pending(table, buf, sizeof(buf), &seq), 0, "an update owed");
	ASSERT_EQ(run_on(fx.int_ifindex, &out, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "forwarded");
	/* Now (bpf_ktime_get_ns's clock): the packet is under a second old. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = fo_table_tick(table, ts.tv_sec * 1000000000ull + ts.tv_nsec, buf, sizeof(buf), &seq);
	ASSERT_NE(n, 0, "refreshed");
	ASSERT_EQ(ct_parse_batch(buf, n, keep_one, &got), 0, "the update decodes");
	ASSERT_EQ(got.n, 1, "one update");
	ASSERT_EQ(got.e.family, AF_INET6, "for an IPv6 entry");
	ASSERT_TRUE(got.e.has_orig && !memcmp(&got.e.orig, &want, sizeof(want)),
		    "named by its original tuple");
	ASSERT_EQ(got.e.timeout, 120, "the UDP stream timeout");
}

TEST(offload_restart_prune_keeps_what_conntrack_still_has)
{
	struct pkt_spec v4 = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec v6 = udp(CLIENT6_A, 25000, SERVER6_1, 7000);
	struct pkt_spec v4b = tcp(CLIENT_B, 26000, SERVER_1, 80, 0x10);
	struct run_result r;

	SETUP6();
	masquerade_udp(&fam4);
	masquerade_udp(&fam6);
	ct_add(tuple(IPPROTO_TCP, CLIENT_B, 26000, SERVER_1, 80),
	       tuple(IPPROTO_TCP, SERVER_1, 80, EXT_ADDR, 26000));
	/* A restart: the datapath's maps kept, user space's table new; the
	 * dump names the IPv6 flow and the TCP one, not the IPv4 UDP one
	 * (conntrack dropped it while no daemon was there). */
	fo_table_release(table);
	table = fo_table_new(&(struct fo_table_cfg){
		.map_fd = bpf_map__fd(skel->maps.fo_flows4),
		.map6_fd = bpf_map__fd(skel->maps.fo_flows6), .max_flows = 16,
		.tcp_timeout = 432000, .udp_timeout = 120 });
	ASSERT_TRUE(table, "new table");
	masquerade_udp(&fam6);
	ct_add(tuple(IPPROTO_TCP, CLIENT_B, 26000, SERVER_1, 80),
	       tuple(IPPROTO_TCP, SERVER_1, 80, EXT_ADDR, 26000));
	ASSERT_EQ(fo_table_prune(table), 2, "both directions of the dropped flow");
	ASSERT_EQ(fo_table_prune(table), 0, "nothing more");
	ASSERT_EQ(run_on(fx.int_ifindex, &v4, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_OK, "the dropped flow goes to the stack");
	ASSERT_EQ(run_on(fx.int_ifindex, &v6, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "the IPv6 flow still offloaded");
	ASSERT_EQ(run_on(fx.int_ifindex, &v4b, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "the TCP flow still offloaded");
}

static void nh_gen(__u32 gen)
{
	skel->bss->fo_nh_gen = gen;
	xskel->bss->fo_nh_gen = gen;
}

/* Every cached hop as if looked up just now. A hop is also dropped after
 * FO_NH_MAX_AGE (about a second), and a slow machine (s390x's interpreter
 * under TCG) can take that long between two packets of the test: with the
 * stamps fresh, whether a packet is looked up depends on fo_nh_gen and its
 * length only, which is what the test is about. */
static void nh_stamps_now(void)
{
	int fd = bpf_map__fd(skel->maps.fo_flows4);
	struct fo_key4 key, next, *prev = NULL;
	struct fo_flow4 v;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* bpf_ktime_get_ns()'s clock */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v) || !v.nh.gen)
			continue;
		v.nh.stamp = (__u32)(((__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec) >> 20);
		bpf_map_update_elem(fd, &key, &v, BPF_EXIST);
	}
}

/* The next hop cached per flow: used while nothing changes (the FIB's
 * neighbour entry changed behind its back stays unseen), dropped when user
 * space says something changed (fo_nh_gen), never for a longer packet than
 * a lookup let through. */
static void nh_cache_case(int xdp)
{
	static const uint8_t moved[6] = { 0x02, 0, 0, 0, 0x01, 0x99 };
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec want = hop(udp(EXT_ADDR, 25001, SERVER_1, 7000), FX_EXT0_MAC,
				   FX_SERVER1_MAC);
	struct pkt_spec want_moved = hop(udp(EXT_ADDR, 25001, SERVER_1, 7000), FX_EXT0_MAC, moved);
	struct pkt_spec longer = out, longer_want = want_moved;
	__u32 verdict = xdp ? XDP_REDIRECT : TC_ACT_REDIRECT;

	longer.payload_len = longer_want.payload_len = 200;
	SETUP();
	fixture_defer(&fx, "ip neigh replace " SERVER_1 " lladdr 02:00:00:00:01:02 dev ext0 "
			   "nud permanent");
	nh_gen(1);
	masquerade_udp(&fam4);
#define RUN_EXPECT(in, w, what)							\
	do {									\
		nh_stamps_now();						\
		if (xdp)							\
			EXPECT_XDP(fx.int_ifindex, in, w, verdict, what);	\
		else								\
			EXPECT(fx.int_ifindex, in, w, verdict, what);		\
	} while (0)
	RUN_EXPECT(&out, &want, "the first packet: a lookup");
	ASSERT_EQ(fo_stat(FO_STAT_NH_CACHED), 0, "nothing cached yet");
	ASSERT_EQ(system("ip neigh replace " SERVER_1 " lladdr 02:00:00:00:01:99 dev ext0 "
			 "nud permanent"), 0, "the neighbour moves");
	RUN_EXPECT(&out, &want, "the second: the cached hop, no lookup");
	ASSERT_EQ(fo_stat(FO_STAT_NH_CACHED), 1, "counted");
	nh_gen(2);	/* what src/offload_nh.c does on the neighbour event */
	RUN_EXPECT(&out, &want_moved, "after the change: looked up again");
	ASSERT_EQ(fo_stat(FO_STAT_NH_CACHED), 1, "not from the cache");
	RUN_EXPECT(&out, &want_moved, "and cached again");
	ASSERT_EQ(fo_stat(FO_STAT_NH_CACHED), 2, "from the cache");
	RUN_EXPECT(&longer, &longer_want, "a longer packet: the MTU is looked up");
	ASSERT_EQ(fo_stat(FO_STAT_NH_CACHED), 2, "not from the cache");
	RUN_EXPECT(&longer, &longer_want, "then cached for that length too");
	ASSERT_EQ(fo_stat(FO_STAT_NH_CACHED), 3, "from the cache");
	ASSERT_EQ(fo_stat(FO_STAT_FORWARDED), 6, "all forwarded");
#undef RUN_EXPECT
	nh_gen(0);
}

TEST(offload_next_hop_cached_until_a_change_tc)
{
	nh_cache_case(0);
}

TEST(offload_next_hop_cached_until_a_change_xdp)
{
	nh_cache_case(1);
}

TEST(offload_loads_in_the_portable_profile)
{
	struct fc_bpf_profile p = { .bounded_loops = true, .static_ctx_funcs = true };
	struct fcnat_offload *s = fcnat_offload__open();

	ASSERT_TRUE(s, "open");
	ASSERT_EQ(bpf_profile_apply_this(s->obj, &s->rodata->fc_no_callbacks, "offload", &p), 0,
		  "bounded-loops,no-kernel-btf applied");
	ASSERT_EQ(fcnat_offload__load(s), 0, "loaded");
	fcnat_offload__destroy(s);
	{
		struct fcnat_offload_xdp *x = fcnat_offload_xdp__open();

		ASSERT_TRUE(x, "open XDP");
		ASSERT_EQ(bpf_profile_apply_this(x->obj, &x->rodata->fc_no_callbacks, "offload XDP",
						 &p), 0, "applied");
		ASSERT_EQ(fcnat_offload_xdp__load(x), 0, "XDP loaded");
		fcnat_offload_xdp__destroy(x);
	}
}
