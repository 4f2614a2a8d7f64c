/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAT44: source translation of outbound packets, destination translation of
 * inbound ones, for UDP, TCP and ICMP echo and the ICMP errors about them,
 * with Endpoint-Independent Mapping
 * and Endpoint-Independent Filtering (RFC 4787 REQ-1/REQ-8, RFC 5382 REQ-1/
 * REQ-3, RFC 5508 REQ-1).
 *
 * The translation core here -- the mapping and session lookups, ICMP error
 * and fragment handling -- serves both families: it takes the family as a
 * constant argument (always inlined), so the NAT44 path compiles as if it
 * knew no other; NAT66 (nat6.h) calls the same functions with FC_AF_INET6
 * (doc/design/ipv6.md).
 */
#ifndef FC_BPF_NAT4_H
#define FC_BPF_NAT4_H

#include "binding.h"
#include "csum.h"
#include "frag.h"
#include "icmp6_error.h"
#include "refuse.h"
#include "route.h"
#include "sess_hint.h"
#include "session.h"

/* nat4_ingress found a mapping whose internal endpoint is IPv6: NAT64's
 * (nat64_in() in nat64.h, which the TC entry point calls next). Never
 * returned to the kernel. */
#define FC_NAT64_PENDING	0x6464

/* The NAT protocol class of a transport protocol (enum fc_proto): ICMPv6
 * echo shares ICMP's identifier space. */
static __always_inline __u8 nat_proto(__u8 family, __u8 proto)
{
	if (family == FC_AF_INET6 && proto == IPPROTO_ICMPV6)
		return FC_PROTO_ICMP;
	return proto;
}

/* The external address of a family (all zero: none); the whole union,
 * since it goes into keys. */
static __always_inline void ext_addr_get(const struct fc_config *cfg, __u8 family,
					 union fc_addr *a)
{
	if (family == FC_AF_INET6) {
		*a = cfg->ext_addr6;
		return;
	}
	__builtin_memset(a, 0, sizeof(*a));
	a->v4 = cfg->ext_addr4;
}

/* Has the external interface an address of this family? */
static __always_inline int ext_addr_set(const struct fc_config *cfg, __u8 family)
{
	if (family == FC_AF_INET6)
		return (cfg->ext_addr6.v6w[0] | cfg->ext_addr6.v6w[1] |
			cfg->ext_addr6.v6w[2] | cfg->ext_addr6.v6w[3]) != 0;
	return cfg->ext_addr4 != 0;
}

/* Is a the external address of its family? (Not when there is none.) */
static __always_inline int is_ext_addr(const struct fc_config *cfg, __u8 family,
				       const union fc_addr *a)
{
	if (family == FC_AF_INET6)
		return ext_addr_set(cfg, family) && addr_eq(family, a, &cfg->ext_addr6);
	return ext_addr4_is_ours(cfg, a->v4);	/* the interface's or a pool's */
}

static __always_inline __u32 tcp_bits(const struct fc_pkt *p, int dir)
{
	return p->proto == IPPROTO_TCP ? tcp_seen_bits(p->tcp_flags, dir) : 0;
}

/*
 * An ICMP error leaving: it is about a packet we translated inbound, so its
 * quote names the internal endpoint as destination. Put the mapping's
 * external endpoint back in the quote and, for errors from internal hosts
 * (forwarded), the external address as outer source. Errors the gateway
 * sends about its own traffic match no mapping and pass.
 */
