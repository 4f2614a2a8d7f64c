// SPDX-License-Identifier: GPL-2.0
/*
 * IPFIX exporter. libfixbuf does the encoding: one internal template (the
 * in-memory record below) and one external template per RFC 8158 event
 * kind; it transcodes the record into whichever external template the event
 * needs, keeps the sequence numbers and writes the template sets. It writes
 * into a buffer (fbExporterAllocBuffer, manual mode), never to the network:
 * the UDP socket is ours, non-blocking, with a bounded queue in front.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipfix.h"
#include "log.h"
#include "metrics.h"
#if FC_IPFIX
#include <fixbuf/public.h>

/* What libfixbuf reads one record from: the internal template, in this
 * order, no holes (the padding is explicit). Integers in host order. */
struct ipfix_rec {
	uint64_t time_ms;
	uint8_t src6[16];
	uint32_t src4;
	uint32_t post_src4;
	uint32_t quota_event;
	uint32_t max_per_user;
	uint32_t max_sessions;
	uint32_t max_bib;
	uint16_t src_port;
	uint16_t post_src_port;
	uint16_t range_start;
	uint16_t range_end;
	uint16_t range_step;
	uint16_t range_num;
	uint8_t nat_event;
	uint8_t proto;
	uint8_t pad[2];
};

static fbInfoElementSpec_t internal_spec[] = {
	{ "observationTimeMilliseconds", 8, 0 },
	{ "sourceIPv6Address", 16, 0 },
	{ "sourceIPv4Address", 4, 0 },
	{ "postNATSourceIPv4Address", 4, 0 },
	{ "natQuotaExceededEvent", 4, 0 },
	{ "maxEntriesPerUser", 4, 0 },
	{ "maxSessionEntries", 4, 0 },
	{ "maxBIBEntries", 4, 0 },
	{ "sourceTransportPort", 2, 0 },
	{ "postNAPTSourceTransportPort", 2, 0 },
	{ "portRangeStart", 2, 0 },
	{ "portRangeEnd", 2, 0 },
	{ "portRangeStepSize", 2, 0 },
	{ "portRangeNumPorts", 2, 0 },
	{ "natEvent", 1, 0 },
	{ "protocolIdentifier", 1, 0 },
	{ "paddingOctets", 2, 0 },
	FB_IESPEC_NULL
};

/* RFC 8158 §4.4 templates (the VRF and NAT instance elements left out:
 * fcnat has one routing instance). */
#define TIME_EVENT { "observationTimeMilliseconds", 8, 0 }, { "natEvent", 1, 0 }

static fbInfoElementSpec_t nat44_bib_spec[] = {
	TIME_EVENT,
	{ "protocolIdentifier", 1, 0 },
	{ "sourceIPv4Address", 4, 0 },
	{ "sourceTransportPort", 2, 0 },
	{ "postNATSourceIPv4Address", 4, 0 },
	{ "postNAPTSourceTransportPort", 2, 0 },
	FB_IESPEC_NULL
};

static fbInfoElementSpec_t nat64_bib_spec[] = {
	TIME_EVENT,
	{ "protocolIdentifier", 1, 0 },
	{ "sourceIPv6Address", 16, 0 },
	{ "sourceTransportPort", 2, 0 },
	{ "postNATSourceIPv4Address", 4, 0 },
	{ "postNAPTSourceTransportPort", 2, 0 },
	FB_IESPEC_NULL
};

#define BLOCK_RANGE { "postNATSourceIPv4Address", 4, 0 }, { "portRangeStart", 2, 0 }, \
	{ "portRangeEnd", 2, 0 }, { "portRangeStepSize", 2, 0 }, { "portRangeNumPorts", 2, 0 }

static fbInfoElementSpec_t block4_spec[] = {
	TIME_EVENT, { "sourceIPv4Address", 4, 0 }, BLOCK_RANGE, FB_IESPEC_NULL
};

static fbInfoElementSpec_t block6_spec[] = {
	TIME_EVENT, { "sourceIPv6Address", 16, 0 }, BLOCK_RANGE, FB_IESPEC_NULL
};

