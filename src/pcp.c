// SPDX-License-Identifier: GPL-2.0
/*
 * NAT-PMP (RFC 6886, version 0) and PCP (RFC 6887, version 2) on UDP 5351
 * of the internal interfaces, in the daemon's poll loop: who may ask, what
 * a request means, the epoch and its announcements, the sockets. The wire
 * format is pcp_codec.c's, the mappings and their lifetimes pcp_table.c's.
 * See doc/design/port-mapping.md.
 */
#define _GNU_SOURCE /* struct in6_pktinfo */
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
#include "pcp_access.h"
#include "pcp_codec.h"
#include "pcp_table.h"

#define PCP_SERVER_PORT 5351
#define PCP_CLIENT_PORT 5350	/* announcements go to 224.0.0.1:5350 */
#define ANNOUNCE_COUNT 10	/* RFC 6886 §3.2.1: ten times, 250 ms doubling */
#define ANNOUNCE_FIRST_GAP_NS 250000000ULL
#define NETS_REFRESH_NS 1000000000ULL
#define NS 1000000000ULL

struct pcp_iface {
	int ifindex;
	int fd;
	int fd6;	/* NAT64's IPv6 clients; -1: none */
};

struct pcp_server {
	struct fc_pcp_opts po;
	const struct fc_config *cfg;
	const struct fc_nat64_pool_opts *nat64;	/* who NAT64 port-maps; NULL: no NAT64 */
	bool nat66;
	unsigned int nr_ifs;
	struct pcp_iface ifs[FC_MAX_IFACES];
	struct pcp_access access;
	struct pcp_table table;
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
		__be32 ext = pcp_table_ext_addr(&s->table, &r->src);

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
			pcp_table_unmap_all(&s->table, r->proto, &r->src, FC_AF_INET);
			st = MAP_OK;
		} else {
			st = pcp_table_unmap(&s->table, r->proto, &r->src, FC_AF_INET, r->int_port,
					     NULL);
		}
		return natpmp_build_map(out, r, st == MAP_OK ? PMP_SUCCESS : PMP_REFUSED, epoch, 0, 0);
	}
	if (r->int_port == 0)	/* "all ports" is not offered */
		return natpmp_build_map(out, r, PMP_REFUSED, epoch, 0, 0);
	st = pcp_table_map(&s->table, &(struct map_req){
		.proto = r->proto, .host = r->src, .int_port = r->int_port,
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
static size_t pcp_peer_report(struct pcp_server *s, const struct pcp_request *r,
			      const struct pcp_host *h, __u8 ext_family, __u32 epoch, __u8 *out)
{
	struct fc_endpoint_key ik;
	struct fc_binding b;
	struct pcp_mapping *m = pcp_table_find(&s->table, r->proto, h, ext_family, r->int_port);
	struct pcp_host ext = {};
	__u64 now = gc_now_ns();

	fc_int_endpoint_key(&ik, h->family, ext_family, r->proto, &h->addr, htons(r->int_port));
	if (bpf_map_lookup_elem(s->table.bindings_fd, &ik, &b))
		return pcp_build_success(out, r, epoch, 0, 0, NULL);
	ext.family = b.family;
	ext.addr = b.addr;
	return pcp_build_success(out, r, epoch,
				 m && m->expires_ns > now ? (m->expires_ns - now) / NS : 0,
				 ntohs(b.port), &ext);
}

/* An IPv6 host's IPv4 mappings are NAT64's port mappings: only where its
 * traffic is port-translated (not address-mapped by --nat64-pool4 or
 * --nat64-static) and allowed (--nat64-allow). */
static bool nat64_port_mapped(const struct pcp_server *s, const struct pcp_host *h)
{
	if (!s->nat64 || !(s->cfg->flags & FC_CFG_NAT64))
		return false;
	return !nat64_pool_not_port_mapped(s->nat64, h->addr.v6);
}

/*
 * The external family a request asks of host (RFC 6887 §11.1: the family of
 * its suggested external address field): an IPv4 host's are IPv4 (NAT44);
 * an IPv6 host's IPv4 (NAT64) for an IPv4-mapped field, ::ffff:0.0.0.0
 * included, and IPv6 (NAT66) for an IPv6 one, :: included -- or, without
 * NAT66, the NAT64 mapping it can have (the address is a suggestion). 0:
 * nothing this gateway maps for host.
 */
static __u8 ext_family_of(const struct pcp_server *s, const struct pcp_request *r,
			  const struct pcp_host *h)
{
	bool v4 = nat64_port_mapped(s, h), v6 = s->nat66 && (s->cfg->flags & FC_CFG_NAT66);

	if (h->family == FC_AF_INET)
		return FC_AF_INET;
	if (r->sugg_family == FC_AF_INET)
		return v4 ? FC_AF_INET : 0;
	return v6 ? FC_AF_INET6 : v4 ? FC_AF_INET : 0;
}

/* PREFER_FAILURE and a suggested address that is not the one the host's
 * mappings of ext_family get. */
static bool other_address_wanted(const struct pcp_server *s, const struct pcp_request *r,
				 const struct pcp_host *h, __u8 ext_family)
{
	static const __u8 zero[16];

	if (!r->prefer_failure)
		return false;
	if (ext_family == FC_AF_INET6)
		return memcmp(r->sugg6, zero, 16) && memcmp(r->sugg6, &s->cfg->ext_addr6, 16);
	return r->sugg_addr && r->sugg_addr != pcp_table_ext_addr(&s->table, h);
}

static size_t pcp_answer_pcp(struct pcp_server *s, const struct pcp_request *r, int ifindex,
			     __u8 *out)
{
	__u32 epoch = epoch_s(s);
	struct pcp_host host = r->src;
	struct map_ans a = {};
	enum map_status st;
	__u8 family;

	if (r->kind == PCP_REQ_ERROR)
		return pcp_build_error(out, r, r->error, epoch);
	if (r->third_party) {
		if (!s->po.third_party ||
		    !pcp_access_allowed(&s->access, &r->third_party_host, ifindex))
			return pcp_build_error(out, r, PCP_NOT_AUTHORIZED, epoch);
		host = r->third_party_host;
	}
	/* ANNOUNCE: lifetime 0, the epoch: "I am here, with this state". */
	if (r->opcode == PCP_OP_ANNOUNCE)
		return pcp_build_success(out, r, epoch, 0, 0, NULL);
	family = ext_family_of(s, r, &host);
	if (!family)
		return pcp_build_error(out, r, PCP_NOT_AUTHORIZED, epoch);
	if (other_address_wanted(s, r, &host, family))
		return pcp_build_error(out, r, PCP_CANNOT_PROVIDE_EXTERNAL, epoch);
	if (r->opcode == PCP_OP_MAP && r->lifetime == 0) {
		if (r->int_port == 0) {
			pcp_table_unmap_all(&s->table, r->proto, &host, family);
			st = MAP_OK;
		} else {
			st = pcp_table_unmap(&s->table, r->proto, &host, family, r->int_port,
					     r->nonce);
		}
		if (st != MAP_OK)
			return pcp_build_error(out, r, PCP_NOT_AUTHORIZED, epoch);
		/* Deleted: lifetime 0, the request's external fields kept. */
		return pcp_build_success(out, r, epoch, 0, 0, NULL);
	}
	if (r->int_port == 0)	/* no "all ports" */
		return pcp_build_error(out, r, PCP_NOT_AUTHORIZED, epoch);
	if (r->opcode == PCP_OP_PEER && r->lifetime == 0)
		return pcp_peer_report(s, r, &host, family, epoch, out);
	st = pcp_table_map(&s->table, &(struct map_req){
		.proto = r->proto, .host = host, .ext_family = family, .int_port = r->int_port,
		.suggested = r->suggested, .lifetime = grant(s, r->lifetime),
		.prefer_failure = r->prefer_failure, .nonce = r->nonce,
	}, &a);
	if (st != MAP_OK)
		return pcp_build_error(out, r, pcp_result_of(st), epoch);
	return pcp_build_success(out, r, epoch, a.lifetime, a.ext_port, &a.ext);
}

size_t pcp_answer(struct pcp_server *s, const struct pcp_host *src, int ifindex, const __u8 *in,
		  size_t len, __u8 *out)
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

/* ---- sockets ---- */

/* Where a datagram came from and to: the sender, and the address and
 * interface it was sent to (IP_PKTINFO / IPV6_PKTINFO). */
struct pcp_dgram {
	struct sockaddr_storage from;
	struct pcp_host src;
	int ifindex;
	bool multicast;
	union {
		struct in_pktinfo v4;
		struct in6_pktinfo v6;
	} to;
};

static bool dgram_where(struct msghdr *mh, struct pcp_dgram *d)
{
	bool have = false;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    d->from.ss_family == AF_INET) {
			memcpy(&d->to.v4, CMSG_DATA(c), sizeof(d->to.v4));
			d->ifindex = d->to.v4.ipi_ifindex;
			d->multicast = IN_MULTICAST(ntohl(d->to.v4.ipi_addr.s_addr));
			have = true;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
			   d->from.ss_family == AF_INET6) {
			memcpy(&d->to.v6, CMSG_DATA(c), sizeof(d->to.v6));
			d->ifindex = d->to.v6.ipi6_ifindex;
			d->multicast = IN6_IS_ADDR_MULTICAST(&d->to.v6.ipi6_addr);
			have = true;
		}
	}
	if (!have)
		return false;
	memset(&d->src, 0, sizeof(d->src));
	if (d->from.ss_family == AF_INET) {
		d->src.family = FC_AF_INET;
		d->src.addr.v4 = ((struct sockaddr_in *)&d->from)->sin_addr.s_addr;
	} else {
		d->src.family = FC_AF_INET6;
		memcpy(d->src.addr.v6, &((struct sockaddr_in6 *)&d->from)->sin6_addr, 16);
	}
	return true;
}

