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
	{ ARPHRD_IPGRE, "GRE tunnel" },
	{ ARPHRD_IP6GRE, "IPv6 GRE tunnel" },
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

int link_check(const char *ifname, bool loopback_ok, char *why, size_t len)
{
	struct ifreq ifr = {};
	char name[32];
	unsigned int type;
	int fd, err;

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
	close(fd);
	if (err) {
		snprintf(why, len, "cannot read the link type of %s: %s", ifname, strerror(errno));
		return -1;
	}
	type = ifr.ifr_hwaddr.sa_family;
	if (type == ARPHRD_ETHER || (loopback_ok && type == ARPHRD_LOOPBACK))
		return 0;
	snprintf(why, len, "%s: link type not supported: %s; fcnat's datapath reads Ethernet "
		 "frames only (README: Link types)", ifname,
		 link_type_name(type, name, sizeof(name)));
	errno = EOPNOTSUPP;
	return -1;
}
