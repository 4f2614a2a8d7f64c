// SPDX-License-Identifier: GPL-2.0
/*
 * Carrier-grade NAT through BPF_PROG_TEST_RUN: the address pool and paired
 * pooling, the internal scope and excluded destinations, per-subscriber
 * limits, refused flows answered with ICMP admin-prohibited (the whole
 * packet: headers, checksums, the quote), its rate limit, and the counts the
 * sweeper gives back. doc/design/cgnat.md.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcnat/rules.h>

#include "deterministic.h"
#include "fcnat_tc.skel.h"

#include "fixture.h"
#include "harness.h"
#include "spec4.h"

#define SEC_NS		1000000000ULL
#define POOL		"203.0.113.0/30"	/* 203.0.113.0 - .3 */
#define GW_LAN		"192.168.77.1"		/* int0: the errors' source */
#define XDP_PASS_	2
#define XDP_REDIRECT_	4

static void use_pool(const char *prefix)
{
	struct fc_prefix4 *p = &fx.opts.cgnat.pool[fx.opts.cgnat.nr_pool++];

	if (parse_prefix4(prefix, p))
		fprintf(stderr, "bad prefix %s\n", prefix);
	fixture_apply(&fx);
}

static void set_limits(unsigned int tcp, unsigned int udp, unsigned int icmp)
{
	fx.opts.cgnat.limit[FC_SUB_TCP] = tcp;
	fx.opts.cgnat.limit[FC_SUB_UDP] = udp;
	fx.opts.cgnat.limit[FC_SUB_ICMP] = icmp;
	fixture_apply(&fx);
}

/* 203.0.113.<slot> for a subscriber in the 4-address POOL: the slot by the
 * shared hash, which test_rules.c checks against known values. */
static uint32_t expected_pool_addr(const char *subscriber)
{
	union fc_addr a = {};	/* all 16 bytes: { .v4 = x } leaves the rest unspecified */

	a.v4 = ip4(subscriber);
	return htonl(ntohl(ip4("203.0.113.0")) + fc_subscriber_hash(FC_AF_INET, &a) % 4);
}

static uint32_t out_saddr(const struct run_result *r)
{
	uint32_t a;

	memcpy(&a, r->out + 14 + 12, 4);
	return a;
}

static int read_subscriber(const char *addr, struct fc_subscriber *v)
{
	struct fc_subscriber_key k;

	memset(&k, 0, sizeof(k));
	k.family = FC_AF_INET;
	k.addr.v4 = ip4(addr);
	return bpf_map_lookup_elem(loader_subscribers_fd(&fx.loader), &k, v);
}

/* The error fcnat must answer a refused packet `in` with: from the
 * gateway's address towards the host, DF, id 0, TTL 64, ICMP 3/13 quoting
 * the whole refused IP packet (it is short); the Ethernet header is left
 * for bpf_redirect_neigh to write, so it is the refused packet's. */
static struct pkt_spec admin_prohibited(const struct pkt_spec *in)
{
	/* Back out of int0 to the sender, with the MACs the FIB gives. */
	return (struct pkt_spec){ .proto = IPPROTO_ICMP, .saddr = GW_LAN, .daddr = in->saddr,
				  .icmp_type = 3, .icmp_code = 13, .quote = in,
				  .frag = 0x4000, .ip_id_zero = 1, .ttl = 64,
				  .smac = FX_INT0_MAC, .dmac = fx_client_mac(in->saddr) };
}

#define EXPECT_PACKET(prog_fd, in, want, verdict, what) \
	EXPECT_SPEC_FROM(prog_fd, in, FORWARDED_FROM, want, verdict, what)

static const char *addr_str(uint32_t a, char *buf)
{
	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
	return buf;
}

TEST(rfc4787_req2_paired_pool_one_address_for_udp_tcp_icmp)
{
	/* Source ports in the range: preserved, so every output is known. */
	struct pkt_spec u = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec t = { .proto = IPPROTO_TCP, .saddr = CLIENT_A, .sport = 25001,
			      .daddr = SERVER_2, .dport = 80, .tcp_flags = 0x02, .tcp_seq = 1,
			      .payload_len = 4 };
	struct pkt_spec e = { .proto = IPPROTO_ICMP, .saddr = CLIENT_A, .daddr = SERVER_1,
			      .icmp_type = 8, .sport = 25002, .icmp_seq = 1, .payload_len = 8 };
	char pa[INET_ADDRSTRLEN];
	const char *paired = addr_str(expected_pool_addr(CLIENT_A), pa);
	struct pkt_spec wu = u, wt = t, we = e;
	struct fc_subscriber sub;
	struct fc_binding b;
	struct fc_endpoint_key k = { .side = FC_SIDE_INTERNAL, .family = FC_AF_INET,
				     .ext_family = FC_AF_INET, .proto = IPPROTO_UDP };

	use_pool(POOL);
	wu.saddr = wt.saddr = we.saddr = paired;
	EXPECT_PACKET(fx.egress_fd, &u, &wu, TC_ACT_OK, "udp from the paired address");
	EXPECT_PACKET(fx.egress_fd, &t, &wt, TC_ACT_OK, "tcp from the same address");
	EXPECT_PACKET(fx.egress_fd, &e, &we, TC_ACT_OK, "icmp echo from the same address");
	ASSERT_EQ(read_subscriber(CLIENT_A, &sub), 0, "subscriber entry made");
	ASSERT_EQ(sub.ext_addr4, ip4(paired), "entry holds the paired address");
	ASSERT_EQ(sub.mappings[FC_SUB_UDP], 1, "one udp mapping counted");
	ASSERT_EQ(sub.mappings[FC_SUB_TCP], 1, "one tcp mapping counted");
	ASSERT_EQ(sub.mappings[FC_SUB_ICMP], 1, "one icmp mapping counted");
	k.addr.v4 = ip4(CLIENT_A);
	k.port = htons(25000);
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &k, &b), 0, "udp mapping");
	ASSERT_TRUE(b.flags & FC_BINDING_COUNTED, "mapping marked counted");
}

