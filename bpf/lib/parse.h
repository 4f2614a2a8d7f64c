/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Header parsing into struct fc_pkt. Every length and offset comes from an
 * untrusted packet, so each is checked against what the packet really holds.
 * Headers are made linear first (ctx_linearize), then read in place.
 */
#ifndef FC_BPF_PARSE_H
#define FC_BPF_PARSE_H

#include "common.h"
#include "loop.h"

enum fc_parse {
	FC_PARSE_OK,
	FC_PARSE_NOT_IPV4,	/* leave it alone (parse_ipv6: not IPv6) */
	FC_PARSE_MALFORMED,
	/* IPv6 only: well formed, but with an extension header chain longer
	 * than the datapath walks (FC_IP6_EXT_MAX_*) or an ESP/unknown header
	 * before the transport header: proto says which; has_l4 is 0. */
	FC_PARSE_EXT_UNSUPPORTED,
};

struct fc_pkt {
	__u32 l3_off;
	__u32 l4_off;
	__u32 l3_end;		/* end of the IP datagram (padding excluded) */
	__u32 csum_off;		/* L4 checksum field, 0 if none to touch */
	union fc_addr saddr;
	union fc_addr daddr;
	__be16 sport;		/* ICMP echo: query id on the querier's side */
	__be16 dport;
	__u8 family;
	__u8 proto;		/* IP protocol number */
	__u8 has_l4;		/* ports/ids parsed (not a non-first fragment) */
	__u8 is_fragment;	/* MF set or offset != 0 */
	__u8 csum_pseudo;	/* L4 checksum covers the IP pseudo-header */
	__u8 csum_udp;		/* zero means "no checksum": keep it zero */
	__u8 icmp_type;
	__u8 tcp_flags;
	__u8 tcp_wscale;	/* window scale option of a SYN, 0 if none */
	__be16 ip_id;		/* IPv4; IPv6: low half of frag_id */
	__u8 hop_limit;		/* IPv6: from the fixed header */
	__u16 tcp_win;		/* host order, unscaled */
	__u32 tcp_seq;		/* host order */
	__u32 tcp_ack;		/* host order */
	/* IPv6 fragment header, if any: where it is and its fields, as
	 * NAT64 needs them to build IPv4 fragmentation fields (RFC 7915 §5.1.1). */
	__u32 frag_hdr_off;	/* 0: none */
	__be32 frag_id;
	__u16 frag_off;		/* host order: offset in bytes | IP6_MF */
};

/*
 * A pointer to len bytes at off, or NULL if the packet is shorter. off is
 * bounded for the verifier; everything the datapath touches lies within
 * FC_ICMP_ERR_HDR_MAX bytes.
 */
static __always_inline void *ctx_ptr(struct ctx_buff *ctx, __u32 off, __u32 len)
{
	void *data = ctx_data(ctx), *end = ctx_data_end(ctx);

	if (off > FC_ICMP_ERR_HDR_MAX)
		return NULL;
	if (FC_PKT_OFF_ODD(off))
		return NULL;
	off = FC_PKT_OFF(off);
	if (data + off + len > end)
		return NULL;
	return data + off;
}

/*
 * The frame's link layout: *l2 is the length of its link-layer header (0 on
 * a link without one, ETH_HLEN on Ethernet (ctx_has_eth), 4 more per
 * 802.1Q/802.1ad tag of a --vlan link where the hook sees them in the
 * frame: ctx_vlan_l2), the result its network protocol (the Ethernet type,
 * or the kernel's protocol where there is no Ethernet header); 0 for a
 * frame too short for either, or one with tags that are not ours. tagged
 * (a constant): the frame may carry tags (XDP on the external interface).
 */
static __always_inline __be16 parse_l2_tagged(struct ctx_buff *ctx, __u32 *l2, int tagged)
{
	__u64 has_eth = ctx_has_eth(ctx);
	struct ethhdr *eth = ctx_ptr(ctx, 0, sizeof(*eth));

	*l2 = has_eth * ETH_HLEN;
	if (!eth)
		return 0;
	if (tagged)
		return ctx_vlan_l2(ctx, eth->h_proto, l2);
	return (__be16)FC_SELECT(has_eth, eth->h_proto, ctx_protocol(ctx));
}

