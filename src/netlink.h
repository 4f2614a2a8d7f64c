/* SPDX-License-Identifier: GPL-2.0 */
/* Interface and address queries over rtnetlink (libmnl). */
#ifndef FC_NETLINK_H
#define FC_NETLINK_H

#include <netinet/in.h>

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

#endif
