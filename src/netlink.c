// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>

#include "netlink.h"

/*
 * mnl_cb_run() over the well-formed start of a batch: libmnl compares
 * nlmsg_len as a signed int, so a length of 2^31 or more would pass its
 * check and step outside the buffer.
 */
static int cb_run(const void *buf, size_t len, unsigned int seq, unsigned int portid,
		  mnl_cb_t cb, void *data)
{
	size_t ok = 0;

	while (len - ok >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const void *)((const char *)buf + ok);

		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len - ok)
			break;
		ok += MNL_ALIGN(nlh->nlmsg_len) < len - ok ? MNL_ALIGN(nlh->nlmsg_len) : len - ok;
	}
	if (ok < len && !ok)
		return MNL_CB_ERROR;
	return mnl_cb_run(buf, ok, seq, portid, cb, data);
}

struct addr_query {
	int ifindex;
	int family;		/* AF_INET or AF_INET6 */
	int found;
	unsigned char addr[16];
};

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFA_MAX) < 0)
		return MNL_CB_OK;
	if ((type == IFA_ADDRESS || type == IFA_LOCAL) &&
	    mnl_attr_validate(attr, MNL_TYPE_BINARY) < 0)
		return MNL_CB_ERROR;
	if (type == IFA_FLAGS && mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_query *q = data;
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {};
	const struct nlattr *a;

	size_t len = q->family == AF_INET6 ? 16 : 4;
	__u32 flags;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return MNL_CB_OK;
	if (ifa->ifa_family != q->family || (int)ifa->ifa_index != q->ifindex ||
	    ifa->ifa_scope != RT_SCOPE_UNIVERSE || q->found)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb);
	flags = tb[IFA_FLAGS] && mnl_attr_get_payload_len(tb[IFA_FLAGS]) == 4
		? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	/* IPv4: the primary address. IPv6 (global scope: never link-local):
	 * a stable one that is fully usable -- not a privacy address (it
	 * goes away within a day), not deprecated (being renumbered away),
	 * not still in duplicate address detection or failed it. */
	if (q->family == AF_INET && (flags & IFA_F_SECONDARY))
		return MNL_CB_OK;
	if (q->family == AF_INET6 &&
	    (flags & (IFA_F_TEMPORARY | IFA_F_DEPRECATED | IFA_F_TENTATIVE | IFA_F_DADFAILED)))
		return MNL_CB_OK;
	/* IFA_LOCAL is the address itself on point-to-point links (PPPoE). */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || mnl_attr_get_payload_len(a) != len)
		return MNL_CB_OK;
	memcpy(q->addr, mnl_attr_get_payload(a), len);
	q->found = 1;
	return MNL_CB_OK;
}

/*
 * One rtnetlink dump: a request of type with hdr_len bytes of family header,
 * filled by fill(), every answer handed to cb. 0 or -errno.
 */
