// SPDX-License-Identifier: GPL-2.0
/*
 * Options are declared once, in fc_option_table, with their help text:
 * getopt's table and --help are both made from it. A configuration file
 * (INI, parsed by libinih) sets the same things; the command line wins.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "forward.h"
#include "import_einat.h"
#include "ipfix.h"
#include "deterministic.h"
#include "options.h"
#include "pin.h"
#include "ports.h"
#include "syslog_sink.h"
#include "sync.h"
#include "vlan.h"

#ifndef FCNAT_VERSION
#define FCNAT_VERSION "0.1.0"
#endif

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

static const struct option_desc fc_option_table[] = {
	{ "help", OPT_HELP, NULL, "Print this message", CTX_ANY | CTX_NO_FILE },
	{ "config", OPT_CONFIG, "<file>", "Path to configuration file (see fcnat.conf(5))",
	  CTX_ANY | CTX_NO_FILE },
	{ "check-config", OPT_CHECK_CONFIG, "<file>", "Validate a configuration file (with the other\n"
						    "options given) and exit; attach nothing",
	  CTX_RUN | CTX_NO_FILE },
	{ "ifname", OPT_IFNAME, "<name>", "External network interface name, e.g. eth0", CTX_ANY },
	{ "nat44", OPT_NAT44, NULL, "Enable NAT44/NAPT44 for the external interface, enabled by\n"
				    "default if neither --nat44 nor --nat66 are specified", CTX_RUN },
	{ "nat66", OPT_NAT66, NULL, "Enable NAT66/NAPT66 for the external interface", CTX_RUN },
	{ "nat64", OPT_NAT64, "[prefix]", "Enable stateful NAT64 for IPv6 hosts to reach IPv4 ones\n"
	  "under PREFIX, default " FC_NAT64_PREFIX_DEFAULT " (RFC 6052 lengths\n"
	  "32, 40, 48, 56, 64, 96); needs --hairpin-if or --lan-if", CTX_RUN },
	{ "nat64-tos", OPT_NAT64_TOS, "<n>|copy", "NAT64: IPv4 packets leave with TOS n (0-255) and IPv6\n"
	  "ones with traffic class 0 (RFC 7915); default copy", CTX_RUN },
	{ "nat64-pool4", OPT_NAT64_POOL4, "<prefix>", "NAT64 address mapping: each IPv6 host gets an\n"
	  "address of this IPv4 prefix (/16 to /32) on its first\npacket, ports kept", CTX_RUN },
	{ "nat64-pool4-timeout", OPT_NAT64_POOL4_TIMEOUT, "<sec>", "Idle time after which an address of\n"
	  "--nat64-pool4 is taken back, defaults to 7200", CTX_RUN },
	{ "nat64-allow", OPT_NAT64_ALLOW, "<prefix> ...", "NAT64 translates only these IPv6 sources\n"
	  "(others dropped and counted)", CTX_RUN },
	{ "nat64-static", OPT_NAT64_STATIC, "<v6>=<v4> ...", "NAT64 address mappings that never expire,\n"
	  "reachable from IPv4 first", CTX_RUN },
	{ "ports", OPT_PORTS, "<range> ...", "External TCP/UDP port ranges (ICMP ids too), defaults\n"
	  "to 20000-29999", CTX_RUN },
	{ "tcp-ports", OPT_TCP_PORTS, "<range> ...|none", "TCP's own port ranges, in place of --ports\n"
	  "(einat's tcp_ranges); none: no NAT for TCP, left to\nthe stack (nftables masquerade)", CTX_RUN },
	{ "udp-ports", OPT_UDP_PORTS, "<range> ...|none", "UDP's own port ranges (einat's udp_ranges);\n"
	  "none: no NAT for UDP", CTX_RUN },
	{ "icmp-ids", OPT_ICMP_IDS, "<range> ...|none", "ICMP echo identifier ranges (einat's\n"
	  "icmp_ranges), defaults to --ports; none: no NAT\nfor ICMP", CTX_RUN },
	{ "mode", OPT_MODE, "<tc|xdp>", "Datapath: tc (default) or xdp (forwarding in XDP,\n"
	  "TC for the rest; needs --lan-if)", CTX_RUN },
	{ "internal", OPT_INTERNAL, "<CIDR> ...", "Perform source NAT for these internal networks\n"
	  "only, e.g. 192.168.1.0/24; others pass untouched\n(einat's --internal; alias --internal-prefix).\n"
	  "show: only mappings of these internal addresses", CTX_ANY },
	{ "lan-if", OPT_LAN_IF, "<name> ...", "Internal (LAN) interfaces: fast-path forwarding\n"
	  "from them and hairpinning on them (fcnat's own;\nno einat equivalent)", CTX_RUN },
	{ "xdp-mode", OPT_XDP_MODE, "<mode>", "XDP attach mode: native, generic or auto (default:\n"
	  "native, else generic with a warning)", CTX_RUN },
	{ "vlan", OPT_VLAN, "<id>|<outer.inner>", "The external interface's frames carry this 802.1Q\n"
	  "tag (1-4094), or QinQ tags (802.1ad outer, 802.1Q inner,\n"
	  "e.g. 100.7), which its kernel has no VLAN device for:\n"
	  "taken off what arrives, put on what leaves", CTX_RUN },
	{ "hairpin-if", OPT_HAIRPIN_IF, "<name> ...", "Internal interfaces to hairpin on, e.g. lo lan0",
	  CTX_RUN },
	{ "forward", OPT_FORWARD, "<spec> ...", "Static forwards PROTO:EXT_PORT[-LAST]=ADDR:PORT,\n"
						"e.g. udp:25000=192.168.1.10:3074", CTX_RUN },
	{ "bpf-log", OPT_BPF_LOG, "<level>", "BPF tracing log level, 0 to 5, defaults to 0, disabled",
	  CTX_RUN },
	{ "bpf-loader", OPT_BPF_LOADER, "<aya|libbpf>", "einat's BPF loader choice: accepted, with a\n"
	  "notice; fcnat has one loader (libbpf)", CTX_RUN },
	{ "timeout-udp", OPT_TIMEOUT_UDP, "<sec>", "UDP mapping idle timeout, defaults to 300", CTX_RUN },
	{ "timeout-icmp", OPT_TIMEOUT_ICMP, "<sec>", "ICMP query mapping idle timeout, defaults to 60",
	  CTX_RUN },
	{ "timeout-tcp-est", OPT_TIMEOUT_TCP_EST, "<sec>", "TCP established idle timeout, defaults to 7440",
	  CTX_RUN },
	{ "timeout-tcp-trans", OPT_TIMEOUT_TCP_TRANS, "<sec>", "TCP transitory timeout, defaults to 240",
	  CTX_RUN },
	{ "max-mappings", OPT_MAX_MAPPINGS, "<n>", "Mapping table size, defaults to 65536", CTX_RUN },
	{ "max-sessions", OPT_MAX_SESSIONS, "<n>", "Session table size, defaults to 262144", CTX_RUN },
	{ "prealloc-tables", OPT_PREALLOC_TABLES, "<auto|yes|no>", "Take the mapping and session tables' memory at\n"
	  "start (yes) or as flows come (no); auto: yes on MIPS,\n"
	  "whose kernel refills BPF's allocator only at the tick", CTX_RUN },
	{ "pool", OPT_POOL, "<prefix> ...", "External address pool (CGNAT): addresses or prefixes,\n"
					    "e.g. 203.0.113.0/28; routed to this gateway by the\n"
					    "upstream. Default: the interface's own address", CTX_RUN },
	{ "internal-prefix", OPT_INTERNAL_PREFIX, "<prefix> ...", "Same as --internal: translate only\n"
	  "sources in these prefixes, e.g. 100.64.0.0/10", CTX_RUN },
	{ "exclude", OPT_EXCLUDE, "<prefix> ...", "Destinations never translated, e.g. 10.0.0.0/8",
	  CTX_RUN },
	{ "max-mappings-per-subscriber", OPT_MAX_PER_SUBSCRIBER, "<n|proto=n,...>",
	  "Mappings one internal address may have per protocol:\n"
	  "N for each, or e.g. tcp=1000,udp=500,icmp=50", CTX_RUN },
	{ "port-block-size", OPT_PORT_BLOCK_SIZE, "<n>", "Port blocks (RFC 7753 style): subscribers get ports\n"
	  "in blocks of N from their paired address, one log\nrecord per block (needs one --ports range)",
	  CTX_RUN },
	{ "max-port-blocks", OPT_MAX_PORT_BLOCKS, "<n>", "Port blocks one subscriber may hold, 1 to 32,\n"
	  "defaults to 4", CTX_RUN },
	{ "deterministic", OPT_DETERMINISTIC, "<prefix>", "Deterministic NAT (RFC 7422): each address of\n"
	  "this internal prefix gets a fixed pool address and\nport range (needs --pool, one --ports "
	  "range);\nothers are not translated. See fcnat lookup", CTX_RUN },
	{ "refused-icmp-rate", OPT_REFUSED_ICMP_RATE, "<n>", "ICMP errors for refused new flows (and\n"
	  "NAT64's too-big errors) per second and CPU, defaults\nto 100; 0: none", CTX_RUN },
	{ "log-mappings", OPT_LOG_MAPPINGS, NULL, "Log each mapping created and deleted to stderr\n"
						  "(at most 100 lines a second)", CTX_RUN },
	{ "syslog", OPT_SYSLOG, NULL, "Send each NAT event (mapping created, deleted...) as a\n"
				      "line to the local syslog daemon (daemon.info), not\n"
				      "rate-limited; never waits for it", CTX_RUN },
	{ "syslog-socket", OPT_SYSLOG_SOCKET, "<path>", "The syslog daemon's socket, defaults to "
	  FC_SYSLOG_DEFAULT_PATH, CTX_RUN },
	{ "ipfix", OPT_IPFIX, "<addr:port>", "Export NAT events as IPFIX (RFC 8158) over UDP to\n"
					     "this collector, e.g. 192.0.2.9:4739 (off by default)",
	  CTX_RUN },
	{ "ipfix-domain", OPT_IPFIX_DOMAIN, "<id>", "IPFIX observation domain ID, defaults to 1", CTX_RUN },
	{ "ipfix-template-interval", OPT_IPFIX_TEMPLATE_INTERVAL, "<sec>", "Send the IPFIX templates "
	  "again this often,\ndefaults to 60", CTX_RUN },
	{ "event-ring-kb", OPT_EVENT_RING_KB, "<KiB>", "Size of the datapath's event ring buffer, a power\n"
						       "of two from 4 to 65536, defaults to 256", CTX_RUN },
	{ "preserve-low-ports", OPT_PRESERVE_LOW_PORTS, NULL, "Keep internal source ports below 1024\n"
							      "when they are free and in the range", CTX_RUN },
	{ "keep-state", OPT_KEEP_STATE, NULL, "On SIGTERM leave the datapath forwarding and its state\n"
					      "pinned, for the next start to take over", CTX_RUN },
	{ "bpffs", OPT_BPFFS, "<dir>", "Where the state is pinned, one directory per interface,\n"
				       "defaults to " FC_PIN_ROOT_DEFAULT, CTX_ANY },
	{ "metrics", OPT_METRICS, "<addr:port>", "Serve Prometheus metrics on http://ADDR:PORT/metrics,\n"
						 "e.g. 127.0.0.1:9477 (off by default)", CTX_RUN },
	{ "pcp-if", OPT_PCP_IF, "<name> ...", "Serve NAT-PMP and PCP (UDP 5351) on these internal\n"
					      "interfaces, e.g. lan0 (off by default)", CTX_RUN },
	{ "upnp-if", OPT_UPNP_IF, "<name> ...", "Serve UPnP IGD (SSDP on UDP 1900, HTTP) on these\n"
						"internal interfaces, same mappings and limits as\n"
						"NAT-PMP/PCP (off by default)", CTX_RUN },
	{ "pcp-allow", OPT_PCP_ALLOW, "<prefix> ...", "NAT-PMP/PCP clients accepted besides the\n"
						      "interfaces' own subnets, e.g. 10.1.0.0/16", CTX_RUN },
	{ "pcp-third-party", OPT_PCP_THIRD_PARTY, NULL, "Allow the PCP THIRD_PARTY option (mappings\n"
							"for another accepted internal host)", CTX_RUN },
	{ "pcp-min-lifetime", OPT_PCP_MIN_LIFETIME, "<sec>", "Shortest mapping lifetime granted, defaults to 120",
	  CTX_RUN },
	{ "pcp-max-lifetime", OPT_PCP_MAX_LIFETIME, "<sec>", "Longest mapping lifetime granted, defaults to 86400",
	  CTX_RUN },
	{ "pcp-rate", OPT_PCP_RATE, "<n>", "NAT-PMP/PCP requests per second per client, defaults to 10",
	  CTX_RUN },
	{ "pcp-max-per-host", OPT_PCP_MAX_PER_HOST, "<n>", "Mappings one internal address may ask for,\n"
							   "defaults to 64", CTX_RUN },
	{ "sync-peer", OPT_SYNC_PEER, "<addr:port>", "HA state sync: send mappings and sessions to this\n"
	  "peer fcnat (UDP), e.g. 10.9.0.2:7600; needs\n--sync-listen and --sync-key", CTX_RUN },
	{ "sync-listen", OPT_SYNC_LISTEN, "<addr:port>", "HA state sync: receive the peer's here", CTX_RUN },
	{ "sync-key", OPT_SYNC_KEY, "<file>", "HA state sync: shared secret (16-256 bytes) that\n"
	  "authenticates every datagram (HMAC-SHA256)", CTX_RUN },
	{ "import-einat", OPT_IMPORT_EINAT, "<file> [-o <out>]", "Convert an einat config.toml to fcnat.conf\n"
	  "on stdout (or OUT) and exit; keys without an\nequivalent are named on stderr",
	  CTX_RUN | CTX_NO_FILE },
	{ "detach", OPT_DETACH, NULL, "Remove a kept instance's datapath and state, then exit",
	  CTX_RUN | CTX_NO_FILE },
	{ "json", OPT_JSON, NULL, "show, stats: print JSON", CTX_SHOW | CTX_NO_FILE },
	{ "proto", OPT_PROTO, "<proto>", "show: only tcp, udp or icmp", CTX_SHOW | CTX_NO_FILE },
	{ "external", OPT_EXTERNAL, "<port>", "show: only this external port", CTX_SHOW | CTX_NO_FILE },
	{ "verbose", OPT_VERBOSE, NULL, "Log debug messages", CTX_ANY },
	{ "version", OPT_VERSION, NULL, "Print fcnat version", CTX_ANY | CTX_NO_FILE },
};

#define NR_OPTIONS (sizeof(fc_option_table) / sizeof(fc_option_table[0]))

/* RFC 4787 REQ-5, RFC 5382 REQ-5, RFC 5508 REQ-2 lower bounds. */
static const unsigned int timeout_min_s[FC_TIMEOUT_MAX] = {
	[FC_TIMEOUT_UDP] = 120,
	[FC_TIMEOUT_ICMP] = 60,
	[FC_TIMEOUT_TCP_EST] = 7440,
	[FC_TIMEOUT_TCP_TRANS] = 240,
};

