/* SPDX-License-Identifier: GPL-2.0 */
/* Command line and configuration file: everything that configures a run. */
#ifndef FC_OPTIONS_H
#define FC_OPTIONS_H

#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>

#include <fcnat/types.h>
#include "nat64_pool.h"
#include "vlan.h"

#define FC_MAX_IFACES 16

/* Exit statuses: usage errors are 2, run-time failures 1. */
enum { FC_EXIT_OK = 0, FC_EXIT_FAIL = 1, FC_EXIT_USAGE = 2 };

/* What this invocation does: run the daemon (default) or one command. */
enum fc_command {
	FC_CMD_RUN,
	FC_CMD_DETACH,		/* --detach: remove a kept instance */
	FC_CMD_SHOW_MAPPINGS,	/* fcnat show mappings */
	FC_CMD_SHOW_SESSIONS,	/* fcnat show sessions */
	FC_CMD_STATS,		/* fcnat stats */
	FC_CMD_CHECK_CONFIG,	/* --check-config FILE: validate, attach nothing */
	FC_CMD_SHOW_SUBSCRIBERS,	/* fcnat show subscribers */
	FC_CMD_LOOKUP,		/* fcnat lookup ADDR [PORT]: deterministic NAT */
	FC_CMD_SHOW_SYNC,	/* fcnat show sync: the daemon's HA state sync */
};

#define FC_MAX_FORWARDS 64

/* A static forward: external ports [ext_first, ext_last] of proto go to
 * int_addr, ports from int_port on; an IPv6 int_addr through NAT64. */
struct fc_forward {
	__u8 proto;		/* FC_PROTO_TCP or FC_PROTO_UDP */
	__u8 int_family;	/* FC_AF_INET, or FC_AF_INET6 (NAT64) */
	__u16 ext_first;	/* host order */
	__u16 ext_last;
	__u16 int_port;		/* host order */
	union fc_addr int_addr;
};

#define FC_MAX_PCP_ALLOW 16

struct fc_prefix4 {
	__be32 addr;
	unsigned int len;
};

/* Carrier-grade NAT (doc/design/cgnat.md). */
#define FC_MAX_POOL_PREFIXES 64
#define FC_MAX_SCOPE_PREFIXES 256
#define FC_REFUSE_ICMP_RATE_DEFAULT 100

struct fc_cgnat_opts {
	unsigned int nr_pool;		/* --pool: 0 = the interface's address */
	struct fc_prefix4 pool[FC_MAX_POOL_PREFIXES];
	unsigned int nr_internal;	/* --internal-prefix: 0 = every source */
	struct fc_prefix4 internal[FC_MAX_SCOPE_PREFIXES];
	unsigned int nr_exclude;	/* --exclude: destinations not translated */
	struct fc_prefix4 exclude[FC_MAX_SCOPE_PREFIXES];
	unsigned int limit[FC_SUB_PROTOS];	/* mappings per subscriber, 0 = none */
	unsigned int refuse_icmp_rate;	/* per second and CPU, 0 = no ICMP */
	unsigned int block_size;	/* --port-block-size: 0 = no port blocks */
	unsigned int max_blocks;	/* --max-port-blocks per subscriber */
	bool det_on;			/* --deterministic (RFC 7422) */
	struct fc_prefix4 det;		/* its internal prefix */
};

/* NAT-PMP/PCP server (src/pcp.c); off while nr_ifs is 0. Restart-only. */
struct fc_pcp_opts {
	unsigned int nr_ifs;
	char ifs[FC_MAX_IFACES][IF_NAMESIZE];
	unsigned int nr_allow;		/* prefixes accepted besides the on-link ones */
	struct fc_prefix4 allow[FC_MAX_PCP_ALLOW];
	bool third_party;		/* PCP THIRD_PARTY option allowed */
	unsigned int min_lifetime;	/* seconds, granted lifetimes are clamped */
	unsigned int max_lifetime;
	unsigned int rate;		/* requests per second per client */
	unsigned int max_per_host;	/* mappings per internal address */
	/* UPnP IGD (src/upnp.c) on these interfaces, same table and limits. */
	unsigned int nr_upnp_ifs;
	char upnp_ifs[FC_MAX_IFACES][IF_NAMESIZE];
};

/* HA state sync (src/sync.c, doc/design/ha.md); off without peers. */
#define FC_SYNC_PEERS_MAX 8
struct fc_sync_opts {
	unsigned int nr_peers;
	char peers[FC_SYNC_PEERS_MAX][128];	/* --sync-peer ADDR:PORT, repeatable */
	bool peers_cli;		/* the command line's list replaces the file's */
	char listen[128];	/* --sync-listen ADDR:PORT */
	char key_path[256];	/* --sync-key FILE */
};

/* Datapath: TC programs only, or XDP forwarding in front of them. */
enum fc_mode {
	FC_MODE_TC,
	FC_MODE_XDP,
};

/* Whether the mapping and session tables take their memory at start. */
enum fc_prealloc {
	FC_PREALLOC_AUTO,	/* yes where the kernel refills BPF's allocator
				 * only at the timer tick (kernel_features.h) */
	FC_PREALLOC_YES,
	FC_PREALLOC_NO,
};

/* How XDP programs are attached. */
enum fc_xdp_mode {
	FC_XDP_AUTO,		/* native, else generic with a warning */
	FC_XDP_NATIVE,
	FC_XDP_GENERIC,
};

