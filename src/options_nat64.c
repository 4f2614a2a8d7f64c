// SPDX-License-Identifier: GPL-2.0
/*
 * The RFC 7915 translation's settings and the fragment hold, the choices
 * the RFCs leave to the operator: --nat64-lowest-mtu (§4.1's
 * lowest-ipv6-mtu), --nat64-udp-zero-checksum (§4.5), --fragment-hold
 * (RFC 6146 §3.4's FRAGMENT_MIN interval, also NAT44's).
 */
#include <stdio.h>
#include <string.h>

#include "option_values.h"
#include "options_int.h"

/* RFC 7915 §4.1: lowest-ipv6-mtu defaults to 1280, the IPv6 minimum, and
 * cannot go below it; an IPv4 packet is at most 65535 bytes. */
#define NAT64_LOWEST_MTU_MIN	1280
#define NAT64_LOWEST_MTU_MAX	65535
/* RFC 6146 §4: FRAGMENT_MIN is 2 s. At most the 30 s a train's record
 * lives (bpf/lib/frag.h): a follower held longer could not use it. */
#define FRAGMENT_HOLD_MIN_S	2
#define FRAGMENT_HOLD_MAX_S	30

void nat64_xlat_defaults(struct fc_options *o)
{
	o->nat64_lowest_mtu = NAT64_LOWEST_MTU_MIN;
	o->nat64_udp0_drop = false;
	o->frag_hold_s = FRAGMENT_HOLD_MIN_S;
}

int nat64_xlat_option(struct fc_options *o, int id, const char *value, char *err, size_t errlen)
{
	switch (id) {
	case OPT_NAT64_LOWEST_MTU:
		if (parse_uint(value, NAT64_LOWEST_MTU_MIN, NAT64_LOWEST_MTU_MAX,
			       &o->nat64_lowest_mtu)) {
			snprintf(err, errlen, "invalid NAT64 lowest IPv6 MTU '%s': expected %d to %d "
				 "bytes", value, NAT64_LOWEST_MTU_MIN, NAT64_LOWEST_MTU_MAX);
			return -1;
		}
		return 0;
	case OPT_NAT64_UDP_ZERO_CSUM:
		if (!strcmp(value, "compute"))
			o->nat64_udp0_drop = false;
		else if (!strcmp(value, "drop"))
			o->nat64_udp0_drop = true;
		else {
			snprintf(err, errlen, "invalid NAT64 UDP zero checksum choice '%s': expected "
				 "compute or drop", value);
			return -1;
		}
		return 0;
	case OPT_FRAGMENT_HOLD:
		if (parse_uint(value, FRAGMENT_HOLD_MIN_S, FRAGMENT_HOLD_MAX_S, &o->frag_hold_s)) {
			snprintf(err, errlen, "invalid fragment hold '%s': expected seconds, %d to %d "
				 "(RFC 6146's FRAGMENT_MIN is 2)", value, FRAGMENT_HOLD_MIN_S,
				 FRAGMENT_HOLD_MAX_S);
			return -1;
		}
		return 0;
	default:
		snprintf(err, errlen, "internal: unhandled option %d", id);
		return -1;
	}
}