static __always_inline int nat_egress_icmp_error(struct ctx_buff *ctx, struct fc_pkt *p,
						 __u8 family, int forwarded)
{
	const struct fc_config *cfg = config_get();
	struct fc_endpoint_key key;
	struct fc_session_key skey;
	struct fc_binding *b;
	struct fc_quote q = {};
	__u8 proto;

	if (!cfg)
		return CTX_PASS;
	if (parse_icmp_quote(ctx, p, family, &q)) {
		stat_inc(forwarded ? FC_STAT_DROP_MALFORMED : FC_STAT_PASS_NOT_OURS);
		return forwarded ? CTX_DROP : CTX_PASS;
	}
	proto = nat_proto(family, q.proto);
	if (!fc_proto_nat_on(cfg, proto)) {
		/* About a flow of a protocol left to the stack's NAT. */
		stat_inc(FC_STAT_PASS_PROTO);
		return CTX_PASS;
	}
	fc_int_endpoint_key(&key, family, family, proto, &q.daddr, q.dport);
	b = bpf_map_lookup_elem(&fc_bindings, &key);
	/* The quoted packet came in through the mapping, so its source has a
	 * session with it. A quote whose source has none (another internal
	 * host, say: only the destination is rewritten) is no error of ours. */
	if (b) {
		session_key(&skey, family, proto, &b->addr, b->port, &q.saddr, q.sport);
		if (!bpf_map_lookup_elem(&fc_sessions, &skey))
			b = NULL;
	}
	if (!b) {
		if (!forwarded) {
			stat_inc(FC_STAT_PASS_NOT_OURS);
			return CTX_PASS;
		}
		stat_inc(FC_STAT_DROP_ICMP_NO_MAPPING);
		return CTX_DROP;
	}
	if (quote_rewrite(ctx, p, &q, family, 1, &b->addr, b->port) ||
	    (forwarded && rewrite_addr(ctx, p, family, 0, &p->saddr, &b->addr))) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	}
	stat_inc(FC_STAT_ICMP_ERROR_TRANSLATED);
	return CTX_PASS;
}

/*
 * An ICMP error arriving about a packet we translated outbound: its quote
 * has our external endpoint as source. Deliver it to the internal endpoint
 * with the quote put back as that host sent it. Errors never refresh or
 * remove a mapping (RFC 4787 REQ-12, RFC 5382 REQ-8 spirit).
 */
static __always_inline int nat_ingress_icmp_error(struct ctx_buff *ctx,
						  const struct fc_config *cfg, struct fc_pkt *p,
						  __u8 family)
{
	struct fc_endpoint_key key;
	struct fc_binding *ext;
	struct fc_quote q = {};

	if (parse_icmp_quote(ctx, p, family, &q) || !is_ext_addr(cfg, family, &q.saddr) ||
	    !fc_port_in_range(cfg, nat_proto(family, q.proto), bpf_ntohs(q.sport))) {
		/* About the gateway's own traffic: the stack's. A pool
		 * address has none. */
		if (family == FC_AF_INET && ext_addr4_pool_only(cfg, p->daddr.v4)) {
			stat_inc(FC_STAT_DROP_POOL_UNMAPPED);
			return CTX_DROP;
		}
		stat_inc(FC_STAT_PASS_NOT_OURS);
		return CTX_PASS;
	}
	fc_ext_endpoint_key(&key, family, nat_proto(family, q.proto), &q.saddr, q.sport);
	ext = bpf_map_lookup_elem(&fc_bindings, &key);
	if (!ext) {
		stat_inc(FC_STAT_DROP_ICMP_NO_MAPPING);
		return CTX_DROP;
	}
	if (family == FC_AF_INET && ext->family == FC_AF_INET6)
		return FC_NAT64_PENDING;
	if (quote_rewrite(ctx, p, &q, family, 0, &ext->addr, ext->port) ||
	    rewrite_addr(ctx, p, family, 1, &p->daddr, &ext->addr)) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	}
	stat_inc(FC_STAT_ICMP_ERROR_TRANSLATED);
	return CTX_PASS;
}

/*
 * Outbound, either family: what the packet's protocol allows. TCP, UDP and
 * ICMP(v6) echo requests go on to be translated (FC_EGRESS_TRANSLATE);
 * ICMP(v6) errors have their quote translated here; anything else is
 * dropped and counted, never sent with its source.
 */
#define FC_EGRESS_TRANSLATE	(-1)

static __always_inline int nat_egress_proto(struct ctx_buff *ctx, const struct fc_config *cfg,
					    struct fc_pkt *p, __u8 family)
{
	int v6 = family == FC_AF_INET6;

