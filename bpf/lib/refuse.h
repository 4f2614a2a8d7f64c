/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Refused new flows are answered, not silently dropped: ICMP destination
 * unreachable, code 13 "communication administratively prohibited", to the
 * internal host (RFC 5508 REQ-8, RFC 6888 REQ-4), when its subscriber limit
 * is reached, the ports of its external address are exhausted or a table
 * is full. The packet itself becomes the error: its first bytes are copied
 * aside as the quote, the frame is resized, the new IP and ICMP headers and
 * the quote are written, and it is sent back towards the host (FIB lookup
 * for the route and the gateway's source address there, then
 * bpf_redirect_neigh). Rate-limited by a per-CPU token bucket, so a host
 * that keeps opening flows cannot turn the gateway into an ICMP source.
 * TC only: the XDP fast path leaves refused packets to the stack, and the
 * TC program behind it answers them (doc/design/cgnat.md). NAT64's errors
 * for packets too big after translation are built and limited here too.
 */
#ifndef FC_BPF_REFUSE_H
#define FC_BPF_REFUSE_H

#include "csum_math.h"
#include "maps.h"
#include "parse.h"

/* How much of the packet an error quotes (its IP header on): as much as
 * fits, the error itself at most 576 bytes for IPv4 (RFC 1812 4.3.2.3) and
 * 1280 for IPv6 (RFC 4443 2.4 (c)). */
#define FC_QUOTE4_MAX		(576 - 20 - 8)
#define FC_QUOTE6_MAX		(1280 - 40 - 8)
#define FC_REFUSE_QUOTE_MAX	FC_QUOTE6_MAX
/* bpf_csum_diff() sums at most 512 bytes per call. */
#define FC_CSUM_CHUNK		512
#define ICMP_PKT_FILTERED	13	/* communication administratively prohibited */
#define IP_DF			0x4000
#ifndef AF_INET_
#define AF_INET_		2
#endif
#ifndef AF_INET6_
#define AF_INET6_		10
#endif

struct refuse_hdr {
	struct iphdr ip;
	struct icmphdr icmp;
};

struct refuse_hdr6 {
	struct ipv6hdr ip;
	struct icmp6hdr icmp;
};

/* Per CPU. The error's headers and its route live here, not on the stack:
 * the error builders are called at the end of chains of BPF functions that
 * share 512 bytes of stack (each frame rounded to 32 bytes on 6.1). */
struct refuse_state {
	__u64 credit_ns;	/* token bucket: send time saved up, at most 1 s */
	__u64 last_ns;
	struct bpf_fib_lookup fib;
	union {
		struct refuse_hdr h4;
		struct refuse_hdr6 h6;
	};
	__u8 quote[FC_REFUSE_QUOTE_MAX + 4];	/* + zero padding to 32 bits */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct refuse_state);
} fc_refuse_state SEC(".maps");

/* One error costs 1/rate s of credit; idle time earns credit back, up to a
 * second's worth (a burst of `rate` errors). */
static __always_inline int refuse_rate_ok(const struct fc_config *cfg, struct refuse_state *st,
					  __u64 now)
{
	__u32 rate = cfg->refuse_icmp_rate;
	__u64 cost, credit;

	if (!rate)
		return 0;
	cost = NSEC_PER_SEC / rate;
	credit = now >= st->last_ns ? st->credit_ns + (now - st->last_ns) : NSEC_PER_SEC;
	if (credit > NSEC_PER_SEC)
		credit = NSEC_PER_SEC;
	st->last_ns = now;
	if (credit < cost) {
		st->credit_ns = credit;
		return 0;
	}
	st->credit_ns = credit - cost;
	return 1;
}

/* Errors go to unicast hosts only (RFC 1812 4.3.2.7). */
static __always_inline int refuse_dest_ok(__be32 a)
{
	__u8 first = ((__u8 *)&a)[0];

	return a && first != 0 && first < 224;
}

/*
 * The errors fcnat generates share one builder and one rate limit:
 * refusals (ICMP 3/13 to the internal host), and NAT64's "too big after
 * translation" (ICMPv4 3/4 Fragmentation Needed to an IPv4 sender,
 * ICMPv6 Packet Too Big to an IPv6 one; nat64.h). What to send is packed
 * into one argument (a BPF function takes five): type, code, and the
 * counter of a sent error.
 */
#define FC_ICMP_WHAT(type, code, sent_stat)	((type) | ((code) << 8) | ((sent_stat) << 16))

