// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's IPv6 part: valid NAT66 traffic, extension header chains,
 * fragments, ICMPv6 errors (nested too), neighbour discovery and link-local
 * packets, then IPv6-specific mutations of each. The invariants are those
 * of fuzz.c for IPv6:
 *
 *   (a) no leak (with NAT66 on): a forwarded packet the egress program
 *       passes carries no internal (fd00:1::/48) source, and an ICMPv6
 *       error it passes quotes no internal address;
 *   (b) checksums: a rewritten packet whose input had a valid UDP, TCP or
 *       ICMPv6 checksum (whole, unfragmented datagram) still has one;
 *   (c) lengths: the payload length stays within the frame.
 *
 * Without NAT66 the programs must leave IPv6 alone: (b) and (c) still hold,
 * and nothing may be changed at all.
 *
 * NAT64 (with --nat64 64:ff9b::/96 on): IPv6 to the prefix on an internal
 * interface (the lan program), IPv4 to the ports of NAT64 mappings and ICMP
 * errors about them on the external ingress, mutated like the rest:
 *
 *   (a64) an IPv6 packet to the prefix is never passed on as IPv6 (unless
 *         the stack must drop it anyway: malformed, or its hop limit ends
 *         here); a redirected one is IPv4 from the external address with a
 *         valid header checksum, or IPv6 sent back inside: an ICMPv6 error
 *         to the sender (a discard answered) or a hairpinned packet from
 *         the external address under the prefix, never to the prefix; the
 *         IPv6 on an internal interface is otherwise left untouched;
 *   (b64) a translated packet whose input had a valid transport checksum
 *         (whole, unfragmented) has a valid one, both ways;
 *   (c64) an inbound packet turned IPv6 goes from the prefix to a mapped
 *         IPv6 host, its payload length within the frame.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"

#define NR_FLOWS6	1000

struct flow6 {
	uint8_t proto;		/* IPPROTO_UDP, _TCP, _ICMPV6 */
	uint8_t int_addr[16];
	uint16_t int_port;	/* ICMPv6: echo id */
	uint16_t ext_port;
	uint8_t remote[16];
	uint16_t rport;
};

static struct flow6 flows6[NR_FLOWS6];

/* NAT64: the external ports its mappings got, learnt from redirected
 * outputs (any IPv4 host reaches them: EIF). */
#define NR_PORTS64	256
static struct { uint8_t proto; uint16_t port; } ports64[NR_PORTS64];
static unsigned int nr_ports64;
static int nat64_on;
static uint8_t ext4[4];
static uint8_t static4[4];	/* FUZZ64_STATIC_V4 */
static uint8_t static6[16];	/* FUZZ64_STATIC_HOST */
static unsigned long long out64_done, in64_done, hairpin4_done, hairpin64_done;
static const uint8_t prefix64[12] = { 0, 0x64, 0xff, 0x9b };
static unsigned int nr_flows6;
static int nat66_on;
static uint8_t ext6[16];

/* ---- addresses ---------------------------------------------------------- */

static const char *text6(const uint8_t a[16])
{
	static char ring[16][INET6_ADDRSTRLEN];
	static unsigned int next;
	char *s = ring[next++ % 16];

	inet_ntop(AF_INET6, a, s, INET6_ADDRSTRLEN);
	return s;
}

static void internal6(uint8_t a[16])
{
	memset(a, 0, 16);
	a[0] = 0xfd;
	a[3] = 1;
	a[7] = rn(8);
	a[15] = 1 + rn(250);
}

static int is_internal6(const uint8_t *a)
{
	static const uint8_t net[6] = { 0xfd, 0, 0, 1, 0, 0 };

	return !memcmp(a, net, sizeof(net));
}

static void remote6(uint8_t a[16])
{
	static const uint8_t nets[3][4] = { { 0x20, 0x01, 0x0d, 0xb8 },
					    { 0x26, 0x06, 0x47, 0x00 },
					    { 0x2a, 0x00, 0x14, 0x50 } };

	memset(a, 0, 16);
	memcpy(a, nets[rn(3)], 4);
	a[5] = 0x20 + rn(4);
	a[15] = 2 + rn(250);
}

static void link_local6(uint8_t a[16])
{
	memset(a, 0, 16);
	a[0] = 0xfe;
	a[1] = 0x80;
	a[8] = 0x02;
	a[15] = 1 + rn(250);
}

static uint16_t range_port6(void)
{
	/* The fuzz configuration's ranges (fuzz.c). */
	uint32_t i = rn(41000);

	return i < 20000 ? 10000 + i : 40000 + i - 20000;
}

static uint8_t random_l4_6(void)
{
	static const uint8_t p[] = { IPPROTO_UDP, IPPROTO_UDP, IPPROTO_TCP, IPPROTO_TCP,
				     IPPROTO_ICMPV6 };

	return p[rn(sizeof(p))];
}

/* ---- generators --------------------------------------------------------- */