static fbInfoElementSpec_t quota_user4_spec[] = {
	TIME_EVENT, { "natQuotaExceededEvent", 4, 0 }, { "maxEntriesPerUser", 4, 0 },
	{ "sourceIPv4Address", 4, 0 }, FB_IESPEC_NULL
};

static fbInfoElementSpec_t quota_user6_spec[] = {
	TIME_EVENT, { "natQuotaExceededEvent", 4, 0 }, { "maxEntriesPerUser", 4, 0 },
	{ "sourceIPv6Address", 16, 0 }, FB_IESPEC_NULL
};

static fbInfoElementSpec_t quota_sessions_spec[] = {
	TIME_EVENT, { "natQuotaExceededEvent", 4, 0 }, { "maxSessionEntries", 4, 0 }, FB_IESPEC_NULL
};

static fbInfoElementSpec_t quota_bib_spec[] = {
	TIME_EVENT, { "natQuotaExceededEvent", 4, 0 }, { "maxBIBEntries", 4, 0 }, FB_IESPEC_NULL
};

static fbInfoElementSpec_t ports_exhausted_spec[] = {
	TIME_EVENT, { "postNATSourceIPv4Address", 4, 0 }, { "protocolIdentifier", 1, 0 },
	FB_IESPEC_NULL
};

static const struct {
	__u16 tid;
	fbInfoElementSpec_t *spec;
} external_templates[] = {
	{ FC_IPFIX_TID_NAT44_BIB, nat44_bib_spec },
	{ FC_IPFIX_TID_NAT64_BIB, nat64_bib_spec },
	{ FC_IPFIX_TID_BLOCK4, block4_spec },
	{ FC_IPFIX_TID_BLOCK6, block6_spec },
	{ FC_IPFIX_TID_QUOTA_USER4, quota_user4_spec },
	{ FC_IPFIX_TID_QUOTA_USER6, quota_user6_spec },
	{ FC_IPFIX_TID_QUOTA_SESSIONS, quota_sessions_spec },
	{ FC_IPFIX_TID_QUOTA_BIB, quota_bib_spec },
	{ FC_IPFIX_TID_PORTS_EXHAUSTED, ports_exhausted_spec },
};

struct queued_msg {
	uint16_t len;
	uint8_t data[FC_IPFIX_MTU];
};

struct fc_ipfix {
	int fd;
	fbInfoModel_t *model;
	fbSession_t *session;		/* owned by fbuf */
	fBuf_t *fbuf;
	uint8_t msg[FC_IPFIX_MTU];	/* where fBufEmit() puts a message */
	bool msg_open;			/* something was written since the last emit */
	bool templates_sent;
	__u64 next_templates_ms;	/* CLOCK_MONOTONIC */
	unsigned int template_interval_ms;
	struct queued_msg queue[FC_IPFIX_QUEUE];
	unsigned int head, count;
	__u64 last_warn_ms;		/* send failures are logged once a minute at most */
	struct fc_ipfix_stats st;
};

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

#endif

int ipfix_parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	/* Same forms as --metrics, but a host part is required. */
	if (!spec || spec[0] == ':' || metrics_parse_addr(spec, ss, len))
		return -1;
	if (ss->ss_family == AF_INET && ((struct sockaddr_in *)ss)->sin_addr.s_addr == 0)
		return -1;
	if (ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)ss)->sin6_addr))
		return -1;
	return 0;
}

