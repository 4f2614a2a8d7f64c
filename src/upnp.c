// SPDX-License-Identifier: GPL-2.0
/*
 * UPnP IGD (upnp.h): the sockets, the SSDP answers and announcements, the
 * HTTP connections and what they may cost. Parsing is upnp_http.c's,
 * upnp_ssdp.c's and upnp_soap.c's; the actions upnp_control.c's; the
 * documents upnp_desc.c's. See doc/design/port-mapping.md, "UPnP IGD".
 *
 * Bounds: UPNP_CONN_MAX connections, CONN_PER_HOST per address, each
 * closed CONN_TIMEOUT_NS after it opened and after one answer; requests
 * (HTTP and searches) in a token bucket per address; a request's head
 * UPNP_HEAD_MAX bytes, its body UPNP_BODY_MAX; PEND_MAX searches waiting
 * for their delayed answers.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gc.h"
#include "log.h"
#include "pcp_table.h"
#include "upnp.h"
#include "upnp_control.h"
#include "upnp_desc.h"
#include "upnp_gena.h"
#include "upnp_http.h"
#include "upnp_soap.h"
#include "upnp_ssdp.h"

#define NS 1000000000ULL
#define MS 1000000ULL
#define CONN_PER_HOST 4
#define CONN_TIMEOUT_NS (5 * NS)
#define PEND_MAX 32
#define RATE_SLOTS 256
/* Requests a second per address: a client lists one mapping a request. */
#define RATE_PER_S 50
#define NOTIFY_EVERY_NS (SSDP_MAX_AGE / 2 * NS)
#define CONN_BUF (UPNP_HEAD_MAX + UPNP_BODY_MAX)

struct upnp_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	int ssdp_fd;
	int http_fd;
	__u16 http_port;
};

struct upnp_conn {
	int fd;
	int iface;		/* index into ifs */
	__be32 peer;
	__u64 deadline_ns;
	size_t in_len;
	char *out;		/* the answer, while it is being written */
	size_t out_len, out_off;
	char in[CONN_BUF];
};

struct pending {
	__u64 due_ns;
	int iface;
	struct sockaddr_in to;
	struct in_addr local;
	char st[SSDP_ST_MAX];
};

struct rate_slot {
	__be32 addr;
	__u64 last_ns;
	double tokens;
};

struct upnp_server {
	struct pcp_server *pcp;
	const struct fc_config *cfg;
	struct upnp_ids ids;
	unsigned int bootid;
	__u64 started_ns;
	__u64 next_notify_ns;
	unsigned int nr_ifs;
	struct upnp_iface ifs[FC_MAX_IFACES];
	struct upnp_conn *conns[UPNP_CONN_MAX];
	unsigned int nr_pend;
	struct pending pend[PEND_MAX];
	struct rate_slot rate[RATE_SLOTS];
	struct upnp_gena *gena;
};

static __u32 random32(void)
{
	__u32 v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (__u32)rand();
	return v;
}

/* Token bucket per address: RATE_PER_S a second, bursts of twice that. */
/* UPnP's clients are IPv4 hosts, accepted as NAT-PMP/PCP's are. */
static bool client_allowed(struct upnp_server *s, __be32 a, int ifindex)
{
	struct pcp_host h = pcp_host4(a);

	return pcp_client_allowed(s->pcp, &h, ifindex);
}

static bool rate_ok(struct upnp_server *s, __be32 a)
{
	struct rate_slot *r = &s->rate[(ntohl(a) * 2654435761U) >> 24];
	__u64 now = gc_now_ns();

	if (r->addr != a || !r->last_ns) {
		r->addr = a;
		r->tokens = 2.0 * RATE_PER_S;
	} else {
		r->tokens += (double)(now - r->last_ns) / NS * RATE_PER_S;
		if (r->tokens > 2.0 * RATE_PER_S)
			r->tokens = 2.0 * RATE_PER_S;
	}
	r->last_ns = now;
	if (r->tokens < 1.0)
		return false;
	r->tokens -= 1.0;
	return true;
}

/* The interface's first IPv4 address: where its descriptions are. */
static bool iface_addr(int ifindex, struct in_addr *out)
{
	struct ifaddrs *ifa, *i;
	bool found = false;

	if (getifaddrs(&ifa))
		return false;
	for (i = ifa; i && !found; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    (int)if_nametoindex(i->ifa_name) == ifindex) {
			*out = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
			found = true;
		}
	freeifaddrs(ifa);
	return found;
}