static const char *const timeout_name[FC_TIMEOUT_MAX] = {
	[FC_TIMEOUT_UDP] = "udp",
	[FC_TIMEOUT_ICMP] = "icmp",
	[FC_TIMEOUT_TCP_EST] = "tcp-est",
	[FC_TIMEOUT_TCP_TRANS] = "tcp-trans",
};

void options_defaults(struct fc_options *o)
{
	memset(o, 0, sizeof(*o));
	o->nr_port_ranges = 1;
	o->port_ranges[0].first = 20000;
	o->port_ranges[0].last = 29999;
	o->timeout_s[FC_TIMEOUT_UDP] = 300;
	o->timeout_s[FC_TIMEOUT_ICMP] = 60;
	o->timeout_s[FC_TIMEOUT_TCP_EST] = 7440;
	o->timeout_s[FC_TIMEOUT_TCP_TRANS] = 240;
	o->max_mappings = 65536;
	o->max_sessions = 262144;
	snprintf(o->bpffs, sizeof(o->bpffs), "%s", FC_PIN_ROOT_DEFAULT);
	o->pcp.min_lifetime = 120;
	o->pcp.max_lifetime = 86400;
	o->pcp.rate = 10;
	o->pcp.max_per_host = 64;
	o->cgnat.refuse_icmp_rate = FC_REFUSE_ICMP_RATE_DEFAULT;
	snprintf(o->syslog_path, sizeof(o->syslog_path), "%s", FC_SYSLOG_DEFAULT_PATH);
	o->ipfix_domain = 1;
	o->ipfix_template_s = 60;
	o->event_ring_kb = 256;
	o->lookup_port = -1;
	o->nat64_tos = -1;
	nat64_pool_defaults(&o->nat64pool);
}