int ipfix_classify(const struct fc_event *ev, __u8 *nat_event, __u16 *tid)
{
	bool v6 = ev->family == FC_AF_INET6;

	switch (ev->type) {
	case FC_EVENT_MAPPING_CREATE:
	case FC_EVENT_MAPPING_DELETE:
		if (ev->ext_family != FC_AF_INET)
			return 0;	/* NAT66: RFC 8158 has no event for it */
		*tid = v6 ? FC_IPFIX_TID_NAT64_BIB : FC_IPFIX_TID_NAT44_BIB;
		if (ev->type == FC_EVENT_MAPPING_CREATE)
			*nat_event = v6 ? FC_NATEV_NAT64_BIB_CREATE : FC_NATEV_NAT44_BIB_CREATE;
		else
			*nat_event = v6 ? FC_NATEV_NAT64_BIB_DELETE : FC_NATEV_NAT44_BIB_DELETE;
		return 1;
	case FC_EVENT_BLOCK_ALLOC:
	case FC_EVENT_BLOCK_FREE:
		if (ev->ext_family != FC_AF_INET)
			return 0;
		*tid = v6 ? FC_IPFIX_TID_BLOCK6 : FC_IPFIX_TID_BLOCK4;
		*nat_event = ev->type == FC_EVENT_BLOCK_ALLOC ? FC_NATEV_BLOCK_ALLOC
							      : FC_NATEV_BLOCK_FREE;
		return 1;
	case FC_EVENT_QUOTA_EXCEEDED:
		*nat_event = FC_NATEV_QUOTA_EXCEEDED;
		switch (ev->quota) {
		case FC_QUOTA_SESSIONS:
			*tid = FC_IPFIX_TID_QUOTA_SESSIONS;
			return 1;
		case FC_QUOTA_MAPPINGS:
			*tid = FC_IPFIX_TID_QUOTA_BIB;
			return 1;
		case FC_QUOTA_PER_SUBSCRIBER:
			*tid = v6 ? FC_IPFIX_TID_QUOTA_USER6 : FC_IPFIX_TID_QUOTA_USER4;
			return 1;
		}
		return 0;
	case FC_EVENT_PORTS_EXHAUSTED:
		if (ev->ext_family != FC_AF_INET)
			return 0;
		*nat_event = FC_NATEV_PORTS_EXHAUSTED;
		*tid = FC_IPFIX_TID_PORTS_EXHAUSTED;
		return 1;
	}
	return 0;
}

#if FC_IPFIX
static void fill_record(struct ipfix_rec *r, const struct fc_event *ev, __u8 nat_event,
			__u64 time_ms)
{
	__u16 first = ntohs(ev->ext_port), last = ntohs(ev->ext_port_last);

	memset(r, 0, sizeof(*r));
	r->time_ms = time_ms;
	r->nat_event = nat_event;
	r->proto = ev->proto;
	if (ev->family == FC_AF_INET6)
		memcpy(r->src6, ev->int_addr.v6, 16);
	else
		r->src4 = ntohl(ev->int_addr.v4);
	r->post_src4 = ntohl(ev->ext_addr.v4);
	r->src_port = ntohs(ev->int_port);
	r->post_src_port = first;
	if (ev->type == FC_EVENT_BLOCK_ALLOC || ev->type == FC_EVENT_BLOCK_FREE) {
		r->range_start = first;
		r->range_end = last;
		r->range_step = 1;
		r->range_num = last >= first ? last - first + 1 : 0;
	}
	r->quota_event = ev->quota;
	r->max_per_user = r->max_sessions = r->max_bib = ev->limit;
}

static void send_failed(struct fc_ipfix *x, int err)
{
	__u64 now = mono_ms();

	x->st.messages_dropped++;
	if (x->last_warn_ms && now - x->last_warn_ms < 60000)
		return;
	x->last_warn_ms = now;
	fc_warn("IPFIX: a message to the collector was lost (%s); %llu so far "
		"(ipfix_messages_dropped)", strerror(err), x->st.messages_dropped);
}