/* The error could not be sent for want of credit: counted per kind. */
static __always_inline void icmp_reply_limited(const struct fc_config *cfg, __u32 sent_stat)
{
	if (!cfg->refuse_icmp_rate)
		return;		/* switched off: not a rate event */
	stat_inc(sent_stat == FC_STAT_REFUSED_ICMP_SENT ? FC_STAT_REFUSED_ICMP_RATELIMITED
							: FC_STAT_NAT64_ICMP_RATELIMITED);
}

/* Copy the first qlen (> 0, at most FC_REFUSE_QUOTE_MAX: the caller's
 * family limit) bytes of the packet from off into the state's quote,
 * zero-padded to 32 bits; the padded length, 0 on error. */
static __always_inline __u32 icmp_reply_quote(struct ctx_buff *ctx, struct refuse_state *st,
					      __u32 off, __u32 qlen)
{
	__u32 padded;

	if (qlen > FC_REFUSE_QUOTE_MAX)
		qlen = FC_REFUSE_QUOTE_MAX;
	if (!FC_IN_RANGE(qlen, 1, FC_REFUSE_QUOTE_MAX) || ctx_load(ctx, off, st->quote, qlen))
		return 0;
	/* The checksum runs over 32-bit words: zeros after the quote. */
	for (int i = 0; i < 4; i++)
		st->quote[qlen + i] = 0;
	padded = (qlen + 3) & ~3U;
	return padded > FC_REFUSE_QUOTE_MAX ? 0 : padded;
}

/* One chunk of the quote's sum: bytes [off, off + 512) of the padded
 * quote, those there are. The bound is the buffer's room after off, an
 * immediate the verifier checks the helper's length against. */
#define QUOTE_CSUM_CHUNK(st, padded, off, sum) ({				\
	__u32 n_ = (padded) > (off) ? (padded) - (off) : 0;			\
	if (n_ > FC_CSUM_CHUNK)							\
		n_ = FC_CSUM_CHUNK;						\
	if (n_ && (sum) >= 0)							\
		(sum) = FC_IN_RANGE(n_, 4, sizeof((st)->quote) - (off) < FC_CSUM_CHUNK ?	\
				    sizeof((st)->quote) - (off) : FC_CSUM_CHUNK)	\
			? bpf_csum_diff(NULL, 0, (__be32 *)((st)->quote + (off)), n_, (sum)) \
			: -1;							\
})

/* The quote's sum added to sum (negative on error): the quote may be
 * longer than one bpf_csum_diff() call takes. */
static __always_inline __s64 icmp_quote_csum(const struct refuse_state *st, __u32 padded,
					     __s64 sum)
{
	_Static_assert(sizeof(st->quote) <= 3 * FC_CSUM_CHUNK, "three chunks cover the quote");
	QUOTE_CSUM_CHUNK(st, padded, 0, sum);
	QUOTE_CSUM_CHUNK(st, padded, FC_CSUM_CHUNK, sum);
	QUOTE_CSUM_CHUNK(st, padded, 2 * FC_CSUM_CHUNK, sum);
	return sum;
}

/*
 * The packet becomes the error built in h (hlen bytes of IP and ICMP
 * header) and the quote in st, and goes back to its sender: with the FIB's
 * MACs (fib_ret success), or the kernel resolving a next hop it has none
 * for, as a plain packet: no GSO, no checksum left to the device
 * (ctx_resize_plain). Counted under stat.
 */
static __always_inline int icmp_reply_send(struct ctx_buff *ctx, __u32 l3_off, const void *h,
					   __u32 hlen, const struct refuse_state *st, __u32 qlen,
					   __u32 stat, long fib_ret, const struct bpf_fib_lookup *fib)
{
	/* After the link-layer header the packet came with (none on a
	 * link without one: it gets one to be redirected). */
	if (ctx_resize_plain(ctx, l3_off, l3_off + hlen + qlen, hlen - 8) ||
	    ctx_store(ctx, l3_off, h, hlen) ||
	    /* 6.1's verifier has lost the quote's lower bound by here. */
	    !FC_IN_RANGE(qlen, 1, FC_REFUSE_QUOTE_MAX) ||
	    ctx_store(ctx, l3_off + hlen, st->quote, qlen) ||
	    ctx_l2_push(ctx, l3_off))
		return CTX_DROP;
	stat_inc(stat);
	return fib_ret == BPF_FIB_LKUP_RET_SUCCESS ? ctx_redirect_out(ctx, fib)
						   : ctx_redirect_resolve(ctx, fib);
}

/* The route back and the gateway's source address on it. A kernel without
 * BPF_FIB_LOOKUP_SRC (before 6.7, unless backported) refuses the flag
 * (-EINVAL, fib untouched): the route alone then, and the caller's
 * fallback source (its src field stays zero). */
