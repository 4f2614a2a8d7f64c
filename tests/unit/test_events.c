// SPDX-License-Identifier: GPL-2.0
/*
 * The NAT event log's encodings: IPFIX messages (RFC 7011 §3, templates and
 * natEvent values of RFC 8158) read back byte by byte from a socketpair, and
 * the one-line text/syslog records.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "events.h"
#include "harness.h"
#include "ipfix.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* What one message holds, as a collector would see it. */
struct field {
	uint16_t id, len;
};

struct tmpl {
	uint16_t id;
	unsigned int nr;
	struct field f[16];
};

struct msg {
	uint16_t version, length;
	uint32_t export_time, seq, domain;
	unsigned int nr_tmpl;
	struct tmpl tmpl[16];
	/* data records: the set (template) ID and where the record starts */
	unsigned int nr_rec;
	uint16_t rec_tid[512];
	const uint8_t *rec[512];
};

static const struct tmpl *find_tmpl(const struct msg *m, uint16_t id)
{
	for (unsigned int i = 0; i < m->nr_tmpl; i++)
		if (m->tmpl[i].id == id)
			return &m->tmpl[i];
	return NULL;
}

static unsigned int rec_len(const struct tmpl *t)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < t->nr; i++)
		n += t->f[i].len;
	return n;
}

/* Parse a message (known templates carried over from earlier ones);
 * 0 or -1 if it is not well-formed. */
static int parse_msg(const uint8_t *b, size_t len, struct msg *m, const struct msg *known)
{
	size_t off = 16;

	memset(m, 0, sizeof(*m));
	if (known) {
		m->nr_tmpl = known->nr_tmpl;
		memcpy(m->tmpl, known->tmpl, sizeof(m->tmpl));
	}
	if (len < 16)
		return -1;
	m->version = get16(b);
	m->length = get16(b + 2);
	m->export_time = get32(b + 4);
	m->seq = get32(b + 8);
	m->domain = get32(b + 12);
	if (m->length != len)
		return -1;
	while (off + 4 <= len) {
		uint16_t set_id = get16(b + off), set_len = get16(b + off + 4 - 2);
		size_t p = off + 4, end = off + set_len;

		if (set_len < 4 || end > len)
			return -1;
		if (set_id == 2) {
			while (p + 4 <= end) {
				struct tmpl *t = &m->tmpl[m->nr_tmpl];
				uint16_t n = get16(b + p + 2);

				if (m->nr_tmpl >= 16 || n > 16 || p + 4 + 4u * n > end)
					return -1;
				t->id = get16(b + p);
				t->nr = n;
				for (unsigned int i = 0; i < n; i++) {
					t->f[i].id = get16(b + p + 4 + 4 * i);
					t->f[i].len = get16(b + p + 6 + 4 * i);
				}
				/* A template sent again replaces the old one. */
				for (unsigned int i = 0; i < m->nr_tmpl; i++)
					if (m->tmpl[i].id == t->id)
						m->tmpl[i] = *t, m->nr_tmpl--;
				m->nr_tmpl++;
				p += 4 + 4u * n;
			}
		} else if (set_id >= 256) {
			const struct tmpl *t = find_tmpl(m, set_id);
			unsigned int rl;

			if (!t)
				return -1;
			rl = rec_len(t);
			while (p + rl <= end && m->nr_rec < 512) {
				m->rec_tid[m->nr_rec] = set_id;
				m->rec[m->nr_rec++] = b + p;
				p += rl;
			}
		}
		off = end;
	}
	return off == len ? 0 : -1;
}

/* The value of element id in record i, and its length. */
static const uint8_t *rec_field(const struct msg *m, unsigned int i, uint16_t id, uint16_t *len)
{
	const struct tmpl *t = find_tmpl(m, m->rec_tid[i]);
	const uint8_t *p = m->rec[i];

	for (unsigned int k = 0; t && k < t->nr; k++) {
		if (t->f[k].id == id) {
			*len = t->f[k].len;
			return p;
		}
		p += t->f[k].len;
	}
	*len = 0;
	return NULL;
}

enum ie {	/* IANA IPFIX element IDs */
	IE_PROTO = 4,
	IE_SRC_PORT = 7,
	IE_SRC4 = 8,
	IE_SRC6 = 27,
	IE_POST_SRC4 = 225,
	IE_POST_SRC_PORT = 227,
	IE_NAT_EVENT = 230,
	IE_OBS_TIME_MS = 323,
	IE_RANGE_START = 361,
	IE_RANGE_END = 362,
	IE_RANGE_STEP = 363,
	IE_RANGE_NUM = 364,
	IE_QUOTA_EVENT = 466,
	IE_MAX_PER_USER = 473,
};

