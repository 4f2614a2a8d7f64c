/* SPDX-License-Identifier: GPL-2.0 */
/* Command line and configuration file: everything that configures a run. */
#ifndef FC_OPTIONS_H
#define FC_OPTIONS_H

#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>

#include <fcnat/types.h>

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
};

/* Datapath: TC programs only, or XDP forwarding in front of them. */
enum fc_mode {
	FC_MODE_TC,
	FC_MODE_XDP,
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
	unsigned int nr_port_ranges;
	struct fc_port_range port_ranges[FC_MAX_PORT_RANGES];
	unsigned int nr_hairpin_ifs;
	char hairpin_ifs[FC_MAX_IFACES][IF_NAMESIZE];
	enum fc_mode mode;
	enum fc_xdp_mode xdp_mode;
	unsigned int nr_internal_ifs;	/* --internal: XDP forwarding and hairpin */
	char internal_ifs[FC_MAX_IFACES][IF_NAMESIZE];
	unsigned int bpf_log;
	unsigned int timeout_s[FC_TIMEOUT_MAX];
	unsigned int max_mappings;
	unsigned int max_sessions;
	bool preserve_low_ports;
	bool verbose;
	bool keep_state;	/* SIGTERM leaves the datapath and its state */
	char bpffs[256];	/* root of the pinned state, one directory per interface */
	char metrics[128];	/* ADDR:PORT of the Prometheus endpoint, "" = off */
	/* show / stats */
	bool json;
	unsigned int filter_proto;	/* 0: any, else enum fc_proto */
	bool filter_internal_set;
	__be32 filter_internal;		/* internal IPv4 address */
	unsigned int filter_external;	/* external port, 0: any */
};

enum fc_parse_result {
	FC_OPTS_RUN,		/* go on and run */
	FC_OPTS_EXIT_OK,	/* --help or --version done */
	FC_OPTS_USAGE,		/* bad input, message printed */
};

void options_defaults(struct fc_options *o);
enum fc_parse_result options_parse(int argc, char **argv, struct fc_options *o);
void options_usage(FILE *out);

/* "20000-29999 40000" style lists; returns 0 or -1 with a message in err. */
int parse_port_ranges(const char *spec, struct fc_port_range *ranges,
		      unsigned int *nr, char *err, size_t errlen);

#endif
