// SPDX-License-Identifier: GPL-2.0
/*
 * NAT-PMP (RFC 6886, version 0) and PCP (RFC 6887, version 2) on UDP 5351
 * of the internal interfaces, in the daemon's poll loop: who may ask, what
 * a request means, the epoch and its announcements, the sockets. The wire
 * format is pcp_codec.c's, the mappings and their lifetimes pcp_table.c's.
 * See doc/design/port-mapping.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "gc.h"
#include "log.h"
#include "stats.h"
#include "pcp.h"
#include "pcp_codec.h"
#include "pcp_table.h"

#define PCP_SERVER_PORT 5351
#define PCP_CLIENT_PORT 5350	/* announcements go to 224.0.0.1:5350 */
#define RATE_SLOTS 256
#define ANNOUNCE_COUNT 10	/* RFC 6886 §3.2.1: ten times, 250 ms doubling */
#define ANNOUNCE_FIRST_GAP_NS 250000000ULL
#define NETS_MAX 64
#define NETS_REFRESH_NS 1000000000ULL
#define NS 1000000000ULL

struct rate_slot {
	__be32 addr;
	__u64 last_ns;
	double tokens;
};

struct local_net {
	int ifindex;
	__be32 addr;
	__be32 mask;
};

struct pcp_iface {
	int ifindex;
	int fd;
};

struct pcp_server {
	struct fc_pcp_opts po;
	const struct fc_config *cfg;
	unsigned int nr_ifs;
	struct pcp_iface ifs[FC_MAX_IFACES];
	/* Whose subnets are accepted: the --pcp-if and --upnp-if ones. */
	unsigned int nr_net_ifs;
	int net_ifs[2 * FC_MAX_IFACES];
	struct local_net nets[NETS_MAX];
	unsigned int nr_nets;
	__u64 nets_at_ns;
	struct pcp_table table;
	struct rate_slot rate[RATE_SLOTS];
	__u64 epoch_start_ns;
	unsigned int announce_left;
	__u64 announce_next_ns;
	__u64 announce_gap_ns;
};

static __u32 epoch_s(const struct pcp_server *s)
{
	return (gc_now_ns() - s->epoch_start_ns) / NS;
}

static __u32 grant(const struct pcp_server *s, __u32 requested)
{
	if (requested < s->po.min_lifetime)
		return s->po.min_lifetime;
	if (requested > s->po.max_lifetime)
		return s->po.max_lifetime;
	return requested;
}

/* ---- NAT-PMP ---- */

static size_t natpmp_answer(struct pcp_server *s, const struct pcp_request *r, __u8 *out)
{
	__u32 epoch = epoch_s(s);
	struct map_ans a = {};
	enum map_status st;
	__u16 result;

	switch (r->kind) {
	case NATPMP_REQ_ADDRESS: {
		/* The asking host's own (paired) address: a pool has several. */
		__be32 ext = pcp_table_ext_addr(&s->table, r->src);

		return natpmp_build_address(out, ext ? PMP_SUCCESS : PMP_NETWORK_FAILURE, epoch,
					    ext);
	}
	case NATPMP_REQ_BAD_OPCODE:
		return natpmp_build_bad_opcode(out, r, epoch);
	default:
		break;
	}
	if (r->lifetime == 0) {
		if (r->int_port == 0) {
			pcp_table_unmap_all(&s->table, r->proto, r->src);
			st = MAP_OK;
		} else {
			st = pcp_table_unmap(&s->table, r->proto, r->src, r->int_port, NULL);
		}
		return natpmp_build_map(out, r, st == MAP_OK ? PMP_SUCCESS : PMP_REFUSED, epoch, 0, 0);
	}
	if (r->int_port == 0)	/* "all ports" is not offered */
		return natpmp_build_map(out, r, PMP_REFUSED, epoch, 0, 0);
	st = pcp_table_map(&s->table, &(struct map_req){
		.proto = r->proto, .int_addr = r->src, .int_port = r->int_port,
		.suggested = r->suggested, .lifetime = grant(s, r->lifetime),
	}, &a);
	switch (st) {
	case MAP_OK:
		return natpmp_build_map(out, r, PMP_SUCCESS, epoch, a.ext_port, a.lifetime);
	case MAP_NO_EXTERNAL:
		result = PMP_NETWORK_FAILURE;
		break;
	case MAP_REFUSED:
		result = PMP_REFUSED;
		break;
	default:
		result = PMP_NO_RESOURCES;
	}
	return natpmp_build_map(out, r, result, epoch, 0, 0);
}