static void location(const struct upnp_server *s, int iface, struct in_addr local, int v,
		     char *out, size_t len)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &local, a, sizeof(a));
	snprintf(out, len, "http://%s:%u" UPNP_ROOT_PATH_FMT, a, s->ifs[iface].http_port, v);
}

/* ---- SSDP ---- */

static void ssdp_answer(struct upnp_server *s, const struct pending *p)
{
	char nt[SSDP_ST_MAX], usn[2 * SSDP_ST_MAX], loc[96], msg[SSDP_MSG_MAX];

	for (int v = 1; v <= 2; v++) {
		location(s, p->iface, p->local, v, loc, sizeof(loc));
		for (int i = 0; i < SSDP_NR_TYPES; i++) {
			size_t n;

			if (!ssdp_matches(&s->ids, v, i, p->st))
				continue;
			ssdp_type(&s->ids, v, i, nt, sizeof(nt), usn, sizeof(usn));
			n = ssdp_build_answer(msg, nt, usn, loc, s->bootid);
			if (n)
				sendto(s->ifs[p->iface].ssdp_fd, msg, n,
				       MSG_DONTWAIT | MSG_NOSIGNAL,
				       (const struct sockaddr *)&p->to, sizeof(p->to));
		}
	}
}

static void ssdp_notify_all(struct upnp_server *s, bool alive)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(SSDP_PORT) };
	char nt[SSDP_ST_MAX], usn[2 * SSDP_ST_MAX], loc[96] = "", msg[SSDP_MSG_MAX];

	inet_pton(AF_INET, SSDP_GROUP, &to.sin_addr);
	for (unsigned int k = 0; k < s->nr_ifs; k++) {
		struct in_addr local;

		if (!iface_addr(s->ifs[k].ifindex, &local))
			continue;	/* no address yet: the next round */
		for (int v = 1; v <= 2; v++) {
			location(s, k, local, v, loc, sizeof(loc));
			for (int i = 0; i < SSDP_NR_TYPES; i++) {
				size_t n;

				ssdp_type(&s->ids, v, i, nt, sizeof(nt), usn, sizeof(usn));
				n = ssdp_build_notify(msg, alive, nt, usn, loc, s->bootid);
				if (n)
					sendto(s->ifs[k].ssdp_fd, msg, n,
					       MSG_DONTWAIT | MSG_NOSIGNAL,
					       (struct sockaddr *)&to, sizeof(to));
			}
		}
	}
}

