// SPDX-License-Identifier: GPL-2.0
/*
 * Options are declared once, here, with their help text: getopt's table,
 * --help and the configuration file's keys are all made from it.
 */
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "options_int.h"
#include "pin.h"
#include "syslog_sink.h"

const struct option_desc fc_option_table[] = {
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
	{ "nat64-lowest-mtu", OPT_NAT64_LOWEST_MTU, "<bytes>", "NAT64: DF-clear IPv4 packets larger than this\n"
	  "as IPv6 are split into fragments of at most this\n"
	  "(RFC 7915 lowest-ipv6-mtu), 1280 to 65535, default 1280", CTX_RUN },
	{ "nat64-udp-zero-checksum", OPT_NAT64_UDP_ZERO_CSUM, "<compute|drop>", "NAT64: IPv4 UDP datagrams\n"
	  "without checksum get one computed (default), or are\n"
	  "dropped and counted (RFC 7915 4.5)", CTX_RUN },
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
						"e.g. udp:25000=192.168.1.10:3074; an IPv6\n"
						"ADDR in brackets through NAT64 and NAT66", CTX_RUN },
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
	{ "fragment-hold", OPT_FRAGMENT_HOLD, "<sec>", "How long a fragment that arrives before its\n"
	  "train's first is held for it, 2 to 30, defaults to 2", CTX_RUN },
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
	{ "wait-for-address", OPT_WAIT_FOR_ADDRESS, NULL, "Start without an address on the external\n"
	  "interface (DHCP or PPPoE not up yet): LAN traffic to it is dropped\n"
	  "until one arrives, then translated to it (default: refuse to start)", CTX_RUN },
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
	  "peer fcnat (UDP), e.g. 10.9.0.2:7600; repeat for\nmore peers (up to 8); needs "
	  "--sync-listen\nand --sync-key", CTX_RUN },
	{ "sync-listen", OPT_SYNC_LISTEN, "<addr:port>", "HA state sync: receive the peers' here", CTX_RUN },
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

const size_t fc_nr_options = sizeof(fc_option_table) / sizeof(fc_option_table[0]);

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
	for (size_t i = 0; i < fc_nr_options; i++) {
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

const struct option_desc *option_by_name(const char *name)
{
	for (size_t i = 0; i < fc_nr_options; i++)
		if (!strcmp(fc_option_table[i].name, name))
			return &fc_option_table[i];
	return NULL;
}

/* The setting a flag (an option without an argument) turns on, the same
 * on the command line and in a file (key = true|false); NULL for options
 * that act or take an argument. */
bool *option_flag(struct fc_options *o, int id)
{
	switch (id) {
	case OPT_NAT44:			return &o->nat44;
	case OPT_NAT66:			return &o->nat66;
	case OPT_VERBOSE:		return &o->verbose;
	case OPT_PRESERVE_LOW_PORTS:	return &o->preserve_low_ports;
	case OPT_LOG_MAPPINGS:		return &o->log_mappings;
	case OPT_SYSLOG:		return &o->syslog;
	case OPT_KEEP_STATE:		return &o->keep_state;
	case OPT_PCP_THIRD_PARTY:	return &o->pcp.third_party;
	case OPT_WAIT_FOR_ADDRESS:	return &o->wait_for_address;
	default:			return NULL;
	}
}

const struct option_desc *option_by_id(int id)
{
	for (size_t i = 0; i < fc_nr_options; i++)
		if (fc_option_table[i].id == id)
			return &fc_option_table[i];
	return NULL;
}
