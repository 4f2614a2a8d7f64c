/* SPDX-License-Identifier: GPL-2.0 */
/* Static forwards: permanent mappings from the configuration. */
#ifndef FC_FORWARD_H
#define FC_FORWARD_H

#include <stddef.h>
#include "options.h"

/* "udp:25000=192.168.1.10:3074" or "tcp:25000-25009=192.168.1.10:8000". */
int forward_parse(const char *spec, struct fc_forward *f, char *err, size_t errlen);
/* Every forward inside the port ranges, none overlapping another. */
int forwards_check(const struct fc_options *o, char *err, size_t errlen);
/* Put the forwards into the datapath as static mappings on ext_addr. A port
 * held by a live dynamic mapping is refused: -EADDRINUSE, message logged. */
int forwards_install(int bindings_fd, const struct fc_options *o, __be32 ext_addr);
/* The forwards to IPv6 servers onto the external IPv6 address (NAT66; with
 * --nat66 only; a zero address: none yet). The same errors. */
int forwards_install6(int bindings_fd, const struct fc_options *o, const union fc_addr *ext6);

#endif
