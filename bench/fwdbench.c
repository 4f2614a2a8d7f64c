// SPDX-License-Identifier: GPL-2.0
/*
 * Forwarding benchmark, side by side in one run: client ns -> gateway ns ->
 * server ns over veth, 64-byte UDP. The client sends with an XDP
 * live-frames generator (BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES),
 * the server counts in XDP; the gateway runs, in turn:
 *   bare XDP forwarding (FIB + MAC rewrite + redirect, no NAT): the ceiling
 *   bare TC forwarding (the same from TC ingress: the skb ceiling; last line)
 *   Linux forwarding, no NAT
 *   nftables masquerade
 *   fcnat --mode tc
 *   fcnat --mode xdp
 * for 1, 10 000 and 1 000 000 flows (source and destination ports varied by
 * the generator). For each: the first packet of every flow (timed: new
 * flows/s), a second pass so every flow exists, then SECONDS of established
 * flows. Prints packets/s with ratios to masquerade, to bare XDP and to the
 * same line at 1 flow, then ns/packet of fcnat's loaded outbound programs
 * (hit and miss) from BPF_PROG_TEST_RUN repeat runs. Bounded: each pass at
 * most NEW_SECONDS or SECONDS, in calls of at most BATCH_REPEAT frames
 * (about 2 minutes in all). Needs root; leaves nothing behind.
 *
 * Usage: fwdbench [FCNAT [NSETS]]; NSETS=1 runs the 1-flow set only.
 * FWDBENCH_PROFILE=CMD runs "CMD LINE NFLOWS &" at the start of each timed
 * phase (LINE 0..4 as above, 5: bare TC forwarding, the same as bare XDP
 * from the TC ingress hook: the ceiling of anything forwarding skbs), e.g. a
 * perf record of one second.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "bench_xdp.skel.h"
#include "pkt.h"

#define SECONDS 3.0		/* established flows, per line */
#define NEW_SECONDS 5.0		/* each pass of first packets, at most */
#define BATCH_REPEAT 200000
#define HIT_REPEAT 1000000
#define MISS_REPEAT 5000	/* 3 rounds: 15 000 new mappings, a quarter of the ports */
#define ROUNDS 3

/* fcnat's tables, sized for the 1M set and used for every set. */
#define FCNAT_SIZES "--max-mappings", "100000", "--max-sessions", "1100000", \
	"--ports", "1024-65535"

struct flowset {
	const char *name;
	__u32 nflows, endpoints;	/* internal endpoints; remotes = nflows / endpoints */
	__u16 sport, dport;		/* first source and destination ports */
};

/* Disjoint sets (masquerade's conntrack keeps entries between sets). */
static const struct flowset sets[] = {
	{ "1 flow", 1, 1, 25000, 7000 },
	{ "10 000 flows", 10000, 10000, 30000, 7000 },
	{ "1 000 000 flows", 1000000, 10000, 40000, 7000 },
};
#define NSETS (int)(sizeof(sets) / sizeof(sets[0]))

#define NLINES 6

static const char *const ns_names[3] = { "fcb-cli", "fcb-gw", "fcb-srv" };
static int ns_fd[3], home_fd;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void enter(int i)
{
	if (setns(i < 0 ? home_fd : ns_fd[i], CLONE_NEWNET))
		perror("setns");
}

static void teardown(void)
{
	for (int i = 0; i < 3; i++)
		sh("ip netns del %s 2>/dev/null", ns_names[i]);
}

