/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet-context operations for XDP (struct xdp_md), the twin of ctx_tc.h.
 * An XDP frame is linear and carries no checksum state: every checksum is
 * updated in software (RFC 1624), with the semantics of the skb helpers'
 * flags (BPF_F_MARK_MANGLED_0 keeps a "no checksum" UDP zero and never
 * writes a computed zero). Frames leave by redirect, to the interfaces the
 * loader put in fc_xdp_tx only (devmap: bulked transmit, and a frame is
 * never redirected where it would be lost); the Ethernet header comes from
 * the FIB result, so a next hop without a neighbour entry goes to the stack.
 */
#ifndef FC_BPF_CTX_XDP_H
#define FC_BPF_CTX_XDP_H

#include "common.h"
#include "csum_math.h"
#include "vlan.h"

#define ctx_buff	xdp_md
#define CTX_PASS	2	/* XDP_PASS */
#define CTX_DROP	1	/* XDP_DROP */

#define FC_XDP_TX_MAX	64

/* Interfaces the fast path may send frames out of: ifindex -> ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, FC_XDP_TX_MAX);
	__type(key, __u32);
	__type(value, __u32);
} fc_xdp_tx SEC(".maps");

/* Plain loads at fixed offsets, for the reason given in ctx_tc.h. */
static __always_inline void *ctx_data(const struct xdp_md *ctx)
{
	void *data;

	asm volatile("%0 = *(u32 *)(%1 + %2)" : "=r"(data)
		     : "r"(ctx), "i"(__builtin_offsetof(struct xdp_md, data)));
	return data;
}

static __always_inline void *ctx_data_end(const struct xdp_md *ctx)
{
	void *end;

	asm volatile("%0 = *(u32 *)(%1 + %2)" : "=r"(end)
		     : "r"(ctx), "i"(__builtin_offsetof(struct xdp_md, data_end)));
	return end;
}

static __always_inline __u32 ctx_len(const struct xdp_md *ctx)
{
	return ctx_data_end(ctx) - ctx_data(ctx);
}

/* XDP runs on Ethernet links only: fcnat refuses XDP mode on a link
 * without a link-layer header (doc/design/link-types.md). */
static __always_inline __u64 ctx_has_eth(const struct xdp_md *ctx)
{
	return 1;
}

static __always_inline __be16 ctx_protocol(const struct xdp_md *ctx)
{
	return 0;
}

static __always_inline int ctx_l2_push(struct xdp_md *ctx, __u32 l3_off)
{
	return l3_off ? 0 : -1;
}

/*
 * VLAN sub-interfaces the FIB may name as egress (-i wan0.7 in XDP mode):
 * a frame for one leaves from its real device with its tag in the frame,
 * as the VLAN device would have sent it. bpf_fib_lookup names the VLAN
 * device and leaves its h_vlan_* outputs empty: user space tells which
 * real device and tag (vlan.h's form) each has; 0 after the last.
 */
#define FC_XDP_VLAN_DEVS_MAX	4
volatile __u32 fc_xdp_vlan_dev[FC_XDP_VLAN_DEVS_MAX];
volatile __u32 fc_xdp_vlan_lower[FC_XDP_VLAN_DEVS_MAX];
volatile __u32 fc_xdp_vlan_tag[FC_XDP_VLAN_DEVS_MAX];

/* The real device of VLAN sub-interface ifindex (high half) and its tag
 * (low half); 0 if it is not one. One value, so nothing is kept on the
 * stack of the programs' deepest chain. */
static __always_inline __u64 xdp_vlan_lower(__u32 ifindex)
{
	for (int i = 0; i < FC_XDP_VLAN_DEVS_MAX; i++) {
		__u32 dev = fc_xdp_vlan_dev[i];

		if (!dev)
			break;
		if (dev == ifindex)
			return (__u64)fc_xdp_vlan_lower[i] << 32 | fc_xdp_vlan_tag[i];
	}
	return 0;
}

/*
 * The link-layer header a translated frame needs out of fib->ifindex: the
 * --vlan link's tags, a VLAN sub-interface's tag, or none; the frame has
 * l3_off bytes of it now (14..22: ctx_vlan_l2). Room made or taken at the
 * front, the tags and the protocol written; the MACs are
 * ctx_redirect_out's. 0, or -1: drop it (translated already).
 */
