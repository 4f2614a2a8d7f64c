// SPDX-License-Identifier: GPL-2.0
/*
 * The rules of include/fcnat/rules.h, which the datapath and user space
 * both compile: checked against values worked out by hand or by an
 * independent implementation, written here as literals.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcnat/rules.h>

#include "fixture.h"
#include "harness.h"
#include "prefix.h"

#define SEC_NS 1000000000ULL

TEST(rules_port_at_walks_ranges_in_order)
{
	struct fc_config c = {};
	struct fc_port_set *u = &c.ports[FC_SUB_UDP];

	u->nr = 3;
	u->r[0] = (struct fc_port_range){ .first = 1024, .last = 1027 };	/* 4 */
	u->r[1] = (struct fc_port_range){ .first = 5000, .last = 5000 };	/* 1 */
	u->r[2] = (struct fc_port_range){ .first = 65534, .last = 65535 };	/* 2 */
	ASSERT_EQ(fc_port_at(&c, FC_PROTO_UDP, 0), 1024, "first of the first range");
	ASSERT_EQ(fc_port_at(&c, FC_PROTO_UDP, 3), 1027, "last of the first range");
	ASSERT_EQ(fc_port_at(&c, FC_PROTO_UDP, 4), 5000, "the one-port range");
	ASSERT_EQ(fc_port_at(&c, FC_PROTO_UDP, 5), 65534, "first of the last range");
	ASSERT_EQ(fc_port_at(&c, FC_PROTO_UDP, 6), 65535, "last port of all");
	ASSERT_EQ(fc_port_at(&c, FC_PROTO_UDP, 7), 0, "past the end: none");
	ASSERT_EQ(fc_port_at(&c, FC_PROTO_TCP, 0), 0, "TCP has ranges of its own: none here");
	u->nr = 1;
	ASSERT_EQ(fc_port_at(&c, FC_PROTO_UDP, 4), 0, "ranges beyond nr are not ours");
}

TEST(rules_port_in_range_edges)
{
	struct fc_config c = {};
	struct fc_port_set *t = &c.ports[FC_SUB_TCP];

	t->nr = 2;
	t->r[0] = (struct fc_port_range){ .first = 20000, .last = 20009 };
	t->r[1] = (struct fc_port_range){ .first = 40000, .last = 65535 };
	ASSERT_TRUE(!fc_port_in_range(&c, FC_PROTO_TCP, 19999), "below the first");
	ASSERT_TRUE(fc_port_in_range(&c, FC_PROTO_TCP, 20000), "first");
	ASSERT_TRUE(fc_port_in_range(&c, FC_PROTO_TCP, 20009), "last of the first range");
	ASSERT_TRUE(!fc_port_in_range(&c, FC_PROTO_TCP, 20010), "between the ranges");
	ASSERT_TRUE(fc_port_in_range(&c, FC_PROTO_TCP, 65535), "65535");
	ASSERT_TRUE(!fc_port_in_range(&c, FC_PROTO_UDP, 20000), "UDP: no ranges, none of its ports");
	ASSERT_TRUE(!fc_proto_nat_on(&c, FC_PROTO_UDP), "UDP: no ranges, NAT off");
	ASSERT_TRUE(fc_proto_nat_on(&c, FC_PROTO_TCP), "TCP: NAT on");
	t->nr = 1;
	ASSERT_TRUE(!fc_port_in_range(&c, FC_PROTO_TCP, 40000), "a range beyond nr");
}

TEST(rules_proto_slots)
{
	ASSERT_EQ(fc_proto_slot(FC_PROTO_TCP), FC_SUB_TCP, "tcp");
	ASSERT_EQ(fc_proto_slot(FC_PROTO_UDP), FC_SUB_UDP, "udp");
	ASSERT_EQ(fc_proto_slot(FC_PROTO_ICMP), FC_SUB_ICMP, "icmp");
	ASSERT_EQ(fc_proto_slot(IPPROTO_ICMPV6), FC_SUB_ICMP, "icmpv6 echo shares ICMP's ids");
}