static void l4_spec6(struct pkt_spec *s, uint8_t proto, int outbound)
{
	static const uint8_t flags[] = { 0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x01 };

	s->proto = proto;
	s->payload_len = rn(4) ? rn(64) : rn(1200);
	if (proto == IPPROTO_TCP) {
		s->tcp_flags = rn(8) ? flags[rn(sizeof(flags))] : rn(256);
		s->tcp_seq = rnd();
		s->tcp_ack = rnd();
		s->tcp_win = rn(65536);
	} else if (proto == IPPROTO_ICMPV6) {
		s->icmp_type = outbound ? 128 : 129;
		s->icmp_seq = rn(65536);
	}
	if (chance(15)) {
		/* An extension header chain: hop-by-hop first, as RFC 8200
		 * asks, then any of routing, destination options, an atomic
		 * fragment; now and then longer than the datapath walks. */
		static const uint8_t any[] = { 43, 60, 60, 44 };
		int n = chance(90) ? 1 + rn(3) : 4 + rn(4);

		for (int i = 0; i < n && i < 8; i++) {
			s->ext_hdrs[i] = i == 0 && chance(50) ? 0 : any[rn(sizeof(any))];
			if (s->ext_hdrs[i] == 44 && i && s->ext_hdrs[0] == 44)
				s->ext_hdrs[i] = 60;
		}
		s->nr_ext = n;
	}
}

static struct flow6 *pick_flow6(void)
{
	return nr_flows6 ? &flows6[rn(nr_flows6)] : NULL;
}

static void gen6_out(struct job *j)
{
	struct pkt_spec s = {};
	struct flow6 *f = chance(90) ? pick_flow6() : NULL;
	uint8_t a[16], b[16];

	if (f) {
		l4_spec6(&s, f->proto, 1);
		s.saddr = text6(f->int_addr);
		s.sport = f->int_port;
		if (chance(70)) {
			s.daddr = text6(f->remote);
			s.dport = f->rport;
		} else {
			remote6(b);
			s.daddr = text6(b);
			s.dport = rn(65536);
		}
		j->flow = f - flows6;
	} else {
		l4_spec6(&s, random_l4_6(), 1);
		internal6(a);
		remote6(b);
		s.saddr = text6(a);
		s.daddr = text6(b);
		s.sport = 1024 + rn(64512);
		s.dport = rn(65536);
	}
	if (s.proto == IPPROTO_ICMPV6)
		s.dport = 0;
	j->prog = P_EGRESS;
	j->ifindex = FORWARDED_FROM;
	j->kind = "out6";
	if (chance(10)) {
		s.saddr = text6(ext6);
		s.sport = chance(50) ? range_port6() : rn(65536);
		j->ifindex = LOCAL_ORIGIN;
		j->flow = -1;
		j->kind = "out6-local";
	}
	j->len = pkt_build(&s, j->in);
}

static void gen6_in(struct job *j)
{
	struct pkt_spec s = {};
	struct flow6 *f = pick_flow6();
	uint8_t b[16];

	l4_spec6(&s, f ? f->proto : random_l4_6(), 0);
	remote6(b);
	s.saddr = text6(f && chance(60) ? f->remote : b);
	s.sport = f && chance(60) ? f->rport : rn(65536);
	s.daddr = text6(chance(95) ? ext6 : b);
	s.dport = f && chance(90) ? f->ext_port : range_port6();
	if (s.proto == IPPROTO_ICMPV6)
		s.sport = 0;
	j->prog = P_INGRESS;
	j->ifindex = 3;
	j->kind = "in6";
	j->len = pkt_build(&s, j->in);
}

static void gen6_error(struct job *j, int outbound)
{
	static const uint8_t types[] = { 1, 1, 2, 3, 4 };
	struct pkt_spec q = {}, inner = {}, s = {};
	struct flow6 *f = pick_flow6();
	uint8_t a[16], b[16];
	uint8_t proto = f ? f->proto : random_l4_6();

	internal6(a);
	remote6(b);
	l4_spec6(&q, proto, !outbound);
	if (outbound) {
		q.saddr = text6(f ? f->remote : b);
		q.sport = f ? f->rport : rn(65536);
		q.daddr = text6(f ? f->int_addr : a);
		q.dport = f ? f->int_port : rn(65536);
		if (proto == IPPROTO_ICMPV6)
			q.icmp_type = 129, q.sport = 0;
		s.saddr = q.daddr;
		s.daddr = q.saddr;
	} else {
		q.saddr = text6(ext6);
		q.sport = f ? f->ext_port : range_port6();
		q.daddr = text6(f ? f->remote : b);
		q.dport = f ? f->rport : rn(65536);
		if (proto == IPPROTO_ICMPV6)
			q.icmp_type = 128, q.dport = 0;
		remote6(b);
		s.saddr = text6(b);
		s.daddr = text6(ext6);
	}
	q.payload_len = rn(64);
	s.proto = IPPROTO_ICMPV6;
	s.icmp_type = types[rn(sizeof(types))];
	s.icmp_code = rn(7);
	s.icmp_mtu = s.icmp_type == 2 ? 1280 + rn(300) : 0;
	s.icmp_pointer = s.icmp_type == 4 ? rn(48) : 0;
	s.quote = &q;
	if (chance(30))
		s.quote_l4_len = 8 + rn(20);
	j->kind = outbound ? "out6-error" : "in6-error";
	if (chance(10)) {
		inner = s;
		s.quote = &inner;
		s.quote_l4_len = rn(2) ? 0 : 8 + rn(40);
		j->kind = outbound ? "out6-error-nested" : "in6-error-nested";
	}
	j->prog = outbound ? P_EGRESS : P_INGRESS;
	j->ifindex = outbound ? (chance(15) ? LOCAL_ORIGIN : FORWARDED_FROM) : 3;
	if (outbound && j->ifindex == LOCAL_ORIGIN)
		s.saddr = text6(ext6);
	j->len = pkt_build(&s, j->in);
}

