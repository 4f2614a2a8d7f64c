/* SPDX-License-Identifier: GPL-2.0 */
/* What the datapath can read on an interface: its link-layer type. */
#ifndef FC_LINK_H
#define FC_LINK_H

#include <stdbool.h>
#include <stddef.h>

/*
 * 0 when the datapath reads ifname's frames right: Ethernet (veth, bridges,
 * NICs, Wi-Fi, VLAN sub-interfaces), a link without a link-layer header
 * (PPP, TUN, WireGuard, IP-in-IP, SIT, point-to-point GRE: *bare_ip set,
 * TC mode only; doc/design/link-types.md), or the loopback interface when
 * loopback_ok (hairpinning). Otherwise -1 with why set to a sentence naming
 * the link type: on a link whose header it does not know the datapath
 * would read every packet wrong and let LAN addresses out untranslated.
 * Also -1 (errno set, why says so) when the type cannot be read.
 */
int link_check(const char *ifname, bool loopback_ok, bool *bare_ip, char *why, size_t len);

/* The ARPHRD_* name of a link type, "type N" for one not in the table. */
const char *link_type_name(unsigned int arphrd, char *buf, size_t len);

#endif /* FC_LINK_H */