TEST(rules_port_blocks_and_deterministic_ranges)
{
	struct fc_config c = { .block_size = 64, .nr_pool = 4,
			       .det_count = 256, .det_ports = 250, .det_first = 1024 };
	union fc_addr a = {};
	__u32 i = 999;

	c.ports[FC_SUB_TCP].nr = 1;
	c.ports[FC_SUB_TCP].r[0] = (struct fc_port_range){ .first = 1024, .last = 65535 };
	ASSERT_EQ(fc_block_first_port(&c, 0), 1024, "block 0");
	ASSERT_EQ(fc_block_first_port(&c, 3), 1216, "block 3: 1024 + 3 x 64");
	/* 10.0.0.0/24 over 4 pool addresses, 250 ports each (RFC 7422). */
	c.det_base = htonl(0x0a000000);
	a.v4 = htonl(0x0a000000);
	ASSERT_EQ(fc_det_index(&c, FC_AF_INET, &a, &i), 0, "10.0.0.0 inside");
	ASSERT_EQ(i, 0, "index 0");
	a.v4 = htonl(0x0a0000ff);
	ASSERT_EQ(fc_det_index(&c, FC_AF_INET, &a, &i), 0, "10.0.0.255 inside");
	ASSERT_EQ(i, 255, "index 255");
	ASSERT_EQ(fc_det_first_port(&c, 255), 1024 + 63 * 250, "255 / 4 = 63: ports from 16774");
	ASSERT_EQ(fc_det_first_port(&c, 5), 1274, "5 / 4 = 1: ports from 1274");
	a.v4 = htonl(0x0a000100);
	ASSERT_EQ(fc_det_index(&c, FC_AF_INET, &a, &i), -1, "10.0.1.0: past the prefix");
	a.v4 = htonl(0x09ffffff);
	ASSERT_EQ(fc_det_index(&c, FC_AF_INET, &a, &i), -1, "9.255.255.255: below the base");
	ASSERT_EQ(fc_det_index(&c, FC_AF_INET6, &a, &i), -1, "IPv6: never deterministic");
}

/*
 * Known values of the subscriber hash, computed by a separate
 * implementation (Python, from the description: murmur3's 32-bit finaliser
 * on each 32-bit word of the 16-byte address read in host order, folded
 * as h = (h ^ w) * 0x9e3779b1, h ^= h >> 15, from h = family). The
 * datapath picks pool slot hash % pool size with this very function.
 */
static uint32_t hash_of(uint8_t family, const char *addr)
{
	union fc_addr a = {};

	if (family == FC_AF_INET)
		inet_pton(AF_INET, addr, &a.v4);
	else
		inet_pton(AF_INET6, addr, a.v6);
	return fc_subscriber_hash(family, &a);
}

TEST(rules_subscriber_hash_known_vectors)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	ASSERT_EQ(hash_of(FC_AF_INET, "100.64.0.1"), 0x80b86aba, "100.64.0.1");
	ASSERT_EQ(hash_of(FC_AF_INET, "100.64.0.2"), 0xe0b0e4a6, "100.64.0.2");
	ASSERT_EQ(hash_of(FC_AF_INET, "192.168.1.10"), 0x6c41913e, "192.168.1.10");
	ASSERT_EQ(hash_of(FC_AF_INET6, "fd00::1"), 0x83c9591c, "fd00::1");
	ASSERT_EQ(hash_of(FC_AF_INET6, "2001:db8::42"), 0x0453db7a, "2001:db8::42");