/* Answer from the address the client sent to. */
static void dgram_reply(int fd, const struct pcp_dgram *d, const __u8 *out, size_t n)
{
	char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))] = {};
	struct iovec iov = { .iov_base = (void *)out, .iov_len = n };
	struct msghdr mh = {
		.msg_name = (void *)&d->from,
		.msg_namelen = d->from.ss_family == AF_INET ? sizeof(struct sockaddr_in)
							     : sizeof(struct sockaddr_in6),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	char a[INET6_ADDRSTRLEN];

	if (d->from.ss_family == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = d->to.v4.ipi_addr };

		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	} else {
		struct in6_pktinfo pi = { .ipi6_addr = d->to.v6.ipi6_addr,
					  .ipi6_ifindex = d->to.v6.ipi6_ifindex };

		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
	mh.msg_controllen = c->cmsg_len;
	if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		fc_debug("pcp: answering %s: %s",
			 inet_ntop(d->src.family == FC_AF_INET ? AF_INET : AF_INET6, &d->src.addr, a,
				   sizeof(a)), strerror(errno));
}

void pcp_receive(struct pcp_server *s, int fd)
{
	__u8 in[PCP_MAX_MSG + 4], out[PCP_MAX_MSG + 4];
	char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct pcp_dgram d;
	struct iovec iov = { .iov_base = in, .iov_len = sizeof(in) };
	struct msghdr mh = {
		.msg_name = &d.from,
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf,
	};
	ssize_t len;
	size_t n;

	for (int budget = 64; budget > 0; budget--) {
		memset(&d, 0, sizeof(d));
		mh.msg_namelen = sizeof(d.from);
		mh.msg_controllen = sizeof(cbuf);
		mh.msg_flags = 0;
		len = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (len < 0)
			return;
		/* Unicast to one of our addresses, from an accepted client,
		 * within its rate; anything else gets no answer at all. */
		if (!dgram_where(&mh, &d) || d.multicast ||
		    !pcp_access_allowed(&s->access, &d.src, d.ifindex) ||
		    !pcp_access_rate_ok(&s->access, &d.src))
			continue;
		if ((mh.msg_flags & MSG_TRUNC) || len > PCP_MAX_MSG)
			len = PCP_MAX_MSG + 4;	/* oversized: malformed */
		n = pcp_answer(s, &d.src, d.ifindex, in, len, out);
		if (n)
			dgram_reply(fd, &d, out, n);
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

/* The same on [::]:5351 for NAT64's IPv6-only clients (PCP only: NAT-PMP
 * is IPv4's). */
static int open_socket6(const char *ifname, int ifindex)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(PCP_SERVER_PORT) };
	int one = 1, zero = 0, fd;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof(ifindex)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof(zero)) ||
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

