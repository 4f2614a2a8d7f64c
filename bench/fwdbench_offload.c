// SPDX-License-Identifier: GPL-2.0
/*
 * Conntrack offload benchmark (issue 19, doc/design/offload.md): the same
 * 64-byte UDP flows, masqueraded by nftables on the gateway, forwarded
 *   by the stack (nftables masquerade),
 *   by `fcnat offload --mode tc`, and `--mode xdp` (native),
 *   by an nftables flowtable, where the kernel has one,
 * for 1, 10 000 and 1 000 000 flows, on fwdbench's topology (client ns ->
 * gateway ns -> server ns over veth, fwdbench_common.c).
 *
 * The offload takes only flows conntrack has ASSURED, and Linux makes a UDP
 * entry ASSURED only when it has been answered and a packet still comes two
 * seconds after it began. So each line first establishes its flows: the
 * server's sink answers (bench_sink with sink_reflect: addresses and ports
 * swapped, XDP_TX; the client's bench_cli_sink counts and drops the
 * answers), a paced pass sends every flow once, a second pass 2.2 s later
 * makes them ASSURED, and rounds repeat (bounded) until the offload reports
 * every flow offloaded. Then the sink stops answering and counts SECONDS of
 * one-way traffic cycling through the flows. Printed per line: packets/s,
 * ratio to masquerade and to the same line at 1 flow, how many flows were
 * offloaded before timing and what share of the timed packets the fast path
 * carried (the offload's `forwarded` counter), the daemon's CPU share, and
 * the offload lines timed again with the daemon stopped (SIGSTOP: the
 * datapath without the daemon's once-a-second timeout refreshes). A line
 * whose flows were not offloaded prints no rate.
 *
 * Usage: fwdbench_offload [FCNAT]; FWDBENCH_SETS=1,10k,1m,200k (default
 * 1,10k,1m), FWDBENCH_LINES=masq,tc,xdp,ft (default all),
 * FWDBENCH_DEBUG=1 (the offload's counters and conntrack after each round).
 * Needs root; leaves nothing behind, also on SIGINT/SIGTERM.
 *
 * The 1m set needs 1.1M conntrack entries in the gateway's namespace, and a
 * namespace cannot hold more than the initial namespace's nf_conntrack_max
 * allows: for that set the bench raises the host's nf_conntrack_max (and
 * nf_conntrack_buckets, the hash) for its run, says so, and puts the old
 * values back on every exit (atexit; SIGINT/SIGTERM end the run that way).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "bench_xdp.skel.h"
#include "fcnat/offload.h"
#include "fwdbench.h"
#include "pkt.h"

#define SECONDS 3.0		/* timed phase, per line */
#define PASS_S 20.0		/* each establishing pass, at most */
#define ROUNDS_MAX 4		/* establishing rounds (pass, 2.2 s, pass), at most */
#define CHUNK 128		/* paced passes: frames per call, then a pause */
#define CT_MAX_WANT 1100000
#define CT_BUCKETS_WANT 1048576

struct oset {
	const char *name, *key;
	__u32 nflows, endpoints;	/* remotes = nflows / endpoints */
	__u16 sport, dport;
};

static const struct oset sets[] = {
	{ "1 flow", "1", 1, 1, 21000, 9000 },
	{ "10 000 flows", "10k", 10000, 10000, 30000, 9000 },
	{ "1 000 000 flows", "1m", 1000000, 10000, 40000, 9100 },
	/* Only when asked: the most this host's nf_conntrack_max (262 144) holds. */
	{ "200 000 flows", "200k", 200000, 10000, 50000, 9300 },
};
#define NSETS (int)(sizeof(sets) / sizeof(sets[0]))

enum { L_MASQ, L_TC, L_XDP, L_FT, NLINES };
static const char *const line_keys[NLINES] = { "masq", "tc", "xdp", "ft" };
static const char *const names[NLINES] = {
	"stack + nftables masquerade", "fcnat offload --mode tc",
	"fcnat offload --mode xdp", "nftables flowtable",
};

