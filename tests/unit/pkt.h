/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test packet builder. Checksums are computed from scratch over the whole
 * packet, independently of the datapath's incremental updates, so a
 * byte-for-byte match checks both.
 */
#ifndef FC_TEST_PKT_H
#define FC_TEST_PKT_H

#include <stddef.h>
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
	int ip_id_zero;		/* an IP id of 0 after all */
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
	uint8_t rfc4884_words;
	size_t ext_len;
};

/* Builds Ethernet + IPv4 + L4 into buf; returns the length. */
size_t pkt_build(const struct pkt_spec *s, uint8_t *buf);
uint32_t ip4(const char *dotted);	/* network order */

#endif
