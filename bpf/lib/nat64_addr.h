/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IPv4-embedded IPv6 addresses (RFC 6052 §2.2): an IPv4 address under the
 * configured NAT64 prefix (struct fc_config nat64_prefix/_len). The prefix
 * is 32, 40, 48, 56, 64 or 96 bits long; the IPv4 address follows it,
 * skipping bits 64-71 (the "u" octet, always zero); the suffix is zero.
 *
 *   /32  PL(32) v4(32) u ...             /56  PL(56) v4(8) u v4(24) ...
 *   /40  PL(40) v4(24) u v4(8) ...       /64  PL(64) u v4(32) ...
 *   /48  PL(48) v4(16) u v4(16) ...      /96  PL(96) v4(32)
 *
 * User space accepts only these lengths with a zero u octet and zero bits
 * past the length (src/options.c), so the datapath trusts the config.
 */
#ifndef FC_BPF_NAT64_ADDR_H
#define FC_BPF_NAT64_ADDR_H

#include "common.h"

#define NAT64_U_OCTET	8	/* byte index of bits 64-71 */

/* Where byte i (0..3) of the IPv4 address goes in the IPv6 address. */
static __always_inline __u32 nat64_v4_pos(__u32 plen, __u32 i)
{
	__u32 pos = plen / 8 + i;

	return plen <= 64 && pos >= NAT64_U_OCTET ? pos + 1 : pos;
}

static __always_inline int nat64_plen_valid(__u32 plen)
{
	return plen == 32 || plen == 40 || plen == 48 || plen == 56 || plen == 64 || plen == 96;
}

/* v6 = prefix + v4 (RFC 6052 §2.2); -1 if the configured length is not one
 * RFC 6052 defines. */
static __always_inline int nat64_synthesize(const struct fc_config *cfg, __be32 v4, __u8 v6[16])
{
	__u32 plen = cfg->nat64_prefix_len, i;
	const __u8 *b = (const __u8 *)&v4;

	if (!nat64_plen_valid(plen))
		return -1;
	__builtin_memset(v6, 0, 16);
#pragma unroll
	for (i = 0; i < 12; i++)
		if (i * 8 < plen)
			v6[i] = cfg->nat64_prefix[i];
#pragma unroll
	for (i = 0; i < 4; i++) {
		__u32 pos = nat64_v4_pos(plen, i);

		if (pos < 16)	/* always; tells the verifier */
			v6[pos] = b[i];
	}
	return 0;
}

/* Is v6 under the NAT64 prefix (an IPv4 host seen from the IPv6 side)? */
static __always_inline int nat64_addr_match(const struct fc_config *cfg, const __u8 v6[16])
{
	__u32 plen = cfg->nat64_prefix_len, i;

	if (!nat64_plen_valid(plen))
		return 0;
#pragma unroll
	for (i = 0; i < 12; i++)
		if (i * 8 < plen && v6[i] != cfg->nat64_prefix[i])
			return 0;
	return 1;
}

/* The IPv4 address embedded in v6 (RFC 6052 §2.3), -1 if v6 is not under
 * the prefix. The u octet and the suffix are not looked at: §2.2 has
 * senders zero them, the address is what matters. */
static __always_inline int nat64_extract(const struct fc_config *cfg, const __u8 v6[16], __be32 *v4)
{
	__u32 plen = cfg->nat64_prefix_len, i;
	__u8 *b = (__u8 *)v4;

	if (!nat64_addr_match(cfg, v6))
		return -1;
#pragma unroll
	for (i = 0; i < 4; i++) {
		__u32 pos = nat64_v4_pos(plen, i);

		if (pos < 16)
			b[i] = v6[pos];
	}
	return 0;
}

/*
 * RFC 6052 §3.1: the Well-Known Prefix 64:ff9b::/96 MUST NOT carry a
 * non-global IPv4 address, and translators drop packets with one. Taken
 * as non-global: this network (0/8), RFC 1918, shared space (100.64/10,
 * RFC 6598), loopback, link local, IETF protocol assignments (192.0.0/24),
 * multicast and the reserved 240/4 with broadcast. The documentation and
 * benchmarking ranges of RFC 5735 §3 are translated (doc/conformance.md:
 * they lead nowhere on the Internet, so no private network is confused,
 * and labs use them). A network-specific prefix carries any address.
 */
static __always_inline int nat64_wkp_non_global(const struct fc_config *cfg, __be32 v4)
{
	__u32 a = bpf_ntohl(v4), i;

	if (cfg->nat64_prefix_len != 96 || cfg->nat64_prefix[0] || cfg->nat64_prefix[1] != 0x64 ||
	    cfg->nat64_prefix[2] != 0xff || cfg->nat64_prefix[3] != 0x9b)
		return 0;
#pragma unroll
	for (i = 4; i < 12; i++)
		if (cfg->nat64_prefix[i])
			return 0;
	return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 ||
	       (a & 0xffc00000) == 0x64400000 || (a >> 16) == 0xa9fe ||
	       (a & 0xfff00000) == 0xac100000 || (a >> 8) == 0xc00000 ||
	       (a >> 16) == 0xc0a8 || (a >> 29) == 7;
}

#endif /* FC_BPF_NAT64_ADDR_H */
