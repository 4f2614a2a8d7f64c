// SPDX-License-Identifier: GPL-2.0
/*
 * Scale: a million sessions across 10 000 subscribers, made through the
 * datapath (BPF_PROG_TEST_RUN of fc_tc_egress, one packet per session).
 * Reports map memory (fdinfo memlock, and the kernel's unreclaimable slab
 * growth), the sweeper's full pass and mass expiry, and the translate cost
 * at that size, alone and while the mass expiry runs on the other CPU.
 *
 * `scale [-s SUBSCRIBERS] [-m MAPPINGS_PER_SUBSCRIBER] [-r REMOTES_PER_MAPPING]`
 * (defaults 10000, 5, 20: 50 000 mappings, 1 000 000 sessions).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_tc.skel.h"
#include "fcnat_tc.skel.h"
#include "fixture.h"
#include "gc.h"
#include "log.h"

#define BENCH_REPEAT	20000
#define SEC_NS		1000000000ULL

static unsigned int subscribers = 10000, per_sub = 5, remotes = 20;

static long long fdinfo_memlock(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static long long meminfo_kb(const char *field)
{
	char line[256];
	long long v = -1;
	size_t n = strlen(field);
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':') {
			v = strtoll(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static long long maps_memlock(long long *bindings, long long *sessions)
{
	struct bpf_map *m;
	long long total = 0;

	bpf_object__for_each_map(m, fx.loader.skel->obj) {
		long long v = fdinfo_memlock(bpf_map__fd(m));

		if (v > 0)
			total += v;
	}
	*bindings = fdinfo_memlock(fx.bindings_fd);
	*sessions = fdinfo_memlock(fx.sessions_fd);
	return total;
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		fprintf(stderr, "cannot pin to CPU %d\n", cpu);
}

/* The benchmark programs, on the fixture's maps: they restore their frame
 * before each repeat, so a repeat run translates the same packet. */
static struct bench_tc *bench;

static int bench_open(const struct pkt_spec *s)
{
	struct bpf_map *m;
	uint8_t buf[PKT_MAX];

	bench = bench_tc__open();
	if (!bench)
		return -1;
	bpf_object__for_each_map(m, bench->obj) {
		struct bpf_map *mine = bpf_object__find_map_by_name(fx.loader.skel->obj,
								     bpf_map__name(m));

		/* Internal maps (.bss, .rodata) are each object's own. */
		if (mine && !strchr(bpf_map__name(m), '.') && bpf_map__reuse_fd(m, bpf_map__fd(mine)))
			return -1;
	}
	if (bench_tc__load(bench))
		return -1;
	if (pkt_build(s, buf) != sizeof(bench->bss->bench_frame))
		return -1;
	memcpy(bench->bss->bench_frame, buf, sizeof(bench->bss->bench_frame));
	return 0;
}

/* Average ns per packet of one repeat run. */
static double bench_run(struct bpf_program *prog, __u32 *verdict)
{
	uint8_t in[64], out[PKT_MAX];
	struct __sk_buff ctx = { .ingress_ifindex = FORWARDED_FROM };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = sizeof(in),
		    .data_out = out, .data_size_out = sizeof(out), .repeat = BENCH_REPEAT,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));

	memcpy(in, bench->bss->bench_frame, sizeof(in));
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
		return -1;
	*verdict = opts.retval;
	return opts.duration;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct series {
	double v[100000];
	unsigned int n;
};

static void series_report(const char *what, struct series *s, double base)
{
	qsort(s->v, s->n, sizeof(s->v[0]), cmp_double);
	printf("  %-36s median %6.1f  p99 %6.1f  max %6.1f ns/packet (%u runs of %d; "
	       "translation alone, median: %.1f ns)\n",
	       what, s->v[s->n / 2], s->v[s->n * 99 / 100], s->v[s->n - 1], s->n, BENCH_REPEAT,
	       s->v[s->n / 2] - base);
}

/* The mass expiry on CPU 1 while CPU 0 measures. */
static atomic_int sweeping;
static struct gc_state gc;
static struct gc_result expiry;
static double expiry_s;

