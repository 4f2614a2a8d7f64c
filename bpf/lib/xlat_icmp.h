/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ICMP <-> ICMPv6 translation (RFC 7915 §4.2-4.3, §5.2-5.3): the type and
 * code tables, Packet Too Big <-> Fragmentation Needed with the MTU
 * adjusted, the Parameter Problem pointer tables, and ICMP errors with the
 * packet they quote translated too (inner header rebuilt, inner addresses
 * and transport endpoint from the caller's xlat_params.in, inner and outer
 * checksums right). What the RFC drops is XLAT_DROP; an error about an
 * error is XLAT_UNSUPPORTED (never translated, never answered).
 *
 * RFC 4884: an error with a length attribute (an original datagram field
 * of at least 128 octets, then an extension structure) keeps its
 * extension: the translated field is zero-padded to the other family's
 * word (64 bits in ICMPv6, 32 in ICMPv4) and to 128 octets, the attribute
 * says its new length, and the extension, unchanged, follows it. Where the
 * extension cannot be carried (the translated type has no length
 * attribute, it is not whole words, or longer than XLAT_EXT_MAX) it is
 * dropped and the attribute left clear: a plain error.
 */
#ifndef FC_BPF_XLAT_ICMP_H
#define FC_BPF_XLAT_ICMP_H

#include "xlat_hdr.h"

/* The ICMP error translations' working memory: more than the 512-byte
 * BPF stack holds next to the caller's. One per CPU, used start to end
 * within one program run. */
/* Room for the old headers: ICMP (8) + quoted IPv6 and extensions (40 +
 * 64) or IPv4 with options (60), rounded up to a power of two so a mask
 * bounds any length for the verifier. */
#define XLAT_OLD_MAX	256

/* A length the verifier must see bounded: the compiler may not drop the
 * mask even where it knows the value is small. */
#define xlat_bounded(v, mask) ({ __u32 __v = (v); asm volatile("" : "+r"(__v)); __v & (mask); })

/*
 * An error's RFC 4884 layout, decided once (with or without a kept
 * extension) and read back from memory, where the verifier keeps no
 * values: what follows is then walked once for both kinds of error, not
 * once each. It shares room with the quoted header of the other direction.
 */
struct xlat_ext_plan {
	__u32 qlen;		/* quoted transport bytes kept */
	__u32 len;		/* 4->6: the ICMPv6 message; 6->4: the IPv4 packet */
	__u32 cut_from;		/* bytes [cut_from, + cut) leave the sum (and the packet) */
	__u32 cut;
	__u32 ext;		/* the extension kept (low 16 bits), the pad before it (high) */
};

#define XLAT_PLAN(field)	(*(volatile __u32 *)&(field))

struct xlat_scratch {
	__u8 old[XLAT_OLD_MAX];	/* ICMP header + quoted IP header (and extensions) */
	struct {
		__u8 icmp[8];
		struct iphdr ip;
	} nw4;
	struct {
		__u8 icmp[8];
		struct ipv6hdr ip;
		struct frag_hdr fh;
	} nw6;
	union {
		struct iphdr ip4;
		struct ipv6hdr ip6;
	} outer;
	union {
		struct ipv6hdr in6;	/* 6->4: the quoted header */
		struct xlat_ext_plan plan6;	/* 4->6 */
	};
	union {
		struct iphdr in4;	/* 4->6: the quoted header */
		struct xlat_ext_plan plan4;	/* 6->4 */
	};
	struct fc_pkt in;
	struct xlat_quote_l4 q;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlat_scratch);
} fc_xlat_scratch SEC(".maps");

static __always_inline struct xlat_scratch *xlat_scratch(void)
{
	__u32 zero = 0;
	struct xlat_scratch *s = bpf_map_lookup_elem(&fc_xlat_scratch, &zero);

	if (s)
		__builtin_memset(s, 0, sizeof(*s));
	return s;
}

#define ICMP_FRAG_NEEDED	4
#define ICMP_PROT_UNREACH	2

/* RFC 1191 §7 plateau table, for a Fragmentation Needed without an MTU. */
static __always_inline __u32 xlat_mtu_plateau(__u32 tot_len)
{
	static const __u16 plateau[] = { 65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508,
					 296, 68 };
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(plateau) / sizeof(plateau[0])); i++)
		if (plateau[i] < tot_len)
			return plateau[i];
	return 68;
}

/*
 * Fragmentation Needed -> Packet Too Big MTU (RFC 7915 §4.2):
 * max(1280, min(MTU + 20, MTU of the IPv6 next hop, MTU of the IPv4 next
 * hop + 20)); an MTU of 0 (a router before RFC 1191) is replaced by the
 * plateau below the quoted packet's total length.
 */