static __noinline __attribute__((unused)) int ctx_l2_out(struct xdp_md *ctx, __u32 l3_off,
				  const struct bpf_fib_lookup *fib)
{
	__u32 t0 = 0, t1 = 0, want;
	__be16 type, *h;

	if (l3_off < ETH_HLEN)
		return -1;
	if (fc_vlan_tags[0] && fib->ifindex == fc_vlan_ifindex) {
		t0 = fc_vlan_tags[0];
		t1 = fc_vlan_tags[1];
	} else {
		t0 = (__u32)xdp_vlan_lower(fib->ifindex);
	}
	if (!t0 && l3_off == ETH_HLEN)
		return 0;	/* untagged in, untagged out */
	want = ETH_HLEN + (t0 ? FC_VLAN_HLEN : 0) + (t1 ? FC_VLAN_HLEN : 0);
	h = ctx_data(ctx) + FC_BOUND_EVEN(l3_off - sizeof(type), 0x1f);	/* 14..22: even */
	if ((void *)(h + 1) > ctx_data_end(ctx))
		return -1;
	type = *h;
	if (l3_off != want && bpf_xdp_adjust_head(ctx, (int)l3_off - (int)want))
		return -1;
	h = ctx_data(ctx);
	if ((void *)h + ETH_HLEN + FC_VLAN_TAGS_MAX * FC_VLAN_HLEN > ctx_data_end(ctx))
		return -1;
	h += 6;		/* past the MACs */
	if (t0) {
		h[0] = bpf_htons(t0 >> 16);
		h[1] = bpf_htons(t0 & FC_VLAN_VID_MASK);
		h += 2;
		if (t1) {
			h[0] = bpf_htons(t1 >> 16);
			h[1] = bpf_htons(t1 & FC_VLAN_VID_MASK);
			h += 2;
		}
	}
	h[0] = type;
	return 0;
}

/*
 * The frames of a --vlan link (vlan.h) carry their tags here: XDP runs
 * before the kernel moves a tag out of the frame. One with exactly the
 * configured tags has 4 bytes of link-layer header more per tag and the
 * protocol behind them; one with others (or none) is not ours: 0, passed
 * to the stack. Without a branch on the answer (as ctx_has_eth in
 * ctx_tc.h): the verifier goes on with *l2 in 14..22, one state, not one
 * per tag count. Frames XDP leaves to the stack meet TC, which takes the
 * tags off there (vlan_tc.h).
 */
static __always_inline __be16 ctx_vlan_l2(struct xdp_md *ctx, __be16 proto, __u32 *l2)
{
	__u64 w0 = fc_vlan_tags[0], w1 = fc_vlan_tags[1], ifx = ctx->ingress_ifindex;
	__u64 on = ctx_nonzero_(w0) & (ctx_nonzero_(ifx ^ fc_vlan_ifindex) ^ 1);
	__be16 *t = ctx_data(ctx) + 12;
	__u64 two, ok, t0, t1;

	if ((void *)(t + 5) > ctx_data_end(ctx))
		return (__be16)FC_SELECT(on, 0, proto);
	t0 = vlan_tag(bpf_ntohs(t[0]), bpf_ntohs(t[1]));
	t1 = vlan_tag(bpf_ntohs(t[2]), bpf_ntohs(t[3]));
	two = ctx_nonzero_(w1);
	ok = (ctx_nonzero_(t0 ^ w0) | ctx_nonzero_((t1 ^ w1) & -two)) ^ 1;
	*l2 = ETH_HLEN + on * ok * FC_VLAN_HLEN * (1 + two);
	return (__be16)FC_SELECT(on, FC_SELECT(ok, FC_SELECT(two, t[4], t[2]), 0), proto);
}

/* Frames are linear (the programs are not loaded for multi-buffer XDP). */
static __always_inline void ctx_linearize(struct xdp_md *ctx, __u32 len)
{
}

/* Everything XDP sees was received on an interface. */
static __always_inline int ctx_forwarded(const struct xdp_md *ctx)
{
	return 1;
}

static __always_inline int ctx_load(struct xdp_md *ctx, __u32 off, void *to, __u32 len)
{
	return bpf_xdp_load_bytes(ctx, off, to, len);
}

static __always_inline int ctx_store(struct xdp_md *ctx, __u32 off, const void *from, __u32 len)
{
	return bpf_xdp_store_bytes(ctx, off, (void *)from, len);
}

