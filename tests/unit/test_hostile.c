// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile input and load (issue 11): a flood of unsolicited inbound packets
 * from spoofed sources, an exhausted port range and the safe reuse of its
 * ports after expiry, and a SYN flood from one internal host.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <bpf/bpf.h>

#include "fixture.h"
#include "gc.h"
#include "harness.h"

#define SEC_NS 1000000000ULL

static uint32_t rng_state = 0x2545f491;

static uint32_t rnd(void)
{
	/* xorshift32: reproducible, no libc state */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* One packet through prog, `repeat` times in one syscall. */
static int run_repeat(int prog_fd, const uint8_t *in, size_t len, unsigned int repeat,
		      struct run_result *r)
{
	struct __sk_buff ctx = { .ingress_ifindex = FORWARDED_FROM };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = in,
		.data_size_in = len,
		.data_out = r->out,
		.data_size_out = sizeof(r->out),
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = repeat,
	);

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -1;
	r->ret = opts.retval;
	r->out_len = opts.data_size_out;
	return 0;
}

/* Outbound packet; the external source port it left with, 0 if refused. */
static uint16_t out_pkt(uint8_t proto, const char *client, uint16_t sport, const char *server,
			uint16_t dport, uint8_t tcp_flags)
{
	struct pkt_spec s = { .proto = proto, .saddr = client, .sport = sport, .daddr = server,
			      .dport = dport, .tcp_flags = tcp_flags, .tcp_seq = 1000,
			      .payload_len = 8 };
	uint8_t buf[PKT_MAX];
	struct run_result r;
	size_t len = pkt_build(&s, buf);

	if (run_prog(fx.egress_fd, buf, len, &r) || r.ret != TC_ACT_OK)
		return 0;
	return (r.out[34] << 8) | r.out[35];
}

/* Inbound packet to the external address; the internal address it was
 * delivered to (network order), 0 if dropped. *dport_out: its new port. */
static uint32_t in_pkt(uint8_t proto, const char *remote, uint16_t sport, uint16_t ext_port,
		       uint8_t tcp_flags, uint16_t *dport_out)
{
	struct pkt_spec s = { .proto = proto, .saddr = remote, .sport = sport, .daddr = EXT_ADDR,
			      .dport = ext_port, .tcp_flags = tcp_flags, .tcp_seq = 5000,
			      .tcp_ack = 1001, .payload_len = 8 };
	uint8_t buf[PKT_MAX];
	struct run_result r;
	size_t len = pkt_build(&s, buf);
	uint32_t a;

	if (run_prog(fx.ingress_fd, buf, len, &r) || r.ret != TC_ACT_OK)
		return 0;
	memcpy(&a, r.out + 30, 4);
	if (a == ip4(EXT_ADDR))
		return 0;	/* passed untranslated */
	if (dport_out)
		*dport_out = (r.out[36] << 8) | r.out[37];
	return a;
}

#define SNAP_MAX 16

struct snapshot {
	size_t nb, ns;
	struct fc_endpoint_key bk[SNAP_MAX];
	struct fc_binding bv[SNAP_MAX];
	struct fc_session_key sk[SNAP_MAX];
	struct fc_session sv[SNAP_MAX];
};

static void snap_take(struct snapshot *s)
{
	struct fc_endpoint_key bk;
	struct fc_session_key sk;
	void *prev = NULL;

	memset(s, 0, sizeof(*s));
	while (s->nb < SNAP_MAX && !bpf_map_get_next_key(fx.bindings_fd, prev, &bk)) {
		s->bk[s->nb] = bk;
		bpf_map_lookup_elem(fx.bindings_fd, &bk, &s->bv[s->nb]);
		prev = &s->bk[s->nb++];
	}
	prev = NULL;
	while (s->ns < SNAP_MAX && !bpf_map_get_next_key(fx.sessions_fd, prev, &sk)) {
		s->sk[s->ns] = sk;
		bpf_map_lookup_elem(fx.sessions_fd, &sk, &s->sv[s->ns]);
		prev = &s->sk[s->ns++];
	}
}

