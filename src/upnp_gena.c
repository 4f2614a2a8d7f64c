// SPDX-License-Identifier: GPL-2.0
/*
 * GENA eventing (upnp_gena.h). Each subscription has at most one delivery
 * in flight (a non-blocking connect, the NOTIFY, close); a change meanwhile
 * marks it due again, so a slow subscriber costs one socket, not a queue.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gc.h"
#include "log.h"
#include "pcp_table.h"
#include "upnp.h"
#include "upnp_gena.h"

#define NS 1000000000ULL
#define SUBS_PER_HOST 4
#define DELIVERY_TIMEOUT_NS (5 * NS)
#define SID_LEN 41	/* "uuid:" and 36 */

enum gena_svc { GENA_IPCONN1, GENA_IPCONN2, GENA_CIF1, GENA_CIF2, GENA_NR_SVCS };

static const char *const svc_paths[GENA_NR_SVCS] = {
	"/evt/IPConn1", "/evt/IPConn2", "/evt/CmnIfCfg1", "/evt/CmnIfCfg2",
};

struct sub {
	bool used;
	enum gena_svc svc;
	char sid[SID_LEN + 1];
	__be32 addr;
	__u16 port;
	char path[GENA_PATH_MAX];
	__u64 expires_ns;
	__u32 seq;
	bool due;
	int fd;			/* -1: no delivery in flight */
	__u64 deadline_ns;
	char *out;
	size_t out_len, out_off;
};

struct upnp_gena {
	const struct fc_config *cfg;
	struct pcp_server *pcp;
	__be32 last_ext;
	unsigned int last_entries;
	struct sub subs[UPNP_SUBS_MAX];
};

bool gena_parse_callback(const char *v, size_t len, __be32 *addr, __u16 *port, char *path)
{
	char host[16];
	const char *p, *end, *slash, *colon;
	size_t hl, pl;
	unsigned long pn = 80;

	if (len < 9 || v[0] != '<' || strncmp(v + 1, "http://", 7))
		return false;
	end = memchr(v, '>', len);
	if (!end)
		return false;
	p = v + 8;
	slash = memchr(p, '/', end - p);
	if (!slash)
		slash = end;
	colon = memchr(p, ':', slash - p);
	hl = (colon ? colon : slash) - p;
	if (!hl || hl >= sizeof(host))
		return false;
	memcpy(host, p, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, addr) != 1)
		return false;
	if (colon) {
		if (slash - colon < 2 || slash - colon > 6)
			return false;
		pn = 0;
		for (const char *d = colon + 1; d < slash; d++) {
			if (*d < '0' || *d > '9')
				return false;
			pn = pn * 10 + (*d - '0');
		}
		if (!pn || pn > 65535)
			return false;
	}
	*port = pn;
	pl = end - slash;
	if (pl >= GENA_PATH_MAX)
		return false;
	for (const char *d = slash; d < end; d++)
		if ((unsigned char)*d <= 0x20 || (unsigned char)*d >= 0x7f)
			return false;
	if (pl)
		memcpy(path, slash, pl);
	else
		path[pl++] = '/';
	path[pl] = '\0';
	return true;
}

unsigned int gena_parse_timeout(const struct upnp_str *v)
{
	unsigned long n = 0;

	if (!v || v->n < 8 || v->n > 17 || strncasecmp(v->p, "Second-", 7))
		return 1800;
	for (size_t i = 7; i < v->n; i++) {
		if (v->p[i] < '0' || v->p[i] > '9')
			return 1800;	/* "infinite" too: nothing here is */
		n = n * 10 + (v->p[i] - '0');
	}
	return n < 300 ? 300 : n > 1800 ? 1800 : n;
}

static void make_sid(char *out)
{
	unsigned char r[16];

	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		for (int i = 0; i < 16; i++)
			r[i] = rand();
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(out, SID_LEN + 1,
		 "uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
		 r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
		 r[14], r[15]);
}

static void delivery_end(struct sub *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->out);
	s->out = NULL;
}

