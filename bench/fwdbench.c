// SPDX-License-Identifier: GPL-2.0
/*
 * Forwarding benchmark, side by side in one run: client ns -> gateway ns ->
 * server ns over veth, 64-byte UDP. The client sends with an XDP
 * live-frames generator (BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES),
 * or where the kernel refuses live frames with bursts of TC clones
 * (bench_gen_tc: BPF_PROG_TEST_RUN of a sched_cls program calling
 * bpf_clone_redirect); the output's first line names the source. The
 * server counts in XDP; the gateway runs, in turn:
 *   the generator ceiling: the source alone, into an XDP_DROP sink on the
 *     gateway's b0 (a line within 10% of it is bounded by the generator,
 *     and is marked so)
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
 *   fcnat --mode xdp --nat64 (NAT64 in XDP: fc_xdp_int, bpf/lib/fwd64.h)
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
 * Also: bare XDP without the FIB lookup (the steering ceiling: fixed MACs,
 * devmap redirect), Zipf-distributed flow choice at 10 000 and 1M flows, a
 * 4M-session set (only when asked), and two generator threads on two CPUs
 * over two-queue veths (the 1-flow set by default).
 *
 * The conntrack offload lines (fcnat offload) are fwdbench_offload.c's; what
 * both use (topology, generator, daemon) is fwdbench_common.c's.
 *
 * Usage: fwdbench [FCNAT [NSETS [nat44|nat64]]]; NSETS=1..3 runs the first
 * sets of 1, 10k, 1m only, nat44 or nat64 only those lines. Selections:
 * FWDBENCH_SETS=1,10k,1m,10kz,1mz,4m (default all but 4m),
 * FWDBENCH_LINES=gen,nofib,bare,linux,masq,tc,xdp,baretc (default all),
 * FWDBENCH_QUEUES=1 (one thread only) or 1,2 (two threads for every set).
 * FWDBENCH_PROFILE=CMD runs "CMD LINE NFLOWS &" at the start of each timed
 * phase (LINE 0..4 as above, 5: bare TC forwarding, the same as bare XDP
 * from the TC ingress hook: the ceiling of anything forwarding skbs; 6..9:
 * the NAT64 lines in the order above; 10: bare XDP without FIB; 11: the
 * generator ceiling), e.g. a
 * perf record of one second.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
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
#include <math.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "bench_xdp.skel.h"
#include "fwdbench.h"
#include "pkt.h"
#include "zipf.h"

#define SECONDS 3.0		/* established flows, per line */
#define NEW_SECONDS 5.0		/* each pass of first packets, at most */
#define HIT_REPEAT 1000000
#define MISS_REPEAT 5000	/* 3 rounds: 15 000 new mappings, a quarter of the ports */
#define ROUNDS 3

/* fcnat's tables, sized for the 1M set and used for every set but 4M's
 * (sessions: flowset.max_sessions). */
#define FCNAT_SIZES(sessions) "--max-mappings", "100000", "--max-sessions", sessions, \
	"--ports", "1024-65535"

struct flowset {
	const char *name, *key;		/* key: for FWDBENCH_SETS */
	__u32 nflows, endpoints;	/* internal endpoints; remotes = nflows / endpoints */
	__u16 sport, dport;		/* first source and destination ports */
	int zipf;			/* timed phase: Zipf-distributed flow choice */
	const char *max_sessions;	/* fcnat's --max-sessions */
	double pass_s;			/* each first-packet pass, at most */
};

/* Disjoint sets (masquerade's conntrack keeps entries between sets); the
 * first two are the NAT64 lines' too. 4M is run only when asked for. */
static const struct flowset sets[] = {
	{ "1 flow", "1", 1, 1, 25000, 7000, 0, "1100000", NEW_SECONDS },
	{ "10 000 flows", "10k", 10000, 10000, 30000, 7000, 0, "1100000", NEW_SECONDS },
	{ "1 000 000 flows", "1m", 1000000, 10000, 40000, 7000, 0, "1100000", NEW_SECONDS },
	{ "10 000 flows, Zipf", "10kz", 10000, 10000, 50000, 7000, 1, "1100000", NEW_SECONDS },
	{ "1 000 000 flows, Zipf", "1mz", 1000000, 10000, 40000, 17000, 1, "1100000",
	  NEW_SECONDS },
	{ "4 000 000 flows", "4m", 4000000, 10000, 50000, 27000, 0, "4400000", 20.0 },
};
#define NSETS (int)(sizeof(sets) / sizeof(sets[0]))
#define DEFAULT_SETS "1,10k,1m,10kz,1mz"

