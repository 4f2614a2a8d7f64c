// SPDX-License-Identifier: GPL-2.0
/* `fcnat offload`'s TC entry point: the ingress of each interface given
 * with -i (bpf/lib/offload.h). */
#include "lib/ctx_tc.h"
#include "lib/offload.h"

SEC("tc")
int fo_tc_ingress(struct __sk_buff *ctx)
{
	return offload_ingress(ctx);
}

char LICENSE[] SEC("license") = "GPL";