/* ---- PCP ---- */

static bool addr_allowed(struct pcp_server *s, __be32 a, int ifindex);

static __u8 pcp_result_of(enum map_status st)
{
	switch (st) {
	case MAP_OK:
		return PCP_SUCCESS;
	case MAP_NO_EXTERNAL:
		return PCP_NETWORK_FAILURE;
	case MAP_QUOTA:
		return PCP_USER_EX_QUOTA;
	case MAP_REFUSED:
		return PCP_NOT_AUTHORIZED;
	case MAP_PORT_UNAVAILABLE:
		return PCP_CANNOT_PROVIDE_EXTERNAL;
	default:
		return PCP_NO_RESOURCES;
	}
}

/* PEER with lifetime 0 never deletes: the mapping as it is. */
static size_t pcp_peer_report(struct pcp_server *s, const struct pcp_request *r, __be32 int_addr,
			      __u32 epoch, __u8 *out)
{
	struct fc_endpoint_key ik;
	struct fc_binding b;
	struct pcp_mapping *m = pcp_table_find(&s->table, r->proto, int_addr, r->int_port);
	__u64 now = gc_now_ns();

	gc_endpoint_key4(&ik, FC_SIDE_INTERNAL, r->proto, int_addr, r->int_port);
	if (bpf_map_lookup_elem(s->table.bindings_fd, &ik, &b))
		return pcp_build_success(out, r, epoch, 0, true, 0, 0);
	return pcp_build_success(out, r, epoch,
				 m && m->expires_ns > now ? (m->expires_ns - now) / NS : 0,
				 false, ntohs(b.port), b.addr.v4);
}

static size_t pcp_answer_pcp(struct pcp_server *s, const struct pcp_request *r, int ifindex,
			     __u8 *out)
{
	__u32 epoch = epoch_s(s);
	__be32 int_addr = r->src;
	struct map_ans a = {};
	enum map_status st;

	if (r->kind == PCP_REQ_ERROR)
		return pcp_build_error(out, r, r->error, epoch);
	if (r->third_party) {
		if (!s->po.third_party || !addr_allowed(s, r->third_party_addr, ifindex))
			return pcp_build_error(out, r, PCP_NOT_AUTHORIZED, epoch);
		int_addr = r->third_party_addr;
	}
	/* ANNOUNCE: lifetime 0, the epoch: "I am here, with this state". */
	if (r->opcode == PCP_OP_ANNOUNCE)
		return pcp_build_success(out, r, epoch, 0, true, 0, 0);
	if (r->prefer_failure && r->sugg_addr &&
	    r->sugg_addr != pcp_table_ext_addr(&s->table, int_addr))
		return pcp_build_error(out, r, PCP_CANNOT_PROVIDE_EXTERNAL, epoch);
	if (r->opcode == PCP_OP_MAP && r->lifetime == 0) {
		if (r->int_port == 0) {
			pcp_table_unmap_all(&s->table, r->proto, int_addr);
			st = MAP_OK;
		} else {
			st = pcp_table_unmap(&s->table, r->proto, int_addr, r->int_port, r->nonce);
		}
		if (st != MAP_OK)
			return pcp_build_error(out, r, PCP_NOT_AUTHORIZED, epoch);
		/* Deleted: lifetime 0, the request's external fields kept. */
		return pcp_build_success(out, r, epoch, 0, true, 0, 0);
	}
	if (r->int_port == 0)	/* no "all ports" */
		return pcp_build_error(out, r, PCP_NOT_AUTHORIZED, epoch);
	if (r->opcode == PCP_OP_PEER && r->lifetime == 0)
		return pcp_peer_report(s, r, int_addr, epoch, out);
	st = pcp_table_map(&s->table, &(struct map_req){
		.proto = r->proto, .int_addr = int_addr, .int_port = r->int_port,
		.suggested = r->suggested, .lifetime = grant(s, r->lifetime),
		.prefer_failure = r->prefer_failure, .nonce = r->nonce,
	}, &a);
	if (st != MAP_OK)
		return pcp_build_error(out, r, pcp_result_of(st), epoch);
	return pcp_build_success(out, r, epoch, a.lifetime, false, a.ext_port, a.ext_addr);
}