/* Lines, in the order they run (FWDBENCH_PROFILE's LINE); printed in
 * print_order. */
#define NLINES 8
static const char *const line_keys[NLINES] = {
	"bare", "linux", "masq", "tc", "xdp", "baretc", "nofib", "gen",
};
static const int print_order[NLINES] = { 7, 6, 0, 1, 2, 3, 4, 5 };

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
#define NAT64_SETS 2		/* 1 and 10 000 flows */
#define NAT64_LINES 4
#define LINE_NOFIB 6
#define PROFILE_NOFIB 10	/* FWDBENCH_PROFILE's LINE for it (6-9: NAT64) */
#define LINE_GEN 7
#define PROFILE_GEN 11
#define GEN_BOUND 0.9		/* a line at this share of the ceiling or more */
#define TAYGA_TUN "fcb-nat64"
#define TAYGA_POOL "192.168.255.0/24"

static const char *const nat64_names[NAT64_LINES] = {
	"fcnat --mode tc --nat64", "fcnat --mode xdp --nat64",
	"tayga + nftables masquerade", "tayga, pool routed (no NAT44)",
};

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

static int zipf_fill(struct bench_xdp *skel, __u32 nflows)
{
	static __u32 filled_for;
	int err;

	if (filled_for == nflows)
		return 0;
	err = zipf_table_fill(bpf_map__fd(skel->maps.gen_zipf_table), nflows);
	if (!err)
		filled_for = nflows;
	return err;
}

/*
 * One gateway configuration, one flow set: the first packet of every flow
 * (timed: new flows/s, at most NEW_SECONDS), a second pass (so that flows
 * whose first packet was dropped exist too), then SECONDS of established
 * flows, cycling through the set. Returns the established packets/s.
 */
static double measure_q(struct bench_xdp *skel, int cli_ifindex, const struct flowset *fs,
			int line, double *new_pps, int threads)
{
	const char *profile = getenv("FWDBENCH_PROFILE");
	double pps;

	skel->bss->gen_nflows = fs->nflows;
	skel->bss->gen_endpoints = fs->endpoints;
	skel->bss->gen_sport = fs->sport;
	skel->bss->gen_dport = fs->dport;
	skel->bss->gen_zipf = 0;
	memset(skel->bss->gen_seq, 0, sizeof(skel->bss->gen_seq));
	enter(0);
	/* The first-packet passes from one thread: every flow once, in order. */
	gen_threads = 1;
	*new_pps = send_count(skel, cli_ifindex, fs->nflows, fs->pass_s);
	send_count(skel, cli_ifindex, fs->nflows < 1000 ? 1000 : fs->nflows, fs->pass_s);
	usleep(200000);
	gen_threads = threads;
	skel->bss->gen_percpu = threads > 1;
	if (fs->zipf && zipf_fill(skel, fs->nflows))
		fprintf(stderr, "cannot fill the Zipf table\n");
	skel->bss->gen_zipf = fs->zipf;
	/* A profiler (for at most SECONDS - 1 s) over the timed phase: CMD LINE FLOWS */
	if (profile)
		sh("%s %d %u &", profile, line, fs->nflows);
	pps = send_count(skel, cli_ifindex, ~0ULL, SECONDS);
	gen_threads = 1;
	skel->bss->gen_percpu = 0;
	skel->bss->gen_zipf = 0;
	enter(-1);
	return pps;
}