struct result {
	double pps;
	long offloaded;		/* flows offloaded before timing; -1: not known */
	double fast;		/* share of the timed packets the fast path carried; -1 */
	double cpu;		/* the offload daemon's CPU share while timed; -1 */
	double paused;		/* packets/s again with the daemon stopped; 0 */
	char note[96];		/* set: the line did not run or has no rate */
};

static struct bench_xdp *skel;
static int cli_if, gw_out;
static char stats_path[128];

/* The host's conntrack limits as found, while the bench has raised them
 * (-1: untouched). */
static long host_ct_max = -1, host_ct_buckets = -1;

static long sysctl_read(const char *name)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/netfilter/%s", name);
	f = fopen(path, "r");
	if (f && fscanf(f, "%ld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

/* In the initial namespace (where main runs between enter() calls). */
static void host_ct_raise(void)
{
	long max = sysctl_read("nf_conntrack_max"), buckets = sysctl_read("nf_conntrack_buckets");

	if (max >= 0 && max < CT_MAX_WANT &&
	    !sh("sysctl -qw net.netfilter.nf_conntrack_max=%d", CT_MAX_WANT)) {
		host_ct_max = max;
		fprintf(stderr, "raised the host's net.netfilter.nf_conntrack_max from %ld to %d "
			"for this run (put back at exit)\n", max, CT_MAX_WANT);
	}
	/* About one entry per bucket, as the kernel sizes it by default. */
	if (buckets >= 0 && buckets < CT_BUCKETS_WANT &&
	    !sh("sysctl -qw net.netfilter.nf_conntrack_buckets=%d", CT_BUCKETS_WANT)) {
		host_ct_buckets = buckets;
		fprintf(stderr, "raised the host's net.netfilter.nf_conntrack_buckets from %ld "
			"to %d for this run (put back at exit)\n", buckets, CT_BUCKETS_WANT);
	}
}

static void host_ct_restore(void)
{
	if (host_ct_max >= 0) {
		sh("sysctl -qw net.netfilter.nf_conntrack_max=%ld", host_ct_max);
		fprintf(stderr, "put the host's nf_conntrack_max back to %ld\n", host_ct_max);
		host_ct_max = -1;
	}
	if (host_ct_buckets >= 0) {
		sh("sysctl -qw net.netfilter.nf_conntrack_buckets=%ld", host_ct_buckets);
		fprintf(stderr, "put the host's nf_conntrack_buckets back to %ld\n",
			host_ct_buckets);
		host_ct_buckets = -1;
	}
}

static void cleanup(void)
{
	stop_daemon();
	if (work_dir[0])
		sh("rm -rf %s", work_dir);
	sh("rm -rf $BPFFS; ip netns exec $GW rm -rf $BPFFS 2>/dev/null");
	/* The namespaces first: their entries leave before the limit drops. */
	teardown();
	host_ct_restore();
}

static __u64 cli_total(void)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 v[ncpu], sum = 0;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.cli_count), &zero, v))
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

/* Every flow once, in order, in calls of CHUNK frames with a pause after
 * each, so the gateway's stack (a new conntrack entry per packet) is not
 * flooded past its veth ring; at most PASS_S. In the client's namespace. */
static void paced_pass(__u32 nflows)
{
	uint8_t frame[sizeof(skel->bss->gen_frame)];
	__u32 len = skel->bss->gen_len;
	double t0 = now_s();

	memcpy(frame, skel->bss->gen_frame, len);
	memset(skel->bss->gen_seq, 0, sizeof(skel->bss->gen_seq));
	for (__u32 sent = 0; sent < nflows && now_s() - t0 < PASS_S && !stop_requested;) {
		__u32 n = nflows - sent < CHUNK ? nflows - sent : CHUNK;
		__s64 done = gen_send(skel, frame, len, cli_if, n);

		if (done < 0)
			return;
		sent += done;
		usleep(500);
	}
}

