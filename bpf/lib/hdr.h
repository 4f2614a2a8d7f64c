/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet headers and BPF UAPI for the datapath, without vmlinux.h.
 *
 * Every type here has a fixed wire or UAPI layout, so no access needs CO-RE:
 * the objects carry zero relocations and load on kernels without BTF
 * (OpenWrt's, most router kernels). scripts/bpf-core-relocs.py checks it.
 *
 * The BPF program ABI (__sk_buff, xdp_md, bpf_fib_lookup, helper flags, map
 * types) comes from <linux/bpf.h>, which has no bitfields. The IP, TCP, UDP
 * and ICMP headers are our own, from RFC 791/8200/9293/768/792/4443, under
 * the names and member names the kernel's UAPI uses: the UAPI versions pick
 * their bitfield order from the build host's <asm/byteorder.h>, which is
 * wrong when a little-endian host builds for a big-endian target (bpfeb).
 * Here the compiler's own __BYTE_ORDER__ for the target chooses it.
 */
#ifndef FC_BPF_HDR_H
#define FC_BPF_HDR_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>	/* struct ethhdr, ETH_HLEN, ETH_P_* (no bitfields) */
#include <linux/in.h>		/* IPPROTO_* */
#include <linux/in6.h>		/* struct in6_addr, IPPROTO_ICMPV6 */
#include <linux/pkt_cls.h>	/* TC_ACT_* */

#if !defined(__BYTE_ORDER__) || \
	(__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ && __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__)
#error "bpf/lib/hdr.h: the target's byte order is unknown"
#endif
#define FC_LITTLE_ENDIAN	(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)

/*
 * A bitfield's first member takes the low bits of its unit on little-endian
 * targets and the high bits on big-endian ones (the psABIs; clang's bpfel
 * and bpfeb agree), so the nibble that comes first on the wire is declared
 * last on little-endian targets.
 */

/* IPv4 (RFC 791). */
struct iphdr {
#if FC_LITTLE_ENDIAN
	__u8	ihl:4,
		version:4;
#else
	__u8	version:4,
		ihl:4;
#endif
	__u8	tos;
	__be16	tot_len;
	__be16	id;
	__be16	frag_off;
	__u8	ttl;
	__u8	protocol;
	__sum16	check;
	__be32	saddr;
	__be32	daddr;
};

/* IPv6 (RFC 8200): version, then the traffic class across two nibbles. */
struct ipv6hdr {
#if FC_LITTLE_ENDIAN
	__u8	priority:4,
		version:4;
#else
	__u8	version:4,
		priority:4;
#endif
	__u8	flow_lbl[3];
	__be16	payload_len;
	__u8	nexthdr;
	__u8	hop_limit;
	struct in6_addr saddr;
	struct in6_addr daddr;
};

/* The IPv6 fragment header (RFC 8200 4.5), as the kernel names it. */
struct frag_hdr {
	__u8	nexthdr;
	__u8	reserved;
	__be16	frag_off;
	__be32	identification;
};

/* TCP (RFC 9293): data offset, reserved bits, then the flags byte. */
struct tcphdr {
	__be16	source;
	__be16	dest;
	__be32	seq;
	__be32	ack_seq;
#if FC_LITTLE_ENDIAN
	__u16	res1:4,
		doff:4,
		fin:1,
		syn:1,
		rst:1,
		psh:1,
		ack:1,
		urg:1,
		ece:1,
		cwr:1;
#else
	__u16	doff:4,
		res1:4,
		cwr:1,
		ece:1,
		urg:1,
		ack:1,
		psh:1,
		rst:1,
		syn:1,
		fin:1;
#endif
	__be16	window;
	__sum16	check;
	__be16	urg_ptr;
};

/* UDP (RFC 768). */
struct udphdr {
	__be16	source;
	__be16	dest;
	__be16	len;
	__sum16	check;
};

/* ICMP (RFC 792; the MTU of RFC 1191). */
struct icmphdr {
	__u8	type;
	__u8	code;
	__sum16	checksum;
	union {
		struct {
			__be16	id;
			__be16	sequence;
		} echo;
		__be32	gateway;
		struct {
			__be16	__unused;
			__be16	mtu;
		} frag;
		__u8	reserved[4];
	} un;
};

/* ICMPv6 (RFC 4443): the first 8 bytes. */
struct icmp6hdr {
	__u8	icmp6_type;
	__u8	icmp6_code;
	__sum16	icmp6_cksum;
	union {
		__be32	un_data32[1];
		__be16	un_data16[2];
		__u8	un_data8[4];
		struct {
			__be16	identifier;
			__be16	sequence;
		} u_echo;
	} icmp6_dataun;
};

/*
 * Views of the headers in the packet. A CPU without unaligned access (MIPS)
 * has its verifier check every packet access against packet data starting
 * 2 bytes past a word (NET_IP_ALIGN), and the IP header sits 0 (bare-IP
 * links) or 14 and more (Ethernet, tags) bytes in: only 2-byte alignment
 * holds there. The strict-alignment build (FC_STRICT_ALIGN, `make
 * STRICT_ALIGN=1`, on for mipsel and mips) declares the views 2-byte aligned
 * (a typedef may lower alignment), so the compiler splits wider fields into
 * 2-byte accesses; copies of headers on the stack keep the structs' natural
 * alignment and wide accesses. Elsewhere the views are the structs. A
 * packet access through a struct pointer instead of its view passes the
 * compiler and fails the strict build's verifier (the unit tests' strict run).
 */
#ifndef FC_STRICT_ALIGN
#define FC_STRICT_ALIGN 0
#endif
#if FC_STRICT_ALIGN
#define FC_PKT_ALIGN	__attribute__((aligned(2)))
#else
#define FC_PKT_ALIGN
#endif
typedef struct iphdr FC_PKT_ALIGN pkt_iphdr;
typedef struct ipv6hdr FC_PKT_ALIGN pkt_ipv6hdr;
typedef struct frag_hdr FC_PKT_ALIGN pkt_frag_hdr;
typedef struct tcphdr FC_PKT_ALIGN pkt_tcphdr;
typedef struct udphdr FC_PKT_ALIGN pkt_udphdr;
typedef struct icmphdr FC_PKT_ALIGN pkt_icmphdr;
typedef struct icmp6hdr FC_PKT_ALIGN pkt_icmp6hdr;
/* A 32-bit word in the packet outside those headers. */
typedef __be32 FC_PKT_ALIGN pkt_be32;

_Static_assert(sizeof(struct iphdr) == 20, "iphdr");
_Static_assert(sizeof(struct ipv6hdr) == 40, "ipv6hdr");
_Static_assert(sizeof(struct frag_hdr) == 8, "frag_hdr");
_Static_assert(sizeof(struct tcphdr) == 20, "tcphdr");
_Static_assert(sizeof(struct udphdr) == 8, "udphdr");
_Static_assert(sizeof(struct icmphdr) == 8, "icmphdr");
_Static_assert(sizeof(struct icmp6hdr) == 8, "icmp6hdr");
_Static_assert(sizeof(struct ethhdr) == ETH_HLEN, "ethhdr");

#endif /* FC_BPF_HDR_H */
