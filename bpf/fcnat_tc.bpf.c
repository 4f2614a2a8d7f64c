// SPDX-License-Identifier: GPL-2.0
/* TC entry points: thin wrappers that bind the engine to struct __sk_buff. */
#include "lib/ctx_tc.h"
#include "lib/fwd.h"
#include "lib/nat6.h"
#include "lib/nat64.h"

/* Egress of the external interface: source NAT of what leaves. */
SEC("tc")
int fc_tc_egress(struct __sk_buff *skb)
{
	if (ctx_is_ipv6(skb))
		return nat6_egress(skb);
	return nat4_egress(skb);
}

/* The halves as BPF functions of their own: a call chain shares 512 bytes
 * of stack, and NAT64's translation needs a frame of its own. */
static __noinline int tc_nat4_ingress(struct __sk_buff *skb)
{
	return nat4_ingress(skb);
}

static __noinline int tc_nat6_ingress(struct __sk_buff *skb)
{
	return nat6_ingress(skb);
}

/* Ingress of the external interface: destination NAT of what arrives;
 * IPv4 to a NAT64 mapping becomes IPv6 for the stack. */
SEC("tc")
int fc_tc_ingress(struct __sk_buff *skb)
{
	int ret;

	if (ctx_is_ipv6(skb))
		return tc_nat6_ingress(skb);
	ret = tc_nat4_ingress(skb);
	if (ret == FC_NAT64_PENDING)
		ret = nat64_in(skb);
	return ret;
}

static __noinline int tc_nat4_hairpin(struct __sk_buff *skb)
{
	return nat4_hairpin(skb, 0);
}

/* Ingress of each --hairpin-if interface, and of the internal ones in XDP
 * mode (behind XDP's fast path): hairpinning, and NAT64 of IPv6 to the
 * prefix. */
SEC("tc")
int fc_tc_lan_ingress(struct __sk_buff *skb)
{
	if (ctx_is_ipv6(skb))
		return nat64_out(skb);
	return tc_nat4_hairpin(skb);
}

static __noinline int tc_nat4_fast_out(struct __sk_buff *skb)
{
	return nat4_fast_out(skb, fc_tc_fast_ifs[0], 1);
}

/* Ingress of each --internal interface in TC mode: the fast path (source NAT
 * and straight out of the external interface, fc_tc_fast_ifs[0]),
 * hairpinning, and NAT64 of IPv6 to the prefix. */
SEC("tc")
int fc_tc_int_ingress(struct __sk_buff *skb)
{
	if (ctx_is_ipv6(skb))
		return nat64_out(skb);
	return tc_nat4_fast_out(skb);
}

/* Ingress of lo: the gateway's own processes reaching mapped hosts. */
SEC("tc")
int fc_tc_lo_ingress(struct __sk_buff *skb)
{
	return nat4_hairpin(skb, 1);
}

/*
 * Run by user space (BPF_PROG_TEST_RUN), never attached: change one
 * protocol's mapping count of a subscriber by args->delta with an atomic
 * add, as the datapath does, so no concurrent count is lost. The sweeper
 * gives back the count of every FC_BINDING_COUNTED mapping it deletes.
 * A count never goes below zero.
 */
SEC("syscall")
int fc_release(struct fc_release_args *args)
{
	struct fc_subscriber_key key = args->key;
	struct fc_subscriber *sub;
	__u32 slot = sub_proto_slot(args->proto), cur;
	__s32 delta = args->delta;

	args->result = 0;
	sub = bpf_map_lookup_elem(&fc_subscribers, &key);
	if (!sub || slot >= FC_SUB_PROTOS)
		return -1;
	cur = sub->mappings[slot];
	if (delta < 0 && (__s32)cur + delta < 0)
		delta = -(__s32)cur;
	args->result = __sync_fetch_and_add(&sub->mappings[slot], delta) + delta;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
