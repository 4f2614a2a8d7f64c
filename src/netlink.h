/* SPDX-License-Identifier: GPL-2.0 */
/* Interface and address queries over rtnetlink. */
#ifndef FC_NETLINK_H
#define FC_NETLINK_H

#include <netinet/in.h>
#include <stddef.h>

/* Primary global IPv4 address of ifindex: 0 and *addr set, -ENOENT if the
 * interface has none, other -errno on failure. */
int nl_get_ipv4_addr(int ifindex, struct in_addr *addr);
/* The same for IPv6: a global-scope address that is not temporary (privacy),
 * deprecated, tentative or failed DAD; link-local never. */
int nl_get_ipv6_addr(int ifindex, struct in6_addr *addr);
/* 1 if ifindex has a clsact qdisc, 0 if not, -errno. */
int nl_has_clsact(int ifindex);

/* A BPF classifier on a clsact hook. */
struct nl_bpf_filter {
	unsigned int handle;
	unsigned int priority;
	unsigned int prog_id;
};

/* The BPF filters on ifindex's clsact ingress (or egress) hook: up to max
 * into out; returns how many there are, or -errno. */
int nl_bpf_filters(int ifindex, int ingress, struct nl_bpf_filter *out, int max);

/*
 * Address and link events (RTM_NEWADDR/RTM_DELADDR, RTM_NEWLINK/RTM_DELLINK)
 * on a non-blocking socket whose fd goes into poll().
 */
struct nl_watch;
struct nl_watch *nl_addr_watch_open(void);	/* NULL and errno on failure */
int nl_addr_watch_fd(const struct nl_watch *w);
/* Read all pending events: 1 if one concerned ifindex (or some were lost),
 * 0 if none did, -errno on failure. *routes_changed: 1 if an IPv4 route or
 * any link changed (or events were lost). */
int nl_addr_watch_drain(struct nl_watch *w, int ifindex, int *routes_changed);
void nl_addr_watch_close(struct nl_watch *w);

/* A link as a VLAN device: its real device (IFLA_LINK), tag and protocol
 * (host order); vlan false for any other kind of link. */
struct nl_vlan_link {
	int lower;
	unsigned short id;
	unsigned short proto;
	int vlan;
};
/* ifindex's: 0, -ENODEV if there is no such link, other -errno. */
int nl_get_vlan(int ifindex, struct nl_vlan_link *v);

/*
 * The parse steps of the above on a buffer of netlink messages as one
 * recvfrom() returns it, without a socket (unit tests and tests/fuzz/lf_netlink.c).
 * nl_parse_addr: 1 and addr set (4 or 16 bytes) if a message of the batch
 * carries the address nl_get_ipv4/6_addr() would pick, 0 if none does, -1 if
 * the batch is malformed or ends in an error message. nl_parse_clsact: 1, 0
 * or -1 likewise. nl_parse_bpf_filters: filters of the hook found, or -1.
 * nl_parse_events: ORs what the events mean into *relevant and
 * *routes_changed (as nl_addr_watch_drain); 0, or -1 for a malformed batch.
 */
int nl_parse_addr(const void *buf, size_t len, int ifindex, int family, void *addr);
int nl_parse_clsact(const void *buf, size_t len, int ifindex);
int nl_parse_bpf_filters(const void *buf, size_t len, int ifindex, int ingress,
			 struct nl_bpf_filter *out, int max);
int nl_parse_events(const void *buf, size_t len, int ifindex, int *relevant,
		    int *routes_changed);
/* nl_get_vlan's step: 1 and *v set if the batch has ifindex's link, 0 if
 * not, -1 if malformed. */
int nl_parse_vlan(const void *buf, size_t len, int ifindex, struct nl_vlan_link *v);

#endif
