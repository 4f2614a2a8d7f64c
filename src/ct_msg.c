// SPDX-License-Identifier: GPL-2.0
/* ctnetlink codec (ct_msg.h). Every length comes from the kernel (or the
 * fuzzer) and is checked before the bytes under it are read. */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "ct_msg.h"

/* ctnetlink nests with NLA_F_NESTED set in the type. */
#define ATTR_TYPE(a)	((a)->nla_type & NLA_TYPE_MASK)

/* Iterate the attributes in [p, p + len). */
#define for_each_attr(a, p, len, rem)					\
	for (const struct nlattr *a = ((rem) = (len), (const void *)(p));	\
	     (rem) >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) && a->nla_len <= (rem); \
	     (rem) -= NLA_ALIGN(a->nla_len),				\
	     a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len)))

static const void *attr_data(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static int attr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

/* Copy exactly n bytes of a's payload: -1 if it has another length. */
static int attr_get(const struct nlattr *a, void *to, int n)
{
	if (attr_len(a) != n)
		return -1;
	memcpy(to, attr_data(a), n);
	return 0;
}

/* CTA_TUPLE_ORIG/REPLY: 1 if a TCP/UDP tuple of family was read, 0 for
 * another kind, -1 if malformed. */
static int parse_tuple(const struct nlattr *t, __u8 family, struct ct_tuple *out)
{
	int rem, rem2, have = 0;

	memset(out, 0, sizeof(*out));
	for_each_attr(a, attr_data(t), attr_len(t), rem) {
		switch (ATTR_TYPE(a)) {
		case CTA_TUPLE_IP:
			for_each_attr(b, attr_data(a), attr_len(a), rem2) {
				if (ATTR_TYPE(b) == CTA_IP_V4_SRC && family == AF_INET) {
					if (attr_get(b, &out->src, 4))
						return -1;
					have |= 1;
				} else if (ATTR_TYPE(b) == CTA_IP_V4_DST && family == AF_INET) {
					if (attr_get(b, &out->dst, 4))
						return -1;
					have |= 2;
				} else if (ATTR_TYPE(b) == CTA_IP_V6_SRC && family == AF_INET6) {
					if (attr_get(b, out->src6, 16))
						return -1;
					have |= 1;
				} else if (ATTR_TYPE(b) == CTA_IP_V6_DST && family == AF_INET6) {
					if (attr_get(b, out->dst6, 16))
						return -1;
					have |= 2;
				}
			}
			break;
		case CTA_TUPLE_PROTO:
			for_each_attr(b, attr_data(a), attr_len(a), rem2) {
				if (ATTR_TYPE(b) == CTA_PROTO_NUM) {
					if (attr_get(b, &out->proto, 1))
						return -1;
				} else if (ATTR_TYPE(b) == CTA_PROTO_SRC_PORT) {
					if (attr_get(b, &out->sport, 2))
						return -1;
					have |= 4;
				} else if (ATTR_TYPE(b) == CTA_PROTO_DST_PORT) {
					if (attr_get(b, &out->dport, 2))
						return -1;
					have |= 8;
				}
			}
			break;
		}
	}
	out->family = family;
	return have == 15 && (out->proto == IPPROTO_TCP || out->proto == IPPROTO_UDP);
}

static int parse_protoinfo(const struct nlattr *p, struct ct_entry *e)
{
	int rem, rem2;

	for_each_attr(a, attr_data(p), attr_len(p), rem) {
		if (ATTR_TYPE(a) != CTA_PROTOINFO_TCP)
			continue;
		for_each_attr(b, attr_data(a), attr_len(a), rem2) {
			if (ATTR_TYPE(b) != CTA_PROTOINFO_TCP_STATE)
				continue;
			if (attr_get(b, &e->tcp_state, 1))
				return -1;
			e->has_tcp_state = true;
		}
	}
	return 0;
}

/* CTA_COUNTERS_ORIG/REPLY into dir's counters (64-bit, network order). */
static int parse_counters(const struct nlattr *c, struct ct_entry *e, int dir)
{
	int rem;
	__be64 v;

	for_each_attr(a, attr_data(c), attr_len(c), rem) {
		if (ATTR_TYPE(a) != CTA_COUNTERS_PACKETS && ATTR_TYPE(a) != CTA_COUNTERS_BYTES)
			continue;
		if (attr_get(a, &v, 8))
			return -1;
		if (ATTR_TYPE(a) == CTA_COUNTERS_PACKETS)
			e->packets[dir] = be64toh(v);
		else
			e->bytes[dir] = be64toh(v);
		e->has_counters = true;
	}
	return 0;
}

static int parse_ct(const struct nlmsghdr *nh, struct ct_entry *e)
{
	const struct nfgenmsg *g = NLMSG_DATA(nh);
	int len = nh->nlmsg_len - NLMSG_SPACE(sizeof(*g)), rem, r;
	__be32 v32;
	__be16 v16;

	if (nh->nlmsg_len < NLMSG_SPACE(sizeof(*g)))
		return -1;
	memset(e, 0, sizeof(*e));
	switch (nh->nlmsg_type & 0xff) {
	case IPCTNL_MSG_CT_NEW:
		/* The kernel's new-entry events carry CREATE|EXCL, updates
		 * neither; a dump's entries come as NEW with neither: the
		 * caller treats both as "this is the entry now". */
		e->event = (nh->nlmsg_flags & NLM_F_CREATE) ? CT_EV_NEW : CT_EV_UPDATE;
		break;
	case IPCTNL_MSG_CT_DELETE:
		e->event = CT_EV_DESTROY;
		break;
	default:
		return 0;	/* not an entry: skipped */
	}
	e->family = g->nfgen_family;
	if (e->family != AF_INET && e->family != AF_INET6)
		return 1;	/* reported without tuples: not ours */
	for_each_attr(a, (const char *)g + NLMSG_ALIGN(sizeof(*g)), len, rem) {
		switch (ATTR_TYPE(a)) {
		case CTA_TUPLE_ORIG:
			if ((r = parse_tuple(a, e->family, &e->orig)) < 0)
				return -1;
			e->has_orig = r;
			break;
		case CTA_TUPLE_REPLY:
			if ((r = parse_tuple(a, e->family, &e->reply)) < 0)
				return -1;
			e->has_reply = r;
			break;
		case CTA_STATUS:
			if (attr_get(a, &v32, 4))
				return -1;
			e->status = ntohl(v32);
			e->has_status = true;
			break;
		case CTA_TIMEOUT:
			if (attr_get(a, &v32, 4))
				return -1;
			e->timeout = ntohl(v32);
			e->has_timeout = true;
			break;
		case CTA_MARK:
			if (attr_get(a, &v32, 4))
				return -1;
			e->mark = ntohl(v32);
			e->has_mark = true;
			break;
		case CTA_ID:
			if (attr_get(a, &v32, 4))
				return -1;
			e->id = ntohl(v32);
			e->has_id = true;
			break;
		case CTA_ZONE:
			if (attr_get(a, &v16, 2))
				return -1;
			e->zone = ntohs(v16);
			break;
		case CTA_PROTOINFO:
			if (parse_protoinfo(a, e))
				return -1;
			break;
		case CTA_HELP:
			e->has_helper = true;
			break;
		case CTA_COUNTERS_ORIG:
		case CTA_COUNTERS_REPLY:
			if (parse_counters(a, e, ATTR_TYPE(a) == CTA_COUNTERS_REPLY))
				return -1;
			break;
		}
	}
	return 1;
}

int ct_parse_batch(const void *buf, size_t len,
		   int (*cb)(const struct ct_entry *e, void *arg), void *arg)
{
	const struct nlmsghdr *nh = buf;
	int rem = len > 0x7fffffff ? 0x7fffffff : (int)len;
	struct ct_entry e;

	/* NLMSG_OK/NLMSG_NEXT, with the signedness spelled out. */
	for (; rem >= (int)sizeof(*nh) && nh->nlmsg_len >= sizeof(*nh) &&
	       nh->nlmsg_len <= (__u32)rem;
	     rem -= NLMSG_ALIGN(nh->nlmsg_len),
	     nh = (const void *)((const char *)nh + NLMSG_ALIGN(nh->nlmsg_len))) {
		int r;

		if (nh->nlmsg_type == NLMSG_DONE)
			return 1;
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *err = NLMSG_DATA(nh);

			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*err)))
				return -EBADMSG;
			if (err->error)
				return err->error < 0 ? err->error : -EBADMSG;
			continue;	/* an ACK */
		}
		if ((nh->nlmsg_type >> 8) != NFNL_SUBSYS_CTNETLINK)
			continue;
		r = parse_ct(nh, &e);
		if (r < 0)
			return -EBADMSG;
		if (r > 0 && (r = cb(&e, arg)))
			return r;
	}
	return rem <= 0 ? 0 : -EBADMSG;
}