static __always_inline long refuse_fib_lookup(struct ctx_buff *ctx, struct bpf_fib_lookup *fib)
{
	long ret = bpf_fib_lookup(ctx, fib, sizeof(*fib), BPF_FIB_LOOKUP_SRC);

	if (ret < 0)
		ret = bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
	return ret;
}

/*
 * Turn the IPv4 packet p (TCP, UDP or echo, first fragment) into an ICMP
 * error about it (what: FC_ICMP_WHAT; info: the 4 bytes after the
 * checksum, network order: Fragmentation Needed's next-hop MTU in the low
 * half) and send that to its source. Returns the verdict: a redirect, or
 * CTX_DROP when it is not answered. A global function: the verifier
 * checks it once, not once per caller state.
 */
__noinline int icmp4_error_reply(struct ctx_buff *ctx, const struct fc_config *cfg,
				 const struct fc_pkt *p, __u32 what, __u32 info)
{
	struct bpf_fib_lookup *fib;
	struct refuse_state *st;
	struct refuse_hdr *h;
	__u32 zero = 0, qlen, padded;
	__s64 sum;
	long ret;

	if (!cfg || !p || !p->has_l4 || p->family != FC_AF_INET || !refuse_dest_ok(p->saddr.v4))
		return CTX_DROP;
	st = bpf_map_lookup_elem(&fc_refuse_state, &zero);
	if (!st)
		return CTX_DROP;
	if (!refuse_rate_ok(cfg, st, bpf_ktime_get_ns())) {
		icmp_reply_limited(cfg, what >> 16);
		return CTX_DROP;
	}
	fib = &st->fib;
	h = &st->h4;
	__builtin_memset(fib, 0, sizeof(*fib));
	__builtin_memset(h, 0, sizeof(*h));

	/* Back where it came from: the route to the host, and the gateway's
	 * own address on that route as the error's source. */
	fib->family = AF_INET_;
	fib->ifindex = ctx_in_ifindex(ctx);
	fib->ipv4_dst = p->saddr.v4;
	ret = refuse_fib_lookup(ctx, fib);
	if (ret != BPF_FIB_LKUP_RET_SUCCESS && ret != BPF_FIB_LKUP_RET_NO_NEIGH)
		return CTX_DROP;
	if (!fib->ipv4_src)
		fib->ipv4_src = cfg->ext_addr4;

	qlen = p->l3_end - p->l3_off;
	if (qlen > FC_QUOTE4_MAX)
		qlen = FC_QUOTE4_MAX;
	if (qlen < sizeof(struct iphdr) + 8)
		return CTX_DROP;
	padded = icmp_reply_quote(ctx, st, p->l3_off, qlen);
	if (!padded)
		return CTX_DROP;

	h->ip.version = 4;
	h->ip.ihl = 5;
	h->ip.tot_len = bpf_htons(sizeof(*h) + qlen);
	h->ip.frag_off = bpf_htons(IP_DF);	/* atomic datagram: id 0 (RFC 6864) */
	h->ip.ttl = 64;
	h->ip.protocol = IPPROTO_ICMP;
	h->ip.saddr = fib->ipv4_src;
	h->ip.daddr = p->saddr.v4;
	sum = bpf_csum_diff(NULL, 0, (__be32 *)&h->ip, sizeof(h->ip), 0);
	if (sum < 0)
		return CTX_DROP;
	h->ip.check = ~csum_fold32(sum);
	h->icmp.type = what & 0xff;
	h->icmp.code = (what >> 8) & 0xff;
	h->icmp.un.gateway = info;
	sum = bpf_csum_diff(NULL, 0, (__be32 *)&h->icmp, sizeof(h->icmp), 0);
	sum = icmp_quote_csum(st, padded, sum);
	if (sum < 0)
		return CTX_DROP;
	h->icmp.checksum = ~csum_fold32(sum);

	return icmp_reply_send(ctx, p->l3_off, h, sizeof(*h), st, qlen, what >> 16, ret, fib);
}

/* A refused new flow (p: TCP, UDP or an echo request, first fragment). */
static __always_inline int refuse_with_icmp(struct ctx_buff *ctx, const struct fc_config *cfg,
					    const struct fc_pkt *p)
{
	return icmp4_error_reply(ctx, cfg, p,
				 FC_ICMP_WHAT(ICMP_DEST_UNREACH, ICMP_PKT_FILTERED,
					      FC_STAT_REFUSED_ICMP_SENT), 0);
}


/* An IPv6 host may be sent an error: not unspecified, not multicast. */
static __always_inline int refuse_dest6_ok(const union fc_addr *a)
{
	return a->v6[0] != 0xff && (a->v6w[0] | a->v6w[1] | a->v6w[2] | a->v6w[3]);
}

