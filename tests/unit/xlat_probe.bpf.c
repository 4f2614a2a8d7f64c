// SPDX-License-Identifier: GPL-2.0
/* Test-only program: runs the NAT64 translation layer (bpf/lib/xlat.h,
 * nat64_addr.h) on one packet with the parameters the test put in
 * probe_in, so tests/unit/test_xlat.c can compare the whole packet that
 * comes out. Built for TC here and, through xlat_probe_xdp.bpf.c, for XDP
 * (the same code over the other ctx layer). */
#ifndef XLAT_PROBE_XDP
#include "lib/ctx_tc.h"
#define PROBE_SEC	"tc"
#endif
#include "lib/parse.h"
#include "lib/nat64_addr.h"
#include "lib/xlat.h"
#include "xlat_probe.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlat_probe_in);
} probe_in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlat_probe_out);
} probe_out SEC(".maps");

static __always_inline int probe_params(struct xlat_params *prm, struct xlat_probe_out **o)
{
	struct xlat_probe_in *in;
	__u32 zero = 0;

	in = bpf_map_lookup_elem(&probe_in, &zero);
	*o = bpf_map_lookup_elem(&probe_out, &zero);
	if (!in || !*o)
		return -1;
	__builtin_memcpy(&prm->out.saddr, in->out_saddr, 16);
	__builtin_memcpy(&prm->out.daddr, in->out_daddr, 16);
	__builtin_memcpy(&prm->in.saddr, in->in_saddr, 16);
	__builtin_memcpy(&prm->in.daddr, in->in_daddr, 16);
	prm->out.sport = in->out_sport;
	prm->out.dport = in->out_dport;
	prm->in.sport = in->in_sport;
	prm->in.dport = in->in_dport;
	prm->ip_id = in->ip_id;
	prm->mtu4 = in->mtu4;
	prm->mtu6 = in->mtu6;
	(*o)->verdict = PROBE_NOT_PARSED;
	return 0;
}

SEC(PROBE_SEC)
int probe_6to4(struct ctx_buff *ctx)
{
	struct xlat_params prm = {};
	struct xlat_probe_out *o;
	struct fc_pkt p = {};

	if (probe_params(&prm, &o))
		return CTX_DROP;
	o->parse = parse_ipv6(ctx, &p);
	if (o->parse != FC_PARSE_OK)
		return CTX_DROP;
	o->len_before = xlat_6to4_len(&p);
	o->verdict = xlat_6to4(ctx, &p, &prm);
	return o->verdict == XLAT_OK ? CTX_PASS : CTX_DROP;
}

SEC(PROBE_SEC)
int probe_4to6(struct ctx_buff *ctx)
{
	struct xlat_params prm = {};
	struct xlat_probe_out *o;
	struct fc_pkt p = {};

	if (probe_params(&prm, &o))
		return CTX_DROP;
	o->parse = parse_ipv4(ctx, &p);
	if (o->parse != FC_PARSE_OK)
		return CTX_DROP;
	o->len_before = xlat_4to6_len(&p);
	o->verdict = xlat_4to6(ctx, &p, &prm);
	return o->verdict == XLAT_OK ? CTX_PASS : CTX_DROP;
}

#ifndef XLAT_PROBE_XDP
/* RFC 6052: synthesize in->v4 and extract from in->v6 under in->prefix. */
SEC("tc")
int probe_nat64_addr(struct __sk_buff *ctx)
{
	struct xlat_probe_in *in;
	struct xlat_probe_out *o;
	struct fc_config cfg = {};
	__u32 zero = 0;

	in = bpf_map_lookup_elem(&probe_in, &zero);
	o = bpf_map_lookup_elem(&probe_out, &zero);
	if (!in || !o)
		return CTX_DROP;
	__builtin_memcpy(cfg.nat64_prefix, in->prefix, 16);
	cfg.nat64_prefix_len = in->prefix_len;
	o->synth_ret = nat64_synthesize(&cfg, in->v4, o->v6);
	o->match = nat64_addr_match(&cfg, in->v6);
	o->v4 = 0;
	o->extract_ret = nat64_extract(&cfg, in->v6, &o->v4);
	return CTX_PASS;
}
#endif

char LICENSE[] SEC("license") = "GPL";