/* Every element of the snapshot still there with the same value. */
static size_t snap_changed(const struct snapshot *s)
{
	size_t changed = 0;

	for (size_t i = 0; i < s->nb; i++) {
		struct fc_binding v;

		changed += bpf_map_lookup_elem(fx.bindings_fd, &s->bk[i], &v) ||
			   memcmp(&v, &s->bv[i], sizeof(v));
	}
	for (size_t i = 0; i < s->ns; i++) {
		struct fc_session v;

		changed += bpf_map_lookup_elem(fx.sessions_fd, &s->sk[i], &v) ||
			   memcmp(&v, &s->sv[i], sizeof(v));
	}
	return changed;
}

#define FLOOD_DISTINCT	20000	/* distinct spoofed packets ... */
#define FLOOD_REPEAT	50	/* ... each run this many times: 1 000 000 */

TEST(flood_1m_unsolicited_inbound_creates_no_state_live_sessions_untouched)
{
	static uint8_t pkts[FLOOD_DISTINCT][128];
	static size_t lens[FLOOD_DISTINCT];
	static bool in_range[FLOOD_DISTINCT];
	uint16_t udp_port, tcp_port, got_port = 0;
	unsigned long n_in = 0, n_out = 0, bad_verdict = 0, altered = 0;
	struct snapshot before;
	struct run_result r;
	uint64_t t0, t1;

	/* Live state: a UDP mapping of A and an established TCP connection of B. */
	udp_port = out_pkt(IPPROTO_UDP, CLIENT_A, 25000, SERVER_1, 7000, 0);
	ASSERT_NE(udp_port, 0, "A's UDP mapping");
	tcp_port = out_pkt(IPPROTO_TCP, CLIENT_B, 40000, SERVER_2, 443, 0x02);
	ASSERT_NE(tcp_port, 0, "B's TCP mapping");
	ASSERT_EQ(in_pkt(IPPROTO_TCP, SERVER_2, 443, tcp_port, 0x12, NULL), ip4(CLIENT_B),
		  "SYN-ACK reaches B");
	ASSERT_NE(out_pkt(IPPROTO_TCP, CLIENT_B, 40000, SERVER_2, 443, 0x10), 0, "B's ACK");
	snap_take(&before);
	ASSERT_EQ(before.nb, 4, "two mappings (two entries each)");
	ASSERT_EQ(before.ns, 2, "two sessions");
	{
		int ncpu = libbpf_num_possible_cpus();
		uint64_t zeros[ncpu];

		memset(zeros, 0, sizeof(zeros));
		for (uint32_t k = 0; k < FC_STAT_MAX; k++)
			bpf_map_update_elem(fx.stats_fd, &k, zeros, BPF_ANY);
	}

	/* Spoofed sources, random remote ports; destination ports half in the
	 * range (never a live mapping's: that one would be EIF's to admit),
	 * half outside it; UDP, TCP SYN and TCP ACK. */
	for (int i = 0; i < FLOOD_DISTINCT; i++) {
		struct pkt_spec s = { .daddr = EXT_ADDR, .payload_len = rnd() % 64 };
		struct in_addr src = { .s_addr = rnd() };
		char saddr[INET_ADDRSTRLEN];
		uint8_t buf[PKT_MAX];
		uint16_t dport;

		do {
			dport = i % 2 ? 20000 + rnd() % 10000 : 1 + rnd() % 19999;
			if (!(i % 2) && rnd() % 2)
				dport = 30000 + rnd() % 35536;
		} while (dport == udp_port || dport == tcp_port);
		in_range[i] = dport >= 20000 && dport <= 29999;
		inet_ntop(AF_INET, &src, saddr, sizeof(saddr));
		s.saddr = saddr;
		s.sport = 1 + rnd() % 65535;
		s.dport = dport;
		switch (i % 3) {
		case 0:
			s.proto = IPPROTO_UDP;
			break;
		case 1:
			s.proto = IPPROTO_TCP;
			s.tcp_flags = 0x02;
			break;
		default:
			s.proto = IPPROTO_TCP;
			s.tcp_flags = 0x10;
			s.tcp_seq = rnd();
			s.tcp_ack = rnd();
			break;
		}
		/* pkt_build may use all of PKT_MAX: built aside, then copied. */
		lens[i] = pkt_build(&s, buf);
		memcpy(pkts[i], buf, lens[i]);
		if (in_range[i])
			n_in += FLOOD_REPEAT;
		else
			n_out += FLOOD_REPEAT;
	}

	t0 = now_ns();
	for (int i = 0; i < FLOOD_DISTINCT; i++) {
		if (run_repeat(fx.ingress_fd, pkts[i], lens[i], FLOOD_REPEAT, &r)) {
			bad_verdict++;
			continue;
		}
		bad_verdict += r.ret != (in_range[i] ? TC_ACT_SHOT : TC_ACT_OK);
		if (!in_range[i])
			altered += r.out_len != lens[i] || memcmp(r.out, pkts[i], lens[i]);
	}
	t1 = now_ns();
	printf("    flood: %lu packets (%lu to the range, %lu outside) in %.2f s: %.2f M packets/s\n",
	       n_in + n_out, n_in, n_out, (t1 - t0) / 1e9, (n_in + n_out) * 1e3 / (t1 - t0));

	ASSERT_EQ(n_in + n_out, FLOOD_DISTINCT * FLOOD_REPEAT, "packets in the flood");
	ASSERT_EQ(bad_verdict, 0, "in range dropped, outside passed");
	ASSERT_EQ(altered, 0, "packets outside the range passed untouched");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), n_in, "drop_unsolicited");
	ASSERT_EQ(stat_get(&fx, FC_STAT_PASS_OUT_OF_RANGE), n_out, "pass_out_of_range");
	ASSERT_EQ(stat_get(&fx, FC_STAT_IN_TRANSLATED), 0, "nothing translated");
	ASSERT_EQ(stat_get(&fx, FC_STAT_MAPPING_CREATED), 0, "no mapping created");
	ASSERT_EQ(stat_get(&fx, FC_STAT_SESSION_CREATED), 0, "no session created");
	ASSERT_EQ(nr_bindings(&fx), before.nb, "bindings count unchanged");
	ASSERT_EQ(nr_sessions(&fx), before.ns, "sessions count unchanged");
	ASSERT_EQ(snap_changed(&before), 0, "live mappings and sessions (expiries) unchanged");

	/* The live flows still translate both ways, on the same ports. */
	ASSERT_EQ(in_pkt(IPPROTO_UDP, SERVER_1, 7000, udp_port, 0, &got_port), ip4(CLIENT_A),
		  "UDP inbound reaches A");
	ASSERT_EQ(got_port, 25000, "A's port");
	ASSERT_EQ(out_pkt(IPPROTO_UDP, CLIENT_A, 25000, SERVER_1, 7000, 0), udp_port,
		  "A goes out on the same port");
	ASSERT_EQ(in_pkt(IPPROTO_TCP, SERVER_2, 443, tcp_port, 0x10, &got_port), ip4(CLIENT_B),
		  "TCP inbound reaches B");
	ASSERT_EQ(got_port, 40000, "B's port");
	ASSERT_EQ(out_pkt(IPPROTO_TCP, CLIENT_B, 40000, SERVER_2, 443, 0x10), tcp_port,
		  "B goes out on the same port");
}

