/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Building blocks of IPv4 <-> IPv6 header translation (RFC 7915), shared by
 * xlat.h (packets) and xlat_icmp.h (ICMP errors and their quotes): what the
 * caller decides (struct xlat_params), the verdicts, checksum sums, header
 * builders and the rewrite of a quoted transport header.
 *
 * Checksums: TCP and UDP checksums go through the ctx layer's L4 helpers
 * (the pseudo-header part with BPF_F_PSEUDO_HDR, ports without), which keep
 * offloaded (CHECKSUM_PARTIAL) packets right. ICMP and ICMPv6 are never
 * offloaded: their new checksum is computed here, incrementally from the
 * old one (RFC 1624; so a corrupt message stays corrupt), and stored with
 * ctx_store_rcsum like every IP header byte, so that a CHECKSUM_COMPLETE
 * skb->csum follows every change.
 */
#ifndef FC_BPF_XLAT_HDR_H
#define FC_BPF_XLAT_HDR_H

#include "csum_math.h"
#include "parse.h"

enum xlat_verdict {
	XLAT_OK,
	XLAT_DROP,		/* RFC 7915 says drop silently (ICMP type/code not translated) */
	XLAT_MALFORMED,		/* lengths that lie, a quote cut inside a header */
	XLAT_UNSUPPORTED,	/* extension header after the fragment header, AH, fragmented
				 * ICMP, an ICMP error about an ICMP error, chains too long */
	XLAT_SOURCE_ROUTE,	/* IPv4 unexpired source route option (§4.1: drop, may send 3/5) */
	XLAT_SEGMENTS_LEFT,	/* IPv6 routing header with segments left (§5.1: drop, may send 4/0) */
	XLAT_UDP_NO_CSUM,	/* fragmented IPv4 UDP without checksum (§4.5: drop, log) */
	XLAT_NO_ROOM,		/* resizing failed: the packet may be half changed, drop it */
};

/* The addresses (v4 or v6 member of union fc_addr, by the target family)
 * and ports of one translated header. Ports follow struct fc_pkt: an echo
 * request's identifier is sport, an echo reply's dport. 0: keep. */
struct xlat_addrs {
	union fc_addr saddr;
	union fc_addr daddr;
	__be16 sport;
	__be16 dport;
};

/*
 * What the caller (the stateful layer) decides for one packet: `out` for
 * the packet itself; `in` for the packet an ICMP error quotes: its
 * addresses, and its transport endpoint - the hook through which the
 * stateful layer puts the quote back to what the other side sent (the
 * quote's checksum and the outer ICMP checksum follow).
 */
struct xlat_params {
	struct xlat_addrs out;
	struct xlat_addrs in;
	__be16 ip_id;		/* 6->4: Identification of a packet sent with DF clear
				 * and no fragment header (RFC 7915 §5.1; RFC 6864) */
	__u16 mtu4;		/* next-hop MTUs for Packet Too Big / Fragmentation */
	__u16 mtu6;		/* Needed (§4.2, §5.2); 0: not known, not used */
	__u16 tos;		/* the outer header's TOS / traffic class: 0 copied,
				 * FC_NAT64_TOS_SET | v: 6->4 TOS v, 4->6 class 0 */
};

/* RFC 7915 §5.1: an IPv4 packet up to this size leaves with DF clear, so
 * IPv4 links below 1260 (1280 in IPv6 terms) may fragment it. */
#define XLAT_DF_THRESHOLD	1260
#define IPV6_MIN_MTU		1280
#define IP_DF			0x4000
#define IPV6_HLEN		40
#define IPV4_HLEN		20
#define FRAG6_HLEN		8

/* seed + the IPv6 pseudo-header (RFC 8200 §8.1), added or (sub) taken
 * away. The addresses are summed where they are: no 40-byte copy. */