static __always_inline __u32 xlat_ptb_mtu_from4(__u32 mtu4, __u32 quoted_tot_len,
						const struct xlat_params *prm)
{
	__u32 mtu;

	if (!mtu4)
		mtu4 = xlat_mtu_plateau(quoted_tot_len);
	mtu = mtu4 + 20;
	if (prm->mtu6 && mtu > prm->mtu6)
		mtu = prm->mtu6;
	if (prm->mtu4 && mtu > (__u32)prm->mtu4 + 20)
		mtu = prm->mtu4 + 20;
	return mtu < IPV6_MIN_MTU ? IPV6_MIN_MTU : mtu;
}

/*
 * Packet Too Big -> Fragmentation Needed MTU (RFC 7915 §5.2):
 * min(MTU - 20, MTU of the IPv4 next hop, MTU of the IPv6 next hop - 20),
 * 8 less when the quoted packet carried a fragment header (its IPv4 twin
 * is that much smaller). Kept within 68 (the IPv4 minimum) .. 65535.
 */
static __always_inline __u16 xlat_frag_needed_mtu_from6(__u32 mtu6, int quoted_frag,
							const struct xlat_params *prm)
{
	__u32 hdr = 20 + (quoted_frag ? FRAG6_HLEN : 0), mtu;

	mtu = mtu6 > hdr ? mtu6 - hdr : 0;
	if (prm->mtu4 && mtu > prm->mtu4)
		mtu = prm->mtu4;
	if (prm->mtu6 && prm->mtu6 > hdr && mtu > prm->mtu6 - hdr)
		mtu = prm->mtu6 - hdr;
	if (mtu > 0xffff)
		mtu = 0xffff;
	return mtu < 68 ? 68 : mtu;
}

#define XLAT_PTR_NA	0xff

/* Parameter Problem pointer, IPv4 header -> IPv6 header (§4.2, Figure 3). */
static __always_inline __u8 xlat_pointer_4to6(__u32 ptr)
{
	if (ptr <= 1)
		return ptr;		/* version/IHL, TOS */
	if (ptr <= 3)
		return 4;		/* total length -> payload length */
	if (ptr == 8)
		return 7;		/* TTL -> hop limit */
	if (ptr == 9)
		return 6;		/* protocol -> next header */
	if (ptr >= 12 && ptr <= 15)
		return 8;		/* source address */
	if (ptr >= 16 && ptr <= 19)
		return 24;		/* destination address */
	return XLAT_PTR_NA;		/* ID, flags/offset, checksum, options */
}

/* Parameter Problem pointer, IPv6 header -> IPv4 header (§5.2, Figure 6). */
static __always_inline __u8 xlat_pointer_6to4(__u32 ptr)
{
	if (ptr <= 1)
		return ptr;		/* version/traffic class */
	if (ptr == 4 || ptr == 5)
		return 2;		/* payload length -> total length */
	if (ptr == 6)
		return 9;		/* next header -> protocol */
	if (ptr == 7)
		return 8;		/* hop limit -> TTL */
	if (ptr >= 8 && ptr <= 23)
		return 12;
	if (ptr >= 24 && ptr <= 39)
		return 16;
	return XLAT_PTR_NA;		/* flow label, beyond the fixed header */
}

/*
 * ICMPv4 error -> ICMPv6 error type, code and the 32-bit field after the
 * checksum (host order), RFC 7915 §4.2. rest4: the ICMPv4 one (host order);
 * quoted_tot_len: the quoted packet's total length (MTU plateaus).
 * XLAT_DROP for what the RFC silently drops.
 */
