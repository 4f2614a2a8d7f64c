/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctnetlink sockets (NETLINK_NETFILTER) for `fcnat offload` and `fcnat
 * show offloads`: opening one, and dumping the conntrack table through
 * ct_msg.h's codec. doc/design/offload.md.
 */
#ifndef FC_CT_SOCK_H
#define FC_CT_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "ct_msg.h"

/* A ctnetlink socket (non-blocking), subscribed to groups (NFNLGRP_*
 * bits; 0: none), with room for bursts of events. -1 with errno. */
int ct_sock_open(unsigned int groups);

/*
 * Dump every family's conntrack table on a socket of its own, calling cb
 * for each entry; recv_hook(arg, false) before and (arg, true) after each
 * recv()'s worth of entries, if set (fcnat offload writes its new flows
 * in batches between them). buf: buflen bytes to receive into. 0 at the
 * dump's end, or -errno.
 */
int ct_sock_dump(char *buf, size_t buflen, __u32 seq,
		 int (*cb)(const struct ct_entry *e, void *arg),
		 void (*recv_hook)(void *arg, bool after), void *arg);

#endif