	/* A protocol whose NAT is off (no port range) is left as it is, for
	 * the stack's NAT (nftables masquerade ran before this hook). */
	if (!fc_proto_nat_on(cfg, nat_proto(family, p->proto)) &&
	    (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP ||
	     (p->proto == (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) &&
	      !(p->has_l4 && (v6 ? icmp6_is_error(p->icmp_type) : icmp_is_error(p->icmp_type)))))) {
		stat_inc(FC_STAT_PASS_PROTO);
		return CTX_PASS;
	}
	if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP)
		return FC_EGRESS_TRANSLATE;
	if (p->proto != (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP)) {
		stat_inc(FC_STAT_DROP_UNSUPPORTED_PROTO);
		return CTX_DROP;
	}
	if (p->has_l4 && (v6 ? icmp6_is_error(p->icmp_type) : icmp_is_error(p->icmp_type)))
		return nat_egress_icmp_error(ctx, p, family, 1);
	if (p->has_l4 && p->icmp_type != (v6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO)) {
		stat_inc(FC_STAT_DROP_ICMP_UNSUPPORTED);
		return CTX_DROP;
	}
	return FC_EGRESS_TRANSLATE;
}

/*
 * The outbound half, shared by every path that sends a packet of an internal
 * endpoint out: find or make the mapping of (proto, p->saddr, p->sport) --
 * an endpoint of int_family -- on ext_addr (of ext_family), and the session
 * towards (p->daddr, p->dport). On success *b is the mapping's
 * internal-side entry and FC_STAT_MAX is returned; otherwise the reason to
 * drop.
 */
static __always_inline int snat_lookup_found_af(const struct fc_config *cfg,
						const struct fc_pkt *p, __u8 int_family,
						__u8 ext_family, const union fc_addr *ext_addr,
						__u8 flags, __u64 now, struct fc_binding *found,
						struct fc_binding **b)
{
	struct fc_endpoint_key int_key;
	struct fc_session_key skey;
	struct fc_session *s;
	__u8 proto = nat_proto(int_family, p->proto);
	int udp44;

	fc_int_endpoint_key(&int_key, int_family, ext_family, proto, &p->saddr, p->sport);
	switch (binding_get_or_create(cfg, &int_key, ext_addr, flags, now, found, b)) {
	case FC_BIND_OK:
		break;
	case FC_BIND_EXHAUSTED:
		return FC_STAT_DROP_PORTS_EXHAUSTED;
	case FC_BIND_LIMIT:
		return FC_STAT_DROP_SUBSCRIBER_LIMIT;
	case FC_BIND_NO_ADDR:
		return FC_STAT_DROP_NO_EXT_ADDR;
	case FC_BIND_NOT_DETERMINISTIC:
		return FC_STAT_DROP_NOT_DETERMINISTIC;
	case FC_BIND_BLOCK_LIMIT:
		return FC_STAT_DROP_PORT_BLOCK_LIMIT;
	default:
		return FC_STAT_DROP_TABLE_FULL;
	}
	/* NAT44 UDP: the session may be known to be refreshed already. */
	udp44 = int_family == FC_AF_INET && ext_family == FC_AF_INET && proto == FC_PROTO_UDP;
	if (udp44 && sess_hint_ok(*b, p->daddr.v4, p->dport, now))
		goto refreshed;
	session_key(&skey, ext_family, proto, &(*b)->addr, (*b)->port, &p->daddr, p->dport);
	s = session_get(&skey, now);
	if (!s)
		return FC_STAT_DROP_TABLE_FULL;
	tcp_restart_on_new_syn(s, p);
	session_update(cfg, proto, s, tcp_bits(p, FC_DIR_OUT), now);
	if (p->proto == IPPROTO_TCP)
		tcp_note_outbound(s, p);
	if (udp44)
		sess_hint_put(*b, p->daddr.v4, p->dport, s->expires_ns,
			      cfg->timeout_ns[FC_TIMEOUT_UDP], now);
refreshed:
	if ((*b)->last_out_ns != now)
		(*b)->last_out_ns = now;
	return FC_STAT_MAX;
}

static __always_inline int snat_lookup_af(const struct fc_config *cfg, const struct fc_pkt *p,
					  __u8 int_family, __u8 ext_family,
					  const union fc_addr *ext_addr, __u8 flags, __u64 now,
					  struct fc_binding **b)
{
	return snat_lookup_found_af(cfg, p, int_family, ext_family, ext_addr, flags, now, NULL, b);
}

/* The internal-side entry of an IPv4 packet's source, if it has a mapping
 * (NAT44's; the fast path reads it before routing: route.h). */
