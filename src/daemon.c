// SPDX-License-Identifier: GPL-2.0
/*
 * The running daemon: follow the external address and the interfaces, reload
 * on SIGHUP, serve events, PCP/UPnP, metrics and sync, and sweep expired
 * state once a second (doc/design/expiry.md) until SIGINT/SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "daemon.h"
#include "deterministic.h"
#include "forward.h"
#include "gc.h"
#include "link.h"
#include "log.h"
#include "nat64_pool.h"
#include "offload.h"
#include "ports.h"
#include "show.h"
#include "tc_attach.h"
#include "vlan.h"

#define SWEEP_INTERVAL_MS 1000
#define SWEEP_REST_FACTOR 3	/* rest 3x a pass's time: at most 1/4 of a CPU */

static void count(struct daemon *d, enum fc_dstat c, __u64 n)
{
	d->pin.meta.counters[c] += n;
	if (pin_save_meta(&d->pin))
		fc_warn("recording counters in %s: %s", d->pin.dir, strerror(errno));
}

/*
 * Follow the external address: a DHCP or PPPoE renewal may change it. The
 * datapath moves to the new one first, then what was made on the old one is
 * flushed: nobody can reach it there any more.
 */
static void refresh_ext_addr6(struct daemon *d);

static void refresh_ext_addr(struct daemon *d)
{
	struct in_addr a = {};
	char old[INET_ADDRSTRLEN], new[INET_ADDRSTRLEN];
	union fc_addr gone = {};
	struct gc_flush_result fr;
	int err;

	if (!d->ifindex)
		return;	/* interface gone: keep everything until it is back */
	if (d->o.nat66)
		refresh_ext_addr6(d);
	if (!d->o.nat44 && !d->o.nat64)	/* NAT64's external side is IPv4 too */
		return;
	err = nl_get_ipv4_addr(d->ifindex, &a);
	if (err && err != -ENOENT && err != -ENODEV)
		return;
	if (a.s_addr == d->cfg.ext_addr4)
		return;
	inet_ntop(AF_INET, &d->cfg.ext_addr4, old, sizeof(old));
	inet_ntop(AF_INET, &a, new, sizeof(new));
	fc_info("external address of %s changed: %s -> %s", d->o.ifname,
		d->cfg.ext_addr4 ? old : "none", a.s_addr ? new : "none");
	/* The address whose mappings are in the maps: it stays theirs while the
	 * interface has no address at all (a link coming back, DHCP in
	 * progress), and is flushed only when another address takes over. */
	if (d->cfg.ext_addr4)
		d->mapped_addr4 = d->cfg.ext_addr4;
	d->cfg.ext_addr4 = a.s_addr;
	if (loader_write_config(&d->l, &d->cfg))
		fc_warn("cannot update the datapath configuration: %s", strerror(errno));
	count(d, FC_DSTAT_ADDR_CHANGES, 1);
	/* NAT-PMP/PCP: a new epoch, announced with the new address. */
	if (d->pcp)
		pcp_state_lost(d->pcp);
	if (a.s_addr && !d->mapped_addr4) {
		/* The first address of a start without one (--wait-for-address):
		 * nothing was mapped before it, the forwards go onto it. */
		d->mapped_addr4 = a.s_addr;
		forwards_install(loader_bindings_fd(&d->l), &d->o, a.s_addr);
		return;
	}
	if (!a.s_addr || !d->mapped_addr4 || d->mapped_addr4 == a.s_addr)
		return;
	gone.v4 = d->mapped_addr4;
	d->mapped_addr4 = a.s_addr;
	inet_ntop(AF_INET, &gone.v4, old, sizeof(old));
	if (gc_flush_addr(loader_bindings_fd(&d->l), loader_sessions_fd(&d->l),
			  loader_release_fd(&d->l), FC_AF_INET, &gone, &fr)) {
		fc_warn("flushing the mappings of %s: %s", old, strerror(errno));
		return;
	}
	fc_info("flushed %lu mappings and %lu sessions of %s", fr.mappings, fr.sessions, old);
	count(d, FC_DSTAT_FLUSHED_MAPPINGS, fr.mappings);
	count(d, FC_DSTAT_FLUSHED_SESSIONS, fr.sessions);
	/* The forwards move to the new address. */
	forwards_install(loader_bindings_fd(&d->l), &d->o, d->cfg.ext_addr4);
}