size_t pcp_answer(struct pcp_server *s, __be32 src, int ifindex, const __u8 *in, size_t len,
		  __u8 *out)
{
	struct pcp_request r;

	pcp_parse(in, len, src, &r);
	switch (r.kind) {
	case PCP_REQ_DROP:
		return 0;
	case NATPMP_REQ_ADDRESS:
	case NATPMP_REQ_MAP:
	case NATPMP_REQ_BAD_OPCODE:
		return natpmp_answer(s, &r, out);
	default:
		return pcp_answer_pcp(s, &r, ifindex, out);
	}
}

/* ---- who may ask ---- */

static void refresh_nets(struct pcp_server *s)
{
	struct ifaddrs *ifa, *i;

	s->nets_at_ns = gc_now_ns();
	if (getifaddrs(&ifa))
		return;
	s->nr_nets = 0;
	for (i = ifa; i && s->nr_nets < NETS_MAX; i = i->ifa_next) {
		int idx;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask)
			continue;
		idx = if_nametoindex(i->ifa_name);
		for (unsigned int k = 0; k < s->nr_net_ifs; k++) {
			if (s->net_ifs[k] != idx)
				continue;
			s->nets[s->nr_nets].ifindex = idx;
			s->nets[s->nr_nets].addr = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
			s->nets[s->nr_nets].mask =
				((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr;
			s->nr_nets++;
			break;
		}
	}
	freeifaddrs(ifa);
}

/* A host of one of ifindex's subnets: not the gateway's own address, nor
 * the subnet's broadcast or (wider than /31) network address. */
static bool nets_match(const struct pcp_server *s, __be32 a, int ifindex)
{
	for (unsigned int i = 0; i < s->nr_nets; i++) {
		const struct local_net *n = &s->nets[i];
		bool point_to_point = ntohl(n->mask) >= 0xfffffffeU;

		if (n->ifindex == ifindex && (a & n->mask) == (n->addr & n->mask) && a != n->addr &&
		    (a | n->mask) != 0xffffffffU && (point_to_point || (a & ~n->mask)))
			return true;
	}
	return false;
}

/* On-link on the interface the request came in on, or --pcp-allow. */
static bool addr_allowed(struct pcp_server *s, __be32 a, int ifindex)
{
	__u32 h = ntohl(a);

	if (!h || h == 0xffffffffU || IN_MULTICAST(h) || (h >> 24) == 127)
		return false;
	for (unsigned int i = 0; i < s->po.nr_allow; i++) {
		const struct fc_prefix4 *p = &s->po.allow[i];
		__u32 mask = p->len ? 0xffffffffU << (32 - p->len) : 0;

		if ((h & mask) == ntohl(p->addr))
			return true;
	}
	if (nets_match(s, a, ifindex))
		return true;
	/* An address added a moment ago: look again, at most once a second. */
	if (gc_now_ns() - s->nets_at_ns < NETS_REFRESH_NS)
		return false;
	refresh_nets(s);
	return nets_match(s, a, ifindex);
}

/* Token bucket per client address: --pcp-rate a second, bursts of twice that. */
static bool rate_ok(struct pcp_server *s, __be32 a)
{
	struct rate_slot *r = &s->rate[(ntohl(a) * 2654435761U) >> 24];
	__u64 now = gc_now_ns();
	double burst = 2.0 * s->po.rate;

	if (r->addr != a || !r->last_ns) {
		r->addr = a;
		r->tokens = burst;
	} else {
		r->tokens += (double)(now - r->last_ns) / NS * s->po.rate;
		if (r->tokens > burst)
			r->tokens = burst;
	}
	r->last_ns = now;
	if (r->tokens < 1.0)
		return false;
	r->tokens -= 1.0;
	return true;
}

/* ---- sockets ---- */

void pcp_receive(struct pcp_server *s, int fd)
{
	__u8 in[PCP_MAX_MSG + 4], out[PCP_MAX_MSG + 4];
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct sockaddr_in from;
	struct iovec iov = { .iov_base = in, .iov_len = sizeof(in) };
	struct msghdr mh = {
		.msg_name = &from, .msg_namelen = sizeof(from),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct in_pktinfo *pi = NULL;
	struct cmsghdr *c;
	ssize_t len;
	size_t n;

	for (int budget = 64; budget > 0; budget--) {
		mh.msg_namelen = sizeof(from);
		mh.msg_controllen = sizeof(cbuf);
		mh.msg_flags = 0;
		len = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (len < 0)
			return;
		pi = NULL;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
				pi = (struct in_pktinfo *)CMSG_DATA(c);
		/* Unicast to one of our addresses, from an accepted client,
		 * within its rate; anything else gets no answer at all. */
		if (!pi || from.sin_family != AF_INET || IN_MULTICAST(ntohl(pi->ipi_addr.s_addr)) ||
		    !addr_allowed(s, from.sin_addr.s_addr, pi->ipi_ifindex) ||
		    !rate_ok(s, from.sin_addr.s_addr))
			continue;
		if ((mh.msg_flags & MSG_TRUNC) || len > PCP_MAX_MSG)
			len = PCP_MAX_MSG + 4;	/* oversized: malformed */
		n = pcp_answer(s, from.sin_addr.s_addr, pi->ipi_ifindex, in, len, out);
		if (!n)
			continue;
		{
			char rbuf[CMSG_SPACE(sizeof(struct in_pktinfo))] = {};
			struct iovec riov = { .iov_base = out, .iov_len = n };
			struct msghdr rh = {
				.msg_name = &from, .msg_namelen = sizeof(from),
				.msg_iov = &riov, .msg_iovlen = 1,
				.msg_control = rbuf, .msg_controllen = sizeof(rbuf),
			};
			struct cmsghdr *rc = CMSG_FIRSTHDR(&rh);
			struct in_pktinfo rpi = { .ipi_spec_dst = pi->ipi_addr };

			/* Answer from the address the client sent to. */
			rc->cmsg_level = IPPROTO_IP;
			rc->cmsg_type = IP_PKTINFO;
			rc->cmsg_len = CMSG_LEN(sizeof(rpi));
			memcpy(CMSG_DATA(rc), &rpi, sizeof(rpi));
			if (sendmsg(fd, &rh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
				fc_debug("pcp: answering %s: %s", inet_ntoa(from.sin_addr),
					 strerror(errno));
		}
	}
}

static int open_socket(const char *ifname, int ifindex)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PCP_SERVER_PORT) };
	struct ip_mreqn mr = { .imr_ifindex = ifindex };
	int one = 1, zero = 0, fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* One socket per interface on 0.0.0.0:5351: SO_BINDTODEVICE keeps
	 * each to its interface, and the gateway's other addresses out. */
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname)) ||
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof(zero)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

