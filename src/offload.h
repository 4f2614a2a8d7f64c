/* SPDX-License-Identifier: GPL-2.0 */
/* `fcnat offload`: conntrack flow offload (doc/design/offload.md). */
#ifndef FC_OFFLOAD_H
#define FC_OFFLOAD_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

/* argv[0] is "offload". Returns the exit status. */
int offload_main(int argc, char **argv);

/* `fcnat show offloads ...`: argv[0] is "offloads". */
int offload_show_main(int argc, char **argv);

/* `fcnat stats`: the flows and counters of the offload pinned under root
 * for this network namespace, added to into as "offload" (JSON) or printed
 * as text (into NULL). 1 when one was shown, 0 when there is none (nothing
 * said), -1 on an error (logged). */
struct json_object;
int offload_stats(const char *root, struct json_object *into);

/* The datapath counters (enum fo_stat, FO_STAT_MAX of them) summed over
 * the CPUs from fo_stats; false if they cannot be read. */
bool offload_counters(int stats_fd, __u64 *sum);

struct fo_table;

/* The Prometheus lines of a running offload (a metrics_source's extra). */
struct fo_metrics_ctx {
	int stats_fd;
	const struct fo_table *table;
};
void offload_metrics(FILE *f, const char *label, void *ctx);

/* The name of a datapath counter (enum fo_stat), as logged and in --stats-file. */
const char *offload_stat_name(int stat);

#endif