bool options_events_on(const struct fc_options *o)
{
	return o->log_mappings || o->syslog || o->ipfix[0];
}

void options_usage(FILE *out)
{
	fprintf(out, "fcnat - full-cone NAT gateway on eBPF\n\n"
		     "USAGE:\n  fcnat [OPTIONS]                  run the gateway on an interface\n"
		     "  fcnat --detach -i <name>         remove a kept instance (--keep-state)\n"
		     "  fcnat show mappings|sessions|subscribers|sync [-i <name>] [--json] [filters]\n"
		     "  fcnat stats [-i <name>] [--json]\n"
		     "  fcnat lookup <internal addr> | <external addr> <port> [--json] [-c <file>]\n"
		     "                                   deterministic NAT: who has which ports\n"
		     "\nOPTIONS:\n");
	for (size_t i = 0; i < NR_OPTIONS; i++) {
		const struct option_desc *d = &fc_option_table[i];
		char left[64];
		const char *h, *nl;

		if (d->id < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", d->id, d->name,
				 d->arg ? " " : "", d->arg ? d->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", d->name,
				 d->arg ? " " : "", d->arg ? d->arg : "");
		/* A long option and its argument get a line of their own. */
		if (strlen(left) >= 31) {
			fprintf(out, "  %s\n", left);
			left[0] = '\0';
		}
		/* Continuation lines of the help text line up. */
		for (h = d->help; (nl = strchr(h, '\n')); h = nl + 1) {
			fprintf(out, "  %-31s%.*s\n", left, (int)(nl - h), h);
			left[0] = '\0';
		}
		fprintf(out, "  %-31s%s\n", left, h);
	}
	fprintf(out, "\neinat 0.1.11's options -h -c -i --nat44 --nat66 --ports --hairpin-if\n"
		     "--internal --bpf-loader --bpf-log -v mean here what they mean there (its\n"
		     "config.toml: --import-einat). fcnat's internal interfaces are --lan-if.\n"
		     "\nExample: fcnat -i wan0 --hairpin-if lo lan0\n");
}

static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_one_range(const char *tok, struct fc_port_range *r)
{
	char buf[32], *dash;
	unsigned int a, b;

	if (strlen(tok) >= sizeof(buf))
		return -1;
	strcpy(buf, tok);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (parse_uint(buf, 1, 65535, &a))
		return -1;
	if (dash ? parse_uint(dash + 1, 1, 65535, &b) : (b = a, 0))
		return -1;
	if (a > b)
		return -1;
	r->first = a;
	r->last = b;
	return 0;
}

int parse_port_ranges(const char *spec, struct fc_port_range *ranges,
		      unsigned int *nr, char *err, size_t errlen)
{
	char buf[512], *tok, *save;

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "port range list too long");
		return -1;
	}
	strcpy(buf, spec);
	for (tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
		struct fc_port_range r;

		if (parse_one_range(tok, &r)) {
			snprintf(err, errlen, "invalid port range '%s': expected FIRST-LAST "
				 "with 1 <= FIRST <= LAST <= 65535", tok);
			return -1;
		}
		if (*nr >= FC_MAX_PORT_RANGES) {
			snprintf(err, errlen, "too many port ranges (at most %d)", FC_MAX_PORT_RANGES);
			return -1;
		}
		for (unsigned int i = 0; i < *nr; i++) {
			if (r.first <= ranges[i].last && ranges[i].first <= r.last) {
				snprintf(err, errlen, "port range '%s' overlaps %u-%u", tok,
					 ranges[i].first, ranges[i].last);
				return -1;
			}
		}
		ranges[(*nr)++] = r;
	}
	if (*nr == 0) {
		snprintf(err, errlen, "empty port range list");
		return -1;
	}
	return 0;
}

static int add_iface(struct fc_options *o, const char *name, char *err, size_t errlen)
{
	if (!*name || strlen(name) >= IF_NAMESIZE) {
		snprintf(err, errlen, "invalid interface name '%s'", name);
		return -1;
	}
	if (o->nr_hairpin_ifs >= FC_MAX_IFACES) {
		snprintf(err, errlen, "too many hairpin interfaces (at most %d)", FC_MAX_IFACES);
		return -1;
	}
	strcpy(o->hairpin_ifs[o->nr_hairpin_ifs++], name);
	return 0;
}

static int add_pcp_iface(struct fc_options *o, const char *name, char *err, size_t errlen)
{
	if (!*name || strlen(name) >= IF_NAMESIZE) {
		snprintf(err, errlen, "invalid interface name '%s'", name);
		return -1;
	}
	if (o->pcp.nr_ifs >= FC_MAX_IFACES) {
		snprintf(err, errlen, "too many PCP interfaces (at most %d)", FC_MAX_IFACES);
		return -1;
	}
	strcpy(o->pcp.ifs[o->pcp.nr_ifs++], name);
	return 0;
}

static int add_upnp_iface(struct fc_options *o, const char *name, char *err, size_t errlen)
{
	if (!*name || strlen(name) >= IF_NAMESIZE) {
		snprintf(err, errlen, "invalid interface name '%s'", name);
		return -1;
	}
	if (o->pcp.nr_upnp_ifs >= FC_MAX_IFACES) {
		snprintf(err, errlen, "too many UPnP interfaces (at most %d)", FC_MAX_IFACES);
		return -1;
	}
	strcpy(o->pcp.upnp_ifs[o->pcp.nr_upnp_ifs++], name);
	return 0;
}

int parse_prefix4(const char *spec, struct fc_prefix4 *out)
{
	char buf[32], *slash;
	unsigned int len = 32;
	struct in_addr a;

	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		if (parse_uint(slash, 0, 32, &len))
			return -1;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	if (len < 32 && (ntohl(a.s_addr) & (0xffffffffU >> len)))
		return -1;
	out->addr = a.s_addr;
	out->len = len;
	return 0;
}

/* "10.0.0.0/8" (host bits must be zero) or a single address. */
static int add_pcp_allow(struct fc_options *o, const char *spec, char *err, size_t errlen)
{
	if (o->pcp.nr_allow >= FC_MAX_PCP_ALLOW) {
		snprintf(err, errlen, "too many --pcp-allow prefixes (at most %d)", FC_MAX_PCP_ALLOW);
		return -1;
	}
	if (parse_prefix4(spec, &o->pcp.allow[o->pcp.nr_allow])) {
		snprintf(err, errlen, "invalid prefix '%s': expected ADDR/LEN, e.g. 10.1.0.0/16", spec);
		return -1;
	}
	o->pcp.nr_allow++;
	return 0;
}

