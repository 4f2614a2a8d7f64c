// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>

#include "events.h"
#include "log.h"
#include "stats.h"

struct fc_event_log {
	struct ring_buffer *rb;
	unsigned int per_second;	/* token bucket: refill rate = burst */
	double tokens;
	struct timespec last;
	unsigned long suppressed;
};

static int allow(struct fc_event_log *l)
{
	struct timespec now;
	double dt;

	clock_gettime(CLOCK_MONOTONIC, &now);
	dt = (now.tv_sec - l->last.tv_sec) + (now.tv_nsec - l->last.tv_nsec) / 1e9;
	l->last = now;
	l->tokens += dt * l->per_second;
	if (l->tokens > l->per_second)
		l->tokens = l->per_second;
	if (l->tokens < 1) {
		l->suppressed++;
		return 0;
	}
	l->tokens -= 1;
	return 1;
}

void event_log_tick(struct fc_event_log *l)
{
	if (!l || !l->suppressed)
		return;
	fc_info("event log: %lu events not shown (more than %u per second)",
		l->suppressed, l->per_second);
	l->suppressed = 0;
}

void event_log_write(struct fc_event_log *l, const struct fc_event *ev)
{
	char in[INET6_ADDRSTRLEN], ex[INET6_ADDRSTRLEN];
	int af = ev->family == FC_AF_INET6 ? AF_INET6 : AF_INET;

	if (!allow(l))
		return;
	inet_ntop(af, &ev->int_addr, in, sizeof(in));
	inet_ntop(af, &ev->ext_addr, ex, sizeof(ex));
	fc_info("mapping %s %s %s:%u -> %s:%u%s",
		ev->type == FC_EVENT_MAPPING_CREATE ? "created" : "deleted",
		proto_name(ev->proto), in, ntohs(ev->int_port), ex, ntohs(ev->ext_port),
		(ev->flags & FC_BINDING_STATIC) ? " (static)" :
		(ev->flags & FC_BINDING_ROUTER) ? " (gateway)" : "");
}

static int on_sample(void *ctx, void *data, size_t len)
{
	if (len >= sizeof(struct fc_event))
		event_log_write(ctx, data);
	return 0;
}

struct fc_event_log *event_log_open(int events_map_fd, unsigned int per_second)
{
	struct fc_event_log *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->per_second = per_second ? per_second : 1;
	l->tokens = l->per_second;
	clock_gettime(CLOCK_MONOTONIC, &l->last);
	l->rb = ring_buffer__new(events_map_fd, on_sample, l, NULL);
	if (!l->rb) {
		fc_err("opening the event ring buffer: %s", strerror(errno));
		free(l);
		return NULL;
	}
	return l;
}

void event_log_close(struct fc_event_log *l)
{
	if (!l)
		return;
	event_log_drain(l);
	event_log_tick(l);
	ring_buffer__free(l->rb);
	free(l);
}

int event_log_fd(const struct fc_event_log *l)
{
	return ring_buffer__epoll_fd(l->rb);
}

void event_log_drain(struct fc_event_log *l)
{
	ring_buffer__consume(l->rb);
}
