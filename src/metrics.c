// SPDX-License-Identifier: GPL-2.0
/*
 * The Prometheus endpoint: libmicrohttpd, run from the daemon's poll loop
 * (its epoll descriptor among the loop's, MHD_run when it is ready), so
 * nothing here blocks and no thread shares the daemon's state. Its bounds
 * (doc/security.md, "metrics"): METRICS_CONNECTIONS open at once,
 * METRICS_PER_IP from one address, METRICS_REQUEST_MEMORY for a request
 * head (libmicrohttpd answers 431 past it), and METRICS_DEADLINE_S for the
 * whole exchange. libmicrohttpd's own timeout restarts with every byte, so
 * the deadline is ours: a connection past it is shut down, which
 * libmicrohttpd sees as the peer going away. The counters are the same as
 * `fcnat stats`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#if FC_METRICS_HTTP
#include <microhttpd.h>
#endif
#include "metrics_http.h"
#include "show.h"
#include "stats.h"

#define METRICS_CONNECTIONS	16
#define METRICS_PER_IP		4
#define METRICS_DEADLINE_S	10
#define METRICS_REQUEST_MEMORY	(16 * 1024)
#define METRICS_BACKLOG		64

#if FC_METRICS_HTTP
/* A connection of libmicrohttpd's and the time it must be gone by. */
struct metrics_conn {
	int fd;			/* -1: a free slot */
	bool cut;		/* shut down at its deadline */
	__u64 deadline_ms;
	struct MHD_Connection *c;
};

struct metrics_server {
	struct MHD_Daemon *mhd;
	int epoll_fd;
	bool have_source;
	struct metrics_source src;
	struct metrics_conn conns[METRICS_CONNECTIONS];
};

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif

