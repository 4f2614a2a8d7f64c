// SPDX-License-Identifier: GPL-2.0
/*
 * fcnat: parse options, load (taking over pinned state if a previous run
 * left it) and attach the datapath, then sweep expired state once a second
 * until SIGINT/SIGTERM, and detach everything we added -- or, with
 * --keep-state, leave the datapath running for the next start.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/if_link.h>

#include "offload.h"
#include "events.h"
#include "forward.h"
#include "gc.h"
#include "deterministic.h"
#include "loader.h"
#include "import_einat.h"
#include "log.h"
#include "ports.h"
#include "link.h"
#include "vlan.h"
#include "metrics.h"
#include "netlink.h"
#include "options.h"
#include "pcp.h"
#include "upnp.h"
#include "sync.h"
#include "pin.h"
#include "show.h"
#include "stats.h"
#include "tc_attach.h"

#define SWEEP_INTERVAL_MS 1000
#define SWEEP_REST_FACTOR 3	/* rest 3x a pass's time: at most 1/4 of a CPU */

static int have_cap(__u32 caps[2], int cap)
{
	return !!(caps[cap / 32] & (1U << (cap % 32)));
}

/* Needs CAP_NET_ADMIN for TC and CAP_BPF (or the older CAP_SYS_ADMIN). */
static int check_privileges(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	__u32 eff[2];

	if (syscall(SYS_capget, &hdr, data))
		return 0;	/* cannot tell: let the kernel decide */
	eff[0] = data[0].effective;
	eff[1] = data[1].effective;
	if (have_cap(eff, CAP_NET_ADMIN) && (have_cap(eff, CAP_BPF) || have_cap(eff, CAP_SYS_ADMIN)))
		return 0;
	fc_err("permission denied: fcnat must run as root "
	       "(or with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON)");
	return -EPERM;
}

/* XDP reads Ethernet frames only; TC mode reads both. */
#define XDP_BARE_IP_REFUSED "XDP mode needs an Ethernet link, this one has no link-layer header " \
	"(PPP, TUN, WireGuard, a tunnel): use --mode tc (README: Link types)"

/* lo takes the gateway-process variant of the hairpin program. */
static bool is_loopback(int ifindex)
{
	char name[IF_NAMESIZE];
	struct ifreq ifr = {};
	int fd, ret = 0;

	if (!if_indextoname(ifindex, name))
		return false;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
		ret = !!(ifr.ifr_flags & IFF_LOOPBACK);
	close(fd);
	return ret;
}

static int block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