/* Where tags cannot be in the frame: every TC program (tags are off
 * before them, vlan_tc.h), and XDP on the internal interfaces. */
static __always_inline __be16 parse_l2(struct ctx_buff *ctx, __u32 *l2)
{
	return parse_l2_tagged(ctx, l2, 0);
}

#define TCPOPT_EOL	0
#define TCPOPT_NOP	1
#define TCPOPT_WSCALE	3

/*
 * A header's options (TCP's or IPv4's: at most 40 bytes), copied in one load
 * and walked one option per loop step (lib/loop.h). Per CPU: the stack is
 * short, and a step that runs as a global function finds it here.
 */
struct fc_opt_walk {
	__u8 buf[40];
	__u32 off;		/* the next option's, in buf */
	__u32 len;		/* of the options */
	__u32 found;		/* what the walk looked for, + 1; 0: absent */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fc_opt_walk);
} fc_opt_scratch SEC(".maps");

static __always_inline struct fc_opt_walk *opt_walk_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&fc_opt_scratch, &zero);
}

/* The options in [off, end) of the packet, ready to walk; NULL if none. */
static __always_inline struct fc_opt_walk *opt_walk_load(struct ctx_buff *ctx, __u32 off, __u32 end)
{
	struct fc_opt_walk *w = opt_walk_get();
	__u32 len = end - off;

	if (!w || off >= end)
		return NULL;
	w->off = 0;
	w->found = 0;
	w->len = len;
	if (!FC_IN_RANGE(len, 1, sizeof(w->buf)) || ctx_load(ctx, off, w->buf, len))
		return NULL;
	return w;
}

/*
 * The walk's next option, the step both option lists share: TCP's and
 * IPv4's kinds 0 (end of list) and 1 (no-op) are the same one byte, every
 * other kind has a length byte (>= 2). Returns the walk to use, its
 * option's kind in *kind and length in *len, with `need` bytes of it (kind
 * and length included) in the buffer; NULL when the walk stops (end of list,
 * out of room, malformed length). A no-op is stepped over: *len 0.
 */
static __always_inline struct fc_opt_walk *opt_walk_next(__u32 need, __u32 *kind, __u32 *len)
{
	struct fc_opt_walk *w = opt_walk_get();
	__u32 off;

	if (!w)
		return NULL;
	off = w->off;
	if (off >= w->len || off >= sizeof(w->buf))
		return NULL;
	*kind = w->buf[off];
	*len = 0;
	if (*kind == TCPOPT_EOL)
		return NULL;
	if (*kind == TCPOPT_NOP) {
		w->off = off + 1;
		return w;
	}
	if (off + need > w->len || off + need - 1 >= sizeof(w->buf))
		return NULL;
	*len = w->buf[off + 1];
	return *len < 2 ? NULL : w;
}

/* One TCP option: found = the window scale + 1. */
static __always_inline long tcp_wscale_one(__u64 i, struct fc_loop_none *unused)
{
	__u32 kind, len, off;
	struct fc_opt_walk *w = opt_walk_next(2, &kind, &len);

	if (!w)
		return 1;
	if (!len)
		return 0;
	off = w->off;
	if (kind == TCPOPT_WSCALE && len == 3) {
		if (off + 3 <= w->len && off + 2 < sizeof(w->buf))
			w->found = 1 + (w->buf[off + 2] > 14 ? 14 : w->buf[off + 2]);
		return 1;
	}
	w->off = off + len;
	return 0;
}

FC_WALK_DEFINE(tcp_wscale, struct fc_loop_none, tcp_wscale_one)

/* The window scale option of a SYN (RFC 7323), 0 if absent. */
static __always_inline __u8 parse_tcp_wscale(struct ctx_buff *ctx, __u32 opt_off, __u32 opt_end)
{
	struct fc_opt_walk *w = opt_walk_load(ctx, opt_off, opt_end);

	if (!w)
		return 0;
	tcp_wscale_walk(sizeof(w->buf), NULL);
	return w->found ? w->found - 1 : 0;
}