/* --pool, --internal-prefix, --exclude: one prefix into its list. */
static int add_cgnat_prefix(struct fc_options *o, int id, const char *spec, char *err,
			    size_t errlen)
{
	struct fc_cgnat_opts *c = &o->cgnat;
	struct fc_prefix4 *list = id == OPT_POOL ? c->pool :
				  id == OPT_INTERNAL_PREFIX ? c->internal : c->exclude;
	unsigned int *nr = id == OPT_POOL ? &c->nr_pool :
			   id == OPT_INTERNAL_PREFIX ? &c->nr_internal : &c->nr_exclude;
	unsigned int max = id == OPT_POOL ? FC_MAX_POOL_PREFIXES : FC_MAX_SCOPE_PREFIXES;
	const char *opt = id == OPT_POOL ? "--pool" :
			  id == OPT_INTERNAL_PREFIX ? "--internal" : "--exclude";
	struct fc_prefix4 p;

	if (id == OPT_INTERNAL_PREFIX && parse_prefix4(spec, &p) && !strchr(spec, '.') &&
	    !strchr(spec, ':')) {
		/* fcnat before einat's meaning took this name: say where it went. */
		snprintf(err, errlen, "invalid network '%s': --internal takes internal networks "
			 "(CIDR) as in einat; internal interfaces are --lan-if", spec);
		return -1;
	}
	if (parse_prefix4(spec, &p)) {
		snprintf(err, errlen, "invalid prefix '%s': expected ADDR or ADDR/LEN with the host "
			 "bits zero, e.g. 203.0.113.0/28", spec);
		return -1;
	}
	if (id == OPT_POOL && (p.len < 32 - 12 || !p.addr || (ntohl(p.addr) >> 28) >= 14)) {
		snprintf(err, errlen, "invalid pool prefix '%s': expected unicast addresses, "
			 "at most %d in a prefix (/%d)", spec, FC_POOL_MAX, 32 - 12);
		return -1;
	}
	if (*nr >= max) {
		snprintf(err, errlen, "too many %s prefixes (at most %u)", opt, max);
		return -1;
	}
	list[(*nr)++] = p;
	return 0;
}

/* "N" for every protocol, or "tcp=N,udp=N,icmp=N" (others keep theirs). */
static int parse_sub_limit(struct fc_options *o, const char *value, char *err, size_t errlen)
{
	static const char *const names[FC_SUB_PROTOS] = { "tcp", "udp", "icmp" };
	char buf[128], *tok, *save, *eq;
	unsigned int v;

	if (!parse_uint(value, 0, 65535, &v)) {
		for (int i = 0; i < FC_SUB_PROTOS; i++)
			o->cgnat.limit[i] = v;
		return 0;
	}
	if (strlen(value) >= sizeof(buf))
		goto bad;
	strcpy(buf, value);
	for (tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
		int i;

		eq = strchr(tok, '=');
		if (!eq)
			goto bad;
		*eq = '\0';
		for (i = 0; i < FC_SUB_PROTOS && strcmp(tok, names[i]); i++)
			;
		if (i == FC_SUB_PROTOS || parse_uint(eq + 1, 0, 65535, &v))
			goto bad;
		o->cgnat.limit[i] = v;
	}
	return 0;
bad:
	snprintf(err, errlen, "invalid limit '%s': expected N or tcp=N,udp=N,icmp=N "
		 "with N from 0 (no limit) to 65535", value);
	return -1;
}

bool cgnat_subscribers_on(const struct fc_cgnat_opts *c)
{
	return c->nr_pool || c->limit[FC_SUB_TCP] || c->limit[FC_SUB_UDP] || c->limit[FC_SUB_ICMP] ||
	       c->block_size;
}

int port_blocks_check(const struct fc_options *o, char *err, size_t errlen)
{
	const struct fc_cgnat_opts *c = &o->cgnat;
	unsigned int ports;

	if (!c->block_size) {
		if (c->max_blocks) {
			snprintf(err, errlen, "--max-port-blocks needs --port-block-size");
			return -1;
		}
		return 0;
	}
	if (c->det_on) {
		snprintf(err, errlen, "--port-block-size and --deterministic exclude each other "
			 "(deterministic NAT gives each subscriber one fixed range)");
		return -1;
	}
	if (o->nr_port_ranges != 1) {
		snprintf(err, errlen, "--port-block-size needs exactly one port range (--ports "
			 "FIRST-LAST), got %u", o->nr_port_ranges);
		return -1;
	}
	ports = o->port_ranges[0].last - o->port_ranges[0].first + 1;
	if (c->block_size > ports) {
		snprintf(err, errlen, "--port-block-size %u is larger than the port range (%u ports)",
			 c->block_size, ports);
		return -1;
	}
	return 0;
}

int pool_addresses(const struct fc_cgnat_opts *c, __be32 *out, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->nr_pool; i++) {
		__u32 first = ntohl(c->pool[i].addr);
		__u64 count = 1ULL << (32 - c->pool[i].len);

		for (__u64 k = 0; k < count; k++) {
			__u32 a = first + (__u32)k;
			bool dup = false;

			/* A duplicate is in an earlier prefix (one prefix has none). */
			for (unsigned int j = 0; j < i && !dup; j++)
				dup = a - ntohl(c->pool[j].addr) < (1ULL << (32 - c->pool[j].len));
			if (dup)
				continue;
			if (n >= max)
				return -1;
			out[n++] = htonl(a);
		}
	}
	return n;
}

static int add_internal(struct fc_options *o, const char *value, char *err, size_t errlen)
{
	char buf[512], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
		if (strlen(tok) >= IF_NAMESIZE) {
			snprintf(err, errlen, "invalid interface name '%s'", tok);
			return -1;
		}
		if (o->nr_internal_ifs >= FC_MAX_IFACES) {
			snprintf(err, errlen, "too many internal interfaces (at most %d)",
				 FC_MAX_IFACES);
			return -1;
		}
		strcpy(o->internal_ifs[o->nr_internal_ifs++], tok);
	}
	return 0;
}