static void small_range(uint16_t first, uint16_t last)
{
	fx.opts.nr_port_ranges = 1;
	fx.opts.port_ranges[0].first = first;
	fx.opts.port_ranges[0].last = last;
	fx.opts.timeout_s[FC_TIMEOUT_UDP] = 2;
	fixture_apply(&fx);
}

#define HOSTS 4

TEST(exhausted_range_refuses_new_flows_keeps_old_then_reuses_ports_safely)
{
	static const char *const old_host[HOSTS] = { "192.168.77.10", "192.168.77.11",
						     "192.168.77.12", "192.168.77.13" };
	static const char *const new_host = "192.168.77.20";
	uint16_t port[HOSTS], got = 0, p;
	struct gc_result res;
	uint64_t t;

	small_range(20000, 20000 + HOSTS - 1);
	/* Source ports outside the range: fcnat picks the external one. */
	for (int i = 0; i < HOSTS; i++) {
		port[i] = out_pkt(IPPROTO_UDP, old_host[i], 5000, SERVER_1, 7000, 0);
		ASSERT_TRUE(port[i] >= 20000 && port[i] < 20000 + HOSTS, "a port of the range");
		for (int j = 0; j < i; j++)
			ASSERT_NE(port[i], port[j], "ports not shared");
	}
	t = now_ns();

	/* Full: a new host, and a new flow of an old host, are refused. */
	ASSERT_EQ(out_pkt(IPPROTO_UDP, new_host, 5000, SERVER_1, 7000, 0), 0, "new host refused");
	ASSERT_EQ(out_pkt(IPPROTO_UDP, old_host[0], 5001, SERVER_1, 7000, 0), 0,
		  "new endpoint of an old host refused");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_PORTS_EXHAUSTED), 2, "drop_ports_exhausted");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_TABLE_FULL), 0, "not counted as table full");
	ASSERT_EQ(nr_bindings(&fx), 2 * HOSTS, "no state for the refused flows");
	ASSERT_EQ(nr_sessions(&fx), HOSTS, "one session per old flow");

	/* The existing flows keep working both ways, EIF included. */
	for (int i = 0; i < HOSTS; i++) {
		ASSERT_EQ(out_pkt(IPPROTO_UDP, old_host[i], 5000, SERVER_1, 7000, 0), port[i],
			  "old flow out, same port");
		ASSERT_EQ(in_pkt(IPPROTO_UDP, SERVER_1, 7000, port[i], 0, &got), ip4(old_host[i]),
			  "old flow in");
		ASSERT_EQ(got, 5000, "to its port");
		ASSERT_EQ(in_pkt(IPPROTO_UDP, SERVER_2, 9000 + i, port[i], 0, NULL), ip4(old_host[i]),
			  "a new remote reaches the old host (EIF)");
	}

	/* Everything expires (UDP 2 s) and is swept. */
	ASSERT_EQ(fixture_sweep(&fx, t + 60 * SEC_NS, &res), 0, "sweep");
	ASSERT_EQ(res.mappings_expired, HOSTS, "mappings expired");
	ASSERT_EQ(nr_bindings(&fx), 0, "no binding left, either side");
	ASSERT_EQ(nr_sessions(&fx), 0, "no session left");

	/* The new host gets a freed port; inbound to it reaches the new host,
	 * from the old host's remote too, never an old host. */
	p = out_pkt(IPPROTO_UDP, new_host, 5000, SERVER_1, 7000, 0);
	ASSERT_TRUE(p >= 20000 && p < 20000 + HOSTS, "new host gets a port of the range");
	ASSERT_EQ(in_pkt(IPPROTO_UDP, SERVER_1, 7000, p, 0, &got), ip4(new_host),
		  "the old remote reaches the new host");
	ASSERT_EQ(got, 5000, "the new host's port");
	ASSERT_EQ(in_pkt(IPPROTO_UDP, STRANGER, 7777, p, 0, NULL), ip4(new_host),
		  "any remote reaches the new host (EIF)");
	/* The other freed ports deliver nowhere: no stale reverse entry. */
	for (int i = 0; i < HOSTS; i++) {
		if (port[i] == p)
			continue;
		ASSERT_EQ(in_pkt(IPPROTO_UDP, SERVER_1, 7000, port[i], 0, NULL), 0,
			  "a freed port delivers to nobody");
	}
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_UNSOLICITED), HOSTS - 1, "counted as unsolicited");
	/* The rest of the range fills again, one port each, then refuses. */
	for (int i = 1; i < HOSTS; i++)
		ASSERT_NE(out_pkt(IPPROTO_UDP, old_host[i], 6000, SERVER_2, 7000, 0), 0,
			  "a freed port for another flow");
	ASSERT_EQ(out_pkt(IPPROTO_UDP, old_host[0], 6000, SERVER_2, 7000, 0), 0, "full again");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_PORTS_EXHAUSTED), 3, "drop_ports_exhausted");
	ASSERT_EQ(nr_bindings(&fx), 2 * HOSTS, "twins for every new mapping");
}