static __always_inline __u32 xlat_pseudo6_sum(const __u8 *saddr, const __u8 *daddr, __u32 len,
					      __u8 nexthdr, int sub, __u32 seed)
{
	__be32 tail[2] = { bpf_htonl(len), bpf_htonl(nexthdr) };

	if (sub) {
		seed = bpf_csum_diff((__be32 *)saddr, 16, NULL, 0, seed);
		seed = bpf_csum_diff((__be32 *)daddr, 16, NULL, 0, seed);
		return bpf_csum_diff(tail, sizeof(tail), NULL, 0, seed);
	}
	seed = bpf_csum_diff(NULL, 0, (__be32 *)saddr, 16, seed);
	seed = bpf_csum_diff(NULL, 0, (__be32 *)daddr, 16, seed);
	return bpf_csum_diff(NULL, 0, tail, sizeof(tail), seed);
}

/* After the family changed (ctx_change_l3, which set the kernel's
 * protocol): the Ethernet type, on a link that has an Ethernet header
 * (l3_off is its length). */
static __always_inline int xlat_set_eth_type(struct ctx_buff *ctx, __u32 l3_off,
					     const __be16 *type)
{
	return l3_off ? ctx_store(ctx, offsetof(struct ethhdr, h_proto), type, sizeof(*type)) : 0;
}

/* A checksum field's new value after the covered data changed by diff. */
static __always_inline __u16 xlat_csum_apply(__u16 check, __u32 diff)
{
	return (__u16)~csum_fold32(csum_add32(diff, (__u16)~check));
}

/* The IPv4 header, checksum included. frag: host order, flags | offset. */
static __always_inline void xlat_build_ip4(struct iphdr *h, __u8 tos, __u32 tot_len, __be16 id,
					   __u16 frag, __u8 ttl, __u8 proto, __be32 saddr, __be32 daddr)
{
	__u8 *b = (__u8 *)h;

	b[0] = 0x45;
	h->tos = tos;
	h->tot_len = bpf_htons(tot_len);
	h->id = id;
	h->frag_off = bpf_htons(frag);
	h->ttl = ttl;
	h->protocol = proto;
	h->check = 0;
	h->saddr = saddr;
	h->daddr = daddr;
	h->check = ~csum_fold32(bpf_csum_diff(NULL, 0, (__be32 *)h, IPV4_HLEN, 0));
}

/* The IPv6 header; the flow label is 0 (RFC 7915 §4.1). */
static __always_inline void xlat_build_ip6(struct ipv6hdr *h, __u8 tclass, __u32 payload,
					   __u8 nexthdr, __u8 hop_limit, const __u8 *saddr,
					   const __u8 *daddr)
{
	__u8 *b = (__u8 *)h;

	b[0] = 0x60 | (tclass >> 4);
	b[1] = (__u8)(tclass << 4);
	b[2] = 0;
	b[3] = 0;
	h->payload_len = bpf_htons(payload);
	h->nexthdr = nexthdr;
	h->hop_limit = hop_limit;
	__builtin_memcpy(&h->saddr, saddr, 16);
	__builtin_memcpy(&h->daddr, daddr, 16);
}

/* The IPv6 Fragment Header for an IPv4 fragment (RFC 7915 §4.1): the
 * IPv4 Identification in the low 16 bits, offset and MF carried. */
static __always_inline void xlat_build_frag6(struct frag_hdr *fh, __u8 nexthdr, __be16 id4, __u16 frag4)
{
	fh->nexthdr = nexthdr;
	fh->reserved = 0;
	fh->frag_off = bpf_htons(((frag4 & IP_OFFSET) << 3) | (frag4 & IP_MF ? IP6_MF : 0));
	fh->identification = bpf_htonl(bpf_ntohs(id4));
}

/* RFC 7915 §5.1 / §4.1 SHOULD: the administrator may have the outer
 * header's TOS set to a value (6->4) and the traffic class to zero
 * (4->6) instead of copied. A quoted packet keeps its own. */
static __always_inline __u8 xlat_tos_out(__u16 mode, __u8 copied)
{
	return mode & FC_NAT64_TOS_SET ? (__u8)mode : copied;
}

static __always_inline __u8 xlat_tclass_out(__u16 mode, __u8 copied)
{
	return mode & FC_NAT64_TOS_SET ? 0 : copied;
}

