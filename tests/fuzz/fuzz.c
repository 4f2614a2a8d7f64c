// SPDX-License-Identifier: GPL-2.0
/*
 * Datapath fuzzer: valid packets built by pkt_build, then mutated, run
 * with BPF_PROG_TEST_RUN against map state made by valid traffic first,
 * through the four TC programs and -- a share of the stream, -x PERCENT
 * (25) -- through the fast path on the same maps: the XDP programs
 * (fc_xdp_int on int0 for what the TC egress or hairpin programs would see,
 * fc_xdp_ext on ext0 for what the TC ingress would) and TC mode's with
 * --lan-if (fc_tc_int_ingress, fc_tc_ingress redirecting inside). The
 * private namespace's interfaces and routes: setup_netns/setup_routes.
 * Every output is checked:
 *
 *   (a) no leak: a forwarded packet the egress program passes carries no
 *       internal (192.168.0.0/16) source, and an ICMP error it passes
 *       quotes no internal address;
 *   (b) checksums: an output that differs from its input has a valid IPv4
 *       header checksum and, for a whole non-fragment UDP/TCP/ICMP
 *       datagram, a valid L4 checksum (and an ICMP error's quoted IPv4
 *       header checksum), whenever the input's was valid; a zero UDP
 *       checksum only if it was zero in the input;
 *   (c) lengths: IP total length within the frame, frame length unchanged
 *       unless redirected;
 *   The IPv6 part (NAT66 on) is tests/fuzz/fuzz_ipv6.c, with the same checks.
 *   (d) maps, every CHECK_EVERY packets and at the end: each internal-side
 *       binding has an external twin pointing back and vice versa (so no
 *       external endpoint serves two internal ones), each session has its
 *       mapping;
 *   (e) the fast path: an XDP verdict is DROP, PASS, TX or REDIRECT (never
 *       ABORTED); a frame passed to the stack is untouched or else checked
 *       as (b)/(c); a frame sent on (TX, REDIRECT, TC's redirect) is a whole
 *       IPv4 packet leaving by ext0 or int0 (told by its source MAC, the
 *       FIB's; unknown after TC's bpf_redirect_neigh), never by ext0 with
 *       an internal source, from an internal interface only with the
 *       external address as source, from the external one with its source
 *       unchanged, by int0 only to an internal host, with the TTL
 *       decremented exactly once, the same frame and total length, and
 *       (b)'s checksums (check_redirect, check_xdp).
 *
 * `fuzz [-n PACKETS] [-s SEED] [-t SECONDS] [-x FAST_PERCENT] [-r MAX_REPORTED]
 * [-v]`. The packet stream depends on the seed only; a violation prints the
 * seed, the packet number, the program and the input in hex, and the exit
 * status is 1. So is it when the time limit ends the run before PACKETS: a
 * run cut short has not tested what it was asked to.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fcnat_tc.skel.h"
#include "fixture.h"
#include "fuzz.h"
#include "gc.h"
#include "log.h"
#include "nat64_pool.h"
#include "stats.h"

#define CHECK_EVERY	1000000ULL
#define TIME_CHECK_EVERY 4096ULL	/* packets between looks at the time limit */
#define SWEEP_EVERY	100000ULL
#define NR_FLOWS	3000
#define MAX_FRAME	1514
#define INTERNAL_NET	0xc0a80000u	/* 192.168.0.0/16, host order */

/* ---- deterministic randomness ------------------------------------------ */

static uint64_t rng;

