/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAT-PMP (RFC 6886) and PCP (RFC 6887) server: hosts behind the NAT ask
 * for mappings, which go into the same bindings map as the datapath's own
 * (doc/design/port-mapping.md).
 */
#ifndef FC_PCP_H
#define FC_PCP_H

#include <stdint.h>
#include <fcnat/types.h>
#include "options.h"

struct pcp_server;

/* Opens UDP 5351 on every --pcp-if (before the datapath is loaded, so a
 * failure leaves nothing to undo). cfg is read on every request (address,
 * port ranges), so it follows reloads. NULL on failure, message logged. */
struct pcp_server *pcp_open(const struct fc_pcp_opts *po, const struct fc_config *cfg);
/* The maps requests work on; before this, requests are not read. */
void pcp_attach_maps(struct pcp_server *s, int bindings_fd, int sessions_fd);
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
/* The mappings were lost (external address changed and flushed): forget
 * their lifetimes, restart the epoch, announce the new address. */
void pcp_state_lost(struct pcp_server *s);

/* Mappings a previous run made by NAT-PMP/PCP have no lifetime record any
 * more: they become ordinary dynamic mappings (idle timeout from now), and
 * the new epoch tells their clients to renew. Returns how many. */
long pcp_release_leftovers(int bindings_fd, uint64_t now_ns);

#endif
