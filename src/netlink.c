// SPDX-License-Identifier: GPL-2.0
/*
 * rtnetlink over a plain socket (netlink(7), rtnetlink(7)): one dump at a
 * time and one event socket, few enough messages that a library is not
 * worth its shared object (Debian ships no static libmnl: STATIC=1 builds).
 */
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>

#include "netlink.h"

/* What a message callback returns: go on, stop the batch (success), or fail. */
enum { NL_CB_ERROR = -1, NL_CB_STOP = 0, NL_CB_OK = 1 };
typedef int (*nl_cb_t)(const struct nlmsghdr *nlh, void *data);

/* Large enough for any dump message: the kernel sizes them to what it has
 * seen us receive, and a truncated one is an error (MSG_TRUNC). */
#define NL_BUF 32768

static size_t payload_len(const struct nlmsghdr *nlh)
{
	return nlh->nlmsg_len - NLMSG_HDRLEN;
}

/* A message's attributes after its family header of hdr_len bytes: for
 * attr_next(). Empty when the message is shorter than that header. */
static void attrs_of(const struct nlmsghdr *nlh, size_t hdr_len, const char **pos,
		     const char **end)
{
	*pos = (const char *)NLMSG_DATA(nlh) + NLMSG_ALIGN(hdr_len);
	*end = (const char *)nlh + nlh->nlmsg_len;
	if (*pos > *end)
		*pos = *end;
}

/* The next attribute of [*pos, end); NULL at the end or at one whose
 * length does not fit (the rest is not read). */
static const struct nlattr *attr_next(const char **pos, const char *end)
{
	const struct nlattr *a = (const void *)*pos;
	size_t left = end - *pos, step;

	if (left < sizeof(*a) || a->nla_len < sizeof(*a) || a->nla_len > left)
		return NULL;
	step = NLA_ALIGN((size_t)a->nla_len);

	*pos += step < left ? step : left;
	return a;
}

static int attr_type(const struct nlattr *a)
{
	return a->nla_type & NLA_TYPE_MASK;
}

static const void *attr_data(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static size_t attr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

/* A u32 attribute's value (it has at least 4 bytes), else 0 and false. */
static int attr_u32(const struct nlattr *a, __u32 *v)
{
	if (attr_len(a) < sizeof(*v))
		return 0;
	memcpy(v, attr_data(a), sizeof(*v));
	return 1;
}

/* A string attribute's value; NULL if it does not end in a NUL. */
static const char *attr_str(const struct nlattr *a)
{
	size_t n = attr_len(a);

	return n && ((const char *)attr_data(a))[n - 1] == '\0' ? attr_data(a) : NULL;
}

/*
 * Every message of a batch as one recv returns it, data messages to cb:
 * NL_CB_STOP at NLMSG_DONE or an acknowledgement, NL_CB_ERROR (errno set) at
 * an error message, a message of another sender or sequence (seq or portid 0:
 * any), an interrupted dump, or a batch with no well-formed message at all;
 * else what cb last returned. Lengths are checked as unsigned sizes before a
 * message is read, and a malformed tail ends the batch (what came before it
 * counts).
 */
static int nl_run(const void *buf, size_t len, __u32 seq, __u32 portid, nl_cb_t cb, void *data)
{
	size_t off = 0;
	int ret = NL_CB_OK;

	while (len - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const void *)((const char *)buf + off);

		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len - off)
			break;
		off += NLMSG_ALIGN(nlh->nlmsg_len) < len - off ? NLMSG_ALIGN(nlh->nlmsg_len) : len - off;
		if (nlh->nlmsg_pid && portid && nlh->nlmsg_pid != portid) {
			errno = ESRCH;
			return NL_CB_ERROR;
		}
		if (nlh->nlmsg_seq && seq && nlh->nlmsg_seq != seq) {
			errno = EPROTO;
			return NL_CB_ERROR;
		}
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
			errno = EINTR;
			return NL_CB_ERROR;
		}
		if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
			ret = cb(nlh, data);
			if (ret <= NL_CB_STOP)
				return ret;
		} else if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nlh);

			if (payload_len(nlh) < sizeof(*e)) {
				errno = EBADMSG;
				return NL_CB_ERROR;
			}
			if (!e->error)
				return NL_CB_STOP;
			/* An errno as the kernel sends it (-4095..-1); anything
			 * else (INT_MIN cannot even be negated) is a bad reply. */
			errno = e->error < 0 && e->error >= -4095 ? -e->error : EPROTO;
			return NL_CB_ERROR;
		} else if (nlh->nlmsg_type == NLMSG_DONE) {
			return NL_CB_STOP;
		}	/* NLMSG_NOOP, NLMSG_OVERRUN: nothing to do */
	}
	if (len && !off) {
		errno = EBADMSG;
		return NL_CB_ERROR;
	}
	return ret;
}

