// SPDX-License-Identifier: GPL-2.0
/*
 * How fast `fcnat offload` installs a burst of new flows: N established
 * conntrack entries (distinct UDP flows, masqueraded) applied to a
 * fo_table over the offload datapath's real maps (loaded, not attached),
 * as the daemon applies a recv()'s worth of ctnetlink messages: held and
 * flushed every CHUNK entries (bpf_map_update_batch), or each written at
 * once (two bpf() calls a flow: the way before batching). Flows installed
 * per second, for the table's work and the map writes; the ctnetlink
 * receive and parse are not in it. Root. doc/design/offload.md.
 *
 *   build/offload_install [N ...]   (default 10000 200000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <netinet/in.h>

#include "ct_msg.h"
#include "fcnat_offload.skel.h"
#include "offload_flows.h"

#define CHUNK	900	/* about what a 256 KiB recv() of NEW events holds */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct ct_entry entry(__u32 i)
{
	struct ct_entry e = {
		.event = CT_EV_NEW, .family = AF_INET, .has_orig = true, .has_reply = true,
		.has_status = true, .status = IPS_ASSURED | IPS_CONFIRMED | IPS_SEEN_REPLY,
	};

	/* 10.x.y.z:p -> 198.51.100.7:53, masqueraded to 203.0.113.1:p' */
	e.orig = (struct ct_tuple){ .src = htonl(0x0a000000 | (i >> 4)),
				    .dst = htonl(0xc6336407), .sport = htons(10000 + (i & 15)),
				    .dport = htons(53), .proto = IPPROTO_UDP, .family = AF_INET };
	e.reply = (struct ct_tuple){ .src = htonl(0xc6336407), .dst = htonl(0xcb007101),
				     .sport = htons(53), .dport = htons(1024 + i % 60000),
				     .proto = IPPROTO_UDP, .family = AF_INET };
	e.reply.dport = htons(1024 + (i % 64000));
	e.reply.dst = htonl(0xcb007100 | (i / 64000 + 1));
	return e;
}

static int run(struct fcnat_offload *skel, __u32 n, bool batch)
{
	struct fo_table *t = fo_table_new(&(struct fo_table_cfg){
		.map_fd = bpf_map__fd(skel->maps.fo_flows4),
		.map6_fd = bpf_map__fd(skel->maps.fo_flows6), .max_flows = n,
		.tcp_timeout = 432000, .udp_timeout = 120, .buckets = 1u << 18 });
	double t0, dt;

	if (!t)
		return -1;
	t0 = now_s();
	for (__u32 i = 0; i < n; i += CHUNK) {
		if (batch)
			fo_table_hold(t);
		for (__u32 k = i; k < n && k < i + CHUNK; k++) {
			struct ct_entry e = entry(k);

			fo_table_apply(t, &e);
		}
		if (batch)
			fo_table_flush(t);
	}
	dt = now_s() - t0;
	printf("%-8u flows  %-22s %8lu installed in %.3f s: %9.0f flows/s\n", n,
	       batch ? "batched (hold/flush)" : "one at a time", fo_table_offloaded(t), dt,
	       fo_table_offloaded(t) / dt);
	fo_table_free(t);	/* empties the map for the next run */
	return 0;
}

int main(int argc, char **argv)
{
	__u32 sizes[8] = { 10000, 200000 }, nsizes = 2, max = 0;
	struct fcnat_offload *skel;

	if (argc > 1) {
		nsizes = 0;
		for (int i = 1; i < argc && nsizes < 8; i++)
			sizes[nsizes++] = strtoul(argv[i], NULL, 0);
	}
	for (__u32 i = 0; i < nsizes; i++)
		if (sizes[i] > max)
			max = sizes[i];
	skel = fcnat_offload__open();
	if (!skel)
		return 1;
	bpf_map__set_max_entries(skel->maps.fo_flows4, max * 2);
	if (fcnat_offload__load(skel)) {
		fprintf(stderr, "loading the offload datapath failed (root?)\n");
		return 1;
	}
	for (__u32 i = 0; i < nsizes; i++)
		for (int round = 0; round < 3; round++)
			if (run(skel, sizes[i], false) || run(skel, sizes[i], true))
				return 1;
	fcnat_offload__destroy(skel);
	return 0;
}