/* A number from the offload's --stats-file ("key": N); -1 if absent. */
static long long stat_read(const char *key)
{
	char buf[4096], pat[64];
	long long v = -1;
	char *at;
	FILE *f = fopen(stats_path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	at = strstr(buf, pat);
	if (at)
		v = strtoll(at + strlen(pat), NULL, 10);
	return v;
}

/* The offload's forwarded counter, read from its fo_stats map (the newest
 * map of that name: the daemon just started), not from the stats file, which
 * a daemon busy with its refreshes writes late. -1 if not found. */
static long long fo_forwarded(void)
{
	int ncpu = libbpf_num_possible_cpus(), fd;
	__u32 id = 0, best = 0, key = FO_STAT_FORWARDED;
	__u64 v[ncpu];
	long long sum = 0;

	while (!bpf_map_get_next_id(id, &id)) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		fd = bpf_map_get_fd_by_id(id);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, "fo_stats"))
			best = id;
		close(fd);
	}
	fd = best ? bpf_map_get_fd_by_id(best) : -1;
	if (fd < 0 || bpf_map_lookup_elem(fd, &key, v)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

/* CPU seconds the daemon has used (user + system), -1 if unknown. */
static double daemon_cpu(void)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)daemon_pid);
	f = daemon_pid > 0 ? fopen(path, "r") : NULL;
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* After the command name's ")": state is field 3, utime 14, stime 15. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

