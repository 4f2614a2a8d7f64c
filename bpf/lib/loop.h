/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loops whose step the verifier checks once, with or without callbacks.
 *
 * bpf_loop() runs its step as a callback: verified once, whatever the
 * count. The interpreter refuses callbacks, and some kernels run fcnat's
 * programs there: Debian's s390x kernel has no JIT, and the 32-bit MIPS JIT
 * compiles no BPF-to-BPF calls, so the kernel falls back to the
 * interpreter. On those the loader sets fc_no_callbacks; each loop then
 * calls its step as a global function (checked once on its own) from a
 * bounded loop. The verifier drops the branch not taken, callback and all,
 * before the program runs (doc/design/kernel-compat.md, "Profiles").
 *
 * A global function's arguments may only be scalars or pointers to structs
 * of scalars, and (kernels before 6.4) not a map key: steps keep their
 * state in map values they look up, or copy keys to their own stack.
 */
#ifndef FC_BPF_LOOP_H
#define FC_BPF_LOOP_H

#include "common.h"

const volatile __u8 fc_no_callbacks;

/* Steps without callbacks: FC_LOOP_MAX for a loop in a datapath program
 * (each pending iteration is a branch state to the verifier, 8192 at
 * most), FC_LOOP_MAX * FC_LOOP_MAX in chunks where one more frame fits
 * on the stack (programs user space runs). */
#define FC_LOOP_MAX	1024
#define FC_LOOP_CHUNKS	64	/* FC_LOOP_DEFINE_LONG: 65,536 steps */

/*
 * name##_loop(n, data): step(i, data) for i = 0, 1, ... n - 1 until it
 * returns non-zero, as bpf_loop() does; without callbacks at most
 * FC_LOOP_MAX steps. step is a static __always_inline long (__u64 i,
 * type *data); data may be NULL, and type is a struct of scalars.
 */
#define FC_LOOP_DEFINE(name, type, step)					\
static long name##_cb(__u64 i, void *data)					\
{										\
	return step(i, (type *)data);						\
}										\
										\
__noinline int name##_step(__u32 i, type *data)				\
{										\
	/* Used, so that callers pass it even when step ignores it. */		\
	asm volatile("" : "+r"(data));						\
	return step(i, data);							\
}										\
										\
static __always_inline int name##_bounded(__u32 first, __u32 n, type *data)	\
{										\
	for (__u32 i = 0; i < FC_LOOP_MAX; i++) {				\
		if (i >= n)							\
			return 0;						\
		if (name##_step(first + i, data))				\
			return 1;						\
	}									\
	return 0;								\
}										\
										\
static __always_inline __attribute__((unused)) void name##_loop(__u32 n, type *data)	\
{										\
	if (!fc_no_callbacks) {							\
		bpf_loop(n, name##_cb, data, 0);				\
		return;								\
	}									\
	name##_bounded(0, n, data);						\
}

/*
 * name##_walk(n, data), n a constant: the same, but without callbacks every
 * iteration runs (the step is skipped once one said stop), so the loop has
 * one exit: the code after it is walked by the verifier once, not once per
 * iteration it could have been left at.
 */
#define FC_WALK_DEFINE(name, type, step)					\
FC_LOOP_DEFINE(name, type, step)						\
										\
static __always_inline __attribute__((unused)) void name##_walk(const __u32 n, type *data) \
{										\
	int stop = 0;								\
										\
	if (!fc_no_callbacks) {							\
		bpf_loop(n, name##_cb, data, 0);				\
		return;								\
	}									\
	for (__u32 i = 0; i < n; i++)						\
		if (!stop)							\
			stop = name##_step(i, data);				\
}

/* The same with up to FC_LOOP_CHUNKS * FC_LOOP_MAX steps without callbacks:
 * a chunk of FC_LOOP_MAX steps is one more global function, one more stack
 * frame. */
#define FC_LOOP_DEFINE_LONG(name, type, step)					\
FC_LOOP_DEFINE(name##_one, type, step)						\
										\
__noinline int name##_chunk(__u32 first, __u32 n, type *data)		\
{										\
	return name##_one_bounded(first, n, data);				\
}										\
										\
static __always_inline void name##_loop(__u32 n, type *data)			\
{										\
	if (!fc_no_callbacks) {							\
		bpf_loop(n, name##_one_cb, data, 0);				\
		return;								\
	}									\
	for (__u32 k = 0; k < FC_LOOP_CHUNKS; k++) {				\
		__u32 first = k * FC_LOOP_MAX;					\
										\
		if (first >= n || name##_chunk(first, n - first, data))	\
			break;							\
	}									\
}

/* The type of a loop whose step needs no data (data NULL). */
struct fc_loop_none {
	__u32 unused;
};

#endif /* FC_BPF_LOOP_H */