static int topology(void)
{
	teardown();
	if (sh("set -e\n"
	       "for n in fcb-cli fcb-gw fcb-srv; do ip netns add $n; ip -n $n link set lo up; done\n"
	       "ip -n fcb-cli link add b0 type veth peer name b0 netns fcb-gw\n"
	       "ip -n fcb-gw link add b1 type veth peer name b1 netns fcb-srv\n"
	       "ip -n fcb-cli addr add 10.0.1.2/24 dev b0\n"
	       "ip -n fcb-gw addr add 10.0.1.1/24 dev b0\n"
	       "ip -n fcb-gw addr add 10.0.2.1/24 dev b1\n"
	       "ip -n fcb-srv addr add 10.0.2.2/24 dev b1\n"
	       "for n in fcb-cli fcb-gw; do ip -n $n link set b0 up; done\n"
	       "for n in fcb-gw fcb-srv; do ip -n $n link set b1 up; done\n"
	       "ip netns exec fcb-gw sysctl -qw net.ipv4.ip_forward=1\n"
	       /* The sink answers no ARP: the gateway knows the server's MAC. */
	       "ip -n fcb-gw neigh replace 10.0.2.2 lladdr $(ip netns exec fcb-srv cat "
	       "/sys/class/net/b1/address) dev b1 nud permanent\n"
	       "ip -n fcb-gw neigh replace 10.0.1.2 lladdr $(ip netns exec fcb-cli cat "
	       "/sys/class/net/b0/address) dev b0 nud permanent\n"
	       /* Redirected frames need NAPI on the receiving veth end. */
	       "ip netns exec fcb-gw ethtool -K b0 gro on >/dev/null\n"
	       "ip netns exec fcb-gw ethtool -K b1 gro on >/dev/null\n"))
		return -1;
	for (int i = 0; i < 3; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/run/netns/%s", ns_names[i]);
		ns_fd[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (ns_fd[i] < 0)
			return -1;
	}
	return 0;
}

/* After setns, /sys still shows the old namespace: ask the kernel. */
static int read_mac(int ns, const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = {};
	int fd, err;

	enter(ns);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	err = fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr);
	if (fd >= 0)
		close(fd);
	enter(-1);
	if (err)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

static __u64 sink_total(struct bench_xdp *skel)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 v[ncpu], sum = 0;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.sink_count), &zero, v))
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

/* Send npackets (at most max_s seconds) from the client; returns the
 * packets/s the server counted over that time. */
static double send_count(struct bench_xdp *skel, int cli_ifindex, __u64 npackets, double max_s)
{
	uint8_t frame[64];
	struct xdp_md ctx = { .data_end = sizeof(frame), .ingress_ifindex = cli_ifindex };
	__u64 before, sent = 0;
	double t0, t;

	memcpy(frame, skel->bss->gen_frame, sizeof(frame));
	before = sink_total(skel);
	t0 = t = now_s();
	while (sent < npackets && t - t0 < max_s) {
		__u64 n = npackets - sent < BATCH_REPEAT ? npackets - sent : BATCH_REPEAT;
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame),
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = n,
			    .batch_size = 64, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

		if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.bench_gen), &o)) {
			perror("live frames test run");
			break;
		}
		sent += n;
		t = now_s();
	}
	usleep(100000);	/* let the last frames arrive */
	return t > t0 ? (sink_total(skel) - before) / (t - t0) : 0;
}

/*
 * One gateway configuration, one flow set: the first packet of every flow
 * (timed: new flows/s, at most NEW_SECONDS), a second pass (so that flows
 * whose first packet was dropped exist too), then SECONDS of established
 * flows, cycling through the set. Returns the established packets/s.
 */
static double measure(struct bench_xdp *skel, int cli_ifindex, const struct flowset *fs,
		      int line, double *new_pps)
{
	const char *profile = getenv("FWDBENCH_PROFILE");
	double pps;

	skel->bss->gen_nflows = fs->nflows;
	skel->bss->gen_endpoints = fs->endpoints;
	skel->bss->gen_sport = fs->sport;
	skel->bss->gen_dport = fs->dport;
	skel->bss->gen_seq = 0;
	enter(0);
	*new_pps = send_count(skel, cli_ifindex, fs->nflows, NEW_SECONDS);
	send_count(skel, cli_ifindex, fs->nflows < 1000 ? 1000 : fs->nflows, NEW_SECONDS);
	usleep(200000);
	/* A profiler (for at most SECONDS - 1 s) over the timed phase: CMD LINE FLOWS */
	if (profile)
		sh("%s %d %u &", profile, line, fs->nflows);
	pps = send_count(skel, cli_ifindex, ~0ULL, SECONDS);
	enter(-1);
	return pps;
}

/* The newest loaded program of that name: the fcnat just started. */
static int prog_fd_by_name(const char *name)
{
	__u32 id = 0, best = 0;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		/* The kernel keeps the first BPF_OBJ_NAME_LEN - 1 characters. */
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    !strncmp(info.name, name, sizeof(info.name) - 1))
			best = id;
		close(fd);
	}
	return best ? bpf_prog_get_fd_by_id(best) : -1;
}

/*
 * ns/packet of fcnat's loaded outbound program (fc_xdp_int, or
 * fc_tc_int_ingress: the TC fast path; fc_tc_egress for an fcnat without it)
 * from BPF_PROG_TEST_RUN repeat runs in the gateway namespace, through a
 * wrapper that restores the frame and tail-calls it: [0] restore only,
 * [1] hit (the 1-flow mapping and session exist), [2] miss (a new source
 * port every run: each run makes a mapping and a session). Best of ROUNDS.
 */
