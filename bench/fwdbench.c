// SPDX-License-Identifier: GPL-2.0
/*
 * Forwarding benchmark, side by side in one run: client ns -> gateway ns ->
 * server ns over veth, 64-byte UDP, one flow. The client sends with an XDP
 * live-frames generator (BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES),
 * the server counts in XDP; the gateway runs, in turn:
 *   bare XDP forwarding (FIB + MAC rewrite + redirect, no NAT): the ceiling
 *   Linux forwarding, no NAT
 *   nftables masquerade
 *   fcnat --mode tc
 *   fcnat --mode xdp
 * and the packets/s the server received are printed, with ratios to
 * masquerade and to bare XDP. Bounded: each line runs SECONDS seconds, in
 * calls of at most BATCH_REPEAT frames. Needs root; leaves nothing behind.
 */
#define _GNU_SOURCE
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

#define SECONDS 3.0
#define BATCH_REPEAT 200000

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

/* Send for SECONDS from the client; packets/s the server counted. */
static double measure(struct bench_xdp *skel, int cli_ifindex)
{
	uint8_t frame[64];
	struct xdp_md ctx = { .data_end = sizeof(frame), .ingress_ifindex = cli_ifindex };
	__u64 before;
	double t0, t = 0;

	memcpy(frame, skel->bss->gen_frame, sizeof(frame));
	enter(0);
	/* Warm-up: neighbours, mappings, caches. */
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame),
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1000,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
		bpf_prog_test_run_opts(bpf_program__fd(skel->progs.bench_gen), &o);
	}
	usleep(200000);
	before = sink_total(skel);
	t0 = now_s();
	do {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame),
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = BATCH_REPEAT,
			    .batch_size = 64, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

		if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.bench_gen), &o)) {
			perror("live frames test run");
			break;
		}
		t = now_s();
	} while (t - t0 < SECONDS);
	usleep(100000);	/* let the last frames arrive */
	enter(-1);
	return (sink_total(skel) - before) / (t - t0);
}

static pid_t start_fcnat(const char *fcnat, const char *mode)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		execlp("ip", "ip", "netns", "exec", "fcb-gw", fcnat, "-i", "b1", "--mode", mode,
		       "--internal", "b0", "--bpffs", "/sys/fs/bpf/fcnat-bench", (char *)NULL);
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
}

int main(int argc, char **argv)
{
	const char *fcnat = argc > 1 ? argv[1] : "build/fcnat";
	static const char *const names[5] = {
		"bare XDP forwarding (no NAT)", "Linux forwarding (no NAT)",
		"nftables masquerade", "fcnat --mode tc", "fcnat --mode xdp",
	};
	struct pkt_spec s = { .proto = 17, .saddr = "10.0.1.2", .daddr = "10.0.2.2",
			      .sport = 25000, .dport = 7000, .payload_len = 22 };
	uint8_t gw_mac[6], cli_mac[6], buf[PKT_MAX];
	struct bench_xdp *skel;
	double pps[5] = {};
	int cli_if, gw_in, srv_if;
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo);

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
	memcpy(skel->bss->gen_frame, buf, 64);
	enter(0);
	cli_if = if_nametoindex("b0");
	enter(1);
	gw_in = if_nametoindex("b0");
	enter(2);
	srv_if = if_nametoindex("b1");
	bpf_xdp_attach(srv_if, bpf_program__fd(skel->progs.bench_sink), XDP_FLAGS_DRV_MODE, &xo);
	enter(-1);
	skel->bss->gen_ifindex = cli_if;

	/* 1. bare XDP forwarding */
	enter(1);
	if (bpf_xdp_attach(gw_in, bpf_program__fd(skel->progs.bench_fwd), XDP_FLAGS_DRV_MODE, &xo))
		perror("attach bench_fwd");
	enter(-1);
	pps[0] = measure(skel, cli_if);
	enter(1);
	bpf_xdp_detach(gw_in, XDP_FLAGS_DRV_MODE, &xo);
	enter(-1);
	/* 2. Linux forwarding */
	pps[1] = measure(skel, cli_if);
	/* 3. nftables masquerade */
	sh("ip netns exec fcb-gw nft 'add table ip fcb; add chain ip fcb post { type nat hook "
	   "postrouting priority 100; }; add rule ip fcb post oifname b1 masquerade'");
	pps[2] = measure(skel, cli_if);
	sh("ip netns exec fcb-gw nft delete table ip fcb");
	/* 4, 5. fcnat */
	for (int m = 0; m < 2; m++) {
		pid_t pid = start_fcnat(fcnat, m ? "xdp" : "tc");

		pps[3 + m] = measure(skel, cli_if);
		stop_fcnat(pid);
	}

	printf("%-32s %12s %14s %12s\n", "64-byte UDP, 1 flow", "pps", "x masquerade",
	       "x bare XDP");
	for (int i = 0; i < 5; i++)
		printf("%-32s %12.0f %14.2f %12.2f\n", names[i], pps[i],
		       pps[2] > 0 ? pps[i] / pps[2] : 0, pps[0] > 0 ? pps[i] / pps[0] : 0);
	bench_xdp__destroy(skel);
	teardown();
	return 0;
}
