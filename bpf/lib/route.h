/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Routing for the fast path (fwd.h, and the TC programs in TC mode with
 * --lan-if): the kernel's FIB decides where a packet goes, and a packet
 * that can be sent straight out of that interface is, with its TTL
 * decremented and the next hop's MACs. Every reason not to is a counter:
 * the caller leaves such a packet to the stack.
 */
#ifndef FC_BPF_ROUTE_H
#define FC_BPF_ROUTE_H

#include "csum.h"
#include "maps.h"
#include "parse.h"
#include "gso.h"

#define AF_INET_ 2

static __always_inline int fast_pass(enum fc_stat why)
{
	stat_inc(why);
	return CTX_PASS;
}

/* Translations the fast path does: TCP and UDP with ports, ICMP echo
 * (the request out, the reply in); no fragment of any kind. */
static __always_inline int fast_eligible(const struct fc_pkt *p, __u8 echo_type)
{
	if (!p->has_l4 || p->is_fragment)
		return 0;
	return p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP ||
	       (p->proto == IPPROTO_ICMP && p->icmp_type == echo_type);
}

/* A router decrements the TTL; one that would reach zero is the stack's
 * (ICMP time exceeded). */
static __always_inline int fast_ttl_ok(struct ctx_buff *ctx, const struct fc_pkt *p)
{
	pkt_iphdr *iph = ctx_ptr(ctx, p->l3_off, sizeof(*iph));

	return iph && iph->ttl > 1;
}

#define READ_ONCE_U32(x)	(*(volatile __u32 *)&(x))
#define compiler_barrier()	asm volatile("" ::: "memory")

/*
 * Memory order of the hop's seqlock. BPF has no barrier instruction (load-
 * acquire and store-release came in 6.15). What it guarantees: atomics that
 * return a value (fetch-and-op, xchg, cmpxchg) are fully ordered on every
 * JIT; an atomic add whose result is unused is not ordered at all; plain
 * loads and stores are ordered as the CPU orders them. x86 keeps loads in
 * order with loads and stores with stores (TSO), so compiler barriers do;
 * arm64, RISC-V, MIPS and POWER may reorder them, and a reader could take
 * half of an old hop and half of a new one (another peer's next-hop MAC).
 * So the writer claims with cmpxchg and publishes with a fetching add, and
 * on CPUs other than x86 the reader reads seq with a fetching add of 0
 * before and after the hop: two full barriers, about 20 ns where a
 * bpf_fib_lookup() costs 160. The loader sets fc_cpu_tso on x86.
 */
const volatile __u8 fc_cpu_tso;

static __always_inline __u32 hop_seq_read(const struct fc_hop *h)
{
	if (fc_cpu_tso)
		return READ_ONCE_U32(h->seq);
	return __sync_fetch_and_add((__u32 *)&h->seq, 0);
}

/*
 * The route cache (struct fc_hop). A bpf_fib_lookup() costs about 160 ns
 * on the benchmark machine, nearly half of the XDP hit path
 * (doc/benchmarks.md); a mapping's packets to one peer take one route, so
 * the answer rides in the binding entry the fast path reads anyway: no
 * table of its own to size or thrash. A cached hop holds for FC_HOP_TTL_NS
 * (so a neighbour's new MAC address is used within it), and no longer than
 * until user space moves fc_config.route_gen on (a route or link changed).
 * One CPU at a time writes a hop, claiming it with an odd seq; a reader
 * that sees seq odd or changed takes the FIB's answer instead.
 */
static __always_inline int hop_get(const struct fc_config *cfg, const struct fc_hop *h,
				   __be32 peer, __u32 in_ifindex, __u32 len, __u64 now,
				   struct bpf_fib_lookup *fib)
{
	__u32 seq = hop_seq_read(h);

	if (seq & 1)
		return 0;
	compiler_barrier();
	if (h->expires_ns <= now || h->gen != cfg->route_gen || h->peer != peer ||
	    h->in_ifindex != in_ifindex || len > h->ok_len)
		return 0;
	fib->ifindex = h->out_ifindex;
	__builtin_memcpy(fib->dmac, h->dmac, sizeof(fib->dmac));
	__builtin_memcpy(fib->smac, h->smac, sizeof(fib->smac));
	compiler_barrier();
	return hop_seq_read(h) == seq;
}

/*
 * Keep the FIB's answer for a packet of len bytes (a GSO packet's: one
 * segment's, gso_route_len_same). A live hop for another peer is left
 * alone: a mapping that talks to many peers keeps one hop a while instead
 * of rewriting it per packet.
 */
