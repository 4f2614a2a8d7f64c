// SPDX-License-Identifier: GPL-2.0
/* The xlat probe over the XDP ctx layer (see xlat_probe.bpf.c). */
#define XLAT_PROBE_XDP
#include "lib/ctx_xdp.h"
#define PROBE_SEC	"xdp"
#include "xlat_probe.bpf.c"