static int addr6_is_zero(const union fc_addr *a)
{
	static const union fc_addr zero;

	return !memcmp(a, &zero, sizeof(zero));
}

/* NAT66: the same for the external IPv6 address (a prefix delegation or
 * renumbering changes it); its mappings are flushed the same way. */
static void refresh_ext_addr6(struct daemon *d)
{
	union fc_addr a = {};
	char old[INET6_ADDRSTRLEN], new[INET6_ADDRSTRLEN];
	union fc_addr gone;
	struct gc_flush_result fr;
	int err;

	err = nl_get_ipv6_addr(d->ifindex, (struct in6_addr *)a.v6);
	if (err && err != -ENOENT && err != -ENODEV)
		return;
	if (!memcmp(&a, &d->cfg.ext_addr6, sizeof(a)))
		return;
	inet_ntop(AF_INET6, d->cfg.ext_addr6.v6, old, sizeof(old));
	inet_ntop(AF_INET6, a.v6, new, sizeof(new));
	fc_info("external IPv6 address of %s changed: %s -> %s", d->o.ifname,
		addr6_is_zero(&d->cfg.ext_addr6) ? "none" : old, addr6_is_zero(&a) ? "none" : new);
	if (!addr6_is_zero(&d->cfg.ext_addr6))
		d->mapped_addr6 = d->cfg.ext_addr6;
	d->cfg.ext_addr6 = a;
	if (loader_write_config(&d->l, &d->cfg))
		fc_warn("cannot update the datapath configuration: %s", strerror(errno));
	count(d, FC_DSTAT_ADDR_CHANGES, 1);
	/* PCP's NAT66 mappings had the old address: a new epoch. */
	if (d->pcp && d->o.nat66)
		pcp_state_lost(d->pcp);
	if (addr6_is_zero(&a))
		return;
	if (addr6_is_zero(&d->mapped_addr6) || !memcmp(&d->mapped_addr6, &a, sizeof(a))) {
		/* The first address (NAT66 may start without one), or the old
		 * one back: the forwards onto it, nothing to flush. */
		forwards_install6(loader_bindings_fd(&d->l), &d->o, &a);
		return;
	}
	gone = d->mapped_addr6;
	d->mapped_addr6 = a;
	inet_ntop(AF_INET6, gone.v6, old, sizeof(old));
	if (gc_flush_addr(loader_bindings_fd(&d->l), loader_sessions_fd(&d->l),
			  loader_release_fd(&d->l), FC_AF_INET6, &gone, &fr)) {
		fc_warn("flushing the mappings of %s: %s", old, strerror(errno));
		return;
	}
	fc_info("flushed %lu mappings and %lu sessions of %s", fr.mappings, fr.sessions, old);
	count(d, FC_DSTAT_FLUSHED_MAPPINGS, fr.mappings);
	count(d, FC_DSTAT_FLUSHED_SESSIONS, fr.sessions);
	/* The forwards move to the new address. */
	forwards_install6(loader_bindings_fd(&d->l), &d->o, &a);
}

/*
 * SIGHUP: read the configuration file and the command line again and apply
 * what can change in place (port ranges, timeouts, BPF log level, logging).
 * The maps are untouched, so no mapping or session is lost.
 */
