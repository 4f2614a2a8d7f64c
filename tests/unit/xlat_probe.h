/* SPDX-License-Identifier: GPL-2.0 */
/* The xlat probe's contract (xlat_probe.bpf.c, test_xlat.c): what one
 * translation is asked to do, and what came of it. */
#ifndef FC_TEST_XLAT_PROBE_H
#define FC_TEST_XLAT_PROBE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* enum xlat_verdict of bpf/lib/xlat_hdr.h */
#define PROBE_XLAT_OK		0
#define PROBE_XLAT_DROP		1
#define PROBE_XLAT_MALFORMED	2
#define PROBE_XLAT_UNSUPPORTED	3
#define PROBE_XLAT_SOURCE_ROUTE	4
#define PROBE_XLAT_SEGMENTS_LEFT 5
#define PROBE_XLAT_UDP_NO_CSUM	6
#define PROBE_XLAT_NO_ROOM	7
#define PROBE_NOT_PARSED	100

/* Addresses: IPv4 in the first 4 bytes, IPv6 in all 16. */
struct xlat_probe_in {
	__u8 out_saddr[16];
	__u8 out_daddr[16];
	__u8 in_saddr[16];
	__u8 in_daddr[16];
	__be16 out_sport;
	__be16 out_dport;
	__be16 in_sport;
	__be16 in_dport;
	__be16 ip_id;
	__u16 mtu4;
	__u16 mtu6;
	__u16 pad0;
	/* RFC 6052 */
	__u8 prefix[16];
	__u32 prefix_len;
	__be32 v4;		/* synthesize this ... */
	__u8 v6[16];		/* ... extract from this */
};

struct xlat_probe_out {
	__s32 parse;		/* enum fc_parse */
	__s32 verdict;		/* enum xlat_verdict */
	__u32 len_before;	/* xlat_4to6_len / xlat_6to4_len of the input */
	__s32 synth_ret;
	__s32 extract_ret;
	__s32 match;
	__be32 v4;
	__u8 v6[16];
};

#endif
