/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IPFIX export of NAT events (RFC 7011 over UDP, information elements of
 * RFC 8158), --ipfix COLLECTOR:PORT. libfixbuf encodes the messages into a
 * buffer; the socket is ours and never blocks: a message that cannot be sent
 * now waits in a short queue, and when the queue is full it is dropped and
 * counted (doc/design/event-log.md).
 */
#ifndef FC_IPFIX_H
#define FC_IPFIX_H

#include <stdbool.h>
#include <sys/socket.h>
#include <fcnat/types.h>

/* Template IDs (one observation domain, RFC 8158 §4 templates). */
enum fc_ipfix_tid {
	FC_IPFIX_TID_NAT44_BIB = 256,		/* mapping create/delete, internal IPv4 */
	FC_IPFIX_TID_NAT64_BIB = 257,		/* ... internal IPv6 */
	FC_IPFIX_TID_BLOCK4 = 258,		/* port block, internal IPv4 */
	FC_IPFIX_TID_BLOCK6 = 259,		/* ... internal IPv6 */
	FC_IPFIX_TID_QUOTA_USER4 = 260,		/* per-subscriber limit, internal IPv4 */
	FC_IPFIX_TID_QUOTA_USER6 = 261,		/* ... internal IPv6 */
	FC_IPFIX_TID_QUOTA_SESSIONS = 262,	/* session table limit */
	FC_IPFIX_TID_QUOTA_BIB = 263,		/* mapping table limit */
	FC_IPFIX_TID_PORTS_EXHAUSTED = 264,	/* no free port on an external address */
	FC_IPFIX_TID_INTERNAL = 511,		/* the in-memory record, never on the wire */
};

/* RFC 8158 §4.3 natEvent values. */
enum fc_nat_event {
	FC_NATEV_NAT44_BIB_CREATE = 8,
	FC_NATEV_NAT44_BIB_DELETE = 9,
	FC_NATEV_NAT64_BIB_CREATE = 10,
	FC_NATEV_NAT64_BIB_DELETE = 11,
	FC_NATEV_PORTS_EXHAUSTED = 12,
	FC_NATEV_QUOTA_EXCEEDED = 13,
	FC_NATEV_BLOCK_ALLOC = 16,
	FC_NATEV_BLOCK_FREE = 17,
};

/* At most this many bytes per message: fits a 1500-byte path over IPv6. */
#define FC_IPFIX_MTU 1400
/* Messages waiting for the socket, at most. */
#define FC_IPFIX_QUEUE 64

struct fc_ipfix_stats {
	unsigned long long records;		/* data records encoded */
	unsigned long long messages;		/* messages encoded */
	unsigned long long messages_sent;
	unsigned long long messages_dropped;	/* send failed, or the queue was full */
	unsigned long long records_unencodable;	/* an event no template fits */
	unsigned int queued;			/* messages waiting for the socket now */
};

struct fc_ipfix;

/* A build without libfixbuf (`make IPFIX=0`: no glib either, about 0.8 MB
 * less in a STATIC=1 binary) has no exporter: --ipfix is refused. */
#ifndef FC_IPFIX
#define FC_IPFIX 1
#endif
#define IPFIX_MISSING "this fcnat was built without IPFIX export (make IPFIX=0)"

/* "ADDR:PORT" or "[ADDR6]:PORT", numeric; 0 or -1. */
int ipfix_parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len);
/* A UDP exporter to the collector; NULL on failure (message logged). */
struct fc_ipfix *ipfix_open(const char *collector, __u32 domain, unsigned int template_interval_s);
/* The same on a socket of the caller's (connected datagram socket): tests. */
struct fc_ipfix *ipfix_open_fd(int fd, __u32 domain, unsigned int template_interval_s);
void ipfix_close(struct fc_ipfix *x);

/* Map an event to its natEvent and template; 0 when none fits. */
int ipfix_classify(const struct fc_event *ev, __u8 *nat_event, __u16 *tid);
/* Encode one event; time_ms is its wall-clock time (ms since the epoch). */
void ipfix_add(struct fc_ipfix *x, const struct fc_event *ev, __u64 time_ms);
/* End of a batch: close the open message and send what waits. */
void ipfix_flush(struct fc_ipfix *x);
/* Once a second: templates again when due (RFC 7011 §8.4), then flush. */
void ipfix_tick(struct fc_ipfix *x);
/* For poll(): the socket, and whether messages wait for POLLOUT. */
int ipfix_fd(const struct fc_ipfix *x);
bool ipfix_want_write(const struct fc_ipfix *x);
void ipfix_on_writable(struct fc_ipfix *x);
const struct fc_ipfix_stats *ipfix_stats(struct fc_ipfix *x);

#endif