static __always_inline int xlat_icmp4_err_map(__u8 type, __u8 code, __u32 rest4, __u32 quoted_tot_len,
					      const struct xlat_params *prm, __u8 *t6, __u8 *c6,
					      __u32 *rest6)
{
	__u8 ptr;

	*rest6 = 0;
	switch (type) {
	case ICMP_DEST_UNREACH:
		*t6 = ICMPV6_DEST_UNREACH;
		switch (code) {
		case 0: case 1: case 5: case 6: case 7: case 8: case 11: case 12:
			*c6 = 0;		/* no route to destination */
			return XLAT_OK;
		case 9: case 10: case 13: case 15:
			*c6 = 1;		/* administratively prohibited */
			return XLAT_OK;
		case 3:
			*c6 = 4;		/* port unreachable */
			return XLAT_OK;
		case ICMP_PROT_UNREACH:
			*t6 = ICMPV6_PARAMPROB;
			*c6 = 1;		/* unrecognized next header ... */
			*rest6 = 6;		/* ... pointing at it */
			return XLAT_OK;
		case ICMP_FRAG_NEEDED:
			*t6 = ICMPV6_PKT_TOOBIG;
			*c6 = 0;
			*rest6 = xlat_ptb_mtu_from4(rest4 & 0xffff, quoted_tot_len, prm);
			return XLAT_OK;
		default:		/* 14 (host precedence violation), unknown */
			return XLAT_DROP;
		}
	case ICMP_TIME_EXCEEDED:
		*t6 = ICMPV6_TIME_EXCEED;
		*c6 = code;
		return XLAT_OK;
	case ICMP_PARAMETERPROB:
		if (code != 0 && code != 2)
			return XLAT_DROP;	/* 1: missing a required option */
		ptr = xlat_pointer_4to6(rest4 >> 24);
		if (ptr == XLAT_PTR_NA)
			return XLAT_DROP;
		*t6 = ICMPV6_PARAMPROB;
		*c6 = 0;
		*rest6 = ptr;
		return XLAT_OK;
	default:			/* redirect, source quench, ...: single hop or obsolete */
		return XLAT_DROP;
	}
}

/* ICMPv6 error -> ICMPv4 error (RFC 7915 §5.2); rest6 in host order. */
static __always_inline int xlat_icmp6_err_map(__u8 type, __u8 code, __u32 rest6, int quoted_frag,
					      const struct xlat_params *prm, __u8 *t4, __u8 *c4,
					      __u32 *rest4)
{
	__u8 ptr;

	*rest4 = 0;
	switch (type) {
	case ICMPV6_DEST_UNREACH:
		*t4 = ICMP_DEST_UNREACH;
		switch (code) {
		case 0: case 2: case 3:
			*c4 = 1;		/* host unreachable */
			return XLAT_OK;
		case 1:
			*c4 = 10;		/* host administratively prohibited */
			return XLAT_OK;
		case 4:
			*c4 = 3;		/* port unreachable */
			return XLAT_OK;
		default:
			return XLAT_DROP;
		}
	case ICMPV6_PKT_TOOBIG:
		*t4 = ICMP_DEST_UNREACH;
		*c4 = ICMP_FRAG_NEEDED;
		*rest4 = xlat_frag_needed_mtu_from6(rest6, quoted_frag, prm);
		return XLAT_OK;
	case ICMPV6_TIME_EXCEED:
		*t4 = ICMP_TIME_EXCEEDED;
		*c4 = code;
		return XLAT_OK;
	case ICMPV6_PARAMPROB:
		if (code == 1) {
			*t4 = ICMP_DEST_UNREACH;
			*c4 = ICMP_PROT_UNREACH;
			return XLAT_OK;
		}
		if (code != 0)
			return XLAT_DROP;	/* 2: unrecognized option */
		ptr = xlat_pointer_6to4(rest6);
		if (ptr == XLAT_PTR_NA)
			return XLAT_DROP;
		*t4 = ICMP_PARAMETERPROB;
		*c4 = 0;
		*rest4 = (__u32)ptr << 24;
		return XLAT_OK;
	default:
		return XLAT_DROP;
	}
}

/*
 * Where the quote of an ICMP error ends (RFC 4884): after its original
 * datagram field when the length attribute (words of `unit` bytes) says
 * so and an extension follows; else at the end of the packet. An
 * attribute below the RFC's 128 octets, or beyond the packet, is not
 * trusted: the whole rest is the quote, as for an error without one.
 */
static __always_inline __u32 xlat_quote_end(int has_len, __u32 words, __u32 unit, __u32 in_off,
					     __u32 l3_end)
{
	__u32 orig = words * unit;

	if (!has_len || orig < 128 || in_off + orig >= l3_end)
		return l3_end;
	return in_off + orig;
}

/* RFC 4884 extensions carried over: a zero area for the padding, then the
 * extension, in the per-CPU buffer of xlat_sum_range (done with by then). */
#define XLAT_EXT_PAD_MAX	128
#define XLAT_EXT_MAX		(sizeof(((struct xlat_sum_chunk *)0)->buf) - XLAT_EXT_PAD_MAX)

/* The length of the extension structure that follows the original
 * datagram field (ext_len bytes) and is kept, or 0: dropped when the
 * translated message has no length attribute (RFC 4884 defines it for
 * Destination Unreachable and Time Exceeded in ICMPv6; ICMPv4 Parameter
 * Problem's has no ICMPv6 twin), when it is not whole 32-bit words (no
 * valid extension), or longer than the buffer that moves it. */
static __always_inline __u32 xlat_ext_kept(__u32 ext_len, int has_attr)
{
	if (!has_attr || !ext_len || (ext_len & 3) || ext_len > XLAT_EXT_MAX)
		return 0;
	return ext_len;
}

