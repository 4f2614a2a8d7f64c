// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "fcnat_tc.skel.h"
#include "loader.h"
#include "log.h"

static bool libbpf_verbose;

/* libbpf's own lines start with "libbpf: "; its debug output (every
 * relocation) is only for --verbose. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !libbpf_verbose)
		return 0;
	fputs("fcnat: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void loader_setup_libbpf_log(bool verbose)
{
	libbpf_verbose = verbose;
	libbpf_set_print(libbpf_print);
}

int loader_open(struct fc_loader *l, const struct fc_options *o)
{
	int err;

	memset(l, 0, sizeof(*l));
	l->skel = fcnat_tc__open();
	if (!l->skel) {
		err = -errno;
		fc_err("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	/* Each mapping is two entries, one per side. */
	bpf_map__set_max_entries(l->skel->maps.fc_bindings, o->max_mappings * 2);
	bpf_map__set_max_entries(l->skel->maps.fc_sessions, o->max_sessions);
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
	int err;

	err = fcnat_tc__load(l->skel);
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
	if (o->nat44)
		cfg->flags |= FC_CFG_NAT44;
	if (o->preserve_low_ports)
		cfg->flags |= FC_CFG_PRESERVE_LOW_PORTS;
	cfg->log_level = o->bpf_log;
	cfg->ext_addr4 = ext_addr4;
	cfg->nr_port_ranges = o->nr_port_ranges;
	for (unsigned int i = 0; i < o->nr_port_ranges; i++) {
		cfg->port_ranges[i] = o->port_ranges[i];
		cfg->port_total += o->port_ranges[i].last - o->port_ranges[i].first + 1;
	}
	for (int t = 0; t < FC_TIMEOUT_MAX; t++)
		cfg->timeout_ns[t] = (__u64)o->timeout_s[t] * 1000000000ULL;
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

/* Is the filter at handle/priority a program of ours (fc_tc_*)? */
static bool tc_filter_is_ours(int ifindex, enum bpf_tc_attach_point point, __u32 handle,
			      __u32 priority)
{
	struct bpf_tc_hook hook;
	struct bpf_tc_opts q = { .sz = sizeof(q), .handle = handle, .priority = priority };
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	bool ours;
	int fd;

	if (!handle || !priority)
		return false;
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
	struct bpf_tc_opts o = {
		.sz = sizeof(o),
		.handle = t->opts.handle,
		.priority = t->opts.priority,
	};
	int err;

	if (!t->attached)
		return;
	err = bpf_tc_detach(&t->hook, &o);
	if (err && err != -ENOENT && err != -EINVAL && err != -ENODEV)
		fc_warn("detaching TC filter (handle %u, priority %u): %s",
			o.handle, o.priority, strerror(-err));
	t->attached = false;
}

int loader_attach(struct fc_loader *l, int ifindex, const struct fc_meta *prev)
{
	struct bpf_tc_hook hook;
	bool same = prev && (prev->flags & FC_META_ATTACHED) && prev->ifindex == (__u32)ifindex;
	__u32 ih = 0, ip = 0, eh = 0, ep = 0;
	int err;

	tc_hook_init(&hook, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
	l->ifindex = ifindex;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		fc_err("creating the clsact qdisc: %s", strerror(-err));
		return err;
	}
	/* A qdisc a kept datapath made is still ours to remove. */
	l->created_qdisc = !err || (same && (prev->flags & FC_META_CREATED_QDISC));
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
	err = tc_attach_one(&l->ingress, ifindex, BPF_TC_INGRESS, l->skel->progs.fc_tc_ingress,
			    ih, ip);
	if (err) {
		fc_err("attaching the TC ingress program: %s", strerror(-err));
		goto undo;
	}
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
	m->flags = FC_META_ATTACHED | (l->created_qdisc ? FC_META_CREATED_QDISC : 0);
	m->ingress_handle = l->ingress.opts.handle;
	m->ingress_priority = l->ingress.opts.priority;
	m->egress_handle = l->egress.opts.handle;
	m->egress_priority = l->egress.opts.priority;
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

int loader_detach_kept(const struct fc_meta *m)
{
	static const enum bpf_tc_attach_point points[2] = { BPF_TC_INGRESS, BPF_TC_EGRESS };
	const __u32 handles[2] = { m->ingress_handle, m->egress_handle };
	const __u32 prios[2] = { m->ingress_priority, m->egress_priority };
	int removed = 0;

	if (!(m->flags & FC_META_ATTACHED))
		return 0;
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
	return removed;
}

void loader_detach(struct fc_loader *l)
{
	tc_detach_one(&l->egress);
	tc_detach_one(&l->ingress);
	if (l->created_qdisc)
		destroy_clsact(l->ifindex);
	l->created_qdisc = false;
}

void loader_destroy(struct fc_loader *l)
{
	if (l->skel)
		fcnat_tc__destroy(l->skel);
	l->skel = NULL;
}

int loader_bindings_fd(const struct fc_loader *l)
{
	return bpf_map__fd(l->skel->maps.fc_bindings);
}

int loader_sessions_fd(const struct fc_loader *l)
{
	return bpf_map__fd(l->skel->maps.fc_sessions);
}

int loader_stats_fd(const struct fc_loader *l)
{
	return bpf_map__fd(l->skel->maps.fc_stats);
}