#else
	ASSERT_EQ(hash_of(FC_AF_INET, "100.64.0.1"), 0xfd4232fb, "100.64.0.1");
	ASSERT_EQ(hash_of(FC_AF_INET, "100.64.0.2"), 0x904b6b4a, "100.64.0.2");
	ASSERT_EQ(hash_of(FC_AF_INET, "192.168.1.10"), 0x8abca476, "192.168.1.10");
	ASSERT_EQ(hash_of(FC_AF_INET6, "fd00::1"), 0x82986cd0, "fd00::1");
	ASSERT_EQ(hash_of(FC_AF_INET6, "2001:db8::42"), 0x2c651d21, "2001:db8::42");
#endif
	/* All-zero words mix to 0 (fmix32(0) = 0), in either byte order. */
	ASSERT_EQ(hash_of(FC_AF_INET, "0.0.0.0"), 0x08800cf4, "0.0.0.0");
}

/* The rule the datapath and the sweeper share, at times right after boot. */
TEST(rules_mapping_alive_right_after_boot)
{
	struct fc_binding b = {};
	const struct fc_config *c = &fx.cfg;
	uint64_t udp = c->timeout_ns[FC_TIMEOUT_UDP];

	b.last_out_ns = 5 * SEC_NS;	/* used 5 s after boot */
	ASSERT_TRUE(fc_mapping_alive(c, FC_PROTO_UDP, &b, 6 * SEC_NS), "1 s later: alive");
	ASSERT_TRUE(fc_mapping_alive(c, FC_PROTO_UDP, &b, 5 * SEC_NS + udp - 1), "just before");
	ASSERT_TRUE(!fc_mapping_alive(c, FC_PROTO_UDP, &b, 5 * SEC_NS + udp), "at the timeout");
	b.last_out_ns = 0;		/* used at boot */
	ASSERT_TRUE(fc_mapping_alive(c, FC_PROTO_UDP, &b, 0), "at boot itself");
	ASSERT_TRUE(!fc_mapping_alive(c, FC_PROTO_ICMP, &b, c->timeout_ns[FC_TIMEOUT_ICMP]),
		    "ICMP: its own timeout");
	ASSERT_TRUE(!fc_mapping_alive(c, FC_PROTO_TCP, &b, c->timeout_ns[FC_TIMEOUT_TCP_TRANS]),
		    "TCP without a session: the transitory timeout");
	b.sessions_until_ns = 600 * SEC_NS + c->timeout_ns[FC_TIMEOUT_TCP_EST];
	ASSERT_TRUE(fc_mapping_alive(c, FC_PROTO_TCP, &b, 601 * SEC_NS),
		    "kept by an established session, 10 min after boot");
	b.sessions_until_ns = 0;
	b.flags = FC_BINDING_STATIC;
	ASSERT_TRUE(fc_mapping_alive(c, FC_PROTO_UDP, &b, ~0ULL), "static: always");
}


/* src/prefix.h: the one prefix test of user space (--nat64-allow, PCP's
 * on-link check and --pcp-allow, --internal, the NAT64 prefix), at every
 * kind of length. */
TEST(prefix_match_whole_and_partial_bytes)
{
	const __u8 a[16] = { 0xfd, 0x00, 0x00, 0x77, [15] = 2 };
	const __u8 b[16] = { 0xfd, 0x00, 0x00, 0x7f, [15] = 9 };
	__be32 x = htonl(0xc0a84d02U), y = htonl(0xc0a84d82U);	/* .77.2, .77.130 */

	ASSERT_TRUE(prefix_match(a, b, 0), "length 0: everything");
	ASSERT_TRUE(prefix_match(a, b, 28), "fd00:0070::/28");
	ASSERT_TRUE(!prefix_match(a, b, 29), "/29 sees the 0x08 bit");
	ASSERT_TRUE(!prefix_match(a, b, 32), "/32");
	ASSERT_TRUE(prefix_match(a, a, 128), "itself, whole");
	ASSERT_TRUE(prefix_match(&x, &y, 24), "192.168.77.0/24");
	ASSERT_TRUE(!prefix_match(&x, &y, 25), "/25 splits them");
	ASSERT_TRUE(!prefix_match(&x, &y, 32), "/32");
}