static __always_inline struct fc_binding *snat_find(const struct fc_pkt *p)
{
	struct fc_endpoint_key int_key;

	fc_int_endpoint_key(&int_key, FC_AF_INET, FC_AF_INET, nat_proto(FC_AF_INET, p->proto),
			 &p->saddr, p->sport);
	return bpf_map_lookup_elem(&fc_bindings, &int_key);
}

/* NAT44's: the mapping is made on the external IPv4 address. found: what
 * snat_find() returned, if the caller asked. */
static __always_inline int snat_lookup_found(const struct fc_config *cfg, const struct fc_pkt *p,
					     __u8 flags, __u64 now, struct fc_binding *found,
					     struct fc_binding **b)
{
	union fc_addr ext_addr;	/* all 16 bytes: it goes into keys */

	ext_addr_get(cfg, FC_AF_INET, &ext_addr);
	return snat_lookup_found_af(cfg, p, FC_AF_INET, FC_AF_INET, &ext_addr, flags, now,
				    found, b);
}

static __always_inline int snat_lookup(const struct fc_config *cfg, const struct fc_pkt *p,
				       __u8 flags, __u64 now, struct fc_binding **b)
{
	return snat_lookup_found(cfg, p, flags, now, NULL, b);
}

/*
 * The inbound half: the mapping that owns (proto, p->daddr, p->dport) -- an
 * external endpoint of ext_family, whose internal endpoint is of
 * int_family -- and its session with the remote endpoint (remote,
 * remote_port): the packet's source, or for a hairpinned packet its source
 * after translation. A remote without a live session is admitted if the
 * mapping is alive (EIF). int_family 0: whichever the mapping has (the
 * external IPv4 port space holds NAT44 and NAT64 mappings). On success *ext is the external-side entry (the
 * internal endpoint) and FC_STAT_MAX is returned; otherwise the reason to
 * drop.
 */
static __always_inline int dnat_lookup_af(const struct fc_config *cfg, const struct fc_pkt *p,
					  __u8 int_family, __u8 ext_family,
					  const union fc_addr *remote, __be16 remote_port,
					  __u64 now, struct fc_binding **ext)
{
	struct fc_endpoint_key key;
	struct fc_session_key skey;
	struct fc_binding *b;
	struct fc_session *s;
	__u8 proto = nat_proto(ext_family, p->proto);
	__u32 bits;

	fc_ext_endpoint_key(&key, ext_family, proto, &p->daddr, p->dport);
	*ext = bpf_map_lookup_elem(&fc_bindings, &key);
	if (!*ext)
		/* The range belongs to the NAT: unsolicited packets to it
		 * are dropped, creating no state (RFC 5382 REQ-4). */
		return FC_STAT_DROP_UNSOLICITED;

	session_key(&skey, ext_family, proto, &p->daddr, p->dport, remote, remote_port);
	s = bpf_map_lookup_elem(&fc_sessions, &skey);
	if (!s || s->expires_ns <= now) {
		/* A remote we have no live session with: EIF admits it if the
		 * mapping itself is alive and still points back at us: the
		 * internal endpoint's entry in this external family's space.
		 * The external key is turned into it in place (its family
		 * becomes ext_family): rebuilt from scratch, the constant kept
		 * for it pushed the session pointer out of its register on
		 * NAT44's per-packet path. */
		key.side = FC_SIDE_INTERNAL;
		key.ext_family = key.family;
		key.family = int_family ? int_family : (*ext)->family;
		key.port = (*ext)->port;
		key.addr = (*ext)->addr;
		b = bpf_map_lookup_elem(&fc_bindings, &key);
		if (!b || b->port != p->dport || !addr_eq(ext_family, &b->addr, &p->daddr) ||
		    !fc_mapping_alive(cfg, proto, b, now))
			return FC_STAT_DROP_UNSOLICITED;
		s = session_get(&skey, now);
		if (!s)
			return FC_STAT_DROP_TABLE_FULL;
	}
	bits = tcp_bits(p, FC_DIR_IN);
	if ((bits & FC_TCP_RST) && !tcp_rst_in_window(s, p)) {
		/* Forwarded all the same: the host judges it too. */
		bits &= ~FC_TCP_RST;
		stat_inc(FC_STAT_TCP_RST_IGNORED);
	}
	tcp_restart_on_new_syn(s, p);
	session_update(cfg, proto, s, bits, now);
	return FC_STAT_MAX;
}