/* The TC program timed: TC mode's fast path on the internal interface
 * (fcnat runs with --internal b0), or where an older fcnat translates. */
static const char *tc_target = "fc_tc_int_ingress";

#define SINGLE_RUNS 20001

static int cmp_u32(const void *a, const void *b)
{
	return *(const __u32 *)a < *(const __u32 *)b ? -1 : *(const __u32 *)a > *(const __u32 *)b;
}

/* Median of SINGLE_RUNS BPF_PROG_TEST_RUN calls of prog_fd, each on a fresh
 * copy of frame (a new source port each call if vary). */
static double single_median(int prog_fd, int ifindex, const uint8_t *frame, int vary,
			    __u16 *port, __u32 *verdict)
{
	static __u32 d[SINGLE_RUNS];

	for (int i = 0; i < SINGLE_RUNS; i++) {
		uint8_t in[64], out[128];
		struct __sk_buff sctx = { .ifindex = ifindex, .ingress_ifindex = ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = sizeof(in),
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1,
			    .ctx_in = &sctx, .ctx_size_in = sizeof(sctx));

		memcpy(in, frame, sizeof(in));
		if (vary) {
			__u16 p = htons((*port)++);

			memcpy(in + 34, &p, sizeof(p));
		}
		d[i] = bpf_prog_test_run_opts(prog_fd, &o) ? 0 : o.duration;
		*verdict = o.retval;
	}
	qsort(d, SINGLE_RUNS, sizeof(d[0]), cmp_u32);
	return d[SINGLE_RUNS / 2];
}

/*
 * The TC fast path sends the packet on with bpf_redirect: a tail call from
 * the restore wrapper into it fails on this kernel (the wrapper returns at
 * once), so it is timed differently: the median of SINGLE_RUNS single runs,
 * each on a fresh frame (miss: a new source port each), against the same for
 * the wrapper with no target (the per-run timer overhead is in both; the
 * wrapper's frame restore only in the baseline, so the net figures are low
 * by that much, about 10 ns).
 */
static void prog_ns_single(struct bench_xdp *skel, int tfd, int in_if, double ns[3],
			   __u32 verdict[3])
{
	int map = bpf_map__fd(skel->maps.run_tc_target);
	__u32 zero = 0;
	__u16 port = 3000;

	bpf_map_delete_elem(map, &zero);
	skel->bss->run_vary = 0;
	memcpy(skel->bss->run_frame, skel->bss->gen_frame, sizeof(skel->bss->run_frame));
	enter(1);
	ns[0] = single_median(bpf_program__fd(skel->progs.bench_run_tc), in_if,
			      skel->bss->gen_frame, 0, &port, &verdict[0]);
	ns[1] = single_median(tfd, in_if, skel->bss->gen_frame, 0, &port, &verdict[1]);
	ns[2] = single_median(tfd, in_if, skel->bss->gen_frame, 1, &port, &verdict[2]);
	enter(-1);
}

