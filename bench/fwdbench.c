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
 * the generator). Then NAT64, for the 1 and 10 000 flow sets: the client
 * sends IPv6/UDP (the same 22-byte payload: 84-byte frames, 64 once IPv4)
 * from fd00:b0::2 to NAT64_PREFIX + the server's IPv4 address, and the
 * gateway runs in turn:
 *   fcnat --mode tc --nat64 (outbound NAT64 on the internal TC ingress)
 *   fcnat --mode xdp --nat64 (XDP passes IPv6 on to the same TC program)
 *   tayga (user-space NAT64 on a TUN device, dynamic pool) + nftables
 *     masquerade of the pool to the external address: the stateful setup
 *   tayga alone, the pool routed (no NAT44): tayga's own ceiling
 * and the server's sink counts the IPv4 packets. For each: the first packet
 * of every flow (timed: new flows/s), a second pass so every flow exists,
 * then SECONDS of established flows. Prints packets/s with ratios to
 * masquerade, to bare XDP and to the same line at 1 flow (NAT64: to tayga +
 * masquerade), then ns/packet of fcnat's loaded outbound programs (hit and
 * miss) from BPF_PROG_TEST_RUN runs, NAT44 and NAT64. Bounded: each pass at
 * most NEW_SECONDS or SECONDS, in calls of at most BATCH_REPEAT frames
 * (about 4 minutes in all). Needs root (and tayga for its lines; they print
 * 0 without it); leaves nothing behind, also when interrupted (SIGINT,
 * SIGTERM: the daemons it started are stopped, the namespaces removed).
 *
 * Usage: fwdbench [FCNAT [NSETS [nat44|nat64]]]; NSETS=1 runs the 1-flow set
 * only, nat44 or nat64 only those lines.
 * FWDBENCH_PROFILE=CMD runs "CMD LINE NFLOWS &" at the start of each timed
 * phase (LINE 0..4 as above, 5: bare TC forwarding, the same as bare XDP
 * from the TC ingress hook: the ceiling of anything forwarding skbs; 6..9:
 * the NAT64 lines in the order above), e.g. a perf record of one second.
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

/*
 * NAT64 under a network-specific /96 prefix (RFC 6052 §2.2), not the
 * well-known 64:ff9b::/96: RFC 6052 §3.1 forbids the well-known prefix with
 * non-global IPv4 addresses like the server's 10.0.2.2, and tayga enforces
 * that (it answers "unreachable" for every special-purpose range it knows,
 * RFC 2544's benchmarking one too); it also refuses RFC 8215's
 * 64:ff9b:1::/48. fcnat translates any /96 the same way.
 */
#define NAT64_PREFIX "2001:db8:64::/96"
#define NAT64_SERVER "2001:db8:64::a00:202"	/* 10.0.2.2 */
#define NAT64_CLIENT "fd00:b0::2"
#define NAT64_SETS 2		/* 1 and 10 000 flows */
#define NAT64_LINES 4
#define TAYGA_TUN "fcb-nat64"
#define TAYGA_POOL "192.168.255.0/24"

static const char *const nat64_names[NAT64_LINES] = {
	"fcnat --mode tc --nat64", "fcnat --mode xdp --nat64",
	"tayga + nftables masquerade", "tayga, pool routed (no NAT44)",
};

/* Names with our pid (exported to the shell commands as $CLI, $GW, $SRV,
 * fcnat's bpffs directory as $BPFFS): another run at the same time, or a
 * test's namespaces, never collide with ours. */
static char ns_names[3][32], bpffs_dir[64];
static int ns_fd[3], home_fd;

/* What cleanup() undoes: the daemon running now (fcnat or tayga), the
 * directory of tayga's files and the daemons' logs; stop_requested is set by
 * SIGINT/SIGTERM. */
static pid_t daemon_pid;
static char work_dir[64];
static volatile sig_atomic_t stop_requested;

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
		if (ns_names[i][0])
			sh("ip netns del %s 2>/dev/null", ns_names[i]);
}