static struct fc_event nat44_event(__u8 type, const char *in, __u16 in_port, const char *ex,
				   __u16 ex_port)
{
	struct fc_event ev = {
		.type = type, .family = FC_AF_INET, .ext_family = FC_AF_INET,
		.proto = FC_PROTO_UDP, .int_port = htons(in_port), .ext_port = htons(ex_port),
	};

	inet_pton(AF_INET, in, &ev.int_addr.v4);
	inet_pton(AF_INET, ex, &ev.ext_addr.v4);
	return ev;
}

static int exporter_pair(struct fc_ipfix **x, int *rx, __u32 domain)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	*rx = sv[1];
	*x = ipfix_open_fd(sv[0], domain, 60);
	return *x ? 0 : -1;
}

static ssize_t recv_msg(int fd, uint8_t *buf, size_t len)
{
	return recv(fd, buf, len, MSG_DONTWAIT);
}

/* Every message waiting on fd, as one collector session sees them: the
 * templates carried from message to message, the data records of all.
 * The number of messages, or -1 if one is malformed. */
static uint8_t store[64][2048];

static int collect(int fd, struct msg *all, uint32_t *first_seq)
{
	static struct msg one;
	int nr = 0;
	ssize_t n;

	memset(all, 0, sizeof(*all));
	while (nr < 64 && (n = recv_msg(fd, store[nr], sizeof(store[nr]))) > 0) {
		if (parse_msg(store[nr], n, &one, all))
			return -1;
		if (nr == 0 && first_seq)
			*first_seq = one.seq;
		for (unsigned int i = 0; i < one.nr_rec && all->nr_rec < 512; i++) {
			all->rec_tid[all->nr_rec] = one.rec_tid[i];
			all->rec[all->nr_rec++] = one.rec[i];
		}
		all->nr_tmpl = one.nr_tmpl;
		memcpy(all->tmpl, one.tmpl, sizeof(all->tmpl));
		all->version = one.version;
		all->domain = one.domain;
		all->export_time = one.export_time;
		nr++;
	}
	return nr;
}

#define ASSERT_FIELD(m, i, id, want_len, want, what)				\
	do {									\
		uint16_t _l;							\
		const uint8_t *_p = rec_field(m, i, id, &_l);			\
		ASSERT_TRUE(_p != NULL, what " present");			\
		ASSERT_EQ(_l, want_len, what " length");			\
		ASSERT_EQ(_l == 1 ? _p[0] : _l == 2 ? get16(_p) : _l == 4 ? get32(_p) \
			  : get64(_p), want, what);				\
	} while (0)