TEST(rfc4787_req2_paired_pool_inbound_to_pool_address_translated)
{
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	char pa[INET_ADDRSTRLEN];
	const char *paired = addr_str(expected_pool_addr(CLIENT_A), pa);
	struct pkt_spec in = udp(SERVER_2, 9000, paired, 25000);
	struct pkt_spec want = udp(SERVER_2, 9000, CLIENT_A, 25000);
	struct pkt_spec other_port = udp(SERVER_2, 9000, paired, 5000);
	struct pkt_spec iface = udp(SERVER_2, 9000, EXT_ADDR, 5000);
	struct run_result r;

	use_pool(POOL);
	ASSERT_EQ(run_spec(fx.egress_fd, &out, &r), 0, "outbound");
	ASSERT_EQ(out_saddr(&r), ip4(paired), "mapped on the pool");
	EXPECT_PACKET(fx.ingress_fd, &in, &want, TC_ACT_OK, "inbound to the pool address (EIF)");
	/* Nothing of the gateway's lives on a pool address: not to the stack,
	 * which would route it back out. The interface's address is still
	 * the gateway's own. */
	EXPECT_PACKET(fx.ingress_fd, &other_port, &other_port, TC_ACT_SHOT,
		      "pool address, port outside the range");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_POOL_UNMAPPED), 1, "drop_pool_unmapped");
	EXPECT_PACKET(fx.ingress_fd, &iface, &iface, TC_ACT_OK, "interface address: the stack's");
}

TEST(rfc6888_req2_pool_spreads_subscribers_by_address_hash)
{
	uint32_t used[4] = {};
	char cl[INET_ADDRSTRLEN];

	use_pool(POOL);
	for (int i = 0; i < 64; i++) {
		struct pkt_spec u;
		struct run_result r;
		uint32_t want;

		snprintf(cl, sizeof(cl), "100.64.0.%d", i + 1);
		u = udp(cl, 25000, SERVER_1, 7000);
		want = expected_pool_addr(cl);
		ASSERT_EQ(run_spec(fx.egress_fd, &u, &r), 0, "run");
		ASSERT_EQ(r.ret, TC_ACT_OK, "translated");
		ASSERT_EQ(out_saddr(&r), want, "the subscriber's slot");
		used[ntohl(want) & 3]++;
	}
	/* 64 subscribers over 4 addresses: every address carries some. */
	for (int a = 0; a < 4; a++)
		ASSERT_TRUE(used[a] >= 8, "each pool address has a fair share");
	ASSERT_EQ(map_count(loader_subscribers_fd(&fx.loader), sizeof(struct fc_subscriber_key)),
		  64, "one entry per subscriber");
}

TEST(rfc4787_req2_paired_pool_non_first_fragment_uses_paired_address)
{
	struct pkt_spec frag = { .proto = IPPROTO_UDP, .saddr = CLIENT_A, .daddr = SERVER_1,
				 .frag = 3, .payload_len = 16 };
	char pa[INET_ADDRSTRLEN];
	struct pkt_spec want = frag;

	use_pool(POOL);
	/* Stateless: the same address its mappings get, mapping or not. */
	want.saddr = addr_str(expected_pool_addr(CLIENT_A), pa);
	EXPECT_PACKET(fx.egress_fd, &frag, &want, TC_ACT_OK, "fragment before any mapping");
}

TEST(internal_prefix_other_sources_pass_untouched)
{
	struct pkt_spec a = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec b = udp(CLIENT_B, 25000, SERVER_1, 7000);
	struct pkt_spec wa = udp(EXT_ADDR, 25000, SERVER_1, 7000);

	fx.opts.cgnat.nr_internal = 1;
	parse_prefix4(CLIENT_A, &fx.opts.cgnat.internal[0]);
	fixture_apply(&fx);
	EXPECT_PACKET(fx.egress_fd, &a, &wa, TC_ACT_OK, "inside the internal prefix");
	EXPECT_PACKET(fx.egress_fd, &b, &b, TC_ACT_OK, "outside: not the NAT's business");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PASS_OUT_OF_SCOPE), 1, "pass_source_out_of_scope");
	ASSERT_EQ(nr_bindings(&fx), 2, "one mapping only");
}

TEST(excluded_destination_passes_untouched)
{
	struct pkt_spec to1 = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec to2 = udp(CLIENT_A, 25000, SERVER_2, 7000);
	struct pkt_spec w1 = udp(EXT_ADDR, 25000, SERVER_1, 7000);

	fx.opts.cgnat.nr_exclude = 1;
	parse_prefix4("198.51.100.3/32", &fx.opts.cgnat.exclude[0]);	/* SERVER_2 */
	fixture_apply(&fx);
	EXPECT_PACKET(fx.egress_fd, &to2, &to2, TC_ACT_OK, "excluded destination");
	ASSERT_EQ(nr_bindings(&fx), 0, "no mapping for it");
	EXPECT_PACKET(fx.egress_fd, &to1, &w1, TC_ACT_OK, "other destinations translated");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PASS_EXCLUDED), 1, "pass_destination_excluded");
}

TEST(rfc6888_req4_limit_refuses_with_exact_icmp_admin_prohibited)
{
	struct pkt_spec f1 = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec f2 = udp(CLIENT_A, 25001, SERVER_1, 7000);
	struct pkt_spec f3 = udp(CLIENT_A, 25002, SERVER_2, 53);
	struct pkt_spec w1 = udp(EXT_ADDR, 25000, SERVER_1, 7000);
	struct pkt_spec w2 = udp(EXT_ADDR, 25001, SERVER_1, 7000);
	struct pkt_spec err = admin_prohibited(&f3);
	struct pkt_spec other = udp(CLIENT_B, 25003, SERVER_1, 7000);
	struct pkt_spec wother = udp(EXT_ADDR, 25003, SERVER_1, 7000);
	struct pkt_spec tcp = { .proto = IPPROTO_TCP, .saddr = CLIENT_A, .sport = 25004,
				.daddr = SERVER_1, .dport = 80, .tcp_flags = 0x02, .tcp_seq = 9 };
	struct pkt_spec wtcp = tcp;
	struct fc_subscriber sub;

	set_limits(0, 2, 0);
	wtcp.saddr = EXT_ADDR;
	EXPECT_PACKET(fx.egress_fd, &f1, &w1, TC_ACT_OK, "first udp mapping");
	EXPECT_PACKET(fx.egress_fd, &f2, &w2, TC_ACT_OK, "second udp mapping");
	EXPECT_PACKET(fx.egress_fd, &f3, &err, TC_ACT_REDIRECT, "third: refused, answered");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_SUBSCRIBER_LIMIT), 1, "drop_subscriber_limit");
	ASSERT_EQ(stat_get(&fx, FC_STAT_REFUSED_ICMP_SENT), 1, "refused_icmp_sent");
	/* Its existing flows, its other protocols, other subscribers: as before. */
	EXPECT_PACKET(fx.egress_fd, &f1, &w1, TC_ACT_OK, "existing flow unaffected");
	EXPECT_PACKET(fx.egress_fd, &tcp, &wtcp, TC_ACT_OK, "tcp has its own allowance");
	EXPECT_PACKET(fx.egress_fd, &other, &wother, TC_ACT_OK, "another subscriber unaffected");
	ASSERT_EQ(read_subscriber(CLIENT_A, &sub), 0, "entry");
	ASSERT_EQ(sub.mappings[FC_SUB_UDP], 2, "udp count stays at the limit");
	ASSERT_EQ(sub.refused, 1, "refusal counted in the entry");
	ASSERT_EQ(nr_bindings(&fx), 2 * 4, "four mappings, none for the refused flow");
}