/* The 16-bit checksum field at off, bounds-checked. */
static __always_inline __u16 *ctx_csum_field(struct xdp_md *ctx, __u32 off)
{
	void *data = ctx_data(ctx), *end = ctx_data_end(ctx);

	if (off > FC_ICMP_ERR_HDR_MAX || FC_PKT_OFF_ODD(off))
		return NULL;
	off = FC_PKT_OFF(off);
	if (data + off + sizeof(__u16) > end)
		return NULL;
	return data + off;
}

static __always_inline __u16 ctx_csum_apply(__u16 check, __u32 from, __u32 to, __u32 size)
{
	return size == 4 ? csum_replace4(check, from, to) : csum_replace2(check, from, to);
}

static __always_inline int ctx_l3_csum_replace(struct xdp_md *ctx, __u32 off, __u32 from, __u32 to, __u32 size)
{
	__u16 *c = ctx_csum_field(ctx, off);

	if (!c || (size != 2 && size != 4))
		return -1;
	*c = ctx_csum_apply(*c, from, to, size);
	return 0;
}

/*
 * flags: size in the low bits, BPF_F_PSEUDO_HDR_ (a complete checksum covers
 * the pseudo-header like any other field: same update), BPF_F_MARK_MANGLED_0_.
 */
static __always_inline int ctx_l4_csum_replace(struct xdp_md *ctx, __u32 off, __u32 from, __u32 to, __u64 flags)
{
	__u16 *c = ctx_csum_field(ctx, off);
	__u32 size = flags & 0xf;
	__u16 sum;

	if (!c || (size != 2 && size != 4))
		return -1;
	if ((flags & BPF_F_MARK_MANGLED_0_) && *c == 0)
		return 0;	/* UDP without a checksum stays without */
	sum = ctx_csum_apply(*c, from, to, size);
	if ((flags & BPF_F_MARK_MANGLED_0_) && sum == 0)
		sum = 0xffff;
	*c = sum;
	return 0;
}

static __always_inline int ctx_store_rcsum(struct xdp_md *ctx, __u32 off, const void *from, __u32 len)
{
	return bpf_xdp_store_bytes(ctx, off, (void *)from, len);
}

/* A precomputed checksum difference (bpf_csum_diff) applied in software,
 * with the flags' meaning of ctx_l4_csum_replace(). */
static __always_inline int ctx_l4_csum_diff(struct xdp_md *ctx, __u32 off, __u32 diff, __u64 flags)
{
	__u16 *c = ctx_csum_field(ctx, off);
	__u16 sum;

	if (!c)
		return -1;
	if ((flags & BPF_F_MARK_MANGLED_0_) && *c == 0)
		return 0;
	sum = ~csum_fold32(csum_add32(diff, (__u16)~*c));
	if ((flags & BPF_F_MARK_MANGLED_0_) && sum == 0)
		sum = 0xffff;
	*c = sum;
	return 0;
}

/*
 * The twin of ctx_tc.h's ctx_change_l3: delta bytes of room added or
 * removed right after the Ethernet header, which moves with the frame's
 * start (XDP frames have no protocol field besides the Ethernet type,
 * which the caller writes).
 */
static __always_inline int ctx_change_l3(struct xdp_md *ctx, int family, int delta)
{
	struct ethhdr eth, *e;

	if (!delta)
		return 0;
	e = ctx_data(ctx);
	if ((void *)(e + 1) > ctx_data_end(ctx))
		return -1;
	__builtin_memcpy(&eth, e, sizeof(eth));
	if (bpf_xdp_adjust_head(ctx, -delta))
		return -1;
	e = ctx_data(ctx);
	if ((void *)(e + 1) > ctx_data_end(ctx))
		return -1;
	__builtin_memcpy(e, &eth, sizeof(eth));
	return 0;
}

/* XDP cannot copy a frame back into its own ingress: the XDP programs leave
 * the packets that would need it (fragments) to the stack and TC. */
static __always_inline int ctx_reinject(struct xdp_md *ctx)
{
	return -1;
}

static __always_inline int ctx_resize(struct xdp_md *ctx, __u32 len)
{
	return bpf_xdp_adjust_tail(ctx, (int)len - (int)ctx_len(ctx));
}