static double measure(struct bench_xdp *skel, int cli_ifindex, const struct flowset *fs,
		      int line, double *new_pps)
{
	return measure_q(skel, cli_ifindex, fs, line, new_pps, 1);
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
static double single_median(int prog_fd, int xdp, int ifindex, const struct bench_frame *frame,
			    int vary, __u16 *port, __u32 *verdict)
{
	static __u32 d[SINGLE_RUNS];

	for (int i = 0; i < SINGLE_RUNS; i++) {
		struct bench_frame in = *frame;
		uint8_t out[256];
		struct __sk_buff sctx = { .ifindex = ifindex, .ingress_ifindex = ifindex };
		struct xdp_md xctx = { .data_end = in.len, .ingress_ifindex = ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in.data, .data_size_in = in.len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1,
			    .ctx_in = &sctx, .ctx_size_in = sizeof(sctx));

		if (xdp) {
			o.ctx_in = &xctx;
			o.ctx_size_in = sizeof(xctx);
		}
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
static void prog_ns_single(struct bench_xdp *skel, int tfd, int xdp, int in_if,
			   const struct bench_frame *frame, double ns[3], __u32 verdict[3])
{
	int map = bpf_map__fd(xdp ? skel->maps.run_xdp_target : skel->maps.run_tc_target);
	struct bpf_program *base = xdp ? skel->progs.bench_run_xdp : skel->progs.bench_run_tc;
	__u32 zero = 0;
	__u16 port = 3000;

	bpf_map_delete_elem(map, &zero);
	skel->bss->run_vary = 0;
	memcpy(skel->bss->run_frame, skel->bss->gen_frame, sizeof(skel->bss->run_frame));
	enter(1);
	ns[0] = single_median(bpf_program__fd(base), xdp, in_if, frame, 0, &port, &verdict[0]);
	ns[1] = single_median(tfd, xdp, in_if, frame, 0, &port, &verdict[1]);
	ns[2] = single_median(tfd, xdp, in_if, frame, 1, &port, &verdict[2]);
	enter(-1);
}

/* NAT64 outbound of a loaded fcnat --nat64 (the program of that name on the
 * internal interface: fc_tc_int_ingress in TC mode, fc_xdp_int in XDP
 * mode), timed like the TC fast path: it redirects. */
static void prog_ns_nat64(struct bench_xdp *skel, const char *target, int xdp, int in_if,
			  const struct bench_frame *frame, double ns[3], __u32 verdict[3])
{
	int tfd = gw_prog_fd(target);

	memset(ns, 0, 3 * sizeof(*ns));
	if (tfd < 0) {
		fprintf(stderr, "no %s program loaded\n", target);
		return;
	}
	prog_ns_single(skel, tfd, xdp, in_if, frame, ns, verdict);
	close(tfd);
}

/* ns/packet of fc_xdp_int hitting the set's existing flows in turn (each
 * run's mapping and session cold: what many flows cost the program itself,
 * without the generator, veths and sink), best of ROUNDS of HIT_REPEAT,
 * net of the restore baseline (given); 0 if not run. */
static double prog_ns_cold(struct bench_xdp *skel, int in_if, const struct flowset *fs,
			   double restore)
{
	int map = bpf_map__fd(skel->maps.run_xdp_target), tfd = gw_prog_fd("fc_xdp_int");
	double best = 1e18;
	__u32 zero = 0;

	if (tfd < 0 || fs->nflows < 2)
		return 0;
	memcpy(skel->bss->run_frame, skel->bss->gen_frame, sizeof(skel->bss->run_frame));
	skel->bss->run_vary = 2;
	skel->bss->run_seq = 0;
	skel->bss->run_nflows = fs->nflows;
	skel->bss->run_endpoints = fs->endpoints;
	skel->bss->run_sport = fs->sport;
	skel->bss->run_dport = fs->dport;
	enter(1);
	if (bpf_map_update_elem(map, &zero, &tfd, BPF_ANY))
		perror("tail call target");
	for (int r = 0; r < ROUNDS; r++) {
		uint8_t in[64], out[128];
		struct xdp_md xctx = { .data_end = sizeof(in), .ingress_ifindex = in_if };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = sizeof(in),
			    .data_out = out, .data_size_out = sizeof(out), .repeat = HIT_REPEAT,
			    .ctx_in = &xctx, .ctx_size_in = sizeof(xctx));

		memcpy(in, skel->bss->run_frame, sizeof(in));
		if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.bench_run_xdp), &o)) {
			perror("test run");
			break;
		}
		if (o.duration < best)
			best = o.duration;
	}
	enter(-1);
	bpf_map_delete_elem(map, &zero);
	skel->bss->run_vary = 0;
	close(tfd);
	return best < 1e18 ? best - restore : 0;
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
		prog_ns_single(skel, tfd, 0, in_if, frame, ns, verdict);
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

