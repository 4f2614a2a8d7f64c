// SPDX-License-Identifier: GPL-2.0
/* What the forwarding benchmarks share: see fwdbench.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
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

#include "bench_xdp.skel.h"
#include "fwdbench.h"
#include "pkt.h"

/* Names with our pid (exported to the shell commands as $CLI, $GW, $SRV,
 * fcnat's bpffs directory as $BPFFS): another run at the same time, or a
 * test's namespaces, never collide with ours. */
char ns_names[3][32], bpffs_dir[64];
int ns_fd[3], home_fd;

/* What cleanup() undoes: the daemon running now (fcnat or tayga), the
 * directory of tayga's files and the daemons' logs; stop_requested is set by
 * SIGINT/SIGTERM. */
pid_t daemon_pid;
char work_dir[64];
volatile sig_atomic_t stop_requested;

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

void enter(int i)
{
	if (setns(i < 0 ? home_fd : ns_fd[i], CLONE_NEWNET))
		perror("setns");
}

void teardown(void)
{
	for (int i = 0; i < 3; i++)
		if (ns_names[i][0])
			sh("ip netns del %s 2>/dev/null", ns_names[i]);
}

void stop_daemon(void)
{
	int st;

	if (daemon_pid <= 0)
		return;
	kill(daemon_pid, SIGTERM);
	kill(daemon_pid, SIGCONT);	/* fwdbench_offload may have stopped it */
	waitpid(daemon_pid, &st, 0);
	daemon_pid = 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

int topology(void)
{
	teardown();
	if (sh("set -e\n"
	       "for n in $CLI $GW $SRV; do ip netns add $n; ip -n $n link set lo up; done\n"
	       /* Two queues each: one generator thread per CPU uses its own. */
	       "ip -n $CLI link add b0 numtxqueues 2 numrxqueues 2 type veth peer name b0 "
	       "numtxqueues 2 numrxqueues 2 netns $GW\n"
	       "ip -n $GW link add b1 numtxqueues 2 numrxqueues 2 type veth peer name b1 "
	       "numtxqueues 2 numrxqueues 2 netns $SRV\n"
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
int read_mac(int ns, const char *ifname, uint8_t mac[6])
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

__u64 sink_total(struct bench_xdp *skel)
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

struct gen_thread {
	struct bench_xdp *skel;
	int cli_ifindex, cpu;		/* cpu < 0: not pinned */
	__u64 npackets;
	double t0, max_s, t;		/* t: when it stopped */
	pthread_t tid;
};

enum gen_source gen_source = GEN_XDP_LIVE;

const char *gen_source_name(void)
{
	return gen_source == GEN_TC_CLONE
		? "TC bpf_clone_redirect bursts (BPF_PROG_TEST_RUN, sched_cls)"
		: "XDP live frames (BPF_PROG_TEST_RUN, BPF_F_TEST_XDP_LIVE_FRAMES)";
}

/* n frames from bench_gen (XDP live frames), in batches of 64. */
static int gen_xdp_live(struct bench_xdp *skel, uint8_t *frame, __u32 len, int ifindex,
			__u64 n)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = n,
		    .batch_size = 64, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.bench_gen), &o)) {
		perror("live frames test run");
		return -1;
	}
	return 0;
}

/* About n frames from bench_gen_tc: runs of GEN_BURST clones each (fewer
 * in a single run when n is smaller); returns the frames sent, -1 if the
 * kernel sent none. */
static __s64 gen_tc_clone(struct bench_xdp *skel, uint8_t *frame, __u32 len, __u64 n)
{
	__u32 burst = n < GEN_BURST ? n : GEN_BURST;
	struct __sk_buff ctx = { .cb = { burst } };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = n / burst);

	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.bench_gen_tc), &o)) {
		perror("TC clone test run");
		return -1;
	}
	if (o.retval != burst) {	/* the last run's clones */
		fprintf(stderr, "TC clone source: %u of %u clones sent\n", o.retval, burst);
		return -1;
	}
	return (__u64)burst * (n / burst);
}

__s64 gen_send(struct bench_xdp *skel, uint8_t *frame, __u32 len, int ifindex, __u64 n)
{
	if (gen_source == GEN_TC_CLONE)
		return gen_tc_clone(skel, frame, len, n);
	return gen_xdp_live(skel, frame, len, ifindex, n) ? -1 : (__s64)n;
}

/* One generator thread: its own network namespace (setns is per thread)
 * and, with two, its own CPU, so each sends into its own veth queue. */
