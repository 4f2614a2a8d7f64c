// SPDX-License-Identifier: GPL-2.0
/*
 * fcnat: parse options, load and attach the datapath, then sweep expired
 * state once a second until SIGINT/SIGTERM, and detach everything we added.
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

#include "gc.h"
#include "loader.h"
#include "log.h"
#include "netlink.h"
#include "options.h"
#include "stats.h"

#define SWEEP_INTERVAL_MS 1000

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

/* Follow the external address: a DHCP or PPPoE renewal may change it. */
static void refresh_ext_addr(struct fc_loader *l, const struct fc_options *o, int ifindex,
			     struct fc_config *cfg)
{
	struct in_addr a = {};
	char old[INET_ADDRSTRLEN], new[INET_ADDRSTRLEN];
	int err = nl_get_ipv4_addr(ifindex, &a);

	if (err && err != -ENOENT)
		return;
	if (a.s_addr == cfg->ext_addr4)
		return;
	inet_ntop(AF_INET, &cfg->ext_addr4, old, sizeof(old));
	inet_ntop(AF_INET, &a, new, sizeof(new));
	fc_info("external address of %s changed: %s -> %s", o->ifname,
		cfg->ext_addr4 ? old : "none", a.s_addr ? new : "none");
	cfg->ext_addr4 = a.s_addr;
	if (loader_write_config(l, cfg))
		fc_warn("cannot update the datapath configuration: %s", strerror(errno));
}

static int run(struct fc_loader *l, const struct fc_options *o, int ifindex,
	       struct fc_config *cfg, int sigfd)
{
	struct gc_state gc;
	struct pollfd pfd = { .fd = sigfd, .events = POLLIN };

	gc_init(&gc);
	for (;;) {
		struct signalfd_siginfo si;
		struct gc_result res;
		int n = poll(&pfd, 1, SWEEP_INTERVAL_MS);

		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				fc_info("SIGHUP: configuration reload is not supported yet; ignored");
				continue;
			}
			fc_info("%s received, detaching", strsignal(si.ssi_signo));
			break;
		}
		refresh_ext_addr(l, o, ifindex, cfg);
		if (gc_sweep(&gc, loader_bindings_fd(l), loader_sessions_fd(l), cfg,
			     gc_now_ns(), &res)) {
			fc_warn("expiry sweep failed: %s", strerror(errno));
			continue;
		}
		if (res.sessions_expired || res.mappings_expired || res.orphans_removed)
			fc_debug("sweep: %lu sessions and %lu mappings live; expired %lu sessions, "
				 "%lu mappings; %lu half-mappings removed",
				 res.sessions_live, res.mappings_live, res.sessions_expired,
				 res.mappings_expired, res.orphans_removed);
	}
	gc_free(&gc);
	return 0;
}

int main(int argc, char **argv)
{
	struct fc_options opts;
	struct fc_loader loader;
	struct fc_config cfg;
	struct in_addr ext = {};
	__u64 counters[FC_STAT_MAX];
	char addr[INET_ADDRSTRLEN];
	int ifindex, sigfd, err;
	int hairpin_ifindex[FC_MAX_IFACES];

	options_defaults(&opts);
	switch (options_parse(argc, argv, &opts)) {
	case FC_OPTS_EXIT_OK:
		return FC_EXIT_OK;
	case FC_OPTS_USAGE:
		return FC_EXIT_USAGE;
	case FC_OPTS_RUN:
		break;
	}
	if (opts.verbose)
		fc_log_level = FC_LOG_DEBUG;
	if (opts.nat66) {
		fc_err("--nat66: NAT66 is not yet supported by this version");
		return FC_EXIT_USAGE;
	}

	ifindex = if_nametoindex(opts.ifname);
	if (!ifindex) {
		fc_err("no such interface: %s", opts.ifname);
		return FC_EXIT_FAIL;
	}
	for (unsigned int i = 0; i < opts.nr_hairpin_ifs; i++) {
		hairpin_ifindex[i] = if_nametoindex(opts.hairpin_ifs[i]);
		if (!hairpin_ifindex[i]) {
			fc_err("--hairpin-if: no such interface: %s", opts.hairpin_ifs[i]);
			return FC_EXIT_FAIL;
		}
		if (hairpin_ifindex[i] == ifindex) {
			fc_err("--hairpin-if: %s is the external interface", opts.hairpin_ifs[i]);
			return FC_EXIT_USAGE;
		}
	}
	err = nl_get_ipv4_addr(ifindex, &ext);
	if (err == -ENOENT) {
		fc_err("interface %s has no IPv4 address to translate to", opts.ifname);
		return FC_EXIT_FAIL;
	} else if (err) {
		fc_err("reading the addresses of %s: %s", opts.ifname, strerror(-err));
		return FC_EXIT_FAIL;
	}
	if (check_privileges())
		return FC_EXIT_FAIL;

	/* Signals wait in the signalfd from here on, so one that arrives
	 * mid-attach is handled after the attach, by a clean detach. */
	sigfd = block_signals();
	if (sigfd < 0) {
		fc_err("signalfd: %s", strerror(errno));
		return FC_EXIT_FAIL;
	}

	loader_setup_libbpf_log(getenv("FCNAT_LIBBPF_DEBUG") != NULL);
	if (loader_load(&loader, &opts))
		return FC_EXIT_FAIL;
	loader_fill_config(&opts, ext.s_addr, &cfg);
	if (loader_write_config(&loader, &cfg)) {
		fc_err("writing the datapath configuration: %s", strerror(errno));
		loader_destroy(&loader);
		return FC_EXIT_FAIL;
	}
	if (loader_attach(&loader, ifindex)) {
		loader_destroy(&loader);
		return FC_EXIT_FAIL;
	}
	for (unsigned int i = 0; i < opts.nr_hairpin_ifs; i++) {
		err = loader_attach_hairpin(&loader, hairpin_ifindex[i], is_loopback(hairpin_ifindex[i]));
		if (err) {
			fc_err("attaching the hairpin program to %s: %s", opts.hairpin_ifs[i],
			       strerror(-err));
			loader_detach(&loader);
			loader_destroy(&loader);
			return FC_EXIT_FAIL;
		}
	}

	inet_ntop(AF_INET, &ext, addr, sizeof(addr));
	fc_info("ready: NAT44 on %s (ifindex %d), external address %s, %u ports in %u range(s), "
		"hairpin on %u interface(s)", opts.ifname, ifindex, addr, cfg.port_total,
		cfg.nr_port_ranges, opts.nr_hairpin_ifs);

	run(&loader, &opts, ifindex, &cfg, sigfd);

	if (!stats_read(loader_stats_fd(&loader), counters)) {
		fc_info("counters:");
		stats_print(stderr, counters);
	}
	loader_detach(&loader);
	loader_destroy(&loader);
	close(sigfd);
	fc_info("detached from %s", opts.ifname);
	return FC_EXIT_OK;
}
