// SPDX-License-Identifier: GPL-2.0
/*
 * The expiry sweeper against the real maps: state is made by running
 * packets through the datapath, then aged by editing timestamps, then swept.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "fixture.h"
#include "gc.h"
#include "harness.h"

#define SEC_NS 1000000000ULL

static uint16_t udp_out(const char *client, uint16_t sport, const char *server, uint16_t dport)
{
	struct pkt_spec s = { .proto = IPPROTO_UDP, .saddr = client, .sport = sport,
			      .daddr = server, .dport = dport, .payload_len = 8 };
	uint8_t buf[PKT_MAX];
	struct run_result r;
	size_t len = pkt_build(&s, buf);

	if (run_prog(fx.egress_fd, buf, len, &r) || r.ret != TC_ACT_OK)
		return 0;
	return (r.out[34] << 8) | r.out[35];
}

TEST(gc_keeps_live_state)
{
	struct gc_result res;

	ASSERT_NE(udp_out(CLIENT_A, 25000, SERVER_1, 7000), 0, "mapping");
	ASSERT_EQ(fixture_sweep(&fx, now_ns(), &res), 0, "sweep");
	ASSERT_EQ(res.sessions_live, 1, "live session");
	ASSERT_EQ(res.mappings_live, 1, "live mapping");
	ASSERT_EQ(nr_bindings(&fx), 2, "both sides kept");
	ASSERT_EQ(nr_sessions(&fx), 1, "session kept");
}

TEST(gc_rfc4787_req5_udp_mapping_expires_after_timeout)
{
	struct gc_result res;
	uint64_t t = now_ns();

	ASSERT_NE(udp_out(CLIENT_A, 25000, SERVER_1, 7000), 0, "mapping");
	/* Just before the 300 s default: nothing goes. */
	ASSERT_EQ(fixture_sweep(&fx, t + 290 * SEC_NS, &res), 0, "sweep");
	ASSERT_EQ(nr_bindings(&fx), 2, "kept before the timeout");
	ASSERT_EQ(fixture_sweep(&fx, t + 302 * SEC_NS, &res), 0, "sweep");	/* + the 1 s refresh grace */
	ASSERT_EQ(res.sessions_expired, 1, "session expired");
	ASSERT_EQ(res.mappings_expired, 1, "mapping expired");
	ASSERT_EQ(nr_bindings(&fx), 0, "both sides removed, port free");
	ASSERT_EQ(nr_sessions(&fx), 0, "session removed");
}

/*
 * A mapping whose own activity is an hour old while its session (say, kept
 * alive by inbound traffic) lives on, swept as of t + 1 h. Every time the
 * sweep compares is written here, from t forward: a time before t could lie
 * before boot, where an unsigned clock has nothing.
 */
static void live_session_keeps_mapping(uint64_t t)
{
	struct fc_endpoint_key ik = { .side = FC_SIDE_INTERNAL, .family = FC_AF_INET,
				      .ext_family = FC_AF_INET, .proto = IPPROTO_UDP };
	uint64_t hour_later = t + 3600 * SEC_NS;
	struct fc_session_key sk;
	struct fc_session s;
	struct fc_binding b;
	struct gc_result res;

	ik.addr.v4 = ip4(CLIENT_A);
	ik.port = htons(25000);
	ASSERT_NE(udp_out(CLIENT_A, 25000, SERVER_1, 7000), 0, "mapping");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "read mapping");
	b.last_out_ns = t;
	b.sessions_until_ns = 0;
	ASSERT_EQ(bpf_map_update_elem(fx.bindings_fd, &ik, &b, BPF_EXIST), 0, "last used at t");
	ASSERT_EQ(bpf_map_get_next_key(fx.sessions_fd, NULL, &sk), 0, "session key");
	ASSERT_EQ(bpf_map_lookup_elem(fx.sessions_fd, &sk, &s), 0, "session");
	s.expires_ns = hour_later + 100 * SEC_NS;
	ASSERT_EQ(bpf_map_update_elem(fx.sessions_fd, &sk, &s, BPF_EXIST), 0, "session alive");
	ASSERT_EQ(fixture_sweep(&fx, hour_later, &res), 0, "sweep an hour later");
	ASSERT_EQ(nr_bindings(&fx), 2, "mapping kept by its session");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "read mapping");
	ASSERT_EQ(b.sessions_until_ns, hour_later + 100 * SEC_NS, "session expiry published");
	ASSERT_EQ(fixture_sweep(&fx, hour_later + 101 * SEC_NS, &res), 0,
		  "sweep after the session's end");
	ASSERT_EQ(nr_sessions(&fx), 0, "session gone");
	ASSERT_EQ(nr_bindings(&fx), 0, "mapping gone with it");
}

