// SPDX-License-Identifier: GPL-2.0
/*
 * Seeds for lf_netlink: `nl_capture DIR` writes what the kernel answers to
 * the dumps fcnat makes (addresses of both families, qdiscs, the ingress
 * filters of IFINDEX, links, routes), one receive buffer per file, each
 * behind lf_netlink's 8 bytes of parameters (ifindex IFINDEX): `nl_capture
 * DIR IFINDEX`.
 * `nl_capture DIR monitor` writes the first 20 receive buffers of address,
 * link and route events instead. Not part of the build:
 * `cc -o nl_capture nl_capture.c -lmnl`.
 */
#include <libmnl/libmnl.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static void dump(const char *dir, const char *name, int type, int family, size_t hdr,
		 int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], path[512];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned char params[8] = { ifindex, 0, family == AF_INET6, 1, 4 };
	int n, i = 0;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		return;
	}
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	*(unsigned char *)mnl_nlmsg_put_extra_header(nlh, hdr) = family;
	if (type == RTM_GETTFILTER) {	/* one hook's filters, as fcnat asks */
		struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);

		tcm->tcm_ifindex = ifindex;
		tcm->tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s-%d", dir, name, i++);
		f = fopen(path, "w");
		if (!f)
			break;
		fwrite(params, 1, sizeof(params), f);
		fwrite(buf, 1, n, f);
		fclose(f);
		if (mnl_cb_run(buf, n, 0, 0, NULL, NULL) <= MNL_CB_STOP)
			break;
	}
	mnl_socket_close(nl);
}

/* The events the daemon subscribes to, as they come, for 20 receives. */
static void monitor(const char *dir)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], path[512];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	unsigned char params[8] = { 3, 0, 0, 1, 4 };	/* ifindex 3: wan0 in a fresh netns */
	int n, i = 0;

	if (!nl || mnl_socket_bind(nl, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_LINK |
				   RTMGRP_IPV4_ROUTE, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		return;
	}
	while (i < 20 && (n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/event-%d", dir, i++);
		f = fopen(path, "w");
		if (!f)
			break;
		fwrite(params, 1, sizeof(params), f);
		fwrite(buf, 1, n, f);
		fclose(f);
	}
	mnl_socket_close(nl);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";

	if (argc > 2 && !strcmp(argv[2], "monitor")) {
		monitor(dir);
		return 0;
	}

	int ifindex = argc > 2 ? atoi(argv[2]) : 1;

	dump(dir, "addr4", RTM_GETADDR, AF_INET, sizeof(struct ifaddrmsg), ifindex);
	dump(dir, "addr6", RTM_GETADDR, AF_INET6, sizeof(struct ifaddrmsg), ifindex);
	dump(dir, "link", RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg), ifindex);
	dump(dir, "route4", RTM_GETROUTE, AF_INET, sizeof(struct rtmsg), ifindex);
	dump(dir, "qdisc", RTM_GETQDISC, AF_UNSPEC, sizeof(struct tcmsg), ifindex);
	dump(dir, "filter", RTM_GETTFILTER, AF_UNSPEC, sizeof(struct tcmsg), ifindex);
	return 0;
}
