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

#include "daemon.h"
#include "offload.h"
#include "events.h"
#include "forward.h"
#include "gc.h"
#include "deterministic.h"
#include "loader.h"
#include "nat64_pool.h"
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
	if (daemon_write_l3_links(d, ifindex))
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
	if (nat64_pool_install(loader, o))
		goto fail_pinned;
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
	if (forwards_install(loader_bindings_fd(loader), o, ext) ||
	    forwards_install6(loader_bindings_fd(loader), o, &cfg->ext_addr6))
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
	if (err == -ENOENT && d->o.wait_for_address) {
		fc_info("interface %s has no IPv4 address yet: IPv4 from the inside to it is "
			"dropped until one arrives (--wait-for-address)", d->o.ifname);
	} else if (err == -ENOENT) {
		fc_err("interface %s has no IPv4 address to translate to (--wait-for-address "
		       "starts without one)", d->o.ifname);
		return FC_EXIT_FAIL;
	} else if (err) {
		fc_err("reading the addresses of %s: %s", d->o.ifname, strerror(-err));
		return FC_EXIT_FAIL;
	}
	err = d->o.nat66 ? nl_get_ipv6_addr(d->ifindex, &d->start_addr6) : 0;
	if (err == -ENOENT && d->o.wait_for_address) {
		fc_info("--nat66: interface %s has no usable global IPv6 address yet: IPv6 "
			"from the inside to it is dropped until one arrives (--wait-for-address)",
			d->o.ifname);
	} else if (err == -ENOENT) {
		fc_err("--nat66: interface %s has no usable global IPv6 address to translate to "
		       "(link-local, temporary, deprecated and tentative ones are not used; "
		       "--wait-for-address starts without one)", d->o.ifname);
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
		d->pcp = pcp_open(&d->o.pcp, &d->cfg, d->o.nat64 ? &d->o.nat64pool : NULL,
				  d->o.nat66);
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
	if (d->o.sync.nr_peers) {
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

		daemon_count_state(&d->l, &nmap, &nsess);
		fc_info("took over the pinned state in %s: %lu mappings, %lu sessions",
			d->pin.dir, nmap, nsess);
		daemon_flush_stale_addresses(d);
		if (released > 0)
			fc_info("%ld NAT-PMP/PCP mapping(s) of the previous run left to their idle "
				"timeout (a new epoch tells their clients to renew)", released);
	}
	if (d->pcp) {
		pcp_attach_maps(d->pcp, loader_bindings_fd(&d->l), loader_sessions_fd(&d->l),
				&(struct ext_addr_maps){ loader_pool_fd(&d->l),
							 loader_pool_index_fd(&d->l),
							 loader_subscribers_fd(&d->l) });
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
	if ((d->o.nat44 || d->o.nat64) && !ext.s_addr)
		snprintf(addr, sizeof(addr), "none yet");
	else if (d->o.nat44 || d->o.nat64)
		inet_ntop(AF_INET, &ext, addr, sizeof(addr));
	if (d->o.nat66) {
		char a6[INET6_ADDRSTRLEN] = "none yet";

		if (!IN6_IS_ADDR_UNSPECIFIED(&d->start_addr6))
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

	daemon_run(d);

	event_log_drain(d->events);
	daemon_save_event_counters(d);
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