/* Conntrack entries of the gateway with that word in conntrack -L's line. */
static long ct_count(const char *word)
{
	char cmd[256];
	long n = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s conntrack -L -p udp 2>/dev/null | grep -c %s",
		 ns_names[1], word);
	p = popen(cmd, "r");
	if (p && fscanf(p, "%ld", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

static int start_offload(const char *fcnat, int xdp, __u32 nflows)
{
	char max[16], logp[160];
	pid_t pid;
	int log = daemon_log_open();

	snprintf(max, sizeof(max), "%u", nflows < 65536 ? 65536 : nflows + nflows / 10);
	pid = fork();
	if (pid == 0) {
		dup2(log, 2);
		execlp("ip", "ip", "netns", "exec", ns_names[1], fcnat, "offload", "--mode",
		       xdp ? "xdp" : "tc", "-i", "b0", "-i", "b1", "--xdp-mode", "native",
		       "--max-flows", max, "--stats-file", stats_path, "--bpffs", bpffs_dir,
		       (char *)NULL);
		_exit(127);
	}
	if (log >= 0)
		close(log);
	daemon_pid = pid;
	daemon_log_path(logp, sizeof(logp));
	for (int i = 0; i < 300 && !stop_requested; i++) {
		int st;

		if (!sh("grep -q 'ready:' %s", logp) && !access(stats_path, R_OK))
			return 0;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			daemon_pid = 0;
			break;
		}
		usleep(100000);
	}
	fprintf(stderr, "fcnat offload --mode %s did not start:\n", xdp ? "xdp" : "tc");
	show_daemon_log();
	return -1;
}

/* The gateway's ruleset: masquerade out of b1; with ft, a flowtable on both
 * interfaces that every forwarded UDP flow is added to. */
static int ruleset(int ft)
{
	return sh("ip netns exec $GW nft 'add table ip fcbo; add chain ip fcbo post { type nat "
		  "hook postrouting priority 100; }; add rule ip fcbo post oifname b1 masquerade'"
		  "%s",
		  ft ? "&& ip netns exec $GW nft 2>/dev/null 'add flowtable ip fcbo ft { hook ingress priority 0; "
		       "devices = { b0, b1 }; }; add chain ip fcbo forw { type filter hook forward "
		       "priority 0; }; add rule ip fcbo forw meta l4proto udp flow add @ft'"
		     : "");
}

static int have_flowtable(void)
{
	int ok = !ruleset(1);

	sh("ip netns exec $GW nft delete table ip fcbo 2>/dev/null");
	return ok;
}

/* Rounds of pass, 2.2 s, pass until every flow is offloaded (offload
 * lines) or ROUNDS_MAX; the sink answers meanwhile. Returns the flows
 * offloaded (offload lines), or ASSURED / OFFLOAD entries in conntrack
 * (up to 100 000 flows; else -1). */
static long establish(const struct oset *fs, int line)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo);
	int pass = line != L_XDP;
	long done = -1;

	/* (The XDP line's own program takes the answers on b1.) */
	enter(1);
	if (pass && bpf_xdp_attach(gw_out, bpf_program__fd(skel->progs.bench_pass),
				   XDP_FLAGS_DRV_MODE, &xo))
		perror("attach bench_pass");
	enter(-1);
	skel->bss->sink_reflect = 1;
	for (int r = 1; r <= ROUNDS_MAX && !stop_requested; r++) {
		__u64 a0 = cli_total();

		enter(0);
		paced_pass(fs->nflows);
		usleep(2200000);	/* conntrack: still answered 2 s after it began */
		paced_pass(fs->nflows);
		enter(-1);
		usleep(300000);
		if (line == L_TC || line == L_XDP) {
			/* The daemon reads the ASSURED events (or re-dumps): up to 5 s. */
			for (int i = 0; i < 50 && !stop_requested; i++) {
				done = stat_read("offloaded_flows");
				if (done >= fs->nflows)
					break;
				usleep(100000);
			}
		} else if (fs->nflows <= 100000) {
			done = ct_count(line == L_FT ? "OFFLOAD" : "ASSURED");
		}
		fprintf(stderr, "  %s, %s, round %d: %llu answers, %ld of %u flows %s\n", fs->name,
			names[line], r, (unsigned long long)(cli_total() - a0), done, fs->nflows,
			line == L_MASQ ? "assured" : "offloaded");
		if (getenv("FWDBENCH_DEBUG"))
			sh("cat %s >&2; ip netns exec $GW conntrack -L >&2; ip -n $GW -s link show b1 >&2;"
			   "ip netns exec $GW nstat -a >&2", stats_path);
		if (done >= fs->nflows || line == L_MASQ || (line == L_FT && done < 0))
			break;
	}
	skel->bss->sink_reflect = 0;
	usleep(200000);
	enter(1);
	if (pass)
		bpf_xdp_detach(gw_out, XDP_FLAGS_DRV_MODE, &xo);
	enter(-1);
	return done;
}

