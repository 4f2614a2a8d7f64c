/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internet checksum arithmetic (RFC 1071, RFC 1624), no packet access: used
 * by csum.h for the fields updated in software and by ctx_xdp.h, where every
 * checksum update is in software.
 */
#ifndef FC_BPF_CSUM_MATH_H
#define FC_BPF_CSUM_MATH_H

#include "common.h"

static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* One's complement sum of two 32-bit partial sums (end-around carry). */
static __always_inline __u32 csum_add32(__u32 a, __u32 b)
{
	__u32 s = a + b;

	return s + (s < a);
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), a 32-bit field as two words.
 * Byte order does not matter as long as all three are read alike. */
static __always_inline __u16 csum_replace4(__u16 check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~from + (__u16)~(from >> 16);
	sum += (__u16)to + (__u16)(to >> 16);
	return (__u16)~csum_fold32(sum);
}

static __always_inline __u16 csum_replace2(__u16 check, __u16 from, __u16 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~from + to;
	return (__u16)~csum_fold32(sum);
}

/*
 * The one's complement change that replacing the 16 bytes at from with
 * those at to makes to a sum covering them (an IPv6 address in a
 * pseudo-header or a quote), folded to 16 bits: adding it with
 * csum_replace4(check, 0, diff) (or the skb helper, which is linear too)
 * updates a checksum for all four words at once.
 */
static __always_inline __u32 csum_diff16(const __be32 *from, const __be32 *to)
{
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < 4; i++) {
		sum += (__u16)~from[i] + (__u16)~(from[i] >> 16);
		sum += (__u16)to[i] + (__u16)(to[i] >> 16);
	}
	return csum_fold32(sum);
}

#endif /* FC_BPF_CSUM_MATH_H */