static void gen6_frag(struct job *j)
{
	struct pkt_spec s = {};
	struct flow6 *f = pick_flow6();
	int outbound = chance(40), first = chance(50);
	uint8_t a[16], b[16];

	internal6(a);
	remote6(b);
	l4_spec6(&s, f ? f->proto : random_l4_6(), outbound);
	s.nr_ext = 1;
	s.ext_hdrs[0] = 44;
	s.frag6_id = 0x100 + rn(8);
	s.payload_len = 8 * (1 + rn(100));
	s.frag6 = first ? 1 : (chance(70) ? 1 : 0) | 8 * (1 + rn(300));
	if (outbound) {
		s.saddr = text6(f ? f->int_addr : a);
		s.sport = f ? f->int_port : rn(65536);
		s.daddr = text6(f ? f->remote : b);
		s.dport = f ? f->rport : rn(65536);
	} else {
		s.saddr = text6(f ? f->remote : b);
		s.sport = f ? f->rport : rn(65536);
		s.daddr = text6(ext6);
		s.dport = f ? f->ext_port : range_port6();
	}
	j->prog = outbound ? P_EGRESS : P_INGRESS;
	j->ifindex = outbound ? FORWARDED_FROM : 3;
	j->kind = outbound ? "out6-frag" : "in6-frag";
	j->len = pkt_build(&s, j->in);
}

/* Neighbour discovery, router solicitations and other link-local or
 * multicast traffic: never NAT's business. */
static void gen6_link(struct job *j)
{
	static const uint8_t nd[] = { 133, 134, 135, 136, 137, 143 };
	struct pkt_spec s = {};
	uint8_t a[16], b[16];

	link_local6(a);
	if (chance(50)) {
		memset(b, 0, 16);
		b[0] = 0xff;
		b[1] = 0x02;
		b[15] = rn(2) ? 1 : 2;
	} else {
		link_local6(b);
	}
	s.proto = IPPROTO_ICMPV6;
	s.icmp_type = nd[rn(sizeof(nd))];
	s.ttl = 255;
	s.saddr = text6(a);
	s.daddr = text6(b);
	s.payload_len = 16 + rn(24);
	if (chance(20)) {
		s.proto = IPPROTO_UDP;
		s.sport = 546;
		s.dport = 547;
	}
	j->prog = rn(P_MAX);
	j->ifindex = rn(2) ? FORWARDED_FROM : LOCAL_ORIGIN;
	j->kind = "link6";
	j->len = pkt_build(&s, j->in);
}

static void gen6_junk(struct job *j)
{
	static const uint8_t protos[] = { 0, 43, 44, 50, 51, 59, 60, 47, 132, 41 };
	struct pkt_spec s = {};
	uint8_t a[16], b[16];

	if (chance(50))
		internal6(a);
	else
		remote6(a);
	remote6(b);
	s.proto = rn(3) ? protos[rn(sizeof(protos))] : rn(256);
	s.saddr = text6(a);
	s.daddr = text6(chance(50) ? ext6 : b);
	s.payload_len = rn(300);
	j->prog = rn(P_MAX);
	j->ifindex = rn(3);
	j->kind = "junk6";
	j->len = pkt_build(&s, j->in);
	if (chance(30))
		for (size_t i = 14 + 40; i < j->len; i++)
			j->in[i] = rnd();
}


/* ---- NAT64 -------------------------------------------------------------- */

static void addr64(uint8_t a[16])
{
	memset(a, 0, 16);
	memcpy(a, prefix64, sizeof(prefix64));
	a[12] = 1 + rn(223);
	a[13] = rn(256);
	a[14] = rn(256);
	a[15] = 1 + rn(254);
	if (a[12] == 127 || a[12] == 10 || a[12] == 192)
		a[12] = 203;	/* not loopback, not the fuzzer's own networks */
}

static const char *dotted4(const uint8_t a[4])
{
	static char ring[8][INET_ADDRSTRLEN];
	static unsigned int next;
	char *s = ring[next++ % 8];

	inet_ntop(AF_INET, a, s, INET_ADDRSTRLEN);
	return s;
}

static void gen64_out(struct job *j)
{
	struct pkt_spec s = {};
	uint8_t a[16], b[16];

	l4_spec6(&s, random_l4_6(), 1);
	internal6(a);
	addr64(b);
	s.saddr = text6(a);
	s.daddr = text6(b);
	s.sport = 1024 + rn(64512);
	s.dport = s.proto == IPPROTO_ICMPV6 ? 0 : rn(65536);
	if (s.proto != IPPROTO_ICMPV6 && chance(10)) {
		/* Hairpinned to the external address: an IPv4 host's
		 * mapping (nat64_hairpin's FC_NAT64_HAIRPIN4) or another's. */
		memcpy(b + 12, ext4, 4);
		s.daddr = text6(b);
		s.dport = fuzz_nat44_port(s.proto);
	} else if (chance(8)) {
		/* To the address-mapped host (nat64_hairpin_mapped). */
		memcpy(b + 12, static4, 4);
		s.daddr = text6(b);
	}
	if (chance(5))
		s.ttl = 1 + rn(2);
	j->prog = P_LAN;
	j->ifindex = FORWARDED_FROM;
	j->kind = "out64";
	j->len = pkt_build(&s, j->in);
}