/* RFC 1812 4.3.2.3: as much of the packet as fits an error of 576 bytes. */
TEST(rfc5508_req8_rfc1812_long_packet_quoted_up_to_548_bytes)
{
	struct pkt_spec big = udp(CLIENT_A, 25001, SERVER_1, 7000);
	struct pkt_spec f1 = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec err = admin_prohibited(&big);
	struct run_result r;

	big.payload_len = 900;
	err.quote_l4_len = 548 - 20;	/* the IP header and 528 bytes after it: 576 in all */
	set_limits(0, 1, 0);
	ASSERT_EQ(run_spec(fx.egress_fd, &f1, &r), 0, "first");
	EXPECT_PACKET(fx.egress_fd, &big, &err, TC_ACT_REDIRECT, "refused, quote cut at 548");
}

TEST(rfc5508_req8_ports_exhausted_answered_with_icmp)
{
	struct pkt_spec a = udp(CLIENT_A, 30000, SERVER_1, 7000);
	struct pkt_spec b = udp(CLIENT_B, 30000, SERVER_1, 7000);
	struct pkt_spec wa = udp(EXT_ADDR, 30000, SERVER_1, 7000);
	struct pkt_spec err = admin_prohibited(&b);

	fx.opts.nr_port_ranges = 1;
	fx.opts.port_ranges[0] = (struct fc_port_range){ 30000, 30000 };
	fixture_apply(&fx);
	EXPECT_PACKET(fx.egress_fd, &a, &wa, TC_ACT_OK, "the only port");
	EXPECT_PACKET(fx.egress_fd, &b, &err, TC_ACT_REDIRECT, "none left: answered");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_PORTS_EXHAUSTED), 1, "drop_ports_exhausted");
	ASSERT_EQ(stat_get(&fx, FC_STAT_REFUSED_ICMP_SENT), 1, "refused_icmp_sent");
}

TEST(refused_icmp_rate_limited_per_cpu)
{
	cpu_set_t one, old;
	struct run_result r;
	int verdicts[4];

	/* The bucket is per CPU: stay on one. */
	sched_getaffinity(0, sizeof(old), &old);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);
	fx.opts.cgnat.refuse_icmp_rate = 2;	/* a burst of 2, then one per 500 ms */
	set_limits(0, 1, 0);
	for (int i = 0; i < 5; i++) {
		struct pkt_spec f = udp(CLIENT_A, 25000 + i, SERVER_1, 7000);

		if (run_spec(fx.egress_fd, &f, &r))
			break;
		if (i)
			verdicts[i - 1] = r.ret;
	}
	sched_setaffinity(0, sizeof(old), &old);
	ASSERT_EQ(verdicts[0], TC_ACT_REDIRECT, "first refusal answered");
	ASSERT_EQ(verdicts[1], TC_ACT_REDIRECT, "second refusal answered");
	ASSERT_EQ(verdicts[2], TC_ACT_SHOT, "third: over the rate, dropped");
	ASSERT_EQ(verdicts[3], TC_ACT_SHOT, "fourth: over the rate, dropped");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_SUBSCRIBER_LIMIT), 4, "all four refused");
	ASSERT_EQ(stat_get(&fx, FC_STAT_REFUSED_ICMP_SENT), 2, "two errors sent");
	ASSERT_EQ(stat_get(&fx, FC_STAT_REFUSED_ICMP_RATELIMITED), 2, "two not sent");
}

TEST(refused_icmp_off_drops_silently)
{
	struct pkt_spec f1 = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec f2 = udp(CLIENT_A, 25001, SERVER_1, 7000);
	struct run_result r;

	fx.opts.cgnat.refuse_icmp_rate = 0;
	set_limits(0, 1, 0);
	ASSERT_EQ(run_spec(fx.egress_fd, &f1, &r), 0, "first");
	EXPECT_PACKET(fx.egress_fd, &f2, &f2, TC_ACT_SHOT, "refused, no error");
	ASSERT_EQ(stat_get(&fx, FC_STAT_REFUSED_ICMP_SENT), 0, "none sent");
	ASSERT_EQ(stat_get(&fx, FC_STAT_REFUSED_ICMP_RATELIMITED), 0, "none limited either");
}

TEST(rfc6888_req4_sweeper_gives_counts_back_and_removes_idle_subscriber)
{
	struct pkt_spec f1 = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec f2 = udp(CLIENT_A, 25001, SERVER_1, 7000);
	struct pkt_spec w2 = udp(EXT_ADDR, 25001, SERVER_1, 7000);
	struct fc_subscriber sub;
	struct gc_result res;
	struct run_result r;
	uint64_t t = now_ns();

	set_limits(0, 1, 0);
	ASSERT_EQ(run_spec(fx.egress_fd, &f1, &r), 0, "first");
	ASSERT_EQ(r.ret, TC_ACT_OK, "first mapped");
	ASSERT_EQ(run_spec(fx.egress_fd, &f2, &r), 0, "second");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "second refused at the limit");
	/* The UDP timeout passes: the sweeper deletes the mapping and gives
	 * its count back. */
	ASSERT_EQ(fixture_sweep(&fx, t + 302 * SEC_NS, &res), 0, "sweep");	/* + the 1 s refresh grace */
	ASSERT_EQ(res.mappings_expired, 1, "mapping expired");
	ASSERT_EQ(read_subscriber(CLIENT_A, &sub), 0, "entry still there");
	ASSERT_EQ(sub.mappings[FC_SUB_UDP], 0, "count given back");
	EXPECT_PACKET(fx.egress_fd, &f2, &w2, TC_ACT_OK, "a new flow fits again");
	ASSERT_EQ(read_subscriber(CLIENT_A, &sub), 0, "entry");
	ASSERT_EQ(sub.mappings[FC_SUB_UDP], 1, "counted again");
	/* Once it has had nothing at two sweeps in a row, its entry goes. */
	/* (The second mapping was made at about t: a sweep as of t + 100 s
	 * sees it alive.) */
	ASSERT_EQ(fixture_sweep(&fx, t + 100 * SEC_NS, &res), 0, "sweep");
	ASSERT_EQ(res.subscribers_live, 1, "busy again");
	ASSERT_EQ(fixture_sweep(&fx, t + 700 * SEC_NS, &res), 0, "sweep");
	ASSERT_EQ(read_subscriber(CLIENT_A, &sub), 0, "idle once: kept");
	ASSERT_EQ(sub.mappings[FC_SUB_UDP], 0, "second mapping gone too");
	ASSERT_EQ(fixture_sweep(&fx, t + 701 * SEC_NS, &res), 0, "sweep");
	ASSERT_EQ(res.subscribers_removed, 1, "idle twice: removed");
	ASSERT_NE(read_subscriber(CLIENT_A, &sub), 0, "entry gone");
}

