/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The IPv4 packets most unit tests send, as pkt_specs: a UDP datagram, a TCP
 * segment (an ACK carries ack 2000) and an ICMP echo (type 8 request: id is
 * the source "port"; reply: the destination). Files whose packets differ
 * (payload sizes of their own) keep their own builders.
 */
#ifndef FC_TEST_SPEC4_H
#define FC_TEST_SPEC4_H

#include <netinet/in.h>
#include <stdint.h>

#include "pkt.h"

static inline struct pkt_spec udp(const char *sa, uint16_t sp, const char *da, uint16_t dp)
{
	return (struct pkt_spec){ .proto = IPPROTO_UDP, .saddr = sa, .sport = sp,
				  .daddr = da, .dport = dp, .payload_len = 22 };
}

static inline struct pkt_spec tcp(const char *sa, uint16_t sp, const char *da, uint16_t dp,
				  uint8_t flags)
{
	return (struct pkt_spec){ .proto = IPPROTO_TCP, .saddr = sa, .sport = sp,
				  .daddr = da, .dport = dp, .tcp_flags = flags,
				  .tcp_seq = 1000, .tcp_ack = flags & 0x10 ? 2000 : 0,
				  .payload_len = 10 };
}

static inline struct pkt_spec echo(const char *sa, const char *da, uint8_t type, uint16_t id)
{
	struct pkt_spec s = { .proto = IPPROTO_ICMP, .saddr = sa, .daddr = da,
			      .icmp_type = type, .icmp_seq = 7, .payload_len = 56 };

	if (type == 8)
		s.sport = id;
	else
		s.dport = id;
	return s;
}

#endif
