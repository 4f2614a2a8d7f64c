/* SPDX-License-Identifier: GPL-2.0 */
/* Base includes and constants every datapath header needs. */
#ifndef FC_BPF_COMMON_H
#define FC_BPF_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <fcnat/types.h>

/* UAPI macros that vmlinux.h (types only) does not carry. */
#define ETH_HLEN	14
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define IP_MF		0x2000
#define IP_OFFSET	0x1fff
#define EEXIST		17

#define ICMP_ECHOREPLY	0
#define ICMP_DEST_UNREACH	3
#define ICMP_ECHO	8
#define ICMP_TIME_EXCEEDED	11
#define ICMP_PARAMETERPROB	12

#define TCP_FLAG_FIN	0x01
#define TCP_FLAG_SYN	0x02
#define TCP_FLAG_RST	0x04
#define TCP_FLAG_ACK	0x10

#define BPF_F_PSEUDO_HDR_	(1ULL << 4)
#define BPF_F_MARK_MANGLED_0_	(1ULL << 5)

#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif

#define NSEC_PER_SEC	1000000000ULL

/* Headers the datapath reads or writes lie within this many bytes:
 * Ethernet, IPv4 with options, a TCP header with options ... */
#define FC_HDR_MAX	(ETH_HLEN + 60 + 60)
/* ... and for an ICMP error, the ICMP header and the quoted IPv4 and TCP
 * headers too. */
#define FC_ICMP_ERR_HDR_MAX	(ETH_HLEN + 60 + 8 + 60 + 20)

#endif /* FC_BPF_COMMON_H */