/* RFC 8158 §4.4.3 NAT44 BIB create: the template, then the record. */
TEST(rfc8158_ipfix_nat44_bib_create)
{
	struct fc_event ev = nat44_event(FC_EVENT_MAPPING_CREATE, "10.0.0.2", 40000,
					 "192.0.2.1", 20001);
	static const struct field want[] = {
		{ IE_OBS_TIME_MS, 8 }, { IE_NAT_EVENT, 1 }, { IE_PROTO, 1 }, { IE_SRC4, 4 },
		{ IE_SRC_PORT, 2 }, { IE_POST_SRC4, 4 }, { IE_POST_SRC_PORT, 2 },
	};
	struct fc_ipfix *x;
	const struct tmpl *t;
	uint32_t seq = 1;
	struct msg m;
	int n, rx;

	ASSERT_EQ(exporter_pair(&x, &rx, 42), 0, "exporter");
	ipfix_add(x, &ev, 1700000000123ULL);
	ipfix_flush(x);
	/* The templates, then the record (libfixbuf ends the message after
	 * the template set). */
	n = collect(rx, &m, &seq);
	ASSERT_TRUE(n >= 1, "messages sent");
	ASSERT_EQ(m.version, 10, "IPFIX version");
	ASSERT_EQ(m.domain, 42, "observation domain");
	ASSERT_EQ(seq, 0, "first sequence number");
	ASSERT_TRUE(m.export_time > 1600000000, "export time is wall-clock seconds");
	/* Every template goes out with the first message. */
	ASSERT_EQ(m.nr_tmpl, 9, "templates");
	t = find_tmpl(&m, FC_IPFIX_TID_NAT44_BIB);
	ASSERT_TRUE(t != NULL, "NAT44 BIB template");
	ASSERT_EQ(t->nr, 7, "NAT44 BIB template fields");
	for (unsigned int i = 0; i < 7; i++) {
		ASSERT_EQ(t->f[i].id, want[i].id, "element");
		ASSERT_EQ(t->f[i].len, want[i].len, "element length");
	}
	ASSERT_EQ(m.nr_rec, 1, "data records");
	ASSERT_EQ(m.rec_tid[0], FC_IPFIX_TID_NAT44_BIB, "record's set");
	ASSERT_FIELD(&m, 0, IE_OBS_TIME_MS, 8, 1700000000123ULL, "observationTimeMilliseconds");
	ASSERT_FIELD(&m, 0, IE_NAT_EVENT, 1, 8, "natEvent NAT44 BIB create");
	ASSERT_FIELD(&m, 0, IE_PROTO, 1, 17, "protocolIdentifier");
	ASSERT_FIELD(&m, 0, IE_SRC4, 4, 0x0a000002, "sourceIPv4Address");
	ASSERT_FIELD(&m, 0, IE_SRC_PORT, 2, 40000, "sourceTransportPort");
	ASSERT_FIELD(&m, 0, IE_POST_SRC4, 4, 0xc0000201, "postNATSourceIPv4Address");
	ASSERT_FIELD(&m, 0, IE_POST_SRC_PORT, 2, 20001, "postNAPTSourceTransportPort");
	ASSERT_EQ(ipfix_stats(x)->messages_sent, n, "messages counted");
	ASSERT_EQ(ipfix_stats(x)->records, 1, "records counted");
	ipfix_close(x);
	close(rx);
}

/* An internal IPv6 side (NAT64): NAT64 BIB delete, sourceIPv6Address. */
TEST(rfc8158_ipfix_nat64_bib_delete)
{
	struct fc_event ev = nat44_event(FC_EVENT_MAPPING_DELETE, "0.0.0.0", 5353,
					 "192.0.2.1", 20002);
	struct fc_ipfix *x;
	uint8_t want6[16];
	const uint8_t *p;
	uint16_t len;
	struct msg m;
	int rx;

	ev.family = FC_AF_INET6;
	ev.proto = FC_PROTO_TCP;
	inet_pton(AF_INET6, "2001:db8::5", want6);
	memcpy(ev.int_addr.v6, want6, 16);
	ASSERT_EQ(exporter_pair(&x, &rx, 1), 0, "exporter");
	ipfix_add(x, &ev, 1700000000999ULL);
	ipfix_flush(x);
	ASSERT_TRUE(collect(rx, &m, NULL) > 0, "well-formed messages");
	ASSERT_EQ(m.nr_rec, 1, "data records");
	ASSERT_EQ(m.rec_tid[0], FC_IPFIX_TID_NAT64_BIB, "record's set");
	ASSERT_FIELD(&m, 0, IE_NAT_EVENT, 1, 11, "natEvent NAT64 BIB delete");
	ASSERT_FIELD(&m, 0, IE_PROTO, 1, 6, "protocolIdentifier");
	p = rec_field(&m, 0, IE_SRC6, &len);
	ASSERT_TRUE(p && len == 16 && !memcmp(p, want6, 16), "sourceIPv6Address");
	ASSERT_TRUE(!rec_field(&m, 0, IE_SRC4, &len), "no sourceIPv4Address");
	ASSERT_FIELD(&m, 0, IE_SRC_PORT, 2, 5353, "sourceTransportPort");
	ASSERT_FIELD(&m, 0, IE_POST_SRC_PORT, 2, 20002, "postNAPTSourceTransportPort");
	ipfix_close(x);
	close(rx);
}

/* RFC 8158 §4.4.14 port block allocation, §4.4.10 quota exceeded (per user),
 * §4.4.9 ports exhausted; mapping delete is natEvent 9. */