/* Message building: each put checks the room left. */
struct nlbuf {
	char *buf;
	size_t len, off;
	int bad;
};

static void *put(struct nlbuf *b, size_t n)
{
	void *p;

	if (b->bad || b->off + NLMSG_ALIGN(n) > b->len) {
		b->bad = 1;
		return NULL;
	}
	p = b->buf + b->off;
	memset(p, 0, NLMSG_ALIGN(n));
	b->off += NLMSG_ALIGN(n);
	return p;
}

static struct nlattr *put_attr(struct nlbuf *b, __u16 type, const void *data, size_t n)
{
	struct nlattr *a = put(b, NLA_HDRLEN + n);

	if (!a)
		return NULL;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + n;
	if (n)
		memcpy((char *)a + NLA_HDRLEN, data, n);
	return a;
}

/* Open a nested attribute; nest_end closes it over what was put since. */
static size_t nest_begin(struct nlbuf *b, __u16 type)
{
	size_t at = b->off;

	put_attr(b, type | NLA_F_NESTED, NULL, 0);
	return at;
}

static void nest_end(struct nlbuf *b, size_t at)
{
	if (!b->bad)
		((struct nlattr *)(b->buf + at))->nla_len = b->off - at;
}

static struct nlmsghdr *put_hdr(struct nlbuf *b, __u16 msg, __u16 flags, __u32 seq,
				__u8 family, __u16 res_id)
{
	struct nlmsghdr *nh = put(b, NLMSG_HDRLEN);
	struct nfgenmsg *g = put(b, sizeof(*g));

	if (!nh || !g)
		return NULL;
	nh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg;
	nh->nlmsg_flags = NLM_F_REQUEST | flags;
	nh->nlmsg_seq = seq;
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
	return nh;
}

