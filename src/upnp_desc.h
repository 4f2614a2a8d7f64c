/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The IGD's description documents (UDA 1.1 §2): the device description of
 * each root (InternetGatewayDevice:1 and :2) and the service descriptions
 * (SCPD) of WANCommonInterfaceConfig:1 and WANIPConnection:1/2, written
 * from the table of actions the control server implements. Pure.
 */
#ifndef FC_UPNP_DESC_H
#define FC_UPNP_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include "upnp_ssdp.h"

#define UPNP_DESC_MAX 12288

enum upnp_svc { UPNP_SVC_CIF, UPNP_SVC_IPCONN };

/* The description paths, control and event URLs of root version v. */
#define UPNP_ROOT_PATH_FMT "/rootDesc%d.xml"

/* Is action part of service svc of version v (what its SCPD lists)? */
bool upnp_desc_has_action(enum upnp_svc svc, int v, const char *action);

/* Written to out (UPNP_DESC_MAX); the length, 0: did not fit. */
size_t upnp_desc_root(char *out, size_t cap, int v, const struct upnp_ids *ids);
size_t upnp_desc_scpd(char *out, size_t cap, enum upnp_svc svc, int v);

#endif
