/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAT-PMP (RFC 6886) and PCP (RFC 6887) server: hosts behind the NAT ask
 * for mappings, which go into the same bindings map as the datapath's own
 * (doc/design/port-mapping.md).
 */
#ifndef FC_PCP_H
#define FC_PCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <fcnat/types.h>
#include "options.h"
#include "ext_addr.h"
#include "pcp_codec.h"

struct pcp_server;

/* Sockets to poll at most: IPv4 and IPv6 on each --pcp-if. */
#define PCP_POLL_MAX (2 * FC_MAX_IFACES)

#define PCP_TABLE_MAX 4096	/* mappings with a lifetime, all clients */

/* Opens UDP 5351 on every --pcp-if (before the datapath is loaded, so a
 * failure leaves nothing to undo), IPv4 and, with NAT64 (nat64: its
 * options, whose IPv6 hosts it port-maps; NULL: no NAT64) or NAT66, IPv6.
 * cfg and nat64 are read on every request (addresses, port ranges), so
 * they follow reloads. NULL on failure, message logged. */
struct pcp_server *pcp_open(const struct fc_pcp_opts *po, const struct fc_config *cfg,
			    const struct fc_nat64_pool_opts *nat64, bool nat66);
/* The maps requests work on (addr_maps: where a host's paired pool
 * address is read); before this, requests are not read. */
void pcp_attach_maps(struct pcp_server *s, int bindings_fd, int sessions_fd,
		     const struct ext_addr_maps *addr_maps);
void pcp_close(struct pcp_server *s);

/* The sockets to poll for POLLIN; returns how many were written (<= max). */
int pcp_poll_fds(const struct pcp_server *s, int *fds, int max);
/* Read and answer what waits on fd (one of pcp_poll_fds). */
void pcp_receive(struct pcp_server *s, int fd);
/* Once a second and when pcp_timeout_ms says: expire mappings whose
 * lifetime ended, send due announcements. */
void pcp_tick(struct pcp_server *s, uint64_t now_ns);
/* Milliseconds until pcp_tick has an announcement to send, -1: none. */
int pcp_timeout_ms(const struct pcp_server *s, uint64_t now_ns);
/* An external address event (changed, gone, back): the granted lifetimes
 * end with the epoch. Every mapping of the table still in the maps is
 * released to an ordinary mapping (idle timeout from now; a flush of the
 * old address may follow), the table is emptied, a new epoch begins and is
 * announced. Clients renew, and re-adopt under the usual limits. */
void pcp_state_lost(struct pcp_server *s);
/* Mappings in the lifetime table (at most PCP_TABLE_MAX). */
unsigned int pcp_nr_mappings(const struct pcp_server *s);
/* Answer one datagram of len bytes from src that came in on ifindex,
 * already accepted (on-link or --pcp-allow, within its rate): the response
 * in out (PCP_MAX_MSG + 4 bytes), its length, 0: no answer. */
size_t pcp_answer(struct pcp_server *s, const struct pcp_host *src, int ifindex, const __u8 *in,
		  size_t len, __u8 *out);

/* What the UPnP IGD (src/upnp.c) shares: the lifetime table and its
 * mappings, who may ask (on-link on ifindex or --pcp-allow), the lifetime
 * clamp, the options (third party, limits). */
struct pcp_table *pcp_table_of(struct pcp_server *s);
bool pcp_client_allowed(struct pcp_server *s, const struct pcp_host *h, int ifindex);
__u32 pcp_grant_lifetime(const struct pcp_server *s, __u32 requested);
const struct fc_pcp_opts *pcp_opts(const struct pcp_server *s);

/* Mappings a previous run made by NAT-PMP/PCP have no lifetime record any
 * more: they become ordinary dynamic mappings (idle timeout from now), and
 * the new epoch tells their clients to renew. Returns how many. */
long pcp_release_leftovers(int bindings_fd, uint64_t now_ns);

#endif