TEST(release_never_takes_a_count_below_zero)
{
	struct pkt_spec f1 = udp(CLIENT_A, 25000, SERVER_1, 7000);
	union fc_addr a = {};
	int fd = loader_release_fd(&fx.loader);
	struct run_result r;

	a.v4 = ip4(CLIENT_A);

	set_limits(0, 5, 0);
	ASSERT_EQ(run_spec(fx.egress_fd, &f1, &r), 0, "one mapping");
	ASSERT_EQ(gc_release(fd, FC_AF_INET, &a, IPPROTO_UDP, -1), 0, "1 - 1");
	ASSERT_EQ(gc_release(fd, FC_AF_INET, &a, IPPROTO_UDP, -1), 0, "stays at 0");
	ASSERT_EQ(gc_release(fd, FC_AF_INET, &a, IPPROTO_UDP, 3), 3, "0 + 3");
	a.v4 = ip4(CLIENT_B);
	ASSERT_EQ(gc_release(fd, FC_AF_INET, &a, IPPROTO_UDP, -1), -ENOENT, "no such subscriber");
}

TEST(flush_gives_counts_back)
{
	struct pkt_spec f1 = udp(CLIENT_A, 25000, SERVER_1, 7000);
	union fc_addr ext = {};
	struct gc_flush_result fr;
	struct fc_subscriber sub;
	struct run_result r;

	ext.v4 = ip4(EXT_ADDR);

	set_limits(0, 5, 0);
	ASSERT_EQ(run_spec(fx.egress_fd, &f1, &r), 0, "one mapping");
	ASSERT_EQ(gc_flush_addr(fx.bindings_fd, fx.sessions_fd, loader_release_fd(&fx.loader),
				FC_AF_INET, &ext, &fr), 0, "flush");
	ASSERT_EQ(fr.mappings, 1, "flushed");
	ASSERT_EQ(read_subscriber(CLIENT_A, &sub), 0, "entry");
	ASSERT_EQ(sub.mappings[FC_SUB_UDP], 0, "count given back");
}

/* ---- the XDP fast path ---------------------------------------------------- */


TEST(xdp_paired_pool_translated_in_the_fast_path)
{
	struct pkt_spec in = udp(CLIENT_A, 25000, SERVER_1, 7000);
	char pa[INET_ADDRSTRLEN];
	struct pkt_spec want = udp(addr_str(expected_pool_addr(CLIENT_A), pa), 25000, SERVER_1, 7000);
	uint8_t ib[PKT_MAX], wb[PKT_MAX];
	size_t il, wl;
	struct run_result r;

	use_pool(POOL);
	want.smac = FX_EXT0_MAC;
	want.dmac = FX_SERVER1_MAC;
	want.ttl = 63;
	il = pkt_build(&in, ib);
	wl = pkt_build(&want, wb);
	ASSERT_EQ(run_xdp(fx.xdp_int_fd, ib, il, fx.int_ifindex, &r), 0, "run");
	ASSERT_EQ(r.ret, XDP_REDIRECT_, "redirected");
	ASSERT_PKT_EQ(r.out, r.out_len, wb, wl, "from the paired pool address");
}

TEST(xdp_refusal_left_to_tc_which_answers)
{
	struct pkt_spec f1 = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec f2 = udp(CLIENT_A, 25001, SERVER_1, 7000);
	uint8_t b1[PKT_MAX], b2[PKT_MAX];
	size_t l1 = pkt_build(&f1, b1), l2 = pkt_build(&f2, b2);
	struct fc_subscriber sub;
	struct run_result r;

	set_limits(0, 1, 0);
	ASSERT_EQ(run_xdp(fx.xdp_int_fd, b1, l1, fx.int_ifindex, &r), 0, "first");
	ASSERT_EQ(r.ret, XDP_REDIRECT_, "first mapped in XDP");
	ASSERT_EQ(run_xdp(fx.xdp_int_fd, b2, l2, fx.int_ifindex, &r), 0, "second");
	ASSERT_EQ(r.ret, XDP_PASS_, "refused: to the stack");
	ASSERT_PKT_EQ(r.out, r.out_len, b2, l2, "untouched");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_SUBSCRIBER_LIMIT), 0, "not counted in XDP");
	ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_PASS_SLOW_PATH), 1, "fast_pass_slow_path");
	ASSERT_EQ(read_subscriber(CLIENT_A, &sub), 0, "entry");
	ASSERT_EQ(sub.refused, 0, "nor in the entry");
	/* The TC program behind it counts and answers. */
	ASSERT_EQ(run_prog(fx.egress_fd, b2, l2, &r), 0, "tc");
	ASSERT_EQ(r.ret, TC_ACT_REDIRECT, "answered by TC");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_SUBSCRIBER_LIMIT), 1, "counted once");
}

TEST(xdp_out_of_scope_left_to_the_stack)
{
	struct pkt_spec b = udp(CLIENT_B, 25000, SERVER_1, 7000);
	uint8_t bb[PKT_MAX];
	size_t bl = pkt_build(&b, bb);
	struct run_result r;

	fx.opts.cgnat.nr_internal = 1;
	parse_prefix4(CLIENT_A, &fx.opts.cgnat.internal[0]);
	fixture_apply(&fx);
	ASSERT_EQ(run_xdp(fx.xdp_int_fd, bb, bl, fx.int_ifindex, &r), 0, "run");
	ASSERT_EQ(r.ret, XDP_PASS_, "passed");
	ASSERT_PKT_EQ(r.out, r.out_len, bb, bl, "untouched");
	ASSERT_EQ(nr_bindings(&fx), 0, "no mapping");
}