static void reload(struct daemon *d)
{
	struct fc_options n;
	struct fc_config cfg;
	char per_proto[96];

	options_defaults(&n);
	if (options_parse(d->argc, d->argv, &n) != FC_OPTS_RUN) {
		fc_err("reload failed: keeping the running configuration");
		return;
	}
	if (strcmp(n.ifname, d->o.ifname))
		fc_warn("reload: the interface (%s) changes only with a restart; ignored", n.ifname);
	if (n.max_mappings != d->o.max_mappings || n.max_sessions != d->o.max_sessions ||
	    n.prealloc_tables != d->o.prealloc_tables)
		fc_warn("reload: table sizes and preallocation change only after 'fcnat --detach' and a start; ignored");
	if (strcmp(n.bpffs, d->o.bpffs))
		fc_warn("reload: the bpffs directory changes only with a restart; ignored");
	if (strcmp(n.metrics, d->o.metrics))
		fc_warn("reload: the metrics address changes only with a restart; ignored");
	if (memcmp(&n.pcp, &d->o.pcp, sizeof(n.pcp)))
		fc_warn("reload: the NAT-PMP/PCP settings change only with a restart; ignored");
	if (memcmp(&n.sync, &d->o.sync, sizeof(n.sync)))
		fc_warn("reload: the HA sync settings change only with a restart; ignored");
	if (n.log_mappings != d->o.log_mappings || n.syslog != d->o.syslog ||
	    strcmp(n.syslog_path, d->o.syslog_path) || strcmp(n.ipfix, d->o.ipfix) ||
	    n.ipfix_domain != d->o.ipfix_domain || n.ipfix_template_s != d->o.ipfix_template_s ||
	    n.event_ring_kb != d->o.event_ring_kb)
		fc_warn("reload: the event log settings change only with a restart; ignored");
	n.log_mappings = d->o.log_mappings;
	n.syslog = d->o.syslog;
	memcpy(n.syslog_path, d->o.syslog_path, sizeof(n.syslog_path));
	memcpy(n.ipfix, d->o.ipfix, sizeof(n.ipfix));
	n.ipfix_domain = d->o.ipfix_domain;
	n.ipfix_template_s = d->o.ipfix_template_s;
	n.event_ring_kb = d->o.event_ring_kb;
	n.pcp = d->o.pcp;
	/* The pool, and whether subscribers are kept at all, shape the state
	 * already made: they change with a restart. Limits, the scope and the
	 * exclusions change in place. */
	if (n.cgnat.nr_pool != d->o.cgnat.nr_pool ||
	    memcmp(n.cgnat.pool, d->o.cgnat.pool, sizeof(n.cgnat.pool[0]) * n.cgnat.nr_pool))
		fc_warn("reload: the address pool changes only with a restart; ignored");
	if (n.cgnat.det_on != d->o.cgnat.det_on ||
	    memcmp(&n.cgnat.det, &d->o.cgnat.det, sizeof(n.cgnat.det)) ||
	    (d->o.cgnat.det_on && memcmp(n.port_ranges, d->o.port_ranges, sizeof(n.port_ranges))))
		fc_warn("reload: deterministic NAT and its port range change only with a restart; "
			"ignored");
	if (n.cgnat.block_size != d->o.cgnat.block_size ||
	    n.cgnat.max_blocks != d->o.cgnat.max_blocks ||
	    (d->o.cgnat.block_size && memcmp(n.port_ranges, d->o.port_ranges, sizeof(n.port_ranges))))
		fc_warn("reload: port blocks and their port range change only with a restart; ignored");
	n.cgnat.block_size = d->o.cgnat.block_size;
	n.cgnat.max_blocks = d->o.cgnat.max_blocks;
	n.cgnat.det_on = d->o.cgnat.det_on;
	n.cgnat.det = d->o.cgnat.det;
	if (d->o.cgnat.det_on || d->o.cgnat.block_size) {
		n.nr_port_ranges = d->o.nr_port_ranges;
		memcpy(n.port_ranges, d->o.port_ranges, sizeof(n.port_ranges));
	}
	n.cgnat.nr_pool = d->o.cgnat.nr_pool;
	memcpy(n.cgnat.pool, d->o.cgnat.pool, sizeof(n.cgnat.pool));
	if (cgnat_subscribers_on(&n.cgnat) != cgnat_subscribers_on(&d->o.cgnat)) {
		fc_warn("reload: turning per-subscriber limits on or off takes a restart; ignored");
		memcpy(n.cgnat.limit, d->o.cgnat.limit, sizeof(n.cgnat.limit));
	}
	if (loader_write_cgnat(&d->l, &n)) {
		fc_err("reload: writing the internal and excluded prefixes: %s; keeping the "
		       "running configuration", strerror(errno));
		return;
	}
	if (nat64_pool_install(&d->l, &n))
		return;
	memcpy(n.ifname, d->o.ifname, sizeof(n.ifname));
	memcpy(n.bpffs, d->o.bpffs, sizeof(n.bpffs));
	memcpy(n.metrics, d->o.metrics, sizeof(n.metrics));
	n.max_mappings = d->o.max_mappings;
	n.max_sessions = d->o.max_sessions;
	n.prealloc_tables = d->o.prealloc_tables;

	if (n.nat44 != d->o.nat44 || n.nat66 != d->o.nat66 || n.nat64 != d->o.nat64) {
		fc_warn("reload: NAT44/NAT66/NAT64 change only with a restart; ignored");
		n.nat44 = d->o.nat44;
		n.nat66 = d->o.nat66;
		n.nat64 = d->o.nat64;
		memcpy(n.nat64_prefix, d->o.nat64_prefix, sizeof(n.nat64_prefix));
		n.nat64_prefix_len = d->o.nat64_prefix_len;
	}
	loader_fill_config(&n, d->cfg.ext_addr4, &cfg);
	cfg.ext_addr6 = d->cfg.ext_addr6;
	cfg.route_gen = d->cfg.route_gen + 1;
	if (loader_write_config(&d->l, &cfg)) {
		fc_err("reload: writing the datapath configuration: %s; keeping the running one",
		       strerror(errno));
		return;
	}
	d->o = n;
	d->cfg = cfg;
	fc_log_level = n.verbose ? FC_LOG_DEBUG : FC_LOG_INFO;
	count(d, FC_DSTAT_RELOADS, 1);
	ports_describe(&n, per_proto, sizeof(per_proto));
	fc_info("reloaded: %u ports in %u range(s)%s, timeouts udp %us icmp %us tcp-est %us "
		"tcp-trans %us, bpf-log %u%s", ports_total(n.port_ranges, n.nr_port_ranges),
		n.nr_port_ranges, per_proto,
		n.timeout_s[FC_TIMEOUT_UDP], n.timeout_s[FC_TIMEOUT_ICMP],
		n.timeout_s[FC_TIMEOUT_TCP_EST], n.timeout_s[FC_TIMEOUT_TCP_TRANS], n.bpf_log,
		n.keep_state ? ", keep-state" : "");
}