static void run_line(const char *fcnat, const struct oset *fs, int line, struct result *res)
{
	int offload = line == L_TC || line == L_XDP;
	long long fwd0 = 0, fwd1;
	double t0, c0, c1;
	__u64 s0, s1;

	memset(res, 0, sizeof(*res));
	res->offloaded = res->fast = res->cpu = -1;
	sh("ip netns exec $GW conntrack -F >/dev/null 2>&1");
	if (ruleset(line == L_FT)) {
		snprintf(res->note, sizeof(res->note), "not run: ruleset refused");
		return;
	}
	if (offload && start_offload(fcnat, line == L_XDP, fs->nflows)) {
		snprintf(res->note, sizeof(res->note), "not run: the offload did not start");
		goto out;
	}
	skel->bss->gen_nflows = fs->nflows;
	skel->bss->gen_endpoints = fs->endpoints;
	skel->bss->gen_sport = fs->sport;
	skel->bss->gen_dport = fs->dport;
	skel->bss->gen_zipf = skel->bss->gen_percpu = 0;
	res->offloaded = establish(fs, line);
	if (stop_requested)
		goto out;
	if (offload && res->offloaded <= 0) {
		snprintf(res->note, sizeof(res->note), "not offloaded (%ld of %u flows): no rate",
			 res->offloaded < 0 ? 0 : res->offloaded, fs->nflows);
		goto out;
	}
	/* Every line: 2 s for the daemon to take in the last events first. */
	sleep(2);
	if (offload)
		fwd0 = fo_forwarded();
	memset(skel->bss->gen_seq, 0, sizeof(skel->bss->gen_seq));
	s0 = sink_total(skel);
	c0 = daemon_cpu();
	t0 = now_s();
	enter(0);
	res->pps = send_count(skel, cli_if, ~0ULL, SECONDS);
	enter(-1);
	s1 = sink_total(skel);
	c1 = daemon_cpu();
	if (c0 >= 0 && c1 >= c0)
		res->cpu = (c1 - c0) / (now_s() - t0);
	if (offload) {
		usleep(100000);	/* the last frames */
		fwd1 = fo_forwarded();
		if (s1 > s0 && fwd0 >= 0 && fwd1 >= fwd0)
			res->fast = (double)(fwd1 - fwd0) / (s1 - s0);
		/* Again with the daemon stopped: the datapath without the
		 * refreshes' CPU (a few seconds without them changes nothing:
		 * the entries' timeouts are far longer). */
		kill(daemon_pid, SIGSTOP);
		memset(skel->bss->gen_seq, 0, sizeof(skel->bss->gen_seq));
		enter(0);
		res->paused = send_count(skel, cli_if, ~0ULL, SECONDS);
		enter(-1);
		kill(daemon_pid, SIGCONT);
	}
out:
	if (offload) {
		stop_daemon();
		sh("rm -rf $BPFFS; ip netns exec $GW rm -rf $BPFFS 2>/dev/null");
	}
	sh("ip netns exec $GW nft delete table ip fcbo 2>/dev/null");
}

