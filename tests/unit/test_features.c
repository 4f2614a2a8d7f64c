// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel feature probes (src/kernel_features.c): every helper and map
 * type the objects use has a row saying which Linux added it (so the
 * refusal on an old kernel can name it), the probes answer on this kernel,
 * and the objects' code is read right (helpers, BPF-to-BPF calls,
 * callbacks: what the MIPS JIT and the interpreter refuse).
 */
#include <errno.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "fcnat_tc.skel.h"
#include "fcnat_xdp.skel.h"
#include "harness.h"
#include "kernel_features.h"

static bool has_helper(const struct fc_obj_uses *u, int id)
{
	for (unsigned int i = 0; i < u->nr_helpers; i++)
		if (u->helpers[i] == id)
			return true;
	return false;
}

static void check_object(const void *elf, size_t sz, struct bpf_object *obj)
{
	struct fc_obj_uses u;
	struct bpf_map *map;

	ASSERT_EQ(features_scan(elf, sz, &u), 0, "scan");
	ASSERT_TRUE(u.nr_helpers > 5, "helpers found");
	ASSERT_TRUE(u.nr_helpers < sizeof(u.helpers) / sizeof(u.helpers[0]), "room for all");
	for (unsigned int i = 0; i < u.nr_helpers; i++) {
		if (!features_helper(u.helpers[i]))
			FAIL("helper %d has no row in kernel_features.c's table", u.helpers[i]);
		assertions++;
	}
	bpf_object__for_each_map(map, obj) {
		if (!features_map_type_since(bpf_map__type(map)))
			FAIL("map %s: type %s has no row in kernel_features.c's table",
			     bpf_map__name(map), libbpf_bpf_map_type_str(bpf_map__type(map)));
		assertions++;
	}
}

TEST(features_every_helper_and_map_type_has_a_kernel_version)
{
	struct fcnat_tc *tc = fcnat_tc__open();
	struct fcnat_xdp *xdp = fcnat_xdp__open();
	const void *elf;
	size_t sz;

	ASSERT_TRUE(tc && xdp, "open");
	elf = fcnat_tc__elf_bytes(&sz);
	check_object(elf, sz, tc->obj);
	elf = fcnat_xdp__elf_bytes(&sz);
	check_object(elf, sz, xdp->obj);
	fcnat_tc__destroy(tc);
	fcnat_xdp__destroy(xdp);
}

/* What the portable profile has to remove (issue 18): the TC object makes
 * BPF-to-BPF calls and bpf_loop callbacks; the helpers that set the floor
 * are where they are expected. */
TEST(features_scan_finds_calls_callbacks_and_floor_helpers)
{
	struct fc_obj_uses u;
	const void *elf;
	size_t sz;

	elf = fcnat_tc__elf_bytes(&sz);
	ASSERT_EQ(features_scan(elf, sz, &u), 0, "scan tc");
	ASSERT_TRUE(u.bpf_calls, "tc: BPF-to-BPF calls");
	ASSERT_TRUE(u.callbacks, "tc: callbacks");
	ASSERT_TRUE(has_helper(&u, BPF_FUNC_loop), "tc: bpf_loop");
	ASSERT_TRUE(!has_helper(&u, BPF_FUNC_xdp_load_bytes), "tc: no XDP helper");
	ASSERT_TRUE(has_helper(&u, BPF_FUNC_map_lookup_elem), "tc: map lookups");
	elf = fcnat_xdp__elf_bytes(&sz);
	ASSERT_EQ(features_scan(elf, sz, &u), 0, "scan xdp");
	ASSERT_TRUE(has_helper(&u, BPF_FUNC_xdp_load_bytes), "xdp: bpf_xdp_load_bytes");
	ASSERT_EQ(features_helper(BPF_FUNC_xdp_load_bytes)->since[0], '5', "5.18");
	ASSERT_EQ(features_helper(BPF_FUNC_loop)->since[2], '1', "5.17");
}

TEST(features_probes_pass_on_this_kernel)
{
	struct fcnat_tc *tc;
	struct fcnat_xdp *xdp;
	char why[256];
	const void *elf;
	size_t sz;
	int r;

	r = features_probe_bpf_calls(why, sizeof(why));
	if (r == -EPERM)
		SKIP("no privilege to load BPF programs");
	ASSERT_EQ(r, 1, "BPF-to-BPF calls");
	ASSERT_EQ(features_probe_callbacks(why, sizeof(why)), 1, "bpf_loop callbacks");
	/* Every kernel the tests run on (6.18 here, Debian's 6.1.0-57 in the
	 * VM) has BPF_FIB_LOOKUP_SRC. */
	ASSERT_EQ(features_probe_fib_src(), 1, "BPF_FIB_LOOKUP_SRC");
	tc = fcnat_tc__open();
	xdp = fcnat_xdp__open();
	ASSERT_TRUE(tc && xdp, "open");
	elf = fcnat_tc__elf_bytes(&sz);
	ASSERT_EQ(features_check(tc->obj, elf, sz, "TC"), 0, "TC object");
	elf = fcnat_xdp__elf_bytes(&sz);
	ASSERT_EQ(features_check(xdp->obj, elf, sz, "XDP"), 0, "XDP object");
	fcnat_tc__destroy(tc);
	fcnat_xdp__destroy(xdp);
}

/* A helper the kernel lacks is seen as missing (not as an error), which
 * is what the refusal is built on. */
TEST(features_unknown_helper_reads_as_missing)
{
	int r = libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS, __BPF_FUNC_MAX_ID + 100, NULL);

	if (r == -EPERM)
		SKIP("no privilege to load BPF programs");
	ASSERT_EQ(r, 0, "a helper id past the last");
	ASSERT_EQ(libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_loop, NULL), 1,
		  "bpf_loop");
}
