// SPDX-License-Identifier: GPL-2.0
/*
 * Parsers of input fcnat does not make itself, at the edges the libFuzzer
 * harnesses (tests/fuzz/lf_*.c) found or guard: netlink batches with lying
 * lengths, the pool's duplicate rule, the configuration file on a stream.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if_link.h>

#include "harness.h"
#include "netlink.h"
#include "options.h"
#include "pkt.h"

/* A u32 attribute at the end of the message nlh. */
static void put_u32_attr(struct nlmsghdr *nlh, int type, __u32 v)
{
	struct rtattr *rta = (struct rtattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(sizeof(v));
	memcpy(RTA_DATA(rta), &v, sizeof(v));
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* One RTM_NEWADDR at buf: ifindex, IPv4 addr as IFA_LOCAL, flags. */
static size_t put_newaddr(char *buf, int ifindex, const char *addr, __u32 flags)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct ifaddrmsg *ifa = NLMSG_DATA(nlh);

	memset(buf, 0, NLMSG_SPACE(sizeof(*ifa)));
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*ifa));
	nlh->nlmsg_type = RTM_NEWADDR;
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 24;
	ifa->ifa_index = ifindex;
	put_u32_attr(nlh, IFA_LOCAL, ip4(addr));
	put_u32_attr(nlh, IFA_FLAGS, flags);
	return nlh->nlmsg_len;
}

TEST(netlink_batch_primary_address_of_the_interface)
{
	char buf[512];
	size_t n = 0;
	__be32 got = 0;
	int relevant = 0, routes = 0;

	n += put_newaddr(buf + n, 3, "192.0.2.9", IFA_F_SECONDARY);
	n += put_newaddr(buf + n, 4, "198.51.100.1", 0);
	n += put_newaddr(buf + n, 3, "192.0.2.1", 0);
	ASSERT_EQ(nl_parse_addr(buf, n, 3, AF_INET, &got), 1, "found");
	ASSERT_EQ(got, ip4("192.0.2.1"), "the primary one of ifindex 3");
	ASSERT_EQ(nl_parse_addr(buf, n, 5, AF_INET, &got), 0, "none on ifindex 5");
	ASSERT_EQ(nl_parse_events(buf, n, 4, &relevant, &routes), 0, "events parsed");
	ASSERT_EQ(relevant, 1, "an address event of ifindex 4");
	ASSERT_EQ(routes, 0, "no route or link event");
}

/* libmnl (used before) checked nlmsg_len as a signed int: 2^31 and more passed and, for
 * most such lengths, the next message was looked for gigabytes away (a SEGV
 * the netlink fuzzer found). */
/* An attribute of len bytes of data at the end of nlh; the nested one
 * (IFLA_LINKINFO...) returned to be closed by nest_end. */