int main(int argc, char **argv)
{
	const char *fcnat = argc > 1 ? argv[1] : "build/fcnat";
	const char *set_list = getenv("FWDBENCH_SETS"), *line_list = getenv("FWDBENCH_LINES");
	struct pkt_spec s = { .proto = 17, .saddr = "10.0.1.2", .daddr = "10.0.2.2",
			      .sport = 21000, .dport = 9000, .payload_len = 22 };
	struct bench_frame frame4 = { .l4off = 34 };
	uint8_t gw_mac[6], cli_mac[6];
	static struct result res[NSETS][NLINES];
	int ran[NSETS] = {}, srv_if, ft;
	long ct_max = 0;
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo);
	FILE *p;

	if (!set_list)
		set_list = "1,10k,1m";
	gen_choose_source();
	if (bench_init())
		return 1;
	atexit(cleanup);
	if (topology() || read_mac(1, "b0", gw_mac) || read_mac(0, "b0", cli_mac)) {
		fprintf(stderr, "cannot build the benchmark topology\n");
		return 1;
	}
	skel = bench_load(&s, gw_mac, cli_mac, &frame4);
	if (!skel)
		return 1;
	use_frame(skel, &frame4);
	snprintf(stats_path, sizeof(stats_path), "%s/offload.json", work_dir);

	enter(0);
	cli_if = if_nametoindex("b0");
	/* The answers end here (counted, dropped; NAPI for redirected frames). */
	if (bpf_xdp_attach(cli_if, bpf_program__fd(skel->progs.bench_cli_sink),
			   XDP_FLAGS_DRV_MODE, &xo))
		perror("attach bench_cli_sink");
	enter(1);
	gw_out = if_nametoindex("b1");
	enter(2);
	srv_if = if_nametoindex("b1");
	if (bpf_xdp_attach(srv_if, bpf_program__fd(skel->progs.bench_sink), XDP_FLAGS_DRV_MODE,
			   &xo))
		perror("attach bench_sink");
	enter(-1);
	skel->bss->gen_ifindex = cli_if;
	if (listed(set_list, "1m"))
		host_ct_raise();
	/* As many entries as the kernel lets this namespace have. */
	sh("ip netns exec $GW sysctl -qw net.netfilter.nf_conntrack_max=%d 2>/dev/null",
	   CT_MAX_WANT);
	p = popen("ip netns exec $GW cat /proc/sys/net/netfilter/nf_conntrack_max", "r");
	if (p && fscanf(p, "%ld", &ct_max) != 1)
		ct_max = 0;
	if (p)
		pclose(p);
	ft = have_flowtable();

	for (int f = 0; f < NSETS && !stop_requested; f++) {
		const struct oset *fs = &sets[f];

		if (!listed(set_list, fs->key))
			continue;
		ran[f] = 1;
		for (int l = 0; l < NLINES && !stop_requested; l++) {
			if (line_list && !listed(line_list, line_keys[l])) {
				snprintf(res[f][l].note, sizeof(res[f][l].note), "not run: not asked");
				continue;
			}
			if (l == L_FT && !ft) {
				snprintf(res[f][l].note, sizeof(res[f][l].note),
					 "not run: no nf_flow_table");
				continue;
			}
			if (ct_max < fs->nflows + fs->nflows / 10) {
				snprintf(res[f][l].note, sizeof(res[f][l].note),
					 "not run: nf_conntrack_max is %ld here", ct_max);
				continue;
			}
			fprintf(stderr, "%s: %s\n", fs->name, names[l]);
			run_line(fcnat, fs, l, &res[f][l]);
		}
	}
	if (stop_requested) {
		fprintf(stderr, "interrupted\n");
		bench_xdp__destroy(skel);
		return 1;
	}
	printf("\nConntrack offload: 64-byte UDP through nftables masquerade, flows established "
	       "(ASSURED) first\n");
	for (int f = 0; f < NSETS; f++) {
		double masq = res[f][L_MASQ].pps;

		if (!ran[f])
			continue;
		printf("\n%-30s %11s %7s %8s %15s %9s %7s %11s %7s\n", sets[f].name, "pps",
		       "x masq", "x 1 flow", "offloaded", "fast path", "daemon", "pps paused",
		       "x masq");
		for (int l = 0; l < NLINES; l++) {
			const struct result *r = &res[f][l];
			double one = res[0][l].pps;
			char off[32] = "-", fast[16] = "-", cpu[16] = "-", pp[16] = "-", pm[16] = "-";

			if (r->note[0]) {
				printf("%-30s %s\n", names[l], r->note);
				continue;
			}
			if (r->offloaded >= 0)
				snprintf(off, sizeof(off), "%ld/%u", r->offloaded, sets[f].nflows);
			if (r->fast >= 0)
				snprintf(fast, sizeof(fast), "%.1f%%", 100 * r->fast);
			if (r->cpu >= 0)
				snprintf(cpu, sizeof(cpu), "%.0f%%", 100 * r->cpu);
			if (r->paused > 0) {
				snprintf(pp, sizeof(pp), "%.0f", r->paused);
				snprintf(pm, sizeof(pm), "%.2f", masq > 0 ? r->paused / masq : 0);
			}
			printf("%-30s %11.0f %7.2f %8.2f %15s %9s %7s %11s %7s\n", names[l], r->pps,
			       masq > 0 ? r->pps / masq : 0, one > 0 ? r->pps / one : 0, off, fast,
			       cpu, pp, pm);
		}
	}
	printf("(offloaded: flows the offload carried before timing; for masquerade ASSURED\n"
	       "and for the flowtable OFFLOAD conntrack entries; fast path: the offload's\n"
	       "forwarded packets over those the server counted while timed; daemon: its CPU\n"
	       "time over the timed phase, of one CPU: the timeout refreshes; pps paused: timed\n"
	       "again right after with the daemon stopped)\n");
	bench_xdp__destroy(skel);
	return 0;
}
