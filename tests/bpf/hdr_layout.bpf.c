// SPDX-License-Identifier: GPL-2.0
/*
 * Header layouts as bytes, for scripts/bpf-layout-check.py: compiled for
 * bpfel and bpfeb, each global below must hold the same wire bytes (the
 * script reads them from .data). A bitfield in the wrong order shows here
 * as a swapped nibble (0x54 for 0x45), without a big-endian machine.
 */
#include "lib/common.h"

struct iphdr lay_ip = { .version = 4, .ihl = 5, .ttl = 64, .protocol = IPPROTO_ICMP,
			.tot_len = bpf_htons(0x1234) };
struct ipv6hdr lay_ip6 = { .version = 6, .priority = 0xa, .payload_len = bpf_htons(0x0102),
			   .nexthdr = IPPROTO_ICMPV6 };
struct tcphdr lay_tcp_syn_ack = { .doff = 5, .syn = 1, .ack = 1, .source = bpf_htons(80),
				  .seq = bpf_htonl(0x01020304) };
struct tcphdr lay_tcp_fin_rst_psh = { .doff = 15, .res1 = 1, .fin = 1, .rst = 1, .psh = 1 };
struct tcphdr lay_tcp_urg_ece_cwr = { .doff = 6, .urg = 1, .ece = 1, .cwr = 1 };
struct icmphdr lay_icmp = { .type = ICMP_DEST_UNREACH, .code = 4, .un.frag.mtu = bpf_htons(1480) };
struct icmp6hdr lay_icmp6 = { .icmp6_type = ICMPV6_ECHO_REQUEST,
			      .icmp6_dataun.u_echo.identifier = bpf_htons(0xbeef) };

char _license[] SEC("license") = "GPL";