static __always_inline int parse_l4(struct ctx_buff *ctx, struct fc_pkt *p)
{
	/* The transport header must lie inside the datagram, not in the
	 * frame's padding after it (a datagram too short for its header is
	 * malformed; found by the fuzzer through NAT64, which then built an
	 * IPv6 packet with payload length 0). */
	if ((p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP || p->proto == IPPROTO_ICMP ||
	     p->proto == IPPROTO_ICMPV6) &&
	    p->l4_off + (p->proto == IPPROTO_TCP ? 20 : 8) > p->l3_end)
		return FC_PARSE_MALFORMED;
	switch (p->proto) {
	case IPPROTO_TCP: {
		pkt_tcphdr *th = ctx_ptr(ctx, p->l4_off, sizeof(*th));

		if (!th || th->doff < 5)
			return FC_PARSE_MALFORMED;
		p->sport = th->source;
		p->dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		p->tcp_seq = bpf_ntohl(th->seq);
		p->tcp_ack = bpf_ntohl(th->ack_seq);
		p->tcp_win = bpf_ntohs(th->window);
		if ((p->tcp_flags & TCP_FLAG_SYN) && th->doff > 5)
			p->tcp_wscale = parse_tcp_wscale(ctx, p->l4_off + sizeof(*th),
							 p->l4_off + th->doff * 4);
		p->csum_off = p->l4_off + offsetof(struct tcphdr, check);
		p->csum_pseudo = 1;
		break;
	}
	case IPPROTO_UDP: {
		pkt_udphdr *uh = ctx_ptr(ctx, p->l4_off, sizeof(*uh));

		if (!uh)
			return FC_PARSE_MALFORMED;
		p->sport = uh->source;
		p->dport = uh->dest;
		p->csum_off = p->l4_off + offsetof(struct udphdr, check);
		p->csum_pseudo = 1;
		p->csum_udp = 1;
		break;
	}
	case IPPROTO_ICMP: {
		pkt_icmphdr *ih = ctx_ptr(ctx, p->l4_off, sizeof(*ih));

		if (!ih)
			return FC_PARSE_MALFORMED;
		p->icmp_type = ih->type;
		/* An echo's identifier plays the port: the querier's side is
		 * the source of a request and the destination of a reply. */
		if (ih->type == ICMP_ECHO)
			p->sport = ih->un.echo.id;
		else if (ih->type == ICMP_ECHOREPLY)
			p->dport = ih->un.echo.id;
		p->csum_off = p->l4_off + offsetof(struct icmphdr, checksum);
		break;
	}
	case IPPROTO_ICMPV6: {
		pkt_icmp6hdr *ih = ctx_ptr(ctx, p->l4_off, sizeof(*ih));

		if (!ih)
			return FC_PARSE_MALFORMED;
		p->icmp_type = ih->icmp6_type;
		if (ih->icmp6_type == ICMPV6_ECHO_REQUEST)
			p->sport = ih->icmp6_dataun.u_echo.identifier;
		else if (ih->icmp6_type == ICMPV6_ECHO_REPLY)
			p->dport = ih->icmp6_dataun.u_echo.identifier;
		p->csum_off = p->l4_off + offsetof(struct icmp6hdr, icmp6_cksum);
		p->csum_pseudo = 1;	/* unlike ICMP, ICMPv6 covers the pseudo-header */
		break;
	}
	default:
		return FC_PARSE_OK;
	}
	p->has_l4 = 1;
	return FC_PARSE_OK;
}

/*
 * Where the header of h (a struct fc_pkt or a quote's struct fc_quote)
 * carries the "port" of one side (dst: the destination's): TCP and UDP
 * have their ports at the same offsets, an ICMP or ICMPv6 echo its
 * identifier in the place of both. A macro, as the two structs differ.
 */
#define FC_L4_PORT_OFF(h, dst)							\
	((h)->proto == IPPROTO_ICMP || (h)->proto == IPPROTO_ICMPV6 ?		\
		 (h)->l4_off + offsetof(struct icmphdr, un.echo.id) :		\
		 (h)->l4_off + ((dst) ? offsetof(struct udphdr, dest)		\
				      : offsetof(struct udphdr, source)))