static struct rtattr *put_attr(struct nlmsghdr *nlh, int type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

static void nest_end(struct nlmsghdr *nlh, struct rtattr *nest)
{
	nest->rta_len = (char *)nlh + nlh->nlmsg_len - (char *)nest;
}

/* RTM_NEWLINK of a VLAN device as `ip link add link wan0 name wan0.7 type
 * vlan id 7` makes it (rtnetlink(7), include/uapi/linux/if_link.h). */
TEST(netlink_vlan_link_real_device_and_tag)
{
	__u32 buf32[256] = {};
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf32;
	struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	struct rtattr *info, *data;
	struct nl_vlan_link v;
	__u32 lower = 2;
	__u16 id = 7, proto = htons(0x8100);

	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi->ifi_index = 9;
	put_attr(nlh, IFLA_IFNAME, "wan0.7", 7);
	put_attr(nlh, IFLA_LINK, &lower, sizeof(lower));
	info = put_attr(nlh, IFLA_LINKINFO, NULL, 0);
	put_attr(nlh, IFLA_INFO_KIND, "vlan", 5);
	data = put_attr(nlh, IFLA_INFO_DATA, NULL, 0);
	put_attr(nlh, IFLA_VLAN_PROTOCOL, &proto, sizeof(proto));
	put_attr(nlh, IFLA_VLAN_ID, &id, sizeof(id));
	nest_end(nlh, data);
	nest_end(nlh, info);
	ASSERT_EQ(nl_parse_vlan(buf32, nlh->nlmsg_len, 9, &v), 1, "found");
	ASSERT_TRUE(v.vlan, "a VLAN device");
	ASSERT_EQ(v.lower, 2, "its real device");
	ASSERT_EQ(v.id, 7, "tag");
	ASSERT_EQ(v.proto, 0x8100, "802.1Q, host order");
	ASSERT_EQ(nl_parse_vlan(buf32, nlh->nlmsg_len, 10, &v), 0, "another link: not found");
	ASSERT_EQ(v.vlan, 0, "nothing set");
	/* A batch shorter than its message's length is malformed. */
	ASSERT_EQ(nl_parse_vlan(buf32, nlh->nlmsg_len - 4, 9, &v), -1, "the message, cut");
	ASSERT_EQ(v.vlan, 0, "nothing read from it");
}

TEST(netlink_length_of_2g_or_more_is_malformed)
{
	char buf[512];
	size_t n = put_newaddr(buf, 3, "192.0.2.1", 0);
	struct nl_bpf_filter f[2];
	int relevant = 0, routes = 0;
	__be32 got = 0;

	((struct nlmsghdr *)buf)->nlmsg_len = 0xc0000000u + n;
	ASSERT_EQ(nl_parse_addr(buf, n, 3, AF_INET, &got), -1, "address dump");
	ASSERT_EQ(nl_parse_clsact(buf, n, 3), -1, "qdisc dump");
	ASSERT_EQ(nl_parse_bpf_filters(buf, n, 3, 1, f, 2), -1, "filter dump");
	ASSERT_EQ(nl_parse_events(buf, n, 3, &relevant, &routes), -1, "events");
	ASSERT_EQ(relevant | routes, 0, "nothing taken from it");
	/* A good message before it still counts. */
	n = put_newaddr(buf, 3, "192.0.2.1", 0);
	n += put_newaddr(buf + n, 3, "192.0.2.2", 0);
	((struct nlmsghdr *)(buf + n / 2))->nlmsg_len = 0xfffffff0u;
	ASSERT_EQ(nl_parse_addr(buf, n, 3, AF_INET, &got), 1, "the first message");
	ASSERT_EQ(got, ip4("192.0.2.1"), "its address");
}

/* An error message whose code is no errno (INT_MIN: negating it overflows,
 * what lf_netlink found in the libmnl-free walk): the batch fails, EPROTO. */
TEST(netlink_error_code_out_of_range_fails_the_batch)
{
	char buf[256] __attribute__((aligned(4)));
	size_t n = put_newaddr(buf, 3, "192.0.2.1", 0);
	struct nlmsghdr *nlh = (struct nlmsghdr *)(buf + n);
	struct nlmsgerr *e = NLMSG_DATA(nlh);
	__be32 got = 0;

	memset(nlh, 0, NLMSG_SPACE(sizeof(*e)));
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*e));
	nlh->nlmsg_type = NLMSG_ERROR;
	e->error = INT_MIN;
	errno = 0;
	ASSERT_EQ(nl_parse_clsact(buf, n + nlh->nlmsg_len, 3), -1, "the batch fails");
	ASSERT_EQ(errno, EPROTO, "as a protocol error");
	ASSERT_EQ(nl_parse_addr(buf, n + nlh->nlmsg_len, 3, AF_INET, &got), 1,
		  "the address before it still counts");
}

/* A message of the right type too short for its family header: read
 * nothing past it (ASan catches it in the sanitized unit tests). */
TEST(netlink_message_shorter_than_its_header_is_skipped)
{
	static const int types[] = { RTM_NEWADDR, RTM_NEWLINK, RTM_NEWQDISC, RTM_NEWTFILTER };
	struct nl_bpf_filter f[2];

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct nlmsghdr *nlh = malloc(sizeof(*nlh));	/* exactly the header */
		int relevant = 0, routes = 0;
		__be32 got = 0;

		memset(nlh, 0, sizeof(*nlh));
		nlh->nlmsg_len = sizeof(*nlh);
		nlh->nlmsg_type = types[i];
		ASSERT_EQ(nl_parse_addr(nlh, sizeof(*nlh), 0, AF_INET, &got), 0, "no address");
		ASSERT_EQ(nl_parse_clsact(nlh, sizeof(*nlh), 0), 0, "no clsact");
		ASSERT_EQ(nl_parse_bpf_filters(nlh, sizeof(*nlh), 0, 1, f, 2), 0, "no filter");
		ASSERT_EQ(nl_parse_events(nlh, sizeof(*nlh), 0, &relevant, &routes), 0, "parsed");
		ASSERT_EQ(relevant, 0, "not about ifindex 0");
		free(nlh);
	}
}

TEST(pool_addresses_in_order_without_duplicates)
{
	static const char *const prefixes[] = { "203.0.113.4/31", "203.0.113.0/30",
						"203.0.113.5/32", "203.0.113.2/31", "198.51.100.7" };
	static const char *const want[] = { "203.0.113.4", "203.0.113.5", "203.0.113.0",
					    "203.0.113.1", "203.0.113.2", "203.0.113.3",
					    "198.51.100.7" };
	struct fc_cgnat_opts c = {};
	__be32 out[16];

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		ASSERT_EQ(parse_prefix4(prefixes[i], &c.pool[c.nr_pool++]), 0, prefixes[i]);
	ASSERT_EQ(pool_addresses(&c, out, 16), 7, "seven distinct addresses");
	for (size_t i = 0; i < 7; i++)
		ASSERT_EQ(out[i], ip4(want[i]), want[i]);
	ASSERT_EQ(pool_addresses(&c, out, 6), -1, "more than max");
}
