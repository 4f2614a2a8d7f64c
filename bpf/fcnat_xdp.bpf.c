// SPDX-License-Identifier: GPL-2.0
/* XDP entry points: thin wrappers that bind the fast path to struct xdp_md.
 * The maps are the TC object's (the loader reuses their fds). */
#include "lib/ctx_xdp.h"
#include "lib/fwd.h"


/* The external interface: destination NAT, then straight to the host. */
SEC("xdp")
int fc_xdp_ext(struct xdp_md *ctx)
{
	return nat4_fast_in(ctx);
}

/* Each internal interface: source NAT towards the external interface
 * (fc_xdp_ifs[0]), hairpinning to the external address. */
SEC("xdp")
int fc_xdp_int(struct xdp_md *ctx)
{
	return nat4_fast_out(ctx, fc_xdp_ifs[0], 0);
}

char LICENSE[] SEC("license") = "GPL";