static int set_ifname(struct fc_options *o, const char *name, char *err, size_t errlen)
{
	if (!*name || strlen(name) >= IF_NAMESIZE) {
		snprintf(err, errlen, "invalid interface name '%s'", name);
		return -1;
	}
	strcpy(o->ifname, name);
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on") || !strcmp(s, "1"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off") || !strcmp(s, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

/* RFC 6052 §2.2: the prefix lengths with a defined address format. */
static bool nat64_len_valid(unsigned int len)
{
	return len == 32 || len == 40 || len == 48 || len == 56 || len == 64 || len == 96;
}

int parse_nat64_prefix(const char *spec, __u8 prefix[16], unsigned int *len,
		       char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	struct in6_addr a;
	unsigned int l;

	if (strlen(spec) >= sizeof(buf) || !(slash = strchr(strcpy(buf, spec), '/'))) {
		snprintf(err, errlen, "invalid NAT64 prefix '%s': expected IPV6-PREFIX/LENGTH, "
			 "e.g. " FC_NAT64_PREFIX_DEFAULT, spec);
		return -1;
	}
	*slash++ = '\0';
	if (inet_pton(AF_INET6, buf, &a) != 1) {
		snprintf(err, errlen, "invalid NAT64 prefix '%s': '%s' is not an IPv6 address",
			 spec, buf);
		return -1;
	}
	if (parse_uint(slash, 0, 128, &l) || !nat64_len_valid(l)) {
		snprintf(err, errlen, "invalid NAT64 prefix '%s': the length must be one RFC 6052 "
			 "defines: 32, 40, 48, 56, 64 or 96", spec);
		return -1;
	}
	for (unsigned int bit = l; bit < 128; bit++) {
		if (a.s6_addr[bit / 8] & (0x80 >> (bit % 8))) {
			snprintf(err, errlen, "invalid NAT64 prefix '%s': bits set past /%u", spec, l);
			return -1;
		}
	}
	/* Bits 64-71 of an IPv4-embedded address are zero (RFC 6052 §2.2):
	 * only a /96 has them inside the prefix. */
	if (a.s6_addr[8]) {
		snprintf(err, errlen, "invalid NAT64 prefix '%s': bits 64-71 (the \"u\" octet) "
			 "must be zero (RFC 6052 section 2.2)", spec);
		return -1;
	}
	memcpy(prefix, a.s6_addr, 16);
	*len = l;
	return 0;
}

static int set_nat64(struct fc_options *o, const char *value, char *err, size_t errlen)
{
	bool on;

	/* The configuration file may say "nat64 = true" for the default. */
	if (!parse_bool(value, &on)) {
		o->nat64 = on;
		value = FC_NAT64_PREFIX_DEFAULT;
		if (!on)
			return 0;
	}
	if (parse_nat64_prefix(value, o->nat64_prefix, &o->nat64_prefix_len, err, errlen))
		return -1;
	o->nat64 = true;
	return 0;
}

/*
 * One setting, from either source. name is the long option name (also the
 * configuration file key). Returns 0, or -1 with a message in err.
 */
static int apply_setting(struct fc_options *o, int id, const char *value, char *err, size_t errlen)
{
	unsigned int v;
	int t = -1;

	switch (id) {
	case OPT_IFNAME:
		return set_ifname(o, value, err, errlen);
	case OPT_PORTS:
		return parse_port_ranges(value, o->port_ranges, &o->nr_port_ranges, err, errlen);
	case OPT_NAT64:
		return set_nat64(o, value, err, errlen);
	case OPT_NAT64_POOL4:
	case OPT_NAT64_ALLOW:
	case OPT_NAT64_STATIC:
	case OPT_NAT64_POOL4_TIMEOUT:
		return nat64_pool_option(&o->nat64pool, id == OPT_NAT64_POOL4 ? FC_NAT64_OPT_POOL4 :
					 id == OPT_NAT64_ALLOW ? FC_NAT64_OPT_ALLOW :
					 id == OPT_NAT64_STATIC ? FC_NAT64_OPT_STATIC :
					 FC_NAT64_OPT_TIMEOUT, value, err, errlen);
	case OPT_NAT64_TOS:
		if (!strcmp(value, "copy")) {
			o->nat64_tos = -1;
			return 0;
		}
		if (parse_uint(value, 0, 255, &v)) {
			snprintf(err, errlen, "invalid TOS '%s': expected 0 to 255 or copy", value);
			return -1;
		}
		o->nat64_tos = (int)v;
		return 0;
	case OPT_FORWARD: {
		char buf[512], *tok, *save;

		snprintf(buf, sizeof(buf), "%s", value);
		for (tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
			if (o->nr_forwards >= FC_MAX_FORWARDS) {
				snprintf(err, errlen, "too many forwards (at most %d)", FC_MAX_FORWARDS);
				return -1;
			}
			if (forward_parse(tok, &o->forwards[o->nr_forwards], err, errlen))
				return -1;
			o->nr_forwards++;
		}
		return 0;
	}
	case OPT_INTERNAL:
		if (o->cmd != FC_CMD_RUN && o->cmd != FC_CMD_CHECK_CONFIG && o->cmd != FC_CMD_LOOKUP) {
			/* show: the internal network whose mappings are listed */
			if (parse_prefix4(value, &o->filter_internal)) {
				snprintf(err, errlen, "invalid internal address '%s': expected IPv4 "
					 "ADDR or ADDR/LEN", value);
				return -1;
			}
			o->filter_internal_set = true;
			return 0;
		}
		id = OPT_INTERNAL_PREFIX;	/* einat's meaning: the networks NATed */
		/* fallthrough */
	case OPT_POOL:
	case OPT_INTERNAL_PREFIX:
	case OPT_EXCLUDE: {
		char buf[1024], *tok, *save;

		snprintf(buf, sizeof(buf), "%s", value);
		for (tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save))
			if (add_cgnat_prefix(o, id, tok, err, errlen))
				return -1;
		return 0;
	}
	case OPT_TCP_PORTS:
	case OPT_UDP_PORTS:
	case OPT_ICMP_IDS:
		return ports_parse_proto(o, id == OPT_TCP_PORTS ? FC_SUB_TCP :
					 id == OPT_UDP_PORTS ? FC_SUB_UDP : FC_SUB_ICMP,
					 value, err, errlen);
	case OPT_BPF_LOADER:
		if (strcmp(value, "aya") && strcmp(value, "libbpf") && strcmp(value, "libbpf-skel")) {
			snprintf(err, errlen, "invalid BPF loader '%s': expected aya or libbpf", value);
			return -1;
		}
		fc_info("--bpf-loader %s: accepted for einat compatibility; fcnat has one BPF "
			"loader (libbpf)", value);
		return 0;
	case OPT_IMPORT_EINAT:
		snprintf(err, errlen, "--import-einat is a command of its own: fcnat --import-einat "
			 "<file> [-o <out>]");
		return -1;
	case OPT_MAX_PER_SUBSCRIBER:
		return parse_sub_limit(o, value, err, errlen);
	case OPT_PORT_BLOCK_SIZE:
		if (parse_uint(value, 1, 32768, &o->cgnat.block_size)) {
			snprintf(err, errlen, "invalid port block size '%s': expected 1 to 32768", value);
			return -1;
		}
		return 0;
	case OPT_MAX_PORT_BLOCKS:
		if (parse_uint(value, 1, FC_MAX_PORT_BLOCKS, &o->cgnat.max_blocks)) {
			snprintf(err, errlen, "invalid port block limit '%s': expected 1 to %d", value,
				 FC_MAX_PORT_BLOCKS);
			return -1;
		}
		return 0;
	case OPT_DETERMINISTIC:
		if (parse_prefix4(value, &o->cgnat.det) || !o->cgnat.det.addr ||
		    o->cgnat.det.len < 1) {
			snprintf(err, errlen, "invalid deterministic prefix '%s': expected ADDR/LEN "
				 "with the host bits zero, e.g. 100.64.0.0/22", value);
			return -1;
		}
		o->cgnat.det_on = true;
		return 0;
	case OPT_REFUSED_ICMP_RATE:
		if (parse_uint(value, 0, 100000, &o->cgnat.refuse_icmp_rate)) {
			snprintf(err, errlen, "invalid rate '%s': expected 0 to 100000", value);
			return -1;
		}
		return 0;
	case OPT_LAN_IF:
		return add_internal(o, value, err, errlen);
	case OPT_VLAN:
		return vlan_parse(value, &o->vlan, err, errlen);
	case OPT_HAIRPIN_IF:
	case OPT_PCP_IF:
	case OPT_UPNP_IF:
	case OPT_PCP_ALLOW: {
		char buf[512], *tok, *save;

		snprintf(buf, sizeof(buf), "%s", value);
		for (tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save))
			if ((id == OPT_HAIRPIN_IF ? add_iface :
			     id == OPT_PCP_IF ? add_pcp_iface :
			     id == OPT_UPNP_IF ? add_upnp_iface : add_pcp_allow)(o, tok, err, errlen))
				return -1;
		return 0;
	}
	case OPT_PCP_MIN_LIFETIME:
	case OPT_PCP_MAX_LIFETIME:
		if (parse_uint(value, 1, 30 * 24 * 3600, &v)) {
			snprintf(err, errlen, "invalid lifetime '%s': expected seconds, 1 to %u", value,
				 30 * 24 * 3600);
			return -1;
		}
		*(id == OPT_PCP_MIN_LIFETIME ? &o->pcp.min_lifetime : &o->pcp.max_lifetime) = v;
		return 0;
	case OPT_PCP_RATE:
		if (parse_uint(value, 1, 100000, &o->pcp.rate)) {
			snprintf(err, errlen, "invalid rate '%s': expected 1 to 100000", value);
			return -1;
		}
		return 0;
	case OPT_PCP_MAX_PER_HOST:
		if (parse_uint(value, 1, 4096, &o->pcp.max_per_host)) {
			snprintf(err, errlen, "invalid mapping limit '%s': expected 1 to 4096", value);
			return -1;
		}
		return 0;
	case OPT_BPFFS:
		if (value[0] != '/' || strlen(value) >= sizeof(o->bpffs) - IF_NAMESIZE - 16) {
			snprintf(err, errlen, "invalid bpffs directory '%s': expected an absolute path",
				 value);
			return -1;
		}
		snprintf(o->bpffs, sizeof(o->bpffs), "%s", value);
		return 0;
	case OPT_METRICS: {
		struct sockaddr_storage ss;
		socklen_t len;

		if (!FC_METRICS_HTTP) {
			snprintf(err, errlen, "--metrics: %s", METRICS_HTTP_MISSING);
			return -1;
		}
		if (strlen(value) >= sizeof(o->metrics) || metrics_parse_addr(value, &ss, &len)) {
			snprintf(err, errlen, "invalid metrics address '%s': expected ADDR:PORT, "
				 "[ADDR6]:PORT or :PORT", value);
			return -1;
		}
		snprintf(o->metrics, sizeof(o->metrics), "%s", value);
		return 0;
	}
	case OPT_SYNC_PEER:
	case OPT_SYNC_LISTEN: {
		char *dst = id == OPT_SYNC_PEER ? o->sync.peer : o->sync.listen;

		if (strlen(value) >= sizeof(o->sync.peer) || sync_parse_addr(value)) {
			snprintf(err, errlen, "invalid sync address '%s': expected ADDR:PORT or "
				 "[ADDR6]:PORT", value);
			return -1;
		}
		snprintf(dst, sizeof(o->sync.peer), "%s", value);
		return 0;
	}
	case OPT_SYNC_KEY:
		if (!value[0] || strlen(value) >= sizeof(o->sync.key_path)) {
			snprintf(err, errlen, "invalid --sync-key '%s'", value);
			return -1;
		}
		snprintf(o->sync.key_path, sizeof(o->sync.key_path), "%s", value);
		return 0;
	case OPT_IPFIX: {
		struct sockaddr_storage ss;
		socklen_t len;

		if (!FC_IPFIX) {
			snprintf(err, errlen, "--ipfix: %s", IPFIX_MISSING);
			return -1;
		}
		if (strlen(value) >= sizeof(o->ipfix) || ipfix_parse_addr(value, &ss, &len)) {
			snprintf(err, errlen, "invalid IPFIX collector '%s': expected ADDR:PORT or "
				 "[ADDR6]:PORT", value);
			return -1;
		}
		snprintf(o->ipfix, sizeof(o->ipfix), "%s", value);
		return 0;
	}
	case OPT_IPFIX_DOMAIN:
		if (parse_uint(value, 0, UINT32_MAX, &o->ipfix_domain)) {
			snprintf(err, errlen, "invalid observation domain '%s': expected 0 to %u",
				 value, UINT32_MAX);
			return -1;
		}
		return 0;
	case OPT_IPFIX_TEMPLATE_INTERVAL:
		if (parse_uint(value, 1, 3600, &o->ipfix_template_s)) {
			snprintf(err, errlen, "invalid template interval '%s': expected seconds, "
				 "1 to 3600", value);
			return -1;
		}
		return 0;
	case OPT_SYSLOG_SOCKET:
		if (value[0] != '/' || strlen(value) >= sizeof(o->syslog_path)) {
			snprintf(err, errlen, "invalid syslog socket '%s': expected an absolute path "
				 "of at most %zu characters", value, sizeof(o->syslog_path) - 1);
			return -1;
		}
		snprintf(o->syslog_path, sizeof(o->syslog_path), "%s", value);
		return 0;
	case OPT_EVENT_RING_KB:
		if (parse_uint(value, 4, 65536, &v) || (v & (v - 1))) {
			snprintf(err, errlen, "invalid event ring size '%s': expected a power of two, "
				 "4 to 65536 (KiB)", value);
			return -1;
		}
		o->event_ring_kb = v;
		return 0;
	case OPT_PROTO:
		if (!strcmp(value, "tcp"))
			o->filter_proto = FC_PROTO_TCP;
		else if (!strcmp(value, "udp"))
			o->filter_proto = FC_PROTO_UDP;
		else if (!strcmp(value, "icmp"))
			o->filter_proto = FC_PROTO_ICMP;
		else {
			snprintf(err, errlen, "invalid protocol '%s': expected tcp, udp or icmp", value);
			return -1;
		}
		return 0;
	case OPT_MODE:
		if (!strcmp(value, "tc"))
			o->mode = FC_MODE_TC;
		else if (!strcmp(value, "xdp"))
			o->mode = FC_MODE_XDP;
		else {
			snprintf(err, errlen, "invalid mode '%s': expected tc or xdp", value);
			return -1;
		}
		return 0;
	case OPT_XDP_MODE:
		if (!strcmp(value, "auto"))
			o->xdp_mode = FC_XDP_AUTO;
		else if (!strcmp(value, "native"))
			o->xdp_mode = FC_XDP_NATIVE;
		else if (!strcmp(value, "generic"))
			o->xdp_mode = FC_XDP_GENERIC;
		else {
			snprintf(err, errlen, "invalid XDP mode '%s': expected native, generic or auto",
				 value);
			return -1;
		}
		return 0;
	case OPT_EXTERNAL:
		if (parse_uint(value, 1, 65535, &o->filter_external)) {
			snprintf(err, errlen, "invalid external port '%s': expected 1 to 65535", value);
			return -1;
		}
		return 0;
	case OPT_BPF_LOG:
		if (parse_uint(value, 0, 5, &o->bpf_log)) {
			snprintf(err, errlen, "invalid BPF log level '%s': expected 0 to 5", value);
			return -1;
		}
		return 0;
	case OPT_TIMEOUT_UDP:
		t = FC_TIMEOUT_UDP;
		break;
	case OPT_TIMEOUT_ICMP:
		t = FC_TIMEOUT_ICMP;
		break;
	case OPT_TIMEOUT_TCP_EST:
		t = FC_TIMEOUT_TCP_EST;
		break;
	case OPT_TIMEOUT_TCP_TRANS:
		t = FC_TIMEOUT_TCP_TRANS;
		break;
	case OPT_MAX_MAPPINGS:
	case OPT_MAX_SESSIONS:
		if (parse_uint(value, 16, 1U << 26, &v)) {
			snprintf(err, errlen, "invalid table size '%s': expected 16 to %u", value, 1U << 26);
			return -1;
		}
		*(id == OPT_MAX_MAPPINGS ? &o->max_mappings : &o->max_sessions) = v;
		return 0;
	case OPT_PREALLOC_TABLES:
		if (!strcmp(value, "auto"))
			o->prealloc_tables = FC_PREALLOC_AUTO;
		else if (!strcmp(value, "yes"))
			o->prealloc_tables = FC_PREALLOC_YES;
		else if (!strcmp(value, "no"))
			o->prealloc_tables = FC_PREALLOC_NO;
		else {
			snprintf(err, errlen, "invalid prealloc-tables '%s': expected auto, yes or no", value);
			return -1;
		}
		return 0;
	default:
		snprintf(err, errlen, "internal: unhandled option %d", id);
		return -1;
	}

	if (parse_uint(value, 1, 30 * 24 * 3600, &v)) {
		snprintf(err, errlen, "invalid %s timeout '%s': expected seconds, 1 to %u",
			 timeout_name[t], value, 30 * 24 * 3600);
		return -1;
	}
	o->timeout_s[t] = v;
	return 0;
}