/* Zero bytes that pad a translated original datagram field of `field`
 * bytes to a multiple of `unit` and to at least 128 octets (RFC 4884 §4.1,
 * §4.2 of the family's word). */
static __always_inline __u32 xlat_ext_pad(__u32 field, __u32 unit)
{
	__u32 padded = (field + unit - 1) & ~(unit - 1);

	if (padded < 128)
		padded = 128;
	return padded - field;
}

/*
 * After the front of the error was rebuilt: the extension (ext_len bytes
 * at ext_off) moved behind the translated field that ends at q_end, with
 * pad zero bytes between, and the packet ended after it. Each piece keeps
 * an even offset in the message (the field's words are even), so its
 * share of the ICMP checksum does not change.
 */
static __always_inline int xlat_ext_move(struct ctx_buff *ctx, __u32 ext_off, __u32 ext_len,
					 __u32 q_end, __u32 pad)
{
	struct xlat_sum_chunk *b;
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&fc_sum_scratch, &zero);
	if (!b)
		return -1;
	__builtin_memset(b->buf, 0, XLAT_EXT_PAD_MAX);
	if (!FC_IN_RANGE(ext_len, 4, XLAT_EXT_MAX) || pad >= XLAT_EXT_PAD_MAX ||
	    ctx_load(ctx, ext_off, b->buf + XLAT_EXT_PAD_MAX, ext_len) ||
	    ctx_resize(ctx, q_end + pad + ext_len))
		return -1;
	if (pad && (!FC_IN_RANGE(pad, 1, XLAT_EXT_PAD_MAX - 1) || ctx_store(ctx, q_end, b->buf, pad)))
		return -1;
	return ctx_store(ctx, q_end + pad, b->buf + XLAT_EXT_PAD_MAX, ext_len);
}

/* ICMPv4: the pointer is the first byte after the checksum, the MTU the
 * last two; ICMPv6 uses all four. Both are in host order here. */
static __always_inline __u32 xlat_icmp_rest(const __u8 *h)
{
	return ((__u32)h[4] << 24) | ((__u32)h[5] << 16) | ((__u32)h[6] << 8) | h[7];
}

static __always_inline void xlat_icmp_hdr(__u8 *h, __u8 type, __u8 code, __u32 rest)
{
	h[0] = type;
	h[1] = code;
	h[2] = 0;
	h[3] = 0;
	h[4] = rest >> 24;
	h[5] = rest >> 16;
	h[6] = rest >> 8;
	h[7] = rest;
}

/*
 * ICMPv6 error -> ICMPv4 error (RFC 7915 §5.3). p is the outer packet
 * (parse_ipv6, not a fragment), ip6 its fixed header, icmp its ICMPv6
 * header. Old: [IPv6 + ext][ICMPv6][quoted IPv6 + ext][quoted L4 ...],
 * new: [IPv4][ICMP][quoted IPv4][quoted L4 ...]: everything up to the
 * quoted transport header is rebuilt, what follows stays where it is
 * relative to the end.
 */
