/* SPDX-License-Identifier: GPL-2.0 */
/* `fcnat offload`: conntrack flow offload (doc/design/offload.md). */
#ifndef FC_OFFLOAD_H
#define FC_OFFLOAD_H

/* argv[0] is "offload". Returns the exit status. */
int offload_main(int argc, char **argv);

/* The name of a datapath counter (enum fo_stat), as logged and in --stats-file. */
const char *offload_stat_name(int stat);

#endif