static void *expire_all(void *arg)
{
	uint64_t t0;

	pin_cpu(1);
	atomic_store(&sweeping, 1);
	t0 = now_ns();
	/* Three hours on: past every timeout, established TCP included. */
	gc_sweep(&gc, fx.bindings_fd, fx.sessions_fd, &fx.cfg, gc_now_ns() + 3 * 3600 * SEC_NS,
		 &expiry);
	expiry_s = (now_ns() - t0) / 1e9;
	atomic_store(&sweeping, 2);
	return NULL;
}

int main(int argc, char **argv)
{
	static struct series alone, during;
	struct pkt_spec probe = { .proto = IPPROTO_UDP, .saddr = "192.168.250.1", .sport = 40000,
				  .daddr = "198.51.100.2", .dport = 7000, .payload_len = 22 };
	long long slab0, slab1, mb0, ms0, mb1, ms1, total0, total1;
	unsigned long long sessions, made = 0, failed = 0;
	struct gc_result pass;
	double restore_ns, t_make, t_pass;
	uint64_t t0;
	pthread_t th;
	__u32 verdict;
	int opt;

	while ((opt = getopt(argc, argv, "s:m:r:")) != -1) {
		switch (opt) {
		case 's': subscribers = strtoul(optarg, NULL, 0); break;
		case 'm': per_sub = strtoul(optarg, NULL, 0); break;
		case 'r': remotes = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: scale [-s SUBSCRIBERS] [-m MAPPINGS_PER_SUB] [-r REMOTES]\n");
			return 2;
		}
	}
	if (!subscribers || subscribers > 60000 || !per_sub || per_sub > 10 || !remotes ||
	    remotes > 250) {
		fprintf(stderr, "scale: out of bounds\n");
		return 2;
	}
	sessions = (unsigned long long)subscribers * per_sub * remotes;
	fc_log_level = FC_LOG_ERR;
	loader_setup_libbpf_log(false, false);
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "cannot make a network namespace: %s\n", strerror(errno));
		return 1;
	}
	pin_cpu(0);
	slab0 = meminfo_kb("SUnreclaim");
	/* --max-mappings / --max-sessions with 5% headroom. */
	if (fixture_load(&fx, subscribers * per_sub * 21 / 20 + 16, sessions * 21 / 20 + 16)) {
		fprintf(stderr, "cannot load the datapath (are you root?)\n");
		return 1;
	}
	/* One port range over all unprivileged ports, for tens of thousands of
	 * mappings per protocol. */
	fx.opts.nr_port_ranges = 1;
	fx.opts.port_ranges[0].first = 1024;
	fx.opts.port_ranges[0].last = 65535;
	fixture_apply(&fx);
	total0 = maps_memlock(&mb0, &ms0);
	printf("scale: %u subscribers x %u mappings x %u remotes = %llu sessions "
	       "(--max-mappings %u --max-sessions %u)\n",
	       subscribers, per_sub, remotes, sessions, fx.opts.max_mappings, fx.opts.max_sessions);

	/* Sessions through the datapath: each subscriber's mapping m talks
	 * to remotes 203.0.113.1 .. .R, port 443; mappings 0-2 UDP, 3-4 TCP. */
	t0 = now_ns();
	for (unsigned int sub = 0; sub < subscribers; sub++) {
		char addr[32], remote[32];

		snprintf(addr, sizeof(addr), "192.168.%u.%u", sub / 250, sub % 250 + 1);
		for (unsigned int m = 0; m < per_sub; m++) {
			for (unsigned int r = 0; r < remotes; r++) {
				struct pkt_spec s = { .proto = m < 3 ? IPPROTO_UDP : IPPROTO_TCP,
						      .saddr = addr, .sport = 30000 + m,
						      .daddr = remote, .dport = 443,
						      .tcp_flags = 0x02, .payload_len = 8 };
				struct run_result res;
				uint8_t buf[PKT_MAX];

				snprintf(remote, sizeof(remote), "203.0.113.%u", r + 1);
				if (run_prog(fx.egress_fd, buf, pkt_build(&s, buf), &res) ||
				    res.ret != TC_ACT_OK)
					failed++;
				else
					made++;
			}
		}
	}
	t_make = (now_ns() - t0) / 1e9;
	printf("  made %llu sessions (%llu refused) in %.1f s: %.0f new sessions/s\n", made, failed,
	       t_make, made / t_make);
	printf("  counters: mappings_created %llu, sessions_created %llu\n",
	       (unsigned long long)stat_get(&fx, FC_STAT_MAPPING_CREATED),
	       (unsigned long long)stat_get(&fx, FC_STAT_SESSION_CREATED));

	slab1 = meminfo_kb("SUnreclaim");
	total1 = maps_memlock(&mb1, &ms1);
	printf("  memory (fdinfo memlock): sessions map %.1f MB, bindings map %.1f MB, "
	       "all maps %.1f MB (%.1f MB before)\n",
	       ms1 / 1e6, mb1 / 1e6, total1 / 1e6, total0 / 1e6);
	printf("  per session: %.0f B in the sessions map; %.0f B with its share of the mappings\n",
	       (double)(ms1 - ms0) / made, (double)(ms1 - ms0 + mb1 - mb0) / made);
	printf("  kernel unreclaimable slab grew by %.1f MB: %.0f B per session, all in\n",
	       (slab1 - slab0) / 1e3, (slab1 - slab0) * 1024.0 / made);

	if (bench_open(&probe)) {
		fprintf(stderr, "cannot load the benchmark programs\n");
		return 1;
	}
	/* The restore every repeat does, to subtract. */
	restore_ns = 1e18;
	for (int i = 0; i < 20; i++) {
		double v = bench_run(bench->progs.bench_restore, &verdict);

		if (v >= 0 && v < restore_ns)
			restore_ns = v;
	}
	bench_run(bench->progs.bench_egress, &verdict);	/* makes the probe's mapping */
	for (alone.n = 0; alone.n < 500; alone.n++)
		alone.v[alone.n] = bench_run(bench->progs.bench_egress, &verdict);
	printf("translate at %llu sessions (BPF_PROG_TEST_RUN repeat, 64-byte UDP, CPU 0, verdict %u):\n",
	       made, verdict);
	printf("  %-36s %6.1f ns/packet\n", "frame restore only (baseline)", restore_ns);
	series_report("outbound SNAT, sweeper idle", &alone, restore_ns);

	/* A full sweeper pass with everything alive. */
	gc_init(&gc);
	t0 = now_ns();
	gc_sweep(&gc, fx.bindings_fd, fx.sessions_fd, &fx.cfg, gc_now_ns(), &pass);
	t_pass = (now_ns() - t0) / 1e9;
	printf("sweeper (src/gc.c):\n");
	printf("  full pass, nothing expired: %.2f s (%lu sessions, %lu mappings live)\n", t_pass,
	       pass.sessions_live, pass.mappings_live);

	/* Mass expiry on CPU 1, translation measured on CPU 0 meanwhile. */
	pthread_create(&th, NULL, expire_all, NULL);
	while (!atomic_load(&sweeping))
		;
	while (atomic_load(&sweeping) == 1 && during.n < 100000)
		during.v[during.n++] = bench_run(bench->progs.bench_egress, &verdict);
	pthread_join(th, NULL);
	printf("  mass expiry: %.2f s (%lu sessions, %lu mappings expired: %.0f sessions/s)\n",
	       expiry_s, expiry.sessions_expired, expiry.mappings_expired,
	       expiry.sessions_expired / expiry_s);
	if (during.n)
		series_report("outbound SNAT during the mass expiry", &during, restore_ns);
	printf("  left: %zu bindings, %zu sessions; unreclaimable slab now %.1f MB above the start\n",
	       map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)),
	       map_count(fx.sessions_fd, sizeof(struct fc_session_key)),
	       (meminfo_kb("SUnreclaim") - slab0) / 1e3);
	gc_free(&gc);
	bench_tc__destroy(bench);
	fixture_unload(&fx);
	return failed || made != sessions ? 1 : 0;
}
