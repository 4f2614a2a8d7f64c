/* SPDX-License-Identifier: GPL-2.0 */
/* --metrics ADDR:PORT: a Prometheus text exposition endpoint in the daemon. */
#ifndef FC_METRICS_H
#define FC_METRICS_H

#include <netinet/in.h>
#include <stdio.h>
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
	/* More lines from another part of the daemon (HA sync), or NULL. */
	void (*extra)(FILE *f, const char *ifname_label, void *ctx);
	void *extra_ctx;
};

struct metrics_server;

/* A build without libmicrohttpd (`make METRICS_HTTP=0`, the default of
 * STATIC=1: Debian's libmicrohttpd needs GnuTLS, whose libunistring and
 * p11-kit have no static archives) has no endpoint: --metrics is refused. */
#ifndef FC_METRICS_HTTP
#define FC_METRICS_HTTP 1
#endif
#define METRICS_HTTP_MISSING "this fcnat was built without the metrics HTTP server " \
	"(make METRICS_HTTP=0, the default of STATIC=1)"

/* Listening on `spec`, served from the caller's poll loop; NULL with a
 * message logged. Scrapes are answered 503 until metrics_set_source. */
struct metrics_server *metrics_open(const char *spec);
void metrics_set_source(struct metrics_server *m, const struct metrics_source *src);
/* For the loop: poll metrics_poll_fd() for POLLIN, and call metrics_run()
 * when it is ready or metrics_timeout_ms() (-1: none) has passed. */
int metrics_poll_fd(const struct metrics_server *m);
int metrics_timeout_ms(struct metrics_server *m);
void metrics_run(struct metrics_server *m);
void metrics_close(struct metrics_server *m);	/* NULL: nothing */

#endif
