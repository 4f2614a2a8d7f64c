/* SPDX-License-Identifier: GPL-2.0 */
/* Interface and address queries over rtnetlink (libmnl). */
#ifndef FC_NETLINK_H
#define FC_NETLINK_H

#include <netinet/in.h>

/* Primary global IPv4 address of ifindex: 0 and *addr set, -ENOENT if the
 * interface has none, other -errno on failure. */
int nl_get_ipv4_addr(int ifindex, struct in_addr *addr);

#endif