/* A NETLINK_ROUTE socket bound to groups (0: none); its port id in *portid. */
static int nl_open(__u32 groups, int flags, __u32 *portid)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	socklen_t sl = sizeof(sa);
	int fd, e;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | flags, NETLINK_ROUTE);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	*portid = sa.nl_pid;
	return fd;
}

/* One receive: bytes read, 0 for a datagram not from the kernel (ignored),
 * or -1 with errno (ENOSPC: it did not fit). */
static ssize_t nl_recv(int fd, void *buf, size_t size)
{
	struct sockaddr_nl from;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg = {
		.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1,
	};
	ssize_t n = recvmsg(fd, &msg, 0);

	if (n < 0)
		return -1;
	if (msg.msg_flags & MSG_TRUNC) {
		errno = ENOSPC;
		return -1;
	}
	if (msg.msg_namelen != sizeof(from) || from.nl_pid)
		return 0;
	return n;
}

struct addr_query {
	int ifindex;
	int family;		/* AF_INET or AF_INET6 */
	int found;
	unsigned char addr[16];
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_query *q = data;
	const struct ifaddrmsg *ifa = NLMSG_DATA(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {};
	const struct nlattr *a;
	const char *pos, *end;
	size_t len = q->family == AF_INET6 ? 16 : 4;
	__u32 flags = 0;

	if (payload_len(nlh) < sizeof(*ifa))
		return NL_CB_OK;
	if (ifa->ifa_family != q->family || (int)ifa->ifa_index != q->ifindex ||
	    ifa->ifa_scope != RT_SCOPE_UNIVERSE || q->found)
		return NL_CB_OK;
	attrs_of(nlh, sizeof(*ifa), &pos, &end);
	while ((a = attr_next(&pos, end))) {
		if (attr_type(a) > IFA_MAX)
			continue;
		/* A flags attribute too short for its value ends the list. */
		if (attr_type(a) == IFA_FLAGS && attr_len(a) < 4)
			break;
		tb[attr_type(a)] = a;
	}
	if (!(tb[IFA_FLAGS] && attr_len(tb[IFA_FLAGS]) == 4 && attr_u32(tb[IFA_FLAGS], &flags)))
		flags = ifa->ifa_flags;
	/* IPv4: the primary address. IPv6 (global scope: never link-local):
	 * a stable one that is fully usable -- not a privacy address (it
	 * goes away within a day), not deprecated (being renumbered away),
	 * not still in duplicate address detection or failed it. */
	if (q->family == AF_INET && (flags & IFA_F_SECONDARY))
		return NL_CB_OK;
	if (q->family == AF_INET6 &&
	    (flags & (IFA_F_TEMPORARY | IFA_F_DEPRECATED | IFA_F_TENTATIVE | IFA_F_DADFAILED)))
		return NL_CB_OK;
	/* IFA_LOCAL is the address itself on point-to-point links (PPPoE). */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || attr_len(a) != len)
		return NL_CB_OK;
	memcpy(q->addr, attr_data(a), len);
	q->found = 1;
	return NL_CB_OK;
}

/*
 * One rtnetlink dump: a request of type with hdr_len bytes of family header,
 * filled by fill(), every answer handed to cb. 0 or -errno.
 */