static void sweep(struct daemon *d, struct gc_state *gc)
{
	struct gc_result res;

	if (gc_sweep(gc, loader_bindings_fd(&d->l), loader_sessions_fd(&d->l), &d->cfg,
		     gc_now_ns(), &res)) {
		fc_warn("expiry sweep failed: %s", strerror(errno));
		return;
	}
	nat64_pool_sweep_loader(&d->l, &d->cfg);
	if (res.sessions_expired || res.mappings_expired || res.orphans_removed)
		fc_debug("sweep: %lu sessions and %lu mappings live; expired %lu sessions, "
			 "%lu mappings; %lu half-mappings removed",
			 res.sessions_live, res.mappings_live, res.sessions_expired,
			 res.mappings_expired, res.orphans_removed);
}

static __u64 now_ms(void)
{
	return gc_now_ns() / 1000000;
}

/* A route or link changed: the hops the fast path cached are stale
 * (bpf/lib/route.h). Failing to say so leaves them for FC_HOP_TTL_NS. */
static void routes_changed(struct daemon *d)
{
	d->cfg.route_gen++;
	if (loader_write_config(&d->l, &d->cfg))
		fc_warn("routes changed, but writing the datapath configuration failed: %s; "
			"cached routes expire within a second", strerror(errno));
}

/* Tell the datapath which of its interfaces have no link-layer header. */
int daemon_write_l3_links(struct daemon *d, int ext_ifindex)
{
	int ifs[FC_MAX_IFACES + 1];
	unsigned int n = 0;

	if (d->ext_bare_ip)
		ifs[n++] = ext_ifindex;
	for (unsigned int i = 0; i < d->nr_l3; i++)
		ifs[n++] = d->l3_ifindex[i];
	if (loader_set_l3_links(&d->l, ifs, n)) {
		fc_err("too many interfaces without a link-layer header (%u)", n);
		return -1;
	}
	return 0;
}

/*
 * Follow the external interface itself: when it goes away its filters go
 * with it; when an interface of that name comes (back), with whatever index,
 * the datapath is attached to it again. Mappings stay in the maps meanwhile.
 */
