// SPDX-License-Identifier: GPL-2.0
/*
 * `fcnat offload --mode tc -i IF ...`: conntrack flow offload. The firewall
 * (nftables, iptables) and its NAT decide; this follows conntrack over
 * ctnetlink (a dump at start, then events) and puts each established,
 * forwarded flow into the TC datapath on the given interfaces' ingress
 * (bpf/lib/offload.h), which then forwards its packets past the stack.
 * Once a second the conntrack entries of flows that carried packets get
 * their timeouts back (offload_flows.c). doc/design/offload.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include <fcnat/offload.h>
#include "bpf_profile.h"
#include "ct_msg.h"
#include "ct_sock.h"
#include "fcnat_offload.skel.h"
#include "fcnat_offload_xdp.skel.h"
#include "loader.h"
#include "netlink.h"
#include "log.h"
#include "offload.h"
#include "offload_flows.h"
#include "offload_pin.h"
#include "offload_nh.h"
#include "offload_opts.h"
#include "metrics.h"
#include "vlan.h"

#define FO_BUF		(256 * 1024)
/* What one send() to ctnetlink carries: under the socket's send buffer
 * (net.core.wmem_default, 208 KiB), or the kernel refuses it whole
 * (EMSGSIZE). */
#define FO_SEND		(64 * 1024)

static const char *const stat_names[FO_STAT_MAX] = {
	[FO_STAT_FORWARDED] = "forwarded",
	[FO_STAT_PASS_NOT_OFFLOADED] = "pass_not_offloaded",
	[FO_STAT_PASS_NOT_IP] = "pass_not_ip",
	[FO_STAT_PASS_OTHER_PROTO] = "pass_other_proto",
	[FO_STAT_PASS_FRAGMENT] = "pass_fragment",
	[FO_STAT_PASS_IP_OPTIONS] = "pass_ip_options",
	[FO_STAT_PASS_MALFORMED] = "pass_malformed",
	[FO_STAT_PASS_TTL] = "pass_ttl",
	[FO_STAT_PASS_FIN_RST] = "pass_fin_rst",
	[FO_STAT_PASS_NO_NEIGH] = "pass_no_neigh",
	[FO_STAT_PASS_MTU] = "pass_mtu",
	[FO_STAT_PASS_GSO_MTU] = "pass_gso_mtu",
	[FO_STAT_PASS_NO_ROUTE] = "pass_no_route",
	[FO_STAT_PASS_LOCAL] = "pass_local",
	[FO_STAT_PASS_MARK] = "pass_mark",
	[FO_STAT_PASS_OTHER_IF] = "pass_other_if",
	[FO_STAT_FORWARDED6] = "forwarded_ipv6",
	[FO_STAT_NH_CACHED] = "forwarded_nh_cached",
};