static void ssdp_receive(struct upnp_server *s, int k)
{
	char buf[2048], cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct sockaddr_in from;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = {
		.msg_name = &from, .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf,
	};

	for (int budget = 32; budget > 0; budget--) {
		struct in_pktinfo *pi = NULL;
		struct ssdp_search q;
		struct pending p = { .iface = k };
		bool multicast;
		ssize_t len;

		mh.msg_namelen = sizeof(from);
		mh.msg_controllen = sizeof(cbuf);
		mh.msg_flags = 0;
		len = recvmsg(s->ifs[k].ssdp_fd, &mh, MSG_DONTWAIT);
		if (len < 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
				pi = (struct in_pktinfo *)CMSG_DATA(c);
		/* From an accepted host of this interface, within its rate, not
		 * cut: anything else gets silence (no reflection). */
		if (!pi || (mh.msg_flags & MSG_TRUNC) || from.sin_family != AF_INET ||
		    !from.sin_port ||
		    !client_allowed(s, from.sin_addr.s_addr, s->ifs[k].ifindex))
			continue;
		multicast = IN_MULTICAST(ntohl(pi->ipi_addr.s_addr));
		if (!ssdp_parse(buf, len, multicast, &q) || !rate_ok(s, from.sin_addr.s_addr))
			continue;
		p.to = from;
		p.local = pi->ipi_spec_dst;
		memcpy(p.st, q.st, sizeof(p.st));
		if (!multicast) {
			ssdp_answer(s, &p);	/* unicast search: at once (UDA 1.1 §1.3.3) */
			continue;
		}
		/* Spread multicast answers over the first quarter of MX, so
		 * they come back well inside the client's wait. */
		if (s->nr_pend >= PEND_MAX)
			continue;
		p.due_ns = gc_now_ns() + (random32() % (q.mx * 250)) * MS;
		s->pend[s->nr_pend++] = p;
	}
}

/* ---- HTTP ---- */

static void conn_close(struct upnp_server *s, int i)
{
	struct upnp_conn *c = s->conns[i];

	close(c->fd);
	free(c->out);
	free(c);
	s->conns[i] = NULL;
}

/* Queue an answer; the connection closes once it is written. */
static void respond(struct upnp_conn *c, int status, const char *reason, const char *ctype,
		    const char *body, size_t blen, const char *extra)
{
	size_t cap = 512 + blen;
	int n;

	free(c->out);
	c->out = malloc(cap);
	if (!c->out)
		return;
	n = snprintf(c->out, cap,
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "Connection: close\r\n"
		     "Server: Linux UPnP/1.1 fcnat/1\r\n"
		     "EXT:\r\n"
		     "%s\r\n",
		     status, reason, ctype, blen, extra ? extra : "");
	if (n < 0 || (size_t)n + blen > cap) {
		free(c->out);
		c->out = NULL;
		return;
	}
	memcpy(c->out + n, body, blen);
	c->out_len = n + blen;
	c->out_off = 0;
	shutdown(c->fd, SHUT_RD);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 412: return "Precondition Failed";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

static void respond_status(struct upnp_conn *c, int status, const char *why)
{
	respond(c, status, why, "text/plain", why, strlen(why), NULL);
}

#define XML_TYPE "text/xml; charset=\"utf-8\""

/* GET/HEAD: the documents. */
static void serve_document(struct upnp_server *s, struct upnp_conn *c, const struct upnp_head *h)
{
	char *doc = malloc(UPNP_DESC_MAX);
	size_t n = 0;
	char path[32];

	if (!doc) {
		respond_status(c, 503, "Service Unavailable");
		return;
	}
	for (int v = 1; v <= 2 && !n; v++) {
		snprintf(path, sizeof(path), UPNP_ROOT_PATH_FMT, v);
		if (upnp_str_eq(h->target, path, false))
			n = upnp_desc_root(doc, UPNP_DESC_MAX, v, &s->ids);
		snprintf(path, sizeof(path), "/WANIPCn%d.xml", v);
		if (upnp_str_eq(h->target, path, false))
			n = upnp_desc_scpd(doc, UPNP_DESC_MAX, UPNP_SVC_IPCONN, v);
	}
	if (upnp_str_eq(h->target, "/WANCfg.xml", false))
		n = upnp_desc_scpd(doc, UPNP_DESC_MAX, UPNP_SVC_CIF, 1);
	if (!n)
		respond_status(c, 404, "Not Found");
	else
		respond(c, 200, "OK", XML_TYPE, doc, n, NULL);
	if (n && c->out && upnp_str_eq(h->method, "HEAD", false))
		c->out_len -= n;	/* the length said, the body not sent */
	free(doc);
}

/* Which control URL: its service and version; false: none of ours. */
static bool control_url(struct upnp_str t, enum upnp_svc *svc, int *v)
{
	char path[32];

	for (*v = 1; *v <= 2; (*v)++) {
		snprintf(path, sizeof(path), "/ctl/IPConn%d", *v);
		if (upnp_str_eq(t, path, false)) {
			*svc = UPNP_SVC_IPCONN;
			return true;
		}
		snprintf(path, sizeof(path), "/ctl/CmnIfCfg%d", *v);
		if (upnp_str_eq(t, path, false)) {
			*svc = UPNP_SVC_CIF;
			return true;
		}
	}
	return false;
}

static void serve_control(struct upnp_server *s, struct upnp_conn *c, const struct upnp_head *h,
			  const char *body, size_t blen)
{
	struct upnp_ctl x = {
		.pcp = s->pcp, .cfg = s->cfg, .src = c->peer, .ifindex = s->ifs[c->iface].ifindex,
		.started_ns = s->started_ns,
	};
	const struct upnp_str *sa = upnp_head_get(h, "SOAPACTION");
	char hsvc[SOAP_SERVICE_MAX], hact[SOAP_NAME_MAX], out[4096];
	struct soap_call *call = malloc(sizeof(*call));
	size_t n = 0;
	int status;

	if (!call) {
		respond_status(c, 503, "Service Unavailable");
		return;
	}
	if (!control_url(h->target, &x.svc, &x.v)) {
		respond_status(c, 404, "Not Found");
		goto out;
	}
	/* The envelope and the SOAPACTION header must name the same action
	 * of the service behind this URL; anything else is 401. */
	if (!sa || !soap_action_header(sa->p, sa->n, hsvc, sizeof(hsvc), hact, sizeof(hact)) ||
	    !soap_parse(body, blen, call) || strcmp(hact, call->action) ||
	    strcmp(hsvc, call->service)) {
		n = soap_build_fault(out, sizeof(out), 401, "Invalid Action");
		status = 500;
	} else {
		char want[SOAP_SERVICE_MAX];

		snprintf(want, sizeof(want), "urn:schemas-upnp-org:service:%s:%d",
			 x.svc == UPNP_SVC_CIF ? "WANCommonInterfaceConfig" : "WANIPConnection",
			 x.svc == UPNP_SVC_CIF ? 1 : x.v);
		if (strcmp(call->service, want)) {
			n = soap_build_fault(out, sizeof(out), 401, "Invalid Action");
			status = 500;
		} else {
			unsigned int before = pcp_table_of(s->pcp)->nr_table;

			status = upnp_control(&x, call, out, sizeof(out), &n);
			if (pcp_table_of(s->pcp)->nr_table != before)
				upnp_gena_changed(s->gena);
		}
	}
	if (!n)
		respond_status(c, 500, "Internal Server Error");
	else
		respond(c, status, status == 200 ? "OK" : "Internal Server Error", XML_TYPE, out, n,
			NULL);
out:
	free(call);
}

static void serve(struct upnp_server *s, struct upnp_conn *c)
{
	struct upnp_head h;
	size_t blen = 0, total = 0;
	enum upnp_parse r = upnp_request_parse(c->in, c->in_len, &h, &blen, &total);

	if (r == UPNP_MORE) {
		if (c->in_len >= sizeof(c->in))
			respond_status(c, 413, "Payload Too Large");
		return;
	}
	if (r == UPNP_BAD) {
		respond_status(c, 400, "Bad Request");
		return;
	}
	if (r == UPNP_TOO_BIG) {
		if (h.head_len)
			respond_status(c, 413, "Payload Too Large");
		else
			respond_status(c, 431, "Request Header Fields Too Large");
		return;
	}
	if (r == UPNP_UNSUPPORTED) {
		respond_status(c, 501, "Not Implemented");
		return;
	}
	if (!rate_ok(s, c->peer)) {
		respond_status(c, 503, "Service Unavailable");
		return;
	}
	if (upnp_str_eq(h.method, "GET", false) || upnp_str_eq(h.method, "HEAD", false))
		serve_document(s, c, &h);
	else if (upnp_str_eq(h.method, "POST", false))
		serve_control(s, c, &h, c->in + h.head_len, blen);
	else if (upnp_str_eq(h.method, "SUBSCRIBE", false) ||
		 upnp_str_eq(h.method, "UNSUBSCRIBE", false)) {
		char extra[256];
		int status = upnp_gena_request(s->gena, &h, c->peer, extra, sizeof(extra));

		respond(c, status, reason(status), "text/plain", "", 0,
			status == 200 ? extra : NULL);
	} else {
		respond(c, 405, "Method Not Allowed", "text/plain", "", 0,
			"Allow: GET, HEAD, POST, SUBSCRIBE, UNSUBSCRIBE\r\n");
	}
}

static unsigned int conns_of(const struct upnp_server *s, __be32 peer)
{
	unsigned int n = 0;

	for (int i = 0; i < UPNP_CONN_MAX; i++)
		n += s->conns[i] && s->conns[i]->peer == peer;
	return n;
}

static void http_accept(struct upnp_server *s, int k)
{
	for (int budget = 16; budget > 0; budget--) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		struct upnp_conn *c;
		int fd = accept4(s->ifs[k].http_fd, (struct sockaddr *)&from, &fl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		int slot = -1;

		if (fd < 0)
			return;
		for (int i = 0; i < UPNP_CONN_MAX && slot < 0; i++)
			if (!s->conns[i])
				slot = i;
		/* Not an accepted host, or over the caps: closed unanswered. */
		if (from.sin_family != AF_INET || slot < 0 ||
		    !client_allowed(s, from.sin_addr.s_addr, s->ifs[k].ifindex) ||
		    conns_of(s, from.sin_addr.s_addr) >= CONN_PER_HOST ||
		    !(c = calloc(1, sizeof(*c)))) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->iface = k;
		c->peer = from.sin_addr.s_addr;
		c->deadline_ns = gc_now_ns() + CONN_TIMEOUT_NS;
		s->conns[slot] = c;
	}
}

static void conn_io(struct upnp_server *s, int i, short revents)
{
	struct upnp_conn *c = s->conns[i];
	ssize_t n;

	if (c->out) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			conn_close(s, i);
			return;
		}
		if (n > 0)
			c->out_off += n;
		if (c->out_off >= c->out_len)
			conn_close(s, i);
		return;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(s, i);
		return;
	}
	if (n > 0) {
		c->in_len += n;
		serve(s, c);
		if (c->out)
			conn_io(s, i, 0);	/* most answers go out at once */
	}
}

