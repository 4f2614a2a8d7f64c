// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "fcnat_tc.skel.h"
#include "fcnat_xdp.skel.h"
#include "bpf_info.h"
#include "deterministic.h"
#include "bpf_profile.h"
#include "kernel_features.h"
#include "gc.h"
#include "loader.h"
#include "ports.h"
#include "netlink.h"
#include "log.h"

static bool libbpf_verbose;	/* libbpf's debug lines (every relocation) */
static bool verifier_log_whole;	/* all of a rejected program's verifier log */

/* The verifier's log arrives as one message of up to megabytes; what a bug
 * report needs is its end (the failing instruction and the reason), so
 * without --verbose only the last lines are printed. */
#define VERIFIER_LOG_TAIL_LINES 40

void loader_print_log_tail(FILE *out, const char *msg, const char *log, int nr_lines)
{
	const char *end = strstr(log, "-- END PROG LOAD LOG --");
	const char *start = strchr(log, '\n');
	const char *p;
	int lines = 0, cut = 0;

	if (!end || !start)
		end = log + strlen(log);
	start = start ? start + 1 : log;
	/* Back from the end to the start of the nr_lines-th line before it. */
	for (p = end; p > start; p--)
		if (p[-1] == '\n' && p != end && ++lines == nr_lines)
			break;
	for (const char *q = start; q < p; q++)
		cut += *q == '\n';
	fprintf(out, "fcnat: %.*s", (int)(start - msg), msg);
	if (cut)
		fprintf(out, "fcnat: ... %d lines of the verifier's log left out "
			"(--verbose prints all of it) ...\n", cut);
	fprintf(out, "%s", p);
}

/* libbpf's own lines start with "libbpf: "; its debug output (every
 * relocation) only with FCNAT_LIBBPF_DEBUG. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	const char *log;
	char *msg;

	if (level == LIBBPF_DEBUG && !libbpf_verbose)
		return 0;
	if (vasprintf(&msg, fmt, ap) < 0)
		return 0;
	/* bpf_tc_hook_create() on an interface that has a clsact qdisc
	 * already: expected (we use it as it is), not worth a line. */
	if (!strstr(msg, "Exclusivity flag on")) {
		log = verifier_log_whole ? NULL : strstr(msg, "-- BEGIN PROG LOAD LOG --");
		if (log)
			loader_print_log_tail(stderr, msg, log, VERIFIER_LOG_TAIL_LINES);
		else
			fprintf(stderr, "fcnat: %s", msg);
	}
	free(msg);
	return 0;
}

void loader_setup_libbpf_log(bool debug, bool whole_verifier_log)
{
	libbpf_verbose = debug;
	verifier_log_whole = debug || whole_verifier_log;
	libbpf_set_print(libbpf_print);
}