void pcp_attach_maps(struct pcp_server *s, int bindings_fd, int sessions_fd,
		     const struct ext_addr_maps *addr_maps)
{
	s->table.bindings_fd = bindings_fd;
	s->table.sessions_fd = sessions_fd;
	s->table.addr_maps = *addr_maps;
}

struct pcp_server *pcp_open(const struct fc_pcp_opts *po, const struct fc_config *cfg)
{
	struct pcp_server *s = calloc(1, sizeof(*s));

	if (!s) {
		fc_err("pcp: out of memory");
		return NULL;
	}
	s->po = *po;
	s->cfg = cfg;
	s->table.cfg = cfg;
	s->table.max_per_host = po->max_per_host;
	s->table.bindings_fd = s->table.sessions_fd = -1;
	s->table.addr_maps = EXT_ADDR_MAPS_NONE;
	for (unsigned int i = 0; i < po->nr_ifs; i++) {
		int idx = if_nametoindex(po->ifs[i]), fd;

		if (!idx) {
			fc_err("--pcp-if: no such interface: %s", po->ifs[i]);
			goto fail;
		}
		fd = open_socket(po->ifs[i], idx);
		if (fd < 0) {
			fc_err("--pcp-if %s: cannot listen on UDP port %d: %s", po->ifs[i],
			       PCP_SERVER_PORT, strerror(-fd));
			goto fail;
		}
		s->ifs[s->nr_ifs].ifindex = idx;
		s->ifs[s->nr_ifs].fd = fd;
		s->nr_ifs++;
		s->net_ifs[s->nr_net_ifs++] = idx;
	}
	for (unsigned int i = 0; i < po->nr_upnp_ifs; i++) {
		int idx = if_nametoindex(po->upnp_ifs[i]);

		if (!idx) {
			fc_err("--upnp-if: no such interface: %s", po->upnp_ifs[i]);
			goto fail;
		}
		s->net_ifs[s->nr_net_ifs++] = idx;
	}
	refresh_nets(s);
	pcp_state_lost(s);	/* a new epoch, announced */
	return s;
fail:
	pcp_close(s);
	return NULL;
}