static __always_inline void hop_put(const struct fc_config *cfg, struct fc_hop *h,
				    __be32 peer, __u32 in_ifindex, __u32 len, __u64 now,
				    const struct bpf_fib_lookup *fib)
{
	__u32 seq = READ_ONCE_U32(h->seq);
	int live, same;

	if (seq & 1)
		return;
	compiler_barrier();
	live = h->expires_ns > now && h->gen == cfg->route_gen;
	same = h->peer == peer && h->in_ifindex == in_ifindex;
	if (live && !same)
		return;
	if (__sync_val_compare_and_swap(&h->seq, seq, seq + 1) != seq)
		return;		/* another CPU is at it */
	if (!(live && same && h->out_ifindex == fib->ifindex && h->ok_len > len))
		h->ok_len = len;
	h->peer = peer;
	h->in_ifindex = in_ifindex;
	h->out_ifindex = fib->ifindex;
	__builtin_memcpy(h->dmac, fib->dmac, sizeof(h->dmac));
	__builtin_memcpy(h->smac, fib->smac, sizeof(h->smac));
	h->gen = cfg->route_gen;
	h->expires_ns = now + FC_HOP_TTL_NS;
	/* Even again: published. The result is used so that the add is the
	 * fetching, fully ordered one (the stores above cannot pass it). */
	seq = __sync_fetch_and_add(&h->seq, 1);
	asm volatile("" : : "r"(seq));
}

/* The fast path's reading of a FIB lookup's answer: FC_STAT_MAX (found,
 * counted), or why the packet is left to the stack. */
static __always_inline int fast_fib_why(long ret)
{
	switch (ret) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		break;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		/* The stack resolves it; the next packets go fast. */
		return FC_STAT_FAST_PASS_NO_NEIGH;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return FC_STAT_FAST_PASS_MTU;
	case BPF_FIB_LKUP_RET_NOT_FWDED:
		return FC_STAT_FAST_PASS_TO_GATEWAY;
	default:
		return FC_STAT_FAST_PASS_NO_ROUTE;
	}
	stat_inc(FC_STAT_FAST_FIB_LOOKUP);
	return FC_STAT_MAX;
}

/* May the packet leave through the interface the route names, as it is? */
static __always_inline int fast_egress_why(struct ctx_buff *ctx, const struct bpf_fib_lookup *fib)
{
	if (!ctx_can_send(ctx, fib->ifindex))
		return FC_STAT_FAST_PASS_UNMANAGED_IF;
	return FC_STAT_MAX;
}

/*
 * The next hop of a packet from src to dst, as the stack would route it
 * (with the route's MTU checked against the packet's length, a GSO
 * packet's segments' as Linux's forwarding checks them): from hop
 * (NULL: none to use) when it holds the answer for peer, else from the
 * FIB, and then kept in hop. FC_STAT_MAX if it can be sent out of
 * fib->ifindex now, else why not.
 */
static __always_inline int fast_route(struct ctx_buff *ctx, const struct fc_config *cfg,
				      const struct fc_pkt *p, __be32 src, __be32 dst,
				      struct fc_hop *hop, __be32 peer, __u64 now,
				      struct bpf_fib_lookup *fib)
{
	__u32 len = gso_route_len_same(ctx, p);
	int ret;

	if (hop && hop_get(cfg, hop, peer, ctx_ifindex(ctx), len, now, fib))
		goto found;
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = AF_INET_;
	fib->l4_protocol = p->proto;
	fib->tot_len = len;
	fib->ifindex = ctx_ifindex(ctx);
	fib->ipv4_src = src;
	fib->ipv4_dst = dst;
	ret = fast_fib_why(ctx_fib_lookup(ctx, fib));
	if (ret == FC_STAT_FAST_PASS_MTU && ctx_is_gso(ctx))
		return FC_STAT_FAST_PASS_GSO_MTU;	/* the stack answers each too-big one */
	if (ret != FC_STAT_MAX)
		return ret;
	if (hop)
		hop_put(cfg, hop, peer, ctx_ifindex(ctx), len, now, fib);
found:
	return fast_egress_why(ctx, fib);
}

/*
 * fast_route for a packet the fast path may take at all: no mark (policy
 * routing the FIB lookup would not see), a TTL that survives this hop.
 */
static __always_inline int fast_route_checked(struct ctx_buff *ctx, const struct fc_config *cfg,
					      const struct fc_pkt *p, __be32 src, __be32 dst,
					      struct fc_hop *hop, __be32 peer, __u64 now,
					      struct bpf_fib_lookup *fib)
{
	if (!ctx_fast_ok(ctx))
		return FC_STAT_FAST_PASS_SLOW_PATH;
	if (!fast_ttl_ok(ctx, p))
		return FC_STAT_FAST_PASS_TTL;
	return fast_route(ctx, cfg, p, src, dst, hop, peer, now, fib);
}

/* The packet is translated (and counted): decrement the TTL, send it on. */
static __always_inline int fast_forward(struct ctx_buff *ctx, const struct fc_pkt *p,
					const struct bpf_fib_lookup *fib)
{
	if (ipv4_dec_ttl(ctx, p) || ctx_l2_out(ctx, p->l3_off, fib)) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	}
	stat_inc(FC_STAT_FAST_REDIRECTED);
	return ctx_redirect_out(ctx, fib);
}

static __always_inline int fast_send(struct ctx_buff *ctx, const struct fc_pkt *p,
				     const struct bpf_fib_lookup *fib, enum fc_stat translated)
{
	stat_inc(translated);
	return fast_forward(ctx, p, fib);
}

#endif /* FC_BPF_ROUTE_H */
