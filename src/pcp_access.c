// SPDX-License-Identifier: GPL-2.0
/* Who may ask for mappings, and how often (pcp_access.h). */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

#include "gc.h"
#include "pcp_access.h"
#include "prefix.h"

#define NS 1000000000ULL
#define NETS_REFRESH_NS NS

void pcp_access_init(struct pcp_access *a, const struct fc_pcp_opts *po)
{
	memset(a, 0, sizeof(*a));
	a->po = po;
}

void pcp_access_add_if(struct pcp_access *a, int ifindex)
{
	if (a->nr_ifs < sizeof(a->ifs) / sizeof(a->ifs[0]))
		a->ifs[a->nr_ifs++] = ifindex;
}

static unsigned int mask_len(const __u8 *m, unsigned int bytes)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < bytes; i++)
		n += __builtin_popcount(m[i]);
	return n;
}

static bool watched(const struct pcp_access *a, int ifindex)
{
	for (unsigned int k = 0; k < a->nr_ifs; k++)
		if (a->ifs[k] == ifindex)
			return true;
	return false;
}

void pcp_access_refresh(struct pcp_access *a)
{
	struct ifaddrs *ifa, *i;

	a->nets_at_ns = gc_now_ns();
	if (getifaddrs(&ifa))
		return;
	a->nr_nets = 0;
	for (i = ifa; i && a->nr_nets < PCP_ACCESS_NETS_MAX; i = i->ifa_next) {
		struct pcp_local_net *n = &a->nets[a->nr_nets];
		int idx;

		if (!i->ifa_addr || !i->ifa_netmask ||
		    (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		idx = if_nametoindex(i->ifa_name);
		if (!watched(a, idx))
			continue;
		memset(n, 0, sizeof(*n));
		n->ifindex = idx;
		if (i->ifa_addr->sa_family == AF_INET) {
			n->family = FC_AF_INET;
			n->addr.v4 = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
			n->len = mask_len((const __u8 *)&((struct sockaddr_in *)i->ifa_netmask)
						  ->sin_addr, 4);
		} else {
			n->family = FC_AF_INET6;
			memcpy(n->addr.v6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
			n->len = mask_len((const __u8 *)&((struct sockaddr_in6 *)i->ifa_netmask)
						  ->sin6_addr, 16);
		}
		a->nr_nets++;
	}
	freeifaddrs(ifa);
}

static bool all_ones_after(const __u8 *x, unsigned int len, unsigned int bits)
{
	for (unsigned int b = len; b < bits; b++)
		if (!(x[b / 8] & (0x80 >> (b % 8))))
			return false;
	return true;
}

static bool all_zero_after(const __u8 *x, unsigned int len, unsigned int bits)
{
	for (unsigned int b = len; b < bits; b++)
		if (x[b / 8] & (0x80 >> (b % 8)))
			return false;
	return true;
}

/* A host of one of ifindex's subnets: not the gateway's own address, nor
 * an IPv4 subnet's broadcast or (wider than /31) network address. */
static bool nets_match(const struct pcp_access *a, const struct pcp_host *h, int ifindex)
{
	unsigned int bits = h->family == FC_AF_INET ? 32 : 128;
	const __u8 *x = h->addr.v6;

	for (unsigned int i = 0; i < a->nr_nets; i++) {
		const struct pcp_local_net *n = &a->nets[i];

		if (n->ifindex != ifindex || n->family != h->family ||
		    !prefix_match(x, n->addr.v6, n->len) ||
		    !memcmp(x, n->addr.v6, bits / 8))
			continue;
		if (h->family == FC_AF_INET && n->len < 31 &&
		    (all_ones_after(x, n->len, 32) || all_zero_after(x, n->len, 32)))
			continue;
		return true;
	}
	return false;
}

static bool never_a_client(const struct pcp_host *h)
{
	static const __u8 zero[16];

	if (h->family == FC_AF_INET) {
		__u32 v = ntohl(h->addr.v4);

		return !v || v == 0xffffffffU || IN_MULTICAST(v) || (v >> 24) == 127;
	}
	/* Unspecified, loopback, multicast, link-local: NAT64 translates
	 * none of them (RFC 7915 §5.1). */
	return !memcmp(h->addr.v6, zero, 16) ||
	       (!memcmp(h->addr.v6, zero, 15) && h->addr.v6[15] == 1) ||
	       h->addr.v6[0] == 0xff || (h->addr.v6[0] == 0xfe && (h->addr.v6[1] & 0xc0) == 0x80);
}

bool pcp_access_allowed(struct pcp_access *a, const struct pcp_host *h, int ifindex)
{
	if (never_a_client(h))
		return false;
	for (unsigned int i = 0; h->family == FC_AF_INET && i < a->po->nr_allow; i++) {
		const struct fc_prefix4 *p = &a->po->allow[i];

		if (prefix_match(&h->addr, &p->addr, p->len))
			return true;
	}
	if (nets_match(a, h, ifindex))
		return true;
	/* An address added a moment ago: look again, at most once a second. */
	if (gc_now_ns() - a->nets_at_ns < NETS_REFRESH_NS)
		return false;
	pcp_access_refresh(a);
	return nets_match(a, h, ifindex);
}

bool pcp_access_rate_ok(struct pcp_access *a, const struct pcp_host *h)
{
	__u32 x = ntohl(h->addr.v6w[0]);
	struct pcp_rate_slot *r;
	__u64 now = gc_now_ns();
	double burst = 2.0 * a->po->rate;

	/* IPv6: its interface identifier counts too (the prefix is shared). */
	if (h->family == FC_AF_INET6)
		for (int i = 1; i < 4; i++)
			x = (x * 2654435761U) ^ ntohl(h->addr.v6w[i]);
	r = &a->rate[(x * 2654435761U) >> 24];
	if (!pcp_host_eq(&r->host, h) || !r->last_ns) {
		r->host = *h;
		r->tokens = burst;
	} else {
		r->tokens += (double)(now - r->last_ns) / NS * a->po->rate;
		if (r->tokens > burst)
			r->tokens = burst;
	}
	r->last_ns = now;
	if (r->tokens < 1.0)
		return false;
	r->tokens -= 1.0;
	return true;
}