/* IPv4 to a NAT64 mapping's port (or any port of the range), or an ICMP
 * error quoting a packet the mapping sent. */
static void gen64_in(struct job *j, int error)
{
	static const uint8_t types[] = { 3, 3, 3, 11, 12 };
	struct pkt_spec s = {}, q = {};
	uint8_t r4[4], q4[4];
	uint8_t proto = IPPROTO_UDP;
	uint16_t port = range_port6();

	if (nr_ports64 && chance(90)) {
		unsigned int i = rn(nr_ports64);

		proto = ports64[i].proto;
		port = ports64[i].port;
	}
	for (int i = 0; i < 4; i++)
		r4[i] = q4[i] = 1 + rn(200);
	r4[0] = q4[0] = 203;
	s.saddr = dotted4(r4);
	s.daddr = dotted4(ext4);
	j->prog = P_INGRESS;
	j->ifindex = 3;
	if (error) {
		q.proto = proto;
		q.saddr = s.daddr;
		q.daddr = chance(70) ? s.saddr : dotted4(q4);
		q.sport = port;
		q.dport = rn(65536);
		q.icmp_type = 8;
		q.payload_len = rn(40);
		s.proto = IPPROTO_ICMP;
		s.icmp_type = types[rn(sizeof(types))];
		s.icmp_code = s.icmp_type == 3 ? rn(16) : rn(2);
		s.icmp_mtu = s.icmp_code == 4 ? rn(1500) : 0;
		s.quote = &q;
		s.quote_l4_len = chance(50) ? 8 : 0;
		j->kind = "err64";
	} else {
		s.proto = proto;
		s.sport = rn(65536);
		s.dport = port;
		s.payload_len = rn(4) ? rn(64) : rn(1200);
		if (proto == IPPROTO_TCP)
			s.tcp_flags = 0x10 | rn(8);
		if (proto == IPPROTO_ICMP) {
			s.icmp_type = 0;
			s.sport = 0;
		}
		j->kind = "in64";
	}
	j->len = pkt_build(&s, j->in);
}

void fuzz6_generate(struct job *j)
{
	uint32_t r = rn(100);

	j->flow = -1;
	if (r < 25)
		gen6_out(j);
	else if (r < 45)
		gen6_in(j);
	else if (r < 58)
		gen6_error(j, 0);
	else if (r < 70)
		gen6_error(j, 1);
	else if (r < 80)
		gen6_frag(j);
	else if (r < 88)
		gen6_link(j);
	else if (nat64_on && r < 93)
		gen64_out(j);
	else if (nat64_on && r < 96)
		gen64_in(j, 0);
	else if (nat64_on && r < 98)
		gen64_in(j, 1);
	else
		gen6_junk(j);
}

/* ---- where the headers are ---------------------------------------------- */

struct view6 {
	int ok;			/* IPv6 ethertype, a whole fixed header */
	uint8_t *ip;
	size_t tot;		/* 40 + payload length */
	int whole;		/* tot within the frame */
	int walked;		/* the extension header chain ends inside the datagram */
	int fragment;		/* fragment header with an offset or M */
	int first;		/* offset 0 */
	uint8_t proto;		/* after the chain */
	uint8_t *l4;
	size_t l4_len;
};

static struct view6 view6_of(uint8_t *f, size_t len)
{
	struct view6 v = {};
	size_t off = 40;

	if (len < 14 + 40 || be16(f + 12) != 0x86dd)
		return v;
	v.ip = f + 14;
	v.ok = 1;
	v.tot = 40 + be16(v.ip + 4);
	v.whole = be16(v.ip + 4) && 14 + v.tot <= len;
	v.first = 1;
	v.proto = v.ip[6];
	for (int i = 0; i < 8; i++) {
		size_t hl;

		if (off + 8 > v.tot || 14 + off + 8 > len)
			return v;
		if (v.proto == 0 || v.proto == 43 || v.proto == 60)
			hl = (v.ip[off + 1] + 1) * 8;
		else if (v.proto == 51)
			hl = (v.ip[off + 1] + 2) * 4;
		else if (v.proto == 44) {
			uint16_t fo = be16(v.ip + off + 2);

			hl = 8;
			v.fragment = (fo & 0xfff9) != 0;
			v.first = (fo & 0xfff8) == 0;
		} else
			break;
		v.proto = v.ip[off];
		off += hl;
	}
	if (off > v.tot)
		return v;
	v.walked = 1;
	v.l4 = v.ip + off;
	v.l4_len = v.whole ? v.tot - off : 0;
	return v;
}

static size_t l4_min6(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 20 : proto == IPPROTO_UDP || proto == IPPROTO_ICMPV6 ? 8 : 0;
}

static size_t l4_csum_at6(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
}

static uint32_t l4_sum6(const struct view6 *v)
{
	uint32_t sum = sum16(v->ip + 8, 32, 0) + (uint32_t)(v->l4_len >> 16) +
		       (uint32_t)(v->l4_len & 0xffff) + v->proto;

	return fold_sum(sum16(v->l4, v->l4_len, sum));
}

static int checksummed(const struct view6 *v)
{
	return v->ok && v->whole && v->walked && !v->fragment && l4_min6(v->proto) &&
	       v->l4_len >= l4_min6(v->proto);
}

