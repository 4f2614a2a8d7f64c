/* SPDX-License-Identifier: GPL-2.0 */
/* Inside the option parser: the option ids and their table (options_table.c),
 * shared by the command line and configuration file readers (options.c) and
 * the concerns' setters (options_cgnat.c). */
#ifndef FC_OPTIONS_INT_H
#define FC_OPTIONS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

enum opt_id {
	OPT_HELP = 'h',
	OPT_VERSION = 'v',
	OPT_IFNAME = 'i',
	OPT_CONFIG = 'c',
	OPT_NAT44 = 256,
	OPT_NAT66,
	OPT_NAT64,
	OPT_NAT64_TOS,
	OPT_NAT64_POOL4,
	OPT_NAT64_ALLOW,
	OPT_NAT64_STATIC,
	OPT_NAT64_POOL4_TIMEOUT,
	OPT_NAT64_LOWEST_MTU,
	OPT_NAT64_UDP_ZERO_CSUM,
	OPT_FRAGMENT_HOLD,
	OPT_PORTS,
	OPT_HAIRPIN_IF,
	OPT_FORWARD,
	OPT_CHECK_CONFIG,
	OPT_BPF_LOG,
	OPT_TIMEOUT_UDP,
	OPT_TIMEOUT_ICMP,
	OPT_TIMEOUT_TCP_EST,
	OPT_TIMEOUT_TCP_TRANS,
	OPT_MAX_MAPPINGS,
	OPT_MAX_SESSIONS,
	OPT_PREALLOC_TABLES,
	OPT_VERBOSE,
	OPT_KEEP_STATE,
	OPT_WAIT_FOR_ADDRESS,
	OPT_PRESERVE_LOW_PORTS,
	OPT_LOG_MAPPINGS,
	OPT_BPFFS,
	OPT_DETACH,
	OPT_JSON,
	OPT_PROTO,
	OPT_INTERNAL,
	OPT_EXTERNAL,
	OPT_METRICS,
	OPT_PCP_IF,
	OPT_UPNP_IF,
	OPT_PCP_ALLOW,
	OPT_PCP_THIRD_PARTY,
	OPT_PCP_MIN_LIFETIME,
	OPT_PCP_MAX_LIFETIME,
	OPT_PCP_RATE,
	OPT_PCP_MAX_PER_HOST,
	OPT_MODE,
	OPT_XDP_MODE,
	OPT_SYSLOG,
	OPT_SYSLOG_SOCKET,
	OPT_IPFIX,
	OPT_IPFIX_DOMAIN,
	OPT_IPFIX_TEMPLATE_INTERVAL,
	OPT_EVENT_RING_KB,
	OPT_POOL,
	OPT_INTERNAL_PREFIX,
	OPT_EXCLUDE,
	OPT_MAX_PER_SUBSCRIBER,
	OPT_REFUSED_ICMP_RATE,
	OPT_DETERMINISTIC,
	OPT_PORT_BLOCK_SIZE,
	OPT_MAX_PORT_BLOCKS,
	OPT_LAN_IF,
	OPT_BPF_LOADER,
	OPT_TCP_PORTS,
	OPT_UDP_PORTS,
	OPT_ICMP_IDS,
	OPT_IMPORT_EINAT,
	OPT_VLAN,
	OPT_SYNC_PEER,
	OPT_SYNC_LISTEN,
	OPT_SYNC_KEY,
};

/* Where an option applies: the daemon, the show/stats commands, or both. */
enum opt_ctx {
	CTX_RUN = 1 << 0,
	CTX_SHOW = 1 << 1,
	CTX_ANY = CTX_RUN | CTX_SHOW,
	CTX_NO_FILE = 1 << 2,	/* not a configuration file key */
};

struct option_desc {
	const char *name;
	int id;
	const char *arg;	/* NULL: a flag; "x ...": one or more values; "[x]": optional */
	const char *help;
	int ctx;	/* enum opt_ctx */
};

extern const struct option_desc fc_option_table[];
extern const size_t fc_nr_options;

/* The option of that long name (also its configuration file key), or NULL. */
const struct option_desc *option_by_name(const char *name);
bool *option_flag(struct fc_options *o, int id);
const struct option_desc *option_by_id(int id);

/* --pool, --internal (--internal-prefix), --exclude: one prefix into its list. */
int add_cgnat_prefix(struct fc_options *o, int id, const char *spec, char *err, size_t errlen);
/* --max-per-subscriber: "N" for every protocol, or "tcp=N,udp=N,icmp=N". */
int parse_sub_limit(struct fc_options *o, const char *value, char *err, size_t errlen);
/* --nat64-lowest-mtu, --nat64-udp-zero-checksum, --fragment-hold
 * (options_nat64.c). */
void nat64_xlat_defaults(struct fc_options *o);
int nat64_xlat_option(struct fc_options *o, int id, const char *value, char *err, size_t errlen);
/* --sync-peer (a list, repeatable), --sync-listen, --sync-key (options_sync.c);
 * from_cli: the first --sync-peer there replaces the file's peers. */
int sync_opts_apply(struct fc_sync_opts *so, int id, const char *value, bool from_cli,
		    char *err, size_t errlen);

#endif
