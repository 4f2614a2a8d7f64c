/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet-context operations for TC (struct __sk_buff). The translation code
 * is written against these ctx_* calls only, so an XDP twin of this file is
 * all another hook needs. The skb helpers keep CHECKSUM_PARTIAL and
 * CHECKSUM_COMPLETE packets right, which hand-made updates would not.
 */
#ifndef FC_BPF_CTX_TC_H
#define FC_BPF_CTX_TC_H

#include "common.h"
#include "vlan.h"

#define ctx_buff	__sk_buff
#define CTX_PASS	0	/* TC_ACT_OK */
#define CTX_DROP	2	/* TC_ACT_SHOT */

static __always_inline __u32 ctx_len(const struct __sk_buff *ctx)
{
	return ctx->len;
}

/*
 * data/data_end are read with a plain load at a fixed offset: __sk_buff is
 * UAPI, and the verifier only accepts ctx loads of the form ctx + const.
 * (With CO-RE types clang may keep a member offset in a register and add
 * it, which the verifier rejects; asm keeps the form whatever the types.)
 */
static __always_inline void *ctx_data(const struct __sk_buff *ctx)
{
	void *data;

	asm volatile("%0 = *(u32 *)(%1 + %2)" : "=r"(data)
		     : "r"(ctx), "i"(__builtin_offsetof(struct __sk_buff, data)));
	return data;
}

static __always_inline void *ctx_data_end(const struct __sk_buff *ctx)
{
	void *end;

	asm volatile("%0 = *(u32 *)(%1 + %2)" : "=r"(end)
		     : "r"(ctx), "i"(__builtin_offsetof(struct __sk_buff, data_end)));
	return end;
}

/*
 * Interfaces with no link-layer header (PPP and PPPoE's pppX, TUN,
 * WireGuard, IP-in-IP and SIT tunnels): a frame there starts at the IP
 * header and skb->protocol names the family. Written by user space at
 * start and again when the external interface comes back with a new index
 * (.bss: live, never pinned); 0 after the last. doc/design/link-types.md.
 */
#define FC_TC_L3_IFS_MAX	8
volatile __u32 fc_tc_l3_ifs[FC_TC_L3_IFS_MAX];

/*
 * 1 when the frame has an Ethernet header, 0 on an interface listed in
 * fc_tc_l3_ifs. Without a branch on the answer: the verifier carries one
 * state with the length 0..14 on, instead of verifying everything after it
 * once per link type. Even with no bare link (the first slot 0: one load
 * and out), the answer is an opaque 1 (ctx_nonzero_ of the index, never 0
 * here), so both ways reach the rest with the same state.
 */
static __always_inline __u64 ctx_has_eth(const struct __sk_buff *ctx)
{
	__u64 ifindex = ctx->ifindex, eth = ctx_nonzero_(ifindex);

	if (!fc_tc_l3_ifs[0])
		return eth;
	for (int i = 0; i < FC_TC_L3_IFS_MAX; i++)
		eth &= ctx_nonzero_(fc_tc_l3_ifs[i] ^ ifindex);
	return eth;
}

/* The network protocol the kernel gave the packet (the family on a link
 * with no link-layer header). */
static __always_inline __be16 ctx_protocol(const struct __sk_buff *ctx)
{
	return (__be16)ctx->protocol;
}

/*
 * A packet of a link with no link-layer header (l3_off 0) about to be
 * redirected gets an Ethernet header: a redirect to an Ethernet device
 * sends the bytes before the IP header as that header (bpf_redirect with
 * the FIB's MACs written in it; bpf_redirect_neigh takes a packet only
 * with one), and a redirect to a device without one strips it again. The
 * type is the packet's protocol. 0, or -1: drop it.
 */
static __always_inline int ctx_l2_push(struct __sk_buff *ctx, __u32 l3_off)
{
	struct ethhdr *eth;

	if (l3_off)
		return 0;
	if (bpf_skb_change_head(ctx, ETH_HLEN, 0))
		return -1;
	eth = ctx_data(ctx);
	if ((void *)(eth + 1) > ctx_data_end(ctx))
		return -1;
	eth->h_proto = ctx_protocol(ctx);
	return 0;
}

