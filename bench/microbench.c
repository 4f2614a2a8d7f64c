// SPDX-License-Identifier: GPL-2.0
/*
 * Per-packet cost of the translate path, from BPF_PROG_TEST_RUN repeat runs
 * (the kernel times the loop itself; no syscall per packet). Prints ns per
 * packet for outbound SNAT and inbound DNAT of a 64-byte UDP frame on an
 * existing mapping, net of the frame restore every run needs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_tc.skel.h"
#include "loader.h"
#include "pkt.h"
#include "stats.h"

#define REPEAT 2000000
#define ROUNDS 5

static int frame(struct bench_tc *skel, const struct pkt_spec *s)
{
	uint8_t buf[PKT_MAX];
	size_t len = pkt_build(s, buf);

	if (len != sizeof(skel->bss->bench_frame)) {
		fprintf(stderr, "bench frame is %zu bytes, want %zu\n", len,
			sizeof(skel->bss->bench_frame));
		return -1;
	}
	memcpy(skel->bss->bench_frame, buf, len);
	return 0;
}

/* Best of ROUNDS: the least disturbed run. */
static double ns_per_packet(struct bpf_program *prog, struct bench_tc *skel, __u32 *retval)
{
	uint8_t in[64], out[PKT_MAX];
	double best = 1e18;

	memcpy(in, skel->bss->bench_frame, sizeof(in));
	for (int r = 0; r < ROUNDS; r++) {
		/* As if forwarded from interface 2, like traffic from inside. */
		struct __sk_buff ctx = { .ingress_ifindex = 2 };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = sizeof(in),
			    .data_out = out, .data_size_out = sizeof(out), .repeat = REPEAT,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));

		if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts)) {
			fprintf(stderr, "test run: %s\n", strerror(errno));
			return -1;
		}
		*retval = opts.retval;
		if (opts.duration < best)
			best = opts.duration;
	}
	return best;
}

/* The timed runs must have taken the translate path, not a pass-through. */
static int stats_ok(struct bench_tc *skel)
{
	__u64 v[FC_STAT_MAX];

	if (stats_read(bpf_map__fd(skel->maps.fc_stats), v))
		return 0;
	if (v[FC_STAT_OUT_TRANSLATED] < REPEAT || v[FC_STAT_IN_TRANSLATED] < REPEAT) {
		fprintf(stderr, "benchmark did not translate: out %llu, in %llu\n",
			(unsigned long long)v[FC_STAT_OUT_TRANSLATED],
			(unsigned long long)v[FC_STAT_IN_TRANSLATED]);
		return 0;
	}
	return 1;
}

int main(void)
{
	struct pkt_spec out = { .proto = IPPROTO_UDP, .saddr = "192.168.77.2", .sport = 40000,
				.daddr = "198.51.100.2", .dport = 7000, .payload_len = 22 };
	struct pkt_spec in = out;
	struct fc_options o;
	struct fc_config cfg;
	struct bench_tc *skel;
	double base, eg, ig, ig_inline;
	__u32 zero = 0, ret_e, ret_i, ret_b, ret_ii;
	struct fc_endpoint_key ik = { .side = FC_SIDE_INTERNAL, .family = FC_AF_INET,
				      .ext_family = FC_AF_INET, .proto = IPPROTO_UDP };
	struct fc_binding b;

	skel = bench_tc__open_and_load();
	if (!skel) {
		fprintf(stderr, "cannot load the benchmark programs (root needed)\n");
		return 1;
	}
	options_defaults(&o);
	o.nat44 = true;
	loader_fill_config(&o, inet_addr("198.51.100.1"), &cfg);
	bpf_map_update_elem(bpf_map__fd(skel->maps.fc_config), &zero, &cfg, BPF_ANY);

	/* Outbound: one run creates the mapping, the timed runs reuse it. */
	if (frame(skel, &out))
		return 1;
	base = ns_per_packet(skel->progs.bench_restore, skel, &ret_b);
	eg = ns_per_packet(skel->progs.bench_egress, skel, &ret_e);

	ik.addr.v4 = inet_addr("192.168.77.2");
	ik.port = htons(40000);
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.fc_bindings), &ik, &b)) {
		fprintf(stderr, "no mapping was created\n");
		return 1;
	}
	in.saddr = "198.51.100.2";
	in.sport = 7000;
	in.daddr = "198.51.100.1";
	in.dport = ntohs(b.port);
	if (frame(skel, &in))
		return 1;
	ig = ns_per_packet(skel->progs.bench_ingress, skel, &ret_i);
	ig_inline = ns_per_packet(skel->progs.bench_ingress_inline, skel, &ret_ii);

	if (!stats_ok(skel))
		return 1;
	printf("BPF_PROG_TEST_RUN, 64-byte UDP, existing mapping, best of %d x %d runs\n",
	       ROUNDS, REPEAT);
	printf("  %-34s %7.1f ns/packet (verdict %u)\n", "frame restore only (baseline)", base, ret_b);
	printf("  %-34s %7.1f ns/packet (verdict %u), translation %5.1f ns\n",
	       "outbound SNAT (TC egress)", eg, ret_e, eg - base);
	printf("  %-34s %7.1f ns/packet (verdict %u), translation %5.1f ns\n",
	       "inbound DNAT (TC ingress)", ig, ret_i, ig - base);
	printf("  %-34s %7.1f ns/packet (verdict %u), translation %5.1f ns\n",
	       "  the same, halves inlined", ig_inline, ret_ii, ig_inline - base);
	bench_tc__destroy(skel);
	return ret_e || ret_i || ret_ii ? 1 : 0;
}