void fuzz6_fix_checksums(uint8_t *f, size_t len)
{
	struct view6 v = view6_of(f, len);
	uint8_t *cs;
	uint16_t c;

	if (!checksummed(&v))
		return;
	cs = v.l4 + l4_csum_at6(v.proto);
	put16(cs, 0);
	c = ~l4_sum6(&v);
	put16(cs, v.proto == IPPROTO_UDP && !c ? 0xffff : c);
}

/* ---- mutations ---------------------------------------------------------- */

void fuzz6_mutate(struct job *j)
{
	struct view6 v = view6_of(j->in, j->len);
	uint8_t *ip = j->in + 14, a[16];
	size_t pos;

	switch (rn(12)) {
	case 0:	/* truncate */
		j->len = 14 + rn(j->len - 13);
		break;
	case 1:	/* extend with junk */
		pos = j->len + 1 + rn(64);
		if (pos > 1514)
			pos = 1514;
		for (size_t i = j->len; i < pos; i++)
			j->in[i] = rnd();
		j->len = pos;
		break;
	case 2:	/* flip bits in the headers */
		j->in[rn(j->len < 14 + 200 ? j->len : 14 + 200)] ^= 1 << rn(8);
		break;
	case 3:	/* payload length */
		if (v.ok) {
			int d = chance(50) ? (int)rn(41) - 20 : (int)rn(65536) - (int)j->len;

			put16(ip + 4, (uint16_t)(j->len - 54 + d));
		}
		break;
	case 4:	/* the first next header */
		if (v.ok)
			ip[6] = chance(70) ? (uint8_t[]){ 0, 6, 17, 43, 44, 51, 58, 59, 60 }[rn(9)]
					   : rn(256);
		break;
	case 5:	/* an extension header's length or next header */
		if (v.ok && j->len > 14 + 40 + 2)
			ip[40 + rn(2)] = rn(4) ? rn(8) : rn(256);
		break;
	case 6:	/* fragment offset and M of the first header */
		if (v.ok && j->len > 14 + 40 + 4)
			put16(ip + 40 + 2, rn(65536));
		break;
	case 7:	/* ICMPv6 type */
		if (v.walked && v.l4 + 8 <= j->in + j->len)
			v.l4[0] = (uint8_t[]){ 1, 2, 3, 4, 128, 129, 133, 135, 136 }[rn(9)];
		break;
	case 8:	/* a quoted header's address: internal, ours, a remote */
		if (v.walked && v.l4 + 8 + 40 <= j->in + j->len) {
			uint8_t *at = v.l4 + 8 + (rn(2) ? 8 : 24);

			if (chance(40))
				internal6(a);
			else if (chance(50))
				memcpy(a, ext6, 16);
			else
				remote6(a);
			memcpy(at, a, 16);
		}
		break;
	case 9:	/* a quoted header's payload length or next header */
		if (v.walked && v.l4 + 8 + 40 <= j->in + j->len) {
			if (rn(2))
				put16(v.l4 + 8 + 4, rn(65536));
			else
				v.l4[8 + 6] = (uint8_t[]){ 0, 6, 17, 44, 58, 60 }[rn(6)];
		}
		break;
	case 10: /* zero the transport checksum */
		if (v.walked && v.l4 + 20 <= j->in + j->len)
			put16(v.l4 + l4_csum_at6(v.proto), 0);
		break;
	default: /* ports / ids */
		if (v.walked && v.l4 + 8 <= j->in + j->len)
			put16(v.l4 + 2 * rn(4), rn(65536));
	}
}

/* ---- invariants --------------------------------------------------------- */

enum csum6 { C6_NA, C6_OK, C6_BAD };

static enum csum6 l4_csum6(const struct view6 *v)
{
	if (!checksummed(v))
		return C6_NA;
	return l4_sum6(v) == 0xffff ? C6_OK : C6_BAD;
}

/* The quoted IPv6 header of an ICMPv6 error, if the frame holds it. */
static const uint8_t *quote6_of(const struct view6 *v, const uint8_t *end)
{
	if (!v->walked || v->proto != IPPROTO_ICMPV6 || !v->first || v->l4 + 8 + 40 > end ||
	    v->l4[0] >= 128)
		return NULL;
	return v->l4 + 8;
}

void fuzz6_check(const struct job *j, struct run_result *r)
{
	struct view6 vin = view6_of((uint8_t *)j->in, j->len), vout;
	const uint8_t *end = r->out + r->out_len;
	enum csum6 in_cs;

	vout = view6_of(r->out, r->out_len);
	if (nat66_on && j->prog == P_EGRESS && j->ifindex != LOCAL_ORIGIN && r->ret == TC_ACT_OK &&
	    vout.ok) {
		const uint8_t *q = quote6_of(&vout, end);

		leak_checked++;
		if (is_internal6(vout.ip + 8))
			violation(j, r, "(a) internal IPv6 source leaked");
		if (q) {
			quote_checked++;
			if (is_internal6(q + 8) || is_internal6(q + 24))
				violation(j, r, "(a) internal IPv6 address leaked in an ICMPv6 quote");
		}
	}
	if (r->out_len == j->len && !memcmp(r->out, j->in, j->len))
		return;
	if (!nat66_on && vin.ok && r->ret == TC_ACT_OK) {
		violation(j, r, "IPv6 changed with NAT66 off");
		return;
	}
	if (!vout.ok)
		return;
	changed++;
	if (!vout.whole) {
		violation(j, r, "(c) rewritten IPv6 payload length exceeds the frame");
		return;
	}
	in_cs = l4_csum6(&vin);
	if (in_cs == C6_OK) {
		l4_checked++;
		if (l4_csum6(&vout) != C6_OK)
			violation(j, r, "(b) IPv6 L4 checksum");
	}
}