/* The network protocol behind any 802.1Q/802.1ad tags: on TC there are
 * none to skip. The tags of a --vlan link are taken off at its ingress
 * before anything parses (vlan_tc.h), and put on at its egress after. */
static __always_inline __be16 ctx_vlan_l2(struct __sk_buff *ctx, __be16 proto, __u32 *l2)
{
	return proto;
}

/* The link-layer header a packet needs for its redirect out of
 * fib->ifindex: an Ethernet header if it has none (ctx_l2_push). Tags of a
 * --vlan link are put on by its egress program (vlan_tc.h), a VLAN
 * sub-interface's by the device. */
static __always_inline int ctx_l2_out(struct __sk_buff *ctx, __u32 l3_off,
				      const struct bpf_fib_lookup *fib)
{
	return ctx_l2_push(ctx, l3_off);
}

/* Make the first len bytes directly accessible: headers may sit in paged
 * data (GRO, some drivers). A no-op when they are linear already. */
static __always_inline void ctx_linearize(struct __sk_buff *ctx, __u32 len)
{
	if (len > ctx->len)
		len = ctx->len;
	if (ctx_data(ctx) + len > ctx_data_end(ctx))
		bpf_skb_pull_data(ctx, len);
}

/* Forwarded by the stack (received on some interface), as opposed to sent
 * by the gateway itself: only forwarded packets come from internal hosts. */
static __always_inline int ctx_forwarded(const struct __sk_buff *ctx)
{
	return ctx->ingress_ifindex != 0;
}

static __always_inline int ctx_load(struct __sk_buff *ctx, __u32 off, void *to, __u32 len)
{
	return bpf_skb_load_bytes(ctx, off, to, len);
}

static __always_inline int ctx_store(struct __sk_buff *ctx, __u32 off, const void *from, __u32 len)
{
	return bpf_skb_store_bytes(ctx, off, from, len, 0);
}

static __always_inline int ctx_l3_csum_replace(struct __sk_buff *ctx, __u32 off, __u32 from, __u32 to, __u32 size)
{
	return bpf_l3_csum_replace(ctx, off, from, to, size);
}

/* flags: size in the low bits, BPF_F_PSEUDO_HDR_, BPF_F_MARK_MANGLED_0_. */
static __always_inline int ctx_l4_csum_replace(struct __sk_buff *ctx, __u32 off, __u32 from, __u32 to, __u64 flags)
{
	return bpf_l4_csum_replace(ctx, off, from, to, flags);
}

/* Feed a copy of the packet, as it is now, back into the ingress of the
 * interface it arrived on: it meets the datapath again, from the top. */
static __always_inline int ctx_reinject(struct __sk_buff *ctx)
{
	return bpf_clone_redirect(ctx, ctx->ifindex, BPF_F_INGRESS);
}

/* Store bytes of the IP header. A CHECKSUM_COMPLETE packet's skb->csum
 * covers them (unlike the pseudo-header), so it follows the change. */
static __always_inline int ctx_store_rcsum(struct __sk_buff *ctx, __u32 off, const void *from, __u32 len)
{
	return bpf_skb_store_bytes(ctx, off, from, len, BPF_F_RECOMPUTE_CSUM);
}

/* Apply a precomputed checksum difference (bpf_csum_diff) to the L4
 * checksum at off; flags: BPF_F_PSEUDO_HDR_, BPF_F_MARK_MANGLED_0_ (no size). */
static __always_inline int ctx_l4_csum_diff(struct __sk_buff *ctx, __u32 off, __u32 diff, __u64 flags)
{
	return bpf_l4_csum_replace(ctx, off, 0, diff, flags & ~0xfULL);
}

/*
 * Change the frame's network protocol to family (FC_AF_INET/FC_AF_INET6) and
 * the room for its headers by delta bytes: room is added (delta > 0) or
 * removed right after the Ethernet header, the bytes behind stay as they
 * are. The caller writes the new headers and the Ethernet type. On error
 * the packet may be half changed: drop it. bpf_skb_change_proto moves the
 * 20 bytes IPv4 and IPv6 headers differ by and switches skb->protocol and
 * the GSO type; the rest (options, extension headers) is adjust_room's.
 */