static __always_inline __u8 xlat_tclass(const struct ipv6hdr *h)
{
	const __u8 *b = (const __u8 *)h;

	return (b[0] << 4) | (b[1] >> 4);
}

/*
 * The IPv4 fragmentation fields for a packet translated from IPv6 (RFC 7915
 * §5.1, §5.1.1): from the fragment header when there is one (DF clear, MF
 * and offset carried, Identification its low 16 bits), else DF set above
 * 1260 bytes (with a zero Identification, RFC 6864) and clear up to it,
 * with the caller's Identification.
 */
static __always_inline void xlat_frag4_fields(int has_frag, __be32 frag_id, __u16 frag_off6,
					      __u32 tot_len, __be16 id_df_clear, __be16 *id, __u16 *frag)
{
	if (has_frag) {
		*id = bpf_htons(bpf_ntohl(frag_id) & 0xffff);
		*frag = ((frag_off6 & IP6_OFFSET) >> 3) | (frag_off6 & IP6_MF ? IP_MF : 0);
	} else if (tot_len > XLAT_DF_THRESHOLD) {
		*id = 0;
		*frag = IP_DF;
	} else {
		*id = id_df_clear;
		*frag = 0;
	}
}

/*
 * The IPv6 extension headers of a packet to translate to IPv4 (RFC 7915
 * §5.1): hop-by-hop, destination options and routing headers are dropped,
 * but a routing header with segments left is not ours to pass
 * (XLAT_SEGMENTS_LEFT); nothing may follow the fragment header (§5.1.1:
 * drop); AH cannot survive translation.
 */
static __always_inline int xlat_check_ext6(struct ctx_buff *ctx, __u32 off, __u8 nh, __u32 l4_off)
{
	int i;

#pragma unroll
	for (i = 0; i < FC_IP6_EXT_MAX_HDRS; i++) {
		__u8 h[4];
		__u32 len;

		if (off >= l4_off)
			return XLAT_OK;
		if (ctx_load(ctx, off, h, sizeof(h)))
			return XLAT_MALFORMED;
		switch (nh) {
		case NEXTHDR_FRAGMENT:
			if (off + FRAG6_HLEN != l4_off)
				return XLAT_UNSUPPORTED;
			len = FRAG6_HLEN;
			break;
		case NEXTHDR_ROUTING:
			if (h[3])
				return XLAT_SEGMENTS_LEFT;
			len = ((__u32)h[1] + 1) * 8;
			break;
		case NEXTHDR_HOP:
		case NEXTHDR_DEST:
			len = ((__u32)h[1] + 1) * 8;
			break;
		default:	/* AH */
			return XLAT_UNSUPPORTED;
		}
		nh = h[0];
		off += len;
	}
	return off >= l4_off ? XLAT_OK : XLAT_UNSUPPORTED;
}

/* Kinds 0 and 1 (end, no-op) are TCP's too: opt_walk_next() steps them. */
#define IPOPT_LSRR	131
#define IPOPT_SSRR	137

/* One IPv4 option: found = 1 at an unexpired source route (its pointer
 * is within it). */
static __always_inline long xlat_opt_one(__u64 i, struct fc_loop_none *unused)
{
	__u32 kind, len, off;
	struct fc_opt_walk *w = opt_walk_next(3, &kind, &len);

	if (!w)
		return 1;
	if (!len)
		return 0;
	off = w->off;
	if ((kind == IPOPT_LSRR || kind == IPOPT_SSRR) && off + 2 < sizeof(w->buf) &&
	    w->buf[off + 2] <= len) {
		w->found = 1;
		return 1;
	}
	w->off = off + len;
	return 0;
}

FC_WALK_DEFINE(xlat_opt, struct fc_loop_none, xlat_opt_one)

/* IPv4 options are dropped (RFC 7915 §4.1), but an unexpired source route
 * means the packet must not be translated. */
static __always_inline int xlat_check_opt4(struct ctx_buff *ctx, __u32 off, __u32 end)
{
	struct fc_opt_walk *w;

	if (off >= end)
		return XLAT_OK;
	w = opt_walk_load(ctx, off, end);
	if (!w)
		return XLAT_OK;
	xlat_opt_walk(sizeof(w->buf), NULL);
	return w->found ? XLAT_SOURCE_ROUTE : XLAT_OK;
}

