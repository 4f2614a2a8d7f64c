/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The datapath's profile: what the one build of the BPF objects leaves out
 * on kernels that cannot take all of it, chosen at start by probing
 * (doc/design/kernel-compat.md, "Profiles").
 *
 * - bounded_loops: the kernel refuses bpf_loop() callbacks (BPF run by the
 *   interpreter: no JIT, or the 32-bit MIPS JIT, which compiles no
 *   BPF-to-BPF calls). The objects' fc_no_callbacks is set: their loops
 *   call global step functions from bounded loops (bpf/lib/loop.h).
 * - static_ctx_funcs: the kernel has no BTF of its own, without which its
 *   verifier cannot tell a global function's context argument from memory.
 *   Global functions that take the context become static ones before load
 *   (checked with the caller, like an inlined function).
 *
 * - strict_align: the verifier's alignment checks of CPUs without efficient
 *   unaligned access (MIPS: packet data starts 2 bytes past a word, so the
 *   IP header is aligned behind Ethernet's 14 bytes), asked for with
 *   BPF_F_STRICT_ALIGNMENT. Those kernels apply them anyway; forcing them
 *   lets a test on x86-64 see what MIPS's verifier sees.
 *
 * FCNAT_BPF_PROFILE forces them (tests, and kernels that misreport):
 * "auto" (the default), or a comma list of "bounded-loops",
 * "no-kernel-btf" and "strict-align".
 */
#ifndef FC_BPF_PROFILE_H
#define FC_BPF_PROFILE_H

#include <stdbool.h>
#include <bpf/libbpf.h>

struct fc_bpf_profile {
	bool bounded_loops;
	bool static_ctx_funcs;
	bool strict_align;	/* forced only: what CPUs without unaligned access get */
};

/* The profile for this kernel, probed once (-EINVAL: a bad FCNAT_BPF_PROFILE). */
int bpf_profile_get(struct fc_bpf_profile *p);

/*
 * Apply it to an object opened and not loaded: no_callbacks is the
 * object's fc_no_callbacks in its .rodata. Returns 0 or -errno after a
 * message.
 */
int bpf_profile_apply(struct bpf_object *obj, volatile unsigned char *no_callbacks, const char *what);

/* The same with a profile given (tests). */
int bpf_profile_apply_this(struct bpf_object *obj, volatile unsigned char *no_callbacks,
			   const char *what, const struct fc_bpf_profile *p);

struct btf;
struct btf_type;
/* Whether FUNC type t takes the program's context (__sk_buff, xdp_md). */
bool bpf_profile_is_ctx_func(const struct btf *btf, const struct btf_type *t);

#endif /* FC_BPF_PROFILE_H */
