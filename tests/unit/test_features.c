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
#include <netinet/in.h>
#include <linux/bpf.h>

#include "fcnat_tc.skel.h"
#include "fcnat_xdp.skel.h"
#include "fixture.h"
#include "harness.h"
#include "bpf_profile.h"
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
	r = features_probe_callbacks(why, sizeof(why));
	if (r == 0) {
		/* The interpreter (s390x, MIPS in the VMs): the profile says so,
		 * and features_check then does not ask for callbacks. */
		struct fc_bpf_profile p;

		ASSERT_EQ(bpf_profile_get(&p), 0, "profile");
		ASSERT_TRUE(p.bounded_loops, "a kernel without callbacks gets bounded loops");
	} else {
		ASSERT_EQ(r, 1, "bpf_loop callbacks");
	}
	/* Debian's 6.1.0-57 (amd64, arm64 in the VMs) and 6.18 here have
	 * BPF_FIB_LOOKUP_SRC; older 6.1 builds (s390x's 6.1.0-50) may not:
	 * the probe must answer, either way. */
	r = features_probe_fib_src();
	ASSERT_TRUE(r == 0 || r == 1, "BPF_FIB_LOOKUP_SRC probe answers");
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

/*
 * Both orders of the route cache's seqlock reader run in the unit tests:
 * the XDP programs as the loader loads them (on x86, plain loads), the TC
 * fast path's copy (tc_fast_fixture_setup) with fc_cpu_tso left 0: the
 * barriers of weakly ordered CPUs. Here the TC fast path keeps a hop and
 * then uses it, read through the barriers.
 */
TEST(features_route_cache_weak_order_reader_uses_the_hop)
{
	struct pkt_spec in = { .proto = IPPROTO_UDP, .saddr = CLIENT_A, .sport = 25000,
			       .daddr = SERVER_1, .dport = 7000, .payload_len = 22 };
	struct pkt_spec want = in;
	struct __sk_buff ctx;
	uint8_t buf[PKT_MAX], w[PKT_MAX];
	size_t len = pkt_build(&in, buf), wl;
	struct run_result r;

	ASSERT_EQ(fx.tc_fast->rodata->fc_cpu_tso, 0, "TC fast path: weak order");
	ASSERT_EQ(fx.loader.xskel->rodata->fc_cpu_tso, features_cpu_tso(), "XDP: the loader's");
	want.saddr = EXT_ADDR;
	want = fx_hop(want, FX_EXT0_MAC, FX_SERVER1_MAC);
	wl = pkt_build(&want, w);
	/* First: no mapping to keep the hop in; second: keeps it; third and
	 * fourth: use it. */
	for (int i = 0; i < 4; i++) {
		/* (the run leaves its mark in ctx) */
		ctx = (struct __sk_buff){ .ifindex = fx.int_ifindex,
					  .ingress_ifindex = fx.int_ifindex };
		ASSERT_EQ(run_prog_ctx(fx.fast_int_fd, buf, len, &ctx, &r), 0, "run");
		ASSERT_EQ(r.ret, 7 /* TC_ACT_REDIRECT */, "redirected");
		ASSERT_PKT_EQ(r.out, r.out_len, w, wl, "to the next hop");
		ASSERT_EQ(stat_get(&fx, FC_STAT_FAST_FIB_LOOKUP), i < 2 ? i + 1 : 2, "FIB lookups");
	}
}