/* Start delivering the current values to s. */
static void deliver(struct upnp_gena *g, struct sub *s)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(s->port),
				  .sin_addr.s_addr = s->addr };
	char body[512], addr[INET_ADDRSTRLEN] = "", host[INET_ADDRSTRLEN];
	/* The subscriber's own (paired) address: a pool has several. */
	struct pcp_host sub = pcp_host4(s->addr);
	__be32 ext = pcp_table_ext_addr(pcp_table_of(g->pcp), &sub);
	size_t cap;
	int n;

	if (ext)
		inet_ntop(AF_INET, &ext, addr, sizeof(addr));
	inet_ntop(AF_INET, &s->addr, host, sizeof(host));
	if (s->svc == GENA_CIF1 || s->svc == GENA_CIF2)
		snprintf(body, sizeof(body),
			 "<?xml version=\"1.0\"?>\r\n<e:propertyset xmlns:e=\"urn:schemas-upnp-org:event-1-0\">"
			 "<e:property><PhysicalLinkStatus>%s</PhysicalLinkStatus></e:property>"
			 "</e:propertyset>\r\n", ext ? "Up" : "Down");
	else
		snprintf(body, sizeof(body),
			 "<?xml version=\"1.0\"?>\r\n<e:propertyset xmlns:e=\"urn:schemas-upnp-org:event-1-0\">"
			 "<e:property><ExternalIPAddress>%s</ExternalIPAddress></e:property>"
			 "<e:property><PortMappingNumberOfEntries>%u</PortMappingNumberOfEntries></e:property>"
			 "<e:property><ConnectionStatus>%s</ConnectionStatus></e:property>"
			 "<e:property><PossibleConnectionTypes>IP_Routed</PossibleConnectionTypes></e:property>"
			 "</e:propertyset>\r\n",
			 addr, pcp_table_count4(pcp_table_of(g->pcp)), ext ? "Connected" : "Disconnected");
	cap = strlen(body) + 512;
	s->out = malloc(cap);
	if (!s->out)
		return;
	n = snprintf(s->out, cap,
		     "NOTIFY %s HTTP/1.1\r\nHOST: %s:%u\r\nCONTENT-TYPE: text/xml; charset=\"utf-8\"\r\n"
		     "NT: upnp:event\r\nNTS: upnp:propchange\r\nSID: %s\r\nSEQ: %u\r\n"
		     "CONTENT-LENGTH: %zu\r\nConnection: close\r\n\r\n%s",
		     s->path, host, s->port, s->sid, s->seq, strlen(body), body);
	if (n < 0 || (size_t)n >= cap) {
		delivery_end(s);
		return;
	}
	s->out_len = n;
	s->out_off = 0;
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 ||
	    (connect(s->fd, (struct sockaddr *)&to, sizeof(to)) && errno != EINPROGRESS)) {
		delivery_end(s);
		return;
	}
	s->due = false;
	/* SEQ counts events sent; it wraps to 1, 0 is the initial one's. */
	s->seq = s->seq == 0xffffffffU ? 1 : s->seq + 1;
	s->deadline_ns = gc_now_ns() + DELIVERY_TIMEOUT_NS;
}

static struct sub *find_sid(struct upnp_gena *g, const struct upnp_str *sid)
{
	for (int i = 0; i < UPNP_SUBS_MAX; i++)
		if (g->subs[i].used && upnp_str_eq(*sid, g->subs[i].sid, false))
			return &g->subs[i];
	return NULL;
}

static void sub_drop(struct sub *s)
{
	delivery_end(s);
	s->used = false;
}

