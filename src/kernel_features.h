/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the running kernel offers the BPF objects, asked before they load:
 * a kernel that lacks a helper, map type, program type or callbacks gets a
 * line naming it and the Linux version that has it, not a verifier error.
 * doc/design/kernel-compat.md has the table.
 */
#ifndef FC_FEATURES_H
#define FC_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <bpf/libbpf.h>

/* The oldest kernel fcnat loads on: XDP mode's bpf_xdp_load_bytes (5.18);
 * TC mode alone needs bpf_loop's 5.17. */
#define FC_MIN_KERNEL "5.18"

struct fc_helper_info {
	int id;			/* enum bpf_func_id */
	const char *name;	/* bpf_... */
	const char *since;	/* the mainline release that added it */
};

/* The helper id's row of the table, NULL if it has none. */
const struct fc_helper_info *features_helper(int id);
/* The kernel version that added map type t, NULL if not in the table. */
const char *features_map_type_since(enum bpf_map_type t);

/* What an object's code uses, read from its ELF image (every executable
 * section, subprograms and callbacks too). */
struct fc_obj_uses {
	int helpers[64];	/* distinct helper ids */
	unsigned int nr_helpers;
	bool bpf_calls;		/* BPF-to-BPF calls */
	bool callbacks;		/* a subprogram passed to a helper (bpf_loop) */
};
int features_scan(const void *elf, size_t size, struct fc_obj_uses *u);

/*
 * Probe the kernel for everything obj (opened, not loaded; elf/size its
 * image) uses. what names it in messages ("TC", "XDP"). Returns 0 when all
 * is there or cannot be asked (no privilege: the load reports that);
 * -EOPNOTSUPP after printing each missing feature and the minimum kernel.
 * Results are kept, so a second object or a reload asks again only for
 * what is new.
 */
int features_check(struct bpf_object *obj, const void *elf, size_t size, const char *what);

/*
 * Whether this CPU keeps loads in order with loads and stores with stores
 * (x86's TSO): the route cache's seqlock reader then needs no barrier
 * (bpf/lib/route.h, fc_cpu_tso). Elsewhere it pays two atomics.
 */
static inline bool features_cpu_tso(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return true;
#else
	return false;
#endif
}

/*
 * Whether the kernel refills the BPF memory allocator (maps without
 * preallocation, 6.1+) only at the timer tick: irq_work raises no interrupt
 * on MIPS, so a burst of new flows within a tick empties the per-CPU cache
 * and inserts fail although the table has room (seen in the mipsel VM: 14
 * of 16 mappings admitted into a table of 16). Such CPUs get preallocated
 * tables (--prealloc-tables auto).
 */
static inline bool features_cpu_tick_refill(void)
{
#if defined(__mips__)
	return true;
#else
	return false;
#endif
}

/* 1: BPF-to-BPF calls load; 0: refused (reason into why); < 0 unknown. */
int features_probe_bpf_calls(char *why, size_t len);
/* 1: a bpf_loop callback loads; 0: refused (reason into why); < 0 unknown. */
int features_probe_callbacks(char *why, size_t len);
/* 1: bpf_fib_lookup() takes BPF_FIB_LOOKUP_SRC; 0: no; < 0 unknown. */
int features_probe_fib_src(void);

#endif
