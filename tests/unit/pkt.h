/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test packet builder. Checksums are computed from scratch over the whole
 * packet, independently of the datapath's incremental updates, so a
 * byte-for-byte match checks both.
 */
#ifndef FC_TEST_PKT_H
#define FC_TEST_PKT_H

#include <stddef.h>
#include <netinet/in.h>
#include <stdint.h>

#define PKT_MAX 1600

struct pkt_spec {
	const uint8_t *dmac;	/* NULL: 02:00:00:00:00:01 */
	const uint8_t *smac;	/* NULL: 02:00:00:00:00:02 */
	uint16_t ethertype;	/* 0: IPv4 */
	uint8_t proto;		/* IPPROTO_UDP, _TCP, _ICMP, others: raw payload */
	const char *saddr;
	const char *daddr;
	uint16_t sport;		/* ICMP echo: the identifier */
	uint16_t dport;
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint16_t icmp_seq;
	uint8_t tcp_flags;
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint16_t tcp_win;	/* 0: 65535 */
	const uint8_t *tcp_opts;	/* options, tcp_opts_len a multiple of 4 */
	size_t tcp_opts_len;
	uint16_t frag;		/* host order: flags and offset field */
	uint16_t ip_id;		/* 0: 0x1234 */
	uint8_t ihl;		/* 0: 5 */
	uint8_t ttl;		/* 0: 64 */
	int udp_no_csum;	/* send UDP with checksum 0 */
	size_t payload_len;	/* filled with a pattern */
	/* ICMP errors: the packet quoted, cut after quote_l4_len bytes of its
	 * transport header and payload (0: whole). icmp_mtu is the next-hop
	 * MTU of "fragmentation needed"; rfc4884_words the RFC 4884 length,
	 * with ext_len bytes of extension after the quote padded to it. */
	const struct pkt_spec *quote;
	size_t quote_l4_len;
	uint16_t icmp_mtu;
	uint8_t rfc4884_words;	/* ICMPv6: in 64-bit words, at octet 4 */
	size_t ext_len;
	/* IPv6 (chosen when saddr contains ':'; proto IPPROTO_ICMPV6 for
	 * ICMPv6, whose echo and error fields are as for ICMP above; ttl is
	 * the hop limit). ext_hdrs: extension headers before the transport
	 * header, in order (0 hop-by-hop, 43 routing, 60 destination options:
	 * 8 bytes each, padded; 44 fragment: built from frag6/frag6_id), up
	 * to 8, ended by a 0 after the first entry or nr_ext. */
	uint8_t ext_hdrs[8];
	int nr_ext;
	uint16_t frag6;		/* host order: offset in bytes | M bit (1) */
	uint32_t frag6_id;	/* 0: 0x12345678 */
	uint8_t tclass;
	uint32_t flow_label;	/* 20 bits */
	uint32_t icmp_pointer;	/* parameter problem pointer (ICMP: 8 bits) */
	/* IPv4: tclass above is the TOS byte; ip_id_zero sends Identification
	 * 0 (ip_id 0 means the default); ip_opts fills the options (IHL from
	 * ihl, NOP-padded). IPv6: segments left of routing headers (43). */
	int ip_id_zero;
	const uint8_t *ip_opts;
	size_t ip_opts_len;
	uint8_t rh_segleft;
};

/* Builds Ethernet + IPv4 or IPv6 + L4 into buf; returns the length. */
size_t pkt_build(const struct pkt_spec *s, uint8_t *buf);
uint32_t ip4(const char *dotted);	/* network order */
void ip6(const char *text, uint8_t out[16]);

/* The packets most tests send: UDP with 30 bytes of payload; TCP with 10
 * (seq 1000, ack 2000 when ACK is set); an ICMP or ICMPv6 echo with 56 and
 * its id where a port goes (the source for a request, type 8 or 128, the
 * destination for a reply). */
static inline struct pkt_spec pkt_udp(const char *sa, uint16_t sp, const char *da, uint16_t dp)
{
	return (struct pkt_spec){ .proto = IPPROTO_UDP, .saddr = sa, .sport = sp,
				  .daddr = da, .dport = dp, .payload_len = 30 };
}

static inline struct pkt_spec pkt_tcp(const char *sa, uint16_t sp, const char *da, uint16_t dp,
				      uint8_t flags)
{
	return (struct pkt_spec){ .proto = IPPROTO_TCP, .saddr = sa, .sport = sp,
				  .daddr = da, .dport = dp, .tcp_flags = flags,
				  .tcp_seq = 1000, .tcp_ack = flags & 0x10 ? 2000 : 0,
				  .payload_len = 10 };
}

static inline struct pkt_spec pkt_echo(const char *sa, const char *da, uint8_t proto, uint8_t type,
				       uint16_t id)
{
	struct pkt_spec s = { .proto = proto, .saddr = sa, .daddr = da, .icmp_type = type,
			      .icmp_seq = 3, .payload_len = 56 };

	if (type == 128 || type == 8)
		s.sport = id;
	else
		s.dport = id;
	return s;
}

#endif