/* Send what waits, oldest first, until the socket would block. */
static void send_queued(struct fc_ipfix *x)
{
	while (x->count) {
		struct queued_msg *m = &x->queue[x->head];
		ssize_t n = send(x->fd, m->data, m->len, MSG_DONTWAIT | MSG_NOSIGNAL);

		/* A refusal reported now is about an earlier datagram (an
		 * ICMP port unreachable came back): that one is lost, this
		 * one was not sent yet. */
		if (n < 0 && errno == ECONNREFUSED) {
			send_failed(x, ECONNREFUSED);
			n = send(x->fd, m->data, m->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
			return;	/* later, on POLLOUT */
		if (n < 0)
			send_failed(x, errno);
		else
			x->st.messages_sent++;
		x->head = (x->head + 1) % FC_IPFIX_QUEUE;
		x->count--;
	}
}

/* Close the open message and queue it; the oldest gives way when full. */
static void emit(struct fc_ipfix *x)
{
	GError *err = NULL;
	struct queued_msg *m;
	size_t len;

	if (!x->msg_open)
		return;
	x->msg_open = false;
	if (!fBufEmit(x->fbuf, &err)) {
		fc_warn("IPFIX: encoding a message: %s", err->message);
		g_clear_error(&err);
		x->st.messages_dropped++;
		return;
	}
	len = fbExporterGetMsgLen(fBufGetExporter(x->fbuf));
	if (len == 0 || len > FC_IPFIX_MTU)
		return;
	x->st.messages++;
	if (x->count == FC_IPFIX_QUEUE) {
		x->st.messages_dropped++;
		x->head = (x->head + 1) % FC_IPFIX_QUEUE;
		x->count--;
	}
	m = &x->queue[(x->head + x->count) % FC_IPFIX_QUEUE];
	m->len = len;
	memcpy(m->data, x->msg, len);
	x->count++;
	send_queued(x);
}

static bool is_eom(GError *err)
{
	return g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM);
}

/* The template set, in a message of its own if the open one is too full. */
static void export_templates(struct fc_ipfix *x)
{
	GError *err = NULL;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (fbSessionExportTemplates(x->session, &err)) {
			x->msg_open = true;
			x->templates_sent = true;
			x->next_templates_ms = mono_ms() + x->template_interval_ms;
			return;
		}
		if (!is_eom(err))
			break;
		g_clear_error(&err);
		emit(x);
	}
	fc_warn("IPFIX: writing the templates: %s", err ? err->message : "no room");
	g_clear_error(&err);
}

void ipfix_add(struct fc_ipfix *x, const struct fc_event *ev, __u64 time_ms)
{
	struct ipfix_rec r;
	GError *err = NULL;
	__u8 nat_event;
	__u16 tid;

	if (!x)
		return;
	if (!ipfix_classify(ev, &nat_event, &tid)) {
		x->st.records_unencodable++;
		return;
	}
	if (!x->templates_sent || mono_ms() >= x->next_templates_ms)
		export_templates(x);
	fill_record(&r, ev, nat_event, time_ms);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (fBufSetExportTemplate(x->fbuf, tid, &err) &&
		    fBufAppend(x->fbuf, (uint8_t *)&r, sizeof(r), &err)) {
			x->msg_open = true;
			x->st.records++;
			return;
		}
		if (!is_eom(err))
			break;
		g_clear_error(&err);
		emit(x);
	}
	fc_warn("IPFIX: encoding a record: %s", err ? err->message : "no room");
	g_clear_error(&err);
	x->st.records_unencodable++;
}

void ipfix_flush(struct fc_ipfix *x)
{
	if (!x)
		return;
	emit(x);
	send_queued(x);
}

void ipfix_tick(struct fc_ipfix *x)
{
	if (!x)
		return;
	if (!x->templates_sent || mono_ms() >= x->next_templates_ms)
		export_templates(x);
	ipfix_flush(x);
}

int ipfix_fd(const struct fc_ipfix *x)
{
	return x ? x->fd : -1;
}

bool ipfix_want_write(const struct fc_ipfix *x)
{
	return x && x->count > 0;
}

void ipfix_on_writable(struct fc_ipfix *x)
{
	if (x)
		send_queued(x);
}

const struct fc_ipfix_stats *ipfix_stats(struct fc_ipfix *x)
{
	x->st.queued = x->count;
	return &x->st;
}

