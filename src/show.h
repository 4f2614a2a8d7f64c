/* SPDX-License-Identifier: GPL-2.0 */
/* fcnat show mappings|sessions, fcnat stats: reading a running instance. */
#ifndef FC_SHOW_H
#define FC_SHOW_H

#include "options.h"

/* Runs o->cmd (a show or stats command); returns the exit status. */
int show_main(const struct fc_options *o);

/* TCP session state from enum fc_tcp_seen bits, e.g. "established". */
const char *tcp_state_name(__u32 seen);

/* Live totals of an instance's maps, for stats and metrics. */
#define FC_SUMMARY_PROTOS 3	/* tcp, udp, icmp */
struct fc_summary {
	unsigned long mappings;
	unsigned long sessions;
	__u64 ports_used[FC_SUMMARY_PROTOS];	/* on the current external address */
};

int summary_read(int bindings_fd, int sessions_fd, const struct fc_config *cfg,
		 struct fc_summary *out);
const char *summary_proto_name(int i);

#endif