/* ---- the poll loop ---- */

int upnp_poll_fds(struct upnp_server *s, struct pollfd *pfd, int max)
{
	int n = 0;

	if (!s)
		return 0;
	for (unsigned int k = 0; k < s->nr_ifs && n + 2 <= max; k++) {
		pfd[n++] = (struct pollfd){ .fd = s->ifs[k].ssdp_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = s->ifs[k].http_fd, .events = POLLIN };
	}
	for (int i = 0; i < UPNP_CONN_MAX && n < max; i++)
		if (s->conns[i])
			pfd[n++] = (struct pollfd){ .fd = s->conns[i]->fd,
						    .events = s->conns[i]->out ? POLLOUT : POLLIN };
	n += upnp_gena_poll_fds(s->gena, pfd + n, max - n);
	return n;
}

void upnp_handle(struct upnp_server *s, const struct pollfd *pfd, int n)
{
	if (!s)
		return;
	for (int j = 0; j < n; j++) {
		if (!pfd[j].revents)
			continue;
		for (unsigned int k = 0; k < s->nr_ifs; k++) {
			if (pfd[j].fd == s->ifs[k].ssdp_fd)
				ssdp_receive(s, k);
			else if (pfd[j].fd == s->ifs[k].http_fd)
				http_accept(s, k);
		}
		for (int i = 0; i < UPNP_CONN_MAX; i++)
			if (s->conns[i] && s->conns[i]->fd == pfd[j].fd) {
				conn_io(s, i, pfd[j].revents);
				break;
			}
		upnp_gena_handle(s->gena, &pfd[j]);
	}
}