/*
 * The same for the IPv6 packet p: an ICMPv6 error (what; info: the 4
 * bytes after the checksum, network order: Packet Too Big's MTU) quoting
 * its first FC_REFUSE_QUOTE_MAX bytes, to its source, from the gateway's
 * address on the route back. A GSO packet too (NAT64's segments too big
 * for the IPv4 route): the quote is its headers and the start of its
 * payload, the first segment's, its IPv6 header as it came (the payload
 * length the whole packet's, as Linux's own forwarding quotes one).
 */
__noinline int icmp6_error_reply(struct ctx_buff *ctx, const struct fc_config *cfg,
				 const struct fc_pkt *p, __u32 what, __u32 info)
{
	struct bpf_fib_lookup *fib;
	struct refuse_state *st;
	struct refuse_hdr6 *h;
	__be32 tail[2];
	__u32 zero = 0, qlen, padded;
	__s64 sum;
	long ret;

	if (!cfg || !p || p->family != FC_AF_INET6 || !refuse_dest6_ok(&p->saddr))
		return CTX_DROP;
	st = bpf_map_lookup_elem(&fc_refuse_state, &zero);
	if (!st)
		return CTX_DROP;
	if (!refuse_rate_ok(cfg, st, bpf_ktime_get_ns())) {
		icmp_reply_limited(cfg, what >> 16);
		return CTX_DROP;
	}
	fib = &st->fib;
	h = &st->h6;
	__builtin_memset(fib, 0, sizeof(*fib));
	__builtin_memset(h, 0, sizeof(*h));

	fib->family = AF_INET6_;
	fib->ifindex = ctx_in_ifindex(ctx);
	__builtin_memcpy(fib->ipv6_dst, p->saddr.v6, 16);
	ret = refuse_fib_lookup(ctx, fib);
	if (ret != BPF_FIB_LKUP_RET_SUCCESS && ret != BPF_FIB_LKUP_RET_NO_NEIGH)
		return CTX_DROP;
	if (!(fib->ipv6_src[0] | fib->ipv6_src[1] | fib->ipv6_src[2] | fib->ipv6_src[3]))
		/* No address of ours on that route: the packet's destination
		 * stands in (the router that would not take it). */
		__builtin_memcpy(fib->ipv6_src, p->daddr.v6, 16);

	qlen = p->l3_end - p->l3_off;
	if (qlen > FC_QUOTE6_MAX)
		qlen = FC_QUOTE6_MAX;
	if (qlen < sizeof(struct ipv6hdr))
		return CTX_DROP;
	padded = icmp_reply_quote(ctx, st, p->l3_off, qlen);
	if (!padded)
		return CTX_DROP;

	((__u8 *)&h->ip)[0] = 0x60;
	h->ip.payload_len = bpf_htons(sizeof(h->icmp) + qlen);
	h->ip.nexthdr = IPPROTO_ICMPV6;
	h->ip.hop_limit = 64;
	__builtin_memcpy(&h->ip.saddr, fib->ipv6_src, 16);
	__builtin_memcpy(&h->ip.daddr, p->saddr.v6, 16);
	h->icmp.icmp6_type = what & 0xff;
	h->icmp.icmp6_code = (what >> 8) & 0xff;
	h->icmp.icmp6_dataun.un_data32[0] = info;
	/* RFC 4443 §2.3: over the pseudo-header, the message and the quote. */
	tail[0] = bpf_htonl(sizeof(h->icmp) + qlen);
	tail[1] = bpf_htonl(IPPROTO_ICMPV6);
	sum = bpf_csum_diff(NULL, 0, (__be32 *)&h->ip.saddr, 32, 0);
	if (sum >= 0)
		sum = bpf_csum_diff(NULL, 0, tail, sizeof(tail), sum);
	if (sum >= 0)
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&h->icmp, sizeof(h->icmp), sum);
	sum = icmp_quote_csum(st, padded, sum);
	if (sum < 0)
		return CTX_DROP;
	h->icmp.icmp6_cksum = ~csum_fold32(sum);

	return icmp_reply_send(ctx, p->l3_off, h, sizeof(*h), st, qlen, what >> 16, ret, fib);
}

/* The refusals that are answered with an ICMP error. */
static __always_inline int refusal_answered(int why)
{
	return why == FC_STAT_DROP_SUBSCRIBER_LIMIT || why == FC_STAT_DROP_PORTS_EXHAUSTED ||
	       why == FC_STAT_DROP_PORT_BLOCK_LIMIT ||
	       why == FC_STAT_DROP_TABLE_FULL;
}

#endif /* FC_BPF_REFUSE_H */
