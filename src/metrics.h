/* SPDX-License-Identifier: GPL-2.0 */
/* --metrics ADDR:PORT: a Prometheus text exposition endpoint in the daemon. */
#ifndef FC_METRICS_H
#define FC_METRICS_H

#include <netinet/in.h>
#include <sys/socket.h>

#include <fcnat/types.h>
#include "pin.h"

/* "127.0.0.1:9477", "[::1]:9477", ":9477" (all addresses); 0 or -1. */
int metrics_parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len);

/* Listening socket (non-blocking), or -errno with a message logged. */
int metrics_listen(const char *spec);

struct metrics_source {
	const char *ifname;
	int bindings_fd;
	int sessions_fd;
	int stats_fd;
	int pool_fd;		/* -1: none */
	int subscribers_fd;	/* -1: none */
	const struct fc_config *cfg;
	const struct fc_meta *meta;	/* daemon counters */
};

/* Accept one pending connection and answer it (GET /metrics, else 404). */
void metrics_serve(int listen_fd, const struct metrics_source *src);

#endif
