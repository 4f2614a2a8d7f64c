// SPDX-License-Identifier: GPL-2.0
/* `fcnat offload`'s command line (offload_opts.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>

#include "log.h"
#include "offload_opts.h"
#include "offload_pin.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fcnat offload [--mode tc|xdp] -i IFNAME [-i IFNAME ...] [options]\n"
		"Forward the flows conntrack has established (and the firewall accepted)\n"
		"in the datapath, with their NAT, on the ingress of each interface.\n"
		"  -i, --interface IFNAME  an interface whose received packets are offloaded\n"
		"      --mode tc|xdp       the datapath's hook (default tc)\n"
		"      --xdp-mode native|generic|auto  XDP attach (default auto: native, else generic)\n"
		"      --max-flows N       flows offloaded at once (default 65536)\n"
		"      --ct-mark V[/M]     only entries whose conntrack mark & M == V\n"
		"      --ct-zone ZONE      the conntrack zone whose flows are offloaded (default 0)\n"
		"      --vlan ID|OUTER.INNER  the -i before it carries its frames with these tags\n"
		"                          (802.1Q, or QinQ) and has no VLAN device for them\n"
		"      --stats-file PATH   write counters as JSON there each second\n"
		"      --bpffs DIR         where the maps are pinned (default " FO_PIN_ROOT_DEFAULT ")\n"
		"      --keep-state        on SIGTERM leave the datapath forwarding, for a restart\n"
		"      --metrics ADDR:PORT serve the counters for Prometheus at /metrics\n"
		"      --detach            remove what a --keep-state or killed offload left\n"
		"  -v, --verbose\n");
}

static int parse_u32(const char *s, __u32 *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 0);
	if (errno || end == s || *end || x > 0xffffffffUL)
		return -1;
	*v = x;
	return 0;
}

int offload_parse_opts(int argc, char **argv, struct fo_opts *o)
{
	static const struct option longs[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "mode", required_argument, NULL, 'm' },
		{ "xdp-mode", required_argument, NULL, 'x' },
		{ "max-flows", required_argument, NULL, 'n' },
		{ "ct-mark", required_argument, NULL, 'k' },
		{ "ct-zone", required_argument, NULL, 'z' },
		{ "vlan", required_argument, NULL, 'V' },
		{ "stats-file", required_argument, NULL, 's' },
		{ "bpffs", required_argument, NULL, 'b' },
		{ "keep-state", no_argument, NULL, 'K' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "detach", no_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	o->max_flows = 65536;
	snprintf(o->bpffs, sizeof(o->bpffs), "%s", FO_PIN_ROOT_DEFAULT);
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:vh", longs, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (o->nr_ifs == FO_IFS_MAX) {
				fc_err("offload: at most %d interfaces", FO_IFS_MAX);
				return -1;
			}
			o->ifs[o->nr_ifs++] = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "tc") && strcmp(optarg, "xdp")) {
				fc_err("offload: --mode %s: tc or xdp", optarg);
				return -1;
			}
			o->xdp = !strcmp(optarg, "xdp");
			break;
		case 'x':
			if (!strcmp(optarg, "native"))
				o->xdp_mode = XDP_FLAGS_DRV_MODE;
			else if (!strcmp(optarg, "generic"))
				o->xdp_mode = XDP_FLAGS_SKB_MODE;
			else if (!strcmp(optarg, "auto"))
				o->xdp_mode = 0;
			else {
				fc_err("offload: --xdp-mode %s: native, generic or auto", optarg);
				return -1;
			}
			break;
		case 'n':
			if (parse_u32(optarg, &o->max_flows) || !o->max_flows ||
			    o->max_flows > (1u << 24)) {
				fc_err("offload: --max-flows %s: a number from 1 to %u", optarg, 1u << 24);
				return -1;
			}
			break;
		case 'k': {
			char buf[64], *slash;

			snprintf(buf, sizeof(buf), "%s", optarg);
			slash = strchr(buf, '/');
			if (slash)
				*slash++ = 0;
			o->mark_mask = 0xffffffff;
			if (parse_u32(buf, &o->mark_value) || (slash && parse_u32(slash, &o->mark_mask))) {
				fc_err("offload: --ct-mark %s: VALUE or VALUE/MASK", optarg);
				return -1;
			}
			o->mark_value &= o->mark_mask;
			o->mark_filter = true;
			break;
		}
		case 'z': {
			__u32 z;

			if (parse_u32(optarg, &z) || z > 0xffff) {
				fc_err("offload: --ct-zone %s: a conntrack zone, 0 to 65535", optarg);
				return -1;
			}
			o->zone = z;
			break;
		}
		case 'V': {
			char err[256];

			/* Of the interface named right before it: -i wan0 --vlan 7. */
			if (!o->nr_ifs || o->vlan.n) {
				fc_err("offload: --vlan %s: one --vlan, after the -i it tags", optarg);
				return -1;
			}
			if (vlan_parse(optarg, &o->vlan, err, sizeof(err))) {
				fc_err("offload: --vlan: %s", err);
				return -1;
			}
			o->vlan_if = o->nr_ifs - 1;
			break;
		}
		case 's':
			o->stats_file = optarg;
			break;
		case 'b':
			if (optarg[0] != '/' || strlen(optarg) >= sizeof(o->bpffs) - 32) {
				fc_err("offload: --bpffs %s: an absolute path", optarg);
				return -1;
			}
			snprintf(o->bpffs, sizeof(o->bpffs), "%s", optarg);
			break;
		case 'K':
			o->keep_state = true;
			break;
		case 'M':
			o->metrics = optarg;
			break;
		case 'D':
			o->detach = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || (!o->nr_ifs && !o->detach)) {
		usage(stderr);
		return -1;
	}
	return 0;
}