int upnp_timeout_ms(const struct upnp_server *s, uint64_t now_ns)
{
	__u64 next;

	if (!s)
		return -1;
	next = s->next_notify_ns;
	for (unsigned int i = 0; i < s->nr_pend; i++)
		if (s->pend[i].due_ns < next)
			next = s->pend[i].due_ns;
	for (int i = 0; i < UPNP_CONN_MAX; i++)
		if (s->conns[i] && s->conns[i]->deadline_ns < next)
			next = s->conns[i]->deadline_ns;
	return next <= now_ns ? 0 : (int)((next - now_ns) / MS + 1);
}

void upnp_tick(struct upnp_server *s, uint64_t now_ns)
{
	if (!s)
		return;
	for (unsigned int i = 0; i < s->nr_pend;) {
		if (s->pend[i].due_ns > now_ns) {
			i++;
			continue;
		}
		ssdp_answer(s, &s->pend[i]);
		s->pend[i] = s->pend[--s->nr_pend];
	}
	for (int i = 0; i < UPNP_CONN_MAX; i++)
		if (s->conns[i] && s->conns[i]->deadline_ns <= now_ns)
			conn_close(s, i);	/* slow or silent: its slot back */
	if (s->next_notify_ns <= now_ns) {
		ssdp_notify_all(s, true);
		/* Twice at start (UDP loses), then each half max-age. */
		s->next_notify_ns = now_ns + (now_ns - s->started_ns < NS ? NS : NOTIFY_EVERY_NS);
	}
	upnp_gena_tick(s->gena, now_ns);
}

/* ---- set-up ---- */

/* Device UUIDs from the first interface's MAC address, so they stay the
 * same across restarts (clients cache devices by UUID); random without one. */