void pcp_close(struct pcp_server *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; i < s->nr_ifs; i++)
		close(s->ifs[i].fd);
	free(s);
}

int pcp_poll_fds(const struct pcp_server *s, int *fds, int max)
{
	int n = 0;

	for (unsigned int i = 0; s && i < s->nr_ifs && n < max; i++)
		fds[n++] = s->ifs[i].fd;
	return n;
}

void pcp_state_lost(struct pcp_server *s)
{
	__u64 now = gc_now_ns();

	/* The lifetimes go with the epoch (RFC 6887 §14.1, RFC 6886 §3.6):
	 * what is still in the maps (the address flapped, or the flush of
	 * the old one comes next) becomes an ordinary mapping, idle from now.
	 * Clients see the new epoch and ask again; a request re-adopts a
	 * mapping under the limits every new one meets. */
	pcp_table_release_all(&s->table, now);
	s->epoch_start_ns = now;
	s->announce_left = ANNOUNCE_COUNT;
	s->announce_next_ns = s->epoch_start_ns;
	s->announce_gap_ns = ANNOUNCE_FIRST_GAP_NS;
}

unsigned int pcp_nr_mappings(const struct pcp_server *s)
{
	return s->table.nr_table;
}

/* NAT-PMP's external address response and PCP's ANNOUNCE response, both
 * unsolicited, to 224.0.0.1:5350 on every interface (RFC 6886 §3.2.1,
 * RFC 6887 §14.1). */
static void announce(struct pcp_server *s)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PCP_CLIENT_PORT),
				  .sin_addr.s_addr = htonl(INADDR_ALLHOSTS_GROUP) };
	__u8 pmp[12], pcp[PCP_HDR_LEN];
	__u32 epoch = epoch_s(s);

	natpmp_build_address(pmp, PMP_SUCCESS, epoch, s->cfg->ext_addr4);
	pcp_build_announce(pcp, epoch);
	for (unsigned int i = 0; i < s->nr_ifs; i++) {
		/* With a pool each host has its own address: no one address
		 * to tell them all; PCP's ANNOUNCE (no address) still brings
		 * the new epoch, and hosts ask for their address. */
		if (!s->cfg->nr_pool)
			sendto(s->ifs[i].fd, pmp, sizeof(pmp), MSG_DONTWAIT | MSG_NOSIGNAL,
			       (struct sockaddr *)&to, sizeof(to));
		sendto(s->ifs[i].fd, pcp, sizeof(pcp), MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&to,
		       sizeof(to));
	}
}

int pcp_timeout_ms(const struct pcp_server *s, uint64_t now_ns)
{
	if (!s || !s->announce_left || !s->cfg->ext_addr4)
		return -1;
	if (s->announce_next_ns <= now_ns)
		return 0;
	return (s->announce_next_ns - now_ns) / 1000000 + 1;
}

void pcp_tick(struct pcp_server *s, uint64_t now_ns)
{
	if (!s)
		return;
	/* Nothing to announce without an address: wait for one. */
	if (s->announce_left && s->cfg->ext_addr4 && s->announce_next_ns <= now_ns) {
		announce(s);
		s->announce_left--;
		s->announce_next_ns = now_ns + s->announce_gap_ns;
		s->announce_gap_ns *= 2;
	}
	pcp_table_expire(&s->table, now_ns);
	if (now_ns - s->nets_at_ns >= NETS_REFRESH_NS)
		refresh_nets(s);
}

/* ---- for the UPnP IGD, which serves the same table ---- */

struct pcp_table *pcp_table_of(struct pcp_server *s)
{
	return &s->table;
}

bool pcp_client_allowed(struct pcp_server *s, __be32 addr, int ifindex)
{
	return addr_allowed(s, addr, ifindex);
}

__u32 pcp_grant_lifetime(const struct pcp_server *s, __u32 requested)
{
	return grant(s, requested);
}

const struct fc_pcp_opts *pcp_opts(const struct pcp_server *s)
{
	return &s->po;
}
