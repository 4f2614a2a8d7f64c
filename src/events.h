/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The NAT event log: creations come from the datapath through the fc_events
 * ring buffer, deletions from the sweeper. Each event goes to the outputs
 * that are on: text lines on stderr (--log-mappings, rate-limited so a flood
 * cannot drown the log; what the limit suppresses is counted and reported),
 * syslog lines (--syslog) and IPFIX records (--ipfix). Nothing here waits:
 * doc/design/event-log.md.
 */
#ifndef FC_EVENTS_H
#define FC_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <fcnat/types.h>

struct fc_event_log_opts {
	bool text;			/* --log-mappings: stderr */
	unsigned int text_per_second;	/* its rate limit */
	const char *syslog_path;	/* --syslog: the socket, NULL: off */
	const char *ipfix;		/* --ipfix COLLECTOR:PORT, NULL: off */
	__u32 ipfix_domain;
	unsigned int ipfix_template_s;
};

struct fc_event_log_stats {
	unsigned long long ipfix_records;
	unsigned long long ipfix_messages_sent;
	unsigned long long ipfix_messages_dropped;
	unsigned long long syslog_dropped;
};

struct fc_event_log;

/* NULL on failure (message logged). */
struct fc_event_log *event_log_open(int events_map_fd, const struct fc_event_log_opts *o);
void event_log_close(struct fc_event_log *l);
/* For poll(): readable when events wait. */
int event_log_fd(const struct fc_event_log *l);
/* For poll(): the IPFIX socket (-1: none), and whether to wait for POLLOUT. */
int event_log_out_fd(const struct fc_event_log *l);
bool event_log_want_write(const struct fc_event_log *l);
void event_log_on_writable(struct fc_event_log *l);
/* Consume what waits, then send it; never blocks. */
void event_log_drain(struct fc_event_log *l);
/* Send what was written since the last flush (after a sweep). */
void event_log_flush(struct fc_event_log *l);
/* Once a second: report rate-limited lines, IPFIX template refresh. */
void event_log_tick(struct fc_event_log *l);
/* Log one event (also used for the sweeper's deletions). */
void event_log_write(struct fc_event_log *l, const struct fc_event *ev);
void event_log_get_stats(const struct fc_event_log *l, struct fc_event_log_stats *st);

/* The one-line record of an event, e.g. "mapping created udp
 * 10.0.0.2:40000 -> 192.0.2.1:20000"; returns its length. */
int event_format(const struct fc_event *ev, char *buf, size_t len);
/* "2024-05-01T12:00:00.123Z": a wall-clock time in ms, UTC. */
void event_format_time(__u64 time_ms, char *buf, size_t len);

#endif