static void make_ids(struct upnp_server *s)
{
	unsigned long long mac = 0;
	struct ifaddrs *ifa, *i;

	if (!getifaddrs(&ifa)) {
		for (i = ifa; i; i = i->ifa_next) {
			struct sockaddr_ll *ll = (struct sockaddr_ll *)i->ifa_addr;

			if (!ll || ll->sll_family != AF_PACKET || ll->sll_halen != 6 ||
			    strcmp(i->ifa_name, s->ifs[0].name))
				continue;
			for (int b = 0; b < 6; b++)
				mac = mac << 8 | ll->sll_addr[b];
		}
		freeifaddrs(ifa);
	}
	if (!mac)
		mac = ((unsigned long long)random32() << 16) ^ random32();
	for (int v = 1; v <= 2; v++)
		for (int d = 0; d < UPNP_NR_DEVS; d++)
			snprintf(s->ids.uuid[v - 1][d], sizeof(s->ids.uuid[0][0]),
				 "fc0a7e00-%04x-4%03x-8%03x-%012llx", 0x1d00 | v << 4 | d, v, d,
				 mac & 0xffffffffffffULL);
}

static int open_ssdp(struct upnp_iface *f)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(SSDP_PORT) };
	struct ip_mreqn mr = { .imr_ifindex = f->ifindex };
	int one = 1, zero = 0, ttl = 2, fd;

	inet_pton(AF_INET, SSDP_GROUP, &mr.imr_multiaddr);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* SO_REUSEADDR: other SSDP listeners of the router (minissdpd, a
	 * media server) share the port; the device binding keeps ours to
	 * this interface. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, f->name, strlen(f->name)) ||
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof(zero)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* HTTP on a port the kernel picks (SSDP's LOCATION tells clients). */
static int open_http(struct upnp_iface *f)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, f->name, strlen(f->name)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		int err = -errno;

		close(fd);
		return err;
	}
	f->http_port = ntohs(sa.sin_port);
	return fd;
}

struct upnp_server *upnp_open(struct pcp_server *pcp, const struct fc_pcp_opts *po,
			      const struct fc_config *cfg)
{
	struct upnp_server *s = calloc(1, sizeof(*s));

	if (!s) {
		fc_err("upnp: out of memory");
		return NULL;
	}
	s->pcp = pcp;
	s->cfg = cfg;
	s->started_ns = gc_now_ns();
	/* BOOTID.UPNP.ORG grows with each start (UDA 1.1 §1.2). */
	s->bootid = (unsigned int)time(NULL) & 0x7fffffff;
	for (unsigned int i = 0; i < po->nr_upnp_ifs; i++) {
		struct upnp_iface *f = &s->ifs[s->nr_ifs];

		snprintf(f->name, sizeof(f->name), "%s", po->upnp_ifs[i]);
		f->ifindex = if_nametoindex(f->name);
		f->ssdp_fd = f->http_fd = -1;
		if (!f->ifindex) {
			fc_err("--upnp-if: no such interface: %s", f->name);
			goto fail;
		}
		s->nr_ifs++;
		f->ssdp_fd = open_ssdp(f);
		if (f->ssdp_fd < 0) {
			fc_err("--upnp-if %s: cannot listen on UDP port %d: %s", f->name, SSDP_PORT,
			       strerror(-f->ssdp_fd));
			goto fail;
		}
		f->http_fd = open_http(f);
		if (f->http_fd < 0) {
			fc_err("--upnp-if %s: cannot listen for HTTP: %s", f->name,
			       strerror(-f->http_fd));
			goto fail;
		}
	}
	make_ids(s);
	s->gena = upnp_gena_open(cfg, pcp);
	if (!s->gena)
		goto fail;
	return s;
fail:
	upnp_close(s);
	return NULL;
}

void upnp_close(struct upnp_server *s)
{
	if (!s)
		return;
	if (s->next_notify_ns)
		ssdp_notify_all(s, false);	/* byebye, if alive was said */
	for (int i = 0; i < UPNP_CONN_MAX; i++)
		if (s->conns[i])
			conn_close(s, i);
	for (unsigned int k = 0; k < s->nr_ifs; k++) {
		if (s->ifs[k].ssdp_fd >= 0)
			close(s->ifs[k].ssdp_fd);
		if (s->ifs[k].http_fd >= 0)
			close(s->ifs[k].http_fd);
	}
	upnp_gena_close(s->gena);
	free(s);
}
