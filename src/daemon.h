/* SPDX-License-Identifier: GPL-2.0 */
/* The running daemon (daemon.c): its state, the event and sweep loop, and
 * what a start does with state a previous run left. main.c starts it. */
#ifndef FC_DAEMON_H
#define FC_DAEMON_H

#include <netinet/in.h>

#include "events.h"
#include "loader.h"
#include "metrics.h"
#include "netlink.h"
#include "options.h"
#include "pcp.h"
#include "pin.h"
#include "stats.h"
#include "sync.h"
#include "upnp.h"

/* Everything the running daemon works with. */
struct daemon {
	int argc;
	char **argv;		/* re-parsed on SIGHUP */
	struct fc_options o;
	struct fc_loader l;
	struct fc_pin pin;
	struct fc_config cfg;
	int ifindex;
	int refused_ifindex;	/* came back with a link type we cannot read */
	bool ext_bare_ip;	/* the external link has no link-layer header */
	int l3_ifindex[FC_MAX_IFACES];	/* internal/hairpin ones without one */
	unsigned int nr_l3;
	__be32 mapped_addr4;	/* the external address the maps' mappings use */
	union fc_addr mapped_addr6;	/* NAT66: the same for IPv6 */
	struct in6_addr start_addr6;	/* NAT66: the external IPv6 address at start */
	int hairpin_ifindex[FC_MAX_IFACES];	/* --hairpin-if, then the --lan-if ones */
	const char *hairpin_name[FC_MAX_IFACES];
	unsigned int nr_hairpin;
	int internal_ifindex[FC_MAX_IFACES];
	int sigfd;
	struct nl_watch *watch;	/* NULL: poll the address once a second instead */
	struct metrics_server *metrics;	/* NULL: no --metrics */
	struct fc_event_log *events;	/* NULL: no event output */
	__u64 events_base[FC_DSTAT_MAX];	/* the event counters of earlier runs */
	struct pcp_server *pcp;	/* NULL: no --pcp-if nor --upnp-if */
	struct upnp_server *upnp;	/* NULL: no --upnp-if */
	struct fc_sync *sync;	/* NULL: no --sync-peer */
};

/* XDP reads Ethernet frames only; TC mode reads both. */
#define XDP_BARE_IP_REFUSED "XDP mode needs an Ethernet link, this one has no link-layer header " \
	"(PPP, TUN, WireGuard, a tunnel): use --mode tc (README: Link types)"

/* The loop: events, netlink, signals (SIGHUP reloads), the sweep once a
 * second; returns on SIGINT/SIGTERM. */
void daemon_run(struct daemon *d);
/* Add this run's event counters to the pinned record (the next start goes
 * on from there). */
void daemon_save_event_counters(struct daemon *d);
/* Tell the datapath which interfaces have no link-layer header. */
int daemon_write_l3_links(struct daemon *d, int ext_ifindex);
/* Mappings and sessions in the (possibly reused) maps, for the log. */
void daemon_count_state(const struct fc_loader *l, unsigned long *mappings,
			unsigned long *sessions);
/* Flush kept mappings on external addresses this configuration lacks. */
void daemon_flush_stale_addresses(struct daemon *d);

#endif