static __always_inline __u32 l4_port_off(const struct fc_pkt *p, int dst)
{
	return FC_L4_PORT_OFF(p, dst);
}

static __always_inline int parse_ipv4_tagged(struct ctx_buff *ctx, struct fc_pkt *p, int tagged)
{
	pkt_iphdr *iph;
	__u32 ihl_len, l2, len = ctx_len(ctx);
	__u16 frag;

	ctx_linearize(ctx, FC_HDR_MAX);
	if (parse_l2_tagged(ctx, &l2, tagged) != bpf_htons(ETH_P_IP))
		return FC_PARSE_NOT_IPV4;

	p->l3_off = l2;
	iph = ctx_ptr(ctx, l2, sizeof(*iph));
	if (!iph)
		return FC_PARSE_MALFORMED;
	ihl_len = iph->ihl * 4;
	if (iph->version != 4 || ihl_len < sizeof(*iph) ||
	    bpf_ntohs(iph->tot_len) < ihl_len ||
	    bpf_ntohs(iph->tot_len) > len - l2)
		return FC_PARSE_MALFORMED;

	p->family = FC_AF_INET;
	p->proto = iph->protocol;
	p->saddr.v4 = iph->saddr;
	p->daddr.v4 = iph->daddr;
	p->l4_off = l2 + ihl_len;
	p->l3_end = l2 + bpf_ntohs(iph->tot_len);
	p->ip_id = iph->id;

	frag = bpf_ntohs(iph->frag_off);
	p->is_fragment = (frag & (IP_MF | IP_OFFSET)) != 0;
	if (frag & IP_OFFSET)
		return FC_PARSE_OK;	/* no L4 header in this fragment */

	return parse_l4(ctx, p);
}

static __always_inline int parse_ipv4(struct ctx_buff *ctx, struct fc_pkt *p)
{
	return parse_ipv4_tagged(ctx, p, 0);
}

/* One step of the IPv6 extension header walk: p->proto is the header at
 * p->l4_off. Returns 1 when p->proto is a transport (or unknown) header,
 * 0 to go on, -1 on a malformed or unsupported chain. */
static __always_inline int ipv6_ext_step(struct ctx_buff *ctx, struct fc_pkt *p)
{
	__u8 *h;
	__u32 len;

	switch (p->proto) {
	case NEXTHDR_HOP:
	case NEXTHDR_ROUTING:
	case NEXTHDR_DEST:
		h = ctx_ptr(ctx, p->l4_off, 2);
		if (!h)
			return -1;
		len = ((__u32)h[1] + 1) * 8;
		break;
	case NEXTHDR_AUTH:
		h = ctx_ptr(ctx, p->l4_off, 2);
		if (!h)
			return -1;
		len = ((__u32)h[1] + 2) * 4;
		break;
	case NEXTHDR_FRAGMENT: {
		pkt_frag_hdr *fh = ctx_ptr(ctx, p->l4_off, sizeof(*fh));

		if (!fh || p->frag_hdr_off)
			return -1;	/* truncated, or two fragment headers */
		h = (__u8 *)fh;
		len = sizeof(*fh);
		p->frag_hdr_off = p->l4_off;
		p->frag_id = fh->identification;
		p->frag_off = bpf_ntohs(fh->frag_off) & (IP6_OFFSET | IP6_MF);
		p->ip_id = bpf_htons(bpf_ntohl(fh->identification) & 0xffff);
		/* An atomic fragment (offset 0, no MF) is a whole datagram
		 * (RFC 6946). */
		p->is_fragment = (p->frag_off & (IP6_OFFSET | IP6_MF)) != 0;
		break;
	}
	default:
		return 1;
	}
	if (p->l4_off + len > p->l3_end)
		return -1;
	p->proto = h[0];
	p->l4_off += len;
	return 0;
}

/*
 * Walk the extension headers from p->proto at p->l4_off, at most
 * FC_IP6_EXT_MAX_HDRS of them: 1 when p->proto is the transport (or an
 * unknown) header, 0 when the chain goes on beyond that, -1 when malformed.
 *
 * A global function, on purpose: the verifier checks it once, on its own,
 * with the offsets unknown. Inlined, every chain it can tell apart (with
 * their exact offsets) would be a separate path through all the
 * translation code after it, and the programs' load time would grow
 * several-fold (doc/design/ipv6.md).
 */