/* Everything the running daemon works with. */
struct daemon {
	int argc;
	char **argv;		/* re-parsed on SIGHUP */
	struct fc_options o;
	struct fc_loader l;
	struct fc_pin pin;
	struct fc_config cfg;
	int ifindex;
	int refused_ifindex;	/* came back with a link type we cannot read */
	bool ext_bare_ip;	/* the external link has no link-layer header */
	int l3_ifindex[FC_MAX_IFACES];	/* internal/hairpin ones without one */
	unsigned int nr_l3;
	__be32 mapped_addr4;	/* the external address the maps' mappings use */
	union fc_addr mapped_addr6;	/* NAT66: the same for IPv6 */
	struct in6_addr start_addr6;	/* NAT66: the external IPv6 address at start */
	int hairpin_ifindex[FC_MAX_IFACES];	/* --hairpin-if, then the --lan-if ones */
	const char *hairpin_name[FC_MAX_IFACES];
	unsigned int nr_hairpin;
	int internal_ifindex[FC_MAX_IFACES];
	int sigfd;
	struct nl_watch *watch;	/* NULL: poll the address once a second instead */
	struct metrics_server *metrics;	/* NULL: no --metrics */
	struct fc_event_log *events;	/* NULL: no event output */
	__u64 events_base[FC_DSTAT_MAX];	/* the event counters of earlier runs */
	struct pcp_server *pcp;	/* NULL: no --pcp-if nor --upnp-if */
	struct upnp_server *upnp;	/* NULL: no --upnp-if */
	struct fc_sync *sync;	/* NULL: no --sync-peer */
};

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
	if (addr6_is_zero(&a) || addr6_is_zero(&d->mapped_addr6) ||
	    !memcmp(&d->mapped_addr6, &a, sizeof(a)))
		return;
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
static int write_l3_links(struct daemon *d, int ext_ifindex)
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
	if (write_l3_links(d, idx))
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
static void save_event_counters(struct daemon *d)
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
static void run(struct daemon *d)
{
	struct gc_state gc;
	struct pollfd pfd[PFD_FIXED + FC_MAX_IFACES + 2 + UPNP_POLL_MAX] = {
		{ .fd = d->sigfd, .events = POLLIN },
		{ .fd = d->watch ? nl_addr_watch_fd(d->watch) : -1, .events = POLLIN },
		{ .fd = metrics_poll_fd(d->metrics), .events = POLLIN },
		{ .fd = d->events ? event_log_fd(d->events) : -1, .events = POLLIN },
		{ .fd = event_log_out_fd(d->events), .events = 0 },
	};
	int pcp_fds[FC_MAX_IFACES];
	int npcp = pcp_poll_fds(d->pcp, pcp_fds, FC_MAX_IFACES);
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
		save_event_counters(d);
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
static void count_state(const struct fc_loader *l, unsigned long *mappings,
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
static void flush_stale_addresses(struct daemon *d)
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

/* The XDP programs of a kept XDP-mode datapath (on the interfaces of its
 * record m, working on its pinned maps: bindings_fd). */
static int detach_kept_xdp(const struct fc_meta *m, int bindings_fd)
{
	struct nl_vlan_link v;
	int n = 0;

	if (m->ifindex)
		n += loader_xdp_remove_kept(bindings_fd, m->ifindex);
	/* A VLAN WAN's XDP program sits on its real device (vlan_xdp_ext). */
	if (m->ifindex && !nl_get_vlan(m->ifindex, &v) && v.vlan && v.lower)
		n += loader_xdp_remove_kept(bindings_fd, v.lower);
	for (unsigned int i = 0; i < m->nr_hairpin && i < FC_META_MAX_HAIRPIN; i++)
		n += loader_xdp_remove_kept(bindings_fd, m->hairpin[i].ifindex);
	return n;
}

/* fcnat --detach -i IF: remove what a --keep-state instance left. */
static int cmd_detach(const struct fc_options *o)
{
	struct fc_pin pin;
	int removed, bindings_fd;

	if (pin_open(&pin, o->bpffs, o->ifname, true))
		return FC_EXIT_FAIL;
	if (!pin.found) {
		pin_remove(&pin);
		pin_close(&pin);
		fc_info("nothing to detach: no kept fcnat state for %s in %s", o->ifname, o->bpffs);
		return FC_EXIT_OK;
	}
	removed = loader_detach_kept(&pin.meta) + tcx_detach_dir(pin.dir);
	/* Filters a start killed before recording them are found by the
	 * state they work on, and so are a kept XDP datapath's programs. */
	bindings_fd = pin_map_fd(&pin, "fc_bindings");
	if (bindings_fd >= 0) {
		removed += loader_detach_orphans(bindings_fd);
		removed += detach_kept_xdp(&pin.meta, bindings_fd);
		close(bindings_fd);
	}
	pin_remove(&pin);
	pin_close(&pin);
	fc_info("detached from %s: %d filter(s) and the pinned state removed", o->ifname, removed);
	return FC_EXIT_OK;
}

/* The clsact qdisc is about to be made: record it in fc_meta first, so a
 * start killed before its end does not leave it to nobody. */
static void record_qdisc_making(void *arg, int ifindex)
{
	struct fc_pin *pin = arg;

	if (pin->meta.flags & FC_META_ATTACHED)
		return;		/* the kept datapath's record stands */
	fc_debug("no clsact qdisc on ifindex %d yet: recording it as ours before making it", ifindex);
	pin->meta.ifindex = ifindex;
	pin->meta.flags |= FC_META_CREATED_QDISC;
	if (pin_save_meta(pin))
		fc_warn("recording the clsact qdisc in %s: %s", pin->dir, strerror(errno));
}

/* A --lan-if interface? */
static bool is_internal(const struct daemon *d, int ifindex)
{
	for (unsigned int i = 0; i < d->o.nr_internal_ifs; i++)
		if (d->internal_ifindex[i] == ifindex)
			return true;
	return false;
}

/* Did this start attach XDP to ifindex? */
static bool xdp_attached_now(const struct fc_loader *l, int ifindex)
{
	for (unsigned int i = 0; i < l->nr_xdp; i++)
		if (l->xdp[i].ifindex == ifindex)
			return true;
	return false;
}

/* A kept XDP-mode datapath's programs that this start did not replace (it
 * runs in TC mode, or with fewer internal interfaces) go: the interfaces of
 * the kept record are the external one and the hairpin/internal ones. */
static void remove_kept_xdp(const struct daemon *d, const struct fc_loader *l,
			    const struct fc_meta *m)
{
	int bfd = loader_bindings_fd(l), n = 0;

	if (m->ifindex && !xdp_attached_now(l, m->ifindex))
		n += loader_xdp_remove_kept(bfd, m->ifindex);
	for (unsigned int i = 0; i < m->nr_hairpin && i < FC_META_MAX_HAIRPIN; i++)
		if (!xdp_attached_now(l, m->hairpin[i].ifindex))
			n += loader_xdp_remove_kept(bfd, m->hairpin[i].ifindex);
	if (n)
		fc_info("removed %d XDP program(s) of the kept datapath that this start does "
			"not use", n);
}

/* Load (reusing pinned state), configure and attach; on failure leave the
 * system as it was. */
static int start(struct daemon *d, struct fc_loader *loader, struct fc_pin *pin,
		 const struct fc_options *o, int ifindex, struct fc_config *cfg, __be32 ext)
{
	struct fc_config inert;
	int xdp_ext = ifindex;	/* a VLAN sub-interface's real device */

	if (pin_open(pin, o->bpffs, o->ifname, false))
		return -1;
	if (loader_open(loader, o))
		goto fail_pin;
	if (loader_choose_attach(loader, ifindex, pin))
		goto fail_loader;
	if (o->mode == FC_MODE_TC && o->nr_internal_ifs &&
	    loader_set_tc_fast(loader, ifindex, d->internal_ifindex, o->nr_internal_ifs))
		goto fail_loader;
	if (write_l3_links(d, ifindex))
		goto fail_loader;
	vlan_write(loader, ifindex, &o->vlan);
	if (pin_reuse_maps(pin, loader_object(loader)) || loader_load_opened(loader))
		goto fail_loader;
	if (o->mode == FC_MODE_XDP &&
	    loader_xdp_load(loader, ifindex, d->internal_ifindex, o->nr_internal_ifs))
		goto fail_loader;
	vlan_write(loader, ifindex, &o->vlan);	/* the XDP programs' copy, live */
	if (o->mode == FC_MODE_XDP)
		xdp_ext = vlan_xdp_ext(loader, ifindex, &o->vlan);
	if (pin_commit(pin, loader_object(loader)))
		goto fail_loader;
	loader_fill_config(o, ext, cfg);
	memcpy(cfg->ext_addr6.v6, &d->start_addr6, sizeof(cfg->ext_addr6));
	if (loader_write_cgnat(loader, o)) {
		fc_err("writing the address pool and prefixes: %s", strerror(errno));
		goto fail_pinned;
	}
	/* A fresh datapath stays inert, passing every packet as if fcnat were
	 * not there, until all its programs are attached: a start killed
	 * between two attaches leaves no half NAT (doc/design/restart.md). A
	 * kept one goes on serving with the new configuration at once. */
	inert = *cfg;
	inert.flags &= ~FC_CFG_NAT_ANY;
	if (loader_write_config(loader, pin->found && (pin->meta.flags & FC_META_ATTACHED) ?
					    cfg : &inert)) {
		fc_err("writing the datapath configuration: %s", strerror(errno));
		goto fail_pinned;
	}
	if (forwards_install(loader_bindings_fd(loader), o, ext))
		goto fail_pinned;
	loader->qdisc_making = record_qdisc_making;
	loader->qdisc_making_arg = pin;
	if (loader_attach(loader, ifindex, pin->found ? &pin->meta : NULL))
		goto fail_pinned;
	fc_fault_point("attached-tc");
	for (unsigned int i = 0; i < d->nr_hairpin; i++) {
		int err = loader_attach_hairpin(loader, d->hairpin_ifindex[i],
						is_loopback(d->hairpin_ifindex[i]),
						o->mode == FC_MODE_TC &&
						is_internal(d, d->hairpin_ifindex[i]),
						pin->found ? &pin->meta : NULL);

		if (err) {
			fc_err("attaching the hairpin program to %s: %s", d->hairpin_name[i],
			       strerror(-err));
			/* A fresh start leaves nothing; a kept datapath keeps
			 * translating on its external interface. */
			if (pin->found)
				loader_detach_hairpin(loader);
			else
				loader_detach(loader);
			goto fail_pinned;
		}
	}
	fc_fault_point("attached-hairpin");
	/* XDP last: the TC programs behind it are in place to finish what
	 * it passes to the stack. */
	for (unsigned int i = 0; o->mode == FC_MODE_XDP && i <= o->nr_internal_ifs; i++) {
		int err = i == 0 ? loader_xdp_attach(loader, xdp_ext, true, o->xdp_mode)
				 : loader_xdp_attach(loader, d->internal_ifindex[i - 1], false,
						     o->xdp_mode);

		if (err) {
			fc_err("attaching XDP to %s: %s",
			       i == 0 ? o->ifname : o->internal_ifs[i - 1], strerror(-err));
			loader_xdp_detach(loader);
			if (pin->found)
				loader_detach_hairpin(loader);
			else
				loader_detach(loader);
			goto fail_pinned;
		}
	}
	if (pin->found) {
		remove_kept_xdp(d, loader, &pin->meta);
		tcx_drop_unused(loader);
	}
	fc_fault_point("attached");
	loader_record_attach(loader, &pin->meta);
	if (pin_save_meta(pin))
		fc_warn("recording the filters in %s: %s", pin->dir, strerror(errno));
	if (loader_write_config(loader, cfg)) {
		fc_err("writing the datapath configuration: %s", strerror(errno));
		loader_detach(loader);
		goto fail_pinned;
	}
	return 0;

fail_pinned:
	/* A reused state still serves the kept datapath: only fresh pins go. */
fail_loader:
	loader_destroy(loader);
fail_pin:
	if (!pin->found)
		pin_remove(pin);
	pin_close(pin);
	return -1;
}

int main(int argc, char **argv)
{
	static struct daemon dm;
	struct daemon *d = &dm;
	struct in_addr ext = {};
	__u64 counters[FC_STAT_MAX];
	char addr[INET_ADDRSTRLEN + 5 + INET6_ADDRSTRLEN] = "";
	char nat64[32 + INET6_ADDRSTRLEN] = "";
	unsigned long nmap, nsess;
	char why[256];
	int err;

	d->argc = argc;
	d->argv = argv;
	if (argc > 1 && !strcmp(argv[1], "offload"))	/* a mode of its own: offload.c */
		return offload_main(argc - 1, argv + 1);
	if (argc > 2 && !strcmp(argv[1], "show") && !strcmp(argv[2], "offloads"))
		return offload_show_main(argc - 2, argv + 2);
	for (int i = 1; i < argc; i++)	/* a command of its own, run by a script */
		if (!strcmp(argv[i], "--import-einat"))
			return import_einat_exec(argc - 1, argv + 1);
	options_defaults(&d->o);
	switch (options_parse(argc, argv, &d->o)) {
	case FC_OPTS_EXIT_OK:
		return FC_EXIT_OK;
	case FC_OPTS_USAGE:
		return FC_EXIT_USAGE;
	case FC_OPTS_RUN:
		break;
	}
	if (d->o.verbose)
		fc_log_level = FC_LOG_DEBUG;
	if (d->o.cmd == FC_CMD_SHOW_MAPPINGS || d->o.cmd == FC_CMD_SHOW_SESSIONS ||
	    d->o.cmd == FC_CMD_SHOW_SUBSCRIBERS || d->o.cmd == FC_CMD_STATS)
		return show_main(&d->o);
	if (d->o.cmd == FC_CMD_SHOW_SYNC)
		return sync_show_main(&d->o);
	if (d->o.cmd == FC_CMD_LOOKUP)
		return lookup_main(&d->o);
	if (d->o.nat64 && (d->o.cmd == FC_CMD_RUN || d->o.cmd == FC_CMD_CHECK_CONFIG) &&
	    !d->o.nr_hairpin_ifs && !d->o.nr_internal_ifs) {
		/* NAT64 translates on the ingress of the internal interfaces:
		 * without one, IPv6 to the prefix would go untranslated. */
		fc_err("--nat64 needs the internal interfaces its IPv6 hosts are on: "
		       "--hairpin-if <name> ... or --lan-if <name> ...");
		return FC_EXIT_USAGE;
	}
	if (d->o.cmd == FC_CMD_CHECK_CONFIG) {
		/* options_parse() has checked every value, file:line on error. */
		printf("%s: configuration is valid\n", d->o.config_path);
		return FC_EXIT_OK;
	}
	if (d->o.cmd == FC_CMD_DETACH)
		return check_privileges() ? FC_EXIT_FAIL : cmd_detach(&d->o);
	d->ifindex = if_nametoindex(d->o.ifname);
	if (!d->ifindex) {
		fc_err("no such interface: %s", d->o.ifname);
		return FC_EXIT_FAIL;
	}
	if (link_check(d->o.ifname, false, &d->ext_bare_ip, why, sizeof(why))) {
		fc_err("%s", why);
		return FC_EXIT_FAIL;
	}
	if (d->ext_bare_ip && d->o.mode == FC_MODE_XDP) {
		fc_err("%s: %s", d->o.ifname, XDP_BARE_IP_REFUSED);
		return FC_EXIT_FAIL;
	}
	if (d->o.vlan.n) {
		char tags[64];

		if (d->ext_bare_ip) {
			fc_err("--vlan: %s has no link-layer header to carry VLAN tags", d->o.ifname);
			return FC_EXIT_FAIL;
		}
		fc_info("--vlan: %s's frames carry %s: taken off on the way in, put on on the way "
			"out; frames with other tags passed untouched", d->o.ifname,
			vlan_str(&d->o.vlan, tags, sizeof(tags)));
	}
	for (unsigned int i = 0; i < d->o.nr_hairpin_ifs + d->o.nr_internal_ifs; i++) {
		bool internal = i >= d->o.nr_hairpin_ifs;
		const char *opt = internal ? "--lan-if" : "--hairpin-if";
		const char *name = internal ? d->o.internal_ifs[i - d->o.nr_hairpin_ifs]
					    : d->o.hairpin_ifs[i];
		int idx = if_nametoindex(name);
		bool dup = false, bare;

		if (!idx) {
			fc_err("%s: no such interface: %s", opt, name);
			return FC_EXIT_FAIL;
		}
		if (link_check(name, !internal, &bare, why, sizeof(why))) {
			fc_err("%s: %s", opt, why);
			return FC_EXIT_FAIL;
		}
		if (bare && internal && d->o.mode == FC_MODE_XDP) {
			fc_err("%s: %s: %s", opt, name, XDP_BARE_IP_REFUSED);
			return FC_EXIT_FAIL;
		}
		if (idx == d->ifindex) {
			fc_err("%s: %s is the external interface", opt, name);
			return FC_EXIT_USAGE;
		}
		if (internal) {
			if (is_loopback(idx)) {
				fc_err("--lan-if: %s is the loopback interface (use --hairpin-if)",
				       name);
				return FC_EXIT_USAGE;
			}
			d->internal_ifindex[i - d->o.nr_hairpin_ifs] = idx;
		}
		/* Internal interfaces hairpin too (once each). */
		for (unsigned int j = 0; j < d->nr_hairpin; j++)
			dup |= d->hairpin_ifindex[j] == idx;
		if (dup)
			continue;
		if (d->nr_hairpin >= FC_MAX_IFACES) {
			fc_err("too many internal and hairpin interfaces (at most %d)", FC_MAX_IFACES);
			return FC_EXIT_USAGE;
		}
		d->hairpin_ifindex[d->nr_hairpin] = idx;
		d->hairpin_name[d->nr_hairpin++] = name;
		if (bare)
			d->l3_ifindex[d->nr_l3++] = idx;
	}
	err = d->o.nat44 || d->o.nat64 ? nl_get_ipv4_addr(d->ifindex, &ext) : 0;
	if (err == -ENOENT) {
		fc_err("interface %s has no IPv4 address to translate to", d->o.ifname);
		return FC_EXIT_FAIL;
	} else if (err) {
		fc_err("reading the addresses of %s: %s", d->o.ifname, strerror(-err));
		return FC_EXIT_FAIL;
	}
	err = d->o.nat66 ? nl_get_ipv6_addr(d->ifindex, &d->start_addr6) : 0;
	if (err == -ENOENT) {
		fc_err("--nat66: interface %s has no usable global IPv6 address to translate to "
		       "(link-local, temporary, deprecated and tentative ones are not used)",
		       d->o.ifname);
		return FC_EXIT_FAIL;
	} else if (err) {
		fc_err("reading the IPv6 addresses of %s: %s", d->o.ifname, strerror(-err));
		return FC_EXIT_FAIL;
	}
	if (check_privileges())
		return FC_EXIT_FAIL;

	/* A peer that goes away makes a write fail with EPIPE, never ends
	 * the daemon (the sockets are written with MSG_NOSIGNAL as well). */
	signal(SIGPIPE, SIG_IGN);
	/* Signals wait in the signalfd from here on, so one that arrives
	 * mid-attach is handled after the attach, by a clean detach. */
	d->sigfd = block_signals();
	if (d->sigfd < 0) {
		fc_err("signalfd: %s", strerror(errno));
		return FC_EXIT_FAIL;
	}
	d->metrics = NULL;
	if (d->o.metrics[0]) {
		d->metrics = metrics_open(d->o.metrics);
		if (!d->metrics)
			return FC_EXIT_FAIL;
	}
	/* UPnP IGD serves the NAT-PMP/PCP table: it needs the server, with
	 * or without sockets of its own. */
	if (d->o.pcp.nr_ifs || d->o.pcp.nr_upnp_ifs) {
		d->pcp = pcp_open(&d->o.pcp, &d->cfg);
		if (!d->pcp)
			return FC_EXIT_FAIL;
	}
	if (d->o.pcp.nr_upnp_ifs) {
		d->upnp = upnp_open(d->pcp, &d->o.pcp, &d->cfg);
		if (!d->upnp) {
			pcp_close(d->pcp);
			return FC_EXIT_FAIL;
		}
	}
	if (d->o.sync.peer[0]) {
		d->sync = sync_open(&d->o.sync, d->o.ifname);
		if (!d->sync) {
			upnp_close(d->upnp);
			pcp_close(d->pcp);
			return FC_EXIT_FAIL;
		}
	}
	/* Subscribed before start-up, so no address change is missed. */
	d->watch = nl_addr_watch_open();
	if (!d->watch)
		fc_warn("cannot follow address events (%s): checking once a second instead",
			strerror(errno));

	loader_setup_libbpf_log(getenv("FCNAT_LIBBPF_DEBUG") != NULL, d->o.verbose);
	if (start(d, &d->l, &d->pin, &d->o, d->ifindex, &d->cfg, ext.s_addr)) {
		nl_addr_watch_close(d->watch);
		upnp_close(d->upnp);
		pcp_close(d->pcp);
		sync_close(d->sync);
		return FC_EXIT_FAIL;
	}

	if (d->pin.found) {
		long released = pcp_release_leftovers(loader_bindings_fd(&d->l), gc_now_ns());

		count_state(&d->l, &nmap, &nsess);
		fc_info("took over the pinned state in %s: %lu mappings, %lu sessions",
			d->pin.dir, nmap, nsess);
		flush_stale_addresses(d);
		if (released > 0)
			fc_info("%ld NAT-PMP/PCP mapping(s) of the previous run left to their idle "
				"timeout (a new epoch tells their clients to renew)", released);
	}
	if (d->pcp) {
		pcp_attach_maps(d->pcp, loader_bindings_fd(&d->l), loader_sessions_fd(&d->l));
		if (d->o.pcp.nr_ifs)
			fc_info("NAT-PMP and PCP on UDP port 5351 of %u interface(s)",
				d->o.pcp.nr_ifs);
		if (d->upnp)
			fc_info("UPnP IGD on %u interface(s)", d->o.pcp.nr_upnp_ifs);
	}
	sync_attach_maps(d->sync, loader_bindings_fd(&d->l), loader_sessions_fd(&d->l), &d->cfg);
	if (options_events_on(&d->o)) {
		struct fc_event_log_opts eo = {
			.text = d->o.log_mappings,
			.text_per_second = 100,
			.syslog_path = d->o.syslog ? d->o.syslog_path : NULL,
			.ipfix = d->o.ipfix[0] ? d->o.ipfix : NULL,
			.ipfix_domain = d->o.ipfix_domain,
			.ipfix_template_s = d->o.ipfix_template_s,
		};

		memcpy(d->events_base, d->pin.meta.counters, sizeof(d->events_base));
		d->events = event_log_open(loader_events_fd(&d->l), &eo);
		if (!d->events)
			fc_warn("the event log is not available: no mapping is logged");
		else if (eo.ipfix)
			fc_info("IPFIX export to %s (UDP), observation domain %u", eo.ipfix,
				eo.ipfix_domain);
	}
	if (d->o.nat44 || d->o.nat64)
		inet_ntop(AF_INET, &ext, addr, sizeof(addr));
	if (d->o.nat66) {
		char a6[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &d->start_addr6, a6, sizeof(a6));
		snprintf(addr + strlen(addr), sizeof(addr) - strlen(addr), "%s%s",
			 d->o.nat44 || d->o.nat64 ? " and " : "", a6);
	}
	if (d->o.nat64) {
		char p6[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, d->o.nat64_prefix, p6, sizeof(p6));
		snprintf(nat64, sizeof(nat64), ", NAT64 for %s/%u", p6, d->o.nat64_prefix_len);
	}
	if (d->cfg.nr_pool || d->cfg.flags & (FC_CFG_SCOPE | FC_CFG_EXCLUDE | FC_CFG_SUBSCRIBERS))
		fc_info("carrier-grade NAT: %u pool address(es)%s, %u internal prefix(es), "
			"%u excluded, limits tcp %u udp %u icmp %u (0: none) per subscriber",
			d->cfg.nr_pool, d->cfg.nr_pool ? " (paired)" : "", d->o.cgnat.nr_internal,
			d->o.cgnat.nr_exclude, d->cfg.sub_limit[FC_SUB_TCP],
			d->cfg.sub_limit[FC_SUB_UDP], d->cfg.sub_limit[FC_SUB_ICMP]);
	if (d->metrics)
		fc_info("metrics on http://%s/metrics", d->o.metrics);
	ports_describe(&d->o, why, sizeof(why));
	fc_info("ready: %s on %s (ifindex %d)%s, external address %s, %u ports in %u range(s)%s, "
		"hairpin on %u interface(s), %s mode%s",
		d->o.nat44 && d->o.nat66 ? "NAT44 and NAT66" : d->o.nat66 ? "NAT66" : "NAT44",
		d->o.ifname, d->ifindex, nat64, addr,
		ports_total(d->o.port_ranges, d->o.nr_port_ranges), d->o.nr_port_ranges, why,
		d->nr_hairpin,
		d->o.mode == FC_MODE_XDP ? "xdp" : "tc",
		d->o.mode == FC_MODE_XDP ? (d->l.xdp[0].mode == XDP_FLAGS_DRV_MODE ? " (native)"
									     : " (generic)") : "");

	run(d);

	event_log_drain(d->events);
	save_event_counters(d);
	event_log_close(d->events);
	d->events = NULL;
	upnp_close(d->upnp);	/* byebye while the addresses are still there */
	pcp_close(d->pcp);
	sync_close(d->sync);
	nl_addr_watch_close(d->watch);
	metrics_close(d->metrics);
	if (!stats_read(loader_stats_fd(&d->l), counters)) {
		fc_info("counters:");
		stats_print(stderr, counters);
	}
	close(d->sigfd);
	if (d->o.keep_state) {
		/* The datapath carries on alone, XDP programs included: the next
		 * start replaces them in place (loader_xdp_attach). */
		loader_destroy(&d->l);
		pin_close(&d->pin);
		fc_info("keep-state: the datapath stays on %s with its state in %s "
			"(fcnat --detach -i %s removes it)", d->o.ifname, d->pin.dir, d->o.ifname);
		return FC_EXIT_OK;
	}
	loader_detach(&d->l);
	loader_destroy(&d->l);
	pin_remove(&d->pin);
	pin_close(&d->pin);
	fc_info("detached from %s", d->o.ifname);
	return FC_EXIT_OK;
}