TEST(rfc4787_req9_hairpin_to_pool_address)
{
	struct pkt_spec a_out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	char pa[INET_ADDRSTRLEN], pb[INET_ADDRSTRLEN];
	const char *a_ext = addr_str(expected_pool_addr(CLIENT_A), pa);
	const char *b_ext = addr_str(expected_pool_addr(CLIENT_B), pb);
	struct pkt_spec hp = udp(CLIENT_B, 25001, a_ext, 25000);
	struct pkt_spec want = udp(b_ext, 25001, CLIENT_A, 25000);
	struct run_result r;

	use_pool(POOL);
	want.ttl = 63;
	want.smac = FX_INT0_MAC;
	want.dmac = FX_CLIENT_A_MAC;
	ASSERT_EQ(run_spec(fx.egress_fd, &a_out, &r), 0, "A's mapping");
	EXPECT_PACKET(fx.lan_fd, &hp, &want, TC_ACT_REDIRECT, "B to A's pool mapping, from B's");
}

/*
 * Deterministic NAT (RFC 7422). The plan used below, worked out by hand:
 * internal prefix 192.168.77.0/28 (M = 16 addresses), pool 203.0.113.0/31
 * (N = 2), ports 20000-20063 (P = 64): K = ceil(16 / 2) = 8 subscribers per
 * pool address, 64 / 8 = 8 ports each. Address number i (192.168.77.i)
 * gets 203.0.113.(i % 2) and ports 20000 + (i / 2) * 8 .. + 7.
 */
#define DET_PREFIX	"192.168.77.0/28"
#define DET_POOL	"203.0.113.0/31"
#define DET_FIRST	20000
#define DET_PORTS	8

static void use_deterministic(void)
{
	fx.opts.nr_port_ranges = 1;
	fx.opts.port_ranges[0] = (struct fc_port_range){ DET_FIRST, DET_FIRST + 63 };
	fx.opts.cgnat.det_on = true;
	if (parse_prefix4(DET_PREFIX, &fx.opts.cgnat.det))
		fprintf(stderr, "bad prefix %s\n", DET_PREFIX);
	use_pool(DET_POOL);
}

/* What the comment above says subscriber 192.168.77.i gets. */
static uint32_t det_want_addr(unsigned int i)
{
	return htonl(ntohl(ip4("203.0.113.0")) + i % 2);
}

static uint16_t det_want_first(unsigned int i)
{
	return DET_FIRST + (i / 2) * DET_PORTS;
}

static uint16_t out_sport(const struct run_result *r)
{
	uint16_t p;

	memcpy(&p, r->out + 14 + 20, 2);
	return ntohs(p);
}

TEST(rfc7422_deterministic_ports_stay_in_range_then_refused_with_icmp)
{
	/* 192.168.77.2 = CLIENT_A: i = 2, 203.0.113.0, ports 20008-20015. */
	struct pkt_spec f = udp(CLIENT_A, 40000, SERVER_1, 7000);
	struct pkt_spec err;
	struct run_result r;
	bool seen[DET_PORTS] = { false };

	use_deterministic();
	for (int j = 0; j < DET_PORTS; j++) {
		uint16_t p;

		f.sport = 40000 + j;	/* outside the range: a port is chosen */
		ASSERT_EQ(run_spec(fx.egress_fd, &f, &r), 0, "run");
		ASSERT_EQ(r.ret, TC_ACT_OK, "translated");
		ASSERT_EQ(out_saddr(&r), det_want_addr(2), "from the subscriber's pool address");
		p = out_sport(&r);
		ASSERT_TRUE(p >= det_want_first(2) && p < det_want_first(2) + DET_PORTS,
			    "port inside the subscriber's range");
		ASSERT_TRUE(!seen[p - det_want_first(2)], "each port once");
		seen[p - det_want_first(2)] = true;
	}
	/* All 8 taken: the 9th flow is refused like a limit, and answered. */
	f.sport = 40100;
	err = admin_prohibited(&f);
	EXPECT_PACKET(fx.egress_fd, &f, &err, TC_ACT_REDIRECT, "range full: answered");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_PORTS_EXHAUSTED), 1, "drop_ports_exhausted");
	ASSERT_EQ(stat_get(&fx, FC_STAT_REFUSED_ICMP_SENT), 1, "refused_icmp_sent");
	ASSERT_EQ(nr_bindings(&fx), 2 * DET_PORTS, "no mapping for the refused flow");
	/* Another subscriber on the same address has its own ports. */
	f = udp("192.168.77.4", 40000, SERVER_1, 7000);
	ASSERT_EQ(run_spec(fx.egress_fd, &f, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_OK, "other subscriber translated");
	ASSERT_EQ(out_saddr(&r), det_want_addr(4), "same pool address");
	ASSERT_TRUE(out_sport(&r) >= det_want_first(4) &&
		    out_sport(&r) < det_want_first(4) + DET_PORTS, "its own range");
}

TEST(rfc7422_deterministic_subscribers_never_overlap)
{
	/* Every subscriber of the prefix makes 3 mappings: every external
	 * (address, port) is the formula's and none is handed out twice. */
	bool used[2][64] = { { false } };
	char sa[INET_ADDRSTRLEN];
	struct run_result r;

	use_deterministic();
	for (unsigned int i = 0; i < 16; i++) {
		uint32_t in = htonl(ntohl(ip4("192.168.77.0")) + i);

		for (int j = 0; j < 3; j++) {
			struct pkt_spec f = udp(addr_str(in, sa), 41000 + j, SERVER_1, 7000);
			uint16_t p;
			int x;

			ASSERT_EQ(run_spec(fx.egress_fd, &f, &r), 0, "run");
			ASSERT_EQ(r.ret, TC_ACT_OK, "translated");
			ASSERT_EQ(out_saddr(&r), det_want_addr(i), "the formula's address");
			p = out_sport(&r);
			ASSERT_TRUE(p >= det_want_first(i) && p < det_want_first(i) + DET_PORTS,
				    "the formula's ports");
			x = ntohl(out_saddr(&r)) & 1;
			ASSERT_TRUE(!used[x][p - DET_FIRST], "(address, port) handed out once");
			used[x][p - DET_FIRST] = true;
		}
	}
	ASSERT_EQ(nr_bindings(&fx), 2 * 16 * 3, "all mappings made");
}