__attribute__((noinline)) int fc_ipv6_ext_walk(struct ctx_buff *ctx, struct fc_pkt *p)
{
	int r = 0;

	if (!p)
		return -1;
	for (int i = 0; i <= FC_IP6_EXT_MAX_HDRS; i++) {
		r = ipv6_ext_step(ctx, p);
		if (r)
			break;
	}
	return r;
}

static __always_inline int ipv6_ext_walk(struct ctx_buff *ctx, struct fc_pkt *p)
{
	return fc_ipv6_ext_walk(ctx, p);
}

/*
 * The frame's IPv6 fixed header into p, for parse_ipv6 and the offload
 * path alike: p->proto is its next header at p->l4_off, right behind it;
 * *l2p the link-layer header's length (parse_l2). FC_PARSE_NOT_IPV4: not
 * IPv6; FC_PARSE_MALFORMED: a short header, another version, or a payload
 * length the frame does not hold.
 */
/* tagged (a constant): as parse_l2_tagged's. */
static __always_inline int parse_ipv6_fixed_tagged(struct ctx_buff *ctx, struct fc_pkt *p,
						   __u32 *l2p, int tagged)
{
	pkt_ipv6hdr *ip6h;
	__u32 payload, l2, len = ctx_len(ctx);

	if (parse_l2_tagged(ctx, l2p, tagged) != bpf_htons(ETH_P_IPV6))
		return FC_PARSE_NOT_IPV4;
	l2 = *l2p;
	p->l3_off = l2;
	ip6h = ctx_ptr(ctx, l2, sizeof(*ip6h));
	if (!ip6h)
		return FC_PARSE_MALFORMED;
	payload = bpf_ntohs(ip6h->payload_len);
	/* A zero payload length is a jumbogram (RFC 2675): not on our links. */
	if (ip6h->version != 6 || payload == 0 || payload > len - l2 - sizeof(*ip6h))
		return FC_PARSE_MALFORMED;

	p->family = FC_AF_INET6;
	p->proto = ip6h->nexthdr;
	p->hop_limit = ip6h->hop_limit;
	__builtin_memcpy(p->saddr.v6, &ip6h->saddr, 16);
	__builtin_memcpy(p->daddr.v6, &ip6h->daddr, 16);
	p->l4_off = l2 + sizeof(*ip6h);
	p->l3_end = p->l4_off + payload;
	return FC_PARSE_OK;
}

static __always_inline int parse_ipv6_fixed(struct ctx_buff *ctx, struct fc_pkt *p, __u32 *l2p)
{
	return parse_ipv6_fixed_tagged(ctx, p, l2p, 0);
}

/*
 * Parse an IPv6 packet: the fixed header, the extension header chain
 * (hop-by-hop, routing, destination options, fragment, AH; bounded by
 * FC_IP6_EXT_MAX_*), and the transport header when this is not a non-first
 * fragment. ICMPv6 keeps IPPROTO_ICMPV6 in p->proto; NAT keys use
 * FC_PROTO_ICMP for it (one echo id space with ICMP).
 */
static __always_inline int parse_ipv6(struct ctx_buff *ctx, struct fc_pkt *p)
{
	__u32 l2;
	int r;

	ctx_linearize(ctx, FC_HDR_MAX);
	r = parse_ipv6_fixed(ctx, p, &l2);
	if (r != FC_PARSE_OK)
		return r;

	r = ipv6_ext_walk(ctx, p);
	if (r < 0)
		return FC_PARSE_MALFORMED;
	if (r == 0 || p->l4_off > l2 + FC_IP_HDR_MAX)
		return FC_PARSE_EXT_UNSUPPORTED;	/* chain too long for us */
	if (p->frag_off & IP6_OFFSET)
		return FC_PARSE_OK;	/* no L4 header in this fragment */
	if (p->proto == NEXTHDR_NONE || p->proto == IPPROTO_ESP)
		return FC_PARSE_OK;
	return parse_l4(ctx, p);
}

#endif /* FC_BPF_PARSE_H */
