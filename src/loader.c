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

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>

#include "fcnat_tc.skel.h"
#include "fcnat_xdp.skel.h"
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

static void tc_hook_init(struct bpf_tc_hook *hook, int ifindex, enum bpf_tc_attach_point point)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = ifindex;
	hook->attach_point = point;
}

/* libbpf refuses options whose bytes past the last field are not zero: an
 * initializer need not zero the tail padding (clang does not), memset does. */
static void tc_opts_init(struct bpf_tc_opts *o, __u32 handle, __u32 priority)
{
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->handle = handle;
	o->priority = priority;
}

/* Is the filter at handle/priority a program of ours (fc_tc_*)? */
static bool tc_filter_is_ours(int ifindex, enum bpf_tc_attach_point point, __u32 handle,
			      __u32 priority)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts q;
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	bool ours;
	int fd;

	if (!handle || !priority)
		return false;
	tc_opts_init(&q, handle, priority);
	tc_hook_init(&hook, ifindex, point);
	if (bpf_tc_query(&hook, &q))
		return false;
	fd = bpf_prog_get_fd_by_id(q.prog_id);
	if (fd < 0)
		return false;
	ours = !bpf_obj_get_info_by_fd(fd, &info, &len) && !strncmp(info.name, "fc_tc_", 6);
	close(fd);
	return ours;
}

/* Map id of the open map fd, 0 if unknown. */
static __u32 map_id_of(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.id : 0;
}

/* Does the program (fd) use the map with id map_id? */
static bool prog_uses_map(int fd, __u32 map_id)
{
	__u32 ids[64], len;
	struct bpf_prog_info info;

	memset(&info, 0, sizeof(info));
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	if (!map_id || bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	for (__u32 i = 0; i < info.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]); i++)
		if (ids[i] == map_id)
			return true;
	return false;
}

/* Is prog_id an fcnat TC program working on the map with id map_id? */
static bool fc_tc_prog_on_map(__u32 prog_id, __u32 map_id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	bool found;
	int fd = bpf_prog_get_fd_by_id(prog_id);

	if (fd < 0)
		return false;
	found = !bpf_obj_get_info_by_fd(fd, &info, &len) && !strncmp(info.name, "fc_tc_", 6) &&
		prog_uses_map(fd, map_id);
	close(fd);
	return found;
}

/*
 * A filter on ifindex's hook running an fcnat program on the state whose
 * fc_bindings map has id bindings_id that no fc_meta records: left by a
 * start killed between attaching it and recording it. Found by what it
 * runs, not where it is, so the next start replaces it in place.
 */
static bool tc_find_orphan(int ifindex, bool ingress, __u32 bindings_id, __u32 *handle,
			   __u32 *priority)
{
	struct nl_bpf_filter f[16];
	int n = nl_bpf_filters(ifindex, ingress, f, 16);

	for (int i = 0; bindings_id && i < n && i < 16; i++) {
		if (fc_tc_prog_on_map(f[i].prog_id, bindings_id)) {
			*handle = f[i].handle;
			*priority = f[i].priority;
			return true;
		}
	}
	return false;
}

/*
 * handle/priority 0: the kernel picks free ones, ahead of filters that were
 * already there, so nothing of the user's clashes. Otherwise the program
 * replaces ours at that place in one step: no packet goes untranslated.
 */
static int tc_attach_one(struct fc_tc_link *t, int ifindex, enum bpf_tc_attach_point point,
			 const struct bpf_program *prog, __u32 handle, __u32 priority)
{
	int err;

	memset(t, 0, sizeof(*t));
	tc_hook_init(&t->hook, ifindex, point);
	t->opts.sz = sizeof(t->opts);
	t->opts.prog_fd = bpf_program__fd(prog);
	t->opts.handle = handle;
	t->opts.priority = priority;
	if (handle)
		t->opts.flags = BPF_TC_F_REPLACE;
	err = bpf_tc_attach(&t->hook, &t->opts);
	if (err)
		return err;
	t->attached = true;
	t->replaced = handle != 0;
	return 0;
}

static void tc_detach_one(struct fc_tc_link *t)
{
	struct bpf_tc_opts o;
	int err;

	if (!t->attached)
		return;
	tc_opts_init(&o, t->opts.handle, t->opts.priority);
	err = bpf_tc_detach(&t->hook, &o);
	if (err && err != -ENOENT && err != -EINVAL && err != -ENODEV)
		fc_warn("detaching TC filter (handle %u, priority %u): %s",
			o.handle, o.priority, strerror(-err));
	t->attached = false;
}