static int add_template(struct fc_ipfix *x, bool internal, __u16 tid, fbInfoElementSpec_t *spec)
{
	fbTemplate_t *t = fbTemplateAlloc(x->model);
	GError *err = NULL;

	if (!fbTemplateAppendSpecArray(t, spec, 0, &err) ||
	    !fbSessionAddTemplate(x->session, internal, tid, t, &err)) {
		fc_err("IPFIX: template %u: %s", tid, err ? err->message : "?");
		g_clear_error(&err);
		fbTemplateFreeUnused(t);
		return -1;
	}
	return 0;
}

struct fc_ipfix *ipfix_open_fd(int fd, __u32 domain, unsigned int template_interval_s)
{
	struct fc_ipfix *x = calloc(1, sizeof(*x));
	fbExporter_t *exporter;
	GError *err = NULL;

	if (!x) {
		close(fd);
		return NULL;
	}
	x->fd = fd;
	x->template_interval_ms = (template_interval_s ? template_interval_s : 1) * 1000;
	x->model = fbInfoModelAlloc();
	x->session = fbSessionAlloc(x->model);
	/* Templates go into the session before it has a buffer, so adding
	 * them writes nothing: export_templates() sends them, again and
	 * again (RFC 7011 §8.4). */
	if (add_template(x, true, FC_IPFIX_TID_INTERNAL, internal_spec))
		goto fail_session;
	fbSessionSetDomain(x->session, domain);
	for (size_t i = 0; i < sizeof(external_templates) / sizeof(external_templates[0]); i++)
		if (add_template(x, false, external_templates[i].tid, external_templates[i].spec))
			goto fail_session;
	exporter = fbExporterAllocBuffer(x->msg, sizeof(x->msg));
	x->fbuf = fBufAllocForExport(x->session, exporter);
	fBufSetAutomaticMode(x->fbuf, FALSE);
	if (!fBufSetInternalTemplate(x->fbuf, FC_IPFIX_TID_INTERNAL, &err)) {
		fc_err("IPFIX: %s", err->message);
		g_clear_error(&err);
		fBufFree(x->fbuf);
		goto fail_model;
	}
	return x;

fail_session:
	fbSessionFree(x->session);
fail_model:
	fbInfoModelFree(x->model);
	close(fd);
	free(x);
	return NULL;
}

struct fc_ipfix *ipfix_open(const char *collector, __u32 domain, unsigned int template_interval_s)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (ipfix_parse_addr(collector, &ss, &len)) {
		fc_err("invalid IPFIX collector '%s'", collector);
		return NULL;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len)) {
		fc_err("IPFIX collector %s: %s", collector, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return ipfix_open_fd(fd, domain, template_interval_s);
}

void ipfix_close(struct fc_ipfix *x)
{
	if (!x)
		return;
	ipfix_flush(x);
	fBufFree(x->fbuf);	/* and its session and exporter */
	fbInfoModelFree(x->model);
	close(x->fd);
	free(x);
}
#else	/* IPFIX=0: options.c refuses --ipfix first */
struct fc_ipfix *ipfix_open(const char *collector, __u32 domain, unsigned int template_interval_s)
{
	fc_err("IPFIX export to %s: %s", collector, IPFIX_MISSING);
	return NULL;
}

struct fc_ipfix *ipfix_open_fd(int fd, __u32 domain, unsigned int template_interval_s)
{
	fc_err("IPFIX export: %s", IPFIX_MISSING);
	return NULL;
}

void ipfix_close(struct fc_ipfix *x) {}
void ipfix_add(struct fc_ipfix *x, const struct fc_event *ev, __u64 time_ms) {}
void ipfix_flush(struct fc_ipfix *x) {}
void ipfix_tick(struct fc_ipfix *x) {}
int ipfix_fd(const struct fc_ipfix *x) { return -1; }
bool ipfix_want_write(const struct fc_ipfix *x) { return false; }
void ipfix_on_writable(struct fc_ipfix *x) {}

const struct fc_ipfix_stats *ipfix_stats(struct fc_ipfix *x)
{
	static const struct fc_ipfix_stats none;

	return &none;
}
#endif
