/* SPDX-License-Identifier: GPL-2.0 */
/* Datapath counters: names and reading the per-CPU array. */
#ifndef FC_STATS_H
#define FC_STATS_H

#include <stdio.h>
#include <fcnat/types.h>
#include "pin.h"

const char *stat_name(enum fc_stat s);
/* "tcp", "udp", "icmp" for enum fc_proto, "?" otherwise. */
const char *proto_name(__u8 proto);
/* The daemon's counters (kept in fc_meta). */
const char *dstat_name(enum fc_dstat s);
/* Sum over CPUs of every counter into out[FC_STAT_MAX]. */
int stats_read(int stats_fd, __u64 *out);
/* The non-zero counters, one "name value" per line. */
void stats_print(FILE *f, const __u64 *v);

#endif