static __always_inline int dnat_lookup(const struct fc_config *cfg, const struct fc_pkt *p,
				       const union fc_addr *remote, __be16 remote_port,
				       __u64 now, struct fc_binding **ext)
{
	/* Any internal family: the caller checks (*ext)->family (NAT64). */
	return dnat_lookup_af(cfg, p, 0, FC_AF_INET, remote, remote_port, now, ext);
}

/* An inbound non-first fragment follows its first fragment's translation
 * (a NAT64 train's to nat64_in: FC_NAT64_PENDING). */
static __always_inline int nat_ingress_fragment(struct ctx_buff *ctx, const struct fc_config *cfg,
						struct fc_pkt *p, __u8 family)
{
	const struct fc_frag *f = frag_find(p, fc_now());

	if (!f) {
		/* Ours whose first fragment is late, or the gateway's own:
		 * keep a copy for the first case, give the stack the packet
		 * for the second (a pool address has no own traffic). */
		stat_inc(frag_hold(ctx, p, fc_now()) ? FC_STAT_DROP_FRAGMENT_HOLD
							       : FC_STAT_FRAGMENT_HELD);
		if (family == FC_AF_INET && ext_addr4_pool_only(cfg, p->daddr.v4)) {
			stat_inc(FC_STAT_DROP_POOL_UNMAPPED);
			return CTX_DROP;
		}
		stat_inc(FC_STAT_PASS_FRAGMENT);
		return CTX_PASS;
	}
	if (family == FC_AF_INET && f->int_family == FC_AF_INET6)
		return FC_NAT64_PENDING;
	if (rewrite_addr(ctx, p, family, 1, &p->daddr, &f->int_addr)) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	}
	stat_inc(FC_STAT_FRAGMENT_TRANSLATED);
	return CTX_PASS;
}

/*
 * Outbound, on the external interface's egress: the packet is routed out
 * already. Anything from an internal address that cannot be translated is
 * dropped, never sent with its internal source.
 */