int metrics_parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon;
	char *end;
	unsigned long port;
	size_t hlen;

	memset(ss, 0, sizeof(*ss));
	colon = strrchr(spec, ':');
	if (!colon)
		return -1;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port == 0 || port > 65535)
		return -1;
	hlen = colon - spec;
	if (hlen >= sizeof(host))
		return -1;
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	if (host[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		if (hlen < 2 || host[hlen - 1] != ']')
			return -1;
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return -1;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (host[0] && inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -1;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
	}
	return 0;
}

int metrics_listen(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, err;

	if (metrics_parse_addr(spec, &ss, &len)) {
		fc_err("invalid --metrics address '%s'", spec);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, METRICS_BACKLOG)) {
		err = -errno;
		fc_err("metrics endpoint %s: %s", spec, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

#if FC_METRICS_HTTP
static void metric(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP fcnat_%s %s\n# TYPE fcnat_%s %s\n", name, help, name, type);
}

static void render(FILE *f, const struct metrics_source *src)
{
	__u64 counters[FC_STAT_MAX];
	struct fc_summary sum;
	char addr[INET_ADDRSTRLEN], ifn[2 * IFNAMSIZ + 1];

	metrics_escape_label(ifn, sizeof(ifn), src->ifname);
	if (src->extra)
		src->extra(f, ifn, src->extra_ctx);
	if (!src->meta)
		return;		/* only the extra lines: `fcnat offload` */

	if (!stats_read(src->stats_fd, counters)) {
		for (int k = 0; k < FC_STAT_MAX; k++) {
			char name[64];

			snprintf(name, sizeof(name), "%s_total", stat_name(k));
			metric(f, name, "counter", "Datapath counter (see fcnat stats).");
			fprintf(f, "fcnat_%s{interface=\"%s\"} %llu\n", name, ifn,
				(unsigned long long)counters[k]);
		}
	}
	for (int k = 0; k < FC_DSTAT_NR; k++) {
		char name[64];

		snprintf(name, sizeof(name), "%s_total", dstat_name(k));
		metric(f, name, "counter", "Daemon counter (see fcnat stats).");
		fprintf(f, "fcnat_%s{interface=\"%s\"} %llu\n", name, ifn,
			(unsigned long long)src->meta->counters[k]);
	}
	if (summary_read(src->bindings_fd, src->sessions_fd, src->pool_fd, src->subscribers_fd,
			 src->cfg, &sum))
		return;
	metric(f, "mappings", "gauge", "Live mappings.");
	fprintf(f, "fcnat_mappings{interface=\"%s\"} %lu\n", ifn, sum.mappings);
	metric(f, "sessions", "gauge", "Live sessions.");
	fprintf(f, "fcnat_sessions{interface=\"%s\"} %lu\n", ifn, sum.sessions);
	metric(f, "subscribers", "gauge", "Internal addresses with a subscriber entry (pool or limits).");
	fprintf(f, "fcnat_subscribers{interface=\"%s\"} %lu\n", ifn, sum.subscribers);
	metric(f, "ports_used", "gauge", "External ports in use per address and protocol.");
	for (unsigned int a = 0; a < sum.nr_addrs; a++) {
		inet_ntop(AF_INET, &sum.addrs[a].addr, addr, sizeof(addr));
		for (int i = 0; i < FC_SUMMARY_PROTOS; i++)
			fprintf(f, "fcnat_ports_used{interface=\"%s\",address=\"%s\",proto=\"%s\"} "
				"%llu\n", ifn, addr, summary_proto_name(i),
				(unsigned long long)sum.addrs[a].ports_used[i]);
	}
	metric(f, "ports_total", "gauge", "External ports in the protocol's ranges (per address).");
	for (int i = 0; i < FC_SUMMARY_PROTOS; i++)
		fprintf(f, "fcnat_ports_total{interface=\"%s\",proto=\"%s\"} %u\n", ifn,
			summary_proto_name(i), src->cfg->ports[i].total);
	summary_free(&sum);
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned int status, char *body, size_t len,
			     const char *type, bool must_free)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, body, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	/* As the hand-written server answered: HTTP/1.0, one request per
	 * connection. */
	MHD_set_response_options(r, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT | MHD_RF_HTTP_1_0_SERVER,
				 MHD_RO_END);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	static char not_found[] = "only GET /metrics here\n";
	static char bad_method[] = "only GET and HEAD here\n";
	static char no_source[] = "not ready\n";
	struct metrics_server *m = cls;
	char *body = NULL;
	size_t len = 0;
	FILE *f;

	/* Answered on the first call, with the head: a body, if any, is not
	 * read (libmicrohttpd closes the connection after the answer). */
	switch (metrics_route(method, url)) {
	case METRICS_NOT_FOUND:
		return queue(c, MHD_HTTP_NOT_FOUND, not_found, sizeof(not_found) - 1,
			     "text/plain", false);
	case METRICS_BAD_METHOD:
		return queue(c, MHD_HTTP_METHOD_NOT_ALLOWED, bad_method, sizeof(bad_method) - 1,
			     "text/plain", false);
	case METRICS_SCRAPE:
		break;
	}
	if (!m->have_source)
		return queue(c, MHD_HTTP_SERVICE_UNAVAILABLE, no_source, sizeof(no_source) - 1,
			     "text/plain", false);
	f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	render(f, &m->src);
	if (fclose(f)) {
		free(body);
		return MHD_NO;
	}
	return queue(c, MHD_HTTP_OK, body, len, "text/plain; version=0.0.4; charset=utf-8", true);
}

/* A connection past METRICS_CONNECTIONS is closed at once, not left in the
 * backlog to take a place later (libmicrohttpd's own limit, one higher, is
 * never reached: it would stop accepting instead). */
static enum MHD_Result admit(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	const struct metrics_server *m = cls;

	for (int i = 0; i < METRICS_CONNECTIONS; i++)
		if (m->conns[i].fd < 0)
			return MHD_YES;
	return MHD_NO;
}

/* libmicrohttpd's connections, as they come and go, with their deadlines. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct metrics_server *m = cls;
	struct metrics_conn *mc = *socket_ctx;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (mc)
			mc->fd = -1;
		return;
	}
	for (int i = 0; i < METRICS_CONNECTIONS; i++) {
		const union MHD_ConnectionInfo *ci;

		if (m->conns[i].fd >= 0)
			continue;
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!ci)
			break;
		m->conns[i] = (struct metrics_conn){
			.fd = ci->connect_fd,
			.deadline_ms = mono_ms() + METRICS_DEADLINE_S * 1000,
			.c = c,
		};
		*socket_ctx = &m->conns[i];
		return;
	}
	/* Not reached (admit() keeps a place); the idle timeout would still
	 * bound such a connection. */
}

struct metrics_server *metrics_open(const char *spec)
{
	struct metrics_server *m = calloc(1, sizeof(*m));
	const union MHD_DaemonInfo *di;
	int fd;

	if (!m)
		return NULL;
	for (int i = 0; i < METRICS_CONNECTIONS; i++)
		m->conns[i].fd = -1;
	fd = metrics_listen(spec);
	if (fd < 0) {
		free(m);
		return NULL;
	}
	/* No thread flag: external polling, through the epoll descriptor. */
	m->mhd = MHD_start_daemon(MHD_USE_EPOLL, 0, admit, m, answer, m,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONNECTIONS + 1,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)METRICS_PER_IP,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_DEADLINE_S,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_REQUEST_MEMORY,
				  MHD_OPTION_NOTIFY_CONNECTION, on_connection, m,
				  MHD_OPTION_END);
	di = m->mhd ? MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!di) {
		fc_err("metrics endpoint %s: cannot start the HTTP server", spec);
		if (m->mhd)
			MHD_stop_daemon(m->mhd);	/* closes fd */
		else
			close(fd);
		free(m);
		return NULL;
	}
	m->epoll_fd = di->epoll_fd;
	return m;
}