int loader_open(struct fc_loader *l, const struct fc_options *o)
{
	int err;

	memset(l, 0, sizeof(*l));
	l->lo_accept_local = -1;
	l->skel = fcnat_tc__open();
	if (!l->skel) {
		err = -errno;
		fc_err("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	l->skel->rodata->fc_cpu_tso = features_cpu_tso();
	err = bpf_profile_apply(l->skel->obj, &l->skel->rodata->fc_no_callbacks, "TC");
	if (err) {
		fcnat_tc__destroy(l->skel);
		l->skel = NULL;
		return err;
	}
	/* Each mapping is two entries, one per side. */
	bpf_map__set_max_entries(l->skel->maps.fc_bindings, o->max_mappings * 2);
	bpf_map__set_max_entries(l->skel->maps.fc_sessions, o->max_sessions);
	if (o->prealloc_tables == FC_PREALLOC_YES ||
	    (o->prealloc_tables == FC_PREALLOC_AUTO && features_cpu_tick_refill())) {
		struct bpf_map *m[] = { l->skel->maps.fc_bindings, l->skel->maps.fc_sessions };

		for (unsigned int i = 0; i < 2; i++)
			bpf_map__set_map_flags(m[i], bpf_map__map_flags(m[i]) & ~BPF_F_NO_PREALLOC);
		fc_info("mapping and session tables preallocated (%u and %u entries)",
			o->max_mappings * 2, o->max_sessions);
	}
	bpf_map__set_max_entries(l->skel->maps.fc_events, o->event_ring_kb * 1024);
	/* Every subscriber has a mapping at least. */
	bpf_map__set_max_entries(l->skel->maps.fc_subscribers, o->max_mappings);
	/* Every block has a mapping, or had one at the last sweep. */
	bpf_map__set_max_entries(l->skel->maps.fc_port_blocks, o->max_mappings);
	return 0;
}

int loader_set_tc_fast(struct fc_loader *l, int ext_ifindex, const int *internal, unsigned int n)
{
	__u32 *ifs = (__u32 *)l->skel->rodata->fc_tc_fast_ifs;
	unsigned int max = sizeof(l->skel->rodata->fc_tc_fast_ifs) / sizeof(ifs[0]);

	if (n + 1 > max)
		return -E2BIG;
	ifs[0] = ext_ifindex;
	for (unsigned int i = 0; i < n; i++)
		ifs[i + 1] = internal[i];
	return 0;
}

int loader_set_l3_links(struct fc_loader *l, const int *ifindex, unsigned int n)
{
	/* .bss: the skeleton's initial image before load, the live map
	 * (mmapped) after; no pin, each start writes its own. */
	volatile __u32 *ifs = l->skel->bss->fc_tc_l3_ifs;
	unsigned int max = sizeof(l->skel->bss->fc_tc_l3_ifs) / sizeof(ifs[0]);

	if (n > max)
		return -E2BIG;
	for (unsigned int i = 0; i < max; i++)
		ifs[i] = i < n ? (__u32)ifindex[i] : 0;
	return 0;
}

struct bpf_object *loader_object(const struct fc_loader *l)
{
	return l->skel->obj;
}

int loader_load(struct fc_loader *l, const struct fc_options *o)
{
	int err = loader_open(l, o);

	return err ? err : loader_load_opened(l);
}

int loader_load_opened(struct fc_loader *l)
{
	const void *elf;
	size_t sz;
	int err;

	elf = fcnat_tc__elf_bytes(&sz);
	err = features_check(l->skel->obj, elf, sz, "TC");
	if (!err)
		err = fcnat_tc__load(l->skel);
	if (err == -EOPNOTSUPP) {
		fcnat_tc__destroy(l->skel);
		l->skel = NULL;
		return err;
	}
	if (err) {
		if (err == -EPERM)
			fc_err("loading BPF programs: permission denied "
			       "(run as root, or with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON)");
		else if (err == -EACCES || err == -EINVAL)
			fc_err("the kernel's verifier rejected the BPF programs "
			       "(its log is above): %s", strerror(-err));
		else
			fc_err("loading BPF programs failed: %s (the verifier's log is above)",
			       strerror(-err));
		fcnat_tc__destroy(l->skel);
		l->skel = NULL;
		return err;
	}
	return 0;
}

void loader_fill_config(const struct fc_options *o, __be32 ext_addr4, struct fc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	/* Hops cached by an earlier run (kept state) are not trusted: the
	 * routes may have changed meanwhile. Never 0, an empty hop's. */
	cfg->route_gen = (__u32)(gc_now_ns() >> 20) | 1;
	if (o->nat44)
		cfg->flags |= FC_CFG_NAT44;
	if (o->nat66)
		cfg->flags |= FC_CFG_NAT66;
	if (o->preserve_low_ports)
		cfg->flags |= FC_CFG_PRESERVE_LOW_PORTS;
	if (options_events_on(o))
		cfg->flags |= FC_CFG_EVENTS;
	if (o->nat64) {
		cfg->flags |= FC_CFG_NAT64;
		memcpy(cfg->nat64_prefix, o->nat64_prefix, sizeof(cfg->nat64_prefix));
		cfg->nat64_prefix_len = o->nat64_prefix_len;
		if (o->nat64_tos >= 0)
			cfg->nat64_tos = FC_NAT64_TOS_SET | (__u32)o->nat64_tos;
		cfg->nat64_lowest_mtu = o->nat64_lowest_mtu;
		if (o->nat64_udp0_drop)
			cfg->flags |= FC_CFG_NAT64_UDP0_DROP;
		nat64_pool_fill_config(&o->nat64pool, cfg);
	}
	for (unsigned int i = 0; i < o->nr_hairpin_ifs; i++)
		if (if_nametoindex(o->hairpin_ifs[i]) == 1)	/* lo, in every namespace */
			cfg->flags |= FC_CFG_HAIRPIN_LO;
	cfg->log_level = o->bpf_log;
	cfg->ext_addr4 = ext_addr4;
	ports_fill(o, cfg->ports);
	for (int t = 0; t < FC_TIMEOUT_MAX; t++)
		cfg->timeout_ns[t] = (__u64)o->timeout_s[t] * 1000000000ULL;
	cfg->frag_hold_ns = (__u64)o->frag_hold_s * 1000000000ULL;
	/* Carrier-grade NAT: loader_write_cgnat() fills the maps these name. */
	if (o->cgnat.nr_pool) {
		static __be32 addrs[FC_POOL_MAX];
		int n = pool_addresses(&o->cgnat, addrs, FC_POOL_MAX);

		cfg->nr_pool = n > 0 ? n : 0;
	}
	if (cgnat_subscribers_on(&o->cgnat))
		cfg->flags |= FC_CFG_SUBSCRIBERS;
	if (o->cgnat.nr_internal)
		cfg->flags |= FC_CFG_SCOPE;
	if (o->cgnat.nr_exclude)
		cfg->flags |= FC_CFG_EXCLUDE;
	for (int i = 0; i < FC_SUB_PROTOS; i++)
		cfg->sub_limit[i] = o->cgnat.limit[i];
	cfg->refuse_icmp_rate = o->cgnat.refuse_icmp_rate;
	if (o->cgnat.block_size && o->nr_port_ranges == 1) {
		__u32 ports = o->port_ranges[0].last - o->port_ranges[0].first + 1;

		cfg->flags |= FC_CFG_PORT_BLOCKS;
		cfg->block_size = o->cgnat.block_size;
		cfg->block_count = ports / o->cgnat.block_size;
		cfg->block_max = o->cgnat.max_blocks ? o->cgnat.max_blocks
						     : FC_MAX_PORT_BLOCKS_DEFAULT;
	}
	if (o->cgnat.det_on) {
		/* options_parse() has checked that the plan holds. */
		static struct fc_det_plan plan;
		char err[256];

		if (!det_plan(o, &plan, err, sizeof(err)))
			det_config(&plan, cfg);
	}
}

static void scope_key(struct fc_scope_key *k, __u8 kind, const struct fc_prefix4 *p)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = FC_SCOPE_KEY_BITS + p->len;
	k->kind = kind;
	k->family = FC_AF_INET;
	k->addr.v4 = p->addr;
}

static bool scope_wanted(const struct fc_options *o, const struct fc_scope_key *k)
{
	const struct fc_cgnat_opts *c = &o->cgnat;

	for (unsigned int i = 0; i < c->nr_internal + c->nr_exclude; i++) {
		bool internal = i < c->nr_internal;
		struct fc_scope_key w;

		scope_key(&w, internal ? FC_SCOPE_INTERNAL : FC_SCOPE_EXCLUDE,
			  internal ? &c->internal[i] : &c->exclude[i - c->nr_internal]);
		if (!memcmp(&w, k, sizeof(w)))
			return true;
	}
	return false;
}

/*
 * The pool (by index and by address) and the scope prefixes. New entries go
 * in first, stale ones (a kept state's) go after, so a running datapath
 * never sees an address of both configurations missing.
 */
int loader_write_cgnat(struct fc_loader *l, const struct fc_options *o)
{
	static __be32 addrs[FC_POOL_MAX];
	int pool_fd = bpf_map__fd(l->skel->maps.fc_pool);
	int index_fd = bpf_map__fd(l->skel->maps.fc_pool_index);
	int scope_fd = bpf_map__fd(l->skel->maps.fc_scope);
	const struct fc_cgnat_opts *c = &o->cgnat;
	struct fc_scope_key sk, snext;
	__be32 a, next;
	void *prev;
	__u32 one = 1;
	int n = 0;

	if (c->nr_pool) {
		n = pool_addresses(c, addrs, FC_POOL_MAX);
		if (n < 0)
			return -E2BIG;
	}
	for (__u32 i = 0; i < (__u32)n; i++)
		if (bpf_map_update_elem(pool_fd, &i, &addrs[i], BPF_ANY) ||
		    bpf_map_update_elem(index_fd, &addrs[i], &i, BPF_ANY))
			return -errno;
	for (unsigned int i = 0; i < c->nr_internal + c->nr_exclude; i++) {
		bool internal = i < c->nr_internal;

		scope_key(&sk, internal ? FC_SCOPE_INTERNAL : FC_SCOPE_EXCLUDE,
			  internal ? &c->internal[i] : &c->exclude[i - c->nr_internal]);
		if (bpf_map_update_elem(scope_fd, &sk, &one, BPF_ANY))
			return -errno;
	}
	/* What is no longer configured. */
	prev = NULL;
	while (bpf_map_get_next_key(index_fd, prev, &next) == 0) {
		bool keep = false;

		for (int i = 0; i < n && !keep; i++)
			keep = addrs[i] == next;
		if (!keep && bpf_map_delete_elem(index_fd, &next) == 0) {
			prev = NULL;	/* start over: the walk lost its place */
			continue;
		}
		a = next;
		prev = &a;
	}
	prev = NULL;
	while (bpf_map_get_next_key(scope_fd, prev, &snext) == 0) {
		if (!scope_wanted(o, &snext) && bpf_map_delete_elem(scope_fd, &snext) == 0) {
			prev = NULL;
			continue;
		}
		sk = snext;
		prev = &sk;
	}
	return 0;
}

int loader_write_config(struct fc_loader *l, const struct fc_config *cfg)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.fc_config), &zero, cfg, BPF_ANY))
		return -errno;
	return 0;
}

