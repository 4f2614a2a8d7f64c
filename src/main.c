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
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "gc.h"
#include "loader.h"
#include "log.h"
#include "netlink.h"
#include "options.h"
#include "pin.h"
#include "show.h"
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

/* fcnat --detach -i IF: remove what a --keep-state instance left. */
static int cmd_detach(const struct fc_options *o)
{
	struct fc_pin pin;
	int removed;

	if (pin_open(&pin, o->bpffs, o->ifname, true))
		return FC_EXIT_FAIL;
	if (!pin.found) {
		pin_remove(&pin);
		pin_close(&pin);
		fc_info("nothing to detach: no kept fcnat state for %s in %s", o->ifname, o->bpffs);
		return FC_EXIT_OK;
	}
	removed = loader_detach_kept(&pin.meta);
	pin_remove(&pin);
	pin_close(&pin);
	fc_info("detached from %s: %d filter(s) and the pinned state removed", o->ifname, removed);
	return FC_EXIT_OK;
}

/* Load (reusing pinned state), configure and attach; on failure leave the
 * system as it was. */
static int start(struct fc_loader *loader, struct fc_pin *pin, const struct fc_options *o,
		 int ifindex, struct fc_config *cfg, __be32 ext)
{
	if (pin_open(pin, o->bpffs, o->ifname, false))
		return -1;
	if (loader_open(loader, o))
		goto fail_pin;
	if (pin_reuse_maps(pin, loader_object(loader)) || loader_load_opened(loader))
		goto fail_loader;
	if (pin_commit(pin, loader_object(loader)))
		goto fail_loader;
	loader_fill_config(o, ext, cfg);
	if (loader_write_config(loader, cfg)) {
		fc_err("writing the datapath configuration: %s", strerror(errno));
		goto fail_pinned;
	}
	if (loader_attach(loader, ifindex, pin->found ? &pin->meta : NULL))
		goto fail_pinned;
	loader_record_attach(loader, &pin->meta);
	if (pin_save_meta(pin))
		fc_warn("recording the filters in %s: %s", pin->dir, strerror(errno));
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
	struct fc_options opts;
	struct fc_loader loader;
	struct fc_pin pin;
	struct fc_config cfg;
	struct in_addr ext = {};
	__u64 counters[FC_STAT_MAX];
	char addr[INET_ADDRSTRLEN];
	unsigned long nmap, nsess;
	int ifindex, sigfd, err;

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
	if (opts.cmd == FC_CMD_SHOW_MAPPINGS || opts.cmd == FC_CMD_SHOW_SESSIONS ||
	    opts.cmd == FC_CMD_STATS) {
		return show_main(&opts);
	}
	if (opts.cmd == FC_CMD_DETACH)
		return check_privileges() ? FC_EXIT_FAIL : cmd_detach(&opts);
	if (opts.nat66) {
		fc_err("--nat66: NAT66 is not yet supported by this version");
		return FC_EXIT_USAGE;
	}
	if (opts.nr_hairpin_ifs)
		fc_warn("--hairpin-if: hairpinning is not yet supported by this version; ignored");

	ifindex = if_nametoindex(opts.ifname);
	if (!ifindex) {
		fc_err("no such interface: %s", opts.ifname);
		return FC_EXIT_FAIL;
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
	if (start(&loader, &pin, &opts, ifindex, &cfg, ext.s_addr))
		return FC_EXIT_FAIL;

	if (pin.found) {
		count_state(&loader, &nmap, &nsess);
		fc_info("took over the pinned state in %s: %lu mappings, %lu sessions",
			pin.dir, nmap, nsess);
	}
	inet_ntop(AF_INET, &ext, addr, sizeof(addr));
	fc_info("ready: NAT44 on %s (ifindex %d), external address %s, %u ports in %u range(s)",
		opts.ifname, ifindex, addr, cfg.port_total, cfg.nr_port_ranges);

	run(&loader, &opts, ifindex, &cfg, sigfd);

	if (!stats_read(loader_stats_fd(&loader), counters)) {
		fc_info("counters:");
		stats_print(stderr, counters);
	}
	if (opts.keep_state) {
		loader_destroy(&loader);
		pin_close(&pin);
		close(sigfd);
		fc_info("keep-state: the datapath stays on %s with its state in %s "
			"(fcnat --detach -i %s removes it)", opts.ifname, pin.dir, opts.ifname);
		return FC_EXIT_OK;
	}
	loader_detach(&loader);
	loader_destroy(&loader);
	pin_remove(&pin);
	pin_close(&pin);
	close(sigfd);
	fc_info("detached from %s", opts.ifname);
	return FC_EXIT_OK;
}