/* No offloads in XDP: a plain resize. */
static __always_inline int ctx_resize_plain(struct xdp_md *ctx, __u32 l3_off, __u32 len,
					    __u32 l3_min)
{
	return ctx_resize(ctx, len);
}

static __always_inline __u32 ctx_gso_size(const struct xdp_md *ctx)
{
	return 0;
}

static __always_inline __u32 ctx_ifindex(const struct xdp_md *ctx)
{
	return ctx->ingress_ifindex;
}

/* The interface the packet was received on. */
static __always_inline __u32 ctx_in_ifindex(const struct xdp_md *ctx)
{
	return ctx->ingress_ifindex;
}

static __always_inline int ctx_is_gso(const struct xdp_md *ctx)
{
	return 0;
}

static __always_inline long ctx_fib_lookup(struct xdp_md *ctx, struct bpf_fib_lookup *fib)
{
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
}

/* The same in the main table alone (BPF_FIB_LOOKUP_DIRECT: no ip rules,
 * no local table): whether any route leads to fib's destination. */
static __always_inline long ctx_fib_lookup_main(struct xdp_md *ctx, struct bpf_fib_lookup *fib)
{
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), BPF_FIB_LOOKUP_DIRECT);
}

/*
 * The interfaces the loader prepares for the fast path (the external one,
 * then the internal ones, 0 after the last), set before load: the same set
 * as fc_xdp_tx, but read-only data, so checking it costs a few compares
 * instead of a devmap lookup per frame (doc/benchmarks.md).
 */
#define FC_XDP_IFS_MAX	17
const volatile __u32 fc_xdp_ifs[FC_XDP_IFS_MAX];

/* May a frame leave through ifindex from here? Only through the interfaces
 * the loader prepared (fc_xdp_ifs; fc_xdp_tx holds them by the time a
 * program is attached). */
static __always_inline int ctx_can_send(struct xdp_md *ctx, __u32 ifindex)
{
	for (int i = 0; i < FC_XDP_IFS_MAX; i++) {
		if (!fc_xdp_ifs[i])
			break;
		if (fc_xdp_ifs[i] == ifindex)
			return 1;
	}
	return 0;
}

/* The XDP programs are the fast path whenever they are attached. */
static __always_inline int ctx_fast_enabled(void)
{
	return 1;
}

/* Nothing has marked a frame before XDP. */
static __always_inline int ctx_fast_ok(const struct xdp_md *ctx)
{
	return 1;
}

/* A redirected frame never crosses the TC egress hook (devmap transmit):
 * nothing to mark. */
static __always_inline void ctx_mark_translated(struct xdp_md *ctx)
{
}

static __always_inline int ctx_translated_fast(struct xdp_md *ctx)
{
	return 0;
}

/* Send out of fib->ifindex to the next hop the FIB found (its MACs). */
static __always_inline int ctx_redirect_out(struct xdp_md *ctx, const struct bpf_fib_lookup *fib)
{
	struct ethhdr *eth = ctx_data(ctx);
	__u32 out = xdp_vlan_lower(fib->ifindex) >> 32;

	if ((void *)(eth + 1) > ctx_data_end(ctx))
		return CTX_DROP;
	__builtin_memcpy(eth->h_dest, fib->dmac, sizeof(eth->h_dest));
	__builtin_memcpy(eth->h_source, fib->smac, sizeof(eth->h_source));
	/* A VLAN sub-interface's frame (tagged by ctx_l2_out) from its real
	 * device, which the loader put in fc_xdp_tx. */
	return bpf_redirect_map(&fc_xdp_tx, out ? out : fib->ifindex, 0);
}

/* XDP cannot resolve a next hop: the fast path passes such frames to the
 * stack before this could be needed. */
static __always_inline int ctx_redirect_resolve(struct xdp_md *ctx,
						const struct bpf_fib_lookup *fib)
{
	return CTX_PASS;
}

/* Handing a rewritten packet to the local stack needs an skb (ctx_tc.h):
 * the XDP programs pass such packets untouched, for TC to finish. */
static __always_inline int ctx_redirect_local(struct xdp_md *ctx)
{
	return CTX_DROP;
}

/* Nothing reaches XDP through ctx_redirect_local(): that way is TC's. */
static __always_inline int ctx_redirected_local(struct xdp_md *ctx)
{
	return 0;
}

#endif /* FC_BPF_CTX_XDP_H */
