/* SPDX-License-Identifier: GPL-2.0 */
/*
 * External port ranges per protocol (einat's tcp_ranges, udp_ranges,
 * icmp_ranges): --ports for all, --tcp-ports / --udp-ports / --icmp-ids for
 * one; "none" turns a protocol's NAT off, leaving it to the stack's NAT
 * (nftables masquerade: the "mixed NAT" of einat's users).
 */
#ifndef FC_PORTS_H
#define FC_PORTS_H

#include "options.h"

/* The ranges protocol slot (FC_SUB_*) uses: its own if set, else --ports.
 * *nr 0: the protocol is not translated. */
const struct fc_port_range *ports_of(const struct fc_options *o, unsigned int slot,
				     unsigned int *nr);

/* ... the same, by protocol (FC_PROTO_*). */
const struct fc_port_range *ports_of_proto(const struct fc_options *o, __u8 proto,
					   unsigned int *nr);

/* Fill the datapath's per-protocol port sets. */
void ports_fill(const struct fc_options *o, struct fc_port_set sets[FC_SUB_PROTOS]);

/* One value of --tcp-ports, --udp-ports or --icmp-ids: ranges added to
 * the protocol's list, or "none" (also ""). 0, or -1 with a message. */
int ports_parse_proto(struct fc_options *o, unsigned int slot, const char *value,
		      char *err, size_t errlen);

/* The settings taken together; 0, or -1 with a message. */
int ports_check(const struct fc_options *o, char *err, size_t errlen);

/* Ports in ranges[0..nr). */
unsigned int ports_total(const struct fc_port_range *ranges, unsigned int nr);

/* ", udp 22000-22099, icmp none" for the protocols with ranges of their
 * own; "" when every protocol uses --ports. */
void ports_describe(const struct fc_options *o, char *buf, size_t len);

/* "tcp", "udp", "icmp" for a slot; the option naming its ranges. */
const char *ports_slot_name(unsigned int slot);
const char *ports_slot_option(unsigned int slot);

#endif