void loader_destroy(struct fc_loader *l)
{
	/* What is still held stays attached through its pin (keep-state). */
	tcx_release(&l->tcx_ingress);
	tcx_release(&l->tcx_egress);
	for (unsigned int i = 0; i < l->nr_hairpin; i++)
		tcx_release(&l->hairpin[i].tcx);
	if (l->xskel)
		fcnat_xdp__destroy(l->xskel);
	l->xskel = NULL;
	if (l->skel)
		fcnat_tc__destroy(l->skel);
	l->skel = NULL;
}

__u32 loader_bindings_id(const struct fc_loader *l)
{
	return bpf_map_id(loader_bindings_fd(l));
}

int loader_bindings_fd(const struct fc_loader *l)
{
	return bpf_map__fd(l->skel->maps.fc_bindings);
}

int loader_sessions_fd(const struct fc_loader *l)
{
	return bpf_map__fd(l->skel->maps.fc_sessions);
}

int loader_subscribers_fd(const struct fc_loader *l)
{
	return bpf_map__fd(l->skel->maps.fc_subscribers);
}

int loader_pool_fd(const struct fc_loader *l)
{
	return bpf_map__fd(l->skel->maps.fc_pool);
}

int loader_pool_index_fd(const struct fc_loader *l)
{
	return bpf_map__fd(l->skel->maps.fc_pool_index);
}

int loader_blocks_fd(const struct fc_loader *l)
{
	return bpf_map__fd(l->skel->maps.fc_port_blocks);
}

int loader_block_free_fd(const struct fc_loader *l)
{
	return bpf_program__fd(l->skel->progs.fc_block_free);
}

int loader_release_fd(const struct fc_loader *l)
{
	return bpf_program__fd(l->skel->progs.fc_release);
}

int loader_events_fd(const struct fc_loader *l)
{
	return bpf_map__fd(l->skel->maps.fc_events);
}

int loader_stats_fd(const struct fc_loader *l)
{
	return bpf_map__fd(l->skel->maps.fc_stats);
}
