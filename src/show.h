/* SPDX-License-Identifier: GPL-2.0 */
/* fcnat show mappings|sessions, fcnat stats: reading a running instance. */
#ifndef FC_SHOW_H
#define FC_SHOW_H

#include "options.h"

/* Runs o->cmd (a show or stats command); returns the exit status. */
int show_main(const struct fc_options *o);

/* TCP session state from enum fc_tcp_seen bits, e.g. "established". */
const char *tcp_state_name(__u32 seen);

#endif
