// SPDX-License-Identifier: GPL-2.0
/*
 * The datapath's profiles (src/bpf_profile.c, bpf/lib/loop.h): both
 * objects load in each, and say what the verifier spent. The whole suite
 * also runs in the portable profile (`make test` runs it a second time with
 * FCNAT_BPF_PROFILE=bounded-loops,no-kernel-btf), which is what proves the
 * bounded loops translate as the callbacks do.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "bpf_profile.h"
#include "fcnat_tc.skel.h"
#include "fcnat_xdp.skel.h"
#include "harness.h"

static const struct {
	const char *name;
	struct fc_bpf_profile p;
} profiles[] = {
	{ "full", { false, false, false } },
	{ "bounded-loops", { true, false, false } },
	{ "bounded-loops,no-kernel-btf", { true, true, false } },
};

/* Global functions left that take the context: none after no-kernel-btf. */
static unsigned int ctx_globals(struct bpf_object *obj)
{
	const struct btf *btf = bpf_object__btf(obj);
	unsigned int n = 0;

	for (unsigned int id = 1; btf && id < btf__type_cnt(btf); id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (btf_is_func(t) && btf_vlen(t) == BTF_FUNC_GLOBAL &&
		    bpf_profile_is_ctx_func(btf, t))
			n++;
	}
	return n;
}

static unsigned long long report(struct bpf_object *obj, const char *profile)
{
	struct bpf_program *prog;
	unsigned long long total = 0;

	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_program__fd(prog) < 0 ||
		    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			continue;
		printf("    %-42s %-18s %7u insns verified\n", profile, bpf_program__name(prog),
		       info.verified_insns);
		total += info.verified_insns;
	}
	return total;
}

TEST(profile_each_loads_both_objects)
{
	struct fc_bpf_profile kernel;

	ASSERT_EQ(bpf_profile_get(&kernel), 0, "this kernel's profile");
	for (unsigned int i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		struct fc_bpf_profile p = profiles[i].p;
		struct fcnat_tc *tc;
		struct fcnat_xdp *xdp;
		char name[64];
		int err;

		/* Only what this kernel can take: no callbacks, no BTF. */
		if ((kernel.bounded_loops && !profiles[i].p.bounded_loops) ||
		    (kernel.static_ctx_funcs && !profiles[i].p.static_ctx_funcs)) {
			printf("    %s: not for this kernel\n", profiles[i].name);
			continue;
		}
		/* The strict-alignment run (make strict-align-unit-test) checks
		 * every profile under the alignment rules of MIPS. */
		p.strict_align = kernel.strict_align;
		snprintf(name, sizeof(name), "%s%s", profiles[i].name, p.strict_align ? ",strict-align" : "");
		tc = fcnat_tc__open();
		xdp = fcnat_xdp__open();

		ASSERT_TRUE(tc && xdp, "open");
		ASSERT_EQ(bpf_profile_apply_this(tc->obj, &tc->rodata->fc_no_callbacks, "TC", &p), 0, "apply TC");
		ASSERT_EQ(bpf_profile_apply_this(xdp->obj, &xdp->rodata->fc_no_callbacks, "XDP", &p), 0, "apply XDP");
		if (p.static_ctx_funcs) {
			ASSERT_EQ(ctx_globals(tc->obj), 0, "TC: global functions taking the context");
			ASSERT_EQ(ctx_globals(xdp->obj), 0, "XDP: global functions taking the context");
		} else {
			ASSERT_TRUE(ctx_globals(tc->obj) > 0, "TC: the built object has some");
		}
		err = fcnat_tc__load(tc);
		if (err == -EPERM)
			SKIP("no privilege to load BPF programs");
		ASSERT_EQ(err, 0, "load TC");
		ASSERT_EQ(fcnat_xdp__load(xdp), 0, "load XDP");
		printf("    %s: %llu instructions verified in all\n", name,
		       report(tc->obj, name) + report(xdp->obj, name));
		fcnat_tc__destroy(tc);
		fcnat_xdp__destroy(xdp);
	}
}

TEST(profile_forced_by_the_environment_is_checked)
{
	struct fc_bpf_profile p;

	/* The suite runs under one FCNAT_BPF_PROFILE or none: whichever, it
	 * parsed (a bad one stops the datapath from loading at all). */
	ASSERT_EQ(bpf_profile_get(&p), 0, "FCNAT_BPF_PROFILE parses");
}
