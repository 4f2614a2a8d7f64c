// SPDX-License-Identifier: GPL-2.0
/*
 * Forwarding benchmark programs (bench/fwdbench.c):
 * - bench_gen: traffic source, run with BPF_PROG_TEST_RUN and
 *   BPF_F_TEST_XDP_LIVE_FRAMES in the client namespace. Live frames come
 *   from recycled pages, so the whole frame is written on every run.
 * - bench_gen_tc: the source where the kernel refuses live frames
 *   (BPF_PROG_TEST_RUN of a sched_cls program, bursts of bpf_clone_redirect
 *   clones; see it below).
 * - bench_sink: on the server's interface, counts and drops; with
 *   sink_reflect set it answers IPv4/UDP instead (addresses, ports and MACs
 *   swapped, XDP_TX), so that conntrack sees the flows answered and makes
 *   them ASSURED (the offload lines, fwdbench_offload.c).
 * - bench_cli_sink: on the client's interface, counts the answers and
 *   drops them (no ICMP port unreachable from the client's stack).
 * - bench_pass: XDP_PASS, so that the gateway's b1 takes the answers.
 * - bench_fwd: the ceiling, bare XDP forwarding on the gateway: FIB
 *   lookup, MAC rewrite, redirect; no NAT, no TTL, no state.
 * - bench_tc_fwd: the same from the gateway's TC ingress: the ceiling of
 *   anything that forwards skbs (TC mode).
 * - bench_fwd_nofib: the steering ceiling, bare XDP without a FIB lookup:
 *   MAC rewrite from fixed addresses, redirect through a devmap (what any
 *   XDP forwarder pays at the least; fcnat's route cache aims at it).
 * - bench_run_xdp, bench_run_tc: per-packet cost of fcnat's own loaded
 *   programs from BPF_PROG_TEST_RUN repeat runs: restore the frame (with a
 *   new source port each run for the miss path), then tail-call the target.
 *
 * Flow sets: flow f (gen_seq modulo gen_nflows) is internal endpoint
 * f % gen_endpoints (source port gen_sport + it) talking to remote port
 * gen_dport + f / gen_endpoints. The frame (gen_len bytes, UDP header at
 * gen_l4off: IPv4 or IPv6) keeps a UDP checksum of zero as zero (IPv4: no
 * checksum work); a nonzero one (IPv6, where zero is not allowed) follows
 * the ports by RFC 1624. With gen_zipf set, the flow is instead read from
 * gen_zipf_table (ZIPF_DRAWS Zipf-distributed flow numbers drawn by
 * fwdbench, walked in order): popular flows repeat, as in real traffic.
 * With gen_percpu (two generator threads), each CPU walks from its own
 * counter (gen_seq[cpu]), so the threads never share a written line; one
 * thread uses gen_seq[0] wherever it runs.
 */
#include "lib/hdr.h"
#include "fcnat/types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define FRAME 64
#define GEN_FRAME_MAX 128

__u8 gen_frame[GEN_FRAME_MAX];
__u32 gen_len, gen_l4off;	/* set by fwdbench with the frame */
__u32 gen_ifindex;
__u32 gen_nflows, gen_endpoints, gen_zipf, gen_percpu;
__u16 gen_sport, gen_dport;
#define GEN_CPUS 64
struct { __u32 seq; __u8 pad[60]; } gen_seq[GEN_CPUS];	/* a cache line each */

#define ZIPF_DRAWS (1 << 20)
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ZIPF_DRAWS);
	__type(key, __u32);
	__type(value, __u32);
} gen_zipf_table SEC(".maps");

/* bench_fwd_nofib's fixed next hop (the server's MAC, b1's, b1 in nofib_tx). */
__u8 nofib_dmac[6], nofib_smac[6];

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} nofib_tx SEC(".maps");

__u8 run_frame[FRAME];
__u32 run_vary, run_seq;
__u16 run_sport;
/* run_vary 2: cycle through a flow set's existing flows (ports as the
 * generator's: run_sport + f % run_endpoints, run_dport + f / run_endpoints),
 * each run's mapping and session cold, as in forwarding many flows. */
__u32 run_nflows, run_endpoints;
__u16 run_dport;
/* With run_zipf set (run_vary 2), the flow is read from gen_zipf_table as
 * the generator's Zipf sets read it. */
__u32 run_zipf;