static void *gen_run(void *arg)
{
	struct gen_thread *g = arg;
	struct bench_xdp *skel = g->skel;
	uint8_t frame[sizeof(skel->bss->gen_frame)];
	__u32 len = skel->bss->gen_len;
	__u64 sent = 0, npackets = g->npackets;
	double t0 = g->t0, max_s = g->max_s, t = now_s();

	if (g->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(g->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
		enter(0);
	}
	memcpy(frame, skel->bss->gen_frame, len);
	while (sent < npackets && t - t0 < max_s && !stop_requested) {
		__u64 n = npackets - sent < BATCH_REPEAT ? npackets - sent : BATCH_REPEAT;

		__s64 done = gen_send(skel, frame, len, g->cli_ifindex, n);

		if (done < 0)
			break;
		sent += done;
		t = now_s();
	}
	g->t = t;
	return NULL;
}

int gen_threads = 1;	/* 1 or 2 (NQUEUES) */

/* Send npackets (at most max_s seconds) from the client, from gen_threads
 * threads (npackets each); returns the packets/s the server counted over
 * that time. */
double send_count(struct bench_xdp *skel, int cli_ifindex, __u64 npackets, double max_s)
{
	struct gen_thread g[NQUEUES];
	__u64 before = sink_total(skel);
	double t0 = now_s(), t = t0;

	for (int i = 0; i < gen_threads; i++) {
		g[i] = (struct gen_thread){ .skel = skel, .cli_ifindex = cli_ifindex,
					    .cpu = gen_threads > 1 ? i : -1,
					    .npackets = npackets, .t0 = t0, .max_s = max_s };
		if (gen_threads == 1)
			gen_run(&g[i]);	/* in the caller's namespace (the client's) */
		else if (pthread_create(&g[i].tid, NULL, gen_run, &g[i]))
			g[i].t = t0;
	}
	for (int i = 0; i < gen_threads; i++) {
		if (gen_threads > 1 && g[i].t == 0)
			pthread_join(g[i].tid, NULL);
		if (g[i].t > t)
			t = g[i].t;
	}
	usleep(100000);	/* let the last frames arrive */
	return t > t0 ? (sink_total(skel) - before) / (t - t0) : 0;
}



/* The daemon's stderr, in the work directory (shown if it fails). */
void daemon_log_path(char *path, size_t len)
{
	snprintf(path, len, "%s/daemon.log", work_dir);
}

void show_daemon_log(void)
{
	char path[128];

	daemon_log_path(path, sizeof(path));
	sh("tail -5 %s >&2", path);
}

int daemon_log_open(void)
{
	char path[128];

	daemon_log_path(path, sizeof(path));
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

/* The generator's frame (bench_gen sends it) */
void use_frame(struct bench_xdp *skel, const struct bench_frame *f)
{
	memcpy(skel->bss->gen_frame, f->data, f->len);
	skel->bss->gen_len = f->len;
	skel->bss->gen_l4off = f->l4off;
}

/* Is key in the comma-separated list? */
int listed(const char *list, const char *key)
{
	size_t n = strlen(key);

	for (const char *at = list; at && *at; at = strchr(at, ',') ? strchr(at, ',') + 1 : NULL)
		if (!strncmp(at, key, n) && (at[n] == ',' || !at[n]))
			return 1;
	return 0;
}

/* Some kernels refuse BPF_F_TEST_XDP_LIVE_FRAMES even to root (a lockdown
 * or BPF LSM policy: this machine's 6.18 answers EPERM). Then the packets
 * come from bench_gen_tc's clones instead (gen_source); whether the kernel
 * sends those shows in the generator ceiling's line. Returns the errno of
 * the live-frames probe, 0 if it ran. */
static int live_frames_refused(void)
{
	struct bpf_insn drop[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_DROP },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	uint8_t frame[64] = { [12] = 0x08 };
	int fd, err = 0;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = 1, .batch_size = 1, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "live_probe", "GPL", drop, 2, NULL);
	if (fd < 0)
		return errno;
	if (bpf_prog_test_run_opts(fd, &o))
		err = errno;
	close(fd);
	return err;
}

void gen_choose_source(void)
{
	int err = live_frames_refused();

	gen_source = err ? GEN_TC_CLONE : GEN_XDP_LIVE;
	printf("packet source: %s", gen_source_name());
	if (err)
		printf("; XDP live frames refused (%s)", strerror(err));
	printf("\n");
	fflush(stdout);
}

/* Our names (with the pid), the work directory, SIGINT/SIGTERM, the
 * initial namespace's fd; the caller registers its cleanup at exit. */

int bench_init(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

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
		return -1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return home_fd < 0 ? -1 : 0;
}

struct bench_xdp *bench_load(struct pkt_spec *s, const uint8_t gw_mac[6],
			     const uint8_t cli_mac[6], struct bench_frame *f)
{
	struct bench_xdp *skel = bench_xdp__open_and_load();
	uint8_t buf[PKT_MAX];

	if (!skel) {
		fprintf(stderr, "cannot load the benchmark programs\n");
		return NULL;
	}
	s->dmac = gw_mac;
	s->smac = cli_mac;
	if (pkt_build(s, buf) != 64) {
		fprintf(stderr, "frame is not 64 bytes\n");
		bench_xdp__destroy(skel);
		return NULL;
	}
	buf[40] = buf[41] = 0;	/* no UDP checksum: the generator changes ports */
	memcpy(f->data, buf, 64);
	f->len = 64;
	return skel;
}
