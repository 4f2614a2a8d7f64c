/* SPDX-License-Identifier: GPL-2.0 */
/* Base includes and constants every datapath header needs. */
#ifndef FC_BPF_COMMON_H
#define FC_BPF_COMMON_H

#include "hdr.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <fcnat/types.h>

/* Kernel-internal constants no UAPI header carries. */
#define IP_MF		0x2000
#define IP_OFFSET	0x1fff
#define EEXIST		17
/*
 * A map helper's result, as the int it is. Kernels before 6.4 (Debian 12's
 * 6.1) call the map's own update/delete, which return int, in place of the
 * helper, so an error reaches the program zero-extended (-EEXIST as
 * 0xffffffef): as a long it never equals -EEXIST.
 */
#define FC_MAP_ERR(ret)	((int)(ret))

#define ICMP_ECHOREPLY	0
#define ICMP_DEST_UNREACH	3
#define ICMP_ECHO	8
#define ICMP_TIME_EXCEEDED	11
#define ICMP_PARAMETERPROB	12

/* IPv6 next-header values (include/net/ipv6.h). */
#define NEXTHDR_HOP		0
#define NEXTHDR_ROUTING		43
#define NEXTHDR_FRAGMENT	44
#define NEXTHDR_AUTH		51
#define NEXTHDR_NONE		59
#define NEXTHDR_DEST		60

#define IP6_MF			0x0001	/* in the fragment header's frag_off */
#define IP6_OFFSET		0xfff8

#define ICMPV6_DEST_UNREACH	1
#define ICMPV6_PKT_TOOBIG	2
#define ICMPV6_TIME_EXCEED	3
#define ICMPV6_EXC_HOPLIMIT	0	/* time exceeded: hop limit exceeded in transit */
#define ICMPV6_PARAMPROB	4
#define ICMPV6_ECHO_REQUEST	128
#define ICMPV6_ECHO_REPLY	129

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

/*
 * The datapath's clock for mapping, session, fragment and event times:
 * CLOCK_MONOTONIC_COARSE, which user space reads too (gc_now_ns()). It
 * lags the fine clock by at most a tick (1-10 ms), immaterial next to
 * timeouts of seconds, and costs a few ns where bpf_ktime_get_ns() costs
 * 40-50 on a VM (reading the TSC), about a tenth of the XDP hit path
 * (doc/benchmarks.md).
 */
static __always_inline __u64 fc_now(void)
{
	return bpf_ktime_get_coarse_ns();
}

/* IPv6 extension headers the parser walks past: at most this many, in at
 * most this many bytes (hop-by-hop, routing, destination options, fragment,
 * AH; real traffic carries one or two small ones). Longer chains are left
 * to the stack, never translated. */
#define FC_IP6_EXT_MAX_HDRS	4
#define FC_IP6_EXT_MAX_LEN	64
/* The longest IP header the datapath handles: IPv4 with options, or IPv6
 * with the extension headers above. */
#define FC_IP_HDR_MAX		(40 + FC_IP6_EXT_MAX_LEN)

/* Headers the datapath reads or writes lie within this many bytes:
 * Ethernet, the IP header, a TCP header with options ... */
#define FC_HDR_MAX	(ETH_HLEN + FC_IP_HDR_MAX + 60)
/* ... and for an ICMP error, the ICMP header and the quoted IP and TCP
 * headers too. */
#define FC_ICMP_ERR_HDR_MAX	(ETH_HLEN + FC_IP_HDR_MAX + 8 + FC_IP_HDR_MAX + 20)

/*
 * v & mask, done where clang cannot see it (so cannot drop it as implied by
 * a check before). Kernels before about 6.3 (Debian 12's 6.1) keep a bound
 * learned by a comparison on the register compared only: when clang reloads
 * the value from its stack slot for the pointer arithmetic, the bound is
 * gone and the packet access is refused. A bound carried by the value
 * itself survives spills. mask: 2^n - 1, at least the largest valid v.
 */
#define FC_BOUND(v, mask) ({							\
	__typeof__(v) bounded_ = (v);						\
	_Static_assert(((mask) & ((mask) + 1)) == 0, "mask must be 2^n - 1");	\
	asm volatile("%0 &= %1" : "+r"(bounded_) : "i"(mask));			\
	bounded_;								\
})