struct fc_options {
	enum fc_command cmd;
	char ifname[IF_NAMESIZE];
	char config_path[4096];
	bool nat44;
	bool nat66;
	bool nat64;
	__u8 nat64_prefix[16];		/* RFC 6052 prefix, bits past the length zero */
	unsigned int nat64_prefix_len;	/* 32, 40, 48, 56, 64 or 96 */
	int nat64_tos;			/* --nat64-tos: -1 copied, else the IPv4 TOS */
	unsigned int nat64_lowest_mtu;	/* --nat64-lowest-mtu, RFC 7915's lowest-ipv6-mtu */
	bool nat64_udp0_drop;		/* --nat64-udp-zero-checksum drop (default compute) */
	unsigned int frag_hold_s;	/* --fragment-hold: early fragments held, seconds */
	struct fc_nat64_pool_opts nat64pool;	/* address mapping (src/nat64_pool.c) */
	unsigned int nr_port_ranges;	/* --ports: every protocol's, unless its own is set */
	struct fc_port_range port_ranges[FC_MAX_PORT_RANGES];
	/* --tcp-ports, --udp-ports, --icmp-ids (src/ports.c), by FC_SUB_*. */
	struct fc_proto_ports {
		bool set;	/* in place of --ports */
		bool off;	/* "none": not translated */
		unsigned int nr;
		struct fc_port_range r[FC_MAX_PORT_RANGES];
	} proto_ports[FC_SUB_PROTOS];
	unsigned int nr_hairpin_ifs;
	char hairpin_ifs[FC_MAX_IFACES][IF_NAMESIZE];
	unsigned int nr_forwards;
	struct fc_forward forwards[FC_MAX_FORWARDS];
	enum fc_mode mode;
	enum fc_xdp_mode xdp_mode;
	unsigned int nr_internal_ifs;	/* --lan-if: fast-path forwarding and hairpin */
	char internal_ifs[FC_MAX_IFACES][IF_NAMESIZE];
	struct fc_vlan_spec vlan;	/* --vlan: tags on the external link's frames */
	unsigned int bpf_log;
	unsigned int timeout_s[FC_TIMEOUT_MAX];
	unsigned int max_mappings;
	unsigned int max_sessions;
	enum fc_prealloc prealloc_tables;
	bool preserve_low_ports;
	bool log_mappings;	/* mapping create/delete to stderr, rate-limited */
	bool syslog;		/* NAT events to the local syslog daemon */
	char syslog_path[108];	/* its socket, default /dev/log */
	char ipfix[128];	/* IPFIX collector ADDR:PORT (UDP), "" = off */
	__u32 ipfix_domain;	/* observation domain ID */
	unsigned int ipfix_template_s;	/* template refresh interval */
	unsigned int event_ring_kb;	/* fc_events ring buffer size */
	bool verbose;
	bool keep_state;	/* SIGTERM leaves the datapath and its state */
	bool wait_for_address;	/* start with no external address, take the first one */
	char bpffs[256];	/* root of the pinned state, one directory per interface */
	char metrics[128];	/* ADDR:PORT of the Prometheus endpoint, "" = off */
	struct fc_pcp_opts pcp;
	struct fc_sync_opts sync;
	struct fc_cgnat_opts cgnat;
	/* show / stats */
	bool json;
	unsigned int filter_proto;	/* 0: any, else enum fc_proto */
	bool filter_internal_set;
	struct fc_prefix4 filter_internal;	/* --internal: internal IPv4 network */
	unsigned int filter_external;	/* external port, 0: any */
	/* lookup */
	char lookup_addr[64];
	int lookup_port;		/* -1: ADDR is internal */
};

enum fc_parse_result {
	FC_OPTS_RUN,		/* go on and run */
	FC_OPTS_EXIT_OK,	/* --help or --version done */
	FC_OPTS_USAGE,		/* bad input, message printed */
};

void options_defaults(struct fc_options *o);
enum fc_parse_result options_parse(int argc, char **argv, struct fc_options *o);
void options_usage(FILE *out);

/* Whether any NAT event output is on (the datapath then reports events). */
bool options_events_on(const struct fc_options *o);

#define FC_NAT64_PREFIX_DEFAULT "64:ff9b::/96"	/* RFC 6052 §2.1 well-known prefix */

/* A NAT64 prefix "ADDR/LEN" (RFC 6052 §2.2); returns 0 or -1 with a
 * message in err. */
int parse_nat64_prefix(const char *spec, __u8 prefix[16], unsigned int *len,
		       char *err, size_t errlen);

/* "203.0.113.0/29" (host bits zero) or one address; len 32 then. */
int parse_prefix4(const char *spec, struct fc_prefix4 *out);
/* Addresses of the pool, in order, duplicates dropped; returns how many
 * (at most max), or -1 if there are more. */
int pool_addresses(const struct fc_cgnat_opts *c, __be32 *out, unsigned int max);
/* Is subscriber state kept (a pool or a limit is set)? */
bool cgnat_subscribers_on(const struct fc_cgnat_opts *c);

#define FC_MAX_PORT_BLOCKS_DEFAULT 4

/* Port blocks: 0, or -1 with a message in err when the settings cannot hold. */
int port_blocks_check(const struct fc_options *o, char *err, size_t errlen);
/* --nat64-pool4 and --nat64-static addresses outside --pool. */
int nat64_pool_vs_pool_check(const struct fc_options *o, char *err, size_t errlen);

/* "20000-29999 40000" style lists; returns 0 or -1 with a message in err. */
int parse_port_ranges(const char *spec, struct fc_port_range *ranges,
		      unsigned int *nr, char *err, size_t errlen);

#endif
