/* SPDX-License-Identifier: GPL-2.0 */
/* fcnat show mappings|sessions|subscribers, fcnat stats: reading a running instance. */
#ifndef FC_SHOW_H
#define FC_SHOW_H

#include "options.h"

/* Runs o->cmd (a show or stats command); returns the exit status. */
int show_main(const struct fc_options *o);

/* TCP session state from enum fc_tcp_seen bits, e.g. "established". */
const char *tcp_state_name(__u32 seen);

/* Live totals of an instance's maps, for stats and metrics. */
#define FC_SUMMARY_PROTOS 3	/* tcp, udp, icmp */

/* Ports in use on one external address (the interface's, or one of the
 * pool), per protocol. */
struct fc_addr_usage {
	__be32 addr;
	__u64 ports_used[FC_SUMMARY_PROTOS];
};

struct fc_summary {
	unsigned long mappings;
	unsigned long sessions;
	unsigned long subscribers;	/* entries in the subscriber table */
	unsigned int nr_addrs;
	struct fc_addr_usage *addrs;	/* the interface's first, then the pool's */
};

/* pool_fd, subscribers_fd: -1 if not known. summary_free() after. */
int summary_read(int bindings_fd, int sessions_fd, int pool_fd, int subscribers_fd,
		 const struct fc_config *cfg, struct fc_summary *out);
void summary_free(struct fc_summary *s);
const char *summary_proto_name(int i);

#endif
