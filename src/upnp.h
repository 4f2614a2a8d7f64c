/* SPDX-License-Identifier: GPL-2.0 */
/*
 * UPnP IGD server (--upnp-if): SSDP discovery on UDP 1900, the
 * descriptions and SOAP control over HTTP, GENA events of the external
 * address, in the daemon's poll loop. Mappings go into the NAT-PMP/PCP
 * lifetime table (doc/design/port-mapping.md).
 */
#ifndef FC_UPNP_H
#define FC_UPNP_H

#include <poll.h>
#include <stdint.h>
#include "options.h"
#include "pcp.h"

#define UPNP_CONN_MAX 32	/* HTTP connections, all clients */
#define UPNP_SUBS_MAX 16	/* GENA subscriptions and event deliveries */
#define UPNP_POLL_MAX (2 * FC_MAX_IFACES + UPNP_CONN_MAX + UPNP_SUBS_MAX)

struct upnp_server;

/* Opens SSDP and HTTP on every --upnp-if; NULL on failure, logged. */
struct upnp_server *upnp_open(struct pcp_server *pcp, const struct fc_pcp_opts *po,
			      const struct fc_config *cfg);
/* Says ssdp:byebye, closes everything. */
void upnp_close(struct upnp_server *s);
/* The descriptors to poll, with their events; how many (<= max). */
int upnp_poll_fds(struct upnp_server *s, struct pollfd *pfd, int max);
/* After poll: serve what pfd (as filled by upnp_poll_fds) says is ready. */
void upnp_handle(struct upnp_server *s, const struct pollfd *pfd, int n);
/* Timers: delayed search answers, announcements, connection deadlines,
 * external address events. */
void upnp_tick(struct upnp_server *s, uint64_t now_ns);
int upnp_timeout_ms(const struct upnp_server *s, uint64_t now_ns);

#endif