/*
 * fcnat in the gateway (NAT44; with nat64, NAT64 under NAT64_PREFIX too),
 * the daemon cleanup() stops. Returns 0 once it says "ready" (at most 30 s:
 * a loaded machine takes seconds to verify the programs), -1 otherwise.
 */
static int start_fcnat(const char *fcnat, const char *mode, int nat64, const char *sessions)
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
			       FCNAT_SIZES(sessions), "--nat64", NAT64_PREFIX, (char *)NULL);
		else
			execlp("ip", "ip", "netns", "exec", ns_names[1], fcnat, "-i", "b1", "--mode",
			       mode, "--lan-if", "b0", "--bpffs", bpffs_dir,
			       FCNAT_SIZES(sessions), (char *)NULL);
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

/* The NAT64 lines for one flow set: the IPv6 frame from the client. */
static void run_nat64(struct bench_xdp *skel, const char *fcnat, int cli_if, int gw_in,
		      const struct flowset *fs, const struct bench_frame *frame6, int timed,
		      double pps[NAT64_LINES], double new_pps[NAT64_LINES], double ns[2][3],
		      __u32 verdict[2][3])
{
	use_frame(skel, frame6);
	for (int m = 0; m < 2 && !stop_requested; m++) {
		if (start_fcnat(fcnat, m ? "xdp" : "tc", 1, fs->max_sessions)) {
			stop_fcnat();
			continue;
		}
		pps[m] = measure(skel, cli_if, fs, 6 + m, &new_pps[m]);
		if (timed)
			prog_ns_nat64(skel, m ? "fc_xdp_int" : "fc_tc_int_ingress", m, gw_in,
				      frame6, ns[m], verdict[m]);
		stop_fcnat();
	}
	for (int t = 0; t < 2 && !stop_requested; t++) {
		if (!start_tayga(!t))
			pps[2 + t] = measure(skel, cli_if, fs, 8 + t, &new_pps[2 + t]);
		stop_tayga();
	}
}

/* fc_xdp_int cycling through each set's flows (prog_ns_cold), and the
 * restore baseline it is net of (from the 1-flow set's timing, or 0). */
static double cold_ns[NSETS], restore_ns;

/* What one NAT44 line needs around its measurement. */
struct line_env {
	struct bench_xdp *skel;
	const char *fcnat;
	int cli_if, gw_in, gw_out;
	const struct bench_frame *frame4;
};

/*
 * NAT44 line `line` for one flow set, with `threads` generator threads:
 * set the gateway up, measure, take it down. timed (fcnat's lines): also
 * time the loaded program into ns/verdict.
 */
