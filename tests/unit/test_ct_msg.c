// SPDX-License-Identifier: GPL-2.0
/*
 * The ctnetlink codec (src/ct_msg.c) on what the kernel really sends: the
 * seeds tests/fuzz/ct_corpus.py captured (a conntrack dump with a UDP flow
 * through a DNAT and an established TCP flow through masquerade, and the
 * events of their lives), and on what `fcnat offload` sends back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>

#include "ct_msg.h"
#include "harness.h"

#define SEEDS FC_SOURCE_DIR "/tests/fuzz/corpus/ctnetlink/"

/*
 * The seeds were captured on a little-endian machine. Netlink's message and
 * attribute headers are in the byte order of the host that made them
 * (ctnetlink's attribute payloads are big-endian everywhere), so they are
 * read as little-endian and written back in this host's order: what this
 * host's kernel would have sent (on s390x the seeds failed as -EBADMSG).
 */
static __u16 le16_at(const unsigned char *p)
{
	return p[0] | p[1] << 8;
}

static __u32 le32_at(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (__u32)p[3] << 24;
}

static void attrs_to_host(unsigned char *p, size_t len)
{
	while (len >= (size_t)NLA_HDRLEN) {
		struct nlattr a = { .nla_len = le16_at(p), .nla_type = le16_at(p + 2) };

		if (a.nla_len < NLA_HDRLEN || a.nla_len > len)
			return;
		memcpy(p, &a, sizeof(a));
		if (a.nla_type & NLA_F_NESTED)
			attrs_to_host(p + NLA_HDRLEN, a.nla_len - NLA_HDRLEN);
		size_t step = NLA_ALIGN(a.nla_len);

		if (step >= len)
			return;
		p += step;
		len -= step;
	}
}

static void seed_to_host(unsigned char *p, size_t len)
{
	while (len >= (size_t)NLMSG_HDRLEN) {
		struct nlmsghdr h = {
			.nlmsg_len = le32_at(p), .nlmsg_type = le16_at(p + 4),
			.nlmsg_flags = le16_at(p + 6), .nlmsg_seq = le32_at(p + 8),
			.nlmsg_pid = le32_at(p + 12),
		};

		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len)
			return;
		memcpy(p, &h, sizeof(h));
		if (h.nlmsg_type == NLMSG_DONE || h.nlmsg_type == NLMSG_ERROR) {
			if (h.nlmsg_len >= NLMSG_HDRLEN + 4) {	/* the int: 0 or -errno */
				__s32 v = (__s32)le32_at(p + NLMSG_HDRLEN);

				memcpy(p + NLMSG_HDRLEN, &v, sizeof(v));
			}
		} else if (h.nlmsg_len > NLMSG_HDRLEN + sizeof(struct nfgenmsg)) {
			attrs_to_host(p + NLMSG_HDRLEN + sizeof(struct nfgenmsg),
				      h.nlmsg_len - NLMSG_HDRLEN - sizeof(struct nfgenmsg));
		}
		size_t step = NLMSG_ALIGN(h.nlmsg_len);

		if (step >= len)
			return;
		p += step;
		len -= step;
	}
}

static size_t slurp(const char *name, void *buf, size_t len)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), SEEDS "%s", name);
	f = fopen(path, "rb");
	if (!f)
		return 0;
	n = fread(buf, 1, len, f);
	fclose(f);
	seed_to_host(buf, n);
	return n;
}

struct seen {
	struct ct_entry e[8];
	int n;
};

static int collect(const struct ct_entry *e, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8)
		s->e[s->n++] = *e;
	return 0;
}

/* The last entry of that protocol the batch held, or NULL. */
static const struct ct_entry *seen_proto(const struct seen *s, __u8 proto)
{
	const struct ct_entry *e = NULL;

	for (int i = 0; i < s->n; i++)
		if (s->e[i].orig.proto == proto)
			e = &s->e[i];
	return e;
}

