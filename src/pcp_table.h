/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The NAT-PMP/PCP lifetime table: one entry per mapping a client was
 * granted, and the mapping itself in the bindings map, flagged
 * FC_BINDING_STATIC | FC_BINDING_PCP. The two agree: every mapping so
 * flagged has exactly one entry, which ends it; what would be left without
 * one is released (flags cleared, idle timeout from now). An entry is made
 * only within both limits: PCP_TABLE_MAX and max_per_host per internal
 * address (doc/design/port-mapping.md).
 */
#ifndef FC_PCP_TABLE_H
#define FC_PCP_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <fcnat/types.h>
#include "pcp.h"
#include "pcp_codec.h"
#include "ext_addr.h"

#define PCP_DESC_LEN 64	/* UPnP's PortMappingDescription, cut */

struct pcp_mapping {
	__u8 proto;
	bool has_nonce;
	__u16 int_port;		/* host order */
	__u16 ext_port;
	struct pcp_host host;	/* the internal endpoint's address */
	struct pcp_host ext;	/* the external address: IPv4, or IPv6 (NAT66) */
	__u64 expires_ns;
	__u8 nonce[PCP_NONCE_LEN];
	bool upnp;		/* made by UPnP IGD: its description below */
	char desc[PCP_DESC_LEN];
};

struct pcp_table {
	const struct fc_config *cfg;	/* external address, port ranges */
	int bindings_fd;		/* -1 until the maps are attached */
	int sessions_fd;
	struct ext_addr_maps addr_maps;	/* a host's paired pool address */
	unsigned int max_per_host;
	unsigned int nr_table;
	struct pcp_mapping table[PCP_TABLE_MAX];
};

enum map_status {
	MAP_OK,
	MAP_NO_EXTERNAL,	/* no external address yet */
	MAP_NO_RESOURCES,	/* no free port, table full */
	MAP_QUOTA,		/* max_per_host reached */
	MAP_REFUSED,		/* a static forward's, or another nonce's */
	MAP_PORT_UNAVAILABLE,	/* PREFER_FAILURE and the suggested port is not given */
};

struct map_req {
	__u8 proto;
	struct pcp_host host;	/* the internal endpoint's address */
	__u8 ext_family;	/* FC_AF_INET6: a NAT66 mapping; else IPv4's */
	__u16 int_port;
	__u16 suggested;	/* 0: none */
	__u32 lifetime;		/* granted, > 0 */
	bool prefer_failure;
	const __u8 *nonce;	/* PCP only */
	__u8 origin;		/* FC_BINDING_UPNP or 0 */
	const char *desc;	/* UPnP only, NULL: keep */
};

struct map_ans {
	struct pcp_host ext;
	__u16 ext_port;
	__u32 lifetime;
};

/* Create, adopt or renew the mapping of r's internal endpoint. */
enum map_status pcp_table_map(struct pcp_table *t, const struct map_req *r, struct map_ans *a);
/* Lifetime 0: delete (a forward's or another nonce's: MAP_REFUSED). */
enum map_status pcp_table_unmap(struct pcp_table *t, __u8 proto, const struct pcp_host *h,
				__u8 ext_family, __u16 int_port, const __u8 *nonce);
/* Every mapping of host h for proto in ext_family's space. */
void pcp_table_unmap_all(struct pcp_table *t, __u8 proto, const struct pcp_host *h,
			 __u8 ext_family);
/* The entry of IPv4 external endpoint (ext_addr, ext_port), NULL: none. */
struct pcp_mapping *pcp_table_find_ext(struct pcp_table *t, __u8 proto, __be32 ext_addr,
				       __u16 ext_port);
/* The n-th mapping on the IPv4 external side (UPnP IGD's index; NAT66's
 * are not the WAN connection's), NULL: none; and how many there are. */
struct pcp_mapping *pcp_table_nth4(struct pcp_table *t, unsigned long n);
unsigned int pcp_table_count4(const struct pcp_table *t);
/* The external address host's mappings get (ext_addr4_of), 0: none. */
__be32 pcp_table_ext_addr(const struct pcp_table *t, const struct pcp_host *h);
/* The entry of an internal endpoint's mapping in ext_family's space, NULL:
 * none. */
struct pcp_mapping *pcp_table_find(struct pcp_table *t, __u8 proto, const struct pcp_host *h,
				   __u8 ext_family, __u16 port);
/* Delete the mappings whose lifetime ended by now_ns. */
void pcp_table_expire(struct pcp_table *t, __u64 now_ns);
/* The lifetimes are lost: release every mapping of the table, empty it. */
void pcp_table_release_all(struct pcp_table *t, __u64 now_ns);

#endif
