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

static const char *peer_state(const struct sync_peer *s, __u64 now)
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

static __u64 lag_ms(const struct sync_peer *s, __u64 now)
{
	return s->q_len ? now - s->q[s->q_head].t_ms : 0;
}

static json_object *peer_json(const struct sync_peer *s, __u64 now)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "peer", json_object_new_string(s->peer_str));
	json_object_object_add(o, "peer_state", json_object_new_string(peer_state(s, now)));
	json_object_object_add(o, "peer_epoch", json_object_new_uint64(s->peer_epoch));
	json_object_object_add(o, "peer_joins", json_object_new_uint64(s->joins));
	json_object_object_add(o, "last_heard_ms_ago", s->last_heard_ms ?
			       json_object_new_uint64(now - s->last_heard_ms) : NULL);
	json_object_object_add(o, "seq", json_object_new_uint64(s->seq));
	json_object_object_add(o, "lag_records", json_object_new_uint64(s->q_len));
	json_object_object_add(o, "lag_ms", json_object_new_uint64(lag_ms(s, now)));
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

/* The node's view: with one peer exactly that peer's fields (as before
 * there were several); with more, the counters summed, the lags the worst,
 * peer_state "up" only while every peer is, the peers listed in "peer";
 * each peer's own in "peers". */
static json_object *status_json(const struct fc_sync *n)
{
	json_object *o, *peers = json_object_new_array();
	__u64 now = mono_ms();
	struct sync_stats sum = n->other;
	__u64 lag_rec = 0, lag = 0, bound = 0, tracked = 0;
	const char *state = "up";
	char names[FC_SYNC_PEERS_MAX * 130] = "";

	for (unsigned int i = 0; i < n->npeers; i++)
		json_object_array_add(peers, peer_json(&n->peers[i], now));
	if (n->npeers == 1) {
		o = peer_json(&n->peers[0], now);
		json_object_object_add(o, "rx_unknown_peer", json_object_new_uint64(0));
	} else {
		o = json_object_new_object();
		for (unsigned int i = 0; i < n->npeers; i++) {
			const struct sync_peer *s = &n->peers[i];

#define SUM(f) sum.f += s->st.f;
			FIELDS(SUM)
#undef SUM
			lag_rec += s->q_len;
			lag = lag_ms(s, now) > lag ? lag_ms(s, now) : lag;
			bound = sync_lag_bound_ms(s) > bound ? sync_lag_bound_ms(s) : bound;
			tracked = s->table.len > tracked ? s->table.len : tracked;
			if (strcmp(peer_state(s, now), "up") && !strcmp(state, "up"))
				state = peer_state(s, now);
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 i ? "," : "", s->peer_str);
		}
		json_object_object_add(o, "peer", json_object_new_string(names));
		json_object_object_add(o, "peer_state", json_object_new_string(state));
		json_object_object_add(o, "lag_records", json_object_new_uint64(lag_rec));
		json_object_object_add(o, "lag_ms", json_object_new_uint64(lag));
		json_object_object_add(o, "lag_bound_ms", json_object_new_uint64(bound));
		json_object_object_add(o, "tracked", json_object_new_uint64(tracked));
#define ADD(f) json_object_object_add(o, #f, json_object_new_uint64(sum.f));
		FIELDS(ADD)
#undef ADD
		json_object_object_add(o, "rx_unknown_peer",
				       json_object_new_uint64(n->other.rx_unknown_peer));
	}
	json_object_object_add(o, "listen", json_object_new_string(n->listen_str));
	json_object_object_add(o, "epoch", json_object_new_uint64(n->epoch));
	json_object_object_add(o, "peers", peers);
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
	/* At most a few KiB (8 peers) into an empty socket buffer: never
	 * blocks. */
	if (send(c, txt, strlen(txt), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		fc_debug("sync: show sync: %s", strerror(errno));
	json_object_put(o);
	close(c);
}

void sync_metrics(FILE *f, const char *ifn, void *ctx)
{
	const struct fc_sync *n = ctx;
	__u64 now = mono_ms();

	if (!n)
		return;
#define EACH for (unsigned int i = 0; i < n->npeers; i++)
#define P (&n->peers[i])
#define LBL "{interface=\"%s\",peer=\"%s\"}"
	fprintf(f, "# HELP fcnat_sync_peer_up HA state sync: 1 while the peer answers.\n"
		"# TYPE fcnat_sync_peer_up gauge\n");
	EACH fprintf(f, "fcnat_sync_peer_up" LBL " %d\n", ifn, P->peer_str,
		     sync_peer_up(P, now) ? 1 : 0);
	fprintf(f, "# HELP fcnat_sync_lag_records Records queued for the peer.\n"
		"# TYPE fcnat_sync_lag_records gauge\n");
	EACH fprintf(f, "fcnat_sync_lag_records" LBL " %zu\n", ifn, P->peer_str, P->q_len);
	fprintf(f, "# HELP fcnat_sync_lag_seconds Age of the oldest queued record.\n"
		"# TYPE fcnat_sync_lag_seconds gauge\n");
	EACH fprintf(f, "fcnat_sync_lag_seconds" LBL " %.3f\n", ifn, P->peer_str,
		     lag_ms(P, now) / 1000.0);
	fprintf(f, "# HELP fcnat_sync_lag_bound_seconds How long a change may wait for the scan "
		"that queues it.\n"
		"# TYPE fcnat_sync_lag_bound_seconds gauge\n");
	EACH fprintf(f, "fcnat_sync_lag_bound_seconds" LBL " %.3f\n", ifn, P->peer_str,
		     sync_lag_bound_ms(P) / 1000.0);
#define LINE(x) \
	fprintf(f, "# HELP fcnat_sync_" #x "_total HA state sync counter (see fcnat show sync).\n" \
		"# TYPE fcnat_sync_" #x "_total counter\n"); \
	EACH fprintf(f, "fcnat_sync_" #x "_total" LBL " %llu\n", ifn, P->peer_str, \
		     (unsigned long long)P->st.x);
	FIELDS(LINE)
#undef LINE
#undef EACH
#undef P
#undef LBL
	/* Datagrams that were no peer's (several peers only). */
	fprintf(f, "# HELP fcnat_sync_rx_unmatched_total HA state sync datagrams from an address "
		"that is no peer's.\n"
		"# TYPE fcnat_sync_rx_unmatched_total counter\n"
		"fcnat_sync_rx_unmatched_total{interface=\"%s\",reason=\"auth_failed\"} %llu\n"
		"fcnat_sync_rx_unmatched_total{interface=\"%s\",reason=\"malformed\"} %llu\n"
		"fcnat_sync_rx_unmatched_total{interface=\"%s\",reason=\"unknown_peer\"} %llu\n",
		ifn, (unsigned long long)n->other.rx_auth_failed,
		ifn, (unsigned long long)n->other.rx_malformed,
		ifn, (unsigned long long)n->other.rx_unknown_peer);
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
	static char buf[65536];	/* 8 peers' fields: under 8 KiB */
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
		json_object *peers = NULL;

		json_object_object_foreach(j, key, val) {
			if (!strcmp(key, "peers"))
				peers = val;
			else
				printf("%-20s %s\n", key, val ? json_object_get_string(val) : "-");
		}
		/* Each peer's own, when there are several (one: the lines above). */
		for (size_t i = 0; json_object_array_length(peers) > 1 &&
				   i < json_object_array_length(peers); i++) {
			json_object *p = json_object_array_get_idx(peers, i), *name;

			json_object_object_get_ex(p, "peer", &name);
			printf("\npeer %s\n", json_object_get_string(name));
			json_object_object_foreach(p, k2, v2)
				if (strcmp(k2, "peer"))
					printf("  %-18s %s\n", k2, v2 ? json_object_get_string(v2) : "-");
		}
	}
	json_object_put(j);
	return FC_EXIT_OK;
}