const char *offload_stat_name(int stat)
{
	return stat >= 0 && stat < FO_STAT_MAX ? stat_names[stat] : "?";
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

/* A conntrack timeout sysctl of this network namespace, or def. */
static __u32 ct_sysctl(const char *name, __u32 def)
{
	char path[128];
	unsigned int v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/netfilter/%s", name);
	f = fopen(path, "r");
	if (!f)
		return def;
	if (fscanf(f, "%u", &v) != 1)
		v = def;
	fclose(f);
	return v;
}

static int apply_cb(const struct ct_entry *e, void *arg)
{
	fo_table_apply(arg, e);
	return 0;
}

/* The flows of a recv()'s worth written in a few batches. */
static void batch_hook(void *arg, bool after)
{
	if (after)
		fo_table_flush(arg);
	else
		fo_table_hold(arg);
}

/* Dump the table into t (marking, then sweeping what it no longer has), on
 * a socket of its own: the update socket's queue may hold errors about
 * entries gone meanwhile, which are no answer to the dump. */
static int ct_dump(struct fo_table *t, char *buf, __u32 *seq)
{
	int r;

	fo_table_mark(t);
	r = ct_sock_dump(buf, FO_BUF, ++*seq, apply_cb, batch_hook, t);
	if (r < 0)
		return r;
	fo_table_sweep(t);
	return 0;
}

/* Send queued updates; errors come back on the socket (drained, an
 * entry gone meanwhile is no news). */
static void ct_send(int fd, const char *buf, size_t len)
{
	if (len && send(fd, buf, len, 0) < 0)
		fc_debug("offload: conntrack update: %s", strerror(errno));
}

static int ignore_cb(const struct ct_entry *e, void *arg)
{
	return 0;
}

static void ct_drain_errors(int fd, char *buf)
{
	ssize_t len;

	while ((len = recv(fd, buf, FO_BUF, MSG_DONTWAIT)) > 0) {
		int r = ct_parse_batch(buf, len, ignore_cb, NULL);

		if (r < 0 && r != -ENOENT)
			fc_debug("offload: conntrack update refused: %s", strerror(-r));
	}
}

/* The updates owed to just offloaded flows, as many sends as they need. */
static void ct_send_pending(int fd, struct fo_table *t, char *out, char *buf, __u32 *seq)
{
	size_t n;

	while ((n = fo_table_pending(t, out, FO_SEND, seq)) > 0) {
		ct_send(fd, out, n);
		ct_drain_errors(fd, buf);
	}
}

static void write_stats(const struct fo_opts *o, int stats_fd, const struct fo_table *t)
{
	static unsigned long seq;	/* tells a reader one write from the next */
	int ncpu = libbpf_num_possible_cpus();
	__u64 fp_pkts, fp_bytes;
	char tmp[4096 + 16];
	FILE *f;

	if (!o->stats_file || ncpu <= 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", o->stats_file);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fo_table_fast_path(t, &fp_pkts, &fp_bytes);
	fprintf(f, "{\"seq\": %lu, \"offloaded_flows\": %lu, \"handed_back\": %lu, "
		"\"zone_clashes\": %lu, \"fast_path\": {\"packets\": %llu, \"bytes\": %llu}, "
		"\"counters\": {", ++seq, fo_table_offloaded(t), fo_table_handed_back(t),
		fo_table_zone_clashes(t), (unsigned long long)fp_pkts,
		(unsigned long long)fp_bytes);
	for (__u32 i = 0; i < FO_STAT_MAX; i++) {
		__u64 v[ncpu], sum = 0;

		if (!bpf_map_lookup_elem(stats_fd, &i, v))
			for (int c = 0; c < ncpu; c++)
				sum += v[c];
		fprintf(f, "%s\"%s\": %llu", i ? ", " : "", stat_names[i], (unsigned long long)sum);
	}
	fprintf(f, "}}\n");
	if (fclose(f) == 0)
		rename(tmp, o->stats_file);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Read events until the next tick; false on a fatal error. */
/* What the loop serves besides conntrack's events. */
struct fo_side {
	struct metrics_server *m;	/* --metrics, or NULL */
	int nh_fd;			/* route/neighbour changes (offload_nh.h) */
	volatile __u32 *gen[2];		/* fo_nh_gen of the TC and XDP objects */
};

static void nh_check(const struct fo_side *side)
{
	if (!fo_nh_changed(side->nh_fd))
		return;
	/* Every flow's next hop is looked up again on its next packet. */
	for (int i = 0; i < 2; i++)
		if (side->gen[i])
			*side->gen[i] = fo_nh_next(*side->gen[i]);
}

/* Drop what the event socket holds: about a receive buffer's worth (8 MiB,
 * nl_open), so that a storm still going on cannot hold the dump off. */
static void ev_discard(int fd, char *buf)
{
	size_t gone = 0;

	while (gone < (8u << 20)) {
		ssize_t n = recv(fd, buf, FO_BUF, MSG_DONTWAIT);

		if (n > 0)
			gone += n;
		else if (n < 0 && (errno == ENOBUFS || errno == EINTR))
			continue;
		else
			break;
	}
}

static bool events(int ev_fd, struct fo_table *t, char *buf, __u32 *seq, int wait_ms,
		   __u64 deadline, const struct fo_side *side)
{
	struct metrics_server *m = side->m;
	struct pollfd p[3] = { { .fd = ev_fd, .events = POLLIN },
			       { .fd = side->nh_fd, .events = POLLIN },
			       { .fd = m ? metrics_poll_fd(m) : -1, .events = POLLIN } };
	int mwait = m ? metrics_timeout_ms(m) : -1;

	if (mwait >= 0 && mwait < wait_ms)
		wait_ms = mwait;
	if (poll(p, 3, wait_ms) < 0)
		return true;
	if (p[1].revents)
		nh_check(side);
	/* The scrape endpoint: as often as it asks, or after a scrape. */
	if (m)
		metrics_run(m);
	if (!(p[0].revents & POLLIN))
		return true;
	for (;;) {
		ssize_t len = recv(ev_fd, buf, FO_BUF, MSG_DONTWAIT);
		int r;

		if (len < 0 && errno == ENOBUFS) {
			/* Events were lost: what conntrack holds now is the truth.
			 * What is still queued is older than the dump (the
			 * events after it were the ones lost): applied after
			 * it, a stale NEW would undo an offload the dump made,
			 * or make one for an entry gone since. Dropped. */
			fc_warn("offload: conntrack events lost: reading the table again");
			ev_discard(ev_fd, buf);
			r = ct_dump(t, buf, seq);
			if (r < 0)
				fc_err("offload: conntrack dump: %s", strerror(-r));
			return r >= 0;
		}
		if (len <= 0)
			return len == 0 || errno == EAGAIN || errno == EINTR;
		fo_table_hold(t);
		r = ct_parse_batch(buf, len, apply_cb, t);
		fo_table_flush(t);
		if (r < 0)
			fc_warn("offload: a malformed conntrack event batch (%s)", strerror(-r));
		/* A storm of events (a million new flows) must not hold off
		 * the refresh round: the rest waits in the socket. */
		if (now_ns() >= deadline)
			return true;
	}
}

static int run(const struct fo_opts *o, struct fcnat_offload *skel, struct fo_table *t,
	       const struct fo_side *side)
{
	unsigned int groups = 1u << (NFNLGRP_CONNTRACK_NEW - 1) |
			      1u << (NFNLGRP_CONNTRACK_UPDATE - 1) |
			      1u << (NFNLGRP_CONNTRACK_DESTROY - 1);
	int ev_fd = -1, cmd_fd = -1, stats_fd = bpf_map__fd(skel->maps.fo_stats), ret = 1, r;
	char *buf = malloc(FO_BUF), *out = malloc(FO_BUF);
	__u64 next_tick;
	__u32 seq = time(NULL);

	if (!buf || !out)
		goto out;
	/* Events first, then the dump: nothing between them is missed (an
	 * entry in both is applied twice, to the same result). */
	ev_fd = ct_sock_open(groups);
	cmd_fd = ct_sock_open(0);
	if (ev_fd < 0 || cmd_fd < 0) {
		fc_err("offload: ctnetlink: %s (is nf_conntrack_netlink loaded?)", strerror(errno));
		goto out;
	}
	if (ct_sysctl("nf_conntrack_events", 1) == 0)
		fc_warn("offload: net.netfilter.nf_conntrack_events is 0: no flow is learnt after "
			"start, and none is stopped when conntrack drops it; set it to 1");
	r = ct_dump(t, buf, &seq);
	if (r < 0) {
		fc_err("offload: conntrack dump: %s", strerror(-r));
		goto out;
	}
	/* Flows conntrack dropped while no daemon followed it leave now. */
	if (o->took_over) {
		unsigned long gone = fo_table_prune(t);

		if (gone)
			fc_info("offload: %lu flow directions conntrack no longer has removed", gone);
	}
	ct_send_pending(cmd_fd, t, out, buf, &seq);
	fc_info("ready: offloading conntrack flows; %lu offloaded now", fo_table_offloaded(t));
	write_stats(o, stats_fd, t);
	next_tick = now_ns() + 1000000000ull;
	while (!stop) {
		__u64 now = now_ns();
		int wait_ms = now >= next_tick ? 0 : (next_tick - now) / 1000000 + 1;

		if (!events(ev_fd, t, buf, &seq, wait_ms, next_tick, side))
			goto out;
		ct_send_pending(cmd_fd, t, out, buf, &seq);
		ct_drain_errors(cmd_fd, buf);
		now = now_ns();
		if (now >= next_tick) {
			/* As many sends as the round's updates need. */
			do {
				ct_send(cmd_fd, out, fo_table_tick(t, now, out, FO_SEND, &seq));
				ct_drain_errors(cmd_fd, buf);
			} while (fo_table_ticking(t));
			write_stats(o, stats_fd, t);
			next_tick = now + 1000000000ull;
		}
	}
	ret = 0;
out:
	if (ev_fd >= 0)
		close(ev_fd);
	if (cmd_fd >= 0)
		close(cmd_fd);
	free(buf);
	free(out);
	return ret;
}

/*
 * An -i that is a VLAN sub-interface (wan0.7): a frame the FIB sends there
 * leaves from its real device with the tag in the frame (ctx_l2_out of
 * ctx_xdp.h), since a VLAN device takes no XDP frames. Its own frames are
 * read there untagged (generic XDP on the VLAN device). Returns the real
 * device, for the devmap, 0 if it is none, (__u32)-1 if there are too many.
 */
static __u32 fo_xdp_vlan(struct fcnat_offload_xdp *x, int ifindex, const char *name)
{
	const int max = sizeof(x->bss->fc_xdp_vlan_dev) / sizeof(x->bss->fc_xdp_vlan_dev[0]);
	struct nl_vlan_link v;
	int k = 0;

	if (nl_get_vlan(ifindex, &v) || !v.vlan || !v.lower || !v.id)
		return 0;
	while (k < max && x->bss->fc_xdp_vlan_dev[k])
		k++;
	if (k == max) {
		/* Its frames would reach a device that takes none from XDP. */
		fc_err("offload: %s: XDP mode takes at most %d VLAN interfaces", name, max);
		return (__u32)-1;
	}
	x->bss->fc_xdp_vlan_tag[k] = (__u32)(v.proto == 0x88a8 ? 0x88a8 : 0x8100) << 16 | v.id;
	x->bss->fc_xdp_vlan_lower[k] = v.lower;
	x->bss->fc_xdp_vlan_dev[k] = ifindex;
	return v.lower;
}

/* --vlan into an object's initial .bss (ctx_xdp.h / vlan_tc.h read it). */
static void vlan_tags_write(const struct fo_opts *o, const struct fo_iface *ifs,
			    volatile __u32 *tags, volatile __u32 *ifindex)
{
	for (unsigned int i = 0; i < FC_VLAN_TAGS; i++)
		tags[i] = i < o->vlan.n ? o->vlan.tag[i] : 0;
	*ifindex = o->vlan.n ? (__u32)ifs[o->vlan_if].ifindex : 0;
}

/* The XDP object over the TC object's maps (one state, whichever hook),
 * with every -i interface in its devmap: frames leave through those only. */
static int load_xdp(const struct fo_opts *o, const struct fo_iface *ifs,
		    struct fcnat_offload *skel, struct fcnat_offload_xdp **out)
{
	struct fcnat_offload_xdp *x = fcnat_offload_xdp__open();
	int tx;

	*out = x;
	if (!x) {
		fc_err("offload: opening the XDP datapath: %s", strerror(errno));
		return -1;
	}
	if (bpf_profile_apply(x->obj, &x->rodata->fc_no_callbacks, "offload XDP"))
		return -1;
	for (int i = 0; i < o->nr_ifs; i++)
		x->rodata->fc_xdp_ifs[i] = ifs[i].ifindex;
	vlan_tags_write(o, ifs, x->bss->fc_vlan_tags, &x->bss->fc_vlan_ifindex);
	if (bpf_map__reuse_fd(x->maps.fo_flows4, bpf_map__fd(skel->maps.fo_flows4)) ||
	    bpf_map__reuse_fd(x->maps.fo_flows6, bpf_map__fd(skel->maps.fo_flows6)) ||
	    bpf_map__reuse_fd(x->maps.fo_stats, bpf_map__fd(skel->maps.fo_stats)) ||
	    fcnat_offload_xdp__load(x)) {
		fc_err("offload: loading the XDP datapath: %s", strerror(errno));
		return -1;
	}
	tx = bpf_map__fd(x->maps.fc_xdp_tx);
	for (int i = 0; i < o->nr_ifs; i++) {
		__u32 idx = ifs[i].ifindex, lower = fo_xdp_vlan(x, ifs[i].ifindex, o->ifs[i]);

		if (lower == (__u32)-1)
			return -1;
		if (bpf_map_update_elem(tx, &idx, &idx, BPF_ANY) ||
		    (lower && bpf_map_update_elem(tx, &lower, &lower, BPF_ANY))) {
			fc_err("offload: %s cannot send XDP frames: %s", o->ifs[i], strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* User space's table of flows: a chain or so per flow at --max-flows, as
 * the refresh looks each direction up once a second. */
static __u32 fo_buckets(__u32 max_flows)
{
	__u32 n = 65536;

	while (n < max_flows && n < (1u << 24))
		n <<= 1;
	return n;
}

/* Unwind what a start made; a state taken over stays as it was found
 * (its datapath keeps forwarding, as before the start). */
static void stop_all(const struct fo_opts *o, struct fo_iface *ifs, int attached,
		     struct fc_pin *pin, struct fo_table *t, bool keep)
{
	if (keep) {
		/* --keep-state, or a start that failed on a kept state: the
		 * programs stay attached and the flows in the pinned maps. */
		fo_table_release(t);
		pin_close(pin);
		return;
	}
	/* Detached before the flows go: no packet meets a half-emptied map. */
	while (attached > 0)
		fo_detach(&ifs[--attached]);
	fo_table_free(t);
	pin_remove(pin);
	pin_close(pin);
}

int offload_main(int argc, char **argv)
{
	struct fo_iface ifs[FO_IFS_MAX] = {};
	struct fcnat_offload *skel = NULL;
	struct fcnat_offload_xdp *xskel = NULL;
	struct fo_table *t = NULL;
	struct fc_meta kept = {};
	struct fc_pin pin = { .dirfd = -1, .meta_fd = -1 };
	struct fo_opts o = {};
	struct metrics_server *metrics = NULL;
	struct fo_metrics_ctx mctx;
	struct fo_side side = { .nh_fd = -1 };
	int ret = 1, attached = 0, r;
	__u32 map_id, stats_id;

	r = offload_parse_opts(argc, argv, &o);
	if (r)
		return r > 0 ? 0 : 2;
	if (o.verbose)
		fc_log_level = FC_LOG_DEBUG;
	if (o.detach)
		return fo_pin_detach(o.bpffs);
	for (int i = 0; i < o.nr_ifs; i++) {
		ifs[i].ifindex = if_nametoindex(o.ifs[i]);
		if (!ifs[i].ifindex) {
			fc_err("offload: no such interface: %s", o.ifs[i]);
			return 1;
		}
	}
	loader_setup_libbpf_log(o.verbose, false);
	/* The endpoint first: a port in use fails the start before anything
	 * is touched. */
	if (o.metrics && !(metrics = metrics_open(o.metrics)))
		return 1;
	if (fo_pin_open(&pin, o.bpffs)) {
		metrics_close(metrics);
		return 1;
	}
	kept = pin.meta;
	skel = fcnat_offload__open();
	if (!skel) {
		fc_err("offload: opening the datapath: %s", strerror(errno));
		goto out;
	}
	if (bpf_profile_apply(skel->obj, &skel->rodata->fc_no_callbacks, "offload"))
		goto out;
	/* Two directions per flow. */
	bpf_map__set_max_entries(skel->maps.fo_flows4, o.max_flows * 2);
	bpf_map__set_max_entries(skel->maps.fo_flows6, o.max_flows * 2);
	for (int i = 0; i < o.nr_ifs; i++)
		skel->rodata->fc_tc_fast_ifs[i] = ifs[i].ifindex;
	vlan_tags_write(&o, ifs, skel->bss->fc_vlan_tags, &skel->bss->fc_vlan_ifindex);
	/* A kept instance's maps (kill -9, --keep-state): its flows go on. */
	if (pin_reuse_maps(&pin, skel->obj) || fcnat_offload__load(skel)) {
		fc_err("offload: loading the datapath: %s", strerror(errno));
		goto out;
	}
	if (o.xdp && load_xdp(&o, ifs, skel, &xskel))
		goto out;
	if (pin_commit(&pin, skel->obj))
		goto out;
	/* The next hop cache: changes followed from before it is turned on;
	 * a generation of its own, so no hop a kept flow cached in an
	 * earlier run is trusted. */
	side.m = metrics;
	side.nh_fd = fo_nh_open();
	if (side.nh_fd < 0)
		fc_warn("offload: rtnetlink: %s: no next hop cache", strerror(-side.nh_fd));
	else {
		__u32 gen = fo_nh_next((__u32)now_ns());

		side.gen[0] = &skel->bss->fo_nh_gen;
		if (xskel)
			side.gen[1] = &xskel->bss->fo_nh_gen;
		for (int i = 0; i < 2; i++)
			if (side.gen[i])
				*side.gen[i] = gen;
	}
	if (pin.found)
		fc_info("offload: taking over the kept state in %s", pin.dir);
	map_id = fo_map_id(bpf_map__fd(skel->maps.fo_flows4));
	stats_id = fo_map_id(bpf_map__fd(skel->maps.fo_stats));
	t = fo_table_new(&(struct fo_table_cfg){
		.map_fd = bpf_map__fd(skel->maps.fo_flows4),
		.map6_fd = bpf_map__fd(skel->maps.fo_flows6),
		.max_flows = o.max_flows,
		.tcp_timeout = ct_sysctl("nf_conntrack_tcp_timeout_established", 432000),
		.udp_timeout = ct_sysctl("nf_conntrack_udp_timeout_stream", 120),
		.mark_filter = o.mark_filter,
		.mark_value = o.mark_value,
		.mark_mask = o.mark_mask,
		.zone = o.zone,
		.buckets = fo_buckets(o.max_flows),
	});
	if (!t)
		goto out;
	for (; attached < o.nr_ifs; attached++) {
		r = o.xdp ? fo_attach_xdp(&ifs[attached], o.ifs[attached],
					  bpf_program__fd(xskel->progs.fo_xdp), o.xdp_mode, map_id)
			  : fo_attach_tc(&ifs[attached], bpf_program__fd(skel->progs.fo_tc_ingress),
					 map_id, pin.found ? &kept : NULL);
		/* --vlan: the link's egress tags what leaves, and behind XDP
		 * TC takes the tags off what XDP leaves to the stack. */
		if (!r && o.vlan.n && attached == o.vlan_if) {
			r = fo_attach_vlan(&ifs[attached], bpf_program__fd(skel->progs.fo_tc_egress),
					   bpf_program__fd(skel->progs.fo_tc_vlan_in), stats_id,
					   pin.found ? &kept : NULL);
			/* The ingress part just attached goes too (a kept
			 * one it replaced stays: the start leaves it serving). */
			if (r && !ifs[attached].took_over)
				fo_detach(&ifs[attached]);
		}
		if (r) {
			fc_err("offload: attaching to %s: %s%s", o.ifs[attached], strerror(-r),
			       r == -EEXIST || r == -EBUSY ? " (another program is there)" : "");
			goto out;
		}
	}
	if (pin.found)
		fo_detach_stale(&kept, ifs, o.nr_ifs, map_id, stats_id);
	fo_meta_record(&pin.meta, ifs, o.nr_ifs);
	pin_save_meta(&pin);
	o.took_over = pin.found;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fc_info("offload: %s datapath on %d interface(s)", o.xdp ? "XDP" : "TC", o.nr_ifs);
	if (o.vlan.n) {
		char v[64];

		fc_info("offload: %s carries %s tags: taken off what arrives, put on what leaves",
			o.ifs[o.vlan_if], vlan_str(&o.vlan, v, sizeof(v)));
	}
	if (o.metrics) {
		mctx = (struct fo_metrics_ctx){ .stats_fd = bpf_map__fd(skel->maps.fo_stats),
						.table = t };
		metrics_set_source(metrics, &(struct metrics_source){
			.ifname = "offload", .extra = offload_metrics, .extra_ctx = &mctx });
	}
	ret = run(&o, skel, t, &side);
out:
	metrics_close(metrics);
	if (side.nh_fd >= 0)
		close(side.nh_fd);
	if (t && o.stats_file)
		write_stats(&o, bpf_map__fd(skel->maps.fo_stats), t);
	/* A failed start on a kept state leaves it serving, as it found it. */
	stop_all(&o, ifs, attached, &pin, t, o.keep_state || (ret && pin.found));
	fcnat_offload_xdp__destroy(xskel);
	fcnat_offload__destroy(skel);
	return ret;
}