static void follow_interface(struct daemon *d)
{
	int idx = if_nametoindex(d->o.ifname);
	char why[256];
	bool bare, refused;

	if (idx == d->ifindex)
		return;
	if (!idx) {
		fc_warn("external interface %s is gone; waiting for it to come back", d->o.ifname);
		d->l.ingress.attached = d->l.egress.attached = false;
		d->l.created_qdisc = false;
		d->ifindex = 0;
		return;
	}
	refused = link_check(d->o.ifname, false, &bare, why, sizeof(why)) != 0;
	if (!refused && bare && d->o.mode == FC_MODE_XDP) {
		snprintf(why, sizeof(why), "%s: %s", d->o.ifname, XDP_BARE_IP_REFUSED);
		refused = true;
	}
	if (refused) {
		/* Said once per index; the datapath would misread its packets. */
		if (idx != d->refused_ifindex)
			fc_err("external interface is back but not attached: %s", why);
		d->refused_ifindex = idx;
		return;
	}
	/* Its layout before its programs: they read it per packet. */
	d->ext_bare_ip = bare;
	if (daemon_write_l3_links(d, idx))
		return;
	vlan_write(&d->l, idx, &d->o.vlan);
	fc_info("external interface %s is back (ifindex %d): attaching", d->o.ifname, idx);
	d->l.ingress.attached = d->l.egress.attached = false;
	if (loader_attach(&d->l, idx, NULL)) {
		fc_err("re-attaching to %s failed; will retry", d->o.ifname);
		return;
	}
	d->ifindex = idx;
	loader_record_attach(&d->l, &d->pin.meta);
	if (pin_save_meta(&d->pin))
		fc_warn("recording the filters in %s: %s", d->pin.dir, strerror(errno));
	refresh_ext_addr(d);
}

static void log_deleted_mapping(void *ctx, const struct fc_endpoint_key *k,
				const struct fc_binding *v)
{
	struct fc_event ev = {
		.time_ns = gc_now_ns(),
		.type = FC_EVENT_MAPPING_DELETE,
		.family = k->family,
		.proto = k->proto,
		.flags = v->flags,
		.int_port = k->port,
		.ext_port = v->port,
		.int_addr = k->addr,
		.ext_addr = v->addr,
		.ext_family = v->family,
	};

	event_log_write(ctx, &ev);
}

/* The event outputs' counters, in fc_meta with the other daemon counters so
 * that `fcnat stats` and the metrics show them; saved when they move. */
void daemon_save_event_counters(struct daemon *d)
{
	struct fc_event_log_stats st;
	__u64 now[FC_DSTAT_MAX] = {};
	bool moved = false;

	if (!d->events)
		return;
	event_log_get_stats(d->events, &st);
	now[FC_DSTAT_IPFIX_SENT] = st.ipfix_messages_sent;
	now[FC_DSTAT_IPFIX_DROPPED] = st.ipfix_messages_dropped;
	now[FC_DSTAT_SYSLOG_DROPPED] = st.syslog_dropped;
	for (int c = FC_DSTAT_IPFIX_SENT; c <= FC_DSTAT_SYSLOG_DROPPED; c++) {
		__u64 v = d->events_base[c] + now[c];

		moved |= d->pin.meta.counters[c] != v;
		d->pin.meta.counters[c] = v;
	}
	if (moved && pin_save_meta(&d->pin))
		fc_warn("recording counters in %s: %s", d->pin.dir, strerror(errno));
}

#define PFD_FIXED 5

/* Until SIGINT/SIGTERM: signals, address events, metrics scrapes, mapping
 * events, NAT-PMP/PCP requests, and a sweep a second. */
