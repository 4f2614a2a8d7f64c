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

	if (off > FC_ICMP_ERR_HDR_MAX)
		return NULL;
	if (!__builtin_constant_p(off))
		off = FC_BOUND(off, FC_ICMP_ERR_HDR_MASK);
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

static __always_inline int ctx_gso_fits(struct xdp_md *ctx, __u32 ifindex)
{
	return 1;
}

static __always_inline long ctx_fib_lookup(struct xdp_md *ctx, struct bpf_fib_lookup *fib)
{
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
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

	if ((void *)(eth + 1) > ctx_data_end(ctx))
		return CTX_DROP;
	__builtin_memcpy(eth->h_dest, fib->dmac, sizeof(eth->h_dest));
	__builtin_memcpy(eth->h_source, fib->smac, sizeof(eth->h_source));
	return bpf_redirect_map(&fc_xdp_tx, fib->ifindex, 0);
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