struct pcp_server *pcp_open(const struct fc_pcp_opts *po, const struct fc_config *cfg,
			    const struct fc_nat64_pool_opts *nat64, bool nat66)
{
	struct pcp_server *s = calloc(1, sizeof(*s));

	if (!s) {
		fc_err("pcp: out of memory");
		return NULL;
	}
	s->po = *po;
	s->cfg = cfg;
	s->nat64 = nat64;
	s->nat66 = nat66;
	pcp_access_init(&s->access, &s->po);
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
		s->ifs[s->nr_ifs].fd6 = -1;
		s->nr_ifs++;
		pcp_access_add_if(&s->access, idx);
		if (!nat64 && !nat66)
			continue;
		fd = open_socket6(po->ifs[i], idx);
		if (fd < 0) {
			fc_err("--pcp-if %s: cannot listen on UDP port %d for IPv6 clients: %s",
			       po->ifs[i], PCP_SERVER_PORT, strerror(-fd));
			goto fail;
		}
		s->ifs[s->nr_ifs - 1].fd6 = fd;
	}
	for (unsigned int i = 0; i < po->nr_upnp_ifs; i++) {
		int idx = if_nametoindex(po->upnp_ifs[i]);

		if (!idx) {
			fc_err("--upnp-if: no such interface: %s", po->upnp_ifs[i]);
			goto fail;
		}
		pcp_access_add_if(&s->access, idx);
	}
	pcp_access_refresh(&s->access);
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
	for (unsigned int i = 0; i < s->nr_ifs; i++) {
		close(s->ifs[i].fd);
		if (s->ifs[i].fd6 >= 0)
			close(s->ifs[i].fd6);
	}
	free(s);
}

