// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "pkt.h"

uint32_t ip4(const char *dotted)
{
	struct in_addr a;

	inet_pton(AF_INET, dotted, &a);
	return a.s_addr;
}

void ip6(const char *text, uint8_t out[16])
{
	inet_pton(AF_INET6, text, out);
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* A UDP or TCP header at l4, its checksum over l4_len bytes with the
 * pseudo-header's sum (either family). */
static void put_udp_tcp(const struct pkt_spec *s, uint8_t *l4, size_t l4_len, uint32_t sum)
{
	put16(l4, s->sport);
	put16(l4 + 2, s->dport);
	if (s->proto == IPPROTO_UDP) {
		put16(l4 + 4, l4_len);
		if (!s->udp_no_csum) {
			uint16_t c = fold(sum16(l4, l4_len, sum));

			put16(l4 + 6, c ? c : 0xffff);
		}
		return;
	}
	put32(l4 + 4, s->tcp_seq);
	put32(l4 + 8, s->tcp_ack);
	l4[12] = (5 + s->tcp_opts_len / 4) << 4;
	l4[13] = s->tcp_flags;
	put16(l4 + 14, s->tcp_win ? s->tcp_win : 65535);
	if (s->tcp_opts_len)
		memcpy(l4 + 20, s->tcp_opts, s->tcp_opts_len);
	put16(l4 + 16, fold(sum16(l4, l4_len, sum)));
}

static size_t pkt_build6(const struct pkt_spec *s, uint8_t *buf);
static size_t pkt_build4(const struct pkt_spec *s, uint8_t *buf);

/* Length of the IP header (IPv6: with extension headers) of a packet built
 * here, starting at l3. */
static size_t l3_hdr_len(const uint8_t *l3)
{
	size_t off = 40;
	uint8_t nh;

	if ((l3[0] >> 4) == 4)
		return (l3[0] & 0x0f) * 4;
	nh = l3[6];
	while (nh == 0 || nh == 43 || nh == 60 || nh == 44) {
		nh = l3[off];
		off += 8;
	}
	return off;
}

size_t pkt_build(const struct pkt_spec *s, uint8_t *buf)
{
	if (s->saddr && strchr(s->saddr, ':'))
		return pkt_build6(s, buf);
	return pkt_build4(s, buf);
}

static size_t pkt_build4(const struct pkt_spec *s, uint8_t *buf)
{
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	uint8_t ihl = s->ihl ? s->ihl : 5;
	uint8_t *ip = buf + 14, *l4 = ip + ihl * 4;
	size_t l4_hdr, l4_len, tot;
	uint32_t sa = s->saddr ? ip4(s->saddr) : 0, da = s->daddr ? ip4(s->daddr) : 0, sum;

	memset(buf, 0, PKT_MAX);
	memcpy(buf, s->dmac ? s->dmac : dmac, 6);
	memcpy(buf + 6, s->smac ? s->smac : smac, 6);
	put16(buf + 12, s->ethertype ? s->ethertype : 0x0800);
	if (s->ethertype && s->ethertype != 0x0800) {
		for (size_t i = 0; i < s->payload_len; i++)
			buf[14 + i] = (uint8_t)(i * 7 + 1);
		return 14 + s->payload_len;
	}

	switch (s->proto) {
	case IPPROTO_UDP: l4_hdr = 8; break;
	case IPPROTO_TCP: l4_hdr = 20 + s->tcp_opts_len; break;
	case IPPROTO_ICMP: l4_hdr = 8; break;
	default: l4_hdr = 0;
	}
	if (s->frag & 0x1fff)
		l4_hdr = 0;	/* a non-first fragment carries payload only */
	l4_len = l4_hdr + s->payload_len;
	tot = ihl * 4 + l4_len;

	ip[0] = 0x40 | ihl;
	ip[1] = s->tclass;
	put16(ip + 2, tot);
	put16(ip + 4, s->ip_id_zero ? 0 : s->ip_id ? s->ip_id : 0x1234);
	put16(ip + 6, s->frag);
	ip[8] = s->ttl ? s->ttl : 64;
	ip[9] = s->proto;
	memcpy(ip + 12, &sa, 4);
	memcpy(ip + 16, &da, 4);
	for (int i = 20; i < ihl * 4; i++)
		ip[i] = 1;	/* NOP options */
	if (s->ip_opts && s->ip_opts_len <= (size_t)ihl * 4 - 20)
		memcpy(ip + 20, s->ip_opts, s->ip_opts_len);
	put16(ip + 10, fold(sum16(ip, ihl * 4, 0)));

	for (size_t i = 0; i < s->payload_len; i++)
		l4[l4_hdr + i] = (uint8_t)(i * 7 + 1);
	if (s->proto == IPPROTO_ICMP && s->quote) {
		/* The quote replaces the pattern payload. */
		uint8_t inner[PKT_MAX];
		size_t inner_len = pkt_build(s->quote, inner) - 14;
		size_t inner_ihl = l3_hdr_len(inner + 14), qlen = inner_len;

		if (s->quote_l4_len && inner_ihl + s->quote_l4_len < inner_len)
			qlen = inner_ihl + s->quote_l4_len;
		memcpy(l4 + 8, inner + 14, qlen);
		if (s->rfc4884_words) {
			memset(l4 + 8 + qlen, 0, s->rfc4884_words * 4 - qlen);
			qlen = s->rfc4884_words * 4;
			for (size_t i = 0; i < s->ext_len; i++)
				l4[8 + qlen + i] = (uint8_t)(0xa0 + i);
			qlen += s->ext_len;
		}
		l4_len = 8 + qlen;
		tot = ihl * 4 + l4_len;
		put16(ip + 2, tot);
		put16(ip + 10, 0);
		put16(ip + 10, fold(sum16(ip, ihl * 4, 0)));
	}
	if (!l4_hdr)
		return 14 + tot;

	/* Pseudo-header for TCP and UDP. */
	sum = sum16(ip + 12, 8, 0) + s->proto + l4_len;
	switch (s->proto) {
	case IPPROTO_UDP:
	case IPPROTO_TCP:
		put_udp_tcp(s, l4, l4_len, sum);
		break;
	case IPPROTO_ICMP:
		l4[0] = s->icmp_type;
		l4[1] = s->icmp_code;
		if (s->quote) {
			l4[4] = s->icmp_pointer;
			l4[5] = s->rfc4884_words;
			put16(l4 + 6, s->icmp_mtu);
		} else {
			put16(l4 + 4, s->sport ? s->sport : s->dport);
			put16(l4 + 6, s->icmp_seq);
		}
		put16(l4 + 2, fold(sum16(l4, l4_len, 0)));
		break;
	}
	return 14 + tot;
}

/* Ethernet + IPv6 (+ extension headers) + L4. */
static size_t pkt_build6(const struct pkt_spec *s, uint8_t *buf)
{
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	uint8_t *ip = buf + 14, *h, *l4, *last_nh;
	size_t l4_hdr, l4_len, ext_len = 0;
	uint32_t sum;
	int nonfirst = (s->frag6 & 0xfff8) != 0;

	memset(buf, 0, PKT_MAX);
	memcpy(buf, s->dmac ? s->dmac : dmac, 6);
	memcpy(buf + 6, s->smac ? s->smac : smac, 6);
	put16(buf + 12, 0x86dd);

	ip[0] = 0x60 | (s->tclass >> 4);
	ip[1] = (uint8_t)(s->tclass << 4) | ((s->flow_label >> 16) & 0x0f);
	ip[2] = (s->flow_label >> 8) & 0xff;
	ip[3] = s->flow_label & 0xff;
	ip[7] = s->ttl ? s->ttl : 64;
	ip6(s->saddr, ip + 8);
	ip6(s->daddr, ip + 24);

	/* Extension headers: each names the next in its first byte. */
	last_nh = ip + 6;
	h = ip + 40;
	for (int i = 0; i < s->nr_ext && i < 8; i++) {
		uint8_t type = s->ext_hdrs[i];

		*last_nh = type;
		memset(h, 0, 8);
		last_nh = h;
		if (type == 44) {
			put16(h + 2, s->frag6);
			put32(h + 4, s->frag6_id ? s->frag6_id : 0x12345678);
		} else if (type == 43) {
			h[1] = 0;	/* 8 bytes: type 0, segments left */
			h[3] = s->rh_segleft;
		} else {
			h[1] = 0;	/* 8 bytes */
			h[2] = 1;	/* PadN option filling them */
			h[3] = 4;
		}
		h += 8;
		ext_len += 8;
	}
	*last_nh = s->proto;
	l4 = h;

	switch (s->proto) {
	case IPPROTO_UDP: l4_hdr = 8; break;
	case IPPROTO_TCP: l4_hdr = 20 + s->tcp_opts_len; break;
	case IPPROTO_ICMPV6: l4_hdr = 8; break;
	default: l4_hdr = 0;
	}
	if (nonfirst)
		l4_hdr = 0;
	for (size_t i = 0; i < s->payload_len; i++)
		l4[l4_hdr + i] = (uint8_t)(i * 7 + 1);
	l4_len = l4_hdr + s->payload_len;

	if (s->proto == IPPROTO_ICMPV6 && s->quote && !nonfirst) {
		uint8_t inner[PKT_MAX];
		size_t inner_len = pkt_build(s->quote, inner) - 14;
		size_t inner_hl = l3_hdr_len(inner + 14), qlen = inner_len;

		if (s->quote_l4_len && inner_hl + s->quote_l4_len < inner_len)
			qlen = inner_hl + s->quote_l4_len;
		memcpy(l4 + 8, inner + 14, qlen);
		if (s->rfc4884_words) {
			memset(l4 + 8 + qlen, 0, s->rfc4884_words * 8 - qlen);
			qlen = s->rfc4884_words * 8;
			for (size_t i = 0; i < s->ext_len; i++)
				l4[8 + qlen + i] = (uint8_t)(0xa0 + i);
			qlen += s->ext_len;
		}
		l4_len = 8 + qlen;
	}
	put16(ip + 4, ext_len + l4_len);
	if (!l4_hdr)
		return 14 + 40 + ext_len + l4_len;

	/* Pseudo-header: addresses, upper-layer length, next header. */
	sum = sum16(ip + 8, 32, 0) + (uint32_t)l4_len + s->proto;
	switch (s->proto) {
	case IPPROTO_UDP:
	case IPPROTO_TCP:
		put_udp_tcp(s, l4, l4_len, sum);
		break;
	case IPPROTO_ICMPV6:
		l4[0] = s->icmp_type;
		l4[1] = s->icmp_code;
		if (s->quote) {
			if (s->icmp_type == 2)
				put32(l4 + 4, s->icmp_mtu);
			else if (s->icmp_type == 4)
				put32(l4 + 4, s->icmp_pointer);
			else
				l4[4] = s->rfc4884_words;
		} else {
			put16(l4 + 4, s->sport ? s->sport : s->dport);
			put16(l4 + 6, s->icmp_seq);
		}
		put16(l4 + 2, fold(sum16(l4, l4_len, sum)));
		break;
	}
	return 14 + 40 + ext_len + l4_len;
}