TEST(gc_live_session_keeps_mapping_and_publishes_expiry)
{
	live_session_keeps_mapping(now_ns());
}

/* The same on a machine that booted ten minutes ago. */
TEST(gc_live_session_keeps_mapping_ten_minutes_after_boot)
{
	live_session_keeps_mapping(600 * SEC_NS);
}

/*
 * A router that rebooted ten minutes ago, a TCP flow established then: with
 * the 2 h 4 min default (RFC 5382 REQ-5) it lives until 600 s + 7440 s and
 * not a moment longer. The sweeper takes now as an argument, so the small
 * uptime is simulated by writing the times the datapath would have.
 */
TEST(gc_rfc5382_req5_established_tcp_ten_minutes_after_boot)
{
	struct pkt_spec syn = { .proto = IPPROTO_TCP, .saddr = CLIENT_A, .sport = 40000,
				.daddr = SERVER_1, .dport = 80, .tcp_flags = 0x02 };
	struct fc_endpoint_key ik = { .side = FC_SIDE_INTERNAL, .family = FC_AF_INET,
				      .ext_family = FC_AF_INET, .proto = IPPROTO_TCP };
	uint64_t boot10 = 600 * SEC_NS, est = fx.cfg.timeout_ns[FC_TIMEOUT_TCP_EST];
	struct fc_session_key sk;
	struct fc_session s;
	struct fc_binding b;
	struct gc_result res;
	struct run_result r;

	ASSERT_EQ(est, 7440 * SEC_NS, "default established timeout: 2 h 4 min");
	ASSERT_EQ(run_spec(fx.egress_fd, &syn, &r), 0, "SYN out");
	ASSERT_EQ(r.ret, TC_ACT_OK, "translated");
	ik.addr.v4 = ip4(CLIENT_A);
	ik.port = htons(40000);
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "mapping");
	b.last_out_ns = boot10;
	b.sessions_until_ns = 0;
	ASSERT_EQ(bpf_map_update_elem(fx.bindings_fd, &ik, &b, BPF_EXIST), 0, "last out at 600 s");
	ASSERT_EQ(bpf_map_get_next_key(fx.sessions_fd, NULL, &sk), 0, "session key");
	ASSERT_EQ(bpf_map_lookup_elem(fx.sessions_fd, &sk, &s), 0, "session");
	s.expires_ns = boot10 + est;
	ASSERT_EQ(bpf_map_update_elem(fx.sessions_fd, &sk, &s, BPF_EXIST), 0,
		  "established at 600 s");

	ASSERT_EQ(fixture_sweep(&fx, boot10 + SEC_NS, &res), 0, "sweep at 601 s");
	ASSERT_EQ(res.sessions_expired + res.mappings_expired, 0, "nothing expired");
	ASSERT_EQ(nr_sessions(&fx), 1, "fresh session kept");
	ASSERT_EQ(nr_bindings(&fx), 2, "fresh mapping kept");
	ASSERT_EQ(fixture_sweep(&fx, boot10 + est - SEC_NS, &res), 0, "sweep 1 s before the end");
	ASSERT_EQ(nr_sessions(&fx), 1, "still kept");
	ASSERT_EQ(nr_bindings(&fx), 2, "mapping kept by its session");
	ASSERT_EQ(fixture_sweep(&fx, boot10 + est, &res), 0, "sweep at the end");
	ASSERT_EQ(res.sessions_expired, 1, "session expired");
	ASSERT_EQ(res.mappings_expired, 1, "mapping expired");
	ASSERT_EQ(nr_sessions(&fx) + nr_bindings(&fx), 0, "all gone, port free");
}

