/* SPDX-License-Identifier: GPL-2.0 */
/*
 * GENA eventing of the IGD (UDA 1.1 §4): SUBSCRIBE/UNSUBSCRIBE, and
 * NOTIFY of ExternalIPAddress, PortMappingNumberOfEntries (WANIPConnection)
 * and PhysicalLinkStatus (WANCommonInterfaceConfig) to each subscriber's
 * callback, which must be on the subscriber's own address (the gateway
 * never connects elsewhere for a client).
 */
#ifndef FC_UPNP_GENA_H
#define FC_UPNP_GENA_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcnat/types.h>
#include "pcp.h"
#include "upnp_http.h"

#define GENA_PATH_MAX 128

struct upnp_gena;

/* A CALLBACK header's first URL, "<http://A.B.C.D[:port]/path>": false
 * unless it is exactly that (IPv4 literal, port 1..65535, path printable
 * and shorter than GENA_PATH_MAX). Pure (fuzzed by lf_upnp_http). */
bool gena_parse_callback(const char *v, size_t len, __be32 *addr, __u16 *port, char *path);

/* A TIMEOUT header: "Second-N" or "Second-infinite" to seconds clamped to
 * [300, 1800]; absent or malformed: 1800. Pure. */
unsigned int gena_parse_timeout(const struct upnp_str *v);

struct upnp_gena *upnp_gena_open(const struct fc_config *cfg, struct pcp_server *pcp);
void upnp_gena_close(struct upnp_gena *g);
/* A SUBSCRIBE or UNSUBSCRIBE from peer: the HTTP status; on 200, the SID
 * and TIMEOUT headers in extra (CRLF-terminated lines). */
int upnp_gena_request(struct upnp_gena *g, const struct upnp_head *h, __be32 peer, char *extra,
		      size_t len);
/* The mapping table changed: PortMappingNumberOfEntries is due. */
void upnp_gena_changed(struct upnp_gena *g);
int upnp_gena_poll_fds(struct upnp_gena *g, struct pollfd *pfd, int max);
void upnp_gena_handle(struct upnp_gena *g, const struct pollfd *p);
/* Expire subscriptions, time out deliveries, notice a new external
 * address and send what is due. */
void upnp_gena_tick(struct upnp_gena *g, uint64_t now_ns);

#endif