TEST(rfc8158_ipfix_block_quota_exhausted)
{
	struct fc_event block = nat44_event(FC_EVENT_BLOCK_ALLOC, "10.0.0.7", 0, "192.0.2.1", 20480);
	struct fc_event quota = nat44_event(FC_EVENT_QUOTA_EXCEEDED, "10.0.0.8", 0, "0.0.0.0", 0);
	struct fc_event exh = nat44_event(FC_EVENT_PORTS_EXHAUSTED, "0.0.0.0", 0, "192.0.2.1", 0);
	struct fc_event del = nat44_event(FC_EVENT_MAPPING_DELETE, "10.0.0.2", 1, "192.0.2.1", 2);
	struct fc_ipfix *x;
	struct msg m;
	int rx;

	block.ext_port_last = htons(20991);
	quota.quota = FC_QUOTA_PER_SUBSCRIBER;
	quota.limit = 1000;
	exh.proto = FC_PROTO_TCP;
	ASSERT_EQ(exporter_pair(&x, &rx, 1), 0, "exporter");
	ipfix_add(x, &block, 1);
	ipfix_add(x, &quota, 2);
	ipfix_add(x, &exh, 3);
	ipfix_add(x, &del, 4);
	ipfix_flush(x);
	ASSERT_TRUE(collect(rx, &m, NULL) > 0, "well-formed messages");
	ASSERT_EQ(m.nr_rec, 4, "data records");
	ASSERT_EQ(m.rec_tid[0], FC_IPFIX_TID_BLOCK4, "block record's set");
	ASSERT_FIELD(&m, 0, IE_NAT_EVENT, 1, 16, "natEvent port block allocation");
	ASSERT_FIELD(&m, 0, IE_SRC4, 4, 0x0a000007, "sourceIPv4Address");
	ASSERT_FIELD(&m, 0, IE_POST_SRC4, 4, 0xc0000201, "postNATSourceIPv4Address");
	ASSERT_FIELD(&m, 0, IE_RANGE_START, 2, 20480, "portRangeStart");
	ASSERT_FIELD(&m, 0, IE_RANGE_END, 2, 20991, "portRangeEnd");
	ASSERT_FIELD(&m, 0, IE_RANGE_STEP, 2, 1, "portRangeStepSize");
	ASSERT_FIELD(&m, 0, IE_RANGE_NUM, 2, 512, "portRangeNumPorts");
	ASSERT_EQ(m.rec_tid[1], FC_IPFIX_TID_QUOTA_USER4, "quota record's set");
	ASSERT_FIELD(&m, 1, IE_NAT_EVENT, 1, 13, "natEvent quota exceeded");
	ASSERT_FIELD(&m, 1, IE_QUOTA_EVENT, 4, 3, "natQuotaExceededEvent: entries per user");
	ASSERT_FIELD(&m, 1, IE_MAX_PER_USER, 4, 1000, "maxEntriesPerUser");
	ASSERT_FIELD(&m, 1, IE_SRC4, 4, 0x0a000008, "sourceIPv4Address");
	ASSERT_EQ(m.rec_tid[2], FC_IPFIX_TID_PORTS_EXHAUSTED, "exhaustion record's set");
	ASSERT_FIELD(&m, 2, IE_NAT_EVENT, 1, 12, "natEvent NAT ports exhausted");
	ASSERT_FIELD(&m, 2, IE_POST_SRC4, 4, 0xc0000201, "postNATSourceIPv4Address");
	ASSERT_FIELD(&m, 2, IE_PROTO, 1, 6, "protocolIdentifier");
	ASSERT_EQ(m.rec_tid[3], FC_IPFIX_TID_NAT44_BIB, "delete record's set");
	ASSERT_FIELD(&m, 3, IE_NAT_EVENT, 1, 9, "natEvent NAT44 BIB delete");
	ASSERT_FIELD(&m, 3, IE_OBS_TIME_MS, 8, 4, "observationTimeMilliseconds");
	ipfix_close(x);
	close(rx);
}

/* RFC 7011 §3.1: messages stay within the MTU, and each one's sequence
 * number counts the data records sent before it. */
TEST(rfc7011_ipfix_messages_split_and_sequence)
{
	struct fc_event ev = nat44_event(FC_EVENT_MAPPING_CREATE, "10.0.0.2", 1, "192.0.2.1", 1);
	unsigned int total = 0, msgs = 0;
	struct msg m, prev;
	struct fc_ipfix *x;
	uint8_t buf[2048];
	ssize_t n;
	int rx;

	ASSERT_EQ(exporter_pair(&x, &rx, 1), 0, "exporter");
	for (unsigned int i = 0; i < 200; i++) {
		ev.int_port = htons(1000 + i);
		ipfix_add(x, &ev, 1000 + i);
	}
	ipfix_flush(x);
	memset(&prev, 0, sizeof(prev));
	while ((n = recv_msg(rx, buf, sizeof(buf))) > 0) {
		ASSERT_TRUE(n <= FC_IPFIX_MTU, "message within the MTU");
		ASSERT_EQ(parse_msg(buf, n, &m, &prev), 0, "well-formed message");
		ASSERT_EQ(m.seq, total, "sequence number: records sent before");
		for (unsigned int i = 0; i < m.nr_rec; i++)
			ASSERT_FIELD(&m, i, IE_SRC_PORT, 2, 1000 + total + i, "records in order");
		total += m.nr_rec;
		msgs++;
		prev = m;
	}
	ASSERT_EQ(total, 200, "every record arrived");
	ASSERT_TRUE(msgs >= 4, "several messages");
	ASSERT_EQ(ipfix_stats(x)->messages_sent, msgs, "messages counted");
	ipfix_close(x);
	close(rx);
}