uint64_t rnd(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

uint32_t rn(uint32_t n)
{
	return n ? (uint32_t)(rnd() >> 32) % n : 0;
}

int chance(uint32_t percent)
{
	return rn(100) < percent;
}

/* ---- addresses as the dotted strings pkt_build takes -------------------- */

static const char *dotted(uint32_t host_order)
{
	static char ring[16][16];
	static unsigned int next;
	char *s = ring[next++ % 16];
	struct in_addr a = { .s_addr = htonl(host_order) };

	inet_ntop(AF_INET, &a, s, 16);
	return s;
}

static uint32_t ext_host;	/* EXT_ADDR, host order */

static uint32_t internal_host(void)
{
	return INTERNAL_NET | (rn(8) + 1) << 8 | (rn(250) + 1);
}

static uint32_t remote_host(void)
{
	static const uint32_t nets[] = { 0xcb007100, 0xc6336400, 0x08080800 };

	return nets[rn(3)] | (rn(250) + 2);
}

/* The fuzz configuration's port ranges: two, to cross the seam. */
static const struct fc_port_range fuzz_ranges[] = { { 10000, 29999 }, { 40000, 60999 } };

static uint16_t range_port(void)
{
	uint32_t i = rn(41000);

	return i < 20000 ? 10000 + i : 40000 + i - 20000;
}

static uint8_t random_l4(void)
{
	static const uint8_t p[] = { IPPROTO_UDP, IPPROTO_UDP, IPPROTO_TCP, IPPROTO_TCP, IPPROTO_ICMP };

	return p[rn(sizeof(p))];
}

/* ---- flows made by valid traffic, the targets of the generators -------- */

struct flow {
	uint8_t proto;
	uint32_t int_addr;	/* host order */
	uint16_t int_port;	/* ICMP: echo id */
	uint16_t ext_port;
	uint32_t remote;
	uint16_t rport;
};

static struct flow flows[NR_FLOWS];
static unsigned int nr_flows;

/* ---- generators: one valid packet each --------------------------------- */

static const char *prog_names[P_ALL] = { "fc_tc_egress", "fc_tc_ingress",
					 "fc_tc_lan_ingress", "fc_tc_lo_ingress",
					 "fc_xdp_ext", "fc_xdp_int",
					 "fc_tc_int_ingress (fast)", "fc_tc_ingress (fast)" };

static const uint8_t wscale_opts[] = { 2, 4, 5, 180, 1, 3, 3, 7 };

static void l4_spec(struct pkt_spec *s, uint8_t proto, int outbound)
{
	static const uint8_t flags[] = { 0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x01 };

	s->proto = proto;
	s->payload_len = rn(4) ? rn(64) : rn(1200);
	if (proto == IPPROTO_TCP) {
		s->tcp_flags = rn(8) ? flags[rn(sizeof(flags))] : rn(256);
		s->tcp_seq = rnd();
		s->tcp_ack = rnd();
		s->tcp_win = rn(65536);
		if (chance(20)) {
			s->tcp_opts = wscale_opts;
			s->tcp_opts_len = sizeof(wscale_opts);
		}
	} else if (proto == IPPROTO_ICMP) {
		s->icmp_type = outbound ? 8 : 0;
		s->icmp_seq = rn(65536);
	}
	if (chance(5))
		s->ihl = 5 + rn(11);
	if (proto == IPPROTO_UDP && chance(10))
		s->udp_no_csum = 1;
}

static struct flow *pick_flow(void)
{
	return &flows[rn(nr_flows)];
}

/* Outbound on a known flow or from a fresh internal endpoint. */
static void gen_out(struct job *j)
{
	struct pkt_spec s = {};
	struct flow *f = NULL;
	int fresh = !nr_flows || chance(10);

	if (fresh) {
		l4_spec(&s, random_l4(), 1);
		s.saddr = dotted(internal_host());
		s.sport = chance(90) ? 1024 + rn(4096) : rn(65536);
		s.daddr = dotted(remote_host());
		s.dport = rn(65536);
	} else {
		f = pick_flow();
		l4_spec(&s, f->proto, 1);
		s.saddr = dotted(f->int_addr);
		s.sport = f->int_port;
		s.daddr = dotted(chance(70) ? f->remote : remote_host());
		s.dport = chance(70) ? f->rport : rn(65536);
		j->flow = f - flows;
	}
	if (s.proto == IPPROTO_ICMP)
		s.dport = 0;
	j->prog = P_EGRESS;
	j->ifindex = FORWARDED_FROM;
	j->kind = "out";
	if (chance(10)) {
		/* The gateway's own, from the external address. */
		s.saddr = dotted(ext_host);
		s.sport = chance(50) ? range_port() : rn(65536);
		j->ifindex = LOCAL_ORIGIN;
		j->flow = -1;
		j->kind = "out-local";
	}
	j->len = pkt_build(&s, j->in);
}

/* Inbound to a mapping (or a random port of the range). */
static void gen_in(struct job *j)
{
	struct pkt_spec s = {};
	struct flow *f = nr_flows ? pick_flow() : NULL;

	l4_spec(&s, f ? f->proto : random_l4(), 0);
	s.saddr = dotted(f && chance(60) ? f->remote : remote_host());
	s.sport = f && chance(60) ? f->rport : rn(65536);
	s.daddr = dotted(chance(95) ? ext_host : remote_host());
	s.dport = f && chance(90) ? f->ext_port : range_port();
	if (s.proto == IPPROTO_ICMP)
		s.sport = 0;
	j->prog = P_INGRESS;
	j->ifindex = 3;
	j->kind = "in";
	j->len = pkt_build(&s, j->in);
}

static const uint8_t err_types[] = { 3, 3, 3, 11, 12 };

/* An ICMP error about a flow, either way; sometimes an error about an
 * error about a flow. */
static void gen_error(struct job *j, int outbound)
{
	struct pkt_spec q = {}, inner = {}, s = {};
	struct flow *f = nr_flows ? pick_flow() : NULL;
	uint8_t proto = f ? f->proto : random_l4();

	l4_spec(&q, proto, !outbound);
	if (outbound) {
		/* Quoting what the internal host received: remote -> it. */
		q.saddr = dotted(f ? f->remote : remote_host());
		q.sport = f ? f->rport : rn(65536);
		q.daddr = dotted(f ? f->int_addr : internal_host());
		q.dport = f ? f->int_port : rn(65536);
		if (proto == IPPROTO_ICMP) {
			q.icmp_type = 0;
			q.sport = 0;
		}
		s.saddr = q.daddr;
		s.daddr = q.saddr;
	} else {
		/* Quoting what we sent out: external endpoint -> remote. */
		q.saddr = dotted(ext_host);
		q.sport = f ? f->ext_port : range_port();
		q.daddr = dotted(f ? f->remote : remote_host());
		q.dport = f ? f->rport : rn(65536);
		if (proto == IPPROTO_ICMP) {
			q.icmp_type = 8;
			q.dport = 0;
		}
		s.saddr = dotted(remote_host());
		s.daddr = dotted(ext_host);
	}
	q.payload_len = rn(64);
	s.proto = IPPROTO_ICMP;
	s.icmp_type = err_types[rn(sizeof(err_types))];
	s.icmp_code = s.icmp_type == 3 ? rn(16) : rn(2);
	s.icmp_mtu = s.icmp_code == 4 ? 576 + rn(1000) : 0;
	s.quote = &q;
	if (chance(30))
		s.quote_l4_len = 8 + rn(20);
	if (chance(10)) {
		s.quote_l4_len = 8;
		s.rfc4884_words = 32;
		s.ext_len = 4 * rn(8);
	}
	j->kind = outbound ? "out-error" : "in-error";
	if (chance(10)) {
		/* Nested: an error quoting that error. */
		inner = s;
		s.quote = &inner;
		s.quote_l4_len = rn(2) ? 0 : 8 + rn(40);
		s.rfc4884_words = 0;
		s.ext_len = 0;
		j->kind = outbound ? "out-error-nested" : "in-error-nested";
	}
	if (chance(5))
		s.ihl = 5 + rn(11);
	j->prog = outbound ? P_EGRESS : P_INGRESS;
	j->ifindex = outbound ? (chance(15) ? LOCAL_ORIGIN : FORWARDED_FROM) : 3;
	if (outbound && j->ifindex == LOCAL_ORIGIN)
		s.saddr = dotted(ext_host);
	j->len = pkt_build(&s, j->in);
}

/* Fragments of a train, either way; trains share a few ids so first and
 * later fragments meet. */
static void gen_frag(struct job *j)
{
	struct pkt_spec s = {};
	struct flow *f = nr_flows ? pick_flow() : NULL;
	int outbound = chance(40), first = chance(50);

	l4_spec(&s, f ? f->proto : random_l4(), outbound);
	s.ip_id = 0x100 + rn(8);
	s.payload_len = 8 * (1 + rn(100));
	s.frag = first ? 0x2000 : (chance(70) ? 0x2000 : 0) | (1 + rn(300));
	if (outbound) {
		s.saddr = dotted(f ? f->int_addr : internal_host());
		s.sport = f ? f->int_port : rn(65536);
		s.daddr = dotted(f ? f->remote : remote_host());
		s.dport = f ? f->rport : rn(65536);
	} else {
		s.saddr = dotted(f ? f->remote : remote_host());
		s.sport = f ? f->rport : rn(65536);
		s.daddr = dotted(ext_host);
		s.dport = f ? f->ext_port : range_port();
	}
	if (s.proto == IPPROTO_ICMP)
		s.dport = outbound ? 0 : s.dport, s.sport = outbound ? s.sport : 0;
	j->prog = outbound ? P_EGRESS : P_INGRESS;
	j->ifindex = outbound ? FORWARDED_FROM : 3;
	j->kind = outbound ? "out-frag" : "in-frag";
	j->len = pkt_build(&s, j->in);
}

uint16_t fuzz_nat44_port(uint8_t proto)
{
	struct flow *f = nr_flows ? pick_flow() : NULL;

	for (int i = 0; f && i < 8 && f->proto != proto; i++)
		f = pick_flow();
	return f && f->proto == proto ? f->ext_port : rn(65536);
}

/* Inside (or the gateway) to a mapping's external endpoint: NAT44's, or
 * NAT64's (hairpinned to the IPv6 host). */
static void gen_hairpin(struct job *j)
{
	struct pkt_spec s = {};
	struct flow *f = nr_flows ? pick_flow() : NULL, *g = nr_flows ? pick_flow() : NULL;
	int lo = chance(30);

	l4_spec(&s, chance(50) ? IPPROTO_UDP : IPPROTO_TCP, 1);
	if (f && f->proto != IPPROTO_ICMP && chance(80))
		s.proto = f->proto;
	s.daddr = dotted(ext_host);
	s.dport = f && chance(85) ? f->ext_port : rn(65536);
	if (!lo && chance(15)) {
		uint8_t proto;
		uint16_t port = fuzz64_mapped_port(&proto);

		if (port)
			s.proto = proto, s.dport = port;
	}
	if (lo) {
		s.saddr = dotted(chance(50) ? ext_host : 0x7f000001);
		s.sport = chance(50) ? range_port() : rn(65536);
	} else {
		s.saddr = dotted(g && chance(70) ? g->int_addr : internal_host());
		s.sport = g && chance(70) ? g->int_port : rn(65536);
	}
	if (chance(5))
		s.proto = IPPROTO_ICMP, s.icmp_type = 8;
	j->prog = lo ? P_LO : P_LAN;
	j->ifindex = lo ? 1 : FORWARDED_FROM;
	j->kind = lo ? "hairpin-lo" : "hairpin-lan";
	j->len = pkt_build(&s, j->in);
}

/* Random protocols, random bytes, other ethertypes. */
static void gen_junk(struct job *j)
{
	static const uint16_t ethertypes[] = { 0x0806, 0x86dd, 0x8100, 0x88a8, 0x0000 };
	struct pkt_spec s = {};

	if (chance(20)) {
		s.ethertype = ethertypes[rn(sizeof(ethertypes) / 2)];
		s.payload_len = rn(200);
	} else {
		s.proto = rn(4) ? rn(256) : (uint8_t[]){ 2, 4, 41, 47, 50, 132 }[rn(6)];
		s.saddr = dotted(chance(50) ? internal_host() : remote_host());
		s.daddr = dotted(chance(50) ? ext_host : remote_host());
		s.payload_len = rn(300);
		if (chance(10))
			s.frag = rn(65536) & 0x3fff;
	}
	j->prog = rn(P_MAX);
	j->ifindex = rn(3);
	j->kind = "junk";
	j->len = pkt_build(&s, j->in);
	if (s.ethertype == 0x0000)
		put16(j->in + 12, rn(65536));
	if (chance(30))
		for (size_t i = 14; i < j->len; i++)
			j->in[i] = rnd();
}

/* Percent of the stream the fast path gets (-x). */
static unsigned int fast_share = 25;

/*
 * The job, as the fast path would meet it: what the TC egress or the
 * hairpin programs see arrives first at an internal interface's XDP program
 * (or TC mode's fc_tc_int_ingress), what the TC ingress sees at the external
 * one's (fc_xdp_ext, or fc_tc_ingress with --lan-if). XDP gets two thirds.
 */
static void to_fast_path(struct job *j)
{
	int xdp = rn(3) != 0;

	if (j->prog == P_INGRESS) {
		j->prog = xdp ? P_XDP_EXT : P_FAST_IN;
		j->ifindex = fx.ext_ifindex;
	} else {
		j->prog = xdp ? P_XDP_INT : P_FAST_INT;
		j->ifindex = fx.int_ifindex;
	}
	if (!strcmp(j->kind, "junk") || !strcmp(j->kind, "junk6")) {
		j->prog = P_MAX + rn(P_ALL - P_MAX);
		j->ifindex = j->prog == P_XDP_EXT || j->prog == P_FAST_IN ? fx.ext_ifindex
									 : fx.int_ifindex;
	}
	if (j->v6)
		j->flow = -1;	/* fuzz6_learn follows the TC egress only */
}

static void generate(struct job *j)
{
	uint32_t r = rn(100);

	j->flow = -1;
	j->v6 = chance(25);
	if (j->v6)
		fuzz6_generate(j);
	else if (r < 25)
		gen_out(j);
	else if (r < 45)
		gen_in(j);
	else if (r < 60)
		gen_error(j, 0);
	else if (r < 72)
		gen_error(j, 1);
	else if (r < 82)
		gen_frag(j);
	else if (r < 92)
		gen_hairpin(j);
	else
		gen_junk(j);
	if (chance(fast_share))
		to_fast_path(j);
}

/* ---- mutations ---------------------------------------------------------- */

uint32_t fold_sum(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += be16(p + i);
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

/* Where the IPv4 header and the transport header of the frame are. */
struct view {
	int ok;			/* IPv4 ethertype, a whole IPv4 header */
	uint8_t *ip;
	size_t ihl;
	size_t tot;		/* total length field */
	int whole;		/* tot within the frame and >= ihl */
	int fragment;		/* MF or offset */
	int first;		/* offset 0 */
	uint8_t proto;
	uint8_t *l4;
	size_t l4_len;		/* from tot, if whole */
};

static struct view view_of(uint8_t *f, size_t len)
{
	struct view v = {};

	if (len < 14 + 20 || be16(f + 12) != 0x0800)
		return v;
	v.ip = f + 14;
	v.ihl = (v.ip[0] & 0x0f) * 4;
	if (v.ihl < 20 || 14 + v.ihl > len)
		return v;
	v.ok = 1;
	v.tot = be16(v.ip + 2);
	v.whole = v.tot >= v.ihl && 14 + v.tot <= len;
	v.fragment = (be16(v.ip + 6) & 0x3fff) != 0;
	v.first = (be16(v.ip + 6) & 0x1fff) == 0;
	v.proto = v.ip[9];
	v.l4 = v.ip + v.ihl;
	v.l4_len = v.whole ? v.tot - v.ihl : 0;
	return v;
}

static size_t l4_min(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 20 : proto == IPPROTO_UDP || proto == IPPROTO_ICMP ? 8 : 0;
}

static size_t l4_csum_at(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
}

static uint32_t l4_sum(const struct view *v)
{
	uint32_t sum = 0;

	if (v->proto != IPPROTO_ICMP)
		sum = sum16(v->ip + 12, 8, 0) + v->proto + v->l4_len;
	return fold_sum(sum16(v->l4, v->l4_len, sum));
}

/* Recompute the checksums of whatever the headers now say, so mutated
 * packets also reach the paths behind checksum-valid parsing. */
static void fix_checksums(uint8_t *f, size_t len)
{
	struct view v = view_of(f, len);
	uint16_t c;

	if (!v.ok)
		return;
	if (v.whole && !v.fragment && l4_min(v.proto) && v.l4_len >= l4_min(v.proto)) {
		uint8_t *cs = v.l4 + l4_csum_at(v.proto);

		if (!(v.proto == IPPROTO_UDP && !be16(cs))) {
			put16(cs, 0);
			c = ~l4_sum(&v);
			put16(cs, v.proto == IPPROTO_UDP && !c ? 0xffff : c);
		}
	}
	put16(v.ip + 10, 0);
	put16(v.ip + 10, ~fold_sum(sum16(v.ip, v.ihl, 0)));
}

static size_t hot_len(size_t len)
{
	return len < 14 + 60 + 8 + 60 + 24 ? len : 14 + 60 + 8 + 60 + 24;
}

static void mutate(struct job *j)
{
	struct view v;
	size_t pos;

	if (j->v6) {
		fuzz6_mutate(j);
		return;
	}
	switch (rn(14)) {
	case 0:	/* truncate */
		j->len = 14 + rn(j->len - 13);
		break;
	case 1:	/* extend with junk */
		pos = j->len + 1 + rn(64);
		if (pos > MAX_FRAME)
			pos = MAX_FRAME;
		for (size_t i = j->len; i < pos; i++)
			j->in[i] = rnd();
		j->len = pos;
		break;
	case 2:	/* flip bits in the headers */
	case 3:
		j->in[rn(hot_len(j->len))] ^= 1 << rn(8);
		break;
	case 4:	/* a random byte anywhere */
		j->in[rn(j->len)] = rnd();
		break;
	case 5:	/* IHL (and now and then the version) */
		if (j->len > 14)
			j->in[14] = (chance(90) ? 0x40 : rn(16) << 4) | rn(16);
		break;
	case 6:	/* total length */
		if (j->len >= 18) {
			int d = chance(50) ? (int)rn(41) - 20 : (int)rn(65536) - (int)j->len;

			put16(j->in + 16, (uint16_t)(j->len - 14 + d));
		}
		break;
	case 7:	/* fragment flags and offset */
		if (j->len >= 22)
			put16(j->in + 20, chance(50) ? (rn(2) << 13) | rn(4) : rn(65536));
		break;
	case 8:	/* protocol */
		if (j->len >= 24)
			j->in[23] = chance(70) ? (uint8_t[]){ 1, 6, 17 }[rn(3)] : rn(256);
		break;
	case 9:	/* TCP data offset, or any transport byte 12 */
		v = view_of(j->in, j->len);
		if (v.ok && v.l4 + 13 <= j->in + j->len)
			v.l4[12] = rn(16) << 4 | (v.l4[12] & 0x0f);
		break;
	case 10: /* ICMP type, RFC 4884 length */
		v = view_of(j->in, j->len);
		if (v.ok && v.l4 + 8 <= j->in + j->len) {
			if (chance(50))
				v.l4[0] = (uint8_t[]){ 0, 3, 8, 11, 12 }[rn(5)];
			else
				v.l4[5] = rn(4) ? rn(40) : rn(256);
		}
		break;
	case 11: /* zero a checksum: outer IP, transport, quoted IP, quoted transport */
		v = view_of(j->in, j->len);
		if (v.ok) {
			uint8_t *at[] = { v.ip + 10, v.l4 + l4_csum_at(v.proto),
					  v.l4 + 8 + 10, v.l4 + 8 + 20 + 6, v.l4 + 8 + 20 + 16 };
			uint8_t *p = at[rn(5)];

			if (p + 2 <= j->in + j->len)
				put16(p, 0);
		}
		break;
	case 12: /* mutate the quoted IPv4 header */
		v = view_of(j->in, j->len);
		if (v.ok && v.l4 + 8 + 20 <= j->in + j->len) {
			uint8_t *q = v.l4 + 8;

			switch (rn(6)) {
			case 4: /* a quoted address: internal, ours, or a remote */
			case 5: {
				uint32_t a = chance(50) ? internal_host() : chance(50) ? ext_host : remote_host();
				uint8_t *at = q + (rn(2) ? 12 : 16);

				at[0] = a >> 24; at[1] = a >> 16; at[2] = a >> 8; at[3] = a;
				break;
			}
			case 0: q[0] = 0x40 | rn(16); break;
			case 1: put16(q + 6, rn(65536)); break;
			case 2: q[9] = (uint8_t[]){ 1, 6, 17, 47 }[rn(4)]; break;
			default: q[rn(20)] = rnd();
			}
		}
		break;
	default: /* ports / ids of the transport header */
		v = view_of(j->in, j->len);
		if (v.ok && v.l4 + 8 <= j->in + j->len)
			put16(v.l4 + 2 * rn(4), rn(65536));
	}
}

/* ---- invariants --------------------------------------------------------- */

unsigned long long violations, packets, tested, runs_failed, refused;
/* How often each check had something to look at. */
unsigned long long leak_checked, quote_checked, changed, l4_checked;
static uint64_t seed;
static int verbose;
static unsigned long long max_report = 20;

void hexdump(const char *what, const uint8_t *p, size_t len)
{
	fprintf(stderr, "  %s (%zu bytes):", what, len);
	for (size_t i = 0; i < len; i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n    ", p[i]);
	fprintf(stderr, "\n");
}

void violation(const struct job *j, const struct run_result *r, const char *what)
{
	violations++;
	if (violations > max_report)
		return;
	fprintf(stderr, "VIOLATION %s: seed %llu packet %llu, %s (ingress_ifindex %d), %s, verdict %d\n",
		what, (unsigned long long)seed, packets, prog_names[j->prog], j->ifindex, j->kind,
		r->ret);
	hexdump("in", j->in, j->len);
	hexdump("out", r->out, r->out_len);
}

static int internal(uint32_t addr_host)
{
	return (addr_host & 0xffff0000u) == INTERNAL_NET;
}

enum csum_state { CS_NA, CS_OK, CS_BAD, CS_ZERO };

static enum csum_state ip_csum(const struct view *v)
{
	if (!v->ok)
		return CS_NA;
	return fold_sum(sum16(v->ip, v->ihl, 0)) == 0xffff ? CS_OK : CS_BAD;
}

static enum csum_state l4_csum(const struct view *v)
{
	if (!v->ok || !v->whole || v->fragment || !l4_min(v->proto) || v->l4_len < l4_min(v->proto))
		return CS_NA;
	if (v->proto == IPPROTO_UDP && !be16(v->l4 + 6))
		return CS_ZERO;
	return l4_sum(v) == 0xffff ? CS_OK : CS_BAD;
}

static int icmp_error_type(uint8_t t)
{
	return t == 3 || t == 11 || t == 12;
}

/* The quoted IPv4 header of an ICMP error, if the frame holds it whole. */
static uint8_t *quote_of(const struct view *v, const uint8_t *end)
{
	uint8_t *q;

	if (!v->ok || v->proto != IPPROTO_ICMP || !v->first || v->l4 + 8 + 20 > end ||
	    !icmp_error_type(v->l4[0]))
		return NULL;
	q = v->l4 + 8;
	return q;
}

static enum csum_state quote_csum(const struct view *v, const uint8_t *end)
{
	uint8_t *q = quote_of(v, end);
	size_t ihl;

	if (!q || !v->whole)
		return CS_NA;
	ihl = (q[0] & 0x0f) * 4;
	if (ihl < 20 || q + ihl > v->ip + v->tot)
		return CS_NA;
	return fold_sum(sum16(q, ihl, 0)) == 0xffff ? CS_OK : CS_BAD;
}

static void check_rewritten(const struct job *j, struct run_result *r, const struct view *vin,
			    const struct view *vout);
static void check_redirect(const struct job *j, struct run_result *r);

static void check(const struct job *j, struct run_result *r)
{
	struct view vin = view_of((uint8_t *)j->in, j->len), vout;
	const uint8_t *end = r->out + r->out_len;

	if (fuzz64_check(j, r))
		return;
	if (r->ret != TC_ACT_OK && r->ret != TC_ACT_SHOT && r->ret != TC_ACT_REDIRECT) {
		violation(j, r, "unexpected verdict");
		return;
	}
	if (r->ret == TC_ACT_SHOT)
		return;
	if (r->ret == TC_ACT_REDIRECT && (j->prog == P_FAST_INT || j->prog == P_FAST_IN)) {
		check_redirect(j, r);
		return;
	}
	if (r->ret == TC_ACT_OK && r->out_len != j->len) {
		violation(j, r, "(c) length changed without a redirect");
		return;
	}
	vout = view_of(r->out, r->out_len);

	/* (a) no leak */
	if (j->prog == P_EGRESS && j->ifindex != LOCAL_ORIGIN && r->ret == TC_ACT_OK &&
	    r->out_len >= 14 + 20 && be16(r->out + 12) == 0x0800) {
		const uint8_t *q;

		leak_checked++;
		if (internal(be32(r->out + 14 + 12)))
			violation(j, r, "(a) internal source leaked");
		else if (be32(r->out + 14 + 12) != ext_host)
			violation(j, r, "(a) forwarded packet left without the external source");
		q = quote_of(&vout, end);
		if (q) {
			quote_checked++;
			if (internal(be32(q + 12)) || internal(be32(q + 16)))
				violation(j, r, "(a) internal address leaked in an ICMP error's quote");
			else if (be32(q + 16) != ext_host)
				violation(j, r, "(a) forwarded ICMP error's quote not about the external address");
		}
	}

	if (j->len >= 14 && be16(j->in + 12) == 0x86dd) {
		fuzz6_check(j, r);
		return;
	}
	if (r->out_len == j->len && !memcmp(r->out, j->in, j->len))
		return;
	check_rewritten(j, r, &vin, &vout);
}

/* (b) and (c) for an output that differs from its input. */
static void check_rewritten(const struct job *j, struct run_result *r, const struct view *pvin,
			    const struct view *pvout)
{
	struct view vin = *pvin, vout = *pvout;
	const uint8_t *end = r->out + r->out_len;
	enum csum_state in_cs, out_cs;

	/* (c) lengths */
	if (vout.ok && !vout.whole) {
		violation(j, r, "(c) rewritten packet's total length exceeds the frame");
		return;
	}
	if (!vout.ok)
		return;
	/* (b) checksums, wherever the input's were right */
	changed++;
	if (ip_csum(&vin) == CS_OK && ip_csum(&vout) != CS_OK)
		violation(j, r, "(b) IPv4 header checksum");
	in_cs = l4_csum(&vin);
	out_cs = l4_csum(&vout);
	if (out_cs == CS_ZERO && in_cs != CS_ZERO)
		violation(j, r, "(b) UDP checksum became zero");
	else if (in_cs == CS_OK && out_cs != CS_OK)
		violation(j, r, "(b) L4 checksum");
	if (in_cs == CS_OK)
		l4_checked++;
	if (quote_csum(&vin, j->in + j->len) == CS_OK && quote_csum(&vout, end) == CS_BAD)
		violation(j, r, "(b) quoted IPv4 header checksum");
}

/* ---- the fast path's outputs ------------------------------------------- */


/* redirect_checked: out of int0, of ext0, of an interface the kernel picks. */
static unsigned long long xdp_verdicts[5], xdp_pass_rewritten, redirect_checked[3];

/*
 * (e) A frame the fast path sends on itself (XDP_TX, XDP_REDIRECT, TC's
 * redirect) was translated and routed: a whole IPv4 packet whose source MAC
 * names the interface it leaves by (the FIB's: ext0 or int0, the only ones
 * the programs may send through; or the input's MACs, when TC's hairpin
 * left them to bpf_redirect_neigh and the interface is not known); never
 * out of ext0 with an internal source (nor quoting one); from an internal
 * interface (source NAT, or hairpin) only with the external address as
 * source; from the external interface (destination NAT) with the source it
 * came with -- out of ext0 again when the mapping's internal host is routed
 * there, which the fuzzer's mutated sources make; out of int0 only to an
 * internal host; the TTL one less than it came; the frame and its total
 * length as long as before (a NAT44 rewrite changes no length); checksums
 * as (b).
 */
static void check_redirect(const struct job *j, struct run_result *r)
{
	struct view vin = view_of((uint8_t *)j->in, j->len), vout = view_of(r->out, r->out_len);
	int out_ext;

	if (!vin.ok || !vout.ok || !vout.whole) {
		violation(j, r, "(e) redirected frame is not a whole IPv4 packet");
		return;
	}
	if (!prog_is_xdp(j->prog) && !memcmp(r->out, j->in, 12)) {
		/* TC's hairpin to a next hop without a neighbour entry:
		 * bpf_redirect_neigh, the kernel fills in the MACs at
		 * transmit; which interface is not known here. */
		out_ext = 2;
	} else if (!memcmp(r->out + 6, FX_EXT0_MAC, 6)) {
		out_ext = 1;
	} else if (!memcmp(r->out + 6, FX_INT0_MAC, 6)) {
		out_ext = 0;
	} else {
		violation(j, r, "(e) redirected with the source MAC of no interface");
		return;
	}
	redirect_checked[out_ext]++;
	if ((j->prog == P_XDP_EXT || j->prog == P_FAST_IN) && vout.proto == IPPROTO_ICMP &&
	    vout.l4 && vout.l4_len >= 8 + 20 && (vout.l4[0] == 3 || vout.l4[0] == 11) &&
	    be32(vout.ip + 12) == ext_host && be32(vout.ip + 16) == be32(vin.ip + 12) &&
	    !memcmp(vout.l4 + 8 + 12, vin.ip + 12, 8)) {
		/* The gateway's answer to what it discarded (NAT64's RFC 7915
		 * §4.4 errors, nat64_discard.h: rate limited, so only now and
		 * then): from the external address back to the sender, quoting
		 * its packet. */
		changed++;
		return;
	}
	if (out_ext == 1) {
		const uint8_t *q = quote_of(&vout, r->out + r->out_len);

		leak_checked++;
		if (internal(be32(vout.ip + 12)))
			violation(j, r, "(a) internal source redirected out of the external interface");
		if (q && (internal(be32(q + 12)) || internal(be32(q + 16))))
			violation(j, r, "(a) internal address redirected out in an ICMP error's quote");
	} else if (out_ext == 0 && !internal(be32(vout.ip + 16))) {
		violation(j, r, "(e) redirected inside to a destination not inside");
	}
	if (j->prog == P_XDP_EXT || j->prog == P_FAST_IN) {
		if (be32(vout.ip + 12) != be32(vin.ip + 12))
			violation(j, r, "(e) destination NAT changed the source");
	} else if (be32(vout.ip + 12) != ext_host) {
		violation(j, r, "(a) source NAT or hairpin sent on without the external source");
	}
	if (vout.ip[8] != (uint8_t)(vin.ip[8] - 1))
		violation(j, r, "(e) TTL not decremented exactly once");
	if (r->out_len != j->len || vout.tot != vin.tot)
		violation(j, r, "(c) the fast path changed a length");
	changed++;
	check_rewritten(j, r, &vin, &vout);
}

/*
 * The XDP programs: a verdict of DROP, PASS, TX or REDIRECT (ABORTED is a
 * program error); a frame passed to the stack is untouched, or else fully
 * translated (checked as a TC output); one sent on is checked by (e).
 */
static void check_xdp(const struct job *j, struct run_result *r)
{
	struct view vin, vout;

	if (r->ret < XDP_DROP_ || r->ret > XDP_REDIRECT_) {
		violation(j, r, r->ret == XDP_ABORTED_ ? "XDP_ABORTED" : "unexpected XDP verdict");
		return;
	}
	xdp_verdicts[r->ret]++;
	if (fuzz64_check_xdp(j, r))
		return;
	if (r->ret == XDP_DROP_)
		return;
	if (r->ret != XDP_PASS_) {
		check_redirect(j, r);
		return;
	}
	if (r->out_len == j->len && !memcmp(r->out, j->in, j->len))
		return;
	xdp_pass_rewritten++;
	if (r->out_len != j->len) {
		violation(j, r, "(c) XDP_PASS changed the frame's length");
		return;
	}
	vin = view_of((uint8_t *)j->in, j->len);
	vout = view_of(r->out, r->out_len);
	changed++;
	check_rewritten(j, r, &vin, &vout);
}

/* ---- map state ---------------------------------------------------------- */

struct map_check {
	unsigned long bindings, sessions, bad;
};

static void map_violation(struct map_check *c, const char *fmt, const void *k, size_t ksz)
{
	c->bad++;
	violations++;
	if (c->bad > 10)
		return;
	fprintf(stderr, "VIOLATION (d) %s (seed %llu, after packet %llu)\n", fmt,
		(unsigned long long)seed, packets);
	hexdump("key", k, ksz);
}

static int check_binding(void *ctx, const void *key, const void *value)
{
	struct map_check *c = ctx;
	const struct fc_endpoint_key *k = key;
	const struct fc_binding *b = value;
	struct fc_endpoint_key tk;
	struct fc_binding twin;

	c->bindings++;
	memset(&tk, 0, sizeof(tk));
	tk.side = k->side == FC_SIDE_INTERNAL ? FC_SIDE_EXTERNAL : FC_SIDE_INTERNAL;
	tk.family = b->family;	/* the other side's family (NAT64: not the key's) */
	/* An internal twin is the entry of this external family's space. */
	tk.ext_family = tk.side == FC_SIDE_INTERNAL ? k->family : 0;
	tk.proto = k->proto;
	tk.port = b->port;
	tk.addr = b->addr;
	if (k->side > FC_SIDE_EXTERNAL || (k->family != FC_AF_INET && k->family != FC_AF_INET6))
		map_violation(c, "binding with a bad side or family", k, sizeof(*k));
	else if (k->side == FC_SIDE_INTERNAL ? k->ext_family != b->family : k->ext_family != 0)
		map_violation(c, "binding key's external family disagrees with its value", k,
			      sizeof(*k));
	else if (bpf_map_lookup_elem(fx.bindings_fd, &tk, &twin))
		map_violation(c, k->side == FC_SIDE_INTERNAL ? "internal binding without external twin"
							     : "external binding without internal twin",
			      k, sizeof(*k));
	else if (twin.port != k->port || memcmp(&twin.addr, &k->addr, sizeof(k->addr)))
		map_violation(c, "binding's twin points elsewhere (shared external endpoint)",
			      k, sizeof(*k));
	return 0;
}

static int check_session(void *ctx, const void *key, const void *value)
{
	struct map_check *c = ctx;
	const struct fc_session_key *k = key;
	struct fc_endpoint_key ek;
	struct fc_binding b;

	c->sessions++;
	fc_ext_endpoint_key(&ek, k->family, k->proto, &k->ext_addr, k->ext_port);
	if (bpf_map_lookup_elem(fx.bindings_fd, &ek, &b))
		map_violation(c, "session without its mapping", k, sizeof(*k));
	return 0;
}

static void check_maps(struct map_check *c)
{
	memset(c, 0, sizeof(*c));
	map_walk(fx.bindings_fd, sizeof(struct fc_endpoint_key), sizeof(struct fc_binding),
		 check_binding, c);
	map_walk(fx.sessions_fd, sizeof(struct fc_session_key), sizeof(struct fc_session),
		 check_session, c);
}

/* ---- the run ------------------------------------------------------------ */

static int prog_fd(int prog)
{
	switch (prog) {
	case P_EGRESS: return fx.egress_fd;
	case P_INGRESS: return fx.ingress_fd;
	case P_LAN: return fx.lan_fd;
	case P_LO: return fx.lo_fd;
	case P_XDP_EXT: return fx.xdp_ext_fd;
	case P_XDP_INT: return fx.xdp_int_fd;
	case P_FAST_INT: return fx.fast_int_fd;
	default: return fx.fast_ingress_fd;
	}
}

static int run_job(const struct job *j, struct run_result *r)
{
	/* The fast path's TC programs run on the ingress of a real device:
	 * their FIB lookups start from it. */
	struct __sk_buff ctx = { .ingress_ifindex = j->ifindex,
				 .ifindex = j->prog >= P_MAX ? j->ifindex : 0 };
	/* One TC run in eight as a GSO packet (TSO, GRO) of some segment
	 * size: its MTU checks and errors are per segment. */
	if (rn(8) == 0) {
		ctx.gso_size = 1 + rn(1500);
		ctx.gso_segs = 2;
	}
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = j->in, .data_size_in = j->len,
		.data_out = r->out, .data_size_out = sizeof(r->out),
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (prog_is_xdp(j->prog))
		return run_xdp(prog_fd(j->prog), j->in, j->len, j->ifindex, r);
	if (bpf_prog_test_run_opts(prog_fd(j->prog), &opts))
		return -errno;
	r->ret = opts.retval;
	r->out_len = opts.data_size_out;
	return 0;
}

/* Valid traffic first: NR_FLOWS flows out, most of them answered. */
static void populate(void)
{
	struct run_result r;
	struct job j;

	while (nr_flows < NR_FLOWS) {
		struct flow *f = &flows[nr_flows];
		struct pkt_spec s = {};

		f->proto = random_l4();
		f->int_addr = internal_host();
		f->int_port = 1024 + rn(64512);
		f->remote = remote_host();
		f->rport = f->proto == IPPROTO_ICMP ? 0 : 1 + rn(65535);
		s.proto = f->proto;
		s.saddr = dotted(f->int_addr);
		s.sport = f->int_port;
		s.daddr = dotted(f->remote);
		s.dport = f->rport;
		s.tcp_flags = 0x02;
		s.icmp_type = 8;
		s.payload_len = 20;
		j.len = pkt_build(&s, j.in);
		if (run_prog_from(fx.egress_fd, j.in, j.len, FORWARDED_FROM, &r) || r.ret != TC_ACT_OK)
			continue;	/* e.g. the same internal endpoint twice */
		f->ext_port = f->proto == IPPROTO_ICMP ? be16(r.out + 14 + 20 + 4)
						       : be16(r.out + 14 + 20);
		nr_flows++;
		if (chance(30))
			continue;
		/* The answer, and now and then a second remote (EIF). */
		memset(&s, 0, sizeof(s));
		s.proto = f->proto;
		s.saddr = dotted(chance(80) ? f->remote : remote_host());
		s.sport = f->rport;
		s.daddr = dotted(ext_host);
		s.dport = f->ext_port;
		s.tcp_flags = 0x12;
		s.icmp_type = 0;
		s.payload_len = 20;
		j.len = pkt_build(&s, j.in);
		run_prog_from(fx.ingress_fd, j.in, j.len, 3, &r);
	}
}

/* An unmutated outbound packet of a flow: follow its external port, which
 * changes when the mapping expired and was made again. */
static void learn(const struct job *j, const struct run_result *r)
{
	struct flow *f = &flows[j->flow];
	struct view v = view_of((uint8_t *)r->out, r->out_len);
	int sent = prog_is_xdp(j->prog) ? r->ret == XDP_REDIRECT_ || r->ret == XDP_TX_
					: r->ret == TC_ACT_OK || r->ret == TC_ACT_REDIRECT;

	/* Sent on with the external address as source: translated. */
	if (!sent || !v.ok || v.fragment || !v.whole || v.l4_len < 8 ||
	    be32(v.ip + 12) != ext_host)
		return;
	f->ext_port = f->proto == IPPROTO_ICMP ? be16(v.l4 + 4) : be16(v.l4);
}

/* BPF_PROG_TEST_RUN wants a whole IPv4 (IPv6) header behind an IPv4
 * (IPv6) ethertype; shorter frames never reach the program. */
static int kernel_refuses(const struct job *j)
{
	uint16_t type = be16(j->in + 12);

	return (type == 0x0800 && j->len < 14 + 20) || (type == 0x86dd && j->len < 14 + 40);
}

/*
 * Re-injected and redirected copies stay in a private namespace. Its
 * addressing is the unit tests' (xdp_fixture_setup: ext0 198.51.100.1/24
 * with SERVER_1/SERVER_2 as static neighbours, int0 192.168.77.1/24), and
 * on top of it what the fuzzer's own addresses need for the FIB lookups of
 * the fast path and of hairpinning to succeed:
 *
 *   192.168.0.0/16 via 192.168.77.254 (int0)   the fuzzer's internal hosts
 *                                              192.168.1-8.x, behind a router
 *   default via 198.51.100.254 (ext0)          203.0.113.x, 198.51.100.x, 8.8.8.x
 *   198.51.100.4-127 static neighbours          on-link remotes the fast path
 *                                              reaches; .128-.251 have none
 *                                              (passed to the stack: no neighbour)
 *   int0 MTU 1000                               larger inbound packets are
 *                                              passed to the stack (MTU)
 */
static void setup_netns(void)
{
	if (unshare(CLONE_NEWNET) || system("ip link set lo up")) {
		fprintf(stderr, "cannot set up a private network namespace: %s\n", strerror(errno));
		exit(1);
	}
}

static void setup_routes(void)
{
	if (system("set -e\n"
		   "ip neigh add 192.168.77.254 lladdr 02:00:00:00:02:fe dev int0 nud permanent\n"
		   "ip route add 192.168.0.0/16 via 192.168.77.254 dev int0\n"
		   "ip neigh add 198.51.100.254 lladdr 02:00:00:00:01:fe dev ext0 nud permanent\n"
		   "ip route add default via 198.51.100.254 dev ext0\n"
		   "ip link set int0 mtu 1000\n"
		   "for i in $(seq 4 127); do\n"
		   "  echo neigh add 198.51.100.$i lladdr 02:00:00:00:01:fe dev ext0 nud permanent\n"
		   "done | ip -batch -\n")) {
		fprintf(stderr, "cannot set up the routes of the private namespace\n");
		exit(1);
	}
}

/* Per kind and path: 0 the TC programs, 1 XDP, 2 TC's fast path (some 25
 * kinds, three paths). */
static struct { const char *kind; int path; uint64_t ns, n; } kinds[96];

static void kind_time(const char *kind, int prog, uint64_t ns)
{
	int path = prog_is_xdp(prog) ? 1 : prog >= P_MAX ? 2 : 0;

	for (int i = 0; i < 96; i++) {
		if (!kinds[i].kind) {
			kinds[i].kind = kind;
			kinds[i].path = path;
		}
		if (kinds[i].kind == kind && kinds[i].path == path) {
			kinds[i].ns += ns;
			kinds[i].n++;
			return;
		}
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: fuzz [-n PACKETS] [-s SEED] [-t SECONDS] [-x FAST_PERCENT] "
		"[-r MAX_REPORTED] [-v]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long long want = 1000000, mutated = 0, verdicts[8] = {}, fast_tc = 0;
	double limit_s = 600;
	struct map_check mc;
	struct gc_state gc;
	struct gc_result gr;
	uint64_t t0, t;
	int opt;

	setvbuf(stdout, NULL, _IOLBF, 0);
	seed = 1;
	while ((opt = getopt(argc, argv, "n:s:t:vr:x:")) != -1) {
		switch (opt) {
		case 'r': max_report = strtoull(optarg, NULL, 0); break;
		case 'n': want = strtoull(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 't': limit_s = strtod(optarg, NULL); break;
		case 'v': verbose = 1; break;
		case 'x':
			fast_share = strtoul(optarg, NULL, 0);
			if (fast_share > 100)
				usage();
			break;
		default: usage();
		}
	}
	rng = seed * 0x9e3779b97f4a7c15ULL + 1;

	fc_log_level = FC_LOG_ERR;
	loader_setup_libbpf_log(false, false);
	setup_netns();
	if (fixture_load(&fx, 0, 0)) {
		fprintf(stderr, "cannot load the datapath (are you root?)\n");
		return 1;
	}
	if (xdp_fixture_setup(&fx) || tc_fast_fixture_setup(&fx)) {
		fprintf(stderr, "cannot load the fast path (XDP, TC with --lan-if)\n");
		return 1;
	}
	setup_routes();
	/* Short timeouts, so state expires and is swept during the run. */
	fx.opts.timeout_s[FC_TIMEOUT_UDP] = 4;
	fx.opts.timeout_s[FC_TIMEOUT_ICMP] = 2;
	fx.opts.timeout_s[FC_TIMEOUT_TCP_TRANS] = 6;
	fx.opts.timeout_s[FC_TIMEOUT_TCP_EST] = 20;
	fx.opts.nr_port_ranges = 2;
	memcpy(fx.opts.port_ranges, fuzz_ranges, sizeof(fuzz_ranges));
	fx.opts.nat66 = true;	/* external address EXT_ADDR6 (fixture.h) */
	fx.opts.nat64 = true;	/* 64:ff9b::/96; EXT_ADDR routes out of ext0 */
	{
		char err[128];
		unsigned int plen;

		if (parse_nat64_prefix("64:ff9b::/96", fx.opts.nat64_prefix, &plen, err,
				       sizeof(err)))
			return 1;
		fx.opts.nat64_prefix_len = plen;
		/* One internal host address-mapped (FUZZ64_STATIC_HOST, among
		 * the generated sources): its own traffic and hairpinning to
		 * its address (nat64_hairpin_mapped) run next to NAPT64. */
		if (nat64_pool_option(&fx.opts.nat64pool, FC_NAT64_OPT_STATIC,
				      FUZZ64_STATIC_HOST "=" FUZZ64_STATIC_V4, err, sizeof(err)))
			return 1;
	}
	fixture_apply(&fx);
	ext_host = ntohl(ip4(EXT_ADDR));
	gc_init(&gc);

	fuzz6_init(1, EXT_ADDR6);
	fuzz64_init(EXT_ADDR);
	populate();
	fuzz6_populate();
	check_maps(&mc);
	printf("fuzz: seed %llu, %u flows made: %lu bindings, %lu sessions\n",
	       (unsigned long long)seed, nr_flows, mc.bindings, mc.sessions);

	t0 = now_ns();
	while (packets < want) {
		static struct job j;
		static struct run_result r;
		int err;

		generate(&j);
		if (chance(70)) {
			int n = 1 + rn(3);

			for (int i = 0; i < n; i++)
				mutate(&j);
			if (chance(50)) {
				fix_checksums(j.in, j.len);
				fuzz6_fix_checksums(j.in, j.len);
			}
			j.flow = -1;
			mutated++;
		}
		packets++;
		uint64_t tk = verbose ? now_ns() : 0;
		err = run_job(&j, &r);
		if (verbose)
			kind_time(j.kind, j.prog, now_ns() - tk);
		if (err == -EINVAL && kernel_refuses(&j)) {
			refused++;
			continue;
		}
		if (err) {
			runs_failed++;
			if (runs_failed < 5)
				fprintf(stderr, "test run failed (%s), %s, %zu bytes\n",
					strerror(-err), j.kind, j.len);
			continue;
		}
		tested++;
		if (prog_is_xdp(j.prog)) {
			check_xdp(&j, &r);
		} else {
			if (j.prog >= P_MAX)
				fast_tc++;
			verdicts[r.ret & 7]++;
			check(&j, &r);
		}
		if (j.flow >= 0 && j.v6)
			fuzz6_learn(&j, &r);
		else if (j.flow >= 0)
			learn(&j, &r);
		if (packets % SWEEP_EVERY == 0)
			gc_sweep(&gc, fx.bindings_fd, fx.sessions_fd, &fx.cfg, gc_now_ns(), &gr);
		if (packets % CHECK_EVERY == 0) {
			check_maps(&mc);
			t = now_ns();
			if (verbose)
				printf("  %llu packets, %.0f/s, %lu bindings, %lu sessions\n",
				       packets, packets / ((t - t0) / 1e9), mc.bindings, mc.sessions);
		}
		if (packets % TIME_CHECK_EVERY == 0 && (now_ns() - t0) / 1e9 > limit_s) {
			printf("fuzz: time limit of %.0f s reached\n", limit_s);
			break;
		}
	}
	t = now_ns();
	check_maps(&mc);
	printf("fuzz: seed %llu: %llu packets (%llu mutated) in %.1f s, %.0f packets/s\n",
	       (unsigned long long)seed, packets, mutated, (t - t0) / 1e9,
	       packets / ((t - t0) / 1e9));
	printf("fuzz: verdicts ok %llu, shot %llu, redirect %llu; short frames the kernel "
	       "refuses %llu, failed test runs %llu\n",
	       verdicts[0], verdicts[2], verdicts[7], refused, runs_failed);
	printf("fuzz: XDP verdicts drop %llu, pass %llu (%llu rewritten), tx %llu, redirect %llu; "
	       "TC fast path runs %llu (in the TC verdicts); redirects checked: %llu out of "
	       "ext0, %llu out of int0, %llu resolved by the kernel\n",
	       xdp_verdicts[XDP_DROP_], xdp_verdicts[XDP_PASS_], xdp_pass_rewritten,
	       xdp_verdicts[XDP_TX_], xdp_verdicts[XDP_REDIRECT_], fast_tc,
	       redirect_checked[1], redirect_checked[0], redirect_checked[2]);
	printf("fuzz: maps at the end: %lu bindings, %lu sessions\n", mc.bindings, mc.sessions);
	fuzz64_report();
	for (int i = 0; verbose && i < 96 && kinds[i].kind; i++)
		printf("  %-4s %-18s %9llu packets, %6.0f ns per test run\n",
		       (const char *[]){ "tc", "xdp", "fast" }[kinds[i].path], kinds[i].kind,
		       (unsigned long long)kinds[i].n, (double)kinds[i].ns / kinds[i].n);
	printf("fuzz: checked: %llu forwarded outputs for leaks (%llu ICMP error quotes), "
	       "%llu rewritten outputs (%llu with a whole, checksummed L4 datagram)\n",
	       leak_checked, quote_checked, changed, l4_checked);
	if (verbose) {
		__u64 st[FC_STAT_MAX];

		if (!stats_read(fx.stats_fd, st))
			for (int i = 0; i < FC_STAT_MAX; i++)
				printf("  %-28s %llu\n", stat_name(i), (unsigned long long)st[i]);
	}
	printf("fuzz: %llu invariant violations\n", violations);
	if (packets < want)
		printf("fuzz: FAILED: the time limit (%.0f s) ended the run after %llu of %llu "
		       "packets\n", limit_s, packets, want);
	gc_free(&gc);
	tc_fast_fixture_unload(&fx);
	fixture_unload(&fx);
	return violations || runs_failed || packets < want ? 1 : 0;
}