TEST(gc_port_reused_safely_after_expiry)
{
	struct gc_result res;
	uint64_t t = now_ns();
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = SERVER_1, .sport = 7000,
			       .daddr = EXT_ADDR, .dport = 25000, .payload_len = 8 };
	uint8_t buf[PKT_MAX];
	struct run_result r;
	size_t len;

	ASSERT_EQ(udp_out(CLIENT_A, 25000, SERVER_1, 7000), 25000, "A holds 25000");
	ASSERT_EQ(fixture_sweep(&fx, t + 400 * SEC_NS, &res), 0, "sweep");
	ASSERT_EQ(nr_bindings(&fx), 0, "expired");
	ASSERT_EQ(udp_out(CLIENT_B, 25000, SERVER_1, 7000), 25000, "B gets 25000 now");
	len = pkt_build(&in, buf);
	ASSERT_EQ(run_prog(fx.ingress_fd, buf, len, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_OK, "verdict");
	ASSERT_EQ(memcmp(r.out + 30, &(uint32_t){ ip4(CLIENT_B) }, 4), 0,
		  "inbound goes to B, no stale entry for A");
}

TEST(gc_half_mapping_removed_only_when_seen_twice)
{
	struct fc_endpoint_key ek = { .side = FC_SIDE_EXTERNAL, .family = FC_AF_INET,
				      .proto = IPPROTO_UDP };
	struct fc_binding v = { .family = FC_AF_INET };
	struct gc_result res;

	/* What a CPU leaves for an instant while creating a mapping. */
	ek.addr.v4 = ip4(EXT_ADDR);
	ek.port = htons(27000);
	v.addr.v4 = ip4(CLIENT_A);
	v.port = htons(27000);
	ASSERT_EQ(bpf_map_update_elem(fx.bindings_fd, &ek, &v, BPF_NOEXIST), 0, "insert");
	ASSERT_EQ(fixture_sweep(&fx, now_ns(), &res), 0, "first sweep");
	ASSERT_EQ(nr_bindings(&fx), 1, "kept on first sight");
	ASSERT_EQ(fixture_sweep(&fx, now_ns(), &res), 0, "second sweep");
	ASSERT_EQ(res.orphans_removed, 1, "removed on second sight");
	ASSERT_EQ(nr_bindings(&fx), 0, "gone");
}

TEST(gc_static_mapping_never_expires)
{
	struct fc_endpoint_key ik = { .side = FC_SIDE_INTERNAL, .family = FC_AF_INET,
				      .ext_family = FC_AF_INET, .proto = IPPROTO_UDP };
	struct fc_binding b;
	struct gc_result res;

	ik.addr.v4 = ip4(CLIENT_A);
	ik.port = htons(25000);
	ASSERT_NE(udp_out(CLIENT_A, 25000, SERVER_1, 7000), 0, "mapping");
	ASSERT_EQ(bpf_map_lookup_elem(fx.bindings_fd, &ik, &b), 0, "read");
	b.flags |= FC_BINDING_STATIC;
	ASSERT_EQ(bpf_map_update_elem(fx.bindings_fd, &ik, &b, BPF_EXIST), 0, "mark static");
	ASSERT_EQ(fixture_sweep(&fx, now_ns() + 86400 * SEC_NS, &res), 0, "sweep a day later");
	ASSERT_EQ(nr_sessions(&fx), 0, "its session expired");
	ASSERT_EQ(nr_bindings(&fx), 2, "the static mapping stayed");
}

TEST(gc_sweeps_many_entries_in_batches)
{
	struct gc_result res;
	int made = 0;

	for (int i = 0; i < 3000; i++)
		made += udp_out(CLIENT_A, 30000 + i, SERVER_1, 7000) != 0;
	ASSERT_EQ(made, 3000, "3000 mappings");
	ASSERT_EQ(fixture_sweep(&fx, now_ns(), &res), 0, "sweep");
	ASSERT_EQ(res.mappings_live, 3000, "all seen across batches");
	ASSERT_EQ(fixture_sweep(&fx, now_ns() + 400 * SEC_NS, &res), 0, "sweep after expiry");
	ASSERT_EQ(res.mappings_expired, 3000, "all expired");
	ASSERT_EQ(nr_bindings(&fx), 0, "tables empty");
}
