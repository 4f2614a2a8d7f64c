/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who may ask the NAT-PMP/PCP server and UPnP IGD for mappings, and how
 * often: hosts on-link on the interface a request came in on (its IPv4
 * subnets, or its IPv6 prefixes for NAT64 clients) or under --pcp-allow,
 * each within a token bucket. Everything else gets no answer at all.
 */
#ifndef FC_PCP_ACCESS_H
#define FC_PCP_ACCESS_H

#include <stdbool.h>
#include <fcnat/types.h>
#include "options.h"
#include "pcp_codec.h"

#define PCP_ACCESS_NETS_MAX 64
#define PCP_ACCESS_RATE_SLOTS 256

struct pcp_local_net {
	int ifindex;
	__u8 family;
	unsigned int len;	/* prefix length */
	union fc_addr addr;	/* the gateway's own address on it */
};

struct pcp_rate_slot {
	struct pcp_host host;
	__u64 last_ns;
	double tokens;
};

struct pcp_access {
	const struct fc_pcp_opts *po;	/* --pcp-allow, --pcp-rate */
	/* Whose subnets are accepted: the --pcp-if and --upnp-if ones. */
	unsigned int nr_ifs;
	int ifs[2 * FC_MAX_IFACES];
	unsigned int nr_nets;
	struct pcp_local_net nets[PCP_ACCESS_NETS_MAX];
	__u64 nets_at_ns;
	struct pcp_rate_slot rate[PCP_ACCESS_RATE_SLOTS];
};

/* po must outlive a (the server's copy of the options). */
void pcp_access_init(struct pcp_access *a, const struct fc_pcp_opts *po);
void pcp_access_add_if(struct pcp_access *a, int ifindex);
/* Read the interfaces' addresses again (at most once a second on a miss,
 * and when the daemon sees an address change). */
void pcp_access_refresh(struct pcp_access *a);
/* On-link on ifindex (not the gateway itself, nor a broadcast, multicast,
 * loopback or IPv6 link-local address), or an IPv4 host under --pcp-allow. */
bool pcp_access_allowed(struct pcp_access *a, const struct pcp_host *h, int ifindex);
/* --pcp-rate requests a second per host, bursts of twice that. */
bool pcp_access_rate_ok(struct pcp_access *a, const struct pcp_host *h);

#endif