TEST(rfc7422_deterministic_port_preserved_only_inside_own_range)
{
	/* CLIENT_A owns 20008-20015: 20009 is kept, 20000 (another's) is not. */
	struct pkt_spec own = udp(CLIENT_A, 20009, SERVER_1, 7000);
	struct pkt_spec other = udp(CLIENT_A, 20000, SERVER_1, 7000);
	struct pkt_spec wown = udp("203.0.113.0", 20009, SERVER_1, 7000);
	struct run_result r;

	use_deterministic();
	EXPECT_PACKET(fx.egress_fd, &own, &wown, TC_ACT_OK, "own port preserved");
	ASSERT_EQ(run_spec(fx.egress_fd, &other, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_OK, "translated");
	ASSERT_TRUE(out_sport(&r) >= det_want_first(2) &&
		    out_sport(&r) < det_want_first(2) + DET_PORTS, "not another's port");
}

TEST(rfc7422_deterministic_source_outside_prefix_dropped)
{
	struct pkt_spec f = udp("192.168.77.200", 40000, SERVER_1, 7000);
	struct run_result r;

	use_deterministic();
	ASSERT_EQ(run_spec(fx.egress_fd, &f, &r), 0, "run");
	ASSERT_EQ(r.ret, TC_ACT_SHOT, "dropped, never leaves with its own address");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_NOT_DETERMINISTIC), 1, "drop_not_deterministic");
	ASSERT_EQ(nr_bindings(&fx), 0, "no mapping");
}

TEST(rfc7422_deterministic_inbound_reaches_subscriber)
{
	struct pkt_spec out = udp(CLIENT_A, 20010, SERVER_1, 7000);
	struct pkt_spec wout = udp("203.0.113.0", 20010, SERVER_1, 7000);
	struct pkt_spec in = udp(STRANGER, 9999, "203.0.113.0", 20010);
	struct pkt_spec win = udp(STRANGER, 9999, CLIENT_A, 20010);

	use_deterministic();
	EXPECT_PACKET(fx.egress_fd, &out, &wout, TC_ACT_OK, "outbound");
	EXPECT_PACKET(fx.ingress_fd, &in, &win, TC_ACT_OK, "inbound (EIF) to the subscriber");
}

TEST(xdp_deterministic_translated_in_the_fast_path)
{
	struct pkt_spec in = udp(CLIENT_A, 20011, SERVER_1, 7000);
	struct pkt_spec want = udp("203.0.113.0", 20011, SERVER_1, 7000);
	uint8_t ib[PKT_MAX], wb[PKT_MAX];
	size_t il, wl;
	struct run_result r;

	use_deterministic();
	want.smac = FX_EXT0_MAC;
	want.dmac = FX_SERVER1_MAC;
	want.ttl = 63;
	il = pkt_build(&in, ib);
	wl = pkt_build(&want, wb);
	ASSERT_EQ(run_xdp(fx.xdp_int_fd, ib, il, fx.int_ifindex, &r), 0, "run");
	ASSERT_EQ(r.ret, XDP_REDIRECT_, "redirected");
	ASSERT_PKT_EQ(r.out, r.out_len, wb, wl, "from the subscriber's address and port");
}

/* The user-space formula (fcnat lookup), at its edges. */
static void det_opts(struct fc_options *o, const char *prefix, const char *const *pool,
		     unsigned int first, unsigned int last)
{
	options_defaults(o);
	o->port_ranges[0] = (struct fc_port_range){ first, last };
	o->cgnat.det_on = true;
	parse_prefix4(prefix, &o->cgnat.det);
	for (; *pool; pool++)
		parse_prefix4(*pool, &o->cgnat.pool[o->cgnat.nr_pool++]);
}

TEST(rfc7422_formula_edges_and_round_trip)
{
	static struct fc_det_plan p;
	static const char *const three[] = { "203.0.113.0/31", "203.0.113.8", NULL };
	static const char *const one[] = { "203.0.113.1", NULL };
	struct fc_options o;
	struct fc_det_entry e, back;
	char err[512];

	/* 16 addresses over 3: K = ceil(16/3) = 6, 64 / 6 = 10 ports, the
	 * top 4 ports (20060-20063) nobody's; the 6th slot holds only i = 15. */
	det_opts(&o, "192.168.77.0/28", three, 20000, 20063);
	ASSERT_EQ(det_plan(&o, &p, err, sizeof(err)), 0, "plan holds");
	ASSERT_EQ(p.per_addr, 6, "K");
	ASSERT_EQ(p.ports, 10, "ports per subscriber");
	ASSERT_EQ(det_forward(&p, ip4("192.168.77.15"), &e), 0, "last address");
	ASSERT_EQ(e.external, ip4("203.0.113.0"), "15 % 3 = 0");
	ASSERT_EQ(e.first, 20050, "slot 5");
	ASSERT_EQ(e.last, 20059, "10 ports");
	ASSERT_EQ(det_forward(&p, ip4("192.168.77.16"), &e), -1, "outside the prefix");
	ASSERT_EQ(det_reverse(&p, ip4("203.0.113.1"), 20050, &e), -1, "i = 16: nobody");
	ASSERT_EQ(det_reverse(&p, ip4("203.0.113.0"), 20060, &e), -1, "leftover port");
	ASSERT_EQ(det_reverse(&p, ip4("203.0.113.2"), 20000, &e), -1, "not a pool address");
	ASSERT_EQ(det_reverse(&p, ip4("203.0.113.0"), 19999, &e), -1, "below the range");
	ASSERT_EQ(det_reverse(&p, ip4("203.0.113.8"), 20019, &e), 0, "pool[2], slot 1");
	ASSERT_EQ(e.internal, ip4("192.168.77.5"), "i = 1 * 3 + 2");
	/* Both ways agree on every address and every one of its ports. */
	for (unsigned int i = 0; i < 16; i++) {
		__be32 a = htonl(ntohl(ip4("192.168.77.0")) + i);

		ASSERT_EQ(det_forward(&p, a, &e), 0, "forward");
		for (unsigned int port = e.first; port <= e.last; port++) {
			ASSERT_EQ(det_reverse(&p, e.external, port, &back), 0, "reverse");
			ASSERT_EQ(back.internal, a, "round trip");
		}
	}
	/* Exactly one port each fits; one port fewer does not. */
	det_opts(&o, "192.168.77.0/28", one, 20000, 20015);
	ASSERT_EQ(det_plan(&o, &p, err, sizeof(err)), 0, "16 ports for 16");
	ASSERT_EQ(p.ports, 1, "one each");
	ASSERT_EQ(det_reverse(&p, ip4("203.0.113.1"), 20015, &e), 0, "the last port");
	ASSERT_EQ(e.internal, ip4("192.168.77.15"), "the last subscriber");
	det_opts(&o, "192.168.77.0/28", one, 20000, 20014);
	ASSERT_EQ(det_plan(&o, &p, err, sizeof(err)), -1, "15 ports for 16: refused");
	ASSERT_TRUE(strstr(err, "do not fit") != NULL, "says why");
	/* Two ranges, no pool: refused with a reason. */
	det_opts(&o, "192.168.77.0/28", one, 20000, 20063);
	o.nr_port_ranges = 2;
	o.port_ranges[1] = (struct fc_port_range){ 30000, 30063 };
	ASSERT_EQ(det_plan(&o, &p, err, sizeof(err)), -1, "two ranges refused");
	det_opts(&o, "192.168.77.0/28", one, 20000, 20063);
	o.cgnat.nr_pool = 0;
	ASSERT_EQ(det_plan(&o, &p, err, sizeof(err)), -1, "no pool refused");
	ASSERT_TRUE(strstr(err, "--pool") != NULL, "names --pool");
}