static __always_inline int ctx_change_l3(struct __sk_buff *ctx, int family, int delta)
{
	int rest = delta;

	if (family == FC_AF_INET6) {
		if (bpf_skb_change_proto(ctx, bpf_htons(ETH_P_IPV6), 0))
			return -1;
		rest -= 20;
	} else {
		if (bpf_skb_change_proto(ctx, bpf_htons(ETH_P_IP), 0))
			return -1;
		rest += 20;
	}
	if (rest && bpf_skb_adjust_room(ctx, rest, BPF_ADJ_ROOM_MAC, 0))
		return -1;
	return 0;
}

/* Make the packet exactly len bytes long. */
static __always_inline int ctx_resize(struct __sk_buff *ctx, __u32 len)
{
	return bpf_skb_change_tail(ctx, len, 0);
}

/*
 * The same for a packet that becomes another one in place (an ICMP error
 * quoting it), which must not keep the offloads of the packet it was.
 * bpf_skb_change_tail ends GSO (skb_gso_reset). CHECKSUM_PARTIAL, under
 * which the device (or skb_checksum_help) would store a checksum over the
 * bytes from csum_start at csum_start + csum_offset, inside the quote, no
 * helper clears: the bytes after the link-layer header are cut down to
 * l3_min (the smallest IP header adjust_room leaves), which takes
 * csum_start out of the packet (a transport header within the cut) and
 * makes the kernel drop the offload (skb_postpull_rcsum: CHECKSUM_NONE);
 * then the length is given back, zeroed, for the caller to write. A
 * packet adjust_room does not take (skb->protocol a VLAN tag's) keeps
 * its checksum state, as before this existed.
 */
static __always_inline int ctx_resize_plain(struct __sk_buff *ctx, __u32 l3_off, __u32 len,
					    __u32 l3_min)
{
	__u32 cut = len - l3_off - l3_min;

	if (len < l3_off + l3_min || cut > 0xfff || bpf_skb_change_tail(ctx, len, 0))
		return -1;
	if (cut && !bpf_skb_adjust_room(ctx, -(__s32)cut, BPF_ADJ_ROOM_MAC, 0) &&
	    bpf_skb_change_tail(ctx, len, 0))
		return -1;
	return 0;
}

/* The payload bytes per segment of a GSO packet, 0 for any other. */
static __always_inline __u32 ctx_gso_size(const struct __sk_buff *ctx)
{
	return ctx->gso_size;
}

/* The interface the packet is on now (the hook's). */
static __always_inline __u32 ctx_ifindex(const struct __sk_buff *ctx)
{
	return ctx->ifindex;
}

/* The interface the packet was received on. */
static __always_inline __u32 ctx_in_ifindex(const struct __sk_buff *ctx)
{
	return ctx->ingress_ifindex;
}

/* A GSO packet is cut to the MTU only on its way out: its own length says
 * nothing about whether it fits (gso.h). */
static __always_inline int ctx_is_gso(const struct __sk_buff *ctx)
{
	return ctx->gso_size != 0;
}

/* Route lookup in the kernel's FIB, as the stack does it for a packet
 * received on fib->ifindex (forwarding must be on there; ip rules see that
 * input interface, lo for the gateway's own packets, as in the stack). */
static __always_inline long ctx_fib_lookup(struct __sk_buff *ctx, struct bpf_fib_lookup *fib)
{
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
}

/* The same in the main table alone (BPF_FIB_LOOKUP_DIRECT: no ip rules,
 * no local table): whether any route leads to fib's destination. */
static __always_inline long ctx_fib_lookup_main(struct __sk_buff *ctx, struct bpf_fib_lookup *fib)
{
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), BPF_FIB_LOOKUP_DIRECT);
}

/*
 * The TC fast path (fwd.h; TC mode with --lan-if): the interfaces it may
 * send packets out of, the external one first, then the internal ones, 0
 * after the last. Set by the loader before load (read-only: the verifier
 * knows the values). Empty: the TC programs leave forwarding to the stack.
 */