void metrics_set_source(struct metrics_server *m, const struct metrics_source *src)
{
	if (!m)
		return;
	m->src = *src;
	m->have_source = true;
}

int metrics_poll_fd(const struct metrics_server *m)
{
	return m ? m->epoll_fd : -1;
}

int metrics_timeout_ms(struct metrics_server *m)
{
	MHD_UNSIGNED_LONG_LONG mhd_ms;
	__u64 now = mono_ms();
	long best = -1;

	if (!m)
		return -1;
	if (MHD_get_timeout(m->mhd, &mhd_ms) == MHD_YES)
		best = mhd_ms > 60000 ? 60000 : (long)mhd_ms;
	for (int i = 0; i < METRICS_CONNECTIONS; i++) {
		const struct metrics_conn *mc = &m->conns[i];
		long left;

		if (mc->fd < 0 || mc->cut)
			continue;
		left = mc->deadline_ms > now ? (long)(mc->deadline_ms - now) : 0;
		if (best < 0 || left < best)
			best = left;
	}
	return (int)best;
}

void metrics_run(struct metrics_server *m)
{
	static const struct linger abort_on_close = { .l_onoff = 1, .l_linger = 0 };
	__u64 now = mono_ms();

	if (!m)
		return;
	for (int i = 0; i < METRICS_CONNECTIONS; i++) {
		struct metrics_conn *mc = &m->conns[i];

		if (mc->fd < 0 || mc->cut || now < mc->deadline_ms)
			continue;
		/* The descriptor stays libmicrohttpd's to close: it reads EOF
		 * or fails to write, and drops the connection; the 1 s
		 * timeout is in case it waits for neither. Linger 0: that
		 * close resets, and what the kernel still held for the
		 * client is dropped with it, not trickled out. */
		setsockopt(mc->fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
		shutdown(mc->fd, SHUT_RDWR);
		MHD_set_connection_option(mc->c, MHD_CONNECTION_OPTION_TIMEOUT, 1u);
		mc->cut = true;
	}
	MHD_run(m->mhd);
}

void metrics_close(struct metrics_server *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->mhd);	/* closes the listening socket too */
	free(m);
}
#else	/* METRICS_HTTP=0 (STATIC=1): options.c refuses --metrics first */
struct metrics_server *metrics_open(const char *spec)
{
	fc_err("metrics endpoint %s: %s", spec, METRICS_HTTP_MISSING);
	return NULL;
}

void metrics_set_source(struct metrics_server *m, const struct metrics_source *src) {}
int metrics_poll_fd(const struct metrics_server *m) { return -1; }
int metrics_timeout_ms(struct metrics_server *m) { return -1; }
void metrics_run(struct metrics_server *m) {}
void metrics_close(struct metrics_server *m) {}
#endif
