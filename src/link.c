// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "link.h"

#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP	519
#endif
#ifndef ARPHRD_IP6GRE
#define ARPHRD_IP6GRE	823
#endif

static const struct {
	unsigned int type;
	const char *name;
} link_types[] = {
	{ ARPHRD_ETHER, "Ethernet" },
	{ ARPHRD_LOOPBACK, "loopback" },
	{ ARPHRD_PPP, "PPP (PPPoE's pppX, no Ethernet header)" },
	{ ARPHRD_NONE, "no link-layer header (TUN, WireGuard)" },
	{ ARPHRD_RAWIP, "raw IP (no link-layer header)" },
	{ ARPHRD_TUNNEL, "IPIP tunnel" },
	{ ARPHRD_TUNNEL6, "IPv6 tunnel" },
	{ ARPHRD_SIT, "SIT (IPv6 in IPv4) tunnel" },
	{ ARPHRD_IPGRE, "GRE tunnel without a fixed remote (NBMA)" },
	{ ARPHRD_IP6GRE, "IPv6 GRE tunnel without a fixed remote" },
	{ ARPHRD_INFINIBAND, "InfiniBand" },
};

const char *link_type_name(unsigned int arphrd, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(link_types) / sizeof(link_types[0]); i++)
		if (link_types[i].type == arphrd)
			return link_types[i].name;
	snprintf(buf, len, "link type %u", arphrd);
	return buf;
}

/* Links whose frames start at the IP header: no link-layer header at the
 * TC hooks (the kernel's own list of such devices, dev_is_mac_header_xmit,
 * has these and ARPHRD_IPGRE/IP6GRE, below). */
static bool bare_ip_type(unsigned int type)
{
	return type == ARPHRD_PPP || type == ARPHRD_NONE || type == ARPHRD_RAWIP ||
	       type == ARPHRD_TUNNEL || type == ARPHRD_TUNNEL6 || type == ARPHRD_SIT;
}

int link_check(const char *ifname, bool loopback_ok, bool *bare_ip, char *why, size_t len)
{
	struct ifreq ifr = {};
	char name[32];
	unsigned int type;
	int fd, err;
	short flags;

	*bare_ip = false;
	if (strlen(ifname) >= sizeof(ifr.ifr_name)) {
		snprintf(why, len, "interface name too long: %s", ifname);
		errno = EINVAL;
		return -1;
	}
	strcpy(ifr.ifr_name, ifname);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, len, "cannot read the link type of %s: %s", ifname, strerror(errno));
		return -1;
	}
	err = ioctl(fd, SIOCGIFHWADDR, &ifr);
	type = ifr.ifr_hwaddr.sa_family;
	if (!err)
		err = ioctl(fd, SIOCGIFFLAGS, &ifr);
	flags = ifr.ifr_flags;
	close(fd);
	if (err) {
		snprintf(why, len, "cannot read the link type of %s: %s", ifname, strerror(errno));
		return -1;
	}
	if (type == ARPHRD_ETHER || (loopback_ok && type == ARPHRD_LOOPBACK))
		return 0;
	/* A GRE device with a fixed unicast remote is point-to-point and
	 * carries bare IP; one without (NBMA, multicast) builds an outer
	 * header of its own as its link-layer header. */
	if (bare_ip_type(type) ||
	    ((type == ARPHRD_IPGRE || type == ARPHRD_IP6GRE) && (flags & IFF_POINTOPOINT))) {
		*bare_ip = true;
		return 0;
	}
	snprintf(why, len, "%s: link type not supported: %s; fcnat's datapath reads Ethernet "
		 "frames and links without a link-layer header (PPP, TUN, WireGuard, "
		 "point-to-point tunnels) only (README: Link types)", ifname,
		 link_type_name(type, name, sizeof(name)));
	errno = EOPNOTSUPP;
	return -1;
}
