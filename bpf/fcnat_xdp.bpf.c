// SPDX-License-Identifier: GPL-2.0
/* XDP entry points: thin wrappers that bind the fast path to struct xdp_md.
 * The maps are the TC object's (the loader reuses their fds). */
#include "lib/ctx_xdp.h"
#include "lib/fwd.h"


/* The NAT44 halves as BPF functions of their own: a call chain shares 512
 * bytes of stack, and NAT64's (fwd64.h) runs beside them, not under them. */
static __noinline int xdp_nat4_in(struct xdp_md *ctx)
{
	return nat4_fast_in(ctx);
}

static __noinline int xdp_nat4_out(struct xdp_md *ctx)
{
	return nat4_fast_out(ctx, fc_xdp_ifs[0], 0);
}

static __noinline int xdp_nat4_hairpin(struct xdp_md *ctx)
{
	return nat4_fast_hairpin_parse(ctx);
}

/* The external interface: destination NAT (NAT64 too), then straight to
 * the host. */
SEC("xdp")
int fc_xdp_ext(struct xdp_md *ctx)
{
	int ret = xdp_nat4_in(ctx);

	return ret == FC_FAST_NAT64 ? nat64_fast_in(ctx) : ret;
}

/* Each internal interface: source NAT towards the external interface
 * (fc_xdp_ifs[0]), NAT64, hairpinning to the external address. */
SEC("xdp")
int fc_xdp_int(struct xdp_md *ctx)
{
	int ret;

	if (fast_is_ipv6(ctx))
		return nat64_fast_out(ctx);
	ret = xdp_nat4_out(ctx);
	return ret == FC_FAST_HAIRPIN ? xdp_nat4_hairpin(ctx) : ret;
}

char LICENSE[] SEC("license") = "GPL";