static double run_line(const struct line_env *e, const struct flowset *fs, int line,
		       int threads, double *new_pps, int timed, double ns[3], __u32 verdict[3])
{
	struct bench_xdp *skel = e->skel;
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo);
	double pps = 0;

	switch (line) {
	case 0:		/* bare XDP forwarding */
	case LINE_NOFIB:	/* the same without the FIB lookup */
		enter(1);
		if (bpf_xdp_attach(e->gw_in, bpf_program__fd(line ? skel->progs.bench_fwd_nofib
								: skel->progs.bench_fwd),
				   XDP_FLAGS_DRV_MODE, &xo))
			perror("attach bench_fwd");
		enter(-1);
		pps = measure_q(skel, e->cli_if, fs, line ? PROFILE_NOFIB : 0, new_pps, threads);
		enter(1);
		bpf_xdp_detach(e->gw_in, XDP_FLAGS_DRV_MODE, &xo);
		enter(-1);
		break;
	case 5: {	/* bare TC forwarding */
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = e->gw_in,
				    .attach_point = BPF_TC_INGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, to,
				    .prog_fd = bpf_program__fd(skel->progs.bench_tc_fwd));

		enter(1);
		bpf_tc_hook_create(&hook);
		if (bpf_tc_attach(&hook, &to))
			perror("attach bench_tc_fwd");
		enter(-1);
		pps = measure_q(skel, e->cli_if, fs, 5, new_pps, threads);
		enter(1);
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
		enter(-1);
		break;
	}
	case LINE_GEN:	/* the source alone: the sink counts on the gateway's b0 */
		enter(1);
		if (bpf_xdp_attach(e->gw_in, bpf_program__fd(skel->progs.bench_sink),
				   XDP_FLAGS_DRV_MODE, &xo))
			perror("attach bench_sink");
		enter(-1);
		pps = measure_q(skel, e->cli_if, fs, PROFILE_GEN, new_pps, threads);
		enter(1);
		bpf_xdp_detach(e->gw_in, XDP_FLAGS_DRV_MODE, &xo);
		enter(-1);
		break;
	case 1:		/* Linux forwarding */
		pps = measure_q(skel, e->cli_if, fs, 1, new_pps, threads);
		break;
	case 2:		/* nftables masquerade */
		sh("ip netns exec $GW nft 'add table ip fcb; add chain ip fcb post { type nat "
		   "hook postrouting priority 100; }; add rule ip fcb post oifname b1 masquerade'");
		pps = measure_q(skel, e->cli_if, fs, 2, new_pps, threads);
		sh("ip netns exec $GW nft delete table ip fcb");
		break;
	case 3:		/* fcnat --mode tc */
	case 4:		/* fcnat --mode xdp */
		if (!start_fcnat(e->fcnat, line == 4 ? "xdp" : "tc", 0, fs->max_sessions)) {
			pps = measure_q(skel, e->cli_if, fs, line, new_pps, threads);
			if (timed)
				prog_ns(skel, line == 4, e->gw_in, e->gw_out, e->frame4, ns,
					verdict);
			/* (Uniform sets: the runs cycle the flows in order.) */
			if (line == 4 && threads == 1 && !fs->zipf)
				cold_ns[fs - sets] = prog_ns_cold(skel, e->gw_in, fs, restore_ns);
		}
		stop_fcnat();
		break;
	}
	return pps;
}