TEST(ct_msg_kernel_dump_decoded)
{
	unsigned char buf[4096];
	size_t len = slurp("dump-0", buf, sizeof(buf));
	const struct ct_entry *udp = NULL, *tcp = NULL;
	struct seen s = {};

	ASSERT_TRUE(len > 0, "seed dump-0 read");
	ASSERT_EQ(ct_parse_batch(buf, len, collect, &s), 0, "the batch decodes");
	udp = seen_proto(&s, IPPROTO_UDP);
	tcp = seen_proto(&s, IPPROTO_TCP);
	ASSERT_TRUE(udp && tcp, "a UDP and a TCP entry");
	/* 10.0.0.1 -> 10.0.0.2:9000, DNATed to :9001: the reply comes from 9001. */
	ASSERT_TRUE(udp->has_orig && udp->has_reply, "UDP tuples");
	ASSERT_EQ(udp->orig.dst, inet_addr("10.0.0.2"), "UDP original destination");
	ASSERT_EQ(ntohs(udp->orig.dport), 9000, "UDP original port");
	ASSERT_EQ(ntohs(udp->reply.sport), 9001, "UDP reply source port: the DNAT");
	ASSERT_TRUE(udp->has_status && (udp->status & IPS_DST_NAT), "UDP status DNAT");
	ASSERT_TRUE(tcp->has_tcp_state, "TCP protocol info");
	ASSERT_EQ(tcp->tcp_state, TCP_CONNTRACK_ESTABLISHED, "TCP established");
	ASSERT_TRUE(tcp->status & IPS_ASSURED, "TCP assured");
	ASSERT_EQ(ntohs(tcp->orig.dport), 9100, "TCP port");
	ASSERT_TRUE(tcp->has_timeout && tcp->timeout > 0, "a timeout");
	ASSERT_EQ(ct_parse_batch(buf, slurp("dump-1", buf, sizeof(buf)), collect, &s), 1,
		  "the dump's end");
}

/*
 * With conntrack's accounting on (ct_corpus.py --acct), a dump's entries
 * carry what the stack counted per direction: the UDP exchange was one
 * datagram each way of one byte, 29 bytes of IPv4 (RFC 791's 20-byte
 * header, RFC 768's 8 and the byte), which is what conntrack counts.
 */
TEST(ct_msg_kernel_dump_counters_decoded)
{
	unsigned char buf[4096];
	size_t len = slurp("acct-dump-0", buf, sizeof(buf));
	const struct ct_entry *udp = NULL, *tcp = NULL;
	struct seen s = {};

	ASSERT_TRUE(len > 0, "seed acct-dump-0 read");
	ASSERT_EQ(ct_parse_batch(buf, len, collect, &s), 0, "the batch decodes");
	udp = seen_proto(&s, IPPROTO_UDP);
	tcp = seen_proto(&s, IPPROTO_TCP);
	ASSERT_TRUE(udp && tcp, "a UDP and a TCP entry");
	ASSERT_TRUE(udp->has_counters, "UDP counters");
	ASSERT_EQ(udp->packets[0], 1, "one datagram in the original direction");
	ASSERT_EQ(udp->bytes[0], 29, "of 29 bytes");
	ASSERT_EQ(udp->packets[1], 1, "one in the reply direction");
	ASSERT_EQ(udp->bytes[1], 29, "of 29 bytes");
	ASSERT_TRUE(tcp->has_counters && tcp->packets[0] >= 3 && tcp->packets[1] >= 1,
		    "TCP: at least the handshake and the byte, and the SYN-ACK");
	/* The seeds without accounting have none. */
	len = slurp("dump-0", buf, sizeof(buf));
	memset(&s, 0, sizeof(s));
	ASSERT_EQ(ct_parse_batch(buf, len, collect, &s), 0, "the batch decodes");
	ASSERT_TRUE(s.n > 0 && !s.e[0].has_counters, "no counters without accounting");
}

