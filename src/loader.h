/* SPDX-License-Identifier: GPL-2.0 */
/* Loading the BPF objects, writing their configuration, attaching to TC. */
#ifndef FC_LOADER_H
#define FC_LOADER_H

#include <stdbool.h>
#include <bpf/libbpf.h>

#include <fcnat/types.h>
#include "options.h"

struct fcnat_tc;

struct fc_tc_link {
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	bool attached;
};

/* An internal interface (or lo) that fcnat hairpins on. */
struct fc_hairpin_if {
	int ifindex;
	bool created_qdisc;
	struct fc_tc_link ingress;
};

struct fc_loader {
	struct fcnat_tc *skel;
	int ifindex;
	bool created_qdisc;	/* remove clsact on detach only if we made it */
	struct fc_tc_link ingress;
	struct fc_tc_link egress;
	unsigned int nr_hairpin;
	struct fc_hairpin_if hairpin[FC_MAX_IFACES];
	int lo_accept_local;	/* value to restore, -1: untouched */
};

/* Route libbpf's messages (and the verifier log on failure) to our log. */
void loader_setup_libbpf_log(bool verbose);

int loader_load(struct fc_loader *l, const struct fc_options *o);
void loader_fill_config(const struct fc_options *o, __be32 ext_addr4, struct fc_config *cfg);
int loader_write_config(struct fc_loader *l, const struct fc_config *cfg);
int loader_attach(struct fc_loader *l, int ifindex);
/* Hairpin on an internal interface; lo gets the gateway-process variant. */
int loader_attach_hairpin(struct fc_loader *l, int ifindex, bool loopback);
/* Undo every attach: our filters, and clsact qdiscs where we created them. */
void loader_detach(struct fc_loader *l);
void loader_destroy(struct fc_loader *l);

int loader_bindings_fd(const struct fc_loader *l);
int loader_sessions_fd(const struct fc_loader *l);
int loader_stats_fd(const struct fc_loader *l);

#endif