/*
 * The ceiling of any stateful design (bench/costprobe.c): probe_lookup does
 * what a hit must do at the least, one hash lookup (probe_lookups 1: the
 * mapping's key and value shapes) or two (2: and the session's; 3: the
 * session's alone, i.e. one entry per flow), in maps of
 * fcnat's sizes and flags (set by costprobe before load; the defaults here
 * keep them empty for fwdbench), reading the value's first and last words
 * (every line of it a hit reads). With probe_fill set a missing entry is
 * made (the fill pass). probe_nop is the baseline target.
 */
__u32 probe_lookups, probe_fill;
__u64 probe_sum;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fc_endpoint_key);
	__type(value, struct fc_binding);
} probe_bind SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fc_session_key);
	__type(value, struct fc_session);
} probe_sess SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} run_xdp_target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} run_tc_target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink_count SEC(".maps");

__u32 sink_reflect;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cli_count SEC(".maps");

/* ~(~sum + ~old + new) for two 16-bit words each (RFC 1624 eqn. 3), all in
 * the frame's byte order. */
static __always_inline __u16 csum_ports(__u16 sum, const __u16 old[2], const __u16 new[2])
{
	__u32 s = (__u16)~sum;

	s += (__u16)~old[0] + new[0] + (__u16)~old[1] + new[1];
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (__u16)~s;
	return s ? s : 0xffff;	/* UDP sends a computed zero as all ones */
}

/* The next frame's flow: its ports (in the frame's byte order) and the UDP
 * checksum they give (0: the frame carries none, leave it). Flows cycle
 * through gen_nflows (per CPU with gen_percpu), or are drawn from the Zipf
 * table. Nonzero if the draw failed. */
struct gen_ports {
	__u16 ports[2];
	__u16 sum;
};

static __always_inline int gen_next_ports(__u32 l4, struct gen_ports *p)
{
	__u32 cpu = gen_percpu ? bpf_get_smp_processor_id() % GEN_CPUS : 0;
	__u32 seq = gen_seq[cpu].seq++, f = seq % gen_nflows;
	__u32 draw = seq % ZIPF_DRAWS, *z;
	__u16 old[2];

	if (gen_zipf) {
		z = bpf_map_lookup_elem(&gen_zipf_table, &draw);
		if (!z)
			return -1;
		f = *z % gen_nflows;
	}
	p->ports[0] = bpf_htons(gen_sport + f % gen_endpoints);
	p->ports[1] = bpf_htons(gen_dport + f / gen_endpoints);
	__builtin_memcpy(&p->sum, &gen_frame[l4 + 6], sizeof(p->sum));
	if (p->sum) {
		__builtin_memcpy(old, &gen_frame[l4], sizeof(old));
		p->sum = csum_ports(p->sum, old, p->ports);
	}
	return 0;
}

SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	__u32 len = gen_len, l4 = gen_l4off;

	if (len < FRAME || len > GEN_FRAME_MAX || l4 > GEN_FRAME_MAX - 8)
		return XDP_ABORTED;
	if (bpf_xdp_store_bytes(ctx, 0, gen_frame, len))
		return XDP_ABORTED;
	if (gen_nflows > 1 && gen_endpoints) {
		struct gen_ports p;

		if (gen_next_ports(l4, &p) ||
		    bpf_xdp_store_bytes(ctx, l4, p.ports, sizeof(p.ports)) ||
		    (p.sum && bpf_xdp_store_bytes(ctx, l4 + 6, &p.sum, sizeof(p.sum))))
			return XDP_ABORTED;
	}
	return bpf_redirect(gen_ifindex, 0);
}

/*
 * bench_gen_tc: the traffic source where live frames are refused. Run with
 * BPF_PROG_TEST_RUN (sched_cls) in the client namespace on a skb holding
 * the frame: each run sends skb->cb[0] clones (at most GEN_BURST) out of
 * gen_ifindex with bpf_clone_redirect, the ports set before each clone as
 * bench_gen sets them. The original skb is not sent (TC_ACT_SHOT): the
 * test run frees it. Returns the clones sent.
 */
#define GEN_BURST 64