struct xlat_sum_walk {
	struct ctx_buff *ctx;
	__u32 off;
	__u32 end;
	__u32 sum;
	int err;
};

#define XLAT_SUM_CHUNK	64

/* 64 bytes per bpf_loop step; a short last chunk is zero-padded, which
 * adds nothing to the sum. */
static long xlat_sum_step(__u64 i, void *data)
{
	struct xlat_sum_walk *w = data;
	__u8 buf[XLAT_SUM_CHUNK] = {};
	__u32 n;

	if (w->off >= w->end)
		return 1;
	n = w->end - w->off;
	if (n > XLAT_SUM_CHUNK)
		n = XLAT_SUM_CHUNK;
	if (!FC_IN_RANGE(n, 1, XLAT_SUM_CHUNK) || ctx_load(w->ctx, w->off, buf, n)) {
		w->err = 1;
		return 1;
	}
	w->sum = bpf_csum_diff(NULL, 0, (__be32 *)buf, XLAT_SUM_CHUNK, w->sum);
	w->off += n;
	return 0;
}

/* Without callbacks (lib/loop.h): 512 bytes (bpf_csum_diff's most) per
 * step, read into per-CPU memory, for at most 9 KiB (a jumbo frame): each
 * piece costs the verifier hundreds of instructions at every call site. */
