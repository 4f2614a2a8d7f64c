// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>

#include "events.h"
#include "gc.h"
#include "ipfix.h"
#include "log.h"
#include "stats.h"
#include "syslog_sink.h"

struct fc_event_log {
	struct ring_buffer *rb;
	bool text;
	unsigned int per_second;	/* token bucket: refill rate = burst */
	double tokens;
	struct timespec last;
	unsigned long suppressed;
	struct fc_syslog *syslog;	/* NULL: off */
	struct fc_ipfix *ipfix;		/* NULL: off */
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
	if (!l)
		return;
	ipfix_tick(l->ipfix);
	if (!l->suppressed)
		return;
	fc_info("event log: %lu events not shown (more than %u per second)",
		l->suppressed, l->per_second);
	l->suppressed = 0;
}

static void addr_str(__u8 family, const union fc_addr *a, char *buf, size_t len)
{
	inet_ntop(family == FC_AF_INET6 ? AF_INET6 : AF_INET, a, buf, len);
}

static const char *quota_name(__u8 quota)
{
	switch (quota) {
	case FC_QUOTA_SESSIONS:
		return "session table";
	case FC_QUOTA_MAPPINGS:
		return "mapping table";
	case FC_QUOTA_PER_SUBSCRIBER:
		return "mappings per subscriber";
	}
	return "unknown";
}

int event_format(const struct fc_event *ev, char *buf, size_t len)
{
	char in[INET6_ADDRSTRLEN], ex[INET6_ADDRSTRLEN];
	/* An external side of family 0 is of the internal side's family. */
	__u8 ext_family = ev->ext_family ? ev->ext_family : ev->family;
	const char *what = "";

	addr_str(ev->family, &ev->int_addr, in, sizeof(in));
	addr_str(ext_family, &ev->ext_addr, ex, sizeof(ex));
	switch (ev->type) {
	case FC_EVENT_MAPPING_CREATE:
	case FC_EVENT_MAPPING_DELETE:
		if (ev->flags & FC_BINDING_STATIC)
			what = " (static)";
		else if (ev->flags & FC_BINDING_ROUTER)
			what = " (gateway)";
		return snprintf(buf, len, "mapping %s %s %s%s%s:%u -> %s%s%s:%u%s",
				ev->type == FC_EVENT_MAPPING_CREATE ? "created" : "deleted",
				proto_name(ev->proto),
				ev->family == FC_AF_INET6 ? "[" : "", in,
				ev->family == FC_AF_INET6 ? "]" : "", ntohs(ev->int_port),
				ext_family == FC_AF_INET6 ? "[" : "", ex,
				ext_family == FC_AF_INET6 ? "]" : "", ntohs(ev->ext_port), what);
	case FC_EVENT_BLOCK_ALLOC:
	case FC_EVENT_BLOCK_FREE:
		/* A block serves every protocol (proto 0): no protocol word. */
		return snprintf(buf, len, "port block %s %s%s%s -> %s ports %u-%u",
				ev->type == FC_EVENT_BLOCK_ALLOC ? "allocated" : "freed",
				ev->proto ? proto_name(ev->proto) : "", ev->proto ? " " : "",
				in, ex, ntohs(ev->ext_port), ntohs(ev->ext_port_last));
	case FC_EVENT_QUOTA_EXCEEDED:
		if (ev->quota == FC_QUOTA_PER_SUBSCRIBER)
			return snprintf(buf, len, "quota exceeded %s %s %s limit %u",
					quota_name(ev->quota), proto_name(ev->proto), in, ev->limit);
		return snprintf(buf, len, "quota exceeded %s limit %u", quota_name(ev->quota),
				ev->limit);
	case FC_EVENT_PORTS_EXHAUSTED:
		return snprintf(buf, len, "ports exhausted %s %s", proto_name(ev->proto), ex);
	}
	return snprintf(buf, len, "unknown event %u", ev->type);
}

void event_format_time(__u64 time_ms, char *buf, size_t len)
{
	time_t s = time_ms / 1000;
	struct tm tm;
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n && n < len)
		snprintf(buf + n, len - n, ".%03uZ", (unsigned int)(time_ms % 1000));
}