static int nl_dump(__u16 type, size_t hdr_len, void (*fill)(void *hdr, void *data),
		   nl_cb_t cb, void *data)
{
	__u32 buf[NL_BUF / sizeof(__u32)];	/* aligned for the headers */
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	__u32 seq = time(NULL), portid;
	ssize_t n;
	int fd, ret = NL_CB_OK, err = 0;

	fd = nl_open(0, 0, &portid);
	if (fd < 0)
		return -errno;
	memset(buf, 0, NLMSG_SPACE(hdr_len));
	nlh->nlmsg_len = NLMSG_LENGTH(hdr_len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	fill(NLMSG_DATA(nlh), data);
	if (sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		err = -errno;
		goto out;
	}
	do {
		n = nl_recv(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		ret = n ? nl_run(buf, n, seq, portid, cb, data) : NL_CB_OK;
		if (ret < 0)
			err = -errno;
	} while (ret == NL_CB_OK);
out:
	close(fd);
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

	if (nl_run(buf, len, 0, 0, addr_cb, &q) < 0 && !q.found)
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
	const struct tcmsg *tcm = NLMSG_DATA(nlh);
	const struct nlattr *a;
	const char *pos, *end, *s;

	if (payload_len(nlh) < sizeof(*tcm))
		return NL_CB_OK;
	if (tcm->tcm_ifindex != q->ifindex)
		return NL_CB_OK;
	attrs_of(nlh, sizeof(*tcm), &pos, &end);
	while ((a = attr_next(&pos, end)))
		if (attr_type(a) == TCA_KIND && (s = attr_str(a)) && !strcmp(s, "clsact"))
			q->found = 1;
	return NL_CB_OK;
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

	if (nl_run(buf, len, 0, 0, qdisc_cb, &q) < 0 && !q.found)
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
	const struct tcmsg *tcm = NLMSG_DATA(nlh);
	const struct nlattr *a, *o;
	const char *pos, *end, *npos, *s;
	int is_bpf = 0;
	__u32 id = 0;

	if (payload_len(nlh) < sizeof(*tcm))
		return NL_CB_OK;
	/* One answer per priority has no handle: the chain head. */
	if (tcm->tcm_ifindex != q->ifindex || tcm->tcm_parent != q->parent || !tcm->tcm_handle)
		return NL_CB_OK;
	attrs_of(nlh, sizeof(*tcm), &pos, &end);
	while ((a = attr_next(&pos, end))) {
		if (attr_type(a) == TCA_KIND && (s = attr_str(a)))
			is_bpf = !strcmp(s, "bpf");
		if (attr_type(a) != TCA_OPTIONS)
			continue;
		npos = attr_data(a);
		while ((o = attr_next(&npos, (const char *)a + a->nla_len)))
			if (attr_type(o) == TCA_BPF_ID)
				attr_u32(o, &id);
	}
	if (!is_bpf || !id)
		return NL_CB_OK;
	if (q->n < q->max)
		q->out[q->n] = (struct nl_bpf_filter){
			.handle = tcm->tcm_handle,
			.priority = TC_H_MAJ(tcm->tcm_info) >> 16,
			.prog_id = id,
		};
	q->n++;
	return NL_CB_OK;
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

	if (nl_run(buf, len, 0, 0, filter_cb, &q) < 0)
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
	int fd;
};

struct nl_watch *nl_addr_watch_open(void)
{
	struct nl_watch *w = calloc(1, sizeof(*w));
	__u32 portid;

	if (!w)
		return NULL;
	/* Address changes (IPv6: also an address leaving duplicate address
	 * detection, or deprecated), links coming and going, and IPv4 routes
	 * (the fast path's cached hops: route.h). */
	w->fd = nl_open(RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_LINK | RTMGRP_IPV4_ROUTE,
			SOCK_NONBLOCK, &portid);
	if (w->fd < 0) {
		free(w);	/* keeps errno */
		return NULL;
	}
	/* A lost event shows as ENOBUFS on the next read (the default,
	 * NETLINK_NO_ENOBUFS off): then the address is simply read again. */
	return w;
}

int nl_addr_watch_fd(const struct nl_watch *w)
{
	return w->fd;
}

struct watch_ctx {
	int ifindex;
	int relevant;
	int routes;
};

static int watch_cb(const struct nlmsghdr *nlh, void *data)
{
	struct watch_ctx *c = data;
	size_t plen = payload_len(nlh);

	if (nlh->nlmsg_type == RTM_NEWADDR || nlh->nlmsg_type == RTM_DELADDR) {
		const struct ifaddrmsg *ifa = NLMSG_DATA(nlh);

		if (plen >= sizeof(*ifa) && (int)ifa->ifa_index == c->ifindex)
			c->relevant = 1;
	} else if (nlh->nlmsg_type == RTM_NEWLINK || nlh->nlmsg_type == RTM_DELLINK) {
		const struct ifinfomsg *ifi = NLMSG_DATA(nlh);

		if (plen >= sizeof(*ifi) && ifi->ifi_index == c->ifindex)
			c->relevant = 1;
		c->routes = 1;	/* any link: up, down, MTU */
	} else if (nlh->nlmsg_type == RTM_NEWROUTE || nlh->nlmsg_type == RTM_DELROUTE) {
		c->routes = 1;
	}
	return NL_CB_OK;
}

int nl_parse_events(const void *buf, size_t len, int ifindex, int *relevant, int *routes_changed)
{
	struct watch_ctx c = { .ifindex = ifindex };
	int ret = nl_run(buf, len, 0, 0, watch_cb, &c);

	*relevant |= c.relevant;
	*routes_changed |= c.routes;
	return ret < 0 ? -1 : 0;
}

int nl_addr_watch_drain(struct nl_watch *w, int ifindex, int *routes_changed)
{
	__u32 buf[NL_BUF / sizeof(__u32)];	/* aligned for the headers */
	struct watch_ctx c = { .ifindex = ifindex };
	ssize_t n;

	for (;;) {
		n = nl_recv(w->fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS || errno == ENOSPC) {	/* events lost: look again */
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
	close(w->fd);
	free(w);
}

/* ---- a VLAN device's real device and tag (RTM_GETLINK) -------------------- */

struct vlan_query {
	int ifindex;
	int found;
	struct nl_vlan_link *v;
};

/* IFLA_LINKINFO: IFLA_INFO_KIND "vlan", IFLA_INFO_DATA's id and protocol. */
static void vlan_linkinfo(const struct nlattr *info, struct nl_vlan_link *v)
{
	const char *pos = attr_data(info), *end = pos + attr_len(info);
	const struct nlattr *a, *d;

	while ((a = attr_next(&pos, end))) {
		const char *dpos = attr_data(a), *dend = dpos + attr_len(a);

		if (attr_type(a) == IFLA_INFO_KIND) {
			const char *kind = attr_str(a);

			v->vlan = kind && !strcmp(kind, "vlan");
			continue;
		}
		if (attr_type(a) != IFLA_INFO_DATA)
			continue;
		while ((d = attr_next(&dpos, dend))) {
			__u16 u;

			if (attr_len(d) != sizeof(u))
				continue;
			memcpy(&u, attr_data(d), sizeof(u));
			if (attr_type(d) == IFLA_VLAN_ID)
				v->id = u;
			else if (attr_type(d) == IFLA_VLAN_PROTOCOL)
				v->proto = ntohs(u);
		}
	}
}

static int vlan_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vlan_query *q = data;
	const struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	const struct nlattr *a;
	const char *pos, *end;
	__u32 lower;

	if (nlh->nlmsg_type != RTM_NEWLINK || payload_len(nlh) < sizeof(*ifi) ||
	    ifi->ifi_index != q->ifindex || q->found)
		return NL_CB_OK;
	q->found = 1;
	attrs_of(nlh, sizeof(*ifi), &pos, &end);
	while ((a = attr_next(&pos, end))) {
		if (attr_type(a) == IFLA_LINK && attr_u32(a, &lower))
			q->v->lower = (int)lower;
		else if (attr_type(a) == IFLA_LINKINFO)
			vlan_linkinfo(a, q->v);
	}
	return NL_CB_OK;
}

static void link_fill(void *hdr, void *data)
{
	struct ifinfomsg *ifi = hdr;

	ifi->ifi_family = AF_UNSPEC;
}

int nl_parse_vlan(const void *buf, size_t len, int ifindex, struct nl_vlan_link *v)
{
	struct vlan_query q = { .ifindex = ifindex, .v = v };

	memset(v, 0, sizeof(*v));
	if (nl_run(buf, len, 0, 0, vlan_cb, &q) < 0 && !q.found)
		return -1;
	return q.found;
}

int nl_get_vlan(int ifindex, struct nl_vlan_link *v)
{
	struct vlan_query q = { .ifindex = ifindex, .v = v };
	int err;

	memset(v, 0, sizeof(*v));
	err = nl_dump(RTM_GETLINK, sizeof(struct ifinfomsg), link_fill, vlan_cb, &q);
	if (err)
		return err;
	return q.found ? 0 : -ENODEV;
}