static __always_inline int xlat_icmp6_err_to4(struct ctx_buff *ctx, const struct fc_pkt *p,
					      const struct xlat_params *prm, const struct ipv6hdr *ip6,
					      const __u8 *icmp)
{
	struct xlat_scratch *s = xlat_scratch();
	__u32 in_off = p->l4_off + 8, in_ext, upper, tot, rest4, diff, pseudo = 0, hdr_old, end, tail;
	__u32 qlen, field, pad = 0, ext, cut;
	__be32 a4[2] = { prm->in.saddr.v4, prm->in.daddr.v4 };
	__be16 id;
	__u16 frag, check;
	__u8 t4, c4, proto4;
	__be16 eth_type = bpf_htons(ETH_P_IP);
	int i, r = -1, nonfirst;

	if (!s)
		return XLAT_NO_ROOM;
	if (in_off + IPV6_HLEN > p->l3_end ||
	    ctx_load(ctx, p->l4_off, s->old, 8 + IPV6_HLEN))
		return XLAT_MALFORMED;
	__builtin_memcpy(&s->in6, s->old + 8, sizeof(s->in6));
	if ((s->old[8] >> 4) != 6)
		return XLAT_MALFORMED;

	/* The quoted packet's extension headers, within the quote. */
	s->in.proto = s->in6.nexthdr;
	s->in.l4_off = in_off + IPV6_HLEN;
	s->in.l3_end = p->l3_end;
#pragma unroll
	for (i = 0; i <= FC_IP6_EXT_MAX_HDRS; i++) {
		r = ipv6_ext_step(ctx, &s->in);
		if (r)
			break;
	}
	if (r < 0)
		return XLAT_MALFORMED;
	if (r == 0 || (s->in.frag_hdr_off && s->in.l4_off != s->in.frag_hdr_off + FRAG6_HLEN))
		return XLAT_UNSUPPORTED;
	in_ext = s->in.l4_off - in_off - IPV6_HLEN;
	if (in_ext > FC_IP6_EXT_MAX_LEN)
		return XLAT_UNSUPPORTED;
	if (in_ext >= 8 && (!FC_IN_RANGE(in_ext, 8, FC_IP6_EXT_MAX_LEN) ||
			    ctx_load(ctx, in_off + IPV6_HLEN, s->old + 8 + IPV6_HLEN, in_ext)))
		return XLAT_MALFORMED;
	upper = bpf_ntohs(s->in6.payload_len);
	if (upper < in_ext)
		return XLAT_MALFORMED;
	upper -= in_ext;
	if (IPV4_HLEN + upper > 0xffff)
		return XLAT_MALFORMED;

	r = xlat_icmp6_err_map(icmp[0], icmp[1], xlat_icmp_rest(icmp), s->in.frag_hdr_off != 0, prm,
			       &t4, &c4, &rest4);
	if (r)
		return r;
	/* RFC 4884 ICMPv6: the length in 64-bit words, octet 4 of
	 * Destination Unreachable and Time Exceeded. */
	end = xlat_quote_end(icmp[0] == ICMPV6_DEST_UNREACH || icmp[0] == ICMPV6_TIME_EXCEED,
			     icmp[4], 8, in_off, p->l3_end);

	/* The quoted transport header. */
	nonfirst = (s->in.frag_off & IP6_OFFSET) != 0;
	proto4 = s->in.proto == IPPROTO_ICMPV6 ? IPPROTO_ICMP : s->in.proto;
	if (xlat_quote_l4_load(ctx, &s->q, s->in.l4_off, end, s->in.proto, !nonfirst))
		return XLAT_MALFORMED;
	if (s->in.proto == IPPROTO_ICMPV6 && !nonfirst) {
		if (s->q.n == 0)
			return XLAT_MALFORMED;
		if (s->q.old[0] < ICMPV6_ECHO_REQUEST)
			return XLAT_UNSUPPORTED;	/* an error about an error */
		if (s->q.old[0] != ICMPV6_ECHO_REQUEST && s->q.old[0] != ICMPV6_ECHO_REPLY)
			return XLAT_DROP;
		pseudo = xlat_pseudo6_sum((__u8 *)&s->in6.saddr, (__u8 *)&s->in6.daddr, upper,
					  IPPROTO_ICMPV6, 1, 0);
	} else if (s->in.proto == IPPROTO_TCP || s->in.proto == IPPROTO_UDP) {
		pseudo = bpf_csum_diff((__be32 *)&s->in6.saddr, 32, a4, sizeof(a4), 0);
	}
	xlat_quote_l4_rewrite(&s->q, s->in.proto, proto4, pseudo, &prm->in);

	/* The quoted transport bytes kept, and what leaves the sum: the
	 * extension if it is dropped, else what of the quote does not fit
	 * the 8-bit attribute (255 words). */
	qlen = end - s->in.l4_off;
	cut = p->l3_end - end;
	ext = xlat_ext_kept(p->l3_end - end, t4 == ICMP_DEST_UNREACH || t4 == ICMP_TIME_EXCEEDED);
	if (ext) {
		field = IPV4_HLEN + qlen;
		if (field > 255 * 4) {
			qlen -= field - 255 * 4;
			field = 255 * 4;
		}
		pad = xlat_ext_pad(field, 4);
		rest4 |= ((field + pad) / 4) << 16;	/* octet 5 */
		cut = end - s->in.l4_off - qlen;
		end = s->in.l4_off + qlen;
	}
	s->plan4.qlen = qlen;
	s->plan4.len = IPV4_HLEN + sizeof(s->nw4) + qlen + pad + ext;
	s->plan4.cut_from = end;
	s->plan4.cut = cut;
	s->plan4.ext = ext | pad << 16;

	/* The quoted IPv4 header: TTL not decremented (§5.3). */
	xlat_frag4_fields(s->in.frag_hdr_off != 0, s->in.frag_id, s->in.frag_off, IPV4_HLEN + upper, 0,
			  &id, &frag);
	xlat_build_ip4(&s->nw4.ip, xlat_tclass(&s->in6), IPV4_HLEN + upper, id, frag, s->in6.hop_limit,
		       proto4, prm->in.saddr.v4, prm->in.daddr.v4);
	xlat_icmp_hdr(s->nw4.icmp, t4, c4, rest4);

	/* The ICMP checksum from the ICMPv6 one: rebuilt bytes swapped, the
	 * pseudo-header taken out. */
	__builtin_memcpy(&check, s->old + 2, sizeof(check));
	s->old[2] = 0;
	s->old[3] = 0;
	hdr_old = 8 + IPV6_HLEN + in_ext;
	diff = bpf_csum_diff((__be32 *)s->old, xlat_bounded(hdr_old, XLAT_OLD_MAX - 4), (__be32 *)&s->nw4, sizeof(s->nw4), 0);
	diff = xlat_pseudo6_sum(p->saddr.v6, p->daddr.v6, p->l3_end - p->l4_off, IPPROTO_ICMPV6,
				1, diff);
	diff = bpf_csum_diff((__be32 *)s->q.old, sizeof(s->q.old), (__be32 *)s->q.new, sizeof(s->q.new), diff);
	cut = XLAT_PLAN(s->plan4.cut);
	if (cut) {
		/* A dropped extension (it starts 8 + a multiple of 8 bytes
		 * into the message) or a cut quote (an even length of it
		 * kept) leaves the sum. */
		end = XLAT_PLAN(s->plan4.cut_from);
		if (xlat_sum_range(ctx, end, end + cut, 0, &tail))
			return XLAT_MALFORMED;
		diff = csum_add32(diff, ~tail);
	}
	check = xlat_csum_apply(check, diff);
	__builtin_memcpy(s->nw4.icmp + 2, &check, sizeof(check));

	tot = XLAT_PLAN(s->plan4.len);
	/* The error's own fragment header (an atomic fragment) gives the
	 * Identification, as for any packet (RFC 7915 §5.1.1). */
	xlat_frag4_fields(p->frag_hdr_off != 0, p->frag_id, p->frag_off, tot, prm->ip_id, &id, &frag);
	xlat_build_ip4(&s->outer.ip4, xlat_tos_out(prm->tos, xlat_tclass(ip6)), tot, id, frag,
		       ip6->hop_limit, IPPROTO_ICMP, prm->out.saddr.v4, prm->out.daddr.v4);

	hdr_old = s->in.l4_off - p->l3_off;
	if (ctx_change_l3(ctx, FC_AF_INET, (int)(IPV4_HLEN + sizeof(s->nw4)) - (int)hdr_old))
		return XLAT_NO_ROOM;
	if (xlat_set_eth_type(ctx, p->l3_off, &eth_type) ||
	    ctx_store_rcsum(ctx, p->l3_off, &s->outer.ip4, sizeof(s->outer.ip4)) ||
	    ctx_store_rcsum(ctx, p->l3_off + IPV4_HLEN, &s->nw4, sizeof(s->nw4)) ||
	    xlat_quote_l4_store(ctx, &s->q, p->l3_off + IPV4_HLEN + sizeof(s->nw4)))
		return XLAT_NO_ROOM;
	ext = XLAT_PLAN(s->plan4.ext);
	if (ext & 0xffff) {
		/* The quote now ends qlen past the front; its cut tail and
		 * the extension behind it. */
		hdr_old = p->l3_off + IPV4_HLEN + sizeof(s->nw4) + XLAT_PLAN(s->plan4.qlen);
		r = xlat_ext_move(ctx, hdr_old + XLAT_PLAN(s->plan4.cut), ext & 0xffff, hdr_old,
				  ext >> 16);
	} else {
		r = XLAT_PLAN(s->plan4.cut) ? ctx_resize(ctx, p->l3_off + tot) : 0;
	}
	return r ? XLAT_NO_ROOM : XLAT_OK;
}