/* The event's wall-clock time: the datapath stamps its own clock. */
static __u64 event_time_ms(const struct fc_event *ev)
{
	struct timespec rt;
	__u64 rt_ms, mono_ns;

	clock_gettime(CLOCK_REALTIME, &rt);
	mono_ns = gc_now_ns();
	rt_ms = rt.tv_sec * 1000ULL + rt.tv_nsec / 1000000;
	if (!ev->time_ns || ev->time_ns > mono_ns)
		return rt_ms;
	return rt_ms - (mono_ns - ev->time_ns) / 1000000;
}

void event_log_write(struct fc_event_log *l, const struct fc_event *ev)
{
	char line[256], stamp[32], rec[320];
	__u64 time_ms;

	if (!l)
		return;
	time_ms = event_time_ms(ev);
	ipfix_add(l->ipfix, ev, time_ms);
	if (!l->syslog && !l->text)
		return;
	event_format(ev, line, sizeof(line));
	if (l->syslog) {
		event_format_time(time_ms, stamp, sizeof(stamp));
		snprintf(rec, sizeof(rec), "%s %s", stamp, line);
		syslog_sink_write(l->syslog, rec);
	}
	if (l->text && allow(l))
		fc_info("%s", line);
}

static int on_sample(void *ctx, void *data, size_t len)
{
	if (len >= sizeof(struct fc_event))
		event_log_write(ctx, data);
	return 0;
}

struct fc_event_log *event_log_open(int events_map_fd, const struct fc_event_log_opts *o)
{
	struct fc_event_log *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->text = o->text;
	l->per_second = o->text_per_second ? o->text_per_second : 1;
	l->tokens = l->per_second;
	clock_gettime(CLOCK_MONOTONIC, &l->last);
	if (o->ipfix) {
		l->ipfix = ipfix_open(o->ipfix, o->ipfix_domain, o->ipfix_template_s);
		if (!l->ipfix)
			goto fail;
	}
	if (o->syslog_path) {
		l->syslog = syslog_sink_open(o->syslog_path);
		if (!l->syslog)
			goto fail;
	}
	l->rb = ring_buffer__new(events_map_fd, on_sample, l, NULL);
	if (!l->rb) {
		fc_err("opening the event ring buffer: %s", strerror(errno));
		goto fail;
	}
	return l;

fail:
	ipfix_close(l->ipfix);
	syslog_sink_close(l->syslog);
	free(l);
	return NULL;
}

void event_log_close(struct fc_event_log *l)
{
	if (!l)
		return;
	event_log_drain(l);
	event_log_tick(l);
	ring_buffer__free(l->rb);
	ipfix_close(l->ipfix);
	syslog_sink_close(l->syslog);
	free(l);
}

int event_log_fd(const struct fc_event_log *l)
{
	return ring_buffer__epoll_fd(l->rb);
}

int event_log_out_fd(const struct fc_event_log *l)
{
	return l ? ipfix_fd(l->ipfix) : -1;
}

bool event_log_want_write(const struct fc_event_log *l)
{
	return l && ipfix_want_write(l->ipfix);
}

void event_log_on_writable(struct fc_event_log *l)
{
	if (l)
		ipfix_on_writable(l->ipfix);
}

void event_log_flush(struct fc_event_log *l)
{
	if (l)
		ipfix_flush(l->ipfix);
}

void event_log_drain(struct fc_event_log *l)
{
	if (!l)
		return;
	ring_buffer__consume(l->rb);
	ipfix_flush(l->ipfix);
}

void event_log_get_stats(const struct fc_event_log *l, struct fc_event_log_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!l)
		return;
	if (l->ipfix) {
		const struct fc_ipfix_stats *x = ipfix_stats(l->ipfix);

		st->ipfix_records = x->records;
		st->ipfix_messages_sent = x->messages_sent;
		st->ipfix_messages_dropped = x->messages_dropped;
	}
	st->syslog_dropped = syslog_sink_dropped(l->syslog);
}
