// SPDX-License-Identifier: GPL-2.0
/* `fcnat offload --mode xdp`: the XDP entry point of each interface given
 * with -i (bpf/lib/offload.h over ctx_xdp.h). The maps are the TC
 * object's (user space reuses their fds). */
#include "lib/ctx_xdp.h"
#include "lib/offload.h"

SEC("xdp")
int fo_xdp(struct xdp_md *ctx)
{
	return offload_ingress(ctx);
}

char LICENSE[] SEC("license") = "GPL";