/* Remove the clsact filters of this state on ifindex an interrupted start
 * left (before TCX attaches: they would translate a second time). */
void loader_detach_orphans_on(const struct fc_loader *l, int ifindex)
{
	for (int ingress = 1; ingress >= 0; ingress--) {
		struct fc_tc_link t = { .attached = true };
		__u32 h, p;

		if (!tc_find_orphan(ifindex, ingress, loader_bindings_id(l), &h, &p))
			continue;
		tc_hook_init(&t.hook, ifindex, ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
		tc_opts_init(&t.opts, h, p);
		tc_detach_one(&t);
	}
}

int loader_attach(struct fc_loader *l, int ifindex, const struct fc_meta *prev)
{
	struct bpf_tc_hook hook;
	bool same = prev && (prev->flags & FC_META_ATTACHED) && prev->ifindex == (__u32)ifindex;
	__u32 ih = 0, ip = 0, eh = 0, ep = 0;
	int err;

	if (l->attach == FC_TC_ATTACH_TCX)
		return tcx_attach_ext(l, ifindex);
	tc_hook_init(&hook, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
	l->ifindex = ifindex;
	if (l->qdisc_making && nl_has_clsact(ifindex) == 0)
		l->qdisc_making(l->qdisc_making_arg, ifindex);
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		fc_err("creating the clsact qdisc: %s", strerror(-err));
		return err;
	}
	/* A qdisc a kept datapath made is still ours to remove, also one an
	 * interrupted start made before attaching anything. */
	l->created_qdisc = !err || (prev && prev->ifindex == (__u32)ifindex &&
				    (prev->flags & FC_META_CREATED_QDISC));
	l->made_qdisc_now = !err;

	if (same && tc_filter_is_ours(ifindex, BPF_TC_INGRESS, prev->ingress_handle,
				      prev->ingress_priority)) {
		ih = prev->ingress_handle;
		ip = prev->ingress_priority;
	}
	if (same && tc_filter_is_ours(ifindex, BPF_TC_EGRESS, prev->egress_handle,
				      prev->egress_priority)) {
		eh = prev->egress_handle;
		ep = prev->egress_priority;
	}
	if (!ih && tc_find_orphan(ifindex, true, loader_bindings_id(l), &ih, &ip))
		fc_info("taking over an ingress filter an interrupted start left on ifindex %d",
			ifindex);
	if (!eh && tc_find_orphan(ifindex, false, loader_bindings_id(l), &eh, &ep))
		fc_info("taking over an egress filter an interrupted start left on ifindex %d",
			ifindex);
	err = tc_attach_one(&l->ingress, ifindex, BPF_TC_INGRESS, l->skel->progs.fc_tc_ingress,
			    ih, ip);
	if (err) {
		fc_err("attaching the TC ingress program: %s", strerror(-err));
		goto undo;
	}
	fc_fault_point("attached-ingress");
	err = tc_attach_one(&l->egress, ifindex, BPF_TC_EGRESS, l->skel->progs.fc_tc_egress,
			    eh, ep);
	if (err) {
		fc_err("attaching the TC egress program: %s", strerror(-err));
		goto undo;
	}
	return 0;
undo:
	/* Filters that replaced a kept datapath's stay: they carry on its work.
	 * What this start added goes. */
	if (!l->ingress.replaced)
		tc_detach_one(&l->ingress);
	if (!l->egress.replaced)
		tc_detach_one(&l->egress);
	l->ingress.attached = l->egress.attached = false;
	if (l->made_qdisc_now && !l->ingress.replaced && !l->egress.replaced) {
		tc_hook_init(&hook, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
		bpf_tc_hook_destroy(&hook);
	}
	l->created_qdisc = false;
	return err;
}

void loader_record_attach(const struct fc_loader *l, struct fc_meta *m)
{
	m->ifindex = l->ifindex;
	m->flags = FC_META_ATTACHED | (l->created_qdisc ? FC_META_CREATED_QDISC : 0) |
		   (l->attach == FC_TC_ATTACH_TCX ? FC_META_TCX : 0);
	m->ingress_handle = l->ingress.opts.handle;
	m->ingress_priority = l->ingress.opts.priority;
	m->egress_handle = l->egress.opts.handle;
	m->egress_priority = l->egress.opts.priority;
	m->nr_hairpin = l->nr_hairpin;
	for (unsigned int i = 0; i < l->nr_hairpin && i < FC_META_MAX_HAIRPIN; i++) {
		m->hairpin[i].ifindex = l->hairpin[i].ifindex;
		m->hairpin[i].handle = l->hairpin[i].ingress.opts.handle;
		m->hairpin[i].priority = l->hairpin[i].ingress.opts.priority;
		m->hairpin[i].flags = l->hairpin[i].created_qdisc ? FC_META_CREATED_QDISC : 0;
	}
	m->lo_accept_local = l->lo_accept_local >= 0 ? l->lo_accept_local + 1 : 0;
}

static void destroy_clsact(int ifindex)
{
	struct bpf_tc_hook hook;
	int err;

	tc_hook_init(&hook, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
	err = bpf_tc_hook_destroy(&hook);
	/* The interface may be gone already, taking the qdisc along. */
	if (err && err != -ENOENT && err != -ENODEV && err != -EINVAL)
		fc_warn("removing the clsact qdisc: %s", strerror(-err));
}

#define LO_ACCEPT_LOCAL "/proc/sys/net/ipv4/conf/lo/accept_local"

static int sysctl_read(const char *path)
{
	FILE *f = fopen(path, "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int sysctl_write(const char *path, int v)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fprintf(f, "%d\n", v) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/*
 * The answer of an internal host to a gateway process comes in through lo
 * with the host's mapping, one of our addresses, as source; Linux takes a
 * local source for a martian unless accept_local is set on the interface.
 * Set it on lo only, and only while fcnat hairpins there.
 */
static int lo_accept_local_enable(struct fc_loader *l, const struct fc_meta *prev)
{
	int old = sysctl_read(LO_ACCEPT_LOCAL), err;

	if (prev && prev->lo_accept_local) {
		/* A kept datapath set it: remember what it found. */
		l->lo_accept_local = prev->lo_accept_local - 1;
		return old == 1 ? 0 : sysctl_write(LO_ACCEPT_LOCAL, 1);
	}
	if (old < 0)
		return -ENOENT;
	if (old == 1)
		return 0;
	err = sysctl_write(LO_ACCEPT_LOCAL, 1);
	if (err)
		return err;
	l->lo_accept_local = old;
	return 0;
}

static void lo_accept_local_restore(int value)
{
	if (value >= 0 && sysctl_write(LO_ACCEPT_LOCAL, value))
		fc_warn("restoring %s to %d failed", LO_ACCEPT_LOCAL, value);
}

int loader_attach_hairpin(struct fc_loader *l, int ifindex, bool loopback, bool fast,
			  const struct fc_meta *prev)
{
	const struct bpf_program *prog = loopback ? l->skel->progs.fc_tc_lo_ingress :
					 fast ? l->skel->progs.fc_tc_int_ingress :
						l->skel->progs.fc_tc_lan_ingress;
	struct fc_hairpin_if *h;
	struct bpf_tc_hook hook;
	__u32 handle = 0, priority = 0;
	bool kept_qdisc = false;
	int err;

	if (l->nr_hairpin >= FC_MAX_IFACES)
		return -E2BIG;
	if (loopback) {
		err = lo_accept_local_enable(l, prev);
		if (err)
			return err;
	}
	if (l->attach == FC_TC_ATTACH_TCX)
		return tcx_attach_hairpin(l, ifindex, bpf_program__fd(prog));
	for (unsigned int i = 0; prev && i < prev->nr_hairpin && i < FC_META_MAX_HAIRPIN; i++) {
		const struct fc_meta_filter *f = &prev->hairpin[i];

		if (f->ifindex == (__u32)ifindex &&
		    tc_filter_is_ours(ifindex, BPF_TC_INGRESS, f->handle, f->priority)) {
			handle = f->handle;
			priority = f->priority;
			kept_qdisc = f->flags & FC_META_CREATED_QDISC;
		}
	}
	if (!handle)
		tc_find_orphan(ifindex, true, loader_bindings_id(l), &handle, &priority);
	h = &l->hairpin[l->nr_hairpin];
	memset(h, 0, sizeof(*h));
	h->ifindex = ifindex;
	tc_hook_init(&hook, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	h->created_qdisc = !err || kept_qdisc;
	err = tc_attach_one(&h->ingress, ifindex, BPF_TC_INGRESS, prog, handle, priority);
	if (err) {
		if (h->created_qdisc && !kept_qdisc)
			destroy_clsact(ifindex);
		return err;
	}
	l->nr_hairpin++;
	return 0;
}

void loader_detach_hairpin(struct fc_loader *l)
{
	for (unsigned int i = 0; i < l->nr_hairpin; i++) {
		tcx_detach(&l->hairpin[i].tcx);
		tc_detach_one(&l->hairpin[i].ingress);
		if (l->hairpin[i].created_qdisc)
			destroy_clsact(l->hairpin[i].ifindex);
	}
	l->nr_hairpin = 0;
	lo_accept_local_restore(l->lo_accept_local);
	l->lo_accept_local = -1;
}

int loader_detach_kept(const struct fc_meta *m)
{
	static const enum bpf_tc_attach_point points[2] = { BPF_TC_INGRESS, BPF_TC_EGRESS };
	const __u32 handles[2] = { m->ingress_handle, m->egress_handle };
	const __u32 prios[2] = { m->ingress_priority, m->egress_priority };
	int removed = 0;

	if (!(m->flags & FC_META_ATTACHED)) {
		/* A start killed after making the qdisc, before its filters. */
		if ((m->flags & FC_META_CREATED_QDISC) && m->ifindex)
			destroy_clsact(m->ifindex);
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		struct fc_tc_link t = { .attached = true };

		if (!tc_filter_is_ours(m->ifindex, points[i], handles[i], prios[i]))
			continue;
		tc_hook_init(&t.hook, m->ifindex, points[i]);
		t.opts.handle = handles[i];
		t.opts.priority = prios[i];
		tc_detach_one(&t);
		removed++;
	}
	if (m->flags & FC_META_CREATED_QDISC)
		destroy_clsact(m->ifindex);
	for (unsigned int i = 0; i < m->nr_hairpin && i < FC_META_MAX_HAIRPIN; i++) {
		const struct fc_meta_filter *f = &m->hairpin[i];
		struct fc_tc_link t = { .attached = true };

		if (!tc_filter_is_ours(f->ifindex, BPF_TC_INGRESS, f->handle, f->priority))
			continue;
		tc_hook_init(&t.hook, f->ifindex, BPF_TC_INGRESS);
		t.opts.handle = f->handle;
		t.opts.priority = f->priority;
		tc_detach_one(&t);
		if (f->flags & FC_META_CREATED_QDISC)
			destroy_clsact(f->ifindex);
		removed++;
	}
	if (m->lo_accept_local)
		lo_accept_local_restore(m->lo_accept_local - 1);
	return removed;
}

int loader_detach_orphans(int bindings_fd)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	__u32 id = map_id_of(bindings_fd);
	int removed = 0;

	for (i = ifs; id && i && i->if_index; i++) {
		for (int ingress = 1; ingress >= 0; ingress--) {
			struct fc_tc_link t = { .attached = true };
			__u32 handle, priority;

			if (!tc_find_orphan(i->if_index, ingress, id, &handle, &priority))
				continue;
			tc_hook_init(&t.hook, i->if_index, ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
			t.opts.handle = handle;
			t.opts.priority = priority;
			tc_detach_one(&t);
			removed++;
		}
	}
	if (ifs)
		if_freenameindex(ifs);
	return removed;
}

void loader_detach(struct fc_loader *l)
{
	loader_xdp_detach(l);
	loader_detach_hairpin(l);
	tcx_detach(&l->tcx_egress);
	tcx_detach(&l->tcx_ingress);
	tc_detach_one(&l->egress);
	tc_detach_one(&l->ingress);
	if (l->created_qdisc)
		destroy_clsact(l->ifindex);
	l->created_qdisc = false;
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
	return map_id_of(loader_bindings_fd(l));
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

/* ---- XDP ---------------------------------------------------------------- */

/*
 * The XDP object declares the same maps as the TC one (it is built from the
 * same headers): each is replaced by the TC object's before load, so both
 * datapaths work on one state. Its own devmap (fc_xdp_tx) stays its own.
 */
int loader_xdp_load(struct fc_loader *l, int ext_ifindex, const int *internal, unsigned int n)
{
	unsigned int max = sizeof(l->xskel->rodata->fc_xdp_ifs) / sizeof(__u32);
	struct bpf_map *map;
	const void *elf;
	size_t sz;
	int err;

	if (n + 1 > max)
		return -E2BIG;
	l->xskel = fcnat_xdp__open();
	if (!l->xskel) {
		err = -errno;
		fc_err("cannot open the XDP object: %s", strerror(-err));
		return err;
	}
	l->xskel->rodata->fc_cpu_tso = features_cpu_tso();
	err = bpf_profile_apply(l->xskel->obj, &l->xskel->rodata->fc_no_callbacks, "XDP");
	if (err)
		goto fail;
	l->xskel->rodata->fc_xdp_ifs[0] = ext_ifindex;
	for (unsigned int i = 0; i < n; i++)
		l->xskel->rodata->fc_xdp_ifs[i + 1] = internal[i];
	bpf_object__for_each_map(map, l->xskel->obj) {
		struct bpf_map *shared;

		if (bpf_map__is_internal(map))
			continue;
		shared = bpf_object__find_map_by_name(l->skel->obj, bpf_map__name(map));
		if (!shared)
			continue;
		err = bpf_map__reuse_fd(map, bpf_map__fd(shared));
		if (err) {
			fc_err("sharing map %s with the XDP programs: %s", bpf_map__name(map),
			       strerror(-err));
			goto fail;
		}
	}
	elf = fcnat_xdp__elf_bytes(&sz);
	err = features_check(l->xskel->obj, elf, sz, "XDP");
	if (err)
		goto fail;
	err = fcnat_xdp__load(l->xskel);
	if (err) {
		fc_err("loading the XDP programs failed: %s (the verifier's log is above)",
		       strerror(-err));
		goto fail;
	}
	return 0;
fail:
	fcnat_xdp__destroy(l->xskel);
	l->xskel = NULL;
	return err;
}


/*
 * The program attached in XDP mode `mode` on ifindex: 0 if none, else its
 * id; *ours tells whether it is an fcnat one, *kept whether it is one that
 * works on the state whose fc_bindings map has id bindings_id (a kept
 * datapath's, to take over).
 */
static __u32 xdp_attached(int ifindex, __u32 mode, __u32 bindings_id, bool *ours, bool *kept)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), id = 0;
	int fd;

	*ours = *kept = false;
	if (bpf_xdp_query_id(ifindex, mode, &id) || !id)
		return 0;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd >= 0) {
		*ours = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
			!strncmp(info.name, "fc_xdp_", 7);
		*kept = *ours && prog_uses_map(fd, bindings_id);
		close(fd);
	}
	return id;
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* Replace the kept program (id) attached in mode on ifindex by prog_fd in one
 * step: no frame meets an interface without a program. */
static int xdp_replace(int ifindex, __u32 id, int prog_fd, __u32 mode)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	int old = bpf_prog_get_fd_by_id(id), err;

	if (old < 0)
		return -errno;
	opts.old_prog_fd = old;
	err = bpf_xdp_attach(ifindex, prog_fd, mode | XDP_FLAGS_REPLACE, &opts);
	close(old);
	return err;
}

int loader_xdp_remove_kept(int bindings_fd, int ifindex)
{
	static const __u32 modes[2] = { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };
	__u32 bindings_id = map_id(bindings_fd);
	int removed = 0;
	bool ours, kept;

	for (int i = 0; i < 2; i++) {
		__u32 id = xdp_attached(ifindex, modes[i], bindings_id, &ours, &kept);
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
		int fd;

		if (!id || !kept)
			continue;
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		opts.old_prog_fd = fd;
		if (!bpf_xdp_detach(ifindex, modes[i], &opts))
			removed++;
		close(fd);
	}
	return removed;
}

static int xdp_attach_mode(int ifindex, int prog_fd, __u32 mode)
{
	/* UPDATE_IF_NOEXIST: never replace a program we did not see. */
	return bpf_xdp_attach(ifindex, prog_fd, mode | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
}

/* veth needs its peer to take redirected frames (GRO on or an XDP program). */
static bool is_veth(int ifindex)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { .ifr_data = (void *)&info };
	bool veth = false;
	int fd;

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return false;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (!ioctl(fd, SIOCETHTOOL, &ifr))
		veth = !strcmp(info.driver, "veth");
	close(fd);
	return veth;
}

int loader_xdp_attach(struct fc_loader *l, int ifindex, bool ext, enum fc_xdp_mode mode)
{
	const struct bpf_program *prog = ext ? l->xskel->progs.fc_xdp_ext : l->xskel->progs.fc_xdp_int;
	int fd = bpf_program__fd(prog), err = -EOPNOTSUPP;
	static const __u32 modes[2] = { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };
	__u32 key = ifindex, val = ifindex, used = 0, kept_id = 0, kept_mode = 0;
	char name[IF_NAMESIZE] = "?";
	bool ours, kept;

	if_indextoname(ifindex, name);
	if (l->nr_xdp >= sizeof(l->xdp) / sizeof(l->xdp[0]))
		return -E2BIG;
	/* Never replace a program, unless it is a kept datapath's that works
	 * on the very state this start took over (its fc_bindings map): it
	 * may be another running fcnat's. */
	for (int i = 0; i < 2; i++) {
		__u32 id = xdp_attached(ifindex, modes[i],
					map_id(bpf_map__fd(l->skel->maps.fc_bindings)), &ours, &kept);

		if (!id)
			continue;
		if (kept) {
			kept_id = id;
			kept_mode = modes[i];
			continue;
		}
		if (ours)
			fc_err("%s already has an fcnat XDP program (id %u) of another fcnat "
			       "(remove it with: ip link set dev %s xdp off)", name, id, name);
		else
			fc_err("%s already has an XDP program (id %u) that is not fcnat's: "
			       "not replacing it", name, id);
		return -EBUSY;
	}
	if (bpf_map_update_elem(bpf_map__fd(l->xskel->maps.fc_xdp_tx), &key, &val, BPF_ANY)) {
		err = -errno;
		fc_err("%s cannot take redirected frames (devmap): %s", name, strerror(-err));
		return err;
	}
	if (kept_id && (mode == FC_XDP_AUTO ||
			(mode == FC_XDP_NATIVE) == (kept_mode == XDP_FLAGS_DRV_MODE))) {
		/* Take the kept datapath's place in its mode, in one step. */
		err = xdp_replace(ifindex, kept_id, fd, kept_mode);
		if (err) {
			fc_err("replacing the kept XDP program on %s: %s", name, strerror(-err));
			bpf_map_delete_elem(bpf_map__fd(l->xskel->maps.fc_xdp_tx), &key);
			return err;
		}
		used = kept_mode;
		fc_debug("XDP program on %s (id %u) replaced in place", name, kept_id);
	} else if (kept_id) {
		/* Another mode asked for: out with the old one first. */
		fc_info("%s: the kept XDP program is in another mode: replacing it, not in "
			"one step", name);
		loader_xdp_remove_kept(bpf_map__fd(l->skel->maps.fc_bindings), ifindex);
	}
	if (!used && mode != FC_XDP_GENERIC) {
		err = xdp_attach_mode(ifindex, fd, XDP_FLAGS_DRV_MODE);
		if (!err)
			used = XDP_FLAGS_DRV_MODE;
		else if (mode == FC_XDP_NATIVE)
			fc_err("attaching XDP to %s in native mode: %s", name, strerror(-err));
		else
			fc_warn("%s: native XDP not available (%s): using generic XDP, which is "
				"slower", name, strerror(-err));
	}
	if (!used && mode != FC_XDP_NATIVE) {
		err = xdp_attach_mode(ifindex, fd, XDP_FLAGS_SKB_MODE);
		if (!err)
			used = XDP_FLAGS_SKB_MODE;
		else
			fc_err("attaching XDP to %s in generic mode: %s", name, strerror(-err));
	}
	if (!used) {
		bpf_map_delete_elem(bpf_map__fd(l->xskel->maps.fc_xdp_tx), &key);
		return err;
	}
	if (used == XDP_FLAGS_DRV_MODE && is_veth(ifindex))
		fc_info("%s is a veth: frames fcnat redirects out of it reach its peer only if "
			"the peer has GRO on (ethtool -K PEER gro on) or an XDP program", name);
	l->xdp[l->nr_xdp++] = (struct fc_xdp_link){ .ifindex = ifindex, .mode = used, .prog_fd = fd };
	fc_debug("XDP program %s attached to %s in %s mode", bpf_program__name(prog), name,
		 used == XDP_FLAGS_DRV_MODE ? "native" : "generic");
	return 0;
}

void loader_xdp_detach(struct fc_loader *l)
{
	for (unsigned int i = l->nr_xdp; i-- > 0;) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = l->xdp[i].prog_fd);
		int err = bpf_xdp_detach(l->xdp[i].ifindex, l->xdp[i].mode, &opts);

		/* Gone with its interface, or not ours any more: nothing to do. */
		if (err && err != -ENODEV && err != -EEXIST && err != -ENOENT)
			fc_warn("detaching XDP from ifindex %d: %s", l->xdp[i].ifindex,
				strerror(-err));
	}
	l->nr_xdp = 0;
}