static const struct option_desc *find_desc(const char *name)
{
	for (size_t i = 0; i < NR_OPTIONS; i++)
		if (!strcmp(fc_option_table[i].name, name))
			return &fc_option_table[i];
	return NULL;
}

struct ini_state {
	struct fc_options *o;
	const char *path;
	FILE *file;
	int lineno;	/* counted by ini_read_line: this inih has no line numbers */
	int failed;
};

static char *ini_read_line(char *buf, int size, void *stream)
{
	struct ini_state *st = stream;
	char *line = fgets(buf, size, st->file);

	if (line)
		st->lineno++;
	return line;
}

/* Configuration file keys are the long option names, in section [nat]
 * (or [timeouts] with keys udp, icmp, tcp-est, tcp-trans). */
static int ini_setting(void *user, const char *section, const char *name, const char *value)
{
	struct ini_state *st = user;
	int lineno = st->lineno;
	const struct option_desc *d = NULL;
	char err[256], key[64];
	bool b;

	if (!strcmp(section, "timeouts")) {
		snprintf(key, sizeof(key), "timeout-%s", name);
		d = find_desc(key);
	} else if (!strcmp(section, "nat") || !*section) {
		d = find_desc(name);
		if (d && (d->ctx & CTX_NO_FILE))
			d = NULL;
	} else {
		fc_err("%s:%d: unknown section [%s]", st->path, lineno, section);
		st->failed = 1;
		return 0;
	}
	if (!d) {
		fc_err("%s:%d: unknown key '%s' in [%s]", st->path, lineno, name, section);
		st->failed = 1;
		return 0;
	}
	if (!d->arg) {	/* flags take a boolean */
		if (parse_bool(value, &b)) {
			fc_err("%s:%d: %s: expected true or false, got '%s'", st->path, lineno, name, value);
			st->failed = 1;
			return 0;
		}
		if (d->id == OPT_NAT44)
			st->o->nat44 = b;
		else if (d->id == OPT_NAT66)
			st->o->nat66 = b;
		else if (d->id == OPT_VERBOSE)
			st->o->verbose = b;
		else if (d->id == OPT_KEEP_STATE)
			st->o->keep_state = b;
		else if (d->id == OPT_PRESERVE_LOW_PORTS)
			st->o->preserve_low_ports = b;
		else if (d->id == OPT_LOG_MAPPINGS)
			st->o->log_mappings = b;
		else if (d->id == OPT_SYSLOG)
			st->o->syslog = b;
		else if (d->id == OPT_PCP_THIRD_PARTY)
			st->o->pcp.third_party = b;
		return 1;
	}
	if (d->id == OPT_PORTS)
		st->o->nr_port_ranges = 0;	/* the file's list replaces the default */
	if (d->id == OPT_TCP_PORTS || d->id == OPT_UDP_PORTS || d->id == OPT_ICMP_IDS)
		memset(&st->o->proto_ports[d->id == OPT_TCP_PORTS ? FC_SUB_TCP :
					   d->id == OPT_UDP_PORTS ? FC_SUB_UDP : FC_SUB_ICMP], 0,
		       sizeof(st->o->proto_ports[0]));
	if (apply_setting(st->o, d->id, value, err, sizeof(err))) {
		fc_err("%s:%d: %s: %s", st->path, lineno, name, err);
		st->failed = 1;
		return 0;
	}
	return 1;
}

