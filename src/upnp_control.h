/* SPDX-License-Identifier: GPL-2.0 */
/*
 * UPnP IGD control: the SOAP actions of WANIPConnection:1/2 and
 * WANCommonInterfaceConfig:1 carried out on the NAT-PMP/PCP lifetime table
 * (doc/design/port-mapping.md, "UPnP IGD").
 */
#ifndef FC_UPNP_CONTROL_H
#define FC_UPNP_CONTROL_H

#include <stddef.h>
#include <fcnat/types.h>
#include "pcp.h"
#include "upnp_desc.h"
#include "upnp_soap.h"

#define UPNP_MAX_LEASE 604800	/* WANIPConnection:2: a week, and what 0 means */

struct upnp_ctl {
	struct pcp_server *pcp;
	const struct fc_config *cfg;
	__be32 src;		/* the control point's address (the TCP peer) */
	int ifindex;		/* where it connected */
	enum upnp_svc svc;	/* from the control URL */
	int v;			/* service version, from the control URL */
	__u64 started_ns;	/* for Uptime */
};

/* Answer call: the response or UPnPError envelope in out (cap bytes),
 * *len its length; returns the HTTP status (200 or 500). */
int upnp_control(const struct upnp_ctl *x, const struct soap_call *call, char *out, size_t cap,
		 size_t *len);

#endif
