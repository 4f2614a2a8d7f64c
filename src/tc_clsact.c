// SPDX-License-Identifier: GPL-2.0
/*
 * Attaching to TC through clsact filters (loader.h), the way kernels before
 * TCX (6.6) offer, and the hairpin programs on internal interfaces and lo.
 * A filter is found again by what it runs (a program of ours on this
 * state's maps), so a restart or an interrupted start replaces it in place.
 * TCX links are in tc_attach.c.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "fcnat_tc.skel.h"
#include "bpf_info.h"
#include "loader.h"
#include "log.h"
#include "netlink.h"

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
		bpf_prog_uses_map(fd, map_id);
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
	__u32 id = bpf_map_id(bindings_fd);
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
