// SPDX-License-Identifier: GPL-2.0
/*
 * Forwarding benchmark programs (bench/fwdbench.c):
 * - bench_gen: traffic source, run with BPF_PROG_TEST_RUN and
 *   BPF_F_TEST_XDP_LIVE_FRAMES in the client namespace. Live frames come
 *   from recycled pages, so the whole frame is written on every run.
 * - bench_sink: on the server's interface, counts and drops.
 * - bench_fwd: the ceiling, bare XDP forwarding on the gateway: FIB
 *   lookup, MAC rewrite, redirect; no NAT, no TTL, no state.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define FRAME 64

__u8 gen_frame[FRAME];
__u32 gen_ifindex;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink_count SEC(".maps");

SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	if (bpf_xdp_store_bytes(ctx, 0, gen_frame, FRAME))
		return XDP_ABORTED;
	return bpf_redirect(gen_ifindex, 0);
}

SEC("xdp")
int bench_sink(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&sink_count, &zero);

	if (n)
		*n += 1;
	return XDP_DROP;
}

SEC("xdp")
int bench_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = data + sizeof(*eth);
	struct bpf_fib_lookup fib = {};

	if ((void *)(iph + 1) > end || eth->h_proto != __builtin_bswap16(0x0800))
		return XDP_PASS;
	fib.family = 2;
	fib.ipv4_src = iph->saddr;
	fib.ipv4_dst = iph->daddr;
	fib.ifindex = ctx->ingress_ifindex;
	if (bpf_fib_lookup(ctx, &fib, sizeof(fib), 0) != BPF_FIB_LKUP_RET_SUCCESS)
		return XDP_PASS;
	__builtin_memcpy(eth->h_dest, fib.dmac, 6);
	__builtin_memcpy(eth->h_source, fib.smac, 6);
	return bpf_redirect(fib.ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