static int load_config_file(const char *path, struct fc_options *o)
{
	struct ini_state st = { .o = o, .path = path };
	int ret;

	/* einat's -c takes its TOML: read it converted (import_einat.py). */
	bool toml = import_einat_is_toml(path);

	st.file = toml ? import_einat_open(path) : fopen(path, "r");
	if (!st.file) {
		fc_err("cannot open config file %s: %s", path, strerror(errno));
		return -1;
	}
	ret = ini_parse_stream(ini_read_line, &st, ini_setting, &st);
	if (toml ? import_einat_close(st.file) : fclose(st.file)) {
		if (toml)	/* the converter said why */
			return -1;
	}
	if (ret > 0 && !st.failed)
		fc_err("%s:%d: syntax error", path, ret);
	return ret || st.failed ? -1 : 0;
}

/* Values following a multi-value option up to the next option. */
static int take_more_values(int argc, char **argv, struct fc_options *o, int id,
			    char *err, size_t errlen)
{
	while (optind < argc && argv[optind][0] != '-') {
		if (apply_setting(o, id, argv[optind], err, errlen))
			return -1;
		optind++;
	}
	return 0;
}

static const struct option_desc *desc_by_id(int id)
{
	for (size_t i = 0; i < NR_OPTIONS; i++)
		if (fc_option_table[i].id == id)
			return &fc_option_table[i];
	return NULL;
}

/* "show mappings", "show sessions", "stats": how many words they take. */
static int parse_command(int argc, char **argv, struct fc_options *o)
{
	if (argc < 2)
		return 0;
	if (!strcmp(argv[1], "stats")) {
		o->cmd = FC_CMD_STATS;
		return 1;
	}
	if (!strcmp(argv[1], "lookup")) {
		unsigned int port;

		o->cmd = FC_CMD_LOOKUP;
		if (argc < 3 || argv[2][0] == '-') {
			fprintf(stderr, "fcnat: error: 'lookup' needs an internal address, or an "
				"external address and port\n");
			return -1;
		}
		snprintf(o->lookup_addr, sizeof(o->lookup_addr), "%s", argv[2]);
		if (argc < 4 || argv[3][0] == '-')
			return 2;
		if (parse_uint(argv[3], 0, 65535, &port)) {
			fprintf(stderr, "fcnat: error: lookup: invalid port '%s': expected 0 to 65535\n",
				argv[3]);
			return -1;
		}
		o->lookup_port = port;
		return 3;
	}
	if (strcmp(argv[1], "show"))
		return 0;
	if (argc < 3) {
		fprintf(stderr, "fcnat: error: 'show' needs what to show: mappings, sessions or "
			"subscribers\n");
		return -1;
	}
	if (!strcmp(argv[2], "mappings"))
		o->cmd = FC_CMD_SHOW_MAPPINGS;
	else if (!strcmp(argv[2], "sessions"))
		o->cmd = FC_CMD_SHOW_SESSIONS;
	else if (!strcmp(argv[2], "subscribers"))
		o->cmd = FC_CMD_SHOW_SUBSCRIBERS;
	else if (!strcmp(argv[2], "sync"))
		o->cmd = FC_CMD_SHOW_SYNC;
	else {
		fprintf(stderr, "fcnat: error: cannot show '%s': expected mappings, sessions or "
			"subscribers\n", argv[2]);
		return -1;
	}
	return 2;
}

enum fc_parse_result options_parse(int argc, char **argv, struct fc_options *o)
{
	struct option longopts[NR_OPTIONS + 1];
	char shortopts[32] = "+:";	/* +: values of --ports stay in order; :: report missing values */
	bool ports_on_cli = false, lists_on_cli[3] = { false, false, false };
	bool proto_on_cli[FC_SUB_PROTOS] = { false, false, false };
	char err[256];
	int c, skip, mode;

	memset(longopts, 0, sizeof(longopts));
	for (size_t i = 0; i < NR_OPTIONS; i++) {
		const struct option_desc *d = &fc_option_table[i];

		longopts[i].name = d->name;
		longopts[i].has_arg = !d->arg ? no_argument :
				      d->arg[0] == '[' ? optional_argument : required_argument;
		longopts[i].val = d->id;
		if (d->id < 256) {
			size_t n = strlen(shortopts);

			shortopts[n] = d->id;
			if (d->arg)
				shortopts[++n] = ':';
			shortopts[n + 1] = '\0';
		}
	}

	/* The configuration file first, so that the command line wins. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *path = NULL;

		if ((!strcmp(a, "-c") || !strcmp(a, "--config") || !strcmp(a, "--check-config")) &&
		    i + 1 < argc)
			path = argv[i + 1];
		else if (!strncmp(a, "--config=", 9))
			path = a + 9;
		else if (!strncmp(a, "--check-config=", 15))
			path = a + 15;
		else if (!strncmp(a, "-c", 2) && a[2])
			path = a + 2;
		if (path) {
			snprintf(o->config_path, sizeof(o->config_path), "%s", path);
			if (load_config_file(path, o))
				return FC_OPTS_USAGE;
			break;
		}
	}

	skip = parse_command(argc, argv, o);
	if (skip < 0)
		goto usage;
	/* lookup takes the daemon's options (the plan is in them) and --json. */
	mode = o->cmd == FC_CMD_RUN || o->cmd == FC_CMD_LOOKUP ? CTX_RUN : CTX_SHOW;
	/* getopt sees the command's last word as its argv[0]. */
	argc -= skip;
	argv += skip;

	opterr = 0;
	optind = 0;	/* glibc: start afresh, so a reload can parse again */
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct option_desc *d = desc_by_id(c);

