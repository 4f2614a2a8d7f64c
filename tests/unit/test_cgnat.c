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

#include "fcnat_tc.skel.h"
#include "fixture.h"
#include "harness.h"

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

/* The same mixing as subscriber_hash() in bpf/lib/subscriber.h, written
 * again here: the pool slot a subscriber must get. */
static uint32_t expected_hash(uint8_t family, const union fc_addr *a)
{
	uint32_t h = family;

	for (int i = 0; i < 4; i++) {
		uint32_t w = a->v6w[i];

		w ^= w >> 16;
		w *= 0x85ebca6b;
		w ^= w >> 13;
		w *= 0xc2b2ae35;
		w ^= w >> 16;
		h = (h ^ w) * 0x9e3779b1;
		h ^= h >> 15;
	}
	return h;
}

/* 203.0.113.<slot> for a subscriber in the 4-address POOL. */
static uint32_t expected_pool_addr(const char *subscriber)
{
	union fc_addr a = { .v4 = ip4(subscriber) };

	return htonl(ntohl(ip4("203.0.113.0")) + expected_hash(FC_AF_INET, &a) % 4);
}

static struct pkt_spec udp(const char *sa, uint16_t sp, const char *da, uint16_t dp)
{
	return (struct pkt_spec){ .proto = IPPROTO_UDP, .saddr = sa, .sport = sp,
				  .daddr = da, .dport = dp, .payload_len = 22 };
}

static int run_spec(int prog_fd, const struct pkt_spec *in, struct run_result *r)
{
	uint8_t buf[PKT_MAX];
	size_t len = pkt_build(in, buf);

	return run_prog(prog_fd, buf, len, r);
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

#define EXPECT_PACKET(prog_fd, in, want, verdict, what)			\
	do {								\
		struct run_result _r;					\
		uint8_t _w[PKT_MAX];					\
		size_t _wl = pkt_build(want, _w);			\
		ASSERT_EQ(run_spec(prog_fd, in, &_r), 0, what ": test run"); \
		ASSERT_EQ(_r.ret, verdict, what ": verdict");		\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what);	\
	} while (0)

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
				     .proto = IPPROTO_UDP };

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

TEST(rfc5508_req8_long_packet_quoted_up_to_512_bytes)
{
	struct pkt_spec big = udp(CLIENT_A, 25001, SERVER_1, 7000);
	struct pkt_spec f1 = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec err = admin_prohibited(&big);
	struct run_result r;

	big.payload_len = 900;
	err.quote_l4_len = 512 - 20;	/* the IP header and 492 bytes after it */
	set_limits(0, 1, 0);
	ASSERT_EQ(run_spec(fx.egress_fd, &f1, &r), 0, "first");
	EXPECT_PACKET(fx.egress_fd, &big, &err, TC_ACT_REDIRECT, "refused, quote cut at 512");
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
	ASSERT_EQ(fixture_sweep(&fx, t + 301 * SEC_NS, &res), 0, "sweep");
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
	union fc_addr a = { .v4 = ip4(CLIENT_A) };
	int fd = loader_release_fd(&fx.loader);
	struct run_result r;

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
	union fc_addr ext = { .v4 = ip4(EXT_ADDR) };
	struct gc_flush_result fr;
	struct fc_subscriber sub;
	struct run_result r;

	set_limits(0, 5, 0);
	ASSERT_EQ(run_spec(fx.egress_fd, &f1, &r), 0, "one mapping");
	ASSERT_EQ(gc_flush_addr(fx.bindings_fd, fx.sessions_fd, loader_release_fd(&fx.loader),
				FC_AF_INET, &ext, &fr), 0, "flush");
	ASSERT_EQ(fr.mappings, 1, "flushed");
	ASSERT_EQ(read_subscriber(CLIENT_A, &sub), 0, "entry");
	ASSERT_EQ(sub.mappings[FC_SUB_UDP], 0, "count given back");
}

/* ---- the XDP fast path ---------------------------------------------------- */

static const uint8_t ext0_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };
static const uint8_t server1_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x02 };

TEST(xdp_paired_pool_translated_in_the_fast_path)
{
	struct pkt_spec in = udp(CLIENT_A, 25000, SERVER_1, 7000);
	char pa[INET_ADDRSTRLEN];
	struct pkt_spec want = udp(addr_str(expected_pool_addr(CLIENT_A), pa), 25000, SERVER_1, 7000);
	uint8_t ib[PKT_MAX], wb[PKT_MAX];
	size_t il, wl;
	struct run_result r;

	use_pool(POOL);
	want.smac = ext0_mac;
	want.dmac = server1_mac;
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