/* ---- NAT64 checks ------------------------------------------------------- */

/* An IPv4 frame's header: whole, with a valid checksum. */
static int ip4_hdr_ok(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14;
	size_t ihl;

	if (len < 14 + 20 || be16(f + 12) != 0x0800 || (ip[0] >> 4) != 4)
		return 0;
	ihl = (ip[0] & 0x0f) * 4;
	return ihl >= 20 && 14 + ihl <= len && be16(ip + 2) >= ihl && 14 + (size_t)be16(ip + 2) <= len &&
	       fold_sum(sum16(ip, ihl, 0)) == 0xffff;
}

/* The transport checksum of a whole, unfragmented IPv4 datagram. */
static enum csum6 l4_csum4(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14, *l4;
	size_t ihl, tot, l4_len;
	uint32_t sum = 0;
	uint8_t proto;

	if (len < 14 + 20 || be16(f + 12) != 0x0800)
		return C6_NA;
	ihl = (ip[0] & 0x0f) * 4;
	tot = be16(ip + 2);
	if (ihl < 20 || tot < ihl || 14 + tot > len || (be16(ip + 6) & 0x3fff))
		return C6_NA;
	proto = ip[9];
	l4 = ip + ihl;
	l4_len = tot - ihl;
	if (l4_len < (proto == IPPROTO_TCP ? 20u : 8u))
		return C6_NA;
	if (proto == IPPROTO_UDP || proto == IPPROTO_TCP) {
		if (proto == IPPROTO_UDP && !be16(l4 + 6))
			return C6_NA;
		sum = sum16(ip + 12, 8, 0) + proto + l4_len;
	} else if (proto != IPPROTO_ICMP) {
		return C6_NA;
	}
	return fold_sum(sum16(l4, l4_len, sum)) == 0xffff ? C6_OK : C6_BAD;
}

static void learn64(const uint8_t *f)
{
	const uint8_t *ip = f + 14, *l4 = ip + (ip[0] & 0x0f) * 4;
	uint8_t proto = ip[9];

	if (be16(ip + 6) & 0x1fff)
		return;	/* a non-first fragment: no port */
	ports64[nr_ports64 % NR_PORTS64].proto = proto;
	ports64[nr_ports64 % NR_PORTS64].port = proto == IPPROTO_ICMP ? be16(l4 + 4) : be16(l4);
	if (nr_ports64 < NR_PORTS64)
		nr_ports64++;
}

/* IPv6 the lan program sent back inside (nat64_discard.h's errors, NAT64
 * hairpinning): from the gateway to the sender, ICMPv6 error, or from the
 * external address under the prefix; never to the prefix. */
static void check64_back_inside(const struct job *j, struct run_result *r, const struct view6 *vin)
{
	struct view6 vout = view6_of(r->out, r->out_len);
	uint8_t ext64[16] = {};

	memcpy(ext64, prefix64, sizeof(prefix64));
	memcpy(ext64 + 12, ext4, 4);
	if (!vout.ok || !vout.whole || !memcmp(vout.ip + 24, prefix64, sizeof(prefix64))) {
		violation(j, r, "(a64) IPv6 sent back inside is no whole packet or to the prefix");
		return;
	}
	if (!memcmp(vout.ip + 8, ext64, 16))
		return;		/* hairpinned */
	memcpy(ext64 + 12, static4, 4);
	if (!memcmp(vout.ip + 8, ext64, 16))
		return;		/* hairpinned from the address-mapped host */
	if (vout.proto != IPPROTO_ICMPV6 || !vout.l4 || vout.l4[0] >= 128 || !vin->ok ||
	    memcmp(vout.ip + 24, vin->ip + 8, 16))
		violation(j, r, "(a64) IPv6 sent back inside is neither an error to the sender "
				"nor hairpinned");
}

/* A 6->4 translation sent on (TC's redirect or XDP's): a valid IPv4
 * packet from the external address, its transport checksum right. */
static void check64_out_translated(const struct job *j, struct run_result *r,
				   const struct view6 *vin)
{
	if (!ip4_hdr_ok(r->out, r->out_len)) {
		violation(j, r, "(a64) redirected NAT64 output is no valid IPv4 packet");
		return;
	}
	if (memcmp(r->out + 14 + 12, ext4, 4) &&
	    (memcmp(r->out + 14 + 12, static4, 4) || !vin->ok ||
	     memcmp(vin->ip + 8, static6, 16)))
		violation(j, r, "(a64) NAT64 output without the external source "
				"(or the address-mapped host's own)");
	changed++;
	if (l4_csum6(vin) == C6_OK && l4_csum4(r->out, r->out_len) != C6_NA) {
		l4_checked++;
		if (l4_csum4(r->out, r->out_len) != C6_OK)
			violation(j, r, "(b64) transport checksum after 6->4");
	}
	learn64(r->out);
	out64_done++;
	if (vin->ok && !memcmp(vin->ip + 24 + 12, ext4, 4))
		hairpin64_done++;	/* to an IPv4 host's mapping */
}

