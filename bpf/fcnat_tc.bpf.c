// SPDX-License-Identifier: GPL-2.0
/* TC entry points: thin wrappers that bind the engine to struct __sk_buff. */
#include "lib/ctx_tc.h"
#include "lib/fwd.h"
#include "lib/nat6.h"
#include "lib/nat64.h"
#include "lib/nat64_hairpin.h"
#include "lib/vlan_nat.h"

/*
 * Set by the loader when the programs run from TCX links (Linux 6.6+): a
 * packet fcnat lets through goes on to the next program of the chain and to
 * the interface's clsact filters (TCX_NEXT), where TC_ACT_OK would end the
 * chain there and skip the others (qosify, SQM's ingress redirect, ...).
 * On clsact (0) the verdict stays TC_ACT_OK, as it always was.
 */
const volatile __u32 fc_tc_chain;

#define TCX_NEXT_VERDICT (-1)	/* TCX_NEXT, TC_ACT_UNSPEC */

static __always_inline int tc_verdict(int ret)
{
	return ret == CTX_PASS && fc_tc_chain ? TCX_NEXT_VERDICT : ret;
}

/* Egress of the external interface: source NAT of what leaves. */
static __always_inline int fc_tc_egress_body(struct __sk_buff *skb)
{
	if (ctx_is_ipv6(skb))
		return nat6_egress(skb);
	return nat4_egress(skb);
}

/* With --vlan (vlan_tc.h): another VLAN's frames untouched, ours tagged
 * once translated. */