/*
 * Port blocks (RFC 7753 style). Plan: ports 20000-20063, blocks of 8:
 * 8 blocks on the interface's address, block b = ports 20000 + 8b ..
 * 20000 + 8b + 7; at most 2 per subscriber.
 */
#define PB_FIRST	20000
#define PB_SIZE		8

struct pb_events {
	int alloc, freed, mappings;
	struct fc_event last_alloc, last_free;
};

static int pb_event(void *ctx, void *data, size_t len)
{
	struct pb_events *e = ctx;
	struct fc_event ev;

	if (len < sizeof(ev))
		return 0;
	memcpy(&ev, data, sizeof(ev));
	if (ev.type == FC_EVENT_BLOCK_ALLOC) {
		e->alloc++;
		e->last_alloc = ev;
	} else if (ev.type == FC_EVENT_BLOCK_FREE) {
		e->freed++;
		e->last_free = ev;
	} else if (ev.type == FC_EVENT_MAPPING_CREATE) {
		e->mappings++;
	}
	return 0;
}

/* Everything the datapath reported since the last call. */
static void pb_read_events(struct pb_events *e)
{
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(fx.loader.skel->maps.fc_events),
						  pb_event, e, NULL);

	memset(e, 0, sizeof(*e));
	if (rb) {
		ring_buffer__consume(rb);
		ring_buffer__free(rb);
	}
}

static void use_port_blocks(unsigned int max_blocks)
{
	fx.opts.nr_port_ranges = 1;
	fx.opts.port_ranges[0] = (struct fc_port_range){ PB_FIRST, PB_FIRST + 63 };
	fx.opts.cgnat.block_size = PB_SIZE;
	fx.opts.cgnat.max_blocks = max_blocks;
	fx.opts.log_mappings = true;	/* events on */
	fixture_apply(&fx);
}

/* Map a new UDP flow from src (source port outside the range); its block. */
static int pb_flow(const char *src, uint16_t sport, uint16_t *port)
{
	struct pkt_spec f = udp(src, sport, SERVER_1, 7000);
	struct run_result r;

	if (run_spec(fx.egress_fd, &f, &r) || r.ret != TC_ACT_OK || out_saddr(&r) != ip4(EXT_ADDR))
		return -1;
	*port = out_sport(&r);
	return (*port - PB_FIRST) / PB_SIZE;
}

TEST(rfc7753_ports_stay_in_the_block_second_block_when_full)
{
	struct pb_events ev;
	struct fc_subscriber sub;
	bool seen[PB_SIZE] = { false };
	uint16_t port;
	int b, b2;

	use_port_blocks(2);
	pb_read_events(&ev);	/* drop what earlier tests left */
	b = -1;
	for (int j = 0; j < PB_SIZE; j++) {
		int bj = pb_flow(CLIENT_A, 40000 + j, &port);

		ASSERT_TRUE(bj >= 0 && bj < 8, "mapped into a block");
		if (j == 0)
			b = bj;
		ASSERT_EQ(bj, b, "inside the first block");
		ASSERT_TRUE(!seen[port - PB_FIRST - b * PB_SIZE], "each port once");
		seen[port - PB_FIRST - b * PB_SIZE] = true;
	}
	for (int j = 0; j < PB_SIZE; j++)
		ASSERT_TRUE(seen[j], "the whole block used before another");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PORT_BLOCK_ALLOC), 1, "one block so far");
	b2 = pb_flow(CLIENT_A, 40100, &port);
	ASSERT_TRUE(b2 >= 0 && b2 < 8 && b2 != b, "the 9th mapping opens a second block");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PORT_BLOCK_ALLOC), 2, "port_blocks_allocated");
	ASSERT_EQ(read_subscriber(CLIENT_A, &sub), 0, "entry");
	ASSERT_EQ(sub.port_blocks, 2, "two blocks held");
	/* One event per block, none per mapping beyond the mappings' own. */
	pb_read_events(&ev);
	ASSERT_EQ(ev.alloc, 2, "two block events");
	ASSERT_EQ(ev.mappings, PB_SIZE + 1, "mapping events as before");
	ASSERT_EQ(ev.last_alloc.int_addr.v4, ip4(CLIENT_A), "event: subscriber");
	ASSERT_EQ(ev.last_alloc.ext_addr.v4, ip4(EXT_ADDR), "event: address");
	ASSERT_EQ(ntohs(ev.last_alloc.ext_port), PB_FIRST + b2 * PB_SIZE, "event: first port");
	ASSERT_EQ(ntohs(ev.last_alloc.ext_port_last), PB_FIRST + b2 * PB_SIZE + PB_SIZE - 1,
		  "event: last port");
}