TEST(ct_msg_kernel_events_decoded)
{
	unsigned char buf[4096];
	int news = 0, destroys = 0;

	for (int i = 0; i < 16; i++) {
		char name[32];
		struct seen s = {};
		size_t len;

		snprintf(name, sizeof(name), "event-%d", i);
		len = slurp(name, buf, sizeof(buf));
		if (!len)
			break;
		ASSERT_EQ(ct_parse_batch(buf, len, collect, &s), 0, name);
		for (int j = 0; j < s.n; j++) {
			news += s.e[j].event == CT_EV_NEW;
			destroys += s.e[j].event == CT_EV_DESTROY;
		}
	}
	ASSERT_TRUE(news >= 2, "new-entry events");
	ASSERT_TRUE(destroys >= 2, "destroy events (the flush)");
}

TEST(ct_msg_update_round_trip)
{
	struct ct_tuple t = { .src = inet_addr("192.168.77.2"), .dst = inet_addr("198.51.100.2"),
			      .sport = htons(41000), .dport = htons(443), .proto = IPPROTO_TCP,
			      .family = AF_INET };
	unsigned char buf[512];
	struct seen s = {};
	size_t len = ct_build_update(buf, sizeof(buf), 7, &t, 3, 432000, true);
	const struct nlmsghdr *nh = (const void *)buf;

	ASSERT_TRUE(len > 0, "built");
	ASSERT_EQ(nh->nlmsg_len, len, "one message");
	ASSERT_EQ(nh->nlmsg_flags, NLM_F_REQUEST, "an update: no CREATE, no ACK");
	ASSERT_EQ(ct_parse_batch(buf, len, collect, &s), 0, "decodes");
	ASSERT_EQ(s.n, 1, "one entry");
	ASSERT_TRUE(s.e[0].has_orig && !memcmp(&s.e[0].orig, &t, sizeof(t)), "the tuple");
	ASSERT_EQ(s.e[0].timeout, 432000, "the timeout");
	ASSERT_EQ(s.e[0].zone, 3, "the zone");
	ASSERT_EQ(ct_build_update(buf, 40, 7, &t, 0, 1, false), 0, "too small a buffer");
}

TEST(ct_msg_update_round_trip_ipv6)
{
	struct ct_tuple t = { .sport = htons(41000), .dport = htons(443), .proto = IPPROTO_UDP,
			      .family = AF_INET6 };
	unsigned char buf[512];
	struct seen s = {};
	size_t len;

	inet_pton(AF_INET6, "fd00:77::2", t.src6);
	inet_pton(AF_INET6, "2001:db8:100::2", t.dst6);
	len = ct_build_update(buf, sizeof(buf), 9, &t, 0, 120, false);
	ASSERT_TRUE(len > 0, "built");
	/* The entry's family in the nfgenmsg: ctnetlink reads the tuple's
	 * addresses as that family's (CTA_IP_V6_*). */
	ASSERT_EQ(((struct nfgenmsg *)NLMSG_DATA((struct nlmsghdr *)buf))->nfgen_family, AF_INET6,
		  "an IPv6 message");
	ASSERT_EQ(ct_parse_batch(buf, len, collect, &s), 0, "decodes");
	ASSERT_EQ(s.n, 1, "one entry");
	ASSERT_EQ(s.e[0].family, AF_INET6, "IPv6");
	ASSERT_TRUE(s.e[0].has_orig && !memcmp(&s.e[0].orig, &t, sizeof(t)), "the tuple");
	ASSERT_EQ(s.e[0].timeout, 120, "the timeout");
}

TEST(ct_msg_malformed_and_errors)
{
	unsigned char buf[4096];
	size_t len = slurp("dump-0", buf, sizeof(buf));
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr err;
	} e = { .nh = { .nlmsg_len = sizeof(e), .nlmsg_type = NLMSG_ERROR },
		.err = { .error = -ENOENT } };
	struct seen s = {};

	ASSERT_TRUE(len > 40, "seed");
	ASSERT_EQ(ct_parse_batch(buf, len - 3, collect, &s), -EBADMSG, "cut short");
	/* An attribute length past its message: the entry is refused. */
	buf[16 + 4] = 0xff;
	ASSERT_TRUE(ct_parse_batch(buf, len, collect, &s) <= 0, "bad attribute length");
	ASSERT_EQ(ct_parse_batch(&e, sizeof(e), collect, &s), -ENOENT, "an error message");
}