/* The exporter never blocks: a socket that does not take more leaves
 * messages in a bounded queue; beyond it they are dropped and counted, and
 * the queue goes out once the socket is writable again. */
TEST(ipfix_send_never_blocks_bounded_queue)
{
	struct fc_event ev = nat44_event(FC_EVENT_MAPPING_CREATE, "10.0.0.2", 1, "192.0.2.1", 1);
	const struct fc_ipfix_stats *st;
	unsigned long long sent_before;
	unsigned int received = 0;
	struct fc_ipfix *x;
	uint8_t buf[2048];
	int rx;

	int sv[2], small = 1;

	/* Nobody reads rx, and the sender's buffer is the smallest there is:
	 * the socket takes a few messages, then would block. */
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0, "socketpair");
	ASSERT_EQ(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0, "SO_SNDBUF");
	rx = sv[1];
	x = ipfix_open_fd(sv[0], 1, 60);
	ASSERT_TRUE(x != NULL, "exporter");
	/* Each flush closes at least one message. */
	for (unsigned int i = 0; i < 3 * FC_IPFIX_QUEUE; i++) {
		ipfix_add(x, &ev, i);
		ipfix_flush(x);
	}
	st = ipfix_stats(x);
	ASSERT_TRUE(st->messages >= 3 * FC_IPFIX_QUEUE, "messages made");
	ASSERT_TRUE(ipfix_want_write(x), "messages wait for the socket");
	ASSERT_EQ(st->queued, FC_IPFIX_QUEUE, "the queue is full, no fuller");
	ASSERT_TRUE(st->messages_dropped > 0, "beyond the queue: dropped");
	ASSERT_EQ(st->messages_sent + st->messages_dropped + st->queued, st->messages,
		  "every message sent, dropped or waiting");
	while (ipfix_want_write(x)) {
		sent_before = st->messages_sent;
		while (recv_msg(rx, buf, sizeof(buf)) > 0)
			received++;
		ipfix_on_writable(x);
		st = ipfix_stats(x);
		ASSERT_TRUE(st->messages_sent > sent_before, "the queue drains when writable");
	}
	while (recv_msg(rx, buf, sizeof(buf)) > 0)
		received++;
	ASSERT_EQ(received, st->messages_sent, "what was counted sent arrived");
	ASSERT_EQ(st->messages_sent + st->messages_dropped, st->messages, "all accounted");
	ipfix_close(x);
	close(rx);
}

/* A collector that is not there: connected UDP, port unreachable. Each
 * refusal the kernel reports counts a lost message; nothing blocks or stops,
 * nothing stays queued. */
TEST(ipfix_collector_down_counted)
{
	struct fc_event ev = nat44_event(FC_EVENT_MAPPING_CREATE, "10.0.0.2", 1, "192.0.2.1", 1);
	struct fc_ipfix *x = ipfix_open("127.0.0.1:9", 1, 60);	/* discard: nobody listens */

	ASSERT_TRUE(x != NULL, "exporter");
	for (unsigned int i = 0; i < 5; i++) {
		ipfix_add(x, &ev, i);
		ipfix_flush(x);
	}
	ASSERT_EQ(ipfix_stats(x)->records, 5, "records encoded");
	ASSERT_EQ(ipfix_stats(x)->messages_sent, ipfix_stats(x)->messages, "each message sent");
	/* Loopback answers each datagram with a port unreachable, which the
	 * next send reports: the refusals of all but the last message. */
	ASSERT_TRUE(ipfix_stats(x)->messages_dropped >= 1, "refusals counted as lost");
	ASSERT_TRUE(ipfix_stats(x)->messages_dropped <= ipfix_stats(x)->messages - 1,
		    "no more than were refused");
	ASSERT_TRUE(!ipfix_want_write(x), "nothing stuck in the queue");
	ipfix_close(x);
}