/* A range smaller than the allocator's attempts hands out every one of its
 * ports, the last free one included (RFC 4787 REQ-1/RFC 6056 §3.3.1: walked
 * from a random start): independent random draws missed it about every
 * other fill of 63 ports, so ten fills in a row prove the walk. */
TEST(small_range_hands_out_every_port_the_last_one_too)
{
	enum { PORTS = 63, ROUNDS = 10 };

	for (int round = 0; round < ROUNDS; round++) {
		uint64_t seen[2] = { 0, 0 };

		fixture_reset(&fx);
		small_range(20000, 20000 + PORTS - 1);
		for (int i = 0; i < PORTS; i++) {
			uint16_t p = out_pkt(IPPROTO_UDP, CLIENT_A, 5000 + i, SERVER_1, 7000, 0);

			ASSERT_TRUE(p >= 20000 && p < 20000 + PORTS, "a port of the range, every time");
			ASSERT_TRUE(!(seen[(p - 20000) / 64] & 1ULL << ((p - 20000) % 64)),
				    "never one already handed out");
			seen[(p - 20000) / 64] |= 1ULL << ((p - 20000) % 64);
		}
		ASSERT_EQ(out_pkt(IPPROTO_UDP, CLIENT_A, 6000, SERVER_1, 7000, 0), 0,
			  "then full: refused");
		ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_PORTS_EXHAUSTED), 1, "counted once");
	}
}