		if (d && !(d->ctx & mode) && !(o->cmd == FC_CMD_LOOKUP && c == OPT_JSON)) {
			fprintf(stderr, "fcnat: error: option '--%s' does not apply to '%s'\n",
				d->name, o->cmd == FC_CMD_LOOKUP ? "fcnat lookup" :
				skip == 1 ? "fcnat stats" : "fcnat show");
			goto usage;
		}
		switch (c) {
		case OPT_HELP:
			options_usage(stdout);
			return FC_OPTS_EXIT_OK;
		case OPT_VERSION:
			printf("fcnat %s (layout %d)\n", FCNAT_VERSION, FC_LAYOUT_VERSION);
			return FC_OPTS_EXIT_OK;
		case OPT_CONFIG:
			break;	/* read above */
		case OPT_NAT44:
			o->nat44 = true;
			break;
		case OPT_NAT66:
			o->nat66 = true;
			break;
		case OPT_NAT64:
			/* --nat64, --nat64=PREFIX or --nat64 PREFIX */
			if (!optarg && optind < argc && argv[optind][0] != '-')
				optarg = argv[optind++];
			if (set_nat64(o, optarg ? optarg : FC_NAT64_PREFIX_DEFAULT, err, sizeof(err)))
				goto bad;
			break;
		case OPT_VERBOSE:
			o->verbose = true;
			break;
		case OPT_PRESERVE_LOW_PORTS:
			o->preserve_low_ports = true;
			break;
		case OPT_LOG_MAPPINGS:
			o->log_mappings = true;
			break;
		case OPT_SYSLOG:
			o->syslog = true;
			break;
		case OPT_KEEP_STATE:
			o->keep_state = true;
			break;
		case OPT_PCP_THIRD_PARTY:
			o->pcp.third_party = true;
			break;
		case OPT_DETACH:
			o->cmd = FC_CMD_DETACH;
			break;
		case OPT_CHECK_CONFIG:
			o->cmd = FC_CMD_CHECK_CONFIG;	/* the file was read above */
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_PORTS:
			if (!ports_on_cli) {	/* the command line replaces the list */
				o->nr_port_ranges = 0;
				ports_on_cli = true;
			}
			/* fallthrough */
		case OPT_TCP_PORTS:
		case OPT_UDP_PORTS:
		case OPT_ICMP_IDS:
			if (c == OPT_TCP_PORTS || c == OPT_UDP_PORTS || c == OPT_ICMP_IDS) {
				int ps = c == OPT_TCP_PORTS ? FC_SUB_TCP :
					 c == OPT_UDP_PORTS ? FC_SUB_UDP : FC_SUB_ICMP;

				if (!proto_on_cli[ps]) {
					memset(&o->proto_ports[ps], 0, sizeof(o->proto_ports[ps]));
					proto_on_cli[ps] = true;
				}
			}
			/* fallthrough */
		case OPT_POOL:
		case OPT_INTERNAL:
		case OPT_INTERNAL_PREFIX:
		case OPT_EXCLUDE:
			if (c == OPT_POOL || c == OPT_INTERNAL_PREFIX || c == OPT_EXCLUDE ||
			    (c == OPT_INTERNAL && (o->cmd == FC_CMD_RUN || o->cmd == FC_CMD_CHECK_CONFIG ||
						   o->cmd == FC_CMD_LOOKUP))) {
				/* The command line's list replaces the file's. */
				int l = c == OPT_POOL ? 0 : c == OPT_EXCLUDE ? 2 : 1;

				if (!lists_on_cli[l]) {
					*(l == 0 ? &o->cgnat.nr_pool : l == 1 ? &o->cgnat.nr_internal
									    : &o->cgnat.nr_exclude) = 0;
					lists_on_cli[l] = true;
				}
			}
			/* fallthrough */
		case OPT_HAIRPIN_IF:
		case OPT_NAT64_ALLOW:
		case OPT_NAT64_STATIC:
		case OPT_FORWARD:
		case OPT_PCP_IF:
		case OPT_UPNP_IF:
		case OPT_PCP_ALLOW:
		case OPT_LAN_IF:
			if (c == OPT_INTERNAL && o->cmd != FC_CMD_RUN && o->cmd != FC_CMD_CHECK_CONFIG &&
			    o->cmd != FC_CMD_LOOKUP) {
				if (apply_setting(o, c, optarg, err, sizeof(err)))
					goto bad;
				break;
			}
			if (apply_setting(o, c, optarg, err, sizeof(err)) ||
			    take_more_values(argc, argv, o, c, err, sizeof(err)))
				goto bad;
			break;
		case '?':
			if (optopt)
				fprintf(stderr, "fcnat: error: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "fcnat: error: unknown option '%s'\n", argv[optind - 1]);
			goto usage;
		case ':':
			fprintf(stderr, "fcnat: error: option '%s' needs a value\n", argv[optind - 1]);
			goto usage;
		default:
			if (apply_setting(o, c, optarg, err, sizeof(err)))
				goto bad;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fcnat: error: unexpected argument '%s'\n", argv[optind]);
		goto usage;
	}
	if (!o->nat44 && !o->nat66)
		o->nat44 = true;
	if (mode == CTX_SHOW || o->cmd == FC_CMD_LOOKUP)
		return FC_OPTS_RUN;	/* -i is optional: the only instance is found */
	if (!o->ifname[0]) {
		fprintf(stderr, "fcnat: error: no external interface: use -i/--ifname or a config file\n");
		goto usage;
	}
	if (forwards_check(o, err, sizeof(err)) ||
	    nat64_pool_check(&o->nat64pool, o->nat64, err, sizeof(err)))
		goto bad;
	if (o->pcp.min_lifetime > o->pcp.max_lifetime) {
		snprintf(err, sizeof(err), "--pcp-min-lifetime %u is above --pcp-max-lifetime %u",
			 o->pcp.min_lifetime, o->pcp.max_lifetime);
		goto bad;
	}
	for (unsigned int i = 0; i < o->pcp.nr_ifs; i++) {
		if (!strcmp(o->pcp.ifs[i], o->ifname)) {
			snprintf(err, sizeof(err), "--pcp-if: %s is the external interface", o->ifname);
			goto bad;
		}
	}
	for (unsigned int i = 0; i < o->pcp.nr_upnp_ifs; i++) {
		if (!strcmp(o->pcp.upnp_ifs[i], o->ifname)) {
			snprintf(err, sizeof(err), "--upnp-if: %s is the external interface", o->ifname);
			goto bad;
		}
	}
	if ((o->sync.peer[0] || o->sync.listen[0] || o->sync.key_path[0]) &&
	    !(o->sync.peer[0] && o->sync.listen[0] && o->sync.key_path[0])) {
		snprintf(err, sizeof(err), "HA state sync needs all of --sync-peer, --sync-listen "
			 "and --sync-key");
		goto bad;
	}
	if (o->mode == FC_MODE_XDP && !o->nr_internal_ifs && o->cmd == FC_CMD_RUN) {
		fprintf(stderr, "fcnat: error: --mode xdp needs the internal interfaces: "
			"--lan-if <name> ...\n");
		goto usage;
	}
	if (o->cgnat.nr_pool) {
		static __be32 addrs[FC_POOL_MAX];

		if (pool_addresses(&o->cgnat, addrs, FC_POOL_MAX) < 0) {
			snprintf(err, sizeof(err), "--pool: more than %d addresses", FC_POOL_MAX);
			goto bad;
		}
	}
	if (port_blocks_check(o, err, sizeof(err)) || ports_check(o, err, sizeof(err)))
		goto bad;
	if (o->cgnat.det_on) {
		static struct fc_det_plan plan;

		if (det_plan(o, &plan, err, sizeof(err)))
			goto bad;
	}
	for (int t = 0; t < FC_TIMEOUT_MAX; t++)
		if (o->timeout_s[t] < timeout_min_s[t])
			fc_warn("%s timeout %us is below the RFC minimum of %us",
				timeout_name[t], o->timeout_s[t], timeout_min_s[t]);
	return FC_OPTS_RUN;

bad:
	fprintf(stderr, "fcnat: error: %s\n", err);
usage:
	fprintf(stderr, "Try 'fcnat --help' for more information.\n");
	return FC_OPTS_USAGE;
}
