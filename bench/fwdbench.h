// SPDX-License-Identifier: GPL-2.0
/* What the forwarding benchmarks share (bench/fwdbench_common.c): the
 * three-namespace topology, the generator and the sink's count, the daemon
 * and its log. fwdbench.c runs the NAT lines, fwdbench_offload.c the
 * conntrack offload lines. */
#ifndef FWDBENCH_H
#define FWDBENCH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

struct bench_xdp;
struct pkt_spec;

#define BATCH_REPEAT 200000	/* frames per generator call, at most */
#define NQUEUES 2		/* generator threads, at most (the veths' queues) */
#define NAT64_CLIENT "fd00:b0::2"	/* the client's IPv6 address */

/* A frame for the generator and single runs: IPv4 (UDP checksum 0) or
 * IPv6 (checksum kept right when the source port changes). */
struct bench_frame {
	uint8_t data[128];
	__u32 len, l4off;
};

/* Names with our pid ($CLI, $GW, $SRV, $BPFFS in the shell commands);
 * cleanup undoes daemon_pid and work_dir; stop_requested: SIGINT/SIGTERM. */
extern char ns_names[3][32], bpffs_dir[64];
extern int ns_fd[3], home_fd;
extern pid_t daemon_pid;
extern char work_dir[64];
extern volatile sig_atomic_t stop_requested;
extern int gen_threads;

/* The packet source: XDP live frames where the kernel takes them, else
 * bursts of TC clones (bench_gen_tc). gen_choose_source probes and prints
 * which one runs. */
enum gen_source { GEN_XDP_LIVE, GEN_TC_CLONE };
extern enum gen_source gen_source;
#define GEN_BURST 64		/* bench_gen_tc's clones per run, at most */
void gen_choose_source(void);
const char *gen_source_name(void);
/* About n (at least 1) frames of frame (len bytes) from the chosen source
 * out of the client's ifindex, in the client's namespace; returns how many
 * were sent, -1 (message printed) if the source failed. */
__s64 gen_send(struct bench_xdp *skel, uint8_t *frame, __u32 len, int ifindex, __u64 n);
int bench_init(void);
double now_s(void);
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void enter(int i);		/* 0 cli, 1 gw, 2 srv, -1 home */
void teardown(void);
void stop_daemon(void);
int topology(void);
int read_mac(int ns, const char *ifname, uint8_t mac[6]);
__u64 sink_total(struct bench_xdp *skel);
double send_count(struct bench_xdp *skel, int cli_ifindex, __u64 npackets, double max_s);
void daemon_log_path(char *path, size_t len);
void show_daemon_log(void);
int daemon_log_open(void);
void use_frame(struct bench_xdp *skel, const struct bench_frame *f);
/* The generator's programs loaded, and its IPv4 frame: s (UDP, 64 bytes)
 * from the client's MAC to the gateway's, UDP checksum 0 (the generator
 * changes ports) in *f. NULL, message printed: the run cannot go on. */
struct bench_xdp *bench_load(struct pkt_spec *s, const uint8_t gw_mac[6],
			     const uint8_t cli_mac[6], struct bench_frame *f);
int listed(const char *list, const char *key);

#endif