#define FC_TC_FAST_IFS_MAX	17
const volatile __u32 fc_tc_fast_ifs[FC_TC_FAST_IFS_MAX];

static __always_inline int ctx_fast_enabled(void)
{
	return fc_tc_fast_ifs[0] != 0;
}

/* May the fast path send a packet out of ifindex? */
static __always_inline int ctx_can_send(struct __sk_buff *ctx, __u32 ifindex)
{
	for (int i = 0; i < FC_TC_FAST_IFS_MAX; i++) {
		if (!fc_tc_fast_ifs[i])
			break;
		if (fc_tc_fast_ifs[i] == ifindex)
			return 1;
	}
	return 0;
}

/* A packet with a mark may be policy-routed on it, which the FIB lookup of
 * the fast path does not see: the stack's, then. */
static __always_inline int ctx_fast_ok(const struct __sk_buff *ctx)
{
	return ctx->mark == 0;
}

/* Send out of fib->ifindex to the next hop the FIB found (its MACs): a
 * plain redirect to the egress queue, no neighbour lookup, no routing. */
static __always_inline int ctx_redirect_out(struct __sk_buff *ctx, const struct bpf_fib_lookup *fib)
{
	struct ethhdr *eth = ctx_data(ctx);

	if ((void *)(eth + 1) > ctx_data_end(ctx))
		return CTX_DROP;
	__builtin_memcpy(eth->h_dest, fib->dmac, sizeof(eth->h_dest));
	__builtin_memcpy(eth->h_source, fib->smac, sizeof(eth->h_source));
	return bpf_redirect(fib->ifindex, 0);
}

/* Send out of fib->ifindex, the kernel resolving the next hop's MAC address
 * (the FIB had no neighbour entry for it yet). */
static __always_inline int ctx_redirect_resolve(struct __sk_buff *ctx,
						const struct bpf_fib_lookup *fib)
{
	return bpf_redirect_neigh(fib->ifindex, NULL, 0, 0);
}

/*
 * Marks a packet the fast path translated and redirected out of the external
 * interface: a redirect out of an interface still crosses its TC egress,
 * where nat4_egress must not translate it a second time. Only set on
 * packets that had no mark (ctx_fast_ok); ctx_translated_fast() clears it.
 */
#define FC_MARK_FAST_OUT	0x5fc0fa57

static __always_inline void ctx_mark_translated(struct __sk_buff *ctx)
{
	ctx->mark = FC_MARK_FAST_OUT;
}

static __always_inline int ctx_translated_fast(struct __sk_buff *ctx)
{
	if (ctx->mark != FC_MARK_FAST_OUT)
		return 0;
	ctx->mark = 0;
	return 1;
}

/* Marks a packet handed to the stack through lo (below), so that the hairpin
 * program on lo lets it pass instead of translating it a second time. */
#define FC_MARK_TO_GATEWAY	0x5fc0ca1e

/* Hand the packet to the local stack through the loopback interface (ifindex
 * 1 in every namespace): a packet whose source is one of our own addresses
 * is only accepted from there (elsewhere it is a martian). lo's address is
 * all zeroes; with any other destination MAC the stack would take the packet
 * for someone else's. */
static __always_inline int ctx_redirect_local(struct __sk_buff *ctx)
{
	static const __u8 lo_mac[6] = {};

	if (bpf_skb_store_bytes(ctx, 0, lo_mac, sizeof(lo_mac), 0))
		return 2;	/* TC_ACT_SHOT */
	ctx->mark = FC_MARK_TO_GATEWAY;
	return bpf_redirect(1, BPF_F_INGRESS);
}

/* Was this packet handed to the stack by ctx_redirect_local()? Clears the
 * mark, which is ours only for that short way. */
static __always_inline int ctx_redirected_local(struct __sk_buff *ctx)
{
	if (ctx->mark != FC_MARK_TO_GATEWAY)
		return 0;
	ctx->mark = 0;
	return 1;
}

#endif /* FC_BPF_CTX_TC_H */