SEC("tc")
int fc_tc_egress(struct __sk_buff *skb)
{
	int ret;

	if (tc_vlan_foreign_out(skb))
		return tc_verdict(CTX_PASS);
	ret = fc_tc_egress_body(skb);
	if (ret == CTX_PASS && vlan_nat_verdict(tc_vlan_out(skb)) == CTX_DROP)
		ret = CTX_DROP;
	return tc_verdict(ret);
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
static __always_inline int fc_tc_ingress_body(struct __sk_buff *skb)
{
	int ret;

	if (ctx_is_ipv6(skb))
		return tc_nat6_ingress(skb);
	if (nat64_pool_claims(skb))	/* to an address-mapped IPv6 host */
		return nat64_in(skb);
	ret = tc_nat4_ingress(skb);
	if (ret == FC_NAT64_PENDING)
		ret = nat64_in(skb);
	return ret;
}

SEC("tc")
int fc_tc_ingress(struct __sk_buff *skb)
{
	int ret = vlan_nat_verdict(tc_vlan_in(skb));

	return tc_verdict(ret == FC_VLAN_GO ? fc_tc_ingress_body(skb) : ret);
}

static __noinline int tc_nat4_hairpin(struct __sk_buff *skb)
{
	return nat4_hairpin(skb, 0);
}

static __noinline int tc_nat6_hairpin(struct __sk_buff *skb)
{
	return nat6_hairpin(skb);
}

/* IPv6 from inside: hairpinned to the external IPv6 address (NAT66),
 * translated to the NAT64 prefix, otherwise routed as it is. */
static __always_inline int tc_lan_ipv6(struct __sk_buff *skb)
{
	int ret = tc_nat6_hairpin(skb);

	return ret == FC_HAIRPIN_NOT_OURS ? nat64_out(skb) : ret;
}

/* Ingress of each --hairpin-if interface, and of the internal ones in XDP
 * mode (behind XDP's fast path): hairpinning (both families), and NAT64 of
 * IPv6 to the prefix. */
static __always_inline int fc_tc_lan_ingress_body(struct __sk_buff *skb)
{
	int ret;

	if (ctx_is_ipv6(skb))
		return tc_lan_ipv6(skb);
	ret = tc_nat4_hairpin(skb);
	return ret == FC_HAIRPIN_NAT64_PENDING ? nat64_hairpin4(skb) : ret;
}

SEC("tc")
int fc_tc_lan_ingress(struct __sk_buff *skb)
{
	return tc_verdict(fc_tc_lan_ingress_body(skb));
}

static __noinline int tc_nat4_fast_out(struct __sk_buff *skb)
{
	return nat4_fast_out(skb, fc_tc_fast_ifs[0], 1);
}

/* Ingress of each --lan-if interface in TC mode: the fast path (source NAT
 * and straight out of the external interface, fc_tc_fast_ifs[0]),
 * hairpinning (both families), and NAT64 of IPv6 to the prefix. */
static __always_inline int fc_tc_int_ingress_body(struct __sk_buff *skb)
{
	int ret;

	if (ctx_is_ipv6(skb))
		return tc_lan_ipv6(skb);
	ret = tc_nat4_fast_out(skb);
	return ret == FC_HAIRPIN_NAT64_PENDING ? nat64_hairpin4(skb) : ret;
}

SEC("tc")
int fc_tc_int_ingress(struct __sk_buff *skb)
{
	return tc_verdict(fc_tc_int_ingress_body(skb));
}

/* Ingress of lo: the gateway's own processes reaching mapped hosts. */
static __always_inline int fc_tc_lo_ingress_body(struct __sk_buff *skb)
{
	return nat4_hairpin(skb, 1);
}

SEC("tc")
int fc_tc_lo_ingress(struct __sk_buff *skb)
{
	return tc_verdict(fc_tc_lo_ingress_body(skb));
}

/*
 * Run by user space (BPF_PROG_TEST_RUN), never attached: change one
 * protocol's mapping count of a subscriber by args->delta, clamped at zero.
 * The sweeper gives back the count of every FC_BINDING_COUNTED mapping it
 * deletes while the datapath adds and takes on other CPUs: the clamped
 * value is written with compare-and-swap, so no concurrent change is lost
 * and two releases racing at 1 cannot wrap the count. Returns 0 (the new
 * count in args->result), -1 for no such subscriber, -2 when every attempt
 * lost its race (FC_RELEASE_ATTEMPTS; the caller may try again).
 */
#define FC_RELEASE_ATTEMPTS 32

SEC("syscall")
int fc_release(struct fc_release_args *args)
{
	struct fc_subscriber_key key = args->key;
	struct fc_subscriber *sub;
	__u32 slot = sub_proto_slot(args->proto);
	__s32 delta = args->delta;

	args->result = 0;
	sub = bpf_map_lookup_elem(&fc_subscribers, &key);
	if (!sub || slot >= FC_SUB_PROTOS)
		return -1;
	for (int i = 0; i < FC_RELEASE_ATTEMPTS; i++) {
		__u32 cur = *(volatile __u32 *)&sub->mappings[slot];
		__s64 want = (__s64)cur + delta;
		__u32 next = want < 0 ? 0 : (__u32)want;

		if (__sync_val_compare_and_swap(&sub->mappings[slot], cur, next) == cur) {
			args->result = next;
			return 0;
		}
	}
	return -2;
}

struct block_scan {
	struct fc_endpoint_key key;	/* external side; port per iteration */
	__u32 first;			/* host order; 32 bits: no padding */
	__u32 in_use;
};

/* The block's i-th port, in each protocol. The key is copied: a global
 * function's argument is no map key for 6.1's verifier (lib/loop.h). */
static __always_inline long block_scan_port(__u64 i, struct block_scan *s)
{
	struct fc_endpoint_key key;

	if (!s)
		return 1;
	key = s->key;
	key.port = bpf_htons((__u16)(s->first + i));
	key.proto = FC_PROTO_TCP;
	if (bpf_map_lookup_elem(&fc_bindings, &key))
		goto in_use;
	key.proto = FC_PROTO_UDP;
	if (bpf_map_lookup_elem(&fc_bindings, &key))
		goto in_use;
	key.proto = FC_PROTO_ICMP;
	if (bpf_map_lookup_elem(&fc_bindings, &key))
		goto in_use;
	return 0;
in_use:
	s->in_use = 1;
	return 1;
}

FC_LOOP_DEFINE_LONG(block_scan, struct block_scan, block_scan_port)

/*
 * Run by the sweeper (BPF_PROG_TEST_RUN) for a block its walk found no
 * mapping in: free it if that still holds. Its owner's slot is cleared
 * first, so the datapath starts no new claim in it (and one in progress
 * gives its port back, port_claim_try); then every port is looked
 * up: in use, the slot is put back. Freed: the owner's count goes down,
 * the entry goes, one event. A block younger than a second, or not in its
 * owner's slots, is left (the datapath is still making it).
 */
SEC("syscall")
int fc_block_free(struct fc_block_free_args *args)
{
	const struct fc_config *cfg = config_get();
	struct fc_block_key key = args->key;
	struct fc_subscriber_key owner;
	struct fc_subscriber *sub;
	struct fc_block *blk;
	struct block_scan scan = {};
	__u32 mark = key.index + 1, j = FC_MAX_PORT_BLOCKS;
	__u64 now = args->now_ns;

	args->result = FC_BLOCK_GONE;
	blk = bpf_map_lookup_elem(&fc_port_blocks, &key);
	if (!blk || !cfg || !cfg->block_size || cfg->block_size > 65535)
		return 0;
	args->result = FC_BLOCK_BUSY;
	if (now < blk->alloc_ns + 1000000000ULL)
		return 0;
	owner = blk->owner;
	sub = bpf_map_lookup_elem(&fc_subscribers, &owner);
	if (sub) {
		for (j = 0; j < FC_MAX_PORT_BLOCKS; j++)
			if (sub->blocks[j] == mark &&
			    __sync_val_compare_and_swap(&sub->blocks[j], mark, 0) == mark)
				break;
	}
	/* Not in its owner's slots (its entry was made again): nobody
	 * claims in it any more, it only has to be found unused. */

	scan.key.side = FC_SIDE_EXTERNAL;
	scan.key.family = FC_AF_INET;
	scan.key.addr.v4 = key.ext_addr4;
	scan.first = fc_block_first_port(cfg, key.index);
	block_scan_loop(cfg->block_size, &scan);
	if (scan.in_use) {
		if (sub && j < FC_MAX_PORT_BLOCKS) {
			/* Put back: the count still holds this slot's place. */
			for (j = 0; j < FC_MAX_PORT_BLOCKS; j++)
				if (__sync_val_compare_and_swap(&sub->blocks[j], 0, mark) == 0)
					break;
		}
		args->result = FC_BLOCK_IN_USE;
		return 0;
	}
	if (sub && j < FC_MAX_PORT_BLOCKS && sub->port_blocks)
		__sync_fetch_and_add(&sub->port_blocks, -1);
	if (bpf_map_delete_elem(&fc_port_blocks, &key))
		return 0;
	stat_inc(FC_STAT_PORT_BLOCK_FREED);
	/* 0: stamped when user space reads it, which is now (a syscall
	 * program cannot read the coarse clock). */
	event_block(cfg, FC_EVENT_BLOCK_FREE, &owner, &key, 0);
	args->result = FC_BLOCK_FREED;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