/* FC_BOUND that also clears bit 0: for an offset known to be even, so that
 * the verifier knows it too (2-byte alignment, FC_STRICT_ALIGN). */
#define FC_BOUND_EVEN(v, mask) ({						\
	__typeof__(v) bounded_ = (v);						\
	_Static_assert(((mask) & ((mask) + 1)) == 0, "mask must be 2^n - 1");	\
	asm volatile("%0 &= %1" : "+r"(bounded_) : "i"((mask) & ~1));		\
	bounded_;								\
})

/*
 * 1 when lo <= v <= hi, else 0; v is taken through the check, so the
 * register that carries it on is the one compared. Written in asm because
 * clang fuses "v < lo || v > hi" into one comparison on v - lo, which
 * bounds nothing for 6.1's verifier, and drops a check it finds implied by
 * an earlier one. Use it right before the helper call or access that needs
 * the bound.
 */
#define FC_IN_RANGE(v, lo, hi) ({						\
	__u64 x_ = (v);								\
	int in_ = 0;								\
	asm volatile("if %[x] < %[l] goto +2\n\t"				\
		     "if %[x] > %[h] goto +1\n\t"				\
		     "%[in] = 1"							\
		     : [in] "+r"(in_), [x] "+r"(x_) : [l] "i"(lo), [h] "i"(hi));	\
	(v) = x_;								\
	in_;									\
})

/*
 * a when sel is 1, b when it is 0, without a branch (so the verifier goes
 * on with one state, not one per value of sel); a constant sel folds.
 */
static __always_inline __u64 fc_select_(__u64 sel, __u64 a, __u64 b)
{
	asm volatile("%[sel] = -%[sel]\n\t"
		     "%[va] &= %[sel]\n\t"
		     "%[sel] ^= -1\n\t"
		     "%[vb] &= %[sel]\n\t"
		     "%[va] |= %[vb]"
		     : [sel] "+r"(sel), [va] "+r"(a), [vb] "+r"(b));
	return a;
}

#define FC_SELECT(sel, a, b)							\
	(__builtin_constant_p(sel) ? ((sel) ? (__u64)(a) : (__u64)(b))		\
				   : fc_select_((sel), (a), (b)))

/* 1 when v is not 0, else 0, computed so that the verifier cannot tell
 * which: d | -d has its top bit set unless d is 0. */
static __always_inline __u64 ctx_nonzero_(__u64 v)
{
	__u64 t;

	asm volatile("%[t] = %[v]\n\t"
		     "%[t] = -%[t]\n\t"
		     "%[t] |= %[v]\n\t"
		     "%[t] >>= 63"
		     : [t] "=&r"(t) : [v] "r"(v));
	return t;
}

/* The mask over every offset below FC_ICMP_ERR_HDR_MAX. */
#define FC_ICMP_ERR_HDR_MASK	0xff
_Static_assert(FC_ICMP_ERR_HDR_MAX <= FC_ICMP_ERR_HDR_MASK, "FC_ICMP_ERR_HDR_MASK too small");

/*
 * A packet offset below FC_ICMP_ERR_HDR_MAX bounded for the verifier
 * (constants need no help). On a strict-alignment build it is also known
 * even: every header starts at an even offset, and the verifier of a CPU
 * without unaligned access must see that a 2-byte access there is aligned
 * (bpf/lib/hdr.h). FC_PKT_OFF_ODD: the offset that breaks that rule.
 */
#if FC_STRICT_ALIGN
#define FC_PKT_OFF(off)		(__builtin_constant_p(off) ? (off) : FC_BOUND_EVEN(off, FC_ICMP_ERR_HDR_MASK))
#define FC_PKT_OFF_ODD(off)	((off) & 1)
#else
#define FC_PKT_OFF(off)		(__builtin_constant_p(off) ? (off) : FC_BOUND(off, FC_ICMP_ERR_HDR_MASK))
#define FC_PKT_OFF_ODD(off)	0
#endif

#endif /* FC_BPF_COMMON_H */