static int nl_dump(__u16 type, size_t hdr_len, void (*fill)(void *hdr, void *data),
		   mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	unsigned int seq = time(NULL), portid;
	int ret, err = 0;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	fill(mnl_nlmsg_put_extra_header(nlh, hdr_len), data);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	while ((ret = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = cb_run(buf, ret, seq, portid, cb, data);
		if (ret <= MNL_CB_STOP)
			break;
	}
	if (ret < 0)
		err = -errno;
out:
	mnl_socket_close(nl);
	return err;
}

static void addr_fill(void *hdr, void *data)
{
	struct ifaddrmsg *ifa = hdr;
	const struct addr_query *q = data;

	ifa->ifa_family = q->family;
}

static int get_addr(int ifindex, int family, void *addr, size_t len)
{
	struct addr_query q = { .ifindex = ifindex, .family = family };
	int err = nl_dump(RTM_GETADDR, sizeof(struct ifaddrmsg), addr_fill, addr_cb, &q);

	if (err)
		return err;
	if (!q.found)
		return -ENOENT;
	memcpy(addr, q.addr, len);
	return 0;
}

int nl_parse_addr(const void *buf, size_t len, int ifindex, int family, void *addr)
{
	struct addr_query q = { .ifindex = ifindex, .family = family };

	if (cb_run(buf, len, 0, 0, addr_cb, &q) < 0 && !q.found)
		return -1;
	if (q.found)
		memcpy(addr, q.addr, family == AF_INET6 ? 16 : 4);
	return q.found;
}

int nl_get_ipv4_addr(int ifindex, struct in_addr *addr)
{
	return get_addr(ifindex, AF_INET, addr, sizeof(*addr));
}

int nl_get_ipv6_addr(int ifindex, struct in6_addr *addr)
{
	return get_addr(ifindex, AF_INET6, addr, sizeof(*addr));
}

/* ---- qdiscs ---------------------------------------------------------------- */

struct qdisc_query {
	int ifindex;
	int found;
};

static int qdisc_cb(const struct nlmsghdr *nlh, void *data)
{
	struct qdisc_query *q = data;
	struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*tcm))
		return MNL_CB_OK;
	if (tcm->tcm_ifindex != q->ifindex)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*tcm))
		if (mnl_attr_get_type(a) == TCA_KIND &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
		    !strcmp(mnl_attr_get_str(a), "clsact"))
			q->found = 1;
	return MNL_CB_OK;
}

static void qdisc_fill(void *hdr, void *data)
{
	struct tcmsg *tcm = hdr;
	const struct qdisc_query *q = data;

	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = q->ifindex;
}

int nl_parse_clsact(const void *buf, size_t len, int ifindex)
{
	struct qdisc_query q = { .ifindex = ifindex };

	if (cb_run(buf, len, 0, 0, qdisc_cb, &q) < 0 && !q.found)
		return -1;
	return q.found;
}

int nl_has_clsact(int ifindex)
{
	struct qdisc_query q = { .ifindex = ifindex };
	int err = nl_dump(RTM_GETQDISC, sizeof(struct tcmsg), qdisc_fill, qdisc_cb, &q);

	return err ? err : q.found;
}

/* ---- BPF filters ----------------------------------------------------------- */

struct filter_query {
	int ifindex;
	__u32 parent;
	struct nl_bpf_filter *out;
	int max;
	int n;
};

static int filter_cb(const struct nlmsghdr *nlh, void *data)
{
	struct filter_query *q = data;
	struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *o;
	int is_bpf = 0;
	__u32 id = 0;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*tcm))
		return MNL_CB_OK;
	/* One answer per priority has no handle: the chain head. */
	if (tcm->tcm_ifindex != q->ifindex || tcm->tcm_parent != q->parent || !tcm->tcm_handle)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*tcm)) {
		if (mnl_attr_get_type(a) == TCA_KIND &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			is_bpf = !strcmp(mnl_attr_get_str(a), "bpf");
		if (mnl_attr_get_type(a) != TCA_OPTIONS)
			continue;
		mnl_attr_for_each_nested(o, a)
			if (mnl_attr_get_type(o) == TCA_BPF_ID &&
			    mnl_attr_validate(o, MNL_TYPE_U32) == 0)
				id = mnl_attr_get_u32(o);
	}
	if (!is_bpf || !id)
		return MNL_CB_OK;
	if (q->n < q->max)
		q->out[q->n] = (struct nl_bpf_filter){
			.handle = tcm->tcm_handle,
			.priority = TC_H_MAJ(tcm->tcm_info) >> 16,
			.prog_id = id,
		};
	q->n++;
	return MNL_CB_OK;
}

static void filter_fill(void *hdr, void *data)
{
	struct tcmsg *tcm = hdr;
	const struct filter_query *q = data;

	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = q->ifindex;
	tcm->tcm_parent = q->parent;
}