static void prog_ns(struct bench_xdp *skel, int xdp, int in_if, int out_if, double ns[3],
		    __u32 verdict[3])
{
	struct bpf_program *run = xdp ? skel->progs.bench_run_xdp : skel->progs.bench_run_tc;
	int map = bpf_map__fd(xdp ? skel->maps.run_xdp_target : skel->maps.run_tc_target);
	int tfd = prog_fd_by_name(xdp ? "fc_xdp_int" : "fc_tc_int_ingress");
	const char *target = xdp ? "fc_xdp_int" : "fc_tc_int_ingress";
	__u32 zero = 0;

	if (tfd < 0 && !xdp) {
		tc_target = target = "fc_tc_egress";
		tfd = prog_fd_by_name(target);
	}
	/* The internal interface's program runs on the packet's way in. */
	if (!xdp && strcmp(target, "fc_tc_egress"))
		out_if = in_if;

	memset(ns, 0, 3 * sizeof(*ns));
	if (tfd < 0) {
		fprintf(stderr, "no %s program loaded\n", target);
		return;
	}
	if (!xdp && strcmp(target, "fc_tc_egress")) {
		prog_ns_single(skel, tfd, in_if, ns, verdict);
		close(tfd);
		return;
	}
	memcpy(skel->bss->run_frame, skel->bss->gen_frame, sizeof(skel->bss->run_frame));
	skel->bss->run_sport = 2000;
	skel->bss->run_seq = 0;
	enter(1);
	for (int k = 0; k < 3; k++) {
		int repeat = k == 2 ? MISS_REPEAT : HIT_REPEAT;

		if (k == 1 && bpf_map_update_elem(map, &zero, &tfd, BPF_ANY))
			perror("tail call target");
		skel->bss->run_vary = k == 2;
		ns[k] = 1e18;
		for (int r = 0; r < ROUNDS; r++) {
			uint8_t in[64], out[128];
			struct xdp_md xctx = { .data_end = sizeof(in), .ingress_ifindex = in_if };
			struct __sk_buff sctx = { .ifindex = out_if, .ingress_ifindex = in_if };
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = sizeof(in),
				    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

			memcpy(in, skel->bss->run_frame, sizeof(in));
			if (xdp) {
				o.ctx_in = &xctx;
				o.ctx_size_in = sizeof(xctx);
			} else {
				o.ctx_in = &sctx;
				o.ctx_size_in = sizeof(sctx);
			}
			if (bpf_prog_test_run_opts(bpf_program__fd(run), &o)) {
				perror("test run");
				break;
			}
			verdict[k] = o.retval;
			if (o.duration < ns[k])
				ns[k] = o.duration;
		}
	}
	enter(-1);
	bpf_map_delete_elem(map, &zero);
	close(tfd);
}

static pid_t start_fcnat(const char *fcnat, const char *mode)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		execlp("ip", "ip", "netns", "exec", "fcb-gw", fcnat, "-i", "b1", "--mode", mode,
		       "--internal", "b0", "--bpffs", "/sys/fs/bpf/fcnat-bench", FCNAT_SIZES,
		       (char *)NULL);
		_exit(127);
	}
	sleep(2);
	return pid;
}

static void stop_fcnat(pid_t pid)
{
	int st;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	/* Fresh state for the next set. */
	sh("rm -rf /sys/fs/bpf/fcnat-bench; ip netns exec fcb-gw rm -rf /sys/fs/bpf/fcnat-bench");
}

