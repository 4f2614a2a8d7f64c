// SPDX-License-Identifier: GPL-2.0
/*
 * A minimal HTTP/1.0 responder for Prometheus scrapes, served from the
 * daemon's poll loop: one connection at a time, a short read deadline so a
 * slow client cannot stall the sweeper, "Connection: close" after each
 * answer. The counters are the same as `fcnat stats`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "show.h"
#include "stats.h"

#define REQUEST_DEADLINE_MS 200

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
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16)) {
		err = -errno;
		fc_err("metrics endpoint %s: %s", spec, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

static void metric(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP fcnat_%s %s\n# TYPE fcnat_%s %s\n", name, help, name, type);
}

static void render(FILE *f, const struct metrics_source *src)
{
	__u64 counters[FC_STAT_MAX];
	struct fc_summary sum;
	char addr[INET_ADDRSTRLEN];
	const char *ifn = src->ifname;

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
	metric(f, "ports_total", "gauge", "External ports in the configured ranges (per address).");
	fprintf(f, "fcnat_ports_total{interface=\"%s\"} %u\n", ifn, src->cfg->port_total);
	summary_free(&sum);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		ssize_t w = write(fd, p, n);

		if (w > 0) {
			p += w;
			n -= w;
		} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (poll(&pfd, 1, REQUEST_DEADLINE_MS) <= 0)
				return;
		} else {
			return;
		}
	}
}

/* The request head, up to the blank line, within the deadline. */
static int read_request(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len - 1) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, REQUEST_DEADLINE_MS) <= 0)
			return -1;
		n = read(fd, buf + got, len - 1 - got);
		if (n <= 0)
			return -1;
		got += n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return 0;
	}
	return -1;
}

void metrics_serve(int listen_fd, const struct metrics_source *src)
{
	char req[2048], head[256];
	char *body = NULL;
	size_t body_len = 0;
	FILE *f;
	int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (read_request(fd, req, sizeof(req))) {
		close(fd);
		return;
	}
	if (strncmp(req, "GET /metrics ", 13) && strncmp(req, "GET / ", 6)) {
		static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n"
					 "Connection: close\r\n\r\nonly GET /metrics here\n";

		write_all(fd, nf, sizeof(nf) - 1);
		close(fd);
		return;
	}
	f = open_memstream(&body, &body_len);
	if (!f) {
		close(fd);
		return;
	}
	render(f, src);
	fclose(f);
	snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\n"
		 "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n", body_len);
	write_all(fd, head, strlen(head));
	write_all(fd, body, body_len);
	free(body);
	close(fd);
}