static __u32 clsact_parent(int ingress)
{
	return TC_H_MAKE(TC_H_CLSACT, ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
}

int nl_parse_bpf_filters(const void *buf, size_t len, int ifindex, int ingress,
			 struct nl_bpf_filter *out, int max)
{
	struct filter_query q = {
		.ifindex = ifindex, .parent = clsact_parent(ingress), .out = out, .max = max,
	};

	if (cb_run(buf, len, 0, 0, filter_cb, &q) < 0)
		return -1;
	return q.n;
}

int nl_bpf_filters(int ifindex, int ingress, struct nl_bpf_filter *out, int max)
{
	struct filter_query q = {
		.ifindex = ifindex,
		.parent = clsact_parent(ingress),
		.out = out,
		.max = max,
	};
	int err = nl_dump(RTM_GETTFILTER, sizeof(struct tcmsg), filter_fill, filter_cb, &q);

	return err ? err : q.n;
}

/* ---- address events ------------------------------------------------------ */

struct nl_watch {
	struct mnl_socket *nl;
};

struct nl_watch *nl_addr_watch_open(void)
{
	struct nl_watch *w = calloc(1, sizeof(*w));
	int fl;

	if (!w)
		return NULL;
	w->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!w->nl)
		goto fail;
	/* Address changes (IPv6: also an address leaving duplicate address
	 * detection, or deprecated), links coming and going, and IPv4 routes
	 * (the fast path's cached hops: route.h). */
	if (mnl_socket_bind(w->nl, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_LINK |
			    RTMGRP_IPV4_ROUTE, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	/* A lost event shows as ENOBUFS on the next read (the default,
	 * NETLINK_NO_ENOBUFS off): then the address is simply read again. */
	return w;
fail:
	fl = errno;
	if (w->nl)
		mnl_socket_close(w->nl);
	free(w);
	errno = fl;
	return NULL;
}

int nl_addr_watch_fd(const struct nl_watch *w)
{
	return mnl_socket_get_fd(w->nl);
}

struct watch_ctx {
	int ifindex;
	int relevant;
	int routes;
};

static int watch_cb(const struct nlmsghdr *nlh, void *data)
{
	struct watch_ctx *c = data;
	size_t plen = mnl_nlmsg_get_payload_len(nlh);

	if (nlh->nlmsg_type == RTM_NEWADDR || nlh->nlmsg_type == RTM_DELADDR) {
		const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

		if (plen >= sizeof(*ifa) && (int)ifa->ifa_index == c->ifindex)
			c->relevant = 1;
	} else if (nlh->nlmsg_type == RTM_NEWLINK || nlh->nlmsg_type == RTM_DELLINK) {
		const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

		if (plen >= sizeof(*ifi) && ifi->ifi_index == c->ifindex)
			c->relevant = 1;
		c->routes = 1;	/* any link: up, down, MTU */
	} else if (nlh->nlmsg_type == RTM_NEWROUTE || nlh->nlmsg_type == RTM_DELROUTE) {
		c->routes = 1;
	}
	return MNL_CB_OK;
}

int nl_parse_events(const void *buf, size_t len, int ifindex, int *relevant, int *routes_changed)
{
	struct watch_ctx c = { .ifindex = ifindex };
	int ret = cb_run(buf, len, 0, 0, watch_cb, &c);

	*relevant |= c.relevant;
	*routes_changed |= c.routes;
	return ret < 0 ? -1 : 0;
}

int nl_addr_watch_drain(struct nl_watch *w, int ifindex, int *routes_changed)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct watch_ctx c = { .ifindex = ifindex };
	ssize_t n;

	for (;;) {
		n = mnl_socket_recvfrom(w->nl, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) {	/* events lost: look again */
				c.relevant = 1;
				c.routes = 1;
				continue;
			}
			if (errno == EINTR)
				continue;
			return -errno;
		}
		nl_parse_events(buf, n, ifindex, &c.relevant, &c.routes);
	}
	*routes_changed = c.routes;
	return c.relevant;
}

void nl_addr_watch_close(struct nl_watch *w)
{
	if (!w)
		return;
	mnl_socket_close(w->nl);
	free(w);
}