SEC("tc")
int bench_gen_tc(struct __sk_buff *skb)
{
	__u32 l4 = gen_l4off, burst = skb->cb[0], sent = 0;

	if (l4 > GEN_FRAME_MAX - 8 || burst > GEN_BURST)
		return 0;
	/* A hash of our own spares the flow dissector on every clone, and
	 * picks the veth queue by CPU (the top bit: queue 1 of 2), as live
	 * frames do: two threads never share a queue's ring. */
	bpf_set_hash(skb, bpf_get_smp_processor_id() & 1 ? 0x80000001 : 1);
	for (__u32 i = 0; i < GEN_BURST && i < burst; i++) {
		if (gen_nflows > 1 && gen_endpoints) {
			struct gen_ports p;

			if (gen_next_ports(l4, &p) ||
			    bpf_skb_store_bytes(skb, l4, p.ports, sizeof(p.ports), 0) ||
			    (p.sum && bpf_skb_store_bytes(skb, l4 + 6, &p.sum, sizeof(p.sum), 0)))
				break;
		}
		if (bpf_clone_redirect(skb, gen_ifindex, 0))
			break;
		sent++;
	}
	return sent;
}

/* Send an IPv4/UDP frame back where it came from: the swaps leave the IP
 * and UDP checksums right (same words, other places). */
static __always_inline int reflect(void *data, void *end)
{
	struct ethhdr *eth = data;
	struct iphdr *iph = data + sizeof(*eth);
	struct udphdr *udp = (void *)(iph + 1);
	__u8 mac[6];
	__u32 a;
	__u16 p;

	if ((void *)(udp + 1) > end || iph->ihl != 5 || iph->protocol != IPPROTO_UDP)
		return XDP_DROP;
	__builtin_memcpy(mac, eth->h_dest, 6);
	__builtin_memcpy(eth->h_dest, eth->h_source, 6);
	__builtin_memcpy(eth->h_source, mac, 6);
	a = iph->saddr;
	iph->saddr = iph->daddr;
	iph->daddr = a;
	p = udp->source;
	udp->source = udp->dest;
	udp->dest = p;
	return XDP_TX;
}

/* Count an IPv4 frame in counter; 0: not IPv4 (not counted). IPv4 only:
 * what the NAT lines deliver (the NAT64 lines must not be credited with
 * anything the gateway leaks untranslated). */
static __always_inline int count_ipv4(void *data, void *end, void *counter)
{
	struct ethhdr *eth = data;
	__u32 zero = 0;
	__u64 *n;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	n = bpf_map_lookup_elem(counter, &zero);
	if (n)
		*n += 1;
	return 1;
}

SEC("xdp")
int bench_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

	if (!count_ipv4(data, end, &sink_count))
		return XDP_DROP;
	if (sink_reflect)
		return reflect(data, end);
	return XDP_DROP;
}

/* The client's side of the answers: count the IPv4 ones, drop all. */
SEC("xdp")
int bench_cli_sink(struct xdp_md *ctx)
{
	count_ipv4((void *)(long)ctx->data, (void *)(long)ctx->data_end, &cli_count);
	return XDP_DROP;
}

/* On the gateway's b1 while the sink answers, where no XDP program of the
 * line is: a veth takes XDP_TX frames from its peer only when an XDP
 * program runs on it (GRO alone did not do here). */
