/* SPDX-License-Identifier: GPL-2.0 */
/* What the parse probe (parse_probe.bpf.c) reports of one parse: the fields
 * of struct fc_pkt the tests check, in a layout both sides compile. */
#ifndef FC_TEST_PARSE_PROBE_H
#define FC_TEST_PARSE_PROBE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* enum fc_parse of bpf/lib/parse.h */
#define PROBE_PARSE_OK			0
#define PROBE_PARSE_NOT_IP		1
#define PROBE_PARSE_MALFORMED		2
#define PROBE_PARSE_EXT_UNSUPPORTED	3

struct parse_probe_result {
	__s32 ret;
	__u32 l4_off;
	__u32 l3_end;
	__u32 csum_off;
	__u32 frag_hdr_off;
	__u8 saddr[16];
	__u8 daddr[16];
	__be16 sport;
	__be16 dport;
	__u8 family;
	__u8 proto;
	__u8 has_l4;
	__u8 is_fragment;
	__u8 csum_pseudo;
	__u8 icmp_type;
	__u8 hop_limit;
	__u8 pad0;
	__be32 frag_id;
	__u16 frag_off;
	__be16 ip_id;
};

#endif