TEST(rfc7753_block_limit_refuses_with_icmp_others_unaffected)
{
	struct pkt_spec over = udp(CLIENT_A, 40200, SERVER_1, 7000);
	struct pkt_spec err = admin_prohibited(&over);
	struct fc_subscriber sub;
	uint16_t port;
	int blocks_a[2] = { -1, -1 }, n = 0, b;

	use_port_blocks(2);
	for (int j = 0; j < 2 * PB_SIZE; j++) {
		b = pb_flow(CLIENT_A, 40000 + j, &port);
		ASSERT_TRUE(b >= 0, "mapped");
		if (b != blocks_a[0] && b != blocks_a[1] && n < 2)
			blocks_a[n++] = b;
		ASSERT_TRUE(b == blocks_a[0] || b == blocks_a[1], "only in its two blocks");
	}
	EXPECT_PACKET(fx.egress_fd, &over, &err, TC_ACT_REDIRECT, "both full, at the limit");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_PORT_BLOCK_LIMIT), 1, "drop_port_block_limit");
	ASSERT_EQ(stat_get(&fx, FC_STAT_REFUSED_ICMP_SENT), 1, "refused_icmp_sent");
	ASSERT_EQ(read_subscriber(CLIENT_A, &sub), 0, "entry");
	ASSERT_EQ(sub.refused, 1, "refusal counted in the entry");
	ASSERT_EQ(sub.port_blocks, 2, "still two");
	/* Another subscriber gets its own block, never one of A's. */
	b = pb_flow(CLIENT_B, 40000, &port);
	ASSERT_TRUE(b >= 0 && b != blocks_a[0] && b != blocks_a[1], "B in a block of its own");
}

TEST(rfc7753_block_freed_by_the_sweeper_once_unused_with_event)
{
	struct pb_events ev;
	struct fc_subscriber sub;
	struct fc_block_key bk = { .ext_addr4 = ip4(EXT_ADDR) };
	struct fc_block blk;
	struct gc_result res;
	uint64_t t = now_ns();
	uint16_t port;
	int b;

	use_port_blocks(2);
	pb_read_events(&ev);
	b = pb_flow(CLIENT_A, 40000, &port);
	ASSERT_TRUE(b >= 0, "mapped");
	bk.index = b;
	ASSERT_EQ(bpf_map_lookup_elem(loader_blocks_fd(&fx.loader), &bk, &blk), 0, "block entry");
	ASSERT_EQ(blk.owner.addr.v4, ip4(CLIENT_A), "owned by A");
	/* The mapping lives: the block stays. */
	ASSERT_EQ(fixture_sweep(&fx, t + 10 * SEC_NS, &res), 0, "sweep");
	ASSERT_EQ(res.blocks_live, 1, "in use");
	ASSERT_EQ(bpf_map_lookup_elem(loader_blocks_fd(&fx.loader), &bk, &blk), 0, "kept");
	/* The UDP timeout passes: mapping and then block go, in one sweep. */
	ASSERT_EQ(fixture_sweep(&fx, t + 302 * SEC_NS, &res), 0, "sweep");	/* + the 1 s refresh grace */
	ASSERT_EQ(res.mappings_expired, 1, "mapping expired");
	ASSERT_EQ(res.blocks_freed, 1, "block freed");
	ASSERT_NE(bpf_map_lookup_elem(loader_blocks_fd(&fx.loader), &bk, &blk), 0, "entry gone");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PORT_BLOCK_FREED), 1, "port_blocks_freed");
	ASSERT_EQ(read_subscriber(CLIENT_A, &sub), 0, "subscriber");
	ASSERT_EQ(sub.port_blocks, 0, "count given back");
	for (int j = 0; j < FC_MAX_PORT_BLOCKS; j++)
		ASSERT_EQ(sub.blocks[j], 0, "no slot holds it");
	pb_read_events(&ev);
	ASSERT_EQ(ev.alloc, 1, "one alloc event");
	ASSERT_EQ(ev.freed, 1, "one free event");
	ASSERT_EQ(ev.last_free.int_addr.v4, ip4(CLIENT_A), "free event: subscriber");
	ASSERT_EQ(ntohs(ev.last_free.ext_port), PB_FIRST + b * PB_SIZE, "free event: first port");
	ASSERT_EQ(ntohs(ev.last_free.ext_port_last), PB_FIRST + b * PB_SIZE + PB_SIZE - 1,
		  "free event: last port");
	/* The subscriber comes back: a block again. */
	ASSERT_TRUE(pb_flow(CLIENT_A, 40001, &port) >= 0, "mapped again");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PORT_BLOCK_ALLOC), 2, "a new block");
}

TEST(rfc7753_block_with_a_mapping_is_never_freed)
{
	struct fc_block_key bk = { .ext_addr4 = ip4(EXT_ADDR) };
	struct fc_subscriber sub;
	uint16_t port;
	int b;

	use_port_blocks(2);
	b = pb_flow(CLIENT_A, 40000, &port);
	ASSERT_TRUE(b >= 0, "mapped");
	bk.index = b;
	/* Asked directly (as if the walk had missed it): the program finds
	 * the mapping and puts the block back. */
	ASSERT_EQ(gc_block_free(loader_block_free_fd(&fx.loader), &bk, now_ns() + 2 * SEC_NS),
		  FC_BLOCK_IN_USE, "in use");
	ASSERT_EQ(read_subscriber(CLIENT_A, &sub), 0, "entry");
	ASSERT_EQ(sub.port_blocks, 1, "still held");
	ASSERT_EQ(pb_flow(CLIENT_A, 40001, &port), b, "still used for new mappings");
	/* A block nobody holds. */
	bk.index = (b + 1) % 8;
	ASSERT_EQ(gc_block_free(loader_block_free_fd(&fx.loader), &bk, now_ns()),
		  FC_BLOCK_GONE, "no such block");
}

TEST(rfc7753_options_checked)
{
	struct fc_options o;
	char err[256];

	options_defaults(&o);
	o.cgnat.block_size = 64;
	ASSERT_EQ(port_blocks_check(&o, err, sizeof(err)), 0, "one range: fine");
	o.cgnat.block_size = 10001;
	ASSERT_EQ(port_blocks_check(&o, err, sizeof(err)), -1, "larger than the range");
	o.cgnat.block_size = 64;
	o.cgnat.det_on = true;
	ASSERT_EQ(port_blocks_check(&o, err, sizeof(err)), -1, "not with deterministic");
	o.cgnat.det_on = false;
	o.nr_port_ranges = 2;
	o.port_ranges[1] = (struct fc_port_range){ 30000, 30999 };
	ASSERT_EQ(port_blocks_check(&o, err, sizeof(err)), -1, "two ranges");
	options_defaults(&o);
	o.cgnat.max_blocks = 3;
	ASSERT_EQ(port_blocks_check(&o, err, sizeof(err)), -1, "a limit without blocks");
}
