/* SPDX-License-Identifier: GPL-2.0 */
/*
 * HA state sync (doc/design/ha.md): mappings and sessions go to up to
 * FC_SYNC_PEERS_MAX peer fcnats over UDP, authenticated, and the peers'
 * are installed here, so a standby (or this one) takes over with every
 * external address and port kept. The daemon's loop drives it; nothing here touches a packet.
 */
#ifndef FC_SYNC_H
#define FC_SYNC_H

#include <stdio.h>
#include <fcnat/types.h>
#include "options.h"

struct fc_sync;

/* Reads the key, opens the socket (before the datapath loads, so a failure
 * leaves nothing to undo). NULL on failure, message logged. */
struct fc_sync *sync_open(const struct fc_sync_opts *so, const char *ifname);
/* The maps it reads and installs into; nothing is sent or applied before. */
void sync_attach_maps(struct fc_sync *s, int bindings_fd, int sessions_fd,
		      const struct fc_config *cfg);
void sync_close(struct fc_sync *s);	/* NULL: nothing */

/* For the loop: poll these for POLLIN (<= max written), call sync_receive
 * on the ready ones, and sync_tick when sync_timeout_ms() (ms) has passed. */
int sync_poll_fds(const struct fc_sync *s, int *fds, int max);
void sync_receive(struct fc_sync *s, int fd);
int sync_timeout_ms(const struct fc_sync *s);
void sync_tick(struct fc_sync *s);

/* Prometheus lines (metrics.c's extra source); ctx is the struct fc_sync. */
void sync_metrics(FILE *f, const char *ifname_label, void *ctx);

/* The running daemon's sync status on ifname (what show sync --json
 * prints), NULL if it has none; json_object_put() after. */
struct json_object *sync_status_query(const char *ifname);

/* fcnat show sync [--json]: asks the running daemon; exit status. */
int sync_show_main(const struct fc_options *o);

/* "--sync-peer"-style "ADDR:PORT" / "[ADDR6]:PORT" with a host part; 0 or -1. */
int sync_parse_addr(const char *spec);

#endif
