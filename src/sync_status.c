// SPDX-License-Identifier: GPL-2.0
/*
 * What the state sync tells operators: `fcnat show sync` asks the daemon
 * over an abstract unix socket (one per interface; abstract names belong to
 * the network namespace, as the interface does), and the metrics endpoint
 * gets fcnat_sync_* lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <net/if.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sync.h"
#include "sync_int.h"

static socklen_t status_addr(struct sockaddr_un *a, const char *ifname)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "fcnat-sync/%s", ifname);
	return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}

int sync_status_listen(const char *ifname)
{
	struct sockaddr_un a;
	socklen_t len = status_addr(&a, ifname);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, len) || listen(fd, 4)) {
		fc_warn("sync: no `fcnat show sync` for this instance: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *peer_state(const struct fc_sync *s, __u64 now)
{
	if (sync_peer_up(s, now))
		return "up";
	if (s->last_heard_ms && now - s->last_heard_ms < 3500)
		return "handshake";
	return s->peer_epoch ? "down" : "unknown";
}

#define FIELDS(X) \
	X(tx_datagrams) X(tx_records) X(tx_errors) X(tx_dropped) X(rx_datagrams) \
	X(rx_records) X(rx_install_errors) X(rx_auth_failed) X(rx_replayed) X(rx_unfresh) \
	X(rx_malformed) X(rx_lost) X(resyncs_sent) X(resyncs_asked) X(scans)

static json_object *status_json(const struct fc_sync *s)
{
	json_object *o = json_object_new_object();
	__u64 now = mono_ms();

	json_object_object_add(o, "peer", json_object_new_string(s->peer_str));
	json_object_object_add(o, "listen", json_object_new_string(s->listen_str));
	json_object_object_add(o, "peer_state", json_object_new_string(peer_state(s, now)));
	json_object_object_add(o, "epoch", json_object_new_uint64(s->epoch));
	json_object_object_add(o, "peer_epoch", json_object_new_uint64(s->peer_epoch));
	json_object_object_add(o, "peer_joins", json_object_new_uint64(s->joins));
	json_object_object_add(o, "last_heard_ms_ago", s->last_heard_ms ?
			       json_object_new_uint64(now - s->last_heard_ms) : NULL);
	json_object_object_add(o, "seq", json_object_new_uint64(s->seq));
	json_object_object_add(o, "lag_records", json_object_new_uint64(s->q_len));
	json_object_object_add(o, "lag_ms", json_object_new_uint64(
		s->q_len ? now - s->q[s->q_head].t_ms : 0));
	json_object_object_add(o, "tracked", json_object_new_uint64(s->table.len));
	json_object_object_add(o, "last_scan_ms", json_object_new_uint64(s->scan_ms));
	json_object_object_add(o, "last_scan_slices", json_object_new_uint64(s->scan_slices));
	json_object_object_add(o, "last_scan_wall_ms", json_object_new_uint64(s->scan_wall_ms));
	json_object_object_add(o, "lag_bound_ms", json_object_new_uint64(sync_lag_bound_ms(s)));
	json_object_object_add(o, "burst", json_object_new_uint64(s->burst));
#define ADD(f) json_object_object_add(o, #f, json_object_new_uint64(s->st.f));
	FIELDS(ADD)
#undef ADD
	return o;
}

void sync_status_answer(struct fc_sync *s)
{
	int c = accept4(s->status_fd, NULL, NULL, SOCK_CLOEXEC);
	json_object *o;
	const char *txt;

	if (c < 0)
		return;
	o = status_json(s);
	txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	/* A few hundred bytes into an empty socket buffer: never blocks. */
	if (send(c, txt, strlen(txt), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		fc_debug("sync: show sync: %s", strerror(errno));
	json_object_put(o);
	close(c);
}

void sync_metrics(FILE *f, const char *ifn, void *ctx)
{
	const struct fc_sync *s = ctx;
	__u64 now = mono_ms();

	if (!s)
		return;
	fprintf(f, "# HELP fcnat_sync_peer_up HA state sync: 1 while the peer answers.\n"
		"# TYPE fcnat_sync_peer_up gauge\n"
		"fcnat_sync_peer_up{interface=\"%s\"} %d\n", ifn, sync_peer_up(s, now) ? 1 : 0);
	fprintf(f, "# HELP fcnat_sync_lag_records Records queued for the peer.\n"
		"# TYPE fcnat_sync_lag_records gauge\n"
		"fcnat_sync_lag_records{interface=\"%s\"} %zu\n", ifn, s->q_len);
	fprintf(f, "# HELP fcnat_sync_lag_seconds Age of the oldest queued record.\n"
		"# TYPE fcnat_sync_lag_seconds gauge\n"
		"fcnat_sync_lag_seconds{interface=\"%s\"} %.3f\n", ifn,
		s->q_len ? (now - s->q[s->q_head].t_ms) / 1000.0 : 0.0);
	fprintf(f, "# HELP fcnat_sync_lag_bound_seconds How long a change may wait for the scan "
		"that queues it.\n"
		"# TYPE fcnat_sync_lag_bound_seconds gauge\n"
		"fcnat_sync_lag_bound_seconds{interface=\"%s\"} %.3f\n", ifn,
		sync_lag_bound_ms(s) / 1000.0);
#define LINE(x) \
	fprintf(f, "# HELP fcnat_sync_" #x "_total HA state sync counter (see fcnat show sync).\n" \
		"# TYPE fcnat_sync_" #x "_total counter\n" \
		"fcnat_sync_" #x "_total{interface=\"%s\"} %llu\n", ifn, \
		(unsigned long long)s->st.x);
	FIELDS(LINE)
#undef LINE
}

/* Without -i: the one syncing instance of this namespace, from the
 * abstract sockets in /proc/net/unix ("@fcnat-sync/IFNAME"). */
static int find_instance(char *ifname, size_t len)
{
	FILE *f = fopen("/proc/net/unix", "re");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, " @fcnat-sync/");

		if (!p)
			continue;
		p += strlen(" @fcnat-sync/");
		p[strcspn(p, " \n")] = '\0';
		if (n++ == 0)
			snprintf(ifname, len, "%s", p);
	}
	fclose(f);
	return n == 1 ? 0 : -1;
}

/* The daemon's answer on ifname's status socket, NULL if none answers. */
static json_object *query(const char *ifname)
{
	struct sockaddr_un a;
	socklen_t len = status_addr(&a, ifname);
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, len)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	return json_tokener_parse(buf);
}

struct json_object *sync_status_query(const char *ifname)
{
	return query(ifname);
}

int sync_show_main(const struct fc_options *o)
{
	char ifname[IF_NAMESIZE + 1];
	json_object *j;

	snprintf(ifname, sizeof(ifname), "%s", o->ifname);
	if (!ifname[0] && find_instance(ifname, sizeof(ifname))) {
		fprintf(stderr, "fcnat: error: no single fcnat with --sync-peer in this network "
			"namespace: name it with -i\n");
		return FC_EXIT_FAIL;
	}
	j = query(ifname);
	if (!j) {
		fprintf(stderr, "fcnat: error: no fcnat syncing state on %s here (is --sync-peer "
			"set?)\n", ifname);
		return FC_EXIT_FAIL;
	}
	if (o->json) {
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
	} else {
		json_object_object_foreach(j, key, val)
			printf("%-20s %s\n", key, val ? json_object_get_string(val) : "-");
	}
	json_object_put(j);
	return FC_EXIT_OK;
}
