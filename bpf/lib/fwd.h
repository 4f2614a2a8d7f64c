/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fast path: translate and send straight out of the egress interface
 * that the kernel's FIB names, never touching the stack (used by the XDP
 * programs; written against ctx_* only, like the rest of the engine).
 *
 * It is an accelerator in front of the TC datapath, not a second NAT: it
 * translates with the same lookups (snat_lookup, dnat_lookup,
 * hairpin_lookup) and rewrites (rewrite_*), and whatever it cannot finish
 * -- no neighbour entry yet, too big for the egress, TTL expiring, for the
 * gateway itself, fragments, ICMP errors, other protocols, malformed --
 * it leaves UNTOUCHED to the stack (CTX_PASS, counted under why), where the
 * TC programs translate it exactly as in TC mode. Every decision to pass is
 * taken before the packet is changed. Packets the NAT refuses (unsolicited,
 * table full, ports exhausted) are dropped here as TC would, with the same
 * counters. NAT64's half of it is fwd64.h.
 */
#ifndef FC_BPF_FWD_H
#define FC_BPF_FWD_H

#include "fwd64.h"

/*
 * The part every fast-path entry starts with: the configuration and a parsed
 * IPv4 packet (tagged: on the external interface, where a --vlan link's
 * tags are in the frame), with one of the translations in flags on.
 * Returns FC_FAST_GO on, or the verdict for a packet the fast path leaves
 * alone.
 */
#define FC_FAST_GO (-1)
/* nat4_fast_in: the packet is to a NAT64 mapping, nat64_fast_in's. */
#define FC_FAST_NAT64 (-2)
/* nat4_fast_out: to the external address, nat4_fast_hairpin_parse's. */
#define FC_FAST_HAIRPIN (-3)

static __always_inline int fast_parse(struct ctx_buff *ctx, const struct fc_config **cfg,
				      struct fc_pkt *p, int tagged, __u32 flags)
{
	int ret;

	*cfg = config_get();
	if (!*cfg || !((*cfg)->flags & flags) || !nat4_has_addr(*cfg))
		return CTX_PASS;
	ret = parse_ipv4_tagged(ctx, p, tagged);
	if (ret == FC_PARSE_NOT_IPV4)
		return fast_pass(FC_STAT_FAST_PASS_NOT_IPV4);
	if (ret != FC_PARSE_OK)
		return fast_pass(FC_STAT_FAST_PASS_SLOW_PATH);
	return FC_FAST_GO;
}

/*
 * Inbound, on the external interface: a packet to a live mapping gets the
 * internal endpoint as destination and goes straight to it.
 */
static __always_inline int nat4_fast_in(struct ctx_buff *ctx)
{
	const struct fc_config *cfg;
	struct bpf_fib_lookup fib;
	struct fc_binding *ext;
	struct fc_pkt p = {};
	int ret, why;
	__u64 now;

	/* NAT64's mappings are found here too, as by nat4_ingress. */
	ret = fast_parse(ctx, &cfg, &p, 1, FC_CFG_NAT44 | FC_CFG_NAT64);
	if (ret != FC_FAST_GO)
		return ret;
	if (!ext_addr4_is_ours(cfg, p.daddr.v4))
		return fast_pass(FC_STAT_FAST_PASS_NOT_NAT);
	if (!fast_eligible(&p, ICMP_ECHOREPLY))
		return fast_pass(FC_STAT_FAST_PASS_SLOW_PATH);
	if (!fc_port_in_range(cfg, p.proto, bpf_ntohs(p.dport)))
		return fast_pass(FC_STAT_FAST_PASS_TO_GATEWAY);
	if (!fast_ttl_ok(ctx, &p))
		return fast_pass(FC_STAT_FAST_PASS_TTL);

	now = fc_now();
	why = dnat_lookup(cfg, &p, &p.saddr, p.sport, now, &ext);
	if (why != FC_STAT_MAX) {
		stat_inc(why);
		return CTX_DROP;
	}
	if (ext->family != FC_AF_INET)
		return FC_FAST_NAT64;
	why = fast_route_checked(ctx, cfg, &p, p.saddr.v4, ext->addr.v4, &ext->hop, p.saddr.v4,
				 now, &fib);
	if (why != FC_STAT_MAX)
		return fast_pass(why);
	if (rewrite_l4_field(ctx, &p, l4_port_off(&p, 1), p.dport, ext->port) ||
	    rewrite_addr4(ctx, &p, 1, p.daddr.v4, ext->addr.v4)) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	}
	return fast_send(ctx, &p, &fib, FC_STAT_IN_TRANSLATED);
}

/* From inside to the external address and a mapped port: turned around
 * to the mapped host, both ends translated. */
static __always_inline int nat4_fast_hairpin(struct ctx_buff *ctx, const struct fc_config *cfg,
					     struct fc_pkt *p, struct bpf_fib_lookup *fib)
{
	struct fc_binding *ext;
	union fc_addr src;
	__be16 sport;
	__u64 now;
	int why;