/*
 * ICMPv4 error -> ICMPv6 error (RFC 7915 §4.3): the mirror of the above.
 * The quoted IPv4 header gets a fragment header if it was a fragment. An
 * ICMPv6 error longer than the IPv6 minimum MTU is cut to 1280 bytes
 * (RFC 4443 §2.4 (c)).
 */
static __always_inline int xlat_icmp4_err_to6(struct ctx_buff *ctx, const struct fc_pkt *p,
					      const struct xlat_params *prm, const struct iphdr *ip4,
					      const __u8 *icmp)
{
	struct xlat_scratch *s = xlat_scratch();
	__u32 in_off = p->l4_off + 8, in_l4, ihl, opt_len, in_tot, upper, rest6, diff, pseudo = 0;
	__u32 msg, cut = 0, tail, hdr_old, hdr_new, fr, end, qlen, ext;
	__be16 eth_type = bpf_htons(ETH_P_IPV6);
	__u16 fo, check;
	__u8 t6, c6, proto6;
	int r, is_frag, nonfirst;

	if (!s)
		return XLAT_NO_ROOM;
	if (in_off + IPV4_HLEN > p->l3_end || ctx_load(ctx, p->l4_off, s->old, 8 + IPV4_HLEN))
		return XLAT_MALFORMED;
	__builtin_memcpy(&s->in4, s->old + 8, sizeof(s->in4));
	ihl = (s->old[8] & 0x0f) * 4;
	if ((s->old[8] >> 4) != 4 || ihl < IPV4_HLEN || in_off + ihl > p->l3_end)
		return XLAT_MALFORMED;
	opt_len = ihl - IPV4_HLEN;
	if (opt_len && (!FC_IN_RANGE(opt_len, 4, 40) ||
			ctx_load(ctx, in_off + IPV4_HLEN, s->old + 8 + IPV4_HLEN, opt_len)))
		return XLAT_MALFORMED;
	in_tot = bpf_ntohs(s->in4.tot_len);
	if (in_tot < ihl)
		return XLAT_MALFORMED;
	upper = in_tot - ihl;
	in_l4 = in_off + ihl;

	r = xlat_icmp4_err_map(icmp[0], icmp[1], xlat_icmp_rest(icmp), in_tot, prm, &t6, &c6, &rest6);
	if (r)
		return r;
	/* RFC 4884 ICMPv4: the length in 32-bit words, octet 5 of
	 * Destination Unreachable, Time Exceeded and Parameter Problem. */
	end = xlat_quote_end(icmp[0] == ICMP_DEST_UNREACH || icmp[0] == ICMP_TIME_EXCEEDED ||
			     icmp[0] == ICMP_PARAMETERPROB, icmp[5], 4, in_off, p->l3_end);

	fo = bpf_ntohs(s->in4.frag_off);
	is_frag = (fo & (IP_MF | IP_OFFSET)) != 0;
	nonfirst = (fo & IP_OFFSET) != 0;
	fr = is_frag ? FRAG6_HLEN : 0;
	proto6 = s->in4.protocol == IPPROTO_ICMP ? IPPROTO_ICMPV6 : s->in4.protocol;
	if (xlat_quote_l4_load(ctx, &s->q, in_l4, end, s->in4.protocol, !nonfirst))
		return XLAT_MALFORMED;
	if (s->in4.protocol == IPPROTO_ICMP && !nonfirst) {
		if (s->q.n == 0)
			return XLAT_MALFORMED;
		if (s->q.old[0] != ICMP_ECHO && s->q.old[0] != ICMP_ECHOREPLY)
			return XLAT_UNSUPPORTED;	/* an error about an error, or obsolete */
		pseudo = xlat_pseudo6_sum(prm->in.saddr.v6, prm->in.daddr.v6, upper, IPPROTO_ICMPV6,
					  0, 0);
	} else if (s->in4.protocol == IPPROTO_TCP || s->in4.protocol == IPPROTO_UDP) {
		pseudo = bpf_csum_diff(&s->in4.saddr, 8, (__be32 *)&prm->in.saddr, 32, 0);
	}
	xlat_quote_l4_rewrite(&s->q, s->in4.protocol, proto6, pseudo, &prm->in);

	hdr_new = sizeof(s->nw6) - FRAG6_HLEN + fr;		/* ICMPv6 + quoted IPv6 (+ fragment) */
	qlen = end - in_l4;
	ext = xlat_ext_kept(p->l3_end - end, t6 == ICMPV6_DEST_UNREACH || t6 == ICMPV6_TIME_EXCEED);
	if (ext) {
		/* The field and the extension within 1280 (RFC 4443 §2.4
		 * (c)): the quote gives way, never below 128 octets (an
		 * extension of at most XLAT_EXT_MAX leaves more room). What
		 * is cut is the quote's tail, before the extension. */
		msg = (IPV6_MIN_MTU - IPV6_HLEN - 8 - ext) & ~7U;	/* the room */
		if (hdr_new - 8 + qlen > msg)
			qlen = msg - (hdr_new - 8);
		cut = end - in_l4 - qlen;
		msg = xlat_ext_pad(hdr_new - 8 + qlen, 8);
		rest6 |= ((hdr_new - 8 + qlen + msg) / 8) << 24;	/* octet 4 */
		ext |= msg << 16;	/* the pad */
		msg = hdr_new + qlen + (ext >> 16) + (ext & 0xffff);
		end = in_l4 + qlen;	/* where the cut starts */
	} else {
		msg = hdr_new + qlen;
		if (IPV6_HLEN + msg > IPV6_MIN_MTU) {
			cut = IPV6_HLEN + msg - IPV6_MIN_MTU;
			msg -= cut;
		}
		/* What is cut from the end: an extension (RFC 4884), then
		 * what does not fit 1280. */
		cut += p->l3_end - end;
		end = p->l3_end - cut;
	}
	s->plan6.qlen = qlen;
	s->plan6.len = msg;
	s->plan6.cut_from = end;
	s->plan6.cut = cut;
	s->plan6.ext = ext;

	/* The quoted IPv6 header (hop limit = TTL, not decremented). */
	xlat_build_ip6(&s->nw6.ip, s->in4.tos, upper + fr, is_frag ? NEXTHDR_FRAGMENT : proto6, s->in4.ttl,
		       prm->in.saddr.v6, prm->in.daddr.v6);
	if (is_frag)
		xlat_build_frag6(&s->nw6.fh, proto6, s->in4.id, fo);
	xlat_icmp_hdr(s->nw6.icmp, t6, c6, rest6);

	__builtin_memcpy(&check, s->old + 2, sizeof(check));
	s->old[2] = 0;
	s->old[3] = 0;
	hdr_old = 8 + ihl;
	if (is_frag)
		diff = bpf_csum_diff((__be32 *)s->old, xlat_bounded(hdr_old, XLAT_OLD_MAX - 4),
				     (__be32 *)&s->nw6, sizeof(s->nw6), 0);
	else
		diff = bpf_csum_diff((__be32 *)s->old, xlat_bounded(hdr_old, XLAT_OLD_MAX - 4),
				     (__be32 *)&s->nw6, sizeof(s->nw6) - FRAG6_HLEN, 0);
	msg = XLAT_PLAN(s->plan6.len);
	diff = xlat_pseudo6_sum(prm->out.saddr.v6, prm->out.daddr.v6, msg, IPPROTO_ICMPV6, 0, diff);
	diff = bpf_csum_diff((__be32 *)s->q.old, sizeof(s->q.old), (__be32 *)s->q.new, sizeof(s->q.new), diff);
	cut = XLAT_PLAN(s->plan6.cut);
	if (cut) {
		end = XLAT_PLAN(s->plan6.cut_from);
		/* The cut-off bytes leave the sum (they start at an even
		 * distance from the message start: 1240 bytes in, 8 + a
		 * multiple of 4 where a dropped extension starts, or after an
		 * even length of quote kept for one). */
		if (xlat_sum_range(ctx, end, end + cut, 0, &tail))
			return XLAT_MALFORMED;
		diff = csum_add32(diff, ~tail);
	}
	check = xlat_csum_apply(check, diff);
	__builtin_memcpy(s->nw6.icmp + 2, &check, sizeof(check));

	xlat_build_ip6(&s->outer.ip6, xlat_tclass_out(prm->tos, ip4->tos), msg, IPPROTO_ICMPV6,
		       ip4->ttl, prm->out.saddr.v6, prm->out.daddr.v6);

	hdr_old = in_l4 - p->l3_off;
	if (ctx_change_l3(ctx, FC_AF_INET6, (int)(IPV6_HLEN + hdr_new) - (int)hdr_old))
		return XLAT_NO_ROOM;
	if (xlat_set_eth_type(ctx, p->l3_off, &eth_type) ||
	    ctx_store_rcsum(ctx, p->l3_off, &s->outer.ip6, sizeof(s->outer.ip6)))
		return XLAT_NO_ROOM;
	if (is_frag)
		r = ctx_store_rcsum(ctx, p->l3_off + IPV6_HLEN, &s->nw6, sizeof(s->nw6));
	else
		r = ctx_store_rcsum(ctx, p->l3_off + IPV6_HLEN, &s->nw6, sizeof(s->nw6) - FRAG6_HLEN);
	if (r || xlat_quote_l4_store(ctx, &s->q, p->l3_off + IPV6_HLEN + hdr_new))
		return XLAT_NO_ROOM;
	ext = XLAT_PLAN(s->plan6.ext);
	if (ext & 0xffff) {
		/* The quote now ends qlen past the front; its cut tail and
		 * the extension behind it. */
		hdr_new = p->l3_off + IPV6_HLEN + hdr_new + XLAT_PLAN(s->plan6.qlen);
		r = xlat_ext_move(ctx, hdr_new + XLAT_PLAN(s->plan6.cut), ext & 0xffff, hdr_new,
				  ext >> 16);
	} else
		r = cut ? ctx_resize(ctx, p->l3_off + IPV6_HLEN + msg) : 0;
	return r ? XLAT_NO_ROOM : XLAT_OK;
}

#endif /* FC_BPF_XLAT_ICMP_H */