SEC("xdp")
int bench_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int bench_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = data + sizeof(*eth);
	struct bpf_fib_lookup fib = {};

	if ((void *)(iph + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
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

SEC("xdp")
int bench_fwd_nofib(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	__builtin_memcpy(eth->h_dest, nofib_dmac, 6);
	__builtin_memcpy(eth->h_source, nofib_smac, 6);
	return bpf_redirect_map(&nofib_tx, 0, 0);
}

/* data/data_end of an skb by plain loads at fixed offsets (see
 * bpf/lib/ctx_tc.h for why not skb->data). */
static __always_inline void *skb_data(const struct __sk_buff *skb)
{
	void *d;

	asm volatile("%0 = *(u32 *)(%1 + %2)" : "=r"(d)
		     : "r"(skb), "i"(__builtin_offsetof(struct __sk_buff, data)));
	return d;
}

static __always_inline void *skb_data_end(const struct __sk_buff *skb)
{
	void *d;

	asm volatile("%0 = *(u32 *)(%1 + %2)" : "=r"(d)
		     : "r"(skb), "i"(__builtin_offsetof(struct __sk_buff, data_end)));
	return d;
}

/* The TC ceiling: bench_fwd's work from the TC ingress hook (an skb). */
SEC("tc")
int bench_tc_fwd(struct __sk_buff *skb)
{
	void *data = skb_data(skb), *end = skb_data_end(skb);
	struct ethhdr *eth = data;
	struct iphdr *iph = data + sizeof(*eth);
	struct bpf_fib_lookup fib = {};

	if ((void *)(iph + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;	/* TC_ACT_OK */
	fib.family = 2;
	fib.ipv4_src = iph->saddr;
	fib.ipv4_dst = iph->daddr;
	fib.ifindex = skb->ingress_ifindex;
	if (bpf_fib_lookup(skb, &fib, sizeof(fib), 0) != BPF_FIB_LKUP_RET_SUCCESS)
		return 0;
	__builtin_memcpy(eth->h_dest, fib.dmac, 6);
	__builtin_memcpy(eth->h_source, fib.smac, 6);
	return bpf_redirect(fib.ifindex, 0);
}

/* The source port of the run, after restoring the frame: a new one each
 * run when run_vary is set (miss path), the frame's own otherwise. */
static __always_inline __u16 run_port(void)
{
	return bpf_htons(run_sport + run_seq++);
}

SEC("xdp")
int bench_run_xdp(struct xdp_md *ctx)
{
	__u16 port;

	if (bpf_xdp_store_bytes(ctx, 0, run_frame, FRAME))
		return XDP_ABORTED;
	if (run_vary == 2 && run_nflows && run_endpoints) {
		__u32 seq = run_seq++, f = seq % run_nflows;
		__u32 draw = seq % ZIPF_DRAWS, *z;

		if (run_zipf) {
			z = bpf_map_lookup_elem(&gen_zipf_table, &draw);
			if (!z)
				return XDP_ABORTED;
			f = *z % run_nflows;
		}
		__u16 ports[2] = { bpf_htons(run_sport + f % run_endpoints),
				   bpf_htons(run_dport + f / run_endpoints) };

		bpf_xdp_store_bytes(ctx, 34, ports, sizeof(ports));
	} else if (run_vary) {
		port = run_port();
		bpf_xdp_store_bytes(ctx, 34, &port, sizeof(port));
	}
	bpf_tail_call(ctx, &run_xdp_target, 0);
	return XDP_PASS;
}

SEC("xdp")
int probe_nop(struct xdp_md *ctx)
{
	return XDP_PASS;
}

static __always_inline int probe_value(void *map, const void *key, const void *zero,
				       __u32 size)
{
	__u64 *v = bpf_map_lookup_elem(map, key);

	if (!v && probe_fill) {
		bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(map, key);
	}
	if (!v)
		return -1;
	probe_sum += v[0] + v[size / 8 - 1];
	return 0;
}

SEC("xdp")
int probe_lookup(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *iph = data + sizeof(struct ethhdr);
	struct udphdr *udp = (void *)(iph + 1);
	struct fc_endpoint_key bk = { .side = FC_SIDE_INTERNAL, .family = FC_AF_INET,
				      .proto = FC_PROTO_UDP, .ext_family = FC_AF_INET };
	struct fc_session_key sk = { .family = FC_AF_INET, .proto = FC_PROTO_UDP };
	static const struct fc_binding zero_b;
	static const struct fc_session zero_s;

	if ((void *)(udp + 1) > end)
		return XDP_ABORTED;
	bk.port = udp->source;
	bk.addr.v4 = iph->saddr;
	sk.ext_port = udp->source;
	sk.remote_port = udp->dest;
	sk.ext_addr.v4 = iph->saddr;
	sk.remote_addr.v4 = iph->daddr;
	/* 3: the flow's entry alone (one lookup per packet in a table of
	 * every flow: a per-flow design's floor). */
	if (probe_lookups != 3 && probe_value(&probe_bind, &bk, &zero_b, sizeof(zero_b)))
		return XDP_DROP;
	if (probe_lookups < 2)
		return XDP_TX;
	if (probe_value(&probe_sess, &sk, &zero_s, sizeof(zero_s)))
		return XDP_DROP;
	return XDP_TX;
}

SEC("tc")
int bench_run_tc(struct __sk_buff *skb)
{
	__u16 port;

	if (bpf_skb_store_bytes(skb, 0, run_frame, FRAME, 0))
		return 2;	/* TC_ACT_SHOT */
	if (run_vary) {
		port = run_port();
		bpf_skb_store_bytes(skb, 34, &port, sizeof(port), 0);
	}
	bpf_tail_call(skb, &run_tc_target, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