int main(int argc, char **argv)
{
	const char *fcnat = argc > 1 ? argv[1] : "build/fcnat";
	int nsets = argc > 2 ? atoi(argv[2]) : 0;
	const char *which = argc > 3 ? argv[3] : "all";
	int run44 = strcmp(which, "nat64") != 0, run64 = strcmp(which, "nat44") != 0;
	const char *set_list = getenv("FWDBENCH_SETS"), *line_list = getenv("FWDBENCH_LINES");
	const char *queue_list = getenv("FWDBENCH_QUEUES");
	static const char *const names[NLINES] = {
		"bare XDP forwarding (no NAT)", "Linux forwarding (no NAT)",
		"nftables masquerade", "fcnat --mode tc", "fcnat --mode xdp",
		"bare TC forwarding (no NAT)", "bare XDP, no FIB (steering)",
		"generator ceiling (XDP_DROP sink)",
	};
	static const char *const default_lists[] = { "1", "1,10k", "1,10k,1m" };
	struct pkt_spec s = { .proto = 17, .saddr = "10.0.1.2", .daddr = "10.0.2.2",
			      .sport = 25000, .dport = 7000, .payload_len = 22 };
	struct bench_frame frame4 = { .l4off = 34 }, frame6 = { .l4off = 54 };
	uint8_t gw_mac[6], cli_mac[6], gw_out_mac[6], srv_mac[6], buf[PKT_MAX];
	struct bench_xdp *skel;
	/* [set][line][queues - 1] */
	static double pps[NSETS][NLINES][NQUEUES], new_pps[NSETS][NLINES][NQUEUES];
	double ns[2][2][3] = {};
	double pps64[NAT64_SETS][NAT64_LINES] = {}, new_pps64[NAT64_SETS][NAT64_LINES] = {};
	double ns64[2][3] = {};
	__u32 verdict[2][2][3] = {}, verdict64[2][3] = {};
	int cli_if, gw_in, gw_out, srv_if, ran[NSETS] = {}, timed[2] = {};
	struct line_env env;
	__u32 zero = 0;
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo);

	if (strcmp(which, "all") && strcmp(which, "nat44") && strcmp(which, "nat64")) {
		fprintf(stderr, "usage: fwdbench [FCNAT [NSETS [nat44|nat64]]]\n");
		return 2;
	}
	/* NSETS (1-3): the first sets, as before Zipf and 4M were added. */
	if (!set_list)
		set_list = nsets >= 1 && nsets <= 3 ? default_lists[nsets - 1] : DEFAULT_SETS;
	gen_choose_source();
	if (bench_init())
		return 1;
	atexit(cleanup);
	if (topology() || read_mac(1, "b0", gw_mac) || read_mac(0, "b0", cli_mac) ||
	    read_mac(1, "b1", gw_out_mac) || read_mac(2, "b1", srv_mac)) {
		fprintf(stderr, "cannot build the benchmark topology\n");
		return 1;
	}
	skel = bench_load(&s, gw_mac, cli_mac, &frame4);
	if (!skel)
		return 1;
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
	/* The steering line's fixed next hop (a devmap resolves the ifindex
	 * in the namespace of the update). */
	memcpy(skel->bss->nofib_dmac, srv_mac, 6);
	memcpy(skel->bss->nofib_smac, gw_out_mac, 6);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.nofib_tx), &zero, &gw_out, BPF_ANY))
		perror("nofib devmap");
	enter(2);
	srv_if = if_nametoindex("b1");
	bpf_xdp_attach(srv_if, bpf_program__fd(skel->progs.bench_sink), XDP_FLAGS_DRV_MODE, &xo);
	enter(-1);
	skel->bss->gen_ifindex = cli_if;
	/* Masquerade gets a conntrack table for the 1M set if the kernel lets it. */
	sh("ip netns exec $GW sysctl -qw net.netfilter.nf_conntrack_max=1100000 2>/dev/null");
	env = (struct line_env){ .skel = skel, .fcnat = fcnat, .cli_if = cli_if, .gw_in = gw_in,
				 .gw_out = gw_out, .frame4 = &frame4 };

	for (int f = 0; f < NSETS && run44 && !stop_requested; f++) {
		const struct flowset *fs = &sets[f];
		/* Two generator threads: for the 1-flow set, or every set asked. */
		int queues = queue_list ? (listed(queue_list, "2") ? 2 : 1) : (f == 0 ? 2 : 1);

		if (!listed(set_list, fs->key))
			continue;
		ran[f] = 1;
		use_frame(skel, &frame4);
		for (int q = 1; q <= queues && !stop_requested; q++)
			for (int i = 0; i < NLINES && !stop_requested; i++) {
				/* Two threads: the lines that forward in XDP or TC ingress. */
				int t = !strcmp(fs->key, "1m") ? 1 : !strcmp(fs->key, "1") ? 0 : -1;

				if (line_list && !listed(line_list, line_keys[i]))
					continue;
				if (q == 2 && (i == 1 || i == 2))
					continue;
				pps[f][i][q - 1] = run_line(&env, fs, i, q, &new_pps[f][i][q - 1],
							    q == 1 && t >= 0 && (i == 3 || i == 4),
							    t >= 0 ? ns[t][i == 4] : NULL,
							    t >= 0 ? verdict[t][i == 4] : NULL);
				if (q == 1 && t >= 0 && (i == 3 || i == 4))
					timed[t] = 1;
				if (q == 1 && t == 0 && i == 4)
					restore_ns = ns[0][1][0];
			}
	}
	/* NAT64: the 1 and 10 000 flow sets */
	for (int f = 0; f < NAT64_SETS && run64 && !stop_requested; f++)
		if (listed(set_list, sets[f].key))
			run_nat64(skel, fcnat, cli_if, gw_in, &sets[f], &frame6, f == 0,
				  pps64[f], new_pps64[f], ns64, verdict64);
	if (stop_requested) {
		fprintf(stderr, "interrupted\n");
		bench_xdp__destroy(skel);
		return 1;
	}

	for (int f = 0; f < NSETS && run44; f++) {
		double masq = pps[f][2][0], masq_new = new_pps[f][2][0];
		double bare = pps[f][0][0], nofib = pps[f][LINE_NOFIB][0];
		double ceiling = pps[f][LINE_GEN][0];

		if (!ran[f])
			continue;
		printf("\n%-32s %11s %7s %7s %7s %8s %11s %6s %8s\n", sets[f].name, "pps",
		       "x masq", "x bare", "x nofib", "x 1 flow", "new flows/s", "x masq",
		       "ns > gen");
		for (int k = 0; k < NLINES; k++) {
			int i = print_order[k];
			double p = pps[f][i][0], one = pps[0][i][0], nw = new_pps[f][i][0];

			if (line_list && !listed(line_list, line_keys[i]))
				continue;
			/* One thread: the source, the gateway and the sink run one
			 * after the other on its CPU (each veth's NAPI is scheduled
			 * where its peer sent), so a line's time per packet less the
			 * ceiling's is what the gateway adds. */
			double net = i != LINE_GEN && ceiling > 0 && p > 0 ? 1e9 / p - 1e9 / ceiling
									 : 0;

			printf("%-32s %11.0f %7.2f %7.2f %7.2f %8.2f %11.0f %6.2f %8.0f%s\n",
			       names[i], p, masq > 0 ? p / masq : 0, bare > 0 ? p / bare : 0,
			       nofib > 0 ? p / nofib : 0, one > 0 ? p / one : 0,
			       sets[f].nflows > 1 ? nw : 0,
			       sets[f].nflows > 1 && masq_new > 0 ? nw / masq_new : 0, net,
			       i != LINE_GEN && ceiling > 0 && p >= GEN_BOUND * ceiling
			       ? "  generator-bound" : "");
		}
		if (!pps[f][0][1] && !pps[f][3][1] && !pps[f][4][1] && !pps[f][LINE_NOFIB][1] &&
		    !pps[f][LINE_GEN][1])
			continue;
		printf("%-32s %11s %7s %7s %7s\n", "  two queues, two threads", "pps",
		       "x 1 q", "x bare", "x nofib");
		for (int k = 0; k < NLINES; k++) {
			int i = print_order[k];
			double p = pps[f][i][1];

			if (!p)
				continue;
			printf("  %-30s %11.0f %7.2f %7.2f %7.2f%s\n", names[i], p,
			       pps[f][i][0] > 0 ? p / pps[f][i][0] : 0,
			       pps[f][0][1] > 0 ? p / pps[f][0][1] : 0,
			       pps[f][LINE_NOFIB][1] > 0 ? p / pps[f][LINE_NOFIB][1] : 0,
			       i != LINE_GEN && pps[f][LINE_GEN][1] > 0 &&
			       p >= GEN_BOUND * pps[f][LINE_GEN][1] ? "  generator-bound" : "");
		}
	}
	for (int f = 0; f < NAT64_SETS && run64; f++) {
		char title[64];

		if (!listed(set_list, sets[f].key))
			continue;
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

			if (!timed[t] || !verdict[t][m][1])
				continue;	/* that line was not run */
			snprintf(label, sizeof(label), "%s, %s", m ? "fc_xdp_int" : tc_target,
				 t ? "1M sessions" : "1 session");
			printf("%-34s %9.1f %9.1f %9.1f %3u/%u/%u\n", label, ns[t][m][0],
			       ns[t][m][1] - ns[t][m][0], ns[t][m][2] - ns[t][m][0],
			       verdict[t][m][0], verdict[t][m][1], verdict[t][m][2]);
		}
	for (int f = 0; f < NSETS && run44; f++) {
		char label[64];

		if (cold_ns[f] <= 0)
			continue;
		/* Each run the next flow's mapping and session: cold. */
		snprintf(label, sizeof(label), "fc_xdp_int, cycling %s", sets[f].name);
		printf("%-34s %9s %9.1f\n", label, "", cold_ns[f]);
	}
	for (int m = 0; m < 2 && run64 && listed(set_list, "1"); m++)
		printf("%-34s %9.1f %9.1f %9.1f %3u/%u/%u\n",
		       m ? "NAT64 fc_xdp_int (xdp)" : "NAT64 fc_tc_int_ingress (tc)",
		       ns64[m][0], ns64[m][1] - ns64[m][0], ns64[m][2] - ns64[m][0],
		       verdict64[m][0], verdict64[m][1], verdict64[m][2]);
	bench_xdp__destroy(skel);
	return 0;
}
