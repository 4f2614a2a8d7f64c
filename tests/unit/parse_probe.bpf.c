// SPDX-License-Identifier: GPL-2.0
/* Test-only program: runs the datapath's IPv6 parser on a packet and keeps
 * what it found, so the unit tests can check the parse itself, field by
 * field (tests/unit/test_parse6.c). */
#include "lib/ctx_tc.h"
#include "lib/parse.h"
#include "parse_probe.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct parse_probe_result);
} probe_result SEC(".maps");

SEC("tc")
int probe_parse_ipv6(struct __sk_buff *skb)
{
	struct fc_pkt p = {};
	struct parse_probe_result *r;
	__u32 zero = 0;
	int ret;

	ret = parse_ipv6(skb, &p);
	r = bpf_map_lookup_elem(&probe_result, &zero);
	if (!r)
		return 2;
	r->ret = ret;
	r->l4_off = p.l4_off;
	r->l3_end = p.l3_end;
	r->csum_off = p.csum_off;
	r->frag_hdr_off = p.frag_hdr_off;
	__builtin_memcpy(r->saddr, p.saddr.v6, 16);
	__builtin_memcpy(r->daddr, p.daddr.v6, 16);
	r->sport = p.sport;
	r->dport = p.dport;
	r->family = p.family;
	r->proto = p.proto;
	r->has_l4 = p.has_l4;
	r->is_fragment = p.is_fragment;
	r->csum_pseudo = p.csum_pseudo;
	r->icmp_type = p.icmp_type;
	r->hop_limit = p.hop_limit;
	r->frag_id = p.frag_id;
	r->frag_off = p.frag_off;
	r->ip_id = p.ip_id;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