	if (!hairpin_candidate(cfg, p, FC_AF_INET))
		return fast_pass(FC_STAT_FAST_PASS_SLOW_PATH);
	if (!fc_port_in_range(cfg, p->proto, bpf_ntohs(p->dport)))
		return fast_pass(FC_STAT_FAST_PASS_TO_GATEWAY);
	if (!fast_ttl_ok(ctx, p))
		return fast_pass(FC_STAT_FAST_PASS_TTL);
	now = fc_now();
	why = hairpin_lookup(cfg, p, FC_AF_INET, 0, now, &src, &sport, &ext);
	if (why == FC_HAIRPIN_NAT64)
		/* To an IPv6 host: TC translates it (nat64_hairpin4). */
		return fast_pass(FC_STAT_FAST_PASS_SLOW_PATH);
	if (why != FC_STAT_MAX)
		return fast_refused(cfg, p, why);
	if (ext->flags & FC_BINDING_ROUTER)
		return fast_pass(FC_STAT_FAST_PASS_TO_GATEWAY);
	/* No cached hop: the mapped host's entry is keyed by the outside
	 * peer's packets, which this is not. */
	why = fast_route_checked(ctx, cfg, p, src.v4, ext->addr.v4, NULL, 0, now, fib);
	if (why != FC_STAT_MAX)
		return fast_pass(why);
	if (rewrite_both(ctx, p, FC_AF_INET, &src, sport, &ext->addr, ext->port)) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	}
	return fast_send(ctx, p, fib, FC_STAT_HAIRPIN_TRANSLATED);
}

/* The same from the frame: XDP calls it as a BPF function of its own, next
 * to nat4_fast_out's (FC_FAST_HAIRPIN), for the 512-byte stack. */
static __always_inline int nat4_fast_hairpin_parse(struct ctx_buff *ctx)
{
	const struct fc_config *cfg;
	struct bpf_fib_lookup fib;
	struct fc_pkt p = {};
	int ret;

	ret = fast_parse(ctx, &cfg, &p, 0, FC_CFG_NAT44);
	if (ret != FC_FAST_GO)
		return ret;
	return nat4_fast_hairpin(ctx, cfg, &p, &fib);
}

/* nat_scope_check as a BPF function of its own: its lookup keys off
 * nat4_fast_out's frame, which is at the 512-byte stack's limit. */
static __noinline int fast_scope_check(const struct fc_config *cfg, const struct fc_pkt *p)
{
	return nat_scope_check(cfg, p);
}

/*
 * Outbound, on an internal interface: a packet the FIB sends out of the
 * external interface (ext_ifindex) gets its source translated and goes
 * straight out; one to the external address is hairpinned: by the fast
 * path (XDP: FC_FAST_HAIRPIN, then nat4_fast_hairpin_parse; what it cannot
 * finish goes to TC's hairpin program), or, with
 * tc_hairpin (the TC program on that interface, which is the hairpin
 * program itself), by the whole of nat_hairpin_parsed.
 */
static __always_inline int nat4_fast_out(struct ctx_buff *ctx, __u32 ext_ifindex, int tc_hairpin)
{
	const struct fc_config *cfg;
	struct bpf_fib_lookup fib;
	struct fc_binding *b;
	struct fc_pkt p = {};
	int ret, why;
	__u64 now;

	ret = fast_parse(ctx, &cfg, &p, 0, FC_CFG_NAT44);
	if (ret != FC_FAST_GO)
		return ret;
	if ((cfg->flags & (FC_CFG_SCOPE | FC_CFG_EXCLUDE)) && fast_scope_check(cfg, &p) != FC_STAT_MAX)
		return fast_pass(FC_STAT_FAST_PASS_NOT_NAT);	/* TC passes it too */
	if (ext_addr4_is_ours(cfg, p.daddr.v4))
		return tc_hairpin ? nat_hairpin_parsed(ctx, cfg, &p, FC_AF_INET, 0)
				  : FC_FAST_HAIRPIN;
	/* An external address as source from inside is a martian to the
	 * stack (and would take a gateway process's mapping here). */
	if (!fast_eligible(&p, ICMP_ECHO) || ext_addr4_is_ours(cfg, p.saddr.v4))
		return fast_pass(FC_STAT_FAST_PASS_SLOW_PATH);
	if (!fc_proto_nat_on(cfg, p.proto))
		return fast_pass(FC_STAT_FAST_PASS_NOT_NAT);	/* the stack's NAT's */

	/* The mapping, if there is one, before the route: its entry holds
	 * the route its last packets took (route.h). A mapping is made only
	 * for a packet routed out of the external interface. */
	now = fc_now();
	b = snat_find(&p);
	why = fast_route_checked(ctx, cfg, &p, p.saddr.v4, p.daddr.v4, b ? &b->hop : NULL,
				 p.daddr.v4, now, &fib);
	if (why != FC_STAT_MAX)
		return fast_pass(why);
	if (fib.ifindex != ext_ifindex)
		return fast_pass(FC_STAT_FAST_PASS_NOT_NAT);
	why = snat_lookup_found(cfg, &p, 0, now, b, &b);
	if (why != FC_STAT_MAX)
		return fast_refused(cfg, &p, why);
	if (rewrite_l4_field(ctx, &p, l4_port_off(&p, 0), p.sport, b->port) ||
	    rewrite_addr4(ctx, &p, 0, p.saddr.v4, b->addr.v4)) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	}
	ctx_mark_translated(ctx);
	return fast_send(ctx, &p, &fib, FC_STAT_OUT_TRANSLATED);
}

/* Is the frame IPv6 (for NAT64)? An internal interface's: untagged. */
static __always_inline int fast_is_ipv6(struct ctx_buff *ctx)
{
	__u32 l2;

	return parse_l2(ctx, &l2) == bpf_htons(ETH_P_IPV6);
}

#endif /* FC_BPF_FWD_H */