static void stop_daemon(void)
{
	int st;

	if (daemon_pid <= 0)
		return;
	kill(daemon_pid, SIGTERM);
	waitpid(daemon_pid, &st, 0);
	daemon_pid = 0;
}

/* At exit, whatever the path: the daemon we started, tayga's TUN device,
 * the work directory, fcnat's pins, the namespaces. */
static void cleanup(void)
{
	stop_daemon();
	sh("ip -n $GW link del " TAYGA_TUN " 2>/dev/null");
	if (work_dir[0])
		sh("rm -rf %s", work_dir);
	sh("rm -rf $BPFFS");
	teardown();
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int topology(void)
{
	teardown();
	if (sh("set -e\n"
	       "for n in $CLI $GW $SRV; do ip netns add $n; ip -n $n link set lo up; done\n"
	       "ip -n $CLI link add b0 type veth peer name b0 netns $GW\n"
	       "ip -n $GW link add b1 type veth peer name b1 netns $SRV\n"
	       "ip -n $CLI addr add 10.0.1.2/24 dev b0\n"
	       "ip -n $GW addr add 10.0.1.1/24 dev b0\n"
	       "ip -n $GW addr add 10.0.2.1/24 dev b1\n"
	       "ip -n $SRV addr add 10.0.2.2/24 dev b1\n"
	       "for n in $CLI $GW; do ip -n $n link set b0 up; done\n"
	       "for n in $GW $SRV; do ip -n $n link set b1 up; done\n"
	       "ip netns exec $GW sysctl -qw net.ipv4.ip_forward=1\n"
	       /* NAT64: the IPv6-only client's side. */
	       "ip -n $CLI addr add " NAT64_CLIENT "/64 dev b0 nodad\n"
	       "ip -n $GW addr add fd00:b0::1/64 dev b0 nodad\n"
	       "ip netns exec $GW sysctl -qw net.ipv6.conf.all.forwarding=1\n"
	       /* The sink answers no ARP: the gateway knows the server's MAC. */
	       "ip -n $GW neigh replace 10.0.2.2 lladdr $(ip netns exec $SRV cat "
	       "/sys/class/net/b1/address) dev b1 nud permanent\n"
	       "ip -n $GW neigh replace 10.0.1.2 lladdr $(ip netns exec $CLI cat "
	       "/sys/class/net/b0/address) dev b0 nud permanent\n"
	       /* Redirected frames need NAPI on the receiving veth end. */
	       "ip netns exec $GW ethtool -K b0 gro on >/dev/null\n"
	       "ip netns exec $GW ethtool -K b1 gro on >/dev/null\n"))
		return -1;
	for (int i = 0; i < 3; i++) {
		char path[128];

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
	uint8_t frame[sizeof(skel->bss->gen_frame)];
	__u32 len = skel->bss->gen_len;
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = cli_ifindex };
	__u64 before, sent = 0;
	double t0, t;

	memcpy(frame, skel->bss->gen_frame, len);
	before = sink_total(skel);
	t0 = t = now_s();
	while (sent < npackets && t - t0 < max_s && !stop_requested) {
		__u64 n = npackets - sent < BATCH_REPEAT ? npackets - sent : BATCH_REPEAT;
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
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

/* The newest loaded program of that name: the fcnat just started, unless a
 * test loaded one since (gw_prog_fd looks at the gateway first). */
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

/* The program of that name attached in the gateway (TC on b0 ingress or b1
 * egress, XDP on b0); the newest loaded of that name if none is. */
static int gw_prog_fd(const char *name)
{
	char cmd[512], line[512], shown[16];
	unsigned long id = 0;
	FILE *p;

	/* Tools show the kernel's name: its first 15 characters. */
	snprintf(shown, sizeof(shown), "%s", name);
	snprintf(cmd, sizeof(cmd),
		 "tc -n %1$s filter show dev b0 ingress; tc -n %1$s filter show dev b1 egress; "
		 "ip -n %1$s -d link show dev b0", ns_names[1]);
	p = popen(cmd, "r");
	while (p && !id && fgets(line, sizeof(line), p)) {
		char *at = strstr(line, " id ");

		if (at && strstr(line, shown))
			id = strtoul(at + 4, NULL, 10);
	}
	if (p)
		pclose(p);
	return id ? bpf_prog_get_fd_by_id(id) : prog_fd_by_name(name);
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
 * (fcnat runs with --lan-if b0), or where an older fcnat translates. */
static const char *tc_target = "fc_tc_int_ingress";

#define SINGLE_RUNS 20001

static int cmp_u32(const void *a, const void *b)
{
	return *(const __u32 *)a < *(const __u32 *)b ? -1 : *(const __u32 *)a > *(const __u32 *)b;
}

/* A frame for the single runs and the generator: IPv4 (UDP checksum 0)
 * or IPv6 (checksum kept right when the source port changes). */
struct bench_frame {
	uint8_t data[128];
	__u32 len, l4off;
};

/* The source port of f's UDP header set to port; a nonzero checksum
 * follows by RFC 1624 (~(~sum + ~old + new)), zero stays zero. */
static void frame_set_sport(struct bench_frame *f, __u16 port)
{
	uint8_t *udp = f->data + f->l4off;
	__u16 old, sum, new = htons(port);
	__u32 acc;

	memcpy(&old, udp, 2);
	memcpy(&sum, udp + 6, 2);
	memcpy(udp, &new, 2);
	if (!sum)
		return;
	acc = (__u16)~sum + (__u16)~old + new;
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	sum = ~acc;
	sum = sum ? sum : 0xffff;
	memcpy(udp + 6, &sum, 2);
}

/* Median of SINGLE_RUNS BPF_PROG_TEST_RUN calls of prog_fd, each on a fresh
 * copy of frame (a new source port each call if vary). */
static double single_median(int prog_fd, int ifindex, const struct bench_frame *frame,
			    int vary, __u16 *port, __u32 *verdict)
{
	static __u32 d[SINGLE_RUNS];

	for (int i = 0; i < SINGLE_RUNS; i++) {
		struct bench_frame in = *frame;
		uint8_t out[256];
		struct __sk_buff sctx = { .ifindex = ifindex, .ingress_ifindex = ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in.data, .data_size_in = in.len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1,
			    .ctx_in = &sctx, .ctx_size_in = sizeof(sctx));

		if (vary)
			frame_set_sport(&in, (*port)++);
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
static void prog_ns_single(struct bench_xdp *skel, int tfd, int in_if,
			   const struct bench_frame *frame, double ns[3], __u32 verdict[3])
{
	int map = bpf_map__fd(skel->maps.run_tc_target);
	__u32 zero = 0;
	__u16 port = 3000;

	bpf_map_delete_elem(map, &zero);
	skel->bss->run_vary = 0;
	memcpy(skel->bss->run_frame, skel->bss->gen_frame, sizeof(skel->bss->run_frame));
	enter(1);
	ns[0] = single_median(bpf_program__fd(skel->progs.bench_run_tc), in_if, frame, 0, &port,
			      &verdict[0]);
	ns[1] = single_median(tfd, in_if, frame, 0, &port, &verdict[1]);
	ns[2] = single_median(tfd, in_if, frame, 1, &port, &verdict[2]);
	enter(-1);
}

/* NAT64 outbound of a loaded fcnat --nat64 (the program of that name on the
 * internal interface: fc_tc_int_ingress in TC mode, fc_tc_lan_ingress
 * behind XDP), timed like the TC fast path: it redirects. */
static void prog_ns_nat64(struct bench_xdp *skel, const char *target, int in_if,
			  const struct bench_frame *frame, double ns[3], __u32 verdict[3])
{
	int tfd = gw_prog_fd(target);

	memset(ns, 0, 3 * sizeof(*ns));
	if (tfd < 0) {
		fprintf(stderr, "no %s program loaded\n", target);
		return;
	}
	prog_ns_single(skel, tfd, in_if, frame, ns, verdict);
	close(tfd);
}

static void prog_ns(struct bench_xdp *skel, int xdp, int in_if, int out_if,
		    const struct bench_frame *frame, double ns[3], __u32 verdict[3])
{
	struct bpf_program *run = xdp ? skel->progs.bench_run_xdp : skel->progs.bench_run_tc;
	int map = bpf_map__fd(xdp ? skel->maps.run_xdp_target : skel->maps.run_tc_target);
	int tfd = gw_prog_fd(xdp ? "fc_xdp_int" : "fc_tc_int_ingress");
	const char *target = xdp ? "fc_xdp_int" : "fc_tc_int_ingress";
	__u32 zero = 0;

	if (tfd < 0 && !xdp) {
		tc_target = target = "fc_tc_egress";
		tfd = gw_prog_fd(target);
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
		prog_ns_single(skel, tfd, in_if, frame, ns, verdict);
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

/* The daemon's stderr, in the work directory (shown if it fails). */
static void daemon_log_path(char *path, size_t len)
{
	snprintf(path, len, "%s/daemon.log", work_dir);
}

static void show_daemon_log(void)
{
	char path[128];

	daemon_log_path(path, sizeof(path));
	sh("tail -5 %s >&2", path);
}

static int daemon_log_open(void)
{
	char path[128];

	daemon_log_path(path, sizeof(path));
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

/*
 * fcnat in the gateway (NAT44; with nat64, NAT64 under NAT64_PREFIX too),
 * the daemon cleanup() stops. Returns 0 once it says "ready" (at most 30 s:
 * a loaded machine takes seconds to verify the programs), -1 otherwise.
 */
static int start_fcnat(const char *fcnat, const char *mode, int nat64)
{
	char path[128];
	pid_t pid;
	int log = daemon_log_open();

	pid = fork();
	if (pid == 0) {
		dup2(log, 2);
		if (nat64)
			execlp("ip", "ip", "netns", "exec", ns_names[1], fcnat, "-i", "b1", "--mode",
			       mode, "--lan-if", "b0", "--bpffs", bpffs_dir,
			       FCNAT_SIZES, "--nat64", NAT64_PREFIX, (char *)NULL);
		else
			execlp("ip", "ip", "netns", "exec", ns_names[1], fcnat, "-i", "b1", "--mode",
			       mode, "--lan-if", "b0", "--bpffs", bpffs_dir,
			       FCNAT_SIZES, (char *)NULL);
		_exit(127);
	}
	if (log >= 0)
		close(log);
	daemon_pid = pid;
	daemon_log_path(path, sizeof(path));
	for (int i = 0; i < 300 && !stop_requested; i++) {
		int st;

		if (!sh("grep -q 'ready:' %s", path))
			return 0;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			daemon_pid = 0;
			break;
		}
		usleep(100000);
	}
	fprintf(stderr, "fcnat --mode %s%s did not start:\n", mode, nat64 ? " --nat64" : "");
	show_daemon_log();
	return -1;
}

static void stop_fcnat(void)
{
	stop_daemon();
	/* Fresh state for the next set. */
	sh("rm -rf $BPFFS; ip netns exec $GW rm -rf $BPFFS");
}

/*
 * tayga in the gateway, fresh for each line and set: its TUN device with the
 * routes tayga's README gives (the prefix and the dynamic pool into the
 * device), its own configuration and data directory in work_dir, run in
 * the foreground as our child. With masquerade, nftables NATs the pool to
 * the external address (b1's), as a stateful NAT64 (one IPv4 address for
 * all clients) is deployed with tayga; without, the pool is routed (the
 * sink answers nothing, so no route back is needed here). Returns 0 once
 * tayga holds the device (its carrier is up), -1 if it is not there.
 */
static int start_tayga(int masquerade)
{
	char conf[128];
	FILE *f;
	pid_t pid;
	int log;

	snprintf(conf, sizeof(conf), "%s/tayga.conf", work_dir);
	f = fopen(conf, "w");
	if (!f)
		return -1;
	fprintf(f, "tun-device " TAYGA_TUN "\n"
		   "ipv4-addr 192.168.255.1\n"
		   /* Its own IPv6 address, the source of its ICMPv6 errors. */
		   "ipv6-addr fd00:b0::64\n"
		   "prefix " NAT64_PREFIX "\n"
		   "dynamic-pool " TAYGA_POOL "\n"
		   "data-dir %s\n", work_dir);
	fclose(f);
	sh("rm -f %s/dynamic.map", work_dir);
	if (sh("set -e\n"
	       "ip netns exec $GW tayga -c %s --mktun >/dev/null\n"
	       "ip -n $GW link set " TAYGA_TUN " up\n"
	       "ip -n $GW route add " TAYGA_POOL " dev " TAYGA_TUN "\n"
	       "ip -n $GW route add " NAT64_PREFIX " dev " TAYGA_TUN "\n", conf)) {
		fprintf(stderr, "cannot set tayga up (is it installed?)\n");
		return -1;
	}
	if (masquerade)
		sh("ip netns exec $GW nft 'add table ip fcb64; add chain ip fcb64 post { type nat "
		   "hook postrouting priority 100; }; add rule ip fcb64 post ip saddr " TAYGA_POOL
		   " oifname b1 masquerade'");
	log = daemon_log_open();
	pid = fork();
	if (pid == 0) {
		dup2(log, 1);
		dup2(log, 2);
		execlp("ip", "ip", "netns", "exec", ns_names[1], "tayga", "-c", conf, "--nodetach",
		       (char *)NULL);
		_exit(127);
	}
	if (log >= 0)
		close(log);
	daemon_pid = pid;
	/* A TUN device has carrier while a process holds it. */
	for (int i = 0; i < 50; i++) {
		if (!sh("ip -n $GW link show " TAYGA_TUN " | grep -q LOWER_UP"))
			return 0;
		usleep(100000);
	}
	fprintf(stderr, "tayga did not start:\n");
	show_daemon_log();
	return -1;
}

static void stop_tayga(void)
{
	stop_daemon();
	sh("ip netns exec $GW nft delete table ip fcb64 2>/dev/null; "
	   "ip -n $GW link del " TAYGA_TUN " 2>/dev/null");
}

/* The generator's frame (bench_gen sends it) */
static void use_frame(struct bench_xdp *skel, const struct bench_frame *f)
{
	memcpy(skel->bss->gen_frame, f->data, f->len);
	skel->bss->gen_len = f->len;
	skel->bss->gen_l4off = f->l4off;
}

/* The NAT64 lines for one flow set: the IPv6 frame from the client. */
static void run_nat64(struct bench_xdp *skel, const char *fcnat, int cli_if, int gw_in,
		      const struct flowset *fs, const struct bench_frame *frame6, int timed,
		      double pps[NAT64_LINES], double new_pps[NAT64_LINES], double ns[2][3],
		      __u32 verdict[2][3])
{
	use_frame(skel, frame6);
	for (int m = 0; m < 2 && !stop_requested; m++) {
		if (start_fcnat(fcnat, m ? "xdp" : "tc", 1)) {
			stop_fcnat();
			continue;
		}
		pps[m] = measure(skel, cli_if, fs, 6 + m, &new_pps[m]);
		if (timed)
			prog_ns_nat64(skel, m ? "fc_tc_lan_ingress" : "fc_tc_int_ingress", gw_in,
				      frame6, ns[m], verdict[m]);
		stop_fcnat();
	}
	for (int t = 0; t < 2 && !stop_requested; t++) {
		if (!start_tayga(!t))
			pps[2 + t] = measure(skel, cli_if, fs, 8 + t, &new_pps[2 + t]);
		stop_tayga();
	}
}

int main(int argc, char **argv)
{
	const char *fcnat = argc > 1 ? argv[1] : "build/fcnat";
	int nsets = argc > 2 ? atoi(argv[2]) : NSETS;
	const char *which = argc > 3 ? argv[3] : "all";
	int run44 = strcmp(which, "nat64") != 0, run64 = strcmp(which, "nat44") != 0;
	static const char *const names[NLINES] = {
		"bare XDP forwarding (no NAT)", "Linux forwarding (no NAT)",
		"nftables masquerade", "fcnat --mode tc", "fcnat --mode xdp",
		"bare TC forwarding (no NAT)",
	};
	struct pkt_spec s = { .proto = 17, .saddr = "10.0.1.2", .daddr = "10.0.2.2",
			      .sport = 25000, .dport = 7000, .payload_len = 22 };
	struct bench_frame frame4 = { .l4off = 34 }, frame6 = { .l4off = 54 };
	uint8_t gw_mac[6], cli_mac[6], buf[PKT_MAX];
	struct bench_xdp *skel;
	double pps[NSETS][NLINES] = {}, new_pps[NSETS][NLINES] = {}, ns[2][2][3] = {};
	double pps64[NAT64_SETS][NAT64_LINES] = {}, new_pps64[NAT64_SETS][NAT64_LINES] = {};
	double ns64[2][3] = {};
	__u32 verdict[2][2][3] = {}, verdict64[2][3] = {};
	int cli_if, gw_in, gw_out, srv_if;
	struct sigaction sa = { .sa_handler = on_signal };
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo);

	if (nsets < 1 || nsets > NSETS)
		nsets = NSETS;
	if (strcmp(which, "all") && strcmp(which, "nat44") && strcmp(which, "nat64")) {
		fprintf(stderr, "usage: fwdbench [FCNAT [NSETS [nat44|nat64]]]\n");
		return 2;
	}
	snprintf(ns_names[0], sizeof(ns_names[0]), "fcb%d-cli", (int)getpid());
	snprintf(ns_names[1], sizeof(ns_names[1]), "fcb%d-gw", (int)getpid());
	snprintf(ns_names[2], sizeof(ns_names[2]), "fcb%d-srv", (int)getpid());
	snprintf(bpffs_dir, sizeof(bpffs_dir), "/sys/fs/bpf/fcnat-bench-%d", (int)getpid());
	setenv("CLI", ns_names[0], 1);
	setenv("GW", ns_names[1], 1);
	setenv("SRV", ns_names[2], 1);
	setenv("BPFFS", bpffs_dir, 1);
	snprintf(work_dir, sizeof(work_dir), "/tmp/fwdbench.XXXXXX");
	if (!mkdtemp(work_dir)) {
		perror("mkdtemp");
		work_dir[0] = 0;
		return 1;
	}
	atexit(cleanup);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (topology() || read_mac(1, "b0", gw_mac) || read_mac(0, "b0", cli_mac)) {
		fprintf(stderr, "cannot build the benchmark topology\n");
		return 1;
	}
	skel = bench_xdp__open_and_load();
	if (!skel) {
		fprintf(stderr, "cannot load the benchmark programs\n");
		return 1;
	}
	s.dmac = gw_mac;
	s.smac = cli_mac;
	if (pkt_build(&s, buf) != 64) {
		fprintf(stderr, "frame is not 64 bytes\n");
		return 1;
	}
	buf[40] = buf[41] = 0;	/* no UDP checksum: the generator changes ports */
	memcpy(frame4.data, buf, 64);
	frame4.len = 64;
	/* NAT64: the same UDP datagram over IPv6 (its checksum is mandatory;
	 * the generator keeps it right), 64 bytes again once translated. */
	s.saddr = NAT64_CLIENT;
	s.daddr = NAT64_SERVER;
	frame6.len = pkt_build(&s, buf);	/* pkt_build clears PKT_MAX bytes */
	if (frame6.len != 84) {
		fprintf(stderr, "IPv6 frame is not 84 bytes\n");
		return 1;
	}
	memcpy(frame6.data, buf, frame6.len);
	use_frame(skel, &frame4);
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
	sh("ip netns exec $GW sysctl -qw net.netfilter.nf_conntrack_max=1100000 2>/dev/null");

	for (int f = 0; f < nsets && run44 && !stop_requested; f++) {
		const struct flowset *fs = &sets[f];

		use_frame(skel, &frame4);
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
		sh("ip netns exec $GW nft 'add table ip fcb; add chain ip fcb post { type nat "
		   "hook postrouting priority 100; }; add rule ip fcb post oifname b1 masquerade'");
		pps[f][2] = measure(skel, cli_if, fs, 2, &new_pps[f][2]);
		sh("ip netns exec $GW nft delete table ip fcb");
		/* 4, 5. fcnat; per-packet ns of its programs after the 1-flow set */
		for (int m = 0; m < 2 && !stop_requested; m++) {
			if (start_fcnat(fcnat, m ? "xdp" : "tc", 0)) {
				stop_fcnat();
				continue;
			}
			pps[f][3 + m] = measure(skel, cli_if, fs, 3 + m, &new_pps[f][3 + m]);
			if (f == 0 || f == NSETS - 1)
				prog_ns(skel, m, gw_in, gw_out, &frame4, ns[f != 0][m],
					verdict[f != 0][m]);
			stop_fcnat();
		}
	}
	/* NAT64: the 1 and 10 000 flow sets */
	for (int f = 0; f < nsets && f < NAT64_SETS && run64 && !stop_requested; f++)
		run_nat64(skel, fcnat, cli_if, gw_in, &sets[f], &frame6, f == 0, pps64[f],
			  new_pps64[f], ns64, verdict64);
	if (stop_requested) {
		fprintf(stderr, "interrupted\n");
		bench_xdp__destroy(skel);
		return 1;
	}

	for (int f = 0; f < nsets && run44; f++) {
		printf("\n%-32s %12s %8s %8s %9s %14s\n", sets[f].name, "pps", "x masq", "x bare",
		       "x 1 flow", "new flows/s");
		for (int i = 0; i < NLINES; i++)
			printf("%-32s %12.0f %8.2f %8.2f %9.2f %14.0f\n", names[i], pps[f][i],
			       pps[f][2] > 0 ? pps[f][i] / pps[f][2] : 0,
			       pps[f][0] > 0 ? pps[f][i] / pps[f][0] : 0,
			       pps[0][i] > 0 ? pps[f][i] / pps[0][i] : 0,
			       sets[f].nflows > 1 ? new_pps[f][i] : 0);
	}
	for (int f = 0; f < nsets && f < NAT64_SETS && run64; f++) {
		char title[64];

		snprintf(title, sizeof(title), "NAT64, %s", sets[f].name);
		printf("\n%-32s %12s %8s %9s %14s\n", title, "pps", "x tayga", "x 1 flow",
		       "new flows/s");
		for (int i = 0; i < NAT64_LINES; i++)
			printf("%-32s %12.0f %8.2f %9.2f %14.0f\n", nat64_names[i], pps64[f][i],
			       pps64[f][2] > 0 ? pps64[f][i] / pps64[f][2] : 0,
			       pps64[0][i] > 0 ? pps64[f][i] / pps64[0][i] : 0,
			       sets[f].nflows > 1 ? new_pps64[f][i] : 0);
	}
	if (run64)
		printf("(x tayga: to tayga + nftables masquerade; IPv6 frames of 84 bytes, "
		       "IPv4 of 64 out)\n");
	printf("\nBPF_PROG_TEST_RUN, fcnat's loaded outbound programs, 64-byte UDP, ns/packet\n"
	       "(best of %d; restore = frame restore + tail call, subtracted; miss = a new\n"
	       "mapping and session each run; TC fast path and NAT64: medians of single\n"
	       "runs, see doc/benchmarks.md)\n", ROUNDS);
	printf("%-34s %9s %9s %9s %9s\n", "", "restore", "hit", "miss", "verdicts");
	for (int t = 0; t < 2 && run44; t++)
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
	for (int m = 0; m < 2 && run64; m++)
		printf("%-34s %9.1f %9.1f %9.1f %3u/%u/%u\n",
		       m ? "NAT64 fc_tc_lan_ingress (xdp)" : "NAT64 fc_tc_int_ingress (tc)",
		       ns64[m][0], ns64[m][1] - ns64[m][0], ns64[m][2] - ns64[m][0],
		       verdict64[m][0], verdict64[m][1], verdict64[m][2]);
	bench_xdp__destroy(skel);
	return 0;
}
