/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How fcnat's TC programs are attached: TCX links where the kernel has them
 * (Linux 6.6+), the clsact qdisc with cls_bpf filters elsewhere (tc_clsact.c).
 *
 * TCX links are multi-program: fcnat's program takes one place in each
 * hook's chain beside anyone else's (qosify, Cilium, a firewall), needs no
 * qdisc (a crash leaves none behind) and is pinned under the state
 * directory, so the datapath outlives the daemon as the filters did and the
 * next start takes the link over (its program swapped in one step).
 *
 * Order: fcnat goes last on ingress (appended) and first on egress
 * (prepended): the stack side of every other program, as the kernel's own
 * NAT (netfilter's, after tc ingress, before tc egress) would be. Other
 * programs see the addresses on the wire both ways, translated on egress,
 * untranslated on ingress. A program attached later takes its own place
 * (TCX has no "always last"): BPF_F_BEFORE/AFTER with fcnat's link or
 * program id places it relative to fcnat exactly.
 */
#ifndef FC_TC_ATTACH_H
#define FC_TC_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

enum fc_tc_attach {
	FC_TC_ATTACH_CLSACT,	/* clsact qdisc + cls_bpf filters (before 6.6) */
	FC_TC_ATTACH_TCX,	/* TCX links */
};

/* A TCX link fcnat holds (attached or taken over), pinned at pin. */
struct fc_tcx_link {
	bool held;		/* fd is open */
	bool taken_over;	/* a kept datapath's link, its program replaced */
	int fd;
	int ifindex;
	bool ingress;
	__u32 link_id;
	char pin[512];
};

/* The environment variable that picks the attach: auto (default), tcx, clsact. */
#define FC_TC_ATTACH_ENV "FCNAT_TC_ATTACH"

/* Does this kernel have TCX? Asked of ifindex's TCX ingress hook (a query,
 * no side effect): 6.6+ answers, older kernels refuse the attach type. */
bool tcx_supported(int ifindex);

/*
 * The attach to use on ifindex, said in the log: what a kept datapath used
 * (kept_flags: its fc_meta flags, FC_META_ATTACHED set), else TCX when the
 * kernel has it, else clsact; FCNAT_TC_ATTACH=tcx|clsact forces one (tcx on
 * a kernel without it: -EOPNOTSUPP). -EINVAL for another value.
 */
int tc_attach_choose(int ifindex, bool kept, bool kept_tcx, enum fc_tc_attach *mode);

const char *tc_attach_name(enum fc_tc_attach mode);

/* The pin of a link under the state directory dir: "tcx_ingress",
 * "tcx_egress" (external interface), "tcx_hairpin_<ifindex>". */
void tcx_pin_path(char *out, size_t len, const char *dir, int ifindex, bool ingress,
		  bool hairpin);

/*
 * Put prog_fd on ifindex's TCX ingress (appended) or egress (prepended)
 * hook and pin the link at pin. A link already pinned there that is on the
 * same hook is taken over instead: its program is replaced in one step
 * (no packet meets the hook without fcnat) and it keeps its place in the
 * chain. A pinned link elsewhere (the interface was re-created) is detached
 * and replaced. Returns 0 or -errno.
 */
int tcx_attach(struct fc_tcx_link *t, int ifindex, bool ingress, int prog_fd, const char *pin);

/* Detach the link, close it and remove its pin (clean exit, undo). */
void tcx_detach(struct fc_tcx_link *t);

/* Close the link and forget it; the pin keeps the datapath (keep-state). */
void tcx_release(struct fc_tcx_link *t);

/* --detach: detach every link pinned in dir (tcx_*) and remove the pins.
 * Returns how many were detached. */
int tcx_detach_dir(const char *dir);

struct fc_loader;

/* The loader's external programs on ifindex (loader_attach in TCX mode):
 * ingress and egress links, taken over where the state directory has them. */
int tcx_attach_ext(struct fc_loader *l, int ifindex);
/* A hairpin/internal interface's ingress program (loader_attach_hairpin). */
int tcx_attach_hairpin(struct fc_loader *l, int ifindex, int prog_fd);

/* After a takeover: detach the kept hairpin links on interfaces this start
 * did not attach to. Returns how many. */
int tcx_drop_unused(const struct fc_loader *l);

/* Ids of the programs on ifindex's TCX hook, in the order they run.
 * Returns how many (up to max), or -errno. */
int tcx_prog_ids(int ifindex, bool ingress, __u32 *ids, __u32 max);

#endif /* FC_TC_ATTACH_H */
