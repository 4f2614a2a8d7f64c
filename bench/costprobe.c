// SPDX-License-Identifier: GPL-2.0
/*
 * What an established packet costs fcnat's XDP fast path when every packet
 * is of another flow, and what it would cost any stateful design: ns per
 * packet from BPF_PROG_TEST_RUN repeat runs only (one CPU, no veths, no
 * generator, no sink), so the figures hold on a shared machine where
 * forwarding rates swing by 2-3x.
 *
 * Every run goes through bench_run_xdp (bench/bench_xdp.bpf.c): it restores
 * a 64-byte outbound UDP frame, writes the ports of the next flow of the set
 * (flow f: source port SPORT + f % endpoints, remote port DPORT + f /
 * endpoints, as fwdbench's generator does; or flow draws of a Zipf
 * distribution) and tail-calls the target:
 *
 *   restore     probe_nop (the baseline, subtracted from the others)
 *   fc_xdp_int  fcnat's loaded program (unit-test fixture: its private
 *               namespace, FIB and neighbours; tables sized as fwdbench's
 *               fcnat: 100 000 mappings, 1 100 000 sessions)
 *   1 lookup    probe_lookup, one hash lookup (binding key and value) in a
 *               map of fc_bindings' size and flags: the floor of a hit
 *   2 lookups   and the session's in a map of fc_sessions' size and flags
 *   ... (fit)   the same in maps sized for the set (bucket arrays of
 *               2x the entries, not of 1.1M), to see what the tables' size
 *               costs
 *
 * Variants run interleaved (one round of each, then the next round), best
 * of ROUNDS; each round is REPEAT runs (at least a whole cycle of the set).
 *
 * costprobe [-r ROUNDS] [-n REPEAT] [-s SETS] [-p] (SETS: comma-separated of
 * 1,10k,1m,10kz,1mz,100k; -p: preallocated tables, fcnat's and the probe's)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_xdp.skel.h"
#include "fixture.h"
#include "zipf.h"

#define MAX_MAPPINGS	100000
#define MAX_SESSIONS	1100000
#define SPORT		10000
#define DPORT		7000
#define XDP_TX_		3
#define XDP_REDIRECT_	4

struct set {
	const char *key, *name;
	__u32 nflows, endpoints, zipf;
};

static const struct set sets[] = {
	{ "1", "1 flow", 1, 1, 0 },
	{ "10k", "10 000 flows", 10000, 10000, 0 },
	{ "100k", "100 000 flows", 100000, 10000, 0 },
	{ "1m", "1 000 000 flows", 1000000, 10000, 0 },
	{ "10kz", "10 000 flows, Zipf", 10000, 10000, 1 },
	{ "1mz", "1 000 000 flows, Zipf", 1000000, 10000, 1 },
};
#define NSETS (int)(sizeof(sets) / sizeof(sets[0]))

enum variant { V_RESTORE, V_FCNAT, V_LOOK1, V_LOOK2, V_FLOW, V_LOOK1_FIT, V_LOOK2_FIT, V_FLOW_FIT,
	       NVARIANTS };
static const char *const vnames[NVARIANTS] = {
	"restore", "fc_xdp_int", "1 lookup", "2 lookups", "flow", "1 fit", "2 fit", "flow fit",
};
/* probe_lookups of each probe variant. */
static const __u32 vlookups[NVARIANTS] = { 0, 0, 1, 2, 3, 1, 2, 3 };

static int rounds = 5, prealloc;
static __u32 repeat = 1000000;
static uint8_t frame[64];

static int listed(const char *list, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, key, n) && (p[n] == ',' || !p[n]))
			return 1;
	return 0;
}

/* The probe's programs, their maps sized (and flagged) as given. */
static struct bench_xdp *probe_load(__u32 bind_entries, __u32 sess_entries)
{
	struct bench_xdp *s = bench_xdp__open();
	__u32 flags = prealloc ? 0 : BPF_F_NO_PREALLOC;

	if (!s)
		return NULL;
	if (bpf_map__set_max_entries(s->maps.probe_bind, bind_entries) ||
	    bpf_map__set_max_entries(s->maps.probe_sess, sess_entries) ||
	    bpf_map__set_map_flags(s->maps.probe_bind, flags) ||
	    bpf_map__set_map_flags(s->maps.probe_sess, flags) || bench_xdp__load(s)) {
		bench_xdp__destroy(s);
		return NULL;
	}
	return s;
}

static void run_setup(struct bench_xdp *s, const struct set *set, int zipf)
{
	memcpy(s->bss->run_frame, frame, sizeof(frame));
	s->bss->run_vary = 2;
	s->bss->run_seq = 0;
	s->bss->run_nflows = set->nflows;
	s->bss->run_endpoints = set->endpoints;
	s->bss->run_sport = SPORT;
	s->bss->run_dport = DPORT;
	s->bss->run_zipf = zipf;
}