void daemon_run(struct daemon *d)
{
	struct gc_state gc;
	struct pollfd pfd[PFD_FIXED + PCP_POLL_MAX + 2 + UPNP_POLL_MAX] = {
		{ .fd = d->sigfd, .events = POLLIN },
		{ .fd = d->watch ? nl_addr_watch_fd(d->watch) : -1, .events = POLLIN },
		{ .fd = metrics_poll_fd(d->metrics), .events = POLLIN },
		{ .fd = d->events ? event_log_fd(d->events) : -1, .events = POLLIN },
		{ .fd = event_log_out_fd(d->events), .events = 0 },
	};
	int pcp_fds[PCP_POLL_MAX];
	int npcp = pcp_poll_fds(d->pcp, pcp_fds, PCP_POLL_MAX);
	int sync_fds[2], nsync = sync_poll_fds(d->sync, sync_fds, 2);
	struct metrics_source ms = {
		.ifname = d->o.ifname,
		.bindings_fd = loader_bindings_fd(&d->l),
		.sessions_fd = loader_sessions_fd(&d->l),
		.stats_fd = loader_stats_fd(&d->l),
		.pool_fd = loader_pool_fd(&d->l),
		.subscribers_fd = loader_subscribers_fd(&d->l),
		.cfg = &d->cfg,
		.meta = &d->pin.meta,
		.extra = d->sync ? sync_metrics : NULL,
		.extra_ctx = d->sync,
	};
	__u64 next_sweep = now_ms() + SWEEP_INTERVAL_MS;

	metrics_set_source(d->metrics, &ms);
	for (int i = 0; i < npcp; i++) {
		pfd[PFD_FIXED + i].fd = pcp_fds[i];
		pfd[PFD_FIXED + i].events = POLLIN;
	}
	for (int i = 0; i < nsync; i++) {
		pfd[PFD_FIXED + npcp + i].fd = sync_fds[i];
		pfd[PFD_FIXED + npcp + i].events = POLLIN;
	}
	gc_init(&gc);
	gc.release_fd = loader_release_fd(&d->l);
	gc.subscribers_fd = loader_subscribers_fd(&d->l);
	gc.blocks_fd = loader_blocks_fd(&d->l);
	gc.block_free_fd = loader_block_free_fd(&d->l);
	if (d->events) {
		gc.on_delete = log_deleted_mapping;
		gc.on_delete_ctx = d->events;
	}
	/* The address may have changed between start-up and the subscription. */
	refresh_ext_addr(d);
	for (;;) {
		struct signalfd_siginfo si;
		__u64 now = now_ms();
		int timeout = next_sweep > now ? (int)(next_sweep - now) : 0;
		int pt = pcp_timeout_ms(d->pcp, gc_now_ns());
		int ut = upnp_timeout_ms(d->upnp, gc_now_ns());
		int mt = metrics_timeout_ms(d->metrics);
		int st = sync_timeout_ms(d->sync);
		int nu = upnp_poll_fds(d->upnp, pfd + PFD_FIXED + npcp + nsync, UPNP_POLL_MAX);
		int n;

		if (pt >= 0 && pt < timeout)
			timeout = pt;
		if (ut >= 0 && ut < timeout)
			timeout = ut;
		if (mt >= 0 && mt < timeout)
			timeout = mt;
		if (st >= 0 && st < timeout)
			timeout = st;
		/* The IPFIX socket is watched only while messages wait for it. */
		pfd[4].events = event_log_want_write(d->events) ? POLLOUT : 0;
		n = poll(pfd, PFD_FIXED + npcp + nsync + nu, timeout);

		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && (pfd[0].revents & POLLIN) &&
		    read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				fc_info("SIGHUP received, reloading the configuration");
				reload(d);
				continue;
			}
			fc_info("%s received, %s", strsignal(si.ssi_signo),
				d->o.keep_state ? "leaving the datapath running" : "detaching");
			break;
		}
		if (n > 0 && (pfd[1].revents & POLLIN)) {
			int routes = 0;

			if (nl_addr_watch_drain(d->watch, d->ifindex, &routes) != 0) {
				follow_interface(d);
				refresh_ext_addr(d);
			}
			if (routes)
				routes_changed(d);
		}
		if ((n > 0 && (pfd[2].revents & POLLIN)) || metrics_timeout_ms(d->metrics) == 0)
			metrics_run(d->metrics);
		if (n > 0 && (pfd[3].revents & POLLIN))
			event_log_drain(d->events);
		if (n > 0 && (pfd[4].revents & (POLLOUT | POLLERR)))
			event_log_on_writable(d->events);
		for (int i = 0; n > 0 && i < npcp; i++)
			if (pfd[PFD_FIXED + i].revents & POLLIN)
				pcp_receive(d->pcp, pfd[PFD_FIXED + i].fd);
		if (pcp_timeout_ms(d->pcp, gc_now_ns()) == 0)
			pcp_tick(d->pcp, gc_now_ns());
		for (int i = 0; n > 0 && i < nsync; i++)
			if (pfd[PFD_FIXED + npcp + i].revents & POLLIN)
				sync_receive(d->sync, pfd[PFD_FIXED + npcp + i].fd);
		if (sync_timeout_ms(d->sync) == 0)
			sync_tick(d->sync);
		if (n > 0)
			upnp_handle(d->upnp, pfd + PFD_FIXED + npcp + nsync, nu);
		upnp_tick(d->upnp, gc_now_ns());
		if (now_ms() < next_sweep)
			continue;
		follow_interface(d);	/* a new index is not in the watch's filter */
		event_log_tick(d->events);
		if (!d->watch)
			refresh_ext_addr(d);
		pcp_tick(d->pcp, gc_now_ns());
		now = now_ms();
		sweep(d, &gc);
		event_log_flush(d->events);	/* the deletions it found */
		daemon_save_event_counters(d);
		/* A pass over a million sessions takes seconds (doc/scale.md):
		 * rest SWEEP_REST_FACTOR times as long as it took, so the
		 * sweeper takes at most a quarter of a CPU (and of the memory
		 * bandwidth the datapath needs), and the loop stays responsive.
		 * Expired state it has not reached yet is refused by the
		 * datapath itself. */
		next_sweep = now_ms() + SWEEP_INTERVAL_MS;
		if (SWEEP_REST_FACTOR * (now_ms() - now) > SWEEP_INTERVAL_MS)
			next_sweep = now_ms() + SWEEP_REST_FACTOR * (now_ms() - now);
	}
	gc_free(&gc);
}