static __always_inline int nat4_egress(struct ctx_buff *ctx)
{
	const struct fc_config *cfg = config_get();
	struct fc_subscriber *sub;
	struct fc_binding *b;
	struct fc_pkt p = {};
	union fc_addr ext_addr = {};
	__u64 now;
	__u8 flags = 0;
	int ret, why;

	if (ctx_translated_fast(ctx))
		return CTX_PASS;	/* by the TC fast path, on its way out */
	if (!cfg || !(cfg->flags & FC_CFG_NAT44))
		return CTX_PASS;
	ret = parse_ipv4(ctx, &p);
	if (ret == FC_PARSE_NOT_IPV4) {
		stat_inc(FC_STAT_PASS_NOT_IPV4);
		return CTX_PASS;
	}

	ext_addr.v4 = cfg->ext_addr4;
	if (ret == FC_PARSE_OK && ctx_forwarded(ctx) &&
	    (cfg->flags & (FC_CFG_SCOPE | FC_CFG_EXCLUDE))) {
		/* Not the NAT's business: a source outside the internal
		 * prefixes (routed as it is), a destination excluded. */
		why = nat_scope_check(cfg, &p);
		if (why != FC_STAT_MAX) {
			stat_inc(why);
			return CTX_PASS;
		}
	}
	if (!ctx_forwarded(ctx)) {
		/* The gateway's own traffic: translate only what uses the
		 * NAT's port range from the external address, so local
		 * services and other local addresses keep theirs; and the
		 * errors it sends about packets it translated inbound. */
		if (ret == FC_PARSE_OK && p.proto == IPPROTO_ICMP && p.has_l4 &&
		    icmp_is_error(p.icmp_type))
			return nat_egress_icmp_error(ctx, &p, FC_AF_INET, 0);
		if (ret != FC_PARSE_OK || !ext_addr.v4 || p.saddr.v4 != ext_addr.v4 || !p.has_l4 ||
		    (p.proto == IPPROTO_ICMP && p.icmp_type != ICMP_ECHO) ||
		    !fc_port_in_range(cfg, p.proto, bpf_ntohs(p.sport))) {
			stat_inc(FC_STAT_PASS_NOT_OURS);
			return CTX_PASS;
		}
		flags = FC_BINDING_ROUTER;
	} else if (ret != FC_PARSE_OK) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	} else if (!nat4_has_addr(cfg)) {
		stat_inc(FC_STAT_DROP_NO_EXT_ADDR);
		return CTX_DROP;
	}

	ret = nat_egress_proto(ctx, cfg, &p, FC_AF_INET);
	if (ret != FC_EGRESS_TRANSLATE)
		return ret;
	if (!p.has_l4) {
		/* A non-first fragment: address only, no state needed -- the
		 * host's external address, as its first fragment got. */
		if (flags != FC_BINDING_ROUTER) {
			sub = subscriber_get(cfg, FC_AF_INET, &p.saddr, 0, 0);
			ext_addr.v4 = nat_ext_addr4(cfg, FC_AF_INET, &p.saddr, sub);
		}
		if (!ext_addr.v4 || rewrite_addr4(ctx, &p, 0, p.saddr.v4, ext_addr.v4)) {
			stat_inc(FC_STAT_DROP_FRAGMENT);
			return CTX_DROP;
		}
		stat_inc(FC_STAT_FRAGMENT_TRANSLATED);
		return CTX_PASS;
	}

	now = fc_now();
	why = snat_lookup(cfg, &p, flags, now, &b);
	if (why != FC_STAT_MAX) {
		stat_inc(why);
		if (flags != FC_BINDING_ROUTER && refusal_answered(why))
			return refuse_with_icmp(ctx, cfg, &p);
		return CTX_DROP;
	}

	fc_log(cfg, 4, "out %pI4:%u -> %u", &p.saddr.v4, bpf_ntohs(p.sport), bpf_ntohs(b->port));
	if (rewrite_l4_field(ctx, &p, l4_port_off(&p, 0), p.sport, b->port) ||
	    rewrite_addr4(ctx, &p, 0, p.saddr.v4, b->addr.v4)) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	}
	stat_inc(FC_STAT_OUT_TRANSLATED);
	return CTX_PASS;
}

/*
 * An echo request from outside whose identifier is a NAT64 mapping's goes
 * to the IPv6 host (RFC 6146 §3.5.3 looks any ICMPv4 query identifier up
 * in the BIB), admitted as any packet to the mapping (filtering, session).
 * To a NAT44 mapping's, or to none, it stays the gateway's own: a ping of
 * the router, answered by its stack.
 */
static __always_inline int nat64_echo_request_mapped(const struct fc_config *cfg,
						     struct fc_pkt *p)
{
	struct fc_endpoint_key key;
	struct fc_binding *ext;
	__be16 id = p->sport;
	int why;

	if (!(cfg->flags & FC_CFG_NAT64) || !fc_port_in_range(cfg, FC_PROTO_ICMP, bpf_ntohs(id)))
		return 0;
	fc_ext_endpoint_key(&key, FC_AF_INET, IPPROTO_ICMP, &p->daddr, id);
	ext = bpf_map_lookup_elem(&fc_bindings, &key);
	if (!ext || ext->family != FC_AF_INET6)
		return 0;
	/* The identifier plays the mapping's port, as in a reply (sessions
	 * of ICMP have remote port 0); p is the caller's, put back. */
	p->dport = id;
	p->sport = 0;
	why = dnat_lookup(cfg, p, &p->saddr, 0, fc_now(), &ext);
	p->sport = id;
	p->dport = 0;
	return why == FC_STAT_MAX && ext->family == FC_AF_INET6;
}

/*
 * Inbound, on the external interface's ingress, before routing: packets to a
 * live mapping get the internal endpoint as destination, from any remote
 * host (EIF); other packets to ports of the range are dropped. Everything
 * else is the gateway's own and passes untouched. With the TC fast path on
 * (ctx_fast_enabled: TC mode with --lan-if), a translated packet the FIB
 * sends out of an internal interface goes there straight (route.h); the
 * rest goes up the stack as without it.
 */