/* IPv6 through the lan program (internal interface ingress). */
static void check64_out(const struct job *j, struct run_result *r)
{
	struct view6 vin = view6_of((uint8_t *)j->in, j->len);

	if (r->ret == TC_ACT_SHOT)
		return;
	if (r->ret == TC_ACT_REDIRECT) {
		leak_checked++;
		if (r->out_len >= 14 + 40 && be16(r->out + 12) == 0x86dd) {
			check64_back_inside(j, r, &vin);
			return;
		}
		check64_out_translated(j, r, &vin);
		return;
	}
	if (r->ret != TC_ACT_OK) {
		violation(j, r, "unexpected verdict");
		return;
	}
	if (r->out_len != j->len || memcmp(r->out, j->in, j->len)) {
		violation(j, r, "(a64) IPv6 changed on an internal interface but not translated");
		return;
	}
	if (vin.ok && vin.whole && vin.walked && (vin.ip[0] >> 4) == 6 && vin.ip[7] > 1 &&
	    !memcmp(vin.ip + 24, prefix64, sizeof(prefix64)))
		violation(j, r, "(a64) IPv6 to the NAT64 prefix passed untranslated");
}

/* IPv4 through the external ingress that came out as IPv6: to the stack
 * (TC), or sent on (XDP: want_verdict). */
static void check64_in(const struct job *j, struct run_result *r, int want_verdict)
{
	struct view6 vout = view6_of(r->out, r->out_len);
	enum csum6 in_cs = l4_csum4(j->in, j->len);

	changed++;
	in64_done++;
	if (r->ret != want_verdict) {
		violation(j, r, "(c64) IPv6 out of the external ingress, not to the stack");
		return;
	}
	if (!vout.ok || !vout.whole) {
		violation(j, r, "(c64) translated payload length exceeds the frame");
		return;
	}
	/* To the IPv6 host of a mapping: one the lan program translated for,
	 * so never under the prefix, never of link scope or multicast. */
	if (memcmp(vout.ip + 8, prefix64, sizeof(prefix64)) ||
	    !memcmp(vout.ip + 24, prefix64, sizeof(prefix64)) || vout.ip[24] == 0xff ||
	    (vout.ip[24] == 0xfe && (vout.ip[25] & 0xc0) == 0x80))
		violation(j, r, "(c64) 4->6 not from the prefix to a mapped IPv6 host");
	if (in_cs == C6_OK && l4_csum6(&vout) != C6_NA) {
		l4_checked++;
		if (l4_csum6(&vout) != C6_OK)
			violation(j, r, "(b64) transport checksum after 4->6");
	}
}

/* An IPv4 host's packet on an internal interface hairpinned to a NAT64
 * mapping (nat64_hairpin4): IPv6 from the external address under the
 * prefix (the sender's own mapping, RFC 4787 REQ-9a) to the mapped IPv6
 * host, hop limit = TTL - 1, transport checksum right. */
static void check64_hairpin4(const struct job *j, struct run_result *r)
{
	struct view6 vout = view6_of(r->out, r->out_len);
	enum csum6 in_cs = l4_csum4(j->in, j->len);
	uint8_t ext64[16] = {};

	memcpy(ext64, prefix64, sizeof(prefix64));
	memcpy(ext64 + 12, ext4, 4);
	changed++;
	hairpin4_done++;
	if (!vout.ok || !vout.whole) {
		violation(j, r, "(c64) hairpinned 4->6 payload length exceeds the frame");
		return;
	}
	if (memcmp(vout.ip + 8, ext64, 16) || !memcmp(vout.ip + 24, prefix64, sizeof(prefix64)) ||
	    vout.ip[24] == 0xff || (vout.ip[24] == 0xfe && (vout.ip[25] & 0xc0) == 0x80))
		violation(j, r, "(a64) hairpinned 4->6 not from the external address to a mapped host");
	if (vout.ip[7] != (uint8_t)(j->in[14 + 8] - 1))
		violation(j, r, "(e) hairpinned 4->6 hop limit is not the TTL less one");
	if (in_cs == C6_OK && l4_csum6(&vout) != C6_NA) {
		l4_checked++;
		if (l4_csum6(&vout) != C6_OK)
			violation(j, r, "(b64) transport checksum after hairpinned 4->6");
	}
}

/* A NAT64 mapping's external port the fuzzer learnt (a hairpin target
 * for fuzz.c's IPv4 jobs): 0 if none. */
uint16_t fuzz64_mapped_port(uint8_t *proto)
{
	unsigned int i;

	if (!nat64_on || !nr_ports64)
		return 0;
	i = rn(nr_ports64);
	if (ports64[i].proto == IPPROTO_ICMP)
		return 0;
	*proto = ports64[i].proto;
	return ports64[i].port;
}

/* A job whose result is NAT64's to judge (1), or not (0). */
int fuzz64_check(const struct job *j, struct run_result *r)
{
	if (!nat64_on || j->len < 14 || r->out_len < 14)
		return 0;
	/* TC mode's fast-path programs translate NAT64 as the lan and
	 * ingress programs do (XDP leaves it to them). */
	if ((j->prog == P_LAN || j->prog == P_FAST_INT) && be16(j->in + 12) == 0x86dd) {
		check64_out(j, r);
		return 1;
	}
	if ((j->prog == P_INGRESS || j->prog == P_FAST_IN) && be16(j->in + 12) == 0x0800 &&
	    be16(r->out + 12) == 0x86dd) {
		check64_in(j, r, TC_ACT_OK);
		return 1;
	}
	if ((j->prog == P_LAN || j->prog == P_FAST_INT) && be16(j->in + 12) == 0x0800 &&
	    be16(r->out + 12) == 0x86dd) {
		if (r->ret != TC_ACT_REDIRECT)
			violation(j, r, "(c64) IPv4 from inside became IPv6 but was not sent");
		else
			check64_hairpin4(j, r);
		return 1;
	}
	return 0;
}