TEST(ipfix_collector_address_parsing)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ASSERT_EQ(ipfix_parse_addr("192.0.2.9:4739", &ss, &len), 0, "IPv4");
	ASSERT_EQ(ss.ss_family, AF_INET, "IPv4 family");
	ASSERT_EQ(ipfix_parse_addr("[2001:db8::9]:4739", &ss, &len), 0, "IPv6");
	ASSERT_EQ(ipfix_parse_addr(":4739", &ss, &len), -1, "no host");
	ASSERT_EQ(ipfix_parse_addr("0.0.0.0:4739", &ss, &len), -1, "unspecified host");
	ASSERT_EQ(ipfix_parse_addr("192.0.2.9", &ss, &len), -1, "no port");
	ASSERT_EQ(ipfix_parse_addr("192.0.2.9:0", &ss, &len), -1, "port 0");
	ASSERT_EQ(ipfix_parse_addr("collector:4739", &ss, &len), -1, "names are not resolved");
}

#define ASSERT_STR(got, want, what)						\
	do {									\
		assertions++;							\
		if (strcmp(got, want))						\
			FAIL("%s: got '%s', want '%s'", what, got, want);	\
	} while (0)

/* The one-line records of the text log and syslog (doc/fcnat.8). */
TEST(event_log_line_formats)
{
	struct fc_event ev = nat44_event(FC_EVENT_MAPPING_CREATE, "10.0.0.2", 40000,
					 "192.0.2.1", 20001);
	char line[256];

	event_format(&ev, line, sizeof(line));
	ASSERT_STR(line, "mapping created udp 10.0.0.2:40000 -> 192.0.2.1:20001", "create");
	ev.type = FC_EVENT_MAPPING_DELETE;
	ev.proto = FC_PROTO_ICMP;
	ev.flags = FC_BINDING_STATIC;
	event_format(&ev, line, sizeof(line));
	ASSERT_STR(line, "mapping deleted icmp 10.0.0.2:40000 -> 192.0.2.1:20001 (static)",
		   "delete, static");
	ev.flags = 0;
	ev.family = FC_AF_INET6;
	memset(&ev.int_addr, 0, sizeof(ev.int_addr));
	inet_pton(AF_INET6, "2001:db8::5", ev.int_addr.v6);
	event_format(&ev, line, sizeof(line));
	ASSERT_STR(line, "mapping deleted icmp [2001:db8::5]:40000 -> 192.0.2.1:20001",
		   "internal IPv6");
	ev = nat44_event(FC_EVENT_BLOCK_FREE, "10.0.0.7", 0, "192.0.2.1", 20480);
	ev.ext_port_last = htons(20991);
	event_format(&ev, line, sizeof(line));
	ASSERT_STR(line, "port block freed udp 10.0.0.7 -> 192.0.2.1 ports 20480-20991", "block");
	ev.proto = 0;	/* what the datapath reports: a block serves every protocol */
	event_format(&ev, line, sizeof(line));
	ASSERT_STR(line, "port block freed 10.0.0.7 -> 192.0.2.1 ports 20480-20991",
		   "block of every protocol");
	ev = nat44_event(FC_EVENT_QUOTA_EXCEEDED, "10.0.0.8", 0, "0.0.0.0", 0);
	ev.quota = FC_QUOTA_PER_SUBSCRIBER;
	ev.limit = 1000;
	event_format(&ev, line, sizeof(line));
	ASSERT_STR(line, "quota exceeded mappings per subscriber udp 10.0.0.8 limit 1000",
		   "quota per subscriber");
	ev.quota = FC_QUOTA_SESSIONS;
	ev.limit = 262144;
	event_format(&ev, line, sizeof(line));
	ASSERT_STR(line, "quota exceeded session table limit 262144", "quota sessions");
	ev = nat44_event(FC_EVENT_PORTS_EXHAUSTED, "0.0.0.0", 0, "192.0.2.1", 0);
	ev.proto = FC_PROTO_TCP;
	event_format(&ev, line, sizeof(line));
	ASSERT_STR(line, "ports exhausted tcp 192.0.2.1", "ports exhausted");
	/* 1700000000123 ms since the epoch is 2023-11-14 22:13:20.123 UTC. */
	event_format_time(1700000000123ULL, line, sizeof(line));
	ASSERT_STR(line, "2023-11-14T22:13:20.123Z", "event time");
}