/* n runs of the wrapper into target: ns per run, the last verdict. */
static double run(struct bench_xdp *s, int target, __u32 n, __u32 *verdict)
{
	int map = bpf_map__fd(s->maps.run_xdp_target);
	uint8_t in[64], out[128];
	struct xdp_md ctx = { .data_end = sizeof(in), .ingress_ifindex = fx.int_ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = sizeof(in),
		    .data_out = out, .data_size_out = sizeof(out), .repeat = n,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));
	__u32 zero = 0;

	memcpy(in, frame, sizeof(in));
	if (bpf_map_update_elem(map, &zero, &target, BPF_ANY) ||
	    bpf_prog_test_run_opts(bpf_program__fd(s->progs.bench_run_xdp), &o)) {
		fprintf(stderr, "test run: %s\n", strerror(errno));
		return -1;
	}
	*verdict = o.retval;
	return o.duration;
}

/* One packet of the flow through fc_tc_egress (forwarded from inside). */
static void tc_make(__u16 sport, __u16 dport)
{
	struct pkt_spec spec = { .proto = IPPROTO_UDP, .saddr = CLIENT_A, .sport = sport,
				 .daddr = SERVER_1, .dport = dport, .payload_len = 22 };
	struct run_result r;

	run_spec(fx.egress_fd, &spec, &r);
}

static int fill_probe(struct bench_xdp *s, const struct set *set)
{
	__u32 v;

	run_setup(s, set, 0);
	s->bss->probe_fill = 1;
	s->bss->probe_lookups = 2;
	run(s, bpf_program__fd(s->progs.probe_lookup), set->nflows, &v);
	s->bss->probe_fill = 0;
	if (v != XDP_TX_) {
		fprintf(stderr, "probe fill: verdict %u\n", v);
		return -1;
	}
	return 0;
}

static int measure(struct bench_xdp *full, const struct set *set, int zipf)
{
	struct bench_xdp *fit = probe_load(set->endpoints * 2 * 11 / 10 + 16,
					   set->nflows * 11 / 10 + 16), *s;
	double best[NVARIANTS];
	__u32 n = repeat < set->nflows ? set->nflows : repeat, v, want;
	__u64 redirected;
	size_t nsess = 0;
	int target;

	if (!fit) {
		fprintf(stderr, "cannot load the probe's programs\n");
		return -1;
	}
	for (int i = 0; i < NVARIANTS; i++)
		best[i] = 1e18;
	/* Every flow made: fcnat's (twice: the second pass finds them, as
	 * fwdbench's untimed pass does) and the probe maps'. */
	/* fwdbench's fcnat's: --ports 1024-65535 */
	fx.opts.port_ranges[0] = (struct fc_port_range){ 1024, 65535 };
	fixture_apply(&fx);
	/* A non-preallocated table's allocator refills its per-CPU caches
	 * from irq_work: a burst of inserts in one syscall can find them
	 * empty (counted as table full), so passes repeat until every flow
	 * is there. */
	run_setup(full, set, 0);
	for (int pass = 0; pass < 8 && nsess != set->nflows; pass++) {
		run(full, fx.xdp_int_fd, set->nflows, &v);
		nsess = map_count(fx.sessions_fd, sizeof(struct fc_session_key));
		usleep(100000);
	}
	/* What XDP leaves to the stack (a port it cannot preserve, on a burst
	 * of new mappings), TC egress makes, as it would when forwarding. */
	if (nsess != set->nflows) {
		for (__u32 e = 0; e < set->endpoints; e++) {
			struct fc_endpoint_key k = fx_int_key(4, 4, IPPROTO_UDP, CLIENT_A, SPORT + e);
			struct fc_binding b;

			if (!bpf_map_lookup_elem(fx.bindings_fd, &k, &b))
				continue;
			for (__u32 f = e; f < set->nflows; f += set->endpoints)
				tc_make(SPORT + e, DPORT + f / set->endpoints);
		}
		nsess = map_count(fx.sessions_fd, sizeof(struct fc_session_key));
	}
	if (nsess != set->nflows) {
		fprintf(stderr, "%s: fcnat has %zu sessions, want %u (table full %llu)\n",
			set->name, nsess, set->nflows,
			(unsigned long long)stat_get(&fx, FC_STAT_DROP_TABLE_FULL));
		return -1;
	}
	if (stat_get(&fx, FC_STAT_DROP_TABLE_FULL))
		fprintf(stderr, "%s: %llu first packets refused as table full while filling\n",
			set->name, (unsigned long long)stat_get(&fx, FC_STAT_DROP_TABLE_FULL));
	if (fill_probe(full, set) || fill_probe(fit, set))
		return -1;
	if (zipf && (zipf_table_fill(bpf_map__fd(full->maps.gen_zipf_table), set->nflows) ||
		     zipf_table_fill(bpf_map__fd(fit->maps.gen_zipf_table), set->nflows))) {
		fprintf(stderr, "cannot fill the Zipf table\n");
		return -1;
	}
	run_setup(full, set, zipf);
	run_setup(fit, set, zipf);
	redirected = stat_get(&fx, FC_STAT_FAST_REDIRECTED);
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < NVARIANTS; i++) {
			double ns;

			s = i >= V_LOOK1_FIT ? fit : full;
			s->bss->probe_lookups = vlookups[i];
			target = i == V_RESTORE ? bpf_program__fd(s->progs.probe_nop) :
				 i == V_FCNAT ? fx.xdp_int_fd : bpf_program__fd(s->progs.probe_lookup);
			want = i == V_RESTORE ? 2 : i == V_FCNAT ? XDP_REDIRECT_ : XDP_TX_;
			ns = run(s, target, n, &v);
			if (ns < 0 || v != want) {
				fprintf(stderr, "%s, %s: verdict %u, want %u\n", set->name,
					vnames[i], v, want);
				return -1;
			}
			if (ns < best[i])
				best[i] = ns;
		}
	/* Every timed fcnat run took the fast path (no pass, no drop). */
	redirected = stat_get(&fx, FC_STAT_FAST_REDIRECTED) - redirected;
	printf("  %-24s %7.0f", set->name, best[V_RESTORE]);
	for (int i = 1; i < NVARIANTS; i++)
		printf(" %10.0f", best[i] - best[V_RESTORE]);
	printf("%s\n", redirected == (__u64)rounds * n ? "" : "  (fcnat: not all redirected!)");
	bench_xdp__destroy(fit);
	return redirected == (__u64)rounds * n ? 0 : -1;
}