int pcp_poll_fds(const struct pcp_server *s, int *fds, int max)
{
	int n = 0;

	for (unsigned int i = 0; s && i < s->nr_ifs && n < max; i++) {
		fds[n++] = s->ifs[i].fd;
		if (s->ifs[i].fd6 >= 0 && n < max)
			fds[n++] = s->ifs[i].fd6;
	}
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
 * RFC 6887 §14.1), and PCP's to [ff02::1]:5350 for NAT64's clients. */
static void announce(struct pcp_server *s)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PCP_CLIENT_PORT),
				  .sin_addr.s_addr = htonl(INADDR_ALLHOSTS_GROUP) };
	struct sockaddr_in6 to6 = { .sin6_family = AF_INET6, .sin6_port = htons(PCP_CLIENT_PORT),
				    .sin6_addr.s6_addr = { 0xff, 0x02, [15] = 1 } };
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
		if (s->ifs[i].fd6 < 0)
			continue;
		to6.sin6_scope_id = s->ifs[i].ifindex;
		sendto(s->ifs[i].fd6, pcp, sizeof(pcp), MSG_DONTWAIT | MSG_NOSIGNAL,
		       (struct sockaddr *)&to6, sizeof(to6));
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
	if (now_ns - s->access.nets_at_ns >= NETS_REFRESH_NS)
		pcp_access_refresh(&s->access);
}

/* ---- for the UPnP IGD, which serves the same table ---- */

struct pcp_table *pcp_table_of(struct pcp_server *s)
{
	return &s->table;
}

bool pcp_client_allowed(struct pcp_server *s, const struct pcp_host *h, int ifindex)
{
	return pcp_access_allowed(&s->access, h, ifindex);
}

__u32 pcp_grant_lifetime(const struct pcp_server *s, __u32 requested)
{
	return grant(s, requested);
}

const struct fc_pcp_opts *pcp_opts(const struct pcp_server *s)
{
	return &s->po;
}
