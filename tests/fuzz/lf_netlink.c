// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: the rtnetlink handlers (src/netlink.c). The input after 8 bytes
 * of parameters (ifindex, family, hook) is one receive buffer, handed to each
 * parse step the daemon runs on what the kernel sends: address dumps, qdisc
 * and filter dumps, and the address/link/route event batches.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nl_bpf_filter f[4];
	struct nl_vlan_link vl;
	unsigned char addr[16];
	int ifindex, relevant = 0, routes = 0, n;
	uint8_t *buf;

	if (size < 8)
		return 0;
	ifindex = data[0] | data[1] << 8;
	/* A copy of exactly the batch: reading past it is an ASan report. */
	size -= 8;
	buf = malloc(size ? size : 1);
	memcpy(buf, data + 8, size);
	if (nl_parse_addr(buf, size, ifindex, data[2] & 1 ? AF_INET6 : AF_INET, addr) > 1)
		abort();
	if (nl_parse_clsact(buf, size, ifindex) > 1)
		abort();
	n = nl_parse_bpf_filters(buf, size, ifindex, data[3] & 1, f, data[4] % 5);
	if (n > (int)(size / 16))	/* one message of 16 bytes at least per filter */
		abort();
	if (nl_parse_events(buf, size, ifindex, &relevant, &routes) < -1 || relevant > 1 ||
	    routes > 1)
		abort();
	n = nl_parse_vlan(buf, size, ifindex, &vl);
	if (n < -1 || n > 1 || (n != 1 && (vl.lower || vl.id || vl.vlan)))
		abort();
	free(buf);
	return 0;
}