#define SYN_FLOOD 2000

TEST(syn_flood_from_one_host_exhausts_the_shared_range_no_per_host_limit)
{
	unsigned long ok = 0;

	small_range(20000, 20015);
	/* B's own flow, made before the flood, keeps working. */
	uint16_t b_port = out_pkt(IPPROTO_TCP, CLIENT_B, 40000, SERVER_2, 443, 0x02);

	ASSERT_NE(b_port, 0, "B's connection before the flood");
	for (int i = 0; i < SYN_FLOOD; i++)
		ok += out_pkt(IPPROTO_TCP, CLIENT_A, 30000 + i, SERVER_1, 80, 0x02) != 0;
	ASSERT_EQ(ok, 15, "A took every free port of the range");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_PORTS_EXHAUSTED), SYN_FLOOD - 15,
		  "the rest refused and counted");
	ASSERT_EQ(nr_bindings(&fx), 2 * 16, "bindings bounded by the range");
	/* Without a per-subscriber limit (the default) another host's new flow is
	 * refused too: this documents today's behaviour. */
	ASSERT_EQ(out_pkt(IPPROTO_TCP, CLIENT_B, 40001, SERVER_2, 443, 0x02), 0,
		  "B's new connection refused: ports exhausted by A");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_PORTS_EXHAUSTED), SYN_FLOOD - 15 + 1, "counted");
	/* B's existing flow is untouched. */
	ASSERT_EQ(out_pkt(IPPROTO_TCP, CLIENT_B, 40000, SERVER_2, 443, 0x02), b_port,
		  "B's old connection keeps its port");
	ASSERT_EQ(in_pkt(IPPROTO_TCP, SERVER_2, 443, b_port, 0x12, NULL), ip4(CLIENT_B),
		  "and is reached from outside");
}

/* With a per-subscriber limit (issue 9), the same flood stops at A's own
 * allowance: B still gets new ports (RFC 6888 REQ-4), and every refusal of
 * A's is counted as A's, answered with ICMP (rate-limited), not as the
 * range running out. */
TEST(rfc6888_req4_syn_flood_from_one_host_stops_at_its_limit_others_unaffected)
{
	unsigned long ok = 0, b_new = 0;

	small_range(20000, 20015);
	fx.opts.cgnat.limit[FC_SUB_TCP] = 8;
	fixture_apply(&fx);
	for (int i = 0; i < SYN_FLOOD; i++)
		ok += out_pkt(IPPROTO_TCP, CLIENT_A, 30000 + i, SERVER_1, 80, 0x02) != 0;
	ASSERT_EQ(ok, 8, "A got its allowance, no more");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_SUBSCRIBER_LIMIT), SYN_FLOOD - 8,
		  "the rest refused as over A's limit");
	ASSERT_EQ(stat_get(&fx, FC_STAT_DROP_PORTS_EXHAUSTED), 0, "the range never ran out");
	ASSERT_NE(stat_get(&fx, FC_STAT_REFUSED_ICMP_SENT), 0, "refusals answered");
	ASSERT_EQ(stat_get(&fx, FC_STAT_REFUSED_ICMP_SENT) +
		  stat_get(&fx, FC_STAT_REFUSED_ICMP_RATELIMITED), SYN_FLOOD - 8,
		  "each refusal answered or rate-limited");
	for (int i = 0; i < 8; i++)
		b_new += out_pkt(IPPROTO_TCP, CLIENT_B, 40000 + i, SERVER_2, 443, 0x02) != 0;
	ASSERT_EQ(b_new, 8, "B makes new connections during A's flood");
}
