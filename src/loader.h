/* SPDX-License-Identifier: GPL-2.0 */
/* Loading the BPF objects and writing their configuration (loader.c);
 * attaching them: clsact filters and hairpins (tc_clsact.c), TCX links
 * (tc_attach.c), XDP (xdp_attach.c). */
#ifndef FC_LOADER_H
#define FC_LOADER_H

#include <stdbool.h>
#include <stdio.h>
#include <bpf/libbpf.h>

#include <fcnat/types.h>
#include "options.h"
#include "pin.h"
#include "tc_attach.h"

struct fcnat_tc;
struct fcnat_xdp;

/* An XDP program fcnat attached (mode: XDP_FLAGS_DRV_MODE or _SKB_MODE). */
struct fc_xdp_link {
	int ifindex;
	__u32 mode;
	int prog_fd;
};

struct fc_tc_link {
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	bool attached;
	bool replaced;	/* took the place of a kept datapath's filter */
};

/* An internal interface (or lo) that fcnat hairpins on. */
struct fc_hairpin_if {
	int ifindex;
	bool created_qdisc;
	struct fc_tc_link ingress;
	struct fc_tcx_link tcx;	/* FC_TC_ATTACH_TCX: its ingress link */
};

struct fc_loader {
	struct fcnat_tc *skel;
	int ifindex;
	bool created_qdisc;	/* remove clsact on detach only if we made it */
	bool made_qdisc_now;	/* ... in this start */
	/* Called by loader_attach() just before it makes the clsact qdisc
	 * (there is none yet): the caller records it, so a start killed from
	 * here on leaves a qdisc --detach and the next start know to remove. */
	void (*qdisc_making)(void *arg, int ifindex);
	void *qdisc_making_arg;
	struct fc_tc_link ingress;
	struct fc_tc_link egress;
	enum fc_tc_attach attach;	/* TCX links or clsact filters (tc_attach.h) */
	char pin_dir[512];		/* TCX: where the links are pinned */
	struct fc_tcx_link tcx_ingress, tcx_egress;
	unsigned int nr_hairpin;
	struct fc_hairpin_if hairpin[FC_MAX_IFACES];
	int lo_accept_local;	/* value to restore, -1: untouched */
	struct fcnat_xdp *xskel;	/* --mode xdp: the fast path, sharing the maps */
	unsigned int nr_xdp;
	struct fc_xdp_link xdp[FC_MAX_IFACES + 1];
};

/* Route libbpf's messages (and the verifier log on failure) to our log. */
void loader_setup_libbpf_log(bool debug, bool whole_verifier_log);
/* Print libbpf's message msg holding a verifier log (from log, its BEGIN
 * line) with only the log's last nr_lines lines, and how many were cut. */
void loader_print_log_tail(FILE *out, const char *msg, const char *log, int nr_lines);

/* open (and size the maps), [reuse pinned maps], load; or both at once. */
int loader_open(struct fc_loader *l, const struct fc_options *o);
int loader_load_opened(struct fc_loader *l);
int loader_load(struct fc_loader *l, const struct fc_options *o);
/* Between open and load: TC mode's fast path, from the internal interfaces
 * out of the external one and back (bpf/lib/route.h). */
int loader_set_tc_fast(struct fc_loader *l, int ext_ifindex, const int *internal, unsigned int n);
/* The interfaces with no link-layer header (link_check's bare_ip), for the
 * TC programs: before load, or live after (a re-attached interface's new
 * index). -E2BIG past the datapath's room for them. */
int loader_set_l3_links(struct fc_loader *l, const int *ifindex, unsigned int n);
struct bpf_object *loader_object(const struct fc_loader *l);
void loader_fill_config(const struct fc_options *o, __be32 ext_addr4, struct fc_config *cfg);
int loader_write_config(struct fc_loader *l, const struct fc_config *cfg);
/* The pool and scope maps from o (before loader_write_config). */
int loader_write_cgnat(struct fc_loader *l, const struct fc_options *o);
/* Between open and load: TCX links or clsact filters on ifindex, as
 * tc_attach_choose() decides from the kernel and pin's kept datapath. */
int loader_choose_attach(struct fc_loader *l, int ifindex, const struct fc_pin *pin);
/* Attach to ifindex's TC hooks. prev: the pinned state's record of a kept
 * datapath; its filters, if still there and ours, are replaced in place. */
int loader_attach(struct fc_loader *l, int ifindex, const struct fc_meta *prev);
/* Hairpin on an internal interface; lo gets the gateway-process variant,
 * a --lan-if interface in TC mode (fast) the fast path as well.
 * A kept datapath's filter there (in prev) is replaced in place. */
int loader_attach_hairpin(struct fc_loader *l, int ifindex, bool loopback, bool fast,
			  const struct fc_meta *prev);
/* Remove the hairpin filters this loader holds (and what they needed). */
void loader_detach_hairpin(struct fc_loader *l);
/* Where the filters went, for the pinned record. */
void loader_record_attach(const struct fc_loader *l, struct fc_meta *m);
/* Remove a kept datapath's filters (and its clsact); returns how many. */
int loader_detach_kept(const struct fc_meta *m);
/* Remove the clsact filters of this state on ifindex that no record names. */
void loader_detach_orphans_on(const struct fc_loader *l, int ifindex);
/* Undo attach: our filters, and the clsact qdisc if we created it. */
void loader_detach(struct fc_loader *l);
void loader_destroy(struct fc_loader *l);

/* --mode xdp: load the XDP programs on the TC object's maps (after
 * loader_load_opened); ext_ifindex is where outbound traffic is translated,
 * internal[n] the internal interfaces (the fast path sends only to these). */
int loader_xdp_load(struct fc_loader *l, int ext_ifindex, const int *internal, unsigned int n);
/* Attach the external (ext) or internal XDP program to ifindex and let the
 * fast path send frames out of it. A kept datapath's program on the state
 * this loader took over is replaced in one step; any other XDP program
 * already there (anyone's, even another fcnat's) is never replaced: -EBUSY. */
int loader_xdp_attach(struct fc_loader *l, int ifindex, bool ext, enum fc_xdp_mode mode);
/* Detach exactly the XDP programs this loader attached. */
void loader_xdp_detach(struct fc_loader *l);
/* Detach the XDP programs on ifindex that work on the state whose fc_bindings
 * map is bindings_fd (a kept datapath's); returns how many. */
int loader_xdp_remove_kept(int bindings_fd, int ifindex);

int loader_bindings_fd(const struct fc_loader *l);
/* Its id: what ties a filter to this state (orphaned filters are found by it). */
__u32 loader_bindings_id(const struct fc_loader *l);
/* Remove every fcnat TC filter in this namespace working on the state whose
 * fc_bindings is bindings_fd, recorded or not (--detach after an
 * interrupted start). Returns how many. */
int loader_detach_orphans(int bindings_fd);
int loader_sessions_fd(const struct fc_loader *l);
int loader_stats_fd(const struct fc_loader *l);
int loader_events_fd(const struct fc_loader *l);
int loader_subscribers_fd(const struct fc_loader *l);
int loader_pool_fd(const struct fc_loader *l);
int loader_pool_index_fd(const struct fc_loader *l);
/* The fc_release program (gc.h: gc_release). */
int loader_release_fd(const struct fc_loader *l);
/* Port blocks: the block table and the fc_block_free program (gc.c). */
int loader_blocks_fd(const struct fc_loader *l);
int loader_block_free_fd(const struct fc_loader *l);

#endif