int main(int argc, char **argv)
{
	const char *fcnat = argc > 1 ? argv[1] : "build/fcnat";
	int nsets = argc > 2 ? atoi(argv[2]) : NSETS;
	static const char *const names[NLINES] = {
		"bare XDP forwarding (no NAT)", "Linux forwarding (no NAT)",
		"nftables masquerade", "fcnat --mode tc", "fcnat --mode xdp",
		"bare TC forwarding (no NAT)",
	};
	struct pkt_spec s = { .proto = 17, .saddr = "10.0.1.2", .daddr = "10.0.2.2",
			      .sport = 25000, .dport = 7000, .payload_len = 22 };
	uint8_t gw_mac[6], cli_mac[6], buf[PKT_MAX];
	struct bench_xdp *skel;
	double pps[NSETS][NLINES] = {}, new_pps[NSETS][NLINES] = {}, ns[2][2][3] = {};
	__u32 verdict[2][2][3] = {};
	int cli_if, gw_in, gw_out, srv_if;
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo);

	if (nsets < 1 || nsets > NSETS)
		nsets = NSETS;
	home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (topology() || read_mac(1, "b0", gw_mac) || read_mac(0, "b0", cli_mac)) {
		fprintf(stderr, "cannot build the benchmark topology\n");
		teardown();
		return 1;
	}
	skel = bench_xdp__open_and_load();
	if (!skel) {
		fprintf(stderr, "cannot load the benchmark programs\n");
		teardown();
		return 1;
	}
	s.dmac = gw_mac;
	s.smac = cli_mac;
	if (pkt_build(&s, buf) != 64) {
		fprintf(stderr, "frame is not 64 bytes\n");
		teardown();
		return 1;
	}
	buf[40] = buf[41] = 0;	/* no UDP checksum: the generator changes ports */
	memcpy(skel->bss->gen_frame, buf, 64);
	enter(0);
	cli_if = if_nametoindex("b0");
	enter(1);
	gw_in = if_nametoindex("b0");
	gw_out = if_nametoindex("b1");
	enter(2);
	srv_if = if_nametoindex("b1");
	bpf_xdp_attach(srv_if, bpf_program__fd(skel->progs.bench_sink), XDP_FLAGS_DRV_MODE, &xo);
	enter(-1);
	skel->bss->gen_ifindex = cli_if;
	/* Masquerade gets a conntrack table for the 1M set if the kernel lets it. */
	sh("ip netns exec fcb-gw sysctl -qw net.netfilter.nf_conntrack_max=1100000 2>/dev/null");

	for (int f = 0; f < nsets; f++) {
		const struct flowset *fs = &sets[f];

		/* 1. bare XDP forwarding */
		enter(1);
		if (bpf_xdp_attach(gw_in, bpf_program__fd(skel->progs.bench_fwd),
				   XDP_FLAGS_DRV_MODE, &xo))
			perror("attach bench_fwd");
		enter(-1);
		pps[f][0] = measure(skel, cli_if, fs, 0, &new_pps[f][0]);
		enter(1);
		bpf_xdp_detach(gw_in, XDP_FLAGS_DRV_MODE, &xo);
		enter(-1);
		/* 1b. bare TC forwarding (printed last, LINE 5) */
		enter(1);
		{
			DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = gw_in,
					    .attach_point = BPF_TC_INGRESS);
			DECLARE_LIBBPF_OPTS(bpf_tc_opts, to,
					    .prog_fd = bpf_program__fd(skel->progs.bench_tc_fwd));

			bpf_tc_hook_create(&hook);
			if (bpf_tc_attach(&hook, &to))
				perror("attach bench_tc_fwd");
			enter(-1);
			pps[f][5] = measure(skel, cli_if, fs, 5, &new_pps[f][5]);
			enter(1);
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
		enter(-1);
		/* 2. Linux forwarding */
		pps[f][1] = measure(skel, cli_if, fs, 1, &new_pps[f][1]);
		/* 3. nftables masquerade */
		sh("ip netns exec fcb-gw nft 'add table ip fcb; add chain ip fcb post { type nat "
		   "hook postrouting priority 100; }; add rule ip fcb post oifname b1 masquerade'");
		pps[f][2] = measure(skel, cli_if, fs, 2, &new_pps[f][2]);
		sh("ip netns exec fcb-gw nft delete table ip fcb");
		/* 4, 5. fcnat; per-packet ns of its programs after the 1-flow set */
		for (int m = 0; m < 2; m++) {
			pid_t pid = start_fcnat(fcnat, m ? "xdp" : "tc");

			pps[f][3 + m] = measure(skel, cli_if, fs, 3 + m, &new_pps[f][3 + m]);
			if (f == 0 || f == NSETS - 1)
				prog_ns(skel, m, gw_in, gw_out, ns[f != 0][m], verdict[f != 0][m]);
			stop_fcnat(pid);
		}
	}

	for (int f = 0; f < nsets; f++) {
		printf("\n%-32s %12s %8s %8s %9s %14s\n", sets[f].name, "pps", "x masq", "x bare",
		       "x 1 flow", "new flows/s");
		for (int i = 0; i < NLINES; i++)
			printf("%-32s %12.0f %8.2f %8.2f %9.2f %14.0f\n", names[i], pps[f][i],
			       pps[f][2] > 0 ? pps[f][i] / pps[f][2] : 0,
			       pps[f][0] > 0 ? pps[f][i] / pps[f][0] : 0,
			       pps[0][i] > 0 ? pps[f][i] / pps[0][i] : 0,
			       sets[f].nflows > 1 ? new_pps[f][i] : 0);
	}
	printf("\nBPF_PROG_TEST_RUN, fcnat's loaded outbound programs, 64-byte UDP, ns/packet\n"
	       "(best of %d; restore = frame restore + tail call, subtracted; miss = a new\n"
	       "mapping and session each run)\n", ROUNDS);
	printf("%-34s %9s %9s %9s %9s\n", "", "restore", "hit", "miss", "verdicts");
	for (int t = 0; t < 2; t++)
		for (int m = 0; m < 2; m++) {
			char label[64];

			if (t && nsets < NSETS)
				continue;
			snprintf(label, sizeof(label), "%s, %s", m ? "fc_xdp_int" : tc_target,
				 t ? "1M sessions" : "1 session");
			printf("%-34s %9.1f %9.1f %9.1f %3u/%u/%u\n", label, ns[t][m][0],
			       ns[t][m][1] - ns[t][m][0], ns[t][m][2] - ns[t][m][0],
			       verdict[t][m][0], verdict[t][m][1], verdict[t][m][2]);
		}
	bench_xdp__destroy(skel);
	teardown();
	return 0;
}
