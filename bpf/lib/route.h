/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Routing for the fast path (fwd.h, and the TC programs in TC mode with
 * --internal): the kernel's FIB decides where a packet goes, and a packet
 * that can be sent straight out of that interface is, with its TTL
 * decremented and the next hop's MACs. Every reason not to is a counter:
 * the caller leaves such a packet to the stack.
 */
#ifndef FC_BPF_ROUTE_H
#define FC_BPF_ROUTE_H

#include "csum.h"
#include "maps.h"
#include "parse.h"

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
	struct iphdr *iph = ctx_ptr(ctx, p->l3_off, sizeof(*iph));

	return iph && iph->ttl > 1;
}

/*
 * The next hop of a packet from src to dst, as the stack would route it
 * (with the egress MTU checked against the packet's length). FC_STAT_MAX
 * if it can be sent out of fib->ifindex now, else why not.
 */
static __always_inline int fast_route(struct ctx_buff *ctx, const struct fc_pkt *p,
				      __be32 src, __be32 dst, struct bpf_fib_lookup *fib)
{
	long ret;

	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = AF_INET_;
	fib->l4_protocol = p->proto;
	fib->tot_len = ctx_is_gso(ctx) ? 0 : p->l3_end - p->l3_off;
	fib->ifindex = ctx_ifindex(ctx);
	fib->ipv4_src = src;
	fib->ipv4_dst = dst;
	ret = ctx_fib_lookup(ctx, fib);
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
	if (!ctx_can_send(ctx, fib->ifindex))
		return FC_STAT_FAST_PASS_UNMANAGED_IF;
	/* The lookup could not check a GSO packet's length: its segments. */
	if (ctx_is_gso(ctx) && !ctx_gso_fits(ctx, fib->ifindex))
		return FC_STAT_FAST_PASS_MTU;
	return FC_STAT_MAX;
}

/*
 * fast_route for a packet the fast path may take at all: no mark (policy
 * routing the FIB lookup would not see), a TTL that survives this hop.
 */
static __always_inline int fast_route_checked(struct ctx_buff *ctx, const struct fc_pkt *p,
					      __be32 src, __be32 dst, struct bpf_fib_lookup *fib)
{
	if (!ctx_fast_ok(ctx))
		return FC_STAT_FAST_PASS_SLOW_PATH;
	if (!fast_ttl_ok(ctx, p))
		return FC_STAT_FAST_PASS_TTL;
	return fast_route(ctx, p, src, dst, fib);
}

/* The packet is translated (and counted): decrement the TTL, send it on. */
static __always_inline int fast_forward(struct ctx_buff *ctx, const struct fc_pkt *p,
					const struct bpf_fib_lookup *fib)
{
	if (ipv4_dec_ttl(ctx, p)) {
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
