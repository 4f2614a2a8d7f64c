// SPDX-License-Identifier: GPL-2.0
/* When the offload's cached next hops go stale (offload_nh.h). */
#include <errno.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "offload_nh.h"

int fo_nh_open(void)
{
	/* Whatever can change where a packet goes, or to which MAC. */
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_LINK | RTMGRP_NEIGH | RTMGRP_IPV4_ROUTE |
					       RTMGRP_IPV6_ROUTE | RTMGRP_IPV4_IFADDR |
					       RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_RULE };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	unsigned int rule6 = RTNLGRP_IPV6_RULE;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	/* Beyond the 32 bits of nl_groups' legacy masks. */
	setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &rule6, sizeof(rule6));
	return fd;
}

bool fo_nh_changed(int fd)
{
	char buf[8192];
	bool any = false;
	ssize_t n;

	/* The messages say what changed; any change is enough to look up
	 * again, so they are only counted. */
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		if (n < 0) {
			if (errno == ENOBUFS) {
				any = true;	/* lost some: assume the worst */
				continue;
			}
			break;
		}
		any = true;
	}
	return any;
}
