// SPDX-License-Identifier: GPL-2.0
/*
 * Loaded for TCX links (fc_tc_chain set, src/tc_attach.h), the TC programs
 * hand what they let through to the next program of the chain (TCX_NEXT,
 * -1) instead of ending it (TC_ACT_OK): translated or not, the packet is
 * the same as on clsact, only the verdict differs. The same programs on the
 * fixture's maps, loaded once more with the flag.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fcnat_tc.skel.h"
#include "fixture.h"
#include "harness.h"
#include "spec4.h"

#define TCX_NEXT (-1)

/* The programs again, on fx's maps, with fc_tc_chain set. */
static struct fcnat_tc *load_chained(void)
{
	struct fcnat_tc *skel = fcnat_tc__open();
	struct bpf_map *map;

	if (!skel)
		return NULL;
	if (bpf_profile_apply(skel->obj, &skel->rodata->fc_no_callbacks, "TC"))
		goto fail;
	bpf_object__for_each_map(map, skel->obj) {
		struct bpf_map *shared;

		if (bpf_map__is_internal(map))
			continue;
		shared = bpf_object__find_map_by_name(fx.loader.skel->obj, bpf_map__name(map));
		if (!shared || bpf_map__reuse_fd(map, bpf_map__fd(shared)))
			goto fail;
	}
	skel->rodata->fc_tc_chain = 1;
	if (fcnat_tc__load(skel))
		goto fail;
	return skel;
fail:
	fcnat_tc__destroy(skel);
	return NULL;
}

TEST(tcx_passed_packets_go_on_down_the_chain)
{
	struct fcnat_tc *skel = load_chained();
	struct pkt_spec out = udp(CLIENT_A, 25000, SERVER_1, 7000);
	struct pkt_spec want = udp(EXT_ADDR, 25000, SERVER_1, 7000);
	struct pkt_spec back = udp(SERVER_1, 7000, EXT_ADDR, 25000);
	struct pkt_spec back_want = udp(SERVER_1, 7000, CLIENT_A, 25000);
	struct pkt_spec stranger = udp(SERVER_1, 7000, EXT_ADDR, 22);
	struct run_result r1, r2, r3;
	uint8_t w[PKT_MAX];
	int e1, e2, e3;

	ASSERT_TRUE(skel != NULL, "programs loaded with fc_tc_chain");
	e1 = run_spec_from(bpf_program__fd(skel->progs.fc_tc_egress), &out, FORWARDED_FROM, &r1);
	e2 = run_spec_from(bpf_program__fd(skel->progs.fc_tc_ingress), &back, FORWARDED_FROM, &r2);
	/* To a port outside the NAT range: the stack's, passed on as it is. */
	e3 = run_spec_from(bpf_program__fd(skel->progs.fc_tc_ingress), &stranger, FORWARDED_FROM, &r3);
	fcnat_tc__destroy(skel);
	ASSERT_EQ(e1 | e2 | e3, 0, "test runs");
	ASSERT_EQ(r1.ret, TCX_NEXT, "translated outbound: on down the chain");
	ASSERT_PKT_EQ(r1.out, r1.out_len, w, pkt_build(&want, w), "translated outbound");
	ASSERT_EQ(r2.ret, TCX_NEXT, "translated inbound: on down the chain");
	ASSERT_PKT_EQ(r2.out, r2.out_len, w, pkt_build(&back_want, w), "translated inbound");
	ASSERT_EQ(r3.ret, TCX_NEXT, "untranslated: on down the chain");
	ASSERT_PKT_EQ(r3.out, r3.out_len, w, pkt_build(&stranger, w), "untouched");
}

TEST(clsact_passed_packets_end_the_chain_as_before)
{
	struct pkt_spec stranger = udp(SERVER_1, 7000, EXT_ADDR, 22);
	struct run_result r;

	ASSERT_EQ(run_spec_from(fx.ingress_fd, &stranger, FORWARDED_FROM, &r), 0, "test run");
	ASSERT_EQ(r.ret, TC_ACT_OK, "TC_ACT_OK without fc_tc_chain");
}
