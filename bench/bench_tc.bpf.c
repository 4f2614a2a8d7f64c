// SPDX-License-Identifier: GPL-2.0
/*
 * Micro-benchmark programs. BPF_PROG_TEST_RUN with repeat runs a program
 * over the same buffer again and again, and translation rewrites it; so each
 * program first restores the original frame. bench_restore does only that,
 * and its time is subtracted to leave the translation's own cost.
 */
#include "lib/ctx_tc.h"
#include "lib/nat6.h"
#include "lib/nat64.h"
#include "lib/vlan_nat.h"

#define BENCH_FRAME 64

__u8 bench_frame[BENCH_FRAME];

static __always_inline void restore(struct __sk_buff *skb)
{
	bpf_skb_store_bytes(skb, 0, bench_frame, BENCH_FRAME, 0);
}

SEC("tc")
int bench_restore(struct __sk_buff *skb)
{
	restore(skb);
	return CTX_PASS;
}

SEC("tc")
int bench_egress(struct __sk_buff *skb)
{
	int ret;

	restore(skb);
	/* The entry point's --vlan checks and family dispatch, as in
	 * fcnat_tc.bpf.c. */
	if (tc_vlan_foreign_out(skb))
		return CTX_PASS;
	ret = ctx_is_ipv6(skb) ? nat6_egress(skb) : nat4_egress(skb);
	if (ret == CTX_PASS && vlan_nat_verdict(tc_vlan_out(skb)) == CTX_DROP)
		ret = CTX_DROP;
	return ret;
}

/* The entry point's shape (fcnat_tc.bpf.c): the halves as BPF functions,
 * NAT64's after nat4_ingress hands a mapping over. */
static __noinline int bench_nat4_ingress(struct __sk_buff *skb)
{
	return nat4_ingress(skb);
}

static __noinline int bench_nat6_ingress(struct __sk_buff *skb)
{
	return nat6_ingress(skb);
}

SEC("tc")
int bench_ingress(struct __sk_buff *skb)
{
	int ret;

	restore(skb);
	ret = vlan_nat_verdict(tc_vlan_in(skb));
	if (ret != FC_VLAN_GO)
		return ret;
	if (ctx_is_ipv6(skb))
		return bench_nat6_ingress(skb);
	ret = bench_nat4_ingress(skb);
	if (ret == FC_NAT64_PENDING)
		ret = nat64_in(skb);
	return ret;
}

/* The same, inlined as before NAT64 (main before this branch): the cost of
 * the BPF-to-BPF call, for doc/benchmarks.md. */
SEC("tc")
int bench_ingress_inline(struct __sk_buff *skb)
{
	restore(skb);
	if (ctx_is_ipv6(skb))
		return nat6_ingress(skb);
	return nat4_ingress(skb);
}

char LICENSE[] SEC("license") = "GPL";