/* One set in a namespace and datapath of its own (a child process: its
 * tables go with it, no million deletions between sets). */
static int probe_set(const struct set *set)
{
	struct pkt_spec spec = { .proto = IPPROTO_UDP, .saddr = CLIENT_A, .sport = SPORT,
				 .daddr = SERVER_1, .dport = DPORT, .payload_len = 22 };
	struct bpf_map_info bi = {}, si = {};
	__u32 len = sizeof(bi);
	struct bench_xdp *full;
	int err;

	/* The fixture's veths and routes in a namespace of our own. */
	if (unshare(CLONE_NEWNET) || system("ip link set lo up")) {
		fprintf(stderr, "costprobe: needs root (network namespace)\n");
		return -1;
	}
	if (fixture_load_prealloc(&fx, MAX_MAPPINGS, MAX_SESSIONS,
				  prealloc ? FC_PREALLOC_YES : FC_PREALLOC_NO) ||
	    xdp_fixture_setup(&fx)) {
		fprintf(stderr, "costprobe: cannot load the datapath\n");
		return -1;
	}
	{
		uint8_t buf[PKT_MAX];	/* pkt_build writes PKT_MAX bytes */

		if (pkt_build(&spec, buf) != sizeof(frame)) {
			fprintf(stderr, "costprobe: frame is not 64 bytes\n");
			return -1;
		}
		memcpy(frame, buf, sizeof(frame));
	}
	bpf_obj_get_info_by_fd(fx.bindings_fd, &bi, &len);
	len = sizeof(si);
	bpf_obj_get_info_by_fd(fx.sessions_fd, &si, &len);
	full = probe_load(bi.max_entries, si.max_entries);
	if (!full) {
		fprintf(stderr, "costprobe: cannot load the probe's programs\n");
		return -1;
	}
	err = measure(full, set, set->zipf);
	fflush(stdout);
	bench_xdp__destroy(full);
	fixture_unload(&fx);
	return err;
}

int main(int argc, char **argv)
{
	const char *want_sets = "1,10k,1m,10kz,1mz";
	int opt, err = 0;

	while ((opt = getopt(argc, argv, "r:n:s:p")) != -1) {
		switch (opt) {
		case 'r': rounds = atoi(optarg); break;
		case 'n': repeat = strtoul(optarg, NULL, 0); break;
		case 's': want_sets = optarg; break;
		case 'p': prealloc = 1; break;
		default:
			fprintf(stderr, "usage: costprobe [-r ROUNDS] [-n REPEAT] [-s SETS] [-p]\n");
			return 2;
		}
	}
	printf("costprobe: ns per packet, BPF_PROG_TEST_RUN, each run the next flow of the set;\n"
	       "best of %d interleaved rounds of >= %u runs, net of the restore wrapper;\n"
	       "fcnat's tables as fwdbench's (--max-mappings %u --max-sessions %u, %s);\n"
	       "1/2 lookups: binding (+ session) in maps of the same size and flags,\n"
	       "\"flow\": one lookup of the flow's key in a map of the sessions' size,\n"
	       "\"fit\": the same in maps sized for the set\n",
	       rounds, repeat, MAX_MAPPINGS, MAX_SESSIONS,
	       prealloc ? "preallocated" : "BPF_F_NO_PREALLOC");
	printf("  %-24s %7s", "set", vnames[0]);
	for (int i = 1; i < NVARIANTS; i++)
		printf(" %10s", vnames[i]);
	printf("\n");
	fflush(stdout);
	for (int i = 0; i < NSETS && !err; i++) {
		pid_t pid;
		int status;

		if (!listed(want_sets, sets[i].key))
			continue;
		pid = fork();
		if (pid == 0)
			_exit(probe_set(&sets[i]) ? 1 : 0);
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			err = 1;
	}
	return err;
}
