/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the NAT64 tests (test_nat64.c, test_nat64_pool.c) share: the
 * well-known prefix switched on, the two interfaces a packet is received
 * on, the IPv6 network behind int0, and the checks of a translated packet
 * against one pkt_build made from scratch.
 */
#ifndef FC_TEST_NAT64_EXPECT_H
#define FC_TEST_NAT64_EXPECT_H

#include <stdio.h>
#include <stdlib.h>

#include "fcnat_tc.skel.h"
#include "fixture.h"
#include "harness.h"
#include "options.h"

/* The IPv4 servers seen from the IPv6 side (RFC 6052 /96). */
#define SERVER_1_64	"64:ff9b::198.51.100.2"
#define SERVER_2_64	"64:ff9b::198.51.100.3"
#define STRANGER_64	"64:ff9b::198.51.100.4"

/* --nat64 with the well-known prefix, not applied yet. */
static inline void nat64_prefix_set(void)
{
	char err[128];
	unsigned int len;

	fx.opts.nat64 = true;
	if (parse_nat64_prefix("64:ff9b::/96", fx.opts.nat64_prefix, &len, err, sizeof(err)))
		abort();
	fx.opts.nat64_prefix_len = len;
}

/* Received on int0 (an internal interface). */
static inline int run_lan(const struct pkt_spec *in, struct run_result *r)
{
	struct __sk_buff ctx = { .ifindex = fx.int_ifindex, .ingress_ifindex = fx.int_ifindex };
	uint8_t buf[PKT_MAX];

	return run_prog_ctx(bpf_program__fd(fx.loader.skel->progs.fc_tc_lan_ingress), buf,
			    pkt_build(in, buf), &ctx, r);
}

/* Received on ext0 (the external interface), with its ingress index: the
 * errors NAT64 sends back look their route up from there. */
static inline int run_ext(const struct pkt_spec *in, struct run_result *r)
{
	struct __sk_buff ctx = { .ifindex = fx.ext_ifindex, .ingress_ifindex = fx.ext_ifindex };
	uint8_t buf[PKT_MAX];

	return run_prog_ctx(fx.ingress_fd, buf, pkt_build(in, buf), &ctx, r);
}

/* The IPv4 Identification the translator chose at random (RFC 6864: a
 * DF-clear packet's), taken from the output into the expected header (0
 * as ip_id_zero). */
static inline void take_ip_id(const struct run_result *r, struct pkt_spec *want)
{
	uint16_t id = (r->out[18] << 8) | r->out[19];

	want->ip_id = id;
	want->ip_id_zero = id == 0;
}

/* Run an outbound packet on int0, expect a redirect and want (its IPv4 ID
 * taken from the output). */
#define EXPECT_OUT(in, want, what)						\
	do {									\
		struct run_result _r;						\
		uint8_t _w[PKT_MAX];						\
		size_t _wl;							\
		ASSERT_EQ(run_lan(in, &_r), 0, what ": test run");		\
		ASSERT_EQ(_r.ret, TC_ACT_REDIRECT, what ": redirected");	\
		ASSERT_EQ(_r.out_len > 20, 1, what ": output");		\
		take_ip_id(&_r, want);						\
		_wl = pkt_build(want, _w);					\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what);		\
	} while (0)

/* A packet on int0 (run_lan) or ext0 (run_ext): verdict and want exactly. */
#define EXPECT_RUN(run, in, want, verdict, what)				\
	do {									\
		struct run_result _r;						\
		uint8_t _w[PKT_MAX];						\
		size_t _wl = pkt_build(want, _w);				\
		ASSERT_EQ(run(in, &_r), 0, what ": test run");			\
		ASSERT_EQ(_r.ret, verdict, what ": verdict");			\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what);		\
	} while (0)

#define EXPECT_LAN(in, want, verdict, what)	EXPECT_RUN(run_lan, in, want, verdict, what)
#define EXPECT_EXT(in, want, verdict, what)	EXPECT_RUN(run_ext, in, want, verdict, what)

/* The internal IPv6 network behind int0 (CLIENT6_A a known neighbour; the
 * gateway's address there answers for NAT64, refuse.h), IPv6 forwarding
 * on. Taken down again before the next test, whatever this one's outcome. */
#define NAT64_IPV6_SIDE_DOWN							\
	"ip -6 neigh del " CLIENT6_A " dev int0 2>/dev/null; "			\
	"ip -6 route del " CLIENT6_A "/128 dev int0 2>/dev/null; "		\
	"ip -6 addr del fd00:77::1/64 dev int0 2>/dev/null; "			\
	"sysctl -qw net.ipv6.conf.all.forwarding=0"

static inline int ipv6_side_down(void)
{
	return system(NAT64_IPV6_SIDE_DOWN);
}

/* mtu6: the route's MTU, locked (the FIB helper reads a route MTU only
 * then, else the device MTU); 0: none, the device's. */
static inline int ipv6_side_up(int mtu6)
{
	char cmd[512], mtu[32] = "";

	ipv6_side_down();	/* whatever a test run before the fixture undid it left */
	fixture_defer(&fx, NAT64_IPV6_SIDE_DOWN);
	if (mtu6)
		snprintf(mtu, sizeof(mtu), " mtu lock %d", mtu6);
	snprintf(cmd, sizeof(cmd),
		 "ip -6 addr add fd00:77::1/64 dev int0 nodad && "
		 "ip -6 route add " CLIENT6_A "/128 dev int0%s && "
		 "ip -6 neigh add " CLIENT6_A " lladdr 02:00:00:00:02:02 dev int0 nud permanent && "
		 "sysctl -qw net.ipv6.conf.all.forwarding=1", mtu);
	return system(cmd);
}

#endif
