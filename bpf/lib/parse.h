/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Header parsing into struct fc_pkt. Every length and offset comes from an
 * untrusted packet, so each is checked against what the packet really holds.
 * Headers are made linear first (ctx_linearize), then read in place.
 */
#ifndef FC_BPF_PARSE_H
#define FC_BPF_PARSE_H

#include "common.h"

enum fc_parse {
	FC_PARSE_OK,
	FC_PARSE_NOT_IPV4,	/* leave it alone */
	FC_PARSE_MALFORMED,
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
	__be16 ip_id;
	__u16 tcp_win;		/* host order, unscaled */
	__u32 tcp_seq;		/* host order */
	__u32 tcp_ack;		/* host order */
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
	if (data + off + len > end)
		return NULL;
	return data + off;
}

#define TCPOPT_EOL	0
#define TCPOPT_NOP	1
#define TCPOPT_WSCALE	3

struct tcp_opt_walk {
	struct ctx_buff *ctx;
	__u32 off;
	__u32 end;
	__u8 wscale;
};

/* One option per bpf_loop step: the verifier checks the step once instead
 * of every path through 40 unrolled ones. */
static long tcp_opt_step(__u64 i, void *data)
{
	struct tcp_opt_walk *w = data;
	__u8 opt[3] = {};

	if (w->off >= w->end || ctx_load(w->ctx, w->off, opt, 1) || opt[0] == TCPOPT_EOL)
		return 1;
	if (opt[0] == TCPOPT_NOP) {
		w->off++;
		return 0;
	}
	if (w->off + 2 > w->end || ctx_load(w->ctx, w->off, opt, 2) || opt[1] < 2)
		return 1;	/* malformed length: stop */
	if (opt[0] == TCPOPT_WSCALE && opt[1] == 3) {
		if (w->off + 3 <= w->end && !ctx_load(w->ctx, w->off, opt, 3))
			w->wscale = opt[2] > 14 ? 14 : opt[2];
		return 1;
	}
	w->off += opt[1];
	return 0;
}

/* The window scale option of a SYN (RFC 7323), 0 if absent. */
static __always_inline __u8 parse_tcp_wscale(struct ctx_buff *ctx, __u32 opt_off, __u32 opt_end)
{
	struct tcp_opt_walk w = { .ctx = ctx, .off = opt_off, .end = opt_end };

	bpf_loop(40, tcp_opt_step, &w, 0);
	return w.wscale;
}

static __always_inline int parse_l4(struct ctx_buff *ctx, struct fc_pkt *p)
{
	switch (p->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = ctx_ptr(ctx, p->l4_off, sizeof(*th));

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
		struct udphdr *uh = ctx_ptr(ctx, p->l4_off, sizeof(*uh));

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
		struct icmphdr *ih = ctx_ptr(ctx, p->l4_off, sizeof(*ih));

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
	default:
		return FC_PARSE_OK;
	}
	p->has_l4 = 1;
	return FC_PARSE_OK;
}

static __always_inline int parse_ipv4(struct ctx_buff *ctx, struct fc_pkt *p)
{
	struct ethhdr *eth;
	struct iphdr *iph;
	__u32 ihl_len, len = ctx_len(ctx);
	__u16 frag;

	ctx_linearize(ctx, FC_HDR_MAX);
	eth = ctx_ptr(ctx, 0, sizeof(*eth));
	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return FC_PARSE_NOT_IPV4;

	p->l3_off = ETH_HLEN;
	iph = ctx_ptr(ctx, ETH_HLEN, sizeof(*iph));
	if (!iph)
		return FC_PARSE_MALFORMED;
	ihl_len = iph->ihl * 4;
	if (iph->version != 4 || ihl_len < sizeof(*iph) ||
	    bpf_ntohs(iph->tot_len) < ihl_len ||
	    bpf_ntohs(iph->tot_len) > len - ETH_HLEN)
		return FC_PARSE_MALFORMED;

	p->family = FC_AF_INET;
	p->proto = iph->protocol;
	p->saddr.v4 = iph->saddr;
	p->daddr.v4 = iph->daddr;
	p->l4_off = ETH_HLEN + ihl_len;
	p->l3_end = ETH_HLEN + bpf_ntohs(iph->tot_len);
	p->ip_id = iph->id;

	frag = bpf_ntohs(iph->frag_off);
	p->is_fragment = (frag & (IP_MF | IP_OFFSET)) != 0;
	if (frag & IP_OFFSET)
		return FC_PARSE_OK;	/* no L4 header in this fragment */

	return parse_l4(ctx, p);
}

#endif /* FC_BPF_PARSE_H */