/* Mappings and sessions in the (possibly reused) maps, for the log. */
void daemon_count_state(const struct fc_loader *l, unsigned long *mappings,
			       unsigned long *sessions)
{
	struct fc_endpoint_key k, next;
	struct fc_session_key sk, snext;
	void *prev = NULL;

	*mappings = *sessions = 0;
	while (bpf_map_get_next_key(loader_bindings_fd(l), prev, &next) == 0) {
		if (next.side == FC_SIDE_INTERNAL)
			(*mappings)++;
		k = next;
		prev = &k;
	}
	prev = NULL;
	while (bpf_map_get_next_key(loader_sessions_fd(l), prev, &snext) == 0) {
		(*sessions)++;
		sk = snext;
		prev = &sk;
	}
}

struct stale_walk {
	const struct fc_config *cfg;
	int pool_index_fd;
	unsigned int n;
	__be32 addrs[64];
};

static int find_stale(void *ctx, const void *key, const void *value)
{
	struct stale_walk *w = ctx;
	const struct fc_endpoint_key *k = key;
	const struct fc_binding *v = value;
	__u32 idx;

	if (k->side != FC_SIDE_INTERNAL || v->family != FC_AF_INET ||
	    v->addr.v4 == w->cfg->ext_addr4 ||
	    (w->cfg->nr_pool && bpf_map_lookup_elem(w->pool_index_fd, &v->addr.v4, &idx) == 0))
		return 0;
	for (unsigned int i = 0; i < w->n; i++)
		if (w->addrs[i] == v->addr.v4)
			return 0;
	if (w->n < sizeof(w->addrs) / sizeof(w->addrs[0]))
		w->addrs[w->n++] = v->addr.v4;
	return 0;
}

/*
 * Kept state may hold mappings on external addresses this configuration
 * no longer has (a pool changed across the restart): nobody can reach
 * them there, and their hosts would keep using them. Flush them, counts
 * given back, so each host pairs with an address of the pool again.
 */
void daemon_flush_stale_addresses(struct daemon *d)
{
	struct stale_walk w = {
		.cfg = &d->cfg,
		.pool_index_fd = loader_pool_index_fd(&d->l),
	};
	char s[INET_ADDRSTRLEN];

	if (map_walk(loader_bindings_fd(&d->l), sizeof(struct fc_endpoint_key),
		     sizeof(struct fc_binding), find_stale, &w))
		return;
	for (unsigned int i = 0; i < w.n; i++) {
		union fc_addr a = {};	/* all 16 bytes, compared whole */
		struct gc_flush_result fr;

		a.v4 = w.addrs[i];
		if (gc_flush_addr(loader_bindings_fd(&d->l), loader_sessions_fd(&d->l),
				  loader_release_fd(&d->l), FC_AF_INET, &a, &fr))
			continue;
		inet_ntop(AF_INET, &a.v4, s, sizeof(s));
		fc_info("flushed %lu mappings and %lu sessions of %s: not an external address "
			"any more", fr.mappings, fr.sessions, s);
		count(d, FC_DSTAT_FLUSHED_MAPPINGS, fr.mappings);
		count(d, FC_DSTAT_FLUSHED_SESSIONS, fr.sessions);
	}
}