size_t ct_build_dump(void *buf, size_t len, __u32 seq, __u8 family)
{
	struct nlbuf b = { .buf = buf, .len = len };
	struct nlmsghdr *nh = put_hdr(&b, IPCTNL_MSG_CT_GET, NLM_F_DUMP, seq, family, 0);

	if (!nh || b.bad)
		return 0;
	nh->nlmsg_len = b.off;
	return b.off;
}

size_t ct_build_update(void *buf, size_t len, __u32 seq, const struct ct_tuple *t,
		       __u16 zone, __u32 timeout, bool liberal)
{
	/* struct nf_ct_tcp_flags: flags, then mask. */
	static const __u8 be_liberal[2] = { IP_CT_TCP_FLAG_BE_LIBERAL, IP_CT_TCP_FLAG_BE_LIBERAL };
	struct nlbuf b = { .buf = buf, .len = len };
	struct nlmsghdr *nh = put_hdr(&b, IPCTNL_MSG_CT_NEW, 0, seq, t->family, 0);
	__be32 to = htonl(timeout);
	__be16 z = htons(zone);
	size_t tup, ip, proto, info, tcp;

	tup = nest_begin(&b, CTA_TUPLE_ORIG);
	ip = nest_begin(&b, CTA_TUPLE_IP);
	if (t->family == AF_INET6) {
		put_attr(&b, CTA_IP_V6_SRC, t->src6, 16);
		put_attr(&b, CTA_IP_V6_DST, t->dst6, 16);
	} else {
		put_attr(&b, CTA_IP_V4_SRC, &t->src, 4);
		put_attr(&b, CTA_IP_V4_DST, &t->dst, 4);
	}
	nest_end(&b, ip);
	proto = nest_begin(&b, CTA_TUPLE_PROTO);
	put_attr(&b, CTA_PROTO_NUM, &t->proto, 1);
	put_attr(&b, CTA_PROTO_SRC_PORT, &t->sport, 2);
	put_attr(&b, CTA_PROTO_DST_PORT, &t->dport, 2);
	nest_end(&b, proto);
	nest_end(&b, tup);
	if (zone)
		put_attr(&b, CTA_ZONE, &z, 2);
	put_attr(&b, CTA_TIMEOUT, &to, 4);
	if (liberal) {
		info = nest_begin(&b, CTA_PROTOINFO);
		tcp = nest_begin(&b, CTA_PROTOINFO_TCP);
		put_attr(&b, CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, be_liberal, 2);
		put_attr(&b, CTA_PROTOINFO_TCP_FLAGS_REPLY, be_liberal, 2);
		nest_end(&b, tcp);
		nest_end(&b, info);
	}
	if (!nh || b.bad)
		return 0;
	nh->nlmsg_len = b.off;
	return b.off;
}

/* One word into the hash, each bit of it spread over all of h (a
 * multiply-xorshift mix): flows that differ only in their ports, as a
 * million behind one address do, must not share chains. */
static __u32 mix(__u32 h, __u32 v)
{
	h ^= v;
	h *= 0x9e3779b1u;
	h ^= h >> 15;
	h *= 0x85ebca77u;
	h ^= h >> 13;
	return h;
}

__u32 ct_tuple_hash(const struct ct_tuple *t)
{
	__u32 h = t->family;

	/* IPv4's addresses are the first words, the others zero. */
	for (int i = 0; i < 4; i++) {
		h = mix(h, t->src6[i]);
		h = mix(h, t->dst6[i]);
	}
	h = mix(h, (__u32)t->sport << 16 | t->dport);
	return mix(h, t->proto);
}