static __always_inline int nat4_ingress(struct ctx_buff *ctx)
{
	const struct fc_config *cfg = config_get();
	struct bpf_fib_lookup fib;
	struct fc_binding *ext;
	struct fc_frag_key train;
	struct fc_pkt p = {};
	__u64 now;
	int ret, why, fast;

	if (!cfg || !(cfg->flags & (FC_CFG_NAT44 | FC_CFG_NAT64)) || !nat4_has_addr(cfg))
		return CTX_PASS;
	ret = parse_ipv4(ctx, &p);
	if (ret == FC_PARSE_NOT_IPV4) {
		stat_inc(FC_STAT_PASS_NOT_IPV4);
		return CTX_PASS;
	}
	if (ret != FC_PARSE_OK || !ext_addr4_is_ours(cfg, p.daddr.v4)) {
		/* Malformed packets to us are the stack's to judge. */
		stat_inc(FC_STAT_PASS_NOT_OURS);
		return CTX_PASS;
	}
	if (p.proto == IPPROTO_ICMP && p.has_l4 && icmp_is_error(p.icmp_type))
		return nat_ingress_icmp_error(ctx, cfg, &p, FC_AF_INET);
	if (p.is_fragment && !p.has_l4)
		return nat_ingress_fragment(ctx, cfg, &p, FC_AF_INET);
	if (p.proto == IPPROTO_ICMP && p.icmp_type == ICMP_ECHO && p.has_l4 &&
	    nat64_echo_request_mapped(cfg, &p))
		return FC_NAT64_PENDING;
	if (!(p.proto == IPPROTO_TCP || p.proto == IPPROTO_UDP ||
	      (p.proto == IPPROTO_ICMP && p.icmp_type == ICMP_ECHOREPLY)) || !p.has_l4)
		why = FC_STAT_PASS_PROTO;
	else if (!fc_proto_nat_on(cfg, p.proto))
		why = FC_STAT_PASS_PROTO;	/* its NAT is off: the stack's (mixed NAT) */
	else if (!fc_port_in_range(cfg, p.proto, bpf_ntohs(p.dport)))
		why = FC_STAT_PASS_OUT_OF_RANGE;
	else
		why = FC_STAT_MAX;
	if (why != FC_STAT_MAX) {
		/* The gateway's own, unless it is to a pool address: the
		 * stack would only route that back out. */
		if (ext_addr4_pool_only(cfg, p.daddr.v4)) {
			stat_inc(FC_STAT_DROP_POOL_UNMAPPED);
			return CTX_DROP;
		}
		stat_inc(why);
		return CTX_PASS;
	}

	now = fc_now();
	why = dnat_lookup(cfg, &p, &p.saddr, p.sport, now, &ext);
	if (why != FC_STAT_MAX) {
		stat_inc(why);
		return CTX_DROP;
	}
	if (ext->family == FC_AF_INET6)
		return FC_NAT64_PENDING;
	if (p.is_fragment) {
		frag_key(&train, &p);
		frag_remember(&train, FC_AF_INET, &ext->addr, now);
	}
	fast = FC_STAT_MAX + 1;		/* not tried */
	if (ctx_fast_enabled()) {
		fast = p.is_fragment ? FC_STAT_FAST_PASS_SLOW_PATH
				     : fast_route_checked(ctx, cfg, &p, p.saddr.v4, ext->addr.v4,
							  &ext->hop, p.saddr.v4, now, &fib);
		if (fast != FC_STAT_MAX)
			stat_inc(fast);
	}

	fc_log(cfg, 4, "in %u -> %pI4:%u", bpf_ntohs(p.dport), &ext->addr.v4, bpf_ntohs(ext->port));
	if (rewrite_l4_field(ctx, &p, l4_port_off(&p, 1), p.dport, ext->port) ||
	    rewrite_addr4(ctx, &p, 1, p.daddr.v4, ext->addr.v4)) {
		stat_inc(FC_STAT_DROP_MALFORMED);
		return CTX_DROP;
	}
	stat_inc(FC_STAT_IN_TRANSLATED);
	if (fast == FC_STAT_MAX)
		return fast_forward(ctx, &p, &fib);
	if (p.is_fragment && frag_release(ctx, &train, now))
		return CTX_DROP;	/* sent on as a copy, ahead of its followers */
	return CTX_PASS;
}

#endif /* FC_BPF_NAT4_H */