/*
 * The XDP fast path's NAT64 (bpf/lib/fwd64.h): IPv6 into fc_xdp_int is
 * translated and sent on as IPv4, or passed untouched (to the TC programs,
 * which the fuzzer judges on their own jobs), or dropped; IPv4 into
 * fc_xdp_ext that leaves as IPv6 is a 4->6 translation sent on. 1: judged
 * here.
 */
int fuzz64_check_xdp(const struct job *j, struct run_result *r)
{
	if (!nat64_on || j->len < 14 || r->out_len < 14)
		return 0;
	if (j->prog == P_XDP_INT && be16(j->in + 12) == 0x86dd) {
		struct view6 vin = view6_of((uint8_t *)j->in, j->len);

		if (r->ret == XDP_REDIRECT_) {
			leak_checked++;
			check64_out_translated(j, r, &vin);
		} else if (r->ret == XDP_PASS_ &&
			   (r->out_len != j->len || memcmp(r->out, j->in, j->len))) {
			violation(j, r, "(a64) IPv6 passed by XDP but changed");
		} else if (r->ret != XDP_PASS_ && r->ret != XDP_DROP_) {
			violation(j, r, "unexpected XDP verdict for IPv6");
		}
		return 1;
	}
	if (j->prog == P_XDP_EXT && be16(j->in + 12) == 0x0800 && be16(r->out + 12) == 0x86dd) {
		check64_in(j, r, XDP_REDIRECT_);
		return 1;
	}
	return 0;
}

void fuzz64_report(void)
{
	if (nat64_on)
		printf("fuzz: NAT64: %llu translated out (6->4; %llu hairpinned to IPv4 hosts), "
		       "%llu in (4->6), %llu IPv4 hosts hairpinned to NAT64 mappings, "
		       "%u ports learnt\n",
		       out64_done, hairpin64_done, in64_done, hairpin4_done, nr_ports64);
}

void fuzz64_init(const char *ext4_text)
{
	nat64_on = 1;
	inet_pton(AF_INET, ext4_text, ext4);
	inet_pton(AF_INET, FUZZ64_STATIC_V4, static4);
	inet_pton(AF_INET6, FUZZ64_STATIC_HOST, static6);
}

/* An unmutated outbound packet of a flow: follow its external port. */
void fuzz6_learn(const struct job *j, const struct run_result *r)
{
	struct flow6 *f = &flows6[j->flow];
	struct view6 v = view6_of((uint8_t *)r->out, r->out_len);

	if (r->ret != TC_ACT_OK || !v.walked || v.fragment || !v.whole || v.l4_len < 8 ||
	    memcmp(v.ip + 8, ext6, 16))
		return;
	f->ext_port = f->proto == IPPROTO_ICMPV6 ? be16(v.l4 + 4) : be16(v.l4);
}

/* Valid NAT66 flows out, most answered: the targets of the generators. */
void fuzz6_populate(void)
{
	struct run_result r;
	struct job j;
	int tries = 0;

	while (nr_flows6 < NR_FLOWS6 && tries++ < 4 * NR_FLOWS6) {
		struct flow6 *f = &flows6[nr_flows6];
		struct pkt_spec s = {};
		struct view6 v;

		f->proto = random_l4_6();
		internal6(f->int_addr);
		f->int_port = 1024 + rn(64512);
		remote6(f->remote);
		f->rport = f->proto == IPPROTO_ICMPV6 ? 0 : 1 + rn(65535);
		s.proto = f->proto;
		s.saddr = text6(f->int_addr);
		s.sport = f->int_port;
		s.daddr = text6(f->remote);
		s.dport = f->rport;
		s.tcp_flags = 0x02;
		s.icmp_type = 128;
		s.payload_len = 20;
		j.len = pkt_build(&s, j.in);
		if (run_prog_from(fx.egress_fd, j.in, j.len, FORWARDED_FROM, &r) || r.ret != TC_ACT_OK)
			continue;
		v = view6_of(r.out, r.out_len);
		if (!v.walked || memcmp(v.ip + 8, ext6, 16))
			continue;	/* NAT66 off: no flows to learn */
		f->ext_port = f->proto == IPPROTO_ICMPV6 ? be16(v.l4 + 4) : be16(v.l4);
		nr_flows6++;
		if (chance(30))
			continue;
		memset(&s, 0, sizeof(s));
		s.proto = f->proto;
		s.saddr = text6(f->remote);
		s.sport = f->rport;
		s.daddr = text6(ext6);
		s.dport = f->ext_port;
		s.tcp_flags = 0x12;
		s.icmp_type = 129;
		s.payload_len = 20;
		j.len = pkt_build(&s, j.in);
		run_prog_from(fx.ingress_fd, j.in, j.len, 3, &r);
	}
}

void fuzz6_init(int nat66, const char *ext6_text)
{
	nat66_on = nat66;
	inet_pton(AF_INET6, ext6_text, ext6);
}