#define XLAT_SUM_BOUNDED_PIECES	18
struct xlat_sum_chunk {
	__u8 buf[512];
	__u32 n;	/* the piece's length, through memory (below) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlat_sum_chunk);
} fc_sum_scratch SEC(".maps");

/* xlat_sum_range without callbacks. Only the result and *sum outlive it
 * (the walk's position is dead when it returns), so the verifier meets
 * the code after it in two states, not one per piece. */
static __always_inline int xlat_sum_bounded(struct ctx_buff *ctx, __u32 off, __u32 end,
					    __u32 seed, __u32 *sum)
{
	struct xlat_sum_chunk *b;
	__u32 zero = 0, s = seed;

	b = bpf_map_lookup_elem(&fc_sum_scratch, &zero);
	if (!b)
		return -1;
	for (__u32 k = 0; k < XLAT_SUM_BOUNDED_PIECES; k++) {
		__u32 n, n4;

		if (off >= end) {
			*sum = s;
			return 0;
		}
		n = end - off;
		if (n > sizeof(b->buf))
			n = sizeof(b->buf);
		/* Read back from memory, n has no history: the verifier's
		 * precision tracking of the helper's size stops here instead of
		 * reaching off, which would make every piece's exit a state of
		 * its own (the rest of the program walked again per piece). */
		b->n = n;
		n = b->n;
		/* A short last piece is summed to the next 4 bytes: zero the
		 * word the load ends in (a whole piece: the first, loaded over). */
		*(__u32 *)&b->buf[n & (sizeof(b->buf) - 4)] = 0;
		if (!FC_IN_RANGE(n, 1, sizeof(b->buf)) || ctx_load(ctx, off, b->buf, n))
			return -1;
		n4 = (n + 3) & ~3U;
		if (!FC_IN_RANGE(n4, 4, sizeof(b->buf)))
			return -1;
		s = bpf_csum_diff(NULL, 0, (__be32 *)b->buf, n4, s);
		off += n;
	}
	return -1;
}

/* seed + the one's complement sum of the packet's bytes [off, end): off
 * must be at an even distance from where the checksummed data starts.
 * -1 if the packet is shorter. */
static __always_inline int xlat_sum_range(struct ctx_buff *ctx, __u32 off, __u32 end, __u32 seed,
					  __u32 *sum)
{
	struct xlat_sum_walk w = { .ctx = ctx, .off = off, .end = end, .sum = seed };

	if (fc_no_callbacks)
		return xlat_sum_bounded(ctx, off, end, seed, sum);
	bpf_loop(65536 / XLAT_SUM_CHUNK, xlat_sum_step, &w, 0);
	if (w.err || w.off < w.end)
		return -1;
	*sum = w.sum;
	return 0;
}

/*
 * The transport header of a packet quoted in an ICMP error, as far as the
 * quote holds it: new ports or echo identifier (the caller's `in`), the
 * ICMP <-> ICMPv6 echo type, and its own checksum for the pseudo-header
 * change (pseudo_diff: the sum difference of the quoted packet's
 * pseudo-headers, or for ICMPv6 the pseudo-header added or removed). The
 * first n bytes (0, 8 or 20: what the quote holds of the header, up to the
 * TCP checksum) are in old, the rewritten ones go to new; the caller adds
 * their difference to the outer ICMP checksum and stores them.
 */
struct xlat_quote_l4 {
	__u8 old[20];
	__u8 new[20];
	__u32 n;
};

static __always_inline void xlat_quote_l4_rewrite(struct xlat_quote_l4 *q, __u8 proto_old,
						  __u8 proto_new, __u32 pseudo_diff,
						  const struct xlat_addrs *in)
{
	__u32 csum_at, diff;
	__u16 check, *cp;
	const __be16 *id = NULL;

	__builtin_memcpy(q->new, q->old, sizeof(q->new));
	if (q->n < 8)
		return;
	switch (proto_old) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if (in->sport)
			__builtin_memcpy(q->new, &in->sport, 2);
		if (in->dport)
			__builtin_memcpy(q->new + 2, &in->dport, 2);
		csum_at = proto_old == IPPROTO_UDP ? 6 : 16;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* Only echo reaches here (errors about errors are refused). */
		if (q->old[0] == ICMP_ECHO || q->old[0] == ICMPV6_ECHO_REQUEST) {
			q->new[0] = proto_new == IPPROTO_ICMP ? ICMP_ECHO : ICMPV6_ECHO_REQUEST;
			if (in->sport)
				id = &in->sport;
		} else {
			q->new[0] = proto_new == IPPROTO_ICMP ? ICMP_ECHOREPLY : ICMPV6_ECHO_REPLY;
			if (in->dport)
				id = &in->dport;
		}
		if (id)
			__builtin_memcpy(q->new + 4, id, 2);
		csum_at = 2;
		break;
	default:
		return;
	}
	if (csum_at + 2 > q->n)
		return;		/* the quote ends before the checksum */
	cp = (__u16 *)(q->old + csum_at);
	check = *cp;
	if (proto_old == IPPROTO_UDP && check == 0)
		return;		/* no checksum: stays so in a quote */
	*cp = 0;
	*(__u16 *)(q->new + csum_at) = 0;
	diff = bpf_csum_diff((__be32 *)q->old, 20, (__be32 *)q->new, 20, pseudo_diff);
	*cp = check;
	check = xlat_csum_apply(check, diff);
	if (proto_old == IPPROTO_UDP && check == 0)
		check = 0xffff;
	*(__u16 *)(q->new + csum_at) = check;
}

/* Load what the quote holds of its transport header (see above). */
static __always_inline int xlat_quote_l4_load(struct ctx_buff *ctx, struct xlat_quote_l4 *q,
					      __u32 off, __u32 end, __u8 proto, int has_l4)
{
	__u32 avail = end > off ? end - off : 0;

	__builtin_memset(q, 0, sizeof(*q));
	if (!has_l4)
		return 0;
	if (proto == IPPROTO_TCP && avail >= 20)
		q->n = 20;
	else if (avail >= 8)
		q->n = 8;
	if (q->n == 20)
		return ctx_load(ctx, off, q->old, 20);
	if (q->n == 8)
		return ctx_load(ctx, off, q->old, 8);
	return 0;
}

static __always_inline int xlat_quote_l4_store(struct ctx_buff *ctx, const struct xlat_quote_l4 *q,
					       __u32 off)
{
	if (q->n == 20)
		return ctx_store_rcsum(ctx, off, q->new, 20);
	if (q->n == 8)
		return ctx_store_rcsum(ctx, off, q->new, 8);
	return 0;
}

#endif /* FC_BPF_XLAT_HDR_H */
