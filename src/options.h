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

struct fc_options {
	char ifname[IF_NAMESIZE];
	char config_path[4096];
	bool nat44;
	bool nat66;
	unsigned int nr_port_ranges;
	struct fc_port_range port_ranges[FC_MAX_PORT_RANGES];
	unsigned int nr_hairpin_ifs;
	char hairpin_ifs[FC_MAX_IFACES][IF_NAMESIZE];
	unsigned int bpf_log;
	unsigned int timeout_s[FC_TIMEOUT_MAX];
	unsigned int max_mappings;
	unsigned int max_sessions;
	bool preserve_low_ports;
	bool verbose;
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