int upnp_gena_request(struct upnp_gena *g, const struct upnp_head *h, __be32 peer, char *extra,
		      size_t len)
{
	const struct upnp_str *sid = upnp_head_get(h, "SID"), *nt = upnp_head_get(h, "NT");
	const struct upnp_str *cb = upnp_head_get(h, "CALLBACK");
	unsigned int timeout = gena_parse_timeout(upnp_head_get(h, "TIMEOUT")), mine = 0;
	struct sub *s = NULL;
	int svc = -1;

	for (int i = 0; i < GENA_NR_SVCS; i++)
		if (upnp_str_eq(h->target, svc_paths[i], false))
			svc = i;
	if (svc < 0)
		return 404;
	if (upnp_str_eq(h->method, "UNSUBSCRIBE", false)) {
		if (!sid || nt || cb)
			return sid ? 400 : 412;
		s = find_sid(g, sid);
		if (!s || s->addr != peer)
			return 412;
		sub_drop(s);
		return 200;
	}
	if (sid) {		/* a renewal */
		if (nt || cb)
			return 400;
		s = find_sid(g, sid);
		if (!s || s->addr != peer || (int)s->svc != svc)
			return 412;
	} else {
		__be32 addr;
		__u16 port;
		char path[GENA_PATH_MAX];

		if (!nt || !upnp_str_eq(*nt, "upnp:event", false) || !cb ||
		    !gena_parse_callback(cb->p, cb->n, &addr, &port, path) || addr != peer)
			return 412;
		for (int i = 0; i < UPNP_SUBS_MAX; i++) {
			mine += g->subs[i].used && g->subs[i].addr == peer;
			if (!g->subs[i].used && !s)
				s = &g->subs[i];
		}
		if (!s || mine >= SUBS_PER_HOST)
			return 503;
		memset(s, 0, sizeof(*s));
		s->used = true;
		s->svc = svc;
		s->addr = addr;
		s->port = port;
		s->fd = -1;
		memcpy(s->path, path, sizeof(path));
		make_sid(s->sid);
		s->seq = 0;
		s->due = true;	/* the initial event (SEQ 0), after this answer */
	}
	s->expires_ns = gc_now_ns() + (__u64)timeout * NS;
	snprintf(extra, len, "SID: %s\r\nTIMEOUT: Second-%u\r\n", s->sid, timeout);
	return 200;
}

void upnp_gena_changed(struct upnp_gena *g)
{
	for (int i = 0; g && i < UPNP_SUBS_MAX; i++)
		if (g->subs[i].used && g->subs[i].svc <= GENA_IPCONN2)
			g->subs[i].due = true;
}

int upnp_gena_poll_fds(struct upnp_gena *g, struct pollfd *pfd, int max)
{
	int n = 0;

	for (int i = 0; g && i < UPNP_SUBS_MAX && n < max; i++)
		if (g->subs[i].used && g->subs[i].fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = g->subs[i].fd,
						    .events = g->subs[i].out_off < g->subs[i].out_len ?
							      POLLOUT : POLLIN };
	return n;
}

void upnp_gena_handle(struct upnp_gena *g, const struct pollfd *p)
{
	for (int i = 0; g && i < UPNP_SUBS_MAX; i++) {
		struct sub *s = &g->subs[i];
		char sink[512];
		ssize_t n;

		if (!s->used || s->fd < 0 || s->fd != p->fd)
			continue;
		if (p->revents & (POLLERR | POLLHUP)) {
			delivery_end(s);
			return;
		}
		if (s->out_off < s->out_len) {
			n = send(s->fd, s->out + s->out_off, s->out_len - s->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN) {
				delivery_end(s);
				return;
			}
			if (n > 0)
				s->out_off += n;
			return;
		}
		/* The subscriber's answer is read and dropped; its end closes. */
		n = recv(s->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			delivery_end(s);
		return;
	}
}

void upnp_gena_tick(struct upnp_gena *g, uint64_t now_ns)
{
	unsigned int entries;

	if (!g)
		return;
	entries = pcp_table_count4(pcp_table_of(g->pcp));
	if (g->cfg->ext_addr4 != g->last_ext) {
		g->last_ext = g->cfg->ext_addr4;
		for (int i = 0; i < UPNP_SUBS_MAX; i++)
			g->subs[i].due |= g->subs[i].used;
	}
	if (entries != g->last_entries) {
		g->last_entries = entries;	/* expiries and NAT-PMP/PCP too */
		upnp_gena_changed(g);
	}
	for (int i = 0; i < UPNP_SUBS_MAX; i++) {
		struct sub *s = &g->subs[i];

		if (!s->used)
			continue;
		if (s->expires_ns <= now_ns) {
			sub_drop(s);
			continue;
		}
		if (s->fd >= 0 && s->deadline_ns <= now_ns)
			delivery_end(s);
		if (s->fd < 0 && s->due)
			deliver(g, s);
	}
}

struct upnp_gena *upnp_gena_open(const struct fc_config *cfg, struct pcp_server *pcp)
{
	struct upnp_gena *g = calloc(1, sizeof(*g));

	if (!g) {
		fc_err("upnp: out of memory");
		return NULL;
	}
	g->cfg = cfg;
	g->pcp = pcp;
	g->last_ext = cfg->ext_addr4;
	return g;
}

void upnp_gena_close(struct upnp_gena *g)
{
	for (int i = 0; g && i < UPNP_SUBS_MAX; i++)
		if (g->subs[i].used)
			sub_drop(&g->subs[i]);
	free(g);
}
